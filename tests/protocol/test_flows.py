"""The session's flows, driven by hand: each effect checked, each result scripted.

No facade, no httpx, no event loop: what a flow asks for and what it concludes from each
answer, exactly as both facades will see it.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import pytest

from qoder import ClientStateError, Message, QoderAgentOptions, ResultMessage, tool
from qoder._protocol import effects as fx
from qoder._protocol.flows import Flow, Phase, SessionCore
from qoder._protocol.stream import StreamState
from qoder.options import resolve_options

T = TypeVar("T")
BASE = "https://api.test/api/v1/cloud"
SESSION = {"id": "sess_01", "type": "session", "status": "idle"}


def config(**overrides: Any) -> Any:
    values: dict[str, Any] = {"auth": "pat-flows", "agent": "agent_01", "environment": "env_01"}
    values.update(overrides)
    return resolve_options(QoderAgentOptions(base_url=BASE, **values), {})


def ok(body: Any, status: int = 200) -> fx.Received:
    return fx.Received(status, {}, json.dumps(body).encode())


def frame(event: dict[str, Any]) -> bytes:
    return f"id: {event['id']}\nevent: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


def turn(turn_id: str, first: int, text: str) -> bytes:
    n = first
    events: list[dict[str, Any]] = [
        {"id": f"evt_{n:02}", "type": "user.message", "turn_id": turn_id, "content": []},
        {"id": f"evt_{n + 1:02}", "type": "session.status_running", "turn_id": turn_id},
        {
            "id": f"evt_{n + 2:02}",
            "type": "agent.message",
            "turn_id": turn_id,
            "content": [{"type": "text", "text": text}],
        },
        {
            "id": f"evt_{n + 3:02}",
            "type": "session.status_idle",
            "turn_id": turn_id,
            "stop_reason": {"type": "end_turn"},
        },
    ]
    return b"".join(frame(event) for event in events)


def reply(event_id: str, turn_id: str, kind: str = "user.message") -> fx.Received:
    return ok({"data": [{"id": event_id, "type": kind, "turn_id": turn_id}]}, 202)


class Driver:
    """Runs flows of one core, checking each effect against what the test expects."""

    def __init__(self, core: SessionCore) -> None:
        self.core = core
        self.seen: list[fx.Effect] = []

    def start(self, flow: Flow[T]) -> tuple[Flow[T], fx.Effect]:
        effect = next(flow)
        self.seen.append(effect)
        return flow, effect

    def step(self, flow: Flow[T], result: fx.EffectResult) -> fx.Effect:
        effect = flow.send(result)
        self.seen.append(effect)
        return effect

    def finish(self, flow: Flow[T], result: fx.EffectResult) -> T:
        with pytest.raises(StopIteration) as done:
            self.seen.append(flow.send(result))
        value: T = done.value.value
        return value


def connected(**overrides: Any) -> Driver:
    driver = Driver(SessionCore(clock=iter(range(10_000)).__next__, rand=lambda: 0.0))
    flow, effect = driver.start(driver.core.connect(lambda: config(**overrides)))
    assert isinstance(effect, fx.OpenHTTP)
    assert effect.timeouts.connect == 5.0
    create = driver.step(flow, None)
    assert isinstance(create, fx.Send)
    if create.request.method == "GET":  # client-side tools: the agent's own tools first (§8.1)
        assert create.url == f"{BASE}/agents/agent_01"
        create = driver.step(flow, ok({"id": "agent_01", "tools": [{"type": "custom"}]}))
        assert isinstance(create, fx.Send)
        declared = create.request.json["agent"]
        assert declared["type"] == "agent_with_overrides"
        assert [tool["name"] for tool in declared["tools"][1:]] == [
            t.name for t in overrides["tools"]
        ]
    assert (create.request.method, create.url) == ("POST", f"{BASE}/sessions")
    assert create.headers["Authorization"] == "Bearer pat-flows"
    assert "Idempotency-Key" in create.headers
    stream = driver.step(flow, ok(SESSION, 201))
    assert isinstance(stream, fx.OpenStream)
    assert "Last-Event-ID" not in stream.headers  # a new session has no history (§6.2)
    assert stream.timeouts.read == 90.0  # the idle timeout
    driver.finish(flow, fx.Received(200, {}, b""))
    assert driver.core.phase is Phase.CONNECTED
    return driver


def read_all(driver: Driver, *chunks: fx.EffectResult) -> list[Message]:
    """Run next_message() flows until the scripted chunks run out; the messages handed out."""
    script = list(chunks)
    out: list[Message] = []
    while True:
        flow = driver.core.next_message(None, "receive_messages")
        result: fx.EffectResult = None
        while True:
            try:
                effect = flow.send(result)
            except StopIteration as done:
                delivery = done.value
                break
            if isinstance(effect, fx.ReadChunk):
                if not script:
                    flow.close()
                    return out
                result = script.pop(0)
            else:
                result = None
        if delivery is None:
            return out
        out.append(delivery[0])


def test_connect_creates_the_session_and_opens_its_stream() -> None:
    driver = connected()
    assert driver.core.session_id == "sess_01"
    assert driver.core.stream is not None
    assert driver.core.stream.state is StreamState.OPEN


def test_connect_twice_is_refused_before_any_effect() -> None:
    driver = connected()
    with pytest.raises(ClientStateError, match="already called"):
        next(driver.core.connect(config))


def test_a_turn_from_query_to_its_result() -> None:
    driver = connected()
    flow, post = driver.start(driver.core.query("Hi"))
    assert isinstance(post, fx.Send)
    assert post.url == f"{BASE}/sessions/sess_01/events"
    assert json.loads(post.request.encoded_body() or b"") == {
        "events": [{"type": "user.message", "content": [{"type": "text", "text": "Hi"}]}]
    }
    driver.finish(flow, reply("evt_01", "turn_01"))
    messages = read_all(driver, fx.Chunk(turn("turn_01", 1, "Hello")))
    assert isinstance(messages[-1], ResultMessage)
    assert messages[-1].result == "Hello"


def test_receive_response_stops_at_the_turn_complete_of_its_turn() -> None:
    driver = connected()
    posting, _ = driver.start(driver.core.query("Hi"))
    driver.finish(posting, reply("evt_01", "turn_01"))
    with pytest.raises(StopIteration) as started:
        next(driver.core.response_turn())
    stop_turn = started.value.value
    assert stop_turn == 1
    flow, effect = driver.start(driver.core.next_message(stop_turn, "receive_response"))
    assert isinstance(effect, fx.ReadChunk)
    first = driver.finish(flow, fx.Chunk(turn("turn_01", 1, "Hello")))
    assert first is not None
    assert not first[1]  # the assistant's message
    # The result is queued already: the next flow hands it out at once, as the last one.
    with pytest.raises(StopIteration) as done:
        next(driver.core.next_message(stop_turn, "receive_response"))
    assert done.value.value[1]
    assert isinstance(done.value.value[0], ResultMessage)
    with pytest.raises(StopIteration) as after:
        next(driver.core.response_turn())
    assert after.value.value is None  # no turn underway, nothing unread: nothing to wait for


def test_a_dropped_stream_backs_off_and_resumes_from_the_cursor() -> None:
    driver = connected()
    posting, _ = driver.start(driver.core.query("Hi"))
    driver.finish(posting, reply("evt_01", "turn_01"))
    whole = turn("turn_01", 1, "Hello")
    first_half = whole[: whole.index(b"id: evt_03") + 20]  # two frames and a part
    flow, effect = driver.start(driver.core.next_message(None, "receive_messages"))
    assert isinstance(effect, fx.ReadChunk)
    assert isinstance(driver.step(flow, fx.Chunk(first_half)), fx.ReadChunk)
    effect = driver.step(flow, fx.StreamEnded("error", "reset"))
    assert isinstance(effect, fx.Sleep)
    assert 0.25 <= effect.seconds <= 0.5  # uniform(b/2, b) with b = 0.5 s (§6.6)
    reopen = driver.step(flow, None)
    assert isinstance(reopen, fx.OpenStream)
    assert reopen.headers["Last-Event-ID"] == "evt_02"


def test_a_wake_up_closes_the_read_without_a_backoff() -> None:
    driver = connected()
    flow, effect = driver.start(driver.core.next_message(None, "receive_messages"))
    assert isinstance(effect, fx.ReadChunk)
    reopen = driver.step(flow, fx.Woken())
    assert isinstance(reopen, fx.OpenStream)  # no Sleep: nothing failed


def test_query_wakes_a_reader_when_its_reply_releases_messages() -> None:
    driver = connected()
    reader, effect = driver.start(driver.core.next_message(None, "receive_messages"))
    assert isinstance(effect, fx.ReadChunk)
    query, post = driver.start(driver.core.query("Hi"))
    assert isinstance(post, fx.Send)
    # The whole turn arrives while the prompt is in flight: the reader buffers it.
    assert isinstance(driver.step(reader, fx.Chunk(turn("turn_01", 1, "Hello"))), fx.ReadChunk)
    wake = driver.step(query, reply("evt_01", "turn_01"))
    assert wake == fx.WakeReader(hard=False)
    driver.finish(query, None)
    delivery = driver.finish(reader, fx.Woken())
    assert delivery is not None
    assert delivery[0].content[0].text == "Hello"  # type: ignore[union-attr]


def test_a_cancelled_read_leaves_the_stream_closed_and_the_reader_free() -> None:
    driver = connected()
    flow, effect = driver.start(driver.core.next_message(None, "receive_messages"))
    assert isinstance(effect, fx.ReadChunk)
    flow.close()  # what a facade does when the read was cancelled
    assert driver.core.stream is not None
    assert driver.core.stream.state is StreamState.CLOSED
    flow, effect = driver.start(driver.core.next_message(None, "receive_messages"))
    assert isinstance(effect, fx.OpenStream)  # a second reader is welcome now


def test_two_readers_at_once_are_refused() -> None:
    driver = connected()
    reading = driver.start(driver.core.next_message(None, "receive_messages"))
    with pytest.raises(ClientStateError, match="one task at a time"):
        next(driver.core.next_event("receive_events"))
    reading[0].close()


def test_a_custom_tool_runs_as_a_user_call_and_its_result_is_posted() -> None:
    @tool
    def get_weather(city: str) -> str:
        """Weather."""
        return f"18°C in {city}"

    driver = connected(tools=[get_weather])
    posting, _ = driver.start(driver.core.query("Weather?"))
    driver.finish(posting, reply("evt_01", "turn_01"))
    events: list[dict[str, Any]] = [
        {"id": "evt_01", "type": "user.message", "turn_id": "turn_01", "content": []},
        {
            "id": "evt_02",
            "type": "agent.custom_tool_use",
            "turn_id": "turn_01",
            "name": "get_weather",
            "input": {"city": "Paris"},
        },
        {
            "id": "evt_03",
            "type": "session.status_idle",
            "turn_id": "turn_01",
            "stop_reason": {"type": "requires_action", "event_ids": ["evt_02"]},
        },
    ]
    chunk = fx.Chunk(b"".join(frame(event) for event in events))
    flow, _ = driver.start(driver.core.next_message(None, "receive_messages"))
    tool_use = driver.finish(flow, chunk)
    assert tool_use is not None  # the AssistantMessage with the ToolUseBlock
    flow, call = driver.start(driver.core.next_message(None, "receive_messages"))
    assert isinstance(call, fx.CallUser)
    assert call.in_thread
    post = driver.step(flow, fx.Returned(call.func(*call.args)))
    assert isinstance(post, fx.Send)
    body = json.loads(post.request.encoded_body() or b"")
    assert body["events"][0]["content"] == [{"type": "text", "text": "18°C in Paris"}]
    assert isinstance(
        driver.step(flow, reply("evt_04", "turn_01", "user.custom_tool_result")), fx.ReadChunk
    )


def test_disconnect_stops_a_reader_and_releases_everything() -> None:
    driver = connected()
    reader, _ = driver.start(driver.core.next_message(None, "receive_messages"))
    flow, effect = driver.start(driver.core.disconnect())
    assert effect == fx.WakeReader(hard=True)
    assert driver.step(flow, None) == fx.CloseStream()
    assert driver.step(flow, None) == fx.CloseHTTP()
    driver.finish(flow, None)
    assert driver.core.phase is Phase.CLOSED
    assert driver.finish(reader, fx.Woken()) is None  # the woken reader ends
    assert list(driver.core.disconnect()) == []  # idempotent


def test_a_404_on_reopening_ends_the_turn_as_deleted() -> None:
    driver = connected()
    posting, _ = driver.start(driver.core.query("Hi"))
    driver.finish(posting, reply("evt_01", "turn_01"))
    flow, _ = driver.start(driver.core.next_message(None, "receive_messages"))
    assert isinstance(driver.step(flow, fx.StreamEnded("eof")), fx.Sleep)
    assert isinstance(driver.step(flow, None), fx.OpenStream)
    not_found = fx.Received(404, {}, b'{"type":"error","error":{"type":"not_found_error"}}')
    delivery = driver.finish(flow, not_found)
    assert delivery is not None
    result = delivery[0]
    assert isinstance(result, ResultMessage)
    assert result.terminal_reason == "deleted"
    with pytest.raises(StopIteration) as done:
        next(driver.core.next_message(None, "receive_messages"))
    assert done.value.value is None  # nothing more can come


def test_resume_of_a_running_session_correlates_its_running_turn() -> None:
    driver = Driver(SessionCore(clock=iter(range(10_000)).__next__, rand=lambda: 0.0))
    flow, effect = driver.start(driver.core.connect(lambda: config(agent=None, resume="sess_01")))
    assert isinstance(effect, fx.OpenHTTP)
    get = driver.step(flow, None)
    assert isinstance(get, fx.Send)
    assert get.url == f"{BASE}/sessions/sess_01"
    prompts = driver.step(flow, ok({**SESSION, "status": "running"}))
    assert isinstance(prompts, fx.Send)
    params = dict(prompts.request.params)
    assert (params["order"], params["types[]"], params["limit"]) == ("desc", "user.message", "1")
    prompt = {"id": "evt_05", "type": "user.message", "turn_id": "turn_02", "content": []}
    earlier = driver.step(flow, ok({"data": [prompt]}))
    assert isinstance(earlier, fx.Send)
    assert dict(earlier.request.params)["after_id"] == "evt_05"
    stream = driver.step(flow, ok({"data": [{"id": "evt_04", "type": "session.status_idle"}]}))
    assert isinstance(stream, fx.OpenStream)
    assert stream.headers["Last-Event-ID"] == "evt_04"  # the running turn streams whole
    driver.finish(flow, fx.Received(200, {}, b""))
    messages = read_all(driver, fx.Chunk(turn("turn_02", 5, "Still here")))
    assert isinstance(messages[-1], ResultMessage)
    assert messages[-1].result == "Still here"


def test_a_disconnect_while_another_thread_reopens_the_stream_leaves_nothing_open() -> None:
    driver = connected()
    reader, effect = driver.start(driver.core.next_message(None, "receive_messages"))
    assert isinstance(effect, fx.ReadChunk)
    reopen = driver.step(reader, fx.Woken())
    assert isinstance(reopen, fx.OpenStream)
    closing, wake = driver.start(driver.core.disconnect())  # meanwhile, in another thread
    assert wake == fx.WakeReader(hard=True)
    assert driver.step(closing, None) == fx.CloseStream()
    assert driver.step(closing, None) == fx.CloseHTTP()
    driver.finish(closing, None)
    # The reopen the reader had started still succeeds: the stream it got is closed at once.
    assert driver.step(reader, fx.Received(200, {}, b"")) == fx.CloseStream()
    assert driver.finish(reader, None) is None
    assert driver.core.stream is not None
    assert driver.core.stream.state is StreamState.GONE


def test_a_failed_reopen_after_a_disconnect_does_not_bring_the_stream_back() -> None:
    driver = connected()
    reader, _ = driver.start(driver.core.next_message(None, "receive_messages"))
    assert isinstance(driver.step(reader, fx.Woken()), fx.OpenStream)
    closing, _ = driver.start(driver.core.disconnect())
    while True:
        try:
            driver.step(closing, None)
        except StopIteration:
            break
    failed = fx.NoResponse(error=OSError("Bad file descriptor"), timeout=False)
    assert driver.finish(reader, failed) is None  # no backoff, no reconnect
    assert driver.core.stream is not None
    assert driver.core.stream.state is StreamState.GONE
