"""Which tool confirmations the client answers by itself: ``allowed_tools``,
``disallowed_tools`` and ``permission_mode``, the official SDK's rules, before ``can_use_tool``.

A server-side tool whose policy is ``always_ask`` stops the turn until the client confirms it
(docs/protocol.md §4.3, §8.3). :class:`PermissionPolicy` decides, for one such call, whether
the client allows or denies it itself, or asks ``can_use_tool`` (``None``); with no callback
either, the turn ends with ``stop_reason="requires_action"`` for the caller to ``respond()``.

The order, first match wins: a tool in ``disallowed_tools`` is denied; one in
``allowed_tools`` is allowed; ``bypassPermissions`` (and its alias ``yolo``) allows
everything; ``acceptEdits`` allows the file-editing tools (``Edit``, ``Write``,
``MultiEdit``, ``NotebookEdit``); ``dontAsk`` denies what the rules above did not allow;
``default`` asks ``can_use_tool``. Names compare as the official SDK spells them (``Bash``) or
as the wire does (``bash``), and an MCP tool as ``mcp__<server>__<tool>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from .answers import PermissionResultAllow, PermissionResultDeny
from .errors import ConfigurationError

__all__ = [
    "BUILTIN_TOOLS",
    "PERMISSION_MODES",
    "PermissionPolicy",
    "canonical_tool_name",
    "check_permission_mode",
    "mcp_tool_name",
]

BUILTIN_TOOLS: Mapping[str, str] = {
    "Bash": "bash",
    "Edit": "edit",
    "Read": "read",
    "Write": "write",
    "Glob": "glob",
    "Grep": "grep",
    "WebFetch": "web_fetch",
    "WebSearch": "web_search",
}
"""The official SDK's names of the built-in tools and their wire names (§8.3)."""

PERMISSION_MODES = ("default", "acceptEdits", "bypassPermissions", "yolo", "dontAsk")
"""The permission modes Cloud Agents can honour (the official ``plan`` has no counterpart)."""

_EDIT_TOOLS = frozenset({"edit", "write", "multiedit", "multi_edit", "notebookedit"})
_ALLOW_ALL = frozenset({"bypassPermissions", "yolo"})


def canonical_tool_name(name: str) -> str:
    """The name rules compare: the wire name of a built-in tool, else ``name`` itself."""
    return BUILTIN_TOOLS.get(name, name)


def mcp_tool_name(server: str, tool: str) -> str:
    """The official name of tool ``tool`` of MCP server ``server``."""
    return f"mcp__{server}__{tool}"


def _canonical_set(names: Iterable[str]) -> frozenset[str]:
    return frozenset(canonical_tool_name(name) for name in names)


@attrs.frozen
class PermissionPolicy:
    """The client's own permission rules for one session (see the module docstring)."""

    mode: str = "default"
    allowed: frozenset[str] = attrs.field(default=frozenset(), converter=_canonical_set)
    disallowed: frozenset[str] = attrs.field(default=frozenset(), converter=_canonical_set)
    has_callback: bool = False

    def decide(self, tool_name: str) -> PermissionResultAllow | PermissionResultDeny | None:
        """The client's own decision about a call of ``tool_name``; ``None``: ask
        ``can_use_tool`` (or, without one, let the turn end on ``requires_action``)."""
        name = canonical_tool_name(tool_name)
        if name in self.disallowed:
            return PermissionResultDeny(message=f"{tool_name} is in disallowed_tools.")
        if name in self.allowed or self.mode in _ALLOW_ALL:
            return PermissionResultAllow()
        if self.mode == "acceptEdits" and name.lower() in _EDIT_TOOLS:
            return PermissionResultAllow()
        if self.mode == "dontAsk":
            return PermissionResultDeny(
                message=f"{tool_name} is not in allowed_tools and permission_mode is 'dontAsk'."
            )
        return None

    def answers(self, tool_name: str) -> bool:
        """Whether the client answers a confirmation of ``tool_name`` without the caller."""
        return self.has_callback or self.decide(tool_name) is not None


def check_permission_mode(mode: object) -> str:
    """``mode`` if Cloud Agents can honour it; a clear error for ``plan`` and unknown modes."""
    if mode == "plan":
        raise ConfigurationError(
            "permission_mode='plan' is not available: Cloud Agents has no plan mode. Ask the "
            "agent for a plan in the prompt, or use permission_mode='default' with can_use_tool."
        )
    if not isinstance(mode, str) or mode not in PERMISSION_MODES:
        raise ConfigurationError(
            f"permission_mode={mode!r} is not one of {', '.join(PERMISSION_MODES)}"
        )
    return mode
