"""The batch on a Dask cluster: the same block function as the local run, on the workers.

Each task is :func:`folder_block` of one block of ids: the workers open the model folder
by its path (:func:`~recommender.cluster.blocks.open_block`: once per worker, from storage
shared with the client; of a folder sharded by time, only the shards the block reads), set
the client's newsroom controls on a snapshot of it, and call
:func:`recommender.batch.score.block_output`, the function the local run calls (for a file,
the workers format their blocks' text: the client only writes it). The blocks
come back in order (:func:`~recommender.cluster.stream.ordered_map`), so the writers see
the stream of the local run and write the same bytes.

The lists are those of the folder as it is (pins, bans and the changes of its log
included): before the run and in every task, the workers' model must have the version of
the client's (:meth:`~recommender.ArticleRecommender.version`), else the run stops with one
line naming both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..batch.score import CHUNK, block_output, chunk_filters
from ..errors import ClusterError, ParameterError
from ..model.controls import CONTROLS
from .blocks import open_block, open_folder, worker_threads
from .stream import ordered_map

__all__ = ["WORKERS_TIMEOUT", "check_workers", "cluster_chunks", "cluster_lists", "folder_block",
           "folder_block_lists", "folder_of", "folder_version"]

#: Seconds to wait for a first worker when the scheduler has none.
WORKERS_TIMEOUT = 30


def cluster_lists(client, model_path, model, source_ids, k: int, *, as_of=None,
                  max_age=None, chunk: int = CHUNK) -> np.ndarray:
    """``model.recommend_batch(source_ids, k, as_of=…, max_age=…).ids``, the same array,
    scored by the workers of ``client`` in blocks of ``chunk`` through the batch's block
    function (the evaluation's lists; ``model`` without its re-ranker when it is
    ``content_only()``'s)."""
    empty = model.recommend_batch([], k).ids  # the width and dtype of the answer
    out = np.full((len(source_ids), empty.shape[1]), "", dtype=empty.dtype)
    content_only = model.reranker_ is None
    chunks = cluster_chunks(client, model, model_path, list(source_ids), k,
                            {"as_of": as_of, "max_age": max_age},
                            range(0, len(source_ids), chunk), chunk, content_only=content_only)
    row = 0
    for _, related, _ in chunks:
        for ids in related:
            out[row, :len(ids)] = ids
            row += 1
    return out


def cluster_chunks(client, model, model_path, ids, k: int, filters: dict, starts, chunk: int,
                   progress: bool = False, *, content_only: bool = False,
                   kind: str | None = None):
    """The chunks of :func:`recommender.batch.score.list_chunks`, scored by the workers of
    ``client`` from the folder ``model_path`` (default: the folder ``model`` was loaded
    from); with ``kind``, their text in that file format. Checks now that every worker
    sees the client's model; returns the stream."""
    path = folder_of(model, model_path)
    version = model.version()
    check_workers(client, path, version)
    controls = {name: getattr(model, name) for name in CONTROLS}
    # each block's ids as one array of text: a list of them (numpy's str scalars, as
    # ``served_ids()`` gives) cost ten times the scoring to send, one by one
    blocks = [(np.asarray(ids[start:start + chunk], dtype=str),
               chunk_filters(filters, start, start + chunk)) for start in starts]
    return ordered_map(client, folder_block, blocks, path, k, controls, version,
                       content_only, kind, progress=progress, desc="scoring")


def folder_block(block, path: str, k: int, controls: dict, version: str,
                 content_only: bool = False, kind: str | None = None):
    """:func:`folder_block_lists` of ``block = (ids, filters)`` (a task of the stream)."""
    ids, filters = block
    return folder_block_lists(path, ids, k, filters, controls=controls, version=version,
                              content_only=content_only, kind=kind)


def folder_block_lists(path: str, ids, k: int, filters: dict, *, controls=None,
                       version: str | None = None, content_only: bool = False,
                       kind: str | None = None):
    """:func:`~recommender.batch.score.block_output` on the model of the folder ``path``
    (opened once per process; without its re-ranker with ``content_only``), with the
    newsroom ``controls`` given; ClusterError if its version is not ``version``."""
    model = open_block(path, ids, filters)
    model = model.content_only() if content_only else model.snapshot()
    _check_version(model, path, version)
    for name, value in (controls or {}).items():
        setattr(model, name, value)
    model.n_jobs = worker_threads()
    return block_output(model, ids, k, filters, kind)


def folder_version(path: str) -> str:
    """The version of the model of the folder ``path`` as this process sees it."""
    return open_folder(path, rows=False).version()


def folder_of(model, model_path) -> str:
    """The model folder the workers read, as an absolute path (their working folder may
    not be the client's)."""
    if model_path is None:
        source = getattr(model, "source_", None)
        if source is None:
            raise ParameterError("the workers of a cluster read the model from its folder: "
                                 "save the model and give its folder (model_path), or load "
                                 "it from one")
        model_path = source.path
    return str(Path(model_path).resolve())


def check_workers(client, path: str, version: str) -> None:
    """Each worker of ``client`` opens the folder (in parallel, before the first block)
    and sees ``version``; else one line naming the worker and what it saw. A scheduler
    without workers is one line too, after :data:`WORKERS_TIMEOUT` seconds, rather than
    a run that waits for ever."""
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
    except TimeoutError:
        address = client.scheduler.address
        raise ClusterError(f"no worker joined the scheduler at {address} within "
                           f"{WORKERS_TIMEOUT:g} s: start some with 'dask worker "
                           f"{address}'") from None
    seen = client.run(folder_version, path, on_error="return")
    for worker, answer in sorted(seen.items()):
        if isinstance(answer, BaseException):
            reason = " ".join((str(answer) or type(answer).__name__).split())
            raise ClusterError(f"worker {worker} cannot open the model folder {path}: "
                               f"{reason}")
        if answer != version:
            raise ClusterError(_mismatch(worker, path, answer, version))


def _check_version(model, path: str, version: str | None) -> None:
    if version is not None and model.version() != version:
        raise ClusterError(_mismatch("a worker", path, model.version(), version))


def _mismatch(worker: str, path: str, seen: str, version: str) -> str:
    who = worker if worker == "a worker" else f"worker {worker}"
    return (f"{who} sees another model in {path} (version {seen}) than this process "
            f"(version {version}): the workers must read the same folder, on storage shared "
            f"with the client, and it must not change during the run")
