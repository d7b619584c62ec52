"""The page envelope shared by list endpoints, with ``page`` tokens and ``after_id``/``before_id``.

Every listed item has a position that never changes (its creation sequence number, or its
index in an event log); a listing is the items in ascending (``asc``) or descending (``desc``)
position. Cursors follow the listing order: ``after_id`` gives the items that come after it in
the requested order, ``before_id`` the ones just before it. ``next_page`` is an opaque token that
repeats the query (filters, order, limit) from the page's last item (or, walking backwards with
``before_id``, from its first). Tokens carry positions, not ids, so a walk survives the deletion
of the item it stopped at; they are signed, so a token that this cloud did not issue for this
list (or one that was altered) is a 400.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from qoder.testing._wire import ApiError, EmulatorRequest

__all__ = [
    "Listing",
    "PageQuery",
    "PageTokens",
    "page_envelope",
    "parse_bool",
    "parse_limit",
]

T = TypeVar("T")

MAX_LIMIT = 100
"""The largest ``limit`` of a resource list (sessions, agents, environments)."""
MAX_EVENT_LIMIT = 1000
"""The largest ``limit`` of an event list."""

_CURSORS = ("after_id", "before_id")


def parse_limit(raw: str | None, default: int = 20, maximum: int = MAX_LIMIT) -> int:
    """``limit`` as an int in [1, maximum]; 400 otherwise."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "limit must be an integer.", param="limit") from None
    if not 1 <= value <= maximum:
        raise ApiError(400, f"limit must be between 1 and {maximum}.", param="limit")
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


class PageTokens:
    """Issues and checks the opaque, signed ``next_page`` tokens of one cloud (stateless: a
    long-lived served cloud keeps nothing per token)."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def _sign(self, payload: bytes) -> str:
        return hmac.new(self._key, payload, hashlib.sha256).hexdigest()[:32]

    def issue(self, scope: str, params: dict[str, list[str]], cursor: tuple[str, int]) -> str:
        """A token for list ``scope``: the query ``params`` continued from ``cursor``."""
        payload = json.dumps(
            {"s": scope, "p": params, "c": list(cursor)}, separators=(",", ":")
        ).encode()
        encoded = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"page_{encoded}.{self._sign(payload)}"

    def resolve(self, scope: str, token: str) -> tuple[dict[str, list[str]], tuple[str, int]]:
        """The query and cursor a token stands for; 400 for a token not issued for ``scope``."""
        invalid = ApiError(400, f"Invalid page token: {token!r}.", param="page")
        body, _, signature = token.removeprefix("page_").partition(".")
        try:
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError:
            raise invalid from None
        if not token.startswith("page_") or not hmac.compare_digest(signature, self._sign(payload)):
            raise invalid
        decoded = json.loads(payload)
        if decoded["s"] != scope:
            raise invalid
        direction, position = decoded["c"]
        return decoded["p"], (str(direction), int(position))


class PageQuery:
    """The effective query of a list call: the request's, or the one a ``page`` token stands for.

    ``params`` maps each name to its list of values (``types[]`` may repeat); ``cursor`` is the
    token's ``("after" | "before", position)``, or ``None`` without a token. A ``limit`` given
    next to ``page`` overrides the token's.
    """

    def __init__(self, request: EmulatorRequest, tokens: PageTokens, scope: str) -> None:
        self.tokens = tokens
        self.scope = scope
        self.cursor: tuple[str, int] | None = None
        page = request.query_get("page")
        if page:
            self.params, self.cursor = tokens.resolve(scope, page)
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

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean parameter (``true``/``false``); 400 otherwise."""
        return parse_bool(self.get(name), name, default)

    def order(self, default: str) -> str:
        """``asc`` or ``desc``; 400 otherwise."""
        order = self.get("order") or default
        if order not in ("asc", "desc"):
            raise ApiError(400, "order must be 'asc' or 'desc'.", param="order")
        return order


@dataclass(frozen=True)
class Listing:
    """How to walk one collection: ``position`` of an item (ascending in the stored order) and
    ``locate``, the position of a cursor id (``None`` when the id is unknown)."""

    position: Callable[[Any], int]
    locate: Callable[[str], int | None]
    ident: Callable[[Any], str]


def _cursor(query: PageQuery, listing: Listing) -> tuple[str, int] | None:
    if query.cursor is not None:
        return query.cursor
    for name in _CURSORS:
        value = query.get(name)
        if value:
            position = listing.locate(value)
            if position is None:
                raise ApiError(400, f"Unknown {name}: {value!r}.", param=name)
            return ("after" if name == "after_id" else "before", position)
    return None


def _walk(
    items: Sequence[T],
    listing: Listing,
    keep: Callable[[T], bool],
    *,
    start: int,
    step: int,
    wanted: int,
) -> list[T]:
    """Up to ``wanted`` kept items from index ``start`` on, moving by ``step`` (±1)."""
    found: list[T] = []
    index = start
    while 0 <= index < len(items) and len(found) < wanted:
        item = items[index]
        if keep(item):
            found.append(item)
        index += step
    return found


def page_envelope(
    items: Sequence[T],
    *,
    listing: Listing,
    query: PageQuery,
    keep: Callable[[T], bool],
    serialize: Callable[[T], dict[str, Any]],
    order: str,
    default_limit: int = 20,
    max_limit: int = MAX_LIMIT,
) -> dict[str, Any]:
    """One page of ``items`` (stored in ascending position) as the five-key envelope."""
    limit = parse_limit(query.get("limit"), default_limit, max_limit)
    cursor = _cursor(query, listing)
    descending = order == "desc"
    # "forward" walks the listing order; "backward" (before_id) walks against it.
    backward = cursor is not None and cursor[0] == "before"
    step = -1 if descending != backward else 1
    if cursor is None:
        start = len(items) - 1 if descending else 0
    elif step == 1:
        start = bisect.bisect_right(items, cursor[1], key=listing.position)
    else:
        start = bisect.bisect_left(items, cursor[1], key=listing.position) - 1
    found = _walk(items, listing, keep, start=start, step=step, wanted=limit + 1)
    page, has_more = found[:limit], len(found) > limit
    if backward:
        page.reverse()
    next_page = None
    if has_more and page:
        params = {k: v for k, v in query.params.items() if k not in _CURSORS}
        params["limit"] = [str(limit)]
        edge = page[0] if backward else page[-1]
        direction = "before" if backward else "after"
        next_page = query.tokens.issue(query.scope, params, (direction, listing.position(edge)))
    return {
        "data": [serialize(item) for item in page],
        "has_more": has_more,
        "first_id": listing.ident(page[0]) if page else None,
        "last_id": listing.ident(page[-1]) if page else None,
        "next_page": next_page,
    }
