"""The checks run when :class:`~qoder.options.QoderAgentOptions` is built, and the rules of a
base URL.

Each option has one check in ``_FIELD_CHECKS``; :func:`check_built` runs them all, then the
checks between options. A wrong type is an :class:`~qoder.OptionTypeError` (also a
``TypeError``), a wrong value a :class:`~qoder.errors.ConfigurationError`; each names the
option and the fix, and shows a wrong value by its type only (it may be a secret).
"""

from __future__ import annotations

import ipaddress
import math
import os
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from ._porting import (
    CloudTarget,
    OptionTypeError,
    check_refused,
    check_system_prompt,
    ignored_options,
    resolve_permission_mode,
    split_tools,
    tool_names,
    translate_cloud_agent,
)
from ._protocol.specs import AgentSpec, EnvironmentSpec
from .errors import ConfigurationError

if TYPE_CHECKING:
    from .options import QoderAgentOptions

__all__ = ["LOOPBACK_NAMES", "check_built", "credit_string", "is_loopback", "normalize_base_url"]

LOOPBACK_NAMES = ("localhost",)


_CREDIT_FIX = 'max_credit_cost must be a positive decimal string such as "1.50" (or a number)'


def credit_string(value: str | int | float | Decimal | None) -> str | None:
    """``max_credit_cost`` as the decimal string the wire takes. A number is converted
    exactly as written (``1.5`` -> ``"1.5"``, through its shortest ``repr``), never through
    binary floating point; an exponent is written out (``1e-3`` -> ``"0.001"``)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise OptionTypeError(f"{_CREDIT_FIX}, not {type(value).__name__}")
    text = repr(value) if isinstance(value, float) else str(value).strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ConfigurationError(f"{_CREDIT_FIX}, not {value!r}") from None
    if not amount.is_finite() or amount <= 0:
        raise ConfigurationError(f"{_CREDIT_FIX}, not {value!r}")
    return format(amount, "f")


Check = Callable[[str, Any], None]
"""A check of one option: ``check(name, value)`` raises, naming the option and the fix."""


def _type_name(value: object) -> str:
    """How a message names a wrong value: by its type only (it may be a secret)."""
    return type(value).__name__


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _optional(check: Check) -> Check:
    """``check``, with ``None`` allowed."""

    def optional(name: str, value: Any) -> None:
        if value is not None:
            check(name, value)

    return optional


def _instance(kinds: tuple[type, ...], what: str) -> Check:
    """A check that the value is one of ``kinds``; ``what`` says what to pass."""

    def instance(name: str, value: Any) -> None:
        if not isinstance(value, kinds):
            raise OptionTypeError(f"{name} must be {what}, not {_type_name(value)}")

    return instance


def _whole(name: str, value: Any) -> None:
    """A whole number (``True`` is not one)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise OptionTypeError(f"{name} must be a whole number, not {_type_name(value)}")


def _int_at_least(low: int) -> Check:
    """A whole number, ``low`` or more."""

    def int_at_least(name: str, value: Any) -> None:
        _whole(name, value)
        if value < low:
            raise ConfigurationError(f"{name} must be {low} or more, not {value}")

    return int_at_least


def _seconds(*, zero: bool) -> Check:
    """A finite number of seconds: positive, or also ``0`` when ``zero``."""
    bound = "0 or more" if zero else "more than 0"

    def seconds(name: str, value: Any) -> None:
        if not _is_number(value):
            raise OptionTypeError(
                f"{name} must be a number of seconds ({bound}), such as 5.0, not "
                f"{_type_name(value)}"
            )
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
            raise ConfigurationError(f"{name} must be a finite number {bound}, not {value}")

    return seconds


def _positive_amount(name: str, value: Any) -> None:
    """``max_budget_usd``: a finite amount above 0."""
    if not _is_number(value) and not isinstance(value, Decimal):
        raise OptionTypeError(
            f"{name} must be a number of USD such as 5.0, not {_type_name(value)}"
        )
    if not math.isfinite(value) or value <= 0:
        raise ConfigurationError(f"{name} must be an amount above 0, not {value}")


def _timeout(name: str, value: Any) -> None:
    if isinstance(value, httpx.Timeout):
        return
    if not _is_number(value):
        hint = f"; write {name}={value.strip()}, a number" if isinstance(value, str) else ""
        raise OptionTypeError(
            f"{name} must be a number of seconds (such as 30.0) or an httpx.Timeout, not "
            f"{_type_name(value)}{hint}"
        )
    _seconds(zero=False)(name, value)


def _bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise OptionTypeError(f"{name} must be True or False, not {_type_name(value)}")


def _callable(name: str, value: Any) -> None:
    if not callable(value):
        raise OptionTypeError(
            f"{name} must be a function (sync or async), not {_type_name(value)}; pass the "
            "function itself, without calling it"
        )


def _str_list(name: str, value: Any) -> None:
    """A list of strings; a bare string (a list of its characters) is refused."""
    if isinstance(value, (str, bytes)):
        raise OptionTypeError(f"{name} must be a list of strings: write {name}=[{value!r}]")
    if not isinstance(value, Sequence) or not all(isinstance(item, str) for item in value):
        raise OptionTypeError(f"{name} must be a list of strings, not {_type_name(value)}")


def _str_map(name: str, value: Any, *, none_values: bool = False) -> None:
    """A mapping of string keys to string values (or ``None`` when ``none_values``)."""
    kinds = "str or None" if none_values else "str"
    if not isinstance(value, Mapping):
        raise OptionTypeError(f"{name} must be a dict of str -> {kinds}, not {_type_name(value)}")
    for key, item in value.items():
        if not isinstance(key, str) or not (
            isinstance(item, str) or (none_values and item is None)
        ):
            raise OptionTypeError(
                f"{name} must map strings to {kinds}; the entry {key!r} holds a "
                f"{_type_name(item)} (convert it with str())"
            )


def _env(name: str, value: Any) -> None:
    _str_map(name, value, none_values=True)


def _dict_list(name: str, value: Any) -> None:
    """``resources``: a list of dicts."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise OptionTypeError(f"{name} must be a list of dicts, not {_type_name(value)}")
    for item in value:
        if not isinstance(item, Mapping):
            raise OptionTypeError(f"{name} must hold dicts only, found a {_type_name(item)}")


def _base_url(name: str, value: Any) -> None:
    """The shape of a base URL; plain ``http://`` to another host is refused at ``connect()``
    (where ``allow_insecure_http`` and the environment are known together)."""
    if not isinstance(value, str):
        raise OptionTypeError(f"{name} must be a URL string, not {_type_name(value)}")
    normalize_base_url(value, allow_insecure_http=True)


def _hooks(name: str, value: Any) -> None:
    """``hooks``: hook event name -> list of matchers."""
    if not isinstance(value, Mapping):
        raise OptionTypeError(
            f"{name} must be a dict of hook event -> list of matchers, such as "
            f"{{'PreToolUse': [HookMatcher(...)]}}, not {_type_name(value)}"
        )
    for event, matchers in value.items():
        if not isinstance(event, str):
            raise OptionTypeError(f"{name}: hook event names are strings, found {event!r}")
        if isinstance(matchers, (str, bytes, Mapping)) or not isinstance(matchers, Sequence):
            raise OptionTypeError(
                f"{name}[{event!r}] must be a list of matchers, not {_type_name(matchers)}: "
                f"write {{{event!r}: [matcher]}}"
            )


def _mcp_servers(name: str, value: Any) -> None:
    """``mcp_servers``: server name -> config dict (or a server object)."""
    if isinstance(value, (str, os.PathLike)):
        raise OptionTypeError(
            f"{name} must be a dict of server name -> config; a path to a JSON file is "
            "qodercli's form: load it with json.load() and pass the 'mcpServers' dict"
        )
    if not isinstance(value, Mapping):
        raise OptionTypeError(
            f"{name} must be a dict of server name -> config, not {_type_name(value)}"
        )
    for server, config in value.items():
        if not isinstance(server, str) or not server:
            raise OptionTypeError(f"{name}: server names are non-empty strings, found {server!r}")
        if config is None or isinstance(config, (str, bytes, int, float, Sequence)):
            raise OptionTypeError(
                f"{name}[{server!r}] must be a config dict (such as {{'type': 'http', 'url': "
                f"...}}) or a server object, not {_type_name(config)}"
            )


def _porting_check(resolve: Callable[[Any], object]) -> Check:
    """A check that runs one of :mod:`._porting`'s translations and drops its result."""

    def porting(_name: str, value: Any) -> None:
        resolve(value)

    return porting


def _names(name: str, value: Any) -> None:
    tool_names(name, value)


_STR = _optional(_instance((str,), "a string"))
_FIELD_CHECKS: Mapping[str, Check] = {
    "base_url": _optional(_base_url),
    "agent": _optional(
        _instance((str, AgentSpec), "an agent id such as 'agent_...' or AgentSpec(name=...)")
    ),
    "agent_version": _optional(_int_at_least(1)),
    "environment": _optional(
        _instance(
            (str, EnvironmentSpec), "an environment id such as 'env_...' or EnvironmentSpec(...)"
        )
    ),
    "resume": _STR,
    "continue_conversation": _bool,
    "session_title": _STR,
    "session_metadata": _optional(_str_map),
    "environment_variables": _optional(_str_map),
    "env": _optional(_env),
    "resources": _optional(_dict_list),
    "vault_ids": _optional(_str_list),
    "max_budget_usd": _optional(_positive_amount),
    "system_prompt": _porting_check(check_system_prompt),
    "model": _STR,
    "tools": _porting_check(split_tools),
    "allowed_tools": _names,
    "disallowed_tools": _names,
    "permission_mode": _porting_check(resolve_permission_mode),
    "max_turns": _optional(_int_at_least(1)),
    "include_partial_messages": _bool,
    "can_use_tool": _optional(_callable),
    "hooks": _optional(_hooks),
    "mcp_servers": _optional(_mcp_servers),
    "experimental_cloud_agent": _porting_check(translate_cloud_agent),
    "timeout": _optional(_timeout),
    "stream_idle_timeout": _seconds(zero=False),
    "max_retries": _int_at_least(0),
    "max_stream_reconnects": _int_at_least(0),
    "stream_reconnect_delay": _seconds(zero=True),
    "max_buffered_messages": _whole,  # its range is checked at connect(), as it always was
    "on_auth_expired": _optional(_callable),
    "workspace_id": _STR,
    "betas": _str_list,
    "default_headers": _str_map,
    "allow_insecure_http": _bool,
}
"""This client's options and the supported official ones: one check each."""


def _check_env_conflicts(options: QoderAgentOptions) -> None:
    """``env`` (the official name) and ``environment_variables`` may both be given, but may
    not disagree about a variable."""
    if not options.env or not options.environment_variables:
        return
    clashes = sorted(
        key
        for key, value in options.env.items()
        if key in options.environment_variables and options.environment_variables[key] != value
    )
    if clashes:
        raise ConfigurationError(
            f"env and environment_variables give {', '.join(clashes)} different values; set "
            "each variable in one of them (env is the official SDK's name for the same thing)"
        )


_CLOUD_FIELDS = ("agent", "resume", "environment", "session_title", "resources", "vault_ids")


def _check_cloud_target(options: QoderAgentOptions, target: CloudTarget) -> None:
    """What ``experimental_cloud_agent`` sets may not also be given directly."""
    twice = [
        name
        for name in _CLOUD_FIELDS
        if getattr(target, name) is not None and getattr(options, name) is not None
    ]
    if twice:
        raise ConfigurationError(
            f"{', '.join(twice)} given twice: directly and in experimental_cloud_agent; keep "
            "one (the direct options are this client's spelling)"
        )


def _check_continue(options: QoderAgentOptions, target: CloudTarget) -> None:
    if options.continue_conversation and (options.resume or target.resume):
        raise ConfigurationError(
            "continue_conversation=True attaches to the agent's newest session, and resume= "
            "to the session it names: give one of them"
        )


def check_built(options: QoderAgentOptions) -> list[str]:
    """Every check of the built options; returns the ignored options to warn about."""
    values = attrs.asdict(options, recurse=False)
    for name, check in _FIELD_CHECKS.items():
        check(name, values[name])
    check_refused(values)
    target = translate_cloud_agent(options.experimental_cloud_agent)
    _check_cloud_target(options, target)
    _check_continue(options, target)
    _check_env_conflicts(options)
    return [*ignored_options(values), *target.ignored]


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
