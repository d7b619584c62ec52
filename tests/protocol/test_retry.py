"""Retry policy, busy loop, reconnect backoff and the sans-IO call driver (docs/protocol.md §2.5,
§2.6, §6.6). The driver is exercised by hand: scripted outcomes in, the exact actions out."""

from __future__ import annotations

import email.utils
import json
import math
import uuid
from collections.abc import Callable, Iterator, Sequence

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qoder import errors
from qoder._protocol import requests as r
from qoder._protocol.retry import (
    BUSY_MAX_ATTEMPTS,
    Action,
    CallResult,
    NoResponse,
    Received,
    ReconnectBackoff,
    RefreshAuth,
    RetryPolicy,
    Send,
    Sleep,
    busy_delay,
    call_flow,
    parse_retry_after,
)

TOKEN = "pat_SECRET_0123456789"
NOW = 1_800_000_000.0
BUSY = json.dumps(
    {
        "type": "error",
        "error": {
            "type": "conflict_error",
            "message": "Session is currently processing a turn. Cancel the current turn or wait "
            "for completion.",
        },
    }
).encode()


def redact(text: str) -> str:
    return text.replace(TOKEN, "***")


def now() -> float:
    return NOW


def zero() -> float:
    return 0.0


def almost_one() -> float:
    return math.nextafter(1.0, 0.0)


def constant(value: float) -> Callable[[], float]:
    return lambda: value


def error_body(kind: str, message: str) -> bytes:
    return json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()


def ok(status: int = 200, body: bytes = b"{}") -> Received:
    return Received(status, {}, body)


def fail(status: int, body: bytes = b"", **headers: str) -> Received:
    return Received(status, {k.replace("_", "-"): v for k, v in headers.items()}, body)


# --- RetryPolicy.should_retry ---------------------------------------------------------------

SHOULD_RETRY = [
    # status, headers, retry_safe, expected
    (None, {}, True, True),  # 1. no response: iff retry-safe
    (None, {}, False, False),
    (409, {}, True, False),  # 2. never here
    (409, {"x-should-retry": "true"}, True, False),
    (500, {}, False, False),  # not retry-safe and not 429: never
    (500, {"x-should-retry": "true"}, False, False),
    (429, {}, False, True),
    (503, {"x-should-retry": "false"}, True, False),  # 3. the header decides
    (429, {"X-Should-Retry": "False"}, True, False),
    (400, {"x-should-retry": "true"}, True, True),
    (404, {"x-should-retry": "true"}, True, True),
    (401, {"x-should-retry": "true"}, True, False),  # §2.2: 401/403 are never retried
    (403, {"x-should-retry": "true"}, True, False),
    (408, {}, True, True),  # 4. by status
    (429, {}, True, True),
    (500, {}, True, True),
    (502, {}, True, True),
    (503, {"x-should-retry": "maybe"}, True, True),
    (529, {}, True, True),
    (599, {}, True, True),
    (400, {}, True, False),
    (401, {}, True, False),
    (403, {}, True, False),
    (404, {}, True, False),
    (413, {}, True, False),
    (422, {}, True, False),
    (600, {}, True, False),
]


@pytest.mark.parametrize(("status", "headers", "safe", "expected"), SHOULD_RETRY)
def test_should_retry(
    status: int | None, headers: dict[str, str], safe: bool, expected: bool
) -> None:
    policy = RetryPolicy()
    decision = policy.should_retry(retries_done=0, status=status, headers=headers, retry_safe=safe)
    assert decision is expected


@pytest.mark.parametrize(("status", "headers", "safe", "expected"), SHOULD_RETRY)
def test_should_retry_never_once_retries_are_spent(
    status: int | None, headers: dict[str, str], safe: bool, expected: bool
) -> None:
    policy = RetryPolicy(max_retries=2)
    assert (
        policy.should_retry(retries_done=1, status=status, headers=headers, retry_safe=safe)
        is expected
    )
    assert not policy.should_retry(retries_done=2, status=status, headers=headers, retry_safe=safe)
    assert not RetryPolicy(max_retries=0).should_retry(
        retries_done=0, status=status, headers=headers, retry_safe=safe
    )


def test_negative_max_retries_is_refused() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)


# --- delays ----------------------------------------------------------------------------------


def http_date(at: float) -> str:
    return email.utils.formatdate(at, usegmt=True)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "0.5"}, 0.0005),
        ({"Retry-After-Ms": "2000"}, 2.0),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"Retry-After": "60"}, 60.0),
        ({"retry-after": http_date(NOW + 30)}, 30.0),
        ({"retry-after-ms": "1000", "retry-after": "7"}, 1.0),  # ms wins
        ({"retry-after-ms": "soon", "retry-after": "7"}, 7.0),  # unparsable ms: next header
        # out of (0, 60]: ignored
        ({"retry-after-ms": "0"}, None),
        ({"retry-after-ms": "-5"}, None),
        ({"retry-after-ms": "60001"}, None),
        ({"retry-after-ms": "0", "retry-after": "7"}, None),  # the first parsed value decides
        ({"retry-after": "0"}, None),
        ({"retry-after": "61"}, None),
        ({"retry-after": "4294967"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": http_date(NOW - 30)}, None),
        ({"retry-after": http_date(NOW + 3600)}, None),
        ({"retry-after": "tomorrow"}, None),
        ({"retry-after": ""}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, now) == expected
    assert parse_retry_after(None, now) is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after": http_date(NOW + 10)}, 10.0),
        ({"retry-after": "120"}, 0.5),  # out of range: backoff
        ({"retry-after-ms": "0"}, 0.5),
        (None, 0.5),
    ],
)
def test_delay_prefers_the_server(headers: dict[str, str] | None, expected: float) -> None:
    assert RetryPolicy().delay(0, headers, rand=zero, now=now) == expected


@pytest.mark.parametrize(
    ("retries_done", "high", "low"),
    [
        (0, 0.5, 0.375),
        (1, 1.0, 0.75),
        (2, 2.0, 1.5),
        (3, 4.0, 3.0),
        (4, 8.0, 6.0),
        (5, 8.0, 6.0),
        (60, 8.0, 6.0),
    ],
)
def test_backoff_and_jitter_bounds(retries_done: int, high: float, low: float) -> None:
    policy = RetryPolicy()
    assert policy.delay(retries_done, {}, rand=zero, now=now) == high
    assert policy.delay(retries_done, {}, rand=almost_one, now=now) == pytest.approx(low)


@given(
    retries_done=st.integers(min_value=0, max_value=10_000),
    u=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
)
def test_backoff_always_within_bounds(retries_done: int, u: float) -> None:
    delay = RetryPolicy().delay(retries_done, None, rand=lambda: u, now=now)
    base = min(0.5 * 2 ** min(retries_done, 16), 8.0)
    assert 0.75 * base <= delay <= base
    assert 0.375 <= delay <= 8.0


def test_busy_delay() -> None:
    assert [busy_delay(a) for a in range(10)] == [
        0.25,
        0.5,
        0.75,
        1.0,
        1.25,
        1.5,
        1.75,
        2.0,
        2.0,
        2.0,
    ]
    # the sleeps between 30 attempts add up to about 51 s (§2.6)
    assert sum(busy_delay(a) for a in range(BUSY_MAX_ATTEMPTS - 1)) == 51.0


# --- ReconnectBackoff -------------------------------------------------------------------------


def test_reconnect_delays_double_up_to_ten_seconds() -> None:
    low = ReconnectBackoff()
    high = ReconnectBackoff()
    lows = [low.next_delay(zero) for _ in range(7)]
    highs = [high.next_delay(almost_one) for _ in range(7)]
    assert lows == [0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert highs == pytest.approx([0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0])


def test_reconnect_exhausted_after_six_attempts_without_progress() -> None:
    backoff = ReconnectBackoff()
    for attempt in range(6):
        assert not backoff.exhausted
        backoff.next_delay(zero)
        backoff.record_connection(advanced=False, duration=4.9)
        assert backoff.attempts_without_progress == attempt + 1
    assert backoff.exhausted


@pytest.mark.parametrize(
    "make_progress",
    [
        lambda bo: bo.record_progress(),
        lambda bo: bo.record_connection(advanced=True, duration=0.1),
        lambda bo: bo.record_connection(advanced=False, duration=5.0),
    ],
)
def test_progress_resets_the_backoff(make_progress: Callable[[ReconnectBackoff], None]) -> None:
    backoff = ReconnectBackoff()
    for _ in range(5):
        backoff.next_delay(zero)
        backoff.record_connection(advanced=False, duration=0.0)
    assert backoff.next_delay(zero) == 5.0
    make_progress(backoff)
    assert backoff.attempts_without_progress == 0
    assert not backoff.exhausted
    assert backoff.next_delay(zero) == 0.25


def test_reconnect_backoff_is_configurable() -> None:
    backoff = ReconnectBackoff(initial=1.0, maximum=3.0, max_attempts=2)
    assert [backoff.next_delay(zero) for _ in range(4)] == [0.5, 1.0, 1.5, 1.5]
    backoff.record_connection(advanced=False, duration=0)
    backoff.record_connection(advanced=False, duration=0)
    assert backoff.exhausted
    with pytest.raises(ValueError, match="max_attempts"):
        ReconnectBackoff(max_attempts=-1)


@given(st.lists(st.floats(min_value=0.0, max_value=1.0, exclude_max=True), max_size=30))
def test_reconnect_delay_bounds(draws: list[float]) -> None:
    backoff = ReconnectBackoff()
    base = 0.5
    for u in draws:
        delay = backoff.next_delay(constant(u))
        assert base / 2 <= delay < base or delay == pytest.approx(base)
        base = min(2 * base, 10.0)


# --- the driver --------------------------------------------------------------------------------


@attrs.define
class Run:
    """What one driven call did: every action in order, and its result or exception."""

    actions: list[Action]
    result: Received | None = None
    error: BaseException | None = None

    @property
    def sends(self) -> list[Send]:
        return [a for a in self.actions if isinstance(a, Send)]

    @property
    def sleeps(self) -> list[float]:
        return [a.seconds for a in self.actions if isinstance(a, Sleep)]

    def header(self, name: str) -> list[str | None]:
        return [send.headers.get(name) for send in self.sends]


def keys() -> Callable[[], str]:
    counter = iter(range(1, 1000))
    return lambda: f"key-{next(counter)}"


def drive(
    request: r.APIRequest,
    script: Sequence[CallResult],
    *,
    policy: RetryPolicy | None = None,
    can_refresh_auth: bool = False,
    url: str = "https://api.example/v1/x",
) -> Run:
    """Answer each Send and RefreshAuth with the next scripted outcome; a Sleep with next()."""
    flow = call_flow(
        request,
        policy=policy or RetryPolicy(),
        method_url=url,
        redact=redact,
        rand=zero,
        now=now,
        new_key=keys(),
        can_refresh_auth=can_refresh_auth,
    )
    outcomes: Iterator[CallResult] = iter(script)
    run = Run([])
    try:
        action = next(flow)
        while True:
            run.actions.append(action)
            action = next(flow) if isinstance(action, Sleep) else flow.send(next(outcomes))
    except StopIteration as stop:
        run.result = stop.value
    except errors.QoderError as error:
        run.error = error
    assert next(outcomes, None) is None, "the flow ended before the script did"
    return run


GET = r.retrieve_session("sess_01")
POST = r.create_session(agent="agent_01", agent_version=None, environment_id="env_01")
SEND = r.send_events("sess_01", [r.user_message("Hi")])
DELETE = r.delete_session("sess_01")


def test_get_succeeds_at_once() -> None:
    response = ok(200, b'{"id":"sess_01"}')
    run = drive(GET, [response])
    assert run.result is response
    assert run.actions == [Send(GET, {"X-Qoder-Retry-Count": "0"})]


def test_post_carries_content_type_and_idempotency_key() -> None:
    run = drive(POST, [ok(201)])
    assert run.actions == [
        Send(
            POST,
            {
                "Content-Type": "application/json",
                "X-Qoder-Retry-Count": "0",
                "Idempotency-Key": "key-1",
            },
        )
    ]


def test_delete_carries_an_idempotency_key_but_no_content_type() -> None:
    run = drive(DELETE, [ok()])
    assert run.sends[0].headers == {"X-Qoder-Retry-Count": "0", "Idempotency-Key": "key-1"}


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_any_2xx_is_returned(status: int) -> None:
    assert drive(POST, [ok(status)]).result == ok(status)


def test_http_retries_reuse_the_key_and_count_up() -> None:
    run = drive(POST, [fail(503), fail(429), ok(201)])
    assert run.result == ok(201)
    assert [type(a) for a in run.actions] == [Send, Sleep, Send, Sleep, Send]
    assert run.sleeps == [0.5, 1.0]
    assert run.header("X-Qoder-Retry-Count") == ["0", "1", "2"]
    assert run.header("Idempotency-Key") == ["key-1", "key-1", "key-1"]


def test_retry_after_is_honoured() -> None:
    run = drive(GET, [fail(429, retry_after="3"), fail(503, retry_after_ms="250"), ok()])
    assert run.sleeps == [3.0, 0.25]


def test_retries_exhausted_raise_the_last_error() -> None:
    run = drive(POST, [fail(503), fail(502), fail(500, error_body("api_error", "boom"))])
    assert len(run.sends) == 3
    assert isinstance(run.error, errors.InternalServerError)
    assert run.error.status_code == 500
    assert "Retried 2 times" in str(run.error)


def test_max_retries_zero_sends_once() -> None:
    run = drive(GET, [fail(503)], policy=RetryPolicy(max_retries=0))
    assert isinstance(run.error, errors.InternalServerError)
    assert run.sleeps == []


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (413, errors.APIStatusError),
        (422, errors.UnprocessableEntityError),
    ],
)
def test_client_errors_raise_at_once(status: int, cls: type[errors.APIStatusError]) -> None:
    run = drive(POST, [fail(status, error_body("x", "nope"), x_request_id="req_1")])
    assert len(run.actions) == 1
    assert type(run.error) is cls
    assert run.error.request_id == "req_1"
    assert run.error.method == "POST"
    assert run.error.url == "https://api.example/v1/x"


def test_x_should_retry_overrides_the_status() -> None:
    assert isinstance(
        drive(GET, [fail(503, x_should_retry="false")]).error, errors.InternalServerError
    )
    run = drive(GET, [fail(400, x_should_retry="true"), ok()])
    assert run.result == ok()
    assert run.sleeps == [0.5]


def test_get_connection_errors_are_retried() -> None:
    reset = NoResponse(ConnectionResetError("reset"), timeout=False)
    run = drive(GET, [reset, NoResponse(TimeoutError("slow"), timeout=True), ok()])
    assert run.result == ok()
    assert run.sleeps == [0.5, 1.0]
    assert run.header("X-Qoder-Retry-Count") == ["0", "1", "2"]


@pytest.mark.parametrize(
    ("timeout", "cls", "advice"),
    [
        (False, errors.APIConnectionError, "base URL"),
        (True, errors.APITimeoutError, "timeout=..."),
    ],
)
def test_no_response_exhausted(timeout: bool, cls: type[errors.APIError], advice: str) -> None:
    cause = OSError("unreachable")
    url = f"https://api.example/v1/sessions/sess_01?token={TOKEN}"
    run = drive(GET, [NoResponse(cause, timeout=timeout)] * 3, url=url)
    assert type(run.error) is cls
    assert run.error.__cause__ is cause
    message = str(run.error)
    assert message.startswith("GET https://api.example/v1/sessions/sess_01?token=*** ")
    assert "after 2 retries" in message
    assert advice in message
    assert TOKEN not in message + repr(run.error) + str(run.error.url)


@pytest.mark.parametrize(
    "method_url", ["https://api.example/v1/sessions/s1", "GET https://api.example/v1/sessions/s1"]
)
def test_method_url_with_or_without_the_method(method_url: str) -> None:
    lost = drive(GET, [NoResponse(OSError("x"), timeout=False)] * 3, url=method_url)
    assert str(lost.error).startswith("GET https://api.example/v1/sessions/s1 got no response")
    assert isinstance(lost.error, errors.APIError)
    assert lost.error.url == "https://api.example/v1/sessions/s1"
    refused = drive(GET, [fail(404)], url=method_url)
    assert isinstance(refused.error, errors.NotFoundError)
    assert refused.error.url == "https://api.example/v1/sessions/s1"


def test_no_response_on_a_request_that_is_not_retry_safe() -> None:
    put = r.APIRequest("PUT", "/x", json={})
    run = drive(put, [NoResponse(OSError("x"), timeout=False)])
    assert isinstance(run.error, errors.APIConnectionError)
    assert "(not retried)" in str(run.error)
    assert "Idempotency-Key" not in run.sends[0].headers


def test_not_retry_safe_retries_only_429() -> None:
    put = r.APIRequest("PUT", "/x", json={})
    assert isinstance(drive(put, [fail(503)]).error, errors.InternalServerError)
    assert drive(put, [fail(429), ok()]).result == ok()


def test_busy_answers_replace_the_key() -> None:
    run = drive(SEND, [fail(409, BUSY), fail(409, BUSY), ok(202)])
    assert run.result == ok(202)
    assert [type(a) for a in run.actions] == [Send, Sleep, Send, Sleep, Send]
    assert run.sleeps == [0.25, 0.5]
    assert run.header("X-Qoder-Retry-Count") == ["0", "1", "2"]
    assert run.header("Idempotency-Key") == ["key-1", "key-2", "key-3"]


def test_busy_then_http_retry() -> None:
    run = drive(SEND, [fail(409, BUSY), fail(503), ok(202)])
    assert run.sleeps == [0.25, 0.5]
    assert run.header("X-Qoder-Retry-Count") == ["0", "1", "2"]
    # a new key after the busy answer, kept by the HTTP retry that follows
    assert run.header("Idempotency-Key") == ["key-1", "key-2", "key-2"]


def test_busy_loop_does_not_spend_http_retries() -> None:
    run = drive(SEND, [fail(409, BUSY)] * 5 + [fail(503), fail(503), ok(202)])
    assert run.result == ok(202)
    assert run.header("X-Qoder-Retry-Count") == [str(n) for n in range(8)]


def test_busy_loop_exhausted() -> None:
    run = drive(SEND, [fail(409, BUSY, x_request_id="req_busy")] * BUSY_MAX_ATTEMPTS)
    assert type(run.error) is errors.SessionBusyError
    assert run.error.status_code == 409
    assert run.error.request_id == "req_busy"
    assert run.error.body == json.loads(BUSY)
    assert f"after {BUSY_MAX_ATTEMPTS} attempts" in str(run.error)
    assert len(run.sends) == BUSY_MAX_ATTEMPTS
    assert run.sleeps == [busy_delay(a) for a in range(BUSY_MAX_ATTEMPTS - 1)]
    assert run.header("X-Qoder-Retry-Count") == [str(n) for n in range(BUSY_MAX_ATTEMPTS)]
    assert len(set(run.header("Idempotency-Key"))) == BUSY_MAX_ATTEMPTS


def test_busy_text_is_only_looped_on_post_events() -> None:
    archive = r.archive_session("sess_01")
    run = drive(archive, [fail(409, BUSY)])
    assert type(run.error) is errors.ConflictError
    assert len(run.actions) == 1


@pytest.mark.parametrize(
    "message",
    ["Session is archived.", "Idempotency key reused with a different request body."],
)
def test_other_conflicts_raise_at_once(message: str) -> None:
    run = drive(SEND, [fail(409, error_body("conflict_error", message))])
    assert type(run.error) is errors.ConflictError
    assert run.error.error_message == message
    assert len(run.actions) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_auth_refresh_once(status: int) -> None:
    run = drive(SEND, [fail(status), "new-token", ok(202)], can_refresh_auth=True)
    assert run.result == ok(202)
    assert [type(a) for a in run.actions] == [Send, RefreshAuth, Send]
    assert "Authorization" not in run.sends[0].headers
    assert run.sends[1].headers["Authorization"] == "Bearer new-token"
    assert run.header("X-Qoder-Retry-Count") == ["0", "1"]
    assert run.header("Idempotency-Key") == ["key-1", "key-1"]


def test_auth_refresh_keeps_the_new_token_for_later_attempts() -> None:
    run = drive(SEND, [fail(401), "new-token", fail(503), ok(202)], can_refresh_auth=True)
    assert run.header("Authorization") == [None, "Bearer new-token", "Bearer new-token"]


def test_auth_refresh_is_not_repeated() -> None:
    echo = error_body("authentication_error", "Bad token new-token")
    run = drive(SEND, [fail(401), "new-token", fail(401, echo)], can_refresh_auth=True)
    assert type(run.error) is errors.AuthenticationError
    assert [type(a) for a in run.actions] == [Send, RefreshAuth, Send]
    # the refreshed token is a secret too
    assert "new-token" not in str(run.error) + repr(run.error.body)


@pytest.mark.parametrize("answer", [None, "", "   "])
def test_auth_refresh_declined(answer: str | None) -> None:
    run = drive(GET, [fail(401), answer], can_refresh_auth=True)
    assert type(run.error) is errors.AuthenticationError
    assert [type(a) for a in run.actions] == [Send, RefreshAuth]


def test_no_auth_refresh_without_a_hook() -> None:
    run = drive(GET, [fail(401)])
    assert type(run.error) is errors.AuthenticationError
    assert len(run.actions) == 1


def test_stream_connect_returns_at_once_and_carries_its_headers() -> None:
    stream = r.stream_events("sess_01", cursor="evt_06")
    run = drive(stream, [fail(503), Received(200, {"content-type": "text/event-stream"}, b"")])
    assert run.result is not None
    assert run.result.status == 200
    assert run.sends[0].headers == {
        "Accept": "text/event-stream",
        "Last-Event-ID": "evt_06",
        "X-Qoder-Retry-Count": "0",
    }


def test_wrong_answers_from_the_facade_are_type_errors() -> None:
    flow = call_flow(GET, policy=RetryPolicy(), method_url="u", redact=redact)
    next(flow)
    with pytest.raises(TypeError, match="Received or NoResponse"):
        flow.send("token")
    flow = call_flow(
        GET, policy=RetryPolicy(), method_url="u", redact=redact, can_refresh_auth=True
    )
    next(flow)
    assert isinstance(flow.send(fail(401)), RefreshAuth)
    with pytest.raises(TypeError, match="token str or None"):
        flow.send(ok())


def test_default_keys_are_uuid4() -> None:
    flow = call_flow(POST, policy=RetryPolicy(), method_url="u", redact=redact)
    first = next(flow)
    assert isinstance(first, Send)
    assert uuid.UUID(first.headers["Idempotency-Key"]).version == 4


def test_default_keys_are_canonical_random_uuid4_text() -> None:
    keys = set()
    for _ in range(2_000):
        flow = call_flow(POST, policy=RetryPolicy(), method_url="u", redact=redact)
        first = next(flow)
        assert isinstance(first, Send)
        key = first.headers["Idempotency-Key"]
        parsed = uuid.UUID(key)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == key  # the canonical form: lower case, hyphens where str() puts them
        keys.add(key)
    assert len(keys) == 2_000
    # Every variant digit occurs (the two random bits after the variant's are random).
    assert {key[19] for key in keys} == set("89ab")


def test_closing_the_flow_during_a_sleep_stops_it() -> None:
    flow = call_flow(GET, policy=RetryPolicy(), method_url="u", redact=redact, rand=zero)
    next(flow)
    assert flow.send(fail(503)) == Sleep(0.5)
    flow.close()  # what a cancelled facade does
    with pytest.raises(StopIteration):
        next(flow)


def test_actions_are_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Sleep(1.0).seconds = 2.0  # type: ignore[misc]
    assert Sleep(1.0) == Sleep(1.0)
    assert RefreshAuth() == RefreshAuth()


def test_every_run_ends() -> None:
    """Each scripted outcome kind ends the flow with a result or an error, never a hang."""
    for outcome in (ok(), fail(400), fail(409), fail(418), fail(503)):
        run = drive(GET, [outcome] * (1 if outcome.status != 503 else 3))
        assert (run.result is None) != (run.error is None)
