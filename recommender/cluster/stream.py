"""Tasks on a cluster, their results streamed back in the order of their items.

A batch writes its output in the order of its ids, whichever worker finishes first: the
results are yielded in item order as they come, with never more than ``in_flight`` tasks
pending, so the client holds a bounded window of results, never the whole output.
"""

from __future__ import annotations

from collections import deque

from ..errors import ClusterError

__all__ = ["ordered_map"]


def ordered_map(client, func, items, *args, in_flight: int | None = None,
                progress: bool = False, desc: str = "tasks", **kwargs):
    """Yield ``func(item, *args, **kwargs)`` for each of ``items``, computed as tasks of
    ``client``, in the order of ``items``.

    Each task is submitted with ``pure=False`` (two equal items are two tasks), at most
    ``in_flight`` at a time (default: twice the workers' threads), and released once its
    result is yielded. A worker lost mid-run has its tasks recomputed by Dask, so each
    result is still yielded once; an exception raised by a task is raised here as it is. A
    task whose workers all died (``distributed.scheduler.allowed-failures`` + 1 of them,
    Dask's ``KilledWorker``) ends the run with a ClusterError in one line.
    ``progress``: a tqdm bar over the items (``desc``: what they are, also in errors).
    """
    if in_flight is None:
        in_flight = 2 * max(1, sum(client.nthreads().values()))
    if in_flight < 1:
        raise ValueError(f"in_flight must be at least 1, got {in_flight}")
    bar = _bar(items, progress, desc)
    items = iter(items)
    pending: deque = deque()
    try:
        for index, item in enumerate(items):
            pending.append((index, client.submit(func, item, *args, pure=False, **kwargs)))
            if len(pending) >= in_flight:
                yield _take(pending, bar, desc)
        while pending:
            yield _take(pending, bar, desc)
    finally:
        for _, future in pending:  # the caller stopped early or a task failed
            future.cancel()
        if bar is not None:
            bar.close()


def _take(pending: deque, bar, desc: str):
    index, future = pending.popleft()
    try:
        return future.result()
    except Exception as exc:
        from distributed.scheduler import KilledWorker

        if not isinstance(exc, KilledWorker):
            raise
        raise ClusterError(
            f"{desc}: task {index + 1} killed each worker that ran it ({exc.allowed_failures + 1} "
            f"in all, the last {exc.last_worker.address}), so the run stops and writes "
            f"nothing; a worker's log says why it died (most often memory: give the workers "
            f"more)") from None
    finally:
        future.release()
        if bar is not None:
            bar.update(1)


def _bar(items, progress: bool, desc: str):
    if not progress:
        return None
    from tqdm import tqdm  # imported only when a progress bar is asked for

    total = len(items) if hasattr(items, "__len__") else None
    return tqdm(total=total, unit=" blocks", desc=desc, disable=None)
