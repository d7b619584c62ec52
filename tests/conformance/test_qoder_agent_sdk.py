"""Conformance with source B, the official ``qoder-agent-sdk`` in its Cloud Agent mode.

B's ``QoderSDKClient`` with ``experimental_cloud_agent`` (agent ``agent_default``, a new
session in ``env_default``, base URL from ``QODER_CLOUD_AGENT_API_BASE``) holds the same
conversation as our client, each against its own served cloud. Where B is right, the results
must be equal: the text of each turn, the session id, the ids of the turn's agent messages,
success. Where B is wrong because of a defect listed in docs/protocol.md §7, the test asserts our
correct result and pins B's observed divergence exactly, so that it fails if B changes.

B is asyncio-only (§7 #7); our client runs through every facade.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from qoder.testing import ServedCloud, StreamFault
from tests.client.driver import Facade
from tests.conformance.harness import (
    FLAKY,
    FLAKY_TEXTS,
    FRANCE,
    LEGACY,
    LEGACY_COSTS,
    LEGACY_SPANS,
    LEGACY_TEXTS,
    MULTIPLY,
    MULTIPLY_TEXTS,
    RETRY_MESSAGE,
    TOKEN_KEYS,
    AgentSdkTurn,
    OurRun,
    StreamRequest,
    TurnRecord,
    log_transcript,
    run_ours,
    stream_requests,
)

pytestmark = pytest.mark.conformance

Serve = Callable[..., ServedCloud]
RunAgentSdk = Callable[..., list[AgentSdkTurn]]

ZERO_USAGE = dict.fromkeys(TOKEN_KEYS, 0)


def b_tokens(turn: AgentSdkTurn) -> dict[str, Any]:
    """The four token counts of B's ``ResultMessage.usage``."""
    usage = turn.result.usage
    return {key: usage[key] for key in TOKEN_KEYS}


def current_message_ids(turn: AgentSdkTurn, record: TurnRecord) -> list[str | None]:
    """The ids of the ``agent.message`` events B yielded that belong to ``record``'s turn."""
    return [
        event.id
        for event in turn.events
        if event.type == "agent.message" and event.turn_id == record.turn_id
    ]


def assert_same_conversation(
    official_cloud: ServedCloud, our_cloud: ServedCloud, ours: OurRun
) -> None:
    """Both clouds persisted the same conversation, and ours read exactly that."""
    truth = log_transcript(our_cloud.cloud, ours.transcript.session_id)
    assert ours.transcript == truth
    assert log_transcript(official_cloud.cloud, truth.session_id) == truth


def assert_same_successful_turn(official: AgentSdkTurn, record: TurnRecord, ours: OurRun) -> None:
    """What B gets right: the turn's text, success, the session id, the message ids."""
    result = official.result
    assert result.subtype == "success"
    assert result.is_error is False
    assert result.result == record.text
    assert result.session_id == ours.transcript.session_id
    assert current_message_ids(official, record) == list(record.message_ids)


def test_two_turn_conversation(facade: Facade, serve: Serve, agent_sdk: RunAgentSdk) -> None:
    """The default agent's two turns (France's capital, then its population).

    Divergences of B, asserted as observed:

    * §7 #2 — B ignores canonical ``model_usage``: its usage is all zeros (and its cost 0.0
      where none was reported), ours sums the turn's model requests;
    * §7 #5 — B's ``stop_reason`` is always ``None``, ours is ``"end_turn"``;
    * §7 #12 — B opens a new stream for every turn, without a cursor: the server replays the
      whole history, and B's turn 2 yields turn 1's events again. Ours reads both turns on one
      connection.
    """
    official_cloud = serve()
    official = agent_sdk(official_cloud, FRANCE)
    our_cloud = serve()
    ours = run_ours(facade, our_cloud, FRANCE)

    assert_same_conversation(official_cloud, our_cloud, ours)
    assert len(official) == len(ours.transcript.turns) == 2
    for b_turn, record, result in zip(official, ours.transcript.turns, ours.results, strict=True):
        assert_same_successful_turn(b_turn, record, ours)
        assert record.usage["input_tokens"] > 0
        assert record.usage["output_tokens"] > 0
        assert b_tokens(b_turn) == ZERO_USAGE != record.usage
        assert b_turn.result.total_cost_usd == 0.0
        assert result.total_cost_usd is None
        assert result.stop_reason == "end_turn"
        assert b_turn.result.stop_reason is None

    first, second = ours.transcript.turns
    assert official[0].ids_of("agent.message") == list(first.message_ids)
    assert official[1].ids_of("agent.message") == [*first.message_ids, *second.message_ids]
    echoes = [
        event["id"]
        for event in our_cloud.cloud.events(ours.transcript.session_id)
        if event["type"] == "user.message"
    ]
    assert official[0].ids_of("user.message") == echoes[:1]
    assert official[1].ids_of("user.message") == echoes
    assert stream_requests(official_cloud.cloud) == [StreamRequest(None, None)] * 2
    assert stream_requests(our_cloud.cloud) == [StreamRequest(None, None)]


def test_two_turn_conversation_without_turn_ids(
    facade: Facade, serve: Serve, agent_sdk: RunAgentSdk
) -> None:
    """The two turns against a cloud that omits ``turn_id`` everywhere, as recorded real
    traffic does (§1.1).

    §7 #9 with §7 #12 — when the POST reply has no ``turn_id``, B takes every event lacking one
    as part of the current turn; its turn-2 stream replays turn 1 without a cursor, so turn 1's
    events count for turn 2 as well, and turn 1's idle may end turn 2. B's second result is
    turn 1's answer, alone or followed by turn 2's: which one depends on how far B had read the
    replay when its POST returned (a race inside B; both outcomes are accepted, nothing else).
    Ours correlates by its own echo (§6.3) and gets each turn right.
    """
    official_cloud = serve(omit_turn_id=True)
    official = agent_sdk(official_cloud, FRANCE)
    our_cloud = serve(omit_turn_id=True)
    ours = run_ours(facade, our_cloud, FRANCE)

    assert_same_conversation(official_cloud, our_cloud, ours)
    first, second = ours.transcript.turns
    assert (first.turn_id, second.turn_id) == (None, None)
    assert [result.subtype for result in ours.results] == ["success", "success"]
    assert official[0].result.result == first.text
    assert official[1].result.subtype == "success"
    assert official[1].result.result in (first.text, first.text + second.text)
    assert official[1].result.result != second.text
    assert second.text == (
        "Paris has about 2.1 million inhabitants in the city proper "
        "and over 12 million in its metropolitan area."
    )


def test_multi_message_reply(facade: Facade, serve: Serve, agent_sdk: RunAgentSdk) -> None:
    """Four ``agent.message`` events over two model requests: the same joined text and the
    same message ids. §7 #2: B's usage stays zero, ours sums both requests."""
    official_cloud = serve()
    (official,) = agent_sdk(official_cloud, [MULTIPLY])
    our_cloud = serve()
    ours = run_ours(facade, our_cloud, [MULTIPLY])

    assert_same_conversation(official_cloud, our_cloud, ours)
    (record,) = ours.transcript.turns
    assert record.texts == MULTIPLY_TEXTS
    assert_same_successful_turn(official, record, ours)
    assert official.result.result == "".join(MULTIPLY_TEXTS)
    (result,) = ours.results
    assert result.num_model_requests == 2
    assert b_tokens(official) == ZERO_USAGE != record.usage


def test_legacy_usage_is_summed_not_replaced(
    facade: Facade, serve: Serve, agent_sdk: RunAgentSdk
) -> None:
    """§7 #2 — B replaces usage at each ``span.model_request_end`` instead of adding: over two
    model requests reported with legacy ``usage``, B's tokens are the last request's, ours the
    sum. Both sum ``total_cost_usd`` and get the text right."""
    official_cloud = serve()
    (official,) = agent_sdk(official_cloud, [LEGACY])
    our_cloud = serve()
    ours = run_ours(facade, our_cloud, [LEGACY])

    assert_same_conversation(official_cloud, our_cloud, ours)
    (record,) = ours.transcript.turns
    (result,) = ours.results
    assert record.texts == LEGACY_TEXTS
    assert_same_successful_turn(official, record, ours)

    first, last = LEGACY_SPANS
    summed = {key: first[key] + last[key] for key in first}
    assert summed == {"input_tokens": 75, "output_tokens": 26, "cache_read_input_tokens": 0}
    assert result.usage.to_dict() == summed
    assert result.num_model_requests == 2
    assert result.model_usage["ultimate"].to_dict() == summed
    assert result.total_credits is None  # legacy spans report no credits
    assert {key: official.result.usage[key] for key in last} == last != summed
    official_model = official.result.model_usage["ultimate"]
    assert (official_model["inputTokens"], official_model["outputTokens"]) == (45, 6)
    assert result.total_cost_usd == pytest.approx(sum(LEGACY_COSTS))
    assert official.result.total_cost_usd == pytest.approx(sum(LEGACY_COSTS))


@pytest.mark.parametrize(
    "b_stream",
    [None, {}],
    ids=["b_default", "b_with_stream_options"],
)
def test_resumed_stream_after_mid_frame_drop(
    facade: Facade, serve: Serve, agent_sdk: RunAgentSdk, b_stream: dict[str, Any] | None
) -> None:
    """The stream is cut inside the 10th frame (the third agent message) of the turn.

    Ours reconnects with the cursor of the 9th event and reads each message once. B, by
    default (§7 #3), reconnects without a cursor: the history is replayed and the messages it
    had already read are appended a second time, so its text starts with them twice. Given
    its optional ``stream`` settings (here ``{}``), B reconnects with ``after_id`` and gets the
    text right.
    """
    official_cloud = serve()
    official_fault = official_cloud.cloud.inject(StreamFault(drop_after=9))
    (official,) = agent_sdk(official_cloud, [MULTIPLY], stream=b_stream)
    our_cloud = serve()
    our_fault = our_cloud.cloud.inject(StreamFault(drop_after=9))
    ours = run_ours(facade, our_cloud, [MULTIPLY])

    assert official_fault.used == our_fault.used == 1
    assert_same_conversation(official_cloud, our_cloud, ours)
    (record,) = ours.transcript.turns
    assert record.texts == MULTIPLY_TEXTS
    ninth = our_cloud.cloud.events(ours.transcript.session_id)[8]
    assert ninth["id"] == record.message_ids[1]
    assert stream_requests(our_cloud.cloud) == [
        StreamRequest(None, None),
        StreamRequest(ninth["id"], ninth["id"]),
    ]

    if b_stream is not None:
        assert_same_successful_turn(official, record, ours)
        assert stream_requests(official_cloud.cloud) == [
            StreamRequest(None, None),
            StreamRequest(None, ninth["id"]),
        ]
        return

    read_before_drop = record.message_ids[:2]
    assert official.ids_of("agent.message") == [*read_before_drop, *record.message_ids]
    duplicated = "".join(MULTIPLY_TEXTS[:2]) + record.text
    assert official.result.result == duplicated != record.text
    assert duplicated == "Running it. The answer Running it. The answer is 40."
    assert official.result.subtype == "success"
    assert stream_requests(official_cloud.cloud) == [StreamRequest(None, None)] * 2


def test_retrying_session_error(facade: Facade, serve: Serve, agent_sdk: RunAgentSdk) -> None:
    """§7 #4 — B ends the turn with an error on every ``session.error``, even one whose
    ``retry_status`` is ``retrying``: its result is an error, without the text. Ours records the
    error as a warning and reads the turn to its idle: success, the text of both messages, the
    usage of both model requests."""
    official_cloud = serve()
    (official,) = agent_sdk(official_cloud, [FLAKY])
    our_cloud = serve()
    ours = run_ours(facade, our_cloud, [FLAKY])

    assert_same_conversation(official_cloud, our_cloud, ours)
    (record,) = ours.transcript.turns
    (result,) = ours.results
    assert record.texts == FLAKY_TEXTS
    assert result.subtype == "success"
    assert result.is_error is False
    assert result.stop_reason == "end_turn"
    assert result.errors == ()
    (warning,) = result.warnings
    assert RETRY_MESSAGE in warning
    assert result.num_model_requests == 2

    assert official.result.subtype == "error_during_execution"
    assert official.result.is_error is True
    assert official.result.errors == [RETRY_MESSAGE]
    assert official.result.result is None
    assert official.result.session_id == ours.transcript.session_id
    # B yields the raw events it has read before its result; how many depends on when its
    # POST returns, but they are the log's first events, the retrying error among them.
    log = official_cloud.cloud.events(ours.transcript.session_id)
    seen = [event.id for event in official.events]
    assert seen == [event["id"] for event in log[: len(seen)]]
    errors = [event for event in official.events if event.type == "session.error"]
    assert [error.data["error"]["retry_status"] for error in errors] == [{"type": "retrying"}]
