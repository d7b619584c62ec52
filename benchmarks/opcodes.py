"""The Python work of a turn and of a message, counted in bytecode instructions.

Wall-clock figures on a shared machine move by tens of percent from run to run; the number of
Python bytecode instructions a client executes for the same turn barely moves. ``python
opcodes.py`` starts ``server.py`` and runs, each in a child process of its own, the overhead
benchmark's runners (``latency.CHILDREN``: the same warm-up, the same conversation) with every
instruction of their measured part counted (``sys.settrace`` with ``f_trace_opcodes``), put in
profile_turn's buckets by the file its code comes from:

* **per turn**: a conversation of ``turns`` turns of the default scripted turn (7 events);
* **per message**: one turn of ``bulk`` ``agent.message`` events, its count over ``bulk``.

What it cannot see is the work done in C: JSON parsing (orjson or the stdlib scanner), regular
expressions, the socket, the allocator and the garbage collector. So it measures how much Python
each client runs, not its whole cost; read it beside the timed figures.

``python opcodes.py child CLIENT BASE_URL MODE N`` is one child (prints one JSON line).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

import latency
import profile_turn
from latency import prompt, served

HERE = Path(__file__).resolve().parent
TURN_CLIENTS = ("ours_sync", "ours_async", "naive_sync", "naive_async")
MESSAGE_CLIENTS = ("ours_sync", "ours_sync_stdlib", "ours_async", "naive_sync", "naive_async")
LABELS = {
    "ours_sync": "qoder `SyncClient`",
    "ours_sync_stdlib": "qoder `SyncClient`, stdlib json",
    "ours_async": "qoder `AsyncClient`",
    "naive_sync": "naive, sync",
    "naive_async": "naive, async",
}


class OpcodeCounter:
    """Counts the bytecode instructions executed while enabled, per code object (a
    :class:`latency.Profiler`). Coroutines and generators resumed while it is enabled are
    counted too: each resumption is a new call for the tracer."""

    def __init__(self) -> None:
        self.counts: defaultdict[CodeType, int] = defaultdict(int)

    def enable(self) -> None:
        sys.settrace(self._call)

    def disable(self) -> None:
        sys.settrace(None)

    def _call(self, frame: FrameType, event: str, arg: object) -> Any:
        frame.f_trace_opcodes = True
        return self._step

    def _step(self, frame: FrameType, event: str, arg: object) -> Any:
        if event == "opcode":
            self.counts[frame.f_code] += 1
        return self._step

    def buckets(self, units: int) -> dict[str, float]:
        """Instructions per unit (turn or message), by profile_turn's buckets; the
        benchmark's own loop (``latency.py``, counted in a coroutine) left out."""
        totals: dict[str, float] = {}
        for code, count in self.counts.items():
            if code.co_filename == latency.__file__:
                continue
            label = profile_turn.bucket_of(code.co_filename, code.co_name)
            totals[label] = totals.get(label, 0.0) + count / units
        return totals


def _counted(client: str, base_url: str, mode: str, n: int) -> dict[str, float]:
    """One of ``latency.CHILDREN``'s clients, its measured part counted: instructions per
    turn (``mode`` "turns": ``n`` turns) or per message (``mode`` "bulk": one turn of ``n``)."""
    counter = OpcodeCounter()
    prompts = [prompt(i) for i in range(1, n + 1)] if mode == "turns" else [f"bulk:{n}"]
    latency.CHILDREN[client](base_url, prompts, counter)
    return counter.buckets(n)


def _child(client: str, base_url: str, mode: str, n: int) -> dict[str, Any]:
    script = Path(__file__).resolve()
    return profile_turn.child_result(script, [client, base_url, mode, str(n)], timeout=180)


def run(turns: int = 100, bulk: int = 5_000) -> dict[str, Any]:
    """{"turns", "bulk", "per_turn": {client: {bucket: n}}, "per_message": {...}}, each
    client in a child of its own (an error as {"error": ...})."""
    with served() as base_url:
        per_turn = {client: _child(client, base_url, "turns", turns) for client in TURN_CLIENTS}
        per_message = {client: _child(client, base_url, "bulk", bulk) for client in MESSAGE_CLIENTS}
    return {"turns": turns, "bulk": bulk, "per_turn": per_turn, "per_message": per_message}


def total(buckets: dict[str, Any]) -> float | None:
    """All of one client's instructions per unit (``None`` if it failed)."""
    return None if "error" in buckets else sum(buckets.values())


def ratio(counts: dict[str, dict[str, Any]], ours: str, naive: str) -> float | None:
    """Our client's instructions over the naive client's (``None`` if either failed)."""
    mine, theirs = total(counts.get(ours, {"error": ""})), total(counts.get(naive, {"error": ""}))
    return mine / theirs if mine is not None and theirs else None


def _table(counts: dict[str, dict[str, Any]], decimals: int) -> list[str]:
    clients = {name: got for name, got in counts.items() if "error" not in got}
    if not clients:
        return ["(no client ran)", ""]
    labels = sorted({label for got in clients.values() for label in got})
    labels.sort(key=lambda label: -max(got.get(label, 0.0) for got in clients.values()))
    lines = [
        "| Bucket | " + " | ".join(LABELS.get(client, client) for client in clients) + " |",
        "|---|" + "--:|" * len(clients),
    ]
    for label in labels:
        cells = [f"{got.get(label, 0.0):,.{decimals}f}" for got in clients.values()]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    sums = [f"**{sum(got.values()):,.{decimals}f}**" for got in clients.values()]
    lines.append("| **all** | " + " | ".join(sums) + " |")
    errors = {name: got["error"] for name, got in counts.items() if "error" in got}
    if errors:
        lines += ["", f"Failed: {errors}"]
    return [*lines, ""]


def _difference(per_turn: dict[str, dict[str, Any]]) -> list[str]:
    """Where our turn's extra instructions are, against the naive client of the same facade."""
    lines = []
    for ours, naive, name in (
        ("ours_sync", "naive_sync", "`SyncClient`"),
        ("ours_async", "naive_async", "`AsyncClient`"),
    ):
        mine, theirs = per_turn.get(ours, {"error": ""}), per_turn.get(naive, {"error": ""})
        if "error" in mine or "error" in theirs:
            continue
        extra = sum(mine.values()) - sum(theirs.values())
        own = sum(mine.get(label, 0.0) for label in profile_turn.QODER_BUCKETS)
        http = mine.get(profile_turn.HTTP_BUCKET, 0.0) - theirs.get(profile_turn.HTTP_BUCKET, 0.0)
        lines.append(
            f"- {name} runs {extra:,.0f} more instructions a turn than the naive client: "
            f"{own:,.0f} in qoder's own code (decoding, the turn machine, the flows, the "
            f"facade: the protocol's work, which the naive client skips), {http:+,.0f} in "
            f"httpx, httpcore and h11 (more headers, no URL to parse), "
            f"{extra - own - http:+,.0f} elsewhere (the naive client's own code and its "
            "`json.loads`, the event loop, the standard library)."
        )
    return [*lines, ""] if lines else []


def render(result: dict[str, Any]) -> list[str]:
    """The section of RESULTS.md."""
    return [
        "## Python instructions per turn and per message (deterministic)",
        "",
        "The same clients, their measured part run with every Python bytecode instruction "
        "counted (`sys.settrace`, `f_trace_opcodes`), each in a child process of its own against "
        "`server.py`, by the buckets of the cProfile table above. Unlike the timed figures these "
        "barely move from run to run, so they show what a change did; but they leave out all "
        "work done in C (JSON parsing, regular expressions, the socket, the allocator, the "
        "garbage collector), so they are not the whole cost.",
        "",
        f"**Per turn** (a conversation of {result['turns']} turns of the default scripted turn, "
        "7 events):",
        "",
        *_table(result["per_turn"], 0),
        *_difference(result["per_turn"]),
        f"**Per message** (one turn of {result['bulk']:,} `agent.message` events, the turn's "
        "count over its messages):",
        "",
        *_table(result["per_message"], 1),
    ]


def main(argv: list[str]) -> None:
    if argv and argv[0] == "child":
        client, base_url, mode, n = argv[1], argv[2], argv[3], int(argv[4])
        print(json.dumps(_counted(client, base_url, mode, n)), flush=True)
        return
    print("\n".join(render(run())))


if __name__ == "__main__":
    main(sys.argv[1:])
