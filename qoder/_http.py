"""What both facades do the same way with httpx: build a request from an effect, and find the
socket under a streamed response."""

from __future__ import annotations

import functools
import socket
import ssl
from collections.abc import AsyncGenerator, Generator, Mapping
from typing import cast

import httpx

from ._protocol import effects as fx

__all__ = [
    "abyte_chunks",
    "asend",
    "build_request",
    "byte_chunks",
    "no_response",
    "send",
    "socket_of",
    "ssl_context",
    "stream_ended",
    "timeout",
]


def timeout(timeouts: fx.Timeouts) -> httpx.Timeout:
    """The ``httpx.Timeout`` of the core's :class:`~qoder._protocol.effects.Timeouts`."""
    return httpx.Timeout(
        connect=timeouts.connect, read=timeouts.read, write=timeouts.write, pool=timeouts.pool
    )


@functools.lru_cache(maxsize=1)
def ssl_context() -> ssl.SSLContext:
    """The SSL context of every HTTP client the facades make, created once per process.

    httpx makes a new context for each client, loading the CA bundle: about 35 ms of CPU, which
    for many conversations (each client its own HTTP client, the setup docs/configuration.md
    recommends) was most of what connecting cost. One context is safe to share between clients
    and threads. It is httpx's default one (certifi's bundle, ``SSL_CERT_FILE``/``SSL_CERT_DIR``
    as set when it is first made); a user who needs other TLS settings passes ``http_client``.
    """
    return httpx.create_ssl_context()


def build_request(
    http: httpx.Client | httpx.AsyncClient,
    effect: fx.Send | fx.OpenStream,
    carried: Mapping[str, str] | None = None,
) -> httpx.Request:
    """The httpx request for a :class:`~qoder._protocol.effects.Send` or an
    :class:`~qoder._protocol.effects.OpenStream`; a REST call uses the client's timeouts.

    Still through the client's ``build_request`` (a user's client merges its own headers,
    cookies, query and base URL in), but with the cheap inputs: the URL parsed once per
    distinct URL (a conversation posts to the same one every turn), no empty query, and only
    the headers that differ from ``carried``, those the client itself carries (a client the
    facade made, see :class:`~qoder._protocol.effects.OpenHTTP`): about 70 to 30 µs a request.
    """
    request = effect.request
    headers = effect.headers
    if carried:
        headers = {name: value for name, value in headers.items() if carried.get(name) != value}
    return http.build_request(
        request.method,
        _url(effect.url),
        params=list(request.params) if request.params else None,
        headers=headers,
        json=request.json if request.has_body else None,
        timeout=(
            timeout(effect.timeouts)
            if isinstance(effect, fx.OpenStream)
            else httpx.USE_CLIENT_DEFAULT
        ),
    )


@functools.lru_cache(maxsize=256)
def _url(url: str) -> httpx.URL:
    """``url`` parsed (httpx copies the URL it is given, so one instance can be shared)."""
    return httpx.URL(url)


def socket_of(response: httpx.Response | None) -> socket.socket | None:
    """The socket a streamed response reads from, when the transport exposes one (a mocked
    transport does not)."""
    stream = response.extensions.get("network_stream") if response is not None else None
    sock = stream.get_extra_info("socket") if stream is not None else None
    return sock if isinstance(sock, socket.socket) else None


def byte_chunks(response: httpx.Response) -> Generator[bytes, None, None]:
    """A streamed response's bytes as a generator the client can close explicitly."""
    yield from response.iter_bytes()


async def abyte_chunks(response: httpx.Response) -> AsyncGenerator[bytes, None]:
    """The same for an async response. Closing it closes httpx's own iterator too: an async
    generator left to the garbage collector is finalised outside its event loop (trio
    reports that as an error)."""
    chunks = cast(AsyncGenerator[bytes, None], response.aiter_bytes())
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        await chunks.aclose()


def no_response(error: httpx.TransportError) -> fx.NoResponse:
    """What a request that got no answer reports to the core."""
    return fx.NoResponse(error=error, timeout=isinstance(error, httpx.TimeoutException))


def stream_ended(error: httpx.TransportError | httpx.StreamError) -> fx.StreamEnded:
    """What a failed read of the stream reports to the core."""
    if isinstance(error, httpx.TimeoutException):
        return fx.StreamEnded("timeout")
    return fx.StreamEnded("error", repr(error))


def send(
    http: httpx.Client, effect: fx.Send, carried: Mapping[str, str] | None = None
) -> fx.Received | fx.NoResponse:
    """Perform a :class:`~qoder._protocol.effects.Send`: one request, its whole body read
    (``carried``: the headers the client carries itself, see :func:`build_request`)."""
    try:
        response = http.send(build_request(http, effect, carried))
    except httpx.TransportError as error:
        return no_response(error)
    return fx.Received(response.status_code, response.headers, response.content)


async def asend(
    http: httpx.AsyncClient, effect: fx.Send, carried: Mapping[str, str] | None = None
) -> fx.Received | fx.NoResponse:
    """The same, with an ``httpx.AsyncClient``."""
    try:
        response = await http.send(build_request(http, effect, carried))
    except httpx.TransportError as error:
        return no_response(error)
    return fx.Received(response.status_code, response.headers, response.content)
