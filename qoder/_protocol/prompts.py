"""What ``query()`` accepts as a prompt, made into the content of one ``user.message`` (§4.1).

A string; content blocks (:mod:`.blocks` objects or their JSON); or, as the official SDK's
streaming input, the stream-json user messages ``{"type": "user", "message": {"role":
"user", "content": ...}}`` (their ``content`` a string or blocks). Cloud Agents takes one
``user.message`` per turn, so such messages become one turn: their contents in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["prompt_content"]


def _is_stream_message(item: Any) -> bool:
    return isinstance(item, Mapping) and item.get("type") == "user" and "message" in item


def _message_content(item: Mapping[str, Any]) -> list[Any]:
    message = item.get("message")
    if not isinstance(message, Mapping):
        raise TypeError(
            "a stream-json user message needs a 'message' object: "
            '{"type": "user", "message": {"role": "user", "content": "..."}}'
        )
    role = message.get("role", "user")
    if role != "user":
        raise ValueError(f"query() sends user messages only, not role {role!r}")
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return list(content)
    raise TypeError("a stream-json user message's content must be a string or a list of blocks")


def prompt_content(prompt: str | Iterable[Any]) -> str | list[Any]:
    """The ``user.message`` content for ``prompt``; a clear ``TypeError`` for anything else."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, (bytes, bytearray, Mapping)) or not isinstance(prompt, Iterable):
        raise TypeError(
            "query() takes a string, a list of content blocks, or an iterable of stream-json "
            f'user messages ({{"type": "user", "message": {{...}}}}), not {type(prompt).__name__}'
        )
    items = list(prompt)
    if not items:
        raise ValueError("query() needs a non-empty prompt")
    if not any(_is_stream_message(item) for item in items):
        return items
    content: list[Any] = []
    for item in items:
        if not _is_stream_message(item):
            raise TypeError(
                "query() got stream-json user messages mixed with other items; send either "
                "content blocks or messages"
            )
        content.extend(_message_content(item))
    return content
