"""Timing and memory measurement helpers, the same for every contender.

Timing: ``time.perf_counter`` around one whole pass over the stream, best of N passes, the
contenders taking turns pass by pass. The collector stays enabled (as in production) but starts
each pass empty: ``gc.collect()`` before every pass, and everything the benchmark itself holds is
frozen out of the collector once at start-up (``gc.freeze``), so no contender pays for scanning
another's leftovers.

Memory: ``tracemalloc`` peak above the starting point while one pass runs (events dropped as
made), and the size retained by a list of all decoded events.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import attrs

__all__ = ["Timing", "best_of", "best_of_each", "peak_memory", "retained_memory"]


@attrs.frozen
class Timing:
    """The best pass of a contender over one input."""

    seconds: float
    events: int
    nbytes: int

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds

    @property
    def mb_per_s(self) -> float:
        return self.nbytes / self.seconds / 1e6

    @property
    def us_per_event(self) -> float:
        return self.seconds / self.events * 1e6


def best_of(fn: Callable[[list[bytes]], int], chunks: list[bytes], repeats: int) -> Timing:
    """Run ``fn(chunks)`` ``repeats`` times; keep the fastest pass."""
    return best_of_each({"fn": (fn, chunks, repeats)}, repeats)["fn"]


def best_of_each(
    runs: dict[str, tuple[Callable[[list[bytes]], int], list[bytes], int]], rounds: int
) -> dict[str, Timing]:
    """Best pass of each ``name: (fn, chunks, repeats)``, the contenders taking turns.

    Round after round, each contender runs once (until it had its ``repeats``), so a slow
    drift of the machine (frequency, noisy neighbours) touches them all alike.
    """
    best: dict[str, Timing] = {}
    for round_ in range(rounds):
        for name, (fn, chunks, repeats) in runs.items():
            if round_ >= repeats:
                continue
            gc.collect()
            start = time.perf_counter()
            events = fn(chunks)
            seconds = time.perf_counter() - start
            if name not in best or seconds < best[name].seconds:
                best[name] = Timing(seconds, events, sum(len(chunk) for chunk in chunks))
    return best


def peak_memory(fn: Callable[[list[bytes]], Any], chunks: list[bytes]) -> int:
    """Peak bytes allocated above the starting point while ``fn(chunks)`` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn(chunks)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def retained_memory(build: Callable[[list[bytes]], list[Any]], chunks: list[bytes]) -> int:
    """Bytes still allocated after ``build(chunks)`` returns its list (the list included)."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        kept = build(chunks)
        gc.collect()
        size = tracemalloc.get_traced_memory()[0] - base
        del kept
        return size
    finally:
        tracemalloc.stop()
