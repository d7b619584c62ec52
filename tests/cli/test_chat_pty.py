"""``python -m qoder chat --local`` in a real pseudo-terminal: type, read the screen, assert.

The chat runs as a child process on a pty (its controlling terminal, so Ctrl-C is the
terminal's own SIGINT and ``readline`` edits the line). Every wait is for text to appear on
the screen, bounded by a deadline; nothing sleeps.
"""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import sys
import time
from collections.abc import Iterator

import pytest

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX"),
]

BOUND = 30.0
# x86-64 Linux: read, poll, select, pselect6, ppoll. readline waits in one of these for a key.
WAITING_FOR_INPUT = {"0", "7", "23", "270", "271"}
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\r")


class Terminal:
    """The chat's screen, as a stream of bytes, and its keyboard."""

    def __init__(self, fd: int, pid: int) -> None:
        self.fd, self.pid = fd, pid
        self.screen = b""

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def expect(self, text: str) -> str:
        """Read until ``text`` appears after what was read so far; the screen up to it."""
        deadline = time.monotonic() + BOUND
        wanted = text.encode()
        while wanted not in ANSI.sub(b"", self.screen):
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} not on the screen:\n{self.screen.decode(errors='replace')}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # the child closed the terminal
                    chunk = b""
                assert chunk, f"the chat ended before {text!r}:\n{self.screen.decode('replace')}"
                self.screen += chunk
        clean = ANSI.sub(b"", self.screen).decode(errors="replace")
        head, _, tail = clean.partition(text)
        self.screen = tail.encode()
        return head + text

    def wait_until_reading(self) -> None:
        """Wait until the chat's main thread is blocked waiting for a key, as it is when a
        person presses one. GNU readline drops a SIGINT that lands in the instant between
        its prompt being drawn and its wait for input starting (Python sees it at the next
        key), which a program typing at machine speed can hit; a person cannot."""
        path = f"/proc/{self.pid}/syscall"
        if not os.path.exists(path):
            return  # not Linux: nothing to look at
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline:
            with open(path) as state:
                if state.read().split(" ", 1)[0] in WAITING_FOR_INPUT:
                    return
            # Read what the chat writes meanwhile; select() paces the loop, no sleep.
            ready, _, _ = select.select([self.fd], [], [], 0.01)
            if ready:
                with contextlib.suppress(OSError):
                    self.screen += os.read(self.fd, 65536)
        raise AssertionError("the chat never waited for input")

    def exit_status(self) -> int:
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline:
            with_output, _, _ = select.select([self.fd], [], [], 0.5)
            if with_output:
                with contextlib.suppress(OSError):
                    self.screen += os.read(self.fd, 65536)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
        raise AssertionError("the chat did not exit")


@pytest.fixture
def chat() -> Iterator[Terminal]:
    pid, fd = pty.fork()
    if pid == 0:  # the child: the chat, on the pty
        env = {k: v for k, v in os.environ.items() if not k.startswith("QODER_")}
        env["TERM"] = "dumb"
        os.execve(sys.executable, [sys.executable, "-m", "qoder", "chat", "--local"], env)
    terminal = Terminal(fd, pid)
    try:
        yield terminal
    finally:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)


def test_a_chat_in_a_terminal(chat: Terminal) -> None:
    chat.expect("Connected to session sess_")
    chat.expect("you> ")
    chat.type("What's the capital of France?\n")
    assert "agent> The capital of France is Paris." in chat.expect("you> ")

    chat.type("\x1b[A\n")  # up: the last prompt again, from readline's history
    assert "The capital of France is Paris." in chat.expect("you> ")

    chat.type("/help\n")
    assert "/sessions" in chat.expect("you> ")

    chat.type("run the command `ls`\n")  # the default agent's bash: the user is asked
    chat.expect("[permission] bash {'command': 'ls'}")
    chat.expect("allow? [y/N] ")
    chat.type("y\n")
    assert "I ran `ls`. Its output:" in chat.expect("you> ")
    chat.type("run the command `rm -rf build`\n")
    chat.expect("allow? [y/N] ")
    chat.type("n\n")
    assert 'so I did not use it: "The user said no."' in chat.expect("you> ")

    chat.type("/new\n")
    chat.expect("Connected to session sess_")
    chat.expect("you> ")
    chat.type("/sessions\n")
    listing = chat.expect("/sessions N switches to one.")
    assert re.search(r"\*\s+1\. sess_\w+ idle", listing), listing
    chat.expect("you> ")
    chat.type("/sessions 2\n")  # back to the first session
    chat.expect("Resumed session sess_")
    chat.expect("you> ")


def test_ctrl_c_interrupts_a_turn_then_ends_the_chat_at_the_prompt(chat: Terminal) -> None:
    chat.expect("you> ")
    chat.type("Think for 30 seconds, then what is 2+2?\n")
    chat.expect("[thinking]")
    chat.type("\x03")  # Ctrl-C mid-turn
    chat.expect("[interrupting]")
    chat.expect("[interrupted]")
    chat.expect("you> ")
    chat.wait_until_reading()
    chat.type("\x03")  # Ctrl-C at the prompt
    assert chat.exit_status() == 0
    assert b"Traceback" not in chat.screen
