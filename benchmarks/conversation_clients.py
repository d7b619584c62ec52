"""One client's side of the conversation benchmark, run in its own process by ``conversation.py``.

``python conversation_clients.py CLIENT BASE_URL TURNS WARMUP`` holds a conversation of TURNS
turns on one new session of the emulator at BASE_URL (127.0.0.1 only), after WARMUP turns on
another session of the same emulator (imports, first connections and code paths warm). It
prints one JSON object per line, flushed as it goes, so that the parent keeps what a client did
before it hung or failed:

* ``{"kind": "turn", "n": 1, "start": …, "end": …, "session_id": …, "text": …, "ok": …}``:
  ``start`` just before the prompt is sent, ``end`` when the turn's result is in hand
  (``time.monotonic()``, the same clock as the parent's on Linux);
* ``{"kind": "closed", "seconds": …}``: how long the client took to close afterwards;
* ``{"kind": "error", "message": …}`` if the client raised.

The clients, each used the way its documentation (or, for qca-sdk, our conformance harness)
holds a multi-turn conversation:

* ``ours_sync`` / ``ours_async``: ``SyncClient`` / ``AsyncClient`` (asyncio): ``query()``, then
  ``receive_response()`` up to its ``ResultMessage``; one session, one stream;
* ``agent_sdk``: qoder-agent-sdk's ``QoderSDKClient`` with ``experimental_cloud_agent`` (agent
  ``agent_default``, a new session in ``env_default``), its base URL from
  ``QODER_CLOUD_AGENT_API_BASE``: ``query()``, then ``receive_response()`` up to its
  ``ResultMessage``;
* ``qca``: qca-sdk's ``Managed``: ``sessions.create``, then per turn ``sessions.events.send``
  of the ``user.message`` and reading the session's one ``resumable_stream`` from our own echo
  to ``session.status_idle`` (qca has no conversation layer; heartbeats come out as events).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from typing import Any

TOKEN = "bench-token"
AGENT = "agent_default"
ENVIRONMENT = "env_default"
CLIENTS = ("ours_sync", "ours_async", "agent_sdk", "qca")


def prompt(n: int) -> str:
    """The user's message of turn ``n`` (1-based); the benchmark's agent answers any text."""
    return f"Task {n}: look at the repository and report what you find."


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def emit_turn(n: int, start: float, session_id: str | None, text: str | None, ok: bool) -> None:
    emit(
        kind="turn",
        n=n,
        start=start,
        end=time.monotonic(),
        session_id=session_id,
        text=text,
        ok=ok,
    )


# -- ours ----------------------------------------------------------------------------------


def _our_options(base_url: str) -> Any:
    from qoder import QoderAgentOptions

    return QoderAgentOptions(auth=TOKEN, base_url=base_url, agent=AGENT, environment=ENVIRONMENT)


def ours_sync(base_url: str, turns: int, report: bool) -> None:
    from qoder import ResultMessage, SyncClient

    client = SyncClient(_our_options(base_url))
    client.connect()
    try:
        for n in range(1, turns + 1):
            start = time.monotonic()
            client.query(prompt(n))
            result: ResultMessage | None = None
            for message in client.receive_response():
                if isinstance(message, ResultMessage):
                    result = message
            if report:
                ok = result is not None and not result.is_error
                text = result.result if result is not None else None
                emit_turn(n, start, client.session_id, text, ok)
    finally:
        closing = time.monotonic()
        client.disconnect()
        if report:
            emit(kind="closed", seconds=time.monotonic() - closing)


async def _ours_async(base_url: str, turns: int, report: bool) -> None:
    from qoder import AsyncClient, ResultMessage

    client = AsyncClient(_our_options(base_url))
    await client.connect()
    try:
        for n in range(1, turns + 1):
            start = time.monotonic()
            await client.query(prompt(n))
            result: ResultMessage | None = None
            async for message in client.receive_response():
                if isinstance(message, ResultMessage):
                    result = message
            if report:
                ok = result is not None and not result.is_error
                text = result.result if result is not None else None
                emit_turn(n, start, client.session_id, text, ok)
    finally:
        closing = time.monotonic()
        await client.disconnect()
        if report:
            emit(kind="closed", seconds=time.monotonic() - closing)


def ours_async(base_url: str, turns: int, report: bool) -> None:
    asyncio.run(_ours_async(base_url, turns, report))


# -- qoder-agent-sdk (source B) ------------------------------------------------------------


async def _agent_sdk(turns: int, report: bool) -> None:
    import qoder_agent_sdk as sdk
    from latency import agent_sdk_options

    client = sdk.QoderSDKClient(options=agent_sdk_options())
    await client.connect()
    try:
        for n in range(1, turns + 1):
            start = time.monotonic()
            await client.query(prompt(n))
            result: Any = None
            async for message in client.receive_response():
                if isinstance(message, sdk.ResultMessage):
                    result = message
            if report:
                ok = result is not None and not result.is_error
                text = getattr(result, "result", None)
                session_id = getattr(result, "session_id", None)
                emit_turn(n, start, session_id, text, ok)
    finally:
        closing = time.monotonic()
        await client.disconnect()
        if report:
            emit(kind="closed", seconds=time.monotonic() - closing)


def agent_sdk(base_url: str, turns: int, report: bool) -> None:
    # B reads its base URL only from QODER_CLOUD_AGENT_API_BASE: the parent sets it to
    # base_url in this process's environment.
    asyncio.run(_agent_sdk(turns, report))


# -- qca-sdk (source A) --------------------------------------------------------------------


def _text_of(content: Any) -> str:
    parts: list[str] = []
    for block in content or ():
        if getattr(block, "type", None) == "text" and isinstance(getattr(block, "text", None), str):
            parts.append(block.text)
    return "".join(parts)


def qca(base_url: str, turns: int, report: bool) -> None:
    import qca as sdk

    with sdk.Managed(access_token=TOKEN, base_url=base_url) as client:
        session_id = client.sessions.create(agent=AGENT, environment_id=ENVIRONMENT).id
        assert session_id is not None
        with client.sessions.events.resumable_stream(session_id) as stream:
            for n in range(1, turns + 1):
                start = time.monotonic()
                message: Any = {
                    "type": "user.message",
                    "content": [{"type": "text", "text": prompt(n)}],
                }
                reply = client.sessions.events.send(session_id, events=[message])
                echo = next(item.id for item in reply.data or () if item.type == "user.message")
                started, idle, texts = False, None, []
                for event in stream:
                    if event.type == "heartbeat":
                        continue
                    if not started:
                        started = event.id == echo
                    elif event.type == "agent.message":
                        texts.append(_text_of(event.content))
                    elif event.type == "session.status_idle":
                        idle = event
                        break
                if report:
                    ok = idle is not None and getattr(idle.stop_reason, "type", None) == "end_turn"
                    emit_turn(n, start, session_id, "".join(texts), ok)
            closing = time.monotonic()
    if report:
        emit(kind="closed", seconds=time.monotonic() - closing)


DRIVERS: dict[str, Callable[[str, int, bool], None]] = {
    "ours_sync": ours_sync,
    "ours_async": ours_async,
    "agent_sdk": agent_sdk,
    "qca": qca,
}


def main(argv: list[str]) -> int:
    client, base_url, turns, warmup = argv[0], argv[1], int(argv[2]), int(argv[3])
    driver = DRIVERS[client]
    try:
        if warmup:
            driver(base_url, warmup, False)
        driver(base_url, turns, True)
    except BaseException as error:
        emit(kind="error", message=f"{type(error).__name__}: {error}"[:500])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
