"""The facades' HTTP client, for the sync side: made at ``OpenHTTP``, closed at ``CloseHTTP``
once no request is in flight.

``disconnect()`` may run in one thread while ``query()`` sends in another. Closing the
``httpx.Client`` under that request would leave its connection open for ever (it goes back to
a pool that is already closed: a ``ResourceWarning``, and a socket held until the process
ends). So ``close()`` marks the client closing and the last request in flight closes it as it
returns; a request that starts after ``close()`` is not sent at all (``NoResponse``, which
the core, seeing the client closed, turns into :class:`~qoder.ClientStateError`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import httpx

from .._http import send, ssl_context, timeout
from .._protocol import effects as fx
from .connection import EventStreamConnection

__all__ = ["HTTPClient", "closed_client"]


def closed_client() -> fx.NoResponse:
    """What a request after ``close()`` gets instead of being sent."""
    return fx.NoResponse(error=RuntimeError("the client was disconnected"), timeout=False)


class HTTPClient:
    """The ``httpx.Client`` a facade sends through: the user's (never closed here) or its own."""

    def __init__(self, client: httpx.Client | None) -> None:
        self._client = client
        self._owns = client is None
        self._static: dict[str, str] = {}  # headers the client carries itself (see open())
        self._lock = threading.Lock()
        self._in_flight = 0
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
            self._client = httpx.Client(
                timeout=timeout(effect.timeouts), verify=ssl_context(), headers=effect.headers
            )
            self._static = dict(effect.headers)

    @contextlib.contextmanager
    def lease(self) -> Iterator[httpx.Client | None]:
        """The client for one request (``None`` once closing); the last lease to end after
        :meth:`close` closes it."""
        with self._lock:
            client = None if self._closing else self._require()
            if client is not None:
                self._in_flight += 1
        try:
            yield client
        finally:
            if client is not None:
                with self._lock:
                    self._in_flight -= 1
                    last = self._closing and self._in_flight == 0
                if last:
                    self._close_now()

    def send(self, effect: fx.Send) -> fx.Received | fx.NoResponse:
        """Perform ``Send`` (not sent once closing)."""
        with self.lease() as client:
            return closed_client() if client is None else send(client, effect, self._static)

    def open_stream(self, stream: EventStreamConnection, effect: fx.OpenStream) -> fx.EffectResult:
        """Perform ``OpenStream`` on ``stream``, unless :meth:`close` was called before or
        meanwhile (then a response that came is closed at once)."""
        with self.lease() as http:
            if http is None:
                return closed_client()
            opened = stream.open(http, effect)
            if self._closing:
                stream.close()
                return closed_client()
            return opened

    def close(self) -> None:
        """Perform ``CloseHTTP``: close now if idle, else when the last request returns."""
        with self._lock:
            self._closing = True
            idle = self._in_flight == 0
        if idle:
            self._close_now()

    def _close_now(self) -> None:
        if self._owns and self._client is not None:
            self._client.close()

    def _require(self) -> httpx.Client:
        if self._client is None:
            raise RuntimeError("no HTTP client: the core asked for I/O before OpenHTTP")
        return self._client
