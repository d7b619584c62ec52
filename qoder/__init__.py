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

from ._async.client import AsyncClient
from ._async.query import query
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
from ._sync.client import SyncClient
from ._sync.query import query_sync
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientStateError,
    ConfigurationError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    QoderError,
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
    "AgentSpec",
    "AssistantMessage",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "ClientStateError",
    "ConfigurationError",
    "ConflictError",
    "ContentBlock",
    "CustomTool",
    "DocumentBlock",
    "EnvAccessToken",
    "EnvironmentSpec",
    "Event",
    "ImageBlock",
    "InternalServerError",
    "MalformedEvent",
    "Message",
    "NotFoundError",
    "PermissionDeniedError",
    "PermissionResultAllow",
    "PermissionResultDeny",
    "ProtocolError",
    "QoderAgentOptions",
    "QoderError",
    "QoderSDKClient",
    "RateLimitError",
    "RedactedBlock",
    "ResultMessage",
    "SearchResultBlock",
    "SessionBusyError",
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
    "query",
    "query_sync",
    "tool",
]
