"""Start-up: how long a fresh interpreter takes to import each client, against ``import httpx``.

Each command is a whole ``python -c …`` process (interpreter start included, as a user's script
pays it), timed from outside with ``time.perf_counter``; the commands take turns run by run so
that drift hits all alike, and each ratio is taken pair by pair with the ``import httpx`` run of
the same round. Also: the first ``connect()`` of a client, which builds what the import left
for later (a client's own HTTP client, its SSL context).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import Any

COMMANDS: tuple[tuple[str, str], ...] = (
    ("python", "pass"),
    ("httpx", "import httpx"),
    ("qoder", "import qoder"),
    ("qoder_async", "from qoder import AsyncClient, QoderAgentOptions"),
    ("qoder_sync", "from qoder import SyncClient, QoderAgentOptions"),
    ("qca", "import qca"),
    ("agent_sdk", "import qoder_agent_sdk"),
)


def _once(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - start


def run(rounds: int = 11) -> dict[str, Any]:
    """Per command: the seconds of each round, and the ratio to ``import httpx`` per round."""
    seconds: dict[str, list[float]] = {key: [] for key, _ in COMMANDS}
    errors: dict[str, str] = {}
    for key, code in COMMANDS:  # a warm-up: the OS caches the files, Python its bytecode
        try:
            _once(code)
        except subprocess.CalledProcessError as error:
            lines = (error.stderr or b"").decode().strip().splitlines()
            errors[key] = lines[-1] if lines else "failed"
    for _ in range(rounds):
        for key, code in COMMANDS:
            if key not in errors:
                seconds[key].append(_once(code))
    ratios = {
        key: [a / b for a, b in zip(values, seconds["httpx"], strict=True)]
        for key, values in seconds.items()
        if values
    }
    return {"rounds": rounds, "seconds": seconds, "ratio_to_httpx": ratios, "errors": errors}


def main() -> None:
    result = run()
    for key, values in result["seconds"].items():
        if values:
            ratio = statistics.median(result["ratio_to_httpx"][key])
            print(f"{key:12s} {statistics.median(values) * 1e3:7.1f} ms  {ratio:5.2f}x httpx")
    print(result["errors"])


if __name__ == "__main__":
    main()
