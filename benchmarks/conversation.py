"""Conversation benchmark: per-turn latency of a multi-turn conversation, ours against the SDKs.

Each client holds a conversation of ``turns`` turns on one session of the emulator
(:class:`qoder.testing.FakeCloud`, default scripted agent) served on 127.0.0.1 with keep-alives
every ``KEEPALIVE`` seconds of stream silence, like a real server but scaled down. Every client
gets a fresh emulator and runs in its own process (``conversation_clients.py``) under a hard
timeout, so that a client that hangs is killed and recorded as such, the emulator does not share
a GIL with the client, and nothing one client leaves behind (threads, sockets, environment)
touches the next. The emulator is metered at its ASGI ``send``: every byte of every event stream
with the time it was handed to the server, and every stream connection opened. A turn runs from
just before the prompt is sent to the moment the client hands out the turn's result; the
child's ``time.monotonic()`` and the parent's are the same clock (CLOCK_MONOTONIC on Linux), so
stream bytes are attributed to the turn whose window they were sent in.

See ``benchmarks/README.md`` and the conversation section of ``RESULTS.md``.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from conversation_clients import TOKEN

from qoder.testing import FakeCloud, serve_in_thread
from qoder.testing._asgi import ASGIApp, Receive, Scope, Send

__all__ = ["KEEPALIVE", "SPECS", "ClientRun", "ConversationResult", "Spec", "run"]

HERE = Path(__file__).resolve().parent
WORKER = HERE / "conversation_clients.py"
HOST = "127.0.0.1"
KEEPALIVE = 1.0
"""Seconds of stream silence before the emulator sends a heartbeat (real servers: ~15 s)."""
WARMUP_TURNS = 2
STARTUP_SECONDS = 3.0
"""Allowance for a child's interpreter start, imports and warm-up connection."""
BUDGET = 55.0
"""Seconds the whole conversation section may take; per-client timeouts are cut to fit."""
_STREAM_PATH = re.compile(r"/sessions/([^/]+)/events/stream$")


@dataclass(frozen=True)
class Spec:
    """One measured client: which driver, how many turns, and its time: ``cap`` is its hard
    timeout at most, ``reserve`` what the clients before it leave it at least, ``per_turn``
    what a turn is expected to take (to lower its turn count when the time left is short)."""

    key: str
    client: str
    label: str
    short: str
    turns: int
    cap: float
    reserve: float
    per_turn: float
    keepalive: float = KEEPALIVE
    info: bool = False


def specs(turns: int) -> tuple[Spec, ...]:
    """The clients, in the order they run. The official agent SDK ends a turn only at the next
    keep-alive (docs/protocol.md §7 #11), about ``KEEPALIVE`` seconds a turn, and gets the largest
    share of the budget; the informational run repeats it with 20x more frequent keep-alives."""
    sync_label = "**qoder `SyncClient`**"
    async_label = "**qoder `AsyncClient` (asyncio)**"
    qca_label = "qca-sdk `Managed`, by hand (`events.send` + one `resumable_stream`)"
    b_label = "qoder-agent-sdk `QoderSDKClient`, cloud agent mode"
    fast_label = "qoder-agent-sdk, emulator keep-alive 0.05 s (info)"
    return (
        Spec("ours_sync", "ours_sync", sync_label, "ours sync", turns, 8.0, 3.0, 0.05),
        Spec("ours_async", "ours_async", async_label, "ours async", turns, 8.0, 3.0, 0.05),
        Spec("qca", "qca", qca_label, "qca-sdk", turns, 10.0, 4.0, 0.1),
        Spec("agent_sdk", "agent_sdk", b_label, "agent-sdk", turns, 36.0, 20.0, KEEPALIVE),
        Spec(
            "agent_sdk_fast",
            "agent_sdk",
            fast_label,
            "agent-sdk, 0.05 s k-a",
            turns,
            6.0,
            3.0,
            0.1,
            keepalive=0.05,
            info=True,
        ),
    )


SPECS = specs(20)


# -- metering the emulator -----------------------------------------------------------------


@dataclass
class Meter:
    """What the emulator sent on event streams: ``(time, session id, bytes, event frames)`` per
    chunk, and ``(time, session id)`` per stream connection answered."""

    chunks: list[tuple[float, str, int, int]] = field(default_factory=list)
    opened: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class MeteredApp(ASGIApp):
    """The emulator's ASGI app, recording each event-stream chunk as it is handed to the server."""

    def __init__(self, cloud: FakeCloud, meter: Meter) -> None:
        super().__init__(cloud)
        self.meter = meter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _STREAM_PATH.search(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope.get("method") != "GET":
            await super().__call__(scope, receive, send)
            return
        session_id, meter = match[1], self.meter

        async def metered(message: Any) -> None:
            now = time.monotonic()
            if message["type"] == "http.response.start":
                with meter.lock:
                    meter.opened.append((now, session_id))
            elif message["type"] == "http.response.body":
                body: bytes = message.get("body", b"")
                frames = body.startswith(b"id: ") + body.count(b"\n\nid: ")
                with meter.lock:
                    meter.chunks.append((now, session_id, len(body), frames))
            await send(message)

        await super().__call__(scope, receive, metered)


class MeteredCloud(FakeCloud):
    """A :class:`FakeCloud` served through :class:`MeteredApp`."""

    def __init__(self, meter: Meter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.meter = meter

    def asgi_app(self) -> ASGIApp:
        return MeteredApp(self, self.meter)


# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """One measured turn."""

    n: int
    seconds: float
    ok: bool
    correct: bool
    stream_bytes: int
    event_frames: int
    connections: int


@dataclass(frozen=True)
class ClientRun:
    """One client's conversation: its turns and how it ended."""

    spec: Spec
    status: str  # "ok", or what went wrong
    turns: tuple[Turn, ...]
    wall: float
    timeout: float
    stream_connections: int  # GET …/events/stream of the measured session, from cloud.requests
    with_cursor: int  # of which carried Last-Event-ID or after_id
    stream_bytes: int  # everything sent on the measured session's streams, turns and gaps
    close_seconds: float | None
    requested_turns: int
    stderr_tail: str = ""

    @property
    def completed(self) -> bool:
        return self.status == "ok" and len(self.turns) == self.spec.turns

    @property
    def latencies(self) -> list[float]:
        return [turn.seconds for turn in self.turns]

    def median(self) -> float | None:
        values = self.latencies
        return statistics.median(values) if values else None

    def p90(self) -> float | None:
        values = sorted(self.latencies)
        if not values:
            return None
        # nearest rank: the smallest value with at least 90% of the turns at or below it
        return values[max(0, -(-9 * len(values) // 10) - 1)]

    def turns_per_second(self) -> float | None:
        total = sum(self.latencies)
        return len(self.latencies) / total if total > 0 else None


@dataclass(frozen=True)
class ConversationResult:
    """Every client's run, and the settings they ran with."""

    runs: tuple[ClientRun, ...]
    turns: int
    warmup: int
    keepalive: float
    budget: float
    elapsed: float

    def get(self, key: str) -> ClientRun | None:
        return next((run for run in self.runs if run.spec.key == key), None)


# -- running one client --------------------------------------------------------------------


def _child_env(base_url: str) -> dict[str, str]:
    """The parent's environment without any Qoder or proxy setting, pointed at the emulator."""
    drop = ("QODER_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
    env = {name: value for name, value in os.environ.items() if not name.upper().startswith(drop)}
    env["QODER_CLOUD_AGENT_API_BASE"] = base_url  # qoder-agent-sdk reads only this
    env["NO_PROXY"] = env["no_proxy"] = HOST
    return env


def _expected_texts(cloud: FakeCloud, session_id: str) -> list[str]:
    """Each turn's text as the emulator persisted it: its agent messages, joined."""
    texts: list[str] = []
    for event in cloud.events(session_id):
        if event["type"] == "user.message":
            texts.append("")
        elif event["type"] == "agent.message" and texts:
            for block in event.get("content") or ():
                if isinstance(block, dict) and block.get("type") == "text":
                    texts[-1] += str(block.get("text", ""))
    return texts


def _parse(stdout: str) -> tuple[list[dict[str, Any]], float | None, str | None]:
    import json

    turns: list[dict[str, Any]] = []
    closed: float | None = None
    error: str | None = None
    for line in stdout.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        if record.get("kind") == "turn":
            turns.append(record)
        elif record.get("kind") == "closed":
            closed = float(record["seconds"])
        elif record.get("kind") == "error":
            error = str(record.get("message"))
    return turns, closed, error


def fitted_turns(spec: Spec, timeout: float, warmup: int) -> int:
    """``spec.turns``, or fewer if they are not expected to fit in ``timeout`` seconds."""
    usable = timeout - STARTUP_SECONDS
    return max(1, min(spec.turns, int(usable / (spec.per_turn * 1.25)) - warmup))


def run_client(spec: Spec, timeout: float, warmup: int = WARMUP_TURNS) -> ClientRun:
    """Serve a fresh metered emulator, run ``spec``'s client against it in a child process
    (killed after ``timeout`` seconds), and measure what it did. The turn count is lowered if
    the turns are not expected to fit in the timeout."""
    requested = spec.turns
    spec = replace(spec, turns=fitted_turns(spec, timeout, warmup))
    meter = Meter()
    cloud = MeteredCloud(meter, token=TOKEN, keepalive_interval=spec.keepalive)
    began = time.monotonic()
    with serve_in_thread(cloud, host=HOST) as served:
        command = [
            sys.executable,
            str(WORKER),
            spec.client,
            served.base_url,
            str(spec.turns),
            str(warmup),
        ]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_child_env(served.base_url),
            cwd=HERE,
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()  # nothing printed so far is lost
            timed_out = True
        wall = time.monotonic() - began
    records, closed, error = _parse(stdout)
    session_id = next((r["session_id"] for r in records if r.get("session_id")), None)
    if timed_out and len(records) == spec.turns:
        status = f"killed at the {timeout:.0f} s timeout while closing, after all its turns"
    elif timed_out:
        status = f"killed at the {timeout:.0f} s timeout after {len(records)} turns"
    elif error is not None:
        status = f"failed after {len(records)} turns: {error}"
    elif process.returncode != 0:
        status = f"exit code {process.returncode} after {len(records)} turns"
    elif len(records) != spec.turns:
        status = f"stopped after {len(records)} turns"
    else:
        status = "ok"

    expected = _expected_texts(cloud, session_id) if session_id else []
    with meter.lock:
        chunks = [c for c in meter.chunks if c[1] == session_id]
        opened = [o for o in meter.opened if o[1] == session_id]
    turns: list[Turn] = []
    for record in records:
        start, end, n = float(record["start"]), float(record["end"]), int(record["n"])
        inside = [c for c in chunks if start <= c[0] <= end]
        turns.append(
            Turn(
                n=n,
                seconds=end - start,
                ok=bool(record.get("ok")),
                correct=n <= len(expected) and record.get("text") == expected[n - 1],
                stream_bytes=sum(c[2] for c in inside),
                event_frames=sum(c[3] for c in inside),
                connections=sum(1 for o in opened if start <= o[0] <= end),
            )
        )
    suffix = f"/sessions/{session_id}/events/stream"
    streams = [r for r in cloud.requests if r.method == "GET" and r.path.endswith(suffix)]
    cursor = sum(1 for r in streams if r.header("last-event-id") or r.query_get("after_id"))
    return ClientRun(
        spec=spec,
        status=status,
        turns=tuple(turns),
        wall=wall,
        timeout=timeout,
        stream_connections=len(streams),
        with_cursor=cursor,
        stream_bytes=sum(c[2] for c in chunks),
        close_seconds=closed,
        requested_turns=requested,
        stderr_tail="" if status == "ok" else stderr.strip()[-600:],
    )


def run(turns: int = 20, budget: float = BUDGET, *, verbose: bool = True) -> ConversationResult:
    """Run every client in turn within ``budget`` seconds (each one's timeout is its cap, cut so
    that the clients after it keep their caps, or what is left)."""
    chosen = specs(turns)
    began = time.monotonic()
    runs: list[ClientRun] = []
    for index, spec in enumerate(chosen):
        left = budget - (time.monotonic() - began)
        later = sum(s.reserve for s in chosen[index + 1 :])
        timeout = max(1.0, min(spec.cap, left - later))
        result = run_client(spec, timeout)
        runs.append(result)
        if verbose:
            median = result.median()
            shown = f"median {median * 1000:8.1f} ms" if median is not None else "no turns"
            print(
                f"conversation {spec.key:15s} {len(result.turns):3d} turns  {shown}  "
                f"{result.wall:5.1f} s  {result.status}",
                file=sys.stderr,
            )
    return ConversationResult(
        runs=tuple(runs),
        turns=turns,
        warmup=WARMUP_TURNS,
        keepalive=KEEPALIVE,
        budget=budget,
        elapsed=time.monotonic() - began,
    )
