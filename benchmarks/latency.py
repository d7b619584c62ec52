"""Per-turn overhead and throughput against the independent server (``server.py``).

``python latency.py`` runs, against one ``server.py`` process, each client in a child process
of its own, the clients taking turns round by round:

* **overhead**: warm-up turns, then one conversation of ``--turns`` turns; for each turn the
  client's latency (just before the prompt is sent to the turn's result in hand) minus the
  server's own time for it (its POST body in to the turn's last event handed to the socket);
  a run's figure is the median over its turns, a client's the median over the rounds;
* **throughput**: one turn of ``--bulk`` ``agent.message`` events through ``receive_response()``
  (ours) or the naive reader's split + stdlib ``json.loads``; events per second. Ours runs
  twice per facade: with the JSON backend chosen at import (orjson when the ``orjson`` extra is
  installed, as in the benchmark's environment) and, ``ours_sync_stdlib`` /
  ``ours_async_stdlib``, with ``use_json_backend("stdlib")`` (a default install).

Each of our children reports the JSON backend it ran with (``json_backend`` in its JSON line);
the parent keeps it per client under ``json_backend`` in its result.

``python latency.py child CLIENT MODE BASE_URL N`` is what a child runs (prints one JSON line);
``--profile`` in a child prints a cProfile of the measured part to stderr.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import json
import math
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, cast

HERE = Path(__file__).resolve().parent


class Profiler(Protocol):
    """What watches a child's measured turns: a ``cProfile.Profile`` (``--profile``,
    profile_turn's time buckets) or opcodes.py's instruction counter."""

    def enable(self) -> None: ...

    def disable(self) -> None: ...


Runner = Callable[[str, list[str], Profiler | None], dict[str, Any]]
"""A child's runner: (base URL, prompts, profiler of the measured turns) -> its result."""
TOKEN = "bench-token"
AGENT, ENVIRONMENT = "agent_default", "env_default"
WARMUP = 5
Times = tuple[float, float, float, int]
"""One turn as a child reports it: (start, prompt posted, result in hand, messages)."""
CLIENTS = ("ours_sync", "ours_async", "naive_sync", "naive_async", "qca")
THROUGHPUT_CLIENTS = (
    "ours_sync",
    "ours_sync_stdlib",
    "ours_async",
    "ours_async_stdlib",
    "naive_sync",
    "naive_async",
)


def prompt(n: int) -> str:
    return f"Task {n}: look at the repository and report what you find."


def agent_sdk_options() -> Any:
    """qoder-agent-sdk's options for one cloud-agent conversation with the benchmark agent and
    environment (its base URL comes from ``QODER_CLOUD_AGENT_API_BASE``, set by the caller)."""
    import qoder_agent_sdk as sdk

    cloud: dict[str, Any] = {
        "agent": {"id": AGENT},
        "session": {"create": {"environment_id": ENVIRONMENT}},
    }
    return sdk.QoderAgentOptions(
        auth=sdk.access_token(TOKEN),
        experimental_cloud_agent=cast("sdk.types.CloudAgentOptions", cloud),
    )


# --- the children ----------------------------------------------------------------------------


def _options(base_url: str) -> Any:
    from qoder import QoderAgentOptions

    return QoderAgentOptions(auth=TOKEN, base_url=base_url, agent=AGENT, environment=ENVIRONMENT)


def _ours_sync(base_url: str, prompts: list[str], profiler: Profiler | None) -> dict[str, Any]:
    from qoder import ResultMessage, SyncClient

    def conversation(texts: list[str], prof: Profiler | None) -> tuple[str | None, list[Times]]:
        times: list[Times] = []
        with SyncClient(_options(base_url)) as client:
            if prof is not None:
                prof.enable()
            for text in texts:
                start = time.monotonic()
                client.query(text)
                posted = time.monotonic()
                count = 0
                for message in client.receive_response():
                    count += 1
                    if isinstance(message, ResultMessage):
                        assert not message.is_error, message
                times.append((start, posted, time.monotonic(), count))
            if prof is not None:
                prof.disable()
            return client.session_id, times

    conversation([prompt(0)] * WARMUP, None)
    return _measure(conversation, prompts, profiler)


def _ours_async(base_url: str, prompts: list[str], profiler: Profiler | None) -> dict[str, Any]:
    from qoder import AsyncClient, ResultMessage

    async def run(texts: list[str], prof: Profiler | None) -> tuple[str | None, list[Times]]:
        times: list[Times] = []
        async with AsyncClient(_options(base_url)) as client:
            if prof is not None:
                prof.enable()
            for text in texts:
                start = time.monotonic()
                await client.query(text)
                posted = time.monotonic()
                count = 0
                async for message in client.receive_response():
                    count += 1
                    if isinstance(message, ResultMessage):
                        assert not message.is_error, message
                times.append((start, posted, time.monotonic(), count))
            if prof is not None:
                prof.disable()
            return client.session_id, times

    def conversation(texts: list[str], prof: Profiler | None) -> tuple[str | None, list[Times]]:
        return asyncio.run(run(texts, prof))

    conversation([prompt(0)] * WARMUP, None)
    return _measure(conversation, prompts, profiler)


def _naive_sync(base_url: str, prompts: list[str], profiler: Profiler | None) -> dict[str, Any]:
    from naive import NaiveClient

    def conversation(texts: list[str], prof: Profiler | None) -> tuple[str | None, list[Times]]:
        client = NaiveClient(base_url, TOKEN)
        times: list[Times] = []
        try:
            client.connect(AGENT, ENVIRONMENT)
            if prof is not None:
                prof.enable()
            for text in texts:
                start = time.monotonic()
                echo = client.post(text)
                posted = time.monotonic()
                client.read_turn(echo)
                times.append((start, posted, time.monotonic(), 0))
            if prof is not None:
                prof.disable()
        finally:
            client.close()
        return client.session_id, times

    conversation([prompt(0)] * WARMUP, None)
    return _measure(conversation, prompts, profiler)


def _naive_async(base_url: str, prompts: list[str], profiler: Profiler | None) -> dict[str, Any]:
    from naive import AsyncNaiveClient

    async def run(texts: list[str], prof: Profiler | None) -> tuple[str | None, list[Times]]:
        client = AsyncNaiveClient(base_url, TOKEN)
        times: list[Times] = []
        try:
            await client.connect(AGENT, ENVIRONMENT)
            if prof is not None:
                prof.enable()
            for text in texts:
                start = time.monotonic()
                echo = await client.post(text)
                posted = time.monotonic()
                await client.read_turn(echo)
                times.append((start, posted, time.monotonic(), 0))
            if prof is not None:
                prof.disable()
        finally:
            await client.close()
        return client.session_id, times

    def conversation(texts: list[str], prof: Profiler | None) -> tuple[str | None, list[Times]]:
        return asyncio.run(run(texts, prof))

    conversation([prompt(0)] * WARMUP, None)
    return _measure(conversation, prompts, profiler)


def _qca(base_url: str, prompts: list[str], profiler: Profiler | None) -> dict[str, Any]:
    import qca as sdk

    def conversation(texts: list[str], prof: Profiler | None) -> tuple[str | None, list[Times]]:
        times: list[Times] = []
        with sdk.Managed(access_token=TOKEN, base_url=base_url) as client:
            session_id = client.sessions.create(agent=AGENT, environment_id=ENVIRONMENT).id
            assert session_id is not None
            with client.sessions.events.resumable_stream(session_id) as stream:
                for text in texts:
                    start = time.monotonic()
                    message: Any = {
                        "type": "user.message",
                        "content": [{"type": "text", "text": text}],
                    }
                    reply = client.sessions.events.send(session_id, events=[message])
                    echo = next(i.id for i in reply.data or () if i.type == "user.message")
                    started = False
                    for event in stream:
                        if not started:
                            started = event.id == echo
                        elif event.type == "session.status_idle":
                            break
                    times.append((start, start, time.monotonic(), 0))
        return session_id, times

    conversation([prompt(0)] * WARMUP, None)
    return _measure(conversation, prompts, profiler)


def _stdlib_json(runner: Runner) -> Runner:
    """``runner`` with our stdlib JSON backend forced first (what a default install uses)."""

    def run(base_url: str, prompts: list[str], profiler: Profiler | None) -> dict[str, Any]:
        from qoder._protocol.jsonio import use_json_backend

        use_json_backend("stdlib")
        return runner(base_url, prompts, profiler)

    return run


CHILDREN: dict[str, Runner] = {
    "ours_sync": _ours_sync,
    "ours_sync_stdlib": _stdlib_json(_ours_sync),
    "ours_async": _ours_async,
    "ours_async_stdlib": _stdlib_json(_ours_async),
    "naive_sync": _naive_sync,
    "naive_async": _naive_async,
    "qca": _qca,
}


def print_profile(prof: cProfile.Profile) -> None:
    """What ``--profile`` does with a child's profile: print it to stderr."""
    stats = pstats.Stats(prof, stream=sys.stderr)
    stats.sort_stats("tottime").print_stats(45)
    stats.sort_stats("cumulative").print_stats(60)


def _measure(conversation: Any, prompts: list[str], profiler: Profiler | None) -> dict[str, Any]:
    """Run ``conversation`` over ``prompts``, its measured turns (not the warm-up) watched by
    ``profiler`` when one is given."""
    session_id, times = conversation(prompts, profiler)
    return {"session": session_id, "times": times}


def child(argv: list[str]) -> None:
    client, mode, base_url, n = argv[0], argv[1], argv[2], int(argv[3])
    profile = cProfile.Profile() if "--profile" in argv else None
    prompts = [prompt(i) for i in range(1, n + 1)] if mode == "turns" else [f"bulk:{n}"]
    collections = _collections_log() if mode == "bulk" else None
    result = CHILDREN[client](base_url, prompts, profile)
    if profile is not None:
        print_profile(profile)
    if collections is not None:  # the cyclic collector's runs during the measured turn
        _, posted, end, _ = result["times"][0]
        during = [generation for at, generation in collections if posted <= at <= end]
        result["gc_collections"] = [during.count(generation) for generation in range(3)]
    if client.startswith("ours"):  # the naive client never imports qoder: stdlib json.loads
        from qoder._protocol.jsonio import json_backend

        result["json_backend"] = json_backend()
    print(json.dumps(result), flush=True)


def _collections_log() -> list[tuple[float, int]]:
    """From now on, the ``time.monotonic()`` and generation of each run of the cyclic garbage
    collector (the clients' turn times are on the same clock)."""
    log: list[tuple[float, int]] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            log.append((time.monotonic(), info["generation"]))

    gc.callbacks.append(note)
    return log


# --- the parent ------------------------------------------------------------------------------


@contextmanager
def served(keepalive: float = 1.0) -> Iterator[str]:
    """Run ``server.py`` in a process of its own; yield its base URL."""
    process = subprocess.Popen(
        [sys.executable, str(HERE / "server.py"), "--keepalive", str(keepalive)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        port = int(line.split()[1])
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        import httpx

        try:
            httpx.post(f"http://127.0.0.1:{port}/_bench/quit", timeout=2)
            process.wait(5)
        except Exception:
            process.kill()
            process.wait()


def server_turns(base_url: str) -> dict[str, dict[int, float]]:
    """The server's own time of each turn, by session and turn number."""
    import httpx

    root = base_url.rsplit("/v1", 1)[0]
    turns: dict[str, dict[int, float]] = {}
    for row in httpx.get(f"{root}/_bench/turns", timeout=10).json():
        turns.setdefault(row["session"], {})[row["n"]] = row["sent"] - row["received"]
    return turns


def run_child(
    client: str, mode: str, base_url: str, n: int, timeout: float = 120
) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "child", client, mode, base_url, str(n)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=HERE,
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def percentile(values: list[float], pct: float) -> float:
    """Nearest rank: the smallest value with at least ``pct``% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * pct / 100)) - 1]


def per_turn_median(rounds: list[list[float]]) -> list[float]:
    """Turn by turn, the median over the rounds (as many turns as the shortest round)."""
    if not rounds:
        return []
    return [statistics.median(r[i] for r in rounds) for i in range(min(map(len, rounds)))]


def overhead(
    rounds: int = 5, turns: int = 100, clients: tuple[str, ...] = CLIENTS
) -> dict[str, Any]:
    """Per client and round: the median per-turn overhead, latency and server time (ms), the
    p99 of latency and of overhead, and every turn's latency."""
    per: dict[str, list[float]] = {c: [] for c in clients}
    latency: dict[str, list[float]] = {c: [] for c in clients}
    server: dict[str, list[float]] = {c: [] for c in clients}
    p99: dict[str, list[float]] = {c: [] for c in clients}
    overhead_p99: dict[str, list[float]] = {c: [] for c in clients}
    per_turn: dict[str, list[list[float]]] = {c: [] for c in clients}
    backends: dict[str, str] = {}
    errors: dict[str, str] = {}
    with served() as base_url:
        for _ in range(rounds):
            for client in clients:
                got = run_child(client, "turns", base_url, turns)
                if "error" in got:
                    errors[client] = " ".join(got["error"])
                    continue
                _note_backend(backends, client, got)
                own = server_turns(base_url).get(got["session"], {})
                laps = [end - start for start, _, end, _ in got["times"]]
                costs = [own.get(i + 1, 0.0) for i in range(len(laps))]
                overheads = [a - b for a, b in zip(laps, costs, strict=True)]
                per[client].append(statistics.median(overheads) * 1e3)
                latency[client].append(statistics.median(laps) * 1e3)
                server[client].append(statistics.median(costs) * 1e3)
                p99[client].append(percentile(laps, 99) * 1e3)
                overhead_p99[client].append(percentile(overheads, 99) * 1e3)
                per_turn[client].append([lap * 1e3 for lap in laps])
    return {
        "rounds": rounds,
        "turns": turns,
        "overhead_ms": per,
        "latency_ms": latency,
        "server_ms": server,
        "latency_p99_ms": p99,
        "overhead_p99_ms": overhead_p99,
        "per_turn_ms": per_turn,
        "json_backend": backends,
        "errors": errors,
    }


def throughput(
    rounds: int = 5, events: int = 50_000, clients: tuple[str, ...] = THROUGHPUT_CLIENTS
) -> dict[str, Any]:
    """Per client: events/s of one turn of ``events`` agent messages, each round; for ours,
    the JSON backend it ran with (``json_backend``)."""
    rates: dict[str, list[float]] = {c: [] for c in clients}
    collections: dict[str, list[list[int]]] = {c: [] for c in clients}
    backends: dict[str, str] = {}
    errors: dict[str, str] = {}
    with served() as base_url:
        for _ in range(rounds):
            for client in clients:
                got = run_child(client, "bulk", base_url, events)
                if "error" in got:
                    errors[client] = " ".join(got["error"])
                    continue
                _note_backend(backends, client, got)
                _, posted, end, _ = got["times"][0]
                rates[client].append(events / (end - posted))
                collections[client].append(got["gc_collections"])
    return {
        "rounds": rounds,
        "events": events,
        "events_per_s": rates,
        "gc_collections": collections,
        "json_backend": backends,
        "errors": errors,
    }


def _note_backend(backends: dict[str, str], client: str, got: dict[str, Any]) -> None:
    """Keep the JSON backend a child of ours reported (``"mixed"`` if its rounds differ)."""
    name = got.get("json_backend")
    if name is not None:
        backends[client] = name if backends.get(client, name) == name else "mixed"


def main(argv: list[str]) -> None:
    if argv and argv[0] == "child":
        child(argv[1:])
        return
    rounds = int(argv[0]) if argv else 5
    result = overhead(rounds)
    for client, values in result["overhead_ms"].items():
        if values:
            print(
                f"{client:12s} overhead median {statistics.median(values):.3f} ms "
                f"(runs {', '.join(f'{v:.2f}' for v in values)}); latency "
                f"{statistics.median(result['latency_ms'][client]):.3f} ms, server "
                f"{statistics.median(result['server_ms'][client]) * 1e3:.0f} µs"
            )
    print(result["errors"])


if __name__ == "__main__":
    main(sys.argv[1:])
