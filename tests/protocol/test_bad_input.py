"""Bad input at the public surface: whatever the server sends, a conversation ends its turn
with typed values and goes on; an error body of any shape is a typed error with a bounded
message. Driven through the session's flows by hand (no I/O), with hypothesis."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qoder import APIStatusError, InternalServerError, MalformedEvent, ResultMessage
from qoder._protocol import effects as fx
from qoder._protocol import jsonio
from qoder._protocol.status import error_from_response
from tests.protocol.test_flows import Driver, connected, read_all, reply, turn


@pytest.fixture(params=["stdlib", "orjson"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    before = jsonio.json_backend()
    jsonio.use_json_backend(request.param)
    yield str(request.param)
    jsonio.use_json_backend(before)


def posted_turn() -> Driver:
    driver = connected()
    posting, _ = driver.start(driver.core.query("Hi"))
    driver.finish(posting, reply("evt_01", "turn_01"))
    return driver


junk = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(
        [
            b"data: " + b"[" * 5000 + b"\n\n",  # nested deeper than the stdlib parser recurses
            b"data: " + b"x" * 20_000 + b"\n\n",
            b'event: agent.message\ndata: {"content": 3}\n\n',
            b'event: surprise\ndata: {"type": "brand.new"}\n\n',
            b"data: [DONE]\n\n",
            b": comment\r\n\r\n",
            b"\xef\xbb\xbf\xff\xfe\r",
        ]
    ),
)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(noise=st.lists(junk, max_size=6), split=st.integers(min_value=1, max_value=64))
def test_any_bytes_before_the_end_of_a_turn_still_end_it(noise: list[bytes], split: int) -> None:
    """Arbitrary and mutated bytes arrive between the turn's frames (each set of junk closed
    by a blank line, so that it cannot swallow the next frame): the turn still ends with its
    ResultMessage, every value is typed, nothing raises."""
    driver = posted_turn()
    good = turn("turn_01", 1, "Hello")
    stream = b"".join(piece + b"\n\n" for piece in noise) + good
    chunks = [fx.Chunk(stream[i : i + split]) for i in range(0, len(stream), split)]
    messages = read_all(driver, *chunks)
    assert isinstance(messages[-1], ResultMessage)
    assert messages[-1].result == "Hello"


def test_deeply_nested_json_on_the_stream_is_a_malformed_event(backend: str) -> None:
    driver = posted_turn()
    deep = b"event: agent.message\ndata: " + b"[" * 100_000 + b"\n\n"
    flow, effect = driver.start(driver.core.next_event("receive_events"))
    assert isinstance(effect, fx.ReadChunk)
    event = driver.finish(flow, fx.Chunk(deep + turn("turn_01", 1, "Hello")))
    assert isinstance(event, MalformedEvent)
    assert "JSON" in event.reason


ERROR_BODIES = [
    b"",
    b"not json at all",
    b"<html><body>Bad gateway</body></html>",
    b"x" * 5_000_000,
    b"[1, 2, 3]",
    json.dumps({"error": 3}).encode(),
    json.dumps({"type": "error", "error": {"type": ["x"], "message": {"m": 1}}}).encode(),
    b"\xff\xfe\x00\x01",
    b"[" * 100_000,
    b"{" + b'"a":' * 50_000 + b"1",
]


@pytest.mark.parametrize("body", ERROR_BODIES, ids=lambda b: repr(b[:12]))
def test_an_error_body_of_any_shape_is_a_typed_error_with_a_bounded_message(
    body: bytes, backend: str
) -> None:
    error = error_from_response(
        status=500, headers={}, body=body, method="GET", url="https://h/x", redact=lambda t: t
    )
    assert isinstance(error, InternalServerError)
    assert isinstance(error, APIStatusError)
    assert error.status_code == 500
    assert len(str(error)) < 1_000


@settings(max_examples=1000, deadline=None)
@given(body=st.binary(max_size=2_000), status=st.sampled_from([400, 404, 409, 422, 429, 503]))
def test_arbitrary_error_bodies_never_escape_as_another_exception(body: bytes, status: int) -> None:
    error = error_from_response(
        status=status, headers={}, body=body, method="POST", url="https://h/x", redact=lambda t: t
    )
    assert error.status_code == status
    assert len(str(error)) < 1_000
