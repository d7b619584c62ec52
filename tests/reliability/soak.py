"""The fault soak: many turns over a served emulator that misbehaves, checked exactly once.

``run_soak(turns, facade_kind, seed)`` plays ``turns`` turns with one facade (``"sync"``,
``"asyncio"`` or ``"trio"``) against a :class:`~tests.reliability.chaos.ChaosCloud` served on
127.0.0.1, in sessions of :data:`TURNS_PER_SESSION` turns (one client and one stream per
session), with faults at ~10 % of opportunities chosen by a generator seeded with ``seed``:
every stream connection gets a fault (see :mod:`tests.reliability.chaos`), a POST gets a 409
"processing", a 429 with ``Retry-After``, a 503 with ``retry-after-ms`` or a 503 whose request
was carried out (the answer lost) one time in ten, and a turn is a ``session.error`` that the
server retries one time in ten.

After each session the messages the client delivered are compared with the emulator's own log
of the session, turn by turn (a turn is the log from its ``user.message`` to the next one):
every event the client turns into a message (``agent.*``, ``session.error``,
``session.status_rescheduled``) must be delivered once, in order, followed by exactly one
``ResultMessage``; lost, duplicated, foreign (another turn's) and reordered events are counted.

The command ``python -m tests.reliability.soak --turns 20000 --write docs/reliability.md``
(``make soak``) runs the turns split over the three facades, plus the cancellation run of
:mod:`tests.reliability.cancellation`, and writes the figures into the document.
"""

from __future__ import annotations

import argparse
import logging
import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio

from qoder import (
    AssistantMessage,
    AsyncClient,
    Message,
    QoderAgentOptions,
    ResultMessage,
    SyncClient,
    SystemMessage,
    UserMessage,
    tool,
)
from qoder.testing import DEFAULT_AGENT_ID, DEFAULT_ENVIRONMENT_ID, HttpFault, serve_in_thread
from tests.reliability.chaos import FAULT_RATE, KINDS, ChaosCloud, StreamChaos

__all__ = ["FACADES", "TURNS_PER_SESSION", "Report", "run_soak", "split_turns"]

FACADES = ("sync", "asyncio", "trio")
TURNS_PER_SESSION = 100
TOKEN = "soak-token"
TURN_BOUND = 30.0
"""Seconds one turn may take before the run counts it as a hang and stops."""

DELIVERED_TYPES = frozenset(
    {
        "agent.message",
        "agent.thinking",
        "agent.tool_use",
        "agent.custom_tool_use",
        "agent.mcp_tool_use",
        "agent.tool_result",
        "agent.mcp_tool_result",
        "session.error",
        "session.status_rescheduled",
    }
)
"""Persisted event types the client hands out as a message (the rest feed the result)."""

RESULT = "<result>"

_POST_FAULTS = {"post_429_retry_after": 3, "post_503_retry_after_ms": 3, "post_503_reply_lost": 3}
_POST_FAULTS["post_409_processing"] = 1  # the client paces 409 at 0.25 s+: kept rarer
_EVENTS_PATH = "/sessions/*/events"


@dataclass
class Report:
    """The figures of one run (or the sum of several, see :meth:`merge`)."""

    facades: list[str] = field(default_factory=list)
    seed: int = 0
    turns: int = 0
    sessions: int = 0
    completed: int = 0
    failed_results: int = 0
    events_checked: int = 0
    messages: int = 0
    lost: int = 0
    duplicated: int = 0
    foreign: int = 0
    reordered: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    opportunities: int = 0
    retries: int = 0
    reconnects: int = 0
    client_reconnect_warnings: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def held(self) -> bool:
        """Every turn completed and every event was delivered exactly once, in order."""
        bad = self.lost + self.duplicated + self.foreign + self.reordered + self.failed_results
        return self.completed == self.turns and bad == 0 and not self.problems

    def merge(self, other: Report) -> Report:
        """This report plus ``other``."""
        merged = Report(facades=[*self.facades, *other.facades], seed=self.seed)
        for name in [
            "turns",
            "sessions",
            "completed",
            "failed_results",
            "events_checked",
            "messages",
            "lost",
            "duplicated",
            "foreign",
            "reordered",
            "opportunities",
            "retries",
            "reconnects",
            "client_reconnect_warnings",
            "seconds",
        ]:
            setattr(merged, name, getattr(self, name) + getattr(other, name))
        merged.faults = self.faults + other.faults
        merged.problems = [*self.problems, *other.problems]
        return merged


def split_turns(turns: int, kinds: Sequence[str] = FACADES) -> dict[str, int]:
    """``turns`` split as evenly as possible over ``kinds``."""
    base, extra = divmod(turns, len(kinds))
    return {kind: base + (index < extra) for index, kind in enumerate(kinds)}


# --- what a turn delivered, against the emulator's log ------------------------------------------


def delivered_ids(messages: Sequence[Message]) -> list[str]:
    """The event ids of a turn's messages, in delivery order; the result as :data:`RESULT`."""
    ids: list[str] = []
    for message in messages:
        if isinstance(message, (AssistantMessage, UserMessage)):
            ids.append(message.uuid or "<no id>")
        elif isinstance(message, SystemMessage):
            ids.append(str(message.data.get("id", "<no id>")))
        elif isinstance(message, ResultMessage):
            ids.append(RESULT)
    return ids


def expected_turns(events: Sequence[dict[str, Any]]) -> list[list[str]]:
    """Per turn of a session's log, the ids its messages must carry, then :data:`RESULT`."""
    turns: list[list[str]] = []
    for event in events:
        if event["type"] == "user.message":
            turns.append([])
        elif turns and event["type"] in DELIVERED_TYPES:
            turns[-1].append(str(event["id"]))
    return [[*ids, RESULT] for ids in turns]


def compare_turn(expected: list[str], delivered: list[str], report: Report, where: str) -> None:
    """Count what ``delivered`` lost, repeated, took from elsewhere or reordered."""
    counts = Counter(delivered)
    wanted = set(expected)
    lost = sum(1 for event_id in expected if event_id not in counts)
    duplicated = sum(n - 1 for n in counts.values() if n > 1)
    foreign = sum(n for event_id, n in counts.items() if event_id not in wanted)
    reordered = int(not (lost or duplicated or foreign) and expected != delivered)
    report.events_checked += len(expected) - 1
    report.lost += lost
    report.duplicated += duplicated
    report.foreign += foreign
    report.reordered += reordered
    if (lost or duplicated or foreign or reordered) and len(report.problems) < 20:
        report.problems.append(f"{where}: expected {expected}, delivered {delivered}")


def check_session(
    cloud: ChaosCloud, session_id: str, turns: list[list[Message]], report: Report
) -> None:
    """Compare the delivered messages of every turn of a session with the emulator's log."""
    expected = expected_turns(cloud.events(session_id))
    if len(expected) != len(turns):
        report.problems.append(
            f"{session_id}: {len(turns)} turns played, {len(expected)} user.message persisted"
        )
    for number, (wanted, messages) in enumerate(zip(expected, turns, strict=False)):
        ids = delivered_ids(messages)
        compare_turn(wanted, ids, report, f"{session_id} turn {number}")
        report.messages += len(messages)
        result = messages[-1] if messages else None
        if isinstance(result, ResultMessage):
            report.completed += 1
            if result.is_error or result.subtype != "success":
                report.failed_results += 1
                if len(report.problems) < 20:
                    report.problems.append(f"{session_id} turn {number}: {result!r:.300}")


# --- the turns ---------------------------------------------------------------------------------


class TurnChaos:
    """The seeded choices on the client's side: each turn's script and its POST fault."""

    def __init__(self, cloud: ChaosCloud, rng: random.Random, report: Report) -> None:
        self.cloud = cloud
        self.rng = rng
        self.report = report
        self.armed: list[tuple[str, HttpFault]] = []
        self._kinds = list(KINDS)
        self._weights = list(KINDS.values())

    def prompt(self, number: int) -> str:
        """The next turn's prompt (its kind, and padding of random length)."""
        kind = self.rng.choices(self._kinds, self._weights)[0]
        if kind == "flaky":
            self.report.faults["session_error_retrying"] += 1
        padding = " ".join("w" * self.rng.randint(1, 9) for _ in range(self.rng.randint(0, 40)))
        return f"turn {number} kind={kind} {padding}"

    def maybe_fault_next_post(self) -> None:
        """With odds :data:`FAULT_RATE`, make the next ``POST …/events`` fail once."""
        self.report.opportunities += 1
        if self.rng.random() >= FAULT_RATE:
            return
        kind = self.rng.choices(list(_POST_FAULTS), list(_POST_FAULTS.values()))[0]
        if kind == "post_409_processing":
            fault = HttpFault(409, method="POST", path=_EVENTS_PATH)
        elif kind == "post_429_retry_after":
            fault = HttpFault(429, method="POST", path=_EVENTS_PATH, retry_after=0.001)
        elif kind == "post_503_retry_after_ms":
            fault = HttpFault(503, method="POST", path=_EVENTS_PATH, retry_after_ms=1)
        else:
            fault = HttpFault(
                503, method="POST", path=_EVENTS_PATH, retry_after_ms=1, after_processing=True
            )
        self.armed.append((kind, self.cloud.inject(fault)))

    def settle(self) -> None:
        """Count the POST faults that fired; disarm the rest (between sessions)."""
        for kind, fault in self.armed:
            if fault.used:
                self.report.faults[kind] += 1
        self.armed.clear()
        self.cloud.clear_faults()


def _options(base_url: str, **overrides: Any) -> QoderAgentOptions:
    values: dict[str, Any] = {
        "auth": TOKEN,
        "base_url": base_url,
        "agent": DEFAULT_AGENT_ID,
        "environment": DEFAULT_ENVIRONMENT_ID,
        "timeout": 10.0,
        "stream_reconnect_delay": 0.001,
        "max_stream_reconnects": 20,
        "max_retries": 3,
        "stream_idle_timeout": 5.0,
    }
    values.update(overrides)
    return QoderAgentOptions(**values)


def _sync_tool(chaos: TurnChaos) -> Any:
    def echo(text: str) -> str:
        chaos.maybe_fault_next_post()  # the answer's POST is an opportunity too
        return text

    return tool(echo, name="echo", description="Echo the text back")


def _async_tool(chaos: TurnChaos) -> Any:
    async def echo(text: str) -> str:
        chaos.maybe_fault_next_post()
        return text

    return tool(echo, name="echo", description="Echo the text back")


def _sync_session(
    base_url: str, chaos: TurnChaos, first: int, count: int
) -> tuple[str, list[list[Message]]]:
    turns: list[list[Message]] = []
    with SyncClient(_options(base_url, tools=[_sync_tool(chaos)])) as client:
        for number in range(first, first + count):
            chaos.maybe_fault_next_post()
            client.query(chaos.prompt(number))
            turns.append(list(client.receive_response()))
        session_id = client.session_id
    assert session_id is not None
    return session_id, turns


async def _async_session(
    base_url: str, chaos: TurnChaos, first: int, count: int
) -> tuple[str, list[list[Message]]]:
    turns: list[list[Message]] = []
    async with AsyncClient(_options(base_url, tools=[_async_tool(chaos)])) as client:
        for number in range(first, first + count):
            with anyio.fail_after(TURN_BOUND):
                chaos.maybe_fault_next_post()
                await client.query(chaos.prompt(number))
                turns.append([message async for message in client.receive_response()])
        session_id = client.session_id
    assert session_id is not None
    return session_id, turns


@contextmanager
def counting_reconnect_warnings(report: Report) -> Iterator[None]:
    """Count the client's own reconnect warnings (the ``qoder`` logger), without printing them."""
    logger = logging.getLogger("qoder")

    class Counting(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "dropped" in record.getMessage():
                report.client_reconnect_warnings += 1

    handler = Counting(logging.WARNING)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.propagate = propagate
        logger.removeHandler(handler)


def _server_counts(cloud: ChaosCloud, start: int, report: Report) -> int:
    """Add the retried requests and the stream reconnects the emulator saw since ``start``."""
    requests = cloud.requests[start:]
    for request in requests:
        if request.path.endswith("/events/stream"):
            report.reconnects += 1
        if (request.header("x-qoder-retry-count") or "0") != "0":
            report.retries += 1
    return start + len(requests)


def run_soak(
    turns: int, facade_kind: str, seed: int, *, per_session: int = TURNS_PER_SESSION
) -> Report:
    """Play ``turns`` turns with one facade against a served chaos cloud; the figures."""
    if facade_kind not in FACADES:
        raise ValueError(f"facade_kind must be one of {FACADES}, got {facade_kind!r}")
    report = Report(facades=[facade_kind], seed=seed, turns=turns)
    streams = StreamChaos(random.Random(f"{seed}-{facade_kind}-streams"))
    cloud = ChaosCloud(streams, token=TOKEN, keepalive_interval=0.01)
    chaos = TurnChaos(cloud, random.Random(f"{seed}-{facade_kind}-turns"), report)
    started = time.monotonic()
    seen = 0
    with serve_in_thread(cloud) as served, counting_reconnect_warnings(report):
        for first in range(0, turns, per_session):
            count = min(per_session, turns - first)
            if facade_kind == "sync":
                session_id, played = _sync_session(served.base_url, chaos, first, count)
            else:
                session_id, played = anyio.run(
                    _async_session, served.base_url, chaos, first, count, backend=facade_kind
                )
            if not cloud.wait_for_streams(0, timeout=5):
                report.problems.append(f"{session_id}: a stream stayed open after disconnect()")
            report.sessions += 1
            check_session(cloud, session_id, played, report)
            chaos.settle()
            seen = _server_counts(cloud, seen, report)
    report.reconnects -= report.sessions  # the first connection of each session is no reconnect
    report.faults.update(streams.fired)
    report.opportunities += streams.frames
    report.seconds = time.monotonic() - started
    return report


# --- the command -------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tests.reliability.soak``: run, print the figures, optionally write the doc."""
    from tests.reliability import cancellation, report_doc

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--turns", type=int, default=20_000, help="fault-soak turns, split")
    parser.add_argument("--cancellations", type=int, default=1_500, help="cancelled turns, split")
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--facades", default=",".join(FACADES))
    parser.add_argument("--write", metavar="PATH", help="write the figures into this document")
    parser.add_argument("--section", default="soak", choices=("soak", "bounded"))
    args = parser.parse_args(argv)
    kinds = [kind for kind in args.facades.split(",") if kind]
    soak = Report(seed=args.seed)
    for kind, count in split_turns(args.turns, kinds).items():
        part = run_soak(count, kind, args.seed)
        print(report_doc.soak_line(part), flush=True)
        soak = soak.merge(part)
    cancels = cancellation.CancelReport(seed=args.seed)
    for kind, count in split_turns(args.cancellations, kinds).items():
        done = cancellation.run_cancellations(count, kind, args.seed)
        print(report_doc.cancel_line(done), flush=True)
        cancels = cancels.merge(done)
    text = report_doc.section(args.section, soak, cancels)
    print(text)
    if args.write:
        report_doc.write(args.write, args.section, text)
    return 0 if soak.held and cancels.held else 1


if __name__ == "__main__":
    raise SystemExit(main())
