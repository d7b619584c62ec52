"""qoder: a sync and async client for multi-turn conversations with Qoder Cloud Agents.

::

    import anyio
    from qoder import QoderSDKClient, QoderAgentOptions, access_token_from_env

    async def main() -> None:
        options = QoderAgentOptions(auth=access_token_from_env())
        async with QoderSDKClient(options=options) as client:
            await client.query("What's the capital of France?")
            async for message in client.receive_response():
                print(message)

    anyio.run(main)

:class:`SyncClient` offers the same API without an event loop; :mod:`qoder.testing` an
in-memory emulator of the API for your own tests.
"""

# Names are loaded on first use (PEP 562): ``import qoder`` costs next to nothing, and
# ``from qoder import SyncClient`` loads the sync client and what it needs, not the async one.
# The imports under TYPE_CHECKING are the same names, for type checkers and IDEs.

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from . import events
    from ._async.client import AsyncClient
    from ._async.cloud import AsyncCloud
    from ._async.query import query
    from ._async.sessions import (
        adelete_session,
        aget_session_info,
        aget_session_messages,
        alist_sessions,
        arename_session,
        atag_session,
    )
    from ._mcp.config import (
        McpHttpServerConfig,
        McpSdkServerConfig,
        McpServerConfig,
        McpSSEServerConfig,
        McpStdioServerConfig,
    )
    from ._protocol.blocks import (
        ContentBlock,
        DocumentBlock,
        ImageBlock,
        RedactedBlock,
        SearchResultBlock,
        TextBlock,
        ThinkingBlock,
        ToolResultBlock,
        ToolUseBlock,
        UnknownBlock,
    )
    from ._protocol.events import (
        Event,
        MalformedEvent,
        StreamErrorFrame,
        UnknownEvent,
        WireEvent,
    )
    from ._protocol.messages import (
        AssistantMessage,
        Message,
        ResultMessage,
        StreamEvent,
        SystemMessage,
        Usage,
        UserMessage,
    )
    from ._protocol.resources import (
        Agent,
        Deleted,
        Environment,
        ListCost,
        Page,
        Session,
        SessionUsage,
    )
    from ._sync.client import SyncClient
    from ._sync.cloud import Cloud
    from ._sync.query import query_sync
    from ._sync.sessions import (
        delete_session,
        get_session_info,
        get_session_messages,
        list_sessions,
        rename_session,
        tag_session,
    )
    from .errors import (
        APIConnectionError,
        APIError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        CLIConnectionError,
        ClientStateError,
        ConfigurationError,
        ConflictError,
        InternalServerError,
        NotFoundError,
        PermissionDeniedError,
        PromptBlockedError,
        ProtocolError,
        QoderError,
        QoderSDKError,
        RateLimitError,
        SessionBusyError,
        UnprocessableEntityError,
        UnsupportedFeatureError,
    )
    from .hooks import (
        AsyncHookJSONOutput,
        HookCallback,
        HookContext,
        HookEvent,
        HookJSONOutput,
        HookMatcher,
        PostToolUseFailureHookInput,
        PostToolUseHookInput,
        PreToolUseHookInput,
        StopHookInput,
        SyncHookJSONOutput,
        UserPromptSubmitHookInput,
    )
    from .mcp import create_sdk_mcp_server as create_sdk_mcp_server
    from .options import (
        AccessToken,
        AgentSpec,
        EnvAccessToken,
        EnvironmentSpec,
        OptionTypeError,
        PermissionMode,
        QoderAgentOptions,
        QoderPortingWarning,
        SystemPromptFile,
        SystemPromptPreset,
        ToolsPreset,
        access_token,
        access_token_from_env,
    )
    from .tools import (
        CustomTool,
        PermissionResultAllow,
        PermissionResultDeny,
        ToolPermissionContext,
        ToolResult,
        tool,
    )

    QoderSDKClient = AsyncClient
    """The official SDK's name for :class:`AsyncClient`: the same class."""

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AccessToken",
    "Agent",
    "AgentSpec",
    "AssistantMessage",
    "AsyncClient",
    "AsyncCloud",
    "AsyncHookJSONOutput",
    "AuthenticationError",
    "BadRequestError",
    "CLIConnectionError",
    "ClientStateError",
    "Cloud",
    "ConfigurationError",
    "ConflictError",
    "ContentBlock",
    "CustomTool",
    "Deleted",
    "DocumentBlock",
    "EnvAccessToken",
    "Environment",
    "EnvironmentSpec",
    "Event",
    "HookCallback",
    "HookContext",
    "HookEvent",
    "HookJSONOutput",
    "HookMatcher",
    "ImageBlock",
    "InternalServerError",
    "ListCost",
    "MalformedEvent",
    "McpHttpServerConfig",
    "McpSSEServerConfig",
    "McpSdkServerConfig",
    "McpServerConfig",
    "McpStdioServerConfig",
    "Message",
    "NotFoundError",
    "OptionTypeError",
    "Page",
    "PermissionDeniedError",
    "PermissionMode",
    "PermissionResultAllow",
    "PermissionResultDeny",
    "PostToolUseFailureHookInput",
    "PostToolUseHookInput",
    "PreToolUseHookInput",
    "PromptBlockedError",
    "ProtocolError",
    "QoderAgentOptions",
    "QoderError",
    "QoderPortingWarning",
    "QoderSDKClient",
    "QoderSDKError",
    "RateLimitError",
    "RedactedBlock",
    "ResultMessage",
    "SearchResultBlock",
    "Session",
    "SessionBusyError",
    "SessionUsage",
    "StopHookInput",
    "StreamErrorFrame",
    "StreamEvent",
    "SyncClient",
    "SyncHookJSONOutput",
    "SystemMessage",
    "SystemPromptFile",
    "SystemPromptPreset",
    "TextBlock",
    "ThinkingBlock",
    "ToolPermissionContext",
    "ToolResult",
    "ToolResultBlock",
    "ToolUseBlock",
    "ToolsPreset",
    "UnknownBlock",
    "UnknownEvent",
    "UnprocessableEntityError",
    "UnsupportedFeatureError",
    "Usage",
    "UserMessage",
    "UserPromptSubmitHookInput",
    "WireEvent",
    "__version__",
    "access_token",
    "access_token_from_env",
    "adelete_session",
    "aget_session_info",
    "aget_session_messages",
    "alist_sessions",
    "arename_session",
    "atag_session",
    "delete_session",
    "events",
    "get_session_info",
    "get_session_messages",
    "list_sessions",
    "query",
    "query_sync",
    "rename_session",
    "tag_session",
    "tool",
]

_LAZY: dict[str, tuple[str, str | None]] = {
    "APIConnectionError": (".errors", "APIConnectionError"),
    "APIError": (".errors", "APIError"),
    "APIStatusError": (".errors", "APIStatusError"),
    "APITimeoutError": (".errors", "APITimeoutError"),
    "AccessToken": (".options", "AccessToken"),
    "Agent": ("._protocol.resources", "Agent"),
    "AgentSpec": (".options", "AgentSpec"),
    "AssistantMessage": ("._protocol.messages", "AssistantMessage"),
    "AsyncClient": ("._async.client", "AsyncClient"),
    "AsyncCloud": ("._async.cloud", "AsyncCloud"),
    "AuthenticationError": (".errors", "AuthenticationError"),
    "BadRequestError": (".errors", "BadRequestError"),
    "CLIConnectionError": (".errors", "CLIConnectionError"),
    "ClientStateError": (".errors", "ClientStateError"),
    "Cloud": ("._sync.cloud", "Cloud"),
    "ConfigurationError": (".errors", "ConfigurationError"),
    "ConflictError": (".errors", "ConflictError"),
    "ContentBlock": ("._protocol.blocks", "ContentBlock"),
    "CustomTool": (".tools", "CustomTool"),
    "Deleted": ("._protocol.resources", "Deleted"),
    "DocumentBlock": ("._protocol.blocks", "DocumentBlock"),
    "EnvAccessToken": (".options", "EnvAccessToken"),
    "Environment": ("._protocol.resources", "Environment"),
    "EnvironmentSpec": (".options", "EnvironmentSpec"),
    "Event": ("._protocol.events", "Event"),
    "ImageBlock": ("._protocol.blocks", "ImageBlock"),
    "InternalServerError": (".errors", "InternalServerError"),
    "ListCost": ("._protocol.resources", "ListCost"),
    "MalformedEvent": ("._protocol.events", "MalformedEvent"),
    "Message": ("._protocol.messages", "Message"),
    "NotFoundError": (".errors", "NotFoundError"),
    "Page": ("._protocol.resources", "Page"),
    "PermissionDeniedError": (".errors", "PermissionDeniedError"),
    "PermissionResultAllow": (".tools", "PermissionResultAllow"),
    "PermissionResultDeny": (".tools", "PermissionResultDeny"),
    "ProtocolError": (".errors", "ProtocolError"),
    "QoderAgentOptions": (".options", "QoderAgentOptions"),
    "QoderError": (".errors", "QoderError"),
    "QoderSDKError": (".errors", "QoderSDKError"),
    "RateLimitError": (".errors", "RateLimitError"),
    "RedactedBlock": ("._protocol.blocks", "RedactedBlock"),
    "ResultMessage": ("._protocol.messages", "ResultMessage"),
    "SearchResultBlock": ("._protocol.blocks", "SearchResultBlock"),
    "Session": ("._protocol.resources", "Session"),
    "SessionBusyError": (".errors", "SessionBusyError"),
    "SessionUsage": ("._protocol.resources", "SessionUsage"),
    "StreamErrorFrame": ("._protocol.events", "StreamErrorFrame"),
    "StreamEvent": ("._protocol.messages", "StreamEvent"),
    "SyncClient": ("._sync.client", "SyncClient"),
    "SystemMessage": ("._protocol.messages", "SystemMessage"),
    "TextBlock": ("._protocol.blocks", "TextBlock"),
    "ThinkingBlock": ("._protocol.blocks", "ThinkingBlock"),
    "ToolPermissionContext": (".tools", "ToolPermissionContext"),
    "ToolResult": (".tools", "ToolResult"),
    "ToolResultBlock": ("._protocol.blocks", "ToolResultBlock"),
    "ToolUseBlock": ("._protocol.blocks", "ToolUseBlock"),
    "UnknownBlock": ("._protocol.blocks", "UnknownBlock"),
    "UnknownEvent": ("._protocol.events", "UnknownEvent"),
    "UnprocessableEntityError": (".errors", "UnprocessableEntityError"),
    "Usage": ("._protocol.messages", "Usage"),
    "UserMessage": ("._protocol.messages", "UserMessage"),
    "WireEvent": ("._protocol.events", "WireEvent"),
    "access_token": (".options", "access_token"),
    "access_token_from_env": (".options", "access_token_from_env"),
    "adelete_session": ("._async.sessions", "adelete_session"),
    "aget_session_info": ("._async.sessions", "aget_session_info"),
    "aget_session_messages": ("._async.sessions", "aget_session_messages"),
    "alist_sessions": ("._async.sessions", "alist_sessions"),
    "arename_session": ("._async.sessions", "arename_session"),
    "atag_session": ("._async.sessions", "atag_session"),
    "delete_session": ("._sync.sessions", "delete_session"),
    "events": (".events", None),
    "get_session_info": ("._sync.sessions", "get_session_info"),
    "get_session_messages": ("._sync.sessions", "get_session_messages"),
    "list_sessions": ("._sync.sessions", "list_sessions"),
    "query": ("._async.query", "query"),
    "query_sync": ("._sync.query", "query_sync"),
    "rename_session": ("._sync.sessions", "rename_session"),
    "tag_session": ("._sync.sessions", "tag_session"),
    "tool": (".tools", "tool"),
    "AsyncHookJSONOutput": (".hooks", "AsyncHookJSONOutput"),
    "HookCallback": (".hooks", "HookCallback"),
    "HookContext": (".hooks", "HookContext"),
    "HookEvent": (".hooks", "HookEvent"),
    "HookJSONOutput": (".hooks", "HookJSONOutput"),
    "HookMatcher": (".hooks", "HookMatcher"),
    "McpHttpServerConfig": ("._mcp.config", "McpHttpServerConfig"),
    "McpSSEServerConfig": ("._mcp.config", "McpSSEServerConfig"),
    "McpSdkServerConfig": ("._mcp.config", "McpSdkServerConfig"),
    "McpServerConfig": ("._mcp.config", "McpServerConfig"),
    "McpStdioServerConfig": ("._mcp.config", "McpStdioServerConfig"),
    "OptionTypeError": (".options", "OptionTypeError"),
    "PermissionMode": (".options", "PermissionMode"),
    "PostToolUseFailureHookInput": (".hooks", "PostToolUseFailureHookInput"),
    "PostToolUseHookInput": (".hooks", "PostToolUseHookInput"),
    "PreToolUseHookInput": (".hooks", "PreToolUseHookInput"),
    "PromptBlockedError": (".errors", "PromptBlockedError"),
    "QoderPortingWarning": (".options", "QoderPortingWarning"),
    "StopHookInput": (".hooks", "StopHookInput"),
    "SyncHookJSONOutput": (".hooks", "SyncHookJSONOutput"),
    "SystemPromptFile": (".options", "SystemPromptFile"),
    "SystemPromptPreset": (".options", "SystemPromptPreset"),
    "ToolsPreset": (".options", "ToolsPreset"),
    "UnsupportedFeatureError": (".errors", "UnsupportedFeatureError"),
    "UserPromptSubmitHookInput": (".hooks", "UserPromptSubmitHookInput"),
    "create_sdk_mcp_server": (".mcp", "create_sdk_mcp_server"),
    "QoderSDKClient": ("._async.client", "AsyncClient"),
}
"""Where each exported name lives: (module relative to this package, attribute or ``None``
for the module itself). ``create_sdk_mcp_server`` is here but not in ``__all__``: it needs
the ``mcp`` extra, so ``from qoder import *`` must not load it; ``from qoder import
create_sdk_mcp_server`` does."""


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    module = importlib.import_module(module_name, __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # the next access is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
