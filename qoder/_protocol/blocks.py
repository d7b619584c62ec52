"""Content blocks: the typed pieces of a message's ``content`` (docs/protocol.md §4.22).

The same frozen classes serve the wire events and the messages users read, so a text block
decoded from the stream is handed to the user as it is, without a copy. Blocks the protocol does
not name become :class:`UnknownBlock` and keep their raw dict; they never raise.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

__all__ = [
    "ContentBlock",
    "DocumentBlock",
    "ImageBlock",
    "RedactedBlock",
    "SearchResultBlock",
    "TextBlock",
    "ThinkingBlock",
    "ToolResultBlock",
    "ToolUseBlock",
    "UnknownBlock",
]


@attrs.frozen
class TextBlock:
    """Plain text, the only block that counts towards a turn's ``result``."""

    type: ClassVar[str] = "text"
    text: str


@attrs.frozen
class ImageBlock:
    """An image; ``source`` is the wire's source object (base64, url or file)."""

    type: ClassVar[str] = "image"
    source: dict[str, Any]


@attrs.frozen
class DocumentBlock:
    """A document (PDF or plain text); ``source`` as on the wire."""

    type: ClassVar[str] = "document"
    source: dict[str, Any]
    title: str | None = None
    context: str | None = None


@attrs.frozen
class RedactedBlock:
    """Content the server withheld; it contributes no text."""

    type: ClassVar[str] = "redacted"


@attrs.frozen
class SearchResultBlock:
    """A search result inside a tool result; ``source`` is a URL string."""

    type: ClassVar[str] = "search_result"
    source: str
    title: str | None = None
    content: tuple[TextBlock, ...] = ()
    citations: dict[str, Any] | None = None


@attrs.frozen
class UnknownBlock:
    """A block type this client does not know; kept whole in ``raw``."""

    type: str
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen
class ThinkingBlock:
    """The agent's thinking, surfaced from an ``agent.thinking`` event.

    The wire has no thinking block; this one exists for parity with the official SDK's messages.
    ``thinking`` is empty when the server sent a bare progress signal.
    """

    type: ClassVar[str] = "thinking"
    thinking: str
    signature: str = ""


@attrs.frozen
class ToolUseBlock:
    """A tool call by the agent: built-in (``agent.tool_use``), MCP or custom.

    ``id`` is the id of the event that carried the call: the id to answer with a tool result or
    a confirmation. ``kind`` is ``"builtin"``, ``"mcp"`` or ``"custom"``.
    """

    type: ClassVar[str] = "tool_use"
    id: str
    name: str
    input: dict[str, Any]
    kind: str = "builtin"
    server_name: str | None = None
    evaluated_permission: str | None = None


@attrs.frozen
class ToolResultBlock:
    """The output of a tool call, matched to its call by ``tool_use_id``."""

    type: ClassVar[str] = "tool_result"
    tool_use_id: str
    content: tuple[ContentBlock, ...] | str | None = None
    is_error: bool | None = None


ContentBlock = (
    TextBlock
    | ImageBlock
    | DocumentBlock
    | RedactedBlock
    | SearchResultBlock
    | ThinkingBlock
    | ToolUseBlock
    | ToolResultBlock
    | UnknownBlock
)
"""Any block a message's content may hold."""
