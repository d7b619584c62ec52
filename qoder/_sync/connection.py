"""The event stream's connection, for the sync facade: open it, read it, wake it, close it.

One :class:`EventStreamConnection` per client holds the streamed response that the core's
``OpenStream`` kept open. A read blocked in one thread is woken from another by shutting the
socket down (closing a socket does not wake a ``recv`` already blocked on it; ``shutdown()``
does); the read then returns ``Woken`` and the connection is closed, and the core resumes
from the cursor. A read interrupted in any way leaves the connection closed, never half-read.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Generator

import httpx

from .._http import build_request, byte_chunks, no_response, socket_of, stream_ended
from .._protocol import effects as fx

__all__ = ["EventStreamConnection"]


class EventStreamConnection:
    """The streamed response of the session's event stream, while one is open."""

    def __init__(self) -> None:
        self._response: httpx.Response | None = None
        self._chunks: Generator[bytes, None, None] | None = None
        self._woken = False  # wake() shut the socket down

    def open(self, http: httpx.Client, effect: fx.OpenStream) -> fx.EffectResult:
        """Perform ``OpenStream``: keep a 200 open, read and close anything else."""
        try:
            response = http.send(build_request(http, effect), stream=True)
        except httpx.TransportError as error:
            return no_response(error)
        except RuntimeError as error:  # disconnect() closed the client from another thread
            if not http.is_closed:
                raise
            return fx.NoResponse(error=error, timeout=False)
        if response.status_code == 200:
            self._woken = False
            self._response, self._chunks = response, byte_chunks(response)
            return fx.Received(200, response.headers, b"")
        try:
            body = response.read()
        finally:
            response.close()
        return fx.Received(response.status_code, response.headers, body)

    def read(self) -> fx.Chunk | fx.StreamEnded | fx.Woken:
        """Perform ``ReadChunk``."""
        chunks = self._chunks
        if chunks is None:
            return fx.StreamEnded("error", "the stream is not open")
        try:
            return fx.Chunk(next(chunks))
        except StopIteration:
            ended = fx.StreamEnded("eof")
        except (httpx.TransportError, httpx.StreamError) as error:
            ended = stream_ended(error)
        except ValueError as error:  # the generator was closed by disconnect() meanwhile
            ended = fx.StreamEnded("error", repr(error))
        except BaseException:  # Ctrl-C, or an exception thrown in: the read broke the stream
            self.close()
            raise
        self.close()
        if self._woken:
            self._woken = False
            return fx.Woken()
        return ended

    def wake(self) -> None:
        """End a read blocked in another thread (it returns ``Woken``). Without a socket (a
        mocked transport) there is nothing to wake: the reader returns with its next chunk."""
        sock = socket_of(self._response)
        if sock is not None:
            self._woken = True
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """Close the response, if one is open."""
        response, chunks = self._response, self._chunks
        self._response = self._chunks = None
        if chunks is not None:
            # ValueError: another thread is reading it; closing the response stops that read.
            with contextlib.suppress(ValueError):
                chunks.close()
        if response is not None:
            response.close()
