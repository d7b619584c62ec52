"""A refused POST changes nothing; idempotency keys last 24 h; the envelope is the server's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from qoder.testing import FakeCloud

BASE = "https://api.qoder.com/api/v1/cloud"
AUTH = {"Authorization": "Bearer t"}


@pytest.fixture
def now() -> list[datetime]:
    return [datetime(2026, 5, 18, tzinfo=timezone.utc)]


@pytest.fixture
def cloud(now: list[datetime]) -> FakeCloud:
    return FakeCloud(clock=lambda: now[0])


@pytest.fixture
def http(cloud: FakeCloud) -> Iterator[httpx.Client]:
    with cloud.mock(), httpx.Client(base_url=BASE, headers=AUTH) as client:
        yield client


def new_session(http: httpx.Client) -> str:
    body = {"agent": "agent_default", "environment_id": "env_default"}
    session_id: str = http.post("/sessions", json=body).json()["id"]
    return session_id


def send(
    http: httpx.Client, session_id: str, *events: Any, key: str | None = None
) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return http.post(
        f"/sessions/{session_id}/events", json={"events": list(events)}, headers=headers
    )


def message(text: str) -> dict[str, Any]:
    return {"type": "user.message", "content": text}


def test_a_refused_answer_batch_persists_nothing(cloud: FakeCloud, http: httpx.Client) -> None:
    cloud.agent.on("two").custom_tool_use("a").custom_tool_use("b").reply("{result}")
    session_id = new_session(http)
    send(http, session_id, message("two"))
    first, _second = cloud.events(session_id)[-1]["stop_reason"]["event_ids"]
    before = len(cloud.events(session_id))
    answer = {"type": "user.custom_tool_result", "custom_tool_use_id": first, "content": "A"}
    stray = {**answer, "custom_tool_use_id": "evt_" + "9" * 32}
    refused = send(http, session_id, answer, stray)
    assert refused.status_code == 400
    assert len(cloud.events(session_id)) == before  # the valid answer was not applied either
    assert send(http, session_id, answer).status_code == 202  # so it can be sent again


def test_two_prompts_in_one_post_are_refused_whole(cloud: FakeCloud, http: httpx.Client) -> None:
    session_id = new_session(http)
    refused = send(http, session_id, message("one"), message("two"))
    assert refused.status_code == 400
    assert cloud.events(session_id) == []
    assert cloud.session(session_id)["status"] == "idle"


def test_a_409_while_running_persists_nothing(cloud: FakeCloud, http: httpx.Client) -> None:
    cloud.agent.on("slow").reply("Working. ").hold().reply("Done.")
    session_id = new_session(http)
    send(http, session_id, message("slow"))
    before = len(cloud.events(session_id))
    assert send(http, session_id, message("again")).status_code == 409
    assert len(cloud.events(session_id)) == before


def test_idempotency_keys_are_replayed_for_24_hours(
    cloud: FakeCloud, http: httpx.Client, now: list[datetime]
) -> None:
    session_id = new_session(http)
    assert send(http, session_id, message("hi"), key="k").status_code == 202
    now[0] += timedelta(hours=23)
    assert send(http, session_id, message("hi"), key="k").headers["idempotent-replayed"] == "true"
    now[0] += timedelta(hours=2)
    fresh = send(http, session_id, message("hi"), key="k")
    assert fresh.status_code == 202
    assert "idempotent-replayed" not in fresh.headers
    assert [e["type"] for e in cloud.events(session_id)].count("user.message") == 2


def test_the_client_cannot_set_envelope_fields() -> None:
    cloud = FakeCloud(omit_turn_id=True)
    with cloud.mock(), httpx.Client(base_url=BASE, headers=AUTH) as http:
        session_id = new_session(http)
        forged = {
            **message("hi"),
            "turn_id": "turn_x",
            "session_id": "sess_x",
            "schema_version": "9",
        }
        echo = send(http, session_id, forged).json()["data"][0]
    assert "turn_id" not in echo
    assert echo["session_id"] == session_id
    assert echo["schema_version"] == "1.0"
