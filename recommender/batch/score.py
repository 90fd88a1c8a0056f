"""Batch scoring: the related list of every article (or of listed ones) written to a file.

The output is written in chunks of articles, to a temporary file renamed into place when
complete (:func:`recommender._files.atomic_file`: a kill leaves the old file whole; while it
runs it holds the lock ``.FILE.lock``, so a second writer of the file fails at once, and it
first removes the temporary files of killed runs), in one of the formats of
:mod:`.sinks`: JSON lines ``{"id": …, "related": [{"id": …, "score": …}, …]}`` or CSV rows
``id,rank,related_id,score``.

One code path, local or on a Dask cluster: :func:`list_chunks` is the stream of chunks
every writer consumes (files here, SQL tables in :mod:`.database`), and each chunk is
:func:`block_output` of its ids (its lists, or for a file their text in the file's format),
called on the model in memory, or by the workers on the model of its folder
(:mod:`recommender.cluster.batch`), so both runs write the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._checks import check_int
from .._files import atomic_file
from ..errors import ParameterError
from .sinks import SUFFIXES, block_text, header, warn_unsafe

__all__ = ["CHUNK", "block_lists", "block_output", "chunk_filters", "list_chunks",
           "score_to_file"]

#: Articles scored per call of ``recommend_batch``: bounds the output held in memory.
CHUNK = 4096


def score_to_file(model, out, *, k: int = 10, ids=None, as_of=None, max_age=None, since=None,
                  until=None, categories=None, progress: bool = False, client=None,
                  model_path=None, chunk: int | None = None) -> int:
    """Write the top-``k`` related articles of ``ids`` (default: every article served) to
    ``out``.

    ``as_of`` is one time for all or one per id; time filters restrict the candidates,
    never the articles scored. The format follows the suffix: ``.jsonl`` or ``.csv``.
    ``client``: a Dask client whose workers score the chunks (of ``chunk`` articles) from
    the model folder ``model_path`` (default: the folder ``model`` was loaded from), for
    the same output. Returns the number of articles written. Raises
    :class:`~recommender.errors.ParameterError` for another suffix, and
    :class:`~recommender.errors.UnknownArticleError` for an unknown id, before anything
    is written, and :class:`BlockingIOError` if another process is writing ``out``.
    """
    out = Path(out)
    kind = out.suffix.lower()
    if kind not in SUFFIXES:
        raise ParameterError(f"cannot write {out}: the output must end in .jsonl or .csv")
    ids = list(model.served_ids()) if ids is None else list(ids)
    model.rows_of(ids)  # unknown ids fail before anything is written
    filters = {"as_of": as_of, "max_age": max_age, "since": since, "until": until,
               "categories": categories}
    chunks = list_chunks(model, ids, k, filters, progress, client=client,
                         model_path=model_path, chunk=chunk, kind=kind)
    with atomic_file(out, "w", newline="") as fh:
        fh.write(header(kind))
        warned = False
        for text, unsafe in chunks:
            if unsafe is not None and not warned:
                warn_unsafe(unsafe)
                warned = True
            fh.write(text)
    return len(ids)


def list_chunks(model, ids, k: int, filters: dict, progress: bool = False, *, client=None,
                model_path=None, chunk: int | None = None, kind: str | None = None):
    """``(sources, related, scores)`` per chunk of ``chunk`` (default :data:`CHUNK`) of
    ``ids``, in order: lists of
    Python strings and floats, best first, without the padding (:func:`block_lists`);
    with ``kind`` (a suffix of :data:`~.sinks.SUFFIXES`), their text in that format
    (:func:`block_output`).

    With a Dask ``client``, the chunks are scored by its workers from the model folder
    ``model_path`` (:func:`recommender.cluster.batch.cluster_chunks`) and streamed back in
    order; the same chunks as the local run. Checks its arguments (and, with a client,
    the workers' model) when called, before the first chunk is asked for.
    """
    chunk = check_int(CHUNK if chunk is None else chunk, "chunk", minimum=1,
                      what="a positive number of articles")
    starts = range(0, len(ids), chunk)
    if client is not None:
        from ..cluster.batch import cluster_chunks  # Dask only when a cluster is used

        return cluster_chunks(client, model, model_path, ids, k, filters, starts, chunk,
                              progress, kind=kind)
    return _local_chunks(model, ids, k, filters, starts, chunk, progress, kind)


def _local_chunks(model, ids, k, filters, starts, chunk, progress, kind):
    if progress:
        from tqdm import tqdm  # imported only when a progress bar is asked for

        starts = tqdm(starts, total=len(starts), unit=" chunks", desc="scoring",
                      disable=None)
    for start in starts:
        yield block_output(model, ids[start:start + chunk], k,
                           chunk_filters(filters, start, start + chunk), kind)


def chunk_filters(filters: dict, start: int, stop: int) -> dict:
    """``filters`` for the ids ``start:stop``: a per-id ``as_of`` sliced to them."""
    as_of = filters.get("as_of")
    if as_of is not None and not isinstance(as_of, str) and np.ndim(as_of) == 1:
        return {**filters, "as_of": as_of[start:stop]}
    return filters


def block_output(model, ids, k: int, filters: dict, kind: str | None = None):
    """The one block function of the batch: :func:`block_lists`, or with ``kind`` their
    text in that file format (:func:`~.sinks.block_text`). The local run calls it on its
    model, the workers of a cluster on the model of the folder
    (:mod:`recommender.cluster.batch`), which then format their own blocks."""
    lists = block_lists(model, ids, k, filters)
    return lists if kind is None else block_text(kind, *lists)


def block_lists(model, ids, k: int, filters: dict):
    """The lists of one block of ``ids``: ``(sources, related, scores)``, the sources as
    strings, each list's ids and scores (Python floats) best first without the padding."""
    part = [str(i) for i in ids]
    related, scores = model.recommend_batch(part, k, **filters)
    found = np.isfinite(scores).sum(axis=1).tolist()  # padding comes last
    return (part, [row[:n] for row, n in zip(related.tolist(), found)],
            [row[:n] for row, n in zip(scores.astype(np.float64).tolist(), found)])
