"""The official two-turn conversation and docs/protocol.md Appendix A over real loopback sockets.

Every test runs with SyncClient, and AsyncClient on asyncio and on trio (``facade``).
"""

from __future__ import annotations

import pytest

from qoder import (
    AssistantMessage,
    Message,
    QoderError,
    ResultMessage,
    ToolResultBlock,
    ToolUseBlock,
    UserMessage,
    query,
    query_sync,
)
from qoder.testing import Reply, ServedCloud, StreamFault, ToolUse
from qoder.testing import Usage as SpanUsage
from tests.client.driver import Facade
from tests.integration.support import (
    BOTH_TURN_ID_MODES,
    CAPITAL,
    POPULATION,
    TOKEN,
    RecordingCloud,
    Serve,
    call_bounded,
    options,
    result_of,
    session_of,
    texts,
)

pytestmark = pytest.mark.integration


@BOTH_TURN_ID_MODES
def test_official_example_two_turns(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    with facade.client(options(served)) as client:
        session_id = session_of(client)
        one = client.turn("What's the capital of France?")
        two = client.turn("What's the population of that city?")

    assert texts(one) == [CAPITAL]
    assert texts(two) == [POPULATION]
    for messages, text in ((one, CAPITAL), (two, POPULATION)):
        result = result_of(messages)
        assert result.subtype == "success"
        assert result.is_error is False
        assert result.result == text
        assert result.stop_reason == "end_turn"
        assert result.terminal_reason == "end_turn"
        assert result.session_id == session_id
        assert result.num_model_requests == 1
        assert len(result.turn_ids) == (0 if cloud.omit_turn_id else 1)
    if not cloud.omit_turn_id:
        assert result_of(one).turn_ids != result_of(two).turn_ids
    assert (result_of(one).num_turns, result_of(two).num_turns) == (1, 2)

    # One event stream for the whole conversation, opened at connect() without a cursor.
    streams = cloud.stream_requests()
    assert len(streams) == 1
    assert streams[0].header("last-event-id") is None
    assert all(r.header("authorization") == f"Bearer {TOKEN}" for r in cloud.requests)
    prompts = [r.json()["events"][0]["content"] for r in cloud.event_posts()]
    assert [p if isinstance(p, str) else p[0]["text"] for p in prompts] == [
        "What's the capital of France?",
        "What's the population of that city?",
    ]

    # The POSTs reuse one pooled connection; the stream holds one more (two sockets in all).
    exchanges = cloud.snapshot()
    assert all(e.client is not None for e in exchanges)
    posts = [e for e in exchanges if e.method == "POST" and e.path.endswith("/events")]
    assert len(posts) == 2
    assert len({e.client for e in posts}) == 1
    assert len({e.client for e in exchanges}) <= 2
    (stream,) = [e for e in exchanges if e.stream]
    assert stream.client not in {e.client for e in posts}


def _appendix_a_agent(cloud: RecordingCloud) -> None:
    cloud.agent.on("2+2").then(
        Reply("4"), SpanUsage(input_tokens=12, output_tokens=1, credits=0.02)
    )
    cloud.agent.on("Multiply").then(
        Reply("Running it. "),
        SpanUsage(input_tokens=30, output_tokens=20, credits=0.05),
        ToolUse("bash", {"command": "echo $((4*10))"}, result="40"),
        Reply("The answer is 40."),
        SpanUsage(input_tokens=45, output_tokens=6, credits=0.03),
    )


@pytest.mark.parametrize("omit_turn_id", [False, True], ids=["turn_id", "no_turn_id"])
def test_appendix_a_usage_summed_over_model_requests_with_a_dropped_stream(
    facade: Facade,
    serve: Serve,
    omit_turn_id: bool,
) -> None:
    cloud = RecordingCloud(omit_turn_id=omit_turn_id)
    _appendix_a_agent(cloud)
    served = serve(cloud)
    # Turn 1 is 6 frames and turn 2's fifth (the 11th in all) is its agent.tool_use: the first
    # connection is cut inside the 12th frame (span.model_request_end), as in Appendix A.
    cloud.inject(StreamFault(drop_after=11))
    with facade.client(options(served)) as client:
        session_id = session_of(client)
        one = client.turn("What is 2+2?")
        two = client.turn("Multiply it by 10 with bash.")

    first = result_of(one)
    assert texts(one) == ["4"]
    assert first.result == "4"
    assert (first.usage.input_tokens, first.usage.output_tokens) == (12, 1)
    assert first.total_credits == pytest.approx(0.02)
    assert first.num_model_requests == 1
    assert first.stop_reason == "end_turn"

    second = result_of(two)
    assert texts(two) == ["Running it. ", "The answer is 40."]  # nothing of turn 1, no repeat
    assert second.result == "Running it. The answer is 40."
    assert (second.usage.input_tokens, second.usage.output_tokens) == (75, 26)
    assert (second.usage.cache_creation_input_tokens, second.usage.cache_read_input_tokens) == (
        0,
        0,
    )
    assert second.total_credits == pytest.approx(0.08)
    assert second.num_model_requests == 2
    assert second.stop_reason == "end_turn"
    assert second.is_error is False
    assert set(second.model_usage) == {"ultimate"}
    assert second.model_usage["ultimate"].input_tokens == 75
    if omit_turn_id:
        assert first.turn_ids == second.turn_ids == ()
        assert all("turn_id" not in event for event in cloud.events(session_id))

    tool_uses = [
        block
        for m in two
        if isinstance(m, AssistantMessage)
        for block in m.content
        if isinstance(block, ToolUseBlock)
    ]
    assert [(t.name, t.input) for t in tool_uses] == [("bash", {"command": "echo $((4*10))"})]
    tool_results = [
        block
        for m in two
        if isinstance(m, UserMessage) and not isinstance(m.content, str)
        for block in m.content
        if isinstance(block, ToolResultBlock)
    ]
    assert [r.tool_use_id for r in tool_results] == [tool_uses[0].id]

    # The reconnect carried the cursor: the last fully received event, the agent.tool_use.
    streams = cloud.stream_requests()
    assert len(streams) == 2
    assert streams[1].header("last-event-id") == tool_uses[0].id
    assert streams[1].query_get("after_id") == tool_uses[0].id
    assert len(cloud.event_posts()) == 2  # resuming never re-posts


def test_credits_only_usage_stays_absent_not_zero(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    """§1.1: a real span may report credits only; missing counts stay None, credits sum."""
    cloud.agent.on("cheap").then(
        SpanUsage(credits=0.25, only_given=True),
        Reply("One. "),
        ToolUse("bash", {"command": "true"}),
        SpanUsage(credits=0.5, only_given=True),
        Reply("Two."),
    )
    with facade.client(options(served)) as client:
        result = result_of(client.turn("cheap, please"))
    assert result.result == "One. Two."
    assert result.num_model_requests == 2
    assert result.usage.input_tokens is None
    assert result.usage.output_tokens is None
    assert result.total_credits == pytest.approx(0.75)


@BOTH_TURN_ID_MODES
def test_turn_100_costs_what_turn_1_costs(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    """§7 #12: one stream for every turn; no turn replays history (frames per turn constant)."""
    turns = 30
    frames_after: list[int] = []
    seen_uuids: set[str] = set()
    with facade.client(options(served)) as client:
        session_id = session_of(client)
        for n in range(1, turns + 1):
            messages = client.turn(f"What is {n}+1?")
            assert [type(m) for m in messages] == [AssistantMessage, ResultMessage], messages
            assert texts(messages) == [f"{n} + 1 = {n + 1}."]
            assert result_of(messages).num_turns == n
            uuid = messages[0].uuid  # type: ignore[union-attr]
            assert uuid is not None
            assert uuid not in seen_uuids  # no event delivered twice
            seen_uuids.add(uuid)
            (stream,) = [e for e in cloud.snapshot() if e.stream]
            frames_after.append(stream.frames())

    assert len(cloud.stream_requests()) == 1
    per_turn = [b - a for a, b in zip([0, *frames_after[:-1]], frames_after, strict=True)]
    assert per_turn == [6] * turns  # echo, running, span start, message, span end, idle
    assert frames_after[-1] == len(cloud.events(session_id))  # each event sent exactly once


def test_turn_ends_without_waiting_for_the_next_byte(facade: Facade, serve: Serve) -> None:
    """§7 #11: with keep-alives 30 s apart, each turn still ends at its idle event."""
    cloud = RecordingCloud(keepalive_interval=30.0)
    served = serve(cloud)
    with facade.client(options(served)) as client:

        def two_turns() -> list[list[Message]]:
            return [
                client.turn("What's the capital of France?"),
                client.turn("What's the population of that city?"),
            ]

        one, two = call_bounded(two_turns, timeout=5)
    assert texts(one) == [CAPITAL]
    assert texts(two) == [POPULATION]
    (stream,) = [e for e in cloud.snapshot() if e.stream]
    assert b"heartbeat" not in stream.body  # nothing but the events was ever sent


def test_resume_continues_the_conversation_without_replaying_it(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    """§6.2: attaching to an existing session streams from its newest event, not from the
    start; the agent still knows the history."""
    with facade.client(options(served)) as first:
        session_id = session_of(first)
        assert texts(first.turn("What's the capital of France?")) == [CAPITAL]
    newest = cloud.events(session_id)[-1]["id"]
    resumed = options(served, resume=session_id, agent=None, environment=None)
    with facade.client(resumed) as second:
        assert second.session_id == session_id
        messages = second.turn("What's the population of that city?")
    assert texts(messages) == [POPULATION]
    assert result_of(messages).num_turns == 1
    streams = cloud.stream_requests()
    assert len(streams) == 2
    assert streams[1].header("last-event-id") == newest
    created = [r for r in cloud.requests if r.method == "POST" and r.path.endswith("/sessions")]
    assert len(created) == 1  # the second client attached, it created nothing


@pytest.mark.parametrize(
    ("reason", "subtype", "is_error"),
    [
        ("budget_reached", "error_max_budget", True),
        ("retries_exhausted", "error_during_execution", True),
        ("a_new_reason", "success", False),
    ],
)
def test_stop_reasons_are_reported(
    facade: Facade,
    cloud: RecordingCloud,
    served: ServedCloud,
    reason: str,
    subtype: str,
    is_error: bool,
) -> None:
    cloud.agent.on("stop").reply("Partial. ").stop(reason)
    with facade.client(options(served)) as client:
        messages = client.turn("stop here")
        again = client.turn("What's the capital of France?")  # the session takes new input
    result = result_of(messages)
    assert result.stop_reason == reason
    assert (result.subtype, result.is_error) == (subtype, is_error)
    assert result.result == "Partial. "
    assert texts(again) == [CAPITAL]


def test_terminal_session_error_ends_the_session(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    cloud.agent.on("fatal").reply("Trying. ").error("terminal")
    with facade.client(options(served)) as client:
        session_id = session_of(client)
        messages = client.turn("fatal, please")
        with pytest.raises(QoderError, match="terminated"):
            client.query("Are you there?")
        assert cloud.wait_for_streams(0, timeout=5)  # the server closed the stream
    result = result_of(messages)
    assert result.is_error is True
    assert result.terminal_reason in ("session_error", "terminated")
    assert result.errors == ("The session hit an unrecoverable error.",)
    assert cloud.session(session_id)["status"] == "terminated"
    assert len(cloud.persisted(session_id, "user.message")) == 1


def test_one_shot_query(facade: Facade, cloud: RecordingCloud, served: ServedCloud) -> None:
    if facade.is_async:

        async def collect() -> list[Message]:
            return [m async for m in query(prompt="What is 2+2?", options=options(served))]

        messages = facade.run(collect)
    else:
        messages = list(query_sync(prompt="What is 2+2?", options=options(served)))
    assert texts(messages) == ["2 + 2 = 4."]
    assert result_of(messages).subtype == "success"
    assert len(cloud.stream_requests()) == 1
