"""Rendering one turn for the terminal chat: text as it streams, tool calls, the outcome.

The text of a message streams from its partial events (``content_block_delta`` with a
``text_delta``, the official shape); the final message then only ends its line. Tool calls,
their results, session notices and a failed turn's reason get a line each.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from ._protocol.blocks import TextBlock, ThinkingBlock, ToolResultBlock, ToolUseBlock
from ._protocol.messages import (
    AssistantMessage,
    Message,
    ResultMessage,
    StreamEvent,
    SystemMessage,
    UserMessage,
)

__all__ = ["render_turn"]


def render_turn(messages: Iterable[Message], out: TextIO) -> ResultMessage | None:
    """Write a turn's messages as they come; previews stream text, finals fill in the rest."""
    streamed: set[str] = set()
    result: ResultMessage | None = None
    for message in messages:
        if isinstance(message, StreamEvent):
            _render_preview(message, streamed, out)
        elif isinstance(message, AssistantMessage):
            _render_assistant(message, streamed, out)
        elif isinstance(message, UserMessage):
            _render_tool_results(message, out)
        elif isinstance(message, SystemMessage):
            out.write(f"  [{message.subtype}]\n")
        elif isinstance(message, ResultMessage):
            result = message
            _render_outcome(message, out)
        out.flush()
    return result


def _render_preview(message: StreamEvent, streamed: set[str], out: TextIO) -> None:
    """Stream a text delta, opening the ``agent>`` line on the message's first one."""
    event = message.event
    if event.get("type") == "content_block_start":
        block = event.get("content_block")
        if isinstance(block, dict) and block.get("type") == "thinking":
            out.write("  [thinking]\n")  # the agent is at work; its text comes later
            streamed.add(f"thinking:{message.uuid}")
        return
    text = _delta_text(message)
    if not text:
        return
    if message.uuid not in streamed:
        out.write("agent> ")
        streamed.add(message.uuid)
    out.write(text)
    out.flush()


def _render_assistant(message: AssistantMessage, streamed: set[str], out: TextIO) -> None:
    """Write a final message's blocks; text already streamed as a preview only ends its line."""
    for block in message.content:
        if isinstance(block, TextBlock):
            if message.uuid in streamed:
                out.write("\n")
            else:
                out.write(f"agent> {block.text}\n")
        elif isinstance(block, ToolUseBlock):
            out.write(f"  [tool {block.name} {block.input}]\n")
        elif isinstance(block, ThinkingBlock):
            if block.thinking:
                out.write(f"  [thinking] {block.thinking}\n")
            elif f"thinking:{message.uuid}" not in streamed:
                out.write("  [thinking]\n")


def _render_tool_results(message: UserMessage, out: TextIO) -> None:
    """One status line per tool result the message carries (a plain-text prompt shows none)."""
    if isinstance(message.content, str):
        return
    for item in message.content:
        if isinstance(item, ToolResultBlock):
            status = "error" if item.is_error else "ok"
            out.write(f"  [tool result: {status}]\n")


def _render_outcome(message: ResultMessage, out: TextIO) -> None:
    """Say why a turn failed, or that it was interrupted; a plain success needs no line."""
    if message.is_error:
        out.write(f"  [turn failed: {'; '.join(message.errors) or message.subtype}]\n")
    elif message.terminal_reason == "interrupted":
        out.write("  [interrupted]\n")


def _delta_text(message: StreamEvent) -> str:
    event = message.event
    if event.get("type") != "content_block_delta":
        return ""
    delta = event.get("delta")
    text = delta.get("text") if isinstance(delta, dict) else None
    return text if isinstance(text, str) else ""
