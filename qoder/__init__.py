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
from ._version import __version__
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
    ProtocolError,
    QoderError,
    QoderSDKError,
    RateLimitError,
    SessionBusyError,
    UnprocessableEntityError,
)
from .options import (
    AccessToken,
    AgentSpec,
    EnvAccessToken,
    EnvironmentSpec,
    QoderAgentOptions,
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
    "ImageBlock",
    "InternalServerError",
    "ListCost",
    "MalformedEvent",
    "Message",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "PermissionResultAllow",
    "PermissionResultDeny",
    "ProtocolError",
    "QoderAgentOptions",
    "QoderError",
    "QoderSDKClient",
    "QoderSDKError",
    "RateLimitError",
    "RedactedBlock",
    "ResultMessage",
    "SearchResultBlock",
    "Session",
    "SessionBusyError",
    "SessionUsage",
    "StreamErrorFrame",
    "StreamEvent",
    "SyncClient",
    "SystemMessage",
    "TextBlock",
    "ThinkingBlock",
    "ToolPermissionContext",
    "ToolResult",
    "ToolResultBlock",
    "ToolUseBlock",
    "UnknownBlock",
    "UnknownEvent",
    "UnprocessableEntityError",
    "Usage",
    "UserMessage",
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
