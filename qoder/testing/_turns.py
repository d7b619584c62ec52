"""Playing one turn of a :class:`ScriptedAgent` on a session (docs/protocol.md §6.8, §6.7, §3.9).

Per model request: ``span.model_request_start`` → [``agent.thinking``] → ``agent.message`` /
tool-use events → ``span.model_request_end`` → [``agent.tool_result``]; the turn opens with
``session.status_running`` and ends with ``session.status_idle``. A turn runs synchronously until
it ends or blocks: on a tool that needs the client (idle ``requires_action``), on a
:class:`Hold` (still ``running``) or on a :class:`Wait` (still ``running``, until a timer fires).
Tool uses without a permission of their own follow the session's toolsets when reached
(docs/protocol.md §8.3); between model requests a spent budget ends the turn with
``budget_reached``. Every method runs with the cloud's lock held.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from qoder.testing._policy import resolve_tool_use
from qoder.testing._resources import SessionRecord
from qoder.testing._script import (
    CustomToolUse,
    Emit,
    Exchange,
    Hold,
    Reply,
    SessionError,
    Step,
    Stop,
    Think,
    ToolOutcome,
    ToolUse,
    TurnContext,
    Usage,
    Wait,
)
from qoder.testing._snapshot import AgentSnapshot
from qoder.testing._usage import model_usage, words

__all__ = ["Cancellable", "Emitter", "Scheduler", "Turn", "content_text"]

Emitter = Callable[[str, dict[str, Any]], dict[str, Any]]
"""Persists an event of the turn (type, fields) and returns it."""


class Cancellable(Protocol):
    """A scheduled call that can still be called off (``threading.Timer``)."""

    def cancel(self) -> None:
        """Call it off (no effect once it has run)."""


Scheduler = Callable[[float, Callable[[], None]], Cancellable]
"""Runs a callback after some seconds, with the cloud's lock held."""

_ERROR_DEFAULTS = {
    "retrying": ("model_overloaded_error", "Model overloaded; retrying."),
    "exhausted": ("model_request_failed_error", "Model request failed after retries."),
    "terminal": ("unknown_error", "The session hit an unrecoverable error."),
}


def content_text(content: Any) -> str:
    """The text of a content value: a string, or the ``text`` blocks of a list, joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(block.get("text", ""))
            for block in content
            if isinstance(block, dict) and block.get("type") == "text"
        )
    return ""


@dataclass
class _Span:
    start_id: str
    words: int = 0
    usage: Usage | None = None


@dataclass
class _Pending:
    step: ToolUse | CustomToolUse
    event: dict[str, Any]
    answer: dict[str, Any] | None = None


@dataclass
class Turn:
    """The state of one turn: where the script is, what is pending, what is open."""

    session: SessionRecord
    turn_id: str | None
    steps: list[Step]
    context: TurnContext
    default_model: str
    """The model named when the session's agent names none (the scripted agent's)."""
    emit: Emitter
    schedule: Scheduler | None = None
    """Where a :class:`Wait` arms its timer (without one, a wait holds until released)."""
    held: bool = False
    finished: bool = False
    pending: dict[str, _Pending] = field(default_factory=dict)
    _answered: list[_Pending] = field(default_factory=list)
    _pc: int = 0
    _span: _Span | None = None
    _next_usage: Usage | None = None
    _requests: int = 0
    _text: list[str] = field(default_factory=list)
    _timer: Cancellable | None = None

    # -- entry points ---------------------------------------------------------------------

    def start(self) -> None:
        """Open the turn and play it until it ends or blocks."""
        self._running()
        self._play()

    def pending_kind(self, event_id: str) -> Literal["custom", "confirmation"] | None:
        """What answer the pending event ``event_id`` needs, or ``None`` if it is not pending."""
        pending = self.pending.get(event_id)
        if pending is None:
            return None
        return "custom" if isinstance(pending.step, CustomToolUse) else "confirmation"

    def answer(self, event_id: str, answer: dict[str, Any]) -> None:
        """Record the client's answer to a pending event; resume once all are answered."""
        pending = self.pending.pop(event_id)
        pending.answer = answer
        self._answered.append(pending)
        if isinstance(pending.step, CustomToolUse):
            self.context.outcomes.append(
                ToolOutcome(
                    event_id,
                    pending.step.name,
                    pending.step.input,
                    content_text(answer.get("content")),
                    bool(answer.get("is_error", False)),
                )
            )
        if self.pending:
            self._idle({"type": "requires_action", "event_ids": list(self.pending)})
            return
        self._running()
        answered, self._answered = self._answered, []
        for item in answered:
            if isinstance(item.step, ToolUse) and item.answer is not None:
                allowed = item.answer.get("result") == "allow"
                denial = item.answer.get("deny_message") or "The user denied this tool call."
                self._tool_result(item.step, item.event, allowed=allowed, denial=str(denial))
        self._play()

    def release(self) -> None:
        """Continue after a :class:`Hold` or a :class:`Wait` (which ends early)."""
        self._stop_waiting()
        self._play()

    def abort(self) -> None:
        """Interrupt or cancel: close the open span as failed and idle with ``end_turn``."""
        self._stop_waiting()
        self.pending.clear()
        self._answered.clear()
        self._close_span(is_error=True)
        self._finish("end_turn")

    def discard(self) -> None:
        """Drop the turn without a word (its session was deleted, or a new turn replaced it)."""
        self._stop_waiting()
        self.finished = True

    def refresh_agent(self) -> AgentSnapshot:
        """The session's agent as of now, also shown to the script (``context.agent``)."""
        self.context.agent = AgentSnapshot.of(self.session.agent, self.default_model)
        return self.context.agent

    # -- playing steps ----------------------------------------------------------------------

    def _play(self) -> None:
        while self._pc < len(self.steps) and not self.finished:
            if self._span is None and self.session.budget_spent:
                self._finish("budget_reached")  # no further model request (§3.3, §4.13)
                return
            step = self._resolved(self._pc)
            if self._blocks(step):
                self._request_action()
                return
            self._pc += 1
            if isinstance(step, (Hold, Wait)):
                self._hold(step)
                if self.held:
                    return
                continue
            self._play_step(step)
        if not self.finished:
            self._finish("end_turn")

    def _resolved(self, index: int) -> Step:
        """The step at ``index``, a tool use's permission settled by the session's toolsets."""
        step = self.steps[index]
        if isinstance(step, ToolUse) and step.permission is None:
            step = self.steps[index] = resolve_tool_use(step, self.refresh_agent())
        return step

    def _hold(self, step: Hold | Wait) -> None:
        """Stay running: until released (:class:`Hold`), or for a while (:class:`Wait`)."""
        if isinstance(step, Wait) and step.seconds <= 0:
            return
        self.held = True
        if isinstance(step, Wait) and self.schedule is not None:
            timer: Cancellable | None = None

            def wake() -> None:
                if self._timer is timer and self.held and not self.finished:
                    self.release()

            timer = self._timer = self.schedule(step.seconds, wake)

    def _stop_waiting(self) -> None:
        self.held = False
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def _play_step(self, step: Step) -> None:
        """Play one step that neither blocks on the client nor holds the turn."""
        if isinstance(step, Reply):
            self._reply(step)
        elif isinstance(step, Think):
            self._think(step)
        elif isinstance(step, ToolUse):
            self._tool_use(step)
        elif isinstance(step, SessionError):
            self._session_error(step)
        elif isinstance(step, Usage):
            self._usage(step)
        elif isinstance(step, Stop):
            self._finish(step.reason)
        elif isinstance(step, Emit):
            self.emit(step.type, dict(step.fields))

    def _reply(self, step: Reply) -> None:
        self._open_span()
        for part in step.parts:
            text = self.context.render(part)
            self._text.append(text)
            self._spoke(text)
            self.emit("agent.message", {"content": [{"type": "text", "text": text}]})

    def _think(self, step: Think) -> None:
        self._open_span()
        self._spoke(step.text or "")
        self.emit("agent.thinking", {} if step.text is None else {"thinking": step.text})

    def _tool_use(self, step: ToolUse) -> None:
        """A built-in tool run unasked: its use ends the model request, its result follows."""
        self._open_span()
        event = self.emit(_use_type(step), self._tool_fields(step))
        self._close_span()
        self._tool_result(step, event, allowed=step.permission == "allow")

    def _usage(self, step: Usage) -> None:
        """Set the usage of the open model request, or else of the next one."""
        if self._span is not None:
            self._span.usage = step
        else:
            self._next_usage = step

    @staticmethod
    def _blocks(step: Step) -> bool:
        return isinstance(step, CustomToolUse) or (
            isinstance(step, ToolUse) and step.permission == "ask"
        )

    def _request_action(self) -> None:
        """Emit the run of blocking tool calls at ``_pc`` in one model request, then idle."""
        self._open_span()
        while self._pc < len(self.steps) and self._blocks(step := self._resolved(self._pc)):
            assert isinstance(step, (ToolUse, CustomToolUse))
            self._pc += 1
            if isinstance(step, CustomToolUse):
                fields = {"name": step.name, "input": dict(step.input)}
                event = self.emit("agent.custom_tool_use", fields)
            else:
                event = self.emit(_use_type(step), self._tool_fields(step))
            self.pending[event["id"]] = _Pending(step, event)
        self._close_span()
        self._idle({"type": "requires_action", "event_ids": list(self.pending)})

    @staticmethod
    def _tool_fields(step: ToolUse) -> dict[str, Any]:
        fields: dict[str, Any] = {"name": step.name, "input": dict(step.input)}
        if step.mcp_server_name is not None:
            fields["mcp_server_name"] = step.mcp_server_name
        fields["evaluated_permission"] = step.permission or "allow"
        return fields

    def _tool_result(
        self, step: ToolUse, event: dict[str, Any], *, allowed: bool, denial: str = ""
    ) -> None:
        if allowed:
            text, is_error = self.context.render(step.result), step.is_error
        else:
            text, is_error = denial or "Permission denied for this tool.", True
        self.context.outcomes.append(
            ToolOutcome(event["id"], step.name, step.input, text, is_error, denied=not allowed)
        )
        is_mcp = step.mcp_server_name is not None
        result = {
            "mcp_tool_use_id" if is_mcp else "tool_use_id": event["id"],
            "content": [{"type": "text", "text": text}],
            "is_error": is_error,
        }
        self.emit("agent.mcp_tool_result" if is_mcp else "agent.tool_result", result)

    def _session_error(self, step: SessionError) -> None:
        default_type, default_message = _ERROR_DEFAULTS[step.retry_status]
        self._close_span(is_error=True)
        error = {
            "type": step.error_type or default_type,
            "message": step.message or default_message,
            "retry_status": {"type": step.retry_status},
        }
        self.emit("session.error", {"error": error})
        if step.retry_status == "retrying":
            self.session.status = "rescheduling"
            self.emit("session.status_rescheduled", {})
            self._running()
        elif step.retry_status == "exhausted":
            self._finish("retries_exhausted")
        else:
            self.session.status = "terminated"
            self.emit("session.status_terminated", {})
            self._end()
            self.session.log.close()

    # -- spans, status, end -----------------------------------------------------------------

    def _open_span(self) -> None:
        if self._span is None:
            model = self.refresh_agent().model  # a session update applies from here (§8.2)
            event = self.emit("span.model_request_start", {"model": model})
            self._span = _Span(event["id"], usage=self._next_usage)
            self._next_usage = None

    def _spoke(self, text: str) -> None:
        if self._span is not None:
            self._span.words += words(text)

    def _close_span(self, *, is_error: bool = False) -> None:
        span, self._span = self._span, None
        if span is None:
            return
        usage = self._model_usage(span)
        self._requests += 1
        self.session.add_usage(usage)
        self.emit(
            "span.model_request_end",
            {"model_request_start_id": span.start_id, "is_error": is_error, "model_usage": usage},
        )

    def _model_usage(self, span: _Span) -> dict[str, Any]:
        """Deterministic defaults (prompt size, output size), overridden by a :class:`Usage`."""
        prompt = self.context.prompt
        return model_usage(span.usage, prompt=prompt, spoken=span.words, earlier=self._requests)

    def _running(self) -> None:
        self.session.status = "running"
        self.emit("session.status_running", {})

    def _idle(self, stop_reason: dict[str, Any]) -> None:
        self.session.status = "idle"
        self.emit("session.status_idle", {"stop_reason": stop_reason})

    def _finish(self, reason: str) -> None:
        self._close_span()
        self._idle({"type": reason})
        self._end()

    def _end(self) -> None:
        self.finished = True
        self._stop_waiting()
        if self.session.turn is self:
            self.session.turn = None
        self.session.history.append(Exchange(self.context.prompt, "".join(self._text)))


def _use_type(step: ToolUse) -> str:
    """The event type of a built-in or MCP tool use."""
    return "agent.tool_use" if step.mcp_server_name is None else "agent.mcp_tool_use"
