"""Stdio servers: started at start(), called, stopped at aclose(); no process outlives the
bridge, whatever ends it; a server that dies is reported, restarted once, then gone."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import anyio
import pytest

from qoder.mcp import McpBridge, McpServerError

from .helpers import assert_gone, is_running, pid_of, stdio_config, text_of

pytestmark = pytest.mark.anyio

FILES = "mcp__files__"


async def test_start_call_stop() -> None:
    async with McpBridge({"files": stdio_config()}) as bridge:
        names = [item.name for item in bridge.tools()]
        assert names == [FILES + name for name in ("echo", "pid", "env", "crash", "block")]
        [echo] = [item for item in bridge.tools() if item.tool == "echo"]
        assert echo.input_schema["required"] == ["text"]
        assert echo.description == "Say it back."
        result = await echo.handler({"text": "hi"})
        assert result == {"content": [{"type": "text", "text": "hi"}], "is_error": False}
        pid = pid_of(await bridge.call(FILES + "pid", {}))
        assert is_running(pid)
    assert_gone(pid)


async def test_a_process_killed_mid_call_is_an_error_then_restarted_once_then_gone() -> None:
    async with McpBridge({"files": stdio_config()}) as bridge:
        first = pid_of(await bridge.call(FILES + "pid", {}))
        died = await bridge.call(FILES + "crash", {})
        assert died["is_error"] is True
        assert "exited during the call to 'crash'" in text_of(died)
        assert_gone(first)  # reaped before the call returned
        second = pid_of(await bridge.call(FILES + "pid", {}))  # restarted
        assert second != first
        assert (await bridge.call(FILES + "crash", {}))["is_error"] is True
        assert_gone(second)
        gone = await bridge.call(FILES + "echo", {"text": "hi"})
        assert gone["is_error"] is True
        assert "is gone: it exited and was already restarted" in text_of(gone)


async def test_a_process_killed_between_calls_is_restarted_for_the_next_one() -> None:
    async with McpBridge({"files": stdio_config()}) as bridge:
        first = pid_of(await bridge.call(FILES + "pid", {}))
        os.kill(first, signal.SIGKILL)
        result = await bridge.call(FILES + "pid", {})
        if result["is_error"]:  # the call went out before the death was seen
            assert "exited during the call to 'pid'" in text_of(result)
            result = await bridge.call(FILES + "pid", {})
        second = pid_of(result)
        assert second != first
    assert_gone(first)
    assert_gone(second)


async def test_a_process_killed_while_a_call_waits_ends_that_call() -> None:
    async with McpBridge({"files": stdio_config()}) as bridge:
        pid = pid_of(await bridge.call(FILES + "pid", {}))
        results: list[dict[str, Any]] = []
        async with anyio.create_task_group() as group:

            async def blocked() -> None:
                results.append(await bridge.call(FILES + "block", {}))

            group.start_soon(blocked)
            await anyio.wait_all_tasks_blocked()
            os.kill(pid, signal.SIGKILL)
        [result] = results
        assert result["is_error"] is True
        assert "exited during the call to 'block'" in text_of(result)
        assert_gone(pid)


async def test_a_call_timeout_makes_a_call_that_never_ends_an_error() -> None:
    async with McpBridge({"files": stdio_config()}, call_timeout=0.2) as bridge:
        late = await bridge.call(FILES + "block", {})
        assert late["is_error"] is True
        assert "did not answer 'block' within 0.2 s" in text_of(late)
        assert text_of(await bridge.call(FILES + "echo", {"text": "still up"})) == "still up"


async def test_max_restarts_zero_reports_the_server_gone_at_once() -> None:
    async with McpBridge({"files": stdio_config()}, max_restarts=0) as bridge:
        assert (await bridge.call(FILES + "crash", {}))["is_error"] is True
        gone = await bridge.call(FILES + "pid", {})
        assert "is gone" in text_of(gone)


async def test_cancellation_stops_the_process() -> None:
    pids: list[int] = []
    with anyio.CancelScope() as scope:
        async with McpBridge({"files": stdio_config()}) as bridge:
            pids.append(pid_of(await bridge.call(FILES + "pid", {})))
            async with anyio.create_task_group() as group:
                group.start_soon(bridge.call, FILES + "block", {})
                await anyio.wait_all_tasks_blocked()
                scope.cancel()
    assert scope.cancelled_caught
    assert_gone(pids[0])


async def test_an_exception_stops_the_process() -> None:
    pids: list[int] = []

    async def use_then_raise() -> None:
        async with McpBridge({"files": stdio_config()}) as bridge:
            pids.append(pid_of(await bridge.call(FILES + "pid", {})))
            raise LookupError

    with pytest.raises(LookupError):
        await use_then_raise()
    assert_gone(pids[0])


async def test_a_server_that_cannot_start_fails_start_and_leaves_nothing() -> None:
    servers = {
        "files": stdio_config(),
        "broken": {"type": "stdio", "command": "/nonexistent/mcp-server"},
    }
    bridge = McpBridge(servers)
    with pytest.raises(McpServerError, match="'broken' could not be started"):
        await bridge.start()
    assert bridge.tools()[0].server == "files"
    assert (await bridge.call(FILES + "pid", {}))["is_error"] is True  # closed with it


async def test_a_server_that_exits_at_once_fails_start() -> None:
    config = {"command": sys.executable, "args": ["-c", "pass"]}
    with pytest.raises(McpServerError, match="'quits' could not be started"):
        async with McpBridge({"quits": config}):
            pass


async def test_the_environment_is_inherited_without_the_clients_own_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MCP_TEST_INHERITED", "yes")
    monkeypatch.setenv("QODER_API_KEY", "secret-token")
    config = stdio_config(env={"MCP_TEST_GIVEN": "given", "QODER_MODE": "explicit"})

    async def read(bridge: McpBridge, name: str) -> str:
        return text_of(await bridge.call(FILES + "env", {"name": name}))

    async with McpBridge({"files": config}) as bridge:
        assert await read(bridge, "MCP_TEST_INHERITED") == "yes"
        assert await read(bridge, "MCP_TEST_GIVEN") == "given"
        assert await read(bridge, "QODER_API_KEY") == ""
        assert await read(bridge, "QODER_MODE") == "explicit"  # what the config says goes


async def test_always_deny_policies_leave_the_tool_out() -> None:
    config = stdio_config(tools=[{"name": "crash", "permission_policy": "always_deny"}])
    async with McpBridge({"files": config}) as bridge:
        assert FILES + "crash" not in [item.name for item in bridge.tools()]
        assert text_of(await bridge.call(FILES + "echo", {"text": "ok"})) == "ok"


async def test_a_server_that_does_not_answer_in_time_fails_start() -> None:
    config = {"command": sys.executable, "args": ["-c", "import sys; sys.stdin.read()"]}
    with pytest.raises(McpServerError, match=r"not ready within 0\.5 s"):
        async with McpBridge({"mute": config}, startup_timeout=0.5):
            pass


async def test_url_servers_are_left_to_the_agent() -> None:
    async with McpBridge({"docs": {"type": "http", "url": "https://docs.example/mcp"}}) as b:
        assert b.tools() == []
