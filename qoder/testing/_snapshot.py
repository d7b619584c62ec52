"""The agent a session runs with, as its turns see it, and the permission policies of its
tools (docs/protocol.md §8.1–§8.3).

:class:`AgentSnapshot` is the resolved agent of a session (overrides and updates applied): the
model, the system prompt and the ``tools`` entries. :meth:`AgentSnapshot.builtin_permission`
and :meth:`AgentSnapshot.mcp_permission` evaluate the toolsets: a tool's effective policy is
its ``configs`` entry's ``permission_policy``, else ``default_config``'s, else
``always_allow``; ``always_ask`` evaluates to ``"ask"``, ``always_allow`` to ``"allow"`` and any
other policy type to ``"ask"`` (the cautious reading).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from qoder.testing._resources import AgentRecord

__all__ = [
    "BUILTIN_TOOLS",
    "TOOLSET_TYPE",
    "AgentSnapshot",
    "Permission",
    "wire_tool_name",
]

TOOLSET_TYPE = "agent_toolset_20260401"
"""The ``type`` of the built-in toolset entry of an agent's ``tools``."""

MCP_TOOLSET_TYPE = "mcp_toolset"

BUILTIN_TOOLS = ("bash", "edit", "read", "write", "glob", "grep", "web_fetch", "web_search")
"""The built-in tools, by their wire names."""

_SDK_NAMES = {
    "Bash": "bash",
    "Edit": "edit",
    "Read": "read",
    "Write": "write",
    "Glob": "glob",
    "Grep": "grep",
    "WebFetch": "web_fetch",
    "WebSearch": "web_search",
}

Permission = Literal["allow", "ask"]
"""What a tool use evaluates to: run it at once, or ask the client first."""


def wire_tool_name(name: str) -> str:
    """The wire name of a built-in tool: the official SDK's ``WebFetch`` is ``web_fetch`` (§8.3)."""
    return _SDK_NAMES.get(name, name)


def _names(value: Any) -> frozenset[str] | None:
    if not isinstance(value, list):
        return None
    return frozenset(wire_tool_name(item) for item in value if isinstance(item, str))


def _policy(config: Any) -> Permission | None:
    """The permission a config's ``permission_policy`` gives, ``None`` when it names none."""
    if not isinstance(config, Mapping):
        return None
    policy = config.get("permission_policy")
    if not isinstance(policy, Mapping) or not isinstance(policy.get("type"), str):
        return None
    return "allow" if policy["type"] == "always_allow" else "ask"


def _config_for(entry: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    configs = entry.get("configs")
    if not isinstance(configs, list):
        return None
    for config in configs:
        if isinstance(config, Mapping) and wire_tool_name(str(config.get("name"))) == name:
            return config
    return None


def _evaluate(entry: Mapping[str, Any], name: str) -> Permission | None:
    """The permission of tool ``name`` under one toolset entry (``None``: the tool is off)."""
    enabled = _names(entry.get("enabled_tools"))
    if enabled is not None and name not in enabled:
        return None
    if name in (_names(entry.get("disallowed_tools")) or ()):
        return None
    config = _config_for(entry, name)
    default = entry.get("default_config")
    default = default if isinstance(default, Mapping) else {}
    switch = config.get("enabled") if config is not None else default.get("enabled")
    if switch is False:
        return None
    return _policy(config) or _policy(default) or "allow"


@dataclass(frozen=True)
class AgentSnapshot:
    """The agent of a session as a turn sees it (docs/protocol.md §8.1, §8.2).

    ``model`` is the model id (the scripted agent's default when the agent names none);
    ``tools``, ``mcp_servers`` and ``skills`` are the entries as given on the wire.
    """

    id: str = ""
    version: int = 1
    model: str = "ultimate"
    system: str | None = None
    tools: tuple[Mapping[str, Any], ...] = ()
    mcp_servers: tuple[Mapping[str, Any], ...] = ()
    skills: tuple[Any, ...] = ()

    @classmethod
    def of(cls, record: AgentRecord, default_model: str) -> AgentSnapshot:
        """The snapshot of a stored agent; ``default_model`` when the agent names no model."""
        return cls(
            id=record.id,
            version=record.version,
            model=record.model_name or default_model,
            system=record.system,
            tools=_entries(record.tools),
            mcp_servers=_entries(record.mcp_servers),
            skills=tuple(record.skills),
        )

    @property
    def custom_tools(self) -> tuple[Mapping[str, Any], ...]:
        """The ``{"type": "custom", "name", …}`` entries: tools the client runs."""
        return tuple(
            tool
            for tool in self.tools
            if tool.get("type") == "custom" and isinstance(tool.get("name"), str)
        )

    def _toolsets(self, kind: str) -> list[Mapping[str, Any]]:
        return [tool for tool in self.tools if tool.get("type") == kind]

    @property
    def has_builtin_toolset(self) -> bool:
        """Whether any ``agent_toolset_20260401`` entry is present."""
        return bool(self._toolsets(TOOLSET_TYPE))

    def builtin_permission(self, name: str) -> Permission | None:
        """The permission of built-in tool ``name`` (``Bash`` or ``bash``); ``None`` when no
        toolset entry turns it on (the first entry that does decides)."""
        wire = wire_tool_name(name)
        if wire not in BUILTIN_TOOLS:
            return None
        for entry in self._toolsets(TOOLSET_TYPE):
            permission = _evaluate(entry, wire)
            if permission is not None:
                return permission
        return None

    def has_mcp_toolset(self, server: str) -> bool:
        """Whether an ``mcp_toolset`` entry names MCP server ``server``."""
        return any(
            entry.get("mcp_server_name") == server for entry in self._toolsets(MCP_TOOLSET_TYPE)
        )

    def mcp_permission(self, server: str, name: str) -> Permission | None:
        """The permission of tool ``name`` of MCP server ``server``; ``None`` when no
        ``mcp_toolset`` entry for that server turns it on."""
        for entry in self._toolsets(MCP_TOOLSET_TYPE):
            if entry.get("mcp_server_name") == server:
                permission = _evaluate(entry, name)
                if permission is not None:
                    return permission
        return None


def _entries(items: Sequence[Any]) -> tuple[Mapping[str, Any], ...]:
    return tuple(item for item in items if isinstance(item, Mapping))
