"""Preview frames (§4.20) as the official SDK's partial-message events.

With ``include_partial_messages=True`` the official SDK yields :class:`~.messages.StreamEvent`
whose ``event`` is a model streaming event: ``message_start``, then per content block
``content_block_start``, ``content_block_delta`` (a ``text_delta`` or ``thinking_delta``) and
``content_block_stop``, then ``message_stop``. Cloud Agents streams previews instead:
``event_start`` names the event to come, ``event_delta`` appends a text fragment to block
``index``; the final event with the same id replaces the preview, and
``span.model_request_end`` closes one left unfinished. :class:`PartialMessages` translates
one into the other, so that ported streaming code works; each ``StreamEvent`` also keeps the
wire frame it came from as ``preview`` (``None`` for the stop events, which no frame marks).
"""

from __future__ import annotations

from typing import Any

from . import events as e

__all__ = ["Pairs", "PartialMessages"]

Pairs = list[tuple[dict[str, Any], dict[str, Any] | None]]
"""Partial events, each with the wire frame it came from (``None`` for a synthetic one)."""

_BLOCK = {"text": ("text", "text_delta"), "thinking": ("thinking", "thinking_delta")}


class _Preview:
    __slots__ = ("blocks", "kind")

    def __init__(self, kind: str) -> None:
        self.kind = kind  # "text" or "thinking"
        self.blocks: list[int] = []  # started block indexes, in order


class PartialMessages:
    """The previews of one turn still open, and their translation (see the module)."""

    def __init__(self) -> None:
        self._open: dict[str, _Preview] = {}

    def start(self, event: e.EventStart) -> Pairs:
        """``event_start``: ``message_start`` (and, for thinking, its block's start)."""
        event_id = event.event_id or ""
        if event_id in self._open:
            return []
        kind = "thinking" if event.event_type == e.AgentThinking.type else "text"
        preview = self._open[event_id] = _Preview(kind)
        message = {"id": event_id, "type": "message", "role": "assistant", "content": []}
        out: Pairs = [({"type": "message_start", "message": message}, event.raw)]
        if kind == "thinking":
            out.append((self._block_start(preview, 0), None))
        return out

    def delta(self, event: e.EventDelta) -> Pairs:
        """``event_delta``: the block's start the first time, then its ``*_delta``."""
        event_id = event.event_id or ""
        preview = self._open.get(event_id)
        out: Pairs = []
        if preview is None:  # a delta whose start was missed: open it now
            preview = self._open[event_id] = _Preview("text")
            message = {"id": event_id, "type": "message", "role": "assistant", "content": []}
            out.append(({"type": "message_start", "message": message}, None))
        index = event.index
        if index not in preview.blocks:
            out.append((self._block_start(preview, index), None))
        field, delta_type = _BLOCK[preview.kind]
        text = event.content.text if event.content is not None else ""
        delta = {"type": delta_type, field: text}
        out.append(({"type": "content_block_delta", "index": index, "delta": delta}, event.raw))
        return out

    def finish(self, event_id: str | None) -> Pairs:
        """The final event ``event_id`` arrived: stop its blocks and message."""
        preview = self._open.pop(event_id or "", None)
        return self._stop(preview) if preview is not None else []

    def finish_all(self) -> Pairs:
        """A model request ended: stop every preview still open."""
        out: Pairs = []
        for preview in self._open.values():
            out += self._stop(preview)
        self._open.clear()
        return out

    @staticmethod
    def _block_start(preview: _Preview, index: int) -> dict[str, Any]:
        preview.blocks.append(index)
        field, _ = _BLOCK[preview.kind]
        block = {"type": preview.kind, field: ""}
        return {"type": "content_block_start", "index": index, "content_block": block}

    @staticmethod
    def _stop(preview: _Preview) -> Pairs:
        out: Pairs = [
            ({"type": "content_block_stop", "index": index}, None) for index in preview.blocks
        ]
        out.append(({"type": "message_stop"}, None))
        return out
