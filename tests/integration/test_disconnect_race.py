"""``disconnect()`` racing ``query()`` (and a reader) from another thread or task.

The documented behaviour (docs/conversations.md, "Concurrency"): the ``query()`` either
completes (its prompt was accepted before the client closed) or raises a
:class:`~qoder.QoderError` (a :class:`~qoder.ClientStateError` saying the client was
disconnected); a reader ends; nothing hangs, nothing but a ``QoderError`` escapes, and no
socket is left open (the suite turns ``ResourceWarning`` into an error, and the fixture checks
that the emulator saw every stream closed). Each race is run a number of times with the two
sides released together by a barrier, so that both orders and the interleavings in between
are exercised.
"""

from __future__ import annotations

import gc
import threading

import anyio
import pytest

from qoder import AsyncClient, ClientStateError, QoderError, SyncClient
from qoder.testing import ServedCloud
from tests.integration.support import BOUND, options

pytestmark = pytest.mark.integration

RACES = 15


def _outcome(error: BaseException | None) -> str:
    if error is None:
        return "accepted"
    assert isinstance(error, QoderError), f"{type(error).__name__}: {error}"
    return type(error).__name__


def test_sync_disconnect_racing_query_from_another_thread(served: ServedCloud) -> None:
    outcomes: list[str] = []
    for _ in range(RACES):
        client = SyncClient(options(served))
        client.connect()
        barrier = threading.Barrier(2)
        errors: list[BaseException | None] = []

        def ask(
            client: SyncClient = client,
            barrier: threading.Barrier = barrier,
            errors: list[BaseException | None] = errors,
        ) -> None:
            barrier.wait(BOUND)
            try:
                client.query("What's the capital of France?")
            except BaseException as error:
                errors.append(error)
            else:
                errors.append(None)

        worker = threading.Thread(target=ask, daemon=True)
        worker.start()
        barrier.wait(BOUND)
        client.disconnect()
        worker.join(BOUND)
        assert not worker.is_alive(), "query() hung after disconnect()"
        outcomes.append(_outcome(errors[0]))
        with pytest.raises(ClientStateError, match="after disconnect"):
            client.query("again")
    gc.collect()  # an unclosed socket would warn (an error in this suite) here
    assert set(outcomes) <= {"accepted", "ClientStateError"}, outcomes


def test_sync_disconnect_racing_a_reader_and_query(served: ServedCloud) -> None:
    for _ in range(RACES):
        client = SyncClient(options(served))
        client.connect()
        barrier = threading.Barrier(3)
        failures: list[BaseException] = []

        def read(
            client: SyncClient = client,
            barrier: threading.Barrier = barrier,
            failures: list[BaseException] = failures,
        ) -> None:
            barrier.wait(BOUND)
            try:
                for _message in client.receive_messages():
                    pass
            except BaseException as error:
                if not isinstance(error, QoderError):
                    failures.append(error)

        def ask(
            client: SyncClient = client,
            barrier: threading.Barrier = barrier,
            failures: list[BaseException] = failures,
        ) -> None:
            barrier.wait(BOUND)
            try:
                client.query("What's the capital of France?")
            except BaseException as error:
                if not isinstance(error, QoderError):
                    failures.append(error)

        workers = [threading.Thread(target=t, daemon=True) for t in (read, ask)]
        for worker in workers:
            worker.start()
        barrier.wait(BOUND)
        client.disconnect()
        for worker in workers:
            worker.join(BOUND)
            assert not worker.is_alive(), "a thread hung after disconnect()"
        assert failures == []
    gc.collect()


@pytest.mark.anyio
async def test_async_disconnect_racing_query_from_another_task(served: ServedCloud) -> None:
    outcomes: list[str] = []
    for race in range(RACES):
        client = AsyncClient(options(served))
        await client.connect()
        errors: list[BaseException | None] = []

        async def ask(
            client: AsyncClient = client, errors: list[BaseException | None] = errors
        ) -> None:
            try:
                await client.query("What's the capital of France?")
            except QoderError as error:
                errors.append(error)
            else:
                errors.append(None)

        with anyio.fail_after(BOUND):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(ask)
                for _ in range(race % 5):  # let the query get 0..4 steps ahead
                    await anyio.lowlevel.checkpoint()
                await client.disconnect()
        outcomes.append(_outcome(errors[0]))
        with pytest.raises(ClientStateError, match="after disconnect"):
            await client.query("again")
    gc.collect()
    assert set(outcomes) <= {"accepted", "ClientStateError"}, outcomes
