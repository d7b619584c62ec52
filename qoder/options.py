"""Client options, authentication helpers, and how they resolve against the environment.

Explicit arguments win over environment variables (docs/protocol.md §2.1). Resolution happens in
:func:`resolve_options`, called by ``connect()``: a missing token or agent is a
:class:`~qoder.errors.ConfigurationError` that names what to set, raised before any request.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import attrs
import httpx

from ._protocol.config import SessionConfig
from ._protocol.effects import Timeouts
from ._protocol.redaction import MIN_TOKEN_LENGTH
from ._protocol.specs import AgentSpec, EnvironmentSpec
from ._version import __version__
from .errors import ConfigurationError
from .tools import CustomTool, PermissionDecision, ToolPermissionContext

__all__ = [
    "DEFAULT_BASE_URL",
    "AccessToken",
    "AgentSpec",
    "EnvAccessToken",
    "EnvironmentSpec",
    "QoderAgentOptions",
    "access_token",
    "access_token_from_env",
    "resolve_options",
]

DEFAULT_BASE_URL = "https://api.qoder.com/api/v1/cloud"
TOKEN_ENV_VARS = ("QODER_PERSONAL_ACCESS_TOKEN", "QODER_ACCESS_TOKEN", "QODER_PAT")
BASE_URL_ENV_VARS = ("QODER_MANAGED_BASE_URL", "QODER_CLOUD_AGENT_API_BASE")
DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=5.0)
DEFAULT_STREAM_IDLE_TIMEOUT = 90.0
LOOPBACK_NAMES = ("localhost",)

logger = logging.getLogger("qoder")
_warned_short_token = False


def _clean_token(value: str) -> str:
    """Strip surrounding white space (a token read from a file ends with a newline) and refuse
    what cannot go in an HTTP header, without ever echoing the value."""
    token = value.strip()
    if not token or not all("!" <= char <= "~" for char in token):
        raise ConfigurationError(
            "The access token is empty or contains characters that cannot be sent in an HTTP "
            "header (spaces, control or non-ASCII characters); check where it was read from."
        )
    return token


@attrs.frozen(repr=False)
class AccessToken:
    """A personal access token. Its ``repr`` and ``str`` never show it; use :meth:`reveal`.

    Surrounding white space is stripped; anything else that cannot be sent in a header is a
    :class:`~qoder.ConfigurationError` that does not show the value.
    """

    _value: str = attrs.field(alias="value", converter=_clean_token)

    def reveal(self) -> str:
        """The token itself, for the ``Authorization`` header and nothing else."""
        return self._value

    def __repr__(self) -> str:
        return "AccessToken('***')"

    __str__ = __repr__


@attrs.frozen
class EnvAccessToken:
    """A token read from the environment variable ``env_var`` when the client connects."""

    env_var: str = TOKEN_ENV_VARS[0]

    def resolve(self, environ: Mapping[str, str]) -> AccessToken:
        """The token, or :class:`ConfigurationError` naming the variable when it is unset."""
        value = environ.get(self.env_var, "").strip()
        if not value:
            raise ConfigurationError(
                f"The environment variable {self.env_var} is not set (or blank): set it to "
                "your Qoder personal access token, or pass auth=access_token('...')."
            )
        return AccessToken(value)


def access_token_from_env(env_var: str = TOKEN_ENV_VARS[0]) -> EnvAccessToken:
    """Read the access token from ``env_var`` (default ``QODER_PERSONAL_ACCESS_TOKEN``) at
    ``connect()``, as the official SDK's helper of the same name does."""
    return EnvAccessToken(env_var)


def access_token(token: str) -> AccessToken:
    """Wrap a token given in code, so that it stays out of reprs and logs."""
    return AccessToken(token)


CanUseTool = Callable[
    [str, dict[str, Any], ToolPermissionContext],
    PermissionDecision | bool | Awaitable[PermissionDecision | bool],
]
"""``can_use_tool(tool_name, input, context)``: sync or async, returns a decision or a bool."""
AuthRefresh = Callable[[], str | Awaitable[str | None] | None]
"""``on_auth_expired()``: sync or async, returns a fresh token or ``None``."""


def _as_secret(
    value: AccessToken | EnvAccessToken | str | None,
) -> AccessToken | EnvAccessToken | None:
    """A token given as a plain string is wrapped at once, so no repr can show it."""
    if isinstance(value, str):
        return AccessToken(value.strip()) if value.strip() else None
    return value


@attrs.frozen(kw_only=True)
class QoderAgentOptions:
    """Everything a conversation can be configured with; every field is optional.

    Args:
        auth: the access token: ``access_token_from_env()``, ``access_token("...")`` or a
            plain string. Default: ``QODER_PERSONAL_ACCESS_TOKEN``, then ``QODER_ACCESS_TOKEN``,
            then ``QODER_PAT``.
        base_url: default ``QODER_MANAGED_BASE_URL``, then ``QODER_CLOUD_AGENT_API_BASE``, then
            ``https://api.qoder.com/api/v1/cloud``.
        agent: an agent id, or an :class:`AgentSpec` to create. Default ``QODER_AGENT_ID``.
        agent_version: pin an agent version (default: the latest).
        environment: an environment id, or an :class:`EnvironmentSpec` to create. Default
            ``QODER_ENVIRONMENT_ID``, else one is created.
        resume: the id of an existing session to attach to instead of creating one.
        session_title, session_metadata, environment_variables, resources, vault_ids,
            max_credit_cost: passed to ``POST /sessions``.
        include_partial_messages: also yield :class:`~qoder.StreamEvent` previews.
        can_use_tool: called for a tool call that asks permission; returns
            :class:`~qoder.PermissionResultAllow` / :class:`~qoder.PermissionResultDeny` or a bool.
            Without it such a turn ends with ``stop_reason == "requires_action"``.
        tools: client-side tools (see :func:`~qoder.tool`), run when the agent calls them.
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
    """

    auth: AccessToken | EnvAccessToken | None = attrs.field(default=None, converter=_as_secret)
    base_url: str | None = None
    agent: str | AgentSpec | None = None
    agent_version: int | None = None
    environment: str | EnvironmentSpec | None = None
    resume: str | None = None
    session_title: str | None = None
    session_metadata: Mapping[str, str] | None = None
    environment_variables: Mapping[str, str] | None = None
    resources: Sequence[dict[str, Any]] | None = None
    vault_ids: Sequence[str] | None = None
    max_credit_cost: str | None = None
    include_partial_messages: bool = False
    can_use_tool: CanUseTool | None = None
    tools: Sequence[CustomTool] = ()
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


def _first_env(environ: Mapping[str, str], names: Sequence[str]) -> str | None:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a URL's host name, without brackets) is this machine: ``localhost``,
    127.0.0.0/8 or ``::1``."""
    if host.lower().rstrip(".") in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_base_url(url: str, *, allow_insecure_http: bool = False) -> str:
    """Check and normalise a base URL: absolute http(s), no userinfo, query or fragment, and
    ``http://`` only to loopback unless ``allow_insecure_http`` (the token would travel in
    clear text)."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"base_url must be an absolute http(s) URL, got {url!r}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigurationError(
            "base_url must not carry credentials, a query or a fragment; pass the token "
            "with auth= instead"
        )
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(parts.hostname):
        raise ConfigurationError(
            f"base_url {url.strip()!r} is plain http:// to {parts.hostname}, which is not "
            "loopback: the access token would be sent in clear text. Use https://, or pass "
            "QoderAgentOptions(allow_insecure_http=True) if you accept that risk."
        )
    return url.strip().rstrip("/")


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


def resolve_options(
    options: QoderAgentOptions | None,
    environ: Mapping[str, str] | None = None,
    *,
    require_agent: bool = True,
) -> SessionConfig:
    """Resolve explicit options against the environment (explicit wins; blanks are unset).

    ``require_agent=False`` for the resource client, which needs a token and a base URL only.
    """
    opts = options or QoderAgentOptions()
    env = os.environ if environ is None else environ

    auth = opts.auth
    if isinstance(auth, EnvAccessToken):
        token = auth.resolve(env)
    elif isinstance(auth, AccessToken):
        token = auth
    else:
        found = _first_env(env, TOKEN_ENV_VARS)
        if found is None:
            raise ConfigurationError(
                "No access token: set QODER_PERSONAL_ACCESS_TOKEN (or QODER_ACCESS_TOKEN, or "
                "QODER_PAT), or pass QoderAgentOptions(auth=...)."
            )
        token = AccessToken(found)

    _warn_if_short(token)
    base_url = normalize_base_url(
        opts.base_url or _first_env(env, BASE_URL_ENV_VARS) or DEFAULT_BASE_URL,
        allow_insecure_http=opts.allow_insecure_http,
    )

    agent = opts.agent if opts.agent else _first_env(env, ("QODER_AGENT_ID",))
    environment = (
        opts.environment if opts.environment else _first_env(env, ("QODER_ENVIRONMENT_ID",))
    )
    if agent is None and opts.resume is None and require_agent:
        raise ConfigurationError(
            "No agent: set QODER_AGENT_ID, or pass QoderAgentOptions(agent='agent_...') or "
            "agent=AgentSpec(name=...) to create one, or resume= an existing session."
        )

    if opts.timeout is None:
        timeout = DEFAULT_TIMEOUT
    elif isinstance(opts.timeout, httpx.Timeout):
        timeout = opts.timeout
    else:
        timeout = httpx.Timeout(opts.timeout)
    if opts.max_retries < 0:
        raise ConfigurationError("max_retries must be 0 or more")
    if opts.max_buffered_messages < 1:
        raise ConfigurationError("max_buffered_messages must be 1 or more")
    if opts.stream_idle_timeout <= 0:
        raise ConfigurationError("stream_idle_timeout must be positive")

    return SessionConfig(
        token=token.reveal(),
        base_url=base_url,
        version=__version__,
        timeouts=Timeouts(
            connect=timeout.connect, read=timeout.read, write=timeout.write, pool=timeout.pool
        ),
        stream_idle_timeout=opts.stream_idle_timeout,
        agent=agent,
        agent_version=opts.agent_version,
        environment=environment,
        resume=opts.resume,
        session_title=opts.session_title,
        session_metadata=opts.session_metadata,
        environment_variables=opts.environment_variables,
        resources=opts.resources,
        vault_ids=opts.vault_ids,
        max_credit_cost=opts.max_credit_cost,
        include_partial_messages=opts.include_partial_messages,
        tools=tuple(opts.tools),
        can_use_tool=opts.can_use_tool,
        on_auth_expired=opts.on_auth_expired,
        max_retries=opts.max_retries,
        max_stream_reconnects=opts.max_stream_reconnects,
        stream_reconnect_delay=opts.stream_reconnect_delay,
        max_buffered_messages=opts.max_buffered_messages,
        workspace_id=opts.workspace_id,
        betas=tuple(opts.betas),
        default_headers=dict(opts.default_headers),
    )
