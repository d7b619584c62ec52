"""``SyncClient``: a conversation with a Cloud Agent, for code without an event loop.

A driver of :class:`qoder._protocol.flows.SessionCore`: its public methods each run one flow,
and :meth:`SyncClient._perform` carries out the effects with blocking httpx calls. The twin of
:mod:`qoder._async.client`; what differs is only what must: a lock that makes each step of
the core atomic (a reader thread and a ``query()`` thread may run at once), a socket shutdown
to wake a read blocked in another thread, and coroutine callbacks run on an event loop of
their own.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpx

from .._mcp.lifecycle import ClientServers
from .._protocol import effects as fx
from .._protocol.events import Event
from .._protocol.flows import Flow, SessionCore
from .._protocol.messages import Message
from .._protocol.resources import Session, server_info
from .._unsupported import unsupported_attribute
from ..options import QoderAgentOptions, check_http_client, check_options, resolve_options
from ..tools import PermissionDecision
from .callables import call_user
from .connection import EventStreamConnection
from .http_client import HTTPClient

__all__ = ["SyncClient"]

T = TypeVar("T")


class SyncClient:
    """A multi-turn conversation with a Qoder Cloud Agent (blocking).

    ::

        with SyncClient(QoderAgentOptions(auth=access_token_from_env())) as client:
            client.query("What's the capital of France?")
            for message in client.receive_response():
                print(message)

    ``http_client``: your own ``httpx.Client`` (proxies, TLS, HTTP/2, event hooks); the
    client then neither configures nor closes it. One client is one session and one stream.
    """

    def __init__(
        self,
        options: QoderAgentOptions | None = None,
        *,
        http_client: httpx.Client | None = None,
    ) -> None:
        check_http_client(http_client, want_async=False)
        self._options = check_options(options, type(self).__name__)
        self._core = SessionCore()
        self._http = HTTPClient(http_client)
        self._stream = EventStreamConnection()
        self._servers = ClientServers(self._options.mcp_servers)  # bridged MCP servers
        self._step = threading.Lock()  # one step of the core at a time, across threads
        self._disconnected = threading.Event()  # set by disconnect(): no more waiting

    # --- lifecycle ---------------------------------------------------------------------------

    def connect(self, prompt: str | Iterable[Any] | None = None) -> None:
        """Create the session (or attach to ``options.resume``) and open its event stream;
        a ``prompt`` is then sent as the first turn (as :meth:`query` would).

        Raises :class:`~qoder.ConfigurationError` before any request when the token or the
        agent is missing, and :class:`~qoder.ClientStateError` when called twice.
        """
        try:
            tools = self._servers.start()
            resolve = functools.partial(resolve_options, self._options, extra_tools=tools)
            self._run(self._core.connect(resolve))
        except BaseException:
            self._stream.close()
            self._http.close()
            self._servers.close()
            raise
        if prompt is not None:
            self.query(prompt)

    def disconnect(self) -> None:
        """Close the stream and, if the client made it, the HTTP client. Idempotent; safe
        while another task or thread is iterating (that one then ends)."""
        try:
            self._run(self._core.disconnect())
        finally:
            self._servers.close()

    def __enter__(self) -> SyncClient:
        self.connect()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.disconnect()

    @property
    def session_id(self) -> str | None:
        """The id of the attached session (``None`` before ``connect()``)."""
        return self._core.session_id

    @property
    def session(self) -> Session | None:
        """The attached session as last read (``None`` before ``connect()``): its status,
        title, usage; :meth:`refresh_session` reads it again."""
        return self._core.session

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any:
            """The official client's methods Cloud Agents has none of raise, when called, an
            :class:`~qoder.UnsupportedFeatureError` that says why (see docs/porting.md)."""
            return unsupported_attribute(type(self).__name__, name, is_async=False)

    def __repr__(self) -> str:
        """``<SyncClient session=sess_… state=connected>``: never the token or the options."""
        return f"<{type(self).__name__} session={self._core.session_id} state={self._core.state}>"

    # --- the conversation --------------------------------------------------------------------

    def query(
        self, prompt: str | Iterable[Any], session_id: str = "default", **official: Any
    ) -> None:
        """Send a user message and return once it is accepted: a string, content blocks, or
        an iterable of the official stream-json user messages (for ``AsyncClient`` also an
        async iterable), sent as one turn, their contents in order. ``session_id``:
        ``"default"`` or this client's session; any other is refused. The official
        keywords (``priority``, ``message_uuid``, ``should_query``, ``custom_context``) are
        accepted at their defaults; another value raises :class:`~qoder.UnsupportedFeatureError`.

        Read the turn with :meth:`receive_response`. A turn still underway raises
        :class:`~qoder.ClientStateError`: read it to its ``ResultMessage`` or interrupt it.
        """
        self._run(self._core.query(prompt, session_id, official))

    def set_model(self, model: str | None = None) -> None:
        """Use ``model`` from the next model request on; ``None``: the agent's own model."""
        self._run(self._core.set_model(model))

    def set_permission_mode(self, mode: str) -> None:
        """Answer confirmations by ``mode`` from now on (see docs/tools.md); when that changes
        whether the client decides, the session's toolsets follow (a session update)."""
        self._run(self._core.set_permission_mode(mode))

    def get_server_info(self) -> dict[str, Any] | None:
        """The session, agent and environment this client is attached to (no request)."""
        return server_info(self._core.session)

    def receive_response(self) -> Iterator[Message]:
        """Yield the current turn's messages; ends after its :class:`~qoder.ResultMessage`.

        Unread messages of an earlier turn come first. With no turn underway it ends at once.
        """
        return self._deliveries("receive_response")

    def receive_messages(self) -> Iterator[Message]:
        """Yield every message of every turn, until :meth:`disconnect`."""
        return self._deliveries("receive_messages")

    def receive_events(self) -> Iterator[Event]:
        """Yield the typed wire events as they arrive (unknown and malformed ones included),
        until :meth:`disconnect`. Turns still end and tools still run meanwhile; their messages
        wait for :meth:`receive_response`. Read from one task or thread at a time."""
        try:
            method: str | None = "receive_events"
            while (event := self._read(self._core.next_event(method))) is not None:
                yield event
                method = None
        finally:
            self._run(self._core.stop_events())

    def respond(
        self,
        tool_results: Mapping[str, Any] | None = None,
        *,
        confirmations: Mapping[str, PermissionDecision | bool] | None = None,
    ) -> None:
        """Answer the tool calls a turn stopped for, then read on with :meth:`receive_response`.

        For a turn whose ``ResultMessage.stop_reason`` is ``"requires_action"`` (no handler was
        registered): ``tool_results`` maps custom tool call ids to their output (a string,
        content blocks or a :class:`~qoder.ToolResult`); ``confirmations`` maps permission
        requests to a decision. Answer every pending call in one call of this method.
        """
        self._run(self._core.respond(tool_results, confirmations))

    def interrupt(self) -> None:
        """Ask the agent to stop the current turn; its ``ResultMessage`` still arrives."""
        self._run(self._core.interrupt())

    def cancel(self) -> None:
        """Hard-cancel the running turn (for one :meth:`interrupt` did not stop); its
        ``ResultMessage`` still arrives."""
        self._run(self._core.cancel())

    def refresh_session(self) -> Session | None:
        """Read the attached session again and return it (see :attr:`session`)."""
        return self._run(self._core.refresh_session())

    # --- the driver ----------------------------------------------------------------------------

    def _run(self, flow: Flow[T]) -> T:
        """Run one flow of the core to its end, performing every effect it yields. Each step
        of the flow holds the lock; performing an effect does not."""
        result: fx.EffectResult = None
        try:
            while True:
                try:
                    with self._step:
                        effect = flow.send(result)
                except StopIteration as done:
                    return cast(T, done.value)
                result = self._perform(effect)
        finally:
            with self._step:
                flow.close()

    def _deliveries(self, method: str) -> Iterator[Message]:
        """The messages of ``receive_response()`` (to the end of the turn underway) or of
        ``receive_messages()`` (until :meth:`disconnect`): one generator, no layer between
        it and the caller, since every message of a long turn passes through it."""
        stop_turn = None
        if method == "receive_response":
            stop_turn = self._run(self._core.response_turn())
            if stop_turn is None:
                return
        delivery = self._read(self._core.next_message(stop_turn, method))  # checks the state
        while delivery is not None:
            message, last = delivery
            yield message
            if last:
                return
            with self._step:  # messages decoded already need no flow
                delivery = self._core.ready_message(stop_turn)
            if delivery is None:
                delivery = self._read(self._core.next_message(stop_turn, None))

    def _read(self, flow: Flow[T]) -> T | None:
        """Run a reading flow (the twin of the async facade's, where ``disconnect()`` cancels
        it: here it ends the blocked read instead, and the flow then returns ``None``)."""
        return self._run(flow)

    def _perform(self, effect: fx.Effect) -> fx.EffectResult:
        match effect:
            case fx.Send():
                return self._http.send(effect)
            case fx.ReadChunk():
                return self._stream.read()
            case fx.OpenStream():
                return self._http.open_stream(self._stream, effect)
            case fx.CallUser():
                return call_user(effect)
            case fx.Sleep():
                self._disconnected.wait(effect.seconds)  # disconnect() ends the wait
            case fx.CloseStream():
                self._stream.close()
            case fx.WakeReader():
                if effect.hard:
                    self._disconnected.set()
                self._stream.wake()
            case fx.OpenHTTP():
                self._http.open(effect)
            case fx.CloseHTTP():
                self._http.close()
            case _:
                fx.unhandled(effect)
        return None

    # --- effects -------------------------------------------------------------------------------
