"""The pure use-case lifecycle: phases, owners, team, warnings, history, overdue, validation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import usecases as d
from bot.domain.durations import weeks
from bot.domain.usecases import DomainError, NotAllowed, Phase, Role, TeamMember, UseCase
from bot.render.durations import humanize

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
OWNER, ADMIN, OUTSIDER, MEMBER, NEWBIE = "UOWNER", "UADMIN", "UOUTSIDER", "UMEMBER", "UNEWBIE"


def new(owner_id: str | None = None) -> UseCase:
    return d.create("churn-model", "Predict customer churn", creator_id=OWNER,
                    channel_id="CHOME", now=T0, owner_id=owner_id)


def in_phase(phase: Phase, *, team: tuple[TeamMember, ...] = (), since: datetime = T0) -> UseCase:
    """A use case sitting in ``phase`` since ``since`` (built directly, no history walk)."""
    return replace(new(), phase=phase, phase_since=since, team=team)


# ── create ───────────────────────────────────────────────────────────────────────────────────

def test_create_starts_in_biz_owned_by_creator_with_one_history_entry() -> None:
    uc = d.create("churn-model", "  Predict churn  ", creator_id=OWNER, channel_id="C1",
                  now=T0, domain="  retail ")
    assert (uc.phase, uc.owner_id, uc.created_by, uc.channel_id) == (Phase.BIZ, OWNER, OWNER, "C1")
    assert (uc.title, uc.domain) == ("Predict churn", "retail")
    assert uc.phase_since == uc.created_at == T0
    assert uc.team == () and uc.archived_reason == ""
    assert uc.history == (d.PhaseChange(None, Phase.BIZ, OWNER, T0, "created"),)


def test_create_with_another_owner() -> None:
    uc = new(owner_id=NEWBIE)
    assert uc.owner_id == NEWBIE and uc.created_by == OWNER


@pytest.mark.parametrize(("slug", "title"), [("a", "ok"), ("Bad", "ok"), ("ok-slug", "   ")])
def test_create_validates_slug_and_title(slug: str, title: str) -> None:
    with pytest.raises(DomainError):
        d.create(slug, title, creator_id=OWNER, channel_id="C1", now=T0)


# ── phase transitions ────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(
    ("start", "end"),
    [(Phase.BIZ, Phase.DEV), (Phase.DEV, Phase.OPS), (Phase.OPS, Phase.CONTINUOUS)],
)
def test_advance_moves_one_step(start: Phase, end: Phase) -> None:
    later = T0 + timedelta(days=3)
    t = d.advance(in_phase(start), OWNER, later, is_admin=False, note="  ready  ")
    assert t.use_case.phase is end
    assert t.use_case.phase_since == later
    assert t.change == d.PhaseChange(start, end, OWNER, later, "ready")
    assert t.previous_phase_duration == timedelta(days=3)


@pytest.mark.parametrize(("start", "end"), [(Phase.DEV, Phase.BIZ), (Phase.OPS, Phase.DEV)])
def test_back_is_the_feedback_loop(start: Phase, end: Phase) -> None:
    later = T0 + timedelta(hours=5)
    t = d.back(in_phase(start), OWNER, later, is_admin=False, reason=" KPI unclear ")
    assert t.use_case.phase is end
    assert t.change == d.PhaseChange(start, end, OWNER, later, "KPI unclear")
    assert t.previous_phase_duration == timedelta(hours=5)


@pytest.mark.parametrize("start", [Phase.BIZ, Phase.DEV, Phase.OPS, Phase.CONTINUOUS])
def test_archive_from_any_active_phase(start: Phase) -> None:
    later = T0 + timedelta(days=1)
    t = d.archive(in_phase(start), OWNER, later, is_admin=False, reason=" superseded ")
    assert t.use_case.phase is Phase.ARCHIVED
    assert t.use_case.archived_reason == "superseded"
    assert t.change == d.PhaseChange(start, Phase.ARCHIVED, OWNER, later, "superseded")
    assert t.missing_roles == ()


@pytest.mark.parametrize("start", [Phase.CONTINUOUS, Phase.ARCHIVED])
def test_advance_refused_at_the_end(start: Phase) -> None:
    with pytest.raises(DomainError) as refused:
        d.advance(in_phase(start), OWNER, T0, is_admin=False)
    assert (refused.value.key, refused.value.facts) == (
        "cannot_advance", {"slug": "churn-model", "phase": start})


@pytest.mark.parametrize("start", [Phase.BIZ, Phase.CONTINUOUS, Phase.ARCHIVED])
def test_back_refused_where_there_is_no_loop(start: Phase) -> None:
    with pytest.raises(DomainError) as refused:
        d.back(in_phase(start), OWNER, T0, is_admin=False, reason="why not")
    assert (refused.value.key, refused.value.facts["phase"]) == ("cannot_go_back", start)


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_back_and_archive_need_a_reason(reason: str) -> None:
    with pytest.raises(DomainError) as back:
        d.back(in_phase(Phase.DEV), OWNER, T0, is_admin=False, reason=reason)
    with pytest.raises(DomainError) as archive:
        d.archive(in_phase(Phase.DEV), OWNER, T0, is_admin=False, reason=reason)
    assert (back.value.key, archive.value.key) == ("back_needs_reason", "archive_needs_reason")


def test_archive_twice_refused() -> None:
    archived = d.archive(new(), OWNER, T0, is_admin=False, reason="dropped").use_case
    with pytest.raises(DomainError) as refused:
        d.archive(archived, OWNER, T0, is_admin=False, reason="again")
    assert refused.value.key == "already_archived"


@pytest.mark.parametrize(
    "change",
    [
        lambda uc: d.hand_over(uc, OWNER, NEWBIE, is_admin=False),
        lambda uc: d.add_member(uc, OWNER, TeamMember(NEWBIE, Role.DEVOPS), is_admin=False),
        lambda uc: d.remove_member(uc, OWNER, MEMBER, is_admin=False),
        lambda uc: d.advance(uc, OWNER, T0, is_admin=False),
        lambda uc: d.back(uc, OWNER, T0, is_admin=False, reason="x"),
    ],
    ids=["hand_over", "add_member", "remove_member", "advance", "back"],
)
def test_no_changes_on_an_archived_use_case(change: Callable[[UseCase], object]) -> None:
    uc = in_phase(Phase.ARCHIVED, team=(TeamMember(MEMBER, Role.BUSINESS),))
    with pytest.raises(DomainError) as refused:
        change(uc)
    assert refused.value.key in {"archived_unchangeable", "cannot_advance", "cannot_go_back"}


# ── who may ──────────────────────────────────────────────────────────────────────────────────

ACTIONS = {
    "advance": lambda uc, who, admin: d.advance(uc, who, T0, is_admin=admin),
    "back": lambda uc, who, admin: d.back(uc, who, T0, is_admin=admin, reason="r"),
    "archive": lambda uc, who, admin: d.archive(uc, who, T0, is_admin=admin, reason="r"),
    "hand_over": lambda uc, who, admin: d.hand_over(uc, who, NEWBIE, is_admin=admin),
    "change_team": lambda uc, who, admin: d.add_member(
        uc, who, TeamMember(NEWBIE, Role.DEVOPS), is_admin=admin),
}
TEAM = (TeamMember(MEMBER, Role.DATA_SCIENTIST),)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(("actor", "admin"), [(OWNER, False), (ADMIN, True), (OWNER, True)])
def test_owner_and_admin_may(action: str, actor: str, admin: bool) -> None:
    ACTIONS[action](in_phase(Phase.DEV, team=TEAM), actor, admin)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("actor", [OUTSIDER, MEMBER], ids=["outsider", "team-member"])
def test_others_are_refused_with_the_owner_named(action: str, actor: str) -> None:
    uc = in_phase(Phase.DEV, team=TEAM)
    with pytest.raises(NotAllowed) as refused:
        ACTIONS[action](uc, actor, False)
    assert (refused.value.key, refused.value.facts) == (
        "not_owner", {"owner": OWNER, "change": action, "slug": uc.slug})
    assert refused.value.admins_may


def test_remove_member_needs_owner_or_admin() -> None:
    uc = in_phase(Phase.DEV, team=TEAM)
    with pytest.raises(NotAllowed) as refused:
        d.remove_member(uc, MEMBER, MEMBER, is_admin=False)
    assert refused.value.facts["owner"] == OWNER
    assert d.remove_member(uc, ADMIN, MEMBER, is_admin=True).team == ()


def test_not_allowed_is_a_domain_error() -> None:
    assert issubclass(NotAllowed, DomainError)


# ── hand-over ────────────────────────────────────────────────────────────────────────────────

def test_hand_over_leaves_exactly_one_owner() -> None:
    uc = d.hand_over(new(), OWNER, NEWBIE, is_admin=False)
    assert uc.owner_id == NEWBIE
    # the previous owner lost the rights, the new one has them
    with pytest.raises(NotAllowed) as refused:
        d.advance(uc, OWNER, T0, is_admin=False)
    assert refused.value.facts["owner"] == NEWBIE
    assert d.advance(uc, NEWBIE, T0, is_admin=False).use_case.phase is Phase.DEV
    assert uc.history == new().history  # ownership is not a phase change


def test_hand_over_to_the_same_owner_refused() -> None:
    with pytest.raises(DomainError) as refused:
        d.hand_over(new(), ADMIN, OWNER, is_admin=True)
    assert (refused.value.key, refused.value.facts) == (
        "already_owner", {"user": OWNER, "slug": "churn-model"})


# ── team ─────────────────────────────────────────────────────────────────────────────────────

def test_add_members_and_look_up_roles() -> None:
    uc = d.add_member(new(), OWNER, TeamMember("U1", Role.BUSINESS), is_admin=False)
    uc = d.add_member(uc, OWNER, TeamMember("U2", Role.DATA_ENGINEER), is_admin=False)
    assert uc.team == (TeamMember("U1", Role.BUSINESS), TeamMember("U2", Role.DATA_ENGINEER))
    assert (uc.role_of("U1"), uc.role_of("U2"), uc.role_of("U3")) == (
        Role.BUSINESS, Role.DATA_ENGINEER, None)


def test_re_adding_with_another_role_replaces() -> None:
    uc = d.add_member(new(), OWNER, TeamMember("U1", Role.BUSINESS), is_admin=False)
    uc = d.add_member(uc, OWNER, TeamMember("U1", Role.DEVOPS), is_admin=False)
    assert uc.team == (TeamMember("U1", Role.DEVOPS),)


def test_adding_the_same_member_twice_refused() -> None:
    uc = d.add_member(new(), OWNER, TeamMember("U1", Role.BUSINESS), is_admin=False)
    with pytest.raises(DomainError) as refused:
        d.add_member(uc, OWNER, TeamMember("U1", Role.BUSINESS), is_admin=False)
    assert (refused.value.key, refused.value.facts) == (
        "already_member", {"user": "U1", "slug": "churn-model", "role": Role.BUSINESS})


def test_remove_member() -> None:
    uc = d.add_member(new(), OWNER, TeamMember("U1", Role.BUSINESS), is_admin=False)
    uc = d.add_member(uc, OWNER, TeamMember("U2", Role.DEVOPS), is_admin=False)
    assert d.remove_member(uc, OWNER, "U1", is_admin=False).team == (TeamMember("U2", Role.DEVOPS),)


def test_removing_a_non_member_refused() -> None:
    with pytest.raises(DomainError) as refused:
        d.remove_member(new(), OWNER, "U9", is_admin=False)
    assert (refused.value.key, refused.value.facts) == (
        "not_member", {"user": "U9", "slug": "churn-model"})


# ── missing-role warnings ────────────────────────────────────────────────────────────────────

def team_of(*roles: Role) -> tuple[TeamMember, ...]:
    return tuple(TeamMember(f"U{i}", role) for i, role in enumerate(roles))


@pytest.mark.parametrize(
    ("start", "team", "warned"),
    [
        (Phase.BIZ, (), True),
        (Phase.BIZ, team_of(Role.BUSINESS), True),
        (Phase.BIZ, team_of(Role.DEVOPS), True),
        (Phase.BIZ, team_of(Role.DATA_SCIENTIST), False),
        (Phase.BIZ, team_of(Role.DATA_ENGINEER), False),
        (Phase.DEV, (), True),
        (Phase.DEV, team_of(Role.DATA_SCIENTIST, Role.BUSINESS), True),
        (Phase.DEV, team_of(Role.DATA_ENGINEER), False),
        (Phase.DEV, team_of(Role.DEVOPS), False),
        (Phase.OPS, (), False),  # entering Continuous needs nobody
    ],
)
def test_warning_on_entering_a_phase_without_the_needed_roles(
    start: Phase, team: tuple[TeamMember, ...], warned: bool
) -> None:
    t = d.advance(in_phase(start, team=team), OWNER, T0, is_admin=False)
    assert t.missing_roles == (d.NEEDED_ROLES[t.use_case.phase] if warned else ())


def test_going_back_into_dev_warns_too() -> None:
    t = d.back(in_phase(Phase.OPS, team=team_of(Role.DEVOPS)), OWNER, T0, is_admin=False,
               reason="drift")
    assert t.missing_roles == d.missing_roles(t.use_case) == (Role.DATA_SCIENTIST,
                                                              Role.DATA_ENGINEER)


@pytest.mark.parametrize("phase", [Phase.BIZ, Phase.CONTINUOUS, Phase.ARCHIVED])
def test_no_warnings_outside_dev_and_ops(phase: Phase) -> None:
    assert d.missing_roles(in_phase(phase)) == ()


# ── history ──────────────────────────────────────────────────────────────────────────────────

def test_history_grows_with_every_phase_change() -> None:
    steps = [
        ("advance", OWNER, "kick-off", Phase.BIZ, Phase.DEV),
        ("back", ADMIN, "KPI unclear", Phase.DEV, Phase.BIZ),
        ("advance", OWNER, "", Phase.BIZ, Phase.DEV),
        ("advance", OWNER, "model ok", Phase.DEV, Phase.OPS),
        ("archive", ADMIN, "replaced", Phase.OPS, Phase.ARCHIVED),
    ]
    uc = new()
    for i, (verb, actor, note, start, end) in enumerate(steps, start=1):
        at = T0 + timedelta(days=i)
        admin = actor == ADMIN
        if verb == "advance":
            t = d.advance(uc, actor, at, is_admin=admin, note=note)
        elif verb == "back":
            t = d.back(uc, actor, at, is_admin=admin, reason=note)
        else:
            t = d.archive(uc, actor, at, is_admin=admin, reason=note)
        assert t.previous_phase_duration == timedelta(days=1)
        assert len(t.use_case.history) == len(uc.history) + 1
        assert t.use_case.history[:-1] == uc.history
        assert t.use_case.history[-1] == t.change == d.PhaseChange(start, end, actor, at, note)
        uc = t.use_case
    assert [c.to_phase for c in uc.history] == [
        Phase.BIZ, Phase.DEV, Phase.BIZ, Phase.DEV, Phase.OPS, Phase.ARCHIVED]


def test_refused_changes_leave_the_state_alone() -> None:
    uc = new()
    with pytest.raises(NotAllowed):
        d.advance(uc, OUTSIDER, T0, is_admin=False)
    assert uc.phase is Phase.BIZ and len(uc.history) == 1


def test_previous_phase_duration_and_time_in_phase() -> None:
    uc = new()
    t1 = d.advance(uc, OWNER, T0 + timedelta(weeks=2, days=3), is_admin=False)
    assert t1.previous_phase_duration == timedelta(weeks=2, days=3)
    t2 = d.back(t1.use_case, OWNER, T0 + timedelta(weeks=2, days=3, hours=4), is_admin=False,
                reason="r")
    assert t2.previous_phase_duration == timedelta(hours=4)
    assert t2.use_case.time_in_phase(T0 + timedelta(weeks=3)) == timedelta(days=3, hours=20)


# ── overdue ──────────────────────────────────────────────────────────────────────────────────

SIX_WEEKS = timedelta(weeks=6)
ONE_SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("elapsed", "overdue"),
    [(timedelta(0), False), (SIX_WEEKS - ONE_SECOND, False), (SIX_WEEKS, False),
     (SIX_WEEKS + ONE_SECOND, True), (timedelta(weeks=52), True)],
)
def test_overdue_with_the_default_six_week_timebox(elapsed: timedelta, overdue: bool) -> None:
    assert d.DEFAULT_DEV_TIMEBOX == SIX_WEEKS
    assert in_phase(Phase.DEV).is_overdue(T0 + elapsed) is overdue


@pytest.mark.parametrize(
    ("elapsed", "overdue"),
    [(timedelta(weeks=3), False), (timedelta(weeks=3, seconds=1), True)],
)
def test_overdue_with_a_custom_timebox(elapsed: timedelta, overdue: bool) -> None:
    assert in_phase(Phase.DEV).is_overdue(T0 + elapsed, timedelta(weeks=3)) is overdue


@pytest.mark.parametrize("phase", [Phase.BIZ, Phase.OPS, Phase.CONTINUOUS, Phase.ARCHIVED])
def test_only_dev_can_be_overdue(phase: Phase) -> None:
    assert not in_phase(phase).is_overdue(T0 + timedelta(weeks=100))
    assert not in_phase(phase).is_overdue(T0 + timedelta(weeks=100), timedelta(weeks=1))


def test_overdue_counts_from_entering_dev() -> None:
    dev = d.advance(new(), OWNER, T0 + timedelta(weeks=10), is_admin=False).use_case
    assert not dev.is_overdue(T0 + timedelta(weeks=16))
    assert dev.is_overdue(T0 + timedelta(weeks=16, seconds=1))


# ── validation ───────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("slug", ["ab", "churn-model-2", "0x", "a-", "a" * 40, "a" + "-" * 39])
def test_valid_slugs(slug: str) -> None:
    assert d.validate_slug(slug) == slug


@pytest.mark.parametrize(
    "slug", ["", "a", "-x", "Bad", "a" * 41, "a_b", "a b", "ab\n", "ab.c", "äb", "churn/model"]
)
def test_invalid_slugs(slug: str) -> None:
    with pytest.raises(DomainError) as refused:
        d.validate_slug(slug)
    assert (refused.value.key, refused.value.facts) == ("invalid_slug", {"slug": slug})


@pytest.mark.parametrize(
    ("title", "expected"),
    [("x", "x"), ("x" * 200, "x" * 200), ("  Predict churn \n", "Predict churn"),
     ("é" * 200, "é" * 200), (" " + "y" * 200 + " ", "y" * 200)],
)
def test_valid_titles(title: str, expected: str) -> None:
    assert d.validate_title(title) == expected


def test_201_character_title_refused() -> None:
    with pytest.raises(DomainError) as refused:
        d.validate_title("x" * 201)
    assert (refused.value.key, refused.value.facts) == ("title_too_long", {"length": 201, "limit": 200})


@pytest.mark.parametrize("title", ["", " ", "\t\n "])
def test_empty_title_refused(title: str) -> None:
    with pytest.raises(DomainError) as refused:
        d.validate_title(title)
    assert refused.value.key == "title_required"


def test_phase_labels() -> None:
    assert [p.label for p in Phase] == ["Biz", "Dev", "Ops", "Continuous", "Archived"]


# ── durations ────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "less than a second"),
        (timedelta(milliseconds=999), "less than a second"),
        (timedelta(seconds=-5), "less than a second"),
        (timedelta(seconds=1), "1 second"),
        (timedelta(seconds=59), "59 seconds"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(minutes=5, seconds=1), "5 minutes 1 second"),
        (timedelta(hours=2, minutes=30, seconds=10), "2 hours 30 minutes"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=1, hours=1, minutes=1), "1 day 1 hour"),
        (timedelta(weeks=2, days=3), "2 weeks 3 days"),
        (timedelta(weeks=6), "6 weeks"),
        (timedelta(weeks=1, hours=3), "1 week"),  # stops at the first gap
        (timedelta(weeks=104), "104 weeks"),
    ],
)
def test_humanize(delta: timedelta, text: str) -> None:
    assert humanize(delta) == text


@pytest.mark.parametrize(
    ("delta", "parts", "text"),
    [
        (timedelta(days=1, hours=1, minutes=1), 1, "1 day"),
        (timedelta(days=1, hours=1, minutes=1), 3, "1 day 1 hour 1 minute"),
        (timedelta(days=1, hours=1, minutes=1, seconds=1), 5, "1 day 1 hour 1 minute 1 second"),
    ],
)
def test_humanize_parts(delta: timedelta, parts: int, text: str) -> None:
    assert humanize(delta, parts=parts) == text


def test_weeks() -> None:
    assert weeks(timedelta(weeks=6)) == 6.0
    assert weeks(timedelta(days=3, hours=12)) == 0.5


@pytest.mark.parametrize(("title", "slug"), [
    ("Predict Customer Churn (EU)", "predict-customer-churn-eu"),
    ("  Fraud — card-not-present  ", "fraud-card-not-present"),
    ("A" * 60, "a" * 40),
    ("Forecast demand for every store in every region of the world",
     "forecast-demand-for-every-store-in-every"),
    ("¿¡!", ""),
])
def test_a_slug_is_suggested_from_the_title(title: str, slug: str) -> None:
    assert d.slug_from(title) == slug


@pytest.mark.parametrize(("start", "forward", "to"), [
    (Phase.BIZ, True, Phase.DEV), (Phase.OPS, True, Phase.CONTINUOUS),
    (Phase.DEV, False, Phase.BIZ), (Phase.OPS, False, Phase.DEV),
])
def test_next_phase_is_where_a_card_button_would_move_it(start: Phase, forward: bool,
                                                         to: Phase) -> None:
    assert d.next_phase(in_phase(start), OWNER, forward=forward, is_admin=False) is to


def test_next_phase_refuses_as_the_move_would() -> None:
    with pytest.raises(NotAllowed):
        d.next_phase(in_phase(Phase.DEV), OUTSIDER, forward=True, is_admin=False)
    with pytest.raises(DomainError) as refused:
        d.next_phase(in_phase(Phase.BIZ), OWNER, forward=False, is_admin=False)
    assert refused.value.key == "cannot_go_back"
