"""What the options change in the agent a session runs (docs/protocol.md §8.1, §8.3).

``system_prompt``, ``model``, ``tools`` (built-in names and the client's own tools) and
``disallowed_tools`` become fields of the session's agent: applied to an :class:`AgentSpec`
before it is created, sent as ``agent_with_overrides`` when a session of an existing agent is
created, or posted as a session update (§8.2) when an existing session is resumed. Arrays
replace the agent's whole (§8.1), so the tools are the agent's own, changed: its built-in
toolset narrowed or widened, the disallowed tools turned off in the built-in and MCP
toolsets, those toolsets made to ask when the client decides permissions (``can_use_tool``,
``dontAsk``) or a ``PreToolUse`` hook must see a call, the client's tools added.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import attrs

from .config import SessionConfig
from .permissions import BUILTIN_TOOLS, canonical_tool_name
from .specs import AgentSpec

__all__ = ["TOOLSET", "agent_changes", "apply_to_spec", "client_decides", "needs_agent"]

TOOLSET = "agent_toolset_20260401"
_WIRE_BUILTINS = frozenset(BUILTIN_TOOLS.values())


def _changes_tools(config: SessionConfig) -> bool:
    return bool(
        config.builtin_tools is not None
        or config.tools
        or _disallowed_builtins(config)
        or _disallowed_mcp(config)
        or client_decides(config)
        or config.agent_mcp_toolsets
        or config.hook_asked_tools
        or _hooks_ask_mcp(config)
    )


def _hooks_ask_mcp(config: SessionConfig) -> bool:
    """Whether a ``PreToolUse`` hook may select an agent-side MCP tool (whose toolset must
    then ask, so that the hook sees the call)."""
    return config.hooks is not None and config.hook_asked_mcp_tools != frozenset()


def client_decides(config: SessionConfig) -> bool:
    """Whether the client, not the agent's policies, decides the calls of server-side tools
    (built-in and agent-side MCP): with a ``can_use_tool`` (outside ``bypassPermissions``), or
    in ``dontAsk`` mode. The toolsets are then made to ask (§8.3), as the official SDK asks
    its callback about every call that ``allowed_tools`` does not approve."""
    if config.permission_mode == "dontAsk":
        return True
    return config.can_use_tool is not None and config.permission_mode not in (
        "bypassPermissions",
        "yolo",
    )


def _asking(toolset: dict[str, Any], allowed: Collection[str]) -> None:
    """Make ``toolset`` (the built-in one or an ``mcp_toolset``) ask about every call, except
    the tools ``allowed`` names (as the toolset names them). A tool turned off stays off."""
    default = toolset.get("default_config")
    default = dict(default) if isinstance(default, Mapping) else {}
    default["permission_policy"] = {"type": "always_ask"}
    toolset["default_config"] = default
    kept = _configs_without(toolset, allowed)
    for entry in kept:
        entry.pop("permission_policy", None)  # the default above decides
    configs = kept + _policy_entries(allowed, "always_allow")
    if configs:
        toolset["configs"] = configs


def _allowed_builtins(config: SessionConfig) -> set[str]:
    """The built-in tools (wire names) ``allowed_tools`` names."""
    return {canonical_tool_name(name) for name in config.allowed_tools} & _WIRE_BUILTINS


def _configs_without(toolset: Mapping[str, Any], names: Collection[str]) -> list[dict[str, Any]]:
    """Copies of the toolset's ``configs`` entries, but those of ``names``."""
    return [
        dict(entry)
        for entry in toolset.get("configs") or ()
        if isinstance(entry, Mapping) and entry.get("name") not in names
    ]


def _policy_entries(names: Collection[str], policy: str) -> list[dict[str, Any]]:
    """A ``configs`` entry giving each of ``names`` (sorted) the permission ``policy``."""
    return [{"name": name, "permission_policy": {"type": policy}} for name in sorted(names)]


def needs_agent(config: SessionConfig) -> bool:
    """Whether the changes depend on the agent's current fields (its prompt to append to,
    its tools to change), so that an existing agent must be read first."""
    return (
        config.append_system_prompt is not None
        or _changes_tools(config)
        or bool(config.agent_mcp_servers)
    )


def _disallowed_mcp(config: SessionConfig) -> bool:
    """Whether ``disallowed_tools`` names an MCP tool (of the agent's servers, maybe)."""
    return any(name.startswith("mcp__") for name in config.disallowed_tools)


def _disallowed_builtins(config: SessionConfig) -> list[str]:
    names = {canonical_tool_name(name) for name in config.disallowed_tools}
    return sorted(names & _WIRE_BUILTINS)


def _system(config: SessionConfig, current: str | None) -> str | None:
    if config.system_prompt is not None:
        return config.system_prompt
    append = config.append_system_prompt
    if append is None or (current is not None and current.endswith(append)):
        return None  # nothing to append, or appended already (a resumed session)
    return f"{current}\n\n{append}" if current else append


def _toolset(entry: Mapping[str, Any] | None, config: SessionConfig) -> dict[str, Any] | None:
    """The built-in toolset entry as the options make it (``None``: no built-in tools)."""
    toolset: dict[str, Any] = dict(entry) if entry is not None else {"type": TOOLSET}
    if config.builtin_tools is not None:
        if not config.builtin_tools:
            return None
        toolset["enabled_tools"] = list(config.builtin_tools)
    elif entry is None:
        return None  # the agent had no built-in tools: nothing to turn off
    if client_decides(config):
        _asking(toolset, _allowed_builtins(config))
    elif config.hook_asked_tools:
        _asking_for_hooks(toolset, config.hook_asked_tools)
    disallowed = _disallowed_builtins(config)
    if disallowed:
        already = toolset.get("disallowed_tools")
        merged = [*already] if isinstance(already, list) else []
        toolset["disallowed_tools"] = merged + [name for name in disallowed if name not in merged]
    return toolset


def _asking_for_hooks(toolset: dict[str, Any], names: frozenset[str]) -> None:
    """Make the built-ins a ``PreToolUse`` hook matches ask, so that the hook sees them."""
    toolset["configs"] = _configs_without(toolset, names) + _policy_entries(names, "always_ask")


def _tools(current: Sequence[Mapping[str, Any]], config: SessionConfig) -> list[dict[str, Any]]:
    own = {tool.name for tool in config.tools}
    tools: list[dict[str, Any]] = []
    toolset_done = False
    for entry in current:
        if entry.get("type") == TOOLSET:
            changed = None if toolset_done else _toolset(entry, config)
            toolset_done = True
            if changed is not None:
                tools.append(changed)
        elif not (entry.get("type") == "custom" and entry.get("name") in own):
            tools.append(dict(entry))
    if not toolset_done and (added := _toolset(None, config)) is not None:
        tools.insert(0, added)
    tools.extend(tool.to_agent_tool() for tool in config.tools)
    ours = {entry.get("mcp_server_name") for entry in config.agent_mcp_toolsets}
    tools = [
        t for t in tools if t.get("type") != "mcp_toolset" or t.get("mcp_server_name") not in ours
    ]
    tools.extend(dict(entry) for entry in config.agent_mcp_toolsets)
    for entry in tools:
        if entry.get("type") == "mcp_toolset":
            _change_mcp_toolset(entry, config)
    return tools


def _change_mcp_toolset(toolset: dict[str, Any], config: SessionConfig) -> None:
    """Change an agent-side MCP server's toolset as the built-in one is changed: its tools
    ``disallowed_tools`` names turned off; made to ask about every call when the client
    decides (but those ``allowed_tools`` names), else about the calls a ``PreToolUse`` hook
    may select (all of them when their names cannot be listed)."""
    prefix = f"mcp__{toolset.get('mcp_server_name')}__"
    if client_decides(config):
        _asking(toolset, _tools_of_server(config.allowed_tools, prefix))
    elif config.hook_asked_mcp_tools is None:
        _asking(toolset, ())
    elif named := _tools_of_server(config.hook_asked_mcp_tools, prefix):
        _asking_for_hooks(toolset, frozenset(named))
    if off := _tools_of_server(config.disallowed_tools, prefix):
        kept = _configs_without(toolset, off)
        toolset["configs"] = kept + [{"name": name, "enabled": False} for name in sorted(off)]


def _tools_of_server(names: Collection[str], prefix: str) -> set[str]:
    """The tools ``names`` (``mcp__<server>__<tool>``) names of the server of ``prefix``
    (``mcp__<server>__``), as its toolset names them."""
    return {name[len(prefix) :] for name in names if name.startswith(prefix)}


def _mcp_servers(current: Any, config: SessionConfig) -> list[dict[str, Any]]:
    """The agent's MCP servers with the options' own added (one of the same name replaced)."""
    ours = {server.get("name") for server in config.agent_mcp_servers}
    kept = [
        dict(server)
        for server in (current if isinstance(current, list) else [])
        if isinstance(server, Mapping) and server.get("name") not in ours
    ]
    return kept + [dict(server) for server in config.agent_mcp_servers]


def agent_changes(config: SessionConfig, agent: Mapping[str, Any] | None) -> dict[str, Any]:
    """The fields the options change in ``agent`` (the agent's JSON, or ``None`` when
    :func:`needs_agent` says it is not needed): ``system``, ``model``, ``tools``."""
    current = agent or {}
    changes: dict[str, Any] = {}
    system = _system(
        config, current.get("system") if isinstance(current.get("system"), str) else None
    )
    if system is not None:
        changes["system"] = system
    if config.model is not None:
        changes["model"] = config.model
    if _changes_tools(config):
        tools = current.get("tools")
        base = (
            [tool for tool in tools if isinstance(tool, Mapping)] if isinstance(tools, list) else []
        )
        changes["tools"] = _tools(base, config)
    if config.agent_mcp_servers:
        changes["mcp_servers"] = _mcp_servers(current.get("mcp_servers"), config)
    return changes


def apply_to_spec(spec: AgentSpec, config: SessionConfig) -> AgentSpec:
    """The agent to create, with the options' changes made to it."""
    current = {
        "system": spec.system,
        "tools": [dict(tool) for tool in spec.tools],
        "mcp_servers": [dict(server) for server in spec.mcp_servers],
    }
    changes = agent_changes(config, current)
    return attrs.evolve(spec, **changes)
