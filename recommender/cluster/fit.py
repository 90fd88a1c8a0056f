"""The fit on a Dask cluster: partitions read and analysed on the workers, one model merged.

The analysis of the text is the slow part of a fit, and a partition's word counts depend on
that partition alone. So each partition is a task (:func:`count_partition`, a module-level
function of its path and of small settings): the worker reads it, counts its words chunk by
chunk with the local fit's own :func:`~recommender.vectors.counting.count_chunk`, merges
those chunks into one block with terms of its own
(:func:`~recommender.vectors.counting.merge_chunks`), and sends back that block and what
the catalogue keeps of the articles, a list per field. The client merges the blocks in
partition order with the local fit's :class:`~recommender.vectors.counting.CountMerger`
(whose result does not depend on the chunks; it looks up each partition's distinct words
and terms, and renumbers its terms), through the estimator's own ``fit``
(:class:`~recommender.vectors.counting.CountedArticles`): the vocabulary, idf and matrix
are those of a local fit of the same corpus, bit for bit.

The neighbour table is built on the workers too: the fitted model is saved without its
table to a scratch folder beside the output (storage the workers read), and each task
scores a block of rows of that folder (:func:`table_block`) with the local build's
:func:`~recommender.model.table.table_lists`; the client assembles the blocks in order.
Nothing larger than a block's lists or a partition's counts travels per task.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import warnings
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .._checks import check_int
from ..errors import CorpusWarning
from ..model.catalogue import ArticleColumns, checksum_bytes
from ..model.table import table_lists
from ..text import FrenchAnalyzer
from ..vectors.counting import ChunkCounts, CountedArticles, MergedCounts, count_chunk, \
    merge_chunks
from .blocks import forget, open_block, open_folder, worker_threads
from .partitions import RelatedCheck, list_partitions, read_partition
from .stream import ordered_map

__all__ = ["ClusterCounts", "PartitionCounts", "TABLE_BLOCK_ROWS", "cluster_table",
           "count_partition", "fit_partitions", "scratch_folder", "table_block"]

logger = logging.getLogger(__name__)

#: Rows of the neighbour table per task: a block is scored in well under a second on a
#: 34k corpus, and its lists (50 int32 and float32 a row) are 400 kB.
TABLE_BLOCK_ROWS = 1024


class PartitionCounts(NamedTuple):
    """What a worker sends back of a partition: its word counts (a MergedCounts), what the
    catalogue keeps of its articles (an ArticleColumns), the sha256 of its articles (as
    the corpus checksum reads them) and the texts of the CorpusWarnings its reading gave."""

    counts: MergedCounts
    articles: ArticleColumns
    sha256: str
    warnings: list


def count_partition(path: str, analyzer: dict, weights: list, *, skip_invalid: bool = False,
                    time_zone=None, chunk_size: int) -> PartitionCounts:
    """A task: read the partition ``path`` and count its words with the analyzer of the
    parameters ``analyzer``, over the fields of ``weights`` (``(name, weight)`` pairs), in
    chunks of ``chunk_size`` articles merged into one block."""
    counter = FrenchAnalyzer(**analyzer)
    fields = [name for name, _ in weights]
    chunks: list[ChunkCounts] = []
    columns, texts = ArticleColumns(), []
    sha = hashlib.sha256()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CorpusWarning)
        for article in read_partition(path, skip_invalid=skip_invalid, time_zone=time_zone):
            texts.append([getattr(article, name) for name in fields])
            columns.add(article, has_text=article.has_text)
            sha.update(checksum_bytes(article))
            if len(texts) == chunk_size:
                chunks.append(count_chunk(counter, texts))
                texts = []
        if texts:
            chunks.append(count_chunk(counter, texts))
    said = [str(w.message) for w in caught if issubclass(w.category, CorpusWarning)]
    counts = merge_chunks(chunks, [weight for _, weight in weights], counter.term)
    return PartitionCounts(counts, columns, sha.hexdigest(), said)


class ClusterCounts(CountedArticles):
    """The partitions of a corpus counted on a cluster, as a vectorizer's fit reads them:
    iterating runs :func:`count_partition` of each partition on the workers and yields
    their merged counts in partition order, noting what the catalogue keeps of each
    partition's articles in the catalogue (``builder``) as they come.

    The corpus checksum (``corpus_sha256``) cannot be the local fit's: that one is the
    sha256 of the whole stream of texts, which never reaches the client here. It is the
    sha256 of the partitions' own sha256 digests, in order, each the local checksum of
    that partition alone: it changes with any text, as the local one does.
    """

    def __init__(self, client, paths, analyzer: dict, weights, *, source=None,
                 skip_invalid: bool = False, time_zone=None, chunk_size: int,
                 progress: bool = False):
        super().__init__(analyzer, weights)
        self.client = client
        self.paths = list(paths)
        self.source = source if source is not None else (self.paths[0] if self.paths else "")
        self.options = {"skip_invalid": skip_invalid, "time_zone": time_zone,
                        "chunk_size": chunk_size}
        self.progress = progress

    def __iter__(self):
        builder = self.builder
        related = RelatedCheck(self.source)
        parts = ordered_map(self.client, count_partition, self.paths, self.analyzer,
                            self.weights, **self.options, progress=self.progress,
                            desc="partitions")
        for part in parts:
            for message in part.warnings:  # as the local reading gives them
                warnings.warn(message, CorpusWarning, stacklevel=2)
            related.note_lists(part.articles.ids, part.articles.site_lists)
            if builder is not None:
                builder.note_columns(part.articles)
                builder.sha.update(bytes.fromhex(part.sha256))
            yield part.counts
        related.warn()
        if builder is not None:
            builder.finished = True


def fit_partitions(model, source, client, *, skip_invalid: bool = False, time_zone=None,
                   progress: bool = False, table: bool = True, scratch=None):
    """Fit ``model`` (an unfitted :class:`~recommender.ArticleRecommender`) on the
    partitions of ``source`` (:func:`~recommender.cluster.partitions.list_partitions`)
    with the workers of ``client``: the model that ``model.fit`` of the same articles
    gives (one checksum aside, see :class:`ClusterCounts`). ``table``: build the
    neighbour table on the workers too (:func:`cluster_table`), through a scratch folder
    beside ``scratch`` (a path the workers read; default: a temporary folder of this
    machine, for a cluster on it). Returns the model."""
    paths = list_partitions(source)
    size = check_int(model.table_size, "table_size", minimum=0,
                     what="a non-negative integer (0 for no neighbour table)")
    vectorizer = model.make_vectorizer()
    counted = ClusterCounts(client, paths, vectorizer.build_analyzer().get_params(),
                            list(vectorizer.settings()["field_weights"].items()), source=source,
                            skip_invalid=skip_invalid, time_zone=time_zone,
                            chunk_size=check_int(vectorizer.chunk_size, "chunk_size"),
                            progress=progress)
    model.table_size = 0
    try:
        model.fit(counted)
    finally:
        model.table_size = size
    if table and size:
        if scratch is None:
            with tempfile.TemporaryDirectory(prefix="recommender-fit-") as folder:
                cluster_table(model, client, beside=Path(folder) / "model", progress=progress)
        else:
            cluster_table(model, client, beside=scratch, progress=progress)
    return model


def cluster_table(model, client, *, beside, table_size=None, progress: bool = False):
    """Build the fitted ``model``'s neighbour table on the workers of ``client``: the
    model is saved without table to a scratch folder beside the path ``beside`` (on
    storage the workers read; removed after, whatever happens), and each task scores a
    block of its rows there (:func:`table_block`). The table equals
    :meth:`~recommender.ArticleRecommender.build_table`'s. Returns the model."""
    if not check_int(model.table_size if table_size is None else table_size, "table_size",
                     minimum=0, what="a non-negative integer (0 for no neighbour table)"):
        return model.build_table(0)  # no table: nothing to score
    table, model.table_ = model.table_, None
    try:
        with scratch_folder(beside) as folder:
            path = folder / "model"
            model.save(path)
            lists = partial(_lists, client, str(path), progress)
            model.build_table(table_size, lists=lists)
    except BaseException:
        model.table_ = table
        raise
    finally:
        _forget(client)
    return model


def _forget(client) -> None:
    """Let the workers drop the scratch model (its files are gone; a worker that kept it
    mapped would keep its disk space)."""
    try:
        client.run(forget)
    except Exception as exc:  # a lost worker, a closed client: nothing left to free there
        logger.debug("workers could not drop the scratch model: %s", exc)


def _lists(client, folder: str, progress: bool, model, rows, width: int):
    """The table's lists of ``rows``, block by block on the workers, in order, as
    :func:`~recommender.model.table.table_lists` gives them."""
    blocks = [rows[s:s + TABLE_BLOCK_ROWS] for s in range(0, len(rows), TABLE_BLOCK_ROWS)]
    parts = ordered_map(client, table_block, blocks, folder, width, progress=progress,
                        desc="table")
    indices, scores = [], []
    for idx, block_scores in parts:
        indices.append(idx)
        scores.append(block_scores)
    return np.concatenate(indices), np.concatenate(scores)


def table_block(rows: np.ndarray, folder: str, width: int):
    """A task: the table's lists of ``rows`` of the model folder ``folder``, opened once
    per worker (of a sharded folder, the shards these rows read:
    :func:`~recommender.cluster.blocks.open_block`), scored with the worker's threads."""
    base = open_folder(folder, rows=False)
    model = open_block(folder, base.catalogue_.ids[rows], {}).snapshot()
    model.n_jobs = worker_threads()  # the saved model's n_jobs is the client's
    idx, scores = table_lists(model, rows, width)
    return idx.astype(np.int32), scores.astype(np.float32)


@contextmanager
def scratch_folder(path):
    """A new folder beside ``path`` named as a temporary folder of its writer
    (``.NAME.tmp-*``), removed on exit: a killed run's is removed by the next writer of
    ``path`` (:func:`recommender._files.clean_leftovers`). Hold the writer's lock of
    ``path`` around it, so that no other writer removes it meanwhile."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
