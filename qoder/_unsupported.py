"""The official client's methods that Cloud Agents has no counterpart for.

``QoderSDKClient`` of ``qoder-agent-sdk`` also drives a local ``qodercli`` process: plugins,
memory, goals, plan mode, rewinding files, its own MCP connections. Ported code that calls one
of those gets an :class:`~qoder.errors.UnsupportedFeatureError` that says, in one sentence,
why and what to use instead, rather than an ``AttributeError``. The attribute exists (so the
error comes from the call, where the reason can be told); type checkers do not see it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from .errors import UnsupportedFeatureError

__all__ = ["UNSUPPORTED_METHODS", "unsupported_attribute"]

_CLI = "it configures the local qodercli process, which Cloud Agents does not run"
_MCP = (
    "the client's MCP servers are started at connect() from options.mcp_servers and stay "
    "for the whole session; connect a new client to change them"
)

UNSUPPORTED_METHODS: dict[str, str] = {
    "apply_flag_settings": _CLI,
    "ask_side_question": "Cloud Agents runs one turn at a time; ask in the next turn",
    "background_tasks": "tools run on Cloud Agents, which does not background them on request",
    "cancel_async_message": "Cloud Agents takes no queued asynchronous messages",
    "clear_goal": "Cloud Agents has no session goals",
    "flush_memory": "Cloud Agents has no SDK memory",
    "flush_skill_evolution": "Cloud Agents has no skill evolution",
    "get_available_models": "the Cloud Agents API lists no models; pass model= or set_model()",
    "get_context_usage": (
        "the Cloud Agents API reports no context usage; read ResultMessage.usage, or "
        "refresh_session().usage for the session's totals"
    ),
    "get_goal": "Cloud Agents has no session goals",
    "get_mcp_status": _MCP,
    "get_plan_mode": "Cloud Agents has no plan mode",
    "get_usage_info": (
        "the Cloud Agents API reports no account quota; refresh_session().usage has the "
        "session's tokens, credits and cost"
    ),
    "inject_mcp_token": "Cloud Agents authenticates its MCP servers itself (vault_ids=)",
    "list_byok_providers": _CLI,
    "list_plugins": _CLI,
    "mcp_authenticate": "Cloud Agents authenticates its MCP servers itself (vault_ids=)",
    "mcp_clear_auth": "Cloud Agents authenticates its MCP servers itself (vault_ids=)",
    "mcp_submit_oauth_callback_url": (
        "Cloud Agents authenticates its MCP servers itself (vault_ids=)"
    ),
    "reconnect_mcp_server": _MCP,
    "refresh_memory": "Cloud Agents has no SDK memory",
    "reload_plugins": _CLI,
    "rewind": "Cloud Agents cannot rewind a session; start a new one (resume= another)",
    "rewind_files": "Cloud Agents keeps no file checkpoints to rewind to",
    "set_goal": "Cloud Agents has no session goals",
    "set_mcp_servers": _MCP,
    "set_plan_mode": "Cloud Agents has no plan mode",
    "set_proxy": "pass http_client=httpx.Client(proxy=...) (or AsyncClient) instead",
    "stop_task": "Cloud Agents runs no background tasks the client can stop",
    "supported_agents": "list the agents with qoder.Cloud().agents.list()",
    "toggle_mcp_server": _MCP,
}
"""Each such method of the official client, and why it has no counterpart here."""


def unsupported_attribute(facade: str, name: str, *, is_async: bool) -> Callable[..., Any]:
    """What ``facade.name`` is for one of :data:`UNSUPPORTED_METHODS`: a callable that raises
    the reason; any other name is an ``AttributeError``, as usual."""
    reason = UNSUPPORTED_METHODS.get(name)
    if reason is None:
        raise AttributeError(f"{facade!r} object has no attribute {name!r}")
    message = f"{facade}.{name}() is not available: {reason}."

    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        raise UnsupportedFeatureError(message)

    async def refuse_async(*args: Any, **kwargs: Any) -> NoReturn:
        raise UnsupportedFeatureError(message)

    return refuse_async if is_async else refuse
