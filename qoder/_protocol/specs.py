"""What ``connect()`` creates when no id is given: an agent and an environment (§3.1, §3.2).

Plain values, re-exported by :mod:`qoder.options`; :mod:`.requests` turns them into bodies.
Each field is checked when the spec is built: a wrong type is a :class:`TypeError` and a
wrong value a :class:`ValueError`, each naming the argument and what it takes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

__all__ = ["AgentSpec", "EnvironmentSpec"]


def _where(instance: object, attribute: attrs.Attribute[Any]) -> str:
    """``AgentSpec(name=...)``: how a message names the argument."""
    return f"{type(instance).__name__}({attribute.name}=...)"


def _non_empty_str(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(
            f"{_where(instance, attribute)} must be a string, not {type(value).__name__}"
        )
    if not value.strip():
        raise ValueError(f"{_where(instance, attribute)} must not be empty")


def _optional_str(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise TypeError(
            f"{_where(instance, attribute)} must be a string or None, not {type(value).__name__}"
        )


def _model(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A model name, or a model object such as ``{"id": "ultimate"}``."""
    if not isinstance(value, Mapping):
        _non_empty_str(instance, attribute, value)


def _dicts(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A list of JSON objects (``tools``, ``mcp_servers``, ``skills``)."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise TypeError(
            f"{_where(instance, attribute)} must be a list of dicts, such as "
            f"[{{'type': ...}}], not {type(value).__name__}"
        )
    for item in value:
        if not isinstance(item, Mapping):
            raise TypeError(
                f"{_where(instance, attribute)} must hold dicts only, found {type(item).__name__}"
            )


def _str_map(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """``metadata``: string keys to string values."""
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{_where(instance, attribute)} must be a dict of str to str, not "
            f"{type(value).__name__}"
        )
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise TypeError(
                f"{_where(instance, attribute)} must map strings to strings; the entry "
                f"{key!r} holds {type(item).__name__}"
            )


@attrs.frozen(kw_only=True)
class AgentSpec:
    """An agent for ``connect()`` to create (``POST /agents``) when no agent id is given."""

    name: str = attrs.field(validator=_non_empty_str)
    model: str | dict[str, Any] = attrs.field(default="ultimate", validator=_model)
    system: str | None = attrs.field(default=None, validator=_optional_str)
    description: str | None = attrs.field(default=None, validator=_optional_str)
    tools: Sequence[dict[str, Any]] = attrs.field(
        default=({"type": "agent_toolset_20260401"},), validator=_dicts
    )
    mcp_servers: Sequence[dict[str, Any]] = attrs.field(default=(), validator=_dicts)
    skills: Sequence[dict[str, Any]] = attrs.field(default=(), validator=_dicts)
    metadata: Mapping[str, str] = attrs.field(factory=dict, validator=_str_map)


@attrs.frozen(kw_only=True)
class EnvironmentSpec:
    """An environment for ``connect()`` to create (``POST /environments``)."""

    name: str = attrs.field(default="qoder-python", validator=_non_empty_str)
    networking: str = attrs.field(default="unrestricted", validator=_non_empty_str)
    metadata: Mapping[str, str] = attrs.field(factory=dict, validator=_str_map)
