"""One test body, every facade: drive SyncClient directly and AsyncClient through a portal.

A test written against :class:`Facade` runs three times: with ``SyncClient``, and with
``AsyncClient`` on an asyncio and on a trio event loop (each in anyio's blocking portal, so
the async client runs in a real event loop while the test reads like a script).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from anyio.from_thread import BlockingPortal

from qoder import AsyncClient, Message, QoderAgentOptions, SyncClient


class Facade:
    """A client of one kind with a blocking API identical for both facades."""

    def __init__(self, kind: str, portal: BlockingPortal | None) -> None:
        self.kind = kind
        self.portal = portal

    @property
    def is_async(self) -> bool:
        return self.portal is not None

    def client(self, options: QoderAgentOptions | None = None, **kwargs: Any) -> ClientHandle:
        if self.portal is None:
            return ClientHandle(SyncClient(options, **kwargs), None)
        portal = self.portal

        async def make() -> AsyncClient:
            return AsyncClient(options, **kwargs)

        return ClientHandle(portal.call(make), portal)

    def run(self, func: Callable[..., Any], *args: Any) -> Any:
        """Call ``func`` (a coroutine function for async facades) and return its result."""
        if self.portal is None:
            return func(*args)
        return self.portal.call(func, *args)


class ClientHandle:
    """Wraps a SyncClient or an AsyncClient behind blocking methods of the same names."""

    def __init__(self, client: Any, portal: BlockingPortal | None) -> None:
        self.raw = client
        self._portal = portal

    def _do(self, name: str, *args: Any) -> Any:
        method = getattr(self.raw, name)
        if self._portal is None:
            return method(*args)
        return self._portal.call(method, *args)

    def connect(self) -> None:
        self._do("connect")

    def disconnect(self) -> None:
        self._do("disconnect")

    def query(self, prompt: Any) -> None:
        self._do("query", prompt)

    def interrupt(self) -> None:
        self._do("interrupt")

    def raw_respond(self, tool_results: Any = None, **kwargs: Any) -> None:
        if self._portal is None:
            self.raw.respond(tool_results, **kwargs)
        else:
            self._portal.call(lambda: self.raw.respond(tool_results, **kwargs))

    @property
    def session_id(self) -> str | None:
        return self.raw.session_id  # type: ignore[no-any-return]

    def __enter__(self) -> ClientHandle:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()

    def _iterate(self, name: str) -> Iterator[Any]:
        iterator = getattr(self.raw, name)()
        if self._portal is None:
            yield from iterator
            return
        portal = self._portal
        sentinel = object()

        async def step() -> Any:
            try:
                return await iterator.__anext__()
            except StopAsyncIteration:
                return sentinel

        try:
            while True:
                item = portal.call(step)
                if item is sentinel:
                    return
                yield item
        finally:
            portal.call(iterator.aclose)

    def receive_response(self) -> Iterator[Message]:
        return self._iterate("receive_response")

    def receive_messages(self) -> Iterator[Message]:
        return self._iterate("receive_messages")

    def receive_events(self) -> Iterator[Any]:
        return self._iterate("receive_events")

    def turn(self, prompt: Any) -> list[Message]:
        """query() then receive_response() to its end, as a list."""
        self.query(prompt)
        return list(self.receive_response())
