"""Memory: RSS per open idle conversation, and RSS growth over long turns (issue 12).

``python footprint.py`` starts ``server.py`` (127.0.0.1) and runs each measurement in a child
process of its own (``python footprint.py child KIND SETUP BASE_URL …``, one JSON line out),
under a hard timeout, the setups taking turns round by round:

* **idle**: ``N`` ``AsyncClient`` conversations opened at once on one event loop (each
  connected: session created, event stream open, no turn under way), after a warm-up of
  ``WARMUP_IDLE`` conversations opened and closed the same way (imports, the thread pool, the
  allocator's first arenas); the RSS after ``gc.collect()`` before and after, divided by ``N``.
  The child checks at the server that every one of its sessions has its stream open.
* **bulk**: one turn of ``EVENTS`` short ``agent.message`` events (``stream:N`` at the server,
  made batch by batch with back-pressure) read through ``receive_response()`` to its
  ``ResultMessage``, after a warm-up turn of 10,000 on the same conversation; the peak RSS
  during the turn (sampled every 20,000 messages and at the end, and ``ru_maxrss``) minus the
  RSS just before it, and the turn's own text (the UTF-8 size of its result).
* **turns**: ``TURNS`` turns of ``PER_TURN`` events on one conversation; the RSS (after
  ``gc.collect()``) every 100 turns; the growth from turn 100 to the last.

RSS is ``/proc/self/statm``'s resident pages (Linux).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from latency import AGENT, ENVIRONMENT, TOKEN, served

HERE = Path(__file__).resolve().parent
PAGE = os.sysconf("SC_PAGE_SIZE")
KIB, MIB = 1024, 1024 * 1024
WARMUP_IDLE = 50
IDLE_PRIMARY = ("ours_default", "naive_one_each")
"""The setups the idle target compares, run every round; the others once."""
IDLE_OTHERS = ("ours_one_each",)
BULK_CLIENTS = ("ours_sync", "naive_sync")
TURNS_CLIENTS = ("ours_sync", "naive_sync")


def rss() -> int:
    """Resident set size of this process, bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def settled_rss() -> int:
    gc.collect()
    return rss()


def _maxrss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * KIB  # KiB on Linux


def _options(base_url: str) -> Any:
    from qoder import QoderAgentOptions

    return QoderAgentOptions(auth=TOKEN, base_url=base_url, agent=AGENT, environment=ENVIRONMENT)


# --- idle conversations ----------------------------------------------------------------------


class _Idle:
    """Opens and closes ``n`` conversations of one setup on the running loop."""

    def __init__(self, setup: str, base_url: str, tls: Any) -> None:
        import httpx

        self.setup, self.base_url, self.tls = setup, base_url, tls
        self.shared: httpx.AsyncClient | None = None
        self.opened: list[tuple[Any, Any]] = []  # (conversation, its own HTTP client or None)

    def _http(self, naive: bool) -> Any:
        import httpx

        kwargs: dict[str, Any] = {"verify": self.tls, "timeout": 60}
        if naive:
            kwargs.update(base_url=self.base_url, headers={"Authorization": f"Bearer {TOKEN}"})
        if self.setup.endswith("_shared"):
            if self.shared is None:
                limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
                self.shared = httpx.AsyncClient(limits=limits, **kwargs)
            return self.shared
        return httpx.AsyncClient(**kwargs)

    async def _open_one(self) -> tuple[Any, Any]:
        from naive import AsyncNaiveClient

        from qoder import AsyncClient

        if self.setup == "ours_default":
            client = AsyncClient(_options(self.base_url))
            await client.connect()
            return client, None
        naive = self.setup.startswith("naive")
        http = self._http(naive)
        own = None if self.setup.endswith("_shared") else http
        if naive:
            conversation = AsyncNaiveClient(self.base_url, TOKEN, http=http)
            await conversation.connect(AGENT, ENVIRONMENT)
            return conversation, own
        client = AsyncClient(_options(self.base_url), http_client=http)
        await client.connect()
        return client, own

    async def open(self, n: int) -> None:
        self.opened += await asyncio.gather(*(self._open_one() for _ in range(n)))

    def session_ids(self) -> list[str]:
        return [str(conversation.session_id) for conversation, _ in self.opened]

    async def close(self) -> None:
        async def one(conversation: Any, http: Any) -> None:
            if hasattr(conversation, "disconnect"):
                await conversation.disconnect()
            else:
                await conversation.close()
            if http is not None:
                await http.aclose()

        await asyncio.gather(*(one(c, h) for c, h in self.opened))
        self.opened = []
        if self.shared is not None:
            await self.shared.aclose()
            self.shared = None


async def _idle(setup: str, base_url: str, n: int) -> dict[str, Any]:
    import httpx

    root = base_url.rsplit("/v1", 1)[0]
    tls = httpx.create_ssl_context()  # the process's one context, made before the baseline
    async with httpx.AsyncClient(timeout=30, verify=tls) as probe:
        warm = _Idle(setup, base_url, tls)
        await warm.open(WARMUP_IDLE)
        await warm.close()
        await asyncio.sleep(0.2)
        before = settled_rss()
        crowd = _Idle(setup, base_url, tls)
        await crowd.open(n)
        await asyncio.sleep(0.5)  # whatever connecting left to finish, finishes
        after = settled_rss()
        streams = (await probe.get(f"{root}/_bench/streams")).json()
        open_streams = sum(1 for sid in crowd.session_ids() if streams.get(sid, 0) >= 1)
        await crowd.close()
    assert open_streams == n, f"{open_streams} of {n} streams open at the server"
    return {"before": before, "after": after, "per_conversation": (after - before) / n}


# --- long turns ------------------------------------------------------------------------------


OnTurn = Callable[[int, int, int], None]
"""Called after each turn: (turn number, its text's UTF-8 bytes, its peak RSS growth)."""


class _Sampler:
    """The peak RSS over a turn, sampled every ``every`` messages and at the end; with
    ``active`` false it samples nothing (the many-turns run: no ``gc.collect()`` a turn)."""

    def __init__(self, active: bool = True, every: int = 20_000) -> None:
        self.every, self.count = every if active else 0, 0
        self.start = settled_rss() if active else 0
        self.max_before = _maxrss() if active else 0
        self.peak = self.start

    def tick(self) -> None:
        self.count += 1
        if self.every and self.count % self.every == 0:
            self.peak = max(self.peak, rss())

    def growth(self) -> int:
        if not self.every:
            return 0
        self.peak = max(self.peak, rss())
        after = _maxrss()
        if after > self.max_before:  # the process's peak was set during the turn
            self.peak = max(self.peak, after)
        return self.peak - self.start


def _ours_sync_turns(base_url: str, prompts: list[str], on_turn: OnTurn) -> None:
    from qoder import ResultMessage, SyncClient

    with SyncClient(_options(base_url)) as client:
        for n, text in enumerate(prompts, 1):
            sampler = _Sampler(_SAMPLE[0])
            client.query(text)
            size = 0
            for message in client.receive_response():
                sampler.tick()
                if isinstance(message, ResultMessage):
                    assert not message.is_error, message
                    size = len((message.result or "").encode())
            on_turn(n, size, sampler.growth())
            del message


async def _ours_async_run(base_url: str, prompts: list[str], on_turn: OnTurn) -> None:
    from qoder import AsyncClient, ResultMessage

    async with AsyncClient(_options(base_url)) as client:
        for n, text in enumerate(prompts, 1):
            sampler = _Sampler(_SAMPLE[0])
            await client.query(text)
            size = 0
            async for message in client.receive_response():
                sampler.tick()
                if isinstance(message, ResultMessage):
                    assert not message.is_error, message
                    size = len((message.result or "").encode())
            on_turn(n, size, sampler.growth())
            del message


def _ours_async_turns(base_url: str, prompts: list[str], on_turn: OnTurn) -> None:
    asyncio.run(_ours_async_run(base_url, prompts, on_turn))


def _naive_sync_turns(base_url: str, prompts: list[str], on_turn: OnTurn) -> None:
    from naive import NaiveClient

    client = NaiveClient(base_url, TOKEN)
    try:
        client.connect(AGENT, ENVIRONMENT)
        for n, text in enumerate(prompts, 1):
            sampler = _Sampler(_SAMPLE[0])
            # the naive reader keeps every text of the turn and joins them, as our result does
            result = client.read_turn(client.post(text))
            size = len(result.encode())
            on_turn(n, size, sampler.growth())
            del result
    finally:
        client.close()


_SAMPLE = [True]
"""Whether the turn runners sample each turn's peak (off for the many-turns run)."""
TURN_RUNNERS: dict[str, Callable[[str, list[str], OnTurn], None]] = {
    "ours_sync": _ours_sync_turns,
    "ours_async": _ours_async_turns,
    "naive_sync": _naive_sync_turns,
}


def _bulk(client: str, base_url: str, events: int) -> dict[str, Any]:
    """One warm-up turn of 10,000, then one turn of ``events``: its peak RSS growth."""
    began = time.monotonic()
    laps: list[tuple[float, int, int]] = []

    def on_turn(n: int, size: int, grown: int) -> None:
        laps.append((time.monotonic(), size, grown))

    TURN_RUNNERS[client](base_url, ["stream:10000", f"stream:{events}"], on_turn)
    (warm, _, _), (end, size, grown) = laps
    return {"growth": grown, "text_bytes": size, "seconds": end - warm, "wall": end - began}


def _turns(client: str, base_url: str, turns: int, per_turn: int) -> dict[str, Any]:
    """``turns`` turns of ``per_turn`` events: the settled RSS every 100 turns."""
    series: dict[int, int] = {}
    began = time.monotonic()

    def on_turn(n: int, size: int, grown: int) -> None:
        if n % 100 == 0 or n in (1, turns):
            series[n] = settled_rss()

    _SAMPLE[0] = False
    TURN_RUNNERS[client](base_url, [f"stream:{per_turn}"] * turns, on_turn)
    return {"rss": series, "seconds": time.monotonic() - began}


def child(argv: list[str]) -> None:
    kind, setup, base_url = argv[0], argv[1], argv[2]
    numbers = [int(x) for x in argv[3:]]
    if kind == "idle":
        result = asyncio.run(_idle(setup, base_url, numbers[0]))
    elif kind == "bulk":
        result = _bulk(setup, base_url, numbers[0])
    else:
        result = _turns(setup, base_url, numbers[0], numbers[1])
    print(json.dumps(result), flush=True)


# --- the parent ------------------------------------------------------------------------------


def _child(argv: list[str], timeout: float) -> dict[str, Any] | str:
    command = [sys.executable, str(Path(__file__).resolve()), "child", *argv]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=HERE)
    except subprocess.TimeoutExpired:
        return f"over the {timeout:.0f} s timeout"
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or ["failed"])[-1]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def idle(rounds: int = 3, conversations: int = 500, timeout: float = 60) -> dict[str, Any]:
    """Per setup: bytes of RSS per idle conversation, each round."""
    per: dict[str, list[float]] = {s: [] for s in (*IDLE_PRIMARY, *IDLE_OTHERS)}
    errors: dict[str, str] = {}
    began = time.monotonic()
    with served(keepalive=15.0) as base_url:
        plan = [s for _ in range(rounds) for s in IDLE_PRIMARY] + list(IDLE_OTHERS)
        for setup in plan:
            got = _child(["idle", setup, base_url, str(conversations)], timeout)
            if isinstance(got, str):
                errors[setup] = got
            else:
                per[setup].append(float(got["per_conversation"]))
    return {
        "rounds": rounds,
        "conversations": conversations,
        "warmup": WARMUP_IDLE,
        "bytes_per_conversation": per,
        "errors": errors,
        "seconds": time.monotonic() - began,
    }


def growth(
    events: int = 1_000_000,
    turns: int = 1000,
    per_turn: int = 1000,
    *,
    bulk_clients: tuple[str, ...] = BULK_CLIENTS,
    turns_clients: tuple[str, ...] = TURNS_CLIENTS,
    timeout: float = 90,
) -> dict[str, Any]:
    """One long turn per client (peak growth, text) and many turns per client (RSS series)."""
    bulk: dict[str, dict[str, Any]] = {}
    series: dict[str, dict[int, int]] = {}
    seconds: dict[str, float] = {}
    errors: dict[str, str] = {}
    began = time.monotonic()
    with served(keepalive=15.0) as base_url:
        for client in bulk_clients:
            got = _child(["bulk", client, base_url, str(events)], timeout)
            if isinstance(got, str):
                errors[f"{client} (one turn)"] = got
            else:
                bulk[client] = got
        for client in turns_clients:
            got = _child(["turns", client, base_url, str(turns), str(per_turn)], timeout)
            if isinstance(got, str):
                errors[f"{client} (turns)"] = got
            else:
                series[client] = {int(k): int(v) for k, v in got["rss"].items()}
                seconds[client] = float(got["seconds"])
    return {
        "events": events,
        "turns": turns,
        "per_turn": per_turn,
        "bulk": bulk,
        "series": series,
        "turns_seconds": seconds,
        "errors": errors,
        "seconds": time.monotonic() - began,
    }


def turns_growth(series: dict[int, int], first: int = 100) -> int | None:
    """RSS growth (bytes) from turn ``first`` to the last turn sampled."""
    if first not in series:
        return None
    return series[max(series)] - series[first]


def main(argv: list[str]) -> None:
    if argv and argv[0] == "child":
        child(argv[1:])
        return
    which = argv[0] if argv else "all"
    if which in ("idle", "all"):
        result = idle(int(argv[1]) if len(argv) > 1 else 3, int(argv[2]) if len(argv) > 2 else 500)
        for setup, values in result["bytes_per_conversation"].items():
            if values:
                print(f"{setup:16s} {statistics.median(values) / KIB:8.1f} KiB  {values}")
        print(result["errors"], f"{result['seconds']:.0f} s")
    if which in ("growth", "all"):
        events = int(argv[1]) if len(argv) > 1 else 1_000_000
        turns = int(argv[2]) if len(argv) > 2 else 1000
        got = growth(events, turns)
        for client, row in got["bulk"].items():
            print(
                f"{client:12s} one turn: +{row['growth'] / MIB:.1f} MiB, text "
                f"{row['text_bytes'] / MIB:.1f} MiB, {row['seconds']:.1f} s"
            )
        for client, rows in got["series"].items():
            grown = turns_growth(rows)
            print(
                f"{client:12s} turns: {grown if grown is None else grown / MIB:.2f} MiB "
                f"from turn 100, {got['turns_seconds'][client]:.1f} s; {rows}"
            )
        print(got["errors"], f"{got['seconds']:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
