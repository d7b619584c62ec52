"""Where a turn's time goes: each client under cProfile, its own time put in a few buckets.

``python profile_turn.py`` starts ``server.py`` and runs, each in a child process of its own,
the overhead benchmark's runners (``latency.CHILDREN``) of ``ours_sync``, ``ours_async`` and
``naive_sync`` for a number of turns (after their warm-up turns) under :mod:`cProfile`; the child sums each function's own time (``tottime``) into buckets by
the file it comes from (the time spent blocked in the socket or in the event loop's wait is a
bucket of its own, and is left out of the shares). cProfile slows Python code about two to four
times, so the microseconds are inflated; the shares are what to read.

``python profile_turn.py child CLIENT BASE_URL TURNS`` is one child (prints one JSON line).
"""

from __future__ import annotations

import cProfile
import json
import pstats
import subprocess
import sys
from pathlib import Path
from typing import Any

import latency
from latency import prompt, served

HERE = Path(__file__).resolve().parent
CLIENTS = ("ours_sync", "ours_async", "naive_sync")
WAITING = "waiting (blocked in the socket or the event loop's poll; left out of the shares)"
BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "decoding: SSE framing, JSON, typed events",
        (
            "qoder/_protocol/sse",
            "qoder/_protocol/convert",
            "qoder/_protocol/fastpath",
            "qoder/_protocol/jsonio",
            "qoder/_protocol/slots",
            "qoder/_protocol/stream",
            "qoder._protocol.events",
            "qoder._protocol.blocks",
            "cattrs",
        ),
    ),
    (
        "the turn machine: dedupe, correlation, messages, the result",
        (
            "qoder/_protocol/turn",
            "qoder/_protocol/correlate",
            "qoder/_protocol/result",
            "qoder/_protocol/inbox",
            "qoder/_protocol/outputs",
            "qoder/_protocol/partials",
            "qoder._protocol.messages",
            "qoder._protocol.outputs",
        ),
    ),
    (
        "the session's flows: the request, retries, reading, hooks",
        ("qoder/_protocol/", "qoder._protocol.flows"),
    ),
    ("the facade: driving the flows, locks, the stream's reads", ("qoder/",)),
    ("httpx, httpcore, h11: request building, the pool, HTTP/1.1", ("httpx", "httpcore", "h11")),
    ("the event loop and anyio", ("asyncio", "anyio", "sniffio", "selectors")),
    ("stdlib json: encoding request bodies; the naive client's json.loads", ("json/",)),
    ("the naive client's own code (split on blank lines, the turn's end)", ("naive.py",)),
)
QODER_BUCKETS = tuple(label for label, parts in BUCKETS if parts[0].startswith("qoder"))
"""The buckets of qoder's own code: decoding, the turn machine, the flows, the facade."""
HTTP_BUCKET = next(label for label, parts in BUCKETS if "httpx" in parts)
_WAITS = ("method 'recv'", "method 'send'", "method 'poll'", "method 'select'", "recv_into")
_DECODING_BUILTINS = ("orjson.loads", "scan_once", "'findall'", "'match'", "'decode'", "raw_decode")


def bucket_of(filename: str, name: str) -> str:
    """The bucket of one profiled function (``filename`` is ``~`` for a built-in)."""
    if filename == "~":
        if any(wait in name for wait in _WAITS):
            return WAITING
        if any(part in name for part in _DECODING_BUILTINS):
            return BUCKETS[0][0]
        return "other built-ins (isinstance, dict and list methods, ...)"
    for label, parts in BUCKETS:
        if any(part in filename for part in parts):
            return label
    return "the rest of the standard library"


def _split(profile: cProfile.Profile, turns: int) -> dict[str, float]:
    """µs of own time per turn, by bucket."""
    totals: dict[str, float] = {}
    stats: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    for (filename, _, name), (_, _, tottime, _, _) in stats.items():
        label = bucket_of(filename, name)
        totals[label] = totals.get(label, 0.0) + tottime * 1e6 / turns
    return totals


def _profiled(client: str, base_url: str, turns: int) -> dict[str, float]:
    """One of the overhead benchmark's clients (``latency.CHILDREN``: the same warm-up, the
    same conversation), its measured turns under cProfile: µs per turn by bucket."""
    profile = cProfile.Profile()
    latency.CHILDREN[client](base_url, [prompt(n) for n in range(1, turns + 1)], profile)
    return _split(profile, turns)


def child_result(script: Path, args: list[str], timeout: float) -> dict[str, Any]:
    """What ``python script child *args`` printed as its last line, a JSON object, or
    ``{"error": ...}`` with the last line of its stderr when it failed."""
    done = subprocess.run(
        [sys.executable, str(script), "child", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=HERE,
    )
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(turns: int = 300, clients: tuple[str, ...] = CLIENTS) -> dict[str, Any]:
    """{client: {bucket: µs per turn}} (or {"error": ...}), each client in a child."""
    results: dict[str, Any] = {}
    with served() as base_url:
        for client in clients:
            script = Path(__file__).resolve()
            results[client] = child_result(script, [client, base_url, str(turns)], timeout=120)
    return {"turns": turns, "clients": results}


LABELS = {
    "ours_sync": "qoder `SyncClient`",
    "ours_async": "qoder `AsyncClient`",
    "naive_sync": "naive, sync",
}


def render(result: dict[str, Any]) -> list[str]:
    """The section of RESULTS.md."""
    clients = {name: got for name, got in result["clients"].items() if "error" not in got}
    lines = [
        "## Where a turn's time goes (cProfile)",
        "",
        f"{result['turns']} turns of the overhead benchmark's conversation against `server.py`, "
        "each client under cProfile in a child process of its own; every function's own time "
        "(`tottime`) is put in the bucket of the file it comes from, per turn. cProfile slows "
        "Python code two to four times, so read the shares (of the time not spent waiting), "
        "not the microseconds.",
        "",
    ]
    if not clients:
        return [*lines, "(no client ran)", ""]
    labels = sorted({label for got in clients.values() for label in got})
    labels.sort(
        key=lambda label: (label == WAITING, -max(g.get(label, 0.0) for g in clients.values()))
    )
    header = "| Bucket | " + " | ".join(f"{LABELS.get(c, c)} µs (share)" for c in clients) + " |"
    lines += [header, "|---|" + "--:|" * len(clients)]
    busy = {c: sum(v for k, v in got.items() if k != WAITING) or 1.0 for c, got in clients.items()}
    for label in labels:
        cells = []
        for client, got in clients.items():
            value = got.get(label, 0.0)
            share = "" if label == WAITING else f" ({value / busy[client]:.0%})"
            cells.append(f"{value:,.0f}{share}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append(
        "| **all but waiting** | " + " | ".join(f"**{busy[c]:,.0f}**" for c in clients) + " |"
    )
    errors = {name: got["error"] for name, got in result["clients"].items() if "error" in got}
    if errors:
        lines += ["", f"Failed: {errors}"]
    return [*lines, ""]


def main(argv: list[str]) -> None:
    if argv and argv[0] == "child":
        client, base_url, turns = argv[1], argv[2], int(argv[3])
        print(json.dumps(_profiled(client, base_url, turns)), flush=True)
        return
    print("\n".join(render(run(int(argv[0]) if argv else 300))))


if __name__ == "__main__":
    main(sys.argv[1:])
