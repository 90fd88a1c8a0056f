"""TF-IDF vectors of French articles, with a weight for each field (title, lead, body).

:class:`FieldTfidfVectorizer` follows scikit-learn's ``TfidfVectorizer``: the constructor
only stores parameters, ``fit`` learns ``vocabulary_``, ``idf_`` and ``words_`` (the most
frequent word behind each stem, to show people), ``transform`` returns a float32 CSR
matrix with L2-normalised rows. Articles are streamed: only the sparse counts are kept.
"""

from __future__ import annotations

from typing import Iterable, NamedTuple

import numpy as np
import scipy.sparse as sp

from .._checks import Params, check_int, check_jobs, check_number
from ..corpus import TEXT_FIELDS, Article
from ..errors import NotFittedError, ParameterError
from ..text import FrenchAnalyzer
from .counting import DEFAULT_CHUNK_SIZE, CountedArticles, CountMerger, chunked, count_texts
from .rowblocks import row_blocks

__all__ = ["DEFAULT_FIELD_WEIGHTS", "FieldTfidfVectorizer", "Terms", "display_words",
           "l2_normalize", "row_sums", "select_terms"]

#: Chosen by measurement on half of the dev lists of the shared corpus, confirmed on the
#: other half (EVALUATION.md). With sublinear tf a weight multiplies the count before the
#: logarithm: a term's tf in the article is ``1 + ln(sum of weight × count)``. Weights above
#: 1 flatten that tf (a word said once counts nearly as much as one said five times), and
#: that found more of the site's links than plain counts did.
DEFAULT_FIELD_WEIGHTS = {"title": 1.5, "heading": 2.25, "body": 2.0}


class FieldTfidfVectorizer(Params):
    """TF-IDF over the fields of articles, each field with its own weight.

    A term's count in an article is the weighted sum of its counts in the fields; its
    weight is ``(1 + ln(count)) * idf ** idf_power`` with ``sublinear_tf`` (else
    ``count * idf ** idf_power``), where ``idf = ln((1 + n) / (1 + df)) + 1`` as in
    scikit-learn.

    Parameters
    ----------
    field_weights : dict, default=DEFAULT_FIELD_WEIGHTS
        Weight of each of ``title``, ``heading`` and ``body`` (positive numbers, 0 ignores
        the field): a term's weighted count is the sum over fields of weight × count.
    min_df : int, default=5
        Terms in fewer articles are dropped.
    max_df : float, default=0.5
        Terms in more than this share of the articles are dropped.
    sublinear_tf : bool, default=True
    analyzer : dict, default=None
        Parameters of :class:`~recommender.text.FrenchAnalyzer`.
    idf_power : float, default=1.0
        Exponent of the idf in a term's weight: 1 is plain TF-IDF, 0 ignores document
        frequencies, 0.25 (what :class:`~recommender.ArticleRecommender` uses) weighs rare
        words less than plain TF-IDF does.
    n_jobs : int, default=1
        Processes that analyse the articles (-1: one per CPU). The vectors are the same,
        bit for bit, for any value. A setting of the run, not of the model: in
        :meth:`get_params` (as in scikit-learn), not in :meth:`settings`, not saved.
    chunk_size : int, default=2000
        Articles per chunk sent to a process; the result does not depend on it (a setting
        of the run too).

    :meth:`get_params` and :meth:`set_params` are derived from the constructor's
    parameters; :meth:`settings` is what a model saves.
    """

    def __init__(self, *, field_weights=None, min_df=5, max_df=0.5, sublinear_tf=True,
                 analyzer=None, idf_power=1.0, n_jobs=1, chunk_size=DEFAULT_CHUNK_SIZE):
        self.field_weights = field_weights
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.analyzer = analyzer
        self.idf_power = idf_power
        self.n_jobs = n_jobs
        self.chunk_size = chunk_size

    def settings(self) -> dict:
        """The settings that shape the vectors, resolved and checked: the field weights
        used (positive ones, as floats), ``min_df``, ``max_df``, ``sublinear_tf``, the
        analyzer's parameters and ``idf_power`` as a float. What a model saves; the
        settings of the run (``n_jobs``, ``chunk_size``) are left out.

        Raises :class:`~recommender.errors.ParameterError` for a bad field weight or
        ``idf_power``.
        """
        return {"field_weights": dict(self._weights()), "min_df": self.min_df,
                "max_df": self.max_df, "sublinear_tf": self.sublinear_tf,
                "analyzer": self.build_analyzer().get_params(),
                "idf_power": self._idf_power()}

    def _idf_power(self) -> float:
        return check_number(self.idf_power, "idf_power", "a number between 0 and 4",
                            low=0, high=4)

    def build_analyzer(self) -> FrenchAnalyzer:
        """The :class:`~recommender.text.FrenchAnalyzer` of ``analyzer`` (built once, and
        again when ``analyzer`` changes)."""
        params = dict(self.analyzer or {})
        cached = getattr(self, "_analyzer", None)
        if cached is None or getattr(self, "_analyzer_params", None) != params:
            self._analyzer = FrenchAnalyzer(**params)
            self._analyzer_params = params
        return self._analyzer

    def _weights(self) -> list[tuple[str, float]]:
        weights = DEFAULT_FIELD_WEIGHTS if self.field_weights is None else self.field_weights
        unknown = set(weights) - set(TEXT_FIELDS)
        if unknown:
            raise ParameterError(f"field_weights has unknown fields {sorted(unknown)}; "
                                 f"expected some of {', '.join(TEXT_FIELDS)}")
        out = [(name, float(weights.get(name, 0.0))) for name in TEXT_FIELDS]
        if any(w < 0 for _, w in out) or not any(w > 0 for _, w in out):
            raise ParameterError(f"field_weights must be non-negative with one positive, "
                                 f"got {weights}")
        return [(name, w) for name, w in out if w > 0]

    # -- fitting ---------------------------------------------------------------------
    def fit_transform(self, articles: Iterable[Article]) -> sp.csr_matrix:
        """Learn the vocabulary and idf from ``articles`` and return their vectors."""
        check_int(self.min_df, "min_df")
        check_number(self.max_df, "max_df", "in (0, 1]", low=0, high=1, low_open=True)
        self.settings()  # field weights, analyzer and idf_power checked before the work
        vocabulary: dict[str, int] = {}
        counts, word_stats = self.count(articles, vocabulary, grow=True)
        n = counts.shape[0]
        kept = select_terms(counts, vocabulary, word_stats, min_df=self.min_df,
                            max_df=self.max_df)
        counts, terms, df, self.words_ = kept
        self.vocabulary_ = {t: i for i, t in enumerate(terms)}
        self.idf_ = (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)
        return self._weigh(counts)

    def fit(self, articles: Iterable[Article]) -> "FieldTfidfVectorizer":
        self.fit_transform(articles)
        return self

    def transform(self, articles: Iterable[Article]) -> sp.csr_matrix:
        """Vectors of articles (fitted vocabulary only; unknown words are ignored)."""
        self._check_fitted()
        return self._weigh(self.count(articles, self.vocabulary_, grow=False)[0])

    def _check_fitted(self) -> None:
        if not hasattr(self, "idf_"):
            raise NotFittedError("this vectorizer is not fitted yet; call fit() first")

    def count(self, articles, vocabulary: dict, *, grow: bool, rest: bool = False):
        """Weighted term counts as CSR, and each distinct word's column and frequency.

        Articles are analysed in chunks (:mod:`~recommender.vectors.counting`), in ``n_jobs``
        worker processes when more than one; the result is the same for any ``n_jobs``.
        ``articles`` may be :class:`~recommender.vectors.counting.CountedArticles`, counted
        already (on a cluster's workers) with this vectorizer's analyzer and fields.
        Each distinct word is mapped to its term once; the vocabulary grows with new terms
        when ``grow`` is true. With ``rest``, the terms not in a fixed vocabulary are
        counted together in one more column, ``len(vocabulary)``: a text's length in terms
        is then the sum of its row.
        """
        chunk_size = check_int(self.chunk_size, "chunk_size")
        n_jobs = check_jobs(self.n_jobs)
        analyzer = self.build_analyzer()
        weights = self._weights()
        names = [name for name, _ in weights]
        if isinstance(articles, CountedArticles):  # counted on a cluster's workers
            articles.check(analyzer.get_params(), weights)
            counted = iter(articles)
        else:
            texts = ([getattr(article, name) for name in names] for article in articles)
            counted = count_texts(analyzer, chunked(texts, chunk_size), n_jobs)
        other = len(vocabulary) if rest and not grow else -1
        merger = CountMerger([w for _, w in weights],
                             lambda word: _column(analyzer.term(word), vocabulary, grow, other),
                             lambda term: _column(term, vocabulary, grow, other))
        for counts in counted:
            merger.add(counts)
        return merger.result(len(vocabulary) + (other >= 0))

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        X = counts.astype(np.float32, copy=True)
        if self.sublinear_tf:
            np.log(X.data, out=X.data)
            X.data += 1
            np.maximum(X.data, 1e-3, out=X.data)  # a weighted count below 1 stays positive
        idf = self.idf_ if self._idf_power() == 1 else self.idf_ ** self._idf_power()
        X.data *= idf[X.indices]
        return l2_normalize(X)

    def terms(self) -> np.ndarray:
        """The terms (stems) in column order."""
        self._check_fitted()
        out = np.empty(len(self.vocabulary_), dtype=object)
        for t, i in self.vocabulary_.items():
            out[i] = t
        return out


class Terms(NamedTuple):
    """What :func:`select_terms` keeps: the counts of the kept terms (columns in
    alphabetical order of the terms, each row's in that order), the terms, their document
    frequencies and the word shown for each."""

    counts: sp.csr_matrix
    terms: list
    df: np.ndarray
    words: list


def select_terms(counts: sp.csr_matrix, vocabulary: dict, word_stats, *, min_df: int,
                 max_df: float) -> Terms:
    """Keep the terms of ``counts`` found in at least ``min_df`` and at most ``max_df``
    (a share) of its rows; ParameterError when none is left. The order of the entries of a
    row of ``counts`` does not matter: the rows kept hold their terms in column order, so
    what is computed of them (a row's norm) is the same whatever the chunks or partitions
    the counts were merged from."""
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=len(vocabulary))
    keep = (df >= min_df) & (df <= max_df * n)
    if not keep.any():
        raise ParameterError(f"no term is left after min_df={min_df} and "
                             f"max_df={max_df} on {n} articles; lower min_df")
    old_terms = np.array(list(vocabulary), dtype=object)
    # Columns in alphabetical order of the terms, so a model's files are reproducible.
    kept = np.flatnonzero(keep)
    kept = kept[np.argsort(old_terms[kept].astype(str), kind="stable")]
    old_to_new = np.full(len(vocabulary), -1, np.int64)
    old_to_new[kept] = np.arange(len(kept))
    terms = old_terms[kept].tolist()
    counts = counts[:, kept].tocsr()
    counts.sort_indices()
    return Terms(counts, terms, df[kept],
                 display_words(word_stats, old_to_new, terms))


def display_words(word_stats, old_to_new: np.ndarray, terms: list[str]) -> list[str]:
    """For each term, its most frequent word in the corpus (ties: the shorter)."""
    words, column, frequency = word_stats
    words = np.asarray(words, dtype=object)
    new = np.where(column >= 0, old_to_new[np.maximum(column, 0)], -1)
    ok = new >= 0
    lengths = np.fromiter((len(w) for w in words), dtype=np.int64, count=len(words))
    # Sort by column, then most frequent, then shortest: the first of each column wins.
    order = np.lexsort((lengths[ok], -frequency[ok], new[ok]))
    cols, best = new[ok][order], words[ok][order]
    first = np.r_[True, cols[1:] != cols[:-1]]
    shown = list(terms)
    for col, word in zip(cols[first], best[first]):
        shown[col] = word
    return shown


def _column(term, vocabulary: dict, grow: bool, other: int) -> int:
    """The column of a term: a new one when ``grow``, else ``other`` for a term outside
    the vocabulary (-1: dropped)."""
    if term is None:
        return -1
    col = vocabulary.get(term)
    if col is None:
        if not grow:
            return other
        col = vocabulary[term] = len(vocabulary)
    return col


def row_sums(X: sp.csr_matrix) -> np.ndarray:
    """Each row's sum (float64), added in float64: float32 values are added exactly there
    (short of sums that span 2**29 times their smallest value's precision), so the sum does
    not depend on the order of a row's entries.

    The values are made float64 a block of rows at a time (:func:`.rowblocks.row_blocks`):
    ``reduceat`` asked to add float32 values in float64 converts them one by one, twenty
    times slower (3.2 s against 0.14 s for 59 million entries)."""
    sums = np.zeros(X.shape[0], np.float64)
    for start, stop, lo, hi in row_blocks(X.indptr):
        full = X.indptr[start + 1:stop + 1] > X.indptr[start:stop]
        if full.any():
            sums[start:stop][full] = np.add.reduceat(X.data[lo:hi].astype(np.float64),
                                                     (X.indptr[start:stop] - lo)[full])
    return sums


def l2_normalize(X: sp.csr_matrix) -> sp.csr_matrix:
    """Scale each row of a CSR matrix to unit L2 norm in place (zero rows stay zero)."""
    lengths = np.diff(X.indptr)
    rows = np.repeat(np.arange(X.shape[0]), lengths)
    norms = np.sqrt(np.bincount(rows, weights=X.data.astype(np.float64) ** 2,
                                minlength=X.shape[0]))
    norms[norms == 0] = 1.0
    X.data /= np.repeat(norms, lengths).astype(X.dtype)
    return X
