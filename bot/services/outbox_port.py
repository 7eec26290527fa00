"""The narrow port every message the bot owes Slack goes through: post, edit or reply with a
*card* — facts from bot/domain — that bot/render words as it is queued (``CardWords``), in the
transaction that decided it. Services never build a Web API call or a sentence themselves."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

CardWords = Callable[[object], dict[str, Any]]
"""A card's Slack arguments (``text``, ``blocks``); bot/render/cards.py is the one there is."""


@dataclass(frozen=True)
class OutgoingMessage:
    """One Web API call the bot owes Slack (``chat.postMessage`` ...), delivered by the outbox."""

    method: str
    channel: str
    args: dict[str, Any] = field(default_factory=dict)
    ref: str | None = None        # names a posted message, e.g. "deployment:42"
    update_of: str | None = None  # chat.update of the message with this ref
    thread_of: str | None = None  # reply in the thread of the message with this ref
    link_of: str | None = None    # end the text with a link to the message with this ref


@dataclass(frozen=True)
class SharedIn:
    """Where links to unfurl were shared: a posted message (``channel``, ``ts``), or, when
    ``source`` is "composer", a message still being written (named by ``unfurl_id``)."""

    channel: str
    ts: str = ""
    unfurl_id: str = ""
    source: str = "conversations_history"

    def args(self) -> dict[str, str]:
        """The arguments of ``chat.unfurl`` that say which message it is."""
        if self.source == "composer":
            return {"unfurl_id": self.unfurl_id, "source": self.source}
        return {"channel": self.channel, "ts": self.ts}


class Outbox(Protocol):
    def post(self, channel: str, card: object, *, ref: str | None = None,
             link_of: str | None = None) -> None:
        """A new message in ``channel`` (a user id is their DM), named ``ref`` for later edits."""

    def edit(self, ref: str, channel: str, card: object, *, link_of: str | None = None) -> None:
        """Replace the message named ``ref`` with ``card``."""

    def reply(self, ref: str, channel: str, card: object) -> None:
        """A reply in the thread of the message named ``ref``."""

    def unfurl(self, where: SharedIn, cards: Mapping[str, object]) -> None:
        """Unfurl the links shared ``where``: each URL into its card."""

    async def supersede_updates(self, ref: str) -> None: ...


class CardOutbox:
    """``post``/``edit``/``reply`` over ``add`` of one Web API call: the SQL outbox and the
    in-memory one share it, so both word a card the same way."""

    def __init__(self, words: CardWords | None) -> None:
        self._words = words

    def add(self, message: OutgoingMessage) -> None:
        """The row itself (the SQL and the in-memory outbox): not in the port, services post cards."""
        raise NotImplementedError

    def post(self, channel: str, card: object, *, ref: str | None = None,
             link_of: str | None = None) -> None:
        self.add(OutgoingMessage("chat.postMessage", channel, self._args(channel, card),
                                 ref=ref, link_of=link_of))

    def edit(self, ref: str, channel: str, card: object, *, link_of: str | None = None) -> None:
        self.add(OutgoingMessage("chat.update", channel, self._args(channel, card),
                                 update_of=ref, link_of=link_of))

    def reply(self, ref: str, channel: str, card: object) -> None:
        self.add(OutgoingMessage("chat.postMessage", channel, self._args(channel, card),
                                 thread_of=ref))

    def unfurl(self, where: SharedIn, cards: Mapping[str, object]) -> None:
        unfurls = {}
        for url, card in cards.items():
            said = self._words_of(card)  # an unfurl is an attachment: its text is the fallback
            unfurls[url] = {"fallback": said.get("text", ""), "blocks": said.get("blocks", [])}
        self.add(OutgoingMessage("chat.unfurl", where.channel, {**where.args(), "unfurls": unfurls}))

    def _args(self, channel: str, card: object) -> dict[str, Any]:
        return {"channel": channel, **self._words_of(card)}

    def _words_of(self, card: object) -> dict[str, Any]:
        if self._words is None:
            raise RuntimeError("this database was opened without a renderer (Database(words=...))")
        return self._words(card)
