"""When to try a call again, how long to wait, and the loop that does it, without any I/O.

Three policies live here (docs/protocol.md §2.5, §2.6, §6.6):

* :class:`RetryPolicy` decides whether a failed REST attempt is retried and how long to wait
  (``retry-after-ms``, then ``Retry-After``, honoured only within (0, 60] s, else exponential
  backoff with jitter, capped at 8 s), after anthropic-sdk-python and the official client A.
* :func:`busy_delay` paces the separate loop for the 409 "Session is currently processing a
  turn" answer to ``POST …/events``: the session is busy, not broken, so it is retried up to
  :data:`BUSY_MAX_ATTEMPTS` times whatever ``max_retries`` says.
* :class:`ReconnectBackoff` paces the resumption of a dropped event stream.

:func:`call_flow` combines the first two into one sans-IO driver, shaped like httpx's auth
flows: a plain generator that yields what to do (:class:`Send`, :class:`Sleep`,
:class:`RefreshAuth`) and is sent back what happened (:class:`Received`, :class:`NoResponse`,
a token). The sync facade drives it with ``httpx.Client`` and ``time.sleep``, the async one with
``httpx.AsyncClient`` and ``anyio.sleep``; the decisions, the per-attempt headers and the error
messages are therefore identical in both and tested here by driving the generator by hand::

    flow = call_flow(request, policy=policy, method_url=f"GET {url}", redact=redact)
    action = next(flow)
    try:
        while True:
            if isinstance(action, Send):
                action = flow.send(send_and_read(action))   # a Received or a NoResponse
            elif isinstance(action, Sleep):
                sleep(action.seconds)
                action = next(flow)
            else:                                           # RefreshAuth
                action = flow.send(call_on_auth_expired())  # a str or None
    except StopIteration as stop:
        received = stop.value

Clocks, randomness and idempotency keys are parameters, so tests are exact.
"""

from __future__ import annotations

import email.utils
import os
import random
import time
from collections.abc import Callable, Generator, Mapping
from typing import Final

import attrs

from . import errors
from .effects import NoResponse, Received, RefreshAuth, Send, Sleep
from .redaction import hide
from .requests import APIRequest, header_value
from .status import error_from_response, is_session_busy, session_busy_error

__all__ = [
    "BUSY_MAX_ATTEMPTS",
    "MAX_RETRY_AFTER",
    "Action",
    "CallResult",
    "NoResponse",
    "Received",
    "ReconnectBackoff",
    "RefreshAuth",
    "RetryPolicy",
    "Send",
    "Sleep",
    "busy_delay",
    "call_flow",
    "parse_retry_after",
]

MAX_RETRY_AFTER: Final = 60.0
"""Server-requested waits above this (seconds) are ignored; A honoured up to ~49 days (§7.10)."""

BUSY_MAX_ATTEMPTS: Final = 30
"""Attempts of ``POST …/events`` while the session answers 409 busy (§2.6); ≈51 s of waiting."""

_BACKOFF_INITIAL = 0.5
_BACKOFF_MAX = 8.0


def parse_retry_after(headers: Mapping[str, str] | None, now: Callable[[], float]) -> float | None:
    """The wait the server asks for, in seconds, or ``None`` to use our own backoff.

    ``retry-after-ms`` (float milliseconds) is read first, then ``retry-after`` (float seconds
    or an HTTP-date, measured against ``now()``, a Unix time). The first header that parses
    decides; its value is honoured only in (0, :data:`MAX_RETRY_AFTER`], so a zero, negative,
    NaN, infinite or far-future value falls back to the backoff instead of stalling the client.
    """
    if headers is None:
        return None
    delay: float | None = None
    milliseconds = header_value(headers, "retry-after-ms")
    if milliseconds is not None:
        try:
            delay = float(milliseconds) / 1000.0
        except ValueError:
            delay = None
    if delay is None:
        value = header_value(headers, "retry-after")
        if value is not None:
            try:
                delay = float(value)
            except ValueError:
                date = email.utils.parsedate_tz(value)
                if date is not None:
                    delay = email.utils.mktime_tz(date) - now()
    if delay is not None and 0.0 < delay <= MAX_RETRY_AFTER:
        return delay
    return None


def busy_delay(attempt: int) -> float:
    """Seconds to wait after busy attempt ``attempt`` (0-based): 0.25, 0.5, … then 2.0."""
    return min(2.0, 0.25 * (attempt + 1))


def _non_negative(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be 0 or more, got {value}")


@attrs.frozen
class RetryPolicy:
    """Which failed REST attempts are retried, and after how long (docs/protocol.md §2.5).

    ``max_retries`` bounds the HTTP retries of one call (default 2, so at most 3 attempts).
    The 409 busy loop and the auth refresh are not counted against it.
    """

    max_retries: int = attrs.field(default=2, validator=_non_negative)

    def should_retry(
        self,
        *,
        retries_done: int,
        status: int | None,
        headers: Mapping[str, str] | None,
        retry_safe: bool,
    ) -> bool:
        """Whether to retry after a failed attempt; ``status`` is ``None`` for no response.

        In order: no retries left → no; no response → iff ``retry_safe``; 409 (its own loop)
        and 401/403 (never retried, §2.2: the auth hook handles them) → no; not retry-safe and
        not 429 → no; ``x-should-retry: false``/``true`` decides; then 408, 429 and 5xx are
        retried and everything else is not.
        """
        if retries_done >= self.max_retries:
            return False
        if status is None:
            return retry_safe
        if status in (401, 403, 409):
            return False
        if not retry_safe and status != 429:
            return False
        directive = (header_value(headers, "x-should-retry") or "").strip().lower()
        if directive == "false":
            return False
        if directive == "true":
            return True
        return status in (408, 429) or 500 <= status <= 599

    def delay(
        self,
        retries_done: int,
        headers: Mapping[str, str] | None,
        *,
        rand: Callable[[], float],
        now: Callable[[], float],
    ) -> float:
        """Seconds to wait before retry ``retries_done`` (0-based).

        The server's ``retry-after-ms``/``retry-after`` when in range (see
        :func:`parse_retry_after`), else ``min(0.5 × 2ⁿ, 8) × (1 − 0.25 × rand())``: about
        0.375–0.5 s, 0.75–1 s, 1.5–2 s, …, at most 8 s. ``rand`` returns a float in [0, 1).
        """
        requested = parse_retry_after(headers, now)
        if requested is not None:
            return requested
        base = min(_BACKOFF_INITIAL * 2.0 ** min(retries_done, 16), _BACKOFF_MAX)
        return base * (1.0 - 0.25 * rand())


@attrs.define
class ReconnectBackoff:
    """Pacing of event-stream reconnects (docs/protocol.md §6.6), as a small state machine.

    The stream reader calls :meth:`record_connection` each time a connection attempt ends
    (a refused connect counts, with ``duration=0``), or :meth:`record_progress` as soon as a
    connection advances the cursor; checks :attr:`exhausted` (the turn is then ``stream_lost``);
    otherwise waits :meth:`next_delay` seconds and reconnects with ``Last-Event-ID``.

    The base delay ``b`` starts at ``initial``; each wait is uniform in [b/2, b), after which
    ``b`` doubles up to ``maximum``. Progress (the cursor advanced, or the connection lasted at
    least ``progress_duration`` seconds) resets ``b`` and the count of attempts without it.
    """

    initial: float = 0.5
    maximum: float = 10.0
    max_attempts: int = attrs.field(default=6, validator=_non_negative)
    progress_duration: float = 5.0
    _base: float = attrs.field(init=False)
    _attempts_without_progress: int = attrs.field(init=False, default=0)

    def __attrs_post_init__(self) -> None:
        self._base = self.initial

    @property
    def attempts_without_progress(self) -> int:
        """Consecutive connection attempts that ended without progress."""
        return self._attempts_without_progress

    @property
    def exhausted(self) -> bool:
        """True after ``max_attempts`` consecutive attempts without progress: give up."""
        return self._attempts_without_progress >= self.max_attempts

    def next_delay(self, rand: Callable[[], float]) -> float:
        """Seconds to wait before the next reconnect, and double the base for the one after."""
        base = self._base
        self._base = min(2.0 * base, self.maximum)
        return base / 2.0 + (base / 2.0) * rand()

    def record_progress(self) -> None:
        """The connection advanced the cursor: start the backoff over."""
        self._base = self.initial
        self._attempts_without_progress = 0

    def record_connection(self, *, advanced: bool, duration: float) -> None:
        """A connection attempt ended after ``duration`` seconds; ``advanced`` if it moved the
        cursor. A long connection counts as progress: it was healthy, only dropped."""
        if advanced or duration >= self.progress_duration:
            self.record_progress()
        else:
            self._attempts_without_progress += 1


# --- the call driver -------------------------------------------------------------------------


Action = Send | Sleep | RefreshAuth
"""What :func:`call_flow` asks its driver to do."""
CallResult = Received | NoResponse | str | None
"""What the driver sends back: a response or its absence after Send, a token after RefreshAuth."""


def _default_key() -> str:
    """A fresh random UUID4 in its canonical text form, as ``str(uuid.uuid4())`` gives it,
    written from 16 random bytes directly (``uuid.UUID`` costs about 4 µs a call, and every
    POST makes one)."""
    digits = os.urandom(16).hex()
    variant = _VARIANT[int(digits[16], 16) & 3]  # RFC 4122: the top two bits are 10
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"


_VARIANT: Final = "89ab"


def _is_busy_endpoint(request: APIRequest) -> bool:
    return request.method == "POST" and request.path.endswith("/events")


def _url_of(request: APIRequest, method_url: str) -> str:
    """The URL part of ``"METHOD URL"``; the text itself when it has no method prefix."""
    prefix = f"{request.method} "
    return method_url[len(prefix) :] if method_url.startswith(prefix) else method_url


def _without(secret: str, redact: Callable[[str], str]) -> Callable[[str], str]:
    """``redact`` that also hides a token obtained after the caller built ``redact``."""
    return lambda text: hide(redact(text), secret)


def _connection_error(
    request: APIRequest, url: str, outcome: NoResponse, retries: int
) -> errors.APIConnectionError:
    what = f"{request.method} {url}"
    cause = type(outcome.error).__name__
    tried = f"after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else "(not retried)"
    if outcome.timeout:
        return errors.APITimeoutError(
            f"{what} timed out {tried} ({cause}). Check the network, or allow more time with "
            "QoderAgentOptions(timeout=...).",
            method=request.method,
            url=url,
        )
    return errors.APIConnectionError(
        f"{what} got no response {tried} ({cause}). Check the network and the base URL "
        "(QODER_MANAGED_BASE_URL or QoderAgentOptions(base_url=...)).",
        method=request.method,
        url=url,
    )


def call_flow(
    request: APIRequest,
    *,
    policy: RetryPolicy,
    method_url: str,
    redact: Callable[[str], str],
    rand: Callable[[], float] = random.random,
    now: Callable[[], float] = time.time,
    new_key: Callable[[], str] = _default_key,
    can_refresh_auth: bool = False,
) -> Generator[Action, CallResult, Received]:
    """Drive one REST call through retries, the 409 busy loop and an auth refresh.

    Args:
        request: what to send.
        policy: the HTTP retry policy.
        method_url: the request as text for error messages, ``"POST https://…/sessions"``
            (a bare URL is accepted too); redacted before use. Exceptions get the URL part as
            their ``url`` attribute.
        redact: hides secrets in every text that goes into an exception.
        rand, now, new_key: randomness for jitter, Unix time for HTTP-date ``Retry-After``,
            and the ``Idempotency-Key`` factory (UUID4); parameters so that tests are exact.
        can_refresh_auth: the user gave an ``on_auth_expired`` hook.

    Returns the 2xx :class:`Received` (as ``StopIteration.value``). Raises
    :class:`~qoder.errors.APIConnectionError` / :class:`~qoder.errors.APITimeoutError` when no
    response came after the allowed retries, :class:`~qoder.errors.SessionBusyError` after
    :data:`BUSY_MAX_ATTEMPTS` busy answers, else the :class:`~qoder.errors.APIStatusError`
    subclass for the last answer.

    Per attempt: ``X-Qoder-Retry-Count`` is ``0``, then ``n`` on the n-th automatic re-send
    (HTTP retry, busy retry, or re-send after an auth refresh). POST and DELETE carry an
    ``Idempotency-Key`` made once per call and kept across HTTP retries (the server replays a
    stored success instead of running the call twice); a busy answer stored nothing, and the
    next attempt is a new request, so it gets a new key.

    A stream request goes through here only to connect: its 2xx answer is returned at once,
    and an established stream is never re-sent by this driver (resumption is the stream
    reader's job, with :class:`ReconnectBackoff` and a cursor, §6.6).
    """
    url = _url_of(request, method_url)
    state = _CallState(request, new_key)
    while True:
        outcome = yield Send(request, state.headers())
        if isinstance(outcome, NoResponse):
            if not policy.should_retry(
                retries_done=state.http_retries,
                status=None,
                headers=None,
                retry_safe=request.retry_safe,
            ):
                raise _connection_error(
                    request, redact(url), outcome, state.http_retries
                ) from outcome.error
            yield Sleep(policy.delay(state.http_retries, None, rand=rand, now=now))
            state.http_retry()
            continue
        if not isinstance(outcome, Received):
            raise TypeError(f"call_flow: expected Received or NoResponse, got {outcome!r}")
        status = outcome.status
        if 200 <= status <= 299:
            return outcome
        if _is_busy_endpoint(request) and is_session_busy(status, outcome.body):
            yield Sleep(state.busy_retry(outcome, url, redact))
            continue
        if status in (401, 403) and can_refresh_auth and not state.refreshed:
            state.refreshed = True
            token = yield RefreshAuth()
            if token is not None and not isinstance(token, str):
                raise TypeError(f"call_flow: expected a token str or None, got {token!r}")
            if token and token.strip():
                redact = state.use_token(token.strip(), redact)
                continue
        elif policy.should_retry(
            retries_done=state.http_retries,
            status=status,
            headers=outcome.headers,
            retry_safe=request.retry_safe,
        ):
            yield Sleep(policy.delay(state.http_retries, outcome.headers, rand=rand, now=now))
            state.http_retry()
            continue
        raise error_from_response(
            status=status,
            headers=outcome.headers,
            body=outcome.body,
            method=request.method,
            url=url,
            redact=redact,
            retries=state.http_retries,
        )


class _CallState:
    """The counters and headers of one call across its attempts (see :func:`call_flow`)."""

    def __init__(self, request: APIRequest, new_key: Callable[[], str]) -> None:
        self.request = request
        self.new_key = new_key
        self.static: dict[str, str] = dict(request.headers)
        if request.has_body:
            self.static["Content-Type"] = "application/json"
        self.key = new_key() if request.needs_idempotency_key else None
        self.resends = 0  # X-Qoder-Retry-Count
        self.http_retries = 0  # bounded by policy.max_retries
        self.busy_attempts = 0
        self.authorization: str | None = None
        self.refreshed = False

    def headers(self) -> dict[str, str]:
        headers = dict(self.static)
        headers["X-Qoder-Retry-Count"] = str(self.resends)
        if self.key is not None:
            headers["Idempotency-Key"] = self.key
        if self.authorization is not None:
            headers["Authorization"] = self.authorization
        return headers

    def http_retry(self) -> None:
        self.http_retries += 1
        self.resends += 1

    def busy_retry(self, outcome: Received, url: str, redact: Callable[[str], str]) -> float:
        """Count a busy answer; the wait before the next attempt, or the busy error."""
        self.busy_attempts += 1
        if self.busy_attempts >= BUSY_MAX_ATTEMPTS:
            raise session_busy_error(
                headers=outcome.headers,
                body=outcome.body,
                method=self.request.method,
                url=url,
                redact=redact,
                attempts=self.busy_attempts,
            )
        if self.key is not None:  # a busy answer stored nothing: the next attempt is new
            self.key = self.new_key()
        self.resends += 1
        return busy_delay(self.busy_attempts - 1)

    def use_token(self, token: str, redact: Callable[[str], str]) -> Callable[[str], str]:
        self.authorization = f"Bearer {token}"
        self.resends += 1
        return _without(token, redact)
