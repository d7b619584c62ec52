"""The official SDK's per-conversation options and methods, mapped onto Cloud Agents, through
every facade (respx): what the client sends for them, and what it does with the turn.

Agent overrides at session creation (§8.1), session updates (§8.2), the built-in toolset
(§8.3), the client's own permission rules before ``can_use_tool``, ``max_turns`` and
``max_budget_usd`` (§6.5, §8.6), ``continue_conversation``, ``connect(prompt)``,
``query(session_id=..., stream-json messages)`` and ``get_server_info()``.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from qoder import (
    AsyncClient,
    ConfigurationError,
    PermissionResultAllow,
    ResultMessage,
    SyncClient,
    tool,
)
from qoder._unsupported import UNSUPPORTED_METHODS
from qoder.errors import UnsupportedFeatureError
from qoder.hooks import HookMatcher
from tests.client.driver import Facade
from tests.client.scripted import BASE, ScriptedAPI, stream_of, turn_events
from tests.client.test_faults import fast
from tests.client.test_tools import permission_turn


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


ASK_SEARCH = {"name": "search", "permission_policy": {"type": "always_ask"}}


def created_agent(api: ScriptedAPI) -> Any:
    """The ``agent`` of the (only) ``POST /sessions``."""
    assert len(api.created) == 1
    return api.created[0]["agent"]


def never_called(*args: Any) -> bool:
    raise AssertionError(f"can_use_tool was called: {args!r}")


def confirmation_sent(api: ScriptedAPI) -> dict[str, Any]:
    """The ``user.tool_confirmation`` the client posted."""
    confirmations = [
        event
        for body in api.posted
        for event in body["events"]
        if event["type"] == "user.tool_confirmation"
    ]
    assert len(confirmations) == 1
    confirmation: dict[str, Any] = confirmations[0]
    return confirmation


def run_permission_turn(
    facade: Facade, api: ScriptedAPI, **options: Any
) -> tuple[dict[str, Any], ResultMessage]:
    api.streams.append(stream_of(permission_turn()))
    api.reply_with("evt_01", "turn_01")
    api.reply_with("evt_04", "turn_01", "user.tool_confirmation")
    with facade.client(fast(**options)) as client:
        messages = client.turn("rm")
    result = messages[-1]
    assert isinstance(result, ResultMessage)
    return confirmation_sent(api), result


# --- agent overrides (§8.1) -----------------------------------------------------------------------


def test_a_system_prompt_and_a_model_override_the_agent_for_the_session(
    facade: Facade, api: ScriptedAPI
) -> None:
    api.streams.append(stream_of([]))
    with facade.client(fast(system_prompt="Be brief.", model="fast")):
        pass
    assert created_agent(api) == {
        "type": "agent_with_overrides",
        "id": "agent_01",
        "system": "Be brief.",
        "model": "fast",
    }
    assert not api.agent_route.called  # nothing to merge: no need to read the agent


def test_no_option_sends_the_plain_agent_id(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of([]))
    with facade.client(fast()):
        pass
    assert created_agent(api) == "agent_01"


def test_a_preset_with_append_keeps_the_agents_own_prompt(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of([]))
    preset = {"type": "preset", "preset": "qodercli", "append": "Answer in French."}
    with facade.client(fast(system_prompt=preset)):
        pass
    assert created_agent(api)["system"] == "You are the agent.\n\nAnswer in French."


def test_builtin_tool_names_and_client_tools_in_one_list(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of([]))
    with facade.client(fast(tools=["Read", "Bash", add])):
        pass
    assert created_agent(api)["tools"] == [
        {"type": "agent_toolset_20260401", "enabled_tools": ["read", "bash"]},
        add.to_agent_tool(),
    ]


def test_an_empty_tools_list_turns_the_builtin_tools_off(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of([]))
    with facade.client(fast(tools=[])):
        pass
    assert created_agent(api)["tools"] == []


def test_disallowed_tools_are_turned_off_in_the_agents_toolset(
    facade: Facade, api: ScriptedAPI
) -> None:
    api.streams.append(stream_of([]))
    with facade.client(fast(disallowed_tools=["Bash", "WebFetch"])):
        pass
    assert created_agent(api)["tools"] == [
        {"type": "agent_toolset_20260401", "disallowed_tools": ["bash", "web_fetch"]}
    ]


# --- session updates (§8.2) -----------------------------------------------------------------------


def session_updates(api: ScriptedAPI) -> list[Any]:
    """The bodies of the session updates (``POST /sessions/sess_01``) the client will send."""
    updates: list[Any] = []

    def update(request: httpx.Request) -> httpx.Response:
        updates.append(json.loads(request.content))
        return httpx.Response(200, json={"id": "sess_01", "type": "session", "status": "idle"})

    api.router.post(f"{BASE}/sessions/sess_01").mock(side_effect=update)
    return updates


def test_set_model_updates_the_session_and_none_goes_back_to_the_agents_model(
    facade: Facade, api: ScriptedAPI
) -> None:
    updates = session_updates(api)
    api.streams.append(stream_of([]))
    with facade.client(fast(model="fast")) as client:
        client._do("set_model", "turbo")
        client._do("set_model", None)
    assert updates == [{"agent": {"model": "turbo"}}, {"agent": {"model": "ultimate"}}]


def test_get_server_info_tells_the_session_without_a_request(
    facade: Facade, api: ScriptedAPI
) -> None:
    api.streams.append(stream_of([]))
    with facade.client(fast()) as client:
        calls = len(api.router.calls)
        info = client._do("get_server_info")
        assert len(api.router.calls) == calls
    assert info is not None
    assert info["session_id"] == "sess_01"
    assert info["status"] == "idle"


# --- the client's own permission rules ------------------------------------------------------------


def test_allowed_tools_approve_without_asking(facade: Facade, api: ScriptedAPI) -> None:
    sent, result = run_permission_turn(
        facade, api, allowed_tools=["Bash"], can_use_tool=never_called
    )
    assert sent["result"] == "allow"
    assert result.permission_denials == ()


def test_allowed_tools_alone_answer_without_a_callback(facade: Facade, api: ScriptedAPI) -> None:
    sent, _ = run_permission_turn(facade, api, allowed_tools=["bash"])
    assert sent["result"] == "allow"


def test_disallowed_tools_are_denied_if_a_confirmation_still_comes(
    facade: Facade, api: ScriptedAPI
) -> None:
    sent, result = run_permission_turn(
        facade, api, disallowed_tools=["Bash"], can_use_tool=never_called
    )
    assert sent["result"] == "deny"
    assert "disallowed_tools" in sent["deny_message"]
    assert [(d["tool_name"], d["tool_use_id"]) for d in result.permission_denials] == [
        ("bash", "evt_02")
    ]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("bypassPermissions", "allow"), ("yolo", "allow"), ("dontAsk", "deny")],
)
def test_permission_modes_that_answer_by_themselves(
    facade: Facade, api: ScriptedAPI, mode: str, expected: str
) -> None:
    sent, _ = run_permission_turn(facade, api, permission_mode=mode, can_use_tool=never_called)
    assert sent["result"] == expected


def test_accept_edits_still_asks_about_bash(facade: Facade, api: ScriptedAPI) -> None:
    asked: list[str] = []

    def decide(name: str, tool_input: dict[str, Any], context: Any) -> PermissionResultAllow:
        asked.append(name)
        return PermissionResultAllow()

    sent, _ = run_permission_turn(facade, api, permission_mode="acceptEdits", can_use_tool=decide)
    assert asked == ["bash"]
    assert sent["result"] == "allow"


def test_set_permission_mode_changes_the_rules_and_refuses_plan(
    facade: Facade, api: ScriptedAPI
) -> None:
    updates = session_updates(api)
    api.streams.append(stream_of(permission_turn()))
    api.reply_with("evt_01", "turn_01")
    api.reply_with("evt_04", "turn_01", "user.tool_confirmation")
    with facade.client(fast(can_use_tool=never_called)) as client:
        with pytest.raises(ConfigurationError, match="no plan mode"):
            client._do("set_permission_mode", "plan")
        client._do("set_permission_mode", "bypassPermissions")
        client.turn("rm")
    assert confirmation_sent(api)["result"] == "allow"
    # the client no longer decides: the agent's own toolset again, from the next request
    assert updates == [{"agent": {"tools": [{"type": "agent_toolset_20260401"}]}}]


def test_set_permission_mode_makes_the_toolsets_ask_when_the_client_comes_to_decide(
    facade: Facade, api: ScriptedAPI
) -> None:
    updates = session_updates(api)
    api.streams.append(stream_of([]))
    options = fast(can_use_tool=never_called, permission_mode="bypassPermissions")
    with facade.client(options) as client:
        assert created_agent(api) == "agent_01"  # bypassing: the agent as it is
        client._do("set_permission_mode", "bypassPermissions")  # no change, no request
        assert updates == []
        client._do("set_permission_mode", "default")
        client._do("set_permission_mode", "acceptEdits")  # the client still decides
    assert updates == [
        {
            "agent": {
                "tools": [
                    {
                        "type": "agent_toolset_20260401",
                        "default_config": {"permission_policy": {"type": "always_ask"}},
                    }
                ]
            }
        }
    ]


# --- limits: max_turns and max_budget_usd ---------------------------------------------------------


def two_requests_turn() -> list[dict[str, Any]]:
    """A turn of two model requests, then the idle the client's interrupt brings."""
    t = {"turn_id": "turn_01"}
    return [
        {"id": "evt_01", "type": "user.message", **t, "content": "go"},
        {"id": "evt_02", "type": "span.model_request_start", **t, "model": "ultimate"},
        {"id": "evt_03", "type": "agent.message", **t, "content": [{"type": "text", "text": "a"}]},
        {"id": "evt_04", "type": "span.model_request_end", **t, "model_request_start_id": "evt_02"},
        {"id": "evt_05", "type": "span.model_request_start", **t, "model": "ultimate"},
        {"id": "evt_06", "type": "session.status_idle", **t, "stop_reason": {"type": "end_turn"}},
    ]


def interrupts_posted(api: ScriptedAPI) -> int:
    return sum(body == {"events": [{"type": "user.interrupt"}]} for body in api.posted)


def test_max_turns_interrupts_the_request_past_the_limit(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of(two_requests_turn()))
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast(max_turns=1)) as client:
        result = client.turn("go")[-1]
    assert interrupts_posted(api) == 1
    assert isinstance(result, ResultMessage)
    assert (result.subtype, result.is_error, result.terminal_reason) == (
        "error_max_turns",
        True,
        "interrupted",
    )
    assert result.result == "a"


def test_max_turns_not_reached_is_a_plain_success(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of(two_requests_turn()))
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast(max_turns=2)) as client:
        result = client.turn("go")[-1]
    assert interrupts_posted(api) == 0
    assert isinstance(result, ResultMessage)
    assert result.subtype == "success"


def cost_of(amount: str) -> dict[str, Any]:
    return {"list_cost": {"amount": amount, "currency": "USD"}}


def costing(api: ScriptedAPI, *amounts: str) -> None:
    """The session reports a USD cost: at creation, then ``amounts`` on each read."""
    created = {"id": "sess_01", "type": "session", "status": "idle"}
    usage = {"usage": cost_of("0.00")}

    def create(request: httpx.Request) -> httpx.Response:
        api.created.append(json.loads(request.content))
        return httpx.Response(201, json={**created, **usage})

    api.router.post(f"{BASE}/sessions").mock(side_effect=create)
    reads = [httpx.Response(200, json={**created, "usage": cost_of(a)}) for a in amounts]
    api.router.get(f"{BASE}/sessions/sess_01").mock(side_effect=reads)


def test_max_budget_usd_interrupts_once_the_cost_exceeds_it(
    facade: Facade, api: ScriptedAPI
) -> None:
    costing(api, "0.25")
    api.streams.append(stream_of(two_requests_turn()))
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast(max_budget_usd=0.1)) as client:
        result = client.turn("go")[-1]
    assert interrupts_posted(api) == 1
    assert isinstance(result, ResultMessage)
    assert (result.subtype, result.is_error) == ("error_max_budget_usd", True)
    assert result.total_cost_usd == 0.25


def test_max_budget_usd_within_budget_reports_the_cost(facade: Facade, api: ScriptedAPI) -> None:
    costing(api, "0.05")
    api.streams.append(stream_of(turn_events("turn_01", 1, "cheap")))
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast(max_budget_usd=1.0)) as client:
        result = client.turn("go")[-1]
    assert interrupts_posted(api) == 0
    assert isinstance(result, ResultMessage)
    assert (result.subtype, result.total_cost_usd) == ("success", 0.05)


def test_max_budget_usd_without_a_usd_cost_warns_once_naming_max_credit_cost(
    facade: Facade, api: ScriptedAPI, caplog: pytest.LogCaptureFixture
) -> None:
    api.streams.append(stream_of(turn_events("turn_01", 1, "hi")))
    api.reply_with("evt_01", "turn_01")
    with (
        caplog.at_level(logging.WARNING, logger="qoder"),
        facade.client(fast(max_budget_usd=1.0)) as client,
    ):
        result = client.turn("go")[-1]
    warned = [r.getMessage() for r in caplog.records if "max_budget_usd" in r.getMessage()]
    assert len(warned) == 1
    assert "max_credit_cost" in warned[0]
    assert isinstance(result, ResultMessage)
    assert result.total_cost_usd is None


# --- sessions: continue_conversation --------------------------------------------------------------


def test_continue_conversation_attaches_to_the_agents_newest_session(
    facade: Facade, api: ScriptedAPI
) -> None:
    listed = api.router.get(f"{BASE}/sessions").mock(
        return_value=httpx.Response(200, json={"data": [{"id": "sess_01", "type": "session"}]})
    )
    api.router.get(f"{BASE}/sessions/sess_01").mock(
        return_value=httpx.Response(
            200, json={"id": "sess_01", "type": "session", "status": "idle"}
        )
    )
    api.router.get(f"{BASE}/sessions/sess_01/events").mock(
        return_value=httpx.Response(200, json={"data": [{"id": "evt_09", "type": "x"}]})
    )
    api.streams.append(stream_of([]))
    with facade.client(fast(continue_conversation=True)) as client:
        assert client.session_id == "sess_01"
    query = listed.calls.last.request.url.params
    assert (query["agent_id"], query["order"], query["limit"]) == ("agent_01", "desc", "1")
    assert api.created == []


# --- connect(prompt) and query() ------------------------------------------------------------------


def test_connect_with_a_prompt_sends_the_first_turn(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of(turn_events("turn_01", 1, "hello back")))
    api.reply_with("evt_01", "turn_01")
    client = facade.client(fast())
    client._do("connect", "hello")
    try:
        messages = list(client.receive_response())
    finally:
        client.disconnect()
    assert api.posted[0]["events"][0]["content"] == [{"type": "text", "text": "hello"}]
    assert isinstance(messages[-1], ResultMessage)


def test_query_refuses_another_session_id(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of([]))
    with facade.client(fast()) as client:
        with pytest.raises(ValueError, match="attached to session sess_01"):
            client._do("query", "hi", "sess_other")
        assert api.posted == []


STREAM_JSON = [
    {"type": "user", "message": {"role": "user", "content": "first"}},
    {"type": "user", "message": {"role": "user", "content": [{"type": "text", "text": "second"}]}},
]


def test_stream_json_messages_become_one_turn(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of(turn_events("turn_01", 1, "ok")))
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast()) as client:
        client._do("query", iter(STREAM_JSON), "default")
        list(client.receive_response())
    assert api.posted[0]["events"][0]["content"] == [
        {"type": "text", "text": "first"},
        {"type": "text", "text": "second"},
    ]


@pytest.mark.anyio
async def test_an_async_iterable_prompt_in_the_async_client(api: ScriptedAPI) -> None:
    async def messages() -> AsyncIterator[dict[str, Any]]:
        for message in STREAM_JSON:
            yield message

    api.streams.append(stream_of(turn_events("turn_01", 1, "ok")))
    api.reply_with("evt_01", "turn_01")
    async with AsyncClient(fast()) as client:
        await client.query(messages())
        async for _ in client.receive_response():
            pass
    assert len(api.posted[0]["events"][0]["content"]) == 2


def test_usage_reads_as_a_mapping_as_ported_code_does(facade: Facade, api: ScriptedAPI) -> None:
    events = turn_events("turn_01", 1, "hi")
    api.streams.append(stream_of(events))
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast()) as client:
        result = client.turn("go")[-1]
    assert isinstance(result, ResultMessage)
    assert result.usage["input_tokens"] == (result.usage.input_tokens or 0)
    assert result.usage.get("output_tokens", 0) == (result.usage.output_tokens or 0)
    assert result.structured_output is None


def test_a_permission_callback_makes_the_builtin_tools_ask(
    facade: Facade, api: ScriptedAPI
) -> None:
    api.streams.append(stream_of([]))
    with facade.client(fast(can_use_tool=never_called, allowed_tools=["Read"])):
        pass
    assert created_agent(api)["tools"] == [
        {
            "type": "agent_toolset_20260401",
            "default_config": {"permission_policy": {"type": "always_ask"}},
            "configs": [{"name": "read", "permission_policy": {"type": "always_allow"}}],
        }
    ]


AGENTS_DOCS = {
    "type": "mcp_toolset",
    "mcp_server_name": "docs",
    "configs": [
        {"name": "search", "permission_policy": {"type": "always_allow"}},
        {"name": "drop", "enabled": False},
    ],
}


def test_a_permission_callback_makes_the_agents_mcp_tools_ask(
    facade: Facade, api: ScriptedAPI
) -> None:
    api.agent["tools"] = [AGENTS_DOCS]  # the agent's own MCP server, read at connect()
    api.streams.append(stream_of([]))
    options = fast(can_use_tool=never_called, allowed_tools=["mcp__docs__fetch", "Read"])
    with facade.client(options):
        pass
    docs = next(t for t in created_agent(api)["tools"] if t["type"] == "mcp_toolset")
    assert docs == {
        "type": "mcp_toolset",
        "mcp_server_name": "docs",
        "default_config": {"permission_policy": {"type": "always_ask"}},
        "configs": [  # the client decides: search's own policy gives way, drop stays off
            {"name": "search"},
            {"name": "drop", "enabled": False},
            {"name": "fetch", "permission_policy": {"type": "always_allow"}},
        ],
    }


def test_disallowed_tools_turn_the_agents_mcp_tools_off(facade: Facade, api: ScriptedAPI) -> None:
    api.agent["tools"] = [AGENTS_DOCS]
    api.streams.append(stream_of([]))
    with facade.client(fast(disallowed_tools=["mcp__docs__search", "mcp__other__x"])):
        pass
    (docs,) = created_agent(api)["tools"]
    assert docs["configs"] == [
        {"name": "drop", "enabled": False},
        {"name": "search", "enabled": False},  # its always_allow is gone with it
    ]


@pytest.mark.parametrize(
    ("matcher", "asked"),
    [
        ("mcp__docs__search", {"configs": [{"name": "drop", "enabled": False}, ASK_SEARCH]}),
        ("^mcp__", {"default_config": {"permission_policy": {"type": "always_ask"}}}),
        ("^(Bash)$", None),
    ],
)
def test_a_pre_tool_use_matcher_makes_the_agents_mcp_tools_ask(
    facade: Facade, api: ScriptedAPI, matcher: str, asked: dict[str, Any] | None
) -> None:
    api.agent["tools"] = [AGENTS_DOCS]
    api.streams.append(stream_of([]))
    hooks = {"PreToolUse": [HookMatcher(matcher=matcher, hooks=[never_called])]}
    with facade.client(fast(hooks=hooks)):
        pass
    docs = next(t for t in created_agent(api)["tools"] if t["type"] == "mcp_toolset")
    if asked is None:  # Bash is asked about for the hook; the MCP tools are left as they were
        assert docs == AGENTS_DOCS
    elif "default_config" in asked:
        assert docs["default_config"] == asked["default_config"]
        assert docs["configs"] == [{"name": "search"}, {"name": "drop", "enabled": False}]
    else:
        assert "default_config" not in docs
        assert docs["configs"] == asked["configs"]


def test_bypass_permissions_leaves_the_agents_policies(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of([]))
    with facade.client(fast(can_use_tool=never_called, permission_mode="bypassPermissions")):
        pass
    assert created_agent(api) == "agent_01"


# --- the official client's methods and keywords Cloud Agents has no counterpart for --------------


@pytest.mark.parametrize("name", ["rewind", "set_plan_mode", "get_mcp_status", "set_proxy"])
def test_an_official_method_without_counterpart_says_why(
    facade: Facade, api: ScriptedAPI, name: str
) -> None:
    api.streams.append(stream_of([]))
    with facade.client(fast()) as client:
        with pytest.raises(UnsupportedFeatureError, match=rf"\.{name}\(\) is not available: "):
            client._do(name, "arg")
        with pytest.raises(AttributeError):
            client._do("no_such_method")
    assert isinstance(UnsupportedFeatureError("x"), NotImplementedError)


def test_every_official_client_method_exists_here() -> None:
    import qoder_agent_sdk

    official = {n for n in dir(qoder_agent_sdk.QoderSDKClient) if not n.startswith("_")}
    for facade in (SyncClient, AsyncClient):
        missing = {name for name in official if not hasattr(facade, name)}
        assert missing <= set(UNSUPPORTED_METHODS), missing
        assert not set(UNSUPPORTED_METHODS) & set(vars(facade))  # nothing refused is real


def test_the_official_query_keywords_at_their_defaults(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of(turn_events("turn_01", 1, "ok")))
    api.reply_with("evt_01", "turn_01")
    with facade.client(fast()) as client:
        with pytest.raises(UnsupportedFeatureError, match="one turn at a time"):
            facade.run(functools.partial(client.raw.query, "hi", priority="now"))
        with pytest.raises(TypeError, match="unexpected keyword argument 'urgent'"):
            facade.run(functools.partial(client.raw.query, "hi", urgent=True))
        assert api.posted == []
        facade.run(functools.partial(client.raw.query, "hi", "default", priority="next"))
        list(client.receive_response())
    assert len(api.posted) == 1


def test_the_porting_guide_lists_every_method_without_counterpart() -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "porting.md").read_text()
    for name, reason in UNSUPPORTED_METHODS.items():
        assert f"| `{name}()` | not available: {reason} |" in guide, name
