"""The rows of a CSR matrix taken in blocks of a bounded number of entries.

Arithmetic over every entry of a large matrix (a float64 copy of its values, the BM25
weights) makes temporaries as large as the matrix: for 59 million entries (300,000 rows, as
many as a model of 300,000 articles holds), arrays of 470 MB, written to fresh memory and
read back from it. Taken a block of rows at a time, the temporaries stay in the processor's
cache: the BM25 weights of those entries took 0.53 s instead of 4.7 s (1.7 s once the
memory was the process's). Each entry's arithmetic is its own, so the results are the same,
bit for bit, whatever the blocks.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BLOCK_ENTRIES", "row_blocks"]

#: Entries in a block (512 kB of float64): 0.53 s for the weights above, against 0.97 s
#: with 16,384 and 1.28 s with a million.
BLOCK_ENTRIES = 1 << 16


def row_blocks(indptr: np.ndarray, entries: int | None = None):
    """Yield ``(start, stop, lo, hi)``: the rows ``start:stop`` and their entries ``lo:hi``,
    consecutive blocks that cover every row, of at most ``entries`` entries (default
    :data:`BLOCK_ENTRIES`) unless a single row holds more."""
    entries = BLOCK_ENTRIES if entries is None else entries
    n = len(indptr) - 1
    start = 0
    while start < n:
        stop = int(np.searchsorted(indptr, indptr[start] + entries, side="right")) - 1
        stop = min(max(stop, start + 1), n)
        yield start, stop, int(indptr[start]), int(indptr[stop])
        start = stop
