"""The event stream's connection, for the async facade: open it, read it, wake it, close it.

One :class:`EventStreamConnection` per client holds the streamed response that the core's
``OpenStream`` kept open. A read runs in a cancel scope of its own, so that a ``WakeReader``
from another task ends it (the connection is then closed; the core resumes from the cursor),
and a read interrupted in any way leaves the connection closed, never half-read.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import anyio
import httpx

from .._http import abyte_chunks, build_request, no_response, stream_ended
from .._protocol import effects as fx

__all__ = ["EventStreamConnection"]


class EventStreamConnection:
    """The streamed response of the session's event stream, while one is open."""

    def __init__(self) -> None:
        self._response: httpx.Response | None = None
        self._chunks: AsyncGenerator[bytes, None] | None = None
        self._read_scope: anyio.CancelScope | None = None  # a read under way

    async def open(self, http: httpx.AsyncClient, effect: fx.OpenStream) -> fx.EffectResult:
        """Perform ``OpenStream``: keep a 200 open, read and close anything else."""
        try:
            response = await http.send(build_request(http, effect), stream=True)
        except httpx.TransportError as error:
            return no_response(error)
        if response.status_code == 200:
            self._response, self._chunks = response, abyte_chunks(response)
            return fx.Received(200, response.headers, b"")
        try:
            body = await response.aread()
        finally:
            with anyio.CancelScope(shield=True):
                await response.aclose()
        return fx.Received(response.status_code, response.headers, body)

    async def read(self) -> fx.Chunk | fx.StreamEnded | fx.Woken:
        """Perform ``ReadChunk``."""
        chunks = self._chunks
        if chunks is None:
            return fx.StreamEnded("error", "the stream is not open")
        ended: fx.StreamEnded | None = None  # stays None when a WakeReader ends the wait
        try:
            with anyio.CancelScope() as scope:  # cancelled by wake()
                self._read_scope = scope
                try:
                    return fx.Chunk(await chunks.__anext__())
                except StopAsyncIteration:
                    ended = fx.StreamEnded("eof")
                except (httpx.TransportError, httpx.StreamError) as error:
                    ended = stream_ended(error)
        except BaseException:  # cancelled from outside: the interrupted read broke the stream
            with anyio.CancelScope(shield=True):
                await self.close()
            raise
        finally:
            self._read_scope = None
        with anyio.CancelScope(shield=True):
            await self.close()
        return ended if ended is not None else fx.Woken()

    def wake(self) -> None:
        """End a read under way in another task (it returns ``Woken``)."""
        if self._read_scope is not None:
            self._read_scope.cancel()

    async def close(self) -> None:
        """Close the response, if one is open. Closing the byte iterator first matters: an
        async generator left to the garbage collector is finalised outside its event loop."""
        response, chunks = self._response, self._chunks
        self._response = self._chunks = None
        if chunks is not None:
            await chunks.aclose()
        if response is not None:
            await response.aclose()
