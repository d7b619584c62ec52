"""Request descriptions of the resource endpoints the conversation itself does not use:
updating sessions (§8.2), reading, updating and archiving agents, reading, deleting and
archiving environments (§8.5), and the query of a following page (§3).

The session and event endpoints a conversation uses (create, retrieve, list, delete, archive,
cancel, list events) are in :mod:`.requests`; the resource client uses both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .requests import APIRequest, _put, _query, _segment, next_page_params

__all__ = [
    "archive_agent",
    "archive_environment",
    "delete_environment",
    "following_page",
    "list_agents",
    "list_environments",
    "retrieve_agent",
    "retrieve_environment",
    "update_agent",
    "update_session",
]

_PAGE_KEYS = frozenset({"page", "after_id"})


def update_session(
    session_id: str,
    *,
    title: str | None = None,
    metadata: Mapping[str, str | None] | None = None,
    environment_variables: Mapping[str, str] | None = None,
    agent: Mapping[str, Any] | None = None,
    max_credit_cost: str | None = None,
) -> APIRequest:
    """``POST /sessions/{id}`` (§8.2, not PATCH). ``metadata`` is a patch: a key with value
    ``None`` is deleted. ``agent`` replaces fields of the session's agent snapshot (``model``,
    ``system``, ``tools``, ``mcp_servers``, ``skills``) from the next model request."""
    body: dict[str, Any] = {}
    _put(body, "title", title)
    if metadata is not None:
        body["metadata"] = dict(metadata)
    if environment_variables is not None:
        body["environment_variables"] = dict(environment_variables)
    if agent is not None:
        body["agent"] = dict(agent)
    if max_credit_cost is not None:
        body["budget"] = {"type": "limit", "max_credit_cost": max_credit_cost}
    if not body:
        raise ValueError("update_session needs at least one field to change")
    return APIRequest("POST", f"/sessions/{_segment('session_id', session_id)}", json=body)


def retrieve_agent(agent_id: str, *, version: int | None = None) -> APIRequest:
    """``GET /agents/{id}`` (§8.5), the latest version unless ``version`` is given."""
    path = f"/agents/{_segment('agent_id', agent_id)}"
    return APIRequest("GET", path, params=_query(("version", version)))


def list_agents(*, limit: int | None = None, include_archived: bool | None = None) -> APIRequest:
    """``GET /agents`` (§8.5), one page."""
    params = _query(("limit", limit), ("include_archived", include_archived))
    return APIRequest("GET", "/agents", params=params)


def update_agent(agent_id: str, *, version: int, **fields: Any) -> APIRequest:
    """``POST /agents/{id}`` (§8.5): any field of an agent's creation, and the ``version``
    the change is based on (a stale one is a 409). ``None`` fields are left out."""
    body: dict[str, Any] = {"version": version}
    for name, value in fields.items():
        _put(body, name, value)
    return APIRequest("POST", f"/agents/{_segment('agent_id', agent_id)}", json=body)


def archive_agent(agent_id: str) -> APIRequest:
    """``POST /agents/{id}/archive`` (§8.5) with the body ``{}``."""
    return APIRequest("POST", f"/agents/{_segment('agent_id', agent_id)}/archive", json={})


def retrieve_environment(environment_id: str) -> APIRequest:
    """``GET /environments/{id}`` (§8.5)."""
    return APIRequest("GET", f"/environments/{_segment('environment_id', environment_id)}")


def list_environments(
    *, limit: int | None = None, include_archived: bool | None = None
) -> APIRequest:
    """``GET /environments`` (§8.5), one page."""
    params = _query(("limit", limit), ("include_archived", include_archived))
    return APIRequest("GET", "/environments", params=params)


def delete_environment(environment_id: str) -> APIRequest:
    """``DELETE /environments/{id}`` (§8.5), without a body."""
    path = f"/environments/{_segment('environment_id', environment_id)}"
    return APIRequest("DELETE", path)


def archive_environment(environment_id: str) -> APIRequest:
    """``POST /environments/{id}/archive`` (§8.5) with the body ``{}``."""
    path = f"/environments/{_segment('environment_id', environment_id)}/archive"
    return APIRequest("POST", path, json={})


def following_page(
    request: APIRequest, page: Mapping[str, Any], previous: str | None
) -> tuple[APIRequest, str] | None:
    """The request of the page after ``page`` (fetched by ``request``) and its cursor, or
    ``None`` at the end (§3: ``next_page``, else ``after_id`` of the last item).

    ``previous`` is the cursor that fetched ``page``; one that does not advance is a
    :class:`~.errors.ProtocolError` rather than a loop.
    """
    cursor = next_page_params(page, previous)
    if cursor is None:
        return None
    kept = tuple(pair for pair in request.params if pair[0] not in _PAGE_KEYS)
    return attrs.evolve(request, params=(*kept, cursor)), cursor[1]
