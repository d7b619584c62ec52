"""Applying the session's toolsets to a tool use (docs/protocol.md §8.3).

A :class:`~qoder.testing.ToolUse` with an explicit ``permission`` plays as written. One without
(``permission=None``) is evaluated against the session's agent when the agent reaches it: a tool
the toolset turns on gets its policy (``"ask"`` or ``"allow"``), a tool the toolset leaves off is
not called (the agent says so instead), and with no toolset entry of its kind at all a scripted
call is allowed, since the script names the tool on purpose.
"""

from __future__ import annotations

from dataclasses import replace

from qoder.testing._script import Reply, ToolUse
from qoder.testing._snapshot import AgentSnapshot, Permission

__all__ = ["refusal", "resolve_tool_use", "tool_permission"]


def _label(step: ToolUse) -> str:
    if step.mcp_server_name is None:
        return f"the {step.name} tool"
    return f"the {step.name} tool of the {step.mcp_server_name} MCP server"


def refusal(step: ToolUse, agent: AgentSnapshot) -> str:
    """What the agent says instead of calling a tool that is not available to it."""
    has_toolset = (
        agent.has_builtin_toolset
        if step.mcp_server_name is None
        else agent.has_mcp_toolset(step.mcp_server_name)
    )
    if has_toolset:
        return f"I cannot use {_label(step)}: it is not enabled for this session."
    if step.mcp_server_name is None:
        return f"I cannot use {_label(step)}: this agent has no built-in tools."
    return f"I cannot use {_label(step)}: this agent has no toolset for that server."


def tool_permission(step: ToolUse, agent: AgentSnapshot) -> Permission | None:
    """The evaluated permission of ``step`` under ``agent``'s toolsets (``None``: off)."""
    if step.mcp_server_name is not None:
        return agent.mcp_permission(step.mcp_server_name, step.name)
    return agent.builtin_permission(step.name)


def resolve_tool_use(step: ToolUse, agent: AgentSnapshot) -> ToolUse | Reply:
    """``step`` with its permission settled, or the :class:`Reply` refusing the call."""
    if step.permission is not None:
        return step
    server = step.mcp_server_name
    has_toolset = agent.has_builtin_toolset if server is None else agent.has_mcp_toolset(server)
    if not has_toolset:
        return replace(step, permission="allow")
    permission = tool_permission(step, agent)
    if permission is None:
        return Reply(refusal(step, agent))
    return replace(step, permission=permission)
