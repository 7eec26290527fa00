"""`bizdevops shell --script`: a realistic session, read back from its transcript."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

SESSION = """\
# Monday: a new use case for the retention team
/usecase new churn "Predict customer churn" domain="Customer care"
/usecase team churn add @carol data-scientist
/usecase team churn add @erin data-engineer
/usecase advance churn "business case signed off by sales"
as @bob
/usecase advance churn
as @alice
/usecase advance churn "model validated on holdout"
/usecase back churn "precision dropped on the new segment"
/usecase owner churn @dave
as @dave
/usecase show churn
/usecase archive churn "replaced by the vendor model"
/usecase list phase=archived
"""


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _shell(tmp_path: Path, script: str, *options: str,
           **extra_env: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "session.txt"
    path.write_text(script)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BIZDEVOPS_"))}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/shell.db"
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "-m", "bot", "shell", "--script", str(path), *options],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False,
    )


def test_a_realistic_session_reads_well(tmp_path: Path) -> None:
    result = _shell(tmp_path, SESSION)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr

    assert "alice in #general> /usecase new churn" in out
    assert "New use case churn — Predict customer churn" in out
    assert "@carol joined churn as data-scientist" in out
    assert "churn moved: 💼 Biz → 🛠️ Dev" in out
    assert "Only the owner @alice or an admin may advance `churn`" in out
    assert "churn moved: 🛠️ Dev → ⚙️ Ops" in out
    assert "Note: model validated on holdout" in out
    assert "churn went back (feedback loop): ⚙️ Ops → 🛠️ Dev" in out
    assert "Reason: precision dropped on the new segment" in out
    assert "churn has a new owner: @dave (was @alice)" in out
    assert "Phase history (newest first)" in out
    assert "churn was archived" in out
    assert "Use cases in Archived (1)" in out
    assert "Warning" not in out  # the team had the roles each phase needs
    assert "\x1b[" not in out  # no terminal colours in a transcript
    assert (tmp_path / "shell.db").exists()


def test_a_line_that_cannot_run_fails_the_script(tmp_path: Path) -> None:
    result = _shell(tmp_path, '/usecase new churn "Churn"\nclick 7\nfly to the moon\n')
    assert result.returncode == 1
    assert "!! line 2 failed: there is no button 7" in result.stdout
    assert "!! line 3 failed" in result.stdout
    assert "New use case churn" in result.stdout  # the good line still ran


def test_a_private_channel_made_in_the_shell_keeps_its_use_case_to_its_members(
        tmp_path: Path) -> None:
    result = _shell(tmp_path, """\
in #deals private @bob
/usecase new pricing "Secret pricing"
in #general
as @dave
/usecase list
/usecase show pricing
as @bob
/usecase list
in #lunch wherever
""")
    out = result.stdout
    assert "(you are now in #deals)" in out and "announced in #deals" in out
    dave, bob = out.index("dave in #general> /usecase list"), out.index("bob in #general> /usecase list")
    assert "pricing —" not in out[dave:bob] and "There is no use case `pricing`" in out[dave:bob]
    assert "pricing — Secret pricing" in out[bob:]
    assert result.returncode == 1 and "!! line 9 failed: Write `in #channel`" in out


def test_the_weekend_example_crosses_a_recurring_freeze(tmp_path: Path) -> None:
    script = (EXAMPLES / "shell" / "weekend.txt").read_text(encoding="utf-8")
    result = _shell(tmp_path, script,
                    BIZDEVOPS_PIPELINES=str(EXAMPLES / "pipelines.rehearsal.toml"))
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    begun, refused, over = (out.index("“weekend: nobody on call for the models” (pipeline file) "
                                      "has begun: deployments of demo-sandbox are refused until"),
                            out.index("✋ Deployments of `demo-sandbox` are frozen: the freeze"),
                            out.index("is over: deployments of demo-sandbox may start again"))
    assert begun < refused < over < out.index("🚀 Deployment 1 of demo-sandbox `1.0.0` started")
    assert out.count("│ ❄️ The freeze “weekend") == 1 and out.count("│ ☀️ The freeze “weekend") == 1
    between = out[refused:over]
    assert "❄️ Frozen: the freeze “weekend" in between  # /deploy status
    assert "❄️ Frozen now (1)" in between and "❄️ Freezes" in between  # the digest, Home
    friday = re.search(r"time fri 15:30\n\(simulated time is now (\S+) 15:30 UTC\)", out)
    assert friday is not None and date.fromisoformat(friday.group(1)).weekday() == 4



def test_the_rollout_example_says_what_the_fleet_runs(tmp_path: Path) -> None:
    """examples/shell/rollout.txt: a solo owner refused up front, the approver asked and nudged,
    a rollback, a halt naming who must act, a failed rollback that locks — and what every line
    says about the targets is what the stand-in fleet's files say."""
    script = (EXAMPLES / "shell" / "rollout.txt").read_text(encoding="utf-8")
    pipelines = tmp_path / "pipelines.toml"  # the example's, its scripts found from anywhere
    pipelines.write_text((EXAMPLES / "pipelines.rollout.toml").read_text(encoding="utf-8")
                         .replace('"examples/scripts/', f'"{EXAMPLES}/scripts/'), encoding="utf-8")
    result = _shell(tmp_path, script, BIZDEVOPS_PIPELINES=str(pipelines))
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    lines = ["🚫 Not started: deploy needs 1 approval from the owner @alice (the only admin)",
             "✋ @erin asks for your approval: deployment 1 of churn `1.0.0` at deploy.",
             "⏰ Still waiting for your approval after 4 hours: deployment 1",
             "Rolling back to `1.0.0` (rollback 3).",
             "✅ Succeeded: rollback 3 of churn `1.0.0`. Targets now: `1.0.0` on all 20 targets.",
             "⚠️ @alice @erin — Failed: deployment 4 of churn `2.0.1` at deploy",
             'Nothing was rolled back: the stage halts on failure (`on_failure = "halt"`)',
             "🆘 @alice @erin — Failed: rollback 5 of churn `1.0.0` at deploy",
             "🔒 churn is locked: nothing deploys until someone has checked the targets",
             "is locked by the bot since",
             "In production: unknown on 5 of 20 targets, `2.0.1` on 5, `1.0.0` on 10",
             "⚠️ Needs attention (1)"]
    at = [out.find(line) for line in lines]
    assert -1 not in at and at == sorted(at), dict(zip(lines, at, strict=True))
    fleet = {int(p.name): p.read_text().strip() for p in (tmp_path / "fleet").iterdir()}
    claimed = re.findall(r"`2\.0\.1` on 5 \(([\d, ]+)\), `1\.0\.0` on 10 \(([\d, ]+)\)", out)[-1]
    for version, targets in zip(("2.0.1", "1.0.0"), claimed, strict=True):
        assert {fleet[int(t)] for t in targets.split(", ")} == {version}


def test_fresh_starts_from_an_empty_database_and_a_second_run_otherwise_finds_the_first(
        tmp_path: Path) -> None:
    script = '/usecase new churn "Predict churn"\n'
    assert _shell(tmp_path, script).returncode == 0
    again = _shell(tmp_path, script)
    assert "A use case `churn` exists already" in again.stdout
    assert again.returncode == 0  # a refusal is no failure, unless --strict
    fresh = _shell(tmp_path, script, "--fresh")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "New use case churn" in fresh.stdout and "exists already" not in fresh.stdout


def test_fresh_never_empties_a_database_that_is_not_a_sqlite_file(tmp_path: Path) -> None:
    result = _shell(tmp_path, "/usecase list\n", "--fresh",
                    DATABASE_URL="postgresql://postgres@127.0.0.1:1/production")
    assert result.returncode == 2
    assert "--fresh: only a SQLite file is emptied, and DATABASE_URL is postgresql" in result.stderr
    assert "nothing was removed" in result.stderr


def test_strict_fails_a_script_the_bot_refused_and_says_which_lines(tmp_path: Path) -> None:
    script = ('/usecase new churn "Predict churn"\n'
              "as @bob\n"
              "/usecase advance churn\n"         # 🚫 not his: refused
              "/usecase advance\n"               # ⚠️ bad input: refused, with the usage
              "/usecase show churn\n")
    lenient = _shell(tmp_path, script, "--fresh")
    assert lenient.returncode == 0 and "!!" not in lenient.stdout
    strict = _shell(tmp_path, script, "--fresh", "--strict")
    assert strict.returncode == 1
    assert "!! line 3 was refused: 🚫 Only the owner @alice or an admin may advance" in strict.stdout
    assert "!! line 4 was refused: ⚠️ " in strict.stdout
    assert "!! 2 line(s) refused (--strict)" in strict.stdout
    assert "!! line 1" not in strict.stdout and "!! line 5" not in strict.stdout
    clean = _shell(tmp_path, '/usecase new churn "Predict churn"\n/usecase show churn\n',
                   "--fresh", "--strict")
    assert clean.returncode == 0 and "!!" not in clean.stdout


def test_each_session_keeps_its_own_chart_files(tmp_path: Path) -> None:
    script = ("/usecase new churn \"Predict churn\"\n/metric record churn auc 0.8\n"
              "/metric record churn auc 0.9\n/metric show churn auc\n")
    charts = []
    for _ in range(2):
        out = _shell(tmp_path, script, "--fresh").stdout
        [path] = re.findall(r"📎 .* → (\S+\.png)", out)
        charts.append(Path(path))
    assert charts[0] != charts[1] and charts[0].name == charts[1].name  # same file ID, own folder
    assert all(chart.read_bytes().startswith(b"\x89PNG") for chart in charts)


def test_a_link_said_in_the_channel_unfurls(tmp_path: Path) -> None:
    """`say` posts a message as the current user; with a public URL, Slack's ``link_shared``
    for its dashboard link reaches the bot and the preview shows under the message."""
    script = ('/usecase new churn "Predict customer churn"\n'
              "say has anyone looked at $DASHBOARD/use-cases/churn lately?\n"
              "say no links here\n")
    result = _shell(tmp_path, script, BIZDEVOPS_PUBLIC_URL="https://bot.example.com")
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    [preview] = re.findall(r"#general · preview of (http://127\.0\.0\.1:\d+/use-cases/churn)", out)
    after = out[out.index("preview of"):]
    assert "Predict customer churn" in after.split("└")[0]
    assert out.count("preview of") == 1, out  # the message without links: nothing to unfurl
    assert "alice in #general> say has anyone looked at $DASHBOARD/use-cases/churn" in out
