"""The page envelope shared by list endpoints, with ``page`` tokens and ``after_id``/``before_id``.

Cursors follow the listing order: ``after_id`` gives the items that come after it in the
requested order, ``before_id`` the ones just before it. ``next_page`` is an opaque token that
repeats the query (filters, order, limit) from the page's last item.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from qoder.testing._ids import IdFactory
from qoder.testing._wire import ApiError, EmulatorRequest

__all__ = ["PageQuery", "PageTokens", "page_envelope", "parse_bool", "parse_limit"]

T = TypeVar("T")

MAX_LIMIT = 1000


def parse_limit(raw: str | None, default: int = 20) -> int:
    """``limit`` as an int in [1, 1000]; 400 otherwise."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "limit must be an integer.", param="limit") from None
    if not 1 <= value <= MAX_LIMIT:
        raise ApiError(400, f"limit must be between 1 and {MAX_LIMIT}.", param="limit")
    return value


def parse_bool(raw: str | None, name: str, default: bool = False) -> bool:
    """A ``true``/``false`` query value; 400 otherwise."""
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise ApiError(400, f"{name} must be true or false.", param=name)


class PageQuery:
    """The effective query of a list call: the request's, or the one a ``page`` token stands for.

    ``params`` maps each name to its list of values (``types[]`` may repeat).
    """

    def __init__(self, request: EmulatorRequest, tokens: PageTokens) -> None:
        page = request.query_get("page")
        if page:
            self.params = tokens.resolve(page)
            limit = request.query_get("limit")
            if limit:
                self.params["limit"] = [limit]
        else:
            self.params = {}
            for key, value in request.query:
                self.params.setdefault(key, []).append(value)

    def get(self, name: str) -> str | None:
        """Last value of ``name``."""
        values = self.params.get(name)
        return values[-1] if values else None

    def all(self, name: str) -> list[str]:
        """Every value of ``name``."""
        return list(self.params.get(name, []))

    def order(self, default: str) -> str:
        """``asc`` or ``desc``; 400 otherwise."""
        order = self.get("order") or default
        if order not in ("asc", "desc"):
            raise ApiError(400, "order must be 'asc' or 'desc'.", param="order")
        return order


class PageTokens:
    """Issues and resolves the opaque ``next_page`` tokens of one cloud."""

    def __init__(self, ids: IdFactory) -> None:
        self._ids = ids
        self._queries: dict[str, dict[str, list[str]]] = {}

    def issue(self, params: dict[str, list[str]]) -> str:
        """A token standing for ``params``."""
        token = self._ids.new("page")
        self._queries[token] = {key: list(values) for key, values in params.items()}
        return token

    def resolve(self, token: str) -> dict[str, list[str]]:
        """The query a token stands for; 400 for an unknown token."""
        params = self._queries.get(token)
        if params is None:
            raise ApiError(400, f"Invalid page token: {token!r}.", param="page")
        return {key: list(values) for key, values in params.items()}


def page_envelope(
    ordered: Sequence[T],
    *,
    ident: Callable[[T], str],
    keep: Callable[[T], bool],
    query: PageQuery,
    tokens: PageTokens,
    serialize: Callable[[T], dict[str, Any]],
    default_limit: int = 20,
) -> dict[str, Any]:
    """One page of ``ordered`` (already in listing order) as the five-key envelope."""
    limit = parse_limit(query.get("limit"), default_limit)
    after_id, before_id = query.get("after_id"), query.get("before_id")
    ids = [ident(item) for item in ordered]

    def position(cursor: str, name: str) -> int:
        try:
            return ids.index(cursor)
        except ValueError:
            raise ApiError(400, f"Unknown {name}: {cursor!r}.", param=name) from None

    if after_id:
        rest = [item for item in ordered[position(after_id, "after_id") + 1 :] if keep(item)]
        page, has_more = rest[:limit], len(rest) > limit
    elif before_id:
        rest = [item for item in ordered[: position(before_id, "before_id")] if keep(item)]
        page, has_more = rest[-limit:], len(rest) > limit
    else:
        rest = [item for item in ordered if keep(item)]
        page, has_more = rest[:limit], len(rest) > limit
    first_id = ident(page[0]) if page else None
    last_id = ident(page[-1]) if page else None
    next_page = None
    if has_more and page:
        params = {k: v for k, v in query.params.items() if k not in ("after_id", "before_id")}
        params["limit"] = [str(limit)]
        if before_id:
            params["before_id"] = [str(first_id)]
        else:
            params["after_id"] = [str(last_id)]
        next_page = tokens.issue(params)
    return {
        "data": [serialize(item) for item in page],
        "has_more": has_more,
        "first_id": first_id,
        "last_id": last_id,
        "next_page": next_page,
    }
