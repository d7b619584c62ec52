"""§8.1, §8.2 and §8.4 as scripted agents see them: the session's agent snapshot in
``TurnContext.agent`` and the turn's ``system.message`` texts in ``context.system_messages``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from qoder.testing import FakeCloud, ScriptedAgent, TurnContext

from .helpers import (
    custom_result,
    error_of,
    new_session,
    post_events,
    post_message,
    system_message,
    text_of,
    user_message,
    waiting_ids,
)

CUSTOM_ADD = {
    "type": "custom",
    "name": "add",
    "description": "Add two numbers.",
    "input_schema": {
        "type": "object",
        "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
    },
}


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


def describe(context: TurnContext) -> str:
    """What a scripted agent can read of its session: model, system, tools, instructions."""
    tools = ",".join(str(tool.get("name") or tool.get("type")) for tool in context.agent.tools)
    told = "|".join(context.system_messages)
    return f"{context.agent.model};{context.agent.system};{tools};{told}"


@pytest.fixture
def describing(cloud: FakeCloud) -> FakeCloud:
    """A cloud whose agent answers every message with :func:`describe`."""
    cloud.agent = ScriptedAgent()
    cloud.agent.on("describe").reply(describe)
    cloud.agent.on("slow").reply(describe).hold().tool_use("bash", {"command": "true"}).reply(
        " then ", describe
    )
    return cloud


# -- §8.1, §8.2: the snapshot ------------------------------------------------------------------


def test_the_default_snapshot_is_visible(local_http: httpx.Client, describing: FakeCloud) -> None:
    session_id = new_session(local_http)
    post_message(local_http, session_id, "describe")
    assert text_of(describing.events(session_id)) == "ultimate;None;agent_toolset_20260401;"


def test_overrides_at_creation_are_visible(local_http: httpx.Client, describing: FakeCloud) -> None:
    session_id = new_session(local_http, model="fast-1", system="Be brief.", tools=[CUSTOM_ADD])
    post_message(local_http, session_id, "describe")
    events = describing.events(session_id)
    assert text_of(events) == "fast-1;Be brief.;add;"
    start = next(e for e in events if e["type"] == "span.model_request_start")
    assert start["model"] == "fast-1"


def test_an_update_between_turns_applies_to_the_next_turn(
    local_http: httpx.Client, describing: FakeCloud
) -> None:
    session_id = new_session(local_http)
    patch = {"agent": {"model": "tiny", "system": "Talk like a pirate.", "tools": []}}
    assert local_http.post(f"/sessions/{session_id}", json=patch).status_code == 200
    post_message(local_http, session_id, "describe")
    assert text_of(describing.events(session_id)) == "tiny;Talk like a pirate.;;"


def test_an_update_mid_turn_applies_from_the_next_model_request(
    local_http: httpx.Client, describing: FakeCloud
) -> None:
    session_id = new_session(local_http, system="One.")
    post_message(local_http, session_id, "slow")
    assert describing.is_held(session_id)
    patch = {"agent": {"system": "Two.", "model": "other"}}
    assert local_http.post(f"/sessions/{session_id}", json=patch).status_code == 200
    assert describing.is_held(session_id)  # the turn in progress is not interrupted
    describing.release(session_id)
    events = describing.events(session_id)
    # the open model request ends as it began; the update shows from the next one
    assert text_of(events) == (
        "ultimate;One.;agent_toolset_20260401; then other;Two.;agent_toolset_20260401;"
    )
    starts = [e["model"] for e in events if e["type"] == "span.model_request_start"]
    assert starts == ["ultimate", "other"]


# -- §8.4: system.message ----------------------------------------------------------------------


def test_system_message_is_persisted_after_its_user_message_and_seen_by_the_turn(
    local_http: httpx.Client, describing: FakeCloud
) -> None:
    session_id = new_session(local_http)
    response = post_events(
        local_http, session_id, user_message("describe"), system_message("Answer in French.")
    )
    assert response.status_code == 202
    echoes = response.json()["data"]
    assert types(echoes) == ["user.message", "system.message"]
    assert echoes[1]["content"] == [{"type": "text", "text": "Answer in French."}]
    assert echoes[1]["turn_id"] == echoes[0]["turn_id"]
    events = describing.events(session_id)
    assert types(events)[:3] == ["user.message", "system.message", "session.status_running"]
    assert [e["id"] for e in events[:2]] == [e["id"] for e in echoes]
    assert text_of(events).endswith(";Answer in French.")
    listed = local_http.get(f"/sessions/{session_id}/events").json()["data"]
    assert "system.message" in types(listed)


def test_system_message_lasts_for_its_turn_only(
    local_http: httpx.Client, describing: FakeCloud
) -> None:
    session_id = new_session(local_http)
    post_events(local_http, session_id, user_message("describe"), system_message("Once."))
    before = len(describing.events(session_id))
    post_message(local_http, session_id, "describe")
    assert text_of(describing.events(session_id)[before:]).endswith(";")


def test_system_message_after_a_custom_tool_result(
    local_http: httpx.Client, cloud: FakeCloud
) -> None:
    cloud.agent = ScriptedAgent()
    cloud.agent.on("weather").custom_tool_use("get_weather", {"city": "Paris"}).reply(
        lambda ctx: f"{ctx.result} / {' '.join(ctx.system_messages)}"
    )
    session_id = new_session(local_http)
    post_message(local_http, session_id, "weather?")
    (use_id,) = waiting_ids(cloud.events(session_id))
    response = post_events(
        local_http, session_id, custom_result(use_id, "18°C"), system_message("Be terse.")
    )
    assert types(response.json()["data"]) == ["user.custom_tool_result", "system.message"]
    assert text_of(cloud.events(session_id)) == "18°C / Be terse."


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([system_message("x")], "directly after a user.message"),
        ([system_message("x"), user_message("describe")], "last event"),
        (
            [user_message("describe"), system_message("x"), system_message("y")],
            "At most one system.message",
        ),
        ([{"type": "user.interrupt"}, system_message("x")], "directly after a user.message"),
        ([user_message("describe"), {"type": "system.message", "content": []}], "needs content"),
        ([user_message("describe"), {"type": "system.message"}], "needs content"),
    ],
    ids=["alone", "not-last", "twice", "after-interrupt", "empty", "no-content"],
)
def test_misplaced_system_message_is_a_400_that_changes_nothing(
    local_http: httpx.Client, describing: FakeCloud, events: list[dict[str, Any]], message: str
) -> None:
    session_id = new_session(local_http)
    status, kind, text = error_of(post_events(local_http, session_id, *events))
    assert (status, kind) == (400, "invalid_request_error")
    assert message in text
    assert describing.events(session_id) == []


def test_system_message_after_a_tool_confirmation_is_a_400(
    local_http: httpx.Client, cloud: FakeCloud
) -> None:
    cloud.agent = ScriptedAgent()
    cloud.agent.on("rm").tool_use("bash", {"command": "rm x"}, permission="ask")
    session_id = new_session(local_http)
    post_message(local_http, session_id, "rm")
    (use_id,) = waiting_ids(cloud.events(session_id))
    confirm = {"type": "user.tool_confirmation", "tool_use_id": use_id, "result": "allow"}
    status, _, _ = error_of(post_events(local_http, session_id, confirm, system_message("x")))
    assert status == 400
    assert post_events(local_http, session_id, confirm).status_code == 202
