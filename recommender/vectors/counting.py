"""Weighted term counts of articles, in chunks, in this process or in worker processes.

The analysis of the text is the slow part of a fit, and each article's counts depend on
that article alone. So articles are cut into chunks; :func:`count_chunk` turns a chunk into
the distinct words of each field and their counts, with slots numbered per chunk (it runs
in a worker process with ``n_jobs > 1``); :class:`CountMerger` maps each chunk's words to
global slots and terms, in chunk order, and keeps each chunk as a small CSR block.

The result does not depend on the chunk size or on the number of processes: a field's
count is ``float32(weight × count)`` as before, and the counts of one term in one article
(several fields, several words with one term) are added in float64, where sums of a few
float32 values are exact and so do not depend on their order, then rounded to float32.

A worker process ends when the process that started it dies (:func:`end_with_parent`):
a killed ``train`` leaves no worker behind.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from array import array
from contextlib import contextmanager
from itertools import islice
from typing import Iterable, NamedTuple

import numpy as np
import scipy.sparse as sp

from ..errors import ParameterError
from ..text import FrenchAnalyzer

__all__ = ["ChunkCounts", "CountMerger", "CountedArticles", "MergedCounts", "chunked",
           "count_chunk", "count_texts", "end_with_parent", "merge_chunks", "stacked_rows"]

#: Articles per chunk: large enough that a worker's start-up and the transfer of its
#: result are small beside its analysis, small enough to keep every core busy.
DEFAULT_CHUNK_SIZE = 2000


class ChunkCounts(NamedTuple):
    """The distinct words of each field of each article of a chunk.

    ``words`` lists the chunk's distinct words (slot ``i`` is ``words[i]``); ``lengths``
    has shape ``(n_articles, n_fields)``: how many distinct words each field has; ``slots``
    and ``counts`` (int32) hold, field after field, each distinct word's slot and count.
    """

    words: list
    lengths: np.ndarray
    slots: np.ndarray
    counts: np.ndarray


class MergedCounts(NamedTuple):
    """Chunks of counts merged where they were counted (:func:`merge_chunks`), with term
    columns of their own (in alphabetical order of the terms): ``words`` lists their
    distinct words in order of first occurrence, ``columns`` gives each word's column (-1:
    the word has no term), ``frequency`` each word's weighted count, ``counts`` (float32
    CSR, its rows' terms in column order) each article's weighted count of each term, and
    ``terms`` the term of each column (the merger then needs no analyzer for a new word)."""

    words: list
    columns: np.ndarray
    frequency: np.ndarray
    counts: sp.csr_matrix
    terms: list


class CountedArticles:
    """Articles whose words were counted elsewhere (on a cluster's workers): a vectorizer's
    fit merges their :class:`ChunkCounts` or :class:`MergedCounts` instead of analysing
    texts, and gets the same vectors (:class:`CountMerger` does not depend on the chunks).

    ``analyzer`` (the analyzer's parameters) and ``weights`` (the text fields and their
    weights, ``(name, weight)`` in order) are those they were counted with: :meth:`check`
    refuses a vectorizer of other settings. ``builder`` is set by the catalogue that notes
    their records (:meth:`~recommender.model.catalogue.CatalogueBuilder.collect`). A
    subclass yields the counts in article order (:mod:`recommender.cluster.fit`).
    """

    def __init__(self, analyzer: dict, weights):
        self.analyzer = dict(analyzer)
        self.weights = [(str(name), float(weight)) for name, weight in weights]
        self.builder = None

    @property
    def fields(self) -> tuple:
        """The text fields, in order."""
        return tuple(name for name, _ in self.weights)

    def __iter__(self):
        raise NotImplementedError

    def check(self, analyzer: dict, weights) -> None:
        weights = [(str(name), float(weight)) for name, weight in weights]
        if (dict(analyzer), weights) != (self.analyzer, self.weights):
            raise ParameterError(
                f"these articles were counted with the analyzer {self.analyzer} and the field "
                f"weights {dict(self.weights)}; this vectorizer reads {dict(analyzer)} with "
                f"{dict(weights)}: count them again with its settings")


class _Slots(dict):
    """word -> slot, a new word getting the next slot (in order of first occurrence)."""

    def __missing__(self, word):
        slot = self[word] = len(self)
        return slot


def count_chunk(analyzer: FrenchAnalyzer, fields: list[list[str]]) -> ChunkCounts:
    """The word counts of a chunk: ``fields[i]`` is the texts of article ``i``, one per field.

    A module-level function of picklable arguments, so that it runs in a worker process.
    Every word is mapped to its slot (a dict look-up in C), then the slots of each field
    are counted at once, as a sparse matrix of ones whose duplicates are summed.
    """
    slot_of = _Slots()
    slot = slot_of.__getitem__
    raw_words = analyzer.raw_words
    tokens: list[int] = []
    lengths = [0]
    for texts in fields:
        for text in texts:
            words = raw_words(text)
            tokens += map(slot, words)
            lengths.append(len(words))
    n_fields = len(fields[0]) if fields else 0
    indptr = np.cumsum(lengths, dtype=np.int64)
    counts = sp.csr_matrix((np.ones(len(tokens), np.int32), np.array(tokens, np.int32), indptr),
                           shape=(len(lengths) - 1, len(slot_of)))
    counts.sum_duplicates()
    return ChunkCounts(list(slot_of), np.diff(counts.indptr).reshape(-1, n_fields),
                       counts.indices.astype(np.int32, copy=False),
                       counts.data.astype(np.int32, copy=False))


def count_texts(analyzer: FrenchAnalyzer, chunks: Iterable[list], n_jobs: int = 1):
    """:func:`count_chunk` of every chunk, in order; in ``n_jobs`` worker processes when
    more than one (joblib), each chunk's result arriving as soon as it and those before it
    are done."""
    if n_jobs == 1:
        return (count_chunk(analyzer, chunk) for chunk in chunks)
    from joblib import Parallel, delayed  # joblib only in the parent: workers start faster

    with _sigint_ignored():
        return Parallel(n_jobs=n_jobs, backend="loky", return_as="generator",
                        pre_dispatch="2*n_jobs", initializer=end_with_parent,
                        initargs=(os.getpid(),))(
            delayed(count_chunk)(analyzer, chunk) for chunk in chunks)


@contextmanager
def _sigint_ignored():
    """Ignore SIGINT while the workers are started, so that they inherit it ignored.

    Ctrl-C in a terminal signals the whole process group: a worker still importing its
    modules printed a traceback of its own. With SIGINT ignored from their start, only the
    parent gets it (its KeyboardInterrupt ends the run, and the workers with it); a Ctrl-C
    in the few milliseconds of the start itself is lost. Only the main thread can set a
    signal handler: elsewhere nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


#: How often a worker looks whether its parent is still alive, in seconds.
PARENT_CHECK_SECONDS = 0.5


def end_with_parent(parent: int) -> None:
    """Worker initializer: end this process within :data:`PARENT_CHECK_SECONDS` of the
    death of its parent, the process of pid ``parent`` (a killed ``train``). Without it
    loky's workers finish their chunk and then wait for work for minutes.

    A daemon thread watches the parent pid (on POSIX, ``os.getppid()`` changes when the
    parent dies). Not ``prctl(PR_SET_PDEATHSIG)``: that signal follows the death of the
    parent *thread* that started the worker, and loky starts replacement workers from a
    thread of its own; and it is Linux only.
    """
    if os.name != "posix":
        return
    if os.getppid() != parent:  # died while this worker started
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="end-with-parent",
                     daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)  # the parent is gone: nobody will read this worker's results


def chunked(items: Iterable, size: int) -> Iterable[list]:
    """Lists of ``size`` items (the last may be shorter), read lazily."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class CountMerger:
    """Gather chunk counts into one CSR matrix of weighted counts, rows in chunk order.

    ``column_of(word)`` gives a new word's column (``-1`` to drop it); it is asked once per
    distinct word, in order of first occurrence in the corpus, so that it can grow a
    vocabulary. Of a MergedCounts' new word, ``column_of_term(term)`` is asked instead,
    with the word's term as the part gives it (a word without term is dropped): it must be
    what ``column_of`` gives the word. ``weights`` holds one weight per field.

    :meth:`add` takes :class:`ChunkCounts`, or :class:`MergedCounts` of chunks merged
    elsewhere with the same weights and terms (a column that depends on the word's term
    alone, as a vocabulary's does): the result holds the same entries, those of a
    MergedCounts' rows in an order of their own (a chunk's are in column order).
    """

    def __init__(self, weights, column_of, column_of_term=None):
        self.weights = np.asarray(weights, np.float64)
        self.column_of = column_of
        self.column_of_term = column_of_term
        self.slot_of = _Slots()
        self.columns = array("q")
        self.frequency = np.zeros(0, np.float64)
        self._blocks: list[sp.csr_matrix] = []
        self.n_columns = 0

    def add(self, chunk: ChunkCounts | MergedCounts) -> None:
        if isinstance(chunk, MergedCounts):
            self._add_merged(chunk)
            return
        slots = self._slots(chunk.words)[chunk.slots]
        n_articles, n_fields = chunk.lengths.shape
        row_field = np.repeat(np.arange(n_articles * n_fields), chunk.lengths.ravel())
        data = (self.weights[row_field % n_fields] * chunk.counts).astype(np.float32)
        self.frequency += np.bincount(slots, weights=data, minlength=len(self.frequency))
        column = np.frombuffer(self.columns, np.int64)[slots]
        kept = column >= 0
        self.n_columns = max(self.n_columns, int(column.max(initial=-1)) + 1)
        block = sp.csr_matrix(
            (data[kept].astype(np.float64), (row_field[kept] // n_fields, column[kept])),
            shape=(n_articles, self.n_columns))
        block.sum_duplicates()  # one entry per (article, term), added in float64: exact
        self._blocks.append(sp.csr_matrix(
            (block.data.astype(np.float32), block.indices.astype(np.int32), block.indptr),
            shape=block.shape))

    def _add_merged(self, part: MergedCounts) -> None:
        """Add counts merged elsewhere: only their distinct words are looked up here, and
        their columns renumbered as this merger's."""
        if self.column_of_term is None:
            word_slot = self._slots(part.words)
        else:
            terms, columns, of_term = part.terms, part.columns.tolist(), self.column_of_term
            word_slot = self._slots(part.words, lambda i: -1 if columns[i] < 0
                                    else of_term(terms[columns[i]]))
        self.frequency[word_slot] += part.frequency  # each slot once: the words are distinct
        word_column = np.frombuffer(self.columns, np.int64)[word_slot]
        n_terms = part.counts.shape[1]
        column = np.full(n_terms, -1, np.int64)
        termed = part.columns >= 0
        column[part.columns[termed]] = word_column[termed]
        if (column < 0).any() or len(np.unique(column)) < n_terms:
            raise ValueError("counts merged elsewhere need a column per term, growing a "
                             "vocabulary; these terms are dropped or share a column")
        self.n_columns = max(self.n_columns, int(column.max(initial=-1)) + 1)
        # renumbered, a row's terms are no longer in column order: what reads the result
        # does not depend on that order (select_terms puts them in order; a part's own
        # columns are alphabetical, so its rows are in order again there, and need no sort)
        self._blocks.append(sp.csr_matrix(
            (part.counts.data, column[part.counts.indices].astype(np.int32), part.counts.indptr),
            shape=(part.counts.shape[0], self.n_columns)))

    def _slots(self, words: list, column_at=None) -> np.ndarray:
        """The slots of ``words`` (distinct), new words asked their column in order (of
        ``column_at(i)`` for the word ``words[i]``, if given)."""
        slot_of, columns = self.slot_of, self.columns
        known = len(slot_of)
        slots = np.fromiter(map(slot_of.__getitem__, words), np.int64, count=len(words))
        column_of = self.column_of
        for i in np.flatnonzero(slots >= known).tolist():  # new words, in slot order
            columns.append(column_of(words[i]) if column_at is None else column_at(i))
        if len(slot_of) > len(self.frequency):
            self.frequency = np.r_[self.frequency, np.zeros(len(slot_of) - len(self.frequency))]
        return slots

    def result(self, n_columns: int):
        """``(counts, (words, columns, frequency))``: the CSR of weighted counts with
        ``n_columns`` columns, and each distinct word's column and weighted frequency."""
        matrix = stacked_rows(self._blocks, n_columns)
        self._blocks = []
        return matrix, (list(self.slot_of), np.frombuffer(self.columns, np.int64).copy(),
                        self.frequency)


def stacked_rows(blocks: list, n_columns: int) -> sp.csr_matrix:
    """The rows of the CSR ``blocks`` (float32 values) one after the other, with
    ``n_columns`` columns: their arrays concatenated, as ``scipy.sparse.vstack`` gives them
    (which took 1.6 s for 57 million entries, where concatenating takes 0.1 s)."""
    n_rows = sum(block.shape[0] for block in blocks)
    nnz = sum(block.nnz for block in blocks)
    index = np.int32 if max(nnz, n_columns) < 2**31 else np.int64
    indptr = np.zeros(n_rows + 1, index)
    row = start = 0
    for block in blocks:
        rows = indptr[row + 1:row + block.shape[0] + 1]
        rows[:] = block.indptr[1:]
        rows += start  # added in the type of the whole: no overflow
        row, start = row + block.shape[0], start + block.nnz
    data = np.concatenate([b.data for b in blocks]) if blocks else np.zeros(0, np.float32)
    indices = np.concatenate([b.indices for b in blocks]) if blocks else np.zeros(0, index)
    return sp.csr_matrix((data.astype(np.float32, copy=False), indices.astype(index, copy=False),
                          indptr), shape=(n_rows, n_columns))


def merge_chunks(chunks: Iterable[ChunkCounts], weights, term) -> MergedCounts:
    """Chunks of counts merged into one block, with a column per distinct term (of
    ``term(word)``: a str, or None for no term), the columns in alphabetical order of the
    terms: what a cluster's worker sends of a partition, so that the fit's
    :class:`CountMerger` looks up its distinct words only.

    Alphabetical, so that each row's entries stay in order when the fit numbers the kept
    terms alphabetically (:func:`~recommender.vectors.tfidf.select_terms`): the rows are
    sorted here, on the workers, a partition each, not by the client, all at once."""
    vocabulary: dict[str, int] = {}

    def column_of(word: str) -> int:
        found = term(word)
        return -1 if found is None else vocabulary.setdefault(found, len(vocabulary))

    merger = CountMerger(weights, column_of)
    for chunk in chunks:
        merger.add(chunk)
    counts, (words, columns, frequency) = merger.result(len(vocabulary))
    terms = sorted(vocabulary)
    rank = np.empty(len(terms) + 1, np.int64)  # the last: -1, a word without term, stays
    rank[[vocabulary[t] for t in terms]] = np.arange(len(terms))
    rank[-1] = -1
    counts.indices = rank[counts.indices].astype(counts.indices.dtype)
    counts.has_sorted_indices = False
    counts.sort_indices()
    return MergedCounts(words, rank[columns], frequency, counts, terms)
