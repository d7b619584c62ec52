"""Shared pieces of the MCP tests: the stdio server's config, and the orphan check."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

SERVER_SCRIPT = Path(__file__).resolve().parent / "stdio_server.py"


def stdio_config(**extra: Any) -> dict[str, Any]:
    """The config of the tiny stdio server (tests/mcp/stdio_server.py)."""
    return {"type": "stdio", "command": sys.executable, "args": [str(SERVER_SCRIPT)], **extra}


def text_of(result: dict[str, Any]) -> str:
    """The text of a one-block result."""
    [block] = result["content"]
    assert block["type"] == "text"
    return str(block["text"])


def pid_of(result: dict[str, Any]) -> int:
    assert result["is_error"] is False, result
    return int(text_of(result))


def is_running(pid: int) -> bool:
    """Whether a process (a zombie included: not reaped) has this id."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def assert_gone(pid: int) -> None:
    assert not is_running(pid), f"MCP server process {pid} is still there (an orphan)"
