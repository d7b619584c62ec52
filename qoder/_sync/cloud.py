"""``Cloud``: the REST resources (sessions, their events, agents, environments), blocking.

A driver of :class:`qoder._protocol.catalog.CatalogCore`, the twin of
:mod:`qoder._async.cloud`: the same names, the same arguments, the same docstrings. Lists are
lazy: iterating one walks every page as it goes; ``.pages()`` and ``.first_page()`` give the
pages themselves.
"""

from __future__ import annotations

import builtins
import functools
import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

import httpx

from .._protocol import effects as fx
from .._protocol import requests as rq
from .._protocol import resource_requests as rr
from .._protocol.catalog import CatalogCore
from .._protocol.events import Event
from .._protocol.flows import Flow
from .._protocol.history import replay
from .._protocol.messages import Message
from .._protocol.resources import Agent, Deleted, Environment, Page, Session
from .._protocol.specs import AgentSpec, EnvironmentSpec
from ..options import QoderAgentOptions, check_http_client, check_options, resolve_options
from .callables import call_user
from .http_client import HTTPClient

__all__ = ["Agents", "Cloud", "Environments", "Pager", "SessionEvents", "Sessions"]

T = TypeVar("T")


class Cloud:
    """The Cloud Agents resources, configured like a conversation (``QoderAgentOptions``
    and the same environment variables; no agent needed)::

        with Cloud() as cloud:
            for session in cloud.sessions.list(agent_id="agent_..."):
                print(session.id, session.status)

    ``http_client``: your own ``httpx.Client`` (one pool for conversations and resources);
    the client then neither configures nor closes it.
    """

    def __init__(
        self,
        options: QoderAgentOptions | None = None,
        *,
        http_client: httpx.Client | None = None,
    ) -> None:
        check_http_client(http_client, want_async=False)
        self._options = check_options(options, type(self).__name__)
        self._core = CatalogCore()
        self._http = HTTPClient(http_client)
        self.sessions = Sessions(self)
        """Sessions, and their events (``cloud.sessions.events``)."""
        self.agents = Agents(self)
        """Agents."""
        self.environments = Environments(self)
        """Environments."""

    def close(self) -> None:
        """Close the HTTP client, if this object made it. Idempotent."""
        self._run(self._core.close())

    def __enter__(self) -> Cloud:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- the driver ----------------------------------------------------------------------------

    def _call(self, request: rq.APIRequest, into: type[T]) -> T:
        self._open()
        return self._run(self._core.call(request, into))

    def _open(self) -> None:
        resolve = functools.partial(resolve_options, self._options, require_agent=False)
        self._run(self._core.open(resolve))

    def _run(self, flow: Flow[T]) -> T:
        result: fx.EffectResult = None
        try:
            while True:
                try:
                    effect = flow.send(result)
                except StopIteration as done:
                    return cast(T, done.value)
                result = self._perform(effect)
        finally:
            flow.close()

    def _perform(self, effect: fx.Effect) -> fx.EffectResult:
        match effect:
            case fx.Send():
                return self._http.send(effect)
            case fx.Sleep():
                time.sleep(effect.seconds)
            case fx.CallUser():
                return call_user(effect)
            case fx.OpenHTTP():
                self._http.open(effect)
            case fx.CloseHTTP():
                self._http.close()
            case fx.OpenStream() | fx.ReadChunk() | fx.CloseStream() | fx.WakeReader():
                raise AssertionError(f"the resource client reads no stream: {effect!r}")
            case _:
                fx.unhandled(effect)
        return None


class Pager(Generic[T]):
    """A list, fetched page by page as it is iterated (``limit`` sizes a page, not the total)."""

    def __init__(self, cloud: Cloud, request: rq.APIRequest, into: type[T] | None) -> None:
        self._cloud = cloud
        self._request = request
        self._into = into

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page

    def pages(self) -> Generator[Page[T], None, None]:
        """Every page, in order, each fetched when the previous one is done with."""
        self._cloud._open()
        request: rq.APIRequest | None = self._request
        cursor: str | None = None
        while request is not None:
            step = self._cloud._run(self._cloud._core.page(request, self._into, cursor))
            yield step.page
            request, cursor = step.following, step.cursor

    def first_page(self) -> Page[T]:
        """Just the first page (its ``has_more`` says whether more follow)."""
        return next(iter(self.pages()))


class Sessions:
    """``cloud.sessions``: create, read, list, change and clean up sessions (§3, §8.2)."""

    def __init__(self, cloud: Cloud) -> None:
        self._cloud = cloud
        self.events = SessionEvents(cloud)
        """A session's persisted events."""

    def create(
        self,
        *,
        agent: str,
        environment_id: str,
        agent_version: int | None = None,
        title: str | None = None,
        metadata: Mapping[str, str] | None = None,
        environment_variables: Mapping[str, str] | None = None,
        max_credit_cost: str | None = None,
    ) -> Session:
        """Create a session of ``agent`` in ``environment_id`` (§3.3)."""
        request = rq.create_session(
            agent=agent,
            agent_version=agent_version,
            environment_id=environment_id,
            title=title,
            metadata=metadata,
            environment_variables=environment_variables,
            max_credit_cost=max_credit_cost,
        )
        return self._cloud._call(request, Session)

    def retrieve(self, session_id: str) -> Session:
        """The session ``session_id`` (a :class:`~qoder.NotFoundError` if there is none)."""
        return self._cloud._call(rq.retrieve_session(session_id), Session)

    def list(
        self,
        *,
        agent_id: str | None = None,
        statuses: Sequence[str] = (),
        order: str | None = None,
        include_archived: bool | None = None,
        limit: int | None = None,
    ) -> Pager[Session]:
        """Every session, newest first unless ``order="asc"``; archived ones only with
        ``include_archived=True`` (§3.5)."""
        request = rq.list_sessions(
            agent_id=agent_id,
            statuses=statuses,
            order=order,
            include_archived=include_archived,
            limit=limit,
        )
        return Pager(self._cloud, request, Session)

    def history(self, session_id: str, *, prompts: bool = True) -> builtins.list[Message]:
        """The session's turns as the messages a live conversation yields: the same
        ``AssistantMessage`` / ``UserMessage`` values, one ``ResultMessage`` per completed
        turn; with ``prompts``, each turn starts with the user's prompt as a ``UserMessage``."""
        events = list(self.events.list(session_id, limit=100))
        return replay(events, session_id=session_id, prompts=prompts)

    def update(
        self,
        session_id: str,
        *,
        title: str | None = None,
        metadata: Mapping[str, str | None] | None = None,
        environment_variables: Mapping[str, str] | None = None,
        agent: Mapping[str, Any] | None = None,
        max_credit_cost: str | None = None,
    ) -> Session:
        """Change a session (§8.2): ``metadata`` is a patch (``None`` deletes a key);
        ``agent`` overrides ``model``, ``system``, ``tools``... from the next model request."""
        request = rr.update_session(
            session_id,
            title=title,
            metadata=metadata,
            environment_variables=environment_variables,
            agent=agent,
            max_credit_cost=max_credit_cost,
        )
        return self._cloud._call(request, Session)

    def delete(self, session_id: str) -> Deleted:
        """Delete a session; its open streams end (§3.6)."""
        return self._cloud._call(rq.delete_session(session_id), Deleted)

    def archive(self, session_id: str) -> Session:
        """Archive a session: hidden from lists, readable, takes no more events (§3.7)."""
        return self._cloud._call(rq.archive_session(session_id), Session)

    def cancel(self, session_id: str) -> Session:
        """Abort the turn the session is running (a no-op when idle, §3.8)."""
        return self._cloud._call(rq.cancel_session(session_id), Session)


class SessionEvents:
    """``cloud.sessions.events``: a session's persisted events, typed as on the stream."""

    def __init__(self, cloud: Cloud) -> None:
        self._cloud = cloud

    def list(
        self,
        session_id: str,
        *,
        after_id: str | None = None,
        before_id: str | None = None,
        order: str | None = None,
        types: Sequence[str] = (),
        limit: int | None = None,
    ) -> Pager[Event]:
        """The session's events, oldest first unless ``order="desc"`` (§3.10); unknown and
        malformed ones are kept as values."""
        request = rq.list_events(
            session_id,
            after_id=after_id,
            before_id=before_id,
            order=order,
            types=types,
            limit=limit,
        )
        return Pager(self._cloud, request, None)


class Agents:
    """``cloud.agents``: create, read, list, change and archive agents (§3.1, §8.5)."""

    def __init__(self, cloud: Cloud) -> None:
        self._cloud = cloud

    def create(self, spec: AgentSpec) -> Agent:
        """Create an agent from an :class:`~qoder.AgentSpec`."""
        return self._cloud._call(rq.create_agent(spec), Agent)

    def retrieve(self, agent_id: str, *, version: int | None = None) -> Agent:
        """The agent's latest version, or ``version``."""
        return self._cloud._call(rr.retrieve_agent(agent_id, version=version), Agent)

    def list(
        self, *, include_archived: bool | None = None, limit: int | None = None
    ) -> Pager[Agent]:
        """Every agent."""
        request = rr.list_agents(include_archived=include_archived, limit=limit)
        return Pager(self._cloud, request, Agent)

    def update(self, agent_id: str, *, version: int, **fields: Any) -> Agent:
        """Change an agent; ``version`` is the one the change is based on: a stale one is a
        :class:`~qoder.ConflictError` (retrieve the agent and try again)."""
        return self._cloud._call(rr.update_agent(agent_id, version=version, **fields), Agent)

    def archive(self, agent_id: str) -> Agent:
        """Archive an agent."""
        return self._cloud._call(rr.archive_agent(agent_id), Agent)


class Environments:
    """``cloud.environments``: create, read, list, delete and archive environments."""

    def __init__(self, cloud: Cloud) -> None:
        self._cloud = cloud

    def create(self, spec: EnvironmentSpec | None = None) -> Environment:
        """Create an environment from an :class:`~qoder.EnvironmentSpec`."""
        request = rq.create_environment(spec or EnvironmentSpec())
        return self._cloud._call(request, Environment)

    def retrieve(self, environment_id: str) -> Environment:
        """The environment ``environment_id``."""
        return self._cloud._call(rr.retrieve_environment(environment_id), Environment)

    def list(
        self, *, include_archived: bool | None = None, limit: int | None = None
    ) -> Pager[Environment]:
        """Every environment."""
        request = rr.list_environments(include_archived=include_archived, limit=limit)
        return Pager(self._cloud, request, Environment)

    def delete(self, environment_id: str) -> Deleted:
        """Delete an environment."""
        return self._cloud._call(rr.delete_environment(environment_id), Deleted)

    def archive(self, environment_id: str) -> Environment:
        """Archive an environment."""
        return self._cloud._call(rr.archive_environment(environment_id), Environment)
