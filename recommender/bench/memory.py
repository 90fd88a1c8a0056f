"""Memory of the benchmark's stages: the peak resident set size (RSS) while one runs.

:class:`MemorySampler` samples the RSS of this process plus its child processes (the fit's
workers) every 20 ms in a thread while a ``with`` block runs (``/proc``; on systems without
it, ``resource.getrusage``'s maximum RSS of the process so far, :func:`peak_rss`).
"""

from __future__ import annotations

import os
import resource
import threading
from pathlib import Path

__all__ = ["MemorySampler", "peak_rss"]


def peak_rss() -> int:
    """Bytes: the process's maximum resident set size so far (``getrusage``)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _rss_of(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                pass
    return found


class MemorySampler:
    """Peak RSS of this process and its children while the ``with`` block runs."""

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._proc = Path("/proc/self/statm").exists()

    def _sample(self) -> None:
        me = os.getpid()
        tick = 0
        children: list[int] = []
        while True:
            if tick % 25 == 0:  # look for new workers twice a second
                children = _children(me)
            total = 0
            for pid in [me, *children]:
                try:
                    total += _rss_of(pid)
                except OSError:
                    pass
            self.peak = max(self.peak, total)
            tick += 1
            if self._stop.wait(self.interval):
                return

    def __enter__(self):
        if self._proc:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        if self._proc:
            self._stop.set()
            self._thread.join()
        else:
            self.peak = peak_rss()
        return False
