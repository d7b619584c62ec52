"""In-process servers: create_sdk_mcp_server and the bridge over an in-memory transport."""

from __future__ import annotations

from typing import Any

import anyio
import mcp.types as types
import pytest
import qoder_agent_sdk
from mcp.shared.memory import create_connected_server_and_client_session

from qoder import ToolResult, tool
from qoder.mcp import McpBridge, create_sdk_mcp_server

pytestmark = pytest.mark.anyio


@tool("add", "Add two numbers", {"a": float, "b": float})
async def add(args: dict[str, Any]) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": str(args["a"] + args["b"])}]}


@tool
def multiply(a: int, b: int) -> str:
    """Multiply two integers."""
    return str(a * b)


@tool
def explode(reason: str) -> str:
    """Always fails."""
    raise RuntimeError(reason)


@tool
def refuse() -> ToolResult:
    """Reports an error itself."""
    return ToolResult("not today", is_error=True)


@tool
def unsendable() -> object:
    """Returns what cannot be sent."""
    return [object()]


@tool
def document() -> list[dict[str, Any]]:
    """Returns blocks MCP has no type for, and an image."""
    return [
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "x"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
    ]


def calculator() -> Any:
    return create_sdk_mcp_server(
        name="calc",
        version="2.0.0",
        tools=[add, multiply, explode, refuse, unsendable, document],
    )


async def test_the_config_is_shaped_like_the_official_one() -> None:
    config = calculator()
    assert config["type"] == "sdk"
    assert config["name"] == "calc"
    async with create_connected_server_and_client_session(config["instance"]) as session:
        listed = await session.list_tools()
        assert [item.name for item in listed.tools] == [
            "add",
            "multiply",
            "explode",
            "refuse",
            "unsendable",
            "document",
        ]
        result = await session.call_tool("multiply", {"a": 6, "b": 7})
        assert result.content == [types.TextContent(type="text", text="42")]


async def test_tools_are_declared_as_custom_tools_named_after_the_server() -> None:
    async with McpBridge({"calc": calculator()}) as bridge:
        tools = {item.name: item for item in bridge.tools()}
        assert list(tools)[:2] == ["mcp__calc__add", "mcp__calc__multiply"]
        assert tools["mcp__calc__add"].to_agent_tool() == {
            "type": "custom",
            "name": "mcp__calc__add",
            "description": "Add two numbers",
            "input_schema": {
                "type": "object",
                "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                "required": ["a", "b"],
            },
        }
        assert tools["mcp__calc__add"].takes_args is True


async def test_a_call_round_trips_through_the_handler() -> None:
    async with McpBridge({"calc": calculator()}) as bridge:
        tools = {item.name: item for item in bridge.tools()}
        assert await tools["mcp__calc__add"].handler({"a": 1, "b": 2.5}) == {
            "content": [{"type": "text", "text": "3.5"}],
            "is_error": False,
        }
        assert await bridge.call("mcp__calc__multiply", {"a": 6, "b": 7}) == {
            "content": [{"type": "text", "text": "42"}],
            "is_error": False,
        }


async def test_invalid_arguments_are_an_error_result_before_the_handler_runs() -> None:
    ran: list[dict[str, Any]] = []

    @tool("strict", "Needs a count", {"count": int})
    async def strict(args: dict[str, Any]) -> str:
        ran.append(args)
        return "ran"

    server = create_sdk_mcp_server("s", tools=[strict])
    async with McpBridge({"s": server}) as bridge:
        missing = await bridge.call("mcp__s__strict", {})
        wrong = await bridge.call("mcp__s__strict", {"count": "three"})
    assert missing["is_error"] is True
    assert "'count' is a required property" in missing["content"][0]["text"]
    assert wrong["is_error"] is True
    assert "is not of type 'integer'" in wrong["content"][0]["text"]
    assert ran == []


async def test_unknown_tools_and_failures_are_error_results() -> None:
    async with McpBridge({"calc": calculator()}) as bridge:
        unknown = await bridge.call_tool("calc", "divide", {})
        not_bridged = await bridge.call("mcp__other__x", {})
        no_server = await bridge.call_tool("other", "x", {})
        raised = await bridge.call("mcp__calc__explode", {"reason": "boom"})
        refused = await bridge.call("mcp__calc__refuse", {})
        bad_value = await bridge.call("mcp__calc__unsendable", {})
    assert unknown["is_error"]
    assert "Unknown tool 'divide'" in unknown["content"][0]["text"]
    assert not_bridged["is_error"]
    assert no_server["is_error"]
    assert raised == {
        "content": [{"type": "text", "text": "Tool 'explode' failed: RuntimeError: boom"}],
        "is_error": True,
    }
    assert refused == {"content": [{"type": "text", "text": "not today"}], "is_error": True}
    assert bad_value["is_error"] is True
    assert "bad return value" in bad_value["content"][0]["text"]


async def test_blocks_mcp_cannot_express_come_back_as_they_were() -> None:
    async with McpBridge({"calc": calculator()}) as bridge:
        result = await bridge.call("mcp__calc__document", {})
    assert result == {"content": document.handler(), "is_error": False}


async def test_the_official_sdks_tools_are_accepted() -> None:
    @qoder_agent_sdk.tool("greet", "Greet a user", {"name": str})
    async def greet(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": f"Hello, {args['name']}!"}]}

    server = create_sdk_mcp_server("people", tools=[greet])
    async with McpBridge({"people": server}) as bridge:
        [declared] = bridge.tools()
        assert declared.input_schema["required"] == ["name"]
        assert await declared.handler({"name": "Ada"}) == {
            "content": [{"type": "text", "text": "Hello, Ada!"}],
            "is_error": False,
        }


async def test_a_server_from_the_official_create_sdk_mcp_server_is_bridged() -> None:
    @qoder_agent_sdk.tool("ping", "Ping", {})
    async def ping(args: dict[str, Any]) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": "pong"}]}

    official = qoder_agent_sdk.create_sdk_mcp_server("net", tools=[ping])
    async with McpBridge({"net": official}) as bridge:
        assert await bridge.call("mcp__net__ping", {}) == {
            "content": [{"type": "text", "text": "pong"}],
            "is_error": False,
        }


async def test_sync_handlers_run_in_a_worker_thread() -> None:
    import threading

    seen: list[str] = []

    @tool
    def where() -> str:
        """Names its thread."""
        seen.append(threading.current_thread().name)
        return "here"

    main = threading.current_thread().name
    async with McpBridge({"t": create_sdk_mcp_server("t", tools=[where])}) as bridge:
        assert (await bridge.call("mcp__t__where", {}))["is_error"] is False
    assert seen
    assert seen[0] != main


async def test_calls_run_concurrently() -> None:
    gate = anyio.Event()

    @tool
    async def wait() -> str:
        """Waits for the gate."""
        await gate.wait()
        return "opened"

    @tool
    async def open_gate() -> str:
        """Opens the gate."""
        gate.set()
        return "done"

    server = create_sdk_mcp_server("g", tools=[wait, open_gate])
    results: list[dict[str, Any]] = []
    async with McpBridge({"g": server}) as bridge, anyio.create_task_group() as group:

        async def waiting() -> None:
            results.append(await bridge.call("mcp__g__wait", {}))

        group.start_soon(waiting)
        results.append(await bridge.call("mcp__g__open_gate", {}))
    assert sorted(r["content"][0]["text"] for r in results) == ["done", "opened"]


def test_duplicate_tool_names_and_non_tools_are_refused() -> None:
    with pytest.raises(ValueError, match="two tools are named 'add'"):
        create_sdk_mcp_server("calc", tools=[add, add])
    with pytest.raises(TypeError, match="not a tool"):
        create_sdk_mcp_server("calc", tools=[object()])


async def test_aclose_is_idempotent_and_calls_after_it_are_errors() -> None:
    bridge = McpBridge({"calc": calculator()})
    await bridge.start()
    await bridge.aclose()
    await bridge.aclose()
    after = await bridge.call("mcp__calc__add", {"a": 1, "b": 2})
    assert after["is_error"] is True
    with pytest.raises(RuntimeError, match="started once"):
        await bridge.start()


async def test_the_async_facade_runs_a_bridged_tool_as_the_core_asks() -> None:
    import functools

    from qoder._async.callables import call_user
    from qoder._protocol.config import LocalTool
    from qoder._protocol.effects import CallUser, Returned

    async with McpBridge({"calc": calculator()}) as bridge:
        adder: LocalTool = next(t for t in bridge.tools() if t.name == "mcp__calc__add")
        call = functools.partial(adder.handler, {"a": 2, "b": 3})
        outcome = await call_user(CallUser(call, (), True))
    assert outcome == Returned({"content": [{"type": "text", "text": "5"}], "is_error": False})


async def test_closing_does_not_wait_for_a_blocked_sync_handler() -> None:
    import threading

    release = threading.Event()

    @tool
    def stuck() -> str:
        """Blocks until released."""
        release.wait(timeout=60)
        return "released"

    results: list[dict[str, Any]] = []
    bridge = McpBridge({"s": create_sdk_mcp_server("s", tools=[stuck])})
    try:
        async with anyio.create_task_group() as group:
            await bridge.start()

            async def call() -> None:
                results.append(await bridge.call("mcp__s__stuck", {}))

            group.start_soon(call)
            await anyio.wait_all_tasks_blocked()
            await bridge.aclose()
    finally:
        release.set()
    [result] = results
    assert result == {
        "content": [
            {"type": "text", "text": "the MCP bridge was closed during the call to 'stuck'"}
        ],
        "is_error": True,
    }
