"""The resource client against the emulator served on loopback: pagination across page
boundaries, a delete during iteration, history compared with the live conversation."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from qoder import AsyncCloud, Cloud, ResultMessage
from qoder.testing import ServedCloud
from tests.client.driver import Facade
from tests.integration.support import RecordingCloud, options

pytestmark = pytest.mark.integration


def resources(facade: Facade, served: ServedCloud) -> Any:
    if facade.portal is None:
        return Cloud(options(served))

    async def make() -> AsyncCloud:
        return AsyncCloud(options(served))

    return facade.portal.call(make)


def collect(facade: Facade, pager: Any, on_item: Any = None) -> list[Any]:
    """Every item of a pager; ``on_item(n)`` runs after the n-th one is read."""
    if facade.portal is None:
        out = []
        for item in pager:
            out.append(item)
            if on_item is not None:
                on_item(len(out))
        return out

    async def walk() -> list[Any]:
        got = []
        async for item in pager:
            got.append(item)
            if on_item is not None:
                on_item(len(got))
        return got

    return facade.portal.call(walk)


def run(facade: Facade, value: Any) -> Any:
    """``value`` itself for the sync client, awaited for the async one."""
    if facade.portal is None:
        return value

    async def wait() -> Any:
        return await value

    return facade.portal.call(wait)


def test_pages_over_loopback_each_session_once_newest_first(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    ids = [cloud.create_session(title=f"s{n}") for n in range(45)]
    client = resources(facade, served)
    try:
        listed = collect(facade, client.sessions.list(limit=10))
        oldest_first = collect(facade, client.sessions.list(limit=7, order="asc"))
    finally:
        run(facade, client.close())
    assert [s.id for s in listed] == ids[::-1]
    assert [s.id for s in oldest_first] == ids
    pages = [r for r in cloud.requests if r.path.endswith("/sessions") and r.method == "GET"]
    assert len(pages) == 5 + 7  # 45 items: 10 a page, then 7 a page


def test_a_delete_during_iteration_neither_repeats_nor_skips(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    ids = [cloud.create_session() for _ in range(12)]
    client = resources(facade, served)
    removed: list[str] = []

    try:
        if facade.portal is None:
            sync_cloud: Cloud = client

            def delete(count: int) -> None:
                if count == 2:
                    for session_id in (ids[-1], ids[0]):
                        sync_cloud.sessions.delete(session_id)
                        removed.append(session_id)

            listed = collect(facade, client.sessions.list(limit=5), delete)
        else:
            # The async client cannot be called from inside its own walk through the portal:
            # delete with a second, blocking client of the same server.
            with Cloud(options(served)) as other:

                def delete(count: int) -> None:
                    if count == 2:
                        for session_id in (ids[-1], ids[0]):
                            other.sessions.delete(session_id)
                            removed.append(session_id)

                listed = collect(facade, client.sessions.list(limit=5), delete)
    finally:
        run(facade, client.close())
    seen = [s.id for s in listed]
    assert len(seen) == len(set(seen))  # nothing twice
    assert seen == ids[::-1][:-1]  # everything once, the oldest (deleted unread) excepted
    assert removed == [ids[-1], ids[0]]


def test_history_over_loopback_matches_the_live_turns(
    facade: Facade, cloud: RecordingCloud, served: ServedCloud
) -> None:
    cloud.agent.on("files").tool_use("bash", {"command": "ls"}, result="a.txt").reply("One.")
    with facade.client(options(served)) as conversation:
        live = conversation.turn("What's the capital of France?") + conversation.turn("files?")
        session_id = conversation.session_id
    client = resources(facade, served)
    try:
        history = run(facade, client.sessions.history(session_id, prompts=False))
    finally:
        run(facade, client.close())

    def untimed(messages: list[Any]) -> list[Any]:
        return [
            attrs.evolve(m, duration_ms=0) if isinstance(m, ResultMessage) else m for m in messages
        ]

    assert untimed(history) == untimed(live)
