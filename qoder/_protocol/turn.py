"""The turn state machine: stream events in, messages and actions out (PROTOCOL.md §6).

:class:`Conversation` holds the sans-IO state of one session's conversation, the same for the
sync and the async facade. It performs no I/O and reads no clock but the one it is given. The
facade calls it at these moments and carries out what it returns::

    conv.begin_turn()                      # IDLE -> PENDING, then POST user.message
    conv.on_post_reply(reply)              # PENDING -> ACTIVE (or abort_turn() if it failed)
    conv.on_event(event, frame_id=...)     # each decoded stream event, in stream order
    conv.on_answer_reply(reply)            # after POSTing a tool result, confirmation, interrupt
    conv.note_interrupt()                  # before POSTing user.interrupt or calling /cancel
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

1. **Dedupe** (§6.3, §6.6) by the key ``(id, type)`` in a bounded window
   (:class:`~.correlate.SeenKeys`, which says why the type is part of the key). Previews have no
   id and are never deduped.
2. **Route** by state: IDLE ignores it (or parks it, see below); PENDING buffers it (bounded;
   an overflow ends the turn with ``terminal_reason="buffer_overflow"``, never a silent drop);
   ACTIVE and WAITING_FOR_ANSWERS **correlate** it with the turn (§6.3 step 3, the rule of
   :mod:`.correlate`) and handle it only if it belongs to the turn.
3. **Handle** it by its class (§6.4): :data:`_HANDLERS` maps each event class to one method
   (a subclass is handled as its nearest handled base); a class with none, such as a
   ``user.message`` echo, ``session.status_running`` or an unknown event, has no effect.
4. **Cursor** := the key's id, once handled (§5 rule 14); previews never move it.

**Manual answers.** A turn that ends on ``requires_action`` without handlers for every listed
call is *parked*: while the conversation is IDLE, events that belong to it are kept (bounded,
like the PENDING buffer) until :meth:`Conversation.respond_manually` resumes the same logical
turn (same turn ids, same accumulators) and replays them, or until :meth:`begin_turn` starts a
new turn and drops them. The resumed turn ends with a new ResultMessage that covers the whole
logical turn, exactly as if a handler had answered: it supersedes the ``requires_action`` one
(do not add the two). Messages already delivered are not delivered again.

**Size.** The module is longer than the ~400 lines the project aims at because it is one state
machine: the facade calls, the routing, the endings and the handler of each event class are
transitions of the same private state (the state, the current and the parked turn) and read
best side by side. What is not the state machine lives elsewhere: dedupe and correlation in
:mod:`.correlate`, the turn's record and its result in :mod:`.result`, the states and the
outputs in :mod:`.outputs`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable
from typing import Any, Final

from . import events as e
from .blocks import ContentBlock, ThinkingBlock, ToolResultBlock, ToolUseBlock
from .correlate import SESSION_ENDS, SeenKeys, ToolUseEvent, reply_items
from .errors import ClientStateError
from .messages import (
    AssistantMessage,
    ResultMessage,
    StreamEvent,
    SystemMessage,
    UserMessage,
)
from .outputs import (
    AskPermission,
    Deliver,
    EnforceLimit,
    ObserveToolResult,
    Output,
    RunCustomTool,
    TurnComplete,
    TurnState,
    deliver,
)
from .partials import Pairs, PartialMessages
from .result import TurnEnding, TurnRecord, tool_use_block
from .slots import draft_class, plain

__all__ = [
    "AskPermission",
    "Conversation",
    "Deliver",
    "Output",
    "RunCustomTool",
    "TurnComplete",
    "TurnState",
]

_PREVIEWS: Final = (e.EventStart, e.EventDelta)
_ACTIVE: Final = TurnState.ACTIVE  # TurnState.ACTIVE costs an enum lookup (~0.1 µs) each time
_WAITING: Final = TurnState.WAITING_FOR_ANSWERS
_AgentMessage: Final = e.AgentMessageEvent
_ASSISTANT_FIELDS: Final = (
    "content",
    "model",
    "uuid",
    "parent_tool_use_id",
    "session_id",
    "turn_id",
    "error",
)
_AssistantDraft: Final = draft_class(AssistantMessage)
_ASSISTANT_PLAIN: Final = plain(AssistantMessage, *_ASSISTANT_FIELDS)


def new_assistant_message(
    content: tuple[ContentBlock, ...],
    model: str,
    uuid: str | None,
    session_id: str | None,
    turn_id: str | None,
) -> AssistantMessage:
    """``AssistantMessage(content, model=..., uuid=..., session_id=..., turn_id=...)``, made
    as a draft (see :mod:`.slots`): one is made per agent message, and attrs' frozen
    ``__init__`` costs about 0.8 µs where plain assignments cost 0.15. Should the class ever
    get a field or a validator this does not know, the constructor is called instead."""
    if not _ASSISTANT_PLAIN:
        return AssistantMessage(
            content, model=model, uuid=uuid, session_id=session_id, turn_id=turn_id
        )
    message = _AssistantDraft()
    message.content = content
    message.model = model
    message.uuid = uuid
    message.parent_tool_use_id = None
    message.session_id = session_id
    message.turn_id = turn_id
    message.error = None
    message.__class__ = AssistantMessage
    built: AssistantMessage = message
    return built


# --- the state machine ----------------------------------------------------------------------


class Conversation:
    """Sans-IO state of one session's conversation.

    ``custom_tool_names`` are the custom tools with a registered handler; ``handles_permissions``
    says that ``can_use_tool`` is set, and ``answers_permission(tool_name)`` (when given)
    whether the client answers a confirmation of that tool by itself (its permission rules);
    ``observes_result(tool_name)`` whether a server-side tool's result is to be shown to the
    ``PostToolUse`` hooks (an :class:`ObserveToolResult`).
    ``max_model_requests`` is the options' ``max_turns``; ``watch_cost`` asks for an
    :class:`EnforceLimit` after each model request (``max_budget_usd``). ``dedupe_capacity``
    bounds the ids remembered for dedupe (at least half as many are),
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
        answers_permission: Callable[[str], bool] | None = None,
        observes_result: Callable[[str], bool] | None = None,
        max_model_requests: int | None = None,
        watch_cost: bool = False,
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
        self._answers_permission = answers_permission
        self._observes_result = observes_result
        self._max_requests = max_model_requests
        self._watch_cost = watch_cost
        self._include_partial = include_partial_messages
        self._max_pending = max_pending_events
        self._clock = clock
        self._seen = SeenKeys(dedupe_capacity)
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
        return tuple(turn.corr.turn_ids) if turn is not None else ()

    @property
    def awaiting_answers(self) -> frozenset[str]:
        """Tool-use ids handed to handlers whose answers have not been seen yet."""
        turn = self._turn
        return turn.corr.awaiting if turn is not None else frozenset()

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
                out += self._finish(turn, turn.failure)
            elif not turn.corr.own_ids and not turn.corr.turn_ids:
                message = f"the reply to the user.message POST names no event: {reply!r:.200}"
                out += self._finish(turn, TurnEnding.failure("protocol_error", message))
        return out

    def abort_turn(self) -> None:
        """The ``user.message`` POST failed: PENDING -> IDLE. Buffered events are dropped (they
        stay deduped). Does nothing in any other state, so it is safe in cleanup code."""
        turn = self._turn
        if self._state is TurnState.PENDING and turn is not None:
            self._turn = None
            self._state = TurnState.IDLE
            for event, _ in turn.corr.take_kept()[0]:
                if isinstance(event, SESSION_ENDS):
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

    def note_cost(self, usd: float) -> None:
        """The session's USD cost as just read (§8.6): the turn's ``total_cost_usd``."""
        turn = self._turn or self._parked
        if turn is not None:
            turn.acc.set_session_cost(usd)

    def note_confirmation(
        self, event: e.AgentToolUse | e.AgentMCPToolUse, tool_use_id: str, body: dict[str, Any]
    ) -> None:
        """The client answers a confirmation with ``body`` (a ``user.tool_confirmation``): a
        denial is listed in the result's ``permission_denials``."""
        if body.get("result") == "deny":
            message = body.get("deny_message")
            text = message if isinstance(message, str) else ""
            self.note_denial(permission_name(event), tool_use_id, text)

    def note_denial(self, tool_name: str, tool_use_id: str, message: str) -> None:
        """The client denied a call of ``tool_name`` (listed in ``permission_denials``)."""
        turn = self._turn
        if turn is not None:
            turn.acc.add_denial(
                {
                    "tool_name": tool_name,
                    "tool_use_id": tool_use_id,
                    "message": message,
                    "session_id": self.session_id,
                }
            )

    def note_limit(self, limit: str) -> None:
        """The client interrupts the turn underway because ``limit`` (``max_turns`` or
        ``max_budget_usd``) was reached: its result is then that error (§6.5). Call
        :meth:`note_interrupt` as for any interrupt."""
        turn = self._turn or self._parked
        if turn is not None and self._state is not TurnState.PENDING:
            turn.limit = limit

    def note_interrupt(self, sent: bool = True) -> None:
        """The client is interrupting the turn underway (``user.interrupt`` or ``/cancel``,
        §6.7): the idle that ends it makes ``terminal_reason="interrupted"``. Call it before
        the request, so that an idle read meanwhile counts too, and with ``sent=False`` if the
        request failed. A PENDING prompt is not the turn an interrupt acts on (see
        :meth:`on_answer_reply`), and with no turn underway (or parked on
        ``requires_action``, which :meth:`respond_manually` resumes) there is nothing to
        mark."""
        turn = self._turn or self._parked
        if turn is not None and self._state is not TurnState.PENDING:
            turn.interrupted = sent

    def on_event(self, event: e.Event, *, frame_id: str | None = None) -> list[Output]:
        """Handle one decoded stream event; ``frame_id`` is its SSE frame's own ``id:``."""
        if isinstance(event, _PREVIEWS):
            return self._route(event, None)
        if isinstance(event, e.StreamErrorFrame):
            return []  # a stream failure: the facade resumes; the cursor stays (§5 rule 13)
        event_id = frame_id or event.id
        if event_id and not self._seen.add((event_id, event.type)):
            return []
        out = self._route(event, event_id)
        if event_id:
            self._cursor = event_id
        return out

    def on_events(self, events: Iterable[tuple[e.Event, str | None]]) -> list[Output]:
        """:meth:`on_event` for each ``(event, frame_id)`` in order: the outputs of all.

        What a facade calls for the events of one chunk of the stream. The agent messages of
        the turn underway, nearly all of a long turn, are handled here inline, step by step
        as :meth:`on_event` and ``_on_message`` handle them (tests/protocol/test_batch.py
        checks both give the same outputs and the same state); any other event, and any agent
        message while a preview is open, goes through :meth:`on_event` itself.
        """
        out: list[Output] = []
        append = out.append
        seen = self._seen.add
        for event, frame_id in events:
            turn = self._turn
            state = self._state
            if (
                event.__class__ is not _AgentMessage
                or not (state is _ACTIVE or state is _WAITING)
                or turn is None
                or turn.partials is not None
            ):
                out += self.on_event(event, frame_id=frame_id)
                continue
            event_id = frame_id or event.id
            if event_id:
                if not seen((event_id, "agent.message")):
                    continue
                self._cursor = event_id  # nothing below reads it; on_event sets it after
            corr = turn.corr
            turn_id = event.turn_id
            # claims(): an event of an accepted turn id that is not an echo of ours is the
            # turn's; anything else (an echo, no turn id, another turn's) is asked in full.
            if (
                turn_id is None or turn_id not in corr.turn_id_set or event_id in corr.own_ids
            ) and not corr.claims(event, event_id):
                continue
            acc = turn.acc
            acc.add_timestamp(event.processed_at)
            acc.add_message(event)
            if not turn_id:
                turn_ids = corr.turn_ids
                turn_id = turn_ids[0] if turn_ids else None
            message = new_assistant_message(
                event.content, turn.model, event_id, self.session_id, turn_id
            )
            append(deliver(message))
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

    # --- routing ------------------------------------------------------------------------

    def _route(self, event: e.Event, event_id: str | None) -> list[Output]:
        state = self._state
        if state is _ACTIVE or state is _WAITING:  # enum members read once: see _ACTIVE
            turn = self._turn
            assert turn is not None
            if not turn.corr.claims(event, event_id):
                return []
            turn.acc.add_timestamp(event.processed_at)
            handler = _HANDLERS.get(type(event)) or _handler_for(type(event))
            return handler(self, turn, event, event_id)
        if state is TurnState.PENDING:
            assert self._turn is not None
            self._turn.corr.keep(event, event_id, self._max_pending)
        elif state is TurnState.IDLE:
            parked = self._parked
            if isinstance(event, SESSION_ENDS):
                self._end_session(event)
            elif parked is not None and parked.corr.claims(event, event_id):
                parked.corr.keep(event, event_id, self._max_pending)
        return []

    def _replay(self, turn: TurnRecord) -> list[Output]:
        """Handle the kept events of ``turn`` in arrival order, then act on an overflow."""
        kept, overflow = turn.corr.take_kept()
        out: list[Output] = []
        for event, event_id in kept:
            out += self._route(event, event_id)
        if overflow:
            if self._turn is turn:
                message = (
                    f"{overflow} events arrived beyond the buffer of {self._max_pending} "
                    "while the turn could not be followed; they were not handled"
                )
                out += self._finish(turn, TurnEnding.failure("buffer_overflow", message))
            elif self._parked is turn:
                turn.corr.overflow += overflow
        return out

    # --- endings ------------------------------------------------------------------------

    def _fail(self, terminal_reason: str, message: str) -> list[Output]:
        turn = self._turn
        if turn is None:
            return []
        ending = TurnEnding.failure(terminal_reason, message)
        if self._state is TurnState.PENDING:
            turn.failure = turn.failure or ending
            return []
        return self._finish(turn, ending)

    def _finish(
        self, turn: TurnRecord, ending: TurnEnding, pending: tuple[ToolUseBlock, ...] = ()
    ) -> list[Output]:
        """End ``turn``: the pair ``Deliver(result), TurnComplete(result)``."""
        result = turn.acc.build(
            ending,
            session_id=self.session_id,
            num_turns=turn.num_turns,
            duration_ms=int((self._clock() - turn.started) * 1000),
            turn_ids=tuple(turn.corr.turn_ids),
            pending_tool_uses=pending,
        )
        self._last_result = result
        self._turn = None
        self._state = TurnState.IDLE
        if ending.terminal_reason == "requires_action":
            self._parked = turn
        return [Deliver(result), TurnComplete(result)]

    def _end_session(self, event: e.Event) -> None:
        self._session_end = "deleted" if isinstance(event, e.SessionDeleted) else "terminated"
        self._parked = None
        self._state = TurnState.ENDED

    def _update_waiting(self, turn: TurnRecord) -> None:
        if self._state is TurnState.WAITING_FOR_ANSWERS and turn.corr.all_answered:
            self._state = TurnState.ACTIVE

    def _requires_action(self, turn: TurnRecord, event_ids: tuple[str, ...]) -> list[Output]:
        """§6.4: hand every newly listed call to a handler, or end the turn if one has none."""
        corr = turn.corr
        fresh = corr.unanswered(event_ids)
        if event_ids and not fresh:
            return []  # every listed call is being answered already (an interim idle)
        actions: list[Output] = []
        for tool_use_id in fresh:
            action = self._action_for(corr.tool_uses.get(tool_use_id), tool_use_id)
            if action is None:
                break
            actions.append(action)
        else:
            if actions:
                corr.dispatched.update(fresh)
                self._state = TurnState.WAITING_FOR_ANSWERS
                return actions
        pending = tuple(turn.pending_tool_use(tool_use_id) for tool_use_id in fresh)
        return self._finish(turn, TurnEnding.idle("requires_action"), pending)

    def _action_for(
        self, event: ToolUseEvent | None, tool_use_id: str
    ) -> RunCustomTool | AskPermission | None:
        """What to ask a handler about call ``event``; ``None`` if no handler takes it."""
        if isinstance(event, e.AgentCustomToolUse) and event.name in self._custom_tool_names:
            return RunCustomTool(event, tool_use_id)
        if isinstance(event, (e.AgentToolUse, e.AgentMCPToolUse)) and self._answers(event):
            return AskPermission(event, tool_use_id)
        return None

    def _answers(self, event: e.AgentToolUse | e.AgentMCPToolUse) -> bool:
        if self._handles_permissions:
            return True
        rules = self._answers_permission
        return rules is not None and rules(permission_name(event))

    # --- current-turn events, one handler per event class (see _HANDLERS) ---------------

    def _on_message(
        self, turn: TurnRecord, event: e.AgentMessageEvent, event_id: str | None
    ) -> list[Output]:
        turn.acc.add_message(event)
        message = self._assistant(turn, event, event_id, event.content)
        if turn.partials is None:  # no preview to stop: the usual case, kept short
            return [message]
        return [*self._finish_preview(turn, event_id), message]

    def _on_span_start(
        self, turn: TurnRecord, event: e.SpanModelRequestStart, event_id: str | None
    ) -> list[Output]:
        turn.model = event.model or ""
        turn.acc.add_model_request_start(event, event_id)
        turn.requests_started += 1
        limit = self._max_requests
        if limit is not None and turn.requests_started > limit and not turn.limit_enforced:
            turn.limit_enforced = True
            return [EnforceLimit("max_turns")]
        return []

    def _on_span_end(
        self, turn: TurnRecord, event: e.SpanModelRequestEnd, event_id: str | None
    ) -> list[Output]:
        turn.acc.add_model_request_end(event)
        out: list[Output] = []
        if turn.partials is not None:  # previews left unfinished end with the request
            out += self._partial(turn.partials.finish_all(), None)
        if self._watch_cost and turn.limit is None:
            out.append(EnforceLimit("max_budget_usd"))
        return out

    def _on_tool_use(
        self, turn: TurnRecord, event: ToolUseEvent, event_id: str | None
    ) -> list[Output]:
        if event_id is not None:
            turn.corr.tool_uses[event_id] = event
        block = tool_use_block(event, event_id or "")
        return [self._assistant(turn, event, event_id, (block,))]

    def _on_tool_result(
        self,
        turn: TurnRecord,
        event: e.AgentToolResult | e.AgentMCPToolResult,
        event_id: str | None,
    ) -> list[Output]:
        ref = event.tool_use_id if isinstance(event, e.AgentToolResult) else event.mcp_tool_use_id
        block = ToolResultBlock(
            tool_use_id=ref or "", content=event.content, is_error=event.is_error
        )
        turn_id = event.turn_id or turn.corr.first_turn_id
        message = UserMessage((block,), uuid=event_id, session_id=self.session_id, turn_id=turn_id)
        out: list[Output] = [deliver(message)]
        tool_use = turn.corr.tool_uses.get(ref or "")
        observes = self._observes_result
        if (
            observes is not None
            and isinstance(tool_use, (e.AgentToolUse, e.AgentMCPToolUse))
            and observes(permission_name(tool_use))
        ):
            out.append(ObserveToolResult(tool_use, ref or "", event))
        return out

    def _on_thinking(
        self, turn: TurnRecord, event: e.AgentThinking, event_id: str | None
    ) -> list[Output]:
        thinking = ThinkingBlock(event.thinking or "")
        stops = self._finish_preview(turn, event_id)
        return [*stops, self._assistant(turn, event, event_id, (thinking,))]

    def _on_preview(
        self, turn: TurnRecord, event: e.EventStart | e.EventDelta, event_id: str | None
    ) -> list[Output]:
        if not self._include_partial:
            return []
        partials = turn.partials = turn.partials or PartialMessages()
        pairs = partials.start(event) if isinstance(event, e.EventStart) else partials.delta(event)
        return self._partial(pairs, event.event_id)

    def _finish_preview(self, turn: TurnRecord, event_id: str | None) -> list[Output]:
        """The stop events of the preview the final event ``event_id`` replaces."""
        if turn.partials is None:
            return []
        return self._partial(turn.partials.finish(event_id), event_id)

    def _partial(self, pairs: Pairs, uuid: str | None) -> list[Output]:
        session_id = self.session_id
        return [
            Deliver(StreamEvent(uuid=uuid or "", session_id=session_id, event=ev, preview=raw))
            for ev, raw in pairs
        ]

    def _on_idle(
        self, turn: TurnRecord, event: e.SessionStatusIdle, event_id: str | None
    ) -> list[Output]:
        stop = event.stop_reason
        if stop is not None and stop.type == "requires_action":
            return self._requires_action(turn, stop.event_ids)
        kind = stop.type if stop is not None else None
        if turn.interrupted and kind in (None, "end_turn"):
            if turn.limit is not None:
                return self._finish(turn, TurnEnding.limit_reached(turn.limit, kind))
            return self._finish(turn, TurnEnding.interrupted(kind))
        return self._finish(turn, TurnEnding.idle(kind, tuple(turn.retrying_errors)))

    def _on_answer(
        self,
        turn: TurnRecord,
        event: e.UserCustomToolResult | e.UserToolConfirmation,
        event_id: str | None,
    ) -> list[Output]:
        if isinstance(event, e.UserCustomToolResult):
            turn.corr.answer(event.custom_tool_use_id)
        else:
            turn.corr.answer(event.tool_use_id)
        self._update_waiting(turn)
        return []

    def _on_interrupt(
        self, turn: TurnRecord, event: e.UserInterrupt, event_id: str | None
    ) -> list[Output]:
        turn.corr.abandon()  # §6.7: pending answers are abandoned
        self._update_waiting(turn)
        return []

    def _on_session_error(
        self, turn: TurnRecord, event: e.SessionError, event_id: str | None
    ) -> list[Output]:
        error = event.error
        out: list[Output] = [Deliver(SystemMessage("session_error", event.raw))]
        message = error.message or f"the session failed ({error.type or event.code or 'unknown'})"
        if error.retry_status == "retrying":  # §6.4, §7 defect 4: not terminal
            turn.retrying_errors.append(message)
            turn.acc.warn(f"session.error {error.type or ''} (server retrying): {message}")
        else:  # exhausted, terminal, absent, unknown, or the legacy string form
            out += self._finish(turn, TurnEnding.failure("session_error", message))
        return out

    def _on_rescheduled(
        self, turn: TurnRecord, event: e.SessionStatusRescheduled, event_id: str | None
    ) -> list[Output]:
        return [Deliver(SystemMessage("status_rescheduled", event.raw))]

    def _on_session_end(
        self,
        turn: TurnRecord,
        event: e.SessionStatusTerminated | e.Terminated | e.SessionDeleted,
        event_id: str | None,
    ) -> list[Output]:
        if isinstance(event, e.SessionDeleted):
            ending = TurnEnding.failure("deleted", "the session was deleted")
        else:  # §7 defect 1: both spellings end the turn
            reason = f": {event.reason}" if event.reason else ""
            ending = TurnEnding.failure("terminated", f"the session was terminated{reason}")
        out = self._finish(turn, ending)
        self._end_session(event)
        return out

    def _on_malformed(
        self, turn: TurnRecord, event: e.MalformedEvent, event_id: str | None
    ) -> list[Output]:
        where = f" (id {event_id})" if event_id else ""
        turn.acc.warn(f"malformed {event.type or 'event'} frame{where}: {event.reason}")
        return []

    def _no_effect(self, turn: TurnRecord, event: e.Event, event_id: str | None) -> list[Output]:
        # user.message echoes, status_running and unknown events add nothing here.
        return []

    def _assistant(
        self,
        turn: TurnRecord,
        event: e.Event,
        event_id: str | None,
        content: tuple[ContentBlock, ...],
    ) -> Deliver:
        turn_ids = turn.corr.turn_ids
        turn_id = event.turn_id or (turn_ids[0] if turn_ids else None)
        message = new_assistant_message(content, turn.model, event_id, self.session_id, turn_id)
        return deliver(message)


_Handler = Callable[[Conversation, TurnRecord, Any, str | None], list[Output]]

_HANDLERS: dict[type[Any], _Handler] = {
    e.AgentMessageEvent: Conversation._on_message,
    e.SpanModelRequestStart: Conversation._on_span_start,
    e.SpanModelRequestEnd: Conversation._on_span_end,
    e.AgentToolUse: Conversation._on_tool_use,
    e.AgentMCPToolUse: Conversation._on_tool_use,
    e.AgentCustomToolUse: Conversation._on_tool_use,
    e.AgentToolResult: Conversation._on_tool_result,
    e.AgentMCPToolResult: Conversation._on_tool_result,
    e.AgentThinking: Conversation._on_thinking,
    e.EventStart: Conversation._on_preview,
    e.EventDelta: Conversation._on_preview,
    e.SessionStatusIdle: Conversation._on_idle,
    e.UserCustomToolResult: Conversation._on_answer,
    e.UserToolConfirmation: Conversation._on_answer,
    e.UserInterrupt: Conversation._on_interrupt,
    e.SessionError: Conversation._on_session_error,
    e.SessionStatusRescheduled: Conversation._on_rescheduled,
    e.SessionStatusTerminated: Conversation._on_session_end,
    e.Terminated: Conversation._on_session_end,
    e.SessionDeleted: Conversation._on_session_end,
    e.MalformedEvent: Conversation._on_malformed,
}
"""The handler of each event class of the current turn (§6.4), looked up by exact class.

Built once; :func:`_handler_for` adds any other class the first time it is met.
"""


def permission_name(event: e.AgentToolUse | e.AgentMCPToolUse) -> str:
    """The name permission rules know a call by: the tool's, or ``mcp__<server>__<tool>``."""
    if isinstance(event, e.AgentMCPToolUse) and event.mcp_server_name:
        return f"mcp__{event.mcp_server_name}__{event.name}"
    return event.name


def _handler_for(cls: type[Any]) -> _Handler:
    """The handler of an event class not in :data:`_HANDLERS` yet, remembered there: that of
    its nearest handled base class, else one with no effect."""
    handler = next(
        (_HANDLERS[base] for base in cls.__mro__ if base in _HANDLERS), Conversation._no_effect
    )
    _HANDLERS[cls] = handler
    return handler
