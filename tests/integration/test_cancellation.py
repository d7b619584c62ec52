"""Cancellation mid-turn and disconnect during iteration, over real sockets.

The emulator must see the stream connection closed at once (not at the next keep-alive: the
clouds here send none for 30 s), the client must disconnect cleanly afterwards, nothing may be
lost or repeated, and no ResourceWarning may be emitted (pytest turns warnings into errors).
"""

from __future__ import annotations

import signal
import threading

import anyio
import pytest

from qoder import AsyncClient, Message, ResultMessage, SyncClient
from qoder.testing import ServedCloud
from tests.client.driver import Facade
from tests.integration.support import (
    BOUND,
    RecordingCloud,
    Serve,
    Worker,
    blocked_in_poll,
    options,
    read_until_text,
    result_of,
    session_of,
    texts,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def quiet_cloud() -> RecordingCloud:
    """A cloud whose streams stay silent for 30 s: only a real close can end a read."""
    cloud = RecordingCloud(keepalive_interval=30.0)
    cloud.agent.on("slow").reply("Working. ").hold().reply("Done.")
    return cloud


@pytest.fixture
def quiet(quiet_cloud: RecordingCloud, serve: Serve) -> ServedCloud:
    return serve(quiet_cloud)


async def _wait_for_streams(cloud: RecordingCloud, count: int) -> bool:
    return await anyio.to_thread.run_sync(lambda: cloud.wait_for_streams(count, timeout=5))


@pytest.mark.anyio
async def test_cancelled_reader_closes_the_stream_and_the_turn_carries_on(
    anyio_backend: str, quiet_cloud: RecordingCloud, quiet: ServedCloud
) -> None:
    cloud = quiet_cloud
    with anyio.fail_after(20):
        client = AsyncClient(options(quiet))
        await client.connect()
        try:
            session_id = session_of(client)
            await client.query("slow, please")
            seen: list[Message] = []
            with anyio.CancelScope() as scope:
                async for message in client.receive_response():
                    seen.append(message)
                    if texts([message]):
                        scope.cancel()  # the next read is cancelled while waiting for bytes
            assert scope.cancelled_caught
            assert texts(seen) == ["Working. "]
            assert await _wait_for_streams(cloud, 0), "the cancelled read left its socket open"

            cloud.release(session_id)
            rest = [message async for message in client.receive_response()]
        finally:
            await client.disconnect()
        assert await _wait_for_streams(cloud, 0)

    assert texts(rest) == ["Done."]  # nothing lost, nothing repeated
    assert result_of(rest).result == "Working. Done."
    streams = cloud.stream_requests()
    assert len(streams) == 2
    working = next(e for e in cloud.events(session_id) if e["type"] == "agent.message")
    assert streams[1].header("last-event-id") == working["id"]


@pytest.mark.anyio
async def test_cancelled_reader_task_closes_the_stream(
    anyio_backend: str, quiet_cloud: RecordingCloud, quiet: ServedCloud
) -> None:
    """The reader is another task, cancelled from outside (a task group's cancel scope)."""
    cloud = quiet_cloud
    with anyio.fail_after(20):
        async with AsyncClient(options(quiet)) as client:
            session_id = session_of(client)
            await client.query("slow, please")
            seen: list[Message] = []
            got_text = anyio.Event()

            async def read() -> None:
                async for message in client.receive_response():
                    seen.append(message)
                    if texts([message]):
                        got_text.set()

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(read)
                await got_text.wait()
                tasks.cancel_scope.cancel()
            assert await _wait_for_streams(cloud, 0), "the cancelled task left its socket open"
            assert cloud.is_held(session_id)

            await client.interrupt()  # the client is still usable after the cancellation
            rest = [message async for message in client.receive_response()]
            again = [message async for message in client.receive_response()]
        assert await _wait_for_streams(cloud, 0)

    assert texts(seen) == ["Working. "]
    assert texts(rest) == []
    assert result_of(rest).result == "Working. "
    assert again == []  # no turn underway: ends at once


@pytest.mark.anyio
async def test_disconnect_from_another_task_ends_the_reader(
    anyio_backend: str, quiet_cloud: RecordingCloud, quiet: ServedCloud
) -> None:
    cloud = quiet_cloud
    client = AsyncClient(options(quiet))
    with anyio.fail_after(20):
        await client.connect()
        await client.query("slow, please")
        seen: list[Message] = []
        got_text = anyio.Event()

        async def read() -> None:
            async for message in client.receive_messages():
                seen.append(message)
                if texts([message]):
                    got_text.set()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(read)
            await got_text.wait()
            await client.disconnect()  # the reader is blocked on the quiet stream
        await client.disconnect()  # idempotent
        assert await _wait_for_streams(cloud, 0)
    assert texts(seen) == ["Working. "]
    assert not any(isinstance(m, ResultMessage) for m in seen)


def test_disconnect_from_another_thread_ends_a_blocked_reader(
    facade: Facade,
    quiet_cloud: RecordingCloud,
    quiet: ServedCloud,
) -> None:
    """docs/conversations.md: disconnect() is safe while another thread is iterating, and that
    iteration simply ends; the socket must be closed at once, not at the next keep-alive.

    (Found by this test; fixed in c45b2bf: closing a socket does not wake a ``recv`` blocked on
    it in another thread, so the reader used to end only when the next byte arrived.)"""
    cloud = quiet_cloud
    client = facade.client(options(quiet))
    client.connect()
    got_text = threading.Event()
    reader_thread: list[int] = []

    def read() -> list[Message]:
        reader_thread.append(threading.get_native_id())
        seen: list[Message] = []
        for message in client.receive_messages():
            seen.append(message)
            if texts([message]):
                got_text.set()
        return seen

    try:
        client.query("slow, please")
        reader = Worker(read)
        assert got_text.wait(BOUND), "the turn's first message never arrived"
        if not facade.is_async:  # an async reader waits in its event loop, not in a thread
            # The reader must be inside its blocking socket read, not merely about to start it.
            blocked = blocked_in_poll(reader_thread[0])
            if blocked is None:
                pytest.skip("cannot observe a blocked thread without /proc")
            assert blocked, "the reader never blocked on the quiet stream"
        client.disconnect()
        seen = reader.result(timeout=3)  # ended without waiting for the 30 s keep-alive
        assert cloud.wait_for_streams(0, timeout=3)
        assert texts(seen) == ["Working. "]
    finally:
        cloud.close_streams()  # unblock a reader that did not end, before the leak check
        client.disconnect()


def test_ctrl_c_in_a_sync_script_closes_the_stream_and_the_turn_carries_on(
    quiet_cloud: RecordingCloud, quiet: ServedCloud
) -> None:
    """A real SIGINT while SyncClient blocks on the socket: KeyboardInterrupt reaches the
    caller, the connection is closed at once, and a later read resumes from the cursor."""
    cloud = quiet_cloud
    main = threading.get_native_id()
    with SyncClient(options(quiet)) as client:
        session_id = session_of(client)
        client.query("slow, please")
        reading = client.receive_response()
        seen = read_until_text(reading)

        def interrupt_when_blocked() -> None:
            if blocked_in_poll(main):
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
            else:
                cloud.release(session_id)  # end the read: the test fails, but does not hang

        if blocked_in_poll(threading.get_native_id(), timeout=0) is None:
            pytest.skip("cannot observe a blocked thread without /proc")
        interrupter = Worker(interrupt_when_blocked)
        with pytest.raises(KeyboardInterrupt):
            list(reading)
        interrupter.result()
        assert cloud.wait_for_streams(0, timeout=5), "Ctrl-C left the socket open"

        cloud.release(session_id)
        rest = list(client.receive_response())
    assert texts(seen) == ["Working. "]
    assert texts(rest) == ["Done."]
    assert result_of(rest).result == "Working. Done."
    working = cloud.persisted(session_id, "agent.message")[0]
    assert cloud.stream_requests()[1].header("last-event-id") == working["id"]


@pytest.mark.anyio
async def test_interrupt_from_another_task_while_one_reads(
    anyio_backend: str, quiet_cloud: RecordingCloud, quiet: ServedCloud
) -> None:
    cloud = quiet_cloud
    with anyio.fail_after(20):
        async with AsyncClient(options(quiet)) as client:
            await client.query("slow, please")
            seen: list[Message] = []
            got_text = anyio.Event()

            async def read() -> None:
                async for message in client.receive_response():
                    seen.append(message)
                    if texts([message]):
                        got_text.set()

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(read)
                await got_text.wait()
                await client.interrupt()  # the reader keeps reading to the result
        assert await _wait_for_streams(cloud, 0)
    result = result_of(seen)
    assert result.result == "Working. "
    assert result.stop_reason == "end_turn"
