"""The emulator's own cost per turn, so that no figure measured against it is emulator-bound
without saying so.

``python emulator.py [ROUNDS]`` serves :class:`qoder.testing.FakeCloud` (default scripted agent)
with ``serve_in_thread`` on 127.0.0.1, as the conversation benchmark does (uvicorn in a thread
of this process, the client in a child process), its ASGI app timed:

* **own time**: from the turn's ``POST …/events`` reaching the app to the chunk with the turn's
  ``session.status_idle`` handed to uvicorn on the session's stream (the emulator plays the
  whole turn inside its POST handler);
* **POST handled**: from the POST reaching the app to its response's body handed to uvicorn.

The same children as the overhead benchmark (``latency.py child``: 5 warm-up turns, then 100
turns) run against it and against ``server.py``: the naive sync client, and ours sync. The
difference of a client's median latency between the two servers is what serving through the
emulator (its HTTP server included) adds to each turn.
"""

from __future__ import annotations

import re
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

from latency import TOKEN, run_child, served

from qoder.testing import FakeCloud, serve_in_thread
from qoder.testing._asgi import ASGIApp, Receive, Scope, Send

HERE = Path(__file__).resolve().parent
CLIENTS = ("naive_sync", "ours_sync")
TURNS = 100
_POST = re.compile(r"/sessions/([^/]+)/events$")
_STREAM = re.compile(r"/sessions/([^/]+)/events/stream$")


class TimedApp(ASGIApp):
    """The emulator's ASGI app, timing each turn's POST and each idle event sent on a stream."""

    def __init__(self, cloud: FakeCloud) -> None:
        super().__init__(cloud)
        self.lock = threading.Lock()
        self.posts: dict[str, list[tuple[float, float]]] = {}  # session: (in, answered)
        self.idles: dict[str, list[float]] = {}  # session: times an idle event went out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        post = _POST.search(path) if scope.get("method") == "POST" else None
        stream = _STREAM.search(path) if scope.get("method") == "GET" else None
        if post is not None:
            began = time.monotonic()
            await super().__call__(scope, receive, send)
            with self.lock:
                self.posts.setdefault(post[1], []).append((began, time.monotonic()))
        elif stream is not None:
            idles = self.idles.setdefault(stream[1], [])

            async def timed(message: Any) -> None:
                if message["type"] == "http.response.body":
                    count = message.get("body", b"").count(b"event: session.status_idle")
                    if count:
                        now = time.monotonic()
                        with self.lock:
                            idles.extend([now] * count)
                await send(message)

            await super().__call__(scope, receive, timed)
        else:
            await super().__call__(scope, receive, send)


class TimedCloud(FakeCloud):
    """A :class:`FakeCloud` served through :class:`TimedApp`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timed_app = TimedApp(self)

    def asgi_app(self) -> ASGIApp:
        return self.timed_app


def _latency_ms(got: dict[str, Any]) -> float:
    return float(statistics.median(end - start for start, _, end, _ in got["times"])) * 1e3


def run(rounds: int = 2, turns: int = TURNS, timeout: float = 60) -> dict[str, Any]:
    """Emulator own time and POST time per turn (ms, median per round), and each client's
    median latency against the emulator and against ``server.py``, per round."""
    own: list[float] = []
    post: list[float] = []
    latency: dict[str, dict[str, list[float]]] = {
        c: {"emulator": [], "server": []} for c in CLIENTS
    }
    errors: dict[str, str] = {}
    began = time.monotonic()
    cloud = TimedCloud(token=TOKEN)
    with served(keepalive=15.0) as server_url, serve_in_thread(cloud, host="127.0.0.1") as emu:
        for _ in range(rounds):
            for client in CLIENTS:
                for where, url in (("emulator", emu.base_url), ("server", server_url)):
                    got = run_child(client, "turns", url, turns, timeout)
                    if "error" in got:
                        errors[f"{client} ({where})"] = " ".join(got["error"])
                        continue
                    latency[client][where].append(_latency_ms(got))
                    if where != "emulator":
                        continue
                    with cloud.timed_app.lock:
                        posts = cloud.timed_app.posts.get(got["session"], [])
                        idles = cloud.timed_app.idles.get(got["session"], [])
                    pairs = list(zip(posts, idles, strict=False))
                    if len(pairs) != turns:
                        errors[f"{client} (emulator)"] = f"{len(pairs)} timed turns of {turns}"
                        continue
                    own.append(statistics.median(i - p[0] for p, i in pairs) * 1e3)
                    post.append(statistics.median(p[1] - p[0] for p, _ in pairs) * 1e3)
    return {
        "rounds": rounds,
        "turns": turns,
        "own_ms": own,
        "post_ms": post,
        "latency_ms": latency,
        "errors": errors,
        "seconds": time.monotonic() - began,
    }


def main(argv: list[str]) -> None:
    result = run(int(argv[0]) if argv else 2)
    print(
        f"emulator own {statistics.median(result['own_ms']):.3f} ms, POST "
        f"{statistics.median(result['post_ms']):.3f} ms  {result['own_ms']}"
    )
    for client, where in result["latency_ms"].items():
        print(client, {k: [round(v, 3) for v in vs] for k, vs in where.items()})
    print(result["errors"], f"{result['seconds']:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
