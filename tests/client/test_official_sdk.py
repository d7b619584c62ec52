"""Code written for the official qoder-agent-sdk, through every facade: interrupted turns,
error aliases, the positional ``@tool`` form and rich permission results."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

import httpx
import pytest
from typing_extensions import NotRequired, TypedDict

import qoder
import qoder.errors
from qoder import (
    APIConnectionError,
    CLIConnectionError,
    CustomTool,
    PermissionResultAllow,
    PermissionResultDeny,
    QoderError,
    QoderSDKError,
    ResultMessage,
    ToolPermissionContext,
    ToolResult,
    tool,
)
from qoder._protocol.answers import REWRITE_DENIED
from tests.client.driver import Facade
from tests.client.scripted import BASE, ScriptedAPI, stream_of, turn_events
from tests.client.test_conversation import options
from tests.client.test_faults import fast
from tests.client.test_tools import custom_tool_turn, permission_turn

# --- an interrupted turn (§6.7) ---------------------------------------------------------------


def interrupted_turn(*, turn_id: bool) -> list[dict[str, Any]]:
    """A turn stopped by the client's interrupt: text so far, the echo, idle ``end_turn``."""
    events = turn_events("turn_01", 1, "stopped early", turn_id=turn_id)
    extra = {"turn_id": "turn_01"} if turn_id else {}
    echo = {"id": "reply_1", "type": "user.interrupt", **extra}
    return [*events[:4], echo, *events[4:]]


@pytest.mark.parametrize("turn_id", [True, False], ids=["turn_id", "no_turn_id"])
def test_an_interrupted_turn_says_so(facade: Facade, api: ScriptedAPI, turn_id: bool) -> None:
    api.streams.append(stream_of(interrupted_turn(turn_id=turn_id)))
    api.reply_with("evt_01", "turn_01" if turn_id else None)
    with facade.client(fast()) as client:
        client.query("long task")
        client.interrupt()
        messages = list(client.receive_response())
    assert api.posted[1] == {"events": [{"type": "user.interrupt"}]}
    result = messages[-1]
    assert isinstance(result, ResultMessage)
    assert result.terminal_reason == "interrupted"
    assert result.subtype == "success"
    assert result.is_error is False
    assert result.result == "stopped early"
    assert result.stop_reason == "end_turn"


def test_a_cancelled_turn_says_it_was_interrupted(facade: Facade, api: ScriptedAPI) -> None:
    api.router.post(f"{BASE}/sessions/sess_01/cancel").mock(
        return_value=httpx.Response(202, json={"id": "sess_01", "type": "session"})
    )
    api.streams.append(stream_of(turn_events("turn_01", 1, "so far")))
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast()) as client:
        client.query("long task")
        client._do("cancel")
        result = list(client.receive_response())[-1]
    assert isinstance(result, ResultMessage)
    assert (result.terminal_reason, result.is_error, result.result) == (
        "interrupted",
        False,
        "so far",
    )


def test_a_turn_not_interrupted_ends_as_before(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of(turn_events("turn_01", 1, "done")))
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast()) as client:
        result = client.turn("hello")[-1]
    assert isinstance(result, ResultMessage)
    assert result.terminal_reason == "end_turn"


def test_a_failed_interrupt_leaves_the_turn_as_it_ends(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of(turn_events("turn_01", 1, "done")))
    api.reply_with("evt_01", "turn_01")
    api.replies.append(
        httpx.Response(
            400, json={"type": "error", "error": {"type": "invalid_request_error", "message": "x"}}
        )
    )
    with facade.client(fast()) as client:
        client.query("long task")
        with pytest.raises(Exception, match="x"):
            client.interrupt()
        result = list(client.receive_response())[-1]
    assert isinstance(result, ResultMessage)
    assert result.terminal_reason == "end_turn"


# --- the official SDK's error names -----------------------------------------------------------


def test_the_official_error_names_are_aliases() -> None:
    assert qoder.CLIConnectionError is qoder.errors.CLIConnectionError is APIConnectionError
    assert qoder.QoderSDKError is qoder.errors.QoderSDKError is QoderError
    assert {"CLIConnectionError", "QoderSDKError"} <= set(qoder.__all__) & set(qoder.errors.__all__)


def test_ported_code_catches_a_connection_failure(facade: Facade, api: ScriptedAPI) -> None:
    api.router.post(f"{BASE}/sessions").mock(side_effect=httpx.ConnectError("refused"))
    client = facade.client(fast(max_retries=0))
    with pytest.raises(CLIConnectionError) as caught:
        client.connect()
    assert isinstance(caught.value, QoderSDKError)
    client.disconnect()


# --- the official SDK's @tool(name, description, input_schema) --------------------------------


class Forecast(TypedDict):
    city: Annotated[str, "The city"]
    unit: NotRequired[Literal["C", "F"]]
    days: list[int | None]


def test_the_positional_form_infers_schemas_from_types() -> None:
    @tool("greet", "Greet a user", {"name": str, "times": int | None})
    async def greet(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": f"Hello {args['name']}"}]}

    assert isinstance(greet, CustomTool)
    assert (greet.name, greet.description, greet.takes_args) == ("greet", "Greet a user", True)
    assert greet.input_schema == {
        "type": "object",
        "properties": {"name": {"type": "string"}, "times": {"type": "integer"}},
        "required": ["name"],
    }

    @tool("forecast", "Forecast", Forecast)
    def forecast(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": []}

    assert forecast.input_schema == {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "The city"},
            "unit": {"type": "string", "enum": ["C", "F"]},
            "days": {
                "type": "array",
                "items": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            },
        },
        "required": ["city", "days"],
    }
    verbatim = {"type": "object", "properties": {"q": {"type": "string"}}, "x-extra": 1}

    @tool("search", "Search", verbatim)
    def search(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": []}

    assert search.input_schema == verbatim


def test_the_keyword_form_reads_literal_and_annotated_hints() -> None:
    @tool(description="Weather")
    def weather(
        city: Annotated[str, "The city"],
        unit: Literal["C", "F"] = "C",
        tags: list[str] | None = None,
    ) -> str:
        return ""

    assert weather.takes_args is False
    assert weather.input_schema == {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "The city"},
            "unit": {"type": "string", "enum": ["C", "F"]},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["city"],
    }

    @tool(name="lookup", description="Lookup", input_schema={"type": "object"})
    def lookup(args: dict[str, Any]) -> str:  # the official SDK's keywords, handler(args)
        return ""

    assert lookup.takes_args is True


@pytest.mark.parametrize("kind", ["sync_handler", "async_handler", "is_error"])
def test_a_positional_form_tool_gets_args_and_returns_content(
    facade: Facade, api: ScriptedAPI, kind: str
) -> None:
    before, after = custom_tool_turn()
    api.streams.append(stream_of(before + after))
    api.reply_with("evt_21", "turn_21")
    api.reply_with("evt_27", "turn_21", "user.custom_tool_result")
    calls: list[dict[str, Any]] = []

    def answer(args: dict[str, Any]) -> dict[str, Any]:
        calls.append(args)
        reply: dict[str, Any] = {"content": [{"type": "text", "text": f"18°C in {args['city']}"}]}
        if kind == "is_error":
            reply["is_error"] = True
        return reply

    if kind == "async_handler":

        @tool("get_weather", "Current weather", {"city": str})
        async def get_weather(args: dict[str, Any]) -> dict[str, Any]:
            return answer(args)
    else:

        @tool("get_weather", "Current weather", {"city": str})
        def get_weather(args: dict[str, Any]) -> dict[str, Any]:
            return answer(args)

    with facade.client(options(tools=[get_weather])) as client:
        messages = client.turn("Weather in Paris?")
    assert calls == [{"city": "Paris"}]
    posted: dict[str, Any] = {
        "type": "user.custom_tool_result",
        "custom_tool_use_id": "evt_24",
        "content": [{"type": "text", "text": "18°C in Paris"}],
    }
    if kind == "is_error":
        posted["is_error"] = True
    assert api.posted[1] == {"events": [posted]}
    assert isinstance(messages[-1], ResultMessage)


def test_the_keyword_form_still_gets_keyword_arguments(facade: Facade, api: ScriptedAPI) -> None:
    before, after = custom_tool_turn()
    api.streams.append(stream_of(before + after))
    api.reply_with("evt_21", "turn_21")
    api.reply_with("evt_27", "turn_21", "user.custom_tool_result")

    @tool
    def get_weather(city: str) -> ToolResult:
        """Weather."""
        return ToolResult(f"18°C in {city}")

    with facade.client(options(tools=[get_weather])) as client:
        client.turn("Weather in Paris?")
    assert api.posted[1]["events"][0]["content"] == [{"type": "text", "text": "18°C in Paris"}]


# --- can_use_tool with the official SDK's permission results -----------------------------------


def confirmed(result: str, **extra: Any) -> dict[str, Any]:
    return {"type": "user.tool_confirmation", "tool_use_id": "evt_02", "result": result, **extra}


def permission_events(result: str) -> list[dict[str, Any]]:
    events = permission_turn()
    events[3] = {**events[3], "result": result}
    return events


def run_permission_turn(
    facade: Facade, api: ScriptedAPI, decision: Any, events: list[dict[str, Any]]
) -> tuple[list[Any], list[ToolPermissionContext]]:
    api.streams.append(stream_of(events))
    api.reply_with("evt_01", "turn_01")
    api.reply_with("evt_04", "turn_01", "user.tool_confirmation")
    contexts: list[ToolPermissionContext] = []

    async def can_use_tool(name: str, tool_input: dict[str, Any], context: Any) -> Any:
        contexts.append(context)
        return decision

    with facade.client(options(can_use_tool=can_use_tool)) as client:
        messages = client.turn("rm")
    return messages, contexts


def test_an_allow_with_the_same_input_allows(facade: Facade, api: ScriptedAPI) -> None:
    decision = PermissionResultAllow(
        updated_input={"command": "rm -rf /tmp/x"}, updated_permissions=[{"type": "addRules"}]
    )
    messages, contexts = run_permission_turn(facade, api, decision, permission_events("allow"))
    assert api.posted[1] == {"events": [confirmed("allow")]}
    assert contexts[0].suggestions == ()
    assert isinstance(messages[-1], ResultMessage)


def test_an_allow_that_rewrites_the_input_is_denied(
    facade: Facade, api: ScriptedAPI, caplog: pytest.LogCaptureFixture
) -> None:
    decision = PermissionResultAllow(updated_input={"command": "rm -rf /tmp/x/safe"})
    with caplog.at_level(logging.WARNING, logger="qoder"):
        run_permission_turn(facade, api, decision, permission_events("deny"))
    answer = api.posted[1]["events"][0]
    assert (answer["result"], answer["deny_message"]) == ("deny", REWRITE_DENIED)
    assert "updated_input" in caplog.text


def test_a_deny_with_interrupt_denies_then_interrupts(facade: Facade, api: ScriptedAPI) -> None:
    events = permission_turn()
    t = {"turn_id": "turn_01"}
    echo = {"id": "reply_1", "type": "user.interrupt", **t}
    events = [*events[:4], echo, *events[4:]]
    decision = PermissionResultDeny(message="Stop here.", interrupt=True)
    messages, _ = run_permission_turn(facade, api, decision, events)
    assert api.posted[1:] == [
        {"events": [confirmed("deny", deny_message="Stop here.")]},
        {"events": [{"type": "user.interrupt"}]},
    ]
    result = messages[-1]
    assert isinstance(result, ResultMessage)
    assert (result.terminal_reason, result.is_error) == ("interrupted", False)


def test_respond_applies_the_same_rules(facade: Facade, api: ScriptedAPI) -> None:
    events = permission_turn()
    api.streams.append(stream_of(events))
    api.reply_with("evt_01", "turn_01")
    api.reply_with("evt_04", "turn_01", "user.tool_confirmation")
    with facade.client(options()) as client:
        first = client.turn("rm")[-1]
        assert isinstance(first, ResultMessage)
        assert first.stop_reason == "requires_action"
        rewrite = PermissionResultAllow(updated_input={"command": "ls"})
        client.raw_respond(confirmations={"evt_02": rewrite})
        list(client.receive_response())
    assert api.posted[1] == {"events": [confirmed("deny", deny_message=REWRITE_DENIED)]}


def test_respond_with_a_deny_that_interrupts(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of(permission_turn()))
    api.reply_with("evt_01", "turn_01")
    with facade.client(options()) as client:
        client.turn("rm")
        stop = PermissionResultDeny(message="no", interrupt=True)
        client.raw_respond(confirmations={"evt_02": stop})
        result = list(client.receive_response())[-1]
    assert api.posted[1] == {
        "events": [confirmed("deny", deny_message="no"), {"type": "user.interrupt"}]
    }
    assert isinstance(result, ResultMessage)
    assert result.terminal_reason == "interrupted"
