"""ArticleRecommender: fit on articles, recommend related ones, explain why.

The model keeps one L2-normalised TF-IDF row per article, in publication order (undated
articles last), so that a date window is a contiguous range of rows and the index scores
only the articles inside it.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from datetime import datetime, timedelta, timezone
from typing import Iterable, NamedTuple, Sequence

import numpy as np
import scipy.sparse as sp

from .controls import active, apply_controls, check_controls
from ..corpus import Article, as_article
from ..errors import NotFittedError, UnknownArticleError
from ..times import SECONDS_PER_DAY as _SECONDS_PER_DAY, UNDATED, to_iso as _iso, to_seconds as _seconds
from ..index.topk import DEFAULT_BLOCK_BYTES, check_k, top_k
from ..vectors.tfidf import FieldTfidfVectorizer, keep_strongest, l2_normalize

__all__ = ["ArticleRecommender", "DEFAULT_MAX_AGE", "Recommendations"]

logger = logging.getLogger(__name__)

#: Freshness, in days, that ``recommender train`` gives a model unless told otherwise: on
#: the shared corpus, 99% of the site's targets were at most 60 days old when shown, and
#: 62 days found the most of them (EVALUATION.md).
DEFAULT_MAX_AGE = 62.0

_SAME = object()  # "keep this setting" where None means something



class Recommendations(NamedTuple):
    """Related articles of several sources, best first, padded with ``""`` and ``-inf``.

    ``ids`` is a string array of shape ``(n_sources, k)``, ``scores`` float32 of the same
    shape. Unpack it as ``ids, scores = model.recommend_batch(...)``.
    """

    ids: np.ndarray
    scores: np.ndarray


class ArticleRecommender:
    """Related articles by cosine similarity of French TF-IDF vectors.

    An article's score for a query is the cosine of their vectors (the query keeps only
    its ``query_terms`` strongest terms) times the article's length prior. The defaults were
    chosen on half of the shared corpus's dev lists and confirmed on the other half
    (``EVALUATION.md``).

    Parameters
    ----------
    field_weights : dict, optional
        Weight of ``title``, ``heading`` (lead) and ``body`` in an article's vector;
        default :data:`~recommender.vectorize.DEFAULT_FIELD_WEIGHTS`.
    min_df : int, default=3
        Terms in fewer articles are ignored.
    max_df : float, default=0.5
        Terms in more than this share of the articles are ignored.
    sublinear_tf : bool, default=True
        Use ``1 + ln(count)`` for term counts.
    analyzer : dict, optional
        Parameters of :class:`~recommender.text.FrenchAnalyzer`, e.g. ``{"stem": True}`` for
        Snowball stems (off by default: whole words matched the site's lists better).
    idf_power : float, default=0.25
        Exponent of the idf in the term weights (1 for plain TF-IDF). Plain idf lets one
        rare word (a name cited once) decide a match; 0.25 found more of the site's links.
    query_terms : int or None, default=20
        Score with only the strongest terms of the query article, as Elasticsearch's
        "More Like This" does (``None`` for all): its main words, not every word it cites.
    length_prior : float, default=0.2
        Scores are multiplied by ``(n / mean n) ** length_prior``, where ``n`` is the number
        of distinct terms of the recommended article: cosine favours short texts; the site's
        lists favour fuller articles. 0 for plain cosine.
    half_life, dedupe, diversity, min_score : optional
        Newsroom controls, off by default (:mod:`recommender.controls`): a freshness decay
        with this half-life in days; dropping a candidate whose text has at least this
        cosine with one shown above it (a republished story); maximal marginal relevance
        with this weight on novelty (then the order is MMR's, and the scores stay the
        similarity); showing fewer items rather than any scoring below ``min_score``. They
        are plain attributes: set them on a loaded model to try other values.
    max_age : float, optional
        Default freshness, in days: recommend only articles at most this old, counted
        back from ``as_of`` (or from the newest article). ``None`` for no limit.
    max_block_bytes : int, default=256 MiB
        Memory for one block of scores when many articles are scored at once.
    n_jobs : int, default=1
        Threads for batch scoring, and processes for the analysis of the text in ``fit``
        (the vectors are the same, bit for bit, for any value); -1 for one per CPU.
    table_size : int, default=50
        Length of the neighbour table built at the end of :meth:`fit` (see
        :meth:`build_table`): :meth:`recommend` with the default filters and
        ``k <= table_size`` reads its answer there instead of scoring. 0: no table.

    Attributes
    ----------
    ids_ : ndarray of str, shape (n_articles,)
        Article ids, in publication order (undated last).
    published_ : ndarray of int64
        Publication times in seconds since 1970 UTC; :data:`UNDATED` when unknown.
    categories_ : ndarray of str
    titles_ : ndarray of object (str)
    matrix_ : csr_matrix of float32, shape (n_articles, n_terms)
        TF-IDF rows, L2-normalised, then scaled by the length prior (so that one sparse
        product gives the scores).
    vectorizer_ : FieldTfidfVectorizer
    info_ : dict
        Article count, corpus checksum, creation time and other facts saved with the model.
    table_indices_ : ndarray of int32, shape (n_articles, width), or None
        Row ``i``: the rows of the ``width = min(table_size, n_articles - 1)`` articles
        most related to article ``i`` by the default scoring, best first, -1 padded.
        Memory-mapped when the model is loaded. None without a table.
    table_scores_ : ndarray of float32, same shape, or None
        Their scores, -inf padded.
    """

    def __init__(self, *, field_weights=None, min_df=3, max_df=0.5, sublinear_tf=True,
                 analyzer=None, idf_power=0.25, query_terms=20, length_prior=0.2,
                 half_life=None, dedupe=None, diversity=0.0, min_score=None,
                 max_age=None, max_block_bytes=DEFAULT_BLOCK_BYTES, n_jobs=1, table_size=50):
        self.field_weights = field_weights
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.analyzer = analyzer
        self.idf_power = idf_power
        self.query_terms = query_terms
        self.length_prior = length_prior
        self.half_life = half_life
        self.dedupe = dedupe
        self.diversity = diversity
        self.min_score = min_score
        self.max_age = max_age
        self.max_block_bytes = max_block_bytes
        self.n_jobs = n_jobs
        self.table_size = table_size

    def get_params(self) -> dict:
        return {"field_weights": self.field_weights, "min_df": self.min_df,
                "max_df": self.max_df, "sublinear_tf": self.sublinear_tf,
                "analyzer": self.analyzer, "idf_power": self.idf_power,
                "query_terms": self.query_terms, "length_prior": self.length_prior,
                **self._controls(),
                "max_age": self.max_age, "max_block_bytes": self.max_block_bytes,
                "n_jobs": self.n_jobs, "table_size": self.table_size}

    # -- fitting -----------------------------------------------------------------------
    def fit(self, articles: Iterable[Article]) -> "ArticleRecommender":
        """Learn the vocabulary and the article vectors.

        ``articles`` is any iterable of :class:`~recommender.corpus.Article` (such as
        :func:`~recommender.read_corpus`) or of dicts with the corpus fields; it is read
        once, as a stream. Articles without text are kept (they can be asked for) but are
        never recommended.
        """
        if isinstance(articles, (str, bytes)):
            raise TypeError(
                f"An iterable of articles (Article records or dicts) was expected, "
                f"{type(articles).__name__} object received. To read a file, pass "
                f"read_corpus(path)."
            )
        if isinstance(articles, dict) or isinstance(articles, Article):
            raise TypeError("An iterable of articles was expected, a single article "
                            "received; pass a list of them.")
        self.max_age_days_ = _days(self.max_age, "max_age")
        self._check_scoring_params()
        table_size = _table_size(self.table_size)
        meta = _Metadata()
        vectorizer = FieldTfidfVectorizer(field_weights=self.field_weights, min_df=self.min_df,
                                          analyzer=self.analyzer, idf_power=self.idf_power,
                                          max_df=self.max_df, sublinear_tf=self.sublinear_tf,
                                          n_jobs=self.n_jobs)
        try:
            X = vectorizer.fit_transform(meta.collect(articles))
        except ValueError:
            # Too few articles leave no term; but an error raised while reading the articles
            # (a bad line, a duplicate id) must reach the user as it is.
            if meta.finished and meta.n < 2:
                raise ValueError(self._too_few(meta.n)) from None
            raise
        if meta.n < 2:
            raise ValueError(self._too_few(meta.n))
        order = np.lexsort((np.arange(meta.n), np.asarray(meta.published, np.int64)))
        self.vectorizer_ = vectorizer
        self.reranker_ = None
        X = X[order].tocsr()
        X.sort_indices()
        self.matrix_ = apply_length_prior(X, self.length_prior)
        self.ids_ = np.asarray(meta.ids, dtype=str)[order]
        self.published_ = np.asarray(meta.published, np.int64)[order]
        self.categories_ = np.asarray(meta.categories, dtype=str)[order]
        self.titles_ = np.asarray(meta.titles, dtype=object)[order]
        self.info_ = {
            "n_articles": int(meta.n),
            "n_without_text": int(meta.n_empty),
            "n_undated": int((self.published_ == UNDATED).sum()),
            "n_terms": int(X.shape[1]),
            "corpus_sha256": meta.sha.hexdigest(),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        self._reset_caches()
        logger.info("fitted %d articles, %d terms, %d non-zeros", meta.n, X.shape[1], X.nnz)
        self.table_indices_ = self.table_scores_ = None
        if table_size:
            self.build_table(table_size)
        return self

    def build_table(self, table_size=None) -> "ArticleRecommender":
        """Precompute the related list of every article, for :meth:`recommend` to read.

        Row ``i`` of ``table_indices_`` and ``table_scores_`` is exactly what
        ``recommend_batch(ids_, k=table_size)`` returns for article ``i`` with the default
        filters (the model's ``max_age``, no ``as_of`` or other filter), as row numbers.
        :meth:`fit` calls it with ``table_size``; call it after changing that parameter.
        With numba installed, a list does not depend on ``k``, so the first ``k`` entries
        of a row are the top-``k`` list exactly; without numba, rows whose scores tie may
        come in another order than a scoring call would give.
        """
        self._check_fitted()
        table_size = _table_size(self.table_size if table_size is None else table_size)
        self.table_size = table_size
        if not table_size:
            self.table_indices_ = self.table_scores_ = None
            return self
        rows = np.arange(self.n_articles)
        self._table_learned = getattr(self, "reranker_", None) is not None
        idx, scores = self._search_rows(self.query_vectors(self.matrix_), table_size,
                                        skip=rows, as_of=None,
                                        max_age=None, since=None, until=None,
                                        categories=None, exclude=())
        self.table_indices_ = idx.astype(np.int32)
        self.table_scores_ = scores.astype(np.float32)
        logger.info("neighbour table of %d articles x %d", *idx.shape)
        return self

    def _controls(self) -> dict:
        return check_controls(half_life=self.half_life, dedupe=self.dedupe,
                              diversity=self.diversity, min_score=self.min_score)

    def _check_scoring_params(self) -> None:
        self._controls()
        terms = self.query_terms
        if terms is not None and (isinstance(terms, (bool, np.bool_)) or
                                  not isinstance(terms, (int, np.integer)) or terms < 1):
            raise ValueError(f"query_terms must be a positive integer or None (all terms), "
                             f"got {terms!r}")
        prior = self.length_prior
        if isinstance(prior, (bool, np.bool_)) or \
                not isinstance(prior, (int, float, np.integer, np.floating)) or \
                not 0 <= prior <= 2:
            raise ValueError(f"length_prior must be a number between 0 and 2 (0 for plain "
                             f"cosine), got {prior!r}")

    @staticmethod
    def _too_few(n: int) -> str:
        return (f"at least 2 articles are needed to recommend one from another, got {n}; "
                f"fit on a larger corpus")

    def _reset_caches(self) -> None:
        self._row_of = None
        self._units = None
        self._transposed = None
        self._dated = int(np.searchsorted(self.published_, UNDATED))

    # -- lookups -------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "matrix_"):
            raise NotFittedError("this ArticleRecommender is not fitted yet; call fit(articles) "
                                 "or ArticleRecommender.load(path) first")

    @property
    def n_articles(self) -> int:
        self._check_fitted()
        return int(self.matrix_.shape[0])

    def rows_of(self, article_ids) -> np.ndarray:
        """Row numbers of article ids; :class:`UnknownArticleError` names the first unknown."""
        self._check_fitted()
        if self._row_of is None:
            self._row_of = {a: i for i, a in enumerate(self.ids_.tolist())}
        rows = np.empty(len(article_ids), np.int64)
        for i, a in enumerate(article_ids):
            try:
                rows[i] = self._row_of[a]
            except (KeyError, TypeError):
                raise UnknownArticleError(
                    f"Unknown article id {a!r}: not among the {self.n_articles:,} articles of "
                    f"this model (trained {self.info_.get('created', '?')}). Retrain with the "
                    f"article, or use similar(text) for a text that is not in the model."
                ) from None
        return rows

    def __contains__(self, article_id) -> bool:
        try:
            self.rows_of([article_id])
        except UnknownArticleError:
            return False
        return True

    # -- recommending --------------------------------------------------------------------
    def recommend(self, article_id: str, k: int = 5, *, as_of=None, max_age=None, since=None,
                  until=None, categories=None, exclude=()):
        """The ``k`` articles most related to ``article_id``, never itself.

        Parameters
        ----------
        article_id : str
        k : int, default=5
            Clipped to the catalogue; fewer are returned when fewer articles share a word.
        as_of : datetime or ISO 8601 str, optional
            Recommend as the list would have been computed then: only articles published
            before it.
        max_age : float (days) or timedelta, optional
            Only articles at most this old, counted back from ``as_of`` (from the newest
            article when ``as_of`` is not given). Default: the model's ``max_age``.
        since, until : datetime or ISO 8601 str, optional
            Only articles with ``since <= published < until``.
        categories : iterable of str, optional
            Only articles of these categories.
        exclude : iterable of str
            Article ids never to return.

        Returns
        -------
        ids : ndarray of str, shape (n,), n <= k
        scores : ndarray of float32, shape (n,)
            Best first.

        With the default filters (no ``as_of``, ``since``, ``until``, ``categories`` or
        ``exclude``, ``max_age`` the model's) and ``k`` within the neighbour table, the
        answer is read from the table (:meth:`build_table`): the same list, without scoring.
        """
        if self._table_answers(k, as_of, max_age, since, until, categories, exclude):
            row = int(self.rows_of([article_id])[0])
            k = min(check_k(k), max(self.n_articles - 1, 1))
            idx = np.array(self.table_indices_[row, :k], dtype=np.int64)
            scores = np.array(self.table_scores_[row, :k], dtype=np.float32)
            keep = idx >= 0
            return self.ids_[idx[keep]], scores[keep]
        ids, scores = self.recommend_batch([article_id], k, as_of=as_of, max_age=max_age,
                                           since=since, until=until, categories=categories,
                                           exclude=exclude)
        keep = np.isfinite(scores[0])
        return ids[0][keep], scores[0][keep]

    def _table_answers(self, k, as_of, max_age, since, until, categories, exclude) -> bool:
        """Whether the neighbour table holds the answer: default filters, ``k`` within it."""
        self._check_fitted()
        if getattr(self, "table_indices_", None) is None:
            return False
        # The table holds the lists of the scoring it was built with: not those of newsroom
        # controls set since (their lists also depend on k), nor of a re-ranker learned since.
        learned = getattr(self, "reranker_", None) is not None
        if active(self._controls()) or learned != getattr(self, "_table_learned", False):
            return False
        k = min(check_k(k), max(self.n_articles - 1, 1))
        if k > self.table_indices_.shape[1]:
            return False
        default_age = max_age is None or _days(max_age, "max_age") == self.max_age_days_
        no_exclude = exclude is None or (not isinstance(exclude, str) and len(exclude) == 0)
        return (as_of is None and default_age and since is None and until is None
                and categories is None and no_exclude)

    def recommend_batch(self, article_ids: Sequence[str], k: int = 5, *, as_of=None,
                        max_age=None, since=None, until=None, categories=None,
                        exclude=()) -> Recommendations:
        """:meth:`recommend` for many articles at once: arrays of shape ``(n, k)``.

        ``as_of`` is one time for all, or a sequence with one time (or None) per article.
        Rows with fewer than ``k`` results are padded with ``""`` and ``-inf``; ``k`` is
        clipped to the catalogue less one.
        """
        self._check_fitted()
        if isinstance(article_ids, str):
            raise TypeError(f"a list of article ids was expected, got the string "
                            f"{article_ids!r}; use recommend() for one article")
        rows = self.rows_of(list(article_ids))
        Q = self.query_vectors(self.matrix_[rows])
        return self._search(Q, k, skip=rows, as_of=as_of, max_age=max_age, since=since,
                            until=until, categories=categories, exclude=exclude)

    def similar(self, text, k: int = 5, *, as_of=None, max_age=None, since=None, until=None,
                categories=None, exclude=()):
        """Articles related to a text that is not in the model (a draft, a scraped page).

        ``text`` is a string (its first line is taken as the title; page blocks such as
        "À lire aussi" are removed), or an :class:`~recommender.corpus.Article` or dict.
        Filters are those of :meth:`recommend`. Returns ``(ids, scores)``.
        """
        article = self._as_article(text)
        Q = self.query_vectors(self.vectorizer_.transform([article]))
        titles = self.vectorizer_.transform([Article(id=article.id, title=article.title)])
        ids, scores = self._search(Q, k, skip=None, as_of=as_of, max_age=max_age, since=since,
                                   until=until, categories=categories, exclude=exclude,
                                   source_titles=titles)
        keep = np.isfinite(scores[0])
        return ids[0][keep], scores[0][keep]

    def query_vectors(self, X: sp.csr_matrix) -> sp.csr_matrix:
        """Rows of ``X`` as the model scores them as queries: their ``query_terms``
        strongest terms, L2-normalised (a copy)."""
        Q = sp.csr_matrix(X, dtype=np.float32, copy=True)
        if self.query_terms is not None:
            Q = keep_strongest(Q, self.query_terms)
        return l2_normalize(Q)

    def vectorize(self, text) -> sp.csr_matrix:
        """The model's TF-IDF row (1, n_terms) of a text, an Article or a dict."""
        return self.vectorizer_.transform([self._as_article(text)])

    def _as_article(self, text) -> Article:
        """A text (first line: the title), an Article or a dict, as an Article."""
        self._check_fitted()
        if isinstance(text, str):
            title, _, rest = text.strip().partition("\n")
            return Article(id="(text)", title=title, body=rest)
        return as_article(text if not isinstance(text, dict) else {"id": "(text)", **text})

    def _search(self, Q, k, **filters):
        idx, scores = self._search_rows(Q, k, **filters)
        ids = np.where(idx >= 0, self.ids_[np.maximum(idx, 0)], "")
        return Recommendations(ids, scores)

    def _search_rows(self, Q, k, *, skip, as_of, max_age, since, until, categories,
                     exclude, source_titles=None):
        """Row numbers and scores of the top-``k`` of each query row: filters applied,
        then the learned re-ranker and the newsroom controls when the model has them."""
        k = min(check_k(k), max(self.n_articles - 1, 1))
        n = Q.shape[0]
        lo, hi = self._windows(n, as_of=as_of, max_age=max_age, since=since, until=until)
        allowed = self._allowed(categories, exclude)
        reranker = getattr(self, "reranker_", None)
        controls = self._controls()
        controlled = active(controls)
        # A learned model re-ranks the content model's best n_candidates, whatever k is, so
        # that its first k items do not depend on k (the neighbour table relies on it).
        width = k if reranker is None else reranker.n_candidates
        if controlled:
            width = max(width, 2 * k, k + 40)  # room for what the controls drop
        width = min(width, self.n_articles)
        idx, scores = top_k(Q, self.matrix_, width, lo=lo, hi=hi, skip=skip, allowed=allowed,
                            XT=self._postings(),
                            max_block_bytes=self.max_block_bytes, n_jobs=self.n_jobs)
        if reranker is not None or controlled:
            when = self._reference_times(n, as_of)
        if reranker is not None:
            source_rows = np.full(n, -1, np.int64) if skip is None else skip
            idx, scores = reranker.rerank(self, source_rows, idx, scores, when, source_titles)
        if controlled:
            idx, scores = apply_controls(idx, scores, k, controls, units=self._unit_rows(),
                                         published=self.published_, as_of=when)
        if idx.shape[1] < k:  # a learned model lists at most n_candidates
            pad = k - idx.shape[1]
            idx = np.hstack([idx, np.full((n, pad), -1, idx.dtype)])
            scores = np.hstack([scores, np.full((n, pad), -np.inf, scores.dtype)])
        return idx[:, :k], scores[:, :k]

    def _unit_rows(self) -> sp.csr_matrix:
        """The rows as unit vectors (without the length prior), made on first use."""
        if getattr(self, "_units", None) is None:
            self._units = l2_normalize(self.matrix_.copy())
        return self._units

    def _reference_times(self, n, as_of) -> np.ndarray:
        """Each query's time: its ``as_of``, else the newest article's publication."""
        as_of = self._as_of_seconds(n, as_of)
        newest = self.published_[self._dated - 1] if self._dated else UNDATED
        return np.where(as_of == UNDATED, newest, as_of)

    def _content_candidates(self, rows, n_candidates, as_of):
        """The content model's best ``n_candidates`` rows for model ``rows`` as of the
        times ``as_of`` (seconds), with the model's own filters: ``(rows, scores)``."""
        times = [_iso(t) for t in as_of]
        Q = self.query_vectors(self.matrix_[rows])
        lo, hi = self._windows(len(rows), as_of=times, max_age=None, since=None, until=None)
        return top_k(Q, self.matrix_, n_candidates, lo=lo, hi=hi, skip=rows,
                     XT=self._postings(), max_block_bytes=self.max_block_bytes,
                     n_jobs=self.n_jobs)

    def learn(self, truth, **params) -> "ArticleRecommender":
        """Learned mode: re-rank candidates as the site's own lists in ``truth`` teach.

        ``truth`` is a :class:`~recommender.evaluate.GroundTruth` (see
        :func:`~recommender.read_ground_truth`); ``params`` go to
        :class:`~recommender.rerank.LinkReranker`. The sources of these lists are kept in
        ``reranker_.sources_``: :func:`~recommender.evaluate` never scores a learned model
        on them. Returns the model.
        """
        from .rerank import LinkReranker

        self._check_fitted()
        self.reranker_ = None  # the candidates are the content model's
        self.reranker_ = LinkReranker(**params).fit(self, truth)
        if getattr(self, "table_indices_", None) is not None:
            self.build_table()  # the table now holds the learned lists
        return self

    def with_scoring(self, *, idf_power=None, query_terms=_SAME,
                     length_prior=None) -> "ArticleRecommender":
        """A copy of this content model that scores with other settings, without refitting
        (same vocabulary, same articles; no learned re-ranker, no neighbour table): for
        ablations and tuning. Settings left out keep their values. The weights equal a
        refit's to float32 rounding, so terms of equal weight may be cut differently from
        a query."""
        import copy

        self._check_fitted()
        other = copy.copy(self)
        other.reranker_ = None
        other.idf_power = self.idf_power if idf_power is None else idf_power
        other.query_terms = self.query_terms if query_terms is _SAME else query_terms
        other.length_prior = self.length_prior if length_prior is None else length_prior
        other._check_scoring_params()
        other.vectorizer_ = copy.copy(self.vectorizer_)
        other.vectorizer_.idf_power = other.idf_power
        other.vectorizer_._idf_power()  # checks the value
        X = l2_normalize(self.matrix_.copy())  # back to unit rows
        if other.idf_power != self.idf_power:
            change = self.vectorizer_.idf_.astype(np.float64) ** (other.idf_power - self.idf_power)
            X.data *= change[X.indices].astype(np.float32)
            l2_normalize(X)
        other.matrix_ = apply_length_prior(X, other.length_prior)
        other.table_indices_ = other.table_scores_ = None  # the lists of the old scoring
        other._reset_caches()
        other.__dict__.pop("_title_matrix", None)
        return other

    def content_only(self) -> "ArticleRecommender":
        """This model without its learned re-ranker (a shallow copy sharing the arrays)."""
        import copy

        other = copy.copy(self)
        other.reranker_ = None
        return other

    def _postings(self) -> sp.csr_matrix:
        """``matrix_.T`` as CSR, made on first use: scores a few queries from their terms'
        posting lists instead of a pass over every article."""
        if self._transposed is None:
            self._transposed = self.matrix_.T.tocsr()
        return self._transposed

    def _allowed(self, categories, exclude) -> np.ndarray | None:
        allowed = None
        if categories is not None:
            if isinstance(categories, str):
                categories = [categories]
            allowed = np.isin(self.categories_, np.asarray(list(categories), dtype=str))
        if exclude is not None and len(exclude):
            if isinstance(exclude, str):
                exclude = [exclude]
            rows = [self._row_of_or_none(a) for a in exclude]
            allowed = np.ones(self.n_articles, bool) if allowed is None else allowed
            allowed[[r for r in rows if r is not None]] = False
        return allowed

    def _row_of_or_none(self, article_id):
        try:
            return int(self.rows_of([article_id])[0])
        except UnknownArticleError:
            return None

    def _as_of_seconds(self, n, as_of) -> np.ndarray:
        """One time per query, in seconds (:data:`UNDATED` where none is given)."""
        if as_of is not None and not isinstance(as_of, (str, datetime)) and np.ndim(as_of) == 1:
            if len(as_of) != n:
                raise ValueError(f"as_of has {len(as_of)} times for {n} articles; give one "
                                 f"time for all or one per article")
            return np.array([_seconds(t, "as_of") for t in as_of], dtype=np.int64)
        return np.full(n, _seconds(as_of, "as_of"), dtype=np.int64)

    def _windows(self, n, *, as_of, max_age, since, until):
        """Row ranges ``[lo, hi)`` of the candidates of ``n`` queries (None: all rows)."""
        max_age = self.max_age_days_ if max_age is None else _days(max_age, "max_age")
        as_of = self._as_of_seconds(n, as_of)
        has_as_of = as_of != UNDATED
        if max_age is None and since is None and until is None and not has_as_of.any():
            return None, None
        upper = as_of if until is None else np.minimum(as_of, _seconds(until, "until"))
        lower = np.full(n, np.iinfo(np.int64).min if since is None else _seconds(since, "since"),
                        dtype=np.int64)
        if max_age is not None:
            newest = self.published_[self._dated - 1] if self._dated else 0
            reference = np.where(has_as_of, as_of, newest)
            lower = np.maximum(lower, reference - int(round(max_age * _SECONDS_PER_DAY)))
        undated = self.n_articles - self._dated
        if undated:
            warnings.warn(f"{undated:,} articles have no date; a time filter leaves them out "
                          f"of the candidates", UserWarning, stacklevel=4)
        dated = self.published_[:self._dated]
        lo = np.searchsorted(dated, lower, side="left")
        hi = np.searchsorted(dated, upper, side="left")
        if max_age is None and since is None and until is None:
            # Rows whose as_of is None have no time filter: undated articles stay candidates,
            # as in a single call without as_of.
            hi[~has_as_of] = self.n_articles
        return lo, np.maximum(hi, lo)

    def candidate_windows(self, as_of=None, *, n=None, max_age=None, since=None,
                          until=None):
        """The row range ``[lo, hi)`` of each query's candidates under the time filters
        (rows are in publication order): two int64 arrays of ``n`` values (``n`` defaults
        to the number of ``as_of`` times). Filters as for :meth:`recommend_batch`."""
        self._check_fitted()
        n = len(as_of) if n is None else n
        lo, hi = self._windows(n, as_of=as_of, max_age=max_age, since=since, until=until)
        if lo is None:
            lo, hi = np.zeros(n, np.int64), np.full(n, self.n_articles, np.int64)
        return lo, hi

    def unit_vectors(self) -> sp.csr_matrix:
        """The articles' unit TF-IDF rows (without the length prior), made on first use and
        kept: the plain cosine between two rows is their dot product. Do not modify it."""
        self._check_fitted()
        return self._unit_rows()

    def warm_up(self) -> "ArticleRecommender":
        """Build now what the first request would otherwise build (the posting lists, the
        id look-up), so that no request pays for it. Returns the model."""
        self._check_fitted()
        self._postings()
        self.rows_of([])
        return self

    # -- explanations ----------------------------------------------------------------------
    def explain(self, article_id: str, recommended_id: str, n_terms: int = 5):
        """The shared words that weigh most in the score of ``recommended_id`` for ``article_id``.

        Returns a list of ``(word, contribution)``, largest first; the contributions of all
        shared terms add up to the score that :meth:`recommend` gives. Words are shown as
        the most frequent word behind each stem in the corpus, not as stems.
        """
        self._check_fitted()
        q = self.matrix_[self.rows_of([article_id])[0]]
        return self.explain_vector(q, recommended_id, n_terms)

    def explain_vector(self, q: sp.csr_matrix, recommended_id: str, n_terms: int = 5):
        """:meth:`explain` for a vector (such as ``vectorize(text)``), taken as a query
        (see :meth:`query_vectors`)."""
        n_terms = check_k(n_terms, "n_terms")
        q = self.query_vectors(q)
        x = self.matrix_[self.rows_of([recommended_id])[0]]
        shared = q.multiply(x).tocsr()
        order = np.argsort(-shared.data, kind="stable")[:n_terms]
        words = self.vectorizer_.words_
        return [(words[shared.indices[i]], float(shared.data[i])) for i in order]

    def article_info(self, article_id: str) -> dict:
        """``id``, ``title``, ``category`` and ``published`` (ISO, or None) of an article."""
        row = int(self.rows_of([article_id])[0])
        return {"id": str(self.ids_[row]), "title": str(self.titles_[row]),
                "category": str(self.categories_[row]),
                "published": _iso(self.published_[row])}

    # -- persistence ---------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the model as a folder of plain files (see :mod:`recommender.store`)."""
        from ..store import save_model

        self._check_fitted()
        save_model(self, path)

    @classmethod
    def load(cls, path) -> "ArticleRecommender":
        """Read a model folder written by :meth:`save`; nothing is unpickled."""
        from ..store import load_model

        return load_model(path, cls=cls)


class _Metadata:
    """Collects what the model keeps of each article while the vectorizer streams them."""

    def __init__(self):
        self.ids, self.published, self.categories, self.titles = [], [], [], []
        self.n = self.n_empty = 0
        self.sha = hashlib.sha256()
        self.finished = False
        self._seen: set[str] = set()

    def collect(self, articles):
        for record in articles:
            try:
                article = as_article(record)
            except ValueError as exc:
                raise ValueError(f"article {self.n + 1:,} of the input: {exc}") from None
            if article.id in self._seen:
                # Two rows with one id: recommend(id) would return the other row, itself.
                raise ValueError(f"article id {article.id!r} appears more than once (article "
                                 f"{self.n + 1:,}); ids must be unique, remove the copies")
            self._seen.add(article.id)
            self.ids.append(article.id)
            self.published.append(_seconds(article.published, "published"))
            self.categories.append(article.category)
            self.titles.append(article.title)
            self.n += 1
            self.n_empty += not article.has_text
            # each part followed by \x1f (the same digest as one update per part)
            self.sha.update(f"{article.id}\x1f{article.title}\x1f{article.heading}\x1f"
                            f"{article.body}\x1f".encode("utf-8"))
            yield article
        self.finished = True


def apply_length_prior(X: sp.csr_matrix, power: float) -> sp.csr_matrix:
    """Scale each unit row of ``X`` by ``(n / mean n) ** power`` in place, ``n`` being its
    number of terms (the mean over rows with terms)."""
    if power == 0:
        return X
    lengths = np.diff(X.indptr)
    mean = lengths[lengths > 0].mean() if (lengths > 0).any() else 1.0
    scale = (np.maximum(lengths, 1) / mean) ** float(power)
    X.data *= np.repeat(scale, lengths).astype(X.dtype)
    return X


def _table_size(value) -> int:
    """``table_size`` as an int >= 0, or a ValueError that names it."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < 0:
        raise ValueError(f"table_size must be a non-negative integer (0 for no neighbour "
                         f"table), got {value!r}")
    return int(value)


def _days(value, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        value = value.total_seconds() / _SECONDS_PER_DAY
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{what} must be a number of days or a timedelta, got {value!r}")
    if not value > 0:
        raise ValueError(f"{what} must be a positive number of days, got {value}")
    return float(value)
