"""Client-side tools, permissions and manual answers, through every facade."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from qoder import (
    AssistantMessage,
    CustomTool,
    PermissionResultDeny,
    ResultMessage,
    ToolPermissionContext,
    ToolUseBlock,
    tool,
)
from tests.client.driver import Facade
from tests.client.scripted import ScriptedAPI, stream_of
from tests.client.test_conversation import options, texts


def described(description: str) -> Callable[[Callable[..., Any]], CustomTool]:
    """``tool(description=...)``, as a typed decorator."""
    decorate: Callable[[Callable[..., Any]], CustomTool] = tool(description=description)
    return decorate


def custom_tool_turn(
    name: str = "get_weather",
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Appendix B: the events before the client's answer, and after it."""
    t = {"turn_id": "turn_21"}
    before: list[dict[str, Any]] = [
        {
            "id": "evt_21",
            "type": "user.message",
            **t,
            "content": [{"type": "text", "text": "Weather in Paris?"}],
        },
        {"id": "evt_22", "type": "session.status_running", **t},
        {"id": "evt_23", "type": "span.model_request_start", **t, "model": "ultimate"},
        {
            "id": "evt_24",
            "type": "agent.custom_tool_use",
            **t,
            "name": name,
            "input": {"city": "Paris"},
        },
        {
            "id": "evt_25",
            "type": "span.model_request_end",
            **t,
            "model_request_start_id": "evt_23",
            "is_error": False,
            "model_usage": {"input_tokens": 40, "output_tokens": 15, "credits": 0.03},
        },
        {
            "id": "evt_26",
            "type": "session.status_idle",
            **t,
            "stop_reason": {"type": "requires_action", "event_ids": ["evt_24"]},
        },
    ]
    after: list[dict[str, Any]] = [
        {
            "id": "evt_27",
            "type": "user.custom_tool_result",
            **t,
            "custom_tool_use_id": "evt_24",
            "content": [{"type": "text", "text": "18°C, sunny"}],
        },
        {"id": "evt_28", "type": "session.status_running", **t},
        {"id": "evt_29", "type": "span.model_request_start", **t, "model": "ultimate"},
        {
            "id": "evt_30",
            "type": "agent.message",
            **t,
            "content": [{"type": "text", "text": "It is 18°C and sunny in Paris."}],
        },
        {
            "id": "evt_31",
            "type": "span.model_request_end",
            **t,
            "model_request_start_id": "evt_29",
            "is_error": False,
            "model_usage": {"input_tokens": 70, "output_tokens": 12, "credits": 0.04},
        },
        {"id": "evt_32", "type": "session.status_idle", **t, "stop_reason": {"type": "end_turn"}},
    ]
    return before, after


@pytest.mark.parametrize("kind", ["sync_handler", "async_handler"])
def test_custom_tool_round_trip(facade: Facade, api: ScriptedAPI, kind: str) -> None:
    before, after = custom_tool_turn()
    api.streams.append(stream_of(before + after))
    api.reply_with("evt_21", "turn_21")
    api.reply_with("evt_27", "turn_21", "user.custom_tool_result")
    calls: list[str] = []

    if kind == "sync_handler":

        @described("Current weather for a city")
        def get_weather(city: str) -> str:
            calls.append(city)
            return "18°C, sunny"
    else:

        @described("Current weather for a city")
        async def get_weather(city: str) -> str:
            calls.append(city)
            return "18°C, sunny"

    with facade.client(options(tools=[get_weather])) as client:
        messages = client.turn("Weather in Paris?")
    assert calls == ["Paris"]
    assert api.posted[1] == {
        "events": [
            {
                "type": "user.custom_tool_result",
                "custom_tool_use_id": "evt_24",
                "content": [{"type": "text", "text": "18°C, sunny"}],
            }
        ]
    }
    uses = [
        b
        for m in messages
        if isinstance(m, AssistantMessage)
        for b in m.content
        if isinstance(b, ToolUseBlock)
    ]
    assert [(u.id, u.name, u.kind, u.input) for u in uses] == [
        ("evt_24", "get_weather", "custom", {"city": "Paris"})
    ]
    result = messages[-1]
    assert isinstance(result, ResultMessage)
    assert result.result == "It is 18°C and sunny in Paris."
    assert (result.usage.input_tokens, result.usage.output_tokens) == (110, 27)
    assert result.total_credits == pytest.approx(0.07)
    assert result.num_model_requests == 2
    assert result.stop_reason == "end_turn"


def test_a_failing_tool_reports_an_error_result(facade: Facade, api: ScriptedAPI) -> None:
    before, after = custom_tool_turn()
    api.streams.append(stream_of(before + after))
    api.reply_with("evt_21", "turn_21")
    api.reply_with("evt_27", "turn_21", "user.custom_tool_result")

    @tool
    def get_weather(city: str) -> str:
        """Weather."""
        raise RuntimeError("weather service down")

    with facade.client(options(tools=[get_weather])) as client:
        messages = client.turn("Weather in Paris?")
    answer = api.posted[1]["events"][0]
    assert answer["is_error"] is True
    assert "weather service down" in answer["content"][0]["text"]
    assert isinstance(messages[-1], ResultMessage)


def test_without_a_handler_the_turn_stops_and_respond_resumes_it(
    facade: Facade, api: ScriptedAPI
) -> None:
    before, after = custom_tool_turn()
    api.streams.append(stream_of(before + after))
    api.reply_with("evt_21", "turn_21")
    api.reply_with("evt_27", "turn_21", "user.custom_tool_result")
    with facade.client(options()) as client:
        first = client.turn("Weather in Paris?")
        stopped = first[-1]
        assert isinstance(stopped, ResultMessage)
        assert stopped.stop_reason == "requires_action"
        assert stopped.is_error is False
        assert [u.id for u in stopped.pending_tool_uses] == ["evt_24"]
        client.raw_respond({"evt_24": "18°C, sunny"})
        rest = list(client.receive_response())
    assert texts(rest) == ["It is 18°C and sunny in Paris."]
    final = rest[-1]
    assert isinstance(final, ResultMessage)
    assert final.stop_reason == "end_turn"
    assert final.result == "It is 18°C and sunny in Paris."


def permission_turn() -> list[dict[str, Any]]:
    t = {"turn_id": "turn_01"}
    return [
        {"id": "evt_01", "type": "user.message", **t, "content": [{"type": "text", "text": "rm"}]},
        {
            "id": "evt_02",
            "type": "agent.tool_use",
            **t,
            "name": "bash",
            "input": {"command": "rm -rf /tmp/x"},
            "evaluated_permission": "ask",
        },
        {
            "id": "evt_03",
            "type": "session.status_idle",
            **t,
            "stop_reason": {"type": "requires_action", "event_ids": ["evt_02"]},
        },
        {
            "id": "evt_04",
            "type": "user.tool_confirmation",
            **t,
            "tool_use_id": "evt_02",
            "result": "deny",
        },
        {
            "id": "evt_05",
            "type": "agent.message",
            **t,
            "content": [{"type": "text", "text": "I will not."}],
        },
        {"id": "evt_06", "type": "session.status_idle", **t, "stop_reason": {"type": "end_turn"}},
    ]


@pytest.mark.parametrize("async_callback", [False, True])
def test_can_use_tool_decides(facade: Facade, api: ScriptedAPI, async_callback: bool) -> None:
    api.streams.append(stream_of(permission_turn()))
    api.reply_with("evt_01", "turn_01")
    api.reply_with("evt_04", "turn_01", "user.tool_confirmation")
    asked: list[tuple[str, dict[str, Any], ToolPermissionContext]] = []

    def decide(name: str, tool_input: dict[str, Any], context: ToolPermissionContext) -> Any:
        asked.append((name, tool_input, context))
        return PermissionResultDeny(message="Not allowed")

    async def decide_async(
        name: str, tool_input: dict[str, Any], context: ToolPermissionContext
    ) -> Any:
        return decide(name, tool_input, context)

    callback = decide_async if async_callback else decide
    with facade.client(options(can_use_tool=callback)) as client:
        messages = client.turn("rm")
    assert [(n, i) for n, i, _ in asked] == [("bash", {"command": "rm -rf /tmp/x"})]
    assert asked[0][2].tool_use_id == "evt_02"
    assert api.posted[1] == {
        "events": [
            {
                "type": "user.tool_confirmation",
                "tool_use_id": "evt_02",
                "result": "deny",
                "deny_message": "Not allowed",
            }
        ]
    }
    assert messages[-1].result == "I will not."  # type: ignore[union-attr]


def test_tool_schema_is_inferred_from_the_signature() -> None:
    @tool
    def search(query: str, limit: int = 10, exact: bool | None = None) -> str:
        """Search the docs."""
        return ""

    assert search.name == "search"
    assert search.description == "Search the docs."
    assert search.input_schema == {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "limit": {"type": "integer"},
            "exact": {"type": "boolean"},
        },
        "required": ["query"],
    }
    assert search.to_agent_tool()["type"] == "custom"
