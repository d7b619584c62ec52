"""The resource client's core: REST calls of sessions, events, agents and environments as
flows, typed answers, and lazy pagination (docs/protocol.md §3, §8.2, §8.5).

:class:`CatalogCore` is to ``Cloud`` / ``AsyncCloud`` what :class:`~.flows.SessionCore` is
to the conversation clients: the facades run its flows with the same effects (``OpenHTTP``,
``Send``, ``Sleep``, ``CallUser``, ``CloseHTTP``), so retries, the 409 loop, idempotency
keys, token refresh and redaction are the conversation's own (:class:`~.calls.Caller`).

Pagination never needs writing by hand: :meth:`CatalogCore.page` fetches one page and says
which request fetches the next (``next_page``, else ``after_id`` of the last item, §3); a
cursor that does not advance is a :class:`~.errors.ProtocolError`, not a loop.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, TypeVar

import attrs

from . import requests as rq
from . import resource_requests as rr
from .calls import Caller
from .config import SessionConfig
from .convert import event_from_object
from .effects import CloseHTTP, Effect, EffectResult, OpenHTTP
from .errors import ClientStateError
from .resources import Page, structure_page, structure_resource

__all__ = ["CatalogCore", "PageStep"]

T = TypeVar("T")
Flow = Generator[Effect, EffectResult, T]


@attrs.frozen
class PageStep:
    """A page and how to fetch the one after it (``None`` at the end)."""

    page: Page[Any]
    following: rq.APIRequest | None
    cursor: str | None


class CatalogCore:
    """The I/O-free half of a resource client."""

    def __init__(self) -> None:
        self.caller: Caller | None = None
        self.closed = False

    def open(self, resolve: Callable[[], SessionConfig]) -> Flow[None]:
        """Resolve the options (a token and a base URL) and have an HTTP client ready; the
        first call of a method does this, so opening explicitly is optional."""
        if self.closed:
            raise ClientStateError("the resource client was closed; create a new one")
        if self.caller is None:
            config = resolve()
            self.caller = Caller(config)
            yield OpenHTTP(config.timeouts, self.caller.static_headers())

    def close(self) -> Flow[None]:
        """Close the HTTP client the facade made. Idempotent."""
        if self.closed:
            return
        self.closed = True
        if self.caller is not None:
            yield CloseHTTP()

    def call(self, request: rq.APIRequest, into: type[T]) -> Flow[T]:
        """One call; its answer as an ``into`` (``Session``, ``Agent``, ``Deleted``, ...)."""
        data = yield from self._require_caller().call(request)
        return structure_resource(data, into, f"{request.method} {request.path}")

    def page(
        self, request: rq.APIRequest, into: type[Any] | None, cursor: str | None = None
    ) -> Flow[PageStep]:
        """One page of a list; ``into=None`` types the items as events (§3.10), with the
        stream's converter. ``cursor`` is the one that fetched ``request`` (``None`` for
        the first page)."""
        data = yield from self._require_caller().call(request)
        what = f"{request.method} {request.path}"
        build: Callable[[Any], Any] = (
            event_from_object if into is None else lambda item: structure_resource(item, into, what)
        )
        page = structure_page(data, build, what)
        following = rr.following_page(request, page.raw, cursor)
        if following is None:
            return PageStep(page, None, None)
        return PageStep(page, following[0], following[1])

    def _require_caller(self) -> Caller:
        if self.closed:
            raise ClientStateError("the resource client was closed; create a new one")
        if self.caller is None:
            raise ClientStateError("the resource client is not open yet")
        return self.caller
