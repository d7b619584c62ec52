"""``python -m qoder chat``: a multi-turn chat in the terminal, on :class:`~qoder.SyncClient`.

Line editing and history come from ``readline`` where Python has it (arrow keys, up recalls
the last prompt). The agent's text streams as it arrives; tool calls are shown, and a tool
that asks permission is put to the user (``y``/``n``). Ctrl-C during a turn interrupts it (the
turn still ends with its result); Ctrl-C or Ctrl-D at the prompt ends the chat on a fresh
line. Commands: ``/help``, ``/new`` (a new session), ``/sessions`` (the agent's recent
sessions; ``/sessions N`` switches to one), ``/quit``.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import Any, TextIO

from ._chat import render_turn
from ._protocol.answers import PermissionResultAllow, PermissionResultDeny

__all__ = ["ChatSession"]

HELP = """Commands:
  /help          this help
  /new           start a new session
  /sessions      list the agent's recent sessions; /sessions N switches to number N
  /quit          end the chat (also Ctrl-D, or Ctrl-C at the prompt)
Ctrl-C while the agent answers interrupts the turn."""


def _enable_line_editing() -> None:
    """Arrow keys and history for ``input()``, where the platform has readline."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (importing it is what enables it)


class ChatSession:
    """One chat: a client at a time, commands, and the terminal it talks to."""

    def __init__(self, stdin: TextIO, out: TextIO) -> None:
        self._stdin, self._out = stdin, out
        self._interactive = stdin is sys.stdin and stdin.isatty()
        self._client: Any = None
        self._listed: list[str] = []
        if self._interactive:
            _enable_line_editing()

    # --- the loop --------------------------------------------------------------------------

    def run(self) -> int:
        """Chat until the user quits; 0."""
        try:
            self._connect(None)
            self._out.write("Type /help for commands. Empty line, /quit or Ctrl-D to quit.\n")
            while (line := self._read("you> ")) is not None:
                if not line.strip() or line.strip() == "/quit":
                    break
                if line.startswith("/"):
                    self._command(line.strip())
                else:
                    self._turn(line.strip())
        except KeyboardInterrupt:  # Ctrl-C at the prompt: leave on a fresh line
            pass
        finally:
            self._out.write("\n")
            self._disconnect()
        return 0

    def _read(self, prompt: str) -> str | None:
        """A line the user typed (``None`` at end of input)."""
        if self._interactive:
            try:
                return input(prompt)
            except EOFError:
                return None
        self._out.write(prompt)
        self._out.flush()
        line = self._stdin.readline()
        return line.rstrip("\n") if line else None

    def _turn(self, prompt: str) -> None:
        client = self._client
        client.query(prompt)
        try:
            render_turn(client.receive_response(), self._out)
        except KeyboardInterrupt:
            self._out.write("\n  [interrupting]\n")
            client.interrupt()
            render_turn(client.receive_response(), self._out)

    # --- commands --------------------------------------------------------------------------

    def _command(self, line: str) -> None:
        name, _, argument = line.partition(" ")
        commands: dict[str, Callable[[str], None]] = {
            "/help": self._help,
            "/new": lambda _: self._switch(None),
            "/sessions": self._sessions,
        }
        command = commands.get(name)
        if command is None:
            self._out.write(f"Unknown command {name}; /help lists them.\n")
        else:
            command(argument.strip())

    def _help(self, argument: str) -> None:
        self._out.write(HELP + "\n")

    def _sessions(self, argument: str) -> None:
        if argument:
            if not argument.isdigit() or not 1 <= int(argument) <= len(self._listed):
                self._out.write("Give the number of a session /sessions listed.\n")
                return
            self._switch(self._listed[int(argument) - 1])
            return
        from . import Cloud

        options = self._options()
        agent = self._client.get_server_info()["agent_id"]
        with Cloud(options) as cloud:
            page = cloud.sessions.list(agent_id=agent, limit=10).first_page()
        self._listed = [session.id for session in page.data]
        for number, session in enumerate(page.data, start=1):
            mark = "*" if session.id == self._client.session_id else " "
            title = f" {session.title}" if session.title else ""
            self._out.write(f" {mark}{number:>2}. {session.id} {session.status}{title}\n")
        self._out.write("/sessions N switches to one.\n")

    # --- clients ---------------------------------------------------------------------------

    def _options(self, resume: str | None = None) -> Any:
        from . import QoderAgentOptions

        return QoderAgentOptions(
            include_partial_messages=True, can_use_tool=self._ask_permission, resume=resume
        )

    def _connect(self, resume: str | None) -> None:
        from . import SyncClient

        client = SyncClient(self._options(resume))
        client.connect()
        self._client = client
        verb = "Resumed" if resume else "Connected to"
        self._out.write(f"{verb} session {client.session_id}.\n")

    def _switch(self, resume: str | None) -> None:
        self._disconnect()
        self._connect(resume)

    def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()

    def _ask_permission(
        self, tool_name: str, tool_input: dict[str, Any], context: Any
    ) -> PermissionResultAllow | PermissionResultDeny:
        """A tool that asks permission: the user says yes or no."""
        self._out.write(f"\n  [permission] {tool_name} {tool_input}\n")
        answer = self._read("  allow? [y/N] ")
        if answer is not None and answer.strip().lower() in ("y", "yes"):
            return PermissionResultAllow()
        return PermissionResultDeny(message="The user said no.")
