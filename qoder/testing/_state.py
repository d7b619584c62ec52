"""The state of one emulated cloud: stores, ids, clock, faults, open streams, one lock."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from qoder.testing._faults import FaultRegistry
from qoder.testing._ids import Clock, IdFactory, format_timestamp
from qoder.testing._pages import PageTokens
from qoder.testing._resources import AgentRecord, EnvironmentRecord, SessionRecord
from qoder.testing._script import ScriptedAgent
from qoder.testing._stream import EventStream
from qoder.testing._wire import ApiError

__all__ = ["CloudState"]


class CloudState:
    """Everything the handlers read and write. Touch it only with ``lock`` held."""

    def __init__(
        self,
        *,
        clock: Clock,
        agent: ScriptedAgent,
        omit_turn_id: bool,
        keepalive_interval: float,
        think_seconds: float = 0.0,
        report_usd_cost: bool = True,
    ) -> None:
        self.lock = threading.RLock()
        self.ids = IdFactory()
        self.clock = clock
        self.agent = agent
        self.scripts: dict[str, ScriptedAgent] = {}
        self.omit_turn_id = omit_turn_id
        self.keepalive_interval = keepalive_interval
        self.think_seconds = think_seconds
        """How long the default agent thinks before each answer (0: it answers at once)."""
        self.report_usd_cost = report_usd_cost
        """Whether new sessions report ``usage.list_cost`` (§8.6)."""
        self.agents: dict[str, AgentRecord] = {}
        """The latest version of every agent."""
        self.agent_versions: dict[str, dict[int, AgentRecord]] = {}
        """The earlier versions of updated agents, by id then version."""
        self.environments: dict[str, EnvironmentRecord] = {}
        self.sessions: dict[str, SessionRecord] = {}
        self.removed: dict[str, int] = {}
        """The list positions of deleted sessions and environments (cursors stay valid)."""
        self._seq = itertools.count(1)
        self.streams: set[EventStream] = set()
        self.streams_changed = threading.Condition(self.lock)
        self.faults = FaultRegistry()
        self.page_tokens = PageTokens()

    def now(self) -> str:
        """The current time as an RFC 3339 string."""
        return format_timestamp(self.clock())

    def next_seq(self) -> int:
        """The next creation sequence number (the list position of a new resource)."""
        return next(self._seq)

    def script_for(self, agent_id: str) -> ScriptedAgent:
        """The scripted behaviour of agent ``agent_id`` (the cloud's default unless overridden)."""
        return self.scripts.get(agent_id, self.agent)

    def session(self, session_id: str) -> SessionRecord:
        """The session, or a 404 ``not_found_error``."""
        session = self.sessions.get(session_id)
        if session is None:
            raise ApiError(404, f"Session {session_id} not found.")
        return session

    def find_agent(self, agent_id: str, version: int | None = None) -> AgentRecord:
        """The agent (its latest version, or ``version``), or a 404 ``not_found_error``."""
        agent = self.agents.get(agent_id)
        if agent is None:
            raise ApiError(404, f"Agent {agent_id} not found.")
        if version is None or version == agent.version:
            return agent
        older = self.agent_versions.get(agent_id, {}).get(version)
        if older is None:
            raise ApiError(404, f"Agent {agent_id} has no version {version}.")
        return older

    def find_environment(self, env_id: str) -> EnvironmentRecord:
        """The environment, or a 404 ``not_found_error``."""
        environment = self.environments.get(env_id)
        if environment is None:
            raise ApiError(404, f"Environment {env_id} not found.")
        return environment

    def emit(
        self,
        session: SessionRecord,
        type: str,
        fields: dict[str, Any],
        turn_id: str | None,
    ) -> dict[str, Any]:
        """Persist an event on ``session`` with the common envelope (docs/protocol.md §4.0)."""
        now = self.now()
        event: dict[str, Any] = {"id": self.ids.new("evt"), "type": type}
        event.update({k: v for k, v in fields.items() if k not in ("id", "type")})
        event["session_id"] = session.id
        if turn_id is not None and not self.omit_turn_id:
            event["turn_id"] = turn_id
        event["created_at"] = now
        event["processed_at"] = now
        event["schema_version"] = "1.0"
        session.log.append(event)
        return event

    def schedule(self, seconds: float, callback: Callable[[], None]) -> threading.Timer:
        """Run ``callback`` with the lock held after ``seconds``, in a daemon timer thread
        (``cancel()`` the returned timer to call it off)."""

        def fire() -> None:
            with self.lock:
                callback()

        timer = threading.Timer(seconds, fire)
        timer.daemon = True
        timer.start()
        return timer

    def forget_stream(self, stream: EventStream) -> None:
        """Drop a closed stream from the open set."""
        with self.lock:
            self.streams.discard(stream)
            self.streams_changed.notify_all()
