"""``resume=`` attaches to an existing session, and picks up a turn it is still running."""

from __future__ import annotations

from collections.abc import Sequence

from qoder import AssistantMessage, QoderAgentOptions, ResultMessage, TextBlock
from qoder.testing import FakeCloud
from tests.client.driver import Facade

BASE = "https://api.test/api/v1/cloud"
TOKEN = "pat-resume-0123"


def texts(messages: Sequence[object]) -> list[str]:
    return [
        block.text
        for m in messages
        if isinstance(m, AssistantMessage)
        for block in m.content
        if isinstance(block, TextBlock)
    ]


def test_resume_picks_up_a_turn_still_running(facade: Facade) -> None:
    cloud = FakeCloud()
    cloud.agent.on("hello").reply("First answer.")
    cloud.agent.on("slow").reply("Working. ").hold().reply("Done.")
    options = QoderAgentOptions(auth=TOKEN, base_url=BASE, agent="agent_default")
    with cloud.mock(base_url=BASE):
        with facade.client(options) as first:
            assert texts(first.turn("hello")) == ["First answer."]
            first.query("slow, please")
            session_id = first.session_id
            assert session_id is not None
        # The first client is gone mid-turn; the session is still running it.
        assert cloud.session(session_id)["status"] == "running"
        resumed = QoderAgentOptions(auth=TOKEN, base_url=BASE, resume=session_id)
        with facade.client(resumed) as second:
            cloud.release(session_id)
            messages = list(second.receive_response())
    assert texts(messages) == ["Working. ", "Done."]  # the whole running turn, nothing earlier
    result = messages[-1]
    assert isinstance(result, ResultMessage)
    assert result.result == "Working. Done."
    assert result.subtype == "success"


def test_resume_of_an_idle_session_streams_from_its_newest_event(facade: Facade) -> None:
    cloud = FakeCloud()
    cloud.agent.on("hello").reply("Hi.")
    cloud.agent.on("again").reply("Hi again.")
    options = QoderAgentOptions(auth=TOKEN, base_url=BASE, agent="agent_default")
    with cloud.mock(base_url=BASE):
        with facade.client(options) as first:
            first.turn("hello")
            session_id = first.session_id
        resumed = QoderAgentOptions(auth=TOKEN, base_url=BASE, resume=session_id)
        with facade.client(resumed) as second:
            assert list(second.receive_response()) == []  # no turn underway
            assert texts(second.turn("again")) == ["Hi again."]
    streams = [r for r in cloud.requests if r.path.endswith("/events/stream")]
    assert streams[-1].header("last-event-id") is not None


def test_the_attached_session_its_refresh_and_a_hard_cancel(facade: Facade) -> None:
    from qoder import Session

    cloud = FakeCloud()
    cloud.agent.on("slow").reply("Working. ").hold().reply("Done.")
    options = QoderAgentOptions(
        auth=TOKEN, base_url=BASE, agent="agent_default", session_title="Trip"
    )
    with cloud.mock(base_url=BASE), facade.client(options) as client:
        session = client.raw.session
        assert isinstance(session, Session)
        assert (session.id, session.title, session.status) == (client.session_id, "Trip", "idle")
        client.query("slow, please")
        assert facade.run(client.raw.refresh_session).status == "running"
        facade.run(client.raw.cancel)  # the turn is held: only a hard cancel ends it
        messages = list(client.receive_response())
        assert client.raw.session.status == "running"  # as last read; refreshed on demand
        assert facade.run(client.raw.refresh_session).status == "idle"
    cancels = [r for r in cloud.requests if r.path.endswith("/cancel")]
    assert len(cancels) == 1
    result = messages[-1]
    assert isinstance(result, ResultMessage)
    assert texts(messages) == ["Working. "]
