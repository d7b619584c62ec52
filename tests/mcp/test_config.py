"""Which servers are bridged, and what the agent is told about the others (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from qoder._mcp.config import (
    agent_declarations,
    denied_tools,
    is_bridged,
    server_kind,
    tool_name,
)


def test_tool_names_follow_the_official_scheme() -> None:
    assert tool_name("calc", "add") == "mcp__calc__add"


def test_kinds() -> None:
    assert server_kind("a", {"type": "sdk", "name": "a", "instance": object()}) == "sdk"
    assert server_kind("b", {"command": "python"}) == "stdio"
    assert server_kind("c", {"type": "http", "url": "https://x"}) == "http"
    assert server_kind("d", {"type": "sse", "url": "https://x"}) == "sse"
    with pytest.raises(ValueError, match="unknown type 'ws'"):
        server_kind("e", {"type": "ws", "url": "wss://x"})
    with pytest.raises(ValueError, match="needs 'url'"):
        server_kind("f", {"type": "http"})
    with pytest.raises(TypeError, match="a config is a dict"):
        server_kind("g", "python -m server")  # type: ignore[arg-type]


def test_sdk_and_stdio_are_bridged_url_servers_are_not_by_default() -> None:
    assert is_bridged("a", {"type": "sdk", "name": "a", "instance": object()})
    assert is_bridged("b", {"type": "stdio", "command": "python"})
    assert not is_bridged("c", {"type": "http", "url": "https://x"})
    assert is_bridged("c", {"type": "http", "url": "https://x", "bridge": True})
    assert is_bridged("d", {"type": "sse", "url": "https://x", "headers": {"A": "b"}})


def test_headers_cannot_go_to_the_agent() -> None:
    config = {"type": "http", "url": "https://x", "headers": {"A": "b"}, "bridge": False}
    with pytest.raises(ValueError, match="headers cannot be sent"):
        is_bridged("c", config)


def test_agent_declarations() -> None:
    servers: dict[str, dict[str, Any]] = {
        "calc": {"type": "sdk", "name": "calc", "instance": object()},
        "files": {"type": "stdio", "command": "python", "args": ["-m", "fs"]},
        "docs": {
            "type": "http",
            "url": "https://docs.example/mcp",
            "tools": [
                {"name": "search", "permission_policy": "always_ask"},
                {"name": "delete", "permission_policy": "always_deny"},
            ],
        },
        "news": {"type": "sse", "url": "https://news.example/sse"},
        "private": {"type": "http", "url": "https://in.example", "bridge": True},
    }
    mcp_servers, toolsets = agent_declarations(servers)
    assert mcp_servers == [
        {"type": "url", "name": "docs", "url": "https://docs.example/mcp"},
        {"type": "url", "name": "news", "url": "https://news.example/sse"},
    ]
    assert toolsets == [
        {
            "type": "mcp_toolset",
            "mcp_server_name": "docs",
            "configs": [
                {"name": "search", "enabled": True, "permission_policy": {"type": "always_ask"}},
                {"name": "delete", "enabled": False},
            ],
        },
        {"type": "mcp_toolset", "mcp_server_name": "news"},
    ]


def test_denied_tools() -> None:
    config = {
        "command": "python",
        "tools": [
            {"name": "rm", "permission_policy": "always_deny"},
            {"name": "ls", "permission_policy": "always_allow"},
        ],
    }
    assert denied_tools(config) == {"rm"}
    assert denied_tools({"command": "python"}) == frozenset()
