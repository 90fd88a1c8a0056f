"""Timing the benchmark's stages: medians of repeated calls with their peak memory, the
time spent making a streamed corpus, and the machine the timings were taken on."""

from __future__ import annotations

import os
import platform
import statistics
import time

import numpy as np

from .memory import MemorySampler

__all__ = ["Counted", "alternated", "machine", "timed"]


def timed(fn, repeats: int, cpu: list | None = None):
    """``(median seconds, peak bytes, last result)`` of ``repeats`` calls; the median CPU
    seconds of this process (not of its workers) appended to ``cpu`` when given."""
    times, cpus, peak, result = [], [], 0, None
    for _ in range(repeats):
        result = None
        with MemorySampler() as mem:
            start, start_cpu = time.perf_counter(), time.process_time()
            result = fn()
            times.append(time.perf_counter() - start)
            cpus.append(time.process_time() - start_cpu)
        peak = max(peak, mem.peak)
    if cpu is not None:
        cpu.append(statistics.median(cpus))
    return statistics.median(times), peak, result


def alternated(calls: dict, repeats: int, *, cpu: bool = False) -> dict:
    """``{name: (median seconds, peak bytes, last result, median CPU seconds or None)}`` of
    ``repeats`` rounds in which each call runs once, in turn: the machine's slow spells fall
    on every call alike, so their ratios hold."""
    times = {name: [] for name in calls}
    cpus = {name: [] for name in calls}
    peaks = dict.fromkeys(calls, 0)
    results = {}
    for _ in range(repeats):
        for name, fn in calls.items():
            results[name] = None
            with MemorySampler() as mem:
                start, start_cpu = time.perf_counter(), time.process_time()
                results[name] = fn()
                times[name].append(time.perf_counter() - start)
                cpus[name].append(time.process_time() - start_cpu)
            peaks[name] = max(peaks[name], mem.peak)
    return {name: (statistics.median(times[name]), peaks[name], results[name],
                   statistics.median(cpus[name]) if cpu else None) for name in calls}


class Counted:
    """An iterable of articles that counts them (``n``) and the time spent making them
    (``seconds``)."""

    def __init__(self, articles):
        self.articles = articles
        self.n = 0
        self.seconds = 0.0

    def __iter__(self):
        iterator = iter(self.articles)
        while True:
            start = time.perf_counter()
            try:
                article = next(iterator)
            except StopIteration:
                return
            self.seconds += time.perf_counter() - start
            self.n += 1
            yield article


def machine() -> dict:
    """The Python, platform, processor, CPU count and numpy of this machine."""
    return {"python": platform.python_version(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "numpy": np.__version__}
