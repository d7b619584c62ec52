"""``python -m qoder``: serve, chat and demo, against the emulator on loopback."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from qoder.cli import chat, main

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
