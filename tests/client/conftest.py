"""The scripted API on respx, for every facade test in this folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx

from tests.client.scripted import ScriptedAPI


@pytest.fixture
def api() -> Iterator[ScriptedAPI]:
    """A hand-scripted API for session ``sess_01``, mocked with respx for the test."""
    with respx.mock(assert_all_called=False) as router:
        yield ScriptedAPI(router)
