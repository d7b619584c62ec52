"""Faults injected by the emulator over real sockets, through every facade: dropped streams,
bad frames, rate limits, a real 409 "processing a turn", session errors, interrupts, deletion.

Each asserts that nothing was lost or duplicated; the ``serve`` fixture then checks that no
stream connection was left open.
"""

from __future__ import annotations

from typing import Any

import pytest

from qoder import (
    AgentSpec,
    AssistantMessage,
    ClientStateError,
    MalformedEvent,
    PermissionResultAllow,
    PermissionResultDeny,
    ResultMessage,
    StreamEvent,
    SystemMessage,
    ToolPermissionContext,
    ToolResultBlock,
    ToolUseBlock,
    UnknownEvent,
    UserMessage,
    tool,
)
from qoder.testing import (
    CustomToolUse,
    HttpFault,
    Reply,
    ServedCloud,
    StreamFault,
    ToolUse,
)
from qoder.testing import Usage as SpanUsage
from tests.client.driver import Facade
from tests.integration.support import (
    BOTH_TURN_ID_MODES,
    CAPITAL,
    TOKEN,
    RecordingCloud,
    Serve,
    Worker,
    delete_session,
    options,
    read_until_text,
    result_of,
    session_of,
    texts,
)

pytestmark = pytest.mark.integration

SPLIT = "First part. Second part. Third part."
"""What :func:`_split_reply`'s rule answers, one agent.message per sentence."""


def _split_reply(cloud: RecordingCloud) -> None:
    cloud.agent.on("three parts").reply("First part. ", "Second part. ", "Third part.")


# --- dropped streams and bad frames ------------------------------------------------------------


@BOTH_TURN_ID_MODES
@pytest.mark.parametrize("drop_after", [1, 3, 4, 6, 7])
def test_dropped_stream_resumes_from_the_cursor(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud, drop_after: int
) -> None:
    """Cut inside frame ``drop_after + 1`` of echo, running, span start, 3 messages, span end,
    idle: the client resumes with Last-Event-ID and shows every text exactly once."""
    _split_reply(cloud)
    fault = cloud.inject(StreamFault(drop_after=drop_after))
    with facade.client(options(served)) as client:
        session_id = session_of(client)
        messages = client.turn("three parts, please")
        again = client.turn("What's the capital of France?")  # the resumed stream goes on
    assert fault.used == 1
    assert texts(messages) == ["First part. ", "Second part. ", "Third part."]
    result = result_of(messages)
    assert result.result == SPLIT
    assert result.num_model_requests == 1
    assert result.subtype == "success"
    assert texts(again) == [CAPITAL]

    events = cloud.events(session_id)
    streams = cloud.stream_requests()
    assert len(streams) == 2
    cursor = events[drop_after - 1]["id"]  # the last frame received whole
    assert streams[1].header("last-event-id") == cursor
    assert streams[1].query_get("after_id") == cursor
    assert len(cloud.persisted(session_id, "user.message")) == 2  # resuming never re-posts


FRAME_FAULTS: dict[str, dict[str, Any]] = {
    "malformed": {"malformed_at": 4},  # after the 4th event frame (the first message)
    "unknown_event": {"unknown_event_at": 4},
    "error_frame": {"error_frame_at": 4},
    "crlf": {"crlf": True},
    "one_byte_chunks": {"chunk_size": 1},
    "crlf_one_byte_chunks": {"crlf": True, "chunk_size": 1},
    "crlf_seven_byte_chunks": {"crlf": True, "chunk_size": 7},
}


@BOTH_TURN_ID_MODES
@pytest.mark.parametrize("name", list(FRAME_FAULTS))
def test_bad_frames_do_not_stop_the_turn(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud, name: str
) -> None:
    _split_reply(cloud)
    cloud.inject(StreamFault(**FRAME_FAULTS[name]))
    with facade.client(options(served)) as client:
        session_id = session_of(client)
        client.query("three parts, please")
        events: list[Any] = []
        for event in client.receive_events():
            events.append(event)
            if event.type == "session.status_idle":
                break
        messages = list(client.receive_response())  # the turn's messages were kept meanwhile
        again = client.turn("What's the capital of France?")

    assert texts(messages) == ["First part. ", "Second part. ", "Third part."]
    result = result_of(messages)
    assert result.result == SPLIT
    assert result.subtype == "success"
    assert result.stop_reason == "end_turn"
    assert texts(again) == [CAPITAL]

    persisted = cloud.events(session_id)
    received_ids = [e.id for e in events if e.id]
    assert received_ids == [e["id"] for e in persisted[: len(received_ids)]]  # none twice
    assert len(received_ids) == 8
    malformed = [e for e in events if isinstance(e, MalformedEvent)]
    unknown = [e for e in events if isinstance(e, UnknownEvent)]
    streams = cloud.stream_requests()
    if name == "malformed":
        assert len(malformed) == 1
        assert malformed[0].reason
        assert malformed[0].type == "agent.message"
        assert len(result.warnings) == 1
    else:
        assert malformed == []
    if name == "unknown_event":
        assert [e.type for e in unknown] == ["agent.hologram"]
        assert unknown[0].raw["note"]
    else:
        assert unknown == []
    if name == "error_frame":
        assert len(streams) == 2  # the in-band error frame was a stream failure: resumed
        assert streams[1].header("last-event-id") == persisted[3]["id"]
    else:
        assert len(streams) == 1


# --- HTTP faults on POST events --------------------------------------------------------------


@BOTH_TURN_ID_MODES
@pytest.mark.parametrize(
    ("status", "after_processing"),
    [(429, False), (503, False), (503, True), (429, True)],
    ids=["429", "503", "503_after_processing", "429_after_processing"],
)
def test_rate_limit_and_unavailable_are_retried_idempotently(
    facade: Facade,
    cloud: RecordingCloud,
    served: ServedCloud,
    status: int,
    after_processing: bool,
) -> None:
    """A retried POST carries the same Idempotency-Key: even when the first attempt was
    executed and only its answer lost, one user.message is persisted."""
    fault = cloud.inject(
        HttpFault(
            status,
            method="POST",
            path="/sessions/*/events",
            retry_after=0.01,
            after_processing=after_processing,
        )
    )
    with facade.client(options(served)) as client:
        session_id = session_of(client)
        messages = client.turn("What's the capital of France?")
    assert fault.used == 1
    assert texts(messages) == [CAPITAL]
    assert result_of(messages).subtype == "success"
    assert len(cloud.persisted(session_id, "user.message")) == 1
    first, second = cloud.event_posts()
    assert first.header("idempotency-key") == second.header("idempotency-key")
    assert (first.header("x-qoder-retry-count"), second.header("x-qoder-retry-count")) == (
        "0",
        "1",
    )
    statuses = [e.status for e in cloud.snapshot() if e.path.endswith("/events")]
    assert statuses == [status, 202]


@BOTH_TURN_ID_MODES
def test_processing_409_is_retried_until_the_turn_ends(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    """A second client of the same session posts while a turn is held: the real 409 answer is
    retried (new key each time) until the first turn ends, then accepted once."""
    cloud.agent.on("slow").reply("Working. ").hold().reply("Done.")
    with facade.client(options(served)) as first:
        session_id = session_of(first)
        first.turn("hello")
        with facade.client(options(served, resume=session_id)) as second:  # attached idle
            first.query("slow, please")
            reading = first.receive_response()
            assert texts(read_until_text(reading)) == ["Working. "]
            assert cloud.is_held(session_id)
            posting = Worker(lambda: second.query("What's the capital of France?"))
            assert cloud.wait_for(
                lambda xs: any(x.status == 409 and x.path.endswith("/events") for x in xs)
            ), "the second client's POST was never refused"
            cloud.release(session_id)
            posting.result()
            rest = list(reading)
            answer = list(second.receive_response())

    assert result_of(rest).result == "Working. Done."
    assert texts(answer) == [CAPITAL]
    assert result_of(answer).subtype == "success"
    user_messages = cloud.persisted(session_id, "user.message")
    assert len(user_messages) == 3  # the refused attempts were not persisted
    busy = [e for e in cloud.snapshot() if e.path.endswith("/events") and e.status == 409]
    posts = cloud.event_posts()[2:]  # the second client's attempts
    assert len(posts) == len(busy) + 1
    keys = [p.header("idempotency-key") for p in posts]
    assert len(set(keys)) == len(keys)  # a new key per attempt after a 409
    assert [p.header("x-qoder-retry-count") for p in posts] == [str(n) for n in range(len(posts))]
    # The second client attached after the session's newest event: it got no history.
    resumed = cloud.stream_requests()[1]
    assert resumed.header("last-event-id") is not None


def test_a_client_resumed_mid_turn_reads_that_turn(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    """The first client is mid-turn; a second one resumed on the session gets the whole turn
    (it used to get none of its messages), and the first one still gets it too."""
    cloud.agent.on("slow").reply("Working. ").hold().reply("Done.")
    with facade.client(options(served)) as first:
        session_id = session_of(first)
        first.query("slow, please")
        reading = first.receive_response()
        assert texts(read_until_text(reading)) == ["Working. "]
        with facade.client(options(served, resume=session_id)) as second:
            cloud.release(session_id)
            picked_up = list(second.receive_response())
            rest = list(reading)
    assert texts(picked_up) == ["Working. ", "Done."]
    assert result_of(picked_up).result == "Working. Done."
    assert result_of(rest).result == "Working. Done."
    assert len(cloud.persisted(session_id, "user.message")) == 1  # nothing was re-posted


# --- session errors --------------------------------------------------------------------------


@BOTH_TURN_ID_MODES
def test_retrying_session_error_does_not_end_the_turn(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    cloud.agent.on("flaky").reply("Trying. ").error("retrying").reply("Recovered.")
    with facade.client(options(served)) as client:
        messages = client.turn("flaky, please")
    result = result_of(messages)
    assert texts(messages) == ["Trying. ", "Recovered."]
    assert result.subtype == "success"
    assert result.is_error is False
    assert result.result == "Trying. Recovered."
    assert result.stop_reason == "end_turn"
    assert result.errors == ()
    assert len(result.warnings) == 1
    assert "retrying" in result.warnings[0]
    notices = [m.subtype for m in messages if isinstance(m, SystemMessage)]
    assert "session_error" in notices


@BOTH_TURN_ID_MODES
def test_exhausted_session_error_ends_the_turn_with_an_error(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    cloud.agent.on("doomed").reply("Trying. ").error("exhausted")
    with facade.client(options(served)) as client:
        messages = client.turn("doomed, please")
        again = client.turn("What's the capital of France?")  # the session takes new input
    result = result_of(messages)
    assert texts(messages) == ["Trying. "]
    assert result.is_error is True
    assert result.subtype == "error_during_execution"
    assert result.terminal_reason == "session_error"
    assert result.errors == ("Model request failed after retries.",)
    assert texts(again) == [CAPITAL]
    assert result_of(again).is_error is False


# --- tools -----------------------------------------------------------------------------------


@BOTH_TURN_ID_MODES
@pytest.mark.parametrize("allow", [True, False], ids=["allow", "deny"])
def test_permission_ask_is_answered_by_can_use_tool(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud, allow: bool
) -> None:
    cloud.agent.on("clean up").reply("Cleaning. ").tool_use(
        "bash", {"command": "rm -rf build"}, result="removed", permission="ask"
    ).reply("{result}")
    calls: list[tuple[str, dict[str, Any], ToolPermissionContext]] = []

    def can_use_tool(
        name: str, tool_input: dict[str, Any], context: ToolPermissionContext
    ) -> PermissionResultAllow | PermissionResultDeny:
        calls.append((name, tool_input, context))
        return PermissionResultAllow() if allow else PermissionResultDeny(message="Not today.")

    with facade.client(options(served, can_use_tool=can_use_tool)) as client:
        session_id = session_of(client)
        messages = client.turn("clean up the build")

    result = result_of(messages)
    (tool_use,) = [
        b
        for m in messages
        if isinstance(m, AssistantMessage)
        for b in m.content
        if isinstance(b, ToolUseBlock)
    ]
    assert [(name, tool_input) for name, tool_input, _ in calls] == [
        ("bash", {"command": "rm -rf build"})
    ]
    assert calls[0][2].tool_use_id == tool_use.id
    assert calls[0][2].session_id == session_id
    (confirmation,) = cloud.persisted(session_id, "user.tool_confirmation")
    assert confirmation["tool_use_id"] == tool_use.id
    assert confirmation["result"] == ("allow" if allow else "deny")
    (tool_result,) = [
        b
        for m in messages
        if isinstance(m, UserMessage) and not isinstance(m.content, str)
        for b in m.content
        if isinstance(b, ToolResultBlock)
    ]
    assert tool_result.tool_use_id == tool_use.id
    assert bool(tool_result.is_error) is (not allow)
    assert result.subtype == "success"
    assert result.stop_reason == "end_turn"
    assert result.pending_tool_uses == ()
    assert result.result == ("Cleaning. removed" if allow else "Cleaning. Not today.")
    assert len(result.turn_ids) == (0 if cloud.omit_turn_id else 1)


@BOTH_TURN_ID_MODES
def test_custom_tool_round_trip_appendix_b(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    cloud.agent.on("Weather").then(
        SpanUsage(input_tokens=40, output_tokens=15, credits=0.03),
        CustomToolUse("get_weather", {"city": "Paris"}),
        SpanUsage(input_tokens=70, output_tokens=12, credits=0.04),
        Reply("It is {result} in Paris."),
    )
    handled: list[str] = []

    @tool
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        handled.append(city)
        return "18°C and sunny"

    spec = AgentSpec(name="helper", system="Be brief.")
    with facade.client(options(served, agent=spec, tools=[get_weather])) as client:
        session_id = session_of(client)
        messages = client.turn("Weather in Paris?")

    assert handled == ["Paris"]
    result = result_of(messages)
    assert result.result == "It is 18°C and sunny in Paris."
    assert (result.usage.input_tokens, result.usage.output_tokens) == (110, 27)
    assert result.total_credits == pytest.approx(0.07)
    assert result.num_model_requests == 2
    assert result.stop_reason == "end_turn"
    assert result.is_error is False
    assert len(result.turn_ids) == (0 if cloud.omit_turn_id else 1)  # one logical turn

    (created,) = [r.json() for r in cloud.requests if r.path.endswith("/agents")]
    declared = [t for t in created["tools"] if t.get("type") == "custom"]
    assert [t["name"] for t in declared] == ["get_weather"]
    assert declared[0]["input_schema"]["properties"] == {"city": {"type": "string"}}
    (answer,) = cloud.persisted(session_id, "user.custom_tool_result")
    (call,) = cloud.persisted(session_id, "agent.custom_tool_use")
    assert answer["custom_tool_use_id"] == call["id"]
    assert answer["content"] == [{"type": "text", "text": "18°C and sunny"}]


# --- interrupt and deletion ------------------------------------------------------------------


@BOTH_TURN_ID_MODES
def test_interrupt_of_a_held_turn_ends_with_a_result(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    cloud.agent.on("slow").reply("Working. ").hold().reply("Done.")
    with facade.client(options(served)) as client:
        session_id = session_of(client)
        client.query("slow, please")
        reading = client.receive_response()
        seen = read_until_text(reading)
        assert cloud.is_held(session_id)
        client.interrupt()
        rest = list(reading)
        again = client.turn("What's the capital of France?")

    messages = [*seen, *rest]
    result = result_of(messages)
    assert texts(messages) == ["Working. "]  # text so far stays; "Done." never came
    assert result.result == "Working. "
    assert result.is_error is False
    assert result.stop_reason == "end_turn"
    (interrupt,) = cloud.persisted(session_id, "user.interrupt")
    assert interrupt.get("turn_id") in (None, *result.turn_ids)
    assert texts(again) == [CAPITAL]


@BOTH_TURN_ID_MODES
def test_deleting_the_session_while_streaming_ends_the_turn(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    cloud.agent.on("slow").reply("Working. ").hold().reply("Done.")
    with facade.client(options(served)) as client:
        session_id = session_of(client)
        client.query("slow, please")
        reading = client.receive_response()
        seen = read_until_text(reading)
        delete_session(served, session_id)
        rest = list(reading)
        with pytest.raises(ClientStateError, match="deleted"):
            client.query("Are you there?")
        assert cloud.wait_for_streams(0, timeout=5)  # the server closed the stream

    result = result_of([*seen, *rest])
    assert isinstance(result, ResultMessage)
    assert result.is_error is True
    assert result.subtype == "error_during_execution"
    assert result.terminal_reason == "deleted"
    assert result.stop_reason is None
    assert result.errors


# --- lost streams ----------------------------------------------------------------------------


def _lose_the_stream(cloud: RecordingCloud) -> HttpFault:
    """Cut the next stream inside its 4th frame; every reconnect is then refused with 503."""
    return cloud.inject(HttpFault(503, method="GET", path="/sessions/*/events/stream", times=50))


def test_stream_lost_after_the_reconnect_budget_ends_the_turn(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    cloud.inject(StreamFault(drop_after=3))
    with facade.client(options(served, max_stream_reconnects=3)) as client:
        _lose_the_stream(cloud)
        messages = client.turn("What's the capital of France?")
    result = result_of(messages)
    assert result.is_error is True
    assert result.terminal_reason == "stream_lost"
    assert result.subtype == "error_during_execution"
    assert any("503" in error for error in result.errors)
    assert len(cloud.stream_requests()) == 1 + 3  # the first connection and 3 reconnects


def test_a_turn_after_a_lost_stream_still_ends_with_a_result(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    cloud.inject(StreamFault(drop_after=3))
    with facade.client(options(served, max_stream_reconnects=2)) as client:
        _lose_the_stream(cloud)
        lost = result_of(client.turn("What's the capital of France?"))
        assert lost.terminal_reason == "stream_lost"
        cloud.clear_faults()  # the outage is over: the next turn tries the stream afresh
        messages = client.turn("What's the capital of Germany?")
    result = result_of(messages)
    assert result.subtype == "success"
    assert "Berlin" in (result.result or "")
    assert "Paris" not in (result.result or "")  # the lost turn's events are not counted again


def test_a_session_deleted_while_the_stream_was_down_ends_the_turn_as_deleted(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    """docs/protocol.md §6.6: a 404 on the reconnect means the session is gone: ``deleted``.
    (Found by this test; fixed in 0c1471b, which used to report ``stream_lost``.)"""
    cloud.agent.on("slow").reply("Working. ").hold().reply("Done.")
    with facade.client(options(served)) as client:
        session_id = session_of(client)
        client.query("slow, please")
        reading = client.receive_response()
        seen = read_until_text(reading)
        cloud.close_streams()  # the connection drops; the client is not reading just now
        delete_session(served, session_id)  # so it never sees session.deleted
        rest = list(reading)
    result = result_of([*seen, *rest])
    assert result.is_error is True
    assert cloud.stream_requests()[-1].header("last-event-id") is not None
    assert result.terminal_reason == "deleted"


# --- stream idle timeout ---------------------------------------------------------------------


def test_stream_idle_timeout_resumes_a_silent_stream(facade: Facade, serve: Serve) -> None:
    cloud = RecordingCloud(keepalive_interval=30.0)
    cloud.agent.on("slow").reply("Working. ").hold().reply("Done.")
    served = serve(cloud)
    with facade.client(options(served, stream_idle_timeout=0.3)) as client:
        session_id = session_of(client)
        client.query("slow, please")
        reading = client.receive_response()
        read_until_text(reading)
        rest = Worker(lambda: list(reading))
        assert cloud.wait_for(lambda xs: sum(x.stream for x in xs) >= 2), "never resumed"
        cloud.release(session_id)
        messages = rest.result()
    assert texts(messages) == ["Done."]
    assert result_of(messages).result == "Working. Done."
    working = cloud.persisted(session_id, "agent.message")[0]
    assert cloud.stream_requests()[1].header("last-event-id") == working["id"]


def test_keep_alives_reset_the_stream_idle_timeout(facade: Facade, serve: Serve) -> None:
    cloud = RecordingCloud(keepalive_interval=0.05)
    cloud.agent.on("slow").reply("Working. ").hold().reply("Done.")
    served = serve(cloud)
    with facade.client(options(served, stream_idle_timeout=0.5)) as client:
        session_id = session_of(client)
        client.query("slow, please")
        reading = client.receive_response()
        read_until_text(reading)
        rest = Worker(lambda: list(reading))
        # Wait (on the server's own record) until keep-alives span well over the idle timeout.
        assert cloud.wait_for(
            lambda xs: any(x.stream and x.body.count(b"heartbeat") >= 20 for x in xs)
        )
        cloud.release(session_id)
        messages = rest.result()
    assert result_of(messages).result == "Working. Done."
    assert len(cloud.stream_requests()) == 1  # never resumed: the keep-alives kept it alive


# --- previews, tools answered in other ways ----------------------------------------------------


def test_partial_messages_preview_each_text_once(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    cloud.agent.on("long").reply("A first sentence with many words. ", "And a second one.")
    cloud.inject(StreamFault(chunk_size=5))
    with facade.client(options(served, include_partial_messages=True)) as client:
        messages = client.turn("long answer, please")
    assert texts(messages) == ["A first sentence with many words. ", "And a second one."]
    finals = {m.uuid: texts([m])[0] for m in messages if isinstance(m, AssistantMessage)}
    previews: dict[str, str] = {}
    wire: dict[str, str] = {}
    for m in messages:
        if isinstance(m, StreamEvent) and m.event["type"] == "content_block_delta":
            previews[m.uuid] = previews.get(m.uuid, "") + m.event["delta"]["text"]
            assert m.preview is not None  # the wire frame stays available
            wire[m.uuid] = wire.get(m.uuid, "") + m.preview["delta"]["content"]["text"]
    assert previews == finals == wire
    kinds = [m.event["type"] for m in messages if isinstance(m, StreamEvent)]
    assert kinds.count("message_start") == kinds.count("message_stop") == 2
    assert result_of(messages).result == "A first sentence with many words. And a second one."
    assert cloud.stream_requests()[0].query_all("event_deltas[]") == [
        "agent.message",
        "agent.thinking",
    ]


@BOTH_TURN_ID_MODES
def test_async_callbacks_and_a_failing_tool(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    """Coroutine handlers work in both facades; a handler's exception goes to the agent."""
    cloud.agent.on("both").then(
        ToolUse("bash", {"command": "ls"}, result="a b", permission="ask"),
        CustomToolUse("get_weather", {"city": "Atlantis"}),
        Reply(lambda turn: " | ".join(outcome.text for outcome in turn.outcomes)),
    )

    async def can_use_tool(
        name: str, tool_input: dict[str, Any], context: ToolPermissionContext
    ) -> bool:
        return True

    @tool
    async def get_weather(city: str) -> str:
        """Current weather for a city."""
        raise LookupError(f"no such city: {city}")

    opts = options(served, can_use_tool=can_use_tool, tools=[get_weather])
    with facade.client(opts) as client:
        session_id = session_of(client)
        messages = client.turn("both tools, please")
        again = client.turn("What's the capital of France?")
    result = result_of(messages)
    assert result.subtype == "success"
    (answer,) = cloud.persisted(session_id, "user.custom_tool_result")
    assert answer["is_error"] is True
    (failure,) = answer["content"]
    assert "LookupError" in failure["text"]
    assert "no such city: Atlantis" in failure["text"]
    assert sorted((result.result or "").split(" | ")) == sorted(["a b", failure["text"]])
    (confirmation,) = cloud.persisted(session_id, "user.tool_confirmation")
    assert confirmation["result"] == "allow"
    assert texts(again) == [CAPITAL]


@BOTH_TURN_ID_MODES
def test_requires_action_without_a_handler_is_answered_by_hand(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    """Appendix B without a handler: the turn stops on requires_action, respond() resumes it."""
    cloud.agent.on("Weather").custom_tool_use("get_weather", {"city": "Paris"}).reply(
        "It is {result} in Paris."
    )
    with facade.client(options(served)) as client:
        session_id = session_of(client)
        stopped = result_of(client.turn("Weather in Paris?"))
        assert stopped.stop_reason == "requires_action"
        assert stopped.is_error is False
        (pending,) = stopped.pending_tool_uses
        assert (pending.name, pending.input, pending.kind) == (
            "get_weather",
            {"city": "Paris"},
            "custom",
        )
        client.raw_respond({pending.id: "18°C and sunny"})
        messages = list(client.receive_response())
    result = result_of(messages)
    assert result.result == "It is 18°C and sunny in Paris."
    assert result.stop_reason == "end_turn"
    assert result.num_model_requests == 2
    assert result.turn_ids == stopped.turn_ids
    assert len(cloud.persisted(session_id, "user.custom_tool_result")) == 1


# --- faults on the answers of a turn ---------------------------------------------------------


@tool
def sunny(city: str) -> str:
    """Always sunny."""
    return "sunny"


def _weather_turn(cloud: RecordingCloud) -> None:
    cloud.agent.on("Weather").custom_tool_use("sunny", {"city": "Paris"}).reply(
        "It is {result} in Paris."
    )


@BOTH_TURN_ID_MODES
def test_a_tool_result_whose_answer_was_lost_is_retried_once(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    _weather_turn(cloud)
    with facade.client(options(served, tools=[sunny])) as client:
        session_id = session_of(client)
        client.query("Weather in Paris?")
        fault = cloud.inject(  # the tool result is applied, but its 202 is lost on the way
            HttpFault(
                503,
                method="POST",
                path="/sessions/*/events",
                after_processing=True,
                retry_after=0.01,
            )
        )
        messages = list(client.receive_response())
    assert fault.used == 1
    assert result_of(messages).result == "It is sunny in Paris."
    assert len(cloud.persisted(session_id, "user.custom_tool_result")) == 1
    answers = cloud.event_posts()[1:]
    assert len(answers) == 2
    assert answers[0].header("idempotency-key") == answers[1].header("idempotency-key")


def test_a_refused_tool_result_ends_the_turn_with_an_error(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    _weather_turn(cloud)
    with facade.client(options(served, tools=[sunny])) as client:
        client.query("Weather in Paris?")
        cloud.inject(HttpFault(400, method="POST", path="/sessions/*/events"))
        messages = list(client.receive_response())
        again = client.turn("What's the capital of France?")  # the client goes on
    result = result_of(messages)
    assert result.is_error is True
    assert result.terminal_reason == "client_error"
    assert "could not post the answer" in result.errors[0]
    assert TOKEN not in result.errors[0]
    assert texts(again) == [CAPITAL]


def test_an_interrupt_whose_answer_was_lost_is_applied_once(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    cloud.agent.on("slow").reply("Working. ").hold().reply("Done.")
    with facade.client(options(served)) as client:
        session_id = session_of(client)
        client.query("slow, please")
        reading = client.receive_response()
        seen = read_until_text(reading)
        cloud.inject(
            HttpFault(
                503,
                method="POST",
                path="/sessions/*/events",
                after_processing=True,
                retry_after=0.01,
            )
        )
        client.interrupt()
        rest = list(reading)
    assert result_of([*seen, *rest]).result == "Working. "
    assert len(cloud.persisted(session_id, "user.interrupt")) == 1
