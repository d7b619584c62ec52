"""Defects the reliability harnesses found, each kept as a test once fixed."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

import pytest

from qoder import Message, SyncClient
from qoder.testing import serve_in_thread
from tests.integration.support import Worker
from tests.reliability.chaos import ChaosCloud, StreamChaos
from tests.reliability.soak import TOKEN, _options

pytestmark = pytest.mark.integration


def _sleeping(native_id: int, timeout: float) -> bool | None:
    """Wait until a thread sleeps (``nanosleep``, or a ``futex`` wait with a timeout), reading
    ``/proc``."""
    wchan = Path(f"/proc/self/task/{native_id}/wchan")
    try:
        wchan.read_text()
    except OSError:
        return None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if any(wait in wchan.read_text() for wait in ("nanosleep", "futex")):
                return True
        except OSError:
            return False
    return False


def test_disconnect_from_another_thread_ends_a_reader_waiting_out_a_backoff() -> None:
    import random

    cloud = ChaosCloud(StreamChaos(random.Random(0), enabled=False), token=TOKEN)
    with serve_in_thread(cloud) as served:
        client = SyncClient(_options(served.base_url, stream_reconnect_delay=4.0))
        client.connect()
        session_id = client.session_id
        assert session_id is not None
        try:
            client.query("turn 1 kind=slow")
            got_text = threading.Event()
            native: list[int] = []

            def read() -> list[Message]:
                native.append(threading.get_native_id())
                seen: list[Message] = []
                for message in client.receive_response():
                    seen.append(message)
                    got_text.set()
                return seen

            reader = Worker(read)
            assert got_text.wait(10)
            cloud.close_streams()  # the stream ends: the reader backs off 2-4 s
            asleep = _sleeping(native[0], timeout=10)
            if asleep is None:
                pytest.skip("cannot observe a sleeping thread without /proc")
            assert asleep, "the reader never went to sleep in its backoff"
            client.disconnect()
            reader.result(timeout=1.0)  # found: the reader used to sleep out its backoff
        finally:
            client.disconnect()
            with contextlib.suppress(ValueError):
                cloud.release(session_id)
            cloud.close_streams()
