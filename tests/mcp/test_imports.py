"""The MCP SDK stays optional: qoder, qoder.hooks and the config module never import it;
qoder.mcp without it says which extra to install."""

from __future__ import annotations

import subprocess
import sys


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_qoder_does_not_import_mcp() -> None:
    done = run(
        "import sys, qoder, qoder.hooks, qoder._mcp.config\n"
        "assert 'mcp' not in sys.modules, sorted(m for m in sys.modules if 'mcp' in m)\n"
    )
    assert done.returncode == 0, done.stderr


def test_qoder_mcp_without_the_mcp_package_names_the_extra() -> None:
    done = run(
        "import sys\n"
        "sys.modules['mcp'] = None\n"
        "try:\n"
        "    import qoder.mcp\n"
        "except ImportError as error:\n"
        "    print(error)\n"
        "else:\n"
        "    raise SystemExit('imported')\n"
    )
    assert done.returncode == 0, done.stderr
    assert "pip install 'qoder[mcp]'" in done.stdout
