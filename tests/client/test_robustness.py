"""What the review found: a client must never wedge, leak, or spin on a bad input or a fault."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import anyio
import anyio.lowlevel
import httpx
import pytest

from qoder import (
    AsyncClient,
    BadRequestError,
    ClientStateError,
    ConfigurationError,
    QoderAgentOptions,
    ResultMessage,
    ThinkingBlock,
    access_token,
    tool,
)
from tests.client.driver import Facade
from tests.client.scripted import BLOCK, ScriptedAPI, stream_of, turn_events
from tests.client.test_conversation import options, texts
from tests.client.test_tools import custom_tool_turn, permission_turn


def test_a_raising_can_use_tool_denies_the_call(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of(permission_turn()))
    api.reply_with("evt_01", "turn_01")
    api.reply_with("evt_04", "turn_01", "user.tool_confirmation")

    def broken(name: str, tool_input: dict[str, Any], context: object) -> bool:
        raise ValueError("policy service down")

    with facade.client(options(can_use_tool=broken)) as client:
        messages = client.turn("rm")
    answer = api.posted[1]["events"][0]
    assert (answer["result"], answer["tool_use_id"]) == ("deny", "evt_02")
    assert "policy service down" in answer["deny_message"]
    assert isinstance(messages[-1], ResultMessage)


def test_a_handler_returning_strings_sends_text_blocks(facade: Facade, api: ScriptedAPI) -> None:
    before, after = custom_tool_turn()
    api.streams.append(stream_of(before + after))
    api.reply_with("evt_21", "turn_21")
    api.reply_with("evt_27", "turn_21", "user.custom_tool_result")

    @tool
    def get_weather(city: str) -> list[str]:
        """Weather."""
        return ["18°C", "sunny"]

    with facade.client(options(tools=[get_weather])) as client:
        client.turn("Weather in Paris?")
    assert api.posted[1]["events"][0]["content"] == [
        {"type": "text", "text": "18°C"},
        {"type": "text", "text": "sunny"},
    ]


@pytest.mark.anyio
async def test_a_handler_cancelled_midway_runs_again_at_the_next_read(api: ScriptedAPI) -> None:
    before, after = custom_tool_turn()
    api.streams.append(stream_of(before + after))
    api.reply_with("evt_21", "turn_21")
    api.reply_with("evt_27", "turn_21", "user.custom_tool_result")
    calls: list[str] = []
    started = anyio.Event()

    @tool
    async def get_weather(city: str) -> str:
        """Weather."""
        calls.append(city)
        if len(calls) == 1:
            started.set()
            await anyio.Event().wait()  # the first run never finishes: it is cancelled
        return "18°C, sunny"

    async with AsyncClient(options(tools=[get_weather])) as client:
        await client.query("Weather in Paris?")
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tasks:

                async def read() -> None:
                    async for _ in client.receive_response():
                        pass

                tasks.start_soon(read)
                await started.wait()
                scope.cancel()
        rest = [m async for m in client.receive_response()]
    assert calls == ["Paris", "Paris"]
    assert len(api.posted) == 2  # one answer, posted once
    assert isinstance(rest[-1], ResultMessage)
    assert rest[-1].result == "It is 18°C and sunny in Paris."


def test_refused_reconnects_use_up_the_budget(facade: Facade, api: ScriptedAPI) -> None:
    events = turn_events("turn_01", 1, "hi")
    api.streams.append(stream_of(events[:3]))  # then every reconnect is refused with a 503
    refused = httpx.Response(
        503, json={"type": "error", "error": {"type": "api_error", "message": "down"}}
    )
    # The route's side effect is ScriptedAPI._stream; call it once for the first connection.
    play = cast("Callable[[httpx.Request | None], httpx.Response]", api.stream_route.side_effect)
    api.stream_route.side_effect = [play(None)] + [refused] * 10
    api.reply_with("evt_01", "turn_01")
    with facade.client(options(stream_reconnect_delay=0.001, max_stream_reconnects=3)) as client:
        result = client.turn("hello")[-1]
    assert isinstance(result, ResultMessage)
    assert result.terminal_reason == "stream_lost"
    assert api.stream_route.call_count == 1 + 3


@pytest.mark.parametrize("bad", [["just a string"], [ThinkingBlock("x")]])
def test_an_unsendable_prompt_does_not_start_a_turn(
    facade: Facade, api: ScriptedAPI, bad: list[Any]
) -> None:
    api.streams.append(stream_of(turn_events("turn_01", 1, "hi")))
    api.reply_with("evt_01", "turn_01")
    with facade.client(options()) as client:
        with pytest.raises(TypeError, match=r"content|cannot be sent"):
            client.query(bad)
        assert api.posted == []
        assert texts(client.turn("hello")) == ["hi"]


def test_a_refused_respond_keeps_the_turn_waiting(facade: Facade, api: ScriptedAPI) -> None:
    before, after = custom_tool_turn()
    api.streams.append(stream_of(before + after))
    api.reply_with("evt_21", "turn_21")
    bad = {"type": "error", "error": {"type": "invalid_request_error", "message": "not pending"}}
    api.replies.append(httpx.Response(400, json=bad))
    api.reply_with("evt_27", "turn_21", "user.custom_tool_result")
    with facade.client(options()) as client:
        stopped = client.turn("Weather in Paris?")[-1]
        assert isinstance(stopped, ResultMessage)
        assert stopped.stop_reason == "requires_action"
        with pytest.raises(BadRequestError):
            client.raw_respond({"evt_2": "typo"})
        client.raw_respond({"evt_24": "18°C, sunny"})
        final = list(client.receive_response())[-1]
    assert isinstance(final, ResultMessage)
    assert final.result == "It is 18°C and sunny in Paris."


def test_respond_without_a_waiting_turn_says_so(facade: Facade, api: ScriptedAPI) -> None:
    api.streams.append(stream_of([]))
    with (
        facade.client(options()) as client,
        pytest.raises(ClientStateError, match="requires_action"),
    ):
        client.raw_respond({"evt_1": "x"})


@pytest.mark.anyio
async def test_two_concurrent_readers_get_a_clear_error(api: ScriptedAPI) -> None:
    api.streams.append([*stream_of(turn_events("turn_01", 1, "hi")[:2]), BLOCK])
    api.reply_with("evt_01", "turn_01")
    async with AsyncClient(options()) as client:
        await client.query("hello")
        first_reading = anyio.Event()
        errors: list[BaseException] = []

        async def first() -> None:
            first_reading.set()
            async for _ in client.receive_messages():
                pass

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(first)
            await first_reading.wait()
            await anyio.wait_all_tasks_blocked()
            try:
                async for _ in client.receive_events():
                    pass
            except ClientStateError as error:
                errors.append(error)
            tasks.cancel_scope.cancel()
    assert "one task at a time" in str(errors[0])


def test_token_white_space_is_stripped_and_bad_tokens_are_refused_unseen() -> None:
    assert access_token("pat-abc\n").reveal() == "pat-abc"
    with pytest.raises(ConfigurationError) as caught:
        access_token("pat secret\u00e9")
    assert "secret" not in str(caught.value)


def test_max_buffered_messages_must_be_positive(facade: Facade, api: ScriptedAPI) -> None:
    client = facade.client(options(max_buffered_messages=0))
    with pytest.raises(ConfigurationError, match="max_buffered_messages"):
        client.connect()


def test_refreshed_tokens_are_stripped_and_every_token_is_redacted() -> None:
    from qoder._protocol.flows import SessionCore
    from qoder.options import resolve_options

    core = SessionCore()
    next(core.connect(lambda: resolve_options(QoderAgentOptions(auth="old-token", agent="a"), {})))
    assert core.caller is not None
    core.caller.set_token("new-token\n")
    assert core.caller.headers()["Authorization"] == "Bearer new-token"
    assert core.redact("old-token and new-token") == "*** and ***"


def test_sync_client_runs_coroutine_callbacks_inside_a_running_event_loop(
    api: ScriptedAPI,
) -> None:
    """A Jupyter cell runs inside an asyncio loop: a coroutine can_use_tool still decides."""
    import asyncio

    from qoder import SyncClient

    api.streams.append(stream_of(permission_turn()))
    api.reply_with("evt_01", "turn_01")
    api.reply_with("evt_04", "turn_01", "user.tool_confirmation")

    async def allow(name: str, tool_input: dict[str, Any], context: object) -> bool:
        await anyio.lowlevel.checkpoint()
        return True

    async def cell() -> list[Any]:
        with SyncClient(options(can_use_tool=allow)) as client:
            client.query("rm")
            return list(client.receive_response())

    messages = asyncio.run(cell())
    answer = api.posted[1]["events"][0]
    assert (answer["result"], answer["tool_use_id"]) == ("allow", "evt_02")
    assert isinstance(messages[-1], ResultMessage)
