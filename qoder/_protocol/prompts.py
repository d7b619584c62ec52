"""What ``query()`` accepts as a prompt, made into the content of one ``user.message`` (§4.1).

A string; content blocks (:mod:`.blocks` objects or their JSON); or, as the official SDK's
streaming input, the stream-json user messages ``{"type": "user", "message": {"role":
"user", "content": ...}}`` (their ``content`` a string or blocks). Cloud Agents takes one
``user.message`` per turn, so such messages become one turn: their contents in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .errors import UnsupportedFeatureError

__all__ = ["check_query_options", "prompt_content"]


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


_QUERY_DEFAULTS: dict[str, Any] = {
    "priority": "next",
    "message_uuid": None,
    "should_query": True,
    "custom_context": None,
}
_QUERY_REASONS = {
    "priority": "Cloud Agents runs one turn at a time, in order",
    "message_uuid": "Cloud Agents takes no queued asynchronous messages to cancel later",
    "should_query": "every user.message starts a turn on Cloud Agents",
    "custom_context": "pass the context in the prompt, or system_prompt= in the options",
}


def check_query_options(options: Mapping[str, Any]) -> None:
    """The official ``query()``'s keyword arguments: their defaults are accepted, anything
    else is refused with the reason; an unknown keyword is a ``TypeError`` as usual."""
    for name, value in options.items():
        if name not in _QUERY_DEFAULTS:
            raise TypeError(f"query() got an unexpected keyword argument {name!r}")
        if value != _QUERY_DEFAULTS[name]:
            raise UnsupportedFeatureError(
                f"query({name}={value!r}) is not available: {_QUERY_REASONS[name]}."
            )
