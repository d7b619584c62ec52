"""The figures of issue 12 added last: memory per idle conversation, RSS growth over long turns,
connect and disconnect time, the emulator's own cost, the official clients with many
conversations; their summary rows and sections of RESULTS.md, and the turn-latency chart.

Every figure is beside a baseline measured in the same run (the naive httpx client of
``naive.py``, qca-sdk, qoder-agent-sdk), as a ratio where one makes sense.
"""

from __future__ import annotations

import statistics
from typing import Any

import chart
import footprint
import opcodes as instructions  # the module; `opcodes` is the part's result
import profile_turn
from latency import per_turn_median

__all__ = ["chart_svg", "render", "summary_rows"]

KIB, MIB = 1024, 1024 * 1024
IDLE_TARGET_KIB = 50.0
GROWTH_FLOOR_MIB = 10.0
TURNS_TARGET_MIB = 1.0
"""What "no growth across turns" allows: RSS moves by whole allocator arenas and pages."""

IDLE_LABELS = {
    "ours_default": "**qoder `AsyncClient`, the default (no `http_client=`)**",
    "ours_one_each": "qoder, each its own `httpx.AsyncClient`, one SSL context (recommended)",
    "ours_shared": "qoder, all on one shared `httpx.AsyncClient`",
    "naive_one_each": "naive httpx client, each its own `httpx.AsyncClient`, one SSL context",
    "naive_shared": "naive, all on one shared `httpx.AsyncClient`",
}
CLIENT_LABELS = {
    "ours_sync": "**qoder `SyncClient`**",
    "ours_async": "**qoder `AsyncClient` (asyncio)**",
    "naive_sync": "naive httpx client, sync (`naive.py`)",
    "naive_async": "naive httpx client, async (`naive.py`)",
    "qca_sync": "qca-sdk `Managed`, by hand (`sessions.create` + `events.stream()`)",
    "qca_async": "qca-sdk `AsyncManaged`, by hand (the same)",
}
OFFICIAL_LABELS = {
    "ours_one_each": "**qoder `AsyncClient`, each its own `httpx.AsyncClient`, one SSL context**",
    "qca_one_each": "qca-sdk `AsyncManaged` by hand, each on its own `httpx.AsyncClient`",
    "agent_sdk": "qoder-agent-sdk `QoderSDKClient`, cloud agent mode",
}
Row = tuple[str, str, str, bool | None]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _f(value: float | None, digits: int = 2, unit: str = "") -> str:
    return "—" if value is None else f"{value:,.{digits}f}{unit}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _errors(result: dict[str, Any]) -> list[str]:
    if not result["errors"]:
        return []
    return ["", *(f"- {key}: {message}" for key, message in result["errors"].items())]


def _bulk_limit(row: dict[str, Any]) -> float:
    """The one-turn target in MiB: 10 MiB plus twice the turn's own text."""
    return GROWTH_FLOOR_MIB + 2 * float(row["text_bytes"]) / MIB


def summary_rows(
    *,
    idle: dict[str, Any] | None = None,
    growth: dict[str, Any] | None = None,
    connect: dict[str, Any] | None = None,
    emulator: dict[str, Any] | None = None,
    official: dict[str, Any] | None = None,
    overhead: dict[str, Any] | None = None,
    profile: dict[str, Any] | None = None,
    opcodes: dict[str, Any] | None = None,
) -> list[Row]:
    """(figure, value, target, met) for the summary table, of whatever ran (the profile has
    no row: it explains, it has no target)."""
    rows: list[Row] = []
    if idle is not None:
        rows += _idle_rows(idle)
    if growth is not None:
        rows += _growth_rows(growth)
    if connect is not None:
        rows += _connect_rows(connect)
    if overhead is not None and overhead.get("latency_p99_ms"):
        rows += _latency_rows(overhead)
    if emulator is not None:
        own = _median(emulator["own_ms"])
        rows.append(
            (
                "Emulator's own time per turn (the conversation benchmark's server) (info)",
                _f(own, 2, " ms"),
                "—",
                None,
            )
        )
    if official is not None:
        rows += _official_rows(official)
    if opcodes is not None:
        rows += _opcode_rows(opcodes)
    return rows


def _opcode_rows(counts: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for unit, key in (("turn", "per_turn"), ("message", "per_message")):
        for client, name in (("ours_sync", "SyncClient"), ("ours_async", "AsyncClient")):
            naive = "naive_" + client.removeprefix("ours_")
            value = instructions.ratio(counts[key], client, naive)
            rows.append(
                (
                    f"Python instructions per {unit}, `{name}` / naive (deterministic; "
                    "leaves out the work in C) (info)",
                    _f(value, 2, "x"),
                    "—",
                    None,
                )
            )
    return rows


def _idle_rows(idle: dict[str, Any]) -> list[Row]:
    per = {k: _median(v) for k, v in idle["bytes_per_conversation"].items()}
    value, naive = per.get("ours_default"), per.get("naive_one_each")
    kib = None if value is None else value / KIB
    rows: list[Row] = [
        (
            f"Memory per open idle conversation, {idle['conversations']} `AsyncClient`s, "
            f"default (naive client: {_f(None if naive is None else naive / KIB, 1, ' KiB')})",
            _f(kib, 1, " KiB"),
            f"<= {IDLE_TARGET_KIB:.0f} KiB",
            None if kib is None else kib <= IDLE_TARGET_KIB,
        )
    ]
    recommended = per.get("ours_one_each")
    if recommended is not None:
        rows.append(
            (
                "Memory per open idle conversation, recommended `http_client` (info)",
                _f(recommended / KIB, 1, " KiB"),
                "—",
                None,
            )
        )
    return rows


def _growth_rows(growth: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    naive = growth["bulk"].get("naive_sync")
    for client, name in (("ours_sync", "SyncClient"), ("ours_async", "AsyncClient")):
        row = growth["bulk"].get(client)
        if row is None:
            continue
        grown, limit = row["growth"] / MIB, _bulk_limit(row)
        base = "" if naive is None else f"; naive client: {naive['growth'] / MIB:.1f} MiB"
        rows.append(
            (
                f"RSS growth over one turn of {growth['events']:,} short messages, `{name}` "
                f"(the turn's text: {row['text_bytes'] / MIB:.1f} MiB{base})",
                _f(grown, 1, " MiB"),
                f"<= 10 MiB + 2 x its text (= {limit:.1f} MiB)",
                grown <= limit,
            )
        )
    naive_series = growth["series"].get("naive_sync")
    naive_grown = None if naive_series is None else footprint.turns_growth(naive_series)
    base = _f(None if naive_grown is None else naive_grown / MIB, 2, " MiB")
    for client, name in (("ours_sync", "SyncClient"), ("ours_async", "AsyncClient")):
        series = growth["series"].get(client)
        if series is None:
            continue
        grown_bytes = footprint.turns_growth(series)
        value = None if grown_bytes is None else grown_bytes / MIB
        rows.append(
            (
                f"RSS growth from turn 100 to turn {max(series):,} ({growth['per_turn']:,} "
                f"messages a turn), `{name}` (naive client: {base})",
                _f(value, 2, " MiB"),
                f"none (<= {TURNS_TARGET_MIB:.0f} MiB)",
                None if value is None else value <= TURNS_TARGET_MIB,
            )
        )
    return rows


def _connect_rows(connect: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for ours, naive, name in (
        ("ours_sync", "naive_sync", "SyncClient"),
        ("ours_async", "naive_async", "AsyncClient"),
    ):
        c, d = _median(connect["connect"][ours]), _median(connect["disconnect"][ours])
        nc, nd = _median(connect["connect"][naive]), _median(connect["disconnect"][naive])
        rows.append(
            (
                f"Connect / disconnect, `{name}` (naive: {_f(_ms(nc), 2)} / "
                f"{_f(_ms(nd), 2)} ms) (info)",
                f"{_f(_ms(c), 2)} / {_f(_ms(d), 2)} ms",
                "—",
                None,
            )
        )
    return rows


def _latency_rows(overhead: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for ours, name in (("ours_sync", "SyncClient"), ("ours_async", "AsyncClient")):
        p50 = _median(overhead["latency_ms"].get(ours, []))
        p99 = _median(overhead["latency_p99_ms"].get(ours, []))
        rows.append(
            (
                f"Per-turn latency p50 / p99 over {overhead['turns']} turns, `{name}` (info)",
                f"{_f(p50, 2)} / {_f(p99, 2)} ms",
                "—",
                None,
            )
        )
    return rows


def _official_rows(official: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for setup, name in (("qca_one_each", "qca-sdk"), ("agent_sdk", "qoder-agent-sdk")):
        got = official["turns_per_s"].get(setup, {})
        largest = max(got, default=None)
        tried = ", ".join(map(str, official["tried"].get(setup, [])))
        rows.append(
            (
                f"Many conversations x {official['turns']} turns: the most {name} completes "
                f"with 0 errors (tried {tried}) (info)",
                "none" if largest is None else f"{largest}",
                "—",
                None,
            )
        )
    return rows


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1e3


def _idle(result: dict[str, Any]) -> list[str]:
    per = {k: _median(v) for k, v in result["bytes_per_conversation"].items()}
    naive = per.get("naive_one_each")
    out = [
        "## Memory per open idle conversation",
        "",
        f"{result['conversations']} `AsyncClient` conversations opened at once on one event loop "
        "in a child process of its own, against `server.py`: each connected (session created, "
        "event stream open, checked at the server), no turn under way. Figure: the process's RSS "
        "(`/proc/self/statm`, after `gc.collect()`) with them open minus before, divided by "
        f"their number; before: after {result['warmup']} conversations were opened and closed "
        "the same way (imports, the thread pool, the allocator's first arenas). The target's "
        f"setups run **{result['rounds']} rounds** (median), the others one.",
        "",
        "| Setup | KiB per conversation (median) | Rounds | / naive |",
        "|---|--:|---|--:|",
    ]
    for key, label in IDLE_LABELS.items():
        values = result["bytes_per_conversation"].get(key, [])
        if values:
            ratio = _ratio(per[key], naive) if key.startswith("ours") else None
            out.append(
                f"| {label} | {_f(statistics.median(values) / KIB, 1)} | "
                f"{', '.join(f'{v / KIB:.1f}' for v in values)} | {_f(ratio, 2, 'x')} |"
            )
    return [*out, *_errors(result), ""]


def _growth(result: dict[str, Any]) -> list[str]:
    out = [
        f"## RSS over one turn of {result['events']:,} messages, and over "
        f"{result['turns']:,} turns",
        "",
        f"Against `server.py`, which streams a `stream:N` turn batch by batch with the socket's "
        "back-pressure (about 210 B a frame, `Short message <i>.`) and keeps none of it; each "
        "client in a child process of its own, one run each. **One turn**: after a warm-up turn "
        f"of 10,000 on the same conversation, the turn of {result['events']:,} read through "
        "`receive_response()` to its `ResultMessage` (the naive client: `read_turn`, which "
        "keeps every text and joins them, as a result does); growth = the peak RSS during the "
        "turn (sampled every 20,000 messages, at the end, and `ru_maxrss`) minus the RSS just "
        f"before it. **Many turns**: {result['turns']:,} turns of {result['per_turn']:,} "
        "messages on one conversation, the RSS after `gc.collect()` every 100 turns.",
        "",
        "| Client | Growth over the turn MiB | The turn's text MiB | Target MiB | Turn s |",
        "|---|--:|--:|--:|--:|",
    ]
    for key, row in result["bulk"].items():
        target = f"{_bulk_limit(row):.1f}" if key.startswith("ours") else "—"
        out.append(
            f"| {CLIENT_LABELS[key]} | {row['growth'] / MIB:.1f} | "
            f"{row['text_bytes'] / MIB:.1f} | {target} | {row['seconds']:.1f} |"
        )
    if result["series"]:
        marks = sorted({n for s in result["series"].values() for n in s})
        out += [
            "",
            "RSS in MiB after turn n (the growth column: turn 100 to the last):",
            "",
            "| Client | " + " | ".join(f"{n:,}" for n in marks) + " | Growth MiB | Run s |",
            "|---|" + "--:|" * (len(marks) + 2),
        ]
        for key, series in result["series"].items():
            grown = footprint.turns_growth(series)
            cells = [_f(series[n] / MIB if n in series else None, 1) for n in marks]
            out.append(
                f"| {CLIENT_LABELS[key]} | " + " | ".join(cells) + f" | "
                f"{_f(None if grown is None else grown / MIB, 2)} | "
                f"{result['turns_seconds'][key]:.0f} |"
            )
    return [*out, *_errors(result), ""]


def _connect(result: dict[str, Any]) -> list[str]:
    out = [
        "## Connect and disconnect",
        "",
        f"Each client in a child process of its own against `server.py`, {result['warmup']} "
        f"warm-up conversations, then {result['n']} one after the other; **connect**: the client "
        "object made, the session created, the event stream open (its headers in); "
        "**disconnect**: the stream and the HTTP client the conversation made closed. Ours: the "
        "default (each client its own HTTP client, one SSL context per process); the naive "
        "client: the same, by hand; qca-sdk: its one `Managed` per process (a resource client) "
        "and `events.stream()`. A round's figure is the median of its conversations, the table's "
        f"the median of **{result['rounds']} rounds**, the clients taking turns.",
        "",
        "| Client | Connect ms | Rounds | / naive | Disconnect ms | Rounds | / naive |",
        "|---|--:|---|--:|--:|---|--:|",
    ]
    for key, label in CLIENT_LABELS.items():
        c, d = result["connect"].get(key, []), result["disconnect"].get(key, [])
        if not c:
            continue
        base = "naive_async" if key.endswith("async") else "naive_sync"
        show = not key.startswith("naive")
        cr = _ratio(_median(c), _median(result["connect"][base])) if show else None
        dr = _ratio(_median(d), _median(result["disconnect"][base])) if show else None
        out.append(
            f"| {label} | {_f(_ms(_median(c)), 2)} | {', '.join(f'{v * 1e3:.2f}' for v in c)} | "
            f"{_f(cr, 2, 'x')} | {_f(_ms(_median(d)), 2)} | "
            f"{', '.join(f'{v * 1e3:.2f}' for v in d)} | {_f(dr, 2, 'x')} |"
        )
    out += [
        "",
        "qoder-agent-sdk is not in this table: its `connect()` in cloud agent mode opens no "
        "event stream (it opens one per turn), so its connect is not the same work.",
    ]
    return [*out, *_errors(result), ""]


def _emulator(result: dict[str, Any]) -> list[str]:
    own, post = _median(result["own_ms"]), _median(result["post_ms"])
    out = [
        "## The emulator's own cost per turn",
        "",
        "`qoder.testing.FakeCloud` (its default scripted turn) served by `serve_in_thread` "
        "(uvicorn in a thread of the parent), as the conversation benchmark serves it, its ASGI "
        "app timed; the overhead benchmark's children (5 warm-up turns, then "
        f"{result['turns']} turns) run against it and against `server.py`, "
        f"**{result['rounds']} rounds**.",
        "",
        "| Figure | ms per turn (median) | Runs (each client's, each round) |",
        "|---|--:|---|",
        f"| Emulator's own time: the POST reaching its app to the turn's idle event handed to "
        f"uvicorn | {_f(own, 3)} | {', '.join(f'{v:.3f}' for v in result['own_ms'])} |",
        f"| The POST alone: reaching the app to its response handed to uvicorn | {_f(post, 3)} | "
        f"{', '.join(f'{v:.3f}' for v in result['post_ms'])} |",
    ]
    for client, where in result["latency_ms"].items():
        emu, server = _median(where["emulator"]), _median(where["server"])
        added = None if emu is None or server is None else emu - server
        out.append(
            f"| {CLIENT_LABELS[client]}: latency against the emulator / against `server.py` "
            f"(difference: what serving through the emulator adds) | {_f(emu, 3)} / "
            f"{_f(server, 3)} ({_f(added, 3)}) | |"
        )
    naive = result["latency_ms"].get("naive_sync", {})
    on_emulator, on_server = _median(naive.get("emulator", [])), _median(naive.get("server", []))
    if on_emulator and on_server is not None and own is not None:
        added = on_emulator - on_server
        out += [
            "",
            f"Of the naive client's {on_emulator:.2f} ms turn against the emulator, "
            f"{own:.2f} ms (**{own / on_emulator:.0%}**) is the emulator's own time in its app "
            f"and {added:.2f} ms (**{added / on_emulator:.0%}**) is what serving through the "
            "emulator (its app and uvicorn) adds over `server.py`. The conversation benchmark "
            "below runs against the emulator, so its fast clients' latencies are largely the "
            "emulator's: their differences there are client costs on top of it. The per-turn "
            "overhead benchmark runs against `server.py` and subtracts its own time per turn "
            "(the *Server ms* column).",
        ]
    return [*out, *_errors(result), ""]


def _official(result: dict[str, Any]) -> list[str]:
    counts = list(result["counts"])
    out = [
        "## The official clients with many conversations",
        "",
        f"As the many-conversations benchmark (one asyncio loop in a child process, "
        f"{result['turns']} turns each, turns/s over the wall time), at "
        f"{', '.join(map(str, counts))} conversations in turn, each count under a hard timeout "
        f"of {result['timeout']:.0f} s, stopping at the first count that fails; against "
        f"`server.py` with a keep-alive every **{result['keepalive']:g} s** (qoder-agent-sdk "
        "ends a turn only at the next keep-alive; at 15 s it would take 15 s a turn). Ours in "
        "the same setup as the yardstick.",
        "",
        "| Client | " + " | ".join(f"{n} turns/s" for n in counts) + " | Largest with 0 errors |",
        "|---|" + "--:|" * (len(counts) + 1),
    ]
    for key, label in OFFICIAL_LABELS.items():
        got = result["turns_per_s"].get(key)
        if got is None:
            continue
        cells = [_f(got.get(n), 1) for n in counts]
        out.append(f"| {label} | " + " | ".join(cells) + f" | {max(got, default='none')} |")
    return [*out, *_errors(result), ""]


def render(
    *,
    idle: dict[str, Any] | None = None,
    growth: dict[str, Any] | None = None,
    connect: dict[str, Any] | None = None,
    emulator: dict[str, Any] | None = None,
    official: dict[str, Any] | None = None,
    profile: dict[str, Any] | None = None,
    opcodes: dict[str, Any] | None = None,
) -> str:
    """The sections of whatever ran, as Markdown."""
    body: list[str] = []
    if idle is not None:
        body += _idle(idle)
    if growth is not None:
        body += _growth(growth)
    if connect is not None:
        body += _connect(connect)
    if emulator is not None:
        body += _emulator(emulator)
    if official is not None:
        body += _official(official)
    if profile is not None:
        body += profile_turn.render(profile)
    if opcodes is not None:
        body += instructions.render(opcodes)
    return "\n".join(body) + "\n"


# --- the chart -------------------------------------------------------------------------------


def chart_svg(overhead: dict[str, Any] | None, conversation: Any | None) -> str | None:
    """The turn-latency chart: the overhead benchmark's clients (100 turns against
    ``server.py``, per turn the median over the rounds) and qoder-agent-sdk from the
    conversation benchmark (20 turns against the emulator)."""
    series: list[chart.Series] = []
    if overhead is not None:
        for key, label, colour in (
            ("ours_sync", "qoder SyncClient (server.py)", chart.PALETTE[0]),
            ("ours_async", "qoder AsyncClient (server.py)", chart.PALETTE[1]),
            ("naive_sync", "naive httpx, sync (server.py)", chart.PALETTE[2]),
            ("naive_async", "naive httpx, async (server.py)", chart.PALETTE[3]),
            ("qca", "qca-sdk by hand (server.py)", chart.PALETTE[4]),
        ):
            values = per_turn_median(overhead.get("per_turn_ms", {}).get(key, []))
            series.append(chart.Series(label, values, colour))
    if conversation is not None:
        for key, label, colour in (
            ("agent_sdk", "qoder-agent-sdk (emulator, keep-alive 1 s)", chart.PALETTE[5]),
            ("agent_sdk_fast", "qoder-agent-sdk (emulator, keep-alive 0.05 s)", chart.PALETTE[6]),
        ):
            run = conversation.get(key)
            if run is not None:
                series.append(chart.Series(label, [t * 1e3 for t in run.latencies], colour, True))
    if not any(s.values for s in series):
        return None
    solid = max((len(s.values) for s in series if not s.dashed), default=0)
    dashed = max((len(s.values) for s in series if s.dashed), default=0)
    return chart.turn_latency_svg(
        series,
        "Latency of each turn of one conversation",
        f"solid: {solid} turns against server.py, median of the rounds per turn; dashed: "
        f"{dashed} turns against the emulator",
    )
