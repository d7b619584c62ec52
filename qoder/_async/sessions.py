"""The official SDK's session functions, over the cloud's sessions (async).

``qoder-agent-sdk`` reads and writes a local CLI's transcript files; here the same names read
and change the sessions Cloud Agents keeps, through :class:`~qoder.Cloud`. A ``directory``
has no meaning for a cloud session: it is accepted, and ignored with a warning. Each name is
the blocking one with an ``a`` in front (``alist_sessions``), awaited, over
:class:`~qoder.AsyncCloud`.
"""

from __future__ import annotations

import warnings

from .._protocol.errors import NotFoundError
from .._protocol.messages import Message
from .._protocol.resources import Session
from ..options import QoderAgentOptions
from .cloud import AsyncCloud

__all__ = [
    "adelete_session",
    "aget_session_info",
    "aget_session_messages",
    "alist_sessions",
    "arename_session",
    "atag_session",
]


def _no_directory(directory: str | None) -> None:
    if directory is not None:
        warnings.warn(
            "directory= is ignored: cloud sessions do not belong to a directory",
            stacklevel=3,
        )


async def alist_sessions(
    directory: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    include_worktrees: bool = True,
    *,
    agent_id: str | None = None,
    include_archived: bool = False,
    options: QoderAgentOptions | None = None,
) -> list[Session]:
    """The sessions, newest first (of ``agent_id`` if given): ``offset`` skipped, at most
    ``limit`` returned. ``include_worktrees`` has no cloud meaning and is ignored."""
    _no_directory(directory)
    sessions: list[Session] = []
    skip = offset
    async with AsyncCloud(options) as cloud:
        pager = cloud.sessions.list(agent_id=agent_id, include_archived=include_archived or None)
        async for page in pager.pages():
            for session in page:
                if limit is not None and len(sessions) >= limit:
                    return sessions
                if skip:
                    skip -= 1
                else:
                    sessions.append(session)
    return sessions


async def aget_session_info(
    session_id: str, directory: str | None = None, *, options: QoderAgentOptions | None = None
) -> Session | None:
    """The session ``session_id``, or ``None`` when there is none."""
    _no_directory(directory)
    async with AsyncCloud(options) as cloud:
        try:
            return await cloud.sessions.retrieve(session_id)
        except NotFoundError:
            return None


async def aget_session_messages(
    session_id: str,
    directory: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    *,
    options: QoderAgentOptions | None = None,
) -> list[Message]:
    """The session's conversation, oldest first: each turn's prompt, then the messages a live
    conversation yielded for it (``Cloud.sessions.history``); ``offset`` and ``limit`` slice it."""
    _no_directory(directory)
    async with AsyncCloud(options) as cloud:
        messages = await cloud.sessions.history(session_id)
    end = None if limit is None else offset + limit
    return messages[offset:end]


async def arename_session(
    session_id: str,
    title: str,
    directory: str | None = None,
    *,
    options: QoderAgentOptions | None = None,
) -> None:
    """Set the session's title (surrounding white space stripped)."""
    _no_directory(directory)
    async with AsyncCloud(options) as cloud:
        await cloud.sessions.update(session_id, title=title.strip())


async def atag_session(
    session_id: str,
    tag: str | None,
    directory: str | None = None,
    *,
    options: QoderAgentOptions | None = None,
) -> None:
    """Tag the session (its ``metadata["tag"]``); ``None`` clears the tag."""
    _no_directory(directory)
    async with AsyncCloud(options) as cloud:
        await cloud.sessions.update(session_id, metadata={"tag": tag})


async def adelete_session(
    session_id: str, directory: str | None = None, *, options: QoderAgentOptions | None = None
) -> None:
    """Delete the session (for good: archive it with ``Cloud.sessions.archive`` to keep it)."""
    _no_directory(directory)
    async with AsyncCloud(options) as cloud:
        await cloud.sessions.delete(session_id)
