"""The core imports nothing above it: no I/O library, no module of the package outside it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import qoder._protocol

CORE = Path(qoder._protocol.__file__).parent
FORBIDDEN = ("httpx", "anyio", "asyncio", "threading", "socket", "trio", "qoder")


@pytest.mark.parametrize("module", sorted(CORE.glob("*.py")), ids=lambda p: p.name)
def test_the_core_imports_nothing_above_it(module: Path) -> None:
    tree = ast.parse(module.read_text())
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level > 1:  # a relative import from above the package
                imported.append(f"qoder (level {node.level}: {node.module})")
            elif node.level == 0 and node.module is not None:
                imported.append(node.module)
    bad = [name for name in imported if name.split(".")[0].split(" ")[0] in FORBIDDEN]
    assert not bad, f"{module.name} imports {bad}"
