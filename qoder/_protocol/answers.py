"""The values a client answers a turn with: tool results and permission decisions.

Pure data and the rules that turn a handler's return value or a callback's decision into the
event params of §4.3 and §4.4; re-exported by :mod:`qoder.tools`, which adds the ``@tool``
decorator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from .blocks import ContentBlock, TextBlock

__all__ = [
    "PermissionDecision",
    "PermissionResultAllow",
    "PermissionResultDeny",
    "ToolPermissionContext",
    "ToolResult",
    "decide",
    "describe_failure",
    "result_content",
]


@attrs.frozen
class PermissionResultAllow:
    """Let the tool call run."""

    behavior: str = "allow"


@attrs.frozen
class PermissionResultDeny:
    """Refuse the tool call; ``message`` is shown to the model."""

    message: str = ""
    behavior: str = "deny"


PermissionDecision = PermissionResultAllow | PermissionResultDeny


@attrs.frozen
class ToolPermissionContext:
    """What a ``can_use_tool`` callback knows about the call besides its name and input."""

    tool_use_id: str
    session_id: str
    kind: str = "builtin"
    server_name: str | None = None


@attrs.frozen
class ToolResult:
    """A tool's answer: text or content blocks, and whether it failed."""

    content: str | Sequence[ContentBlock | dict[str, Any]]
    is_error: bool = False


def describe_failure(tool_name: str, error: BaseException) -> str:
    """The text an agent sees when a tool handler raised."""
    return f"Tool {tool_name!r} failed: {type(error).__name__}: {error}"


def result_content(value: Any) -> tuple[tuple[ContentBlock | dict[str, Any], ...], bool]:
    """Normalise a handler's return value into content blocks and an error flag."""
    content: Any = value.content if isinstance(value, ToolResult) else value
    is_error = value.is_error if isinstance(value, ToolResult) else False
    if content is None:
        return (), is_error
    if isinstance(content, str):
        return (TextBlock(content),), is_error
    if isinstance(content, (list, tuple)):
        return tuple(
            TextBlock(item) if isinstance(item, str) else item for item in content
        ), is_error
    return (TextBlock(str(content)),), is_error


def decide(decision: PermissionDecision | bool | None) -> tuple[bool, str | None]:
    """A permission decision as (allow, deny message); anything but an allow denies."""
    if decision is True or isinstance(decision, PermissionResultAllow):
        return True, None
    if isinstance(decision, PermissionResultDeny) and decision.message:
        return False, decision.message
    return False, None
