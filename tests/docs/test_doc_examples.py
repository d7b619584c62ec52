"""The code blocks of docs/ and README.md marked ``<!-- tested -->`` run as they are written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
TESTED = re.compile(r"<!-- tested -->\n```python\n(.*?)```", re.DOTALL)


def doc_blocks() -> list[tuple[str, str]]:
    blocks = []
    for page in PAGES:
        for index, code in enumerate(TESTED.findall(page.read_text(encoding="utf-8"))):
            blocks.append((f"{page.stem}-{index}", code))
    return blocks


def test_some_blocks_are_tested() -> None:
    assert doc_blocks(), "no <!-- tested --> block found in docs/ or README.md"


@pytest.mark.parametrize(("name", "code"), doc_blocks(), ids=lambda v: str(v)[:20])
def test_block_passes_as_a_pytest_module(name: str, code: str, tmp_path: Path) -> None:
    module = tmp_path / f"test_doc_{name.replace('-', '_')}.py"
    module.write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(module)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
