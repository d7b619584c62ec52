"""FakeCloud: the framework-independent emulator of the Cloud Agents API.

``cloud.handle(EmulatorRequest) -> EmulatorResponse`` implements every endpoint of
docs/protocol.md §3 and §8 (sessions, events, agents with versions, environments), with
bearer-token checks, ``Idempotency-Key`` replay, fault injection and a record of every request.
Adapters put it behind respx (:meth:`FakeCloud.mock`) or an ASGI server
(:meth:`FakeCloud.asgi_app`, :func:`qoder.testing.serve_in_thread`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote

from qoder.testing import _events_api, _routes
from qoder.testing._faults import Fault
from qoder.testing._ids import Clock, utc_now
from qoder.testing._log import EventLog
from qoder.testing._resources import AgentRecord, EnvironmentRecord
from qoder.testing._script import ScriptedAgent
from qoder.testing._state import CloudState
from qoder.testing._wire import ApiError, EmulatorRequest, EmulatorResponse, dumps

if TYPE_CHECKING:
    import respx

    from qoder.testing._asgi import ASGIApp

__all__ = ["DEFAULT_AGENT_ID", "DEFAULT_BASE_PATH", "DEFAULT_ENVIRONMENT_ID", "FakeCloud"]

DEFAULT_BASE_PATH = "/api/v1/cloud"
DEFAULT_AGENT_ID = "agent_default"
DEFAULT_ENVIRONMENT_ID = "env_default"

F = TypeVar("F", bound=Fault)
Handler = Callable[..., EmulatorResponse]

_ROUTE_TABLE: list[tuple[str, str, Handler]] = [
    ("POST", r"/agents", _routes.create_agent),
    ("GET", r"/agents", _routes.list_agents),
    ("GET", r"/agents/([^/]+)", _routes.get_agent),
    ("POST", r"/agents/([^/]+)", _routes.update_agent),
    ("POST", r"/agents/([^/]+)/archive", _routes.archive_agent),
    ("POST", r"/environments", _routes.create_environment),
    ("GET", r"/environments", _routes.list_environments),
    ("GET", r"/environments/([^/]+)", _routes.get_environment),
    ("POST", r"/environments/([^/]+)", _routes.update_environment),
    ("DELETE", r"/environments/([^/]+)", _routes.delete_environment),
    ("POST", r"/environments/([^/]+)/archive", _routes.archive_environment),
    ("POST", r"/sessions", _routes.create_session),
    ("GET", r"/sessions", _routes.list_sessions),
    ("GET", r"/sessions/([^/]+)", _routes.get_session),
    ("POST", r"/sessions/([^/]+)", _routes.update_session),
    ("DELETE", r"/sessions/([^/]+)", _routes.delete_session),
    ("POST", r"/sessions/([^/]+)/archive", _routes.archive_session),
    ("POST", r"/sessions/([^/]+)/cancel", _routes.cancel_session),
    ("POST", r"/sessions/([^/]+)/events", _events_api.send_events),
    ("GET", r"/sessions/([^/]+)/events", _events_api.list_events),
    ("GET", r"/sessions/([^/]+)/events/stream", _events_api.stream_events),
]
_ROUTES = [(method, re.compile(pattern), handler) for method, pattern, handler in _ROUTE_TABLE]

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IDEMPOTENCY_WINDOW = timedelta(hours=24)
"""How long a stored answer is replayed for the same ``Idempotency-Key`` (§2.3)."""


@dataclass(frozen=True)
class _Stored:
    fingerprint: tuple[str, str, str]
    response: EmulatorResponse
    stored_at: datetime


def _fingerprint(request: EmulatorRequest) -> tuple[str, str, str]:
    try:
        body = dumps(json.loads(request.body)) if request.body.strip() else ""
    except ValueError:
        body = request.body.decode("utf-8", "replace")
    return (request.method, request.path, body)


class FakeCloud:
    """An in-memory Cloud Agents service.

    ``token``: the accepted bearer token (``None``: any non-empty token). ``base_path``: where the
    API lives. ``agent``: the :class:`ScriptedAgent` playing every session (default: reproducible
    canned answers). ``clock``: returns the current time (see :class:`TickingClock`).
    ``keepalive_interval``: seconds of stream silence before a heartbeat. ``omit_turn_id``: leave
    ``turn_id`` out of every reply and event, as recorded real traffic does.
    ``default_resources``: create agent ``agent_default`` and environment ``env_default``.
    ``think_seconds``: the default agent thinks (``agent.thinking``, then a wait that an
    interrupt cuts short) this long before each answer; 0 answers at once.
    ``report_usd_cost``: the Session's ``usage`` carries ``list_cost`` in USD (§8.6); ``False``
    leaves it out, for testing a client's "no cost reported" path.

    Example::

        cloud = FakeCloud()
        cloud.agent.on("weather").custom_tool_use("get_weather", {"city": "Paris"}).reply(
            "It is {result}."
        )
        with cloud.mock(base_url="https://api.qoder.com/api/v1/cloud"):
            ...  # httpx.Client / httpx.AsyncClient requests now reach the emulator
        assert cloud.requests[-1].header("Idempotency-Key")
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        base_path: str = DEFAULT_BASE_PATH,
        agent: ScriptedAgent | None = None,
        clock: Clock | None = None,
        keepalive_interval: float = 15.0,
        omit_turn_id: bool = False,
        default_resources: bool = True,
        think_seconds: float = 0.0,
        report_usd_cost: bool = True,
    ) -> None:
        self.token = token
        self.base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        self._state = CloudState(
            clock=clock or utc_now,
            agent=agent or ScriptedAgent(),
            omit_turn_id=omit_turn_id,
            keepalive_interval=keepalive_interval,
            think_seconds=think_seconds,
            report_usd_cost=report_usd_cost,
        )
        self.requests: list[EmulatorRequest] = []
        """Every request received, in order (also rejected and fault-answered ones)."""
        self._idempotency: dict[str, _Stored] = {}
        if default_resources:
            self._add_defaults()

    # -- configuration ---------------------------------------------------------------------

    @property
    def agent(self) -> ScriptedAgent:
        """The scripted agent playing sessions (unless overridden per agent id)."""
        return self._state.agent

    @agent.setter
    def agent(self, agent: ScriptedAgent) -> None:
        self._state.agent = agent

    def script_agent(self, agent_id: str, agent: ScriptedAgent) -> None:
        """Let ``agent`` play the sessions of agent ``agent_id`` only."""
        with self._state.lock:
            self._state.scripts[agent_id] = agent

    @property
    def keepalive_interval(self) -> float:
        """Seconds of silence before a heartbeat frame (applies to streams opened later)."""
        return self._state.keepalive_interval

    @keepalive_interval.setter
    def keepalive_interval(self, seconds: float) -> None:
        self._state.keepalive_interval = seconds

    @property
    def omit_turn_id(self) -> bool:
        """Whether replies and events leave ``turn_id`` out."""
        return self._state.omit_turn_id

    @omit_turn_id.setter
    def omit_turn_id(self, omit: bool) -> None:
        self._state.omit_turn_id = omit

    @property
    def think_seconds(self) -> float:
        """How long the default agent thinks before answering (applies to later turns)."""
        return self._state.think_seconds

    @think_seconds.setter
    def think_seconds(self, seconds: float) -> None:
        self._state.think_seconds = seconds

    @property
    def report_usd_cost(self) -> bool:
        """Whether sessions created from now on report ``usage.list_cost`` (§8.6)."""
        return self._state.report_usd_cost

    @report_usd_cost.setter
    def report_usd_cost(self, report: bool) -> None:
        self._state.report_usd_cost = report

    def _add_defaults(self) -> None:
        now = self._state.now()
        toolset = {"type": "agent_toolset_20260401"}
        self._state.agents[DEFAULT_AGENT_ID] = AgentRecord(
            DEFAULT_AGENT_ID, "default", "ultimate", now, tools=[toolset]
        )
        config = {"type": "cloud", "networking": {"type": "unrestricted"}}
        self._state.environments[DEFAULT_ENVIRONMENT_ID] = EnvironmentRecord(
            DEFAULT_ENVIRONMENT_ID, "default", now, config=config
        )

    # -- the HTTP surface ------------------------------------------------------------------

    def handle(self, request: EmulatorRequest) -> EmulatorResponse:
        """Answer one request (thread-safe). Stream responses carry an :class:`EventStream`."""
        with self._state.lock:
            self.requests.append(request)
            try:
                response = self._handle(request)
            except ApiError as error:
                response = error.to_response()
            request_id = self._state.ids.new("req")
        response.headers.append(("x-request-id", request_id))
        return response

    def _relative(self, path: str) -> str | None:
        if not self.base_path:
            return path or "/"
        if path == self.base_path or path.startswith(self.base_path + "/"):
            return path[len(self.base_path) :] or "/"
        return None

    def _handle(self, request: EmulatorRequest) -> EmulatorResponse:
        relative = self._relative(request.path)
        if relative is None:
            raise ApiError(404, f"No such endpoint: {request.method} {request.path}.")
        self._authenticate(request)
        fault = self._state.faults.take_http(request.method, relative, after=False)
        if fault is not None:
            return fault.response()
        key = request.header("idempotency-key") if request.method in _WRITE_METHODS else None
        if key:
            stored = self._idempotency.get(key)
            if stored is not None and self._state.clock() - stored.stored_at > IDEMPOTENCY_WINDOW:
                del self._idempotency[key]  # keys are honoured for 24 h (§2.3)
                stored = None
            if stored is not None:
                if stored.fingerprint != _fingerprint(request):
                    raise ApiError(409, "Idempotency key reused with a different request body.")
                replay = stored.response
                headers = [*replay.headers, ("idempotent-replayed", "true")]
                return EmulatorResponse(replay.status, headers, replay.body)
        try:
            response = self._dispatch(request, relative)
        except ApiError as error:
            response = error.to_response()
        if key and 200 <= response.status < 300 and response.stream is None:
            self._idempotency[key] = _Stored(_fingerprint(request), response, self._state.clock())
            response = EmulatorResponse(response.status, list(response.headers), response.body)
        fault = self._state.faults.take_http(request.method, relative, after=True)
        if fault is not None:
            return fault.response()
        return response

    def _authenticate(self, request: EmulatorRequest) -> None:
        header = (request.header("authorization") or "").strip()
        if not header:
            raise ApiError(401, "Missing bearer token: send 'Authorization: Bearer <token>'.")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "Invalid Authorization header: expected 'Bearer <token>'.")
        if self.token is not None and token != self.token:
            raise ApiError(401, "Invalid access token.")

    def _dispatch(self, request: EmulatorRequest, relative: str) -> EmulatorResponse:
        path_matched = False
        for method, pattern, handler in _ROUTES:
            match = pattern.fullmatch(relative.rstrip("/") or "/")
            if match is None:
                continue
            path_matched = True
            if method == request.method:
                params = [unquote(group) for group in match.groups()]
                return handler(self._state, request, *params)
        if path_matched:
            raise ApiError(405, f"Method {request.method} not allowed on {relative}.")
        raise ApiError(404, f"No such endpoint: {request.method} {relative}.")

    # -- test helpers ----------------------------------------------------------------------

    def inject(self, fault: F) -> F:
        """Arm a :class:`HttpFault` or :class:`StreamFault`; returns it (see its ``used``)."""
        with self._state.lock:
            self._state.faults.add(fault)
        return fault

    def clear_faults(self) -> None:
        """Disarm every injected fault."""
        with self._state.lock:
            self._state.faults.clear()

    @property
    def faults(self) -> list[Fault]:
        """The injected faults that will still fire."""
        with self._state.lock:
            return self._state.faults.armed

    def release(self, session_id: str) -> None:
        """Let a turn stopped at a :class:`Hold` step, or waiting at a :class:`Wait` step (the
        agent thinking), go on now (``ValueError`` if none is held)."""
        with self._state.lock:
            session = self._state.sessions.get(session_id)
            turn = session.turn if session is not None else None
            if turn is None or not turn.held:
                raise ValueError(f"Session {session_id} has no turn on hold.")
            turn.release()

    def is_held(self, session_id: str) -> bool:
        """Whether the session's turn is stopped at a :class:`Hold` or :class:`Wait` step."""
        with self._state.lock:
            session = self._state.sessions.get(session_id)
            return bool(session and session.turn and session.turn.held)

    def wait_until_idle(self, session_id: str, timeout: float = 5.0) -> bool:
        """Block until the session is no longer running (its turn ended or waits for the
        client); ``False`` after ``timeout`` seconds. Wakes on each event, without polling:
        for a turn that goes on by itself, e.g. after the agent thought for a while."""
        with self._state.lock:
            session = self._state.session(session_id)
            condition = session.log.notifier.condition
            return condition.wait_for(
                lambda: session.status not in ("running", "rescheduling"), timeout
            )

    def events(self, session_id: str) -> list[dict[str, Any]]:
        """The persisted events of a session (copies), oldest first."""
        with self._state.lock:
            return [dict(event) for event in self._state.session(session_id).log.events]

    def session(self, session_id: str) -> dict[str, Any]:
        """The Session object, as ``GET /sessions/{id}`` would return it."""
        with self._state.lock:
            return self._state.session(session_id).to_json()

    def create_session(
        self,
        agent_id: str = DEFAULT_AGENT_ID,
        environment_id: str = DEFAULT_ENVIRONMENT_ID,
        **fields: Any,
    ) -> str:
        """Create a session without going through HTTP; returns its id."""
        body = {"agent": agent_id, "environment_id": environment_id, **fields}
        request = EmulatorRequest("POST", "/sessions", json=body)
        with self._state.lock:
            response = _routes.create_session(self._state, request)
        return str(response.json()["id"])

    def log_of(self, session_id: str) -> EventLog:
        """The live event log of a session (for advanced assertions)."""
        with self._state.lock:
            return self._state.session(session_id).log

    @property
    def open_streams(self) -> int:
        """How many event streams are open."""
        with self._state.lock:
            return len(self._state.streams)

    def wait_for_streams(self, count: int = 0, timeout: float = 5.0) -> bool:
        """Block until at most ``count`` streams are open (``False`` after ``timeout`` seconds).

        Useful to check that a served stream was released after its client went away.
        """
        state = self._state
        with state.lock:
            return state.streams_changed.wait_for(lambda: len(state.streams) <= count, timeout)

    def close_streams(self) -> None:
        """Close every open event stream (their readers wake up and stop)."""
        with self._state.lock:
            streams = list(self._state.streams)
        for stream in streams:
            stream.close()

    # -- adapters --------------------------------------------------------------------------

    def mount(self, router: respx.Router, base_url: str | None = None) -> respx.Route:
        """Route every request under ``base_url`` on ``router`` to this cloud."""
        from qoder.testing._respx import mount

        return mount(self, router, base_url)

    def mock(self, base_url: str | None = None) -> AbstractContextManager[respx.MockRouter]:
        """Context manager: a respx mock (sync and async httpx) serving this cloud."""
        from qoder.testing._respx import mock

        return mock(self, base_url)

    def asgi_app(self) -> ASGIApp:
        """This cloud as a raw ASGI 3 application."""
        from qoder.testing._asgi import ASGIApp

        return ASGIApp(self)
