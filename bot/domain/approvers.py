"""Who may decide an approval gate, as facts: the people and groups a pipeline names, or (when it
names none) the use case's owner and the admins. Pure: services ask Slack who is in a group,
renderers say it in words.

A requester never counts for their own deployment unless the gate allows it, so "who may
approve" always means *who else*: nobody is ever told to ask themselves, and a gate that no one
else could pass is found before the deployment starts (:func:`dead_end`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain.pipeline import ApprovalSpec, StageSpec

Members = Mapping[str, frozenset[str]]  # user group (S… or @handle) -> its members' user IDs


@dataclass(frozen=True)
class Approvers:
    """The people who may decide one gate; for the default gate, the owner and the admins."""

    owner: str | None = None            # the use case's owner, when the gate names nobody
    admins: tuple[str, ...] = ()        # the admins, when the gate names nobody
    users: tuple[str, ...] = ()         # user IDs the pipeline names
    groups: tuple[str, ...] = ()        # user groups the pipeline names (S… or @handle)
    by_default: bool = False            # owner and admins (the pipeline names nobody)
    excluded: str | None = None         # the requester, left out (no self-approval)

    def includes(self, user_id: str, in_groups: frozenset[str] = frozenset()) -> bool:
        """Whether ``user_id`` (a member of ``in_groups``) may decide; the excluded never may."""
        if user_id == self.excluded:
            return False
        return (user_id == self.owner or user_id in self.admins or user_id in self.users
                or bool(in_groups & set(self.groups)))

    def people(self, members: Members) -> tuple[str, ...]:
        """Everyone they are, in order (owner, admins, named users, then group members)."""
        found = [self.owner] if self.owner else []
        found += [*self.admins, *self.users]
        for group in self.groups:
            found += sorted(members.get(group, frozenset()))
        seen: dict[str, None] = {}
        for user in found:
            if user != self.excluded:
                seen.setdefault(user)
        return tuple(seen)

    @property
    def nobody(self) -> bool:
        """No one at all (groups may still have members: Slack knows)."""
        return not (self.owner or self.admins or self.users or self.groups)


def of_gate(policy: ApprovalSpec, owner_id: str, admins: frozenset[str],
            requester: str | None = None) -> Approvers:
    """Who may decide ``policy``'s gate of a deployment ``requester`` asked for (None: anyone's)."""
    excluded = None if policy.allow_self else requester
    if not policy.approvers:
        return Approvers(owner=None if owner_id == excluded else owner_id,
                         admins=tuple(a for a in sorted(admins) if a != excluded),
                         by_default=True, excluded=excluded)
    return Approvers(users=tuple(a for a in policy.approvers if a[0] in "UW" and a != excluded),
                     groups=tuple(a for a in policy.approvers if a[0] not in "UW"),
                     excluded=excluded)


def groups_named(stages: Sequence[StageSpec]) -> tuple[str, ...]:
    """The user groups the gates of ``stages`` name: their members must be asked of Slack."""
    return tuple(dict.fromkeys(a for s in stages if s.approval for a in s.approval.approvers
                               if a[0] not in "UW"))


@dataclass(frozen=True)
class DeadEnd:
    """A gate that no one but the requester could pass: starting would wait for nobody."""

    stage: str
    required: int
    others: tuple[str, ...]      # who else could approve (fewer than ``required``)
    approvers: Approvers         # whom the gate names, the requester included
    requester_may_approve: bool  # the requester is one of them (only self-approval is missing)


def dead_end(stages: Sequence[StageSpec], *, owner_id: str, admins: frozenset[str],
             requester: str, members: Members) -> DeadEnd | None:
    """The first gate of ``stages`` that fewer than its ``required`` others could pass, if any."""
    for stage in stages:
        policy = stage.approval
        if policy is None:
            continue
        others = of_gate(policy, owner_id, admins, requester).people(members)
        if len(others) < policy.required:
            everyone = of_gate(policy, owner_id, admins)
            in_groups = frozenset(g for g in everyone.groups if requester in members.get(g, ()))
            return DeadEnd(stage.name, policy.required, others, everyone,
                           everyone.includes(requester, in_groups))
    return None
