"""Server-sent-event frames the emulator writes (docs/protocol.md §3.11, §4.20, §5)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from qoder.testing._wire import dumps

__all__ = [
    "HEARTBEAT",
    "OPENING_COMMENT",
    "error_frame",
    "event_frame",
    "frame",
    "malformed_frame",
    "partial_frame",
    "preview_frames",
    "reshape",
    "unknown_event_frame",
]

OPENING_COMMENT = b": ok\n\n"
"""A comment sent first on every stream, as the real service does (Appendix A)."""

HEARTBEAT = b"event: heartbeat\ndata: {}\n\n"
"""The keep-alive frame: no ``id:`` line, so it never moves a client's cursor."""


def frame(name: str, data: str, event_id: str | None = None) -> bytes:
    """One SSE frame: optional ``id:``, ``event:``, one ``data:`` line, blank line."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {data}\n\n".encode()


def event_frame(event: dict[str, Any]) -> bytes:
    """The frame of a persisted event: ``id``, ``event`` = its type, ``data`` = compact JSON."""
    return frame(event["type"], dumps(event), event["id"])


def _text_chunks(text: str, size: int = 3) -> list[str]:
    """Split ``text`` into fragments of ``size`` words (keeping the spaces), never empty."""
    words = text.split(" ")
    chunks = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    with_spaces = [chunk + " " for chunk in chunks[:-1]] + chunks[-1:]
    return [chunk for chunk in with_spaces if chunk] or [text]


def preview_frames(event: dict[str, Any]) -> list[bytes]:
    """The ``event_start`` / ``event_delta`` previews of an ``agent.message`` or ``agent.thinking``.

    Thinking previews are start-only; message previews carry the text in a few deltas per block.
    """
    start = {"type": "event_start", "event": {"type": event["type"], "id": event["id"]}}
    frames = [frame("event_start", dumps(start))]
    if event["type"] != "agent.message":
        return frames
    content = event.get("content")
    blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
    for index, block in enumerate(blocks):
        if not isinstance(block, dict) or block.get("type") != "text":
            continue
        for chunk in _text_chunks(str(block.get("text", ""))):
            delta = {
                "type": "event_delta",
                "event_id": event["id"],
                "delta": {
                    "type": "content_delta",
                    "index": index,
                    "content": {"type": "text", "text": chunk},
                },
            }
            frames.append(frame("event_delta", dumps(delta)))
    return frames


def partial_frame(whole: bytes) -> bytes:
    """The first half of a frame, never including its closing blank line (a cut connection)."""
    body = whole.rstrip(b"\n")
    return body[: max(1, len(body) // 2)]


def malformed_frame() -> bytes:
    """A frame whose data is not valid JSON (no ``id:``)."""
    return b'event: agent.message\ndata: {"type":"agent.message","content":[{"type":"te\n\n'


def unknown_event_frame() -> bytes:
    """A frame of an event type no client knows (no ``id:``)."""
    data = {"type": "agent.hologram", "note": "an event type injected by the emulator"}
    return frame("agent.hologram", dumps(data))


def error_frame(message: str = "Stream interrupted (fault injected by the emulator).") -> bytes:
    """An in-band ``event: error`` frame: a stream failure, not a ``session.error``."""
    data = {"type": "error", "error": {"type": "overloaded_error", "message": message}}
    return frame("error", dumps(data))


def reshape(chunks: Iterable[bytes], *, crlf: bool, chunk_size: int | None) -> list[bytes]:
    """Apply the line-ending and chunking faults to outgoing bytes."""
    out: list[bytes] = []
    for chunk in chunks:
        if crlf:
            chunk = chunk.replace(b"\n", b"\r\n")
        if chunk_size is None or chunk_size <= 0:
            out.append(chunk)
        else:
            out.extend(chunk[i : i + chunk_size] for i in range(0, len(chunk), chunk_size))
    return out
