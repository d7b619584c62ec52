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

import collections.abc
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Final, Literal, Union, overload

import attrs

from ._protocol.answers import (
    PermissionDecision,
    PermissionResultAllow,
    PermissionResultDeny,
    ToolPermissionContext,
    ToolResult,
)
from ._protocol.permissions import BUILTIN_TOOLS

__all__ = [
    "BUILTIN_TOOLS",
    "CustomTool",
    "PermissionDecision",
    "PermissionResultAllow",
    "PermissionResultDeny",
    "ToolPermissionContext",
    "ToolResult",
    "builtin_tool_name",
    "tool",
]


def builtin_tool_name(name: str) -> str | None:
    """The wire name of a built-in tool given in the official spelling (``"WebFetch"``) or in
    the wire spelling (``"web_fetch"``); ``None`` for a name that is not a built-in tool."""
    if name in BUILTIN_TOOLS:
        return BUILTIN_TOOLS[name]
    return name if name in BUILTIN_TOOLS.values() else None


_JSON_TYPES: Mapping[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    tuple: "array",
    set: "array",
    frozenset: "array",
    dict: "object",
    type(None): "null",
}
_ARRAYS: Final = (list, tuple, set, frozenset, collections.abc.Sequence, collections.abc.Set)
_OBJECTS: Final = (dict, collections.abc.Mapping)
_REQUIRED_MARKS: Final = ("Required", "NotRequired")


def _optional_of(annotation: Any) -> Any | None:
    """``X`` for ``Optional[X]`` / ``X | None`` (``Annotated`` kept), else ``None``."""
    if typing.get_origin(annotation) not in (Union, types.UnionType):
        return None
    args = typing.get_args(annotation)
    options = [arg for arg in args if arg is not type(None)]
    if len(options) == 1 and len(args) == 2:
        return options[0]
    return None


def _schema_for(annotation: Any) -> dict[str, Any]:
    """The JSON Schema of one type hint: ``Literal`` -> ``enum``, ``Annotated[T, "text"]``
    -> a ``description``, a TypedDict -> an object, ``list[X]`` -> ``items``, ``X | None``
    -> ``anyOf`` with ``null``; a hint with no JSON equivalent (``Any``) -> ``{}``."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is Annotated:
        schema = _schema_for(args[0])
        texts = [meta for meta in args[1:] if isinstance(meta, str)]
        return {**schema, "description": texts[0]} if texts else schema
    if origin is Literal:
        kinds = {_JSON_TYPES.get(type(value)) for value in args}
        kind = kinds.pop() if len(kinds) == 1 else None
        return {"type": kind, "enum": list(args)} if kind else {"enum": list(args)}
    if origin in (Union, types.UnionType):
        return {"anyOf": [_schema_for(arg) for arg in args]}
    if _is_typeddict(annotation):
        return _object_schema(_typeddict_fields(annotation))
    if origin is not None and args:
        return _generic_schema(origin, args)
    kind = _JSON_TYPES.get(origin if origin is not None else annotation)
    return {"type": kind} if kind else {}


def _is_typeddict(annotation: Any) -> bool:
    """A TypedDict class, from :mod:`typing` or from ``typing_extensions`` (whose classes
    :func:`typing.is_typeddict` does not know)."""
    return isinstance(annotation, type) and (
        typing.is_typeddict(annotation)
        or (issubclass(annotation, dict) and hasattr(annotation, "__required_keys__"))
    )


def _generic_schema(origin: Any, args: tuple[Any, ...]) -> dict[str, Any]:
    """``list[X]``, ``tuple[X, ...]``, ``dict[str, X]`` and the like."""
    if origin in _ARRAYS or (isinstance(origin, type) and issubclass(origin, _ARRAYS)):
        return {"type": "array", "items": _schema_for(args[0])}
    if origin in _OBJECTS or (isinstance(origin, type) and issubclass(origin, _OBJECTS)):
        values = args[1] if len(args) == 2 else Any
        extra = _schema_for(values)
        return {"type": "object", "additionalProperties": extra} if extra else {"type": "object"}
    kind = _JSON_TYPES.get(origin)
    return {"type": kind} if kind else {}


def _field_schema(annotation: Any) -> tuple[dict[str, Any], bool]:
    """A property's schema, and whether it may be left out (its hint is ``X | None``)."""
    inner = _optional_of(annotation)
    if inner is None:
        return _schema_for(annotation), False
    return _schema_for(inner), True


def _typeddict_fields(cls: Any) -> dict[str, tuple[Any, bool]]:
    """Each key of a TypedDict: its hint, and whether it is required (``Required`` /
    ``NotRequired`` read from the hint too: under ``from __future__ import annotations``
    ``__required_keys__`` may not know them)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    required: frozenset[str] = getattr(cls, "__required_keys__", frozenset(hints))
    fields: dict[str, tuple[Any, bool]] = {}
    for name, hint in hints.items():
        mark = getattr(typing.get_origin(hint), "_name", None)  # typing or typing_extensions
        if mark in _REQUIRED_MARKS:
            fields[name] = (typing.get_args(hint)[0], mark == "Required")
        else:
            fields[name] = (hint, name in required)
    return fields


def _object_schema(fields: Mapping[str, tuple[Any, bool]]) -> dict[str, Any]:
    """An object of named fields (hint, required); an ``X | None`` field is optional."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, (hint, must) in fields.items():
        properties[name], optional = _field_schema(hint)
        if must and not optional:
            required.append(name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _is_type_map(schema: Any) -> bool:
    """Whether ``schema`` is the official SDK's ``{"name": type}`` form (not a JSON Schema):
    every value is a type or a typing construct, where a JSON Schema has strings and dicts."""
    return isinstance(schema, Mapping) and all(
        isinstance(value, type) or typing.get_origin(value) is not None or value is Any
        for value in schema.values()
    )


_JSON_SCHEMA_KEYS: Final = frozenset(
    (
        *("type", "properties", "required", "items", "enum", "const", "format", "default"),
        *("anyOf", "oneOf", "allOf", "not", "$ref", "$defs", "definitions", "$schema", "$id"),
        *("description", "title", "examples", "additionalProperties", "patternProperties"),
    )
)


def _check_json_schema(schema: Mapping[str, Any]) -> None:
    """Refuse what is neither a ``{"name": type}`` map nor a JSON Schema: a map mixing types
    and other values, or one whose keys are no JSON Schema keyword (``{"city": "string"}``)."""
    if any(isinstance(value, type) for value in schema.values()):
        raise TypeError(
            "input_schema mixes Python types and other values; give every parameter a type "
            "({'city': str, 'days': int}) or pass a whole JSON Schema"
        )
    if not any(key in _JSON_SCHEMA_KEYS for key in schema):
        raise TypeError(
            f"input_schema {dict(schema)!r} is neither a map of name -> Python type nor a JSON "
            "Schema: write {'city': str}, or {'type': 'object', 'properties': {'city': "
            "{'type': 'string'}}}"
        )


def schema_of(input_schema: type[Any] | Mapping[str, Any]) -> dict[str, Any]:
    """The JSON Schema of an ``input_schema`` as ``@tool`` takes it: a ``{"name": type}``
    dict, a TypedDict, or a JSON Schema (returned as it is)."""
    if _is_typeddict(input_schema):
        return _object_schema(_typeddict_fields(input_schema))
    if _is_type_map(input_schema):
        assert isinstance(input_schema, Mapping)
        return _object_schema({name: (hint, True) for name, hint in input_schema.items()})
    if isinstance(input_schema, Mapping):
        _check_json_schema(input_schema)
        return dict(input_schema)
    raise TypeError(
        "input_schema must be a dict of name -> type, a TypedDict or a JSON Schema dict, "
        f"not {type(input_schema).__name__}"
    )


def _infer_schema(func: Callable[..., Any]) -> dict[str, Any]:
    """A JSON schema of the function's parameters, from their type hints; a parameter
    without a default is required."""
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception as error:  # an unresolvable forward reference, most often
        raise TypeError(
            f"@tool cannot read the type hints of {_name_of(func)} ({error}); import the "
            "types it names, or pass input_schema= explicitly"
        ) from error
    params = [
        param
        for param in inspect.signature(func).parameters.values()
        if param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD)
    ]
    schema = _object_schema({param.name: (hints.get(param.name, Any), False) for param in params})
    required = [param.name for param in params if param.default is param.empty]
    if required:
        schema["required"] = required
    return schema


def _takes_one_args_dict(handler: Callable[..., Any]) -> bool:
    """Whether the handler's only parameter is ``args`` (the official SDK's handler)."""
    try:
        params = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):
        return False
    return (
        len(params) == 1
        and params[0].name == "args"
        and params[0].kind
        in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        )
    )


def _name_of(func: object) -> str:
    """A function's name for a message, whatever ``func`` is."""
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)


def _check_tool_name(name: object) -> None:
    """A tool's name: a non-empty string without white space."""
    if not isinstance(name, str):
        raise TypeError(f"a tool's name must be a string, not {type(name).__name__}")
    if not name or any(char.isspace() for char in name):
        raise ValueError(
            f"a tool's name must be a non-empty word such as 'get_weather', not {name!r}"
        )


def _check_handler(handler: object) -> None:
    """What ``@tool`` decorates: a function (sync or async)."""
    if not callable(handler):
        raise TypeError(
            f"@tool decorates a function (sync or async), not {type(handler).__name__}; put "
            "@tool on the line above a def"
        )


def _check_tool_arguments(name: object, description: object, input_schema: object) -> None:
    """The arguments of ``tool()``, checked before anything is decorated."""
    if name is not None:
        _check_tool_name(name)
    if description is not None and not isinstance(description, str):
        raise TypeError(f"tool(description=...) must be a string, not {type(description).__name__}")
    if input_schema is not None and not (
        isinstance(input_schema, Mapping) or _is_typeddict(input_schema)
    ):
        raise TypeError(
            "tool(input_schema=...) must be a dict of name -> type, a TypedDict or a JSON "
            f"Schema dict, not {type(input_schema).__name__}"
        )


@attrs.frozen
class CustomTool:
    """A client-side tool: its declaration for the agent, and the handler that runs it.

    ``takes_args``: the handler is called with the input as one dict (the official SDK's
    ``handler(args)``), else with the input as keyword arguments.
    """

    name: str = attrs.field(validator=lambda _, __, value: _check_tool_name(value))
    description: str = attrs.field(validator=attrs.validators.instance_of(str))
    input_schema: dict[str, Any] = attrs.field(validator=attrs.validators.instance_of(dict))
    handler: Callable[..., Any] = attrs.field(
        repr=False, validator=lambda _, __, value: _check_handler(value)
    )
    takes_args: bool = False

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


InputSchema = type[Any] | Mapping[str, Any]
"""What ``@tool`` takes as ``input_schema``: a ``{"name": type}`` dict, a TypedDict, or a
JSON Schema dict (used as it is)."""


@overload
def tool(
    func: Callable[..., Any],
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    input_schema: InputSchema | None = None,
    annotations: Any = None,
) -> CustomTool: ...


@overload
def tool(
    name: str,
    /,
    description: str,
    input_schema: InputSchema,
    annotations: Any = None,
) -> Callable[[Callable[[dict[str, Any]], Any]], CustomTool]: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    input_schema: InputSchema | None = None,
    annotations: Any = None,
) -> Callable[[Callable[..., Any]], CustomTool]: ...


def tool(
    func: Callable[..., Any] | str | None = None,
    description: str | None = None,
    input_schema: InputSchema | None = None,
    annotations: Any = None,
    *,
    name: str | None = None,
) -> CustomTool | Callable[[Callable[..., Any]], CustomTool]:
    """Declare a client-side tool, in either form.

    The official SDK's: ``@tool("greet", "Greet a user", {"name": str})`` over
    ``async def greet(args)``: the handler gets the input as one dict and returns
    ``{"content": [{"type": "text", "text": ...}], "is_error": False}``. ``input_schema`` is a
    ``{"name": type}`` dict, a TypedDict (``Annotated[T, "text"]`` describes a field) or a
    JSON Schema used as it is; ``annotations`` is accepted and not used.

    This library's: bare ``@tool`` or ``@tool(description=...)`` over a function whose typed
    parameters are the input (called with keyword arguments, returning a string, content
    blocks or a :class:`ToolResult`). ``name`` defaults to the function's name,
    ``description`` to its docstring, ``input_schema`` to one inferred from the type hints.

    The handler takes the input as one dict when the name is given positionally, when
    ``input_schema`` is a type map or a TypedDict, or when a JSON Schema is given and the
    handler's only parameter is ``args``.
    """
    if isinstance(func, str):
        name, func, positional = func, None, True
    else:
        positional = False
    if func is not None:
        _check_handler(func)
    _check_tool_arguments(name, description, input_schema)
    del annotations  # MCP tool annotations: nothing on this wire takes them

    def wrap(handler: Callable[..., Any]) -> CustomTool:
        _check_handler(handler)
        explicit = input_schema is not None
        takes_args = positional or (
            explicit
            and (
                not isinstance(input_schema, Mapping)
                or _is_type_map(input_schema)
                or _takes_one_args_dict(handler)
            )
        )
        tool_name = name or getattr(handler, "__name__", None)
        if not tool_name:
            raise TypeError(f"{handler!r} has no __name__: pass @tool(name='...')")
        return CustomTool(
            name=tool_name,
            description=description or inspect.getdoc(handler) or "",
            input_schema=schema_of(input_schema)
            if input_schema is not None
            else _infer_schema(handler),
            handler=handler,
            takes_args=takes_args,
        )

    return wrap(func) if func is not None else wrap
