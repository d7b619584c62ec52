"""``python -m qoder``: serve, chat and demo, against the emulator on loopback."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from qoder.cli import chat, main, serve_banner

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_the_official_example(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["demo", "examples/multi_turn.py"]) == 0
    out = capfd.readouterr().out
    assert out.count("Assistant: The capital of France is Paris.") == 1
    assert "Assistant: Paris has about 2.1 million inhabitants" in out
    assert out.rstrip().endswith("Done: success")


def test_demo_rejects_a_missing_script(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "no/such/script.py"]) == 2
    assert "no such script" in capfd.readouterr().err


def test_chat_streams_two_turns() -> None:
    stdin = io.StringIO("What's the capital of France?\nWhat's the population of that city?\n\n")
    stdout = io.StringIO()
    assert chat(local=True, stdin=stdin, stdout=stdout) == 0
    transcript = stdout.getvalue()
    assert transcript.count("The capital of France is Paris.") == 1
    assert "2.1 million" in transcript
    assert transcript.startswith("Connected to session sess_")
    assert "QODER_MANAGED_BASE_URL" not in os.environ  # the environment is restored


def test_serve_prints_its_base_url_and_answers() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "qoder", "serve", "--port", "0", "--token", "tok"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert line.startswith("Qoder Cloud emulator listening on http://127.0.0.1:")
        base_url = line.rsplit(" ", 1)[1].strip()
        assert base_url.endswith("/api/v1/cloud")
        banner = [server.stdout.readline().rstrip("\n") for _ in range(6)]
        assert banner == [
            "Only the bearer token given with --token is accepted.",
            "Point a client at it (paste into a shell):",
            f"  export QODER_MANAGED_BASE_URL={base_url}",
            "  export QODER_PERSONAL_ACCESS_TOKEN=tok",
            "  export QODER_AGENT_ID=agent_default",
            "  export QODER_ENVIRONMENT_ID=env_default",
        ]
        with httpx.Client(base_url=base_url, timeout=10) as http:
            assert http.get("/sessions").status_code == 401
            ok = http.get("/sessions", headers={"Authorization": "Bearer tok"})
            assert ok.status_code == 200
            assert ok.json()["data"] == []
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()


def test_serve_banner_without_a_token_says_any_is_accepted() -> None:
    lines = serve_banner("http://127.0.0.1:1/api/v1/cloud", None)
    assert lines[1] == "Any non-empty bearer token is accepted."
    assert "  export QODER_PERSONAL_ACCESS_TOKEN=emulator-token" in lines
    assert all(line.startswith("  export ") for line in lines[3:])


def test_serve_on_a_port_in_use_is_one_line(capfd: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
    captured = capfd.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert "Traceback" not in captured.err
