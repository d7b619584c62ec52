"""The official SDK's "concurrent responses" pattern: one task (or thread) reads
``receive_messages()`` for the whole conversation while another calls ``query()``.

A message that becomes deliverable while the reader waits on a quiet stream (a ``query()``
reply releases the events that arrived while its prompt was in flight) must reach the reader
at once, not when the next byte arrives: the emulator here sends no keep-alive for an hour,
so a reader that is not woken fails the bound of each turn.
"""

from __future__ import annotations

import queue
import threading

import anyio
import pytest

from qoder import AsyncClient, Message, ResultMessage, SyncClient
from qoder.testing import ServedCloud
from tests.integration.support import RecordingCloud, Serve, options

pytestmark = pytest.mark.integration

PROMPTS = ("What's the capital of France?", "What's the population of that city?", "Thanks!")
TURN_BOUND = 10.0  # seconds; a missed wake-up waits for the keep-alive (an hour)


@pytest.fixture
def quiet(serve: Serve) -> ServedCloud:
    return serve(RecordingCloud(keepalive_interval=3600.0))


def test_sync_reader_thread_gets_every_turn_at_once(quiet: ServedCloud) -> None:
    received: queue.Queue[Message | None] = queue.Queue()
    with SyncClient(options(quiet)) as client:

        def read() -> None:
            for message in client.receive_messages():
                received.put(message)
            received.put(None)  # receive_messages() ended (at disconnect)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        for number, prompt in enumerate(PROMPTS, start=1):
            client.query(prompt)
            while True:
                message = received.get(timeout=TURN_BOUND)
                assert message is not None, "the reader ended before the turn did"
                if isinstance(message, ResultMessage):
                    assert message.num_turns == number
                    assert message.subtype == "success"
                    break
    reader.join(TURN_BOUND)
    assert not reader.is_alive()
    assert received.get_nowait() is None


@pytest.mark.anyio
async def test_async_reader_task_gets_every_turn_at_once(quiet: ServedCloud) -> None:
    send, inbox = anyio.create_memory_object_stream[Message](100)
    async with AsyncClient(options(quiet)) as client, anyio.create_task_group() as tasks:

        async def read() -> None:
            async with send:
                async for message in client.receive_messages():
                    await send.send(message)

        tasks.start_soon(read)
        async with inbox:
            for number, prompt in enumerate(PROMPTS, start=1):
                await client.query(prompt)
                with anyio.fail_after(TURN_BOUND):
                    async for message in inbox:
                        if isinstance(message, ResultMessage):
                            assert message.num_turns == number
                            assert message.subtype == "success"
                            break
            await client.disconnect()  # ends the reader's receive_messages()
