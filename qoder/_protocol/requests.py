"""What to send: one request description per endpoint, and the event params a turn posts.

Every REST call of docs/protocol.md §3 is described here as an :class:`APIRequest` value (method,
path, query, JSON body, extra headers) built by one small function per endpoint. Nothing here
opens a socket: the sync and the async facades turn the same value into an ``httpx`` request, so
the wire format (percent-encoded ids, repeated list keys, ``true``/``false``, omitted optionals,
``{}`` on ``/cancel`` and ``/archive``) is decided and tested once.
The other direction, a failed answer to an exception, is :mod:`.status`. The endpoints only
the resource client uses are in :mod:`.resource_requests`. Over ~400 lines because the
APIRequest value, the conversation's endpoints, the event params they post and the page and
header rules are one vocabulary, tested together (``tests/protocol/test_requests.py``).
"""

from __future__ import annotations

import enum
import json
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from . import blocks as b
from . import errors
from .convert import block_to_wire
from .specs import AgentSpec, EnvironmentSpec

__all__ = [
    "BUSY_MESSAGE",
    "NO_BODY",
    "APIRequest",
    "NoBody",
    "archive_session",
    "base_headers",
    "cancel_session",
    "create_agent",
    "create_environment",
    "create_session",
    "custom_tool_result",
    "delete_session",
    "header_value",
    "interrupt",
    "list_events",
    "list_sessions",
    "next_page_params",
    "retrieve_session",
    "send_events",
    "stream_events",
    "tool_confirmation",
    "user_message",
]

BUSY_MESSAGE: Final = "Session is currently processing a turn"
"""The start of the server's 409 text when a turn is running (docs/protocol.md §2.6)."""


class NoBody(enum.Enum):
    """The type of :data:`NO_BODY` (an enum, so that type checkers can narrow on it)."""

    NO_BODY = "NO_BODY"

    def __repr__(self) -> str:
        return "NO_BODY"


NO_BODY: Final = NoBody.NO_BODY
"""``APIRequest.json`` for a request without a body (GET, DELETE). ``None`` would be JSON null."""


@attrs.frozen
class APIRequest:
    """One REST call, described without I/O. The facades send it; :mod:`.retry` drives retries.

    Attributes:
        method: ``"GET"``, ``"POST"`` or ``"DELETE"``.
        path: relative to the base URL, starting with ``/``; path parameters are already
            percent-encoded with no safe characters, so an id can never add a path segment.
        params: the query as ordered pairs; a list repeats its key (``("types[]", "a")``),
            booleans are ``"true"``/``"false"``, absent parameters are left out.
        json: the JSON body, or :data:`NO_BODY`.
        stream: the SSE endpoint: the facade keeps the response open and reads frames from it.
        headers: headers of this request only (``Accept`` for the stream, ``Last-Event-ID``).
    """

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    json: Any = NO_BODY
    stream: bool = False
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def retry_safe(self) -> bool:
        """True if re-sending cannot do the work twice (docs/protocol.md §2.5).

        GET and HEAD read only; every POST and DELETE this client sends carries an
        ``Idempotency-Key`` (added by :func:`~.retry.call_flow`), which makes the server replay
        its stored answer instead of running the call again.
        """
        return self.method in ("GET", "HEAD") or self.needs_idempotency_key

    @property
    def needs_idempotency_key(self) -> bool:
        """POST and DELETE carry an ``Idempotency-Key`` (docs/protocol.md §2.3)."""
        return self.method in ("POST", "DELETE")

    @property
    def has_body(self) -> bool:
        """Whether a JSON body is sent (then with ``Content-Type: application/json``)."""
        return self.json is not NO_BODY

    def encoded_body(self) -> bytes | None:
        """The body as compact UTF-8 JSON, or ``None``; the same bytes on every attempt."""
        if self.json is NO_BODY:
            return None
        return json.dumps(self.json, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- small helpers -----------------------------------------------------------------------------


def _segment(name: str, value: str) -> str:
    """One path parameter, percent-encoded with no safe characters (``/`` becomes ``%2F``)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return urllib.parse.quote(value, safe="")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _query(*pairs: tuple[str, object | None]) -> tuple[tuple[str, str], ...]:
    """Query pairs with ``None`` left out, booleans as ``true``/``false`` and ints as digits."""
    out: list[tuple[str, str]] = []
    for key, value in pairs:
        if value is None:
            continue
        out.append((key, _bool(value) if isinstance(value, bool) else str(value)))
    return tuple(out)


def _repeated(key: str, values: Sequence[str]) -> tuple[tuple[str, str], ...]:
    if isinstance(values, str):  # a lone string would otherwise repeat each character
        values = (values,)
    return tuple((key, value) for value in values)


def _put(body: dict[str, Any], key: str, value: Any) -> None:
    """Set an optional body field; ``None`` means absent and is never sent as ``null``."""
    if value is not None:
        body[key] = value


def header_value(headers: Mapping[str, str] | None, name: str) -> str | None:
    """A header by case-insensitive name, from an ``httpx.Headers`` or a plain dict."""
    if headers is None:
        return None
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


# --- agents, environments, sessions ---------------------------------------------------------


def create_agent(spec: AgentSpec) -> APIRequest:
    """``POST /agents`` (§3.1). ``tools`` is always sent; empty optional collections are not."""
    body: dict[str, Any] = {
        "name": spec.name,
        "model": dict(spec.model) if isinstance(spec.model, Mapping) else spec.model,
    }
    _put(body, "description", spec.description)
    _put(body, "system", spec.system)
    body["tools"] = [dict(tool) for tool in spec.tools]
    if spec.mcp_servers:
        body["mcp_servers"] = [dict(server) for server in spec.mcp_servers]
    if spec.skills:
        body["skills"] = [dict(skill) for skill in spec.skills]
    if spec.metadata:
        body["metadata"] = dict(spec.metadata)
    return APIRequest("POST", "/agents", json=body)


def create_environment(spec: EnvironmentSpec) -> APIRequest:
    """``POST /environments`` (§3.2); ``networking`` is an object: a bare string is a 400."""
    body: dict[str, Any] = {
        "name": spec.name,
        "config": {"type": "cloud", "networking": {"type": spec.networking}},
    }
    if spec.metadata:
        body["metadata"] = dict(spec.metadata)
    return APIRequest("POST", "/environments", json=body)


def create_session(
    *,
    agent: str,
    agent_version: int | None,
    environment_id: str,
    agent_overrides: Mapping[str, Any] | None = None,
    title: str | None = None,
    metadata: Mapping[str, str] | None = None,
    environment_variables: Mapping[str, str] | None = None,
    resources: Sequence[Mapping[str, Any]] | None = None,
    vault_ids: Sequence[str] | None = None,
    max_credit_cost: str | None = None,
) -> APIRequest:
    """``POST /sessions`` (§3.3).

    ``agent`` alone means the agent's latest version; with ``agent_version`` it is sent as
    ``{"type": "agent", "id": ..., "version": n}``, and with ``agent_overrides`` (fields of
    the agent replaced for this session, §8.1) as ``{"type": "agent_with_overrides", ...}``.
    ``max_credit_cost`` becomes ``budget = {"type": "limit", "max_credit_cost": ...}``.
    ``None`` fields are omitted.
    """
    reference: str | dict[str, Any] = agent
    if agent_overrides:
        reference = {"type": "agent_with_overrides", "id": agent, **agent_overrides}
        _put(reference, "version", agent_version)
    elif agent_version is not None:
        reference = {"type": "agent", "id": agent, "version": agent_version}
    body: dict[str, Any] = {"agent": reference, "environment_id": environment_id}
    _put(body, "title", title)
    if metadata is not None:
        body["metadata"] = dict(metadata)
    if environment_variables is not None:
        body["environment_variables"] = dict(environment_variables)
    if resources is not None:
        body["resources"] = [dict(resource) for resource in resources]
    if vault_ids is not None:
        body["vault_ids"] = list(vault_ids)
    if max_credit_cost is not None:
        body["budget"] = {"type": "limit", "max_credit_cost": max_credit_cost}
    return APIRequest("POST", "/sessions", json=body)


def retrieve_session(session_id: str) -> APIRequest:
    """``GET /sessions/{id}`` (§3.4)."""
    return APIRequest("GET", f"/sessions/{_segment('session_id', session_id)}")


def list_sessions(
    *,
    limit: int | None = None,
    page: str | None = None,
    after_id: str | None = None,
    order: str | None = None,
    include_archived: bool | None = None,
    agent_id: str | None = None,
    statuses: Sequence[str] = (),
) -> APIRequest:
    """``GET /sessions`` (§3.5); ``statuses`` repeats ``statuses[]``."""
    params = _query(
        ("limit", limit),
        ("page", page),
        ("after_id", after_id),
        ("order", order),
        ("include_archived", include_archived),
        ("agent_id", agent_id),
    ) + _repeated("statuses[]", statuses)
    return APIRequest("GET", "/sessions", params=params)


def delete_session(session_id: str) -> APIRequest:
    """``DELETE /sessions/{id}`` (§3.6), without a body."""
    return APIRequest("DELETE", f"/sessions/{_segment('session_id', session_id)}")


def archive_session(session_id: str) -> APIRequest:
    """``POST /sessions/{id}/archive`` (§3.7) with the body ``{}``."""
    return APIRequest("POST", f"/sessions/{_segment('session_id', session_id)}/archive", json={})


def cancel_session(session_id: str) -> APIRequest:
    """``POST /sessions/{id}/cancel`` (§3.8) with the body ``{}``."""
    return APIRequest("POST", f"/sessions/{_segment('session_id', session_id)}/cancel", json={})


# --- events ----------------------------------------------------------------------------------


def send_events(session_id: str, events: Sequence[Mapping[str, Any]]) -> APIRequest:
    """``POST /sessions/{id}/events`` (§3.9). ``events`` must not be empty (the server 400s)."""
    if not events:
        raise ValueError("send_events needs at least one event")
    body = {"events": [dict(event) for event in events]}
    return APIRequest("POST", f"/sessions/{_segment('session_id', session_id)}/events", json=body)


def list_events(
    session_id: str,
    *,
    limit: int | None = None,
    after_id: str | None = None,
    before_id: str | None = None,
    order: str | None = None,
    page: str | None = None,
    types: Sequence[str] = (),
) -> APIRequest:
    """``GET /sessions/{id}/events`` (§3.10); ``types`` repeats ``types[]``."""
    params = _query(
        ("limit", limit),
        ("after_id", after_id),
        ("before_id", before_id),
        ("order", order),
        ("page", page),
    ) + _repeated("types[]", types)
    path = f"/sessions/{_segment('session_id', session_id)}/events"
    return APIRequest("GET", path, params=params)


def stream_events(
    session_id: str, *, cursor: str | None, event_deltas: Sequence[str] = ()
) -> APIRequest:
    """``GET /sessions/{id}/events/stream`` (§3.11), the SSE endpoint.

    A cursor is sent both as ``Last-Event-ID`` (the standard, and what A and D use) and as
    the ``after_id`` query (what B uses); servers that know both let the header win.
    ``event_deltas`` (``agent.message``, ``agent.thinking``) opts into preview frames.
    """
    headers: list[tuple[str, str]] = [("Accept", "text/event-stream")]
    params = _query(("after_id", cursor or None)) + _repeated("event_deltas[]", event_deltas)
    if cursor:
        headers.append(("Last-Event-ID", cursor))
    path = f"/sessions/{_segment('session_id', session_id)}/events/stream"
    return APIRequest("GET", path, params=params, stream=True, headers=tuple(headers))


def _block_to_wire(block: b.ContentBlock | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(block, Mapping):
        return dict(block)
    if not attrs.has(type(block)):
        raise TypeError(
            f"content must be a string, or a list of content blocks or dicts; got a list "
            f"holding a {type(block).__name__}"
        )
    return block_to_wire(block)


def _content(content: str | Sequence[b.ContentBlock | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A string is one text block; blocks and dicts are converted one by one."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [_block_to_wire(block) for block in content]


def user_message(content: str | Sequence[b.ContentBlock | Mapping[str, Any]]) -> dict[str, Any]:
    """A ``user.message`` event param (§4.1); content is always sent as a list of blocks."""
    return {"type": "user.message", "content": _content(content)}


def custom_tool_result(
    custom_tool_use_id: str,
    content: str | Sequence[b.ContentBlock | Mapping[str, Any]] | None,
    *,
    is_error: bool | None = None,
) -> dict[str, Any]:
    """A ``user.custom_tool_result`` event param (§4.4); ``None`` content is omitted."""
    event: dict[str, Any] = {
        "type": "user.custom_tool_result",
        "custom_tool_use_id": custom_tool_use_id,
    }
    if content is not None:
        event["content"] = _content(content)
    _put(event, "is_error", is_error)
    return event


def tool_confirmation(
    tool_use_id: str, *, allow: bool, deny_message: str | None = None
) -> dict[str, Any]:
    """A ``user.tool_confirmation`` event param (§4.3); ``deny_message`` only with a denial."""
    if allow and deny_message is not None:
        raise ValueError("deny_message is only sent with a denial (allow=False)")
    event: dict[str, Any] = {
        "type": "user.tool_confirmation",
        "tool_use_id": tool_use_id,
        "result": "allow" if allow else "deny",
    }
    _put(event, "deny_message", deny_message)
    return event


def system_message(text: str) -> dict[str, Any]:
    """A ``system.message`` event param (§8.4): instructions for the rest of the turn. It
    goes last in a request, directly after a ``user.message`` or ``user.custom_tool_result``."""
    return {"type": "system.message", "content": [{"type": "text", "text": text}]}


def interrupt(*, session_thread_id: str | None = None) -> dict[str, Any]:
    """A ``user.interrupt`` event param (§4.2); without a thread id it interrupts all."""
    event: dict[str, Any] = {"type": "user.interrupt"}
    _put(event, "session_thread_id", session_thread_id)
    return event


# --- pagination ------------------------------------------------------------------------------


def next_page_params(
    page: Mapping[str, Any], previous_cursor: str | None
) -> tuple[str, str] | None:
    """The query pair that fetches the page after ``page``, or ``None`` at the end (§3).

    A non-empty ``next_page`` wins (``("page", token)``, as A does); else ``has_more`` with a
    non-empty ``data`` continues after ``last_id`` (as D shows; the last item's id when
    ``last_id`` is missing). ``previous_cursor`` is the value that fetched ``page``: a cursor
    equal to it would loop forever, so it is a :class:`~qoder.errors.ProtocolError`.
    """
    cursor: tuple[str, str] | None = None
    token = page.get("next_page")
    data = page.get("data")
    if isinstance(token, str) and token:
        cursor = ("page", token)
    elif page.get("has_more") is True and isinstance(data, list) and data:
        last_id = page.get("last_id")
        if not (isinstance(last_id, str) and last_id):
            last = data[-1]
            last_id = last.get("id") if isinstance(last, Mapping) else None
        if not (isinstance(last_id, str) and last_id):
            raise errors.ProtocolError(
                "The server said has_more but gave neither next_page nor last_id: cannot fetch "
                "the next page."
            )
        cursor = ("after_id", last_id)
    if cursor is not None and cursor[1] == previous_cursor:
        raise errors.ProtocolError(
            f"The server's page cursor did not advance ({cursor[0]}={cursor[1]!r} again): "
            "stopping instead of fetching the same page forever."
        )
    return cursor


# --- headers ---------------------------------------------------------------------------------


def base_headers(
    *,
    token: str,
    version: str,
    timeout_seconds: float | None,
    workspace_id: str | None = None,
    betas: Sequence[str] = (),
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The headers every request of a client carries (§2.3).

    ``timeout_seconds`` is the read timeout: sent as whole seconds in ``X-Qoder-Timeout``
    (left out below one second). ``extra`` (the user's ``default_headers``) is applied last and
    may override any of these. The per-attempt headers (``X-Qoder-Retry-Count``,
    ``Idempotency-Key``) come from :func:`~.retry.call_flow`.
    """
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json",
        "User-Agent": f"qoder-python/{version}",
        "X-Qoder-Lang": "python",
        "X-Qoder-Package-Version": version,
    }
    if timeout_seconds is not None and int(timeout_seconds) >= 1:
        headers["X-Qoder-Timeout"] = str(int(timeout_seconds))
    if workspace_id:
        headers["qoder-workspace-id"] = workspace_id
    if betas:
        headers["x-qoder-beta"] = ",".join(betas)
    if extra:
        headers.update(extra)
    return headers
