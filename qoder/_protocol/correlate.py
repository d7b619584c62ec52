"""Which stream events belong to the turn: dedupe and correlation (PROTOCOL.md §6.3, §6.6).

A session's stream carries every event of the session, not only those of the turn underway,
and a resumed stream repeats some. The turn state machine (:mod:`.turn`) asks this module two
questions about each event, and this module keeps the memory that answers them:

* **Was it seen already?** :class:`SeenKeys`, one per conversation, is the dedupe window. The
  key is ``(id, type)``, where the id is the SSE frame's own ``id:`` (else the event's ``id``);
  at least the last half of ``dedupe_capacity`` keys are remembered, at most all of them.
  A resumed stream repeats an event with the same id *and* type; the type is part of the key
  because the only recorded real stream (``vectors/real``) carries redacted ids that are all
  equal, and an id-only key would drop its idle and hang the turn. Previews have no id and
  are never deduped.
* **Is it the turn's?** :class:`Correlation`, one per logical turn (§6.1), holds what the turn
  has learnt: the turn ids accepted, the ids of its own echoes, the tool calls it saw and which
  of them were handed to handlers or answered, and the events it holds back until it can tell.

**The rule** (§6.3 step 3, :meth:`Correlation.claims`). Correlation never needs ``turn_id``
(§1.1: no recorded event carries one): an event belongs to the turn if its ``turn_id`` is
accepted, if it is one of our own echoes (a reply item id, or the echo of an answer to a tool
call of this turn, whose ``turn_id`` is then learnt), if it has no ``turn_id`` and comes after
one of our own echoes in stream order, or if it ends the session (termination, deletion, a
``terminal`` ``session.error``) whatever its ``turn_id``.

What a :class:`Correlation` knows comes from the POST replies of the turn
(:meth:`Correlation.learn_reply`: own echo ids, turn ids, answered calls) and from the events
the state machine has claimed for it (tool calls, answer echoes, interrupts). This module only
decides membership: what a claimed event means is :mod:`.turn`'s business, what it adds up to
is :mod:`.result`'s.
"""

from __future__ import annotations

from typing import Any, Final

from .events import (
    AgentCustomToolUse,
    AgentMCPToolUse,
    AgentToolUse,
    Event,
    SessionDeleted,
    SessionError,
    SessionStatusTerminated,
    Terminated,
    UserCustomToolResult,
    UserToolConfirmation,
)

__all__ = [
    "SESSION_ENDS",
    "Correlation",
    "SeenKeys",
    "ToolUseEvent",
    "reply_items",
]

ToolUseEvent = AgentToolUse | AgentMCPToolUse | AgentCustomToolUse
"""The three events that carry a tool call."""

SESSION_ENDS: Final = (SessionStatusTerminated, Terminated, SessionDeleted)
"""The events that end the session (both spellings of termination, §7 defect 1, and deletion);
they belong to any turn, whatever their ``turn_id``."""

_ANSWERS: Final = (UserCustomToolResult, UserToolConfirmation)
"""The events that answer a tool call: their echo is our own when the call is the turn's."""

_ANSWER_REFS: Final = {
    "user.custom_tool_result": "custom_tool_use_id",
    "user.tool_confirmation": "tool_use_id",
}
"""For each answer event type, the field naming the tool call it answers."""


def reply_items(reply: Any) -> list[dict[str, Any]]:
    """The event objects of a POST reply: ``{"data": [...]}`` (or, leniently, a bare list)."""
    data = reply.get("data") if isinstance(reply, dict) else reply
    if not isinstance(data, list):
        return []
    return [item for item in data if isinstance(item, dict)]


class SeenKeys:
    """The recent dedupe keys: at least the last half of ``capacity`` and at most ``capacity``.

    Two generations of sets: a key is added to the young one; when that holds half of
    ``capacity`` (rounded up) it becomes the old one, and the old one is dropped whole.
    Nothing is removed one by one, so a long stream neither reallocates a set's table again
    and again nor leaves the keys it dropped scattered through memory (with a set and a deque
    of the last 50,000 keys, a million-event turn grew the process by about 10 MiB; now 5).

    A key is remembered by its 64-bit hash, an ``int``, rather than as the ``(id, type)``
    tuple and the id string it holds: a window of 50,000 keys costs about 3 MiB rather than
    9. A hash shared by two different keys of the window would report a false repeat; with
    64-bit hashes the odds for a full window are about one in ten billion, far below those
    of a bit flipped in memory.
    """

    __slots__ = ("_generation", "_old", "_young")

    def __init__(self, capacity: int) -> None:
        self._generation = max(1, (capacity + 1) // 2)
        self._young: set[int] = set()
        self._old: set[int] = set()

    def add(self, key: tuple[str, str]) -> bool:
        """Remember ``key``; ``False`` if it was already remembered (a duplicate)."""
        digest = hash(key)
        young = self._young
        if digest in young or digest in self._old:
            return False
        young.add(digest)
        if len(young) >= self._generation:
            self._old, self._young = young, set()
        return True


class Correlation:
    """What one logical turn (§6.1) knows about which events are its, and what it holds back.

    ``turn_ids`` are the accepted turn ids in the order learnt (``turn_id_set`` is the same, for
    lookups); ``own_ids`` the ids of the turn's own echoes; ``seen_own_echo`` says one of them
    (or an answer echo) has been met on the stream, which opens the window of id-less events.
    ``tool_uses`` are the turn's tool calls by event id; ``dispatched`` the ids handed to
    handlers; ``answered`` the ids whose answer (or abandonment, §6.7) has been seen.

    ``kept`` holds, in arrival order, events that cannot be handled yet: while the turn is
    PENDING every event (which ones are ours is known only once the POST reply names our
    echoes), and while it is parked on ``requires_action`` the events it claims. Beyond the
    limit passed to :meth:`keep` they are only counted in ``overflow``, so that the state
    machine can end the turn on them instead of dropping them silently.
    """

    __slots__ = (
        "answered",
        "dispatched",
        "kept",
        "overflow",
        "own_ids",
        "seen_own_echo",
        "tool_uses",
        "turn_id_set",
        "turn_ids",
    )

    def __init__(self) -> None:
        self.turn_ids: list[str] = []
        self.turn_id_set: set[str] = set()
        self.own_ids: set[str] = set()
        self.seen_own_echo = False
        self.tool_uses: dict[str, ToolUseEvent] = {}
        self.dispatched: set[str] = set()
        self.answered: set[str] = set()
        self.kept: list[tuple[Event, str | None]] = []
        self.overflow = 0

    @property
    def first_turn_id(self) -> str | None:
        """The first turn id learnt, for messages whose event carries none."""
        return self.turn_ids[0] if self.turn_ids else None

    @property
    def awaiting(self) -> frozenset[str]:
        """Tool-use ids handed to handlers whose answers have not been seen yet."""
        return frozenset(self.dispatched - self.answered)

    @property
    def all_answered(self) -> bool:
        """Whether every call handed to a handler has been answered (or abandoned)."""
        return self.dispatched <= self.answered

    def accept(self, turn_id: str | None) -> None:
        """Add ``turn_id`` (if any) to the accepted set, keeping the order learnt."""
        if turn_id is not None and turn_id not in self.turn_id_set:
            self.turn_id_set.add(turn_id)
            self.turn_ids.append(turn_id)

    def learn_reply(self, items: list[dict[str, Any]], *, all_turn_ids: bool) -> None:
        """Take own echo ids, turn ids and answered calls from the items of a POST reply.

        Every item id becomes an own echo id. The turn ids accepted are those of the
        ``user.message`` items, or of every item when ``all_turn_ids`` (a reply with no
        ``user.message``: a tool result, a confirmation, an interrupt, §6.3 step 4).
        """
        for item in items:
            item_id = item.get("id")
            if isinstance(item_id, str) and item_id:
                self.own_ids.add(item_id)
            kind = item.get("type")
            if all_turn_ids or kind == "user.message":
                turn_id = item.get("turn_id")
                self.accept(turn_id if isinstance(turn_id, str) and turn_id else None)
            ref_field = _ANSWER_REFS.get(kind) if isinstance(kind, str) else None
            ref = item.get(ref_field) if ref_field is not None else None
            if isinstance(ref, str):
                self.answered.add(ref)
            elif kind == "user.interrupt":
                self.abandon()

    def claims(self, event: Event, event_id: str | None) -> bool:
        """Whether ``event`` belongs to the turn (§6.3 step 3); learns from own echoes.

        ``event_id`` is the event's dedupe id (its SSE frame id, else its own). Own echoes are
        recognised first, even when their ``turn_id`` is known already: meeting one opens the
        window of id-less events, and a reply that carried no ``turn_id`` learns it here.
        """
        turn_id = event.turn_id
        own = event_id is not None and event_id in self.own_ids
        if not own and isinstance(event, _ANSWERS):  # the echo of an answer of ours?
            if isinstance(event, UserCustomToolResult):
                own = event.custom_tool_use_id in self.tool_uses
            else:
                own = event.tool_use_id in self.tool_uses
        if own:
            self.seen_own_echo = True
            self.accept(turn_id)
            return True
        if turn_id is None:
            if self.seen_own_echo:
                return True
        elif turn_id in self.turn_id_set:
            return True
        if isinstance(event, SESSION_ENDS):
            return True
        return isinstance(event, SessionError) and event.error.retry_status == "terminal"

    def answer(self, tool_use_id: str | None) -> None:
        """The answer to call ``tool_use_id`` was seen on the stream."""
        if tool_use_id is not None:
            self.answered.add(tool_use_id)

    def abandon(self) -> None:
        """An interrupt was sent or seen: the calls handed to handlers are no longer awaited."""
        self.answered.update(self.dispatched)  # §6.7: pending answers are abandoned

    def unanswered(self, tool_use_ids: tuple[str, ...]) -> list[str]:
        """The calls of ``tool_use_ids`` neither handed to a handler nor answered yet."""
        return [i for i in tool_use_ids if i not in self.dispatched and i not in self.answered]

    def keep(self, event: Event, event_id: str | None, limit: int) -> None:
        """Hold ``event`` back until it can be handled; past ``limit`` events, count it."""
        if len(self.kept) < limit:
            self.kept.append((event, event_id))
        else:
            self.overflow += 1

    def take_kept(self) -> tuple[list[tuple[Event, str | None]], int]:
        """The events held back, in arrival order, and the overflow count; both are reset."""
        kept, overflow = self.kept, self.overflow
        self.kept, self.overflow = [], 0
        return kept, overflow
