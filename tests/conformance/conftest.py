"""Fixtures of the conformance tests: served clouds, one per client, and B's environment."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from qoder.testing import ServedCloud, serve_in_thread
from tests.conformance.harness import AgentSdkTurn, new_cloud, run_agent_sdk


@pytest.fixture
def serve() -> Iterator[Callable[..., ServedCloud]]:
    """``serve(omit_turn_id=False)``: a fresh :func:`new_cloud` served on 127.0.0.1.

    Call it once per client, so that each client's conversation has the same ids. Every server
    started is stopped (its streams closed) when the test ends.
    """
    with ExitStack() as stack:

        def start(*, omit_turn_id: bool = False) -> ServedCloud:
            cloud = new_cloud(omit_turn_id=omit_turn_id)
            return stack.enter_context(serve_in_thread(cloud, host="127.0.0.1"))

        yield start


@pytest.fixture
def agent_sdk(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[AgentSdkTurn]]:
    """``agent_sdk(served, prompts, stream=None)``: run qoder-agent-sdk against ``served``.

    B takes its base URL only from ``QODER_CLOUD_AGENT_API_BASE``; it is set for the run (and
    restored after the test, like every ``QODER_*`` variable).
    """

    def run(served: ServedCloud, prompts: Any, *, stream: Any = None) -> list[AgentSdkTurn]:
        monkeypatch.setenv("QODER_CLOUD_AGENT_API_BASE", served.base_url)
        return run_agent_sdk(served, prompts, stream=stream)

    return run
