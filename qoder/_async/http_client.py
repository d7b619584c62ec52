"""The facades' HTTP client, for the async side: made at ``OpenHTTP``, closed at ``CloseHTTP``
once no request is in flight.

``disconnect()`` may run in one task while ``query()`` sends in another. Closing the
``httpx.AsyncClient`` under that request would leave its connection open (it goes back to a
pool that is already closed). So ``close()`` marks the client closing and the last request in
flight closes it as it returns (shielded: also when that task is being cancelled); a request
that starts after ``close()`` is not sent at all. The twin of :mod:`qoder._sync.http_client`.
"""

from __future__ import annotations

import anyio
import httpx

from .._http import asend, ssl_context, timeout
from .._protocol import effects as fx
from .._sync.http_client import closed_client
from .connection import EventStreamConnection

__all__ = ["AsyncHTTPClient"]


class AsyncHTTPClient:
    """The ``httpx.AsyncClient`` a facade sends through: the user's (never closed here) or its
    own."""

    def __init__(self, client: httpx.AsyncClient | None) -> None:
        self._client = client
        self._owns = client is None
        self._static: dict[str, str] = {}  # headers the client carries itself (see open())
        self._in_flight = 0  # one event loop: no lock needed between the awaits
        self._closing = False

    @property
    def closing(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closing

    def open(self, effect: fx.OpenHTTP) -> None:
        """Perform ``OpenHTTP``: make a client unless the user gave one (with the process's
        one SSL context: making one per client costs about 35 ms), carrying the effect's
        headers itself."""
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=timeout(effect.timeouts), verify=ssl_context(), headers=effect.headers
            )
            self._static = dict(effect.headers)

    def _acquire(self) -> httpx.AsyncClient | None:
        """The client for one request (``None`` once closing); hand it back with
        :meth:`_release`, whose last call after :meth:`close` closes it. A pair of calls
        rather than a context manager: one request each, and an async context manager's
        generator and frames are kept alive across every await of the request."""
        client = None if self._closing else self._require()
        if client is not None:
            self._in_flight += 1
        return client

    async def _release(self) -> None:
        self._in_flight -= 1
        if self._closing and self._in_flight == 0:
            await self._close_now()

    async def send(self, effect: fx.Send) -> fx.Received | fx.NoResponse:
        """Perform ``Send`` (not sent once closing)."""
        client = self._acquire()
        if client is None:
            return closed_client()
        try:
            return await asend(client, effect, self._static)
        finally:
            await self._release()

    async def open_stream(
        self, stream: EventStreamConnection, effect: fx.OpenStream
    ) -> fx.EffectResult:
        """Perform ``OpenStream`` on ``stream``, unless :meth:`close` was called before or
        meanwhile (then a response that came is closed at once)."""
        http = self._acquire()
        if http is None:
            return closed_client()
        try:
            opened = await stream.open(http, effect)
            if self._closing:
                with anyio.CancelScope(shield=True):
                    await stream.close()
                return closed_client()
            return opened
        finally:
            await self._release()

    async def close(self) -> None:
        """Perform ``CloseHTTP``: close now if idle, else when the last request returns."""
        self._closing = True
        if self._in_flight == 0:
            await self._close_now()

    async def _close_now(self) -> None:
        if self._owns and self._client is not None:
            with anyio.CancelScope(shield=True):
                await self._client.aclose()

    def _require(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("no HTTP client: the core asked for I/O before OpenHTTP")
        return self._client
