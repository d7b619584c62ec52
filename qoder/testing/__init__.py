"""Test kit: an in-memory emulator of the Qoder Cloud Agents API.

:class:`FakeCloud` speaks docs/protocol.md with plain JSON: agents, environments, sessions, events,
the SSE stream with history replay and ``Last-Event-ID`` resume, turns with ``turn_id``,
``requires_action`` tool round trips, interrupt/cancel, the 409 "processing a turn" answer,
``Idempotency-Key`` replay, bearer auth, and fault injection. A :class:`ScriptedAgent` decides
what the agent does; the default one answers reproducibly, and shows the session's §8
configuration: its model and system prompt, ``system.message``, custom and built-in tools under
the toolset's permission policies, thinking for a while; sessions report ``usage.list_cost`` in
USD and honour their ``budget``.

Three ways to run it:

* in-process with respx, for ``httpx.Client`` and ``httpx.AsyncClient``::

      cloud = FakeCloud()
      with cloud.mock():  # https://api.qoder.com/api/v1/cloud
          with httpx.Client(base_url="https://api.qoder.com/api/v1/cloud",
                            headers={"Authorization": "Bearer test"}) as http:
              session = http.post("/sessions", json={"agent": "agent_default",
                                                     "environment_id": "env_default"}).json()

* on a loopback socket: ``with serve_in_thread(cloud) as served: ... served.base_url``;
* from the command line: ``python -m qoder serve`` (:func:`run_server`).

Scripting the agent and injecting faults::

    cloud.agent.on("weather").custom_tool_use("get_weather", {"city": "Paris"}).reply(
        "It is {result} in Paris."
    )
    cloud.agent.on("slow").reply("Working. ").hold().reply("Done.")   # cloud.release(sid)
    cloud.agent.on("ponder").think().wait(5).reply("Done.")          # an interrupt cuts it short
    cloud.inject(HttpFault(429, method="POST", path="/sessions/*/events", retry_after=0.01))
    cloud.inject(StreamFault(drop_after=4))

pytest users get the fixtures ``fake_cloud``, ``fake_cloud_router`` and ``served_cloud`` from
this package's pytest plugin.
"""

from qoder.testing._cloud import (
    DEFAULT_AGENT_ID,
    DEFAULT_BASE_PATH,
    DEFAULT_ENVIRONMENT_ID,
    FakeCloud,
)
from qoder.testing._faults import PROCESSING_MESSAGE, Fault, HttpFault, StreamFault
from qoder.testing._ids import Clock, TickingClock
from qoder.testing._script import (
    CustomToolUse,
    Emit,
    Exchange,
    Hold,
    Matcher,
    Reply,
    Rule,
    ScriptedAgent,
    SessionError,
    Step,
    Stop,
    TextSource,
    Think,
    ToolOutcome,
    ToolUse,
    TurnContext,
    Usage,
    Wait,
)
from qoder.testing._snapshot import BUILTIN_TOOLS, AgentSnapshot
from qoder.testing._stream import EventStream, StreamDropped
from qoder.testing._usage import USD_PER_INPUT_TOKEN, USD_PER_OUTPUT_TOKEN
from qoder.testing._wire import EmulatorRequest, EmulatorResponse, Headers
from qoder.testing.server import ServedCloud, run_server, serve_in_thread

__all__ = [
    "BUILTIN_TOOLS",
    "DEFAULT_AGENT_ID",
    "DEFAULT_BASE_PATH",
    "DEFAULT_ENVIRONMENT_ID",
    "PROCESSING_MESSAGE",
    "USD_PER_INPUT_TOKEN",
    "USD_PER_OUTPUT_TOKEN",
    "AgentSnapshot",
    "Clock",
    "CustomToolUse",
    "Emit",
    "EmulatorRequest",
    "EmulatorResponse",
    "EventStream",
    "Exchange",
    "FakeCloud",
    "Fault",
    "Headers",
    "Hold",
    "HttpFault",
    "Matcher",
    "Reply",
    "Rule",
    "ScriptedAgent",
    "ServedCloud",
    "SessionError",
    "Step",
    "Stop",
    "StreamDropped",
    "StreamFault",
    "TextSource",
    "Think",
    "TickingClock",
    "ToolOutcome",
    "ToolUse",
    "TurnContext",
    "Usage",
    "Wait",
    "run_server",
    "serve_in_thread",
]
