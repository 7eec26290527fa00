"""Production waves: cumulative shares of the targets, every target exactly once, in order.

hypothesis is not installed in the venv, so the properties are checked over an exhaustive table
of target counts instead.
"""

from __future__ import annotations

import pytest

from bot.domain.waves import plan_waves, target_names, wave_size
from bot.render.deploy_words import progress_bar

SERIAL = ("1", "10%", "50%", "100%")  # Ansible's serial: [1, "10%", "50%", "100%"]


def names(n: int) -> tuple[str, ...]:
    return tuple(f"host-{i:04d}" for i in range(n))


def sizes(waves: list[tuple[str, ...]]) -> list[int]:
    return [len(w) for w in waves]


def assert_partition(waves: list[tuple[str, ...]], targets: tuple[str, ...]) -> None:
    """No target twice, none left out, order kept, no empty wave."""
    flat = [t for w in waves for t in w]
    assert flat == list(targets)
    assert len(set(flat)) == len(flat)
    assert all(waves), f"an empty wave in {waves}"


# ── the standard plan ────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(
    ("total", "expected"),
    [
        (7, [1, 3, 3]),             # 10% of 7 rounds up to 1: nothing new, so that wave is dropped
        (120, [1, 11, 48, 60]),
        (1000, [1, 99, 400, 500]),
    ],
)
def test_standard_plan_sizes_and_coverage(total: int, expected: list[int]) -> None:
    targets = names(total)
    waves = plan_waves(SERIAL, targets)
    assert sizes(waves) == expected
    assert_partition(waves, targets)


def test_standard_plan_over_120_is_cumulative() -> None:
    targets = names(120)
    waves = plan_waves(SERIAL, targets)
    reach = [sum(sizes(waves[: i + 1])) for i in range(len(waves))]
    assert reach == [1, 12, 60, 120]
    assert waves[0] == ("host-0000",)
    assert waves[1] == targets[1:12]
    assert waves[-1] == targets[60:]


@pytest.mark.parametrize(
    "steps",
    [
        SERIAL,
        ("1", "100%"),
        ("25%", "50%", "75%", "100%"),
        ("2", "2", "5"),
        ("1", "10%"),
        ("33%", "66%"),
        ("100%",),
        ("5",),
        (),
    ],
    ids=lambda s: "/".join(s) or "empty",
)
def test_every_plan_partitions_every_total(steps: tuple[str, ...]) -> None:
    for total in range(0, 260):
        targets = names(total)
        waves = plan_waves(steps, targets)
        assert_partition(waves, targets)
        if total:
            assert waves, f"{total} targets but no wave"


# ── edges ────────────────────────────────────────────────────────────────────────────────────

def test_plan_not_ending_at_100_percent_still_covers_all() -> None:
    targets = names(120)
    waves = plan_waves(("1", "10%"), targets)
    assert sizes(waves) == [1, 11, 108]
    assert_partition(waves, targets)


def test_plan_of_counts_short_of_the_total_gets_a_last_wave() -> None:
    waves = plan_waves(("1", "3"), names(10))
    assert sizes(waves) == [1, 2, 7]


def test_waves_that_add_nothing_are_skipped() -> None:
    # "1" twice, then 10% of 5 rounds up to 1: neither adds a target.
    assert sizes(plan_waves(("1", "1", "10%", "100%"), names(5))) == [1, 4]
    # A share below what is already done adds nothing either.
    assert sizes(plan_waves(("50%", "10%", "100%"), names(10))) == [5, 5]
    # Anything after 100% adds nothing.
    assert sizes(plan_waves(("100%", "1", "50%"), names(10))) == [10]


def test_counts_bigger_than_the_total_are_capped() -> None:
    assert wave_size("200", 3) == 3
    assert sizes(plan_waves(("5", "200"), names(3))) == [3]
    assert sizes(plan_waves(("1", "50"), names(4))) == [1, 3]


def test_no_targets_no_waves() -> None:
    assert plan_waves(SERIAL, ()) == []
    assert plan_waves((), ()) == []


def test_no_steps_is_one_wave_of_everything() -> None:
    assert plan_waves((), names(5)) == [names(5)]


def test_a_single_target() -> None:
    assert plan_waves(SERIAL, ("only",)) == [("only",)]


@pytest.mark.parametrize(
    ("step", "total", "reach"),
    [
        ("1", 120, 1),
        ("10%", 120, 12),
        ("10%", 7, 1),       # a share rounds up, and never to 0
        ("1%", 1000, 10),
        ("1%", 5, 1),
        ("50%", 7, 4),
        ("30%", 11, 4),      # 3.3 rounds up
        ("10%", 25, 3),      # 2.5 rounds up, not to even
        ("100%", 7, 7),
        ("100%", 0, 0),
        ("1", 0, 0),
        ("12", 120, 12),
    ],
)
def test_wave_size(step: str, total: int, reach: int) -> None:
    assert wave_size(step, total) == reach


@pytest.mark.parametrize("step", ["0", "-1", "0%", "-5%", "150%", "100.5%", "abc", "%", "1.5", ""])
def test_invalid_steps_raise_value_error(step: str) -> None:
    with pytest.raises(ValueError):
        wave_size(step, 10)
    with pytest.raises(ValueError):
        plan_waves(("1", step), names(10))


# ── target names ─────────────────────────────────────────────────────────────────────────────

def test_a_count_becomes_numbered_names() -> None:
    assert target_names(3) == ("1", "2", "3")
    assert target_names(0) == ()


def test_a_list_of_names_is_kept() -> None:
    hosts = ("web-b", "web-a", "db-1")
    assert target_names(hosts) == hosts
    assert target_names(list(hosts)) == hosts
    waves = plan_waves(("1", "100%"), target_names(hosts))
    assert waves == [("web-b",), ("web-a", "db-1")]


# ── progress bar ─────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(
    ("done", "total", "expected"),
    [
        (72, 120, "▰▰▰▰▰▰▱▱▱▱ 60% · 72/120 targets"),
        (0, 0, "▱▱▱▱▱▱▱▱▱▱ 0% · 0/0 targets"),
        (120, 120, "▰▰▰▰▰▰▰▰▰▰ 100% · 120/120 targets"),
        (0, 120, "▱▱▱▱▱▱▱▱▱▱ 0% · 0/120 targets"),
        (12, 120, "▰▱▱▱▱▱▱▱▱▱ 10% · 12/120 targets"),
        (2, 4, "▰▰▰▰▰▱▱▱▱▱ 50% · 2/4 targets"),
    ],
)
def test_progress_bar(done: int, total: int, expected: str) -> None:
    assert progress_bar(done, total) == expected


def test_progress_bar_width() -> None:
    assert progress_bar(1, 4, width=4) == "▰▱▱▱ 25% · 1/4 targets"
    bar = progress_bar(3, 7, width=20)
    assert len(bar.split(" ")[0]) == 20
