"""The default agent's tool calls: the client's custom tools and the built-in ones.

Custom tools (``{"type": "custom", "name", "input_schema"}`` entries of the session's agent) are
called when the prompt names one as a word ("use the add tool to add 15 and 27"). The arguments
come from the first JSON object in the prompt; without one, from the numbers of the prompt (in
order, to the schema's ``number``/``integer`` properties) and its quoted texts (in order, to
its ``string`` properties; with no quoted text, the capitalised words after the first word).

A tool of one of the agent's own MCP servers (an ``mcp_servers`` entry of the session's agent,
which the agent calls itself) is called when the prompt names it as ``mcp__<server>__<tool>``,
with the first JSON object of the prompt as its input, under that server's ``mcp_toolset``
(``agent.mcp_tool_use``, then ``agent.mcp_tool_result``); the emulator reaches no server, so
the result is a stand-in that says so.

Built-in tools are called for "run the command `ls -la`" / "run ls" (``bash``), "read the file
README.md" (``read``) and "write hello to the file notes.txt" (``write``), with the session's
toolset deciding (docs/protocol.md §8.3): ``always_ask`` asks the client first, ``always_allow``
runs at once, a tool the toolset leaves off (or an agent with no toolset) is refused in words.
Tool outputs are fakes, reproducible and plausible.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from qoder.testing._policy import refusal, tool_permission
from qoder.testing._script import CustomToolUse, Reply, Step, ToolOutcome, ToolUse, TurnContext

__all__ = ["builtin_tool_steps", "custom_tool_steps", "mcp_tool_steps", "tool_arguments"]

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.]*\w)")
_QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|`([^`]+)`|(?<!\w)'([^']+)'(?!\w)")
_CAPITALISED = re.compile(r"\b[A-Z][\w-]*")


# -- custom tools ----------------------------------------------------------------------------


def _named(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])", re.IGNORECASE)


def _named_tool(tools: tuple[Mapping[str, Any], ...], prompt: str) -> Mapping[str, Any] | None:
    """The custom tool the prompt names first (the longer name when two start together)."""
    found = []
    for tool in tools:
        match = _named(str(tool["name"])).search(prompt)
        if match is not None:
            found.append((match.start(), -len(str(tool["name"])), tool))
    return min(found, key=lambda item: item[:2])[2] if found else None


def _json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object written in ``text``."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _numbers(text: str) -> list[str]:
    return _NUMBER.findall(text)


def _quoted(text: str) -> list[str]:
    return [next(group for group in match.groups() if group) for match in _QUOTED.finditer(text)]


def _capitalised(text: str) -> list[str]:
    words = _CAPITALISED.findall(text)
    return [word for word in words[1:] if word != "I"]


def _number_value(raw: str, kind: str) -> int | float:
    value = float(raw)
    return int(value) if kind == "integer" or "." not in raw else value


def tool_arguments(schema: Any, prompt: str, *, name: str = "") -> dict[str, Any]:
    """The arguments of a custom tool call read from ``prompt`` (see the module docstring);
    ``name`` (the tool's) is not read as an argument."""
    given = _json_object(prompt)
    if given is not None:
        return given
    text = _named(name).sub(" ", prompt) if name else prompt
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(properties, Mapping):
        return {}
    numbers, texts = _numbers(text), _quoted(text) or _capitalised(text)
    arguments: dict[str, Any] = {}
    for key, spec in properties.items():
        kind = spec.get("type") if isinstance(spec, Mapping) else None
        if kind in ("number", "integer") and numbers:
            arguments[str(key)] = _number_value(numbers.pop(0), str(kind))
        elif kind == "string" and texts:
            arguments[str(key)] = texts.pop(0)
    return arguments


def _custom_answer(name: str, context: TurnContext) -> str:
    outcome = context.outcomes[-1] if context.outcomes else None
    if outcome is None:
        return f"The {name} tool gave no answer."
    text = outcome.text.strip()
    if outcome.is_error:
        return f"The {name} tool failed: {text or 'no details given'}"
    return f"The {name} tool returned {text or 'nothing'}" + ("" if text[-1:] in ".!?" else ".")


def custom_tool_steps(context: TurnContext, prompt: str) -> list[Step] | None:
    """Call the custom tool the prompt names, then say what it returned; ``None`` if the
    prompt names none of the session's custom tools."""
    tool = _named_tool(context.agent.custom_tools, prompt)
    if tool is None:
        return None
    name = str(tool["name"])
    arguments = tool_arguments(tool.get("input_schema"), prompt, name=name)
    return [CustomToolUse(name, arguments), Reply(lambda turn: _custom_answer(name, turn))]


# -- the agent's own MCP servers ---------------------------------------------------------------


def _named_mcp_tool(context: TurnContext, prompt: str) -> tuple[str, str] | None:
    """(server, tool) of the first ``mcp__<server>__<tool>`` in ``prompt`` whose server is one
    of the agent's ``mcp_servers`` (the longer server name when two could match)."""
    found = []
    for server in {str(entry["name"]) for entry in context.agent.mcp_servers if entry.get("name")}:
        match = re.search(rf"(?<![\w-])mcp__{re.escape(server)}__([\w-]+)", prompt)
        if match is not None:
            found.append((match.start(), -len(server), server, match[1]))
    return min(found)[2:] if found else None


def _mcp_ran(label: str, outcome: ToolOutcome) -> str:
    if outcome.denied:
        return f'The {label} tool was denied, so I did not use it: "{outcome.text}"'
    return f"The {label} tool returned: {outcome.text}"


def mcp_tool_steps(context: TurnContext, prompt: str) -> list[Step] | None:
    """Call the tool of the agent's own MCP server that the prompt names, under that server's
    toolset, then say what it returned; ``None`` if the prompt names none."""
    named = _named_mcp_tool(context, prompt)
    if named is None:
        return None
    server, name = named
    label = f"mcp__{server}__{name}"
    tool_input = _json_object(prompt) or {}
    output = f"(the emulator's stand-in for {name} of the {server} MCP server: no server ran)"
    step = ToolUse(name, tool_input, result=output, mcp_server_name=server)
    return _under_toolset(step, context, lambda outcome: _mcp_ran(label, outcome))


def _under_toolset(
    step: ToolUse, context: TurnContext, answer: Callable[[ToolOutcome], str]
) -> list[Step]:
    """``step`` with the permission the session's toolset gives it, then the reply ``answer``
    makes of its outcome; or, when the toolset leaves the tool off (or there is none for
    it), the reply that refuses it."""
    permission = tool_permission(step, context.agent)
    if permission is None:
        return [Reply(refusal(step, context.agent))]
    return [replace(step, permission=permission), Reply(lambda turn: answer(turn.outcomes[-1]))]


# -- built-in tools --------------------------------------------------------------------------

_RUN = re.compile(
    r"\b(?:run|execute)\s+(?:the\s+|this\s+)?(?:(?:shell|bash)\s+)?(?:command\s+)?(?P<rest>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_RUN_LEAD = re.compile(r"^\W*(?:(?:please|can you|could you|now|then)\s+)*(?:run|execute)\b", re.I)
_READ = re.compile(
    r"\b(?:read|open|show me)\s+(?:the\s+)?(?P<file>file\s+)?[`\"']?(?P<path>[\w~./-]+)[`\"']?",
    re.IGNORECASE,
)
_WRITE = re.compile(
    r"\bwrite\s+(?P<content>.+?)\s+(?:to|into|in)\s+(?:the\s+)?(?P<file>file\s+)?"
    r"[`\"']?(?P<path>[\w~./-]+?)[`\"']?\s*[.!?]?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_ARITHMETIC = re.compile(r"\$\(\(\s*(-?\d+)\s*([-+*/])\s*(-?\d+)\s*\)\)")
_LISTING = "README.md\nnotes.txt\nsrc"
_LONG_LISTING = (
    "total 12\n"
    "drwxr-xr-x 3 agent agent 4096 Jan  5 12:00 .\n"
    "drwxr-xr-x 1 root  root  4096 Jan  5 12:00 ..\n"
    "-rw-r--r-- 1 agent agent  220 Jan  5 12:00 README.md\n"
    "-rw-r--r-- 1 agent agent   42 Jan  5 12:00 notes.txt\n"
    "drwxr-xr-x 2 agent agent 4096 Jan  5 12:00 src"
)
_FIXED_OUTPUTS = {
    "pwd": "/workspace",
    "whoami": "agent",
    "date": "Mon Jan  5 12:00:00 UTC 2026",
    "ls": _LISTING,
}


def _strip_quotes(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        return text[1:-1]
    return text


def _command(prompt: str) -> str | None:
    """The shell command a prompt asks to run, or ``None``."""
    match = _RUN.search(prompt)
    if match is None:
        return None
    rest = match["rest"]
    quoted = _quoted(rest)
    if quoted:
        return quoted[0]
    if _RUN_LEAD.search(prompt) is None and not re.search(r"\b(bash|shell)\b", prompt, re.I):
        return None  # "run" in passing ("how long does it run") is no request
    command = re.sub(r"\s+(?:please|for me)\s*$", "", rest.strip().rstrip(".!?").strip())
    return command or None


def _echo(arguments: str) -> str:
    def evaluate(match: re.Match[str]) -> str:
        left, operator, right = int(match[1]), match[2], int(match[3])
        if operator == "/":
            return str(left // right) if right else "0"
        return str({"+": left + right, "-": left - right, "*": left * right}[operator])

    return _ARITHMETIC.sub(evaluate, _strip_quotes(arguments))


def bash_output(command: str) -> str:
    """The fake output of a shell command."""
    program, _, arguments = command.strip().partition(" ")
    if program == "echo":
        return _echo(arguments)
    if program == "ls" and any(flag.startswith("-") and "l" in flag for flag in arguments.split()):
        return _LONG_LISTING
    if program in _FIXED_OUTPUTS:
        return _FIXED_OUTPUTS[program]
    return f"(the emulator ran `{command}`; it printed nothing, exit status 0)"


def _file_contents(path: str) -> str:
    return f"# {path}\n\nThe emulator's stand-in for {path}: no real file was read."


def _ran(name: str, tool_input: dict[str, Any], outcome: ToolOutcome) -> str:
    """What the agent says once a built-in tool ran (or was refused)."""
    if outcome.denied:
        return f'The {name} tool was denied, so I did not use it: "{outcome.text}"'
    if name == "bash":
        return f"I ran `{tool_input['command']}`. Its output:\n{outcome.text}"
    if name == "read":
        return f"Here is {tool_input['file_path']}:\n{outcome.text}"
    return f"I wrote {tool_input['file_path']}. The write tool said: {outcome.text}"


def _builtin_intent(prompt: str) -> tuple[str, dict[str, Any], str] | None:
    """(tool, input, fake result) of the built-in tool the prompt asks for, or ``None``."""
    write = _WRITE.search(prompt)
    if write is not None and (write["file"] or re.search(r"[./]", write["path"])):
        content, path = _strip_quotes(write["content"]), write["path"]
        size = len(content.encode())
        return "write", {"file_path": path, "content": content}, f"Wrote {size} bytes to {path}."
    command = _command(prompt)
    if command is not None:
        return "bash", {"command": command}, bash_output(command)
    read = _READ.search(prompt)
    if read is not None and (read["file"] or re.search(r"[./]", read["path"])):
        path = read["path"].rstrip(".")
        return "read", {"file_path": path}, _file_contents(path)
    return None


def builtin_tool_steps(context: TurnContext, prompt: str) -> list[Step] | None:
    """Use the built-in tool the prompt asks for, under the session's toolset; ``None`` if it
    asks for none."""
    intent = _builtin_intent(prompt)
    if intent is None:
        return None
    name, tool_input, output = intent
    step = ToolUse(name, tool_input, result=output)
    return _under_toolset(step, context, lambda outcome: _ran(name, tool_input, outcome))
