"""What a facade can be asked to do, and what it answers: the whole vocabulary between the
sans-IO core and the two drivers.

Every step of a session (connect, a query, an answer to a tool call, reading until something
can be delivered, disconnect) is a generator in :mod:`.flows` typed
``Generator[Effect, EffectResult, T]``. It yields an *effect*; the facade performs it with
httpx and anyio (or blocking calls and threads) and sends back its *result*; when the
generator returns, its value is the step's answer. A facade therefore has exactly one loop
that knows these classes (its ``_run``) and nothing else to decide::

    effect            the facade does                         and sends back
    ----------------  --------------------------------------  -------------------------------
    OpenHTTP          make its HTTP client if it has none     None
    CloseHTTP         close the HTTP client if it made it     None
    Send              send one REST request, read the body    Received | NoResponse
    Sleep             wait                                    None
    OpenStream        send the stream request, keep a 200     Received (body b"" on 200)
                      open as *the* stream, else read+close   | NoResponse
    ReadChunk         read the next bytes of the stream       Chunk | StreamEnded | Woken
    CloseStream       close the stream (if one is open)       None
    CallUser          call a user callable (tool handler,     Returned | Raised
                      ``can_use_tool``, ``on_auth_expired``)
    WakeReader        make a read blocked in another task or  None
                      thread return now (``Woken``)

Nothing else crosses the boundary: no option, no httpx type, no clock beyond the one the core
is given. The classes are small frozen attrs values, compared by the tests that drive the
flows by hand (``tests/protocol/test_flows.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import attrs

from .requests import APIRequest

__all__ = [
    "CallUser",
    "Chunk",
    "CloseHTTP",
    "CloseStream",
    "Effect",
    "EffectResult",
    "NoResponse",
    "OpenHTTP",
    "OpenStream",
    "Raised",
    "ReadChunk",
    "Received",
    "RefreshAuth",
    "Returned",
    "Send",
    "Sleep",
    "StreamEnded",
    "Timeouts",
    "WakeReader",
    "Woken",
    "unhandled",
]


@attrs.frozen
class Timeouts:
    """Seconds for each phase of a request (``None`` = no limit), as ``httpx.Timeout`` has."""

    connect: float | None
    read: float | None
    write: float | None
    pool: float | None


# --- effects ---------------------------------------------------------------------------------


@attrs.frozen
class OpenHTTP:
    """Have an HTTP client ready; one the facade makes gets these ``timeouts`` and carries
    ``headers`` on every request (a client the user gave is used as it is).

    ``headers`` are the §2.3 headers that do not change from request to request (never the
    token). Each request's effect still lists all its headers; the facade sends only those
    that differ from these, which spares httpx merging them into every request.
    """

    timeouts: Timeouts
    headers: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class CloseHTTP:
    """Close the HTTP client if the facade made it (never one the user gave)."""


@attrs.frozen
class Send:
    """Send ``request`` once and read its whole body; answer :class:`Received` or
    :class:`NoResponse`.

    ``headers`` are the headers of this attempt. Sent by :func:`.retry.call_flow` they are only
    those that vary per call (``X-Qoder-Retry-Count``, ``Idempotency-Key``, ...); the session
    adds the client's base headers and ``url`` (absolute) before a facade sees it.
    """

    request: APIRequest
    headers: Mapping[str, str]
    url: str = ""


@attrs.frozen
class Sleep:
    """Wait ``seconds``, then resume the flow with ``None``. Cancelling here stops the step."""

    seconds: float


@attrs.frozen
class RefreshAuth:
    """Internal to :func:`.retry.call_flow`: ask for a new token after a 401/403 (send back a
    token or ``None``). The session turns it into a :class:`CallUser` of ``on_auth_expired``,
    so facades never see it."""


@attrs.frozen
class OpenStream:
    """Send the SSE request. A 200 answer stays open as the client's one stream (answer
    ``Received(200, headers, b"")``); any other answer is read whole and closed."""

    request: APIRequest
    headers: Mapping[str, str]
    url: str
    timeouts: Timeouts


@attrs.frozen
class ReadChunk:
    """Read the next bytes of the open stream: :class:`Chunk`, :class:`StreamEnded`, or
    :class:`Woken` if a :class:`WakeReader` interrupted the wait. A read that ends any other
    way (a cancellation, an exception) leaves the stream closed."""


@attrs.frozen
class CloseStream:
    """Close the stream's response, if one is open."""


@attrs.frozen
class CallUser:
    """Call ``func(*args)``, a callable the user gave (sync or async); answer
    :class:`Returned` with its value, awaited if it was awaitable, or :class:`Raised`.

    ``in_thread``: a sync callable may block (a tool handler): an async facade runs it in a
    worker thread. Callbacks that decide quickly (``can_use_tool``) run in place.
    """

    func: Callable[..., Any]
    args: tuple[Any, ...] = ()
    in_thread: bool = False


@attrs.frozen
class WakeReader:
    """A message became deliverable outside the reader (a ``query()`` reply, a disconnect):
    make a :class:`ReadChunk` blocked in another task or thread return :class:`Woken` now.
    ``hard``: stop the reader wherever it is (``disconnect()``), and wait until it has."""

    hard: bool = False


Effect = (
    OpenHTTP
    | CloseHTTP
    | Send
    | Sleep
    | OpenStream
    | ReadChunk
    | CloseStream
    | CallUser
    | WakeReader
)
"""Everything a facade performs."""


# --- results ---------------------------------------------------------------------------------


@attrs.frozen
class Received:
    """A response. Its body has been read whole and the response closed, except a 200 to
    :class:`OpenStream`, whose body is the stream itself (``body=b""``)."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@attrs.frozen
class NoResponse:
    """No response arrived: connect failure, reset, or a timeout (``timeout=True``)."""

    error: Exception
    timeout: bool


@attrs.frozen
class Chunk:
    """Bytes read from the stream."""

    data: bytes


@attrs.frozen
class StreamEnded:
    """The stream ended: ``kind`` is ``"eof"`` (the server closed it), ``"timeout"`` (no byte
    within the idle timeout) or ``"error"`` (a transport error, described by ``detail``).
    The facade has closed the response."""

    kind: str
    detail: str = ""


@attrs.frozen
class Woken:
    """A :class:`WakeReader` ended the read; the facade closed the stream (nothing is lost: the
    next read resumes from the cursor)."""


@attrs.frozen
class Returned:
    """A user callable returned ``value``."""

    value: Any


@attrs.frozen
class Raised:
    """A user callable raised ``error`` (an ``Exception``; anything else propagates)."""

    error: Exception


EffectResult = Received | NoResponse | Chunk | StreamEnded | Woken | Returned | Raised | None
"""Everything a facade sends back."""


def unhandled(effect: NoReturn) -> NoReturn:
    """The last case of a facade's ``match`` on effects: mypy proves it unreachable, so a new
    effect type that a facade forgets to perform is a type error, not a silent no-op."""
    raise AssertionError(f"no facade case for the effect {effect!r}")
