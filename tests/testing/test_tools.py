"""Tool round trips: Appendix B (custom tool), confirmations, built-in tools, wrong answers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from qoder.testing import FakeCloud, ScriptedAgent

from .helpers import error_of, post_events, post_message, text_of
from .sse import AsyncFrames, SyncFrames


def weather_agent() -> ScriptedAgent:
    agent = ScriptedAgent()
    agent.on("weather").custom_tool_use("get_weather", {"city": "Paris"}).reply(
        "It is {result} in Paris."
    )
    return agent


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def custom_result(use_id: str, text: str) -> dict[str, Any]:
    return {
        "type": "user.custom_tool_result",
        "custom_tool_use_id": use_id,
        "content": [{"type": "text", "text": text}],
    }


def test_custom_tool_round_trip(http: httpx.Client, cloud: FakeCloud, session_id: str) -> None:
    cloud.agent = weather_agent()
    with http.stream("GET", f"/sessions/{session_id}/events/stream") as stream:
        frames = SyncFrames(stream.iter_bytes())
        first = post_message(http, session_id, "Weather in Paris?")
        blocked = [f.json() for f in frames.until("session.status_idle")]
        assert types(blocked) == [
            "user.message",
            "session.status_running",
            "span.model_request_start",
            "agent.custom_tool_use",
            "span.model_request_end",
            "session.status_idle",
        ]
        use = blocked[3]
        assert use["name"] == "get_weather"
        assert use["input"] == {"city": "Paris"}
        assert blocked[-1]["stop_reason"] == {"type": "requires_action", "event_ids": [use["id"]]}
        assert http.get(f"/sessions/{session_id}").json()["status"] == "idle"

        reply = post_events(http, session_id, custom_result(use["id"], "18°C, sunny"))
        assert reply.status_code == 202
        echo = reply.json()["data"][0]
        assert echo["turn_id"] == first["turn_id"]
        assert echo["custom_tool_use_id"] == use["id"]
        resumed = [f.json() for f in frames.until("session.status_idle")]
    assert types(resumed) == [
        "user.custom_tool_result",
        "session.status_running",
        "span.model_request_start",
        "agent.message",
        "span.model_request_end",
        "session.status_idle",
    ]
    assert resumed[0]["id"] == echo["id"]
    assert {event["turn_id"] for event in resumed} == {first["turn_id"]}
    assert text_of(resumed) == "It is 18°C, sunny in Paris."
    assert resumed[-1]["stop_reason"] == {"type": "end_turn"}


@pytest.mark.anyio
async def test_custom_tool_round_trip_async(
    ahttp: httpx.AsyncClient, cloud: FakeCloud, session_id: str
) -> None:
    cloud.agent = weather_agent()
    path = f"/sessions/{session_id}/events/stream"
    async with ahttp.stream("GET", path) as stream, AsyncFrames(stream, cloud) as frames:
        body = {"events": [{"type": "user.message", "content": "Weather in Paris?"}]}
        await ahttp.post(f"/sessions/{session_id}/events", json=body)
        blocked = [f.json() for f in await frames.until("session.status_idle")]
        use_id = blocked[-1]["stop_reason"]["event_ids"][0]
        answer = {"events": [custom_result(use_id, "18°C")]}
        response = await ahttp.post(f"/sessions/{session_id}/events", json=answer)
        assert response.status_code == 202
        resumed = [f.json() for f in await frames.until("session.status_idle")]
    assert text_of(resumed) == "It is 18°C in Paris."


def test_parallel_custom_tools_idle_until_all_answered(
    http: httpx.Client, cloud: FakeCloud
) -> None:
    agent = ScriptedAgent()
    agent.on("both").custom_tool_use("a").custom_tool_use("b").reply(
        lambda ctx: "+".join(outcome.text for outcome in ctx.outcomes)
    )
    cloud.agent = agent
    session_id = cloud.create_session()
    post_message(http, session_id, "do both")
    idle = cloud.events(session_id)[-1]
    first_id, second_id = idle["stop_reason"]["event_ids"]
    starts = [e for e in cloud.events(session_id) if e["type"] == "span.model_request_start"]
    assert len(starts) == 1  # one model request asked for both tools

    post_events(http, session_id, custom_result(second_id, "B"))
    partial = cloud.events(session_id)[-2:]
    assert types(partial) == ["user.custom_tool_result", "session.status_idle"]
    assert partial[-1]["stop_reason"] == {"type": "requires_action", "event_ids": [first_id]}

    post_events(http, session_id, custom_result(first_id, "A"))
    events = cloud.events(session_id)
    assert events[-1]["stop_reason"] == {"type": "end_turn"}
    assert text_of(events) == "B+A"


def test_tool_confirmation_allow(http: httpx.Client, cloud: FakeCloud) -> None:
    agent = ScriptedAgent()
    agent.on("bash").reply("Running it. ").tool_use(
        "bash", {"command": "echo $((4*10))"}, result="40", permission="ask"
    ).reply("The answer is {result}.")
    cloud.agent = agent
    session_id = cloud.create_session()
    first = post_message(http, session_id, "Multiply with bash")
    events = cloud.events(session_id)
    use = next(e for e in events if e["type"] == "agent.tool_use")
    assert use["evaluated_permission"] == "ask"
    assert events[-1]["stop_reason"] == {"type": "requires_action", "event_ids": [use["id"]]}

    confirm = {"type": "user.tool_confirmation", "tool_use_id": use["id"], "result": "allow"}
    echo = post_events(http, session_id, confirm).json()["data"][0]
    assert echo["turn_id"] == first["turn_id"]
    after = cloud.events(session_id)[len(events) :]
    assert types(after) == [
        "user.tool_confirmation",
        "session.status_running",
        "agent.tool_result",
        "span.model_request_start",
        "agent.message",
        "span.model_request_end",
        "session.status_idle",
    ]
    result = after[2]
    assert result["tool_use_id"] == use["id"]
    assert result["content"] == [{"type": "text", "text": "40"}]
    assert result["is_error"] is False
    assert text_of(cloud.events(session_id)) == "Running it. The answer is 40."


def test_tool_confirmation_deny(http: httpx.Client, cloud: FakeCloud) -> None:
    cloud.agent.on("rm").tool_use("bash", {"command": "rm -rf /"}, permission="ask").reply(
        "Understood, I did not run it."
    )
    session_id = cloud.create_session()
    post_message(http, session_id, "rm everything")
    use_id = cloud.events(session_id)[-1]["stop_reason"]["event_ids"][0]
    deny = {
        "type": "user.tool_confirmation",
        "tool_use_id": use_id,
        "result": "deny",
        "deny_message": "Not allowed",
    }
    assert post_events(http, session_id, deny).status_code == 202
    events = cloud.events(session_id)
    result = next(e for e in events if e["type"] == "agent.tool_result")
    assert result["is_error"] is True
    assert result["content"] == [{"type": "text", "text": "Not allowed"}]
    assert events[-1]["stop_reason"] == {"type": "end_turn"}


def test_builtin_tool_allowed_runs_without_pause(http: httpx.Client, cloud: FakeCloud) -> None:
    cloud.agent.on("multiply").reply("Running it. ").tool_use(
        "bash", {"command": "echo $((4*10))"}, result="40"
    ).reply("The answer is 40.")
    session_id = cloud.create_session()
    post_message(http, session_id, "Multiply it by 10 with bash.")
    events = cloud.events(session_id)
    assert types(events) == [
        "user.message",
        "session.status_running",
        "span.model_request_start",
        "agent.message",
        "agent.tool_use",
        "span.model_request_end",
        "agent.tool_result",
        "span.model_request_start",
        "agent.message",
        "span.model_request_end",
        "session.status_idle",
    ]
    assert events[6]["tool_use_id"] == events[4]["id"]
    assert events[9]["model_request_start_id"] == events[7]["id"]
    assert text_of(events) == "Running it. The answer is 40."


def test_answers_for_ids_that_are_not_pending(http: httpx.Client, cloud: FakeCloud) -> None:
    cloud.agent = weather_agent()
    session_id = cloud.create_session()
    post_message(http, session_id, "Weather?")
    use_id = cloud.events(session_id)[-1]["stop_reason"]["event_ids"][0]
    wrong_kind = {"type": "user.tool_confirmation", "tool_use_id": use_id, "result": "allow"}
    unknown = custom_result("evt_unknown", "x")
    for event in (wrong_kind, unknown):
        status, kind, _ = error_of(post_events(http, session_id, event))
        assert (status, kind) == (400, "invalid_request_error")
    assert post_events(http, session_id, custom_result(use_id, "ok")).status_code == 202
    status, _, _ = error_of(post_events(http, session_id, custom_result(use_id, "again")))
    assert status == 400


def test_new_message_abandons_a_turn_waiting_for_tools(
    http: httpx.Client, cloud: FakeCloud
) -> None:
    cloud.agent = weather_agent()
    session_id = cloud.create_session()
    first = post_message(http, session_id, "Weather?")
    use_id = cloud.events(session_id)[-1]["stop_reason"]["event_ids"][0]
    second = post_message(http, session_id, "What's the capital of France?")
    assert second["turn_id"] != first["turn_id"]
    assert cloud.events(session_id)[-1]["stop_reason"] == {"type": "end_turn"}
    assert error_of(post_events(http, session_id, custom_result(use_id, "late")))[0] == 400
