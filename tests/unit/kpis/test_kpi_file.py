"""The KPI source file: a valid file builds the KPIs, every mistake is reported with its key path
and a hint, database URLs come from the environment and never show up in a problem."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.kpis import (
    KPI_CRON_MIN_INTERVAL,
    Connection,
    Every,
    KpiSourceSet,
    KpiSpec,
    MlflowSource,
    PrometheusSource,
    SqlSource,
)
from bot.domain.metrics import Target
from bot.domain.schedule import Schedule
from bot.kpis.loading import (
    MLFLOW_URL_MISSING,
    KpiConfig,
    KpiSourceError,
    check_kpi_file,
    load_kpi_sources,
    parse_kpi_sources,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "kpis.toml"
ENV = {"WAREHOUSE_URL": "postgresql://kpi_reader:s3cret-pw@warehouse:5432/analytics"}
MLFLOW = "http://mlflow.internal:5000"
SQL = '{ kind = "sql", connection = "warehouse", query = "SELECT 1" }'
HEAD = '[connections.warehouse]\nurl_env = "WAREHOUSE_URL"\n\n'

VALID = HEAD + """\
[connections.local]
url_env = "LOCAL_DB"

[[kpis]]
use_case = "churn"
name = "auc"
unit = "ratio"
every = "1h"
target = ">= 0.83"
source = { kind = "sql", connection = "warehouse", query = "SELECT avg(score) FROM churn_eval" }

[[kpis]]
use_case = "churn"
name = "p95_latency_ms"
unit = "ms"
every = 300
target = "<=250"
timeout = "2m"
source = { kind = "prometheus", url = "https://prom.example:9090", query = "sum(up)" }

[[kpis]]
use_case = "churn"
name = "val_auc"
cron = "0 * * * *"
tz = "Europe/Berlin"
source = { kind = "mlflow", experiment = "churn-training", metric = "val_auc" }

[[kpis]]
use_case = "fraud"
name = "recall"
cron = "*/5 9-17 * * mon-fri"
target = "≥ 0.9"
source = { kind = "mlflow", model = "fraud", alias = "champion", metric = "recall" }

[[kpis]]
use_case = "fraud"
name = "rows"
every = "1d"
source = { kind = "sql", connection = "local", query = "SELECT count(*) FROM t" }
"""


def cron(expression: str, tz: str) -> Schedule:
    return Schedule(expression, tz, min_interval=KPI_CRON_MIN_INTERVAL)


def problems_of(text: str, env: dict[str, str] | None = None, mlflow_url: str = MLFLOW) -> list[str]:
    with pytest.raises(KpiSourceError) as bad:
        parse_kpi_sources(tomllib.loads(text), ENV if env is None else env, mlflow_url=mlflow_url)
    return [str(p) for p in bad.value.problems]


def kpi(body: str, source: str = SQL) -> str:
    """A file with one KPI: ``body`` (its own keys) and ``source``."""
    return HEAD + f'[[kpis]]\nuse_case = "churn"\nname = "auc"\n{body}\nsource = {source}\n'


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "kpis.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


# ── a valid file ─────────────────────────────────────────────────────────────────────────────

def test_a_complete_file_builds_the_kpis_and_the_connection_urls() -> None:
    env = {**ENV, "LOCAL_DB": "sqlite:////var/lib/kpis.db"}
    config = parse_kpi_sources(tomllib.loads(VALID), env, timezone="America/New_York",
                               mlflow_url=MLFLOW)
    assert config.sources == KpiSourceSet(
        connections={"warehouse": Connection("warehouse", "WAREHOUSE_URL"),
                     "local": Connection("local", "LOCAL_DB")},
        kpis=(
            KpiSpec("churn", "auc", SqlSource("warehouse", "SELECT avg(score) FROM churn_eval"),
                    Every(timedelta(hours=1)), unit="ratio", target=Target(">=", 0.83)),
            KpiSpec("churn", "p95_latency_ms", PrometheusSource("https://prom.example:9090", "sum(up)"),
                    Every(timedelta(minutes=5)), unit="ms", target=Target("<=", 250),
                    timeout=timedelta(minutes=2)),
            KpiSpec("churn", "val_auc", MlflowSource("val_auc", experiment="churn-training"),
                    cron("0 * * * *", "Europe/Berlin")),
            KpiSpec("fraud", "recall", MlflowSource("recall", model="fraud", alias="champion"),
                    cron("*/5 9-17 * * mon-fri", "America/New_York"), target=Target(">=", 0.9)),
            KpiSpec("fraud", "rows", SqlSource("local", "SELECT count(*) FROM t"),
                    Every(timedelta(days=1))),
        ),
    )
    assert config.sources.kpis[0].timeout == timedelta(seconds=30)
    # Plain URLs get the async driver we ship.
    assert config.connection_urls == {
        "warehouse": "postgresql+asyncpg://kpi_reader:s3cret-pw@warehouse:5432/analytics",
        "local": "sqlite+aiosqlite:////var/lib/kpis.db",
    }


def test_the_urls_stay_out_of_the_repr() -> None:
    config = parse_kpi_sources(tomllib.loads(kpi('every = "1h"')), ENV)
    assert "s3cret-pw" not in repr(config)
    assert config.connection_urls["warehouse"].startswith("postgresql+asyncpg://kpi_reader:s3cret-pw@")


@pytest.mark.parametrize("path", [None, "", "  "])
def test_no_file_means_no_kpis(path: str | None) -> None:
    assert load_kpi_sources(path, {}) == KpiConfig()
    assert KpiConfig().sources.kpis == () and KpiConfig().connection_urls == {}


def test_a_file_loads_from_disk(tmp_path: Path) -> None:
    config = load_kpi_sources(write(tmp_path, kpi('every = "5m"')), ENV)
    assert [k.key for k in config.sources.kpis] == [("churn", "auc")]


def test_the_example_loads_with_the_variables_it_names() -> None:
    config = load_kpi_sources(str(EXAMPLE), ENV, timezone="UTC", mlflow_url=MLFLOW)
    kinds = [(k.use_case, k.name, k.source.kind.value) for k in config.sources.kpis]
    assert kinds == [("churn", "retention_30d", "sql"), ("churn", "p95_latency_ms", "prometheus"),
                     ("churn", "auc", "mlflow"), ("fraud", "recall", "mlflow"),
                     ("fraud", "chargeback_rate", "sql")]
    latency = config.sources.find("churn", "p95_latency_ms")
    assert latency is not None and latency.target == Target("<=", 250)
    assert config.sources.kpis[-1].schedule == cron("0 7 * * mon-fri", "Europe/Berlin")
    assert set(config.connection_urls) == {"warehouse"}
    env = {"BIZDEVOPS_KPI_SOURCES": str(EXAMPLE), **ENV}
    assert check_kpi_file({**env, "BIZDEVOPS_MLFLOW_URL": MLFLOW}) == []
    assert check_kpi_file(env) == [MLFLOW_URL_MISSING]


# ── every rule, with its path ────────────────────────────────────────────────────────────────

BROKEN = """\
kpi = "typo at the top"

[connections.warehouse]
url_evn = "WAREHOUSE_URL"

[connections.lake]
url_env = "LAKE URL"

[connections.mart]
url_env = "MART_URL"

[[kpis]]
use_case = "Churn"
name = "AUC"
unit = "x\\ny"
every = "1h"
cron = "0 * * * *"
target = "=> 0.8"
timeout = "11m"
source = { kind = "sql", connection = "warehose", query = " ", url = "http://x.example" }

[[kpis]]
use_case = "churn"
name = "auc"
cron = "0 * * *"
tz = "Mars/Base"
target = ">= abc"
timout = "1m"
source = { kind = "prometheus", url = "ftp://prom.example", qurey = "up" }

[[kpis]]
use_case = "churn"
name = "auc"
every = "90s"
source = { kind = "mlfow" }

[[kpis]]
use_case = "fraud"
name = "recall"
tz = "UTC"
target = 0.9
source = { kind = "mlflow", metric = "recall", experiment = "e", model = "m" }
"""

BROKEN_PROBLEMS = [
    "kpi: unknown key; did you mean `kpis`?",
    "connections.warehouse.url_evn: unknown key; did you mean `url_env`?",
    "connections.warehouse.url_env: missing",
    'connections.lake.url_env: "LAKE URL" is not an environment variable name, e.g. "WAREHOUSE_URL"',
    'connections.mart.url_env: MART_URL is not set: it must hold the SQLAlchemy URL of "mart", '
    "e.g. postgresql://user:password@host/db or sqlite:///path/to/file.db",
    'kpis[0].use_case: "Churn" is not a use-case slug (lowercase letters, digits and -, 2 to 40 '
    "characters)",
    "kpis[0].name: `AUC` is not a valid metric name: use 1–64 lowercase letters, digits and `_ . -`, "
    "starting with a letter or digit, e.g. `accuracy` or `p95_latency_ms`. Did you mean `auc`?",
    "kpis[0].unit: The unit must be one line of plain text, e.g. `unit=ms` or `unit=%`.",
    "kpis[0].cron: give either `every` or `cron`, not both",
    "kpis[0].target: `=>` is not a comparison: use `>=`, `<=`, `>` or `<`.",
    "kpis[0].timeout: must be at most 10m",
    'kpis[0].source.url: not used by a sql source (it takes "connection", "query")',
    'kpis[0].source.connection: no connection named "warehose"; did you mean "warehouse"?',
    "kpis[0].source.query: must not be empty",
    "kpis[1].timout: unknown key; did you mean `timeout`?",
    "kpis[1].tz: `Mars/Base` is not a time zone I know. Use an IANA name such as `Europe/Berlin`, "
    "`America/New_York` or `UTC`.",
    "kpis[1].cron: `0 * * *` has 4 fields; a digest schedule has 5: minute hour day month weekday. "
    "Example: `0 9 * * mon-fri` = 09:00 on weekdays.",
    "kpis[1].target: `abc` is not a number; write it like `0.87`, `-3` or `1.5e6`.",
    "kpis[1].source.qurey: unknown key; did you mean `query`?",
    'kpis[1].source.url: expected an http(s) URL, got "ftp://prom.example"',
    "kpis[1].source.query: missing",
    'kpis[2].every: must be whole minutes, at least 1m (e.g. "5m" or "1h"), not 90s',
    'kpis[2].source.kind: unknown source "mlfow"; did you mean "mlflow"?',
    'kpis[2].name: "auc" of "churn" is already kpis[1]',
    "kpis[3].tz: only applies with `cron`",
    'kpis[3]: missing a schedule: every = "1h", or cron = "0 * * * *" (with tz)',
    'kpis[3].target: expected a string with a comparison and a number, like ">= 0.83" or "<= 250", '
    "got a float",
    "kpis[3].source.experiment: give either `experiment` or `model` + `alias`, not both",
    "BIZDEVOPS_MLFLOW_URL: required: the KPI file has MLflow sources",
]


def test_every_problem_is_reported_with_its_path() -> None:
    assert problems_of(BROKEN, mlflow_url="") == BROKEN_PROBLEMS


@pytest.mark.parametrize(("text", "problem"), [
    ("", "kpis: missing; define at least one [[kpis]] table"),
    ("kpis = []", "kpis: missing; define at least one [[kpis]] table"),
    ('kpis = "auc"', "kpis: expected [[kpis]] tables, got a string; define at least one [[kpis]] table"),
    ("kpis = [1]", "kpis[0]: expected a table, got an integer"),
    ('connections = "warehouse"\n' + kpi('every = "1h"').removeprefix(HEAD),
     "connections: expected tables like [connections.warehouse], got a string"),
])
def test_the_top_of_the_file(text: str, problem: str) -> None:
    assert problem in problems_of(text)


def test_a_kpi_needs_a_use_case_a_name_and_a_source() -> None:
    assert problems_of(HEAD + '[[kpis]]\nevery = "1h"\n') == [
        "kpis[0].use_case: missing",
        "kpis[0].name: missing",
        'kpis[0].source: missing; e.g. { kind = "sql", connection = "warehouse", '
        'query = "SELECT avg(score) FROM churn_eval" }',
    ]


@pytest.mark.parametrize(("every", "problem"), [
    ('"90s"', 'must be whole minutes, at least 1m (e.g. "5m" or "1h"), not 90s'),
    ('"30s"', 'must be whole minutes, at least 1m (e.g. "5m" or "1h"), not 30s'),
    ("59", 'must be whole minutes, at least 1m (e.g. "5m" or "1h"), not 59s'),
    ('"0m"', 'must be whole minutes, at least 1m (e.g. "5m" or "1h"), not 0'),
    ('"soon"', 'expected a duration like "90s", "20m", "2h", "1d" or "1h30m", or whole seconds'),
    ("true", 'expected a duration like "90s", "20m", "2h", "1d" or "1h30m", or whole seconds'),
])
def test_every_is_whole_minutes_of_at_least_one(every: str, problem: str) -> None:
    assert problems_of(kpi(f"every = {every}")) == [f"kpis[0].every: {problem}"]


@pytest.mark.parametrize(("every", "interval"), [
    ('"1m"', timedelta(minutes=1)), ('"5m"', timedelta(minutes=5)), ('"1h30m"', timedelta(minutes=90)),
    ("120", timedelta(minutes=2)), ('"1d"', timedelta(days=1)),
])
def test_every_accepts_whole_minutes(every: str, interval: timedelta) -> None:
    config = parse_kpi_sources(tomllib.loads(kpi(f"every = {every}")), ENV)
    assert config.sources.kpis[0].schedule == Every(interval)


def test_a_cron_uses_its_tz_or_the_default_zone() -> None:
    berlin = parse_kpi_sources(tomllib.loads(kpi('cron = "* * * * *"\ntz = "Europe/Berlin"')), ENV)
    default = parse_kpi_sources(tomllib.loads(kpi('cron = "0 9 * * *"')), ENV, timezone="Asia/Tokyo")
    # Every minute is allowed for a KPI (digests: at most hourly).
    assert berlin.sources.kpis[0].schedule == cron("* * * * *", "Europe/Berlin")
    assert default.sources.kpis[0].schedule == cron("0 9 * * *", "Asia/Tokyo")


@pytest.mark.parametrize(("body", "problem"), [
    ('cron = "61 * * * *"', "kpis[0].cron: `61` is not a valid minute (0–59) in `61 * * * *`. "
                            "Example: `0 9 * * mon-fri` = 09:00 on weekdays."),
    ('cron = "0 0 31 2 *"', "kpis[0].cron: `0 0 31 2 *` never fires: no date matches it. "
                            "Example: `0 9 * * mon-fri` = 09:00 on weekdays."),
    ("cron = 5", "kpis[0].cron: expected a string, got an integer"),
    ('cron = "0 * * * *"\ntz = "Nowhere"', "kpis[0].tz: `Nowhere` is not a time zone I know. Use an "
                                           "IANA name such as `Europe/Berlin`, `America/New_York` or `UTC`."),
    ('tz = "UTC"\nevery = "1h"', "kpis[0].tz: only applies with `cron`"),
])
def test_cron_problems(body: str, problem: str) -> None:
    assert problems_of(kpi(body)) == [problem]


@pytest.mark.parametrize(("target", "expected"), [
    ('">= 0.83"', Target(">=", 0.83)), ('"<= 250"', Target("<=", 250)), ('"<250"', Target("<", 250)),
    ('" > -1.5e3 "', Target(">", -1500)), ('"≤ 3"', Target("<=", 3)),
])
def test_a_target_is_a_comparison_and_a_number(target: str, expected: Target) -> None:
    config = parse_kpi_sources(tomllib.loads(kpi(f'every = "1h"\ntarget = {target}')), ENV)
    assert config.sources.kpis[0].target == expected


@pytest.mark.parametrize(("target", "problem"), [
    ('"0.83"', 'expected a comparison and a number, like ">= 0.83" or "<= 250", got "0.83"'),
    ('"== 1"', "`==` is not a comparison: use `>=`, `<=`, `>` or `<`."),
    ('">= 80%"', "Give the unit separately: `80 unit=%`."),
    ('">= nan"', "`nan` is not a finite number; write it like `0.87`, `-3` or `1.5e6`."),
    ('">="', "A value is needed: write it like `0.87`, `-3` or `1.5e6`."),
    ("[1]", 'expected a string with a comparison and a number, like ">= 0.83" or "<= 250", got an array'),
])
def test_target_problems(target: str, problem: str) -> None:
    assert problems_of(kpi(f'every = "1h"\ntarget = {target}')) == [f"kpis[0].target: {problem}"]


@pytest.mark.parametrize(("timeout", "problem"), [
    ('"11m"', "must be at most 10m"), ('"0s"', "must be longer than 0"),
    ('"later"', 'expected a duration like "90s", "20m", "2h", "1d" or "1h30m", or whole seconds'),
])
def test_timeout_is_positive_and_at_most_ten_minutes(timeout: str, problem: str) -> None:
    assert problems_of(kpi(f'every = "1h"\ntimeout = {timeout}')) == [f"kpis[0].timeout: {problem}"]


def test_timeout_is_kept() -> None:
    config = parse_kpi_sources(tomllib.loads(kpi('every = "1h"\ntimeout = "10m"')), ENV)
    assert config.sources.kpis[0].timeout == timedelta(minutes=10)


@pytest.mark.parametrize(("unit", "problem"), [
    ('"' + "x" * 33 + '"', "The unit is 33 characters long; at most 32 are allowed."),
    ("3", "expected a string, got an integer"),
])
def test_unit_problems(unit: str, problem: str) -> None:
    assert problems_of(kpi(f'every = "1h"\nunit = {unit}')) == [f"kpis[0].unit: {problem}"]


# ── sources ──────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("source", "problems"), [
    ('"sql"', ['kpis[0].source: expected a table, got a string; e.g. { kind = "sql", connection = '
               '"warehouse", query = "SELECT avg(score) FROM churn_eval" }']),
    ('{ query = "SELECT 1" }', ['kpis[0].source.kind: missing; use one of "sql", "prometheus", "mlflow"']),
    ('{ kind = "http" }', ['kpis[0].source.kind: unknown source "http"; expected one of "sql", '
                           '"prometheus", "mlflow"']),
    ('{ kind = "sql", connection = "warehouse", query = "SELECT 1", timeout = "1m" }',
     ["kpis[0].source.timeout: unknown key; expected one of `kind`, `connection`, `query`"]),
    ('{ kind = "sql", query = "SELECT 1" }', ["kpis[0].source.connection: missing"]),
    ('{ kind = "sql", connection = "warehouse" }', ["kpis[0].source.query: missing"]),
    ('{ kind = "sql", connection = "warehouse", query = 1 }',
     ["kpis[0].source.query: expected a string, got an integer"]),
    ('{ kind = "sql", connection = "lake", query = "SELECT 1" }',
     ['kpis[0].source.connection: no connection named "lake"; expected one of "warehouse"']),
    ('{ kind = "prometheus", query = "up" }', ["kpis[0].source.url: missing"]),
    ('{ kind = "prometheus", url = "http://prom", query = "" }',
     ["kpis[0].source.query: must not be empty"]),
    ('{ kind = "prometheus", url = "http://prom", query = "up", connection = "warehouse" }',
     ['kpis[0].source.connection: not used by a prometheus source (it takes "url", "query")']),
    ('{ kind = "mlflow", experiment = "e" }', ["kpis[0].source.metric: missing"]),
    ('{ kind = "mlflow", metric = "auc" }',
     ["kpis[0].source: needs `experiment` (its newest finished run), or `model` + `alias` (the run "
      "behind the version the alias points at)"]),
    ('{ kind = "mlflow", metric = "auc", model = "churn" }',
     ['kpis[0].source.alias: missing: `model` needs the alias to follow, e.g. "champion"']),
    ('{ kind = "mlflow", metric = "auc", alias = "champion" }',
     ["kpis[0].source.model: missing: `alias` needs the registered model it belongs to"]),
    ('{ kind = "mlflow", metric = "auc", experiment = "e", alias = "champion" }',
     ["kpis[0].source.experiment: give either `experiment` or `model` + `alias`, not both"]),
    ('{ kind = "mlflow", metric = "", experiment = "e" }', ["kpis[0].source.metric: must not be empty"]),
])
def test_source_problems(source: str, problems: list[str]) -> None:
    assert problems_of(kpi('every = "1h"', source)) == problems


def test_a_sql_source_needs_a_connection_declared_in_the_file() -> None:
    text = '[[kpis]]\nuse_case = "churn"\nname = "auc"\nevery = "1h"\nsource = ' + SQL
    assert problems_of(text) == ['kpis[0].source.connection: no connection named "warehouse"; define it '
                                 "under [connections.warehouse] with url_env"]


def test_a_connection_with_a_bad_url_is_still_declared() -> None:
    # The source's connection exists: only the URL is reported, once.
    assert problems_of(kpi('every = "1h"'), env={}) == [
        'connections.warehouse.url_env: WAREHOUSE_URL is not set: it must hold the SQLAlchemy URL of '
        '"warehouse", e.g. postgresql://user:password@host/db or sqlite:///path/to/file.db']


@pytest.mark.parametrize(("url", "problem"), [
    ("mysql://kpi:s3cret-pw@db/analytics", "use postgresql+asyncpg://... or sqlite+aiosqlite:///..."),
    ("not a url s3cret-pw", "expected a SQLAlchemy URL"),
    ("postgresql://kpi:s3cret-pw@db:99999/analytics", "port 99999 is not from 1 to 65535"),
    ("postgresql://kpi:s3cret-pw@db:port/analytics", "its port is not a number"),
])
def test_a_bad_url_is_named_without_its_value(url: str, problem: str) -> None:
    problems = problems_of(kpi('every = "1h"'), env={"WAREHOUSE_URL": url})
    assert problems == [f"connections.warehouse.url_env: WAREHOUSE_URL is malformed: {problem}"]
    assert "s3cret-pw" not in "\n".join(problems)


@pytest.mark.parametrize(("url", "normalised"), [
    ("postgres://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
    ("postgresql+asyncpg://u@h:5433/db", "postgresql+asyncpg://u@h:5433/db"),
    ("sqlite:///kpis.db", "sqlite+aiosqlite:///kpis.db"),
    ("sqlite+aiosqlite:////tmp/kpis.db", "sqlite+aiosqlite:////tmp/kpis.db"),
])
def test_urls_get_the_async_driver(url: str, normalised: str) -> None:
    config = parse_kpi_sources(tomllib.loads(kpi('every = "1h"')), {"WAREHOUSE_URL": f"  {url} "})
    assert config.connection_urls == {"warehouse": normalised}


def test_mlflow_sources_need_the_mlflow_url_reported_once() -> None:
    two = kpi('every = "1h"', '{ kind = "mlflow", experiment = "e", metric = "m" }') + \
        '[[kpis]]\nuse_case = "churn"\nname = "f1"\nevery = "1h"\n' \
        'source = { kind = "mlflow", model = "m", alias = "a", metric = "f1" }\n'
    assert problems_of(two, mlflow_url="") == [
        "BIZDEVOPS_MLFLOW_URL: required: the KPI file has MLflow sources"]
    assert len(parse_kpi_sources(tomllib.loads(two), ENV, mlflow_url=MLFLOW).sources.kpis) == 2


def test_the_same_kpi_twice_is_a_problem() -> None:
    twice = kpi('every = "1h"') + '[[kpis]]\nuse_case = "churn"\nname = "auc"\ncron = "0 * * * *"\n' \
                                  f"source = {SQL}\n"
    assert problems_of(twice) == ['kpis[1].name: "auc" of "churn" is already kpis[0]']


# ── the file itself, and check-config's lines ────────────────────────────────────────────────

def test_a_syntax_error_has_its_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "[[kpis]]\nuse_case = churn\n")
    with pytest.raises(KpiSourceError) as bad:
        load_kpi_sources(path, ENV)
    [problem] = [str(p) for p in bad.value.problems]
    assert problem.startswith(f"{path}:5:12: invalid TOML: Invalid value: expected a value here — "
                              "a string in quotes, a number")


def test_a_missing_file_is_one_problem(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.toml")
    with pytest.raises(KpiSourceError) as bad:
        load_kpi_sources(missing, ENV)
    assert str(bad.value) == f"{missing}: cannot read the KPI source file: No such file or directory"
    assert check_kpi_file({"BIZDEVOPS_KPI_SOURCES": missing}) == [str(bad.value)]


def test_check_kpi_file_prints_each_problem_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN)
    lines = check_kpi_file({"BIZDEVOPS_KPI_SOURCES": f" {path} "})
    assert lines == [f"{path}: {p}" for p in BROKEN_PROBLEMS[:-1]] + [MLFLOW_URL_MISSING]
    assert check_kpi_file({}) == []


def test_check_kpi_file_reads_the_urls_and_zone_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, kpi('cron = "0 9 * * *"'))
    env = {"BIZDEVOPS_KPI_SOURCES": path, "BIZDEVOPS_TIMEZONE": "Not/AZone"}
    assert check_kpi_file({**env, **ENV}) == []  # the settings check reports the zone itself
    assert check_kpi_file(env) == [
        f"{path}: connections.warehouse.url_env: WAREHOUSE_URL is not set: it must hold the SQLAlchemy "
        'URL of "warehouse", e.g. postgresql://user:password@host/db or sqlite:///path/to/file.db']
