"""The documentation's ``<!-- runs -->`` blocks, each run as a program against the served
emulator, configured by the environment only (as a reader would run them after
``python -m qoder serve``): it must exit 0 without a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from qoder.testing import DEFAULT_AGENT_ID, DEFAULT_ENVIRONMENT_ID, ServedCloud
from tests.docs.test_every_block import python_blocks
from tests.integration.support import TOKEN

pytestmark = pytest.mark.integration

PROGRAMS = [
    (f"{page}:{line}", code)
    for page, line, marker, code in python_blocks()
    if marker == "<!-- runs -->"
]


def test_some_blocks_run() -> None:
    assert PROGRAMS


@pytest.mark.parametrize(("where", "code"), PROGRAMS, ids=[where for where, _ in PROGRAMS])
def test_the_block_runs(where: str, code: str, served: ServedCloud, tmp_path: Path) -> None:
    program = tmp_path / "block.py"
    program.write_text(code, encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "QODER_PERSONAL_ACCESS_TOKEN": TOKEN,
        "QODER_MANAGED_BASE_URL": served.base_url,
        "QODER_AGENT_ID": DEFAULT_AGENT_ID,
        "QODER_ENVIRONMENT_ID": DEFAULT_ENVIRONMENT_ID,
    }
    done = subprocess.run(
        [sys.executable, str(program)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"{where}:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
