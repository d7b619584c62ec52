"""Cancellation at random points, then a new client on the same session (docs/reliability.md).

``run_cancellations(turns, facade_kind, seed)`` plays ``turns`` iterations against a served
emulator (no stream faults here: the cancellation is the fault). Each iteration: a client
attached with ``resume=session_id`` first checks that it continues the session (it picks up a
turn still running whole, or plays a new turn complete); then a turn is cancelled at a point
chosen by a generator seeded with ``seed``:

* async (asyncio, trio): a cancel scope around the reading loop after k messages; the reading
  task cancelled from outside by its task group after k messages; a cancel scope cancelled from
  inside a tool handler; a cancel scope around ``query()`` while it waits out a 503's
  ``retry-after-ms``;
* sync: an exception raised from the consuming loop after k messages; ``KeyboardInterrupt`` by a
  real SIGINT while the reader blocks on a quiet stream, or while a tool handler runs, or while
  ``query()`` waits out a 503; ``disconnect()`` from another thread while one reads.

Half the time the same client then reads the turn on (what it delivered before and after the
cancellation must be the turn, exactly once, in order). Then it disconnects, and the iteration
checks: no stream open at the emulator, no request in flight and no busy connection in the
HTTP pool, the thread count back to where it was, no task left (asyncio / trio), no warning
and no unraisable exception (a ``ResourceWarning`` of an unclosed socket included).
"""

from __future__ import annotations

import contextlib
import gc
import random
import re
import signal
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import anyio
import httpx

from qoder import AsyncClient, Message, SyncClient, tool
from qoder.testing import HttpFault, serve_in_thread
from tests.reliability.chaos import ChaosCloud, StreamChaos
from tests.reliability.soak import (
    TOKEN,
    Report,
    _options,
    compare_turn,
    delivered_ids,
    expected_turns,
)

__all__ = ["ASYNC_MODES", "SYNC_MODES", "CancelReport", "run_cancellations"]

ASYNC_MODES = ("scope_after_k", "task_after_k", "scope_in_tool", "scope_in_backoff")
SYNC_MODES: tuple[str, ...] = (
    "raise_after_k",
    "sigint_in_read",
    "sigint_in_tool",
    "sigint_in_backoff",
)
SYNC_MODES += ("disconnect_from_thread",)
ITERATIONS_PER_SESSION = 50
BOUND = 10.0
_LONG_WAIT_MS = 30_000.0  # a backoff the cancellation must cut short
_KINDS = ("plain", "multi", "think", "bash", "tool")
_EVENTS_PATH = "/sessions/*/events"
_KNOWN = re.compile(r"^Async generator '(httpx|httpcore|respx)\.")
"""The one warning the suite ignores too (pyproject.toml): trio finalising httpx's nested byte
iterators, which httpx leaves to the event loop; the response and its connection are closed."""


class _Stop(Exception):
    """Raised from the consuming loop (the sync 'exception in the loop' cancellation)."""


@dataclass
class CancelReport:
    """The figures of a cancellation run."""

    facades: list[str] = field(default_factory=list)
    seed: int = 0
    turns: int = 0
    modes: Counter[str] = field(default_factory=Counter)
    interrupted: int = 0
    continued_same_client: int = 0
    picked_up_by_new_client: int = 0
    verified_turns: int = 0
    exact: Report = field(default_factory=Report)
    streams_left: int = 0
    pool_busy: int = 0
    threads_left: int = 0
    tasks_left: int = 0
    warnings: int = 0
    known_warnings: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def leaks(self) -> int:
        return self.streams_left + self.pool_busy + self.threads_left + self.tasks_left

    @property
    def held(self) -> bool:
        exact = self.exact
        wrong = exact.lost + exact.duplicated + exact.foreign + exact.reordered
        return not (wrong or self.leaks or self.warnings or self.problems or exact.problems)

    def merge(self, other: CancelReport) -> CancelReport:
        merged = CancelReport(facades=[*self.facades, *other.facades], seed=self.seed)
        for name in [
            "turns",
            "interrupted",
            "continued_same_client",
            "picked_up_by_new_client",
            "verified_turns",
            "streams_left",
            "pool_busy",
            "threads_left",
            "tasks_left",
            "warnings",
            "known_warnings",
            "seconds",
        ]:
            setattr(merged, name, getattr(self, name) + getattr(other, name))
        merged.modes = self.modes + other.modes
        merged.exact = self.exact.merge(other.exact)
        merged.problems = [*self.problems, *other.problems]
        return merged


def pool_busy(http: httpx.Client | httpx.AsyncClient) -> int:
    """Requests in flight plus connections not idle in an httpx client's pool."""
    pool: Any = getattr(http, "_transport", None)
    pool = getattr(pool, "_pool", None)
    if pool is None:
        return 0
    busy = [c for c in pool.connections if not (c.is_idle() or c.is_closed())]
    return len(getattr(pool, "_requests", [])) + len(busy)


@contextlib.contextmanager
def _caught(report: CancelReport) -> Iterator[None]:
    """Warnings (ResourceWarning included) and unraisable exceptions count as failures."""
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        report.warnings += 1
        report.problems.append(f"unraisable: {unraisable.exc_value!r}")

    sys.unraisablehook = hook
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
            gc.collect()
        for warning in caught:
            if _KNOWN.search(str(warning.message)):
                report.known_warnings += 1
                continue
            report.warnings += 1
            report.problems.append(f"warning: {warning.message!r}")
    finally:
        sys.unraisablehook = previous


class _Plan:
    """What one iteration does, drawn from the seeded generator."""

    def __init__(self, rng: random.Random, modes: tuple[str, ...]) -> None:
        self.mode = rng.choice(modes)
        self.k = rng.randint(0, 4)
        self.kind = rng.choice(_KINDS)
        if "tool" in self.mode:
            self.kind = "tool"
        elif self.mode in ("sigint_in_read", "disconnect_from_thread"):
            self.kind = "slow"
        elif "backoff" in self.mode:
            self.kind = "plain"
        self.go_on = rng.random() < 0.5 and self.mode != "disconnect_from_thread"


class _Run:
    """State shared by the iterations of one run."""

    def __init__(self, cloud: ChaosCloud, report: CancelReport, base_url: str) -> None:
        self.cloud = cloud
        self.report = report
        self.base_url = base_url
        self.number = 0
        self.prefix: list[Message] = []

    def prompt(self, kind: str) -> str:
        self.number += 1
        return f"turn {self.number} kind={kind} cancellation"

    def check_last_turn(self, session_id: str, messages: list[Message], where: str) -> None:
        """``messages`` must be exactly the session's latest turn."""
        expected = expected_turns(self.cloud.events(session_id))[-1]
        compare_turn(expected, delivered_ids(messages), self.report.exact, where)
        self.report.verified_turns += 1

    def check_prefix(self, session_id: str, where: str) -> None:
        """What was delivered before the cancellation is the start of the latest turn."""
        expected = expected_turns(self.cloud.events(session_id))[-1]
        ids = delivered_ids(self.prefix)
        if ids != expected[: len(ids)]:
            self.report.exact.reordered += 1
            self.report.problems.append(f"{where}: delivered {ids}, the turn is {expected}")

    def held(self, session_id: str) -> bool:
        return self.cloud.is_held(session_id)

    def after_disconnect(self, http: httpx.Client | httpx.AsyncClient, where: str) -> None:
        report = self.report
        if not self.cloud.wait_for_streams(0, timeout=5):
            report.streams_left += 1
            report.problems.append(f"{where}: a stream stayed open")
        busy = pool_busy(http)
        if busy:
            report.pool_busy += busy
            report.problems.append(f"{where}: {busy} busy in the HTTP pool")


# --- sync ------------------------------------------------------------------------------------


def _sigint_soon() -> threading.Thread:
    """Send SIGINT to the main thread from another thread (a real signal, as Ctrl-C)."""
    main = threading.main_thread().ident or 0
    thread = threading.Thread(target=signal.pthread_kill, args=(main, signal.SIGINT))
    thread.start()
    return thread


def _sigint_when_blocked(native_id: int, run: _Run, session_id: str) -> threading.Thread:
    from tests.integration.support import blocked_in_poll

    def interrupt() -> None:
        if blocked_in_poll(native_id, timeout=BOUND):
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
        else:  # end the read: the run fails on the count, but does not hang
            run.cloud.release(session_id)

    thread = threading.Thread(target=interrupt)
    thread.start()
    return thread


class _SyncIteration:
    """One iteration with SyncClient (see the module's docstring)."""

    def __init__(self, run: _Run, plan: _Plan, session_id: str | None) -> None:
        self.run = run
        self.plan = plan
        self.session_id = session_id
        self.interrupt_tool = False
        self.helpers: list[threading.Thread] = []
        self.http = httpx.Client(timeout=BOUND, event_hooks={"response": [self._on_response]})

    def _on_response(self, response: httpx.Response) -> None:
        if response.status_code == 503 and self.plan.mode == "sigint_in_backoff":
            self.helpers.append(_sigint_soon())  # query() is about to sleep 30 s

    def _echo(self) -> Any:
        def echo(text: str) -> str:
            if self.interrupt_tool:
                self.interrupt_tool = False
                self.helpers.append(_sigint_soon())
                threading.Event().wait(BOUND)  # interrupted by the signal
            return text

        return tool(echo, name="echo", description="Echo the text back")

    def play(self) -> str:
        run, plan = self.run, self.plan
        options = _options(run.base_url, tools=[self._echo()], resume=self.session_id)
        client = SyncClient(options, http_client=self.http)
        try:
            client.connect()
            session_id = client.session_id
            assert session_id is not None
            self._continue(client, session_id)
            self._cancel(client, session_id)
            if plan.go_on:
                self._go_on(client, session_id)
            elif plan.mode != "sigint_in_backoff":
                run.check_prefix(session_id, plan.mode)
        finally:
            client.disconnect()
            for helper in self.helpers:
                helper.join(BOUND)
            run.after_disconnect(self.http, f"{plan.mode} #{run.number}")
            self.http.close()
        return session_id

    def _continue(self, client: SyncClient, session_id: str) -> None:
        """The new client continues the session: the turn still running, or a new one."""
        run = self.run
        if self.session_id is not None and run.held(session_id):
            run.cloud.release(session_id)
            run.report.picked_up_by_new_client += 1
        else:
            client.query(run.prompt("plain"))
        run.check_last_turn(session_id, list(client.receive_response()), "continue")

    def _cancel(self, client: SyncClient, session_id: str) -> None:
        run, plan = self.run, self.plan
        run.report.modes[plan.mode] += 1
        run.prefix = seen = []
        if plan.mode == "sigint_in_backoff":
            long_wait = HttpFault(
                503, method="POST", path=_EVENTS_PATH, retry_after_ms=_LONG_WAIT_MS
            )
            run.cloud.inject(long_wait)
            with contextlib.suppress(KeyboardInterrupt):
                client.query(run.prompt(plan.kind))
                run.report.problems.append("query() was not interrupted in its backoff")
            run.report.interrupted += 1
            run.cloud.clear_faults()
            return
        self.interrupt_tool = plan.mode == "sigint_in_tool"
        client.query(run.prompt(plan.kind))
        if plan.mode == "disconnect_from_thread":
            self._disconnect_from_thread(client)
            return
        reading = cast(Generator[Message, None, None], client.receive_response())
        try:
            if plan.mode == "sigint_in_read":
                seen.extend(_until_text(reading))
                self.helpers.append(
                    _sigint_when_blocked(threading.get_native_id(), run, session_id)
                )
            for message in reading:
                seen.append(message)
                if plan.mode == "raise_after_k" and len(seen) > plan.k:
                    raise _Stop
        except (_Stop, KeyboardInterrupt):
            run.report.interrupted += 1
        finally:
            reading.close()

    def _disconnect_from_thread(self, client: SyncClient) -> None:
        from tests.integration.support import Worker

        got_text = threading.Event()
        seen = self.run.prefix

        def read() -> None:
            for message in client.receive_response():
                seen.append(message)
                got_text.set()

        reader = Worker(read)
        if not got_text.wait(BOUND):
            self.run.report.problems.append("disconnect_from_thread: no message arrived")
        client.disconnect()
        reader.result(timeout=BOUND)
        self.run.report.interrupted += 1

    def _go_on(self, client: SyncClient, session_id: str) -> None:
        run = self.run
        if run.prefix and run.held(session_id):
            run.cloud.release(session_id)
        if self.plan.mode == "sigint_in_backoff":
            return  # no turn started; the next client's turn shows the session unharmed
        rest = list(client.receive_response())
        run.check_last_turn(session_id, [*run.prefix, *rest], f"{self.plan.mode} go on")
        run.report.continued_same_client += 1


def _until_text(reading: Iterator[Message]) -> list[Message]:
    pulled: list[Message] = []
    for message in reading:
        pulled.append(message)
        if "Working" in repr(message):
            return pulled
    return pulled


# --- async -----------------------------------------------------------------------------------


def _tasks_now() -> int:
    """Tasks alive besides the calling one: under asyncio every other task but the finalizers
    asyncio runs for garbage-collected async generators; under trio the calling task's
    descendants (trio's own system tasks are not ours)."""
    try:
        import asyncio

        current = asyncio.current_task()
        return sum(
            1
            for task in asyncio.all_tasks()
            if task is not current and type(task.get_coro()).__name__ != "async_generator_athrow"
        )
    except RuntimeError:
        import trio

        pending = [trio.lowlevel.current_task()]
        count = -1
        while pending:
            task = pending.pop()
            count += 1
            for nursery in task.child_nurseries:
                pending.extend(nursery.child_tasks)
        return count


class _AsyncIteration:
    """One iteration with AsyncClient (see the module's docstring)."""

    def __init__(self, run: _Run, plan: _Plan, session_id: str | None) -> None:
        self.run = run
        self.plan = plan
        self.session_id = session_id
        self.scope: anyio.CancelScope | None = None
        self.refused = anyio.Event()
        self.http = httpx.AsyncClient(timeout=BOUND, event_hooks={"response": [self._on_response]})

    async def _on_response(self, response: httpx.Response) -> None:
        if response.status_code == 503:
            self.refused.set()

    def _echo(self) -> Any:
        async def echo(text: str) -> str:
            scope, self.scope = self.scope, None
            if scope is not None:
                scope.cancel()
                await anyio.lowlevel.checkpoint()  # cancelled here, inside the handler
            return text

        return tool(echo, name="echo", description="Echo the text back")

    async def play(self) -> str:
        run, plan = self.run, self.plan
        options = _options(run.base_url, tools=[self._echo()], resume=self.session_id)
        client = AsyncClient(options, http_client=self.http)
        try:
            with anyio.fail_after(3 * BOUND):
                await client.connect()
                session_id = client.session_id
                assert session_id is not None
                await self._continue(client, session_id)
                await self._cancel(client)
                if plan.go_on and plan.mode != "scope_in_backoff":
                    rest = [message async for message in client.receive_response()]
                    run.check_last_turn(session_id, [*run.prefix, *rest], f"{plan.mode} go on")
                    run.report.continued_same_client += 1
                elif plan.mode != "scope_in_backoff":
                    run.check_prefix(session_id, plan.mode)
        finally:
            await client.disconnect()
            run.after_disconnect(self.http, f"{plan.mode} #{run.number}")
            await self.http.aclose()
        return session_id

    async def _continue(self, client: AsyncClient, session_id: str) -> None:
        run = self.run
        await client.query(run.prompt("plain"))
        messages = [message async for message in client.receive_response()]
        run.check_last_turn(session_id, messages, "continue")

    async def _cancel(self, client: AsyncClient) -> None:
        run, plan = self.run, self.plan
        run.report.modes[plan.mode] += 1
        seen: list[Message] = []
        run.prefix = seen
        if plan.mode == "scope_in_backoff":
            long_wait = HttpFault(
                503, method="POST", path=_EVENTS_PATH, retry_after_ms=_LONG_WAIT_MS
            )
            run.cloud.inject(long_wait)
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(client.query, run.prompt(plan.kind))
                await self.refused.wait()
                tasks.cancel_scope.cancel()
            run.report.interrupted += 1
            run.cloud.clear_faults()
            return
        await client.query(run.prompt(plan.kind))
        if plan.mode == "task_after_k":
            await self._cancel_task(client, seen)
            return
        with anyio.CancelScope() as scope:
            self.scope = scope if plan.mode == "scope_in_tool" else None
            if plan.k == 0 and plan.mode == "scope_after_k":
                scope.cancel()
            async for message in client.receive_response():
                seen.append(message)
                if plan.mode == "scope_after_k" and len(seen) >= plan.k:
                    scope.cancel()
        self.scope = None
        run.report.interrupted += int(scope.cancelled_caught)

    async def _cancel_task(self, client: AsyncClient, seen: list[Message]) -> None:
        enough = anyio.Event()

        async def read() -> None:
            async for message in client.receive_response():
                seen.append(message)
                if len(seen) >= self.plan.k:
                    enough.set()
            enough.set()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(read)
            await enough.wait()
            tasks.cancel_scope.cancel()
        self.run.report.interrupted += 1


async def _async_run(run: _Run, rng: random.Random, turns: int) -> None:
    session_id: str | None = None
    baseline = _tasks_now()
    for index in range(turns):
        if index % ITERATIONS_PER_SESSION == 0:
            session_id = None
        plan = _Plan(rng, ASYNC_MODES)
        session_id = await _AsyncIteration(run, plan, session_id).play()
        left = _tasks_now() - baseline
        if left:
            run.report.tasks_left += left
            run.report.problems.append(f"{plan.mode}: {left} task(s) left")


def _sync_run(run: _Run, rng: random.Random, turns: int, baseline: set[threading.Thread]) -> None:
    session_id: str | None = None
    for index in range(turns):
        if index % ITERATIONS_PER_SESSION == 0:
            session_id = None
        plan = _Plan(rng, SYNC_MODES)
        session_id = _SyncIteration(run, plan, session_id).play()
        _threads_back(run, baseline, plan.mode)


def _threads_back(run: _Run, baseline: set[threading.Thread], mode: str) -> None:
    """No thread may outlive the iteration: each new one is joined, within a bound."""
    extra = [thread for thread in threading.enumerate() if thread not in baseline]
    for thread in extra:
        thread.join(BOUND)
    alive = [thread for thread in extra if thread.is_alive()]
    if alive:
        run.report.threads_left += len(alive)
        run.report.problems.append(f"{mode}: thread(s) left: {alive}")


def run_cancellations(turns: int, facade_kind: str, seed: int) -> CancelReport:
    """``turns`` cancelled turns with one facade, each followed by the checks; the figures."""
    report = CancelReport(facades=[facade_kind], seed=seed, turns=turns)
    rng = random.Random(f"{seed}-{facade_kind}-cancel")
    cloud = ChaosCloud(StreamChaos(rng, enabled=False), token=TOKEN, keepalive_interval=30.0)
    started = time.monotonic()
    with _caught(report), serve_in_thread(cloud) as served:
        run = _Run(cloud, report, served.base_url)
        baseline = set(threading.enumerate())
        if facade_kind == "sync":
            _sync_run(run, rng, turns, baseline)
        else:
            anyio.run(_async_run, run, rng, turns, backend=facade_kind)
            _threads_back(run, baseline, "async run")
    report.seconds = time.monotonic() - started
    return report
