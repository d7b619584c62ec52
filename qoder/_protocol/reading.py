"""Reading until something can be handed out: the stream, the turn and the answers together.

:class:`Reader` is the part of a session that a ``next_message``/``next_event`` flow runs
each time its inbox is empty: answer a tool call that waits (``CallUser``, then ``Send``),
(re)open the stream from the cursor (``Sleep`` out a backoff, ``OpenStream``), or read one
chunk (``ReadChunk``) and run its events through the turn state machine into the inbox. A
drop, a refusal or an in-band error frame goes to the :class:`~.stream.EventStream`, which
decides between a reconnect and giving up; giving up ends the turn underway (§6.6).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Generator, Mapping
from typing import Any, TypeVar

from . import answering
from . import requests as rq
from .answers import PermissionResultAllow, PermissionResultDeny, ToolPermissionContext, decide
from .calls import Caller
from .config import HookVerdict, LocalTool, SessionConfig, ToolHooks
from .convert import block_to_wire
from .costs import usd_cost
from .effects import (
    CallUser,
    Chunk,
    CloseStream,
    Effect,
    EffectResult,
    NoResponse,
    OpenStream,
    ReadChunk,
    Received,
    Returned,
    Sleep,
    StreamEnded,
    Woken,
)
from .errors import QoderError
from .events import SessionDeleted
from .inbox import Answer, Inbox
from .outputs import EnforceLimit, ObserveToolResult
from .permissions import PermissionPolicy
from .status import error_from_response
from .stream import EventStream, Refusal, StreamState
from .turn import AskPermission, Conversation, RunCustomTool, TurnState, permission_name

logger = logging.getLogger("qoder")

__all__ = ["Reader"]

T = TypeVar("T")
Step = Generator[Effect, EffectResult, T]

_NOBODY = "Nothing on the client decides this tool's permission."

_STREAM_ENDS = {
    "eof": "the server closed the event stream",
    "timeout": "no bytes on the event stream within stream_idle_timeout",
}


class Reader:
    """The reading half of one attached session. ``closed`` tells whether the client was
    disconnected meanwhile (perhaps by another thread)."""

    def __init__(
        self,
        *,
        config: SessionConfig,
        caller: Caller,
        conversation: Conversation,
        stream: EventStream,
        inbox: Inbox,
        tools: Mapping[str, LocalTool],
        closed: Callable[[], bool],
        permissions: Callable[[], PermissionPolicy] = PermissionPolicy,
    ) -> None:
        self.config = config
        self.caller = caller
        self.conversation = conversation
        self.stream = stream
        self.inbox = inbox
        self.tools = tools
        self.closed = closed
        self.permissions = permissions
        self.pending_context: list[str] = []
        """Hooks' context for the agent, sent with the next user message (§8.4)."""
        """The permission rules as they stand (``set_permission_mode()`` changes them)."""
        self.session_id = conversation.session_id

    def open_stream(self) -> Step[None]:
        """Open the stream from the cursor, waiting out backoffs; stops at OPEN, LOST or GONE
        (both of which end the turn underway, §6.6)."""
        stream = self.stream
        conversation = self.conversation
        config, caller = self.config, self.caller
        while True:
            if stream.state is StreamState.BACKING_OFF:
                yield Sleep(stream.delay)
                stream.backed_off()
            if stream.state is not StreamState.CLOSED or self.closed():
                return  # open, lost, gone, or the client disconnected (maybe by another thread)
            request = stream.request(conversation.cursor)
            url = caller.url(request)
            headers = {**caller.headers(), **dict(request.headers)}
            outcome = yield OpenStream(request, headers, url, config.stream_timeouts)
            if isinstance(outcome, Received) and outcome.status == 200:
                if self.closed():  # disconnect() from another thread while this one opened
                    yield CloseStream()
                    return
                stream.opened()
                return
            if isinstance(outcome, NoResponse):
                stream.dropped(
                    self.caller.redact(f"could not open the event stream: {outcome.error!r}"),
                    connected=False,
                )
            else:
                assert isinstance(outcome, Received)
                refusal = stream.refused(outcome.status, has_cursor=bool(conversation.cursor))
                if refusal is Refusal.RAISE:
                    raise error_from_response(
                        status=outcome.status,
                        headers=outcome.headers,
                        body=outcome.body,
                        method=request.method,
                        url=self.caller.redact(url),
                        redact=self.caller.redact,
                    )
                if refusal is Refusal.DELETED:
                    raw = {"type": SessionDeleted.type, "reason": stream.reason}
                    deleted = SessionDeleted(raw=raw)
                    self.inbox.absorb(conversation.on_event(deleted, frame_id=None))
            if stream.lost:
                self.inbox.absorb(conversation.on_stream_lost(stream.reason))

    def progress(self) -> Step[bool]:
        """Make progress once: answer a tool call, (re)open the stream, or read one chunk and
        run what it holds. ``False`` when nothing more can come."""
        stream = self.stream
        if self.closed() or not stream.readable:
            return False
        answer = self.inbox.next_answer()
        if answer is not None:  # answers first: one a cancellation interrupted is given again
            yield from self._answer(answer)
            return True
        if stream.state is not StreamState.OPEN:
            yield from self.open_stream()
            return True
        try:
            result = yield ReadChunk()
        except GeneratorExit:
            stream.closed()  # the facade closed the connection it was reading
            raise
        if self.closed():
            return False  # disconnect() from another thread ended the read
        if isinstance(result, Chunk):
            yield from self._feed(result.data)
        elif isinstance(result, Woken):
            stream.closed()
        else:
            assert isinstance(result, StreamEnded)
            reason = _STREAM_ENDS.get(result.kind) or f"the event stream failed: {result.detail}"
            self._dropped(self.caller.redact(reason))
        return True

    def _feed(self, chunk: bytes) -> Step[None]:
        stream = self.stream
        conversation = self.conversation
        inbox = self.inbox
        before = conversation.cursor
        if inbox.collecting_events:  # a receive_events() reader: keep them for it too
            events = list(stream.events(chunk))
            inbox.absorb(conversation.on_events(events))
            for event, _ in events:
                inbox.keep_event(event)
        else:  # decoded one by one as the turn machine takes them
            inbox.absorb(conversation.on_events(stream.events(chunk)))
        if conversation.cursor != before:
            stream.advanced()
        failure = stream.failure
        if conversation.state is TurnState.ENDED:
            stream.gone(f"the session was {conversation.session_end}")
            yield CloseStream()
        elif failure is not None:
            yield CloseStream()
            self._dropped(failure)

    def _dropped(self, reason: str) -> None:
        stream = self.stream
        stream.dropped(reason)
        if stream.lost:
            self.inbox.absorb(self.conversation.on_stream_lost(stream.reason))

    def _answer(self, answer: Answer) -> Step[None]:
        """Run a custom tool or decide a permission, then post the answer (and, after a
        denial with ``interrupt=True`` or a hook's stop, a ``user.interrupt``); or enforce a
        limit of the options; or show a server-side tool's result to the hooks."""
        if isinstance(answer, (EnforceLimit, ObserveToolResult)):
            if isinstance(answer, EnforceLimit):
                yield from self._enforce(answer.limit)
            else:
                yield from self._observe(answer)
            self.inbox.answered()
            return
        context = None
        if isinstance(answer, RunCustomTool):
            body, interrupt, context = yield from self._run_tool(answer)
        else:
            body, interrupt = yield from self._confirm(answer)
        if self.closed():  # disconnect() while the handler ran
            return
        conversation = self.conversation
        try:
            events = [body, rq.system_message(context)] if context else [body]
            reply = yield from self.caller.call(rq.send_events(self.session_id, events))
        except QoderError as failure:  # the turn ends with this error rather than hang
            self.inbox.clear_answers()
            reason = f"could not post the answer: {self.caller.redact(str(failure))}"
            self.inbox.absorb(conversation.fail_turn(reason))
            return
        self.inbox.answered()
        self.inbox.absorb(conversation.on_answer_reply(reply))
        if interrupt:
            yield from self._interrupt()

    def _run_tool(self, answer: RunCustomTool) -> Step[tuple[dict[str, Any], bool, str | None]]:
        """Run a client-side tool (between its hooks, if any match): the result to post,
        whether a hook asked to stop the turn, and the hooks' context for the agent."""
        event, hooks = answer.event, self.config.hooks
        tool = self.tools[event.name]
        stop, context = False, None
        gated = hooks is not None and hooks.handles("PreToolUse", event.name)
        tool_input = dict(event.input)
        if event.name.startswith("mcp__") and not gated:  # a bridged MCP tool: permissions
            denial, updated = yield from self._mcp_permission(answer)
            if denial is not None:
                denied = {"content": [{"type": "text", "text": denial}], "is_error": True}
                return answering.tool_result(answer, Returned(denied)), False, None
            tool_input = updated if updated is not None else tool_input  # the client runs it
        if hooks is not None and _hooked(hooks, event.name):
            run = functools.partial(
                hooks.run_tool, tool, tool_input, answer.tool_use_id, self.session_id
            )
            outcome = yield CallUser(run)
            if isinstance(outcome, Returned):  # the hooks' runner never raises
                stop, context = bool(outcome.value.stop), outcome.value.additional_context
                outcome = Returned(outcome.value.value)
        else:
            if tool.takes_args:  # the official SDK's handler(args)
                handler = functools.partial(tool.handler, tool_input)
            else:
                handler = functools.partial(tool.handler, **tool_input)
            outcome = yield CallUser(handler, in_thread=True)
        return answering.tool_result(answer, outcome), stop, context

    def _mcp_permission(
        self, answer: RunCustomTool
    ) -> Step[tuple[str | None, dict[str, Any] | None]]:
        """A bridged MCP tool is subject to the permission rules and ``can_use_tool``, as in
        the official SDK: the reason it is denied (or ``None`` to run it), and the input an
        allow rewrote (the client runs this tool itself, so it can take one)."""
        name = answer.event.name
        decided: Any = self.permissions().decide(name)
        callback = self.config.can_use_tool
        if decided is None and callback is not None:
            context = ToolPermissionContext(
                tool_use_id=answer.tool_use_id, session_id=self.session_id, kind="mcp"
            )
            outcome = yield CallUser(callback, (name, dict(answer.event.input), context))
            decided = outcome.value if isinstance(outcome, Returned) else False
        updated = getattr(decided, "updated_input", None)
        if isinstance(decided, PermissionResultAllow) or decided is None:
            allow, message = True, None  # a rewritten input is fine: the client runs this tool
        else:
            allow, message = decide(decided, dict(answer.event.input))
        if allow:
            return None, dict(updated) if isinstance(updated, Mapping) else None
        self.conversation.note_denial(name, answer.tool_use_id, message or "")
        return message or f"{name} was denied.", None

    def _confirm(self, answer: AskPermission) -> Step[tuple[dict[str, Any], bool]]:
        """Decide a confirmation: the ``PreToolUse`` hooks, then the client's rules, then
        ``can_use_tool``. The ``user.tool_confirmation`` and whether to interrupt after it."""
        name, hooks = permission_name(answer.event), self.config.hooks
        decided = None
        if hooks is not None and hooks.handles("PreToolUse", name):
            ask = functools.partial(
                hooks.decide, name, dict(answer.event.input), answer.tool_use_id, self.session_id
            )
            verdict = yield CallUser(ask)
            decided = verdict.value if isinstance(verdict, Returned) else None
        decided = decided or self.permissions().decide(name)
        callback = self.config.can_use_tool
        if decided is None and callback is None:  # the toolset asked for the hooks' sake only
            hooked = self.config.asked_for_hooks(name)
            decided = PermissionResultAllow() if hooked else PermissionResultDeny(message=_NOBODY)
        if decided is not None:
            outcome: EffectResult = Returned(decided)
        else:
            assert callback is not None
            outcome = yield CallUser(callback, answering.permission_args(answer, self.session_id))
        body, interrupt = answering.confirmation(answer, outcome)
        self.conversation.note_confirmation(answer.event, answer.tool_use_id, body)
        return body, interrupt

    def _observe(self, answer: ObserveToolResult) -> Step[None]:
        """Show a server-side tool's result to the ``PostToolUse`` hooks; interrupt the turn
        if one says ``continue_: False``."""
        hooks = self.config.hooks
        assert hooks is not None
        result = answer.result
        run = functools.partial(
            hooks.observe,
            permission_name(answer.tool_use),
            dict(answer.tool_use.input),
            answer.tool_use_id,
            self.session_id,
            [block_to_wire(block) for block in result.content or ()],
            bool(result.is_error),
        )
        outcome = yield CallUser(run)
        verdict = outcome.value if isinstance(outcome, Returned) else None
        if isinstance(verdict, HookVerdict):
            if verdict.context:  # for the agent, with the next user message (§8.4)
                self.pending_context.append(verdict.context)
            if verdict.stop:
                yield from self._interrupt(why="a PostToolUse hook asked to stop")

    def _enforce(self, limit: str) -> Step[None]:
        """``max_turns``: interrupt the turn. ``max_budget_usd``: read the session's USD
        cost (§8.6), keep it for the result, and interrupt if it exceeds the budget."""
        conversation = self.conversation
        if limit == "max_budget_usd":
            budget = self.config.max_budget_usd
            try:
                session = yield from self.caller.call(rq.retrieve_session(self.session_id))
            except QoderError as failure:
                logger.warning(
                    "could not read the session's cost for max_budget_usd: %s",
                    self.caller.redact(str(failure)),
                )
                return
            cost = usd_cost(session)
            if cost is None:
                return
            conversation.note_cost(cost)
            if budget is None or cost <= budget:
                return
            logger.warning(
                "the session has cost %.4f USD, over max_budget_usd=%s: interrupting the turn",
                cost,
                budget,
            )
        conversation.note_limit(limit)
        yield from self._interrupt(why=limit)

    def _interrupt(self, why: str = "can_use_tool asked") -> Step[None]:
        """Interrupt the turn, as ``can_use_tool`` asked with its denial or a limit of the
        options requires (§6.7); if that fails the turn goes on."""
        conversation = self.conversation
        conversation.note_interrupt()
        try:
            reply = yield from self.caller.call(rq.send_events(self.session_id, [rq.interrupt()]))
        except QoderError as failure:
            conversation.note_interrupt(sent=False)
            logger.warning(
                "could not interrupt the turn (%s): %s",
                why,
                self.caller.redact(str(failure)),
            )
            return
        self.inbox.absorb(conversation.on_answer_reply(reply))


def _hooked(hooks: ToolHooks, tool_name: str) -> bool:
    return hooks.handles("PreToolUse", tool_name) or hooks.handles("PostToolUse", tool_name)
