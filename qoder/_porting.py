"""From ``qoder-agent-sdk`` to ``qoder``: every option of the official ``QoderAgentOptions``,
what Cloud Agents makes of it, and the translations that :mod:`qoder.options` applies.

:data:`OFFICIAL_OPTIONS` is the porting table (docs/porting.md prints it for people): each
official option is *supported* (it means something here), *ignored* (it only configures the
local ``qodercli`` process, which Cloud Agents has no use for: accepted, and named in one
:class:`QoderPortingWarning` when the options are built) or *refused* (a
:class:`~qoder.ConfigurationError` that says what Cloud Agents offers instead, whenever it is
set to anything but "off").
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypedDict

import attr
import attrs

from ._protocol.specs import AgentSpec
from .errors import ConfigurationError
from .tools import BUILTIN_TOOLS, CustomTool, builtin_tool_name

__all__ = [
    "ALL_BUILTIN_TOOLS",
    "IGNORED",
    "OFFICIAL_DEFAULTS",
    "OFFICIAL_OPTIONS",
    "PERMISSION_MODES",
    "REFUSED",
    "CloudTarget",
    "OptionTypeError",
    "PermissionMode",
    "Porting",
    "QoderPortingWarning",
    "Support",
    "SystemPromptFile",
    "SystemPromptPreset",
    "ToolsPreset",
    "caller_stacklevel",
    "check_refused",
    "check_system_prompt",
    "ignored_message",
    "ignored_options",
    "is_set",
    "resolve_permission_mode",
    "resolve_system_prompt",
    "split_tools",
    "tool_names",
    "translate_cloud_agent",
]


class QoderPortingWarning(UserWarning):
    """Options of ``qoder-agent-sdk`` were given that only configure the local ``qodercli``
    process; Cloud Agents does without them, so they are ignored (the warning names them)."""


class OptionTypeError(ConfigurationError, TypeError):
    """An option of the wrong type: both a :class:`~qoder.ConfigurationError` and a
    :class:`TypeError`, so either ``except`` catches it."""


Support = Literal["supported", "ignored", "refused"]


@attrs.frozen
class Porting:
    """What one official option does here: ``support``, and why, in one sentence."""

    support: Support
    reason: str


def _supported(reason: str) -> Porting:
    return Porting("supported", reason)


def _ignored(reason: str) -> Porting:
    return Porting("ignored", reason)


def _refused(reason: str) -> Porting:
    return Porting("refused", reason)


_NO_PROCESS = "no qodercli process is started: the agent runs on Cloud Agents"
_MCP_REMOTE = "MCP servers run on Cloud Agents, which connects and authenticates them itself"

OFFICIAL_OPTIONS: Mapping[str, Porting] = {
    # -- supported ------------------------------------------------------------------------
    "tools": _supported(
        "built-in tool names (Bash or bash, Read, Write, Edit, Glob, Grep, WebFetch, "
        "WebSearch) choose the agent's built-in tools for this session; @tool functions in "
        "the same list run on the client"
    ),
    "allowed_tools": _supported(
        "tool calls that ask permission are approved by the client without calling can_use_tool"
    ),
    "disallowed_tools": _supported(
        "these tools are turned off on the server for this session, and denied if a "
        "confirmation still comes"
    ),
    "system_prompt": _supported(
        "a string replaces the agent's system prompt for this session, the qodercli preset "
        "with append adds to it, a file is read when the client connects"
    ),
    "mcp_servers": _supported(
        "in-process and stdio servers run by the client, their tools declared to the agent as "
        "mcp__server__tool; HTTP/SSE servers declared to the agent itself (docs/mcp.md)"
    ),
    "permission_mode": _supported(
        "default, acceptEdits, bypassPermissions, yolo and dontAsk decide which tool "
        "confirmations the client approves; plan and auto are refused"
    ),
    "continue_conversation": _supported(
        "attaches to the agent's newest session instead of creating one"
    ),
    "resume": _supported("attaches to an existing session by its id"),
    "max_turns": _supported(
        "model requests allowed per turn; at the limit the client interrupts the turn"
    ),
    "model": _supported("overrides the agent's model for this session"),
    "env": _supported(
        "merged into the session's environment_variables (None values dropped); the "
        "variable that holds the access token is read for auth and never sent"
    ),
    "auth": _supported(
        "a personal access token: access_token(), access_token_from_env(), a string, or "
        "the official helpers' values; CLI login, service accounts and job tokens are refused"
    ),
    "on_auth_expired": _supported("called once on a 401/403 to supply a fresh token"),
    "can_use_tool": _supported("called for a tool call that asks permission"),
    "hooks": _supported(
        "PreToolUse, PostToolUse(Failure), UserPromptSubmit, Stop, SessionStart and SessionEnd "
        "fire where a cloud conversation lets the client act (docs/hooks.md)"
    ),
    "include_partial_messages": _supported(
        "also yields StreamEvent partial events, shaped as the official SDK's"
    ),
    "experimental_cloud_agent": _supported(
        "its agent and session become agent=, resume=, environment=, session_title=, "
        "resources= and vault_ids=; its stream settings are ignored with a warning"
    ),
    "agent": _supported(
        "here an agent id or an AgentSpec to create; the official SDK's name of a CLI agent "
        "means nothing on Cloud Agents"
    ),
    # -- ignored: they configure the local qodercli process -------------------------------
    "cwd": _ignored("the agent works in its Cloud Agents environment, not a local directory"),
    "cli_path": _ignored(_NO_PROCESS),
    "settings": _ignored(
        "qodercli settings are not read: the agent's configuration lives on Cloud Agents"
    ),
    "setting_sources": _ignored(
        "qodercli settings are not read: the agent's configuration lives on Cloud Agents"
    ),
    "add_dirs": _ignored(
        "the agent cannot see local directories; attach files with resources= instead"
    ),
    "plugins": _ignored("qodercli plugins are not loaded; " + _NO_PROCESS),
    "extra_args": _ignored("no qodercli command line is built; " + _NO_PROCESS),
    "max_buffer_size": _ignored(
        "no qodercli output is buffered; max_buffered_messages bounds unread messages here"
    ),
    "debug_stderr": _ignored("no qodercli process writes to stderr; " + _NO_PROCESS),
    "stderr": _ignored("no qodercli process writes to stderr; " + _NO_PROCESS),
    "user": _ignored("a qodercli process setting; " + _NO_PROCESS),
    "strict_mcp_config": _ignored("qodercli's check of its local MCP configuration"),
    "allow_dangerously_skip_permissions": _ignored(
        "qodercli's gate for bypassPermissions; here that mode needs no gate"
    ),
    "control_request_timeout_ms": _ignored(
        "there is no qodercli control channel; request timeouts are timeout="
    ),
    "resolve_model_timeout_ms": _ignored("only used with resolve_model, which is refused"),
    "session_store_flush": _ignored("only used with session_store, which is refused"),
    "load_timeout_ms": _ignored("only used with session_store, which is refused"),
    # -- refused: Cloud Agents cannot do it -----------------------------------------------
    "custom_context": _refused(
        "it labels local qodercli inference requests; label the session with "
        "session_metadata= instead"
    ),
    "allowed_mcp_server_names": _refused(
        "MCP servers belong to the agent on Cloud Agents: list them in "
        "AgentSpec(mcp_servers=...), or turn tools off with "
        "disallowed_tools=['mcp__server__tool']"
    ),
    "plan_mode": _refused("Cloud Agents has no plan mode (plan_mode=False is accepted)"),
    "resume_session_at": _refused(
        "Cloud Agents cannot rewind a session; resume= attaches to it at its end"
    ),
    "resume_drops_turn": _refused(
        "Cloud Agents cannot rewind a session; resume= attaches to it at its end"
    ),
    "session_id": _refused(
        "Cloud Agents chooses session ids: use resume= for an existing session, and "
        "session_title= or session_metadata= to label a new one"
    ),
    "permission_prompt_tool_name": _refused(
        "permission requests are answered by can_use_tool= (or allowed_tools=)"
    ),
    "security_scan": _refused("Cloud Agents offers no client-driven security scan"),
    "evolution": _refused("skill evolution is a qodercli feature; Cloud Agents has none"),
    "proxy": _refused(
        "pass your own HTTP client instead: http_client=httpx.Client(proxy=...) "
        "(or httpx.AsyncClient)"
    ),
    "vpc_endpoint": _refused("point base_url= at the private deployment instead"),
    "on_mcp_oauth_required": _refused(
        _MCP_REMOTE + "; keep MCP credentials in a vault and pass vault_ids="
    ),
    "on_elicitation": _refused(_MCP_REMOTE + "; it sends the client no elicitation requests"),
    "on_mcp_status_change": _refused(_MCP_REMOTE + "; it sends the client no MCP status changes"),
    "fork_session": _refused(
        "Cloud Agents cannot fork a session; resume= continues the same one "
        "(fork_session=False is accepted)"
    ),
    "agents": _refused(
        "Cloud Agents runs one agent per session: create one with agent=AgentSpec(...) per "
        "role and hold a conversation with each"
    ),
    "skills": _refused("skills belong to the agent: AgentSpec(skills=[...])"),
    "enable_file_checkpointing": _refused(
        "Cloud Agents keeps no file checkpoints to rewind (False is accepted)"
    ),
    "resolve_model": _refused("choose the model with model= (or set_model() between turns)"),
    "session_store": _refused(
        "Cloud Agents stores sessions itself: read them with get_session_messages() or "
        "Cloud().sessions"
    ),
    "memory": _refused("memory stores are not offered by this client"),
}
"""Every field of the official ``qoder_agent_sdk.QoderAgentOptions`` (1.0.16)."""

IGNORED: tuple[str, ...] = tuple(
    name for name, port in OFFICIAL_OPTIONS.items() if port.support == "ignored"
)
REFUSED: tuple[str, ...] = tuple(
    name for name, port in OFFICIAL_OPTIONS.items() if port.support == "refused"
)
OFFICIAL_DEFAULTS: Mapping[str, object] = {
    "control_request_timeout_ms": 60_000,
    "resolve_model_timeout_ms": 500,
    "session_store_flush": "batched",
    "load_timeout_ms": 60_000,
}
"""The official defaults that are not "off" (``None``, ``False`` or empty)."""


def is_set(name: str, value: object) -> bool:
    """Whether an official option asks for something: not ``None``, ``False``, empty, nor
    its official default."""
    if value is None or value is False:
        return False
    if name in OFFICIAL_DEFAULTS and value == OFFICIAL_DEFAULTS[name]:
        return False
    return not (isinstance(value, (Sequence, Mapping)) and not isinstance(value, str) and not value)


def check_refused(values: Mapping[str, object]) -> None:
    """A :class:`ConfigurationError` naming every refused option that is set, and what to
    use instead."""
    given = [name for name in REFUSED if is_set(name, values.get(name))]
    if given:
        lines = "\n".join(f"  {name}: {OFFICIAL_OPTIONS[name].reason}." for name in given)
        raise ConfigurationError(
            f"{_listing(given)} of qoder-agent-sdk cannot be used with Cloud Agents:\n{lines}"
        )


def ignored_options(values: Mapping[str, object]) -> list[str]:
    """The CLI-only options that are set, in the table's order."""
    return [name for name in IGNORED if is_set(name, values.get(name))]


def ignored_message(names: Sequence[str]) -> str:
    """The text of the one :class:`QoderPortingWarning`."""
    verbs = ("configures", "is") if len(names) == 1 else ("configure", "are")
    return (
        f"{_listing(names)} of qoder-agent-sdk only {verbs[0]} the local qodercli process, "
        f"which Cloud Agents does not start, and {verbs[1]} ignored; remove "
        f"{'it' if len(names) == 1 else 'them'} to silence this warning (docs/porting.md "
        "lists what each option does here)."
    )


def _listing(names: Sequence[str]) -> str:
    """``"Option cwd"`` or ``"Options cwd, cli_path"``."""
    return ("Option " if len(names) == 1 else "Options ") + ", ".join(names)


_HERE = tuple(str(Path(path).parent) + os.sep for path in (__file__, attr.__file__, attrs.__file__))
"""The directories whose frames a warning skips: this package, and attrs (its generated
``__init__`` and ``evolve()``)."""


def caller_stacklevel() -> int:
    """The ``stacklevel`` for a warning raised by the caller of this function that points at
    the first frame outside this package and attrs: the user's line."""
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None:
        name = frame.f_code.co_filename
        if not (name.startswith(_HERE) or name.startswith("<attrs generated")):
            break
        frame, level = frame.f_back, level + 1
    return level


# -- system_prompt ---------------------------------------------------------------------------


class _Preset(TypedDict):
    type: Literal["preset"]
    preset: Literal["qodercli"]


class SystemPromptPreset(_Preset, total=False):
    """The official preset: the agent's own system prompt, with ``append`` added to it."""

    append: str


class SystemPromptFile(TypedDict):
    """The official file form: the system prompt is the text of ``path``."""

    type: Literal["file"]
    path: str


def _prompt_kind(value: Mapping[str, Any]) -> str:
    """``"preset"`` or ``"file"``, once the dict's shape is checked."""
    kind = value.get("type")
    if kind == "preset":
        if value.get("preset") != "qodercli":
            raise ConfigurationError(
                "system_prompt: the only preset is 'qodercli': "
                "{'type': 'preset', 'preset': 'qodercli', 'append': '...'}"
            )
        if not isinstance(value.get("append", ""), str):
            raise OptionTypeError("system_prompt: the preset's 'append' must be a string")
        return "preset"
    if kind == "file":
        path = value.get("path")
        if not isinstance(path, (str, os.PathLike)) or not str(path):
            raise ConfigurationError(
                "system_prompt: the file form needs a path: {'type': 'file', 'path': '...'}"
            )
        return "file"
    raise ConfigurationError(
        "system_prompt must be a string, {'type': 'preset', 'preset': 'qodercli', "
        "'append': '...'} or {'type': 'file', 'path': '...'}, not a dict of type "
        f"{kind!r}"
    )


def check_system_prompt(value: object) -> None:
    """The shape of ``system_prompt`` (the file itself is read at :func:`resolve_system_prompt`)."""
    if value is None or isinstance(value, str):
        return
    if not isinstance(value, Mapping):
        raise OptionTypeError(
            "system_prompt must be a string, a preset dict or a file dict, not "
            f"{type(value).__name__}"
        )
    _prompt_kind(value)


def resolve_system_prompt(value: object) -> tuple[str | None, str | None]:
    """``(system_prompt, append_system_prompt)`` for the session: a string replaces the
    agent's prompt, the preset appends its ``append`` (none: the agent's own prompt), a file
    is read now (an error names the path)."""
    check_system_prompt(value)
    if value is None or isinstance(value, str):
        return value, None
    assert isinstance(value, Mapping)
    if _prompt_kind(value) == "preset":
        return None, value.get("append") or None
    path = Path(value["path"])
    try:
        return path.read_text(encoding="utf-8"), None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(
            f"system_prompt: cannot read the system prompt file {str(path)!r}: {error}"
        ) from error


# -- tools -----------------------------------------------------------------------------------


class ToolsPreset(_Preset):
    """The official preset: every built-in tool."""


ALL_BUILTIN_TOOLS: tuple[str, ...] = tuple(BUILTIN_TOOLS.values())
"""The wire names of every built-in tool: what the ``qodercli`` tools preset turns on."""


def _tool_entry(entry: object) -> CustomTool | str:
    """One entry of ``tools``: a :class:`CustomTool`, or the wire name of a built-in tool."""
    if isinstance(entry, CustomTool):
        return entry
    if isinstance(entry, str):
        wire = builtin_tool_name(entry)
        if wire is None:
            known = ", ".join(BUILTIN_TOOLS)
            raise ConfigurationError(
                f"tools: {entry!r} is not a built-in tool of Cloud Agents; the built-in tools "
                f"are {known} (or their wire names {', '.join(ALL_BUILTIN_TOOLS)}); an MCP "
                "tool comes with its server, and a client tool is a function under @tool"
            )
        return wire
    if callable(entry):
        raise ConfigurationError(
            f"tools: {getattr(entry, '__name__', entry)!r} is a plain function; put @tool on "
            "it (from qoder import tool) so the agent can be told its name and input schema"
        )
    raise OptionTypeError(
        "tools must hold @tool functions and built-in tool names such as 'Bash', not "
        f"{type(entry).__name__}"
    )


def split_tools(value: object) -> tuple[tuple[CustomTool, ...], tuple[str, ...] | None]:
    """``tools`` as ``(client tools, built-in wire names)``.

    Built-in names: ``None`` (the agent's own toolset) when ``tools`` is not given or holds
    client tools only; ``()`` for ``[]``; every built-in tool for the ``qodercli`` preset;
    else the names given, in order, each once.
    """
    if value is None:
        return (), None
    if isinstance(value, Mapping):
        if dict(value) != {"type": "preset", "preset": "qodercli"}:
            raise ConfigurationError(
                "tools: the only preset is {'type': 'preset', 'preset': 'qodercli'} (every "
                "built-in tool); otherwise give a list of tool names and @tool functions"
            )
        return (), ALL_BUILTIN_TOOLS
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise OptionTypeError(
            "tools must be a list of @tool functions and built-in tool names, such as "
            f"['Bash', 'Read'], not {type(value).__name__}"
        )
    entries = [_tool_entry(entry) for entry in value]
    custom = tuple(entry for entry in entries if isinstance(entry, CustomTool))
    names = tuple(dict.fromkeys(entry for entry in entries if isinstance(entry, str)))
    if not names and custom:
        return custom, None
    return custom, names


def tool_names(option: str, value: object) -> frozenset[str]:
    """``allowed_tools`` / ``disallowed_tools``: a list of names, kept as given."""
    if value is None:
        return frozenset()
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, frozenset, set)):
        raise OptionTypeError(
            f"{option} must be a list of tool names, such as ['Bash'] (a bare string is one "
            f"name: wrap it in a list), not {type(value).__name__}"
        )
    for name in value:
        if not isinstance(name, str) or not name:
            raise OptionTypeError(
                f"{option} must hold tool names (non-empty strings) only, found {name!r}"
            )
        if "(" in name:
            tool = name.partition("(")[0].strip()
            raise ConfigurationError(
                f"{option}: {name!r} is a permission rule with a specifier, which this client "
                "does not apply (Cloud Agents decides a call by its tool, not its input); "
                f"name the tool{f' ({tool!r})' if tool else ''} and check its input in "
                "can_use_tool or in a PreToolUse hook"
            )
    return frozenset(value)


# -- permission_mode -------------------------------------------------------------------------

PermissionMode = Literal[
    "default", "acceptEdits", "plan", "bypassPermissions", "yolo", "dontAsk", "auto"
]
"""The official SDK's permission modes (``plan`` and ``auto`` are refused here)."""
PERMISSION_MODES: tuple[str, ...] = (
    *("default", "acceptEdits", "bypassPermissions", "yolo", "dontAsk"),
)
"""The modes Cloud Agents can honour."""

_REFUSED_MODES: Mapping[str, str] = {
    "plan": "Cloud Agents has no plan mode: the agent acts on each turn; ask it to plan in "
    "the prompt, or use permission_mode='default' with can_use_tool to review each tool call",
    "auto": "Cloud Agents has no classifier that decides tool calls on its own: use 'default' "
    "(the agent's permission policies, with can_use_tool for the calls that ask) or 'dontAsk'",
}


def resolve_permission_mode(value: object) -> str:
    """The mode the session runs with (``None``: ``default``)."""
    if value is None:
        return "default"
    if not isinstance(value, str):
        raise OptionTypeError(
            f"permission_mode must be one of {', '.join(PERMISSION_MODES)}, not "
            f"{type(value).__name__}"
        )
    if value in _REFUSED_MODES:
        raise ConfigurationError(f"permission_mode={value!r}: {_REFUSED_MODES[value]}.")
    if value not in PERMISSION_MODES:
        raise ConfigurationError(
            f"permission_mode={value!r} is unknown; use one of {', '.join(PERMISSION_MODES)}"
        )
    return value


# -- experimental_cloud_agent ----------------------------------------------------------------

_AGENT_CREATE_KEYS = frozenset(
    ("name", "model", "system", "description", "tools", "mcp_servers", "skills", "metadata")
)
_SESSION_CREATE_KEYS = frozenset(
    ("environment_id", "resources", "title", "vault_ids", "memory_store_ids")
)
_WHERE = "experimental_cloud_agent"


@attrs.frozen
class CloudTarget:
    """What the official ``experimental_cloud_agent`` asks for, as this client's options."""

    agent: str | AgentSpec | None = None
    resume: str | None = None
    environment: str | None = None
    session_title: str | None = None
    resources: Sequence[Mapping[str, Any]] | None = None
    vault_ids: Sequence[str] | None = None
    ignored: tuple[str, ...] = ()


def _reference(part: str, value: object) -> Mapping[str, Any] | None:
    """``{"id": ...}`` or ``{"create": {...}}``: one of the two, checked."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise OptionTypeError(f"{_WHERE}['{part}'] must be a dict, not {type(value).__name__}")
    has_id, has_create = value.get("id") is not None, value.get("create") is not None
    if has_id == has_create:
        raise ConfigurationError(
            f"{_WHERE}['{part}'] must give either 'id' or 'create' (a dict), not "
            + ("both" if has_id else "neither")
        )
    if has_id and not isinstance(value["id"], str):
        raise OptionTypeError(f"{_WHERE}['{part}']['id'] must be a string")
    if has_create and not isinstance(value["create"], Mapping):
        raise OptionTypeError(f"{_WHERE}['{part}']['create'] must be a dict")
    return value


def _unknown_keys(where: str, value: Mapping[str, Any], known: frozenset[str]) -> None:
    unknown = sorted(set(value) - known)
    if unknown:
        raise ConfigurationError(
            f"{where} has unknown keys {', '.join(map(repr, unknown))}; it takes "
            f"{', '.join(sorted(known))}"
        )


def _agent_spec(create: Mapping[str, Any]) -> AgentSpec:
    """``experimental_cloud_agent['agent']['create']`` as an :class:`AgentSpec`."""
    where = f"{_WHERE}['agent']['create']"
    _unknown_keys(where, create, _AGENT_CREATE_KEYS)
    if not isinstance(create.get("name"), str):
        raise ConfigurationError(f"{where} needs a 'name' (a string) for the agent to create")
    given = {key: value for key, value in create.items() if value is not None}
    try:
        return AgentSpec(**given)
    except (TypeError, ValueError) as error:
        raise ConfigurationError(f"{where}: {error}") from error


def _list_of(kind: type) -> Callable[[object], bool]:
    """Whether a value is a list (not a string) of ``kind``."""

    def fits(value: object) -> bool:
        return (
            isinstance(value, Sequence)
            and not isinstance(value, (str, bytes))
            and all(isinstance(item, kind) for item in value)
        )

    return fits


_SESSION_CREATE_TYPES: Mapping[str, tuple[Callable[[object], bool], str]] = {
    "environment_id": (lambda value: isinstance(value, str), "an environment id string"),
    "title": (lambda value: isinstance(value, str), "a string"),
    "resources": (_list_of(Mapping), "a list of dicts"),
    "vault_ids": (_list_of(str), "a list of strings"),
}


def _session_target(create: Mapping[str, Any]) -> dict[str, Any]:
    """``experimental_cloud_agent['session']['create']`` as this client's session options."""
    where = f"{_WHERE}['session']['create']"
    _unknown_keys(where, create, _SESSION_CREATE_KEYS)
    if create.get("memory_store_ids"):
        raise ConfigurationError(f"{where}: memory stores are not offered by this client")
    for key, (fits, what) in _SESSION_CREATE_TYPES.items():
        if create.get(key) is not None and not fits(create[key]):
            raise OptionTypeError(f"{where}['{key}'] must be {what}")
    return {
        "environment": create.get("environment_id"),
        "session_title": create.get("title"),
        "resources": create.get("resources"),
        "vault_ids": create.get("vault_ids"),
    }


def translate_cloud_agent(value: object) -> CloudTarget:
    """The official ``experimental_cloud_agent`` (``{"agent": ..., "session": ...,
    "stream": ...}``) as this client's options; ``stream`` is listed as ignored."""
    if value is None:
        return CloudTarget()
    if not isinstance(value, Mapping):
        raise OptionTypeError(f"{_WHERE} must be a dict, not {type(value).__name__}")
    _unknown_keys(_WHERE, value, frozenset(("agent", "session", "stream")))
    agent = _reference("agent", value.get("agent"))
    session = _reference("session", value.get("session"))
    found: dict[str, Any] = {}
    if agent is not None:
        found["agent"] = agent.get("id") or _agent_spec(agent["create"])
    if session is not None and session.get("id") is not None:
        if agent is not None:
            raise ConfigurationError(
                f"{_WHERE}: an existing session (session['id']) already has its agent; "
                "leave out 'agent'"
            )
        found["resume"] = session["id"]
    elif session is not None:
        found.update(_session_target(session["create"]))
    ignored = (f"{_WHERE}['stream']",) if value.get("stream") else ()
    return CloudTarget(**found, ignored=ignored)
