"""``QoderAgentOptions``: the official SDK's options mapped onto Cloud Agents, refused or
ignored with one warning, and every option checked when the options are built."""

from __future__ import annotations

import dataclasses
import sys
import warnings
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
import qoder_agent_sdk

from qoder import AgentSpec, ConfigurationError, CustomTool, EnvironmentSpec, tool
from qoder._porting import (
    ALL_BUILTIN_TOOLS,
    IGNORED,
    OFFICIAL_OPTIONS,
    PERMISSION_MODES,
    REFUSED,
    OptionTypeError,
    QoderPortingWarning,
)
from qoder._protocol.config import SessionConfig
from qoder.options import QoderAgentOptions, check_http_client, resolve_options
from qoder.tools import BUILTIN_TOOLS

ROOT = Path(__file__).resolve().parents[2]
BASICS: dict[str, Any] = {"auth": "pat-options-0123", "agent": "agent_01"}


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"sunny in {city}"


def build(**values: Any) -> QoderAgentOptions:
    """Options with a token and an agent, and ``values``."""
    return QoderAgentOptions(**{**BASICS, **values})


def resolved(**values: Any) -> SessionConfig:
    """``values`` resolved against an empty environment."""
    return resolve_options(build(**values), {})


@pytest.fixture
def no_warnings() -> Iterator[None]:
    """Fail on any warning at all (pytest's filters already do; this says so)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --- system_prompt and model ----------------------------------------------------------------


def test_a_string_system_prompt_replaces_the_agents() -> None:
    config = resolved(system_prompt="Be brief.")
    assert (config.system_prompt, config.append_system_prompt) == ("Be brief.", None)


def test_the_preset_with_append_appends_and_without_it_keeps_the_agents_prompt() -> None:
    preset = {"type": "preset", "preset": "qodercli"}
    appended = resolved(system_prompt={**preset, "append": "Answer in French."})
    assert (appended.system_prompt, appended.append_system_prompt) == (None, "Answer in French.")
    plain = resolved(system_prompt=preset)
    assert (plain.system_prompt, plain.append_system_prompt) == (None, None)


def test_no_system_prompt_is_the_agents_own_not_an_empty_one() -> None:
    config = resolved()
    assert (config.system_prompt, config.append_system_prompt) == (None, None)


def test_a_file_system_prompt_is_read_at_connect(tmp_path: Path) -> None:
    path = tmp_path / "prompt.md"
    options = build(system_prompt={"type": "file", "path": str(path)})
    path.write_text("From a file.", encoding="utf-8")  # written after the options: still read
    assert resolve_options(options, {}).system_prompt == "From a file."


def test_a_missing_system_prompt_file_names_its_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.md"
    options = build(system_prompt={"type": "file", "path": str(missing)})
    with pytest.raises(ConfigurationError, match="system_prompt") as caught:
        resolve_options(options, {})
    assert str(missing) in str(caught.value)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"type": "preset", "preset": "claude_code"}, "only preset is 'qodercli'"),
        ({"type": "file"}, "needs a path"),
        ({"type": "url", "url": "x"}, "not a dict of type 'url'"),
        ({"type": "preset", "preset": "qodercli", "append": 3}, "'append' must be a string"),
        (42, "must be a string, a preset dict or a file dict"),
    ],
)
def test_a_malformed_system_prompt_is_refused_when_built(value: Any, fragment: str) -> None:
    with pytest.raises(ConfigurationError, match="system_prompt") as caught:
        build(system_prompt=value)
    assert fragment in str(caught.value)


def test_model_overrides_the_agents_model() -> None:
    assert resolved(model="ultimate").model == "ultimate"
    assert resolved().model is None


# --- tools ------------------------------------------------------------------------------------


def test_tools_mix_client_tools_and_built_in_names_in_either_spelling() -> None:
    config = resolved(tools=["Bash", get_weather, "web_fetch", "bash", "WebSearch"])
    assert config.tools == (get_weather,)
    assert config.builtin_tools == ("bash", "web_fetch", "web_search")


def test_every_official_built_in_name_maps_to_its_wire_name() -> None:
    config = resolved(tools=list(BUILTIN_TOOLS))
    assert config.builtin_tools == tuple(BUILTIN_TOOLS.values()) == ALL_BUILTIN_TOOLS
    assert len(ALL_BUILTIN_TOOLS) == 8


def test_an_empty_tools_list_turns_every_built_in_off() -> None:
    assert resolved(tools=[]).builtin_tools == ()


def test_the_tools_preset_turns_every_built_in_on() -> None:
    config = resolved(tools={"type": "preset", "preset": "qodercli"})
    assert config.builtin_tools == ALL_BUILTIN_TOOLS
    assert config.tools == ()


def test_no_tools_or_client_tools_only_keep_the_agents_toolset() -> None:
    assert resolved().builtin_tools is None
    only_custom = resolved(tools=[get_weather])
    assert (only_custom.tools, only_custom.builtin_tools) == ((get_weather,), None)


def test_an_unknown_built_in_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match="'TodoWrite' is not a built-in tool") as caught:
        build(tools=["Bash", "TodoWrite"])
    for name in BUILTIN_TOOLS:
        assert name in str(caught.value)


def test_a_plain_function_in_tools_says_to_put_tool_on_it() -> None:
    def forgot(city: str) -> str:
        return city

    with pytest.raises(ConfigurationError, match="tools") as caught:
        build(tools=[forgot])
    assert "'forgot' is a plain function" in str(caught.value)
    assert "@tool" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ([42], "tools must hold @tool functions and built-in tool names"),
        ("Bash", "tools must be a list"),
        (42, "tools must be a list"),
        ({"type": "preset", "preset": "all"}, "the only preset"),
    ],
)
def test_anything_else_in_tools_is_refused(value: Any, fragment: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        build(tools=value)
    assert fragment in str(caught.value)


@pytest.mark.parametrize("option", ["allowed_tools", "disallowed_tools"])
def test_tool_name_lists_become_frozensets_as_given(option: str) -> None:
    config = resolved(**{option: ["Bash", "read", "mcp__docs__search", "Bash"]})
    assert getattr(config, option) == frozenset({"Bash", "read", "mcp__docs__search"})
    assert getattr(resolved(), option) == frozenset()


@pytest.mark.parametrize("option", ["allowed_tools", "disallowed_tools"])
def test_a_bare_string_of_tool_names_says_to_wrap_it_in_a_list(option: str) -> None:
    with pytest.raises(OptionTypeError, match=option) as caught:
        build(**{option: "Bash"})
    assert "wrap it in a list" in str(caught.value)
    with pytest.raises(OptionTypeError, match=f"{option} must hold tool names"):
        build(**{option: ["Bash", 3]})


@pytest.mark.parametrize("option", ["allowed_tools", "disallowed_tools"])
def test_a_rule_with_a_specifier_is_refused_not_ignored(option: str) -> None:
    # Bash(rm:*) in disallowed_tools, silently dropped, would let every rm through
    with pytest.raises(ConfigurationError, match=rf"^{option}: 'Bash\(rm:\*\)' is a ") as caught:
        build(**{option: ["Read", "Bash(rm:*)"]})
    assert "name the tool ('Bash') and check its input in can_use_tool" in str(caught.value)
    assert not isinstance(caught.value, TypeError)  # a value the client cannot honour


# --- permission_mode, limits, env, continue_conversation --------------------------------------


@pytest.mark.parametrize("mode", PERMISSION_MODES)
def test_each_supported_permission_mode_is_kept(mode: str) -> None:
    assert resolved(permission_mode=mode).permission_mode == mode


def test_no_permission_mode_is_default() -> None:
    assert resolved().permission_mode == "default"


def test_plan_mode_is_refused_with_the_reason() -> None:
    with pytest.raises(ConfigurationError, match="permission_mode='plan'") as caught:
        build(permission_mode="plan")
    assert "no plan mode" in str(caught.value)


def test_auto_mode_is_refused_with_what_to_use_instead() -> None:
    with pytest.raises(ConfigurationError, match="permission_mode='auto'") as caught:
        build(permission_mode="auto")
    assert "'default'" in str(caught.value)


def test_an_unknown_permission_mode_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigurationError, match="permission_mode='ask' is unknown") as caught:
        build(permission_mode="ask")
    for mode in PERMISSION_MODES:
        assert mode in str(caught.value)


def test_max_turns_and_max_budget_usd_are_kept() -> None:
    config = resolved(max_turns=3, max_budget_usd=2)
    assert (config.max_turns, config.max_budget_usd) == (3, 2.0)
    assert isinstance(config.max_budget_usd, float)


def test_env_is_merged_into_environment_variables_without_none_values() -> None:
    config = resolved(environment_variables={"A": "1"}, env={"B": "2", "C": None, "A": "1"})
    assert config.environment_variables == {"A": "1", "B": "2"}
    assert resolved(env={"C": None}).environment_variables is None


def test_env_and_environment_variables_may_not_disagree() -> None:
    with pytest.raises(ConfigurationError, match="env and environment_variables") as caught:
        build(environment_variables={"A": "1"}, env={"A": "2"})
    assert "A" in str(caught.value)


def test_the_token_variable_in_env_is_read_for_auth_and_never_sent() -> None:
    options = QoderAgentOptions(
        agent="agent_01",
        env={"QODER_PERSONAL_ACCESS_TOKEN": "pat-from-env-0123", "DEBUG": "1"},
    )
    config = resolve_options(options, {"QODER_PERSONAL_ACCESS_TOKEN": "pat-process-0123"})
    assert config.token == "pat-from-env-0123"  # env first, as the official runtime does
    assert config.environment_variables == {"DEBUG": "1"}


def test_continue_conversation_is_kept_and_refused_with_resume() -> None:
    assert resolved(continue_conversation=True).continue_conversation is True
    with pytest.raises(ConfigurationError, match="continue_conversation=True") as caught:
        build(continue_conversation=True, resume="sess_01")
    assert "give one of them" in str(caught.value)


# --- hooks and mcp_servers: kept, shape-checked -----------------------------------------------


def test_hooks_and_mcp_servers_are_kept_on_the_options() -> None:
    hooks = {"PreToolUse": [qoder_agent_sdk.HookMatcher(matcher="Bash", hooks=[])]}
    servers = {"docs": {"type": "http", "url": "https://docs.example/mcp"}, "obj": object()}
    options = build(hooks=hooks, mcp_servers=servers)
    assert (options.hooks, options.mcp_servers) == (hooks, servers)


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("hooks", ["PreToolUse"], "hooks must be a dict of hook event -> list of matchers"),
        ("hooks", {"PreToolUse": "matcher"}, "hooks['PreToolUse'] must be a list of matchers"),
        ("hooks", {3: []}, "hook event names are strings"),
        ("mcp_servers", "mcp.json", "json.load()"),
        ("mcp_servers", Path("mcp.json"), "json.load()"),
        ("mcp_servers", {"docs": "https://x"}, "mcp_servers['docs'] must be a config dict"),
        ("mcp_servers", [{"type": "http"}], "mcp_servers must be a dict of server name"),
    ],
)
def test_hooks_and_mcp_servers_of_the_wrong_shape_are_refused(
    option: str, value: Any, fragment: str
) -> None:
    with pytest.raises(OptionTypeError) as caught:
        build(**{option: value})
    assert fragment in str(caught.value)


# --- experimental_cloud_agent -----------------------------------------------------------------


def test_the_official_cloud_agent_selector_becomes_this_clients_options() -> None:
    config = resolve_options(
        QoderAgentOptions(
            auth="pat-options-0123",
            experimental_cloud_agent={
                "agent": {"id": "agent_07"},
                "session": {
                    "create": {
                        "environment_id": "env_07",
                        "title": "ported",
                        "resources": [{"type": "file", "file_id": "f1"}],
                        "vault_ids": ["v1"],
                    }
                },
            },
        ),
        {},
    )
    assert (config.agent, config.environment, config.session_title) == (
        "agent_07",
        "env_07",
        "ported",
    )
    assert config.resources == [{"type": "file", "file_id": "f1"}]
    assert config.vault_ids == ["v1"]


def test_the_cloud_selectors_existing_session_is_resumed() -> None:
    options = QoderAgentOptions(
        auth="pat-options-0123", experimental_cloud_agent={"session": {"id": "sess_07"}}
    )
    config = resolve_options(options, {})
    assert (config.resume, config.agent) == ("sess_07", None)


def test_the_cloud_selectors_agent_to_create_becomes_an_agent_spec() -> None:
    create = {"name": "helper", "model": "ultimate", "system": "Be brief."}
    config = resolve_options(
        QoderAgentOptions(auth="pat-x", experimental_cloud_agent={"agent": {"create": create}}),
        {},
    )
    assert config.agent == AgentSpec(name="helper", model="ultimate", system="Be brief.")


def test_the_cloud_selectors_stream_settings_are_ignored_with_the_warning() -> None:
    with pytest.warns(QoderPortingWarning, match=r"experimental_cloud_agent\['stream'\]"):
        build(experimental_cloud_agent={"stream": {"delta_flush_interval_ms": 50}})


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"agent": {"id": "a", "create": {"name": "x"}}}, "either 'id' or 'create'"),
        ({"agent": {}}, "not neither"),
        ({"agent": {"id": "a"}, "session": {"id": "s"}}, "already has its agent"),
        ({"session": {"create": {"memory_store_ids": ["m"]}}}, "memory stores"),
        ({"agent": {"create": {"model": "ultimate"}}}, "needs a 'name'"),
        ({"agent": {"create": {"name": "x", "colour": "red"}}}, "unknown keys 'colour'"),
        ({"runtime": "cloud"}, "unknown keys 'runtime'"),
        ({"session": {"create": {"vault_ids": "v1"}}}, "['vault_ids'] must be a list of strings"),
        ({"session": {"create": {"environment_id": 7}}}, "['environment_id'] must be an env"),
    ],
)
def test_a_malformed_cloud_selector_is_refused(value: Any, fragment: str) -> None:
    with pytest.raises(ConfigurationError, match="experimental_cloud_agent") as caught:
        QoderAgentOptions(auth="pat-x", experimental_cloud_agent=value)
    assert fragment in str(caught.value)


def test_what_the_cloud_selector_sets_may_not_be_given_twice() -> None:
    with pytest.raises(ConfigurationError, match="agent given twice"):
        build(experimental_cloud_agent={"agent": {"id": "agent_02"}})


# --- auth ---------------------------------------------------------------------------------------


def test_the_official_token_helpers_are_taken_as_they_are() -> None:
    given = QoderAgentOptions(auth=qoder_agent_sdk.access_token("pat-official-0123"))
    assert given.auth is not None
    assert resolve_options(attrs.evolve(given, agent="a"), {}).token == "pat-official-0123"
    from_env = QoderAgentOptions(auth=qoder_agent_sdk.access_token_from_env("MY_PAT"), agent="a")
    assert resolve_options(from_env, {"MY_PAT": "pat-env-0123"}).token == "pat-env-0123"
    as_dict = QoderAgentOptions(
        auth={"type": "accessToken", "access_token": {"env_var": "MY_PAT"}}, agent="a"
    )
    assert resolve_options(as_dict, {"MY_PAT": "pat-env-0123"}).token == "pat-env-0123"


@pytest.mark.parametrize(
    "auth",
    [qoder_agent_sdk.qodercli_auth(), {"type": "serviceAccount"}, {"type": "jobToken"}],
)
def test_other_official_sign_ins_are_refused_with_the_fix(auth: Any) -> None:
    with pytest.raises(ConfigurationError, match="personal access token") as caught:
        QoderAgentOptions(auth=auth)
    assert "access_token_from_env()" in str(caught.value)


def test_a_wrong_auth_names_the_fix_and_never_the_value() -> None:
    with pytest.raises(OptionTypeError, match="auth must be access_token") as caught:
        QoderAgentOptions(auth=123)  # type: ignore[arg-type]
    assert isinstance(caught.value, TypeError)
    assert "123" not in str(caught.value)


# --- refused options ----------------------------------------------------------------------------

REFUSED_SAMPLES: dict[str, Any] = {
    "custom_context": {"team": "a"},
    "allowed_mcp_server_names": ["docs"],
    "plan_mode": True,
    "resume_session_at": "uuid-1",
    "resume_drops_turn": "uuid-2",
    "session_id": "my-session",
    "permission_prompt_tool_name": "mcp__perm__ask",
    "security_scan": {"l1_static_check": True},
    "evolution": {"skill": {}},
    "proxy": "http://proxy.local:8080",
    "vpc_endpoint": "my-instance",
    "on_mcp_oauth_required": lambda request: None,
    "on_elicitation": lambda request: None,
    "on_mcp_status_change": lambda message: None,
    "fork_session": True,
    "agents": {"reviewer": {"description": "d", "prompt": "p"}},
    "skills": "all",
    "enable_file_checkpointing": True,
    "resolve_model": lambda context: None,
    "session_store": object(),
    "memory": {"mode": "on"},
}


def test_the_refused_samples_cover_every_refused_option() -> None:
    assert set(REFUSED_SAMPLES) == set(REFUSED)


@pytest.mark.parametrize("name", sorted(REFUSED_SAMPLES))
def test_a_refused_option_says_what_cloud_agents_offers_instead(name: str) -> None:
    with pytest.raises(ConfigurationError, match=name) as caught:
        build(**{name: REFUSED_SAMPLES[name]})
    assert OFFICIAL_OPTIONS[name].reason in str(caught.value)
    assert "Cloud Agents" in str(caught.value)


def test_every_refused_option_given_is_named_in_one_error() -> None:
    with pytest.raises(ConfigurationError) as caught:
        build(fork_session=True, session_id="s", agents={"a": {}})
    message = str(caught.value)
    assert message.startswith("Options session_id, fork_session, agents of qoder-agent-sdk")


@pytest.mark.parametrize(
    "values",
    [
        {"plan_mode": False},
        {"fork_session": False},
        {"enable_file_checkpointing": False},
        {"allowed_mcp_server_names": []},
        {"session_id": None},
    ],
)
def test_a_refused_option_that_is_off_is_accepted(
    values: dict[str, Any], no_warnings: None
) -> None:
    build(**values)


def test_the_proxy_refusal_names_the_http_client_fix() -> None:
    with pytest.raises(ConfigurationError, match=r"http_client=httpx\.Client\(proxy=\.\.\.\)"):
        build(proxy="http://proxy.local:8080")


# --- ignored options: one warning ---------------------------------------------------------------

IGNORED_SAMPLES: dict[str, Any] = {
    "cwd": "/srv/project",
    "cli_path": "/usr/local/bin/qodercli",
    "settings": "settings.json",
    "setting_sources": ["user", "project"],
    "add_dirs": ["/data"],
    "plugins": [{"type": "local", "path": "/plugins/p"}],
    "extra_args": {"--verbose": None},
    "max_buffer_size": 1 << 20,
    "debug_stderr": sys.stderr,
    "stderr": print,
    "user": "someone",
    "strict_mcp_config": True,
    "allow_dangerously_skip_permissions": True,
    "control_request_timeout_ms": 5_000,
    "resolve_model_timeout_ms": 100,
    "session_store_flush": "eager",
    "load_timeout_ms": 1_000,
}


def test_the_ignored_samples_cover_every_ignored_option() -> None:
    assert set(IGNORED_SAMPLES) == set(IGNORED)


def test_every_ignored_option_given_is_named_in_one_warning_at_the_users_line() -> None:
    with pytest.warns(QoderPortingWarning) as record:
        build(**IGNORED_SAMPLES)
    assert len(record) == 1
    message = str(record[0].message)
    for name in IGNORED_SAMPLES:
        assert name in message
    assert "qodercli" in message
    assert "docs/porting.md" in message
    assert record[0].filename == __file__  # build() here, not a line inside qoder or attrs
    assert issubclass(QoderPortingWarning, UserWarning)


def test_the_warning_points_at_the_line_that_builds_the_options() -> None:
    with pytest.warns(QoderPortingWarning) as record:
        QoderAgentOptions(cwd="/srv/project")
    assert record[0].filename == __file__
    options = build()
    with pytest.warns(QoderPortingWarning) as evolved:
        attrs.evolve(options, cli_path="qodercli")
    assert evolved[0].filename == __file__


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"add_dirs": [], "extra_args": {}, "plugins": []},
        {"control_request_timeout_ms": 60_000, "session_store_flush": "batched"},
        {"strict_mcp_config": False, "cwd": None},
    ],
)
def test_defaults_and_empty_values_are_not_warned_about(
    values: dict[str, Any], no_warnings: None
) -> None:
    build(**values)
    QoderAgentOptions()


# --- every official option is known ------------------------------------------------------------

SUPPORTED_SAMPLES: dict[str, Any] = {
    "tools": ["Bash", "Read"],
    "allowed_tools": ["Read"],
    "disallowed_tools": ["Bash"],
    "system_prompt": {"type": "preset", "preset": "qodercli", "append": "Be brief."},
    "mcp_servers": {"docs": {"type": "http", "url": "https://docs.example/mcp"}},
    "permission_mode": "acceptEdits",
    "continue_conversation": True,
    "resume": "sess_01",
    "max_turns": 4,
    "model": "ultimate",
    "env": {"DEBUG": "1"},
    "auth": qoder_agent_sdk.access_token("pat-official-0123"),
    "on_auth_expired": lambda: "pat-fresh-0123",
    "can_use_tool": lambda name, data, context: True,
    "hooks": {"PreToolUse": []},
    "include_partial_messages": True,
    "experimental_cloud_agent": {"session": {"id": "sess_01"}},
    "agent": "agent_01",
}

OFFICIAL_FIELDS = [field.name for field in dataclasses.fields(qoder_agent_sdk.QoderAgentOptions)]


def test_the_porting_table_knows_every_official_option() -> None:
    assert sorted(OFFICIAL_OPTIONS) == sorted(OFFICIAL_FIELDS)
    samples = {**SUPPORTED_SAMPLES, **IGNORED_SAMPLES, **REFUSED_SAMPLES}
    assert sorted(samples) == sorted(OFFICIAL_FIELDS)
    ours = {field.name for field in attrs.fields(QoderAgentOptions)}
    assert set(OFFICIAL_FIELDS) <= ours


@pytest.mark.parametrize("name", OFFICIAL_FIELDS)
def test_every_official_option_is_accepted_ignored_or_refused(name: str) -> None:
    support = OFFICIAL_OPTIONS[name].support
    if support == "supported":
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            options = QoderAgentOptions(**{name: SUPPORTED_SAMPLES[name]})
        assert getattr(options, name) is not None
    elif support == "ignored":
        with pytest.warns(QoderPortingWarning, match=name):
            QoderAgentOptions(**{name: IGNORED_SAMPLES[name]})
    else:
        with pytest.raises(ConfigurationError, match=name):
            QoderAgentOptions(**{name: REFUSED_SAMPLES[name]})


def test_the_porting_guide_lists_every_official_option() -> None:
    guide = (ROOT / "docs" / "porting.md").read_text(encoding="utf-8")
    for name in OFFICIAL_FIELDS:
        assert f"| `{name}` |" in guide, name


# --- every option is checked when the options are built ---------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "kind", "fragments"),
    [
        ("base_url", 42, OptionTypeError, ["base_url must be a URL string"]),
        ("base_url", "api.qoder.com", ConfigurationError, ["absolute http(s) URL"]),
        ("base_url", "https://u:p@api.qoder.com", ConfigurationError, ["credentials"]),
        ("agent", 123, OptionTypeError, ["agent must be", "AgentSpec(name=...)"]),
        ("agent_version", "2", OptionTypeError, ["agent_version must be a whole number"]),
        ("agent_version", 0, ConfigurationError, ["agent_version must be 1 or more"]),
        ("environment", 1, OptionTypeError, ["environment must be", "EnvironmentSpec"]),
        ("resume", 7, OptionTypeError, ["resume must be a string"]),
        ("continue_conversation", "yes", OptionTypeError, ["continue_conversation", "True"]),
        ("session_title", 1, OptionTypeError, ["session_title must be a string"]),
        ("session_metadata", {"n": 1}, OptionTypeError, ["session_metadata", "'n'", "str()"]),
        ("session_metadata", ["a"], OptionTypeError, ["session_metadata must be a dict"]),
        ("environment_variables", {"A": 1}, OptionTypeError, ["environment_variables", "'A'"]),
        ("env", {"A": 1}, OptionTypeError, ["env must map strings to str or None"]),
        ("resources", {"type": "file"}, OptionTypeError, ["resources must be a list of dicts"]),
        ("resources", ["f1"], OptionTypeError, ["resources must hold dicts"]),
        ("vault_ids", "v1", OptionTypeError, ["vault_ids", "vault_ids=['v1']"]),
        ("max_budget_usd", "5", OptionTypeError, ["max_budget_usd must be a number"]),
        ("max_budget_usd", 0, ConfigurationError, ["max_budget_usd must be an amount above 0"]),
        ("model", 3, OptionTypeError, ["model must be a string"]),
        ("max_turns", 0, ConfigurationError, ["max_turns must be 1 or more"]),
        ("max_turns", 2.5, OptionTypeError, ["max_turns must be a whole number"]),
        ("include_partial_messages", 1, OptionTypeError, ["include_partial_messages"]),
        ("can_use_tool", "allow", OptionTypeError, ["can_use_tool must be a function"]),
        ("on_auth_expired", 1, OptionTypeError, ["on_auth_expired must be a function"]),
        ("timeout", "5", OptionTypeError, ["timeout must be a number", "timeout=5"]),
        ("timeout", -1, ConfigurationError, ["timeout must be a finite number more than 0"]),
        ("stream_idle_timeout", 0, ConfigurationError, ["stream_idle_timeout", "more than 0"]),
        ("stream_idle_timeout", None, OptionTypeError, ["stream_idle_timeout must be a number"]),
        ("max_retries", -1, ConfigurationError, ["max_retries must be 0 or more"]),
        ("max_retries", True, OptionTypeError, ["max_retries must be a whole number"]),
        ("max_stream_reconnects", 1.0, OptionTypeError, ["max_stream_reconnects"]),
        ("stream_reconnect_delay", -0.1, ConfigurationError, ["stream_reconnect_delay"]),
        ("stream_reconnect_delay", float("nan"), ConfigurationError, ["finite"]),
        ("max_buffered_messages", "many", OptionTypeError, ["max_buffered_messages"]),
        ("workspace_id", 5, OptionTypeError, ["workspace_id must be a string"]),
        ("betas", "beta-1", OptionTypeError, ["betas must be a list", "betas=['beta-1']"]),
        ("default_headers", {"X-A": 1}, OptionTypeError, ["default_headers", "'X-A'"]),
        ("allow_insecure_http", "no", OptionTypeError, ["allow_insecure_http"]),
        ("max_credit_cost", "lots", ConfigurationError, ['decimal string such as "1.50"']),
        ("max_credit_cost", "-1", ConfigurationError, ["positive decimal string"]),
        ("max_credit_cost", True, OptionTypeError, ["max_credit_cost"]),
        ("max_credit_cost", [1], OptionTypeError, ["max_credit_cost"]),
    ],
)
def test_a_wrong_option_is_an_error_naming_it_and_the_fix(
    option: str, value: Any, kind: type[Exception], fragments: list[str]
) -> None:
    with pytest.raises(kind) as caught:
        QoderAgentOptions(**{option: value})
    for fragment in fragments:
        assert fragment in str(caught.value), (fragment, str(caught.value))
    if kind is OptionTypeError:
        assert isinstance(caught.value, TypeError)
        assert isinstance(caught.value, ConfigurationError)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.50", "1.50"),
        (" 10 ", "10"),
        (1.5, "1.5"),
        (0.1, "0.1"),
        (3, "3"),
        (Decimal("2.25"), "2.25"),
        ("1e-3", "0.001"),
    ],
)
def test_max_credit_cost_is_a_decimal_string_and_numbers_convert_exactly(
    value: Any, expected: str
) -> None:
    options = QoderAgentOptions(max_credit_cost=value)
    assert options.max_credit_cost == expected
    assert resolve_options(attrs.evolve(options, **BASICS), {}).max_credit_cost == expected


def test_plain_http_to_another_host_is_still_refused_at_connect_not_when_built() -> None:
    options = build(base_url="http://10.0.0.5/api/v1/cloud")
    with pytest.raises(ConfigurationError, match="clear text"):
        resolve_options(options, {})


def test_a_valid_base_url_and_timeout_pass() -> None:
    config = resolved(base_url="https://api.example/api/v1/cloud/", timeout=httpx.Timeout(3.0))
    assert config.base_url == "https://api.example/api/v1/cloud"
    assert config.timeouts.read == 3.0
    assert resolved(timeout=7).timeouts.connect == 7.0


def test_the_repr_shows_what_was_set_and_never_the_token() -> None:
    text = repr(build(model="ultimate", max_turns=2))
    assert text == (
        "QoderAgentOptions(auth=AccessToken('***'), agent='agent_01', model='ultimate', "
        "max_turns=2)"
    )
    assert repr(QoderAgentOptions()) == "QoderAgentOptions()"


# --- check_http_client ------------------------------------------------------------------------


def test_check_http_client_accepts_the_right_kind_and_none() -> None:
    with httpx.Client() as sync_client:
        check_http_client(sync_client, want_async=False)
    check_http_client(httpx.AsyncClient(), want_async=True)
    check_http_client(None, want_async=True)
    check_http_client(None, want_async=False)


def test_check_http_client_refuses_the_other_kind_with_the_fix() -> None:
    with pytest.raises(TypeError, match=r"SyncClient\(http_client=\.\.\.\) needs an httpx\.Client"):
        check_http_client(httpx.AsyncClient(), want_async=False)
    with httpx.Client() as sync_client, pytest.raises(TypeError) as caught:
        check_http_client(sync_client, want_async=True)
    assert "needs an httpx.AsyncClient" in str(caught.value)
    assert "use SyncClient with your httpx.Client" in str(caught.value)
    with pytest.raises(TypeError, match=r"must be an httpx\.Client, not str"):
        check_http_client("http://x", want_async=False)


# --- AgentSpec, EnvironmentSpec, @tool ----------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "kind", "fragment"),
    [
        ({"name": 3}, TypeError, "AgentSpec(name=...) must be a string"),
        ({"name": " "}, ValueError, "AgentSpec(name=...) must not be empty"),
        ({"name": "a", "model": 1}, TypeError, "AgentSpec(model=...) must be a string"),
        ({"name": "a", "system": ["x"]}, TypeError, "AgentSpec(system=...) must be a string"),
        ({"name": "a", "tools": {"type": "x"}}, TypeError, "AgentSpec(tools=...) must be a list"),
        ({"name": "a", "tools": ["bash"]}, TypeError, "AgentSpec(tools=...) must hold dicts"),
        ({"name": "a", "skills": "s"}, TypeError, "AgentSpec(skills=...) must be a list"),
        ({"name": "a", "metadata": {"k": 1}}, TypeError, "AgentSpec(metadata=...) must map"),
    ],
)
def test_agent_spec_names_the_wrong_argument(
    values: dict[str, Any], kind: type[Exception], fragment: str
) -> None:
    with pytest.raises(kind) as caught:
        AgentSpec(**values)
    assert fragment in str(caught.value)


def test_agent_spec_and_environment_spec_accept_what_they_did() -> None:
    spec = AgentSpec(name="helper", model={"id": "ultimate"}, mcp_servers=[{"name": "gh"}])
    assert spec.model == {"id": "ultimate"}
    assert EnvironmentSpec().networking == "unrestricted"
    with pytest.raises(TypeError, match=r"EnvironmentSpec\(networking=\.\.\.\) must be a string"):
        EnvironmentSpec(networking=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"EnvironmentSpec\(metadata=\.\.\.\)"):
        EnvironmentSpec(metadata=["x"])  # type: ignore[arg-type]


def test_tool_on_something_not_callable_says_what_it_decorates() -> None:
    with pytest.raises(TypeError, match="@tool decorates a function"):
        tool(123)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="@tool decorates a function"):
        tool("greet", "Greet", {"name": str})("not a function")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"name": "two words"}, "non-empty word"),
        ({"name": 5}, "name must be a string"),
        ({"description": 5}, "tool(description=...) must be a string"),
        ({"input_schema": "city: str"}, "tool(input_schema=...) must be a dict"),
        ({"input_schema": {"city": "string"}}, "neither a map of name -> Python type"),
        ({"input_schema": {"city": str, "days": "integer"}}, "mixes Python types"),
    ],
)
def test_tool_arguments_are_checked_with_the_fix(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises((TypeError, ValueError)) as caught:
        tool(**kwargs)(lambda city: city)
    assert fragment in str(caught.value)


def test_tool_with_an_unresolvable_hint_says_to_pass_input_schema() -> None:
    def lookup(city: NotDefinedAnywhere) -> str:  # type: ignore[name-defined]  # noqa: F821
        return str(city)

    with pytest.raises(TypeError, match="pass input_schema= explicitly"):
        tool(lookup)


def test_a_callable_without_a_name_needs_one() -> None:
    class Handler:
        def __call__(self, city: str) -> str:
            return city

    with pytest.raises(TypeError, match=r"pass @tool\(name='...'\)"):
        tool(input_schema={"city": str})(Handler())
    named = tool(name="lookup", input_schema={"city": str})(Handler())
    assert isinstance(named, CustomTool)
    assert named.name == "lookup"


def test_a_json_schema_is_still_taken_as_it_is() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    assert tool(input_schema=schema)(lambda city: city).input_schema == schema
    assert tool("empty", "No input", {})(lambda args: "ok").input_schema == {
        "type": "object",
        "properties": {},
    }
