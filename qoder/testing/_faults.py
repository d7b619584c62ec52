"""Fault injection: scripted HTTP errors and misbehaving event streams, chosen per test.

Inject with :meth:`FakeCloud.inject`; each fault fires for the next ``times`` matching requests
(or stream connections) and counts its uses in ``used``::

    cloud.inject(HttpFault(429, method="POST", path="/sessions/*/events", retry_after=0.01))
    cloud.inject(StreamFault(drop_after=3))          # the next stream is cut inside frame 4
    cloud.inject(StreamFault(chunk_size=1, crlf=True, times=2))
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from qoder.testing._wire import EmulatorResponse, error_body, error_type_for, json_response

__all__ = ["Fault", "FaultRegistry", "HttpFault", "StreamFault"]

PROCESSING_MESSAGE = (
    "Session is currently processing a turn. Cancel the current turn or wait for completion."
)

_DEFAULT_MESSAGES = {
    409: PROCESSING_MESSAGE,
    429: "Rate limit exceeded. Please retry later.",
    500: "Internal server error.",
    502: "Bad gateway.",
    503: "Service temporarily unavailable.",
    529: "Overloaded.",
}


def _compile_path(pattern: str | re.Pattern[str] | None) -> re.Pattern[str] | None:
    """``*`` matches one path segment, ``**`` anything; a compiled regex is used as is."""
    if pattern is None or isinstance(pattern, re.Pattern):
        return pattern
    if not pattern.startswith("/"):
        pattern = "/" + pattern
    parts = re.split(r"(\*\*|\*)", pattern)
    regex = "".join(
        ".*" if part == "**" else "[^/]+" if part == "*" else re.escape(part) for part in parts
    )
    return re.compile(regex)


@dataclass(eq=False)
class HttpFault:
    """Answer the next ``times`` matching requests with an error instead of the real response.

    ``method`` (``None`` = any) and ``path`` select requests; ``path`` is relative to the base
    path (``"/sessions/*/events"``; ``*`` = one segment, ``**`` = anything) or a compiled regex
    matched against it. ``retry_after`` (seconds, or a raw header string such as an HTTP date)
    and ``retry_after_ms`` become the ``retry-after`` / ``retry-after-ms`` headers. ``message`` and
    ``error_type`` default from the status (409 gets the "processing a turn" text); ``body``
    replaces the JSON envelope with raw bytes (e.g. an HTML 502 page). With
    ``after_processing=True`` the request is executed normally (its events persist, its
    idempotency key is stored) and only the answer is replaced: a response lost on the way back.

    Example::

        cloud.inject(HttpFault(503, method="POST", path="/sessions/*/events", retry_after=0.01))
    """

    status: int
    method: str | None = None
    path: str | re.Pattern[str] | None = None
    times: int = 1
    retry_after: float | str | None = None
    retry_after_ms: float | None = None
    message: str | None = None
    error_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    after_processing: bool = False
    used: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._regex: re.Pattern[str] | None = _compile_path(self.path)

    @property
    def remaining(self) -> int:
        """How many more requests this fault will answer."""
        return max(0, self.times - self.used)

    def matches(self, method: str, relative_path: str) -> bool:
        """Whether this fault applies to a request (ignoring ``times``)."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self._regex is None or self._regex.fullmatch(relative_path) is not None

    def response(self) -> EmulatorResponse:
        """The injected answer."""
        headers: list[tuple[str, str]] = []
        if self.retry_after is not None:
            value = self.retry_after
            headers.append(("retry-after", value if isinstance(value, str) else f"{value:g}"))
        if self.retry_after_ms is not None:
            headers.append(("retry-after-ms", f"{self.retry_after_ms:g}"))
        headers.extend(self.headers.items())
        if self.body is not None:
            return EmulatorResponse(
                self.status, [("content-type", "text/html"), *headers], self.body
            )
        message = self.message or _DEFAULT_MESSAGES.get(self.status, "Injected error.")
        error_type = self.error_type or error_type_for(self.status)
        return json_response(self.status, error_body(error_type, message), headers)


@dataclass(eq=False)
class StreamFault:
    """Make the next ``times`` stream connections (of ``session_id``, or any) misbehave.

    Counts below are persisted-event frames sent on that connection (0 = before the first):

    * ``drop_after=N``: after N event frames, send half of the next frame and end the body (a
      connection cut mid-frame). With ``raise_error=True`` the respx adapter raises
      ``httpx.ReadError`` after the partial bytes instead of ending cleanly.
    * ``malformed_at=N`` / ``unknown_event_at=N``: once N event frames are sent, send a frame
      whose data is not JSON / whose type is unknown (neither has an ``id:`` nor is persisted).
    * ``error_frame_at=N``: once N event frames are sent, send an in-band ``event: error`` frame
      and close the stream.
    * ``delay``: wait this many seconds before every event frame (``anyio.sleep`` / ``time.sleep``).
    * ``chunk_size``: deliver the bytes in pieces of this size; ``crlf``: end lines with CRLF.

    Example::

        cloud.inject(StreamFault(drop_after=3, chunk_size=7))
    """

    drop_after: int | None = None
    raise_error: bool = False
    malformed_at: int | None = None
    unknown_event_at: int | None = None
    error_frame_at: int | None = None
    delay: float = 0.0
    chunk_size: int | None = None
    crlf: bool = False
    session_id: str | None = None
    times: int = 1
    used: int = field(default=0, init=False)

    @property
    def remaining(self) -> int:
        """How many more connections this fault will affect."""
        return max(0, self.times - self.used)


Fault = HttpFault | StreamFault


class FaultRegistry:
    """The faults injected into one cloud, consumed in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Arm ``fault``."""
        self._faults.append(fault)

    def clear(self) -> None:
        """Disarm every fault."""
        self._faults.clear()

    @property
    def armed(self) -> list[Fault]:
        """The faults that will still fire."""
        return [fault for fault in self._faults if fault.remaining > 0]

    def take_http(self, method: str, relative_path: str, *, after: bool) -> HttpFault | None:
        """Consume one use of the first HTTP fault matching this request and phase."""
        for fault in self._faults:
            if (
                isinstance(fault, HttpFault)
                and fault.after_processing == after
                and fault.remaining > 0
                and fault.matches(method, relative_path)
            ):
                fault.used += 1
                return fault
        return None

    def take_stream(self, session_id: str) -> StreamFault | None:
        """Consume one use of the first stream fault for this session."""
        for fault in self._faults:
            if (
                isinstance(fault, StreamFault)
                and fault.remaining > 0
                and fault.session_id in (None, session_id)
            ):
                fault.used += 1
                return fault
        return None
