"""SSE bytes -> typed events throughput benchmark (issue 2), then the conversation benchmark;
run with ``make bench``.

Builds a deterministic stream of 100,000 realistic events, checks that the fast paths decode
it exactly as the generic path does, decodes it with every contender in this one process (same
bytes, same chunks, same timing rules, contenders taking turns), then holds a multi-turn
conversation with each client against the emulator on 127.0.0.1 (``conversation.py``), and
writes the figures and the ratios against the baselines to ``benchmarks/RESULTS.md``. See
``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import client_report
import connect
import contenders as c
import conversation
import emulator
import equivalence
import extra_report
import footprint
import latency
import many
import measure
import opcodes
import profile_turn
import report
import startup
import synthetic

from qoder._protocol import convert
from qoder._protocol.convert import decode_frame
from qoder._protocol.events import AgentMessageEvent
from qoder._protocol.sse import SSEDecoder

HERE = Path(__file__).resolve().parent
CHUNK_SIZES = (64 * 1024, 1024)


@attrs.frozen
class Contender:
    key: str
    label: str
    output: str
    fn: Callable[[list[bytes]], int]
    slow: bool = False  # measured on the stream's prefix, at most 3 passes
    stage: bool = False  # a partial run of our path, for the per-stage costs only


CONTENDERS = (
    Contender("ceiling", "ceiling: split on blank lines + `json.loads`", "dict", c.ceiling),
    Contender(
        "ceiling_scanner",
        "ceiling with json's scanner called directly, as our stdlib backend does (info)",
        "dict",
        c.ceiling_scanner,
    ),
    Contender("ceiling_orjson", "ceiling with `orjson.loads` (info)", "dict", c.ceiling_orjson),
    Contender(
        "httpx_sse", "httpx-sse `SSELineDecoder` + `SSEDecoder` + `json.loads`", "dict", c.httpx_sse
    ),
    Contender(
        "agent_sdk", "qoder-agent-sdk cloud reader (`readline` + `json.loads`)", "dict", c.agent_sdk
    ),
    Contender(
        "qca", "qca-sdk `Stream[SessionStreamEvent]`", "pydantic model", c.qca_stream, slow=True
    ),
    Contender(
        "ours_generic",
        "qoder, fast paths off (all events through cattrs), stdlib json",
        "typed event",
        c.ours_generic_stdlib,
    ),
    Contender(
        "ours_stdlib",
        "**qoder: `SSEDecoder.feed` + `decode_frame`, stdlib json**",
        "typed event",
        c.ours_stdlib,
    ),
    Contender(
        "ours_orjson",
        "**qoder: `SSEDecoder.feed` + `decode_frame`, orjson**",
        "typed event",
        c.ours_orjson,
    ),
    Contender("sse", "stage: `SSEDecoder.feed` only", "SSEFrame", c.ours_sse_only, stage=True),
    Contender(
        "sse_json_stdlib", "stage: feed + stdlib json", "dict", c.ours_sse_json_stdlib, stage=True
    ),
    Contender(
        "sse_json_orjson", "stage: feed + orjson", "dict", c.ours_sse_json_orjson, stage=True
    ),
)


def linear_time(repeats: int) -> dict[int, float]:
    """Seconds per MB to decode one frame of 1 MB and of 10 MB fed in 64-byte chunks."""
    per_mb: dict[int, float] = {}
    for megabytes in (1, 10):
        text = "lorem ipsum " * (megabytes * 1_000_000 // 12)
        data = (
            '{"type":"agent.message","id":"evt_big","content":[{"type":"text","text":"'
            + text
            + '"}]}'
        )
        body = f"id: evt_big\nevent: agent.message\ndata: {data}\n\n".encode()

        def run(chunks: list[bytes]) -> int:
            decoder = SSEDecoder()
            events = [decode_frame(frame) for chunk in chunks for frame in decoder.feed(chunk)]
            assert len(events) == 1
            assert isinstance(events[0], AgentMessageEvent)
            return 1

        timing = measure.best_of(run, synthetic.chunked(body, 64), repeats)
        per_mb[megabytes] = timing.seconds / (len(body) / 1e6)
    return per_mb


def machine_info() -> dict[str, str]:
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cpus": str(os.cpu_count()),
        "platform": platform.platform(),
        "processor": report.cpu_model(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


EXTRA_PARTS = ("idle", "growth", "connect", "emulator", "official", "profile", "opcodes")
"""The parts of ``extra_report`` (``--extra-only`` runs any of them, and ``chart``)."""


def extra_benchmarks(args: argparse.Namespace, parts: tuple[str, ...]) -> dict[str, Any]:
    """Memory per idle conversation, RSS growth, connect/disconnect, the emulator's own cost,
    the official clients with many conversations: {part: result} for ``parts``."""
    began = time.perf_counter()
    results: dict[str, Any] = {}
    asynchronous = ("ours_async",) if args.footprint_async else ()
    runs: dict[str, Callable[[], dict[str, Any]]] = {
        "idle": lambda: footprint.idle(max(2, args.client_rounds - 2), args.idle),
        "growth": lambda: footprint.growth(
            args.growth_events,
            args.growth_turns,
            bulk_clients=(*footprint.BULK_CLIENTS, *asynchronous),
            turns_clients=(*footprint.TURNS_CLIENTS, *asynchronous),
        ),
        "connect": lambda: connect.run(max(2, args.client_rounds - 3), 40),
        "emulator": lambda: emulator.run(2),
        "official": lambda: many.official(),
        "profile": lambda: profile_turn.run(300),
        "opcodes": lambda: opcodes.run(),
    }
    for part in parts:
        results[part] = runs[part]()
        print(f"{part} done in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    return results


def client_benchmarks(
    args: argparse.Namespace, decoding: float | None
) -> tuple[str, str, dict[str, Any]]:
    """Per-turn overhead, throughput, start-up and many conversations, against the naive
    client and the official ones, each against ``server.py``, then the extra parts;
    (summary, sections, the overhead result for the chart)."""
    rounds = args.client_rounds
    began = time.perf_counter()
    overhead = latency.overhead(rounds)
    print(f"overhead done in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    throughput = latency.throughput(2 * rounds - 1)  # more rounds: its spread is the widest
    print(f"throughput done in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    start = startup.run(max(7, 2 * rounds + 1))
    print(f"start-up done in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    crowd = many.run(max(2, rounds - 2), args.many)
    print(f"many done in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    extra = {} if args.no_extra else extra_benchmarks(args, EXTRA_PARTS)
    summary, body = client_report.render(
        overhead=overhead,
        throughput=throughput,
        startup=start,
        many=crowd,
        decoding=decoding,
        extra_rows=extra_report.summary_rows(overhead=overhead, **extra),
        extra_body=extra_report.render(**extra),
        chart=True,
    )
    print(summary, file=sys.stderr)
    return summary, body, overhead


def write_chart(path: Path, overhead: dict[str, Any] | None, result: Any | None) -> None:
    svg = extra_report.chart_svg(overhead, result)
    if svg is not None:
        path.write_text(svg, encoding="utf-8")
        print(f"wrote {path}", file=sys.stderr)


def extra_only(args: argparse.Namespace) -> None:
    """``--extra-only``: the named parts alone, printed (``chart``: the overhead benchmark and
    the conversation benchmark, and the chart written to ``--chart-output``)."""
    parts = tuple(filter(None, args.extra_only.split(",")))
    unknown = set(parts) - {*EXTRA_PARTS, "chart"}
    if unknown:
        raise SystemExit(f"unknown parts: {', '.join(sorted(unknown))}")
    extra = extra_benchmarks(args, tuple(p for p in parts if p != "chart"))
    overhead = None
    if "chart" in parts:
        overhead = latency.overhead(args.client_rounds)
        write_chart(args.chart_output, overhead, conversation.run(args.turns))
    rows = extra_report.summary_rows(overhead=overhead, **extra)
    print("\n".join(client_report.render_summary(rows)))
    print(extra_report.render(**extra))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5, help="passes per figure, 64 KiB chunks")
    parser.add_argument("--qca-events", type=int, default=10_000, help="prefix given to qca-sdk")
    parser.add_argument(
        "--only", default="", help="comma-separated contender keys; no file written"
    )
    parser.add_argument("--no-check", action="store_true", help="skip the equivalence check")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--turns", type=int, default=20, help="turns of the conversation benchmark")
    parser.add_argument(
        "--no-conversation", action="store_true", help="skip the conversation benchmark"
    )
    parser.add_argument(
        "--no-client",
        action="store_true",
        help="skip overhead/throughput/start-up/many and the extra parts",
    )
    parser.add_argument("--client-rounds", type=int, default=5, help="rounds of the client runs")
    parser.add_argument(
        "--client-only",
        action="store_true",
        help="run only the client benchmarks (overhead, throughput, start-up, many) and print",
    )
    parser.add_argument("--many", type=int, default=1000, help="conversations of the many run")
    parser.add_argument(
        "--no-extra",
        action="store_true",
        help="skip memory, RSS growth, connect/disconnect, emulator cost, official many",
    )
    parser.add_argument(
        "--extra-only",
        default="",
        help="comma-separated parts among " + ", ".join((*EXTRA_PARTS, "chart")) + "; printed",
    )
    parser.add_argument("--idle", type=int, default=500, help="conversations of the idle run")
    parser.add_argument(
        "--growth-events", type=int, default=1_000_000, help="messages of the one long turn"
    )
    parser.add_argument(
        "--growth-turns", type=int, default=1000, help="turns (of 1,000 messages) of the RSS run"
    )
    parser.add_argument(
        "--footprint-async",
        action="store_true",
        help="also run the RSS-growth part with AsyncClient (about 90 s more)",
    )
    parser.add_argument(
        "--chart-output", type=Path, default=HERE / "turn_latency.svg", help="the chart's file"
    )
    parser.add_argument(
        "--conversation-only",
        action="store_true",
        help="run only the conversation benchmark and print it; no file written",
    )
    args = parser.parse_args()
    began = time.perf_counter()
    if args.extra_only:
        extra_only(args)
        return
    if args.client_only:
        summary, body, _ = client_benchmarks(args, decoding=None)
        print(summary + "\n" + body)
        return
    if args.conversation_only:
        result = conversation.run(args.turns)
        print(report.render_conversation(result, machine_info()))
        print(report.conversation_summary(result), file=sys.stderr)
        return
    initial_backend = convert.json_backend()

    stream = synthetic.build_stream(args.events)
    prefix = synthetic.build_stream(args.qca_events)
    inputs = {
        size: (synthetic.chunked(stream.body, size), synthetic.chunked(prefix.body, size))
        for size in CHUNK_SIZES
    }
    checked = 0 if args.no_check else equivalence.check(stream.body)
    gc.collect()
    gc.freeze()  # the benchmark's own objects are never scanned by the collector again

    only = set(filter(None, args.only.split(",")))
    chosen = [x for x in CONTENDERS if not only or x.key in only]
    timings: dict[tuple[str, int], measure.Timing] = {}
    for size, (full, short) in inputs.items():
        rounds = args.repeats if size == CHUNK_SIZES[0] else max(2, (args.repeats + 1) // 2)
        runs = {
            x.key: (x.fn, short if x.slow else full, min(rounds, 3) if x.slow else rounds)
            for x in chosen
        }
        for key, timing in measure.best_of_each(runs, rounds).items():
            expected = args.qca_events if runs[key][1] is short else args.events
            assert timing.events == expected, (key, timing.events, expected)
            timings[key, size] = timing
            print(
                f"{key:16s} {size:6d} B chunks {timing.events_per_s:12,.0f} events/s",
                file=sys.stderr,
            )

    memory: dict[str, int] = {}
    linear: dict[int, float] = {}
    if not only:
        full = inputs[CHUNK_SIZES[0]][0]
        memory["peak_ours_stdlib"] = measure.peak_memory(c.ours_stdlib, full)
        memory["peak_ours_orjson"] = measure.peak_memory(c.ours_orjson, full)
        memory["peak_ceiling"] = measure.peak_memory(c.ceiling, full)
        memory["retained_ours_stdlib"] = measure.retained_memory(c.collect_ours_stdlib, full)
        memory["retained_ours_orjson"] = measure.retained_memory(c.collect_ours_orjson, full)
        memory["retained_ceiling"] = measure.retained_memory(c.collect_ceiling, full)
        linear = linear_time(3)
    convert.use_json_backend(initial_backend)
    decoding_elapsed = time.perf_counter() - began

    machine = machine_info()
    text = report.render(
        machine=machine,
        stream=stream,
        qca_events=args.qca_events,
        repeats=args.repeats,
        contenders=[(x.key, x.label, x.output, x.slow) for x in CONTENDERS if not x.stage],
        timings=timings,
        memory=memory,
        linear=linear,
        checked=checked,
        fast_paths=sorted(convert.fast_path_types()),
        elapsed=decoding_elapsed,
    )
    print(report.summary(timings), file=sys.stderr)
    if only:
        print(text)
        return
    overhead: dict[str, Any] | None = None
    if not args.no_client:
        decoding = report.primary_ratio(timings, "ours_stdlib", "ceiling")
        summary, body, overhead = client_benchmarks(args, decoding=decoding)
        title, _, rest = text.partition("\n\n")
        text = f"{title}\n\n{summary}\n{rest}\n---\n\n{body}"
    talk: conversation.ConversationResult | None = None
    if not args.no_conversation:
        talk = conversation.run(args.turns)
        text += "\n---\n\n" + report.render_conversation(talk, machine)
        print(report.conversation_summary(talk), file=sys.stderr)
    if overhead is not None:
        write_chart(args.chart_output, overhead, talk)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} in {time.perf_counter() - began:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
