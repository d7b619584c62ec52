"""One conversation as each client sees it, in a shape the conformance tests can compare.

Every run gets its own :class:`~qoder.testing.FakeCloud`, served on 127.0.0.1. The emulator's
ids are counters per kind (``sess_…01``, ``evt_…01``, ``turn_…01``), so two clients that make
the same requests against two fresh clouds see the same ids: the tests compare session ids,
turn ids and event ids across clients exactly, and check both against the cloud's own log.

* ours: :class:`qoder.SyncClient` / :class:`qoder.AsyncClient` through a ``Facade``;
* source A, ``qca-sdk``: ``sessions.create`` → ``sessions.events.send`` →
  ``sessions.events.resumable_stream`` (sync ``Managed``, or ``AsyncManaged`` in the facade's
  event loop), with the turn cut out of the stream by our own echo, as a caller of A must;
* source B, ``qoder-agent-sdk``: ``QoderSDKClient`` with ``experimental_cloud_agent`` (asyncio
  only), its base URL from ``QODER_CLOUD_AGENT_API_BASE``.

Every run is bounded: :func:`bounded` runs it in a thread and, past the deadline, closes the
cloud's streams (so that no reader stays blocked) and fails the test.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import anyio
import pytest
import qca
import qoder_agent_sdk as agent_sdk
from qoder_agent_sdk import CloudAgentEventMessage

from qoder import AssistantMessage, QoderAgentOptions, ResultMessage, TextBlock
from qoder.testing import FakeCloud, ScriptedAgent, ServedCloud
from tests.client.driver import Facade

T = TypeVar("T")

TOKEN = "conformance-token"
AGENT = "agent_default"
ENVIRONMENT = "env_default"
KEEPALIVE = 0.05
"""Heartbeat interval of every served cloud: B only ends a turn when the next byte arrives
(docs/protocol.md §7 #11), so a short interval keeps each of its turns short."""
HTTP_TIMEOUT = 5.0
RUN_TIMEOUT = 20.0
"""Deadline of one client's whole conversation."""

FRANCE = ("What's the capital of France?", "What's the population of that city?")
MULTIPLY = "Multiply 4 by 10 with bash."
MULTIPLY_TEXTS = ("Running it. ", "The answer ", "is ", "40.")
FLAKY = "Is the flaky model up?"
FLAKY_TEXTS = ("Checking. ", "Recovered: all good.")
RETRY_MESSAGE = "Model overloaded; retrying."
LEGACY = "Report usage the legacy way."
LEGACY_TEXTS = ("Running it. ", "The answer is 40.")
LEGACY_SPANS = (
    {"input_tokens": 30, "output_tokens": 20, "cache_read_input_tokens": 0},
    {"input_tokens": 45, "output_tokens": 6, "cache_read_input_tokens": 0},
)
LEGACY_COSTS = (0.0004, 0.0003)

TOKEN_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


def conformance_agent() -> ScriptedAgent:
    """The default agent (France, population) plus the scripted turns of these tests.

    * :data:`MULTIPLY`: four ``agent.message`` events over two model requests (a built-in tool
      call between them), canonical ``model_usage``;
    * :data:`FLAKY`: a ``session.error`` the server is still retrying, then the recovery;
    * :data:`LEGACY`: two model requests reported the legacy way (``usage`` on
      ``span.model_request_end``, ``span_id``, ``total_cost_usd``; no ``model_usage``).
    """
    agent = ScriptedAgent()
    agent.on(MULTIPLY).reply(MULTIPLY_TEXTS[0]).tool_use(
        "bash", {"command": "echo $((4*10))"}, result="40"
    ).reply(*MULTIPLY_TEXTS[1:])
    agent.on(FLAKY).reply(FLAKY_TEXTS[0]).error("retrying").reply(FLAKY_TEXTS[1])
    legacy = agent.on(LEGACY)
    for index, (text, usage, cost) in enumerate(
        zip(LEGACY_TEXTS, LEGACY_SPANS, LEGACY_COSTS, strict=True), start=1
    ):
        span = f"sp_{index}"
        legacy.emit("span.model_request_start", model="ultimate", span_id=span)
        legacy.emit("agent.message", content=[{"type": "text", "text": text}])
        legacy.emit(
            "span.model_request_end",
            model="ultimate",
            span_id=span,
            usage=dict(usage),
            total_cost_usd=cost,
        )
    return agent


def new_cloud(*, omit_turn_id: bool = False) -> FakeCloud:
    """A fresh cloud: our token, :func:`conformance_agent`, a short keep-alive."""
    return FakeCloud(
        token=TOKEN,
        agent=conformance_agent(),
        keepalive_interval=KEEPALIVE,
        omit_turn_id=omit_turn_id,
    )


# -- what is compared ----------------------------------------------------------------------


@dataclass(frozen=True)
class TurnRecord:
    """One turn: its id, the agent messages (event id and text), summed usage, stop reason."""

    turn_id: str | None
    message_ids: tuple[str, ...]
    texts: tuple[str, ...]
    usage: dict[str, int]
    credits: float | None
    stop_reason: str | None

    @property
    def text(self) -> str:
        """The turn's text: every agent message, joined with no separator (§6.5)."""
        return "".join(self.texts)


@dataclass(frozen=True)
class Transcript:
    """A conversation: the session and its turns."""

    session_id: str
    turns: tuple[TurnRecord, ...]


def add_usage(total: dict[str, int], counts: Mapping[str, Any] | None) -> None:
    """Add the token counts present in ``counts`` to ``total`` (absent counts stay absent)."""
    for key in TOKEN_KEYS:
        value = (counts or {}).get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            total[key] = total.get(key, 0) + value


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


class _TurnBuilder:
    """Accumulates the events of one turn, from any client's view of them."""

    def __init__(self, turn_id: str | None) -> None:
        self.turn_id = turn_id
        self.ids: list[str] = []
        self.texts: list[str] = []
        self.usage: dict[str, int] = {}
        self.credits: float | None = None
        self.stop_reason: str | None = None

    def message(self, event_id: str, content: Any) -> None:
        self.ids.append(event_id)
        self.texts.append(content_text(content))

    def span_end(
        self, model_usage: Mapping[str, Any] | None, usage: Mapping[str, Any] | None
    ) -> None:
        add_usage(self.usage, model_usage if model_usage is not None else usage)
        credits = (model_usage or {}).get("credits")
        if isinstance(credits, (int, float)):
            self.credits = (self.credits or 0.0) + credits

    def build(self) -> TurnRecord:
        return TurnRecord(
            self.turn_id,
            tuple(self.ids),
            tuple(self.texts),
            dict(self.usage),
            rounded(self.credits),
            self.stop_reason,
        )


def content_text(content: Any) -> str:
    """The text of a content value: a string, or its ``text`` blocks (dicts or models)."""
    if isinstance(content, str):
        return content
    parts = []
    for block in content or ():
        kind = block.get("type") if isinstance(block, dict) else getattr(block, "type", None)
        text = block.get("text") if isinstance(block, dict) else getattr(block, "text", None)
        if kind == "text" and isinstance(text, str):
            parts.append(text)
    return "".join(parts)


def log_transcript(cloud: FakeCloud, session_id: str) -> Transcript:
    """The truth: the conversation as the cloud persisted it (one turn per ``user.message``)."""
    turns: list[TurnRecord] = []
    builder: _TurnBuilder | None = None
    for event in cloud.events(session_id):
        kind = event["type"]
        if kind == "user.message":
            if builder is not None:
                turns.append(builder.build())
            builder = _TurnBuilder(event.get("turn_id"))
        elif builder is None:
            continue
        elif kind == "agent.message":
            builder.message(event["id"], event.get("content"))
        elif kind == "span.model_request_end":
            builder.span_end(event.get("model_usage"), event.get("usage"))
        elif kind == "session.status_idle":
            builder.stop_reason = (event.get("stop_reason") or {}).get("type")
    if builder is not None:
        turns.append(builder.build())
    return Transcript(session_id, tuple(turns))


@dataclass(frozen=True)
class StreamRequest:
    """One ``GET …/events/stream`` the cloud received, with the cursor it carried."""

    last_event_id: str | None
    after_id: str | None


def stream_requests(cloud: FakeCloud) -> list[StreamRequest]:
    """Every stream connection the cloud received, in order."""
    return [
        StreamRequest(request.header("last-event-id"), request.query_get("after_id"))
        for request in cloud.requests
        if request.method == "GET" and request.path.endswith("/events/stream")
    ]


def bounded(run: Callable[[], T], served: ServedCloud, *, timeout: float = RUN_TIMEOUT) -> T:
    """Run ``run()`` in a thread; past ``timeout`` close the cloud's streams and fail."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = run()
        except BaseException as error:  # re-raised in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=target, name="conformance-run", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        served.cloud.close_streams()
        thread.join(HTTP_TIMEOUT)
        pytest.fail(f"the conversation did not finish within {timeout} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


# -- ours ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OurRun:
    transcript: Transcript
    results: tuple[ResultMessage, ...]


def our_options(base_url: str, **overrides: Any) -> QoderAgentOptions:
    values: dict[str, Any] = {
        "auth": TOKEN,
        "base_url": base_url,
        "agent": AGENT,
        "environment": ENVIRONMENT,
        "timeout": HTTP_TIMEOUT,
        "stream_idle_timeout": HTTP_TIMEOUT,
        "stream_reconnect_delay": 0.01,
    }
    values.update(overrides)
    return QoderAgentOptions(**values)


def our_turn(messages: Sequence[object]) -> tuple[TurnRecord, ResultMessage]:
    """The record of one turn read with ``receive_response()``, and its result."""
    result = messages[-1]
    assert isinstance(result, ResultMessage)
    assert not any(isinstance(message, ResultMessage) for message in messages[:-1])
    ids: list[str] = []
    texts: list[str] = []
    for message in messages:
        if not isinstance(message, AssistantMessage):
            continue
        blocks = [block for block in message.content if isinstance(block, TextBlock)]
        if blocks:
            assert message.uuid is not None
            ids.append(message.uuid)
            texts.append("".join(block.text for block in blocks))
    assert result.result == "".join(texts)
    record = TurnRecord(
        turn_id=result.turn_ids[0] if result.turn_ids else None,
        message_ids=tuple(ids),
        texts=tuple(texts),
        usage=result.usage.to_dict(),
        credits=rounded(result.total_credits),
        stop_reason=result.stop_reason,
    )
    assert len(result.turn_ids) <= 1, result.turn_ids
    return record, result


def run_ours(facade: Facade, served: ServedCloud, prompts: Iterable[str]) -> OurRun:
    """Our client (the facade's kind) through the whole conversation."""
    prompts = tuple(prompts)

    def conversation() -> OurRun:
        turns: list[TurnRecord] = []
        results: list[ResultMessage] = []
        with facade.client(our_options(served.base_url)) as client:
            for prompt in prompts:
                record, result = our_turn(client.turn(prompt))
                turns.append(record)
                results.append(result)
            session_id = client.session_id
        assert session_id is not None
        assert {result.session_id for result in results} == {session_id}
        return OurRun(Transcript(session_id, tuple(turns)), tuple(results))

    return bounded(conversation, served)


# -- source A: qca-sdk ---------------------------------------------------------------------


@dataclass(frozen=True)
class QcaRun:
    transcript: Transcript
    event_turn_ids: frozenset[str | None]
    """The ``turn_id`` values of the events cut out as turns (``None``: absent)."""


class QcaTurn:
    """Cuts one turn out of qca's event stream: from our own echo to ``session.status_idle``.

    Keep-alives are skipped: qca surfaces ``event: heartbeat`` frames as events (§7 #10).
    """

    def __init__(self, reply: Any, turn_ids: set[str | None]) -> None:
        echoes = [item for item in reply.data or () if item.type == "user.message"]
        assert len(echoes) == 1, reply
        self.echo_id: str = echoes[0].id
        self.builder = _TurnBuilder(getattr(echoes[0], "turn_id", None))
        self.turn_ids = turn_ids
        self.started = False

    def feed(self, event: Any) -> bool:
        """Take one streamed event; ``True`` once the turn has ended."""
        if event.type == "heartbeat":
            return False
        if not self.started:
            self.started = event.id == self.echo_id
            return False
        self.turn_ids.add(getattr(event, "turn_id", None))
        if event.type == "agent.message":
            self.builder.message(event.id, event.content)
        elif event.type == "span.model_request_end":
            model_usage = event.model_usage.to_dict() if event.model_usage is not None else None
            usage = event.usage.to_dict() if event.usage is not None else None
            self.builder.span_end(model_usage, usage)
        elif event.type == "session.status_idle":
            self.builder.stop_reason = event.stop_reason.type if event.stop_reason else None
            return True
        return False


def user_message(prompt: str) -> Any:
    """A ``user.message`` as qca sends it (typed ``Any``: qca's params are TypedDicts)."""
    return {"type": "user.message", "content": [{"type": "text", "text": prompt}]}


def _qca_sync(base_url: str, prompts: tuple[str, ...]) -> QcaRun:
    turn_ids: set[str | None] = set()
    turns: list[TurnRecord] = []
    with qca.Managed(access_token=TOKEN, base_url=base_url, timeout=HTTP_TIMEOUT) as client:
        session_id = client.sessions.create(agent=AGENT, environment_id=ENVIRONMENT).id
        assert session_id is not None
        with client.sessions.events.resumable_stream(session_id) as stream:
            for prompt in prompts:
                reply = client.sessions.events.send(session_id, events=[user_message(prompt)])
                turn = QcaTurn(reply, turn_ids)
                for event in stream:
                    if turn.feed(event):
                        break
                turns.append(turn.builder.build())
    return QcaRun(Transcript(session_id, tuple(turns)), frozenset(turn_ids))


async def _qca_async(base_url: str, prompts: tuple[str, ...]) -> QcaRun:
    turn_ids: set[str | None] = set()
    turns: list[TurnRecord] = []
    with anyio.fail_after(RUN_TIMEOUT):
        async with qca.AsyncManaged(
            access_token=TOKEN, base_url=base_url, timeout=HTTP_TIMEOUT
        ) as client:
            session = await client.sessions.create(agent=AGENT, environment_id=ENVIRONMENT)
            session_id = session.id
            assert session_id is not None
            async with client.sessions.events.resumable_stream(session_id) as stream:
                for prompt in prompts:
                    reply = await client.sessions.events.send(
                        session_id, events=[user_message(prompt)]
                    )
                    turn = QcaTurn(reply, turn_ids)
                    async for event in stream:
                        if turn.feed(event):
                            break
                    turns.append(turn.builder.build())
    return QcaRun(Transcript(session_id, tuple(turns)), frozenset(turn_ids))


def run_qca(facade: Facade, served: ServedCloud, prompts: Iterable[str]) -> QcaRun:
    """qca-sdk through the conversation, in the facade's flavour: ``Managed`` for the sync
    facade, ``AsyncManaged`` in the facade's event loop (asyncio or trio) otherwise."""
    prompts = tuple(prompts)
    if facade.portal is None:
        return bounded(lambda: _qca_sync(served.base_url, prompts), served)
    run: QcaRun = bounded(lambda: facade.run(_qca_async, served.base_url, prompts), served)
    return run


# -- source B: qoder-agent-sdk in its Cloud Agent mode --------------------------------------


@dataclass(frozen=True)
class CloudEvent:
    """One ``CloudAgentEventMessage`` B yielded: its event type, id and the data's turn id."""

    type: str
    id: str | None
    turn_id: str | None
    data: Any


@dataclass(frozen=True)
class AgentSdkTurn:
    """What B's ``receive_response()`` yielded for one turn (keep-alives left out)."""

    events: tuple[CloudEvent, ...]
    result: Any  # qoder_agent_sdk.ResultMessage

    def ids_of(self, event_type: str) -> list[str | None]:
        return [event.id for event in self.events if event.type == event_type]


async def _agent_sdk_conversation(
    prompts: tuple[str, ...], stream: dict[str, Any] | None
) -> list[AgentSdkTurn]:
    cloud: dict[str, Any] = {
        "agent": {"id": AGENT},
        "session": {"create": {"environment_id": ENVIRONMENT}},
    }
    if stream is not None:
        cloud["stream"] = stream
    options = agent_sdk.QoderAgentOptions(
        auth=agent_sdk.access_token(TOKEN),
        experimental_cloud_agent=cast("agent_sdk.types.CloudAgentOptions", cloud),
    )
    turns: list[AgentSdkTurn] = []
    async with agent_sdk.QoderSDKClient(options=options) as client:
        for prompt in prompts:
            await client.query(prompt)
            events: list[CloudEvent] = []
            results: list[Any] = []
            async for message in client.receive_response():
                if isinstance(message, CloudAgentEventMessage):
                    if message.event == "heartbeat":
                        continue
                    data = message.data if isinstance(message.data, dict) else {}
                    turn_id = data.get("turn_id")
                    events.append(CloudEvent(message.event, message.id, turn_id, message.data))
                elif isinstance(message, agent_sdk.ResultMessage):
                    results.append(message)
            assert len(results) == 1, results
            turns.append(AgentSdkTurn(tuple(events), results[0]))
    return turns


def run_agent_sdk(
    served: ServedCloud, prompts: Iterable[str], *, stream: dict[str, Any] | None = None
) -> list[AgentSdkTurn]:
    """qoder-agent-sdk's ``QoderSDKClient`` in Cloud Agent mode through the conversation.

    B is asyncio-only and reads ``QODER_CLOUD_AGENT_API_BASE`` itself: the caller sets it (the
    ``agent_sdk_base`` fixture). ``stream`` is B's optional ``experimental_cloud_agent.stream``.
    """
    prompts = tuple(prompts)

    def conversation() -> list[AgentSdkTurn]:
        return asyncio.run(asyncio.wait_for(_agent_sdk_conversation(prompts, stream), RUN_TIMEOUT))

    return bounded(conversation, served)
