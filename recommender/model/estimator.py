"""ArticleRecommender: fit on articles, recommend related ones, explain why.

The model is assembled from parts that each hold one idea (:mod:`recommender.model`):
the catalogue (which article is in which row, published when), the content index (the
TF-IDF rows with the length prior, in publication order, so that a date window is a
contiguous range of rows), the neighbour table, the learned re-ranker and the newsroom
controls. This module holds the public API and its parameters; each call parses its
filters once (:class:`~recommender.model.search.Request`) and hands them down.
"""

from __future__ import annotations

import copy
import logging
import warnings
from typing import Iterable

import numpy as np

from .._checks import Params, check_int
from ..corpus import Article
from ..errors import CorpusError, CorpusWarning, ParameterError, UndatedWarning
from ..index.topk import DEFAULT_BLOCK_BYTES
from ..times import check_days, to_iso
from .catalogue import Catalogue, CatalogueBuilder
from .changing import Changing
from .editing import Editing
from .learned import learn_reranker
from .scoring import SCORING_SETTINGS, check_cosine_settings, rescored, vectorizer_for
from .search import ContentIndex, apply_length_prior
from .shards import check_shard_days
from .recommend import Recommendations, Recommending
from .table import NeighbourTable, table_lists

__all__ = ["ArticleRecommender", "DEFAULT_MAX_AGE", "Recommendations", "SCORING_SETTINGS",
           "load_model"]

logger = logging.getLogger(__name__)

#: Freshness, in days, that ``recommender train`` gives a model unless told otherwise: on
#: the shared corpus, 99% of the site's targets were at most 60 days old when shown, and
#: 62 days found the most of them (EVALUATION.md).
DEFAULT_MAX_AGE = 62.0


class ArticleRecommender(Changing, Editing, Recommending, Params):
    """Related articles of French news, by More Like This (BM25) or TF-IDF cosine.

    With ``scoring="mlt"`` (the default) an article's query is its ``mlt_terms`` terms of
    highest tf × idf among those it says at least ``min_term_freq`` times, all weighted
    equally, and a candidate's score is its BM25 over them (one field: title, lead and body;
    no stop list), as Lucene's ``MoreLikeThis`` does (:mod:`recommender.vectors.bm25`). With
    ``scoring="cosine"`` it is the cosine of TF-IDF vectors (the query keeps its
    ``query_terms`` strongest terms) times the candidate's length prior. The defaults were
    chosen on half of the shared corpus's dev lists and confirmed on the other half
    (``EVALUATION.md``).

    Parameters
    ----------
    scoring : {"mlt", "cosine"}, default="mlt"
    field_weights : dict, optional
        Weight of ``title``, ``heading`` (lead) and ``body``: default
        :data:`~recommender.vectors.bm25.MLT_FIELD_WEIGHTS` (one field) for mlt,
        :data:`~recommender.vectors.tfidf.DEFAULT_FIELD_WEIGHTS` for cosine.
    min_df : int, optional
        Terms in fewer articles are ignored (default 2 for mlt, 3 for cosine).
    max_df : float, optional
        Terms in more than this share of the articles are ignored (default 1.0 for mlt, 0.5
        for cosine).
    sublinear_tf : bool, default=True
        Cosine: use ``1 + ln(count)`` for term counts.
    analyzer : dict, optional
        Parameters of :class:`~recommender.text.FrenchAnalyzer`, e.g. ``{"stem": True}``
        for Snowball stems (off by default: whole words matched the site's lists better).
        For mlt they go over :data:`~recommender.vectors.bm25.MLT_ANALYZER` (no stop list).
    idf_power, query_terms, length_prior : cosine scoring, defaults 0.25, 20, 0.2
        Exponent of the idf in the term weights (1 for plain TF-IDF); the strongest terms
        a query keeps (None for all); scores multiplied by ``(n / mean n) ** length_prior``
        (``n``: the candidate's distinct terms; cosine favours short texts, the site's lists
        fuller ones). Also the settings of the cosine features of the learned mode.
    k1, b, mlt_idf_power, mlt_terms : mlt scoring, defaults 0.8, 0.75, 0.75, 30
        BM25's term saturation and length normalisation, the exponent of its idf, the
        query's number of terms.
    min_term_freq, query_stop_words : mlt scoring, default "auto"
        How often a query term occurs in its article, and whether stop words stay out of
        queries: "auto" is 2 and no, or for a corpus of short texts (titles, leads) 1 and
        yes (:data:`~recommender.vectors.bm25.SHORT_TEXT_TERMS`; the median length is in
        the manifest).
    half_life, dedupe, diversity, min_score : optional
        Newsroom controls, off by default (:mod:`recommender.model.controls`): a freshness decay
        with this half-life in days; dropping a candidate whose text has at least this
        cosine with one shown above it (a republished story); maximal marginal relevance
        with this weight on novelty (then the order is MMR's, and the scores stay the
        similarity); showing fewer items rather than any scoring below ``min_score``. They
        are plain attributes: set them on a loaded model to try other values.
    max_age : float, optional
        Default freshness, in days: recommend only articles at most this old, counted
        back from ``as_of`` (or from the newest article). ``None`` (or
        :data:`~recommender.times.NO_LIMIT`) for no limit.
    window : {"calendar", "rolling"}, default="calendar"
        Calendar: from the start of the day ``max_age`` whole days before, days as in
        ``time_zone`` (the site's own box showed all its targets in such a window);
        rolling: ``max_age`` days back to the second.
    time_zone : str, default="Europe/Paris"
    max_block_bytes : int, default=256 MiB
        Memory for one block of scores when many articles are scored at once.
    n_jobs : int, default=1
        Threads for batch scoring, and processes for the analysis of the text in ``fit``
        (the vectors are the same, bit for bit, for any value); -1 for one per CPU.
    table_size : int, default=50
        Length of the neighbour table built at the end of :meth:`fit` (see
        :meth:`build_table`): :meth:`recommend` with the default filters and
        ``k <= table_size`` reads its answer there instead of scoring. 0: no table.
    shard_days : int or None, default=None
        Save the rows as shards of this many days (:mod:`recommender.model.shards`): a
        cluster's workers read only the shards their queries' windows touch. None: one matrix.

    Attributes
    ----------
    catalogue_ : Catalogue
        The articles (:mod:`recommender.model.catalogue`); ``ids_``, ``published_``,
        ``categories_`` and ``titles_`` are its arrays.
    ids_ : ndarray of str, shape (n_articles,)
        Article ids, in publication order (undated last).
    published_ : ndarray of int64
        Publication times in seconds since 1970 UTC; :data:`~recommender.times.UNDATED`
        when unknown.
    categories_ : ndarray of str
    titles_ : ndarray of object (str)
    matrix_ : csr_matrix of float32, shape (n_articles, n_terms)
        The rows as scored: BM25 (mlt), or unit TF-IDF rows scaled by the length prior
        (cosine); a score is the dot product of a query (:meth:`row_queries`) with a row.
    vectorizer_ : Bm25Vectorizer or FieldTfidfVectorizer
    info_ : dict
        Article count, corpus checksum, creation time and other facts saved with the model.
    table_indices_ : ndarray of int32, shape (n_articles, width), or None
        Row ``i``: the rows of the ``width = min(table_size, n_articles - 1)`` articles
        most related to article ``i`` by the default scoring, best first, -1 padded.
        Memory-mapped when the model is loaded. None without a table.
    table_scores_ : ndarray of float32, same shape, or None
        Their scores, -inf padded.
    tuning_ : dict or None
        What ``recommender tune`` measured of each lever on the site's lists, and chose
        (:func:`recommender.evaluate.tuning.tune`); saved as ``tuning.json``.
    site_lists_ : dict
        The site's own related box of each article of the corpus (``related``), by id.
    """

    def __init__(self, *, scoring="mlt", field_weights=None, min_df=None, max_df=None,
                 sublinear_tf=True, analyzer=None, idf_power=0.25, query_terms=20,
                 length_prior=0.2, k1=0.8, b=0.75, mlt_idf_power=0.75, mlt_terms=30,
                 min_term_freq="auto", query_stop_words="auto", half_life=None, dedupe=None,
                 diversity=0.0, min_score=None, max_age=None, window="calendar",
                 time_zone="Europe/Paris",
                 max_block_bytes=DEFAULT_BLOCK_BYTES, n_jobs=1, table_size=50,
                 shard_days=None):
        self.scoring = scoring
        self.field_weights = field_weights
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.analyzer = analyzer
        self.idf_power = idf_power
        self.query_terms = query_terms
        self.length_prior = length_prior
        self.k1 = k1
        self.b = b
        self.mlt_idf_power = mlt_idf_power
        self.mlt_terms = mlt_terms
        self.min_term_freq = min_term_freq
        self.query_stop_words = query_stop_words
        self.half_life = half_life
        self.dedupe = dedupe
        self.diversity = diversity
        self.min_score = min_score
        self.max_age = max_age
        self.window = window
        self.time_zone = time_zone
        self.max_block_bytes = max_block_bytes
        self.n_jobs = n_jobs
        self.table_size = table_size
        self.shard_days = shard_days

    # -- fitting -----------------------------------------------------------------------
    def fit(self, articles: Iterable[Article]) -> "ArticleRecommender":
        """Learn the vocabulary and the article vectors.

        ``articles`` is any iterable of :class:`~recommender.corpus.Article` (such as
        :func:`~recommender.read_corpus`) or of dicts with the corpus fields; it is read
        once, as a stream. Articles without text are kept (they can be asked for) but are
        never recommended.
        """
        if isinstance(articles, (str, bytes)):
            raise TypeError(f"An iterable of articles (Article records or dicts) was expected, "
                            f"{type(articles).__name__} object received. To read a file, "
                            f"pass read_corpus(path).")
        if isinstance(articles, dict) or isinstance(articles, Article):
            raise TypeError("An iterable of articles was expected, a single article "
                            "received; pass a list of them.")
        self._max_age_days()
        check_shard_days(self.shard_days)
        self._check_scoring_params()
        table_size = _table_size(self.table_size)
        builder = CatalogueBuilder()
        vectorizer = self.make_vectorizer()
        try:
            if self.scoring == "mlt":
                X, lengths = vectorizer.fit_vectors(builder.collect(articles))
            else:
                X = vectorizer.fit_transform(builder.collect(articles))
        except ValueError:
            # Too few articles leave no term; but an error raised while reading the articles
            # (a bad line, a duplicate id) must reach the user as it is.
            if builder.finished and builder.n < 2:
                raise CorpusError(_too_few(builder.n)) from None
            raise
        if builder.n < 2:
            raise CorpusError(_too_few(builder.n))
        order = builder.order()  # a permutation: the identity if it never decreases
        X = X[order].tocsr() if (np.diff(order) < 0).any() else X  # (a copy costs seconds)
        X.sort_indices()
        if self.scoring == "mlt":
            content = ContentIndex.bm25(vectorizer, X, lengths[order], lazy=not table_size)
        else:
            content = ContentIndex(apply_length_prior(X, self.length_prior))
        catalogue = builder.build(order)
        self._check_dates(catalogue)
        info = {"n_articles": int(builder.n), "n_without_text": int(builder.n_empty),
                "n_undated": catalogue.n_undated, "n_after_run": catalogue.n_after_run,
                "n_terms": int(X.shape[1]), "corpus_sha256": builder.sha.hexdigest(),
                "created": catalogue.created}
        self.assemble(vectorizer=vectorizer, content=content, catalogue=catalogue, info=info)
        self.site_lists_ = builder.site_lists
        logger.info("fitted %d articles, %d terms, %d non-zeros", builder.n, X.shape[1], X.nnz)
        self._warn_undated(stacklevel=3)
        if table_size:
            self.build_table(table_size)
        return self

    def assemble(self, *, vectorizer, content: ContentIndex, catalogue: Catalogue,
                 info: dict, reranker=None,
                 table: NeighbourTable | None = None) -> "ArticleRecommender":
        """Set the fitted parts (as :meth:`fit`, :meth:`load` and :meth:`with_scoring` do):
        the vectorizer, the content index (rows in the catalogue's order), the catalogue,
        the facts of ``info_``, the re-ranker and the table. Returns self."""
        self.max_age_days_ = self._max_age_days()
        self.vectorizer_ = vectorizer
        self.content_ = content
        self.catalogue_ = catalogue
        self.info_ = info
        self.reranker_ = reranker
        self.table_ = table
        self.tuning_ = None
        self.site_lists_ = {}
        self._pair_context = None
        return self

    def build_table(self, table_size=None, *, lists=table_lists) -> "ArticleRecommender":
        """Precompute the related list of every article, for :meth:`recommend` to read.

        Row ``i`` of ``table_indices_`` and ``table_scores_`` is exactly what
        ``recommend_batch(ids_, k=table_size)`` scores for article ``i`` with the default
        filters (the model's ``max_age``, no ``as_of`` or other filter), as row numbers.
        :meth:`fit` calls it with ``table_size``; call it after changing that parameter.
        With numba installed, a list does not depend on ``k``, so the first ``k`` entries
        of a row are the top-``k`` list exactly; without numba, rows whose scores tie may
        come in another order than a scoring call would give. ``lists`` scores the rows
        (:func:`~recommender.model.table.table_lists`; a cluster's workers score blocks).
        """
        self._check_fitted()
        self.table_size = _table_size(self.table_size if table_size is None else table_size)
        if not self.table_size:
            self.table_ = None
            return self
        idx, scores = lists(self, np.arange(self.n_articles), self.table_size)
        self.table_ = NeighbourTable(idx.astype(np.int32), scores.astype(np.float32),
                                     learned=self.reranker_ is not None)
        logger.info("neighbour table of %d articles x %d", *idx.shape)
        return self

    def make_vectorizer(self):
        """The vectorizer of ``scoring``, with this model's parameters (unfitted):
        :class:`~recommender.vectors.bm25.Bm25Vectorizer` for ``"mlt"``,
        :class:`~recommender.vectors.tfidf.FieldTfidfVectorizer` for ``"cosine"``."""
        return vectorizer_for(self)

    def _check_scoring_params(self) -> None:
        self.make_vectorizer().settings()
        self.window_zone()
        self.controls()
        check_cosine_settings(self)

    def _max_age_days(self) -> float | None:
        """The ``max_age`` parameter, checked, in days (None: no limit)."""
        days = check_days(self.max_age, "max_age")
        return None if days is None or days == float("inf") else days

    def _check_dates(self, catalogue: Catalogue) -> None:
        """Refuse a maximum age that would empty every list; report mis-dated articles."""
        days = self._max_age_days()
        if not catalogue.dated and days is not None:
            raise ParameterError(
                f"none of the {len(catalogue):,} articles has a date, so a maximum age of "
                f"{days:g} days would leave every list empty: fit with max_age=None "
                f"(recommender train --no-max-age), or give the articles their 'published' "
                f"dates")
        if catalogue.n_after_run:
            rows = range(catalogue.until_now, min(catalogue.dated, catalogue.until_now + 5))
            first = ", ".join(f"{str(catalogue.ids[r])!r} ({to_iso(catalogue.published[r])})"
                              for r in rows)
            warnings.warn(f"{catalogue.n_after_run:,} articles are dated after this run's time "
                          f"({catalogue.created}): {first}; they do not move the reference "
                          f"time of the freshness window", CorpusWarning, stacklevel=4)

    def _warn_undated(self, stacklevel: int) -> None:
        undated = self.catalogue_.n_undated
        if undated:
            warnings.warn(f"{undated:,} articles have no date; a time filter leaves them out "
                          f"of the candidates", UndatedWarning, stacklevel=stacklevel)

    # -- variants --------------------------------------------------------------------------
    def learn(self, truth, **params) -> "ArticleRecommender":
        """Learned mode: re-rank candidates as the site's own lists in ``truth`` teach.

        ``truth`` is a :class:`~recommender.truth.GroundTruth` (see
        :func:`~recommender.read_ground_truth`); ``params`` go to
        :class:`~recommender.model.rerank.LinkReranker`. The sources of these lists are kept
        in ``reranker_.sources_``: the evaluation never scores a learned model on them.
        Returns the model.
        """
        self._check_fitted()
        self.reranker_ = None  # the candidates are the content model's
        self.reranker_ = learn_reranker(self, truth, params)
        if self.table_ is not None:
            self.build_table()  # the table now holds the learned lists
        return self

    def with_scoring(self, **changes) -> "ArticleRecommender":
        """A copy of this content model that scores with other settings, without refitting
        (same vocabulary, same articles; no learned re-ranker, no neighbour table): for
        ablations and tuning. The settings are those of the model's scoring
        (:data:`SCORING_SETTINGS`); those left out keep their values. With cosine, the
        weights equal a refit's to float32 rounding, so terms of equal weight may be cut
        differently from a query; with More Like This they are a refit's."""
        self._check_fitted()
        if self.live_ is not None:
            raise ParameterError("with_scoring: this model has live changes; compact it first "
                                 "(recommender compact MODEL_DIR, or model.compact())")
        allowed = SCORING_SETTINGS[self.scoring]
        unknown = sorted(set(changes) - set(allowed))
        if unknown:
            raise ParameterError(f"with_scoring: {', '.join(unknown)} cannot change without "
                                 f"refitting a model that scores with {self.scoring!r}; "
                                 f"its settings are {', '.join(allowed)}")
        other = copy.copy(self)
        for name, value in changes.items():
            setattr(other, name, value)
        other._check_scoring_params()
        vectorizer, content = rescored(self, other)
        # the table holds the lists of the old scoring
        return other.assemble(vectorizer=vectorizer, content=content,
                              catalogue=self.catalogue_, info=self.info_)

    def content_only(self) -> "ArticleRecommender":
        """This model without its learned re-ranker (a shallow copy sharing the arrays)."""
        other = copy.copy(self)
        other.reranker_ = None
        return other

    # -- persistence ---------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the model as a folder of plain files (see :mod:`recommender.store`); a
        model with live changes is saved compacted (:meth:`compact` for its own folder)."""
        self._check_fitted()
        self.write_to(path)

    @classmethod
    def load(cls, path, *, verify: bool = True) -> "ArticleRecommender":
        """Read a model folder written by :meth:`save`; nothing is unpickled. ``verify``
        checks each file's sha256 against the manifest (sizes are always checked). The
        changes logged in the folder since (:meth:`add`, :meth:`withdraw`) are replayed."""
        model = cls.from_folder(path, verify=verify)
        model._warn_undated(stacklevel=3)
        return model


def load_model(path, *, verify: bool = True) -> ArticleRecommender:
    """:meth:`ArticleRecommender.load` as a function."""
    return ArticleRecommender.load(path, verify=verify)


def _too_few(n: int) -> str:
    return (f"at least 2 articles are needed to recommend one from another, got {n}; "
            f"fit on a larger corpus")


def _table_size(value) -> int:
    """``table_size`` as an int >= 0, or a ParameterError that names it."""
    return check_int(value, "table_size", minimum=0,
                     what="a non-negative integer (0 for no neighbour table)")
