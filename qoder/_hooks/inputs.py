"""Building hook inputs for a cloud session: the official shapes, with ``transcript_path``
and ``cwd`` empty (both are on the server) and the tool's official name (``bash`` ->
``Bash``), so that code written for the official SDK reads what it expects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .matching import official_tool_name
from .types import (
    PostToolUseFailureHookInput,
    PostToolUseHookInput,
    PreToolUseHookInput,
    StopHookInput,
    UserPromptSubmitHookInput,
)

__all__ = [
    "post_tool_use_failure_input",
    "post_tool_use_input",
    "pre_tool_use_input",
    "stop_input",
    "user_prompt_submit_input",
]


def base_input(session_id: str, permission_mode: str | None, model: str | None) -> dict[str, Any]:
    base: dict[str, Any] = {"session_id": session_id, "transcript_path": "", "cwd": ""}
    if permission_mode is not None:
        base["permission_mode"] = permission_mode
    if model is not None:
        base["model"] = model
    return base


def pre_tool_use_input(
    session_id: str,
    tool_name: str,
    tool_input: Mapping[str, Any],
    tool_use_id: str,
    *,
    permission_mode: str | None = None,
    model: str | None = None,
) -> PreToolUseHookInput:
    """The ``PreToolUse`` input for a call about to run (or awaiting a confirmation)."""
    value: PreToolUseHookInput = {
        **base_input(session_id, permission_mode, model),  # type: ignore[typeddict-item]
        "hook_event_name": "PreToolUse",
        "tool_name": official_tool_name(tool_name),
        "tool_input": dict(tool_input),
        "tool_use_id": tool_use_id,
    }
    return value


def post_tool_use_input(
    session_id: str,
    tool_name: str,
    tool_input: Mapping[str, Any],
    tool_use_id: str,
    tool_response: Any,
    *,
    duration_ms: int | None = None,
    permission_mode: str | None = None,
    model: str | None = None,
) -> PostToolUseHookInput:
    """The ``PostToolUse`` input once a call returned (``tool_response``: its result)."""
    value: PostToolUseHookInput = {
        **base_input(session_id, permission_mode, model),  # type: ignore[typeddict-item]
        "hook_event_name": "PostToolUse",
        "tool_name": official_tool_name(tool_name),
        "tool_input": dict(tool_input),
        "tool_response": tool_response,
        "tool_use_id": tool_use_id,
    }
    if duration_ms is not None:
        value["duration_ms"] = duration_ms
    return value


def post_tool_use_failure_input(
    session_id: str,
    tool_name: str,
    tool_input: Mapping[str, Any],
    tool_use_id: str,
    error: str,
    *,
    is_interrupt: bool | None = None,
    duration_ms: int | None = None,
    permission_mode: str | None = None,
    model: str | None = None,
) -> PostToolUseFailureHookInput:
    """The ``PostToolUseFailure`` input once a call failed (``error``: what was posted)."""
    value: PostToolUseFailureHookInput = {
        **base_input(session_id, permission_mode, model),  # type: ignore[typeddict-item]
        "hook_event_name": "PostToolUseFailure",
        "tool_name": official_tool_name(tool_name),
        "tool_input": dict(tool_input),
        "tool_use_id": tool_use_id,
        "error": error,
    }
    if is_interrupt is not None:
        value["is_interrupt"] = is_interrupt
    if duration_ms is not None:
        value["duration_ms"] = duration_ms
    return value


def user_prompt_submit_input(
    session_id: str, prompt: str, *, permission_mode: str | None = None, model: str | None = None
) -> UserPromptSubmitHookInput:
    """The ``UserPromptSubmit`` input for a prompt about to be sent."""
    value: UserPromptSubmitHookInput = {
        **base_input(session_id, permission_mode, model),  # type: ignore[typeddict-item]
        "hook_event_name": "UserPromptSubmit",
        "prompt": prompt,
    }
    return value


def stop_input(
    session_id: str,
    *,
    stop_hook_active: bool = False,
    last_assistant_message: str | None = None,
    permission_mode: str | None = None,
    model: str | None = None,
) -> StopHookInput:
    """The ``Stop`` input when a turn has ended."""
    value: StopHookInput = {
        **base_input(session_id, permission_mode, model),  # type: ignore[typeddict-item]
        "hook_event_name": "Stop",
        "stop_hook_active": stop_hook_active,
    }
    if last_assistant_message is not None:
        value["last_assistant_message"] = last_assistant_message
    return value
