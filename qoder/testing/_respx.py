"""Mount a :class:`FakeCloud` on a respx router, for ``httpx.Client`` and ``httpx.AsyncClient``.

Each request gets a fresh ``httpx.Response`` built by a side effect; event streams become a
byte stream that works for both clients. A :class:`StreamFault` with ``raise_error=True``
surfaces as ``httpx.ReadError`` in the middle of the body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import httpx

from qoder.testing._stream import EventStream, StreamDropped
from qoder.testing._wire import EmulatorRequest

if TYPE_CHECKING:
    import respx

    from qoder.testing._cloud import FakeCloud

__all__ = ["DEFAULT_HOST", "HttpxEventStream", "mock", "mount", "to_emulator_request"]

DEFAULT_HOST = "https://api.qoder.com"


class HttpxEventStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """An :class:`EventStream` as an httpx byte stream (sync and async)."""

    def __init__(self, stream: EventStream, request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    def _dropped(self) -> httpx.ReadError:
        return httpx.ReadError(
            "Connection reset by the emulator (StreamFault)", request=self._request
        )

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._stream
        except StreamDropped:
            raise self._dropped() from None

    def close(self) -> None:
        """Close the underlying :class:`EventStream`."""
        self._stream.close()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return _AsyncChunks(self._stream.__aiter__(), self)

    async def aclose(self) -> None:
        """Close the underlying :class:`EventStream`."""
        await self._stream.aclose()


class _AsyncChunks:
    """Async iterator translating :class:`StreamDropped` into ``httpx.ReadError``."""

    def __init__(self, inner: AsyncIterator[bytes], owner: HttpxEventStream) -> None:
        self._inner = inner
        self._owner = owner

    def __aiter__(self) -> _AsyncChunks:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self._inner.__anext__()
        except StreamDropped:
            raise self._owner._dropped() from None


def to_emulator_request(request: httpx.Request) -> EmulatorRequest:
    """Translate an httpx request (its raw, percent-encoded path is kept)."""
    raw_path = request.url.raw_path.decode("ascii")
    path = raw_path.partition("?")[0]
    try:
        body = request.content
    except httpx.RequestNotRead:
        body = request.read()
    return EmulatorRequest(
        request.method,
        path,
        query=request.url.params.multi_items(),
        headers=request.headers.multi_items(),
        body=body,
    )


def _side_effect(cloud: FakeCloud) -> Callable[[httpx.Request], httpx.Response]:
    def respond(request: httpx.Request) -> httpx.Response:
        answer = cloud.handle(to_emulator_request(request))
        if answer.stream is not None:
            stream = HttpxEventStream(answer.stream, request)
            return httpx.Response(answer.status, headers=answer.headers, stream=stream)
        return httpx.Response(answer.status, headers=answer.headers, content=answer.body)

    return respond


def _base_url(cloud: FakeCloud, base_url: str | None) -> str:
    if base_url is None:
        return DEFAULT_HOST + cloud.base_path
    url = httpx.URL(base_url.rstrip("/"))
    if url.path.rstrip("/") != cloud.base_path:
        raise ValueError(
            f"base_url path {url.path!r} differs from the cloud's base_path {cloud.base_path!r}; "
            f"create the cloud with FakeCloud(base_path={url.path!r})"
        )
    return str(url)


def mount(cloud: FakeCloud, router: respx.Router, base_url: str | None = None) -> respx.Route:
    """Add a route to ``router`` sending every request under ``base_url`` to ``cloud``.

    ``base_url`` defaults to ``https://api.qoder.com`` + the cloud's base path; its path must
    equal the cloud's ``base_path``.
    """
    prefix = _base_url(cloud, base_url)
    route = router.route(url__startswith=prefix)
    route.side_effect = _side_effect(cloud)
    return route


@contextmanager
def mock(cloud: FakeCloud, base_url: str | None = None) -> Iterator[respx.MockRouter]:
    """A started ``respx.MockRouter`` serving ``cloud`` (other URLs are not mocked and fail)."""
    import respx

    with respx.mock(assert_all_called=False) as router:
        mount(cloud, router, base_url)
        yield router
