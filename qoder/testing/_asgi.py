"""A :class:`FakeCloud` as a raw ASGI 3 application (no framework).

Bodies are read whole; event streams are sent with ``more_body=True`` chunks while a second
task watches ``receive()`` for ``http.disconnect`` and stops the stream, so that a client going
away never leaves a task behind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import anyio

from qoder.testing._stream import EventStream, StreamDropped
from qoder.testing._wire import EmulatorRequest

if TYPE_CHECKING:
    from qoder.testing._cloud import FakeCloud

__all__ = ["ASGIApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def _encode_headers(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]


class ASGIApp:
    """ASGI application serving one :class:`FakeCloud` (``http`` and ``lifespan`` scopes)."""

    def __init__(self, cloud: FakeCloud) -> None:
        self.cloud = cloud

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        # websocket and other scopes are not part of the API: ignore them

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.cloud.close_streams()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body.extend(message.get("body", b""))
            if not message.get("more_body", False):
                break
        raw_path = scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else quote(scope["path"])
        request = EmulatorRequest(
            scope["method"],
            path.partition("?")[0],
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            body=bytes(body),
        )
        response = self.cloud.handle(request)
        start = {
            "type": "http.response.start",
            "status": response.status,
            "headers": _encode_headers(response.headers),
        }
        if response.stream is None:
            await send(start)
            await send({"type": "http.response.body", "body": response.body})
            return
        try:
            await send(start)
            await self._stream(response.stream, receive, send)
        finally:
            await response.stream.aclose()

    @staticmethod
    async def _stream(stream: EventStream, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as group:

            async def watch_disconnect() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                group.cancel_scope.cancel()

            group.start_soon(watch_disconnect)
            try:
                async for chunk in stream:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except StreamDropped:
                pass  # a cut connection: end the body right after the partial frame
            except OSError:
                group.cancel_scope.cancel()  # the client is gone
                return
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            group.cancel_scope.cancel()
