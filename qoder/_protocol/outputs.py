"""What the turn state machine outputs, and the states it moves through (docs/protocol.md §6).

:class:`~.turn.Conversation` returns lists of :data:`Output`: :class:`Deliver` (a message for
the reader), :class:`RunCustomTool` / :class:`AskPermission` (a tool call the client answers
itself) and :class:`TurnComplete` (the turn is over). Every state is listed in
:class:`TurnState` and nowhere else.
"""

from __future__ import annotations

import enum
from typing import Final

import attrs

from . import events as e
from .messages import Message, ResultMessage
from .slots import draft_class, plain

__all__ = [
    "AskPermission",
    "Deliver",
    "EnforceLimit",
    "ObserveToolResult",
    "Output",
    "RunCustomTool",
    "TurnComplete",
    "TurnState",
]


class TurnState(enum.Enum):
    """Where a :class:`Conversation` stands; every state is listed here and nowhere else.

    Transitions: IDLE -(begin_turn)-> PENDING -(on_post_reply)-> ACTIVE; ACTIVE -(requires_action
    with handlers)-> WAITING_FOR_ANSWERS -(every answer seen, or an interrupt)-> ACTIVE; the end of
    a turn -> IDLE; PENDING -(abort_turn)-> IDLE; IDLE -(respond_manually)-> ACTIVE; termination
    or deletion of the session -> ENDED, from any state.
    """

    IDLE = "idle"
    """No turn underway: events are deduped and move the cursor, but deliver nothing (except
    that those of a turn parked on ``requires_action`` are kept for :meth:`respond_manually`)."""
    PENDING = "pending"
    """``begin_turn()`` was called and the ``user.message`` POST is in flight: every event is
    buffered until ``on_post_reply()`` tells which of them are ours."""
    ACTIVE = "active"
    """Reading the turn: its events become messages until a §6.4 terminal condition."""
    WAITING_FOR_ANSWERS = "waiting_for_answers"
    """Handlers were asked (:class:`RunCustomTool`, :class:`AskPermission`) and not all their
    answers have been seen yet; events are handled as in ACTIVE."""
    ENDED = "ended"
    """The session was terminated or deleted: it takes no more turns."""


# --- outputs --------------------------------------------------------------------------------


@attrs.frozen
class Deliver:
    """A message for ``receive_response()`` / ``receive_messages()`` readers."""

    message: Message


_DeliverDraft: Final = draft_class(Deliver)
_DELIVER_PLAIN: Final = plain(Deliver, "message")


def deliver(message: Message) -> Deliver:
    """``Deliver(message)``, made as a draft (see :mod:`.slots`): one is made per message a
    turn hands out, and attrs' frozen ``__init__`` costs about 0.4 µs where this costs 0.1."""
    if not _DELIVER_PLAIN:
        return Deliver(message)
    out = _DeliverDraft()
    out.message = message
    out.__class__ = Deliver
    built: Deliver = out
    return built


@attrs.frozen
class RunCustomTool:
    """Run the handler registered for ``event.name`` with ``event.input``; POST its
    ``user.custom_tool_result`` (``custom_tool_use_id = tool_use_id``), then pass the reply to
    :meth:`Conversation.on_answer_reply`."""

    event: e.AgentCustomToolUse
    tool_use_id: str


@attrs.frozen
class AskPermission:
    """Ask ``can_use_tool`` about this call; POST its ``user.tool_confirmation``
    (``tool_use_id = tool_use_id``), then pass the reply to :meth:`Conversation.on_answer_reply`."""

    event: e.AgentToolUse | e.AgentMCPToolUse
    tool_use_id: str


@attrs.frozen
class EnforceLimit:
    """A limit of the options may have been reached: ``"max_turns"`` (a model request beyond
    ``max_turns`` started: interrupt the turn) or ``"max_budget_usd"`` (a model request ended:
    read the session's USD cost, §8.6, and interrupt if it exceeds the budget)."""

    limit: str


@attrs.frozen
class ObserveToolResult:
    """A server-side tool's result arrived: show it to the ``PostToolUse`` hooks (they can
    observe it, or stop the turn; the tool has run)."""

    tool_use: e.AgentToolUse | e.AgentMCPToolUse
    tool_use_id: str
    result: e.AgentToolResult | e.AgentMCPToolResult


@attrs.frozen
class TurnComplete:
    """The turn is over; ``result`` was delivered just before, as ``Deliver(result)``."""

    result: ResultMessage


Output = Deliver | RunCustomTool | AskPermission | EnforceLimit | ObserveToolResult | TurnComplete
"""Anything the state machine asks its facade to deliver or do."""
