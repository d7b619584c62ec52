"""The pytest plugin does not depend on the user's environment, and its users' ``-W error``
runs do not fail on httpx's unclosed async generators under trio."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import respx

from qoder import ResultMessage
from qoder.testing import FakeCloud
from qoder.testing.pytest_plugin import HTTPX_ASYNCGEN_FILTER
from tests.client.driver import Facade

SERVE_HINT = "http://127.0.0.1:8765/api/v1/cloud"


@pytest.fixture
def exported_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """The variables ``python -m qoder serve`` tells users to export, set before the router."""
    monkeypatch.setenv("QODER_MANAGED_BASE_URL", SERVE_HINT)
    monkeypatch.setenv("QODER_CLOUD_AGENT_API_BASE", SERVE_HINT)
    monkeypatch.setenv("QODER_PERSONAL_ACCESS_TOKEN", "emulator-token")
    monkeypatch.setenv("QODER_AGENT_ID", "agent_default")


def test_fake_cloud_router_works_with_an_exported_base_url(
    exported_base_url: None,
    fake_cloud_router: respx.MockRouter,
    fake_cloud: FakeCloud,
    facade: Facade,
) -> None:
    with facade.client() as client:
        result = client.turn("What's the capital of France?")[-1]
    assert isinstance(result, ResultMessage)
    assert result.result == "The capital of France is Paris."
    assert all(call.request.url.host == "api.qoder.com" for call in fake_cloud_router.calls)


USER_MODULE = """
import pytest

from qoder import AsyncClient, QoderAgentOptions, ResultMessage


@pytest.fixture
def anyio_backend():
    return "trio"


@pytest.mark.anyio
async def test_turns_under_trio(fake_cloud_router, fake_cloud):
    options = QoderAgentOptions(auth="test-token", agent="agent_default")
    for _ in range(2):
        async with AsyncClient(options) as client:
            for question in ["What is the capital of France?", "And its population?"]:
                await client.query(question)
                messages = [message async for message in client.receive_response()]
                assert isinstance(messages[-1], ResultMessage)
"""


@pytest.mark.parametrize("strictness", [["-W", "error"], ["-o", "filterwarnings=error"]])
def test_a_users_strict_trio_run_passes(tmp_path: Path, strictness: list[str]) -> None:
    module = tmp_path / "test_user_code.py"
    module.write_text(textwrap.dedent(USER_MODULE), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *strictness, str(module)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_the_filter_is_exactly_the_projects_own() -> None:
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    assert f'"{HTTPX_ASYNCGEN_FILTER}"'.replace("\\", "\\\\") in pyproject.read_text()
