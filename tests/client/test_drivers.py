"""The two facades are drivers of one core: each performs every effect, and nothing else.

Beside the signature parity test (test_lifecycle.py): both facades have a case for every
effect type the core can yield, neither reaches into the core except to run its flows, and
both stay small.
"""

from __future__ import annotations

import inspect
import re
import typing
from pathlib import Path

import pytest

from qoder._async import client as async_client
from qoder._protocol import effects
from qoder._sync import client as sync_client

FACADES = [sync_client, async_client]
EFFECTS = {cls.__name__ for cls in typing.get_args(effects.Effect)}


@pytest.mark.parametrize("module", FACADES, ids=["sync", "async"])
def test_every_effect_has_a_case(module: object) -> None:
    facade = sync_client.SyncClient if module is sync_client else async_client.AsyncClient
    source = inspect.getsource(facade._perform)
    handled = set(re.findall(r"case fx\.(\w+)\(\):", source))
    assert handled == EFFECTS
    assert "fx.unhandled(effect)" in source  # and mypy proves the match exhaustive


@pytest.mark.parametrize("module", FACADES, ids=["sync", "async"])
def test_the_core_is_reached_only_through_flows(module: object) -> None:
    source = Path(inspect.getfile(module)).read_text()  # type: ignore[arg-type]
    uses = re.findall(r"self\._core\.\w+", source)
    flows = re.findall(r"self\._(?:run|read)\(self\._core\.(\w+)\(", source)
    # Every use is a flow handed to the driver, except the read-only properties (the session
    # id for its property and its repr, the state for its repr, the session for its property
    # and get_server_info()), and ready_message(), which hands out a message already decoded.
    assert sorted(uses) == sorted(
        ["self._core.session_id"] * 2
        + ["self._core.state", "self._core.ready_message"]
        + ["self._core.session"] * 2
        + [f"self._core.{name}" for name in flows]
    )


@pytest.mark.parametrize("module", FACADES, ids=["sync", "async"])
def test_each_facade_stays_small(module: object) -> None:
    lines = Path(inspect.getfile(module)).read_text().count("\n")  # type: ignore[arg-type]
    assert lines < 300, f"{module}: {lines} lines"
