"""Connect and disconnect time against the independent server (``server.py``).

``python connect.py [ROUNDS] [N]`` runs each client in a child process of its own (the clients
taking turns round by round); a child makes ``WARMUP`` conversations first, then ``N``, one
after the other, and times each one's two halves with ``time.perf_counter``:

* **connect**: from nothing to a conversation ready for its first prompt: the client object
  made, the session created (``POST /sessions``), the event stream open (its response headers
  in);
* **disconnect**: the stream closed and the HTTP client the conversation made closed.

Clients: ours (``SyncClient`` / ``AsyncClient``, the default: each makes its own HTTP client,
with the process's one SSL context); the naive client, sync and async, each conversation its
own ``httpx`` client made with one SSL context of the process (the same setup); qca-sdk sync
and async, by hand: its one ``Managed`` / ``AsyncManaged`` per process (a resource client, as
qca-sdk is used), ``sessions.create`` + ``sessions.events.stream()`` (which returns when the
headers are in), and closing that stream. A child's figure is the median over its ``N``; the
table's the median of the rounds.

``python connect.py child CLIENT BASE_URL N`` is one child (prints one JSON line).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from latency import AGENT, ENVIRONMENT, TOKEN, served

HERE = Path(__file__).resolve().parent
WARMUP = 5
CLIENTS = ("ours_sync", "ours_async", "naive_sync", "naive_async", "qca_sync", "qca_async")
Laps = list[tuple[float, float]]


def _options(base_url: str) -> Any:
    from qoder import QoderAgentOptions

    return QoderAgentOptions(auth=TOKEN, base_url=base_url, agent=AGENT, environment=ENVIRONMENT)


def _ours_sync(base_url: str, n: int) -> Laps:
    from qoder import SyncClient

    laps: Laps = []
    for _ in range(n):
        start = time.perf_counter()
        client = SyncClient(_options(base_url))
        client.connect()
        connected = time.perf_counter()
        client.disconnect()
        laps.append((connected - start, time.perf_counter() - connected))
    return laps


async def _ours_async(base_url: str, n: int) -> Laps:
    from qoder import AsyncClient

    laps: Laps = []
    for _ in range(n):
        start = time.perf_counter()
        client = AsyncClient(_options(base_url))
        await client.connect()
        connected = time.perf_counter()
        await client.disconnect()
        laps.append((connected - start, time.perf_counter() - connected))
    return laps


def _naive_sync(base_url: str, n: int) -> Laps:
    import httpx
    from naive import NaiveClient

    tls = httpx.create_ssl_context()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    laps: Laps = []
    for _ in range(n):
        start = time.perf_counter()
        http = httpx.Client(base_url=base_url, headers=headers, timeout=30, verify=tls)
        client = NaiveClient(base_url, TOKEN, http=http)
        client.connect(AGENT, ENVIRONMENT)
        connected = time.perf_counter()
        client.close()  # the stream, then the HTTP client
        laps.append((connected - start, time.perf_counter() - connected))
    return laps


async def _naive_async(base_url: str, n: int) -> Laps:
    import httpx
    from naive import AsyncNaiveClient

    tls = httpx.create_ssl_context()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    laps: Laps = []
    for _ in range(n):
        start = time.perf_counter()
        http = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30, verify=tls)
        client = AsyncNaiveClient(base_url, TOKEN, http=http)
        await client.connect(AGENT, ENVIRONMENT)
        connected = time.perf_counter()
        await client.close()
        await http.aclose()
        laps.append((connected - start, time.perf_counter() - connected))
    return laps


_QCA: dict[str, Any] = {}


def _qca_sync(base_url: str, n: int) -> Laps:
    import qca

    client = _QCA.get("sync") or _QCA.setdefault(
        "sync", qca.Managed(access_token=TOKEN, base_url=base_url)
    )
    laps: Laps = []
    for _ in range(n):
        start = time.perf_counter()
        session_id = client.sessions.create(agent=AGENT, environment_id=ENVIRONMENT).id
        assert session_id is not None
        stream = client.sessions.events.stream(session_id)
        connected = time.perf_counter()
        stream.close()
        laps.append((connected - start, time.perf_counter() - connected))
    return laps


async def _qca_async(base_url: str, n: int) -> Laps:
    import qca

    client = _QCA.get("async") or _QCA.setdefault(
        "async", qca.AsyncManaged(access_token=TOKEN, base_url=base_url)
    )
    laps: Laps = []
    for _ in range(n):
        start = time.perf_counter()
        session_id = (await client.sessions.create(agent=AGENT, environment_id=ENVIRONMENT)).id
        assert session_id is not None
        stream = await client.sessions.events.stream(session_id)
        connected = time.perf_counter()
        await stream.close()
        laps.append((connected - start, time.perf_counter() - connected))
    return laps


SYNC: dict[str, Callable[[str, int], Laps]] = {
    "ours_sync": _ours_sync,
    "naive_sync": _naive_sync,
    "qca_sync": _qca_sync,
}
ASYNC: dict[str, Callable[[str, int], Awaitable[Laps]]] = {
    "ours_async": _ours_async,
    "naive_async": _naive_async,
    "qca_async": _qca_async,
}


def child(argv: list[str]) -> None:
    client, base_url, n = argv[0], argv[1], int(argv[2])
    if client in SYNC:
        SYNC[client](base_url, WARMUP)
        laps = SYNC[client](base_url, n)
    else:

        async def both() -> Laps:
            await ASYNC[client](base_url, WARMUP)
            return await ASYNC[client](base_url, n)

        laps = asyncio.run(both())
    print(
        json.dumps(
            {
                "connect": statistics.median(a for a, _ in laps),
                "disconnect": statistics.median(b for _, b in laps),
            }
        ),
        flush=True,
    )


def run(
    rounds: int = 3, n: int = 40, clients: tuple[str, ...] = CLIENTS, timeout: float = 60
) -> dict[str, Any]:
    """Per client: median connect and disconnect seconds of each round."""
    connect: dict[str, list[float]] = {c: [] for c in clients}
    disconnect: dict[str, list[float]] = {c: [] for c in clients}
    errors: dict[str, str] = {}
    began = time.monotonic()
    with served(keepalive=15.0) as base_url:
        for _ in range(rounds):
            for client in clients:
                command = [sys.executable, str(Path(__file__).resolve()), "child", client]
                try:
                    done = subprocess.run(
                        [*command, base_url, str(n)],
                        capture_output=True,
                        text=True,
                        timeout=timeout,
                        cwd=HERE,
                    )
                except subprocess.TimeoutExpired:
                    errors[client] = f"over the {timeout:.0f} s timeout"
                    continue
                if done.returncode != 0:
                    errors[client] = (done.stderr.strip().splitlines() or ["failed"])[-1]
                    continue
                got = json.loads(done.stdout.strip().splitlines()[-1])
                connect[client].append(float(got["connect"]))
                disconnect[client].append(float(got["disconnect"]))
    return {
        "rounds": rounds,
        "n": n,
        "warmup": WARMUP,
        "connect": connect,
        "disconnect": disconnect,
        "errors": errors,
        "seconds": time.monotonic() - began,
    }


def main(argv: list[str]) -> None:
    if argv and argv[0] == "child":
        child(argv[1:])
        return
    result = run(int(argv[0]) if argv else 3, int(argv[1]) if len(argv) > 1 else 40)
    for client in result["connect"]:
        if result["connect"][client]:
            print(
                f"{client:12s} connect {statistics.median(result['connect'][client]) * 1e3:7.2f} "
                f"ms  disconnect {statistics.median(result['disconnect'][client]) * 1e3:7.2f} ms"
            )
    print(result["errors"], f"{result['seconds']:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
