"""The client figures of RESULTS.md (issue 12): per-turn overhead, throughput through
``receive_response()``, start-up, many conversations, and the summary of every target.

Every figure is a ratio against baselines measured in the same run: the naive httpx client
(``naive.py``), qca-sdk where it is comparable, ``import httpx`` for start-up.
"""

from __future__ import annotations

import statistics
from typing import Any

__all__ = ["render", "render_summary", "summary_rows"]

OVERHEAD_LABELS = {
    "ours_sync": "**qoder `SyncClient`**",
    "ours_async": "**qoder `AsyncClient` (asyncio)**",
    "naive_sync": "naive httpx client, sync (`naive.py`)",
    "naive_async": "naive httpx client, async (`naive.py`)",
    "qca": "qca-sdk `Managed` (`events.send` + one `resumable_stream`)",
}
STARTUP_LABELS = {
    "python": "`python -c pass` (the interpreter alone)",
    "httpx": "`import httpx`",
    "qoder": "**`import qoder`**",
    "qoder_async": "`from qoder import AsyncClient, QoderAgentOptions`",
    "qoder_sync": "`from qoder import SyncClient, QoderAgentOptions`",
    "qca": "`import qca` (qca-sdk)",
    "agent_sdk": "`import qoder_agent_sdk`",
}
MANY_LABELS = {
    "ours_own": "qoder, each `AsyncClient` its own HTTP client (the default)",
    "ours_one_each": "**qoder, each its own `httpx.AsyncClient`, one SSL context (recommended)**",
    "naive_one_each": "naive, the same",
    "naive_own": "naive, each its own `httpx.AsyncClient()` (a new SSL context each)",
    "ours_sharded": "qoder, one shared `httpx.AsyncClient` per {shard} conversations",
    "naive_sharded": "naive, the same",
    "ours_shared": "qoder, all on one shared `httpx.AsyncClient` (unbounded pool)",
    "naive_shared": "naive, the same",
}

THROUGHPUT_LABELS = {
    "ours_sync": OVERHEAD_LABELS["ours_sync"],
    "ours_sync_stdlib": '**qoder `SyncClient`**, `use_json_backend("stdlib")`',
    "ours_async": OVERHEAD_LABELS["ours_async"],
    "ours_async_stdlib": '**qoder `AsyncClient` (asyncio)**, `use_json_backend("stdlib")`',
    "naive_sync": OVERHEAD_LABELS["naive_sync"],
    "naive_async": OVERHEAD_LABELS["naive_async"],
}
"""The throughput rows, in order; ``*_stdlib``: ours with the stdlib JSON backend forced."""
BACKEND_LABELS = {
    "orjson": "orjson extra",
    "stdlib": "stdlib json, the default install",
    "mixed": "mixed (the rounds differ)",
}
NAIVE_JSON = "stdlib `json.loads`"
"""What the naive client parses each ``data:`` line with."""

SCAN_LABELS = {
    "ours_one_each": "qoder, each its own `httpx.AsyncClient`, one SSL context",
    "ours_shared": "qoder, all on one shared `httpx.AsyncClient`",
    "naive_shared": "naive client, all on one shared `httpx.AsyncClient`",
}


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _f(value: float | None, digits: int = 2, unit: str = "") -> str:
    return "—" if value is None else f"{value:,.{digits}f}{unit}"


def _status(met: bool | None) -> str:
    return "—" if met is None else "**met**" if met else "not met"


def _naive_of(key: str) -> str:
    """The naive client of the same facade as ``key`` (``ours_async_stdlib``: ``naive_async``)."""
    return "naive_async" if "async" in key else "naive_sync"


def _backend(result: dict[str, Any], key: str) -> str:
    """The JSON parser ``key`` ran with, as the report names it."""
    if key.startswith("naive"):
        return NAIVE_JSON
    if not key.startswith("ours"):
        return "its own"
    name = result.get("json_backend", {}).get(key)
    return "not reported" if name is None else BACKEND_LABELS.get(name, name)


def _backends_sentence(result: dict[str, Any], keys: tuple[str, ...]) -> str:
    """``SyncClient``: orjson extra; ... for those of ``keys`` that ran."""
    names = {"ours_sync": "`SyncClient`", "ours_async": "`AsyncClient`"}
    names |= {f"{k}_stdlib": f"{v} (`_stdlib`)" for k, v in names.items()}
    parts = [
        f"{names[k]}: {_backend(result, k)}"
        for k in keys
        if k in names and k in result.get("json_backend", {})
    ]
    return "; ".join(parts) if parts else "not reported"


def summary_rows(
    overhead: dict[str, Any] | None,
    throughput: dict[str, Any] | None,
    startup: dict[str, Any] | None,
    many: dict[str, Any] | None,
    decoding: float | None,
) -> list[tuple[str, str, str, bool | None]]:
    """(figure, value, target, met) for the summary table."""
    rows: list[tuple[str, str, str, bool | None]] = []
    if overhead is not None:
        per = {k: _median(v) for k, v in overhead["overhead_ms"].items()}
        for ours, naive, name in (
            ("ours_sync", "naive_sync", "SyncClient"),
            ("ours_async", "naive_async", "AsyncClient"),
        ):
            value, base = per.get(ours), per.get(naive)
            met = None if value is None or base is None else value <= 1.0 and value < base
            rows.append(
                (
                    f"Per-turn overhead, `{name}` (naive client: {_f(base, 2, ' ms')})",
                    _f(value, 2, " ms"),
                    "<= 1.0 ms and below the naive client",
                    met,
                )
            )
    if startup is not None:
        ratio = _median(startup["ratio_to_httpx"].get("qoder", []))
        rows.append(
            ("`import qoder` / `import httpx`", _f(ratio, 2, "x"), "<= 1.5x", _le(ratio, 1.5))
        )
        ratio = _median(startup["ratio_to_httpx"].get("qoder_async", []))
        rows.append(
            (
                "`from qoder import AsyncClient, QoderAgentOptions` / `import httpx` (info)",
                _f(ratio, 2, "x"),
                "—",
                None,
            )
        )
    if throughput is not None:
        rates = {k: _median(v) for k, v in throughput["events_per_s"].items()}
        for ours, name in (
            ("ours_sync", "SyncClient"),
            ("ours_sync_stdlib", "SyncClient"),
            ("ours_async", "AsyncClient"),
            ("ours_async_stdlib", "AsyncClient"),
        ):
            if ours not in throughput["events_per_s"]:
                continue  # a run without that child (an older result, or chosen clients)
            ratio = _ratio(rates.get(ours), rates.get(_naive_of(ours)))
            rows.append(
                (
                    f"Throughput of one {throughput['events']:,}-message turn, `{name}` "
                    f"({_backend(throughput, ours)}) / naive ({NAIVE_JSON})",
                    _f(ratio, 2, "x"),
                    ">= 0.9x",
                    _ge(ratio, 0.9),
                )
            )
    if decoding is not None:
        rows.append(
            (
                "Decoding, stdlib json / split + `json.loads` ceiling (64 KiB chunks)",
                _f(decoding, 2, "x"),
                ">= 1.0x",
                _ge(decoding, 1.0),
            )
        )
    if many is not None:
        rates = {k: _median(v) for k, v in many["turns_per_s"].items()}
        ratio = _ratio(rates.get("ours_one_each"), rates.get("naive_one_each"))
        rows.append(
            (
                f"{many['conversations']:,} conversations x {many['turns']} turns, recommended "
                "setup, turns/s / naive",
                _f(ratio, 2, "x"),
                ">= 0.9x",
                _ge(ratio, 0.9),
            )
        )
    return rows


def _ge(value: float | None, target: float) -> bool | None:
    return None if value is None else value >= target


def _le(value: float | None, target: float) -> bool | None:
    return None if value is None else value <= target


def render_summary(rows: list[tuple[str, str, str, bool | None]]) -> list[str]:
    """The summary table's lines."""
    return _summary(rows)


def _summary(rows: list[tuple[str, str, str, bool | None]]) -> list[str]:
    out = [
        "## Summary: every target of issue 12 (same run)",
        "",
        "| Figure | Value | Target | Status |",
        "|---|--:|---|---|",
    ]
    out += [f"| {a} | {b} | {c} | {_status(d)} |" for a, b, c, d in rows]
    return [*out, ""]


def _overhead(result: dict[str, Any], chart: bool = False) -> list[str]:
    out = [
        "## Per-turn overhead over the server's own turn time",
        "",
        f"One conversation of {result['turns']} turns per client against `server.py`, an "
        "independent server (raw asyncio, no qoder code, in its own process; the default "
        "scripted turn: 7 events, about 3 kB), after 5 warm-up turns on another session; "
        "each client in a child process of its own, the clients taking turns, "
        f"**{result['rounds']} rounds**. A turn's overhead is the client's latency (prompt "
        "sent to the turn's result in hand) minus the server's own time for it (the POST's "
        "body in to the turn's last event handed to the socket, same clock); a round's "
        "figure is the median over its turns, the table gives the median of the rounds. "
        "JSON parsers: the naive client's is the stdlib `json.loads`; ours ran with the "
        "backend chosen at import ("
        + _backends_sentence(result, ("ours_sync", "ours_async"))
        + "); the throughput section below also gives ours with the stdlib backend forced.",
        "",
        "| Client | Overhead ms (median) | Rounds | Latency p50 ms | Latency p99 ms | "
        "Overhead p99 ms | Server ms | vs naive (same facade) |",
        "|---|--:|---|--:|--:|--:|--:|--:|",
    ]
    p99 = result.get("latency_p99_ms", {})
    overhead_p99 = result.get("overhead_p99_ms", {})
    per = {k: _median(v) for k, v in result["overhead_ms"].items()}
    for key, label in OVERHEAD_LABELS.items():
        values = result["overhead_ms"].get(key, [])
        if not values:
            continue
        naive = "naive_sync" if key == "qca" else key.replace("ours", "naive")
        ratio = _ratio(per[key], per.get(naive)) if key.startswith(("ours", "qca")) else None
        out.append(
            f"| {label} | {_f(per[key], 3)} | {', '.join(f'{v:.2f}' for v in values)} | "
            f"{_f(_median(result['latency_ms'][key]), 3)} | "
            f"{_f(_median(p99.get(key, [])), 3)} | {_f(_median(overhead_p99.get(key, [])), 3)} | "
            f"{_f(_median(result['server_ms'][key]), 3)} | {_f(ratio, 2, 'x')} |"
        )
    if result["errors"]:
        out.append("")
        out += [f"- {key}: {message}" for key, message in result["errors"].items()]
    out += [
        "",
        "p50 and p99 (nearest rank) are taken over the turns of each round, then the median of "
        "the rounds. qoder-agent-sdk is not in this table: its turn ends only at the next "
        "keep-alive (see the conversation benchmark below), so its overhead is the keep-alive "
        "interval; the chart shows it from the conversation benchmark.",
        "",
    ]
    if chart:
        out += [
            "![Latency of each turn, ms (log scale): ours sync and async, the naive client, "
            "qca-sdk, qoder-agent-sdk](turn_latency.svg)",
            "",
            "Each turn's latency, turn by turn (log scale): the clients above, the median of "
            "the rounds at each turn number; dashed, qoder-agent-sdk in the conversation "
            "benchmark below (against the emulator), about one keep-alive a turn.",
            "",
        ]
    return out


def _throughput(result: dict[str, Any]) -> list[str]:
    out = [
        "## Throughput: one turn of many messages through `receive_response()`",
        "",
        f"One turn of {result['events']:,} `agent.message` events (about 540 B each) from "
        "`server.py`, timed from the moment the POST was accepted to the turn's result in hand "
        "(ours: every message handed out by `receive_response()`, typed; naive: "
        "`iter_bytes`, split on blank lines, `json.loads` each `data:` line, dicts), "
        f"**{result['rounds']} rounds**, taking turns.",
        "",
        "The naive client parses with the stdlib `json.loads`. Ours ran with the JSON backend "
        "given in each row: the plain rows with the one chosen at import (orjson when the "
        "`orjson` extra is installed, as it is in the benchmark's environment), the "
        '`use_json_backend("stdlib")` rows with the stdlib parser, the one of a default '
        "install (`pip install qoder`); this run: "
        + _backends_sentence(result, tuple(THROUGHPUT_LABELS))
        + ". The stdlib rows are the like-for-like comparison with the naive client; each "
        "ratio is against the naive client of the same facade. *GC runs*: how many times the "
        "cyclic garbage collector ran during the turn, generation 0 / 1 / 2 (the median of the "
        "rounds, `gc.callbacks`): it runs when more tracked objects are alive than its "
        "threshold, so it shows how much a client holds on to while it reads.",
        "",
        "| Client | JSON parser | events/s (median) | Rounds | / naive (same facade) | GC runs |",
        "|---|---|--:|---|--:|--:|",
    ]
    rates = {k: _median(v) for k, v in result["events_per_s"].items()}
    for key, label in THROUGHPUT_LABELS.items():
        values = result["events_per_s"].get(key, [])
        if not values:
            continue
        ours = key.startswith("ours")
        ratio = _ratio(rates[key], rates.get(_naive_of(key))) if ours else None
        out.append(
            f"| {label} | {_backend(result, key)} | {_f(rates[key], 0)} | "
            f"{', '.join(f'{v:,.0f}' for v in values)} | {_f(ratio, 2, 'x')} "
            f"| {_collections(result, key)} |"
        )
    if result["errors"]:
        out.append("")
        out += [f"- {key}: {message}" for key, message in result["errors"].items()]
    return [*out, ""]


def _collections(result: dict[str, Any], key: str) -> str:
    """The median runs of each generation of the collector in ``key``'s turns, ``0 / 1 / 2``."""
    rounds = result.get("gc_collections", {}).get(key) or []
    if not rounds:
        return "—"
    return " / ".join(f"{statistics.median(r[g] for r in rounds):g}" for g in range(3))


def _startup(result: dict[str, Any]) -> list[str]:
    out = [
        "## Start-up",
        "",
        f"A whole `python -c …` process per command (interpreter start included), "
        f"**{result['rounds']} rounds**, the commands taking turns; the ratio is taken round "
        "by round against `import httpx` of the same round. `import qoder` loads its names "
        "on first use; the second and third rows are what a program that uses a client pays.",
        "",
        "| Command | ms (median) | / `import httpx` (median of the rounds) |",
        "|---|--:|--:|",
    ]
    for key, label in STARTUP_LABELS.items():
        values = result["seconds"].get(key, [])
        if values:
            ratio = _median(result["ratio_to_httpx"][key])
            out.append(
                f"| {label} | {_f(statistics.median(values) * 1e3, 1)} | {_f(ratio, 2, 'x')} |"
            )
    if result["errors"]:
        out.append("")
        out += [f"- {key}: {message}" for key, message in result["errors"].items()]
    return [*out, ""]


def _many(result: dict[str, Any]) -> list[str]:
    out = [
        "## Many conversations on one event loop",
        "",
        f"{result['conversations']:,} `AsyncClient` conversations at once, {result['turns']} "
        "turns each, under asyncio in one child process, against `server.py`; turns per second "
        "= all turns over the wall time from the first connect to the last result, "
        f"**{result['rounds']} round(s)**.",
        "",
        "| Setup | turns/s (median) | Rounds |",
        "|---|--:|---|",
    ]
    for key, label in MANY_LABELS.items():
        values = result["turns_per_s"].get(key, [])
        if values:
            out.append(
                f"| {label.format(shard=result['shard'])} | {_f(_median(values), 0)} | "
                f"{', '.join(f'{v:,.0f}' for v in values)} |"
            )
    scan = result.get("scan") or {}
    if scan:
        out += [
            "",
            "Where the shared pool's wall is (one conversation count per column, turns/s, one "
            "round):",
            "",
            "| Setup | " + " | ".join(f"{n:,}" for n in sorted(scan)) + " |",
            "|---|" + "--:|" * len(scan),
        ]
        for setup, label in SCAN_LABELS.items():
            if any(setup in row for row in scan.values()):
                cells = [_f(scan[n].get(setup), 0) for n in sorted(scan)]
                out.append(f"| {label} | " + " | ".join(cells) + " |")
    if result["errors"]:
        out.append("")
        out += [f"- {key}: {message}" for key, message in result["errors"].items()]
    out += [
        "",
        "httpcore's pool looks at every connection of the pool for every request it queues and "
        "every connection it frees, and each conversation keeps one connection busy with its "
        "stream for as long as it lives: with all conversations in one pool a turn costs time "
        "in proportion to the number of conversations. A client per conversation keeps each "
        "pool at two connections, but `httpx.AsyncClient()` builds a new SSL context each time "
        "(about 35 ms of CPU, loading the CA bundle): pass one context to all of them "
        "(docs/configuration.md, *Many conversations*).",
        "",
    ]
    return out


def render(
    *,
    overhead: dict[str, Any] | None,
    throughput: dict[str, Any] | None,
    startup: dict[str, Any] | None,
    many: dict[str, Any] | None,
    decoding: float | None,
    extra_rows: list[tuple[str, str, str, bool | None]] | None = None,
    extra_body: str = "",
    chart: bool = False,
) -> tuple[str, str]:
    """(the summary section, the detailed sections); ``extra_rows`` and ``extra_body``: the
    summary rows and sections of ``extra_report``; ``chart``: show ``turn_latency.svg``."""
    rows = summary_rows(overhead, throughput, startup, many, decoding) + (extra_rows or [])
    summary = "\n".join(_summary(rows))
    body: list[str] = [
        "# Client benchmarks: overhead, throughput, start-up, many conversations, memory",
        "",
    ]
    if overhead is not None:
        body += _overhead(overhead, chart)
    if throughput is not None:
        body += _throughput(throughput)
    if startup is not None:
        body += _startup(startup)
    if many is not None:
        body += _many(many)
    if extra_body:
        body.append(extra_body)
    return summary + "\n", "\n".join(body) + "\n"
