"""SyncMcpBridge: the bridge from a thread without an event loop (SyncClient's side)."""

from __future__ import annotations

import functools
import inspect
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from qoder import tool
from qoder._protocol.config import LocalTool
from qoder._protocol.effects import CallUser, Returned
from qoder._sync.callables import call_user
from qoder.mcp import McpServerError, SyncMcpBridge, create_sdk_mcp_server

from .helpers import SERVER_SCRIPT, assert_gone, is_running, pid_of, stdio_config

HERE = Path(__file__).resolve().parent


@tool("add", "Add two numbers", {"a": float, "b": float})
async def add(args: dict[str, Any]) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": str(args["a"] + args["b"])}]}


def servers() -> dict[str, Any]:
    return {"calc": create_sdk_mcp_server("calc", tools=[add]), "files": stdio_config()}


def test_tools_have_blocking_handlers_the_sync_facade_can_run() -> None:
    with SyncMcpBridge(servers()) as bridge:
        tools = {item.name: item for item in bridge.tools()}
        assert "mcp__calc__add" in tools
        assert "mcp__files__echo" in tools
        adder: LocalTool = tools["mcp__calc__add"]
        assert adder.takes_args is True
        assert not inspect.iscoroutinefunction(adder.handler)
        assert adder.to_agent_tool()["name"] == "mcp__calc__add"
        # as the core runs it: CallUser(partial(handler, input), in_thread=True)
        outcome = call_user(CallUser(functools.partial(adder.handler, {"a": 2, "b": 3}), (), True))
        assert outcome == Returned({"content": [{"type": "text", "text": "5"}], "is_error": False})
        echoed = tools["mcp__files__echo"].handler({"text": "hi"})
        assert echoed == {"content": [{"type": "text", "text": "hi"}], "is_error": False}
        pid = pid_of(bridge.call_tool("files", "pid", {}))
    assert_gone(pid)
    assert bridge.tools() == []
    assert bridge.call_tool("files", "pid", {})["is_error"] is True


def use_then_raise(error: BaseException, pids: list[int]) -> None:
    with SyncMcpBridge({"files": stdio_config()}) as bridge:
        pids.append(pid_of(bridge.call_tool("files", "pid", {})))
        raise error


def test_an_exception_in_the_block_stops_the_process() -> None:
    pids: list[int] = []
    with pytest.raises(LookupError):
        use_then_raise(LookupError(), pids)
    assert_gone(pids[0])


def test_keyboard_interrupt_in_the_block_stops_the_process() -> None:
    pids: list[int] = []
    with pytest.raises(KeyboardInterrupt):
        use_then_raise(KeyboardInterrupt(), pids)
    assert_gone(pids[0])


def test_a_failed_start_leaves_no_thread_and_no_process() -> None:
    before = set(threading.enumerate())
    bridge = SyncMcpBridge({"broken": {"command": "/nonexistent/mcp-server"}})
    with pytest.raises(McpServerError, match="'broken' could not be started"):
        bridge.start()
    assert set(threading.enumerate()) <= before
    bridge.close()  # idempotent


def test_the_trio_backend_works_too() -> None:
    with SyncMcpBridge(servers(), backend="trio") as bridge:
        result = bridge.call_tool("calc", "add", {"a": 1, "b": 1})
        assert result == {"content": [{"type": "text", "text": "2"}], "is_error": False}


def test_ctrl_c_while_a_call_blocks_ends_the_program_and_the_server() -> None:
    program = subprocess.Popen(
        [sys.executable, str(HERE / "ctrl_c_script.py"), str(SERVER_SCRIPT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pid = 0
    try:
        assert program.stdout is not None
        pid = int(program.stdout.readline())
        program.send_signal(signal.SIGINT)
        _, errors = program.communicate(timeout=60)
        assert program.returncode != 0
        assert "KeyboardInterrupt" in errors
        assert_gone(pid)
    finally:
        if program.poll() is None:
            program.kill()
            program.communicate(timeout=30)
        if pid and is_running(pid):
            os.kill(pid, signal.SIGKILL)
