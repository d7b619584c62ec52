"""Every step of a session as a generator of effects: the whole client, without I/O.

:class:`SessionCore` is one conversation's state (lifecycle, configuration, the
:class:`~.turn.Conversation`, the :class:`~.stream.EventStream`, the :class:`~.inbox.Inbox`)
and its *flows*: ``connect``, ``query``, ``respond``, ``interrupt``, ``next_message``,
``next_event`` and ``disconnect``, each a ``Generator[Effect, EffectResult, T]`` (see
:mod:`.effects`). A facade runs a flow to its end, performing each effect it yields and sending
back the result, and gets the step's answer as the generator's return value::

    flow = core.query("Hi")
    result = None
    try:
        while True:
            effect = flow.send(result)
            result = perform(effect)        # httpx + anyio, or blocking calls and threads
    except StopIteration as done:
        answer = done.value
    finally:
        flow.close()

Reading is pulled: bytes are read only while a ``next_message``/``next_event`` flow runs, and
each such flow returns as soon as one thing can be handed out, so a turn ends the moment its
terminal event is decoded. A flow interrupted by a cancellation (``flow.close()`` at a yield)
leaves the state consistent: the stream is marked closed and resumed from the cursor by the
next read, a tool answer not yet posted is given again, a turn whose prompt was not accepted
never starts.

A message can become deliverable outside a reader: a ``query()`` reply releases events that
were buffered while the prompt was in flight. The flow that released it then yields
:class:`~.effects.WakeReader`, so that a reader waiting in another task or thread returns
now rather than at the next byte on the stream.
"""

from __future__ import annotations

import enum
import logging
import random
import time
import weakref
from collections.abc import Callable, Generator, Iterable, Mapping
from typing import Any, Final, TypeVar

import attrs

from . import answering, connecting, hooking, overrides
from . import requests as rq
from . import resource_requests as rr
from .answers import PermissionDecision
from .calls import Caller
from .config import LocalTool, SessionConfig
from .costs import watches_cost
from .effects import (
    CloseHTTP,
    CloseStream,
    Effect,
    EffectResult,
    OpenHTTP,
    WakeReader,
)
from .errors import ClientStateError, ProtocolError
from .events import Event
from .inbox import Inbox
from .messages import Message, ResultMessage, SystemMessage
from .permissions import PermissionPolicy, check_permission_mode
from .prompts import check_query_options, prompt_content
from .reading import Reader
from .resources import Session, structure_resource
from .stream import EventStream
from .turn import Conversation, TurnState

__all__ = ["Delivery", "Flow", "Phase", "SessionCore"]

logger = logging.getLogger("qoder")

T = TypeVar("T")
Flow = Generator[Effect, EffectResult, T]
"""A step of a session: yields effects, is sent their results, returns its answer."""


class Phase(enum.Enum):
    """Where a client is in its lifecycle."""

    NEW = "new"
    """Constructed; ``connect()`` not called yet."""
    CONNECTING = "connecting"
    """``connect()`` is creating or attaching to the session."""
    CONNECTED = "connected"
    """A session is attached; queries may be sent."""
    CLOSED = "closed"
    """``disconnect()`` was called (or ``connect()`` failed); the client cannot be reused."""


_CONNECTED: Final = Phase.CONNECTED  # read once: an enum member costs a lookup each time


Delivery = tuple[Message, bool]
"""A message for the reader, and whether the ``receive_response()`` it was read for ends with
it. A plain pair: one is made for every message handed out."""


def _ends_reading(ends: int | None, stop_turn: int | None) -> bool:
    """Whether a message that ends turn ``ends`` (``None``: none) is the last of a reading that
    stops at turn ``stop_turn`` (``None``: never stops)."""
    return stop_turn is not None and ends is not None and ends >= stop_turn


class _WeakCore:
    """The calls the core's parts make back into it, holding it weakly: no reference cycle
    between the core and its parts, so that a client dropped after ``disconnect()`` is freed at
    once by reference counting. With a cycle, every closed conversation waited for the cyclic
    collector's next full collection, and each of those walked all of them."""

    __slots__ = ("_core",)

    def __init__(self, core: SessionCore) -> None:
        self._core = weakref.ref(core)

    def closed(self) -> bool:
        core = self._core()
        return core is None or core.closed

    def permissions(self) -> PermissionPolicy:
        core = self._core()
        return core.permissions if core is not None else PermissionPolicy()

    def answers_permission(self, tool_name: str) -> bool:
        core = self._core()
        return core is not None and core._answers_permission(tool_name)

    def observes_result(self, tool_name: str) -> bool:
        core = self._core()
        return core is not None and core._observes_result(tool_name)


class SessionCore:
    """The I/O-free whole of one client; driven by exactly one facade.

    ``clock`` (monotonic seconds) and ``rand`` (floats in [0, 1) for jitter) are parameters
    so that tests are exact.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.phase = Phase.NEW
        self.config: SessionConfig | None = None
        self.session: Session | None = None
        """The attached session as last read (at ``connect()``, or ``refresh_session()``)."""
        self.conversation: Conversation | None = None
        self.stream: EventStream | None = None
        self.reader: Reader | None = None
        self.inbox = Inbox(10_000)
        self.caller: Caller | None = None
        """The HTTP half (headers, token, retries), once configured."""
        self._clock = clock
        self._rand = rand
        self._reading = False
        self._tools: dict[str, LocalTool] = {}
        self.permissions = PermissionPolicy()
        """The client's own permission rules (``set_permission_mode()`` replaces them)."""
        self._stop_continuations = 0  # Stop hooks that continued the conversation in a row
        self._stop_hooks = False  # Stop hooks are registered: each turn's end goes to them
        self._weak = _WeakCore(self)  # what the core's parts call back into it through

    @property
    def closed(self) -> bool:
        """Whether ``disconnect()`` was called or ``connect()`` failed (maybe by another
        thread while a flow was suspended)."""
        return self.phase is Phase.CLOSED

    @property
    def session_id(self) -> str | None:
        """The id of the attached session (``None`` before ``connect()``)."""
        return self.conversation.session_id if self.conversation is not None else None

    @property
    def state(self) -> str:
        """The lifecycle phase as a word (``new``, ``connecting``, ``connected``, ``closed``),
        for the facades' reprs."""
        return self.phase.value

    # --- lifecycle flows ---------------------------------------------------------------------

    def connect(self, resolve: Callable[[], SessionConfig]) -> Flow[None]:
        """Create the session (or attach to ``resume``) and open its stream.

        ``resolve`` gives the configuration; it runs after the state check, so a second
        ``connect()`` is refused before the environment is read. On any failure the client
        is CLOSED (the facade releases what it opened).
        """
        if self.phase is not Phase.NEW:
            raise ClientStateError(
                f"connect() was already called (the client is {self.phase.value}); "
                "create a new client for a new conversation."
            )
        self.phase = Phase.CONNECTING
        try:
            config = resolve()
            self._configure(config)
            yield OpenHTTP(config.timeouts, self._require_caller().static_headers())
            resume = config.resume
            if config.continue_conversation and isinstance(config.agent, str):
                resume = yield from connecting.newest_session(self._require_caller(), config.agent)
            if resume is not None:
                resuming = connecting.resume(self._require_caller(), resume)
                session, cursor, running = yield from resuming
                session = yield from connecting.reconfigure(self._require_caller(), config, session)
            else:
                created = yield from connecting.create(self._require_caller(), config)
                session, cursor, running = created, None, None
            self._attach(config, session, cursor)
            if running is not None:  # pick up the turn still running (§6.2, §6.3)
                conversation = self._require_conversation()
                conversation.begin_turn()
                self.inbox.absorb(conversation.on_post_reply({"data": [running]}))
            yield from self._require_reader().open_stream()
        except BaseException:
            self.phase = Phase.CLOSED
            raise
        self.phase = Phase.CONNECTED
        source = {"source": "resume" if resume is not None else "startup"}
        session_id = self.session_id or ""
        yield from hooking.session_event(config.hooks, "SessionStart", session_id, source)

    def disconnect(self) -> Flow[None]:
        """Stop a reader wherever it is, close the stream and the HTTP client the facade made.
        Idempotent."""
        if self.phase is Phase.CLOSED:
            return
        connected = self.phase is Phase.CONNECTED
        self.phase = Phase.CLOSED
        if connected and self.config is not None:
            reason = {"reason": "other"}
            yield from hooking.session_event(
                self.config.hooks, "SessionEnd", self.session_id or "", reason
            )
        if self.stream is not None:
            self.stream.gone("the client disconnected")
        if self._reading:
            yield WakeReader(hard=True)
        yield CloseStream()
        yield CloseHTTP()

    # --- turn flows ----------------------------------------------------------------------------

    def query(
        self,
        prompt: str | Iterable[Any],
        session_id: str | None = None,
        official: Mapping[str, Any] | None = None,
    ) -> Flow[None]:
        """Post a ``user.message`` and return once it is accepted (the turn is then ACTIVE).

        ``prompt``: see :func:`.prompts.prompt_content`. ``session_id`` is the official SDK's
        argument: ``None``, ``"default"`` or the attached session's id; any other is refused,
        as are the official ``query()``'s other keywords set to anything but their defaults
        (``official``).
        """
        check_query_options(official or {})
        conversation = self._require_connected("query")
        if session_id not in (None, "default", conversation.session_id):
            raise ValueError(
                f"query(session_id={session_id!r}): this client is attached to session "
                f"{conversation.session_id}; use another client (resume=...) for another session"
            )
        self._stop_continuations = 0
        yield from self._post_prompt(prompt_content(prompt), wake=True)

    def _post_prompt(self, content: str | list[Any], *, wake: bool) -> Flow[None]:
        """Post one ``user.message`` (with the hooks' ``system.message``) and start its turn."""
        conversation = self._require_conversation()
        pending = self._require_reader().pending_context
        hooks = self._require_config().hooks
        notes = yield from hooking.prompt_submitted(
            hooks, conversation.session_id, content, pending
        )
        request = self._events_request([rq.user_message(content), *notes])
        conversation.begin_turn()  # only once the prompt is known to be sendable
        self.inbox.clear_answers()
        self._require_stream().retry()  # a new turn tries a lost stream again
        try:
            reply = yield from self._call(request)
        except BaseException:
            conversation.abort_turn()
            raise
        pending.clear()  # the context went with this prompt
        self.inbox.absorb(conversation.on_post_reply(reply))
        if wake:
            yield from self._wake_reader()

    def respond(
        self,
        tool_results: Mapping[str, Any] | None,
        confirmations: Mapping[str, PermissionDecision | bool] | None,
    ) -> Flow[None]:
        """Post the answers to a turn that ended on ``requires_action``; once accepted the
        turn resumes (read on)."""
        conversation = self._require_connected("respond")
        last = conversation.last_result
        if conversation.state is not TurnState.IDLE or last is None or not last.pending_tool_uses:
            raise ClientStateError(
                "respond() answers the tool calls of a turn that ended with stop_reason "
                "'requires_action' (see ResultMessage.pending_tool_uses); there is none now."
            )
        inputs = {use.id: use.input for use in last.pending_tool_uses}
        events = answering.manual_answers(tool_results, confirmations, inputs)
        interrupting = events[-1]["type"] == "user.interrupt"  # a denial with interrupt=True
        if interrupting:
            conversation.note_interrupt()  # the turn ends "interrupted" (§6.7)
        try:
            reply = yield from self._call(self._events_request(events))
        except BaseException:
            if interrupting:
                conversation.note_interrupt(sent=False)
            raise
        self.inbox.absorb(conversation.respond_manually())
        self.inbox.absorb(conversation.on_answer_reply(reply))
        yield from self._wake_reader()

    def interrupt(self) -> Flow[None]:
        """Post ``user.interrupt`` (§6.7); the turn's ResultMessage still arrives, with
        ``terminal_reason="interrupted"``."""
        conversation = self._require_connected("interrupt")
        request = self._events_request([rq.interrupt()])
        conversation.note_interrupt()  # the turn ends "interrupted" (§6.7)
        try:
            reply = yield from self._call(request)
        except BaseException:
            conversation.note_interrupt(sent=False)
            raise
        self.inbox.absorb(conversation.on_answer_reply(reply))
        yield from self._wake_reader()

    def refresh_session(self) -> Flow[Session | None]:
        """Read the attached session again (§3.4): its status, title, usage, ..."""
        self._require_connected("refresh_session")
        self._keep_session((yield from self._call(rq.retrieve_session(self.session_id or ""))))
        return self.session

    def set_model(self, model: str | None) -> Flow[None]:
        """Use ``model`` from the next model request on (§8.2); ``None``: the agent's own."""
        self._require_connected("set_model")
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise ValueError("set_model() takes a model name, or None for the agent's own")
        if model is None:
            config = self._require_config()
            agent_id = self.session.agent_id if self.session is not None else None
            agent_id = agent_id or (config.agent if isinstance(config.agent, str) else None)
            if agent_id is None:
                raise ProtocolError("the session names no agent whose model to go back to")
            agent = yield from self._call(rr.retrieve_agent(agent_id, version=config.agent_version))
            model = agent.get("model") if isinstance(agent, dict) else None
            if model is None:
                raise ProtocolError(f"agent {agent_id} names no model")
        request = rr.update_session(self.session_id or "", agent={"model": model})
        self._keep_session((yield from self._call(request)))

    def set_permission_mode(self, mode: str) -> Flow[None]:
        """Answer confirmations by ``mode``'s rules from now on (see :mod:`.permissions`).

        When the new mode changes whether the client decides the server-side tool calls
        (``dontAsk``, or ``can_use_tool`` outside ``bypassPermissions``), the session's
        toolsets are changed to match (§8.2), from the next model request: they ask about
        every call, or follow the agent's own policies again."""
        self._require_connected("set_permission_mode")
        mode = check_permission_mode(mode)
        config = self._require_config()
        before = attrs.evolve(config, permission_mode=self.permissions.mode)
        after = attrs.evolve(config, permission_mode=mode)
        if overrides.client_decides(before) != overrides.client_decides(after):
            session = self.session
            agent_id = session.agent_id if session is not None else None
            request = connecting.retool(
                self._require_caller(), after, self.session_id or "", agent_id
            )
            updated = yield from request
            if updated is not None:
                self._keep_session(updated)
        self.permissions = attrs.evolve(self.permissions, mode=mode)

    def cancel(self) -> Flow[None]:
        """Hard-cancel the turn the session is running (§3.8): for a turn that an interrupt
        did not stop. The turn's ResultMessage still arrives (the stream ends it idle)."""
        conversation = self._require_connected("cancel")
        conversation.note_interrupt()  # the turn ends "interrupted" (§6.7)
        try:
            yield from self._call(rq.cancel_session(self.session_id or ""))
        except BaseException:
            conversation.note_interrupt(sent=False)
            raise

    def _keep_session(self, session: Any) -> None:
        try:
            self.session = structure_resource(session, Session, "the session")
        except ProtocolError as error:  # keep conversing: the session object is informative
            logger.warning("the session object could not be read: %s", error)

    # --- reading flows -----------------------------------------------------------------------

    def response_turn(self) -> Flow[int | None]:
        """Start a ``receive_response()``: the turn number whose end ends it, or ``None`` when
        there is nothing to wait for (no unread message and no turn underway)."""
        conversation = self._require_connected("receive_response")
        idle = conversation.state in (TurnState.IDLE, TurnState.ENDED)
        yield from ()  # a flow like the others, with no effect to ask for
        return None if idle and not self.inbox.has_messages else conversation.num_turns

    def next_message(self, stop_turn: int | None, method: str | None) -> Flow[Delivery | None]:
        """Read until a message can be handed out, or ``None`` when no more can come.

        ``stop_turn``: the delivery that ends this turn (or a later one) is ``last``
        (``receive_response()``); ``None`` never stops (``receive_messages()``). ``method``
        names the iteration on its first read, which must find the client connected; later
        reads (``None``) end quietly once it is not: ``disconnect()`` ends an iteration.
        """
        if self._iteration_over(method):
            return None
        with self._reader():
            while True:
                message = self.inbox.pop_message()
                if message is not None:
                    ends = self.inbox.turn_ended_by(message)
                    if ends is not None and isinstance(message, ResultMessage):
                        continued = yield from self._continue_on_stop(message)
                        if continued is not None:
                            return continued, False
                    return message, _ends_reading(ends, stop_turn)
                if not (yield from self._require_reader().progress()):
                    return None

    def ready_message(self, stop_turn: int | None) -> Delivery | None:
        """A message already decoded, handed out without a flow: the common case while a turn
        streams (its events come in chunks of several). ``None``: run :meth:`next_message`
        (nothing waits, the client is not connected, another reader is reading, or ``Stop``
        hooks must see the turn's end). Not a flow, so it asks for no effect."""
        if self.phase is not _CONNECTED or self._reading or self._stop_hooks:
            return None
        inbox = self.inbox
        message = inbox.pop_message()
        if message is None:
            return None
        if not isinstance(message, ResultMessage):
            return message, False
        ends = inbox.turn_ended_by(message)
        return message, _ends_reading(ends, stop_turn)

    def _continue_on_stop(self, result: ResultMessage) -> Flow[Message | None]:
        """Run the ``Stop`` hooks on a turn's result; if one blocks, post its reason as the
        next prompt and hand out, instead of the result, a ``SystemMessage`` that says so
        (``stop_hook_continued``, with the reason and the result)."""
        config = self._require_config()
        reason = yield from hooking.stop_requested(
            config.hooks, result.session_id, result, self._stop_continuations
        )
        if reason is None:
            self._stop_continuations = 0
            return None
        self._stop_continuations += 1
        yield from self._post_prompt(reason, wake=False)
        return SystemMessage("stop_hook_continued", {"reason": reason, "result": result})

    def next_event(self, method: str | None) -> Flow[Event | None]:
        """Read until a raw event can be handed out (``receive_events()``), or ``None``;
        ``method`` as for :meth:`next_message`."""
        if self._iteration_over(method):
            return None
        self.inbox.collecting_events = True
        with self._reader():
            while True:
                event = self.inbox.pop_event()
                if event is not None:
                    return event
                if not (yield from self._require_reader().progress()):
                    return None

    def stop_events(self) -> Flow[None]:
        """The ``receive_events()`` iteration ended: stop keeping raw events."""
        yield from ()  # a flow like the others, with no effect to ask for
        self.inbox.stop_events()

    # --- configuration -------------------------------------------------------------------------

    def _configure(self, config: SessionConfig) -> None:
        self.config = config
        self.caller = Caller(config, closed=self._weak.closed)
        self.inbox.max_messages = config.max_buffered_messages
        self._tools = {tool.name: tool for tool in config.tools}
        self._stop_hooks = config.hooks is not None and config.hooks.handles_event("Stop")
        self.permissions = PermissionPolicy(
            mode=check_permission_mode(config.permission_mode),
            allowed=config.allowed_tools,
            disallowed=config.disallowed_tools,
            has_callback=config.can_use_tool is not None,
        )

    def _attach(self, config: SessionConfig, session: Any, cursor: str | None) -> None:
        session_id = connecting.require_id(session, "session")
        self._keep_session(session)
        self.conversation = Conversation(
            session_id=session_id,
            custom_tool_names=tuple(self._tools),
            answers_permission=self._weak.answers_permission,  # the callback included
            observes_result=self._weak.observes_result,
            max_model_requests=config.max_turns,
            watch_cost=watches_cost(config, session),
            include_partial_messages=config.include_partial_messages,
            cursor=cursor,
            clock=self._clock,
        )
        self.stream = EventStream(
            session_id,
            reconnect_delay=config.stream_reconnect_delay,
            max_reconnects=config.max_stream_reconnects,
            partial=config.include_partial_messages,
            clock=self._clock,
            rand=self._rand,
        )
        self.reader = Reader(
            config=config,
            caller=self._require_caller(),
            conversation=self.conversation,
            stream=self.stream,
            inbox=self.inbox,
            tools=self._tools,
            closed=self._weak.closed,
            permissions=self._weak.permissions,
        )

    def _answers_permission(self, tool_name: str) -> bool:
        """Whether the client answers a confirmation of ``tool_name`` (its rules, its
        callback, or the hooks the toolset was made to ask for)."""
        config = self._require_config()
        return config.asked_for_hooks(tool_name) or self.permissions.answers(tool_name)

    def _observes_result(self, tool_name: str) -> bool:
        """Whether a server-side tool's result goes to ``PostToolUse`` hooks."""
        hooks = self._require_config().hooks
        return hooks is not None and hooks.handles("PostToolUse", tool_name)

    # --- HTTP ----------------------------------------------------------------------------------

    def redact(self, text: str) -> str:
        """``text`` without any token this client used (before connect(): unchanged)."""
        return self.caller.redact(text) if self.caller is not None else text

    def _call(self, request: rq.APIRequest) -> Flow[Any]:
        return self._require_caller().call(request)

    def _events_request(self, events: list[dict[str, Any]]) -> rq.APIRequest:
        return rq.send_events(self.session_id or "", events)

    # --- the stream ----------------------------------------------------------------------------

    def _reader(self) -> _Reading:
        return _Reading(self)

    def _wake_reader(self) -> Flow[None]:
        if self._reading and self.inbox.has_messages:
            yield WakeReader()

    # --- answering tool calls ------------------------------------------------------------------

    # --- state checks --------------------------------------------------------------------------

    def _require_connected(self, method: str) -> Conversation:
        if self.phase is Phase.CONNECTED and self.conversation is not None:
            return self.conversation
        if self.phase is Phase.CLOSED:
            raise ClientStateError(f"{method}() called after disconnect(); create a new client.")
        raise ClientStateError(
            f"{method}() called before connect(): use 'async with'/'with' on the client, or "
            "call connect() first."
        )

    def _iteration_over(self, method: str | None) -> bool:
        if method is not None:
            self._require_connected(method)
        return self.closed

    def _require_config(self) -> SessionConfig:
        if self.config is None:
            raise ClientStateError("connect() has not resolved the options yet")
        return self.config

    def _require_caller(self) -> Caller:
        if self.caller is None:
            raise ClientStateError("connect() has not resolved the options yet")
        return self.caller

    def _require_conversation(self) -> Conversation:
        if self.conversation is None:
            raise ClientStateError("no session is attached; call connect() first")
        return self.conversation

    def _require_reader(self) -> Reader:
        if self.reader is None:
            raise ClientStateError("no session is attached; call connect() first")
        return self.reader

    def _require_stream(self) -> EventStream:
        if self.stream is None:
            raise ClientStateError("no session is attached; call connect() first")
        return self.stream


class _Reading:
    """One reader at a time: held while a reading flow runs (not between its deliveries)."""

    def __init__(self, core: SessionCore) -> None:
        self._core = core

    def __enter__(self) -> None:
        if self._core._reading:
            raise ClientStateError(
                "another task or thread is already reading this client; read it from one "
                "task at a time"
            )
        self._core._reading = True

    def __exit__(self, *exc: object) -> None:
        self._core._reading = False
