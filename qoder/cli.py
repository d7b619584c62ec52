"""The ``qoder`` command line: ``serve`` the emulator, ``chat`` with an agent, run the ``demo``.

``python -m qoder serve [--host 127.0.0.1] [--port 8765] [--token T] [--think-seconds S]
[--no-usd-cost]``
    The emulator of :mod:`qoder.testing` on loopback, under ``/api/v1/cloud``, with the agent
    ``agent_default`` and the environment ``env_default`` ready.
``python -m qoder chat [--local] [--pace SECONDS]``
    An interactive multi-turn chat on :class:`~qoder.SyncClient`; ``--local`` starts the
    emulator itself, otherwise the usual ``QODER_*`` variables configure it.
``python -m qoder demo [SCRIPT ...]``
    Start the emulator on a free port, point ``QODER_*`` environment variables at it, run the
    scripts (default: ``examples/multi_turn.py``) and stop it.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from .errors import QoderError

__all__ = ["ANY_TOKEN", "chat", "demo", "main", "serve", "serve_banner"]

DEFAULT_DEMO = Path("examples") / "multi_turn.py"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m qoder", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the Cloud Agents emulator on loopback")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--token", help="the only bearer token accepted (default: any)")
    serve.add_argument("--keepalive", type=float, default=15.0, help="seconds between heartbeats")
    serve.add_argument(
        "--think-seconds",
        type=float,
        default=0.0,
        help="the default agent thinks this long before every answer (interrupt() cuts it short)",
    )
    serve.add_argument(
        "--no-usd-cost",
        action="store_true",
        help="sessions report no USD cost (usage.list_cost), to try max_budget_usd without one",
    )

    chat = commands.add_parser("chat", help="chat with an agent in the terminal")
    chat.add_argument("--local", action="store_true", help="start the emulator and chat with it")
    chat.add_argument(
        "--pace", type=float, default=0.0, help="with --local: seconds between streamed events"
    )

    demo = commands.add_parser("demo", help="run example scripts against a local emulator")
    demo.add_argument("scripts", nargs="*", type=Path, help=f"default: {DEFAULT_DEMO}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return serve(
                args.host,
                args.port,
                args.token,
                keepalive=args.keepalive,
                think_seconds=args.think_seconds,
                report_usd_cost=not args.no_usd_cost,
            )
        if args.command == "chat":
            return chat(local=args.local, pace=args.pace)
        return demo(args.scripts or [DEFAULT_DEMO])
    except QoderError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


ANY_TOKEN = "emulator-token"
"""The token ``serve`` suggests when it accepts any (the emulator checks none)."""


def serve_banner(base_url: str, token: str | None) -> list[str]:
    """What ``serve`` prints once listening: the base URL, which token is accepted, and the
    ``export`` lines that point a client at it, ready to paste into a shell."""
    accepted = (
        "Only the bearer token given with --token is accepted."
        if token
        else "Any non-empty bearer token is accepted."
    )
    return [
        f"Qoder Cloud emulator listening on {base_url}",
        accepted,
        "Point a client at it (paste into a shell):",
        f"  export QODER_MANAGED_BASE_URL={base_url}",
        f"  export QODER_PERSONAL_ACCESS_TOKEN={token or ANY_TOKEN}",
        "  export QODER_AGENT_ID=agent_default",
        "  export QODER_ENVIRONMENT_ID=env_default",
    ]


def serve(
    host: str,
    port: int,
    token: str | None,
    *,
    keepalive: float = 15.0,
    think_seconds: float = 0.0,
    report_usd_cost: bool = True,
) -> int:
    """Serve the emulator until interrupted; an address that cannot be listened on is one
    line on stderr and the exit status 1."""
    from .testing import run_server

    def ready(base_url: str) -> None:
        print("\n".join(serve_banner(base_url, token)), flush=True)

    try:
        run_server(
            host,
            port,
            token,
            keepalive_interval=keepalive,
            on_ready=ready,
            think_seconds=think_seconds,
            report_usd_cost=report_usd_cost,
        )
    except OSError as error:
        if error.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        reason = error.strerror or str(error)
        print(f"error: cannot listen on {host}:{port}: {reason}", file=sys.stderr)
        return 1
    return 0


@contextlib.contextmanager
def _local_emulator(pace: float = 0.0) -> Iterator[dict[str, str]]:
    """An emulator on a free loopback port, and the environment that points a client at it;
    ``pace``: seconds before each event it streams."""
    from .testing import FakeCloud, StreamFault, serve_in_thread

    token = "demo-" + secrets.token_hex(8)
    cloud = FakeCloud(token=token)
    if pace > 0:
        cloud.inject(StreamFault(delay=pace, times=1_000_000))
    with serve_in_thread(cloud) as served:
        yield {
            "QODER_PERSONAL_ACCESS_TOKEN": token,
            "QODER_MANAGED_BASE_URL": served.base_url,
            "QODER_AGENT_ID": "agent_default",
            "QODER_ENVIRONMENT_ID": "env_default",
        }


def demo(scripts: Sequence[Path]) -> int:
    """Run each script against a fresh local emulator, configured by environment only."""
    for script in scripts:
        if not script.is_file():
            print(f"error: no such script: {script}", file=sys.stderr)
            return 2
    with _local_emulator() as env:
        print(f"emulator listening on {env['QODER_MANAGED_BASE_URL']}", flush=True)
        for script in scripts:
            print(f"--- {script}", flush=True)
            done = subprocess.run(
                [sys.executable, str(script)], env={**os.environ, **env}, timeout=120, check=False
            )
            if done.returncode != 0:
                return done.returncode
    return 0


def chat(
    *,
    local: bool,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    pace: float = 0.0,
) -> int:
    """An interactive chat: stream the agent's text as it arrives, show its tool calls, ask
    the user about the ones that need permission (see :mod:`qoder._chat_session`). ``pace``:
    with ``local``, seconds between the emulator's events, so that streaming shows."""
    if not local:
        return _chat_loop(stdin or sys.stdin, stdout or sys.stdout)
    with _local_emulator(pace=pace) as env:
        saved = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        try:
            return _chat_loop(stdin or sys.stdin, stdout or sys.stdout)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def _chat_loop(stdin: TextIO, out: TextIO) -> int:
    from ._chat_session import ChatSession

    return ChatSession(stdin, out).run()
