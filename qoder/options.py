"""Client options, and how they resolve against the environment.

:class:`QoderAgentOptions` takes this client's options and every option of the official
``qoder-agent-sdk`` (docs/porting.md): each is checked when the options are built, so a wrong
type or value is an error at the line that builds them, naming the option and the fix. An
official option that only configures the local ``qodercli`` process is ignored, and named in one
:class:`QoderPortingWarning`; one that Cloud Agents cannot honour is a
:class:`~qoder.errors.ConfigurationError` saying what to use instead.

The token types and what ``auth=`` takes are in :mod:`qoder._auth`, the check of each option in
:mod:`qoder._option_checks`; this module re-exports the public names of both.

Explicit arguments win over environment variables (docs/protocol.md §2.1). Resolution happens in
:func:`resolve_options`, called by ``connect()``: a missing token or agent is a
:class:`~qoder.errors.ConfigurationError` that names what to set, raised before any request.
"""

from __future__ import annotations

import functools
import logging
import os
import warnings
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal

import attrs
import httpx

from ._auth import (
    TOKEN_ENV_VARS,
    AccessToken,
    EnvAccessToken,
    access_token,
    access_token_from_env,
    as_secret,
)
from ._mcp.config import agent_declarations
from ._option_checks import check_built, credit_string, normalize_base_url
from ._porting import (
    OptionTypeError,
    PermissionMode,
    QoderPortingWarning,
    SystemPromptFile,
    SystemPromptPreset,
    ToolsPreset,
    caller_stacklevel,
    ignored_message,
    resolve_permission_mode,
    resolve_system_prompt,
    split_tools,
    tool_names,
    translate_cloud_agent,
)
from ._protocol.config import LocalTool, SessionConfig
from ._protocol.effects import Timeouts
from ._protocol.redaction import MIN_TOKEN_LENGTH
from ._protocol.specs import AgentSpec, EnvironmentSpec
from ._version import __version__
from .errors import ConfigurationError
from .tools import BUILTIN_TOOLS, CustomTool, PermissionDecision, ToolPermissionContext

__all__ = [
    "DEFAULT_BASE_URL",
    "AccessToken",
    "AgentSpec",
    "EnvAccessToken",
    "EnvironmentSpec",
    "OptionTypeError",
    "PermissionMode",
    "QoderAgentOptions",
    "QoderPortingWarning",
    "SystemPromptFile",
    "SystemPromptPreset",
    "ToolsPreset",
    "access_token",
    "access_token_from_env",
    "check_http_client",
    "normalize_base_url",
    "resolve_options",
]

DEFAULT_BASE_URL = "https://api.qoder.com/api/v1/cloud"
BASE_URL_ENV_VARS = ("QODER_MANAGED_BASE_URL", "QODER_CLOUD_AGENT_API_BASE")
DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=5.0)
DEFAULT_STREAM_IDLE_TIMEOUT = 90.0

logger = logging.getLogger("qoder")
_warned_short_token = False


CanUseTool = Callable[
    [str, dict[str, Any], ToolPermissionContext],
    PermissionDecision | bool | Awaitable[PermissionDecision | bool],
]
"""``can_use_tool(tool_name, input, context)``: sync or async, returns a decision or a bool."""
AuthRefresh = Callable[[], str | Awaitable[str | None] | None]
"""``on_auth_expired()``: sync or async, returns a fresh token or ``None``."""


@functools.cache
def _defaults() -> QoderAgentOptions:
    """The options as built with no arguments, for :meth:`QoderAgentOptions.__repr__`."""
    return QoderAgentOptions()


@attrs.frozen(kw_only=True, repr=False)
class QoderAgentOptions:
    """Everything a conversation can be configured with; every field is optional.

    Every option is checked here, when the options are built: a value of the wrong type is
    an :class:`OptionTypeError` (a :class:`~qoder.ConfigurationError` and a
    :class:`TypeError`), a wrong value a :class:`~qoder.ConfigurationError`; each names the
    option and the fix. The official SDK's options are all accepted by name; docs/porting.md
    says what each does here.

    Args:
        auth: the access token: ``access_token_from_env()``, ``access_token("...")`` or a
            plain string (the official helpers' values work too). Default:
            ``QODER_PERSONAL_ACCESS_TOKEN``, then ``QODER_ACCESS_TOKEN``, then ``QODER_PAT``,
            each looked up in ``env`` first, then in the process environment.
        base_url: default ``QODER_MANAGED_BASE_URL``, then ``QODER_CLOUD_AGENT_API_BASE``, then
            ``https://api.qoder.com/api/v1/cloud``.
        agent: an agent id, or an :class:`AgentSpec` to create. Default ``QODER_AGENT_ID``.
        agent_version: pin an agent version (default: the latest).
        environment: an environment id, or an :class:`EnvironmentSpec` to create. Default
            ``QODER_ENVIRONMENT_ID``, else one is created.
        resume: the id of an existing session to attach to instead of creating one.
        continue_conversation: attach to the agent's newest session (not with ``resume``).
        session_title, session_metadata, environment_variables, resources, vault_ids,
            max_credit_cost: passed to ``POST /sessions``. ``max_credit_cost`` is a decimal
            string such as ``"1.50"``; a number is converted exactly as written.
        env: the official name for environment variables: merged into
            ``environment_variables`` (``None`` values dropped; a variable named by ``auth``
            or one of the token variables is read for the token and not sent).
        max_budget_usd: USD the session may cost; the client interrupts once it is exceeded.
        system_prompt: a string replaces the agent's system prompt for this session;
            ``{"type": "preset", "preset": "qodercli", "append": "..."}`` appends to it;
            ``{"type": "file", "path": "..."}`` is read at ``connect()``; ``None``: the
            agent's own.
        model: overrides the agent's model for this session.
        tools: ``@tool`` functions (run by the client) and built-in tool names (``"Bash"``,
            ``"Read"``, ... or the wire names ``"bash"``, ``"read"``, ...). Built-in names
            choose the session's built-in tools; ``[]`` turns them all off;
            ``{"type": "preset", "preset": "qodercli"}`` turns them all on; not given, or
            client tools only: the agent's own toolset.
        allowed_tools: tool names whose permission requests are approved without asking.
        disallowed_tools: tool names turned off for this session.
        permission_mode: ``default``, ``acceptEdits``, ``bypassPermissions``, ``yolo`` or
            ``dontAsk`` (``plan`` and ``auto`` are refused: Cloud Agents has neither).
        max_turns: model requests allowed per turn; the client interrupts at the limit.
        include_partial_messages: also yield :class:`~qoder.StreamEvent` previews.
        can_use_tool: called for a tool call that asks permission; returns
            :class:`~qoder.PermissionResultAllow` / :class:`~qoder.PermissionResultDeny` or a bool.
            Without it such a turn ends with ``stop_reason == "requires_action"``.
        hooks: hook event name -> list of matchers (the official SDK's shape).
        mcp_servers: server name -> config dict (the official SDK's shape).
        experimental_cloud_agent: the official SDK's Cloud Agent selector; its ``agent`` and
            ``session`` are read as ``agent``, ``resume``, ``environment``, ``session_title``,
            ``resources`` and ``vault_ids``.
        timeout: seconds, or an ``httpx.Timeout`` (default: connect 5 s, others 600 s).
        stream_idle_timeout: silence on the event stream after which it is resumed (90 s).
        max_retries: automatic retries of a failed request (default 2).
        max_stream_reconnects: reconnects without progress before a turn is ``stream_lost``.
        stream_reconnect_delay: the first wait before reconnecting a dropped stream (0.5 s);
            it doubles, with jitter, up to 10 s while reconnects make no progress.
        max_buffered_messages: unread messages kept before the oldest are dropped (see docs).
        on_auth_expired: called once on a 401/403 to supply a fresh token.
        workspace_id, betas, default_headers: extra request headers.
        allow_insecure_http: send the token over a plain ``http://`` base URL to a host that
            is not loopback (in clear text). Off by default: such a base URL is a
            :class:`~qoder.ConfigurationError`. Loopback (``localhost``, 127.0.0.0/8, ``::1``)
            is always allowed, for the emulator.

    The remaining fields are the official SDK's options that only configure ``qodercli``
    (ignored, with one :class:`QoderPortingWarning`) or that Cloud Agents cannot honour
    (refused unless off); see docs/porting.md.
    """

    # -- this client's connection and session ---------------------------------------------
    auth: AccessToken | EnvAccessToken | None = attrs.field(default=None, converter=as_secret)
    base_url: str | None = None
    agent: str | AgentSpec | None = None
    agent_version: int | None = None
    environment: str | EnvironmentSpec | None = None
    resume: str | None = None
    continue_conversation: bool = False
    session_title: str | None = None
    session_metadata: Mapping[str, str] | None = None
    environment_variables: Mapping[str, str] | None = None
    env: Mapping[str, str | None] | None = None
    resources: Sequence[Mapping[str, Any]] | None = None
    vault_ids: Sequence[str] | None = None
    max_credit_cost: str | None = attrs.field(default=None, converter=credit_string)
    max_budget_usd: float | None = None
    # -- the agent for this session, and its tools ----------------------------------------
    system_prompt: str | SystemPromptPreset | SystemPromptFile | None = None
    model: str | None = None
    tools: Sequence[CustomTool | str] | ToolsPreset | None = None
    allowed_tools: Sequence[str] = ()
    disallowed_tools: Sequence[str] = ()
    permission_mode: PermissionMode | None = None
    max_turns: int | None = None
    include_partial_messages: bool = False
    can_use_tool: CanUseTool | None = None
    hooks: Mapping[str, Sequence[Any]] | None = None
    mcp_servers: Mapping[str, Any] | None = None
    experimental_cloud_agent: Mapping[str, Any] | None = None
    # -- transport -------------------------------------------------------------------------
    timeout: float | httpx.Timeout | None = None
    stream_idle_timeout: float = DEFAULT_STREAM_IDLE_TIMEOUT
    max_retries: int = 2
    max_stream_reconnects: int = 6
    stream_reconnect_delay: float = 0.5
    max_buffered_messages: int = 10_000
    on_auth_expired: AuthRefresh | None = None
    workspace_id: str | None = None
    betas: Sequence[str] = ()
    default_headers: Mapping[str, str] = attrs.field(factory=dict)
    allow_insecure_http: bool = False
    # -- official options for the local qodercli process: ignored, with a warning ---------
    cwd: str | os.PathLike[str] | None = None
    cli_path: str | os.PathLike[str] | None = None
    settings: str | os.PathLike[str] | Mapping[str, Any] | None = None
    setting_sources: Sequence[str] | None = None
    add_dirs: Sequence[str | os.PathLike[str]] = ()
    plugins: Sequence[Mapping[str, Any]] = ()
    extra_args: Mapping[str, str | None] = attrs.field(factory=dict)
    max_buffer_size: int | None = None
    debug_stderr: Any = None
    stderr: Callable[[str], None] | None = None
    user: str | None = None
    strict_mcp_config: bool = False
    allow_dangerously_skip_permissions: bool = False
    control_request_timeout_ms: int = 60_000
    resolve_model_timeout_ms: int = 500
    session_store_flush: Literal["batched", "eager"] = "batched"
    load_timeout_ms: int = 60_000
    # -- official options Cloud Agents cannot honour: refused unless off ------------------
    custom_context: Mapping[str, str] | None = None
    allowed_mcp_server_names: Sequence[str] = ()
    plan_mode: bool | None = None
    resume_session_at: str | None = None
    resume_drops_turn: str | None = None
    session_id: str | None = None
    permission_prompt_tool_name: str | None = None
    security_scan: Mapping[str, bool] | None = None
    evolution: Mapping[str, Any] | None = None
    proxy: str | None = None
    vpc_endpoint: str | None = None
    on_mcp_oauth_required: Callable[..., Any] | None = None
    on_elicitation: Callable[..., Any] | None = None
    on_mcp_status_change: Callable[..., Any] | None = None
    fork_session: bool = False
    agents: Mapping[str, Any] | None = None
    skills: Sequence[str] | Literal["all"] | None = None
    enable_file_checkpointing: bool | None = None
    resolve_model: Callable[..., Any] | None = None
    session_store: Any = None
    memory: Any = None

    def __attrs_post_init__(self) -> None:
        ignored = check_built(self)
        if ignored:
            warnings.warn(ignored_message(ignored), QoderPortingWarning, caller_stacklevel())

    def __repr__(self) -> str:
        """The options that differ from their defaults (the token shows as ``'***'``)."""
        shown = [
            f"{field.name}={getattr(self, field.name)!r}"
            for field in attrs.fields(type(self))
            if getattr(self, field.name) != getattr(_defaults(), field.name)
        ]
        return f"QoderAgentOptions({', '.join(shown)})"


def _first_env(environ: Mapping[str, str], names: Sequence[str]) -> str | None:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


def _warn_if_short(token: AccessToken) -> None:
    """Warn once per process, without showing it, about a token too short to be a real one."""
    global _warned_short_token
    if len(token.reveal()) < MIN_TOKEN_LENGTH and not _warned_short_token:
        _warned_short_token = True
        logger.warning(
            "The access token is shorter than %d characters, so it cannot be a real Qoder "
            "token (the emulator accepts any); error messages hide it only where it stands "
            "as a whole word.",
            MIN_TOKEN_LENGTH,
        )


def check_options(options: object, facade: str) -> QoderAgentOptions:
    """The options a client is made with: ``None`` means the defaults (and the environment);
    anything but a :class:`QoderAgentOptions` is a :class:`TypeError` naming the fix."""
    if options is None:
        return QoderAgentOptions()
    if isinstance(options, QoderAgentOptions):
        return options
    raise OptionTypeError(
        f"{facade}(options=...) must be a QoderAgentOptions (from qoder), not "
        f"{type(options).__name__}: build one with QoderAgentOptions(...)"
    )


def check_http_client(http_client: object, *, want_async: bool) -> None:
    """A :class:`TypeError` unless ``http_client`` is ``None`` or the kind of httpx client the
    facade drives: ``httpx.AsyncClient`` for ``AsyncClient``, ``httpx.Client`` for
    ``SyncClient``."""
    if http_client is None:
        return
    wanted, other = (
        (httpx.AsyncClient, httpx.Client) if want_async else (httpx.Client, httpx.AsyncClient)
    )
    facade, other_facade = (
        ("AsyncClient", "SyncClient") if want_async else ("SyncClient", "AsyncClient")
    )
    if isinstance(http_client, wanted):
        return
    if isinstance(http_client, other):
        raise TypeError(
            f"{facade}(http_client=...) needs an httpx.{wanted.__name__}, not an "
            f"httpx.{other.__name__}: pass httpx.{wanted.__name__}(...), or use "
            f"{other_facade} with your httpx.{other.__name__}"
        )
    raise TypeError(
        f"{facade}(http_client=...) must be an httpx.{wanted.__name__}, not "
        f"{type(http_client).__name__}"
    )


def _resolve_token(opts: QoderAgentOptions, environ: Mapping[str, str]) -> AccessToken:
    """The token: explicit, else from the environment (``env`` first, like the official
    SDK's Cloud Agent runtime, then the process environment)."""
    lookup = {**environ, **_given_env(opts)}
    auth = opts.auth
    if isinstance(auth, EnvAccessToken):
        return auth.resolve(lookup)
    if isinstance(auth, AccessToken):
        return auth
    found = _first_env(lookup, TOKEN_ENV_VARS)
    if found is None:
        raise ConfigurationError(
            "No access token: set QODER_PERSONAL_ACCESS_TOKEN (or QODER_ACCESS_TOKEN, or "
            "QODER_PAT), or pass QoderAgentOptions(auth=...)."
        )
    return AccessToken(found)


def _given_env(opts: QoderAgentOptions) -> dict[str, str]:
    """``env`` without its ``None`` values."""
    return {key: value for key, value in (opts.env or {}).items() if value is not None}


def _session_env(opts: QoderAgentOptions) -> Mapping[str, str] | None:
    """``environment_variables`` with ``env`` merged in, less the token's variables (read
    for ``auth``, never sent to the session)."""
    token_vars = {*TOKEN_ENV_VARS}
    if isinstance(opts.auth, EnvAccessToken):
        token_vars.add(opts.auth.env_var)
    extra = {key: value for key, value in _given_env(opts).items() if key not in token_vars}
    if not extra:
        return opts.environment_variables
    return {**(opts.environment_variables or {}), **extra}


def _resolve_timeouts(opts: QoderAgentOptions) -> Timeouts:
    if opts.timeout is None:
        timeout = DEFAULT_TIMEOUT
    elif isinstance(opts.timeout, httpx.Timeout):
        timeout = opts.timeout
    else:
        timeout = httpx.Timeout(opts.timeout)
    return Timeouts(
        connect=timeout.connect, read=timeout.read, write=timeout.write, pool=timeout.pool
    )


def resolve_options(
    options: QoderAgentOptions | None,
    environ: Mapping[str, str] | None = None,
    *,
    require_agent: bool = True,
    extra_tools: Sequence[LocalTool] = (),
) -> SessionConfig:
    """Resolve explicit options against the environment (explicit wins; blanks are unset).

    ``require_agent=False`` for the resource client, which needs a token and a base URL only.
    ``extra_tools``: the client-side tools of the bridged MCP servers, which the facade
    started.
    Types and values were checked when the options were built; what is checked here needs
    the environment, or reads a file (``system_prompt={"type": "file", ...}``).
    """
    opts = options or QoderAgentOptions()
    env = os.environ if environ is None else environ

    token = _resolve_token(opts, env)
    _warn_if_short(token)
    base_url = normalize_base_url(
        opts.base_url or _first_env(env, BASE_URL_ENV_VARS) or DEFAULT_BASE_URL,
        allow_insecure_http=opts.allow_insecure_http,
    )

    target = translate_cloud_agent(opts.experimental_cloud_agent)
    agent = opts.agent or target.agent or _first_env(env, ("QODER_AGENT_ID",))
    environment = (
        opts.environment or target.environment or _first_env(env, ("QODER_ENVIRONMENT_ID",))
    )
    resume = opts.resume or target.resume
    if agent is None and resume is None and require_agent:
        raise ConfigurationError(
            "No agent: set QODER_AGENT_ID, or pass QoderAgentOptions(agent='agent_...') or "
            "agent=AgentSpec(name=...) to create one, or resume= an existing session."
        )
    if opts.max_buffered_messages < 1:
        raise ConfigurationError("max_buffered_messages must be 1 or more")

    custom_tools, builtin_tools = split_tools(opts.tools)
    system_prompt, append_system_prompt = resolve_system_prompt(opts.system_prompt)
    mcp_servers, mcp_toolsets = agent_declarations(opts.mcp_servers or {})
    disallowed = tool_names("disallowed_tools", opts.disallowed_tools)
    hooks = None
    hook_asked: frozenset[str] = frozenset()
    hook_asked_mcp: frozenset[str] | None = frozenset()
    if opts.hooks and any(opts.hooks.values()):
        from ._hooks.session import SessionHooks  # anyio and the hooks' runner: only if used

        hooks = SessionHooks(
            opts.hooks,
            can_use_tool=opts.can_use_tool,
            permission_mode=resolve_permission_mode(opts.permission_mode),
        )
        hook_asked = hooks.asked_builtins(tuple(BUILTIN_TOOLS.values()))
        hook_asked_mcp = hooks.asked_mcp_tools()
    return SessionConfig(
        token=token.reveal(),
        base_url=base_url,
        version=__version__,
        timeouts=_resolve_timeouts(opts),
        stream_idle_timeout=opts.stream_idle_timeout,
        agent=agent,
        agent_version=opts.agent_version,
        environment=environment,
        resume=resume,
        session_title=opts.session_title or target.session_title,
        session_metadata=opts.session_metadata,
        environment_variables=_session_env(opts),
        resources=opts.resources if opts.resources is not None else target.resources,
        vault_ids=opts.vault_ids if opts.vault_ids is not None else target.vault_ids,
        max_credit_cost=opts.max_credit_cost,
        include_partial_messages=opts.include_partial_messages,
        tools=(*custom_tools, *(t for t in extra_tools if t.name not in disallowed)),
        can_use_tool=opts.can_use_tool,
        on_auth_expired=opts.on_auth_expired,
        max_retries=opts.max_retries,
        max_stream_reconnects=opts.max_stream_reconnects,
        stream_reconnect_delay=opts.stream_reconnect_delay,
        max_buffered_messages=opts.max_buffered_messages,
        workspace_id=opts.workspace_id,
        betas=tuple(opts.betas),
        default_headers=dict(opts.default_headers),
        system_prompt=system_prompt,
        append_system_prompt=append_system_prompt,
        model=opts.model,
        builtin_tools=builtin_tools,
        allowed_tools=tool_names("allowed_tools", opts.allowed_tools),
        disallowed_tools=disallowed,
        permission_mode=resolve_permission_mode(opts.permission_mode),
        max_turns=opts.max_turns,
        max_budget_usd=None if opts.max_budget_usd is None else float(opts.max_budget_usd),
        continue_conversation=opts.continue_conversation,
        hooks=hooks,
        hook_asked_tools=hook_asked,
        hook_asked_mcp_tools=hook_asked_mcp,
        agent_mcp_servers=tuple(mcp_servers),
        agent_mcp_toolsets=tuple(mcp_toolsets),
    )
