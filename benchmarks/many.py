"""Many conversations at once: N ``AsyncClient`` conversations x T turns on one event loop.

``python many.py`` starts ``server.py`` and runs, each in a child process of its own, the
setups below, taking turns round by round; a child prints its turns per second (all turns of
all conversations over the wall time from the first connect to the last turn's result):

* ``ours_own``: every ``AsyncClient`` makes its own HTTP client (the default; what
  docs/configuration.md recommends for many conversations);
* ``ours_shared``: all share one ``httpx.AsyncClient`` with an unbounded pool (one long-lived
  stream connection per conversation in the one pool: httpcore's pool looks at every
  connection for every request, quadratic in the number of conversations);
* ``ours_sharded``: one shared client per ``SHARD`` conversations;
* ``naive_own`` / ``naive_sharded`` / ``naive_shared``: the naive client (``naive.py``) in the
  same three setups.

``python many.py official`` tries the official clients at rising counts (``official()``):
``qca_one_each`` (qca-sdk by hand, each conversation its own ``AsyncManaged`` on its own
``httpx.AsyncClient``) and ``agent_sdk`` (qoder-agent-sdk's ``QoderSDKClient``, cloud agent
mode), against a ``server.py`` with a 1 s keep-alive, each count under a hard timeout, stopping
at the first that fails.

``python many.py child SETUP BASE_URL N TURNS`` is one child.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from latency import AGENT, ENVIRONMENT, TOKEN, agent_sdk_options, prompt, served

HERE = Path(__file__).resolve().parent
SHARD = int(os.environ.get("QODER_BENCH_SHARD", "10"))
SETUPS = (
    "ours_one_each",
    "naive_one_each",
    "ours_own",
    "naive_own",
    "ours_sharded",
    "naive_sharded",
    "ours_shared",
    "naive_shared",
)


def _ssl_context() -> Any:
    """One SSL context for the process: making one loads the CA bundle (about 35 ms)."""
    global _SSL
    if _SSL is None:
        import httpx

        _SSL = httpx.create_ssl_context()
    return _SSL


_SSL: Any = None


def _limits() -> Any:
    import httpx

    return httpx.Limits(max_connections=None, max_keepalive_connections=None)


async def _ours(base_url: str, n: int, turns: int, shard: int | None) -> None:
    """``shard``: conversations per shared HTTP client (``None``: each its own, made by the
    client; 1: each its own, made here with the process's one SSL context)."""
    import httpx

    from qoder import AsyncClient, QoderAgentOptions, ResultMessage

    options = QoderAgentOptions(auth=TOKEN, base_url=base_url, agent=AGENT, environment=ENVIRONMENT)
    pools: list[httpx.AsyncClient] = []
    if shard is not None:
        verify = _ssl_context()
        pools = [
            httpx.AsyncClient(limits=_limits(), timeout=60, verify=verify)
            for _ in range((n + shard - 1) // shard)
        ]

    async def converse(i: int) -> None:
        http = pools[i // shard] if shard is not None else None
        async with AsyncClient(options, http_client=http) as client:
            for t in range(turns):
                await client.query(prompt(t))
                async for message in client.receive_response():
                    if isinstance(message, ResultMessage):
                        assert not message.is_error, message

    try:
        await _gather(converse, n)
    finally:
        for pool in pools:
            await pool.aclose()


async def _naive(base_url: str, n: int, turns: int, shard: int | None) -> None:
    import httpx
    from naive import AsyncNaiveClient

    pools = [
        httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {TOKEN}"},
            limits=_limits(),
            timeout=60,
            verify=_ssl_context(),
        )
        for _ in range((n + shard - 1) // shard if shard is not None else 0)
    ]

    async def converse(i: int) -> None:
        pool = pools[i // shard] if shard is not None else None
        client = AsyncNaiveClient(base_url, TOKEN, http=pool)
        try:
            await client.connect(AGENT, ENVIRONMENT)
            for t in range(turns):
                await client.turn(prompt(t))
        finally:
            await client.close()

    try:
        await _gather(converse, n)
    finally:
        for pool in pools:
            await pool.aclose()


async def _qca(base_url: str, n: int, turns: int) -> None:
    """qca-sdk by hand (no conversation layer), in the recommended setup: each conversation its
    own ``AsyncManaged`` on its own ``httpx.AsyncClient``, one SSL context; per turn
    ``events.send`` and the session's one ``resumable_stream`` read from the echo to the idle."""
    import httpx
    import qca

    async def converse(i: int) -> None:
        async with httpx.AsyncClient(timeout=60, verify=_ssl_context()) as http:
            client = qca.AsyncManaged(access_token=TOKEN, base_url=base_url, http_client=http)
            session = await client.sessions.create(agent=AGENT, environment_id=ENVIRONMENT)
            assert session.id is not None
            async with client.sessions.events.resumable_stream(session.id) as stream:
                for t in range(turns):
                    message: Any = {
                        "type": "user.message",
                        "content": [{"type": "text", "text": prompt(t)}],
                    }
                    reply = await client.sessions.events.send(session.id, events=[message])
                    echo = next(e.id for e in reply.data or () if e.type == "user.message")
                    started = False
                    async for event in stream:
                        if not started:
                            started = event.id == echo
                        elif event.type == "session.status_idle":
                            break

    await _gather(converse, n)


async def _agent_sdk(base_url: str, n: int, turns: int) -> None:
    """qoder-agent-sdk's ``QoderSDKClient`` in cloud agent mode, one per conversation (its base
    URL from ``QODER_CLOUD_AGENT_API_BASE``, set by the parent)."""
    import qoder_agent_sdk as sdk

    options = agent_sdk_options()

    async def converse(i: int) -> None:
        client = sdk.QoderSDKClient(options=options)
        await client.connect()
        try:
            for t in range(turns):
                await client.query(prompt(t))
                async for message in client.receive_response():
                    if isinstance(message, sdk.ResultMessage):
                        assert not message.is_error, message
        finally:
            await client.disconnect()

    await _gather(converse, n)


async def _gather(converse: Callable[[int], Awaitable[None]], n: int) -> None:
    await asyncio.gather(*(converse(i) for i in range(n)))


RUNNERS: dict[str, Callable[[str, int, int], Coroutine[Any, Any, None]]] = {
    "ours_own": lambda url, n, t: _ours(url, n, t, None),
    "ours_shared": lambda url, n, t: _ours(url, n, t, n),
    "ours_sharded": lambda url, n, t: _ours(url, n, t, SHARD),
    "naive_own": lambda url, n, t: _naive(url, n, t, None),
    "naive_shared": lambda url, n, t: _naive(url, n, t, n),
    "naive_sharded": lambda url, n, t: _naive(url, n, t, SHARD),
    "ours_one_each": lambda url, n, t: _ours(url, n, t, 1),
    "naive_one_each": lambda url, n, t: _naive(url, n, t, 1),
    "qca_one_each": _qca,
    "agent_sdk": _agent_sdk,
}


def child(argv: list[str]) -> None:
    setup, base_url, n, turns = argv[0], argv[1], int(argv[2]), int(argv[3])
    runner = RUNNERS[setup]
    asyncio.run(runner(base_url, 5, 1))  # warm-up: imports, first connections
    start = time.perf_counter()
    asyncio.run(runner(base_url, n, turns))
    elapsed = time.perf_counter() - start
    print(json.dumps({"turns_per_s": n * turns / elapsed, "seconds": elapsed}), flush=True)


PRIMARY = ("ours_one_each", "naive_one_each")
"""The setups the target compares, run ``rounds`` times; the others once."""
OTHERS = ("ours_own", "ours_sharded", "naive_sharded")
SCAN = (50, 100, 200)
"""Conversation counts for the shared-pool scan (the wall: beyond these it takes minutes)."""
SCAN_SETUPS = ("ours_shared", "naive_shared", "ours_one_each")


def _child(
    setup: str, base_url: str, n: int, turns: int, timeout: float, env: dict[str, str] | None = None
) -> float | str:
    argv = [sys.executable, str(Path(__file__).resolve()), "child", setup, base_url]
    try:
        done = subprocess.run(
            [*argv, str(n), str(turns)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=HERE,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return f"{n} conversations: over {timeout:.0f} s"
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or ["failed"])[-1]
    return float(json.loads(done.stdout.strip().splitlines()[-1])["turns_per_s"])


def run(
    rounds: int = 3,
    conversations: int = 1000,
    turns: int = 3,
    *,
    others: tuple[str, ...] = OTHERS,
    scan: tuple[int, ...] = SCAN,
    timeout: float = 90,
) -> dict[str, Any]:
    """Per setup: turns per second of each round; the scan: {count: {setup: turns/s}}."""
    rates: dict[str, list[float]] = {s: [] for s in (*PRIMARY, *others)}
    errors: dict[str, str] = {}
    found: dict[int, dict[str, float]] = {}
    with served(keepalive=15.0) as base_url:
        plan = [setup for _ in range(rounds) for setup in PRIMARY] + list(others)
        for setup in plan:
            got = _child(setup, base_url, conversations, turns, timeout)
            if isinstance(got, str):
                errors[setup] = got
            else:
                rates[setup].append(got)
        for n in scan:
            for setup in SCAN_SETUPS:
                got = _child(setup, base_url, n, turns, timeout)
                if isinstance(got, str):
                    errors[f"{setup} (scan)"] = got
                else:
                    found.setdefault(n, {})[setup] = got
    return {
        "rounds": rounds,
        "conversations": conversations,
        "turns": turns,
        "shard": SHARD,
        "turns_per_s": rates,
        "scan": found,
        "errors": errors,
    }


OFFICIAL: dict[str, tuple[int, ...]] = {
    "qca_one_each": (10, 50, 100),
    "agent_sdk": (3, 10, 50, 100),
    "ours_one_each": (100,),
}
"""The official clients and the counts they are tried at, in turn, until one fails; ours in the
same setup at the largest count, as the yardstick. qoder-agent-sdk starts at 3: its turns do not
overlap (about 1.4 turns/s whatever the count), so 10 conversations of 3 turns take about 25 s."""
OFFICIAL_KEEPALIVE = 1.0
"""The server's keep-alive for this part: qoder-agent-sdk's turn ends only at the next one
(docs/protocol.md §7 #11), so at the 15 s of the main run it would take 15 s a turn."""


def official(
    turns: int = 3, timeout: float = 18, setups: dict[str, tuple[int, ...]] | None = None
) -> dict[str, Any]:
    """Per setup, each count in turn until one fails (an error, or past ``timeout``): turns
    per second at each count that completed with no error."""
    from conversation import _child_env

    setups = OFFICIAL if setups is None else setups
    found: dict[str, dict[int, float]] = {s: {} for s in setups}
    errors: dict[str, str] = {}
    began = time.monotonic()
    with served(keepalive=OFFICIAL_KEEPALIVE) as base_url:
        env = _child_env(base_url)
        for setup, counts in setups.items():
            for n in counts:
                got = _child(setup, base_url, n, turns, timeout, env)
                if isinstance(got, str):
                    errors[setup] = got if got.startswith(f"{n} ") else f"{n} conversations: {got}"
                    break
                found[setup][n] = got
    return {
        "counts": sorted({n for counts in setups.values() for n in counts}),
        "tried": {setup: list(counts) for setup, counts in setups.items()},
        "turns": turns,
        "timeout": timeout,
        "keepalive": OFFICIAL_KEEPALIVE,
        "turns_per_s": found,
        "errors": errors,
        "seconds": time.monotonic() - began,
    }


def main(argv: list[str]) -> None:
    if argv and argv[0] == "official":
        print(official())
        return
    if argv and argv[0] == "child":
        child(argv[1:])
        return
    conversations = int(argv[0]) if argv else 1000
    rounds = int(argv[1]) if len(argv) > 1 else 2
    result = run(rounds, conversations)
    print(result["scan"])
    for setup, values in result["turns_per_s"].items():
        if values:
            print(f"{setup:14s} {statistics.median(values):8.0f} turns/s  {values}")
    print(result["errors"])


if __name__ == "__main__":
    main(sys.argv[1:])
