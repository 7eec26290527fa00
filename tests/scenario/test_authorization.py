"""Who may change what: every state-changing action against every kind of actor.

The table below is the contract. Each row runs on its own copy of the same set-up (a use case
owned by @olga with one team member per role, in its own channel), so an allowed action never
spoils the next row. A refusal must change nothing (no table gains or loses a row, nothing is
posted) and must tell the person who may do it; an allowed action must have its effect.

Actions: /usecase advance, back, owner, team add, team remove, archive; /deploy start, cancel (the
command and the button), lock, unlock, rollback; the Approve and Reject buttons; /metric record,
target; /digest schedule, off.

Actors: the owner; a team member with each role; an outsider; an admin (@alice, the
simulator's admin); and, for deployments, the deployment's requester (@rita, a data engineer on
the team who is neither owner nor admin). Approvals follow the built-in pipeline's default policy:
the owner or an admin, never the requester -- so an owner or admin who requested the
deployment may not approve it either.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.domain.deployment_model import DeploymentState
from bot.simulator.simulator import Simulator, Step
from storage.models import Base
from tests.scenario.deploy_support import deployment_id_of, load, press, private_replies
from tests.scenario.helpers import reply_text

USERS = {
    "owner": "olga", "business": "bea", "data-scientist": "sam", "data-engineer": "eddie",
    "devops": "otto", "outsider": "zed", "admin": "alice", "requester": "rita",
    # approvals only: the owner or the admin asked for the deployment themselves
    "owner (requester)": "olga", "admin (requester)": "alice",
}
TEAM = {"bea": "business", "sam": "data-scientist", "eddie": "data-engineer", "otto": "devops",
        "rita": "data-engineer"}
NEWCOMER = "nina"  # handed over to / added to the team in the allowed rows

PEOPLE = ("owner", "business", "data-scientist", "data-engineer", "devops", "outsider", "admin")
WITH_REQUESTER = (*PEOPLE, "requester")
APPROVERS_TOO = (*WITH_REQUESTER, "owner (requester)", "admin (requester)")

OWNER_OR_ADMIN = {"owner", "admin"}
DEPLOYERS = {"owner", "data-engineer", "devops", "admin", "requester"}  # the requester is a DE
WHOLE_TEAM = {"owner", "business", "data-scientist", "data-engineer", "devops", "admin"}

# A refusal names who may: these must all be in what the person is told.
NAMES_OWNER_OR_ADMIN = ("<@UOLGA>", "admin")
NAMES_DEPLOYERS = ("<@UOLGA>", "data engineers and devops engineers", "<@UEDDIE>", "<@UOTTO>",
                   "<@URITA>", "admin")


@dataclass
class Copy:
    """One row's own world: a use case, its channel, and the deployment the row acts on."""

    slug: str
    channel: str
    deployment: int | None = None


@dataclass(frozen=True)
class Action:
    name: str
    actors: tuple[str, ...]
    allowed: set[str]
    who: tuple[str, ...]
    act: Callable[[Simulator, Copy], Awaitable[tuple[Step, str]]]  # (step, what the actor was told)
    done: Callable[[Simulator, Copy], Awaitable[bool]]             # the action had its effect
    prepare: Callable[[Simulator, Copy, str], Awaitable[None]] | None = None
    extra_refusal_words: tuple[str, ...] = field(default=())
    # Whom an actor's refusal names instead of ``who``: a requester is pointed to the others.
    who_for: dict[str, tuple[str, ...]] = field(default_factory=dict)


# ── set-up and readers ─────────────────────────────────────────────────────────────────────

async def as_user(sim: Simulator, name: str, line: str) -> Step:
    sim.switch_user(name)
    step = await sim.command(line)
    assert step.status == 200, line
    return step


async def command(sim: Simulator, line: str) -> tuple[Step, str]:
    step = await sim.command(line)
    return step, reply_text(step)


async def make_copy(sim: Simulator, index: int) -> Copy:
    copy = Copy(f"uc-{index}", f"room-{index}")
    sim.fake.add_channel(copy.channel)
    sim.switch_channel(copy.channel)
    await as_user(sim, "olga", f'/usecase new {copy.slug} "Use case {index}" channel=#{copy.channel}')
    for member, role in TEAM.items():
        await as_user(sim, "olga", f"/usecase team {copy.slug} add @{member} {role}")
    return copy


async def counts(sim: Simulator) -> dict[str, int]:
    async with sim.app.db.sessions() as session:
        return {t.name: int(await session.scalar(select(func.count()).select_from(t)) or 0)
                for t in Base.metadata.sorted_tables if t.name != "processed_requests"}


def posted(sim: Simulator) -> int:
    """Messages and views the bot made (not private replies through response_url)."""
    return len([c for c in sim.fake.calls if c.method.startswith(("chat.", "views.open"))
                and c.args.get("channel") not in set(sim.fake._state.users)])  # DMs are replies


async def use_case(sim: Simulator, copy: Copy):  # type: ignore[no-untyped-def]
    async with sim.app.db.uow() as uow:
        found = await uow.use_cases.get(copy.slug)
    assert found is not None
    return found


async def history(sim: Simulator, copy: Copy) -> list:  # type: ignore[type-arg]
    async with sim.app.db.uow() as uow:
        return await uow.deployments.history(copy.slug, limit=50)


async def request_deployment(sim: Simulator, copy: Copy, requester: str, version: str = "1.0.0") -> int:
    step = await as_user(sim, requester, f"/deploy {copy.slug} {version}")
    copy.deployment = deployment_id_of(step.reply)
    return copy.deployment


async def approve_as_admin(sim: Simulator, copy: Copy) -> None:
    assert copy.deployment is not None
    sim.switch_user("alice")
    await press(sim, copy.deployment, "deploy_approve")
    assert (await load(sim, copy.deployment)).state is DeploymentState.SUCCEEDED


def requester_of(actor: str) -> str:
    return {"owner (requester)": "olga", "admin (requester)": "alice"}.get(actor, "rita")


# ── the actions ───────────────────────────────────────────────────────────────────────────

def usecase(verb: str, line: str, done: Callable[[Simulator, Copy], Awaitable[bool]],
            prepare: Callable[[Simulator, Copy, str], Awaitable[None]] | None = None) -> Action:
    return Action(f"/usecase {verb}", PEOPLE, OWNER_OR_ADMIN, NAMES_OWNER_OR_ADMIN,
                  lambda sim, c: command(sim, line.format(slug=c.slug)), done, prepare)


async def phase_is(sim: Simulator, copy: Copy, phase: str) -> bool:
    return (await use_case(sim, copy)).phase.value == phase


async def in_dev(sim: Simulator, copy: Copy, _actor: str) -> None:
    await as_user(sim, "olga", f"/usecase advance {copy.slug}")


async def newcomer_in_team(sim: Simulator, copy: Copy) -> bool:
    return any(m.user_id == "UNINA" for m in (await use_case(sim, copy)).team)


async def bea_gone(sim: Simulator, copy: Copy) -> bool:
    return all(m.user_id != "UBEA" for m in (await use_case(sim, copy)).team)


async def owned_by_newcomer(sim: Simulator, copy: Copy) -> bool:
    return (await use_case(sim, copy)).owner_id == "UNINA"


async def deployment_started(sim: Simulator, copy: Copy) -> bool:
    return len(await history(sim, copy)) == 1


async def deployment_in(sim: Simulator, copy: Copy, state: DeploymentState) -> bool:
    assert copy.deployment is not None
    return (await load(sim, copy.deployment)).state is state


async def locked(sim: Simulator, copy: Copy) -> bool:
    async with sim.app.db.uow() as uow:
        return await uow.deployments.lock(copy.slug) is not None


async def unlocked(sim: Simulator, copy: Copy) -> bool:
    return not await locked(sim, copy)


async def lock_it(sim: Simulator, copy: Copy, _actor: str) -> None:
    await as_user(sim, "olga", f'/deploy lock {copy.slug} "release freeze"')


async def deploy_at_gate(sim: Simulator, copy: Copy, actor: str) -> None:
    await request_deployment(sim, copy, requester_of(actor))


async def two_good_versions(sim: Simulator, copy: Copy, _actor: str) -> None:
    for version in ("1.0.0", "1.1.0"):
        await request_deployment(sim, copy, "rita", version)
        await approve_as_admin(sim, copy)


async def rolled_back(sim: Simulator, copy: Copy) -> bool:
    newest = (await history(sim, copy))[0]
    return newest.kind == "rollback" and newest.version == "1.0.0"


async def click(sim: Simulator, copy: Copy, action_id: str) -> tuple[Step, str]:
    assert copy.deployment is not None
    step = await press(sim, copy.deployment, action_id)
    return step, private_replies(step)


async def reject_with_reason(sim: Simulator, copy: Copy) -> tuple[Step, str]:
    opened = len(sim.fake.opened_views)
    step, said = await click(sim, copy, "deploy_reject")
    if len(sim.fake.opened_views) > opened:  # allowed: the dialog asks why
        submitted = await sim.submit("the model drifted")
        return submitted, said + json.dumps([c.args for c in submitted.calls])
    return step, said


async def kpi_recorded(sim: Simulator, copy: Copy) -> bool:
    async with sim.app.db.uow() as uow:
        series = await uow.metrics.series(copy.slug, since=sim.clock.now() - timedelta(days=1))
    return len(series.get("accuracy", [])) == 1


async def target_set(sim: Simulator, copy: Copy) -> bool:
    async with sim.app.db.uow() as uow:
        return "accuracy" in await uow.metrics.targets(copy.slug)


async def scheduled(sim: Simulator, copy: Copy) -> bool:
    async with sim.app.db.uow() as uow:
        return await uow.digests.schedule(sim.fake.channel(copy.channel).id) is not None  # type: ignore[union-attr]


async def not_scheduled(sim: Simulator, copy: Copy) -> bool:
    return not await scheduled(sim, copy)


async def schedule_it(sim: Simulator, copy: Copy, _actor: str) -> None:
    await as_user(sim, "olga", '/digest schedule "0 9 * * mon"')


NAMES_DIGEST = ("<@UOLGA>", "admins")
ACTIONS = [
    usecase("advance", "/usecase advance {slug}", lambda s, c: phase_is(s, c, "dev")),
    usecase("back", '/usecase back {slug} "needs more data"', lambda s, c: phase_is(s, c, "biz"),
            prepare=in_dev),
    usecase("owner", f"/usecase owner {{slug}} @{NEWCOMER}", owned_by_newcomer),
    usecase("team add", f"/usecase team {{slug}} add @{NEWCOMER} business", newcomer_in_team),
    usecase("team remove", "/usecase team {slug} remove @bea", bea_gone),
    usecase("archive", '/usecase archive {slug} "stopped"', lambda s, c: phase_is(s, c, "archived")),
    Action("/deploy start", WITH_REQUESTER, DEPLOYERS, NAMES_DEPLOYERS,
           lambda s, c: command(s, f"/deploy {c.slug} 2.0.0"), deployment_started),
    Action("/deploy cancel", WITH_REQUESTER, DEPLOYERS, NAMES_DEPLOYERS,
           lambda s, c: command(s, f'/deploy cancel {c.deployment} "wrong build"'),
           lambda s, c: deployment_in(s, c, DeploymentState.CANCELLED), prepare=deploy_at_gate),
    Action("Cancel button", WITH_REQUESTER, DEPLOYERS, NAMES_DEPLOYERS,
           lambda s, c: click(s, c, "deploy_cancel"),
           lambda s, c: deployment_in(s, c, DeploymentState.CANCELLED), prepare=deploy_at_gate),
    Action("/deploy lock", WITH_REQUESTER, DEPLOYERS, NAMES_DEPLOYERS,
           lambda s, c: command(s, f'/deploy lock {c.slug} "freeze"'), locked),
    Action("/deploy unlock", WITH_REQUESTER, DEPLOYERS, NAMES_DEPLOYERS,
           lambda s, c: command(s, f"/deploy unlock {c.slug}"), unlocked, prepare=lock_it),
    Action("/deploy rollback", WITH_REQUESTER, DEPLOYERS, NAMES_DEPLOYERS,
           lambda s, c: command(s, f"/deploy rollback {c.slug}"), rolled_back, prepare=two_good_versions),
    Action("Approve button", APPROVERS_TOO, OWNER_OR_ADMIN, NAMES_OWNER_OR_ADMIN,
           lambda s, c: click(s, c, "deploy_approve"),
           lambda s, c: deployment_in(s, c, DeploymentState.SUCCEEDED), prepare=deploy_at_gate,
           # Never "ask yourself": the owner who asked is sent to an admin, the admin to the owner.
           who_for={"owner (requester)": ("ask an admin (<@UALICE>)",),
                    "admin (requester)": ("ask the owner <@UOLGA>",)}),
    Action("Reject button", APPROVERS_TOO, OWNER_OR_ADMIN | {"owner (requester)", "admin (requester)"},
           NAMES_OWNER_OR_ADMIN, reject_with_reason,
           lambda s, c: deployment_in(s, c, DeploymentState.REJECTED), prepare=deploy_at_gate),
    Action("/metric record", PEOPLE, WHOLE_TEAM, ("<@UOLGA>", "the team of", "admin"),
           lambda s, c: command(s, f"/metric record {c.slug} accuracy 0.9"), kpi_recorded),
    Action("/metric target", PEOPLE, OWNER_OR_ADMIN, NAMES_OWNER_OR_ADMIN,
           lambda s, c: command(s, f"/metric target {c.slug} accuracy >= 0.8"), target_set),
    Action("/digest schedule", PEOPLE, OWNER_OR_ADMIN, NAMES_DIGEST,
           lambda s, c: command(s, '/digest schedule "0 9 * * mon-fri"'), scheduled),
    Action("/digest off", PEOPLE, OWNER_OR_ADMIN, NAMES_DIGEST,
           lambda s, c: command(s, "/digest off"), not_scheduled, prepare=schedule_it),
]

# The table, one line per row, as the ids of the test show it.
TABLE = [(a.name, actor, "allowed" if actor in a.allowed else "refused")
         for a in ACTIONS for actor in a.actors]


def test_the_table_covers_every_action_and_actor() -> None:
    assert len({name for name, _, _ in TABLE}) == 18
    assert len(TABLE) == len(set(TABLE))
    assert ("Approve button", "requester", "refused") in TABLE
    assert ("Approve button", "owner (requester)", "refused") in TABLE
    assert ("Approve button", "admin (requester)", "refused") in TABLE
    assert ("/deploy start", "data-scientist", "refused") in TABLE
    assert ("/metric record", "business", "allowed") in TABLE


# ── the test ───────────────────────────────────────────────────────────────────────────────

def refusal(said: str) -> bool:
    """A "you may not" answer: the 🚫 icon and who may (a cancelled deployment has the icon too)."""
    return "🚫" in said and (" may " in said or "cannot approve" in said)


async def run_row(sim: Simulator, action: Action, actor: str, index: int) -> list[str]:
    """One row on a fresh copy; the problems found (empty when the row holds)."""
    copy = await make_copy(sim, index)
    if action.prepare is not None:
        await action.prepare(sim, copy, actor)
    sim.switch_channel(copy.channel)
    sim.switch_user(USERS[actor])
    before, posts_before = await counts(sim), posted(sim)

    step, said = await action.act(sim, copy)

    row = f"{action.name} by {actor} ({USERS[actor]})"
    problems = []
    if step.status != 200:
        problems.append(f"{row}: HTTP {step.status}")
    happened = await action.done(sim, copy)
    if actor in action.allowed:
        if not happened:
            problems.append(f"{row}: should be allowed but had no effect; told {said[:300]!r}")
        if refusal(said):
            problems.append(f"{row}: allowed, but the reply is a refusal: {said[:300]!r}")
        return problems
    if happened:
        problems.append(f"{row}: should be refused but it happened")
    if await counts(sim) != before:
        changed = {k: (before[k], v) for k, v in (await counts(sim)).items() if before.get(k) != v}
        problems.append(f"{row}: refused, yet rows changed: {changed}")
    if posted(sim) != posts_before:
        problems.append(f"{row}: refused, yet something was posted to a channel")
    who = action.who_for.get(actor, action.who)
    missing = [w for w in (*who, *action.extra_refusal_words) if w not in said]
    if missing or not refusal(said):
        problems.append(f"{row}: the refusal must say who may ({missing} missing): {said[:400]!r}")
    if actor in action.who_for and f"<@U{USERS[actor].upper()}>" in said.split("ask", 1)[-1]:
        problems.append(f"{row}: the refusal tells them to ask themselves: {said[:400]!r}")
    return problems


@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
async def test_who_may_do_what(sim: Simulator, action: Action) -> None:
    for name in {*USERS.values(), NEWCOMER}:
        if sim.fake.user(name) is None:
            sim.fake.add_user(name)
    problems: list[str] = []
    for index, actor in enumerate(action.actors):
        problems += await run_row(sim, action, actor, index)
    assert not problems, "\n".join(problems)
