"""Tool results both ways: a ``@tool`` handler's value as an MCP ``CallToolResult``, and an
MCP result as the ``{"content": [...], "is_error": bool}`` the client posts (§4.4).

A wire block MCP has no type for (a document, a search result) travels as a text item whose
``_meta`` holds the block, and comes back as it was.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import mcp.types as types

from .._protocol import requests as rq
from .._protocol.answers import result_content

__all__ = ["error_result", "from_call_result", "to_call_result"]

BLOCK_META: Final = "qoder/block"
"""The ``_meta`` key of a text item that carries a wire block MCP cannot express."""


def error_result(text: str) -> types.CallToolResult:
    """An ``isError`` result holding one text item."""
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], isError=True)


def to_call_result(value: Any) -> types.CallToolResult:
    """A handler's return value (a string, content blocks, ``ToolResult`` or the official
    ``{"content": [...], "is_error"?}``) as an MCP result; raises ``TypeError`` /
    ``ValueError`` for a value that cannot be sent."""
    content, is_error = result_content(value)
    wire = rq.custom_tool_result("", content).get("content", [])
    return types.CallToolResult(content=[_to_mcp(block) for block in wire], isError=is_error)


def _to_mcp(block: Mapping[str, Any]) -> types.ContentBlock:
    kind = block.get("type")
    if kind == "text" and isinstance(block.get("text"), str) and len(block) == 2:
        return types.TextContent(type="text", text=block["text"])
    source = block.get("source")
    if kind == "image" and isinstance(source, Mapping) and source.get("type") == "base64":
        return types.ImageContent(type="image", data=source["data"], mimeType=source["media_type"])
    return types.TextContent.model_validate(
        {"type": "text", "text": json.dumps(block), "_meta": {BLOCK_META: dict(block)}}
    )


def from_call_result(result: types.CallToolResult) -> dict[str, Any]:
    """An MCP result as the client posts it: wire content blocks and the error flag. A
    result with only ``structuredContent`` is sent as its JSON text."""
    content = [_to_wire(item) for item in result.content]
    if not content and result.structuredContent is not None:
        content = [{"type": "text", "text": json.dumps(result.structuredContent)}]
    return {"content": content, "is_error": bool(result.isError)}


def _to_wire(item: types.ContentBlock) -> dict[str, Any]:
    meta = item.meta or {}
    if isinstance(item, types.TextContent):
        carried = meta.get(BLOCK_META)
        if isinstance(carried, Mapping):
            return dict(carried)
        return {"type": "text", "text": item.text}
    if isinstance(item, types.ImageContent):
        source = {"type": "base64", "media_type": item.mimeType, "data": item.data}
        return {"type": "image", "source": source}
    if isinstance(item, types.EmbeddedResource) and isinstance(
        item.resource, types.TextResourceContents
    ):
        return {"type": "text", "text": item.resource.text}
    return {"type": "text", "text": item.model_dump_json(by_alias=True, exclude_none=True)}
