"""The fixtures users get from the pytest plugin (pytest11 entry point)."""

from __future__ import annotations

import httpx
import pytest
import respx

from qoder.testing import FakeCloud, ServedCloud

from .conftest import AUTH, BASE_URL
from .helpers import apost_message, post_message, text_of


def test_fake_cloud_has_default_resources(fake_cloud: FakeCloud) -> None:
    session_id = fake_cloud.create_session()
    assert fake_cloud.session(session_id)["agent_id"] == "agent_default"
    assert fake_cloud.session(session_id)["environment_id"] == "env_default"


def test_fake_cloud_router_sync(fake_cloud_router: respx.MockRouter, fake_cloud: FakeCloud) -> None:
    with httpx.Client(base_url=BASE_URL, headers=AUTH) as http:
        session_id = http.post(
            "/sessions", json={"agent": "agent_default", "environment_id": "env_default"}
        ).json()["id"]
        post_message(http, session_id, "What's the capital of France?")
    assert text_of(fake_cloud.events(session_id)) == "The capital of France is Paris."
    assert fake_cloud_router.calls.call_count == 2


@pytest.mark.anyio
async def test_fake_cloud_router_async(
    fake_cloud_router: respx.MockRouter, fake_cloud: FakeCloud
) -> None:
    session_id = fake_cloud.create_session()
    async with httpx.AsyncClient(base_url=BASE_URL, headers=AUTH) as http:
        reply = await apost_message(http, session_id, "What is 6*7?")
    assert reply["turn_id"].startswith("turn_")
    assert text_of(fake_cloud.events(session_id)) == "6 * 7 = 42."


def test_served_cloud(served_cloud: ServedCloud, fake_cloud: FakeCloud) -> None:
    assert served_cloud.cloud is fake_cloud
    with httpx.Client(base_url=served_cloud.base_url, headers=AUTH, timeout=5) as http:
        assert http.get("/agents/agent_default").status_code == 200
