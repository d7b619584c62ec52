"""Many conversations at once over one shared connection pool (bounded, not a benchmark)."""

from __future__ import annotations

import anyio
import httpx
import pytest

from qoder import AsyncClient, Message, ResultMessage
from qoder.testing import ServedCloud
from tests.integration.support import RecordingCloud, options, result_of, texts

pytestmark = pytest.mark.integration

CONVERSATIONS = 100
CAPITALS = [
    ("France", "Paris"),
    ("Germany", "Berlin"),
    ("Italy", "Rome"),
    ("Spain", "Madrid"),
    ("Japan", "Tokyo"),
]


@pytest.mark.anyio
async def test_a_hundred_conversations_share_one_http_client(
    anyio_backend: str, cloud: RecordingCloud, served: ServedCloud
) -> None:
    turns: dict[int, tuple[list[Message], list[Message]]] = {}
    # Each conversation keeps one connection for its stream for as long as it lives, so a
    # bounded pool must be sized for that; here it is unbounded.
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    with anyio.fail_after(60):
        async with httpx.AsyncClient(limits=limits, timeout=10.0) as shared:

            async def converse(n: int) -> None:
                country, _ = CAPITALS[n % len(CAPITALS)]
                async with AsyncClient(options(served), http_client=shared) as client:
                    await client.query(f"What's the capital of {country}?")
                    one = [m async for m in client.receive_response()]
                    await client.query("What's the population of that city?")
                    two = [m async for m in client.receive_response()]
                turns[n] = (one, two)

            async with anyio.create_task_group() as tasks:
                for n in range(CONVERSATIONS):
                    tasks.start_soon(converse, n)
            assert not shared.is_closed  # the conversations left the caller's client open
            assert await anyio.to_thread.run_sync(lambda: cloud.wait_for_streams(0, timeout=10))

    assert sorted(turns) == list(range(CONVERSATIONS))
    for n, (one, two) in turns.items():
        country, capital = CAPITALS[n % len(CAPITALS)]
        assert texts(one) == [f"The capital of {country} is {capital}."]
        assert result_of(one).subtype == "success"
        population = result_of(two)
        assert population.subtype == "success"
        assert (population.result or "").startswith(f"{capital} has about")
        assert isinstance(two[-1], ResultMessage)
        assert len(texts(two)) == 1
    assert cloud.open_streams == 0
    assert len(cloud.stream_requests()) == CONVERSATIONS  # one stream per conversation
    assert len(cloud.event_posts()) == 2 * CONVERSATIONS  # nothing retried, nothing doubled
    # The pool reused connections: the 4 requests of a conversation took at most 2 sockets
    # (the stream holds one for its whole life; the POSTs share the other, or another
    # conversation's idle one). Exactly 2 each when the 100 tasks run in lockstep, as they do
    # on a loaded machine, fewer when they drift apart: only "at most" is deterministic.
    connections = {e.client for e in cloud.snapshot()}
    assert len(connections) <= 2 * CONVERSATIONS
