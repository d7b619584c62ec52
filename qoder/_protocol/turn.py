"""The turn state machine: stream events in, messages and actions out (PROTOCOL.md §6).

:class:`Conversation` holds the sans-IO state of one session's conversation, the same for the
sync and the async facade. It performs no I/O and reads no clock but the one it is given. The
facade calls it at these moments and carries out what it returns::

    conv.begin_turn()                      # IDLE -> PENDING, then POST user.message
    conv.on_post_reply(reply)              # PENDING -> ACTIVE (or abort_turn() if it failed)
    conv.on_event(event, frame_id=...)     # each decoded stream event, in stream order
    conv.on_answer_reply(reply)            # after POSTing a tool result, confirmation, interrupt
    conv.on_stream_lost(reason)            # the stream could not be resumed (§6.6)
    conv.fail_turn(reason)                 # the facade cannot go on (an answer POST failed)
    conv.respond_manually()                # the caller answers a requires_action turn itself

Each returns a list of :data:`Output`: :class:`Deliver` (a message for the reader),
:class:`RunCustomTool` / :class:`AskPermission` (run a handler, POST its answer, then call
``on_answer_reply``) and :class:`TurnComplete`. **Rule:** a turn's end is always the pair
``Deliver(result), TurnComplete(result)`` with the same :class:`~.messages.ResultMessage`, the
last two outputs of the list that holds them; ``receive_response()`` yields the ``Deliver`` and
stops at the ``TurnComplete``. Nothing is output while a turn is PENDING: what arrives then is
buffered and replayed by :meth:`Conversation.on_post_reply`.

How an event is handled, in order:

1. **Dedupe** (§6.3, §6.6). The key is ``(id, type)``, where the id is the SSE frame's own
   ``id:`` (else the event's ``id``); the last ``dedupe_capacity`` keys are remembered. A resumed
   stream repeats an event with the same id *and* type; the type is part of the key because the
   only recorded real stream (``vectors/real``) carries redacted ids that are all equal, and an
   id-only key would drop its idle and hang the turn. Previews have no id and are never deduped.
2. **Route** by state: IDLE ignores it (or parks it, see below); PENDING buffers it (bounded;
   an overflow ends the turn with ``terminal_reason="buffer_overflow"``, never a silent drop);
   ACTIVE and WAITING_FOR_ANSWERS **correlate** it with the turn (§6.3 step 3, :meth:`_claims`)
   and handle it only if it belongs to the turn.
3. **Cursor** := the key's id, once handled (§5 rule 14); previews never move it.

Correlation never needs ``turn_id`` (§1.1: no recorded event carries one): an event belongs to
the turn if its ``turn_id`` is accepted, if it is one of our own echoes (a reply item id, or
the echo of an answer to a tool call of this turn, whose ``turn_id`` is then learnt), if it has
no ``turn_id`` and comes after one of our own echoes in stream order, or if it ends the session
(termination, deletion, a ``terminal`` ``session.error``) whatever its ``turn_id``.

**Manual answers.** A turn that ends on ``requires_action`` without handlers for every listed
call is *parked*: while the conversation is IDLE, events that belong to it are kept (bounded,
like the PENDING buffer) until :meth:`Conversation.respond_manually` resumes the same logical
turn (same turn ids, same accumulators) and replays them, or until :meth:`begin_turn` starts a
new turn and drops them. The resumed turn ends with a new ResultMessage that covers the whole
logical turn, exactly as if a handler had answered: it supersedes the ``requires_action`` one
(do not add the two). Messages already delivered are not delivered again.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable, Collection
from typing import Any, Final

import attrs

from ..errors import ClientStateError
from .blocks import ContentBlock, ThinkingBlock, ToolResultBlock, ToolUseBlock
from .events import (
    AgentCustomToolUse,
    AgentMCPToolResult,
    AgentMCPToolUse,
    AgentMessageEvent,
    AgentThinking,
    AgentToolResult,
    AgentToolUse,
    Event,
    EventDelta,
    EventStart,
    MalformedEvent,
    SessionDeleted,
    SessionError,
    SessionStatusIdle,
    SessionStatusRescheduled,
    SessionStatusTerminated,
    SpanModelRequestEnd,
    SpanModelRequestStart,
    StreamErrorFrame,
    Terminated,
    UserCustomToolResult,
    UserInterrupt,
    UserToolConfirmation,
)
from .messages import (
    AssistantMessage,
    Message,
    ResultMessage,
    StreamEvent,
    SystemMessage,
    UserMessage,
)
from .result import Outcome, TurnRecord, reply_items, tool_use_block

__all__ = [
    "AskPermission",
    "Conversation",
    "Deliver",
    "Output",
    "RunCustomTool",
    "TurnComplete",
    "TurnState",
]

_PREVIEWS: Final = (EventStart, EventDelta)
_SESSION_ENDS: Final = (SessionStatusTerminated, Terminated, SessionDeleted)


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


@attrs.frozen
class RunCustomTool:
    """Run the handler registered for ``event.name`` with ``event.input``; POST its
    ``user.custom_tool_result`` (``custom_tool_use_id = tool_use_id``), then pass the reply to
    :meth:`Conversation.on_answer_reply`."""

    event: AgentCustomToolUse
    tool_use_id: str


@attrs.frozen
class AskPermission:
    """Ask ``can_use_tool`` about this call; POST its ``user.tool_confirmation``
    (``tool_use_id = tool_use_id``), then pass the reply to :meth:`Conversation.on_answer_reply`."""

    event: AgentToolUse | AgentMCPToolUse
    tool_use_id: str


@attrs.frozen
class TurnComplete:
    """The turn is over; ``result`` was delivered just before, as ``Deliver(result)``."""

    result: ResultMessage


Output = Deliver | RunCustomTool | AskPermission | TurnComplete
"""Anything the state machine asks its facade to deliver or do."""


# --- internals ------------------------------------------------------------------------------


class _SeenKeys:
    """The last ``capacity`` dedupe keys, in insertion order (a deque plus a set)."""

    __slots__ = ("_capacity", "_keys", "_order")

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._keys: set[tuple[str, str]] = set()
        self._order: deque[tuple[str, str]] = deque()

    def add(self, key: tuple[str, str]) -> bool:
        """Remember ``key``; ``False`` if it was already remembered (a duplicate)."""
        if key in self._keys:
            return False
        if len(self._order) >= self._capacity:
            self._keys.discard(self._order.popleft())
        self._order.append(key)
        self._keys.add(key)
        return True


# --- the state machine ----------------------------------------------------------------------


class Conversation:
    """Sans-IO state of one session's conversation.

    ``custom_tool_names`` are the custom tools with a registered handler; ``handles_permissions``
    says that ``can_use_tool`` is set. ``dedupe_capacity`` bounds the ids remembered for dedupe,
    ``max_pending_events`` the events buffered while PENDING (and while a turn is parked).
    ``cursor`` is where the stream of an existing session resumes from (§6.2); ``clock`` gives
    seconds for ``duration_ms``.
    """

    def __init__(
        self,
        *,
        session_id: str,
        custom_tool_names: Collection[str] = (),
        handles_permissions: bool = False,
        include_partial_messages: bool = False,
        dedupe_capacity: int = 50_000,
        max_pending_events: int = 10_000,
        cursor: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if dedupe_capacity < 1:
            raise ValueError(f"dedupe_capacity must be >= 1, got {dedupe_capacity}")
        if max_pending_events < 0:
            raise ValueError(f"max_pending_events must be >= 0, got {max_pending_events}")
        self.session_id = session_id
        self._custom_tool_names = frozenset(custom_tool_names)
        self._handles_permissions = handles_permissions
        self._include_partial = include_partial_messages
        self._max_pending = max_pending_events
        self._clock = clock
        self._seen = _SeenKeys(dedupe_capacity)
        self._cursor = cursor
        self._state = TurnState.IDLE
        self._turn: TurnRecord | None = None  # the turn underway (PENDING, ACTIVE, WAITING)
        self._parked: TurnRecord | None = None  # a turn that ended on requires_action (IDLE only)
        self._num_turns = 0
        self._last_result: ResultMessage | None = None
        self._session_end: str | None = None

    # --- read-only views ---------------------------------------------------------------

    @property
    def state(self) -> TurnState:
        """The current :class:`TurnState`."""
        return self._state

    @property
    def cursor(self) -> str | None:
        """The id of the last fully handled event (§5 rule 14): resume the stream from it."""
        return self._cursor

    @cursor.setter
    def cursor(self, value: str | None) -> None:
        # The facade may set it when it attaches to an existing session late (§6.2).
        self._cursor = value

    @property
    def num_turns(self) -> int:
        """User turns posted by this conversation so far (the current one included)."""
        return self._num_turns

    @property
    def turn_ids(self) -> tuple[str, ...]:
        """The turn ids accepted for the current (or parked) turn, in the order learnt."""
        turn = self._turn or self._parked
        return tuple(turn.turn_ids) if turn is not None else ()

    @property
    def awaiting_answers(self) -> frozenset[str]:
        """Tool-use ids handed to handlers whose answers have not been seen yet."""
        turn = self._turn
        return frozenset(turn.dispatched - turn.answered) if turn is not None else frozenset()

    @property
    def last_result(self) -> ResultMessage | None:
        """The result of the last turn that ended, if any."""
        return self._last_result

    @property
    def session_end(self) -> str | None:
        """``"terminated"`` or ``"deleted"`` once the session ended (state ENDED), else None."""
        return self._session_end

    # --- facade calls ------------------------------------------------------------------

    def begin_turn(self) -> None:
        """Start a turn; call it just before POSTing the ``user.message``: IDLE -> PENDING.

        A turn parked on ``requires_action`` is dropped. Raises :class:`ClientStateError` if a
        turn is underway or the session ended.
        """
        if self._state is TurnState.ENDED:
            raise ClientStateError(
                f"session {self.session_id} was {self._session_end} and takes no more input: "
                "create a new session"
            )
        if self._state is not TurnState.IDLE:
            raise ClientStateError(
                "a turn is already underway: read the current turn to its ResultMessage, "
                "or interrupt() it, before query()"
            )
        self._parked = None
        self._turn = TurnRecord(self._clock())
        self._state = TurnState.PENDING

    def on_post_reply(self, reply: Any) -> list[Output]:
        """The JSON reply of the ``user.message`` POST: PENDING -> ACTIVE (§6.3 steps 2-3).

        Learns the turn id (from the ``user.message`` item; it may be absent, §1.1) and the own
        echo ids, then replays the buffered events in arrival order. The turn ends at once if
        the buffer overflowed, the stream was lost meanwhile, or the reply names nothing to
        follow the turn by (``terminal_reason="protocol_error"``).
        """
        turn = self._turn
        if self._state is not TurnState.PENDING or turn is None:
            raise ClientStateError("on_post_reply() needs a pending turn: call begin_turn() first")
        items = reply_items(reply)
        self._num_turns += 1
        turn.num_turns = self._num_turns
        has_message = any(item.get("type") == "user.message" for item in items)
        turn.learn_reply(items, all_turn_ids=not has_message)
        self._state = TurnState.ACTIVE
        out = self._replay(turn)
        if self._turn is turn:
            if turn.failure is not None:
                self._finish(turn, turn.failure, out)
            elif not turn.own_ids and not turn.turn_ids:
                message = f"the reply to the user.message POST names no event: {reply!r:.200}"
                self._finish(turn, Outcome.failure("protocol_error", message), out)
        return out

    def abort_turn(self) -> None:
        """The ``user.message`` POST failed: PENDING -> IDLE. Buffered events are dropped (they
        stay deduped). Does nothing in any other state, so it is safe in cleanup code."""
        turn = self._turn
        if self._state is TurnState.PENDING and turn is not None:
            self._turn = None
            self._state = TurnState.IDLE
            for event, _ in turn.buffer:
                if isinstance(event, _SESSION_ENDS):
                    self._end_session(event)

    def on_answer_reply(self, reply: Any) -> list[Output]:
        """The reply of a later POST of the same turn: a tool result, a confirmation or an
        interrupt (§6.3 step 4). Its item ids become own echoes, its turn ids are accepted, and
        the calls it answers stop being awaited (an interrupt abandons them all, §6.7).

        Returns the outputs this causes (none today; handle them all the same). While our own
        prompt is still PENDING, such a reply (an interrupt of an earlier turn that kept the
        session busy) acts on that other turn: it must not make its turn id ours.
        """
        if self._state is TurnState.PENDING:
            return []
        turn = self._turn or self._parked
        if turn is not None:
            turn.learn_reply(reply_items(reply), all_turn_ids=True)
            self._update_waiting(turn)
        return []

    def on_event(self, event: Event, *, frame_id: str | None = None) -> list[Output]:
        """Handle one decoded stream event; ``frame_id`` is its SSE frame's own ``id:``."""
        if isinstance(event, _PREVIEWS):
            return self._route(event, None)
        if isinstance(event, StreamErrorFrame):
            return []  # a stream failure: the facade resumes; the cursor stays (§5 rule 13)
        event_id = frame_id or event.id
        if event_id and not self._seen.add((event_id, event.type)):
            return []
        out = self._route(event, event_id)
        if event_id:
            self._cursor = event_id
        return out

    def on_stream_lost(self, reason: str) -> list[Output]:
        """The stream could not be resumed (§6.6): the turn underway ends, ``stream_lost``."""
        return self._fail("stream_lost", reason)

    def fail_turn(self, reason: str) -> list[Output]:
        """End the turn underway with an error the facade met (an answer POST that failed, a
        handler that crashed): ``terminal_reason="client_error"``, ``errors=(reason,)``.

        While PENDING both this and :meth:`on_stream_lost` take effect at ``on_post_reply``.
        """
        return self._fail("client_error", reason)

    def respond_manually(self) -> list[Output]:
        """Resume a turn that ended on ``requires_action``: IDLE -> ACTIVE, same logical turn.

        Call it before POSTing the answers yourself (calling it after loses nothing either: the
        parked turn's events were kept), pass each POST's reply to :meth:`on_answer_reply`, and
        read on: the turn ends with a new ResultMessage covering the whole logical turn. Answer
        every listed call in one POST, or the server's interim idle listing the rest ends it
        again with ``requires_action``. Returns the outputs of the replayed events.
        """
        turn = self._parked
        if self._state is not TurnState.IDLE or turn is None:
            raise ClientStateError(
                "respond_manually() needs a turn that ended with stop_reason 'requires_action' "
                "and no query() since"
            )
        self._parked = None
        self._turn = turn
        self._state = TurnState.ACTIVE
        return self._replay(turn)

    # --- routing and correlation -------------------------------------------------------

    def _route(self, event: Event, event_id: str | None) -> list[Output]:
        state = self._state
        if state is TurnState.ACTIVE or state is TurnState.WAITING_FOR_ANSWERS:
            turn = self._turn
            assert turn is not None
            if not self._claims(turn, event, event_id):
                return []
            turn.acc.add_timestamp(event.processed_at)
            out: list[Output] = []
            self._handle(turn, event, event_id, out)
            return out
        if state is TurnState.PENDING:
            turn = self._turn
            assert turn is not None
            self._keep(turn, event, event_id)
        elif state is TurnState.IDLE:
            if isinstance(event, _SESSION_ENDS):
                self._end_session(event)
            elif self._parked is not None and self._claims(self._parked, event, event_id):
                self._keep(self._parked, event, event_id)
        return []

    def _keep(self, turn: TurnRecord, event: Event, event_id: str | None) -> None:
        if len(turn.buffer) < self._max_pending:
            turn.buffer.append((event, event_id))
        else:
            turn.overflow += 1

    def _replay(self, turn: TurnRecord) -> list[Output]:
        """Handle the kept events of ``turn`` in arrival order, then act on an overflow."""
        kept, overflow = turn.buffer, turn.overflow
        turn.buffer, turn.overflow = [], 0
        out: list[Output] = []
        for event, event_id in kept:
            out.extend(self._route(event, event_id))
        if overflow:
            if self._turn is turn:
                message = (
                    f"{overflow} events arrived beyond the buffer of {self._max_pending} "
                    "while the turn could not be followed; they were not handled"
                )
                self._finish(turn, Outcome.failure("buffer_overflow", message), out)
            elif self._parked is turn:
                turn.overflow += overflow
        return out

    def _claims(self, turn: TurnRecord, event: Event, event_id: str | None) -> bool:
        """Whether ``event`` belongs to ``turn`` (§6.3 step 3); learns from own echoes."""
        turn_id = event.turn_id
        # Own echoes first, even when their turn_id is known: they open the id-less window.
        own = event_id is not None and event_id in turn.own_ids
        if not own and isinstance(event, UserCustomToolResult):
            own = event.custom_tool_use_id in turn.tool_uses  # the echo of an answer of ours
        elif not own and isinstance(event, UserToolConfirmation):
            own = event.tool_use_id in turn.tool_uses
        if own:
            turn.seen_own_echo = True
            turn.accept(turn_id)  # §6.3: a reply without turn_id learns it from the echo
            return True
        if turn_id is None:
            if turn.seen_own_echo:
                return True
        elif turn_id in turn.turn_id_set:
            return True
        if isinstance(event, _SESSION_ENDS):
            return True
        return isinstance(event, SessionError) and event.error.retry_status == "terminal"

    # --- endings ------------------------------------------------------------------------

    def _fail(self, terminal_reason: str, message: str) -> list[Output]:
        turn = self._turn
        out: list[Output] = []
        if turn is None:
            return out
        outcome = Outcome.failure(terminal_reason, message)
        if self._state is TurnState.PENDING:
            turn.failure = turn.failure or outcome
        else:
            self._finish(turn, outcome, out)
        return out

    def _finish(
        self,
        turn: TurnRecord,
        outcome: Outcome,
        out: list[Output],
        pending: tuple[ToolUseBlock, ...] = (),
    ) -> None:
        result = turn.acc.build(
            outcome,
            session_id=self.session_id,
            num_turns=turn.num_turns,
            duration_ms=int((self._clock() - turn.started) * 1000),
            turn_ids=tuple(turn.turn_ids),
            pending_tool_uses=pending,
        )
        out.append(Deliver(result))
        out.append(TurnComplete(result))
        self._last_result = result
        self._turn = None
        self._state = TurnState.IDLE
        if outcome.terminal_reason == "requires_action":
            self._parked = turn

    def _end_session(self, event: Event) -> None:
        self._session_end = "deleted" if isinstance(event, SessionDeleted) else "terminated"
        self._parked = None
        self._state = TurnState.ENDED

    def _update_waiting(self, turn: TurnRecord) -> None:
        if self._state is TurnState.WAITING_FOR_ANSWERS and turn.dispatched <= turn.answered:
            self._state = TurnState.ACTIVE

    def _requires_action(
        self, turn: TurnRecord, event_ids: tuple[str, ...], out: list[Output]
    ) -> None:
        """§6.4: hand every newly listed call to a handler, or end the turn if one has none."""
        fresh = [i for i in event_ids if i not in turn.dispatched and i not in turn.answered]
        if event_ids and not fresh:
            return  # every listed call is being answered already (an interim idle)
        actions: list[Output] = []
        for tool_use_id in fresh:
            event = turn.tool_uses.get(tool_use_id)
            if isinstance(event, AgentCustomToolUse) and event.name in self._custom_tool_names:
                actions.append(RunCustomTool(event, tool_use_id))
            elif isinstance(event, (AgentToolUse, AgentMCPToolUse)) and self._handles_permissions:
                actions.append(AskPermission(event, tool_use_id))
            else:
                break
        else:
            if actions:
                turn.dispatched.update(fresh)
                self._state = TurnState.WAITING_FOR_ANSWERS
                out.extend(actions)
                return
        pending = []
        for tool_use_id in fresh:
            tool_use = turn.tool_uses.get(tool_use_id)
            if tool_use is None:
                turn.acc.warn(f"requires_action names {tool_use_id}, a call this turn never saw")
                pending.append(ToolUseBlock(id=tool_use_id, name="", input={}, kind="unknown"))
            else:
                pending.append(tool_use_block(tool_use, tool_use_id))
        self._finish(turn, Outcome.idle("requires_action"), out, tuple(pending))

    # --- current-turn events --------------------------------------------------------------

    def _handle(
        self, turn: TurnRecord, event: Event, event_id: str | None, out: list[Output]
    ) -> None:
        """Turn one event of the current turn into messages, actions or its end (§6.4)."""
        if isinstance(event, AgentMessageEvent):
            turn.acc.add_message(event)
            out.append(self._assistant(turn, event, event_id, event.content))
        elif isinstance(event, SpanModelRequestStart):
            turn.model = event.model or ""
            turn.acc.add_model_request_start(event, event_id)
        elif isinstance(event, SpanModelRequestEnd):
            turn.acc.add_model_request_end(event)
        elif isinstance(event, (AgentToolUse, AgentMCPToolUse, AgentCustomToolUse)):
            if event_id is not None:
                turn.tool_uses[event_id] = event
            block = tool_use_block(event, event_id or "")
            out.append(self._assistant(turn, event, event_id, (block,)))
        elif isinstance(event, (AgentToolResult, AgentMCPToolResult)):
            ref = event.tool_use_id if isinstance(event, AgentToolResult) else event.mcp_tool_use_id
            result = ToolResultBlock(
                tool_use_id=ref or "", content=event.content, is_error=event.is_error
            )
            message = UserMessage(
                (result,),
                uuid=event_id,
                session_id=self.session_id,
                turn_id=event.turn_id or turn.first_turn_id,
            )
            out.append(Deliver(message))
        elif isinstance(event, AgentThinking):
            thinking = ThinkingBlock(event.thinking or "")
            out.append(self._assistant(turn, event, event_id, (thinking,)))
        elif isinstance(event, _PREVIEWS):
            if self._include_partial:
                preview = StreamEvent(
                    uuid=event.event_id or "", session_id=self.session_id, event=event.raw
                )
                out.append(Deliver(preview))
        elif isinstance(event, SessionStatusIdle):
            stop = event.stop_reason
            if stop is not None and stop.type == "requires_action":
                self._requires_action(turn, stop.event_ids, out)
            else:
                kind = stop.type if stop is not None else None
                self._finish(turn, Outcome.idle(kind, tuple(turn.retrying_errors)), out)
        elif isinstance(event, (UserCustomToolResult, UserToolConfirmation)):
            ref = (
                event.custom_tool_use_id
                if isinstance(event, UserCustomToolResult)
                else event.tool_use_id
            )
            if ref is not None:
                turn.answered.add(ref)
            self._update_waiting(turn)
        elif isinstance(event, UserInterrupt):
            turn.answered.update(turn.dispatched)  # §6.7: pending answers are abandoned
            self._update_waiting(turn)
        elif isinstance(event, SessionError):
            self._on_session_error(turn, event, out)
        elif isinstance(event, SessionStatusRescheduled):
            out.append(Deliver(SystemMessage("status_rescheduled", event.raw)))
        elif isinstance(event, _SESSION_ENDS):
            if isinstance(event, SessionDeleted):
                outcome = Outcome.failure("deleted", "the session was deleted")
            else:  # §7 defect 1: both spellings end the turn
                reason = f": {event.reason}" if event.reason else ""
                outcome = Outcome.failure("terminated", f"the session was terminated{reason}")
            self._finish(turn, outcome, out)
            self._end_session(event)
        elif isinstance(event, MalformedEvent):
            where = f" (id {event_id})" if event_id else ""
            turn.acc.warn(f"malformed {event.type or 'event'} frame{where}: {event.reason}")
        # user.message echoes, status_running and unknown events add nothing here.

    def _assistant(
        self,
        turn: TurnRecord,
        event: Event,
        event_id: str | None,
        content: tuple[ContentBlock, ...],
    ) -> Deliver:
        message = AssistantMessage(
            content,
            model=turn.model,
            uuid=event_id,
            session_id=self.session_id,
            turn_id=event.turn_id or turn.first_turn_id,
        )
        return Deliver(message)

    def _on_session_error(self, turn: TurnRecord, event: SessionError, out: list[Output]) -> None:
        error = event.error
        out.append(Deliver(SystemMessage("session_error", event.raw)))
        message = error.message or f"the session failed ({error.type or event.code or 'unknown'})"
        if error.retry_status == "retrying":  # §6.4, §7 defect 4: not terminal
            turn.retrying_errors.append(message)
            turn.acc.warn(f"session.error {error.type or ''} (server retrying): {message}")
        else:  # exhausted, terminal, absent, unknown, or the legacy string form
            self._finish(turn, Outcome.failure("session_error", message), out)
