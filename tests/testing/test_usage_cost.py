"""§8.6 and §3.3: the session's USD ``list_cost``, and its ``budget``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from qoder.testing import FakeCloud, ScriptedAgent
from qoder.testing._usage import USD_PER_INPUT_TOKEN, USD_PER_OUTPUT_TOKEN

from .conftest import AUTH, BASE_URL, TIMEOUT
from .helpers import new_session, post_message, text_of


def usage_of(http: httpx.Client, session_id: str) -> dict[str, Any]:
    usage: dict[str, Any] = http.get(f"/sessions/{session_id}").json()["usage"]
    return usage


def expected_cost(input_tokens: int, output_tokens: int) -> str:
    amount = input_tokens * USD_PER_INPUT_TOKEN + output_tokens * USD_PER_OUTPUT_TOKEN
    return str(amount.quantize(Decimal("0.000001")))


def test_list_cost_starts_at_zero_and_grows_with_each_model_request(
    local_http: httpx.Client, cloud: FakeCloud
) -> None:
    session_id = new_session(local_http)
    assert usage_of(local_http, session_id)["list_cost"] == {
        "amount": "0.000000",
        "currency": "USD",
    }
    seen = []
    for prompt in ("What's the capital of France?", "What is 2+2?"):
        post_message(local_http, session_id, prompt)
        usage = usage_of(local_http, session_id)
        ends = [e for e in cloud.events(session_id) if e["type"] == "span.model_request_end"]
        tokens_in = sum(e["model_usage"]["input_tokens"] for e in ends)
        tokens_out = sum(e["model_usage"]["output_tokens"] for e in ends)
        assert (usage["input_tokens"], usage["output_tokens"]) == (tokens_in, tokens_out)
        assert usage["list_cost"] == {
            "amount": expected_cost(tokens_in, tokens_out),
            "currency": "USD",
        }
        seen.append(Decimal(usage["list_cost"]["amount"]))
    assert Decimal(0) < seen[0] < seen[1]


def test_list_cost_is_reproducible(local_http: httpx.Client) -> None:
    amounts = []
    for _ in range(2):
        session_id = new_session(local_http)
        post_message(local_http, session_id, "What's the capital of France?")
        amounts.append(usage_of(local_http, session_id)["list_cost"]["amount"])
    # 22 input tokens x $3/M + 8 output tokens x $15/M
    assert amounts == ["0.000186", "0.000186"]


def test_usd_reporting_can_be_turned_off() -> None:
    cloud = FakeCloud(report_usd_cost=False)
    with cloud.mock(), httpx.Client(base_url=BASE_URL, headers=AUTH, timeout=TIMEOUT) as http:
        session_id = new_session(http)
        post_message(http, session_id, "What is 2+2?")
        usage = usage_of(http, session_id)
    assert "list_cost" not in usage
    assert usage["total_credits"] > 0
    assert cloud.report_usd_cost is False


def test_credits_only_usage_adds_no_cost(local_http: httpx.Client, cloud: FakeCloud) -> None:
    cloud.agent = ScriptedAgent()
    cloud.agent.on("x").reply("x").usage(credits=1.5, only_given=True)
    session_id = new_session(local_http)
    post_message(local_http, session_id, "x")
    usage = usage_of(local_http, session_id)
    assert usage["total_credits"] == 1.5
    assert usage["list_cost"]["amount"] == "0.000000"


# -- the budget --------------------------------------------------------------------------------


def budgeted(http: httpx.Client, limit: str) -> str:
    body = {
        "agent": "agent_default",
        "environment_id": "env_default",
        "budget": {"type": "limit", "max_credit_cost": limit},
    }
    response = http.post("/sessions", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_a_spent_budget_stops_the_next_model_request(
    local_http: httpx.Client, cloud: FakeCloud
) -> None:
    cloud.agent = ScriptedAgent()
    cloud.agent.on("two").reply("One. ").usage(credits=0.6).tool_use(
        "bash", {"command": "true"}
    ).reply("Two.")
    session_id = budgeted(local_http, "0.50")
    post_message(local_http, session_id, "two requests")
    events = cloud.events(session_id)
    assert events[-1]["stop_reason"] == {"type": "budget_reached"}
    assert text_of(events) == "One. "
    assert [e["type"] for e in events].count("span.model_request_start") == 1
    assert local_http.get(f"/sessions/{session_id}").json()["status"] == "idle"

    before = len(events)
    post_message(local_http, session_id, "anything")  # a new turn makes no model request
    after = cloud.events(session_id)[before:]
    assert [e["type"] for e in after] == [
        "user.message",
        "session.status_running",
        "session.status_idle",
    ]
    assert after[-1]["stop_reason"] == {"type": "budget_reached"}


def test_raising_the_budget_lets_the_session_go_on(
    local_http: httpx.Client, cloud: FakeCloud
) -> None:
    session_id = budgeted(local_http, "0")
    post_message(local_http, session_id, "What is 2+2?")
    assert cloud.events(session_id)[-1]["stop_reason"] == {"type": "budget_reached"}
    budget = {"type": "limit", "max_credit_cost": "10.00"}
    assert local_http.post(f"/sessions/{session_id}", json={"budget": budget}).status_code == 200
    post_message(local_http, session_id, "What is 2+2?")
    events = cloud.events(session_id)
    assert events[-1]["stop_reason"] == {"type": "end_turn"}
    assert text_of(events) == "2 + 2 = 4."


@pytest.mark.parametrize("limit", ["10.00", None])
def test_a_budget_not_reached_changes_nothing(
    local_http: httpx.Client, cloud: FakeCloud, limit: str | None
) -> None:
    session_id = budgeted(local_http, limit) if limit else new_session(local_http)
    post_message(local_http, session_id, "What is 2+2?")
    assert cloud.events(session_id)[-1]["stop_reason"] == {"type": "end_turn"}
