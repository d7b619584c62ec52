"""The figures of a run as Markdown, and writing them into docs/reliability.md.

The document keeps its prose; the command replaces only the block between
``<!-- figures:<section>:begin -->`` and ``<!-- figures:<section>:end -->``.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.reliability.cancellation import CancelReport
    from tests.reliability.soak import Report

__all__ = ["cancel_line", "section", "soak_line", "write"]


def _commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
    )
    return done.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def soak_line(report: Report) -> str:
    """One line per facade, printed while the command runs."""
    return (
        f"soak {'+'.join(report.facades)}: {report.turns} turns in {report.seconds:.1f} s, "
        f"{sum(report.faults.values())} faults, lost {report.lost}, "
        f"duplicated {report.duplicated}, held: {report.held}"
    )


def cancel_line(report: CancelReport) -> str:
    """One line per facade of the cancellation run."""
    return (
        f"cancellation {'+'.join(report.facades)}: {report.turns} turns in "
        f"{report.seconds:.1f} s, leaks {report.leaks}, held: {report.held}"
    )


def section(name: str, soak: Report, cancels: CancelReport) -> str:
    """The Markdown block of one run."""
    exact = cancels.exact
    faults = "\n".join(f"| {kind} | {count} |" for kind, count in sorted(soak.faults.items()))
    modes = ", ".join(f"{mode} {count}" for mode, count in sorted(cancels.modes.items()))
    rate = sum(soak.faults.values()) / max(1, soak.opportunities)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""Run {when} on commit `{_commit()}`, seed {soak.seed}, Python \
{sys.version.split()[0]} on {platform.machine()}, {"/".join(soak.facades)}.

**Fault soak**: {soak.turns} turns in {soak.sessions} sessions, {soak.seconds:.1f} s \
({1000 * soak.seconds / max(1, soak.turns):.1f} ms a turn).

| figure | value |
| --- | --- |
| turns completed (one `ResultMessage`, last) | {soak.completed} of {soak.turns} |
| results with an error | {soak.failed_results} |
| events checked against the emulator's log | {soak.events_checked} |
| messages delivered | {soak.messages} |
| lost | {soak.lost} |
| duplicated | {soak.duplicated} |
| delivered in another turn | {soak.foreign} |
| turns out of order | {soak.reordered} |
| fault opportunities (event frames sent + POSTs) | {soak.opportunities} |
| faults fired | {sum(soak.faults.values())} ({100 * rate:.1f} %) |
| requests retried (`X-Qoder-Retry-Count` > 0) | {soak.retries} |
| stream reconnects (emulator) / reconnect warnings (client) | \
{soak.reconnects} / {soak.client_reconnect_warnings} |
| held | **{"yes" if soak.held else "NO"}** |

| fault | fired |
| --- | --- |
{faults}

**Cancellation**: {cancels.turns} cancelled turns, {cancels.seconds:.1f} s; {modes}.

| figure | value |
| --- | --- |
| turns interrupted mid-way (the others ended first) | {cancels.interrupted} |
| read on by the same client afterwards | {cancels.continued_same_client} |
| running turn picked up whole by a new client | {cancels.picked_up_by_new_client} |
| turns checked complete and exact | {cancels.verified_turns} |
| lost / duplicated / foreign / out of order | \
{exact.lost} / {exact.duplicated} / {exact.foreign} / {exact.reordered} |
| streams left open / busy in the pool | {cancels.streams_left} / {cancels.pool_busy} |
| threads left / tasks left | {cancels.threads_left} / {cancels.tasks_left} |
| warnings, unraisable exceptions | {cancels.warnings} |
| trio's notes on httpx's unexhausted generators (ignored, as in pyproject.toml) | \
{cancels.known_warnings} |
| held | **{"yes" if cancels.held else "NO"}** |
"""


def write(path: str, name: str, text: str) -> None:
    """Replace the ``name`` block of the document at ``path`` with ``text``."""
    begin, end = f"<!-- figures:{name}:begin -->", f"<!-- figures:{name}:end -->"
    document = Path(path).read_text()
    head, found, rest = document.partition(begin)
    if not found or end not in rest:
        raise SystemExit(f"{path} has no {begin} ... {end} block")
    _, _, tail = rest.partition(end)
    Path(path).write_text(f"{head}{begin}\n{text}{end}{tail}")
