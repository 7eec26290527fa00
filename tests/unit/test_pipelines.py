"""The pipeline file: the example loads, every mistake is reported with its path, durations parse."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.kpis import MaxDrop
from bot.domain.pipeline import ExecutorKind, OnFailure, PipelineSet
from bot.pipelines.loading import (
    BUILT_IN,
    WEBHOOK_SECRET_MISSING,
    PipelineError,
    check_config,
    load_pipelines,
    parse_pipelines,
    setting_missing,
    uses_webhooks,
)
from bot.pipelines.rollout_values import wave_counts
from bot.render.deploy_command_refusals import starters
from bot.toml_values import PipelineProblem, parse_duration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pipelines.toml"
EXAMPLE_SETTINGS = {"BIZDEVOPS_WEBHOOK_SECRET": "s3cret",
                    "BIZDEVOPS_MLFLOW_URL": "http://mlflow.internal:5000",
                    "BIZDEVOPS_GITHUB_TOKEN": "ghp_example"}

BROKEN = """\
default = "standrd"
pipeline = "typo at the top"

[use_cases]
Churn = "standard"
forecast = "nope"

[pipelines.standard]
descripton = "typo"

[[pipelines.standard.stages]]
name = "develop"
run = { executor = "command", argv = ["./build.sh", "{verison}", "--stage={stage}"] }
timout = "20m"

[[pipelines.standard.stages]]
name = "develop"
run = { executor = "webhok", url = "https://x.example" }

[[pipelines.standard.stages]]
name = "stage"
run = { executor = "webhook", url = "ftp://files.example", argv = ["x"] }
timeout = "25h"

[[pipelines.standard.stages]]
name = "deploy"
run = { executor = "dry-run", delay = "soon" }
approval = { required = 0, approvers = ["alice"], expires = "31d" }
waves = ["1", "50%", "10%", "90%"]
targets = 120
bake = "0s"
on_failure = "retry"

[[pipelines.standard.stages]]
name = "Smoke Test"
run = { executor = "dry-run" }
health = { executor = "dry-run" }

[pipelines."Fast Lane"]
description = "no stages"
"""

BROKEN_PROBLEMS = [
    "pipeline: unknown key; did you mean `pipelines`?",
    "pipelines.standard.descripton: unknown key; did you mean `description`?",
    "pipelines.standard.stages[0].timout: unknown key; did you mean `timeout`?",
    "pipelines.standard.stages[0].run.argv[1]: unknown placeholder {verison}; did you mean {version}?",
    'pipelines.standard.stages[1].run.executor: unknown executor "webhok"; did you mean "webhook"?',
    'pipelines.standard.stages[1].name: "develop" is already stages[0]',
    "pipelines.standard.stages[2].run.argv: not used by the webhook executor",
    'pipelines.standard.stages[2].run.url: expected an http(s) URL, got "ftp://files.example"',
    "pipelines.standard.stages[2].timeout: must be at most 24h",
    'pipelines.standard.stages[3].run.delay: expected a duration like "90s", "20m", "2h", "1d" '
    'or "1h30m", or whole seconds',
    "pipelines.standard.stages[3].approval.required: must be ≥ 1",
    'pipelines.standard.stages[3].approval.approvers[0]: "alice" is not a Slack user ID (U…/W…), '
    "user-group ID (S…) or @handle",
    "pipelines.standard.stages[3].approval.expires: must be at most 30d",
    "pipelines.standard.stages[3].waves[2]: reaches 12 of 120 targets, fewer than the 60 before it "
    "(waves are cumulative)",
    'pipelines.standard.stages[3].waves[3]: the last wave must be "100%" so every target is deployed, '
    'not "90%"',
    "pipelines.standard.stages[3].bake: must be longer than 0",
    'pipelines.standard.stages[3].on_failure: expected "halt" or "rollback"',
    'pipelines.standard.stages[4].name: "Smoke Test" is not a valid name: lowercase letters, digits, '
    "- and _, starting with a letter or digit, at most 40 characters",
    "pipelines.standard.stages[4].health: only applies to a stage with `waves`",
    'pipelines."Fast Lane": "Fast Lane" is not a valid name: lowercase letters, digits, - and _, '
    "starting with a letter or digit, at most 40 characters",
    'pipelines."Fast Lane".stages: a pipeline needs at least one stage',
    'default: no pipeline named "standrd"; did you mean "standard"?',
    'use_cases.Churn: "Churn" is not a use-case slug (lowercase letters, digits and -, 2 to 40 characters)',
    'use_cases.forecast: no pipeline named "nope"; expected one of "standard", "Fast Lane"',
]


def write(tmp_path: Path, text: str, name: str = "pipelines.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def problems_of(text: str) -> list[str]:
    import tomllib

    with pytest.raises(PipelineError) as bad:
        parse_pipelines(tomllib.loads(text))
    return [str(p) for p in bad.value.problems]


def one_stage(body: str) -> str:
    return f'[[pipelines.p.stages]]\nname = "s"\n{body}\n'


# ── loading ──────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("path", [None, "", "   "])
def test_no_file_means_the_built_in_pipeline(path: str | None) -> None:
    assert load_pipelines(path) is BUILT_IN
    assert not uses_webhooks(BUILT_IN)


def test_the_example_loads_with_the_expected_structure() -> None:
    ps = load_pipelines(str(EXAMPLE))
    assert isinstance(ps, PipelineSet)
    assert ps.default == "standard"
    assert ps.use_cases == {"demo-sandbox": "fast-dry"}
    standard, fast = ps.pipelines["standard"], ps.pipelines["fast-dry"]
    assert [s.name for s in standard.stages] == ["develop", "verify", "stage", "verify-staging", "deploy"]
    assert [s.run.kind for s in standard.stages] == [
        ExecutorKind.COMMAND, ExecutorKind.COMMAND, ExecutorKind.WEBHOOK, ExecutorKind.COMMAND,
        ExecutorKind.WEBHOOK,
    ]
    assert standard.stages[0].run.argv == (
        "python3", "examples/scripts/build.py", "{use_case}", "{version}"
    )
    assert standard.stages[0].timeout == timedelta(minutes=20)
    deploy = standard.stages[-1]
    assert deploy.approval is not None and deploy.approval.required == 1
    assert deploy.approval.approvers == () and deploy.approval.allow_self is False
    assert deploy.waves == ("1", "10%", "50%", "100%") and deploy.targets == 120
    assert deploy.health is not None and deploy.health.kind is ExecutorKind.WEBHOOK
    assert deploy.bake == timedelta(minutes=5) and deploy.on_failure is OnFailure.ROLLBACK
    assert all(s.approval is None for s in standard.stages[:-1])
    assert fast.is_dry_run and not standard.is_dry_run
    assert fast.stages[-1].targets == ("web-1", "web-2", "web-3", "web-4")
    assert ps.for_use_case("demo-sandbox") is fast and ps.for_use_case("churn") is standard
    assert uses_webhooks(ps)
    model, actions = ps.pipelines["model"], ps.pipelines["actions"]
    assert [(s.run.kind, s.run.alias) for s in model.stages] == [
        (ExecutorKind.MLFLOW, "challenger"), (ExecutorKind.MLFLOW, "champion")]
    assert model.stages[0].run.require_tags == (("validation", "passed"),)
    assert [s.run.inputs for s in actions.stages] == [
        (("version", "{version}"), ("environment", "staging")),
        (("version", "{version}"), ("environment", "production"))]


def test_the_example_scripts_exist() -> None:
    root = EXAMPLE.parent.parent
    for stage in load_pipelines(str(EXAMPLE)).pipelines["standard"].stages:
        if stage.run.kind is ExecutorKind.COMMAND:
            assert (root / stage.run.argv[1]).is_file()


def test_a_broken_file_reports_every_problem_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(PipelineError) as bad:
        load_pipelines(write(tmp_path, BROKEN))
    assert [str(p) for p in bad.value.problems] == BROKEN_PROBLEMS
    assert str(bad.value) == "\n".join(BROKEN_PROBLEMS)
    assert bad.value.problems[10] == PipelineProblem(
        "pipelines.standard.stages[3].approval.required", "must be ≥ 1"
    )


def test_a_toml_syntax_error_is_one_problem_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'default = "x"\n[pipelines.a\nname = 1\n')
    with pytest.raises(PipelineError) as bad:
        load_pipelines(path)
    assert [str(p) for p in bad.value.problems] == [
        f"{path}:2:13: invalid TOML: Expected ']' at the end of a table declaration"
    ]


@pytest.mark.parametrize(("tail", "at", "said"), [
    ("[pipelines.a]\nname = ", "2:8", "Invalid value — the file ends in the middle of a key's "
     "value: `key =` needs one, a string in quotes, a number, true or false, a date, an [array] "
     "or an {inline table} (its last line: `name =`)"),
    ('name = "abc', "1:12", "Unterminated string — the file ends in the middle of a string: its "
     'closing quote is missing (its last line: `name = "abc`)'),
    ("x = [1, 2\n", "2:1", "Unclosed array — the file ends in the middle of an array: its "
     "closing `]` is missing (its last line: `x = [1, 2`)"),
])
def test_a_file_that_ends_too_soon_says_where_and_in_the_middle_of_what(
        tmp_path: Path, tail: str, at: str, said: str) -> None:
    path = write(tmp_path, tail)
    with pytest.raises(PipelineError) as bad:
        load_pipelines(path)
    assert [str(p) for p in bad.value.problems] == [f"{path}:{at}: invalid TOML: {said}"]


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.toml")
    with pytest.raises(PipelineError) as bad:
        load_pipelines(path)
    assert str(bad.value) == f"{path}: cannot read the pipeline file: No such file or directory"


def test_default_is_the_only_pipeline_or_the_one_named_default() -> None:
    import tomllib

    single = tomllib.loads(one_stage('run = { executor = "dry-run" }'))
    assert parse_pipelines(single).default == "p"
    two = one_stage('run = { executor = "dry-run" }').replace("p.stages", "default.stages")
    two += one_stage('run = { executor = "dry-run" }')
    assert parse_pipelines(tomllib.loads(two)).default == "default"
    assert problems_of(one_stage('run = { executor = "dry-run" }').replace("pipelines.p", "pipelines.q")
                       + one_stage('run = { executor = "dry-run" }')) == [
        'default: missing: name the pipeline use cases get (one of "q", "p")'
    ]


@pytest.mark.parametrize(("body", "expected"), [
    ("", ["pipelines.p.stages[0].run: missing; e.g. { executor = \"dry-run\" }"]),
    ('run = { executor = "command", argv = [] }',
     ['pipelines.p.stages[0].run.argv: expected a non-empty list of strings; '
      'e.g. ["./ci/build.sh", "{version}"]']),
    ('run = { executor = "command", argv = ["", 3, "{wave}-{x}"] }',
     ["pipelines.p.stages[0].run.argv[0]: the program to run must not be empty",
      "pipelines.p.stages[0].run.argv[1]: expected a string, got an integer",
      "pipelines.p.stages[0].run.argv[2]: unknown placeholder {x}; expected one of {version}, "
      "{use_case}, {stage}, {targets}, {wave}"]),
    ('run = { executor = "webhook" }', ["pipelines.p.stages[0].run.url: missing"]),
    ('run = { executor = "dry-run", url = "https://x.example", dealy = "1s" }',
     ["pipelines.p.stages[0].run.url: not used by the dry-run executor",
      "pipelines.p.stages[0].run.dealy: unknown key; did you mean `delay`?"]),
    ('run = { }', ['pipelines.p.stages[0].run.executor: missing; use one of "webhook", "command", '
                   '"dry-run", "mlflow", "github-actions"']),
    ('run = { executor = "dry-run" }\nwaves = ["1", "100%"]',
     ["pipelines.p.stages[0].waves: needs `targets` (a count or a list of names) to divide"]),
    ('run = { executor = "dry-run" }\nwaves = ["0", "101%", "half", 2.5]\ntargets = 0',
     ["pipelines.p.stages[0].targets: must be from 1 to 100000",
      'pipelines.p.stages[0].waves[0]: expected a count like "5" (≥ 1) or a share like "10%" (1–100)',
      'pipelines.p.stages[0].waves[1]: expected a count like "5" (≥ 1) or a share like "10%" (1–100)',
      'pipelines.p.stages[0].waves[2]: expected a count like "5" (≥ 1) or a share like "10%" (1–100)',
      'pipelines.p.stages[0].waves[3]: expected a count like "5" (≥ 1) or a share like "10%" (1–100)']),
    ('run = { executor = "dry-run" }\nwaves = ["100%"]\ntargets = ["a", "", "a"]',
     ['pipelines.p.stages[0].targets[1]: "" is not a target name',
      'pipelines.p.stages[0].targets[2]: "a" is listed twice']),
    ('run = { executor = "dry-run" }\nbake = "1m"\non_failure = "rollback"',
     ["pipelines.p.stages[0].bake: only applies to a stage with `waves`",
      "pipelines.p.stages[0].on_failure: only applies to a stage with `waves`"]),
    ('run = { executor = "dry-run" }\napproval = { required = 3, approvers = ["U1AAA", "W2BBB", "U1AAA"] }',
     ['pipelines.p.stages[0].approval.approvers[2]: "U1AAA" is listed twice']),
    ('run = { executor = "dry-run" }\napproval = { required = 3, approvers = ["U1AAA", "W2BBB"] }',
     ["pipelines.p.stages[0].approval.required: 3 approvals needed but only 2 approvers are listed"]),
    ('run = { executor = "dry-run" }\napproval = { required = "two", allow_self = "yes" }',
     ["pipelines.p.stages[0].approval.required: expected a whole number, got a string",
      "pipelines.p.stages[0].approval.allow_self: expected true or false, got a string"]),
    ('run = { executor = "dry-run" }\ntimeout = 0', ["pipelines.p.stages[0].timeout: must be longer than 0"]),
    ('run = { executor = "dry-run" }\napproval = { remind = "never" }',
     ['pipelines.p.stages[0].approval.remind: expected a duration like "90s", "20m", "2h", "1d" or '
      '"1h30m", or whole seconds, or "off" for no reminders']),
    ('run = { executor = "dry-run" }\napproval = { remind = "8d" }',
     ["pipelines.p.stages[0].approval.remind: must be at most 7d"]),
])
def test_single_mistakes(body: str, expected: list[str]) -> None:
    assert problems_of(one_stage(body)) == expected


def test_groups_and_handles_are_valid_approvers() -> None:
    import tomllib

    text = one_stage('run = { executor = "dry-run" }\n'
                     'approval = { required = 5, approvers = ["S0GROUP", "@release-managers"] }')
    approval = parse_pipelines(tomllib.loads(text)).pipelines["p"].stages[0].approval
    assert approval is not None and approval.approvers == ("S0GROUP", "@release-managers")


@pytest.mark.parametrize(("written", "remind"), [
    ("", timedelta(hours=4)), ('remind = "30m"', timedelta(minutes=30)), ('remind = "off"', None),
])
def test_a_gate_reminds_every_four_hours_unless_it_says_otherwise(
        written: str, remind: timedelta | None) -> None:
    import tomllib

    text = one_stage(f'run = {{ executor = "dry-run" }}\napproval = {{ {written} }}')
    approval = parse_pipelines(tomllib.loads(text)).pipelines["p"].stages[0].approval
    assert approval is not None and approval.remind == remind


def test_no_pipelines_at_all() -> None:
    assert problems_of('default = "x"\n') == ["pipelines: missing; define at least one pipeline"]


# ── durations and waves ──────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("text", "expected"), [
    ("90s", timedelta(seconds=90)),
    ("20m", timedelta(minutes=20)),
    ("2h", timedelta(hours=2)),
    ("1d", timedelta(days=1)),
    ("1h30m", timedelta(hours=1, minutes=30)),
    ("1h 30m", timedelta(hours=1, minutes=30)),
    ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    (600, timedelta(minutes=10)),
    ("0s", timedelta()),
])
def test_durations(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "m", "1.5h", "20min", "20M", "30m1h", "-5m", "h1", 1.5, True,
                                  "99999999999999d"])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_waves_are_cumulative_and_round_up() -> None:
    assert wave_counts(["1", "10%", "50%", "100%"], 120) == [1, 12, 60, 120]
    assert wave_counts(["1", "1%", "100%"], 50) == [1, 1, 50]
    assert wave_counts(["500", "100%"], 120) == [120, 120]


# ── check_config ─────────────────────────────────────────────────────────────────────────────

def test_check_config_reports_environment_and_missing_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.toml")
    assert check_config({"PORT": "eighty", "BIZDEVOPS_PIPELINES": missing}) == [
        "PORT is malformed: expected a whole number from 1 to 65535",
        f"{missing}: cannot read the pipeline file: No such file or directory",
    ]


def test_check_config_reports_port_pipeline_and_webhook_secret_together(tmp_path: Path) -> None:
    path = write(tmp_path, one_stage('run = { executor = "webhook", url = "https://x.example" }\n'
                                     'timout = "1m"'))
    assert check_config({"PORT": "0", "BIZDEVOPS_PIPELINES": path}) == [
        "PORT is malformed: expected a whole number from 1 to 65535",
        f"{path}: pipelines.p.stages[0].timout: unknown key; did you mean `timeout`?",
        WEBHOOK_SECRET_MISSING,
    ]


def test_check_config_is_clean_for_the_example_with_its_settings() -> None:
    env = {"BIZDEVOPS_PIPELINES": str(EXAMPLE)}
    assert check_config(env) == [WEBHOOK_SECRET_MISSING, setting_missing(ExecutorKind.MLFLOW),
                                 setting_missing(ExecutorKind.GITHUB_ACTIONS)]
    assert check_config({**env, **EXAMPLE_SETTINGS}) == []
    assert check_config({}) == []


# ── the kpi health check ───────────────────────────────────────────────────────────────────

ROLLOUT = 'run = { executor = "dry-run" }\nwaves = ["1", "100%"]\ntargets = 4\n'


def test_a_kpi_health_check_names_the_kpi_and_its_max_drop() -> None:
    text = one_stage(ROLLOUT + 'health = { executor = "kpi", name = "auc", max_drop = "2%" }')
    [stage] = parse_pipelines(tomllib.loads(text)).pipelines["p"].stages
    assert stage.health is not None and stage.health.kind is ExecutorKind.KPI
    assert (stage.health.kpi, stage.health.max_drop) == ("auc", MaxDrop(2, percent=True))
    pipeline = parse_pipelines(tomllib.loads(text)).pipelines["p"]
    assert pipeline.is_dry_run, "a KPI only judges: a dry-run rollout stays labelled dry run"


@pytest.mark.parametrize(("body", "expected"), [
    ('run = { executor = "kpi", name = "auc" }',
     ['pipelines.p.stages[0].run.executor: the kpi executor judges a rollout: use it as a '
      'stage\'s `health = {executor = "kpi", name = "<kpi>"}`']),
    (ROLLOUT + 'health = { executor = "kpi" }', ["pipelines.p.stages[0].health.name: missing"]),
    (ROLLOUT + 'health = { executor = "kpi", name = "AUC!", max_drop = "-3%", url = "http://x" }',
     ['pipelines.p.stages[0].health.url: not used by the kpi executor',
      'pipelines.p.stages[0].health.name: "AUC!" is not a KPI name (lowercase letters, digits, '
      '_ . and -, at most 64 characters)',
      'pipelines.p.stages[0].health.max_drop: expected a number or a percentage like "2%", '
      'at least 0']),
    (ROLLOUT + 'health = { executor = "kpii", name = "auc" }',
     ['pipelines.p.stages[0].health.executor: unknown executor "kpii"; did you mean "kpi"?']),
])
def test_kpi_health_mistakes(body: str, expected: list[str]) -> None:
    assert problems_of(one_stage(body)) == expected


# ── who may start a pipeline ──────────────────────────────────────────────────────────────────

def test_allowed_names_roles_groups_and_users() -> None:
    text = ('[pipelines.p]\nallowed = ["devops", "@release-managers", "S0123ABC", "U012ABCDEF"]\n'
            + one_stage('run = { executor = "dry-run" }'))
    pipeline = parse_pipelines(tomllib.loads(text)).pipelines["p"]
    assert pipeline.allowed == ("devops", "@release-managers", "S0123ABC", "U012ABCDEF")
    assert starters(pipeline.allowed) == ("admins, the team's devops engineers, @release-managers, "
                                   "<!subteam^S0123ABC> or <@U012ABCDEF>")


def test_allowed_mistakes_are_named_with_their_path() -> None:
    text = ('[pipelines.p]\nallowed = ["devops", "sre", 3, "devops"]\n'
            + one_stage('run = { executor = "dry-run" }'))
    assert problems_of(text) == [
        'pipelines.p.allowed[1]: "sre" is not a team role (business, data-scientist, data-engineer, '
        "devops), a user group (@handle or S…) or a user ID (U…/W…)",
        "pipelines.p.allowed[2]: expected a string, got an integer",
        'pipelines.p.allowed[3]: "devops" is listed twice',
    ]
    stage = one_stage('run = { executor = "dry-run" }')
    assert problems_of('[pipelines.p]\nallowed = "devops"\n' + stage) == [
        'pipelines.p.allowed: expected a list like ["devops", "@release-managers", "U012ABC"], got a string']


def test_empty_values_and_allowed_are_reported_with_every_other_problem() -> None:
    text = """
[pipelines.p]
allowed = ["nobody"]
[[pipelines.p.stages]]
name = "move"
run = { executor = "mlflow", alias = "", model = "" }
[[pipelines.p.stages]]
name = "ship"
run = { executor = "github-actions", repo = "", workflow = "  ", ref = "" }
[[pipelines.p.stages]]
name = "broken"
run = { executor = "dry-run", delay = "soon" }
"""
    assert problems_of(text) == [
        "pipelines.p.stages[0].run.model: must not be empty (leave it out for the use case's "
        "linked model)",
        "pipelines.p.stages[0].run.alias: must not be empty",
        "pipelines.p.stages[1].run.repo: must not be empty",
        "pipelines.p.stages[1].run.workflow: must not be empty",
        'pipelines.p.stages[1].run.ref: must not be empty (leave it out for "main")',
        'pipelines.p.stages[2].run.delay: expected a duration like "90s", "20m", "2h", "1d" or '
        '"1h30m", or whole seconds',
        'pipelines.p.allowed[0]: "nobody" is not a team role (business, data-scientist, '
        "data-engineer, devops), a user group (@handle or S…) or a user ID (U…/W…)",
    ]


def test_a_freeze_that_never_lets_go_is_a_warning_not_a_problem(tmp_path: Path) -> None:
    path = write(tmp_path, one_stage('run = { executor = "dry-run" }') + """
[[freezes]]
cron = "*/5 * * * *"
duration = "5m"
reason = "legacy: admins only"
use_cases = ["legacy"]
[[freezes]]
cron = "0 18 * * fri"
duration = "2d15h"
reason = "weekend"
""")
    [line] = check_config({"BIZDEVOPS_PIPELINES": path})
    assert line.startswith(f"warning: {path}: freezes[0]: never lets go (")
    assert line.endswith("deployments of legacy pass only with an admin's override")
