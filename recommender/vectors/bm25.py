"""BM25 rows of articles and their "More Like This" queries, as Lucene builds them.

The site's own box behaves like Lucene's ``MoreLikeThis`` over one text field, and this
module emulates it. An article is one field (title, lead and body counted together), its
words analysed as :class:`~recommender.text.FrenchAnalyzer` does but, by default, without
a stop list. A candidate's score for a query is BM25:

    score = sum over the query's terms t of
            idf(t) ** idf_power * tf (k1 + 1) / (tf + k1 (1 - b + b dl / avgdl))

with ``idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))``, ``tf`` the term's count in the
candidate, ``dl`` its number of terms and ``avgdl`` the mean. An article's query is its
``query_terms`` terms of highest ``tf × (ln((N + 1) / (df + 1)) + 1)`` among those it
holds at least ``min_term_freq`` times, all weighted equally: so a score is one sparse
product of a binary query row with the BM25 rows, and the exact top-k search of
:mod:`recommender.index` serves it unchanged.

:class:`Bm25Vectorizer` follows scikit-learn's vectorizers: the constructor stores
parameters, ``fit`` learns ``vocabulary_``, ``idf_`` (the BM25 idf to its power),
``df_``, ``n_documents_``, ``mean_length_`` and ``median_length_``;
:meth:`~Bm25Vectorizer.fit_vectors` and
:meth:`~Bm25Vectorizer.transform_vectors` give the raw counts and lengths that both are
made of, so that a model keeps its counts and can change the scoring without re-reading
the texts.
"""

from __future__ import annotations

import copy
from typing import Iterable, NamedTuple

import numpy as np
import scipy.sparse as sp

from .._checks import Params, check_int, check_number
from ..corpus import Article
from ..errors import NotFittedError, ParameterError
from ..text import french_stop_words
from .counting import DEFAULT_CHUNK_SIZE
from .rowblocks import row_blocks
from .tfidf import FieldTfidfVectorizer, row_sums, select_terms

__all__ = ["AUTO", "Bm25Vectorizer", "Bm25Vectors", "MLT_ANALYZER", "MLT_FIELD_WEIGHTS",
           "SHORT_TEXT_TERMS"]

#: The value of a setting that the fit chooses from the corpus.
AUTO = "auto"
#: A corpus whose median article has fewer terms is one of short texts (titles, or titles
#: and leads): its queries take terms said once and leave stop words out. On the shared
#: corpus the median is 10 terms for titles alone, 38 with the leads, 303 for full
#: articles (EVALUATION.md).
SHORT_TEXT_TERMS = 100

#: One field: title, lead and body counted together, as a single Lucene field.
MLT_FIELD_WEIGHTS = {"title": 1.0, "heading": 1.0, "body": 1.0}
#: Words as the project cleans and splits them, accents stripped, no stop list: on the
#: shared corpus's TUNE half, removing stop words lost recall (EVALUATION.md).
MLT_ANALYZER = {"stop_words": False}


class Bm25Vectors(NamedTuple):
    """What the BM25 rows and the queries of articles are made from: their raw term
    ``counts`` (float32 CSR, whole numbers) and ``lengths`` (float64: each text's number of
    terms, those outside the vocabulary included). See :meth:`Bm25Vectorizer.weigh` and
    :meth:`Bm25Vectorizer.query_weights`."""

    counts: sp.csr_matrix
    lengths: np.ndarray


class Bm25Vectorizer(Params):
    """BM25 over one field, and each article's More Like This query.

    Parameters
    ----------
    field_weights : dict, default=MLT_FIELD_WEIGHTS
        Weight of each field's counts in the one field (1: counted as written).
    min_df : int, default=5
        Terms in fewer articles are dropped (from the rows and so from the queries).
    max_df : float, default=1.0
        Terms in more than this share of the articles are dropped.
    analyzer : dict, optional
        Parameters of :class:`~recommender.text.FrenchAnalyzer`, over
        :data:`MLT_ANALYZER` (no stop list unless ``{"stop_words": True}``).
    k1 : float, default=0.8
        BM25's term saturation: how fast more occurrences stop adding.
    b : float, default=0.75
        BM25's length normalisation (0: none, 1: full).
    idf_power : float, default=0.75
        Exponent of the BM25 idf in a term's weight.
    query_terms : int, default=30
        Terms of a query: those of highest tf × idf.
    min_term_freq : int or "auto", default="auto"
        A query term occurs at least this often in its article. "auto": 2, or 1 for a
        corpus of short texts (:data:`SHORT_TEXT_TERMS`), where few words repeat.
    query_stop_words : bool or "auto", default="auto"
        Leave stop words out of the queries (the rows keep them). "auto": for a corpus of
        short texts only; in full articles they helped (EVALUATION.md).
    n_jobs, chunk_size :
        Settings of the run (as for :class:`~recommender.vectors.tfidf.FieldTfidfVectorizer`):
        the vectors do not depend on them.
    """

    def __init__(self, *, field_weights=None, min_df=5, max_df=1.0, analyzer=None, k1=0.8,
                 b=0.75, idf_power=0.75, query_terms=30, min_term_freq="auto",
                 query_stop_words="auto", n_jobs=1, chunk_size=DEFAULT_CHUNK_SIZE):
        self.field_weights = field_weights
        self.min_df = min_df
        self.max_df = max_df
        self.analyzer = analyzer
        self.k1 = k1
        self.b = b
        self.idf_power = idf_power
        self.query_terms = query_terms
        self.min_term_freq = min_term_freq
        self.query_stop_words = query_stop_words
        self.n_jobs = n_jobs
        self.chunk_size = chunk_size

    def settings(self) -> dict:
        """The settings that shape the rows and queries, resolved and checked (what a model
        saves; ``n_jobs`` and ``chunk_size`` are left out)."""
        counter = self._counter()
        check_int(self.min_df, "min_df")
        check_number(self.max_df, "max_df", "in (0, 1]", low=0, high=1, low_open=True)
        return {"field_weights": dict(counter.settings()["field_weights"]),
                "min_df": self.min_df, "max_df": self.max_df,
                "analyzer": counter.build_analyzer().get_params(),
                "k1": check_number(self.k1, "k1", "a number between 0 and 10", low=0, high=10),
                "b": check_number(self.b, "b", "a number between 0 and 1", low=0, high=1),
                "idf_power": check_number(self.idf_power, "idf_power",
                                          "a number between 0 and 4", low=0, high=4),
                "query_terms": check_int(self.query_terms, "query_terms"),
                "min_term_freq": self.min_term_freq if self.min_term_freq == AUTO else
                check_int(self.min_term_freq, "min_term_freq", what="a positive integer or "
                          "'auto'"),
                "query_stop_words": _auto_or_bool(self.query_stop_words, "query_stop_words")}

    def query_rule(self) -> tuple[int, bool]:
        """``(min_term_freq, query_stop_words)`` as fitted: ``"auto"`` resolved from the
        corpus's median text length (:data:`SHORT_TEXT_TERMS`)."""
        self._check_fitted()
        settings = self.settings()
        short = self.median_length_ < SHORT_TEXT_TERMS
        min_tf, stops = settings["min_term_freq"], settings["query_stop_words"]
        return ((1 if short else 2) if min_tf == AUTO else min_tf,
                short if stops == AUTO else stops)

    def _counter(self) -> FieldTfidfVectorizer:
        """The counting half of a TF-IDF vectorizer, with this one's fields and analyzer."""
        return FieldTfidfVectorizer(
            field_weights=MLT_FIELD_WEIGHTS if self.field_weights is None else self.field_weights,
            analyzer={**MLT_ANALYZER, **(self.analyzer or {})},
            n_jobs=self.n_jobs, chunk_size=self.chunk_size)

    def build_analyzer(self):
        """The :class:`~recommender.text.FrenchAnalyzer` of ``analyzer``."""
        return self._counter().build_analyzer()

    # -- fitting -------------------------------------------------------------------------
    def fit_vectors(self, articles: Iterable[Article]) -> Bm25Vectors:
        """Learn the vocabulary and its statistics from ``articles``; their counts and
        lengths (:meth:`weigh` and :meth:`query_weights` make rows and queries of them)."""
        settings = self.settings()
        vocabulary: dict[str, int] = {}
        counts, word_stats = self._counter().count(articles, vocabulary, grow=True)
        lengths = row_sums(counts)
        counts, terms, df, self.words_ = select_terms(
            counts, vocabulary, word_stats, min_df=settings["min_df"], max_df=settings["max_df"])
        self.vocabulary_ = {t: i for i, t in enumerate(terms)}
        self.df_ = df.astype(np.int64)
        self.n_documents_ = int(counts.shape[0])
        self.mean_length_ = float(lengths.mean()) if len(lengths) else 0.0
        self.median_length_ = float(np.median(lengths)) if len(lengths) else 0.0
        self.idf_ = self.term_weights(self.df_, self.n_documents_, settings)
        return Bm25Vectors(counts, lengths)

    def fit(self, articles: Iterable[Article]) -> "Bm25Vectorizer":
        self.fit_vectors(articles)
        return self

    def fit_transform(self, articles: Iterable[Article]) -> sp.csr_matrix:
        """Learn from ``articles``; their BM25 rows."""
        return self.weigh(*self.fit_vectors(articles))

    def transform_vectors(self, articles: Iterable[Article]) -> Bm25Vectors:
        """Counts and lengths of articles (fitted vocabulary; other words count in a
        text's length only)."""
        self._check_fitted()
        counts, _ = self._counter().count(articles, self.vocabulary_, grow=False, rest=True)
        lengths = row_sums(counts)
        return Bm25Vectors(counts[:, :len(self.vocabulary_)].tocsr(), lengths)

    def transform(self, articles: Iterable[Article]) -> sp.csr_matrix:
        """BM25 rows of articles."""
        return self.weigh(*self.transform_vectors(articles))

    def with_settings(self, **settings) -> "Bm25Vectorizer":
        """A copy of this fitted vectorizer with other scoring settings (``k1``, ``b``,
        ``idf_power``, ``query_terms``, ``min_term_freq``): the vocabulary and its
        statistics stay, the weights follow the new settings."""
        self._check_fitted()
        other = copy.copy(self)
        other.set_params(**settings)
        other.idf_ = self.term_weights(self.df_, self.n_documents_, other.settings())
        return other

    def _check_fitted(self) -> None:
        if not hasattr(self, "idf_"):
            raise NotFittedError("this vectorizer is not fitted yet; call fit() first")

    # -- weights -------------------------------------------------------------------------
    @staticmethod
    def term_weights(df: np.ndarray, n: int, settings: dict) -> np.ndarray:
        """``idf ** idf_power`` of each term, BM25's idf (always positive), float32."""
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        return (idf ** settings["idf_power"]).astype(np.float32)

    def weigh(self, counts: sp.csr_matrix, lengths: np.ndarray) -> sp.csr_matrix:
        """BM25 rows of raw term ``counts``, ``lengths`` being each text's number of terms:
        a new float32 CSR sharing ``counts``'s ``indices`` and ``indptr``."""
        settings = self.settings()
        k1, b = settings["k1"], settings["b"]
        mean = self.mean_length_ if self.mean_length_ > 0 else 1.0
        norm = k1 * (1 - b + b * np.asarray(lengths, np.float64) / mean)
        # tf × (k1 + 1) / (tf + norm) × idf, in float64, a block of rows at a time
        out = np.empty(counts.nnz, np.float32)
        for start, stop, lo, hi in row_blocks(counts.indptr):
            tf = counts.data[lo:hi].astype(np.float64)
            weights = tf * (k1 + 1)
            tf += np.repeat(norm[start:stop], np.diff(counts.indptr[start:stop + 1]))
            weights /= tf
            weights *= self.idf_[counts.indices[lo:hi]]
            out[lo:hi] = weights  # rounded to float32
        return sp.csr_matrix((out, counts.indices, counts.indptr), shape=counts.shape,
                             copy=False)

    def query_weights(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """What chooses the query terms of raw term ``counts``: ``tf × idf`` (the classic
        idf, as Lucene's MoreLikeThis ranks terms) of the terms a row holds
        ``min_term_freq`` times or more (float64 CSR). A query is the ``query_terms``
        largest of its row, all weighted 1 (:func:`recommender.model.search.mlt_queries`)."""
        min_term_freq, leave_out_stops = self.query_rule()
        counts = sp.csr_matrix(counts)
        stops = self.stop_terms() if leave_out_stops else None
        select_idf = np.log((self.n_documents_ + 1) / (self.df_ + 1.0)) + 1
        indptr = np.zeros(counts.shape[0] + 1, counts.indptr.dtype)
        indices, weights = [], []
        for start, stop, lo, hi in row_blocks(counts.indptr):  # a block of rows at a time
            columns = counts.indices[lo:hi]
            kept = counts.data[lo:hi] >= min_term_freq
            if stops is not None:
                kept &= ~stops[columns]
            kept = np.flatnonzero(kept)
            # a row ends where the entries kept before its end end
            indptr[start + 1:stop + 1] = indptr[start] + np.searchsorted(
                kept, counts.indptr[start + 1:stop + 1] - lo)
            indices.append(columns[kept])
            weights.append(counts.data[lo:hi][kept].astype(np.float64))
            weights[-1] *= select_idf[indices[-1]]
        return sp.csr_matrix((_joined(weights, np.float64), _joined(indices, np.int32),
                              indptr), shape=counts.shape)

    def stop_terms(self) -> np.ndarray:
        """A mask of the terms that are French stop words (made once)."""
        if getattr(self, "_stops", None) is None or len(self._stops) != len(self.df_):
            stops = french_stop_words()
            self._stops = np.fromiter((t in stops for t in self.terms()), bool,
                                      count=len(self.df_))
        return self._stops

    def terms(self) -> np.ndarray:
        """The terms in column order."""
        self._check_fitted()
        out = np.empty(len(self.vocabulary_), dtype=object)
        for t, i in self.vocabulary_.items():
            out[i] = t
        return out


def _joined(parts: list, dtype) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def _auto_or_bool(value, name: str):
    if value == AUTO or isinstance(value, (bool, np.bool_)):
        return value if value == AUTO else bool(value)
    raise ParameterError(f"{name} must be true, false or 'auto', got {value!r}")
