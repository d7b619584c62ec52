"""Every Python block of the documentation (docs/ and README.md) is run by the test suite, or
says why not.

A block is preceded by one of: ``<!-- tested -->`` (a pytest module, run by
test_doc_examples.py), ``<!-- runs -->`` (a program, run against the served emulator by
tests/integration/test_doc_programs.py), or a visible line ``*Not run by the tests: <why>.*``.
A block that only includes an example file (``--8<-- "examples/..."``) is run as that example
by tests/integration/test_examples.py, which must cover every file under examples/.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
MARKERS = ("<!-- tested -->", "<!-- runs -->")
NOT_RUN = re.compile(r"^\*Not run by the tests: .{10,}\.\*$")
INCLUDE = re.compile(r'^--8<-- "examples/([\w.]+)"$')


def pages() -> list[Path]:
    """The pages whose blocks are checked: every page of the site, and the README."""
    return [*sorted(DOCS.glob("*.md")), README]


def python_blocks() -> list[tuple[str, int, str, str]]:
    """(page, line, the marker line before the block, the block's code) for each block."""
    found = []
    for page in pages():
        lines = page.read_text(encoding="utf-8").split("\n")
        for index, line in enumerate(lines):
            if line.startswith("```python"):
                before = [text for text in lines[:index] if text.strip()]
                end = lines.index("```", index + 1)
                code = "\n".join(lines[index + 1 : end])
                found.append((page.name, index + 1, before[-1] if before else "", code))
    return found


def test_every_block_is_run_or_says_why() -> None:
    unmarked = [
        f"{page}:{line}"
        for page, line, marker, code in python_blocks()
        if marker not in MARKERS and not NOT_RUN.match(marker) and not INCLUDE.match(code)
    ]
    assert not unmarked, f"mark these blocks (see this module's docstring): {unmarked}"


def test_every_example_file_is_included_and_run() -> None:
    from tests.integration import test_examples

    run = (
        set(test_examples.EXPECTED)
        | set(test_examples.RESOURCE_EXAMPLES)
        | set(test_examples.PORTING_EXAMPLES)
    )
    files = {path.name for path in (ROOT / "examples").glob("*.py")}
    assert files == run, "every example must run in tests/integration/test_examples.py"
    included = {
        match[1] for *_, code in python_blocks() if (match := INCLUDE.match(code)) is not None
    }
    assert included == files, "docs/examples.md must include every example"
