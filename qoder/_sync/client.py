"""``SyncClient``: a conversation with a Cloud Agent, for code without an event loop.

The twin of :mod:`qoder._async.client`: the same methods in the same order with the same
docstrings; every decision lives in :class:`qoder._base.ClientCore`. Nothing here creates an
event loop, except to run a tool handler or callback that the user wrote as a coroutine.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import random
import socket
import threading
import time
from collections.abc import Generator, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any

import anyio
import httpx

from .._base import ClientCore, StreamGone, StreamRetry
from .._protocol import requests as rq
from .._protocol.events import Event
from .._protocol.messages import Message
from .._protocol.retry import NoResponse, Received, RefreshAuth, Send, Sleep
from .._protocol.turn import AskPermission, RunCustomTool
from ..errors import ClientStateError, QoderError
from ..options import QoderAgentOptions
from ..tools import PermissionDecision

__all__ = ["SyncClient"]


def _resolve(value: Any) -> Any:
    """The value of a user callback that may have been written as a coroutine function."""
    if inspect.isawaitable(value):
        awaitable = value

        async def wait() -> Any:
            return await awaitable

        return anyio.run(wait)
    return value


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
        self._core = ClientCore(options)
        self._http = http_client
        self._owns_http = http_client is None
        self._response: httpx.Response | None = None
        self._chunks: Generator[bytes, None, None] | None = None
        self._reading = threading.Lock()

    # --- lifecycle ---------------------------------------------------------------------------

    def connect(self) -> None:
        """Create the session (or attach to ``options.resume``) and open its event stream.

        Raises :class:`~qoder.ConfigurationError` before any request when the token or the
        agent is missing, and :class:`~qoder.ClientStateError` when called twice.
        """
        resolved = self._core.begin_connect()
        if self._http is None:
            self._http = httpx.Client(timeout=resolved.timeout)
        try:
            steps = self._core.connect_steps()
            reply: Any = None
            while True:
                try:
                    request = steps.send(reply)
                except StopIteration:
                    break
                reply = self._call(request)
            self._open_stream()
            self._core.finish_connect()
        except BaseException:
            self._core.close()
            self._release()
            raise

    def disconnect(self) -> None:
        """Close the stream and, if the client made it, the HTTP client. Idempotent; safe
        while another task or thread is iterating (that one then ends)."""
        if not self._core.close():
            return
        self._wake_reader()
        self._release()

    def __enter__(self) -> SyncClient:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.disconnect()

    @property
    def session_id(self) -> str | None:
        """The id of the attached session (``None`` before ``connect()``)."""
        return self._core.session_id

    # --- the conversation --------------------------------------------------------------------

    def query(self, prompt: str | Iterable[Any]) -> None:
        """Send a user message (a string or content blocks) and return once it is accepted.

        Read the turn with :meth:`receive_response`. A turn still underway raises
        :class:`~qoder.ClientStateError`: read it to its ``ResultMessage`` or interrupt it.
        """
        request = self._core.query_request(prompt)
        try:
            reply = self._call(request)
        except BaseException:
            self._core.query_failed()
            raise
        self._core.query_replied(reply)

    def receive_response(self) -> Iterator[Message]:
        """Yield the current turn's messages; ends after its :class:`~qoder.ResultMessage`.

        Unread messages of an earlier turn come first. With no turn underway it ends at once.
        """
        self._core.require_connected("receive_response")
        if self._core.nothing_to_receive():
            return
        while True:
            message = self._core.next_message()
            if message is None:
                if not self._pump():
                    return
                continue
            yield message
            if self._core.is_final_result(message):
                return

    def receive_messages(self) -> Iterator[Message]:
        """Yield every message of every turn, until :meth:`disconnect`."""
        self._core.require_connected("receive_messages")
        while True:
            message = self._core.next_message()
            if message is None:
                if not self._pump():
                    return
                continue
            yield message

    def receive_events(self) -> Iterator[Event]:
        """Yield the typed wire events as they arrive (unknown and malformed ones included),
        until :meth:`disconnect`. Turns still end and tools still run meanwhile; their messages
        wait for :meth:`receive_response`. Read from one task or thread at a time."""
        self._core.require_connected("receive_events")
        self._core.collecting_events = True
        try:
            while True:
                event = self._core.next_event()
                if event is not None:
                    yield event
                elif not self._pump():
                    return
        finally:
            self._core.collecting_events = False

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
        request = self._core.respond_request(tool_results, confirmations)
        self._core.respond_replied(self._call(request))

    def interrupt(self) -> None:
        """Ask the agent to stop the current turn; its ``ResultMessage`` still arrives."""
        reply = self._call(self._core.interrupt_request())
        self._core.answer_replied(reply)

    # --- I/O -----------------------------------------------------------------------------------

    def _call(self, request: rq.APIRequest) -> Any:
        """Run one request through the retrying call driver; return its JSON."""
        flow = self._core.call_flow(request)
        sent: Any = None
        while True:
            try:
                action = flow.send(sent)
            except StopIteration as done:
                received: Received = done.value
                return self._core.parse_json(received.status, received.body)
            if isinstance(action, Send):
                sent = self._send(action)
            elif isinstance(action, Sleep):
                time.sleep(action.seconds)
                sent = None
            elif isinstance(action, RefreshAuth):
                sent = self._refresh_auth()

    def _build(
        self, request: rq.APIRequest, headers: dict[str, str] | None = None
    ) -> httpx.Request:
        return self._require_http().build_request(
            request.method,
            self._core.base_url + request.path,
            params=list(request.params),
            headers={**self._core.headers(), **dict(request.headers), **(headers or {})},
            json=None if request.json is rq.NO_BODY else request.json,
            timeout=self._core.stream_timeout() if request.stream else httpx.USE_CLIENT_DEFAULT,
        )

    def _send(self, action: Send) -> Received | NoResponse:
        try:
            response = self._require_http().send(self._build(action.request, action.headers))
        except httpx.TimeoutException as error:
            return NoResponse(error=error, timeout=True)
        except httpx.TransportError as error:
            return NoResponse(error=error, timeout=False)
        return Received(
            status=response.status_code, headers=response.headers, body=response.content
        )

    def _refresh_auth(self) -> str | None:
        hook = self._core.options.on_auth_expired
        token = _resolve(hook()) if hook is not None else None
        if token:
            self._core.set_token(token)
        return token if isinstance(token, str) else None

    def _open_stream(self) -> None:
        """Open the event stream from the cursor; retry refusals and failures per §6.6."""
        while self._core.can_read():
            request = self._core.stream_request()
            decision: StreamRetry | StreamGone
            try:
                response = self._require_http().send(self._build(request), stream=True)
            except httpx.TransportError as error:
                reason = f"could not open the event stream: {error!r}"
                decision = self._core.stream_dropped(
                    reason, time.monotonic(), random.random(), connected=False
                )
            else:
                if response.status_code == 200:
                    self._response, self._chunks = response, _byte_chunks(response)
                    self._core.stream_opened(time.monotonic())
                    if self._core.is_closed():  # disconnect() from another thread meanwhile
                        self._close_stream()
                    return
                try:
                    body = response.read()
                finally:
                    response.close()
                decision = self._core.stream_refused(
                    request,
                    response.status_code,
                    response.headers,
                    body,
                    time.monotonic(),
                    random.random(),
                )
            if isinstance(decision, StreamGone):
                self._core.stream_lost(decision)
                return
            time.sleep(decision.delay)

    def _after_drop(self, reason: str) -> None:
        """The connection broke: close it and wait out the backoff (the next read reopens)."""
        self._close_stream()
        decision = self._core.stream_dropped(reason, time.monotonic(), random.random())
        if isinstance(decision, StreamGone):
            self._core.stream_lost(decision)
        else:
            time.sleep(decision.delay)

    def _pump(self) -> bool:
        """Make progress once (answer a tool call, or read a chunk and run what it produced);
        ``False`` when no more can come. One reader at a time; ``disconnect()`` ends it."""
        if not self._core.can_read():
            return False
        if not self._reading.acquire(blocking=False):
            raise ClientStateError(
                "another thread is already reading this client; read it from one at a time"
            )
        try:
            self._step()
        finally:
            self._reading.release()
        return not self._core.is_closed()

    def _step(self) -> None:
        action = self._core.next_answer()
        if action is not None:  # answers first: one a Ctrl-C interrupted is given again
            self._answer(action)
            return
        if self._chunks is None:
            self._open_stream()
            return
        try:
            chunk = next(self._chunks)
        except (StopIteration, httpx.TransportError, httpx.StreamError) as error:
            if self._core.is_closed():  # disconnect() from another thread ended the read
                return
            if isinstance(error, StopIteration):
                self._after_drop("the server closed the event stream")
            elif isinstance(error, httpx.TimeoutException):
                self._after_drop("no bytes on the event stream within stream_idle_timeout")
            else:
                self._after_drop(f"the event stream failed: {error!r}")
            return
        except BaseException:
            self._close_stream()
            raise
        fed = self._core.feed(chunk)
        self._core.keep_events(fed.events)
        if fed.stream_failed is not None:
            self._after_drop(fed.stream_failed)

    def _answer(self, action: RunCustomTool | AskPermission) -> None:
        """Run a custom tool or ask ``can_use_tool``, then post the answer."""
        if isinstance(action, RunCustomTool):
            tool = self._core.tool_for(action)
            value: Any = None
            error: BaseException | None = None
            try:
                if tool.is_async:
                    value = anyio.run(functools.partial(tool.handler, **action.event.input))
                else:
                    value = tool.handler(**action.event.input)
            except Exception as exc:
                error = exc
            request = self._core.tool_result_request(action, value, error)
        else:
            callback = self._core.options.can_use_tool
            assert callback is not None
            try:
                decision = _resolve(callback(*self._core.permission_args(action)))
            except Exception as exc:
                decision = self._core.permission_failure(exc)
            request = self._core.confirmation_request(action, decision)
        if self._core.is_closed():  # disconnect() from another thread while the handler ran
            return
        try:
            reply = self._call(request)
        except QoderError as failure:  # the turn ends with this error rather than hang
            self._core.answer_failed(failure)
            return
        self._core.answer_replied(reply, answered=True)

    def _close_stream(self) -> None:
        response, chunks = self._response, self._chunks
        self._response = self._chunks = None
        if chunks is not None:
            # ValueError: another thread is reading it; closing the response stops that read.
            with contextlib.suppress(ValueError):
                chunks.close()
        if response is not None:
            response.close()

    def _wake_reader(self) -> None:
        """Shut the stream's socket down, so that a read blocked in another thread returns now.

        Closing a socket does not wake a ``recv`` already blocked on it in another thread;
        ``shutdown()`` does. Without a socket (a mocked transport) closing the response is enough.
        """
        response = self._response
        stream = response.extensions.get("network_stream") if response is not None else None
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _release(self) -> None:
        self._close_stream()
        if self._owns_http and self._http is not None:
            self._http.close()

    def _require_http(self) -> httpx.Client:
        if self._http is None:
            raise ClientStateError("the client is not connected; call connect() first")
        return self._http


def _byte_chunks(response: httpx.Response) -> Generator[bytes, None, None]:
    """The response's bytes as a generator we can close explicitly."""
    yield from response.iter_bytes()
