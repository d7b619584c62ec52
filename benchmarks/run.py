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

import attrs
import client_report
import contenders as c
import conversation
import equivalence
import latency
import many
import measure
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


def client_benchmarks(args: argparse.Namespace, decoding: float | None) -> tuple[str, str]:
    """Per-turn overhead, throughput, start-up and many conversations, against the naive
    client and the official ones, each against ``server.py``; (summary, sections)."""
    rounds = args.client_rounds
    began = time.perf_counter()
    overhead = latency.overhead(rounds)
    print(f"overhead done in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    throughput = latency.throughput(max(3, rounds - 2))
    print(f"throughput done in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    start = startup.run(max(7, 2 * rounds + 1))
    print(f"start-up done in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    crowd = many.run(max(2, rounds - 2), args.many)
    print(f"many done in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    summary, body = client_report.render(
        overhead=overhead, throughput=throughput, startup=start, many=crowd, decoding=decoding
    )
    print(summary, file=sys.stderr)
    return summary, body


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
        "--no-client", action="store_true", help="skip overhead/throughput/start-up/many"
    )
    parser.add_argument("--client-rounds", type=int, default=5, help="rounds of the client runs")
    parser.add_argument(
        "--client-only",
        action="store_true",
        help="run only the client benchmarks (overhead, throughput, start-up, many) and print",
    )
    parser.add_argument("--many", type=int, default=1000, help="conversations of the many run")
    parser.add_argument(
        "--conversation-only",
        action="store_true",
        help="run only the conversation benchmark and print it; no file written",
    )
    args = parser.parse_args()
    began = time.perf_counter()
    if args.client_only:
        summary, body = client_benchmarks(args, decoding=None)
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
    if not args.no_client:
        decoding = report.primary_ratio(timings, "ours_stdlib", "ceiling")
        summary, body = client_benchmarks(args, decoding=decoding)
        title, _, rest = text.partition("\n\n")
        text = f"{title}\n\n{summary}\n{rest}\n---\n\n{body}"
    if not args.no_conversation:
        result = conversation.run(args.turns)
        text += "\n---\n\n" + report.render_conversation(result, machine)
        print(report.conversation_summary(result), file=sys.stderr)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} in {time.perf_counter() - began:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
