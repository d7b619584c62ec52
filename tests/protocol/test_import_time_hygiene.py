"""What ``import qoder`` loads, checked in a fresh interpreter (no timing: module lists only).

``import qoder`` loads its exported names on first use, so the import itself loads neither
httpx nor the clients; using the clients never loads the testing kit, the CLI, the server
extra or the event loops' backends before they are needed.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import qoder

NEVER = ("qoder.testing", "qoder.cli", "qoder._chat", "uvicorn", "starlette", "respx", "pytest")


def _modules_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _loaded(modules: set[str], prefix: str) -> list[str]:
    return sorted(m for m in modules if m == prefix or m.startswith(prefix + "."))


def test_import_qoder_loads_only_the_package() -> None:
    modules = _modules_after("import qoder")
    assert _loaded(modules, "qoder") == ["qoder", "qoder._version"]
    for name in ("httpx", "attrs", "cattrs", "anyio", "orjson", *NEVER):
        assert not _loaded(modules, name), name


@pytest.mark.parametrize(
    "code",
    [
        "from qoder import AsyncClient, QoderAgentOptions",
        "from qoder import SyncClient, QoderAgentOptions",
        "from qoder import Cloud, AsyncCloud, events, query, query_sync",
        "from qoder import *",
    ],
)
def test_the_clients_never_load_the_kit_the_cli_or_the_server(code: str) -> None:
    modules = _modules_after(code)
    for name in NEVER:
        assert not _loaded(modules, name), (code, _loaded(modules, name))


def test_every_exported_name_resolves_and_is_cached() -> None:
    for name in qoder.__all__:
        value = getattr(qoder, name)
        assert value is not None, name
        assert qoder.__dict__[name] is value, name
    assert qoder.QoderSDKClient is qoder.AsyncClient
    assert set(qoder.__all__) <= set(dir(qoder))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        qoder.nope  # noqa: B018
