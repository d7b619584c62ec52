"""Rendering one turn for the terminal chat: text as it streams, tool calls, the outcome."""

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
            text = _delta_text(message)
            if text:
                if message.uuid not in streamed:
                    out.write("agent> ")
                    streamed.add(message.uuid)
                out.write(text)
                out.flush()
        elif isinstance(message, AssistantMessage):
            for block in message.content:
                if isinstance(block, TextBlock):
                    if message.uuid in streamed:
                        out.write("\n")
                    else:
                        out.write(f"agent> {block.text}\n")
                elif isinstance(block, ToolUseBlock):
                    out.write(f"  [tool {block.name} {block.input}]\n")
                elif isinstance(block, ThinkingBlock) and block.thinking:
                    out.write(f"  [thinking] {block.thinking}\n")
        elif isinstance(message, UserMessage) and not isinstance(message.content, str):
            for item in message.content:
                if isinstance(item, ToolResultBlock):
                    status = "error" if item.is_error else "ok"
                    out.write(f"  [tool result: {status}]\n")
        elif isinstance(message, SystemMessage):
            out.write(f"  [{message.subtype}]\n")
        elif isinstance(message, ResultMessage):
            result = message
            if message.is_error:
                out.write(f"  [turn failed: {'; '.join(message.errors) or message.subtype}]\n")
        out.flush()
    return result


def _delta_text(message: StreamEvent) -> str:
    event = message.event
    if event.get("type") != "event_delta":
        return ""
    delta = event.get("delta")
    content = delta.get("content") if isinstance(delta, dict) else None
    text = content.get("text") if isinstance(content, dict) else None
    return text if isinstance(text, str) else ""
