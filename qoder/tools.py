"""Client-side tools and tool permissions.

A *custom tool* is a Python function the agent may call: declare it with :func:`tool`, list it in
``QoderAgentOptions(tools=[...])`` (and in the agent's ``tools`` when the client creates the
agent, which :class:`~qoder.AgentSpec` does for you), and the client runs it when an
``agent.custom_tool_use`` arrives and posts the result back, in both facades::

    @tool(description="Current weather for a city")
    def get_weather(city: str) -> str:
        return "18°C, sunny"

The handler is called with the tool input as keyword arguments. It may be sync or async; it may
return a string, a list of content blocks, or a :class:`ToolResult`. An exception becomes an
error result the agent sees (``is_error: true``); it is not raised into the conversation.

*Permissions*: a built-in or MCP tool call whose ``evaluated_permission`` is ``"ask"`` waits for
a decision. With ``QoderAgentOptions(can_use_tool=...)`` the client asks that callback and posts
the answer; it returns :class:`PermissionResultAllow`, :class:`PermissionResultDeny` or a bool.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Union

import attrs

from ._protocol.answers import (
    PermissionDecision,
    PermissionResultAllow,
    PermissionResultDeny,
    ToolPermissionContext,
    ToolResult,
)

__all__ = [
    "CustomTool",
    "PermissionDecision",
    "PermissionResultAllow",
    "PermissionResultDeny",
    "ToolPermissionContext",
    "ToolResult",
    "tool",
]


_JSON_TYPES: Mapping[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    tuple: "array",
    dict: "object",
}


def _schema_for(annotation: Any) -> dict[str, Any]:
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(options) == 1:
            return _schema_for(options[0])
        return {}
    base = origin if origin is not None else annotation
    kind = _JSON_TYPES.get(base)
    return {"type": kind} if kind else {}


def _infer_schema(func: Callable[..., Any]) -> dict[str, Any]:
    """A JSON schema of the function's parameters, from their type hints."""
    hints = typing.get_type_hints(func)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, param in inspect.signature(func).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        properties[name] = _schema_for(hints.get(name, Any))
        if param.default is param.empty:
            required.append(name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


@attrs.frozen
class CustomTool:
    """A client-side tool: its declaration for the agent, and the handler that runs it."""

    name: str
    description: str
    input_schema: dict[str, Any]
    handler: Callable[..., Any] = attrs.field(repr=False)

    @property
    def is_async(self) -> bool:
        """Whether the handler is a coroutine function."""
        return inspect.iscoroutinefunction(self.handler)

    def to_agent_tool(self) -> dict[str, Any]:
        """The ``{"type": "custom", ...}`` entry for an agent's ``tools``."""
        return {
            "type": "custom",
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_schema,
        }

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.handler(*args, **kwargs)


def tool(
    func: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    input_schema: dict[str, Any] | None = None,
) -> Any:
    """Declare a client-side tool; usable bare (``@tool``) or with arguments.

    ``name`` defaults to the function's name, ``description`` to its docstring, and
    ``input_schema`` is inferred from the parameters' type hints when not given.
    """

    def wrap(handler: Callable[..., Any]) -> CustomTool:
        return CustomTool(
            name=name or handler.__name__,
            description=description or inspect.getdoc(handler) or "",
            input_schema=input_schema if input_schema is not None else _infer_schema(handler),
            handler=handler,
        )

    return wrap(func) if func is not None else wrap
