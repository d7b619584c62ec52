"""Which callbacks a hook event runs: the official matcher rules, on a tool's official name.

A matcher is compared as the official SDK documents it (the rules of Claude Code's settings
files, which ``qoder-agent-sdk`` follows):

- ``None``, ``""`` or ``"*"``: every tool.
- only letters, digits, ``_`` and ``|``: an exact name, or exact names joined by ``|``
  (``"Write|Edit"``; ``"mcp__memory"`` matches no tool).
- anything else: a regular expression *searched* in the name (unanchored, as JavaScript's
  ``RegExp.test``): ``"^mcp__"`` matches every MCP tool, ``"mcp__files__.*|Bash"`` the tools
  of ``files`` and any name containing ``Bash``; anchor it (``"^(Bash)$"``) for an exact match.

The name matched is the official one (``Bash``, ``WebFetch``: the wire's ``bash`` and
``web_fetch`` are translated) and, failing that, the name as given. Events without a tool
(``UserPromptSubmit``, ``Stop``) ignore matchers, as the official SDK does.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from .._protocol.permissions import BUILTIN_TOOLS
from .types import HookCallback

__all__ = [
    "DEFAULT_TIMEOUT",
    "compile_matcher",
    "matcher_applies",
    "matching_callbacks",
    "mcp_names_matched",
    "official_tool_name",
]

DEFAULT_TIMEOUT: Final = 60.0
"""Seconds a callback may take when its matcher sets no ``timeout`` (the official default)."""

_SIMPLE: Final = re.compile(r"[A-Za-z0-9_|]+")
_OFFICIAL_NAMES: Final = {wire: official for official, wire in BUILTIN_TOOLS.items()}


def official_tool_name(name: str) -> str:
    """The official SDK's name of a tool (``bash`` -> ``Bash``); other names as they are."""
    return _OFFICIAL_NAMES.get(name, name)


@functools.lru_cache(maxsize=256)
def compile_matcher(matcher: str) -> frozenset[str] | re.Pattern[str] | None:
    """``None`` for "every tool", a set of exact names, or a compiled expression; raises
    ``ValueError`` for an invalid expression."""
    if matcher in ("", "*"):
        return None
    if _SIMPLE.fullmatch(matcher):
        return frozenset(matcher.split("|"))
    try:
        return re.compile(matcher)
    except re.error as error:
        text = f"hook matcher {matcher!r} is not a valid regular expression: {error}"
        raise ValueError(text) from None


def matcher_applies(matcher: str | None, tool_name: str) -> bool:
    """Whether a matcher selects ``tool_name`` (official name first, then as given)."""
    if matcher is None:
        return True
    compiled = compile_matcher(matcher)
    if compiled is None:
        return True
    names = {official_tool_name(tool_name), tool_name}
    if isinstance(compiled, frozenset):
        return not compiled.isdisjoint(names)
    return any(compiled.search(name) for name in names)


def mcp_names_matched(matcher: str | None) -> frozenset[str] | None:
    """The MCP tool names (``mcp__<server>__<tool>``) a matcher selects, when they can be
    listed: ``None`` when it may select any of them, which is the case for a catch-all and
    for an expression that mentions ``mcp`` or is found in ``mcp__`` (``"^mcp__docs__"``,
    ``".*"``), whose names cannot be listed before the agent calls them; else the MCP names
    given exactly (maybe none: ``"Bash"``, ``"^(Bash)$"``)."""
    if matcher is None:
        return None
    compiled = compile_matcher(matcher)
    if compiled is None:
        return None
    if isinstance(compiled, frozenset):
        return frozenset(name for name in compiled if name.startswith("mcp__"))
    if "mcp" in matcher.lower() or compiled.search("mcp__"):
        return None
    return frozenset()


def matching_callbacks(
    hooks: Mapping[str, Sequence[Any]] | None, event: str, tool_name: str | None = None
) -> list[tuple[HookCallback, float]]:
    """The callbacks ``event`` runs for ``tool_name`` (``None``: an event without a tool),
    each with its timeout, in registration order: matchers as listed, then each matcher's
    hooks. A matcher may be a :class:`~qoder.hooks.HookMatcher` or anything with
    ``matcher``, ``hooks`` and ``timeout`` (the official SDK's own)."""
    selected: list[tuple[HookCallback, float]] = []
    for entry in (hooks or {}).get(event) or ():
        pattern = getattr(entry, "matcher", None)
        if tool_name is not None and not matcher_applies(pattern, tool_name):
            continue
        timeout = getattr(entry, "timeout", None)
        for callback in getattr(entry, "hooks", None) or ():
            selected.append((callback, DEFAULT_TIMEOUT if timeout is None else float(timeout)))
    return selected
