"""Cancellation mid-turn and disconnect during iteration: nothing leaks, nothing is lost."""

from __future__ import annotations

import threading

import anyio
import httpx
import pytest

from qoder import AssistantMessage, AsyncClient, ResultMessage, SyncClient
from tests.client.scripted import BLOCK, ScriptedAPI, frame, stream_of, turn_events
from tests.client.test_conversation import options, texts


@pytest.mark.anyio
async def test_cancelled_reader_closes_the_stream_and_the_turn_resumes(api: ScriptedAPI) -> None:
    events = turn_events("turn_01", 1, "Paris.")
    api.streams.append([*stream_of(events[:4]), BLOCK])
    api.streams.append(stream_of(events[4:]))
    api.reply_with("evt_01", "turn_01")
    async with AsyncClient(options(stream_reconnect_delay=0.001)) as client:
        await client.query("Capital?")
        seen = []
        with anyio.CancelScope() as scope:
            async for message in client.receive_response():
                seen.append(message)
                if isinstance(message, AssistantMessage):
                    scope.cancel()  # the next read is cancelled while waiting for bytes
        assert texts(seen) == ["Paris."]
        assert api.bodies[0].closed  # the cancelled read closed its connection
        rest = [m async for m in client.receive_response()]
    assert isinstance(rest[-1], ResultMessage)
    assert rest[-1].result == "Paris."  # nothing lost, nothing repeated
    assert api.stream_route.calls[1].request.headers["Last-Event-ID"] == "evt_04"
    assert all(body.closed for body in api.bodies)


@pytest.mark.anyio
async def test_disconnect_from_another_task_ends_the_iteration(api: ScriptedAPI) -> None:
    events = turn_events("turn_01", 1, "Paris.")
    api.streams.append([*stream_of(events[:4]), BLOCK])
    api.reply_with("evt_01", "turn_01")
    client = AsyncClient(options())
    await client.connect()
    await client.query("Capital?")
    seen: list[object] = []
    reading = anyio.Event()

    async def read() -> None:
        async for message in client.receive_messages():
            seen.append(message)
            reading.set()

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(read)
            await reading.wait()
            await client.disconnect()
    assert texts(seen) == ["Paris."]
    assert all(body.closed for body in api.bodies)


def test_keyboard_interrupt_in_a_sync_script_leaves_nothing_open(api: ScriptedAPI) -> None:
    events = turn_events("turn_01", 1, "Paris.")
    api.streams.append([*stream_of(events[:4]), KeyboardInterrupt()])
    api.streams.append(stream_of(events[4:]))
    api.reply_with("evt_01", "turn_01")
    client = SyncClient(options(stream_reconnect_delay=0.001))
    client.connect()
    client.query("Capital?")
    with pytest.raises(KeyboardInterrupt):
        for _ in client.receive_response():
            pass
    assert api.bodies[0].closed
    rest = list(client.receive_response())  # the script may also carry on, from the cursor
    client.disconnect()
    assert isinstance(rest[-1], ResultMessage)
    assert rest[-1].result == "Paris."


def test_sync_disconnect_from_another_thread(api: ScriptedAPI) -> None:
    events = turn_events("turn_01", 1, "Paris.")
    gate = threading.Event()
    released = threading.Event()

    class Blocking(httpx.SyncByteStream):
        def __iter__(self):  # type: ignore[no-untyped-def]
            yield b"".join(frame(e) for e in events[:4])
            gate.set()
            released.wait(5)
            raise httpx.ReadError("closed by disconnect")

        def close(self) -> None:
            released.set()

    api.stream_route.mock(
        return_value=httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=Blocking()
        )
    )
    api.reply_with("evt_01", "turn_01")
    client = SyncClient(options())
    client.connect()
    client.query("Capital?")
    seen: list[object] = []
    reader = threading.Thread(target=lambda: seen.extend(client.receive_messages()))
    reader.start()
    assert gate.wait(5)
    client.disconnect()
    reader.join(5)
    assert not reader.is_alive()
    assert texts(seen) == ["Paris."]
