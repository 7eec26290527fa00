"""Sign in with Slack as facts: who signed in, why a sign-in was refused, and where the browser
may be sent back to afterwards (a path of this site only: never another host)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

NEXT_MAX = 1000  # characters of a path to come back to; a longer one goes home instead
_LOCAL = re.compile(r"/(?![/\\])[!-~]*")  # "/…", not "//host" nor "/\host"; printable ASCII only


class SignInProblem(StrEnum):
    STALE = "stale"                  # no state cookie, another browser's, or older than 10 minutes
    REPLAYED = "replayed"            # this state was used once already
    SLACK_SAID_NO = "slack_said_no"  # the person declined, or Slack refused the code
    TOKEN_MISMATCH = "token_mismatch"  # the id_token is not for this sign-in (nonce, audience)
    OTHER_TEAM = "other_team"        # a member of another workspace
    UNREACHABLE = "unreachable"      # Slack did not answer


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    team_id: str


class SignInRefused(Exception):
    """A sign-in that must not go on; ``detail``: Slack's error code, when it gave one."""

    def __init__(self, problem: SignInProblem, detail: str = "") -> None:
        super().__init__(problem.value)
        self.problem, self.detail = problem, detail


def local_path(raw: str | None) -> str:
    """``raw`` when it is a path on this site ("/deployments?use_case=churn"); else "/"."""
    if raw is None or len(raw) > NEXT_MAX or not _LOCAL.fullmatch(raw):
        return "/"
    return raw
