"""The official SDK's session functions (``list_sessions``, ``get_session_messages``, ...)
over the cloud's sessions: the blocking names, and their ``a``-prefixed async twins under
asyncio and trio."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import qoder
from qoder import QoderAgentOptions, ResultMessage, Session, UserMessage
from qoder.testing import FakeCloud
from tests.client.driver import Facade

BASE = "https://api.test/api/v1/cloud"
OPTIONS = QoderAgentOptions(auth="pat-functions-0123", base_url=BASE, agent="agent_default")


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    fake = FakeCloud()
    with fake.mock(base_url=BASE):
        yield fake


def call(facade: Facade, name: str, *args: Any, **kwargs: Any) -> Any:
    """The blocking function for the sync facade, the async twin for the others."""
    if facade.portal is None:
        return getattr(qoder, name)(*args, options=OPTIONS, **kwargs)
    function = getattr(qoder, "a" + name)
    return facade.portal.call(lambda: function(*args, options=OPTIONS, **kwargs))


def conversation(facade: Facade, *prompts: str) -> str:
    with facade.client(OPTIONS) as client:
        for prompt in prompts:
            client.turn(prompt)
        assert client.session_id is not None
        return client.session_id


def test_list_sessions_newest_first_with_offset_and_limit(facade: Facade, cloud: FakeCloud) -> None:
    ids = [conversation(facade, f"hello {n}") for n in range(4)]
    listed = call(facade, "list_sessions")
    assert [s.id for s in listed] == ids[::-1]
    assert all(isinstance(s, Session) for s in listed)
    assert [s.id for s in call(facade, "list_sessions", limit=2, offset=1)] == ids[2:0:-1]


def test_get_session_info_and_messages(facade: Facade, cloud: FakeCloud) -> None:
    cloud.agent.on("capital").reply("Paris.")
    session_id = conversation(facade, "capital?")
    info = call(facade, "get_session_info", session_id)
    assert info is not None
    assert info.id == session_id
    assert call(facade, "get_session_info", "sess_missing") is None
    messages = call(facade, "get_session_messages", session_id)
    assert isinstance(messages[0], UserMessage)
    assert isinstance(messages[-1], ResultMessage)
    assert messages[-1].result == "Paris."
    assert call(facade, "get_session_messages", session_id, limit=1) == messages[:1]


def test_rename_tag_and_delete(facade: Facade, cloud: FakeCloud) -> None:
    session_id = conversation(facade, "hello")
    call(facade, "rename_session", session_id, "  Trip planning  ")
    call(facade, "tag_session", session_id, "travel")
    info = call(facade, "get_session_info", session_id)
    assert (info.title, info.metadata.get("tag")) == ("Trip planning", "travel")
    call(facade, "tag_session", session_id, None)
    assert "tag" not in call(facade, "get_session_info", session_id).metadata
    call(facade, "delete_session", session_id)
    assert call(facade, "get_session_info", session_id) is None


def test_a_directory_is_ignored_with_a_warning(cloud: FakeCloud) -> None:
    with pytest.warns(UserWarning, match="directory= is ignored"):
        assert qoder.list_sessions("/home/me/project", options=OPTIONS) == []


@pytest.mark.anyio
async def test_a_directory_is_ignored_with_a_warning_async(cloud: FakeCloud) -> None:
    with pytest.warns(UserWarning, match="directory= is ignored"):
        assert await qoder.alist_sessions("/home/me/project", options=OPTIONS) == []
