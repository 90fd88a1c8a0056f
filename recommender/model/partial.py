"""A model folder sharded by time, read in part: the rows of some shards only.

A worker of a Dask cluster scores blocks of queries whose candidates lie in their time
windows, a few shards of a folder saved with ``shard_days`` (:mod:`.shards`). It loads the
folder without rows (``from_folder(path, keep=())``: the catalogue, the vectorizer, the
table), then takes, block by block, a snapshot holding the rows its block reads
(:meth:`PartialRows.with_shards`) and, for More Like This, the queries of the block's own
articles (:meth:`PartialRows.with_query_rows`): the lists are those of the whole model
(:mod:`recommender.cluster.blocks` chooses the shards).
"""

from __future__ import annotations

from ..errors import ParameterError
from .folder import bm25_content
from .search import ContentIndex, mlt_queries
from .shards import read_matrix, read_rows

__all__ = ["PartialRows"]


class PartialRows:
    """Snapshots of a model read in part (a mixin of the estimator)."""

    #: A sharded folder read in part (``from_folder(keep=…)``): its shards and files.
    shards_ = None
    folder_files_ = None

    def with_shards(self, keep) -> "PartialRows":
        """A snapshot of this model (loaded from a sharded folder with ``keep``) whose rows
        are those of the shards ``keep`` of the folder, the other rows empty: it answers
        the requests whose sources and candidates those shards hold, as the whole model
        does."""
        self._check_partial()
        other = self.snapshot()
        other.content_ = _shard_content(self.folder_files_, self.content_, self.vectorizer_,
                                        keep)
        other._pair_context = None  # made of the rows
        return other

    def with_query_rows(self, rows) -> "PartialRows":
        """A snapshot of this model (of :meth:`with_shards`) whose More Like This queries are
        those of ``rows`` (read from their shards), its rows unchanged: it answers requests
        whose sources are among ``rows`` and whose candidates its rows hold (a source's
        query is all that is read of it, without a learned re-ranker)."""
        self._check_partial()
        if not self.content_.is_bm25 or self.reranker_ is not None:
            raise ParameterError("with_query_rows() needs a More Like This model without a "
                                 "learned re-ranker")
        files, vectorizer = self.folder_files_, self.vectorizer_
        n, n_terms = files.manifest["shape"]
        counts = read_rows(files, n, n_terms, files.manifest["nnz"], rows)
        other = self.snapshot()
        other.content_ = self.content_.with_queries(mlt_queries(
            vectorizer.query_weights(counts), vectorizer.settings()["query_terms"]))
        return other

    def _check_partial(self) -> None:
        if self.shards_ is None or self.live_ is not None:
            raise ParameterError("with_shards() needs a model loaded with from_folder(keep=…) "
                                 "from a sharded folder, without live changes")


def _shard_content(files, content: ContentIndex, vectorizer, keep) -> ContentIndex:
    """The rows of the shards ``keep`` of the sharded folder ``files`` (the other rows
    empty) as ``content`` scores them."""
    n, n_terms = files.manifest["shape"]
    matrix = read_matrix(files, n, n_terms, files.manifest["nnz"], keep)
    return bm25_content(files, vectorizer, matrix, n) if content.is_bm25 else ContentIndex(matrix)
