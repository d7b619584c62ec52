"""Helpers of the integration tests: the recording emulator, options, message helpers.

:class:`RecordingCloud` is a :class:`~qoder.testing.FakeCloud` whose ASGI app also records, per
HTTP exchange, the client's address (which TCP connection carried it), the status it was
answered with and, for event streams, the bytes sent. Tests wait on it with
:meth:`RecordingCloud.wait_for` (a condition variable, never a sleep).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from qoder import AssistantMessage, Message, QoderAgentOptions, ResultMessage, TextBlock
from qoder.testing import DEFAULT_AGENT_ID, DEFAULT_ENVIRONMENT_ID, FakeCloud, ServedCloud

TOKEN = "integration-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CAPITAL = "The capital of France is Paris."
POPULATION = (
    "Paris has about 2.1 million inhabitants in the city proper "
    "and over 12 million in its metropolitan area."
)
BOUND = 10.0
"""Seconds any single wait of a test may take before it counts as a hang."""

_ID_LINE = re.compile(rb"^id: ", re.MULTILINE)

Scope = MutableMapping[str, Any]
ASGIMessage = MutableMapping[str, Any]


@dataclass
class Exchange:
    """One HTTP request/response as the server saw it."""

    method: str
    path: str
    client: tuple[str, int] | None
    headers: dict[str, str]
    status: int | None = None
    stream: bool = False
    body: bytearray = field(default_factory=bytearray)
    finished: bool = False

    def frames(self) -> int:
        """Event frames (frames with an ``id:`` line) sent so far on this stream."""
        return len(_ID_LINE.findall(bytes(self.body).replace(b"\r\n", b"\n")))


class RecordingCloud(FakeCloud):
    """A FakeCloud that records every exchange its served ASGI app handles."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("token", TOKEN)
        super().__init__(**kwargs)
        self.exchanges: list[Exchange] = []
        self._changed = threading.Condition()
        self._app: Any = None

    def asgi_app(self) -> Any:
        """The emulator's ASGI app wrapped in the recorder (one per cloud)."""
        if self._app is None:
            self._app = self._recording_app()
        return self._app

    def _recording_app(self) -> Any:
        inner = super().asgi_app()
        cloud = self

        async def app(scope: Scope, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await inner(scope, receive, send)
                return
            client = scope.get("client")
            exchange = Exchange(
                method=scope["method"],
                path=scope["path"],
                client=(client[0], client[1]) if client else None,
                headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
            )
            cloud._update(lambda: cloud.exchanges.append(exchange))

            async def recording_send(message: ASGIMessage) -> None:
                if message["type"] == "http.response.start":
                    headers = dict(message.get("headers", []))

                    def started() -> None:
                        exchange.status = message["status"]
                        exchange.stream = headers.get(b"content-type") == b"text/event-stream"

                    cloud._update(started)
                elif message["type"] == "http.response.body" and exchange.stream:
                    cloud._update(lambda: exchange.body.extend(message.get("body", b"")))
                await send(message)

            try:
                await inner(scope, receive, recording_send)
            finally:
                cloud._update(lambda: setattr(exchange, "finished", True))

        return app

    def _update(self, change: Callable[[], object]) -> None:
        with self._changed:
            change()
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[list[Exchange]], bool], timeout: float = BOUND) -> bool:
        """Block until ``predicate(exchanges)`` holds (``False`` after ``timeout`` seconds)."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self.exchanges), timeout)

    def snapshot(self) -> list[Exchange]:
        """The exchanges so far (a copy of the list)."""
        with self._changed:
            return list(self.exchanges)

    # -- views of cloud.requests (what the emulator itself recorded) -------------------------

    def stream_requests(self) -> list[Any]:
        """The event-stream requests, in order."""
        return [r for r in self.requests if r.method == "GET" and r.path.endswith("/stream")]

    def event_posts(self) -> list[Any]:
        """The ``POST …/events`` requests, in order."""
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/events")]

    def persisted(self, session_id: str, type_: str) -> list[dict[str, Any]]:
        """The persisted events of one type of a session."""
        return [e for e in self.events(session_id) if e["type"] == type_]


BOTH_TURN_ID_MODES = pytest.mark.parametrize(
    "cloud", [False, True], indirect=True, ids=["turn_id", "no_turn_id"]
)
"""Run a test against a cloud that sends ``turn_id`` and one that omits it (docs/protocol.md §1.1:
no recorded real traffic carries it)."""

Serve = Callable[[RecordingCloud], ServedCloud]
"""The ``serve`` fixture: serve one more cloud for the test."""


def options(served: ServedCloud, **overrides: Any) -> QoderAgentOptions:
    """Options reaching the served emulator; reconnects are fast, every request bounded."""
    values: dict[str, Any] = {
        "auth": TOKEN,
        "base_url": served.base_url,
        "agent": DEFAULT_AGENT_ID,
        "environment": DEFAULT_ENVIRONMENT_ID,
        "timeout": BOUND,
        "stream_reconnect_delay": 0.01,
    }
    values.update(overrides)
    return QoderAgentOptions(**values)


def session_of(client: Any) -> str:
    """The id of a connected client's session."""
    session_id = client.session_id
    assert isinstance(session_id, str)
    return session_id


def texts(messages: Iterable[Message]) -> list[str]:
    """The text blocks of the assistant messages, in order."""
    return [
        block.text
        for message in messages
        if isinstance(message, AssistantMessage)
        for block in message.content
        if isinstance(block, TextBlock)
    ]


def result_of(messages: list[Message]) -> ResultMessage:
    """The turn's ResultMessage: the last message, and the only one."""
    assert messages, "the turn yielded nothing"
    result = messages[-1]
    assert isinstance(result, ResultMessage), messages
    assert sum(isinstance(m, ResultMessage) for m in messages) == 1, messages
    return result


def read_until_text(messages: Iterator[Message]) -> list[Message]:
    """Pull messages until one carries assistant text; return those pulled."""
    pulled: list[Message] = []
    for message in messages:
        pulled.append(message)
        if texts([message]):
            return pulled
        assert not isinstance(message, ResultMessage), pulled
    raise AssertionError(f"the turn ended without text: {pulled}")


class Worker:
    """Run a blocking call in a thread; :meth:`result` joins it with a timeout."""

    def __init__(self, func: Callable[[], Any]) -> None:
        self._outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                self._outcome["value"] = func()
            except BaseException as error:  # handed to the test thread by result()
                self._outcome["error"] = error

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def result(self, timeout: float = BOUND) -> Any:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"the call did not return within {timeout} s")
        if "error" in self._outcome:
            raise self._outcome["error"]
        return self._outcome.get("value")


def call_bounded(func: Callable[[], Any], timeout: float) -> Any:
    """``func()``, failing the test if it has not returned after ``timeout`` seconds."""
    return Worker(func).result(timeout)


def blocked_in_poll(native_thread_id: int, timeout: float = BOUND) -> bool | None:
    """Wait until a thread sleeps in ``poll`` (a socket read with a timeout blocks there).

    Reads the thread's state from ``/proc`` in a loop (no sleep: each check is a syscall).
    ``None`` where ``/proc`` does not say (not Linux, or no access).
    """
    task = Path(f"/proc/self/task/{native_thread_id}")
    try:
        (task / "wchan").read_text()
    except OSError:
        return None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            wchan = (task / "wchan").read_text()
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False  # the thread ended
        if state == "S" and "poll" in wchan:
            return True
    return False


def delete_session(served: ServedCloud, session_id: str) -> None:
    """``DELETE /sessions/{id}`` with a plain httpx client, as another program would."""
    with httpx.Client(base_url=served.base_url, headers=AUTH, timeout=BOUND) as http:
        assert http.delete(f"/sessions/{session_id}").status_code == 200
