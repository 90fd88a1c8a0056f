"""The questions a fitted model answers: related lists, similar texts, explanations.

:class:`Recommending` holds the public calls of :class:`~recommender.ArticleRecommender`
that read a fitted model: each parses its filters once into a
:class:`~recommender.model.search.Request`, then reads the neighbour table or runs the
search. It reads the model's parts (``catalogue_``, ``content_``, ``table_``,
``reranker_``, ``vectorizer_``) and its parameters, and changes none of them.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
import scipy.sparse as sp

from ..corpus import Article, as_article
from ..errors import NotFittedError, ParameterError
from ..index.topk import check_k
from ..times import (UNDATED, check_days, days_to_seconds, time_zone, times_of,
                     to_seconds)
from ..vectors.tfidf import l2_normalize
from .controls import active, check_controls
from .explain import shared_terms
from .rerank import PairContext, TextSources
from .search import Request, apply_length_prior, mlt_queries, query_vectors, search_rows

__all__ = ["Recommendations", "Recommending"]


class Recommendations(NamedTuple):
    """Related articles of several sources, best first, padded with ``""`` and ``-inf``.

    ``ids`` is a string array of shape ``(n_sources, k)``, ``scores`` float32 of the same
    shape. Unpack it as ``ids, scores = model.recommend_batch(...)``.
    """

    ids: np.ndarray
    scores: np.ndarray


class Recommending:
    """The read-only calls of a fitted :class:`~recommender.ArticleRecommender`."""

    def controls(self) -> dict:
        """The newsroom controls, checked (:func:`~recommender.model.controls.check_controls`)."""
        return check_controls(half_life=self.half_life, dedupe=self.dedupe,
                              diversity=self.diversity, min_score=self.min_score)

    def window_zone(self):
        """The time zone of the freshness window when ``window="calendar"``; None for a
        rolling window (``"rolling"``: ``max_age`` counted back from the very second)."""
        if self.window not in ("rolling", "calendar"):
            raise ParameterError(f"window must be 'rolling' or 'calendar', got "
                                 f"{self.window!r}")
        return time_zone(self.time_zone) if self.window == "calendar" else None

    def max_age_seconds(self, max_age=None) -> int | None:
        """A call's ``max_age`` (None: the model's) in seconds; None for no limit."""
        if max_age is None:
            return days_to_seconds(self.max_age_days_)
        return days_to_seconds(check_days(max_age, "max_age"))

    # -- lookups -------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "catalogue_"):
            raise NotFittedError("this ArticleRecommender is not fitted yet; call fit(articles) "
                                 "or ArticleRecommender.load(path) first")

    @property
    def n_articles(self) -> int:
        self._check_fitted()
        return len(self.catalogue_)

    matrix_ = property(lambda self: self.content_.matrix,
                       doc="The TF-IDF rows as scored (length prior applied).")
    ids_ = property(lambda self: self.catalogue_.ids)
    published_ = property(lambda self: self.catalogue_.published)
    categories_ = property(lambda self: self.catalogue_.categories)
    titles_ = property(lambda self: self.catalogue_.titles)
    table_indices_ = property(lambda self: None if self.table_ is None else self.table_.indices)
    table_scores_ = property(lambda self: None if self.table_ is None else self.table_.scores)

    def served_ids(self) -> np.ndarray:
        """The ids of the articles the model serves, in row order: ``ids_``, less (on a
        model with live changes) the rows of withdrawn articles and the old rows of updated
        ones, which ``ids_`` keeps so that row numbers stay put."""
        self._check_fitted()
        return self.ids_[self.catalogue_.served_rows()]

    def rows_of(self, article_ids) -> np.ndarray:
        """Row numbers of article ids; :class:`UnknownArticleError` names the first unknown."""
        self._check_fitted()
        return self.catalogue_.rows_of(article_ids)

    def __contains__(self, article_id) -> bool:
        self._check_fitted()
        return self.catalogue_.row_or_none(article_id) is not None

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
            article when ``as_of`` is not given). Default: the model's ``max_age``;
            :data:`~recommender.times.NO_LIMIT` for none.
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
        This is :meth:`recommend_batch` with one row.
        """
        ids, scores = self.recommend_batch([article_id], k, as_of=as_of, max_age=max_age,
                                           since=since, until=until, categories=categories,
                                           exclude=exclude)
        keep = np.isfinite(scores[0])
        return ids[0][keep], scores[0][keep]

    def recommend_batch(self, article_ids: Sequence[str], k: int = 5, *, as_of=None,
                        max_age=None, since=None, until=None, categories=None,
                        exclude=()) -> Recommendations:
        """:meth:`recommend` for many articles at once: arrays of shape ``(n, k)``.

        ``as_of`` is one time for all, or a sequence (or ``datetime64`` array) with one
        time (or None / NaT) per article. Rows with fewer than ``k`` results are padded with
        ``""`` and ``-inf``; ``k`` is clipped to the catalogue less one. With the default
        filters the lists are read from the neighbour table (:meth:`build_table`).
        """
        self._check_fitted()
        if isinstance(article_ids, str):
            raise TypeError(f"a list of article ids was expected, got the string "
                            f"{article_ids!r}; use recommend() for one article")
        sources = list(article_ids)
        rows = self.rows_of(sources)
        request = self._request(len(rows), as_of=as_of, max_age=max_age, since=since,
                                until=until, categories=categories, exclude=exclude)
        k = min(check_k(k), max(self.n_articles - 1, 1))
        wide = self.pins_width(k, sources)
        if self._table_answers(wide, request):
            idx, scores = self.table_.lists(rows, wide)
        else:
            idx, scores = search_rows(self, self.row_queries(rows), wide, request, skip=rows)
        return Recommendations(*self.apply_pins(sources, rows, self._as_ids(idx, scores), k,
                                                request, exclude))

    def similar(self, text, k: int = 5, *, as_of=None, max_age=None, since=None, until=None,
                categories=None, exclude=()):
        """Articles related to a text that is not in the model (a draft, a scraped page).

        ``text`` is a string (its first line is taken as the title; page blocks such as
        "À lire aussi" are removed), or an :class:`~recommender.corpus.Article` or dict.
        Filters are those of :meth:`recommend`. Returns ``(ids, scores)``.
        """
        article = self._as_article(text)
        request = self._request(1, as_of=as_of, max_age=max_age, since=since, until=until,
                                categories=categories, exclude=exclude)
        sources = None
        if not self.content_.is_bm25:
            Q = self.text_queries([article])
            if self.reranker_ is not None:
                sources = TextSources(self.title_vectors([article.title]), Q,
                                      self._scored_rows([article]))
        else:  # the text analysed once: its query and its features come from its counts
            counts, lengths = self.vectorizer_.transform_vectors([article])
            Q = self._mlt_queries(counts)
            if self.reranker_ is not None:
                cosine = self.content_.cosine_rows(self.vectorizer_, counts,
                                                   idf_power=self.idf_power, length_prior=0.0)
                sources = TextSources(self.title_vectors([article.title]),
                                      self.query_vectors(cosine),
                                      self.vectorizer_.weigh(counts, lengths),
                                      self._loose(counts))
        k = check_k(k)
        idx, scores = search_rows(self, Q, self.pins_width(k, [None]), request, skip=None,
                                  text_sources=sources)
        ids, scores = self.apply_pins([None], None, self._as_ids(idx, scores), k, request,
                                   exclude)
        keep = np.isfinite(scores[0])
        return ids[0][keep], scores[0][keep]

    def _request(self, n, *, as_of=None, max_age=None, since=None, until=None,
                 categories=None, exclude=()) -> Request:
        """A call's filters, parsed once: times in seconds, categories as a row mask.
        Filters that can only give empty lists are refused (ParameterError)."""
        request = Request(times=times_of(as_of, n, "as_of"),
                          max_age=self.max_age_seconds(max_age),
                          since=None if since is None else to_seconds(since, "since"),
                          until=None if until is None else to_seconds(until, "until"),
                          allowed=self.catalogue_.allowed(categories, exclude),
                          zone=self.window_zone())
        if request.since is not None and request.until is not None \
                and request.since >= request.until:
            raise ParameterError(f"since ({since}) is not before until ({until}): no article "
                                 f"can be published in that window")
        if not self.catalogue_.dated:
            given = [name for name, on in (("max_age", request.max_age is not None),
                                           ("since", request.since is not None),
                                           ("until", request.until is not None),
                                           ("as_of", bool((request.times != UNDATED).any())))
                     if on]
            if given:
                raise ParameterError(f"this model's articles have no date, so a time filter "
                                     f"({', '.join(given)}) would leave every list empty; "
                                     f"leave it out")
        return request

    def default_request(self, n: int) -> Request:
        """The filters of ``n`` queries left at the model's defaults: the lists that the
        neighbour table holds (:func:`~recommender.model.table.table_lists`)."""
        return self._request(n)

    def _table_answers(self, k: int, request: Request) -> bool:
        """Whether the neighbour table holds the answer: default filters, ``k`` within it."""
        table = self.table_
        if table is None or k > table.width:
            return False
        # The table holds the lists of the scoring it was built with: not those of newsroom
        # controls set since (their lists also depend on k), nor of a re-ranker learned since.
        if active(self.controls()) or table.learned != (self.reranker_ is not None):
            return False
        return (request.allowed is None and request.since is None and request.until is None
                and request.max_age == self.max_age_seconds()
                and bool((request.times == UNDATED).all()))

    def _as_ids(self, idx, scores) -> Recommendations:
        ids = np.where(idx >= 0, self.ids_[np.maximum(idx, 0)], "")
        return Recommendations(ids, scores)

    def query_vectors(self, X: sp.csr_matrix) -> sp.csr_matrix:
        """TF-IDF rows ``X`` as the cosine scoring queries them: their ``query_terms``
        strongest terms, L2-normalised (a copy)."""
        return query_vectors(X, self.query_terms)

    def row_queries(self, rows) -> sp.csr_matrix:
        """The queries of the model's ``rows``, one row each: their More Like This terms
        (``scoring="mlt"``), or their TF-IDF rows cut to the strongest terms (cosine). The
        score of a candidate is the dot product of a query with its row of ``matrix_``."""
        self._check_fitted()
        if self.content_.is_bm25:
            return self.content_.query_rows(rows)
        return self.query_vectors(self.content_.matrix_rows(rows))

    def text_queries(self, articles) -> sp.csr_matrix:
        """The queries of articles that need not be in the model (:class:`Article` records
        or dicts), as :meth:`row_queries` gives them for rows."""
        self._check_fitted()
        articles = [self._as_article(a) for a in articles]
        if self.content_.is_bm25:
            return self._mlt_queries(self.vectorizer_.transform_vectors(articles).counts)
        return self.query_vectors(self.vectorizer_.transform(articles))

    def _mlt_queries(self, counts, vectorizer=None) -> sp.csr_matrix:
        """More Like This queries of raw ``counts`` (by the model's vectorizer, or another
        one's settings)."""
        vectorizer = vectorizer or self.vectorizer_
        return mlt_queries(vectorizer.query_weights(counts),
                           vectorizer.settings()["query_terms"])

    def _scored_rows(self, articles) -> sp.csr_matrix:
        """Rows of texts as a cosine model's own rows are scored: the length prior applied
        with the model's mean length."""
        X = self.vectorizer_.transform(articles)
        if not self.length_prior:
            return X
        lengths = self.content_.term_counts()
        mean = lengths[lengths > 0].mean() if (lengths > 0).any() else 1.0
        return apply_length_prior(X, self.length_prior, mean)

    def _loose(self, counts) -> sp.csr_matrix:
        """More Like This queries of ``counts`` with terms said once allowed."""
        return self._mlt_queries(counts, self.vectorizer_.with_settings(min_term_freq=1))

    def title_vectors(self, titles) -> sp.csr_matrix:
        """Unit vectors of titles alone (the model's vectorizer), to compare titles."""
        articles = [Article(id=str(i), title=str(t)) for i, t in enumerate(titles)]
        return l2_normalize(self.vectorizer_.transform(articles))

    def vectorize(self, text) -> sp.csr_matrix:
        """The model's query (1, n_terms) of a text, an Article or a dict (see
        :meth:`text_queries`)."""
        return self.text_queries([text])

    def _as_article(self, text) -> Article:
        """A text (first line: the title), an Article or a dict, as an Article."""
        self._check_fitted()
        if isinstance(text, str):
            title, _, rest = text.strip().partition("\n")
            return Article(id="(text)", title=title, body=rest)
        return as_article(text if not isinstance(text, dict) else {"id": "(text)", **text})

    def candidate_windows(self, as_of=None, *, n=None, max_age=None, since=None,
                          until=None):
        """The row range ``[lo, hi)`` of each query's candidates under the time filters
        (rows are in publication order): two int64 arrays of ``n`` values (``n`` defaults
        to the number of ``as_of`` times). Filters as for :meth:`recommend_batch`."""
        self._check_fitted()
        n = len(as_of) if n is None else n
        request = self._request(n, as_of=as_of, max_age=max_age, since=since, until=until)
        lo, hi = self.catalogue_.windows(request.times, max_age=request.max_age,
                                         since=request.since, until=request.until,
                                         zone=request.zone)
        if lo is None:
            lo, hi = np.zeros(n, np.int64), np.full(n, self.n_articles, np.int64)
        return lo, hi

    def unit_vectors(self) -> sp.csr_matrix:
        """The articles' unit TF-IDF rows (without the length prior), made on first use and
        kept: the plain cosine between two rows is their dot product. Do not modify it."""
        self._check_fitted()
        return self.content_.units()

    def pair_context(self) -> PairContext:
        """What the learned re-ranker reads of the catalogue, made on first use (for a
        live model, the base's part is made once and kept across changes)."""
        if self._pair_context is None:
            if self.live_ is not None:
                self._pair_context = self.live_.pair_context(self.context_of)
            else:
                self._pair_context = self.context_of(self.catalogue_, self.content_)
        return self._pair_context

    def context_of(self, catalogue, content) -> PairContext:
        """The :class:`PairContext` of the rows of ``catalogue`` and ``content`` (this
        model's, or a part of a live model's)."""
        rows = content.cosine_rows(self.vectorizer_, idf_power=self.idf_power,
                                   length_prior=self.length_prior)
        counts = content.counts
        queries = (content.query_rows(np.arange(len(catalogue))) if content.is_bm25
                   else self.query_vectors(content.matrix))
        return PairContext(catalogue.published, catalogue.categories, content.term_counts(),
                           self.title_vectors(catalogue.titles), rows, self.query_vectors(rows),
                           content.matrix, queries,
                           None if counts is None else self._loose(counts))

    def warm_up(self) -> "Recommending":
        """Build now what the first request would otherwise build (the posting lists, the
        id look-up), so that no request pays for it. Returns the model."""
        self._check_fitted()
        self.content_.postings()
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
        return self.explain_vector(self.row_queries(self.rows_of([article_id])[:1]),
                                   recommended_id, n_terms)

    def explain_vector(self, q: sp.csr_matrix, recommended_id: str, n_terms: int = 5):
        """:meth:`explain` for a query (such as ``vectorize(text)``)."""
        n_terms = check_k(n_terms, "n_terms")
        x = self.content_.matrix_rows(self.rows_of([recommended_id])[:1])
        return shared_terms(q, x, self.vectorizer_.words_, n_terms)

    def article_info(self, article_id: str) -> dict:
        """``id``, ``title``, ``category`` and ``published`` (ISO, or None) of an article."""
        return self.catalogue_.info(int(self.rows_of([article_id])[0]))
