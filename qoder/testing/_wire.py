"""Framework-independent HTTP values of the emulator: requests, responses, headers, errors.

The emulator core speaks the wire protocol with plain dicts and JSON; adapters (respx, ASGI)
translate their own request objects into :class:`EmulatorRequest` and back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from qoder.testing._stream import EventStream

__all__ = [
    "ApiError",
    "EmulatorRequest",
    "EmulatorResponse",
    "Headers",
    "dumps",
    "error_body",
    "error_type_for",
    "json_response",
]

QueryInput = str | Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]] | None
HeadersInput = Mapping[str, str] | Iterable[tuple[str, str]] | None

_MISSING: Any = object()

# docs/protocol.md §2.6: the error type that goes with each status code.
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    408: "timeout_error",
    409: "conflict_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    501: "feature_not_available",
    529: "overloaded_error",
}


def dumps(value: object) -> str:
    """Encode ``value`` as compact JSON (no spaces, non-ASCII kept as is)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def error_type_for(status: int) -> str:
    """Return the protocol's error type for an HTTP status (``api_error`` for other 5xx)."""
    if status in _ERROR_TYPES:
        return _ERROR_TYPES[status]
    return "api_error" if status >= 500 else "invalid_request_error"


def error_body(error_type: str, message: str, param: str | None = None) -> dict[str, Any]:
    """Build the error envelope ``{"type":"error","error":{"type":…,"message":…}}``."""
    error: dict[str, Any] = {"type": error_type, "message": message}
    if param is not None:
        error["param"] = param
    return {"type": "error", "error": error}


class Headers(Mapping[str, str]):
    """Case-insensitive, multi-valued HTTP headers; indexing returns the first value.

    >>> h = Headers([("Last-Event-ID", "evt_1")])
    >>> h["last-event-id"]
    'evt_1'
    """

    __slots__ = ("_items",)

    def __init__(self, items: HeadersInput = None) -> None:
        pairs: Iterable[tuple[str, str]]
        if items is None:
            pairs = ()
        elif isinstance(items, Mapping):
            pairs = items.items()
        else:
            pairs = items
        self._items = [(str(name), str(value)) for name, value in pairs]

    def __getitem__(self, name: str) -> str:
        wanted = name.lower()
        for key, value in self._items:
            if key.lower() == wanted:
                return value
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(key.lower() for key, _ in self._items))

    def __len__(self) -> int:
        return len({key.lower() for key, _ in self._items})

    def get_all(self, name: str) -> list[str]:
        """Every value of header ``name``, in the order received."""
        wanted = name.lower()
        return [value for key, value in self._items if key.lower() == wanted]

    def raw(self) -> list[tuple[str, str]]:
        """The headers as received: a list of ``(name, value)`` pairs."""
        return list(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


def _normalize_query(query: QueryInput) -> tuple[tuple[str, str], ...]:
    if query is None:
        return ()
    if isinstance(query, str):
        return tuple(parse_qsl(query, keep_blank_values=True))
    if isinstance(query, Mapping):
        pairs: list[tuple[str, str]] = []
        for key, value in query.items():
            if isinstance(value, str):
                pairs.append((key, value))
            else:
                pairs.extend((key, item) for item in value)
        return tuple(pairs)
    return tuple((str(key), str(value)) for key, value in query)


class EmulatorRequest:
    """One HTTP request as the emulator sees it.

    ``path`` is the percent-encoded path (a ``?query`` suffix is split off when ``query`` is not
    given); ``query`` keeps repeated keys (``types[]=a&types[]=b``); ``headers`` are
    case-insensitive; ``body`` is raw bytes (``json=`` encodes a value for you).

    >>> req = EmulatorRequest("GET", "/api/v1/cloud/sessions?limit=2")
    >>> req.query_get("limit")
    '2'
    """

    __slots__ = ("body", "headers", "method", "path", "query")

    def __init__(
        self,
        method: str,
        path: str,
        *,
        query: QueryInput = None,
        headers: HeadersInput = None,
        body: bytes | str = b"",
        json: Any = _MISSING,
    ) -> None:
        if query is None and "?" in path:
            path, _, raw_query = path.partition("?")
            query = raw_query
        self.method = method.upper()
        self.path = path
        self.query = _normalize_query(query)
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        if json is not _MISSING:
            body = dumps(json)
        self.body = body.encode() if isinstance(body, str) else bytes(body)

    def query_get(self, name: str) -> str | None:
        """The last value of query parameter ``name``, or ``None``."""
        values = self.query_all(name)
        return values[-1] if values else None

    def query_all(self, name: str) -> list[str]:
        """Every value of query parameter ``name``, in order."""
        return [value for key, value in self.query if key == name]

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        return self.headers.get(name)

    def json(self) -> Any:
        """Decode the body as JSON (raises ``ValueError`` when it is not JSON)."""
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"EmulatorRequest({self.method} {self.path}, query={self.query!r})"


class EmulatorResponse:
    """One HTTP response: a status, headers, and either a JSON body or an :class:`EventStream`."""

    __slots__ = ("body", "headers", "status", "stream")

    def __init__(
        self,
        status: int,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        stream: EventStream | None = None,
    ) -> None:
        self.status = status
        self.headers = list(headers)
        self.body = body
        self.stream = stream

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        return Headers(self.headers).get(name)

    def json(self) -> Any:
        """Decode the JSON body."""
        return json.loads(self.body)

    def __repr__(self) -> str:
        kind = "stream" if self.stream is not None else f"{len(self.body)} bytes"
        return f"EmulatorResponse({self.status}, {kind})"


def json_response(
    status: int, value: object, headers: Iterable[tuple[str, str]] = ()
) -> EmulatorResponse:
    """A JSON response with ``Content-Type: application/json``."""
    return EmulatorResponse(
        status,
        [("content-type", "application/json"), *headers],
        dumps(value).encode(),
    )


class ApiError(Exception):
    """Raised inside the emulator to answer with the protocol's error envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str | None = None,
        param: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type or error_type_for(status)
        self.param = param
        self.headers = list(headers)

    def to_response(self) -> EmulatorResponse:
        """The error as an :class:`EmulatorResponse`."""
        body = error_body(self.error_type, self.message, self.param)
        return json_response(self.status, body, self.headers)
