"""An index sharded by time: a model's rows saved as shards of consecutive publication days.

A model with ``shard_days`` (``recommender train --shard-days N``) saves its matrix (the
rows as the search reads them: More Like This's raw counts or the TF-IDF rows) not as one
``matrix.*`` but as shards of consecutive rows: the rows published in one span of
``shard_days`` days (UTC days counted from 1970-01-01), the undated rows in a last shard of
their own. Each shard is a plain CSR of its rows, as the unsharded matrix is
(``shard_00000.data.npy``, ``.indices.npy``, ``.indptr.npy``), and the manifest's ``shards``
lists them in row order: ``{"name", "rows": [start, stop], "nnz", "first", "last"}``
(``first`` and ``last``: the publication times of its first and last rows, ISO; None for
the undated shard).

Rows are in publication order, so the rows a query may return (its window,
:meth:`~recommender.model.catalogue.Catalogue.windows`) are a range that touches only the
shards of those days: :meth:`Shards.touching`. A process that scores some queries only (a
worker of a Dask cluster, :mod:`recommender.cluster.blocks`) reads the shards of those
queries' rows and windows, and nothing else (:func:`read_matrix` with ``keep``): its memory
follows the window, not the archive. A process that loads the whole model (the service,
the command line) reads every shard into one matrix, and serves, adds, withdraws, pins and
bans as on an unsharded model; a compaction or a save writes the shards again, so the
articles added since the fit land in the newest shards.
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp

from .._checks import check_int
from ..manifest import MANIFEST
from ..times import SECONDS_PER_DAY, UNDATED, to_iso

__all__ = ["SHARD_PARTS", "Shards", "check_shard_days", "read_matrix", "read_rows",
           "shard_arrays", "shard_bounds"]

#: The files of one shard: ``{name}.{part}.npy``.
SHARD_PARTS = ("data", "indices", "indptr")
_NAME = re.compile(r"shard_\d{5}")


def check_shard_days(value) -> int | None:
    """``shard_days`` as a positive int, or None (one matrix, no shards)."""
    return check_int(value, "shard_days", allow_none=True,
                     what="a positive number of days, or None for no shards")


def shard_bounds(published: np.ndarray, shard_days: int) -> np.ndarray:
    """The first row of each shard, then the number of rows (int64): rows published in the
    same span of ``shard_days`` UTC days share a shard, undated rows (last) one of their
    own. ``published`` is in publication order."""
    published = np.asarray(published, np.int64)
    span = np.where(published == UNDATED, np.iinfo(np.int64).max,
                    (published // SECONDS_PER_DAY) // int(shard_days))
    starts = np.flatnonzero(np.r_[True, span[1:] != span[:-1]]) if len(span) else []
    return np.r_[np.asarray(starts, np.int64), len(published)].astype(np.int64)


def shard_arrays(X: sp.csr_matrix, published: np.ndarray, shard_days: int):
    """``(arrays, entries)``: the files of the shards of ``X`` (name -> array) and the
    manifest's ``shards`` entries."""
    bounds = shard_bounds(published, shard_days)
    arrays, entries = {}, []
    for i, (start, stop) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist())):
        name = f"shard_{i:05d}"
        begin, end = int(X.indptr[start]), int(X.indptr[stop])
        arrays[f"{name}.data.npy"] = X.data[begin:end].astype(np.float32)
        arrays[f"{name}.indices.npy"] = X.indices[begin:end].astype(np.int32)
        arrays[f"{name}.indptr.npy"] = (X.indptr[start:stop + 1] - begin).astype(np.int64)
        first, last = int(published[start]), int(published[stop - 1])
        entries.append({"name": name, "rows": [start, stop], "nnz": end - begin,
                        "first": None if first == UNDATED else to_iso(first),
                        "last": None if last == UNDATED else to_iso(last)})
    return arrays, entries


class Shards:
    """The shards of a model folder: ``names`` and ``bounds`` (the first row of each, then
    the number of rows), as its manifest lists them."""

    def __init__(self, names: list, bounds: np.ndarray, nnz: list):
        self.names = names
        self.bounds = bounds
        self.nnz = nnz

    def __len__(self) -> int:
        return len(self.names)

    def touching(self, lo, hi) -> np.ndarray:
        """The shards that hold a row of any range ``[lo, hi)`` (arrays of row numbers;
        empty ranges touch nothing), in order."""
        lo, hi = np.asarray(lo, np.int64).ravel(), np.asarray(hi, np.int64).ravel()
        some = hi > lo
        first = np.searchsorted(self.bounds, lo[some], side="right") - 1
        last = np.searchsorted(self.bounds, hi[some] - 1, side="right") - 1
        hit = np.zeros(len(self) + 1, np.int64)
        np.add.at(hit, first, 1)
        np.add.at(hit, last + 1, -1)
        return np.flatnonzero(np.cumsum(hit)[:-1] > 0)

    @classmethod
    def of(cls, files, n: int, nnz: int) -> "Shards":
        """The manifest's ``shards`` of the folder ``files``, checked: names of the form
        ``shard_NNNNN`` with their three files listed, row ranges that run from 0 to ``n``
        without gap or overlap, and counts of values that add up to ``nnz``."""
        entries = files.manifest["shards"]
        if not (isinstance(entries, list) and entries):
            raise _damaged(files, "shards must be a non-empty list")
        names, starts, counts, row = [], [], [], 0
        for entry in entries:
            ok = (isinstance(entry, dict) and isinstance(entry.get("name"), str)
                  and _NAME.fullmatch(entry["name"]) and isinstance(entry.get("rows"), list)
                  and len(entry["rows"]) == 2 and all(type(v) is int for v in entry["rows"])
                  and type(entry.get("nnz")) is int and entry["nnz"] >= 0)
            if not ok or entry["rows"][0] != row or entry["rows"][1] <= row:
                raise _damaged(files, f"shard {len(names)} ({str(entry)[:80]}) is not a name "
                                      f"shard_NNNNN with rows [{row:,}, stop) and nnz")
            unlisted = [p for p in SHARD_PARTS if not files.has(f"{entry['name']}.{p}.npy")]
            if unlisted:
                raise _damaged(files, f"{entry['name']}.{unlisted[0]}.npy is not listed")
            names.append(entry["name"])
            starts.append(row)
            counts.append(entry["nnz"])
            row = entry["rows"][1]
        if row != n or sum(counts) != nnz or len(set(names)) != len(names):
            raise _damaged(files, f"the shards hold {row:,} rows and {sum(counts):,} values, "
                                  f"the model {n:,} and {nnz:,}")
        return cls(names, np.asarray([*starts, n], np.int64), counts)


def read_matrix(files, n: int, n_terms: int, nnz: int, keep=None) -> sp.csr_matrix:
    """The saved rows (``matrix.*``, or the shards of a sharded folder), once every index
    in them is within bounds. One matrix is memory-mapped (nothing is copied, and processes
    share its pages); shards are read into one matrix of all ``n`` rows, only those of
    the shards ``keep`` (positions in the manifest's list; None: all) for a partial read,
    the other rows empty."""
    if "shards" not in files.manifest:
        data, indices, indptr = _part(files, "matrix", n, n_terms, nnz)
        return sp.csr_matrix((data, indices, indptr), shape=(n, n_terms), copy=False)
    shards = Shards.of(files, n, nnz)
    keep = range(len(shards)) if keep is None else sorted(set(int(i) for i in keep))
    lengths = np.zeros(n, np.int64)
    datas, indices = [], []
    for i in keep:
        start, stop = shards.bounds[i], shards.bounds[i + 1]
        d, j, p = _part(files, shards.names[i], int(stop - start), n_terms, shards.nnz[i])
        lengths[start:stop] = np.diff(p)
        datas.append(d)
        indices.append(j)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=indptr[1:])
    data = np.concatenate(datas) if datas else np.zeros(0, np.float32)
    index = np.concatenate(indices) if indices else np.zeros(0, np.int32)
    return sp.csr_matrix((data, index, indptr), shape=(n, n_terms), copy=False)


def read_rows(files, n: int, n_terms: int, nnz: int, rows) -> sp.csr_matrix:
    """The saved ``rows`` of a sharded folder (row numbers, in any order), in a matrix of
    all ``n`` rows, the others empty: only those rows are copied out of their shards."""
    shards = Shards.of(files, n, nnz)
    rows = np.unique(np.asarray(rows, np.int64))
    if len(rows) and (rows[0] < 0 or rows[-1] >= n):
        raise IndexError(f"rows must be within [0, {n:,})")
    which = np.searchsorted(shards.bounds, rows, side="right") - 1
    lengths = np.zeros(n, np.int64)
    datas, indices = [], []
    for i in np.unique(which).tolist():
        start, stop = int(shards.bounds[i]), int(shards.bounds[i + 1])
        part = sp.csr_matrix(_part(files, shards.names[i], stop - start, n_terms,
                                   shards.nnz[i]), shape=(stop - start, n_terms))
        picked = part[rows[which == i] - start]
        lengths[rows[which == i]] = np.diff(picked.indptr)
        datas.append(picked.data)
        indices.append(picked.indices)
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=indptr[1:])
    data = np.concatenate(datas) if datas else np.zeros(0, np.float32)
    index = np.concatenate(indices) if indices else np.zeros(0, np.int32)
    return sp.csr_matrix((data, index, indptr), shape=(n, n_terms), copy=False)


def _part(files, stem: str, n: int, n_terms: int, nnz: int):
    """``(data, indices, indptr)`` of the CSR files ``{stem}.*.npy``, memory-mapped."""
    data = files.array(f"{stem}.data.npy", "r", dtype=np.float32, shape=(nnz,))
    indices = files.array(f"{stem}.indices.npy", "r", dtype=np.int32, shape=(nnz,))
    indptr = files.array(f"{stem}.indptr.npy", "r", dtype=np.int64, shape=(n + 1,))
    if indptr[0] != 0 or indptr[-1] != nnz or (np.diff(indptr) < 0).any():
        raise files.refuse(f"{stem}.indptr.npy does not run from 0 to nnz ({nnz:,}) without "
                           f"decreasing; the model is damaged. Retrain it.")
    # as unsigned, a negative column is larger than any term: one pass checks both bounds
    if nnz and indices.view(np.uint32).max() >= n_terms:
        raise files.refuse(f"{stem}.indices.npy holds a column outside [0, {n_terms:,}) "
                           f"(the terms); the model is damaged. Retrain it.")
    # a float64 sum of float32 values cannot overflow: it is finite iff every value is
    if not np.isfinite(np.sum(data, dtype=np.float64)):
        raise files.refuse(f"{stem}.data.npy holds a value that is not finite; the model is "
                           f"damaged. Retrain it.")
    return data, indices, indptr


def _damaged(files, what: str):
    return files.refuse(f"{MANIFEST}: shards: {what}; the model is damaged. Retrain it.")
