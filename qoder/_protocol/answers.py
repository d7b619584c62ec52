"""The values a client answers a turn with: tool results and permission decisions.

Pure data and the rules that turn a handler's return value or a callback's decision into the
event params of §4.3 and §4.4; re-exported by :mod:`qoder.tools`, which adds the ``@tool``
decorator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .blocks import ContentBlock, TextBlock

__all__ = [
    "REWRITE_DENIED",
    "PermissionDecision",
    "PermissionResultAllow",
    "PermissionResultDeny",
    "ToolPermissionContext",
    "ToolResult",
    "decide",
    "describe_failure",
    "interrupts",
    "result_content",
    "rewrites_input",
]


@attrs.frozen
class PermissionResultAllow:
    """Let the tool call run.

    ``updated_input`` (the official SDK's rewrite of the input): a server-side tool cannot
    take another input (§4.3), so an allow whose ``updated_input`` differs from the call's
    input is sent as a denial saying why, never as an allow. ``updated_permissions`` and
    ``decision_classification`` are accepted; this wire has nowhere to send them.
    """

    behavior: str = "allow"
    updated_input: dict[str, Any] | None = attrs.field(default=None, kw_only=True)
    updated_permissions: list[Any] | None = attrs.field(default=None, kw_only=True)
    decision_classification: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class PermissionResultDeny:
    """Refuse the tool call; ``message`` is shown to the model. ``interrupt=True`` also
    interrupts the turn (a ``user.interrupt`` posted after the denial, §6.7).
    ``decision_classification`` is accepted and not sent."""

    message: str = ""
    behavior: str = "deny"
    interrupt: bool = attrs.field(default=False, kw_only=True)
    decision_classification: str | None = attrs.field(default=None, kw_only=True)


PermissionDecision = PermissionResultAllow | PermissionResultDeny


@attrs.frozen
class ToolPermissionContext:
    """What a ``can_use_tool`` callback knows about the call besides its name and input."""

    tool_use_id: str
    session_id: str
    kind: str = "builtin"
    server_name: str | None = None
    suggestions: tuple[Any, ...] = ()
    """The official SDK's permission-update suggestions: the server sends none (always
    empty)."""


@attrs.frozen
class ToolResult:
    """A tool's answer: text or content blocks, and whether it failed."""

    content: str | Sequence[ContentBlock | dict[str, Any]]
    is_error: bool = False


def describe_failure(tool_name: str, error: BaseException) -> str:
    """The text an agent sees when a tool handler raised."""
    return f"Tool {tool_name!r} failed: {type(error).__name__}: {error}"


def result_content(value: Any) -> tuple[tuple[ContentBlock | dict[str, Any], ...], bool]:
    """Normalise a handler's return value into content blocks and an error flag.

    A :class:`ToolResult`, the official SDK's ``{"content": [...], "is_error": bool}`` (its
    items dicts such as ``{"type": "text", "text": ...}``, posted as they are), a string,
    or a list of blocks and strings; anything else is sent as its ``str()``.
    """
    if isinstance(value, ToolResult):
        content: Any = value.content
        is_error = value.is_error
    elif isinstance(value, dict) and "content" in value:
        content = value["content"]
        is_error = value.get("is_error") is True
    else:
        content, is_error = value, False
    if content is None:
        return (), is_error
    if isinstance(content, str):
        return (TextBlock(content),), is_error
    if isinstance(content, (list, tuple)):
        return tuple(
            TextBlock(item) if isinstance(item, str) else item for item in content
        ), is_error
    return (TextBlock(str(content)),), is_error


def decide(
    decision: PermissionDecision | bool | None, tool_input: Mapping[str, Any] | None = None
) -> tuple[bool, str | None]:
    """A permission decision as (allow, deny message); anything but an allow denies.

    ``tool_input`` is the call's input: an allow that rewrites it (``updated_input``) is
    denied, with a message saying why, since the server runs the tool with its own input.
    """
    if decision is True:
        return True, None
    if isinstance(decision, PermissionResultAllow):
        if rewrites_input(decision, tool_input):
            return False, REWRITE_DENIED
        return True, None
    if isinstance(decision, PermissionResultDeny) and decision.message:
        return False, decision.message
    return False, None


REWRITE_DENIED = (
    "The permission check allowed this call only with a changed input, which a server-side "
    "tool cannot take; the call is denied instead. Call the tool again with the input wanted."
)
"""The deny message of an allow whose ``updated_input`` differs from the input."""


def rewrites_input(
    decision: PermissionDecision | bool | None, tool_input: Mapping[str, Any] | None
) -> bool:
    """Whether ``decision`` allows the call only with another input than ``tool_input``."""
    if not isinstance(decision, PermissionResultAllow) or decision.updated_input is None:
        return False
    return tool_input is None or dict(decision.updated_input) != dict(tool_input)


def interrupts(decision: PermissionDecision | bool | None) -> bool:
    """Whether ``decision`` is a denial that also interrupts the turn."""
    return isinstance(decision, PermissionResultDeny) and decision.interrupt
