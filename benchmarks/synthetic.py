"""A deterministic synthetic ``text/event-stream`` body of realistic session events.

The mix follows a busy session: about 70% ``agent.message`` (5-60 words of text), the rest
thinking signals, model-request spans (the end carrying ``model_usage``), tool calls with their
results, and running/idle status changes. Every event carries the full envelope the service
sends (docs/protocol.md §4.0) and is framed as in §3.11: ``id:``, ``event:``, one compact ``data:``
line, blank line. The same seed always yields the same bytes.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from typing import Any, Final

import attrs

__all__ = ["SyntheticStream", "build_stream", "chunked"]

DEFAULT_SEED: Final = 20240601

# Plain prose, with about 1% non-ASCII words (accents, CJK, symbols) as real model output has.
_ASCII_WORDS: Final = [
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "is",
    "that",
    "for",
    "it",
    "as",
    "with",
    "was",
    "on",
    "be",
    "by",
    "this",
    "are",
    "from",
    "at",
    "or",
    "an",
    "have",
    "not",
    "function",
    "value",
    "return",
    "file",
    "error",
    "test",
    "build",
    "run",
    "output",
    "result",
    "data",
    "stream",
    "event",
    "client",
    "server",
    "request",
    "response",
    "session",
    "agent",
    "model",
    "token",
    "cache",
    "retry",
    "timeout",
    "config",
    "module",
    "class",
    "method",
    "string",
    "number",
    "list",
    "object",
    "field",
    "type",
    "check",
    "update",
    "install",
    "import",
    "python",
    "bash",
    "shell",
    "directory",
    "path",
    "line",
    "change",
    "commit",
    "branch",
    "merge",
    "review",
    "fix",
    "bug",
    "issue",
    "patch",
    "version",
    "release",
]
_OTHER_WORDS: Final = ["café", "naïve", "résumé", "über", "straße", "東京", "✓", "→"]
_WORDS: Final = (*_ASCII_WORDS, *_OTHER_WORDS)
_WEIGHTS: Final = tuple(
    itertools.accumulate(
        [1.0] * len(_ASCII_WORDS)
        + [0.01 * len(_ASCII_WORDS) / len(_OTHER_WORDS)] * len(_OTHER_WORDS)
    )
)
_TOOLS: Final = ("bash", "read", "edit", "grep", "glob", "web_fetch")
_MODELS: Final = ("ultimate", "performance", "efficient")


@attrs.frozen
class SyntheticStream:
    """The stream body and what it holds."""

    body: bytes
    events: int
    counts: dict[str, int]


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.session_id = f"sess_{self.rng.getrandbits(128):032x}"
        self.turn = 0
        self.turn_id = ""
        self.ns = 1_717_243_200 * 10**9  # 2024-06-01T12:00:00Z, advanced per event

    def new_id(self) -> str:
        return f"evt_{self.rng.getrandbits(128):032x}"

    def timestamp(self) -> str:
        self.ns += self.rng.randrange(200_000, 90_000_000)
        seconds, nanos = divmod(self.ns, 10**9)
        minutes, second = divmod(seconds, 60)
        hours, minute = divmod(minutes, 60)
        hour = hours % 24
        return f"2024-06-01T{hour:02d}:{minute:02d}:{second:02d}.{nanos:09d}Z"

    def words(self, low: int, high: int) -> str:
        return " ".join(
            self.rng.choices(_WORDS, cum_weights=_WEIGHTS, k=self.rng.randint(low, high))
        )

    def event(self, type_: str, **fields: Any) -> dict[str, Any]:
        now = self.timestamp()
        event: dict[str, Any] = {"id": self.new_id(), "type": type_}
        event.update(fields)
        event["session_id"] = self.session_id
        event["turn_id"] = self.turn_id
        event["created_at"] = now
        event["processed_at"] = now
        event["schema_version"] = "1.0"
        return event

    def usage(self) -> dict[str, Any]:
        rng = self.rng
        return {
            "input_tokens": rng.randint(200, 60_000),
            "output_tokens": rng.randint(1, 4_000),
            "cache_creation_input_tokens": rng.randint(0, 2_000),
            "cache_read_input_tokens": rng.randint(0, 50_000),
            "speed": rng.choice(("standard", "fast")),
            "credits": round(rng.uniform(0.001, 2.5), 4),
        }

    def turn_events(self) -> list[dict[str, Any]]:
        """One turn: running, then model requests (thinking, messages, tools), then idle."""
        rng = self.rng
        self.turn += 1
        self.turn_id = f"turn_{self.turn:032x}"
        out = [self.event("session.status_running")]
        for _ in range(rng.randint(1, 3)):
            model = rng.choice(_MODELS)
            start = self.event("span.model_request_start", model=model)
            out.append(start)
            if rng.random() < 0.5:
                out.append(self.event("agent.thinking"))
            for _ in range(rng.randint(6, 14)):
                text = self.words(5, 60)
                out.append(self.event("agent.message", content=[{"type": "text", "text": text}]))
            if rng.random() < 0.45:
                name = rng.choice(_TOOLS)
                use = self.event(
                    "agent.tool_use",
                    name=name,
                    input={"command": self.words(2, 8)} if name == "bash" else {"path": "src/x.py"},
                    evaluated_permission="allow",
                )
                out.append(use)
                out.append(
                    self.event(
                        "agent.tool_result",
                        tool_use_id=use["id"],
                        content=[{"type": "text", "text": self.words(1, 30)}],
                        is_error=rng.random() < 0.05,
                    )
                )
            out.append(
                self.event(
                    "span.model_request_end",
                    model_request_start_id=start["id"],
                    is_error=False,
                    model_usage=self.usage(),
                )
            )
        out.append(self.event("session.status_idle", stop_reason={"type": "end_turn"}))
        return out


def build_stream(events: int = 100_000, seed: int = DEFAULT_SEED) -> SyntheticStream:
    """Exactly ``events`` frames, whole turns except possibly the last."""
    builder = _Builder(seed)
    frames: list[str] = []
    counts: Counter[str] = Counter()
    while len(frames) < events:
        for event in builder.turn_events()[: events - len(frames)]:
            data = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
            frames.append(f"id: {event['id']}\nevent: {event['type']}\ndata: {data}\n\n")
            counts[event["type"]] += 1
    return SyntheticStream("".join(frames).encode("utf-8"), len(frames), dict(counts))


def chunked(body: bytes, size: int) -> list[bytes]:
    """``body`` cut into ``size``-byte chunks, as a transport would deliver it."""
    return [body[i : i + size] for i in range(0, len(body), size)]
