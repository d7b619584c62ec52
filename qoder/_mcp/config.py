"""MCP server configurations as the official SDK spells them, and what the agent is told.

Pure: no I/O, and no import of the ``mcp`` package, so a session can sort its servers and
declare the agent-side ones without the MCP SDK installed.

Where each server's tools run:

- ``{"type": "sdk", ...}`` (from :func:`qoder.mcp.create_sdk_mcp_server`) and
  ``{"type": "stdio", ...}`` (``type`` may be left out when ``command`` is given) are
  *bridged*: the client runs them and declares each tool to the agent as a custom tool named
  ``mcp__<server>__<tool>``.
- ``{"type": "http" | "sse", "url", ...}`` is declared to the agent as one of its own
  ``mcp_servers`` (``{"type": "url", "name", "url"}``) with an ``mcp_toolset`` (§8.3): the
  cloud calls it. ``"bridge": True`` (a qoder key) bridges it through the client instead. A
  config with ``headers`` is bridged too, since the wire has no field for them (and the
  secrets they usually carry stay on the client); ``"bridge": False`` with ``headers`` is an
  error.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, Final, Literal, TypedDict

if sys.version_info >= (3, 11):
    from typing import NotRequired
else:  # pragma: no cover
    from typing_extensions import NotRequired

__all__ = [
    "McpHttpServerConfig",
    "McpSSEServerConfig",
    "McpSdkServerConfig",
    "McpServerConfig",
    "McpServerToolPolicy",
    "McpStdioServerConfig",
    "agent_declarations",
    "denied_tools",
    "is_bridged",
    "server_kind",
    "tool_name",
]

PREFIX: Final = "mcp__"


class McpServerToolPolicy(TypedDict):
    """A per-tool permission policy of a server config."""

    name: str
    permission_policy: Literal["always_allow", "always_ask", "always_deny"]


class McpStdioServerConfig(TypedDict):
    """A server the client starts as a subprocess and talks to over stdin/stdout."""

    type: NotRequired[Literal["stdio"]]
    command: str
    args: NotRequired[list[str]]
    env: NotRequired[dict[str, str]]
    cwd: NotRequired[str]
    """qoder's addition: the working directory of the process."""
    tools: NotRequired[list[McpServerToolPolicy]]


class McpSdkServerConfig(TypedDict):
    """An in-process server: ``instance`` is an ``mcp.server.lowlevel.Server``."""

    type: Literal["sdk"]
    name: str
    instance: Any
    tools: NotRequired[list[McpServerToolPolicy]]


class McpHttpServerConfig(TypedDict):
    """A streamable-HTTP server; ``bridge`` (qoder's key) runs it through the client."""

    type: Literal["http"]
    url: str
    headers: NotRequired[dict[str, str]]
    tools: NotRequired[list[McpServerToolPolicy]]
    bridge: NotRequired[bool]


class McpSSEServerConfig(TypedDict):
    """A server over HTTP with server-sent events; ``bridge`` as for HTTP."""

    type: Literal["sse"]
    url: str
    headers: NotRequired[dict[str, str]]
    tools: NotRequired[list[McpServerToolPolicy]]
    bridge: NotRequired[bool]


McpServerConfig = (
    McpStdioServerConfig | McpSSEServerConfig | McpHttpServerConfig | McpSdkServerConfig
)

Kind = Literal["sdk", "stdio", "http", "sse"]
_KINDS: Final = ("sdk", "stdio", "http", "sse")


def tool_name(server: str, tool: str) -> str:
    """The name the agent knows a bridged tool by: ``mcp__<server>__<tool>``."""
    return f"{PREFIX}{server}__{tool}"


def server_kind(name: str, config: Mapping[str, Any]) -> Kind:
    """The transport of a config; a config without ``type`` but with ``command`` is stdio."""
    if not isinstance(config, Mapping):
        raise TypeError(f"MCP server {name!r}: a config is a dict, not {config!r}")
    kind = config.get("type", "stdio" if "command" in config else None)
    if kind not in _KINDS:
        raise ValueError(f"MCP server {name!r}: unknown type {kind!r} (one of {_KINDS})")
    required = {"sdk": "instance", "stdio": "command", "http": "url", "sse": "url"}[kind]
    if required not in config:
        raise ValueError(f"MCP server {name!r}: a {kind!r} config needs {required!r}")
    return kind  # type: ignore[no-any-return]


def is_bridged(name: str, config: Mapping[str, Any]) -> bool:
    """Whether the client runs this server's tools (see the module's docstring)."""
    kind = server_kind(name, config)
    if kind in ("sdk", "stdio"):
        return True
    bridge = config.get("bridge")
    if config.get("headers") and bridge is False:
        raise ValueError(
            f"MCP server {name!r}: its headers cannot be sent to the agent (the wire has no "
            'field for them); leave out "bridge": False to call it through the client'
        )
    return bool(bridge) or bool(config.get("headers"))


def agent_declarations(
    servers: Mapping[str, Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The agent-side servers as the agent declares them: its ``mcp_servers`` entries
    (``{"type": "url", "name", "url"}``) and the ``mcp_toolset`` entries for its ``tools``
    (§8.3), with each ``tools`` policy as a ``configs`` item (``always_deny``: disabled).
    Bridged servers are left out: their tools come from the bridge as custom tools."""
    mcp_servers: list[dict[str, Any]] = []
    toolsets: list[dict[str, Any]] = []
    for name, config in servers.items():
        if is_bridged(name, config):
            continue
        mcp_servers.append({"type": "url", "name": name, "url": config["url"]})
        toolset: dict[str, Any] = {"type": "mcp_toolset", "mcp_server_name": name}
        configs = [_policy_config(policy) for policy in config.get("tools") or ()]
        if configs:
            toolset["configs"] = configs
        toolsets.append(toolset)
    return mcp_servers, toolsets


def _policy_config(policy: Mapping[str, Any]) -> dict[str, Any]:
    if policy["permission_policy"] == "always_deny":
        return {"name": policy["name"], "enabled": False}
    return {
        "name": policy["name"],
        "enabled": True,
        "permission_policy": {"type": policy["permission_policy"]},
    }


def denied_tools(config: Mapping[str, Any]) -> frozenset[str]:
    """The tools a bridged server's ``tools`` policies turn off (``always_deny``)."""
    return frozenset(
        policy["name"]
        for policy in config.get("tools") or ()
        if policy.get("permission_policy") == "always_deny"
    )
