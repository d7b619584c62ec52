"""The shipped examples, run as programs against the served emulator, configured only by the
environment (as a user would run them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from qoder.testing import DEFAULT_AGENT_ID, DEFAULT_ENVIRONMENT_ID, ServedCloud, StreamFault
from tests.integration.support import CAPITAL, POPULATION, TOKEN, RecordingCloud

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXPECTED = {
    "multi_turn.py": [
        f"Assistant: {CAPITAL}",
        f"Assistant: {POPULATION}",
        "Done: success",
    ],
    "multi_turn_manual.py": [f"Assistant: {CAPITAL}", "Done: success"],
    "multi_turn_sync.py": [
        f"Assistant: {CAPITAL}",
        "Done: success",
        f"Assistant: {POPULATION}",
        "Done: success",
    ],
}
RESOURCE_EXAMPLES = {
    "sessions.py": [
        "Newest session: idle",
        "User: What's the capital of France?",
        f"Assistant: {CAPITAL}",
        "Turn 1: success",
        f"Assistant: {POPULATION}",
        "Title: France",
    ],
}
FAULTS = {
    "clean": None,
    "cut_inside_the_answer": 3,  # the first stream is cut inside the agent.message frame
    "cut_after_the_answer": 4,  # ... inside the span.model_request_end right after it
}


def run_example(example: str, served: ServedCloud) -> subprocess.CompletedProcess[str]:
    """Run ``examples/<example>`` as a user would: configured by the environment only."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "QODER_PERSONAL_ACCESS_TOKEN": TOKEN,
        "QODER_MANAGED_BASE_URL": served.base_url,
        "QODER_AGENT_ID": DEFAULT_AGENT_ID,
        "QODER_ENVIRONMENT_ID": DEFAULT_ENVIRONMENT_ID,
    }
    return subprocess.run(
        [sys.executable, str(EXAMPLES / example)],
        env=env,
        cwd=EXAMPLES.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("example", list(EXPECTED))
def test_example_prints_the_answer_once(
    cloud: RecordingCloud, served: ServedCloud, example: str, fault: str
) -> None:
    drop_after = FAULTS[fault]
    if drop_after is not None:
        cloud.inject(StreamFault(drop_after=drop_after))
    done = run_example(example, served)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stdout.splitlines()
    assert lines == EXPECTED[example]
    assert lines.count(f"Assistant: {CAPITAL}") == 1

    streams = cloud.stream_requests()
    assert len(cloud.event_posts()) == 2  # resuming never re-posts
    if drop_after is None:
        assert len(streams) == 1
    else:
        (session_id,) = {r.path.split("/")[-3] for r in streams}
        assert len(streams) == 2
        cursor = cloud.events(session_id)[drop_after - 1]["id"]
        assert streams[1].header("last-event-id") == cursor


@pytest.mark.parametrize("example", list(RESOURCE_EXAMPLES))
def test_resource_example_runs(cloud: RecordingCloud, served: ServedCloud, example: str) -> None:
    done = run_example(example, served)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == RESOURCE_EXAMPLES[example]
    (session,) = [
        cloud.session(s) for s in {r.path.split("/")[-3] for r in cloud.stream_requests()}
    ]
    assert session["archived_at"] is not None


PORTING_EXAMPLES = {
    "one_shot.py": ["async: 6 * 7 = 42.", "sync: The capital of Japan is Tokyo."],
    "interrupt.py": [
        "The agent is at work: interrupting.",
        "Done: success, terminal_reason=interrupted",
        "Next turn: 2 + 2 = 4.",
    ],
    "multimodal.py": [
        "Done: success",
        'Answer: You said: "Describe this picture.". This is a reproducible reply from the '
        "Qoder Cloud emulator (3 words received).",
    ],
    "concurrent_service.py": [
        line
        for country, city, population in (
            ("Brazil", "Brasília", "Brasília has about 2.8 million inhabitants."),
            ("Canada", "Ottawa", "Ottawa has about 1 million inhabitants."),
            (
                "Egypt",
                "Cairo",
                "Cairo has about 10 million inhabitants, and over 22 million in its "
                "metropolitan area.",
            ),
            ("France", "Paris", POPULATION),
            (
                "India",
                "New Delhi",
                "New Delhi has about 250,000 inhabitants, and Delhi as a whole about 33 million.",
            ),
            ("Italy", "Rome", "Rome has about 2.8 million inhabitants."),
            (
                "Japan",
                "Tokyo",
                "Tokyo has about 14 million inhabitants, and about 37 million in the Greater "
                "Tokyo Area.",
            ),
            (
                "Spain",
                "Madrid",
                "Madrid has about 3.4 million inhabitants in the city proper and about 6.9 "
                "million in its metropolitan area.",
            ),
        )
        for line in (
            f"{country}, turn 1: The capital of {country} is {city}.",
            f"{country}, turn 2: {population}",
        )
    ],
    "testing_your_code.py": [
        "All three answers as expected, one of them after a 503 that the client retried."
    ],
    "tools_and_permissions.py": [
        "User: use the add tool to add 15 and 27",
        "Assistant: The add tool returned 42.",
        "Done: success",
        "User: read the file README.md",
        "Assistant: Here is README.md:",
        "# README.md",
        "",
        "The emulator's stand-in for README.md: no real file was read.",
        "Done: success",
        "User: run the command `rm -rf build`",
        'Assistant: The bash tool was denied, so I did not use it: "Nothing gets deleted today."',
        "Done: success (denied: bash)",
        "User: run the command `ls`",
        "Allowing bash {'command': 'ls'}",
        "Assistant: I ran `ls`. Its output:",
        "README.md",
        "notes.txt",
        "src",
        "Done: success",
    ],
    "mcp_servers.py": [
        "User: use the mcp__calc__multiply tool to multiply 6 and 7",
        "Assistant: The mcp__calc__multiply tool returned 42.",
        "User: use the mcp__text__shout tool on 'hello from a subprocess'",
        "Assistant: The mcp__text__shout tool returned HELLO FROM A SUBPROCESS.",
    ],
    "hooks.py": [
        "User: run the command `rm -rf build`",
        "Assistant: The bash tool was denied, so I did not use it: "
        '"Deleting files is not allowed."',
        "User: run the command `ls`",
        "[audit] Bash {'command': 'ls'}",
        "Assistant: I ran `ls`. Its output:",
        "README.md",
        "notes.txt",
        "src",
        "User: What are your instructions?",
        'Assistant: I have no system prompt. For this turn I was also told: "Keep answers short."',
    ],
    "options_sync.py": [
        "User: What is your system prompt?",
        'Assistant: My system prompt is: "You are a geography teacher."',
        "Done: success, session cost so far: 0.000246 USD",
        "User: What model are you?",
        'Assistant: I am running on the model "fast-1".',
        "Done: success, session cost so far: 0.000456 USD",
        "User: What model are you?",
        'Assistant: I am running on the model "ultimate".',
        "Done: success, session cost so far: 0.000666 USD",
        "User: What's the capital of Japan?",
        "Assistant: The capital of Japan is Tokyo.",
        "Done: success, session cost so far: 0.000852 USD",
    ],
}


@pytest.mark.parametrize("example", list(PORTING_EXAMPLES))
def test_porting_example_runs(served: ServedCloud, example: str) -> None:
    """The examples of each feature, written with the official SDK's names, against the
    default agent (testing_your_code.py needs none: it brings its own emulator)."""
    done = run_example(example, served)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stdout.splitlines()
    expected = PORTING_EXAMPLES[example]
    assert lines[: len(expected)] == expected
    if example == "options_sync.py":
        assert lines[len(expected)].startswith("Session: {'session_id': 'sess_")
        assert "'model': 'ultimate'" in lines[len(expected)]
