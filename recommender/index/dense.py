"""The postings of the most common terms as dense rows of values.

A query of More Like This keeps the stop words it selects, and a stop word's posting list
covers most of a window: nine in ten of the postings such a query reads belong to terms
found in a quarter of the articles or more. Added from a dense row of the term's values
(zeros where it is absent), a window's partial sums cost a loop that the compiler
vectorises, about ten times faster per row than reading and adding the postings one by
one; the compiled kernel (:mod:`recommender.index.kernel`) does so when a query's partial
sums cover its whole window. Numpy only: the kernel that reads them needs numba.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

__all__ = ["DENSE_TERM_SHARE", "DensePostings", "dense_postings"]

#: A term whose postings hold at least this share of the rows also has them as a dense row.
DENSE_TERM_SHARE = 0.25


class DensePostings(NamedTuple):
    """The postings of the most common terms as dense rows: ``values[slot[t], j - start]``
    is term ``t``'s value in row ``j`` of ``X`` (0 where it is absent), for the rows from
    ``start`` that hold any term (the others are empty); ``slot[t]`` is -1 for the other
    terms."""

    slot: np.ndarray    # int32, one per term
    values: np.ndarray  # float32, shape (n_dense_terms, width): rows start to start + width
    start: int          # the first row that holds a term


def dense_postings(XT: sp.csr_matrix, share: float = DENSE_TERM_SHARE) -> DensePostings:
    """The :class:`DensePostings` of the terms of ``XT`` (``X.T`` as CSR, the posting
    lists) found in at least ``share`` of the rows from the first to the last that hold a
    term (a worker's model holds only the rows of some shards, the others empty). Each
    costs 4 bytes a row: at most twice its postings (8 bytes an entry)."""
    n_terms = XT.shape[0]
    start = int(XT.indices.min()) if XT.nnz else 0
    width = int(XT.indices.max()) + 1 - start if XT.nnz else 0
    terms = np.flatnonzero(np.diff(XT.indptr) >= max(1.0, share * width))
    slot = np.full(n_terms, -1, np.int32)
    slot[terms] = np.arange(len(terms), dtype=np.int32)
    values = np.zeros((len(terms), width), np.float32)
    for c, t in enumerate(terms):
        a, z = XT.indptr[t], XT.indptr[t + 1]
        values[c, XT.indices[a:z] - start] = XT.data[a:z]
    return DensePostings(slot, values, start)
