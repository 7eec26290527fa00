"""What runs where: the placement a deployment keeps, moved by its runs (bot.domain.production)
and by the state machine (a wave's run passed, failed or was stopped), and its words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain import deployment_machine as machine
from bot.domain.deployment_machine import StepResult, record_result
from bot.domain.executor_specs import CommandSpec, DryRunSpec, MlflowSpec
from bot.domain.gates import approve
from bot.domain.pipeline import (
    ApprovalSpec,
    ExecutorSpec,
    OnFailure,
    Pipeline,
    StageSpec,
    production_index,
)
from bot.domain.production import (
    EVERYWHERE,
    NOTHING,
    UNKNOWN,
    Production,
    Running,
    deployed,
    extend,
    move,
    settled,
    total,
    unsettled,
)
from bot.render.production_words import placement_words, production_line

NOW = datetime(2026, 5, 4, 9, tzinfo=UTC)
CMD = CommandSpec(argv=("./deploy",))
TARGETS = ("a", "b", "c", "d")


def placement_of(groups: list[tuple[str, tuple[str, ...]]]) -> tuple[Running, ...]:
    return tuple(Running(v, t, NOW) for v, t in groups)


def versions(placement: tuple[Running, ...]) -> dict[str, str]:
    return {t: g.version for g in placement for t in g.targets}


# ── placements ─────────────────────────────────────────────────────────────────────────────

def test_a_first_deployment_starts_from_nothing_on_each_target() -> None:
    assert versions(extend((), TARGETS)) == dict.fromkeys(TARGETS, NOTHING)
    assert extend((), (EVERYWHERE,)) == (Running(NOTHING, (EVERYWHERE,)),)
    assert not deployed(extend((), TARGETS))


def test_production_as_one_place_gets_names_when_a_deployment_names_targets() -> None:
    one_place = (Running("1.0", (EVERYWHERE,), NOW, 1),)
    assert versions(extend(one_place, TARGETS)) == dict.fromkeys(TARGETS, "1.0")
    # new names run nothing yet; old names keep what they ran
    grown = extend((Running("1.0", ("a", "b"), NOW),), TARGETS)
    assert versions(grown) == {"a": "1.0", "b": "1.0", "c": NOTHING, "d": NOTHING}


def test_moving_targets_keeps_one_group_per_version_and_the_newest_first() -> None:
    start = placement_of([("1.0", TARGETS)])
    half = move(start, ("a", "b"), "2.0", NOW + timedelta(minutes=1), 7)
    assert [(g.version, g.targets) for g in half] == [("2.0", ("a", "b")), ("1.0", ("c", "d"))]
    assert half[0].deployment_id == 7 and half[0].since == NOW + timedelta(minutes=1)
    back = move(half, ("a",), "1.0", NOW + timedelta(minutes=2), 8)
    assert versions(back) == {"a": "1.0", "b": "2.0", "c": "1.0", "d": "1.0"}
    assert [g.version for g in back] == ["1.0", "2.0"]  # one group per version
    everything = move(back, (EVERYWHERE,), "3.0", NOW, 9)
    assert versions(everything) == dict.fromkeys(TARGETS, "3.0") and settled(everything)


@given(st.lists(st.tuples(st.sets(st.sampled_from(TARGETS), min_size=1),
                          st.sampled_from(["1.0", "2.0", UNKNOWN])), max_size=12))
def test_every_target_is_in_exactly_one_group_whatever_moves(
        moves: list[tuple[set[str], str]]) -> None:
    placement = extend((), TARGETS)
    truth = dict.fromkeys(TARGETS, NOTHING)
    for targets, version in moves:
        ordered = tuple(t for t in TARGETS if t in targets)
        placement = move(placement, ordered, version, NOW, 1)
        truth.update(dict.fromkeys(ordered, version))
    assert versions(placement) == truth
    assert total(placement) == len(TARGETS)
    assert len({g.version for g in placement}) == len(placement)


def test_settled_unsettled_and_needs_attention() -> None:
    mixed = placement_of([("2.0", ("a",)), ("1.0", ("b",))])
    assert unsettled(mixed) and not settled(mixed)
    assert unsettled(placement_of([(UNKNOWN, ("a", "b"))]))
    assert not unsettled(extend((), TARGETS))  # never deployed: nothing to look at
    assert Production(mixed, 3).needs_attention
    assert not Production(mixed, 3, rolling=True).needs_attention  # a rollout under way


# ── the state machine keeps it ─────────────────────────────────────────────────────────────

def rollout(on_failure: OnFailure = OnFailure.HALT, health: bool = True,
            run: ExecutorSpec = CMD) -> Pipeline:
    prod = StageSpec("prod", run, waves=("1", "50%", "100%"), targets=TARGETS,
                     health=CMD if health else None, on_failure=on_failure)
    return Pipeline("p", (StageSpec("build", CMD), prod))


def begin(pipeline: Pipeline, baseline: tuple[Running, ...] = ()) -> machine.Transition:
    return machine.request(use_case="churn", version="2.0", pipeline=pipeline, requested_by="U1",
                           channel_id="C1", now=NOW, baseline=baseline)


def step(t: machine.Transition, ok: bool = True) -> machine.Transition:
    d = t.deployment
    index = d.current
    assert index is not None
    s = d.stages[index].step
    assert s is not None
    launched = machine.launch(d, index, max(NOW, s.due_at))
    return record_result(launched, index, s.kind, s.wave, StepResult(ok, "x"), max(NOW, s.due_at))


def test_a_wave_counts_once_its_run_passed_whatever_its_health_check_says() -> None:
    t = begin(rollout(), placement_of([("1.0", TARGETS)]))
    t = step(step(t))  # build; wave 1 ran (a)
    assert versions(t.deployment.production) == {"a": "2.0", "b": "1.0", "c": "1.0", "d": "1.0"}
    t = step(step(t))  # wave 1's health check; wave 2 ran (b)
    t = step(t, ok=False)  # wave 2's health check fails: b runs 2.0 all the same
    d = t.deployment
    assert versions(d.production) == {"a": "2.0", "b": "2.0", "c": "1.0", "d": "1.0"}
    assert placement_words(d.production) == "`2.0` on 2 of 4 targets, `1.0` on 2"
    assert placement_words(d.production, name_targets=True) == \
        "`2.0` on 2 of 4 targets (a, b), `1.0` on 2 (c, d)"


def test_a_run_that_fails_leaves_its_targets_unknown_unless_all_or_nothing() -> None:
    t = step(step(step(begin(rollout(health=False), placement_of([("1.0", TARGETS)])))), ok=False)
    assert versions(t.deployment.production) == {"a": "2.0", "b": UNKNOWN, "c": "1.0", "d": "1.0"}
    alias = MlflowSpec(alias="champion")
    model = Pipeline("m", (StageSpec("champion", alias),))
    t = step(begin(model, (Running("6", (EVERYWHERE,), NOW),)), ok=False)
    assert versions(t.deployment.production) == {EVERYWHERE: "6"}  # the alias never moved


def test_a_cancel_mid_run_leaves_that_wave_unknown_and_the_rest_as_it_was() -> None:
    t = step(step(begin(rollout(health=False), placement_of([("1.0", TARGETS)]))))  # build, a
    d = t.deployment
    index = d.current
    assert index is not None and d.stages[index].step is not None
    running = machine.launch(d, index, NOW)  # wave 2 (b) runs...
    cancelled = machine.cancel(running, "U2", "", NOW).deployment  # ...and is stopped
    assert versions(cancelled.production) == {"a": "2.0", "b": UNKNOWN, "c": "1.0", "d": "1.0"}


def test_dry_runs_keep_no_placement_and_production_is_the_alias_stage() -> None:
    dry = Pipeline("d", (StageSpec("deploy", DryRunSpec()),))
    assert begin(dry).deployment.production == ()
    alias = MlflowSpec(alias="x")
    stages = (StageSpec("challenger", alias), StageSpec("champion", alias), StageSpec("smoke", CMD))
    assert production_index(stages) == 1


def test_a_gate_before_production_leaves_production_alone_until_it_runs() -> None:
    gated = Pipeline("g", (StageSpec("prod", CMD, approval=ApprovalSpec()),))
    t = begin(gated, placement_of([("1.0", ("a",))]))
    assert versions(t.deployment.production) == {"a": "1.0"}
    t = approve(t.deployment, 0, "U9", NOW, eligible=True, approvers=None)
    # A stage that names no targets deploys to all of production: every known target.
    assert versions(step(t).deployment.production) == {"a": "2.0"}


# ── words ──────────────────────────────────────────────────────────────────────────────────

def test_production_lines() -> None:
    assert production_line(None, "UTC") == "never deployed"
    assert production_line(Production(extend((), TARGETS), 1), "UTC") == "never deployed"
    everywhere = Production((Running("1.4", TARGETS, NOW, 3),), 3)
    assert production_line(everywhere, "UTC") == \
        "`1.4` on all 4 targets since 2026-05-04 09:00 UTC (deployment 3)"
    one_place = Production((Running("v7", (EVERYWHERE,), NOW, 2),), 2)
    assert production_line(one_place, "UTC") == "`v7` since 2026-05-04 09:00 UTC (deployment 2)"
    mixed = Production(placement_of([(UNKNOWN, ("a",)), ("1.0", ("b", "c", "d"))]), 5)
    assert production_line(mixed, "UTC") == \
        "unknown on 1 of 4 targets, `1.0` on 3 · ⚠️ needs attention"
    rolling = Production(mixed.placement, 5, rolling=True)
    assert production_line(rolling, "UTC").endswith("· rollout under way")


def test_at_most_ten_targets_are_named_per_version() -> None:
    many = tuple(f"web-{i}" for i in range(1, 31))
    words = placement_words((Running("2.0", many[:25], NOW), Running("1.0", many[25:], NOW)),
                            name_targets=True)
    assert "web-10 and 15 more)" in words and "web-11," not in words
    assert words.startswith("`2.0` on 25 of 30 targets (web-1, web-2,")


def test_a_rehearsed_production_stage_carries_what_runs_on_unchanged() -> None:
    rehearsal = Pipeline("r", (StageSpec("build", CMD),
                               StageSpec("deploy", DryRunSpec())))
    before = placement_of([("1.0", TARGETS)])
    t = step(step(begin(rehearsal, before)))  # build ran for real; deploy only pretended
    assert t.deployment.state.value == "succeeded" and t.deployment.production == before
