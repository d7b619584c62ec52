"""``AsyncClient``: a conversation with a Cloud Agent, for asyncio and trio (through anyio).

A driver of :class:`qoder._protocol.flows.SessionCore`: its public methods each run one flow,
and :meth:`AsyncClient._perform` carries out the effects with httpx and anyio. The twin of
:mod:`qoder._sync.client`; what differs is only what must: cancel scopes where the sync one
has a lock and a socket shutdown, user callables awaited or run in a worker thread, and
async generators closed explicitly.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio
import anyio.to_thread
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
from .http_client import AsyncHTTPClient

__all__ = ["AsyncClient"]

T = TypeVar("T")
Prompt = str | Iterable[Any] | AsyncIterable[Any]
"""What :meth:`AsyncClient.query` takes: a string, content blocks, or stream-json messages."""


class AsyncClient:
    """A multi-turn conversation with a Qoder Cloud Agent (async).

    ::

        async with AsyncClient(QoderAgentOptions(auth=access_token_from_env())) as client:
            await client.query("What's the capital of France?")
            async for message in client.receive_response():
                print(message)

    ``http_client``: your own ``httpx.AsyncClient`` (proxies, TLS, HTTP/2, event hooks); the
    client then neither configures nor closes it. One client is one session and one stream.
    """

    def __init__(
        self,
        options: QoderAgentOptions | None = None,
        *,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        check_http_client(http_client, want_async=True)
        self._options = check_options(options, type(self).__name__)
        self._core = SessionCore()
        self._http = AsyncHTTPClient(http_client)
        self._stream = EventStreamConnection()
        self._servers = ClientServers(self._options.mcp_servers)  # bridged MCP servers
        self._reader_scope: anyio.CancelScope | None = None  # a reading flow under way
        self._reader_gone: anyio.Event | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    async def connect(self, prompt: Prompt | None = None) -> None:
        """Create the session (or attach to ``options.resume``) and open its event stream;
        a ``prompt`` is then sent as the first turn (as :meth:`query` would).

        Raises :class:`~qoder.ConfigurationError` before any request when the token or the
        agent is missing, and :class:`~qoder.ClientStateError` when called twice.
        """
        try:
            # the bridged servers start in a worker thread; without any, no thread is used
            servers = self._servers
            tools = await anyio.to_thread.run_sync(servers.start) if servers.any else ()
            resolve = functools.partial(resolve_options, self._options, extra_tools=tools)
            await self._run(self._core.connect(resolve))
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._stream.close()
                await self._http.close()
                await self._close_servers()
            raise
        if prompt is not None:
            await self.query(prompt)

    async def disconnect(self) -> None:
        """Close the stream and, if the client made it, the HTTP client. Idempotent; safe
        while another task or thread is iterating (that one then ends)."""
        with anyio.CancelScope(shield=True):
            try:
                await self._run(self._core.disconnect())
            finally:
                await self._close_servers()

    async def _close_servers(self) -> None:
        if self._servers.any:
            await anyio.to_thread.run_sync(self._servers.close)

    async def __aenter__(self) -> AsyncClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.disconnect()

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
            return unsupported_attribute(type(self).__name__, name, is_async=True)

    def __repr__(self) -> str:
        """``<AsyncClient session=sess_… state=connected>``: never the token or the options."""
        return f"<{type(self).__name__} session={self._core.session_id} state={self._core.state}>"

    # --- the conversation --------------------------------------------------------------------

    async def query(self, prompt: Prompt, session_id: str = "default", **official: Any) -> None:
        """Send a user message and return once it is accepted: a string, content blocks, or
        an iterable of the official stream-json user messages (for ``AsyncClient`` also an
        async iterable), sent as one turn, their contents in order. ``session_id``:
        ``"default"`` or this client's session; any other is refused. The official
        keywords (``priority``, ``message_uuid``, ``should_query``, ``custom_context``) are
        accepted at their defaults; another value raises :class:`~qoder.UnsupportedFeatureError`.

        Read the turn with :meth:`receive_response`. A turn still underway raises
        :class:`~qoder.ClientStateError`: read it to its ``ResultMessage`` or interrupt it.
        """
        if isinstance(prompt, AsyncIterable):
            prompt = [item async for item in prompt]
        await self._run(self._core.query(prompt, session_id, official))

    async def set_model(self, model: str | None = None) -> None:
        """Use ``model`` from the next model request on; ``None``: the agent's own model."""
        await self._run(self._core.set_model(model))

    async def set_permission_mode(self, mode: str) -> None:
        """Answer confirmations by ``mode`` from now on (see docs/tools.md); when that changes
        whether the client decides, the session's toolsets follow (a session update)."""
        await self._run(self._core.set_permission_mode(mode))

    async def get_server_info(self) -> dict[str, Any] | None:
        """The session, agent and environment this client is attached to (no request)."""
        return server_info(self._core.session)

    def receive_response(self) -> AsyncIterator[Message]:
        """Yield the current turn's messages; ends after its :class:`~qoder.ResultMessage`.

        Unread messages of an earlier turn come first. With no turn underway it ends at once.
        """
        return self._deliveries("receive_response")

    def receive_messages(self) -> AsyncIterator[Message]:
        """Yield every message of every turn, until :meth:`disconnect`."""
        return self._deliveries("receive_messages")

    async def receive_events(self) -> AsyncIterator[Event]:
        """Yield the typed wire events as they arrive (unknown and malformed ones included),
        until :meth:`disconnect`. Turns still end and tools still run meanwhile; their messages
        wait for :meth:`receive_response`. Read from one task or thread at a time."""
        try:
            method: str | None = "receive_events"
            while (event := await self._read(self._core.next_event(method))) is not None:
                yield event
                method = None
        finally:
            await self._run(self._core.stop_events())

    async def respond(
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
        await self._run(self._core.respond(tool_results, confirmations))

    async def interrupt(self) -> None:
        """Ask the agent to stop the current turn; its ``ResultMessage`` still arrives."""
        await self._run(self._core.interrupt())

    async def cancel(self) -> None:
        """Hard-cancel the running turn (for one :meth:`interrupt` did not stop); its
        ``ResultMessage`` still arrives."""
        await self._run(self._core.cancel())

    async def refresh_session(self) -> Session | None:
        """Read the attached session again and return it (see :attr:`session`)."""
        return await self._run(self._core.refresh_session())

    # --- the driver ----------------------------------------------------------------------------

    async def _run(self, flow: Flow[T]) -> T:
        """Run one flow of the core to its end, performing every effect it yields."""
        result: fx.EffectResult = None
        try:
            while True:
                try:
                    effect = flow.send(result)
                except StopIteration as done:
                    return cast(T, done.value)
                result = await self._perform(effect)
        finally:
            flow.close()

    async def _deliveries(self, method: str) -> AsyncIterator[Message]:
        """The messages of ``receive_response()`` (to the end of the turn underway) or of
        ``receive_messages()`` (until :meth:`disconnect`): one generator, no layer between
        it and the caller, since every message of a long turn passes through it."""
        stop_turn = None
        if method == "receive_response":
            stop_turn = await self._run(self._core.response_turn())
            if stop_turn is None:
                return
        delivery = await self._read(self._core.next_message(stop_turn, method))  # checks the state
        while delivery is not None:
            message, last = delivery
            yield message
            if last:
                return
            # messages decoded already need no flow
            delivery = self._core.ready_message(stop_turn)
            if delivery is None:
                delivery = await self._read(self._core.next_message(stop_turn, None))

    async def _read(self, flow: Flow[T]) -> T | None:
        """Run a reading flow as *the* reader: ``disconnect()`` cancels it (it then gives
        ``None``) and waits until it has stopped."""
        gone = anyio.Event()
        try:
            with anyio.CancelScope() as scope:
                self._reader_scope, self._reader_gone = scope, gone
                return await self._run(flow)
        finally:
            self._reader_scope = None
            gone.set()
        return None  # cancelled by disconnect()

    async def _perform(self, effect: fx.Effect) -> fx.EffectResult:
        match effect:
            case fx.Send():
                return await self._http.send(effect)
            case fx.ReadChunk():
                return await self._stream.read()
            case fx.OpenStream():
                return await self._http.open_stream(self._stream, effect)
            case fx.CallUser():
                return await call_user(effect)
            case fx.Sleep():
                await anyio.sleep(effect.seconds)
            case fx.CloseStream():
                with anyio.CancelScope(shield=True):
                    await self._stream.close()
            case fx.WakeReader():
                await self._wake_reader(hard=effect.hard)
            case fx.OpenHTTP():
                self._http.open(effect)
            case fx.CloseHTTP():
                await self._http.close()
            case _:
                fx.unhandled(effect)
        return None

    # --- effects -------------------------------------------------------------------------------

    async def _wake_reader(self, *, hard: bool) -> None:
        if not hard:
            self._stream.wake()
            return
        if self._reader_scope is not None and self._reader_gone is not None:
            self._reader_scope.cancel()
            await self._reader_gone.wait()
