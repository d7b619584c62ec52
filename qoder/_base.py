"""The client core both facades drive: lifecycle, connect steps, stream reading, turns.

The no-I/O base of the two facades, as httpx has ``BaseClient``.

Everything here is decisions and bookkeeping; the facades only perform what it asks for (send a
request, sleep, read a chunk, run a tool handler) with httpx and anyio or blocking calls. That
keeps :class:`~qoder.SyncClient` and :class:`~qoder.AsyncClient` line-for-line parallel.

Reading is *pulled*: the event stream is opened at ``connect()`` and kept open across turns, but
bytes are read only while the user iterates. A turn therefore ends the moment its terminal
event is decoded (nothing waits for a later keep-alive), unread messages cost no client memory
beyond one chunk, and cancelling a reader just closes the stream: the next read resumes from the
cursor, losing and repeating nothing.
"""

from __future__ import annotations

import enum
import logging
from collections import deque
from collections.abc import Generator, Iterable, Mapping
from typing import Any

import attrs
import httpx

from . import __version__
from ._protocol import jsonio
from ._protocol import requests as rq
from ._protocol.convert import decode_frame
from ._protocol.events import (
    AgentCustomToolUse,
    AgentMCPToolUse,
    AgentToolUse,
    Event,
    SessionDeleted,
    StreamErrorFrame,
)
from ._protocol.messages import Message, ResultMessage
from ._protocol.retry import ReconnectBackoff, RetryPolicy, call_flow
from ._protocol.sse import SSEDecoder
from ._protocol.status import error_from_response
from ._protocol.turn import (
    AskPermission,
    Conversation,
    Deliver,
    Output,
    RunCustomTool,
    TurnState,
)
from .errors import ClientStateError, ProtocolError
from .options import (
    AgentSpec,
    EnvironmentSpec,
    QoderAgentOptions,
    ResolvedOptions,
    resolve_options,
)
from .tools import (
    CustomTool,
    PermissionDecision,
    PermissionResultAllow,
    PermissionResultDeny,
    ToolPermissionContext,
    describe_failure,
    result_content,
)

__all__ = ["ClientCore", "ClientState", "FeedResult", "StreamGone", "StreamRetry"]

logger = logging.getLogger("qoder")


class ClientState(enum.Enum):
    """Where a client is in its lifecycle."""

    NEW = "new"
    """Constructed; ``connect()`` not called yet."""
    CONNECTING = "connecting"
    """``connect()`` is creating or attaching to the session."""
    CONNECTED = "connected"
    """A session is attached; queries may be sent."""
    CLOSED = "closed"
    """``disconnect()`` was called (or ``connect()`` failed); the client cannot be reused."""


@attrs.frozen
class FeedResult:
    """What one chunk of stream bytes produced (its messages and answers are already queued)."""

    events: list[Event]
    stream_failed: str | None = None
    """An in-band ``error`` frame arrived: drop the connection and resume (§5 rule 13)."""


@attrs.frozen
class StreamRetry:
    """Reconnect the stream after ``delay`` seconds."""

    delay: float


@attrs.frozen
class StreamGone:
    """The stream cannot be resumed; ``reason`` says why, ``deleted`` when the session is gone."""

    reason: str
    deleted: bool = False


class ClientCore:
    """The I/O-free half of a client. One per client, driven by exactly one facade."""

    def __init__(self, options: QoderAgentOptions | None) -> None:
        self.options = options or QoderAgentOptions()
        self.state = ClientState.NEW
        self.resolved: ResolvedOptions | None = None
        self.session_id: str | None = None
        self.session: dict[str, Any] | None = None
        self.conversation: Conversation | None = None
        self._token = ""
        self._secrets: list[str] = []
        self._tools: dict[str, CustomTool] = {t.name: t for t in self.options.tools}
        self._messages: deque[Message] = deque()
        self._events: deque[Event] = deque()
        self._answers: deque[RunCustomTool | AskPermission] = deque()
        self.collecting_events = False
        self.dropped_events = 0
        self.dropped_messages = 0
        self.turns_started = 0
        self._decoder = SSEDecoder()
        self._backoff = ReconnectBackoff(
            initial=self.options.stream_reconnect_delay,
            max_attempts=self.options.max_stream_reconnects,
        )
        self._connection_started = 0.0
        self._connection_advanced = False
        self._skip_cursor = False
        self.session_gone: str | None = None
        """Why the session can no longer be read (deleted); ``None`` while it can."""
        self._stream_lost = False
        self.retry_policy = RetryPolicy(max_retries=self.options.max_retries)

    # --- lifecycle ---------------------------------------------------------------------------

    def begin_connect(self, environ: Mapping[str, str] | None = None) -> ResolvedOptions:
        """Check the state and resolve the options; raises before any request is made."""
        if self.state is not ClientState.NEW:
            raise ClientStateError(
                f"connect() was already called (the client is {self.state.value}); "
                "create a new client for a new conversation."
            )
        self.state = ClientState.CONNECTING
        try:
            self.resolved = resolve_options(self.options, environ)
        except BaseException:
            self.state = ClientState.CLOSED
            raise
        self.set_token(self.resolved.token.reveal())
        return self.resolved

    def connect_steps(self) -> Generator[rq.APIRequest, Any, None]:
        """The requests ``connect()`` makes, in order; each yields a request, gets its JSON."""
        resolved = self._require_resolved()
        opts = self.options
        if resolved.resume is not None:
            session = yield rq.retrieve_session(resolved.resume)
            newest = yield rq.list_events(resolved.resume, order="desc", limit=1)
            data = newest.get("data") if isinstance(newest, dict) else None
            cursor = data[0].get("id") if data and isinstance(data[0], dict) else None
            self._attach(session, cursor=cursor if isinstance(cursor, str) else None)
            return
        agent = resolved.agent
        if isinstance(agent, AgentSpec):
            tools = [*agent.tools, *(t.to_agent_tool() for t in self._tools.values())]
            created = yield rq.create_agent(attrs.evolve(agent, tools=tools))
            agent = _require_id(created, "agent")
        assert agent is not None  # resolve_options guarantees an agent unless resuming
        environment = resolved.environment
        if not isinstance(environment, str):
            created = yield rq.create_environment(environment or EnvironmentSpec())
            environment = _require_id(created, "environment")
        session = yield rq.create_session(
            agent=agent,
            agent_version=opts.agent_version,
            environment_id=environment,
            title=opts.session_title,
            metadata=opts.session_metadata,
            environment_variables=opts.environment_variables,
            resources=opts.resources,
            vault_ids=opts.vault_ids,
            max_credit_cost=opts.max_credit_cost,
        )
        self._attach(session, cursor=None)  # a new session has no history: no cursor (§6.2)

    def _attach(self, session: Any, *, cursor: str | None) -> None:
        session_id = _require_id(session, "session")
        self.session = session
        self.session_id = session_id
        self.conversation = Conversation(
            session_id=session_id,
            custom_tool_names=tuple(self._tools),
            handles_permissions=self.options.can_use_tool is not None,
            include_partial_messages=self.options.include_partial_messages,
            cursor=cursor,
        )

    def finish_connect(self) -> None:
        """The stream is open: the client is ready for ``query()``."""
        self.state = ClientState.CONNECTED

    def close(self) -> bool:
        """Mark the client closed; ``False`` if it already was (``disconnect()`` is idempotent)."""
        if self.state is ClientState.CLOSED:
            return False
        self.state = ClientState.CLOSED
        return True

    def is_closed(self) -> bool:
        """Whether ``disconnect()`` was called or ``connect()`` failed."""
        return self.state is ClientState.CLOSED

    def require_connected(self, method: str) -> Conversation:
        """The conversation, or a :class:`ClientStateError` that says what to call first."""
        if self.state is ClientState.CONNECTED and self.conversation is not None:
            return self.conversation
        if self.state is ClientState.CLOSED:
            raise ClientStateError(f"{method}() called after disconnect(); create a new client.")
        raise ClientStateError(
            f"{method}() called before connect(): use 'async with'/'with' on the client, or "
            "call connect() first."
        )

    def _require_resolved(self) -> ResolvedOptions:
        if self.resolved is None:
            raise ClientStateError("connect() has not resolved the options yet")
        return self.resolved

    # --- HTTP plumbing ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The resolved base URL, without a trailing slash."""
        return self._require_resolved().base_url

    def headers(self) -> dict[str, str]:
        """The headers of every request (§2.3), with the current token."""
        resolved = self._require_resolved()
        read = resolved.timeout.read
        return rq.base_headers(
            token=self._token,
            version=__version__,
            timeout_seconds=read,
            workspace_id=self.options.workspace_id,
            betas=self.options.betas,
            extra=self.options.default_headers,
        )

    def set_token(self, token: str) -> None:
        """Use this token from now on (at ``connect()``, and after ``on_auth_expired``)."""
        self._token = token.strip()
        if self._token and self._token not in self._secrets:
            self._secrets.append(self._token)

    def redact(self, text: str) -> str:
        """``text`` with every token this client has used cut out: for every error message and
        log line."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text

    def call_flow(self, request: rq.APIRequest) -> Generator[Any, Any, Any]:
        """The retrying call driver for one request."""
        return call_flow(
            request,
            policy=self.retry_policy,
            method_url=f"{request.method} {self.base_url}{request.path}",
            redact=self.redact,
            can_refresh_auth=self.options.on_auth_expired is not None,
        )

    @staticmethod
    def parse_json(status: int, body: bytes) -> Any:
        """The JSON of a 2xx response body (``None`` for an empty body)."""
        if not body.strip():
            return None
        try:
            return jsonio.loads(body)
        except ValueError as error:
            raise ProtocolError(
                f"the API answered {status} with a body that is not JSON"
            ) from error

    # --- the event stream ------------------------------------------------------------------------

    def stream_request(self) -> rq.APIRequest:
        """The stream request, with the cursor so that nothing is replayed or lost (§6.2)."""
        conversation = self.require_conversation()
        cursor = None if self._skip_cursor else conversation.cursor
        deltas = (
            ("agent.message", "agent.thinking") if self.options.include_partial_messages else ()
        )
        return rq.stream_events(self.session_id or "", cursor=cursor, event_deltas=deltas)

    def require_conversation(self) -> Conversation:
        """The conversation of the attached session."""
        if self.conversation is None:
            raise ClientStateError("no session is attached; call connect() first")
        return self.conversation

    def stream_opened(self, now: float) -> None:
        """A stream connection answered 200: decode it from a clean state."""
        self._decoder = SSEDecoder()
        self._connection_started = now
        self._connection_advanced = False
        self._skip_cursor = False

    def feed(self, chunk: bytes) -> FeedResult:
        """Decode a chunk of stream bytes and run every event through the conversation."""
        conversation = self.require_conversation()
        outputs: list[Output] = []
        events: list[Event] = []
        failure: str | None = None
        for frame in self._decoder.feed(chunk):
            event = decode_frame(frame)
            if event is None:
                continue
            if isinstance(event, StreamErrorFrame):
                failure = f"the server reported a stream error: {event.message}"
                break  # §5 rule 13: what follows on this connection is not trusted
            before = conversation.cursor
            outputs.extend(conversation.on_event(event, frame_id=frame.id))
            if conversation.cursor != before:
                self._connection_advanced = True
            events.append(event)
        self._absorb(outputs)
        return FeedResult(events=events, stream_failed=failure)

    def stream_dropped(
        self, reason: str, now: float, rand: float, *, connected: bool = True
    ) -> StreamRetry | StreamGone:
        """The connection ended or failed: reconnect after a backoff, or give up (§6.6).

        ``connected=False`` for an attempt that never got a stream (refused, unreachable): it
        counts as an attempt without progress, however long ago the last stream opened.
        """
        duration = now - self._connection_started if connected else 0.0
        self._backoff.record_connection(
            advanced=self._connection_advanced and connected, duration=duration
        )
        self._connection_advanced = False
        if self._backoff.exhausted:
            return StreamGone(f"{reason}; gave up after {self._backoff.max_attempts} reconnects")
        logger.info("event stream dropped (%s); resuming", self.redact(reason))
        return StreamRetry(delay=self._backoff.next_delay(lambda: rand))

    def stream_refused(
        self,
        request: rq.APIRequest,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        now: float,
        rand: float,
    ) -> StreamRetry | StreamGone:
        """A non-200 answer to the stream request: retry, give up, or raise (§6.6)."""
        if status == 404:
            return StreamGone("the session was not found (it was deleted)", deleted=True)
        if status == 400 and not self._skip_cursor and self.require_conversation().cursor:
            self._skip_cursor = True  # reconnect once without it; dedupe drops the replay
            return StreamRetry(delay=0.0)
        if status in (408, 429) or status >= 500:
            reason = f"the event stream answered {status}"
            return self.stream_dropped(reason, now, rand, connected=False)
        raise error_from_response(
            status=status,
            headers=headers,
            body=body,
            method=request.method,
            url=self.redact(self.base_url + request.path),
            redact=self.redact,
        )

    def can_read(self) -> bool:
        """Whether reading the stream may produce anything: not closed, not deleted, and not
        given up on since the last ``query()``."""
        return not self.is_closed() and self.session_gone is None and not self._stream_lost

    def stream_timeout(self) -> httpx.Timeout:
        """The stream's timeouts: the read timeout is the idle timeout (keep-alives reset it)."""
        base = self._require_resolved().timeout
        return httpx.Timeout(
            connect=base.connect,
            read=self.options.stream_idle_timeout,
            write=base.write,
            pool=base.pool,
        )

    def stream_lost(self, gone: StreamGone) -> list[Output]:
        """The stream cannot be resumed: end the current turn with ``stream_lost``, or with
        ``deleted`` when the server no longer knows the session (§6.6: 404 is deleted)."""
        conversation = self.require_conversation()
        if gone.deleted:
            self.session_gone = gone.reason
            deleted = SessionDeleted(raw={"type": SessionDeleted.type, "reason": gone.reason})
            outputs = conversation.on_event(deleted, frame_id=None)
        else:
            self._stream_lost = True  # until the next query(), which tries afresh
            outputs = conversation.on_stream_lost(gone.reason)
        self._absorb(outputs)
        return outputs

    # --- turns -----------------------------------------------------------------------------------

    def query_request(self, prompt: str | Iterable[Any]) -> rq.APIRequest:
        """Start a turn and describe its ``user.message`` POST."""
        conversation = self.require_connected("query")
        content: Any = prompt if isinstance(prompt, str) else list(prompt)
        request = rq.send_events(self.session_id or "", [rq.user_message(content)])
        conversation.begin_turn()  # only once the prompt is known to be sendable
        self._answers.clear()
        self.turns_started += 1
        if self._stream_lost:  # a new turn tries the stream again, with a fresh budget
            self._stream_lost = False
            self._backoff.record_progress()
        return request

    def query_replied(self, reply: Any) -> None:
        """The POST answered: activate the turn."""
        self._absorb(self.require_conversation().on_post_reply(reply))

    def query_failed(self) -> None:
        """The POST failed: the turn never started."""
        self.require_conversation().abort_turn()
        self.turns_started -= 1

    def answer_replied(self, reply: Any, *, answered: bool = False) -> None:
        """A tool result, confirmation or interrupt was accepted (``answered``: it was the
        answer :meth:`next_answer` gave, which is then done)."""
        if answered and self._answers:
            self._answers.popleft()
        conversation = self.require_conversation()
        self._absorb(conversation.on_answer_reply(reply))

    def respond_request(
        self,
        tool_results: Mapping[str, Any] | None,
        confirmations: Mapping[str, PermissionDecision | bool] | None,
    ) -> rq.APIRequest:
        """Describe the POST of answers to a turn that ended on ``requires_action``; the turn
        resumes only once the server accepted them (:meth:`respond_replied`)."""
        conversation = self.require_connected("respond")
        last = conversation.last_result
        if conversation.state is not TurnState.IDLE or last is None or not last.pending_tool_uses:
            raise ClientStateError(
                "respond() answers the tool calls of a turn that ended with stop_reason "
                "'requires_action' (see ResultMessage.pending_tool_uses); there is none now."
            )
        events: list[dict[str, Any]] = []
        for tool_use_id, value in (tool_results or {}).items():
            content, is_error = result_content(value)
            events.append(rq.custom_tool_result(tool_use_id, content, is_error=is_error or None))
        for tool_use_id, decision in (confirmations or {}).items():
            allow, message = _decide(decision)
            events.append(rq.tool_confirmation(tool_use_id, allow=allow, deny_message=message))
        if not events:
            raise ValueError("respond() needs at least one tool result or confirmation")
        return rq.send_events(self.session_id or "", events)

    def respond_replied(self, reply: Any) -> None:
        """The answers were accepted: resume the parked turn and read on."""
        conversation = self.require_conversation()
        self._absorb(conversation.respond_manually())
        self._absorb(conversation.on_answer_reply(reply))

    def answer_failed(self, error: BaseException) -> None:
        """An answer could not be posted: end the turn visibly rather than wait forever."""
        self._answers.clear()
        reason = f"could not post the answer: {self.redact(str(error))}"
        self._absorb(self.require_conversation().fail_turn(reason))

    def interrupt_request(self) -> rq.APIRequest:
        """Describe the ``user.interrupt`` POST (§6.7)."""
        self.require_connected("interrupt")
        return rq.send_events(self.session_id or "", [rq.interrupt()])

    def tool_for(self, action: RunCustomTool) -> CustomTool:
        """The registered handler of a custom tool call."""
        return self._tools[action.event.name]

    def tool_result_request(
        self, action: RunCustomTool, value: Any, error: BaseException | None
    ) -> rq.APIRequest:
        """Describe the ``user.custom_tool_result`` POST for a handler's outcome."""
        event: AgentCustomToolUse = action.event
        if error is None:
            try:
                content, is_error = result_content(value)
                body = rq.custom_tool_result(action.tool_use_id, content, is_error=is_error or None)
            except (TypeError, ValueError, AttributeError) as bad_value:
                error = TypeError(f"its return value cannot be sent: {bad_value}")
        if error is not None:
            logger.warning("custom tool %r failed: %s", event.name, type(error).__name__)
            content, _ = result_content(describe_failure(event.name, error))
            body = rq.custom_tool_result(action.tool_use_id, content, is_error=True)
        return rq.send_events(self.session_id or "", [body])

    def permission_args(self, action: AskPermission) -> tuple[str, dict[str, Any], Any]:
        """The ``can_use_tool`` callback's arguments for a permission request."""
        event: AgentToolUse | AgentMCPToolUse = action.event
        context = ToolPermissionContext(
            tool_use_id=action.tool_use_id,
            session_id=self.session_id or "",
            kind="mcp" if isinstance(event, AgentMCPToolUse) else "builtin",
            server_name=event.mcp_server_name if isinstance(event, AgentMCPToolUse) else None,
        )
        return event.name, dict(event.input), context

    @staticmethod
    def permission_failure(error: BaseException) -> PermissionResultDeny:
        """The decision when ``can_use_tool`` itself raised: deny, and tell the model why."""
        logger.warning("can_use_tool raised %s; the tool call is denied", type(error).__name__)
        return PermissionResultDeny(message=f"The permission check failed: {error}")

    def confirmation_request(
        self, action: AskPermission, decision: PermissionDecision | bool | None
    ) -> rq.APIRequest:
        """Describe the ``user.tool_confirmation`` POST for a callback's decision."""
        allow, message = _decide(decision)
        body = rq.tool_confirmation(action.tool_use_id, allow=allow, deny_message=message)
        return rq.send_events(self.session_id or "", [body])

    # --- the message queue ---------------------------------------------------------------------

    def _absorb(self, outputs: Iterable[Output]) -> None:
        limit = self.options.max_buffered_messages
        for output in outputs:
            if isinstance(output, Deliver):
                self._messages.append(output.message)
            elif isinstance(output, (RunCustomTool, AskPermission)):
                self._answers.append(output)
        while len(self._messages) > limit and self._drop_oldest():
            pass

    def _drop_oldest(self) -> bool:
        # The overflow rule: the oldest message that is not a ResultMessage goes, so that every
        # turn still ends for its reader; each drop is counted and logged.
        for index, message in enumerate(self._messages):
            if not isinstance(message, ResultMessage):
                del self._messages[index]
                self.dropped_messages += 1
                if self.dropped_messages == 1 or self.dropped_messages % 1000 == 0:
                    logger.warning(
                        "dropped %d unread message(s): more than max_buffered_messages=%d "
                        "were waiting to be read",
                        self.dropped_messages,
                        self.options.max_buffered_messages,
                    )
                return True
        return False  # only results are waiting: they are never dropped

    def nothing_to_receive(self) -> bool:
        """No unread message and no turn underway: ``receive_response()`` has nothing to wait
        for (rather than block on a quiet stream, it ends)."""
        state = self.require_conversation().state
        return not self._messages and state in (TurnState.IDLE, TurnState.ENDED)

    def keep_events(self, events: Iterable[Event]) -> None:
        """Queue decoded events for a ``receive_events()`` reader, if one is iterating.

        Bounded like messages: past ``max_buffered_messages`` the oldest go, counted and logged.
        """
        if not self.collecting_events:
            return
        self._events.extend(events)
        overflow = len(self._events) - self.options.max_buffered_messages
        for _ in range(max(overflow, 0)):
            self._events.popleft()
            self.dropped_events += 1
            if self.dropped_events == 1:
                logger.warning("dropped unread events: more than max_buffered_messages waited")

    def next_event(self) -> Event | None:
        """The oldest unread event, if any."""
        return self._events.popleft() if self._events else None

    def next_message(self) -> Message | None:
        """The oldest unread message, if any."""
        return self._messages.popleft() if self._messages else None

    def is_final_result(self, message: Message) -> bool:
        """Whether ``message`` is the ResultMessage of the latest turn started by ``query()``."""
        return isinstance(message, ResultMessage) and message.num_turns >= self.turns_started

    def next_answer(self) -> RunCustomTool | AskPermission | None:
        """The oldest tool call or permission request not answered yet. It stays queued until
        :meth:`answer_replied` or :meth:`answer_failed`, so that an answer interrupted by a
        cancellation is given again at the next read instead of leaving the turn waiting."""
        return self._answers[0] if self._answers else None


def _decide(decision: PermissionDecision | bool | None) -> tuple[bool, str | None]:
    """A permission decision as (allow, deny message); anything but an allow denies."""
    if decision is True or isinstance(decision, PermissionResultAllow):
        return True, None
    if isinstance(decision, PermissionResultDeny) and decision.message:
        return False, decision.message
    return False, None


def _require_id(obj: Any, kind: str) -> str:
    value = obj.get("id") if isinstance(obj, dict) else None
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"the API created a {kind} but its answer carries no id")
    return value
