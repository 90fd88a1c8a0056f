"""Learned mode: re-rank the content model's candidates with what a site's own lists teach.

A site already has related lists for its past articles. :class:`LinkReranker` learns from
them which of the content model's candidates the site would have shown: for each source
of the given lists, the model's top ``n_candidates`` as of when the list was shown are
described by pair features (:data:`FEATURES`) and a gradient-boosted classifier
(scikit-learn's ``HistGradientBoostingClassifier``) learns to tell the site's targets from
the rest. Its trees are then kept as plain arrays (:class:`~recommender.model.trees.Trees`),
so a model folder still loads without unpickling anything.

The re-ranker only ever learns from the lists it is given; :func:`recommender.evaluate`
leaves the sources of those lists out when it scores a learned model.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp

from typing import NamedTuple

from threadpoolctl import threadpool_limits

from .._checks import Params, check_jobs, check_number
from ..errors import CorpusError, ParameterError
from ..times import SECONDS_PER_DAY, UNDATED
from .trees import Trees

__all__ = ["FEATURES", "LinkReranker", "PairContext", "TextSources", "Trees",
           "pair_features"]

logger = logging.getLogger(__name__)

#: The pair features, in column order.
FEATURES = (
    "score",            # the content model's score of the candidate
    "rank",             # its rank in the content list (0 = best)
    "score_ratio",      # score / best score of the list
    "candidate_age",    # days from the candidate's publication to the list's time
    "source_age",       # days from the source's publication to the list's time
    "same_category",    # 1 when source and candidate share a category
    "category_share",   # share of the learned links whose target has the candidate's category
    "candidate_terms",  # number of distinct terms of the candidate
    "title_cosine",     # cosine of the two titles alone
    "links",            # log(1 + links the site's lists made to the candidate)
    "cosine_score",     # the cosine scoring's score of the pair (TF-IDF, stop words out)
    "cosine_rank",      # the candidate's rank among the candidates by that score (0 = best)
    "reverse_score",    # the score of the source for the candidate's query
    "loose_score",      # More Like This's score with terms said once allowed in the query
)


class PairContext(NamedTuple):
    """What the pair features read of a model's catalogue (read-only), one value per row."""

    published: np.ndarray    # int64 seconds, UNDATED when unknown
    categories: np.ndarray   # str
    term_counts: np.ndarray  # distinct terms of each article
    titles: sp.csr_matrix    # unit TF-IDF vectors of the titles alone
    cosine_rows: sp.csr_matrix     # the rows as the cosine scoring scores them
    cosine_queries: sp.csr_matrix  # the rows as the cosine scoring queries with them
    rows: sp.csr_matrix            # the rows as the model scores them
    queries: sp.csr_matrix         # the rows as the model queries with them
    loose_queries: sp.csr_matrix | None  # More Like This queries, terms said once allowed


class TextSources(NamedTuple):
    """The vectors of sources that are not rows of the model (``similar``): their unit
    title vectors, their cosine queries, their rows as the model scores rows and their
    loose queries (see :class:`PairContext`), one row each."""

    titles: sp.csr_matrix
    cosine: sp.csr_matrix
    rows: sp.csr_matrix
    loose: sp.csr_matrix | None = None


def pair_features(context: PairContext, source_rows, candidates, scores, as_of, *, links,
                  category_share, text_sources: TextSources | None = None) -> np.ndarray:
    """Features of the pairs ``(source_rows[i], candidates[i, j])``, shape ``(n, N, F)``.

    ``context`` describes the model's rows (:class:`PairContext`).

    ``candidates`` holds model rows (-1 for padding), ``scores`` the content scores,
    ``as_of`` the time of each list (seconds, or the model's ``UNDATED``). ``links`` counts
    the site's links to each model row; ``category_share`` maps a category to the share of
    the links that went to it. ``text_sources`` gives the vectors of sources that are not
    rows of the model (``source_rows[i] == -1``), as from :func:`similar`.
    """
    given = text_sources or TextSources(None, None, None, None)

    n, width = candidates.shape
    valid = candidates >= 0
    rows = np.where(valid, candidates, 0)
    scores = np.where(valid, scores, 0).astype(np.float64)
    out = np.full((n, width, len(FEATURES)), np.nan)
    out[..., 0] = scores
    out[..., 1] = np.arange(width)[None, :]
    best = np.maximum(scores[:, :1], 1e-12)
    out[..., 2] = scores / best
    def published(r):  # only the rows needed: a request must not touch the whole model
        seconds = context.published[r]
        return np.where(seconds == UNDATED, np.nan, seconds.astype(np.float64))

    when = np.where(as_of == UNDATED, np.nan, as_of).astype(np.float64)
    out[..., 3] = (when[:, None] - published(rows)) / SECONDS_PER_DAY
    known = source_rows >= 0
    source_published = np.where(known, published(np.maximum(source_rows, 0)), np.nan)
    out[..., 4] = ((when - source_published) / SECONDS_PER_DAY)[:, None]
    categories = context.categories
    source_category = np.where(known, categories[np.maximum(source_rows, 0)], "")
    out[..., 5] = np.where(known[:, None],
                           categories[rows] == source_category[:, None], np.nan)
    shares = [category_share.get(c, 0.0) for c in categories[rows].ravel().tolist()]
    out[..., 6] = np.array(shares, dtype=np.float64).reshape(rows.shape)
    out[..., 7] = context.term_counts[rows]
    out[..., 8] = _row_dots(_sources(context.titles, source_rows, given.titles),
                            context.titles, rows)
    out[..., 9] = np.log1p(links[rows])
    cosine = _row_dots(_sources(context.cosine_queries, source_rows, given.cosine),
                       context.cosine_rows, rows)
    cosine[~valid] = -np.inf
    out[..., 10] = cosine
    order = np.argsort(-cosine, axis=1, kind="stable")
    np.put_along_axis(out[..., 11], order, np.arange(width, dtype=np.float64)[None, :], 1)
    out[..., 12] = _row_dots(_sources(context.rows, source_rows, given.rows),
                             context.queries, rows)
    if context.loose_queries is not None:
        out[..., 13] = _row_dots(_sources(context.loose_queries, source_rows, given.loose),
                                 context.rows, rows)
    out[~valid] = np.nan
    return out


def _sources(vectors: sp.csr_matrix, source_rows, given) -> sp.csr_matrix:
    """The rows of ``vectors`` of the sources, those not in the model (row -1) taken from
    ``given``, one row each."""
    known = source_rows >= 0
    out = vectors[np.maximum(source_rows, 0)]
    if given is not None and not known.all():
        out = sp.vstack([given[i] if not known[i] else out[i]
                         for i in range(len(source_rows))]).tocsr()
    return out


def _row_dots(A: sp.csr_matrix, B: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """``A[i] . B[rows[i, j]]`` for every ``i, j``, in chunks of bounded memory."""
    n, width = rows.shape
    out = np.zeros((n, width))
    step = max(1, 200_000 // max(width, 1))
    for a in range(0, n, step):
        z = min(n, a + step)
        left = A[np.repeat(np.arange(a, z), width)]
        right = B[rows[a:z].ravel()]
        out[a:z] = np.asarray(left.multiply(right).sum(axis=1)).reshape(z - a, width)
    return out


class LinkReranker(Params):
    """Learns, from a site's own related lists, to re-rank the content model's candidates.

    Parameters
    ----------
    n_candidates : int, default=100
        How many of the content model's best candidates are re-ranked; a learned model's
        lists hold at most that many items.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf, l2_regularization :
        Those of scikit-learn's ``HistGradientBoostingClassifier``.
    max_features : float, default=0.6
        The share of the features each split chooses from (drawn at random per split, as
        scikit-learn's ``max_features``): chosen on the TUNE lists, where it raised
        recall@10 by 0.002 to 0.003 over all features (EVALUATION.md).
    random_state : int, default=0
    features : sequence of str, optional
        The pair features to learn from; leave one out to measure what it brings. Default:
        all of :data:`FEATURES` that have a value for the model (``loose_score`` has none
        for a cosine model, ``source_age`` none for lists without times).

    Attributes
    ----------
    features_ : tuple of str
        The features the trees read, in their column order.
    trees_ : Trees
    links_ : float array, shape (n_articles,)
        Links the learned lists made to each article of the model.
    category_share_ : dict
        Share of the learned links whose target had each category.
    sources_ : ndarray of str
        The source articles whose lists were learned (never to be evaluated on).
    info_ : dict
        ``n_lists``, ``n_links``, ``n_targets_in_candidates``, ``n_candidates``.
    """

    def __init__(self, *, n_candidates=100, max_iter=200, learning_rate=0.05,
                 max_leaf_nodes=31, min_samples_leaf=40, l2_regularization=1.0,
                 max_features=0.6, random_state=0, features=None):
        self.n_candidates = n_candidates
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_features = max_features
        self.random_state = random_state
        self.features = features

    def columns(self) -> list[int]:
        """The columns of :data:`FEATURES` that the trees read (those of ``features_``)."""
        return [FEATURES.index(name) for name in self.features_]

    def fit(self, context: PairContext, candidates, scores, *, source_ids, source_rows,
            as_of, link_source, target_rows, n_jobs=1) -> "LinkReranker":
        """Learn which of the content model's candidates the site's lists chose.

        ``candidates`` and ``scores`` (shape ``(n_sources, n_candidates)``, -1 / -inf
        padded) are the content model's best rows for each source (ids ``source_ids``,
        rows ``source_rows``),
        ranked as of ``as_of`` (seconds, one per source); link ``i`` goes from source
        ``link_source[i]`` to the row ``target_rows[i]``. ``context`` describes the rows
        (:class:`PairContext`). :func:`recommender.model.learned.learn_reranker` prepares
        all of it from a model and the site's lists.
        """
        from sklearn.ensemble import HistGradientBoostingClassifier  # heavy: only to learn

        max_features = check_number(self.max_features, "max_features",
                                    "a share of the features in (0, 1]", low=0, high=1,
                                    low_open=True)
        chosen = FEATURES if self.features is None else tuple(self.features)
        unknown = [name for name in chosen if name not in FEATURES]
        if unknown or not chosen:
            raise ParameterError(f"features must be some of {', '.join(FEATURES)}; got "
                                 f"{list(chosen)}")

        links = np.bincount(target_rows, minlength=len(context.published)).astype(np.float64)
        names, counts = np.unique(context.categories[target_rows], return_counts=True)
        self.category_share_ = {str(c): float(k / len(target_rows))
                                for c, k in zip(names, counts)}
        label = np.zeros(candidates.shape, bool)
        for s, t in zip(link_source, target_rows):
            label[s] |= candidates[s] == t
        features = pair_features(context, source_rows, candidates, scores, as_of, links=links,
                                 category_share=self.category_share_)
        valid = candidates >= 0
        if self.features is None:  # by default, the features this model can compute
            known = ~np.isnan(features[valid]).all(axis=0)
            chosen = tuple(name for name, ok in zip(FEATURES, known) if ok)
        self.features_ = chosen
        # A source's own links are no evidence about its candidates: leave them out.
        features[..., FEATURES.index("links")] = np.log1p(
            np.maximum(links[np.maximum(candidates, 0)] - label, 0))
        X, y = features[valid][:, self.columns()], label[valid]
        if y.sum() == 0:
            raise CorpusError(
                f"none of the {len(target_rows):,} learned links has its target among the "
                f"{self.n_candidates} candidates of its source; check that the lists come "
                f"from this corpus and raise n_candidates")
        clf = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=self.learning_rate,
            max_leaf_nodes=self.max_leaf_nodes, min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization, max_features=max_features,
            random_state=self.random_state, early_stopping=False)
        # scikit-learn's OpenMP threads spin while they wait: on a busy machine more threads
        # than the model's n_jobs made this fit seven times slower.
        with threadpool_limits(limits=check_jobs(n_jobs), user_api="openmp"):
            clf.fit(X, y)
        self.trees_ = Trees.from_classifier(clf)
        self.links_ = links
        self.sources_ = np.unique(source_ids)
        self.info_ = {"n_lists": int(len(self.sources_)), "n_links": int(len(target_rows)),
                      "n_targets_in_candidates": int(y.sum()),
                      "n_candidates": int(self.n_candidates)}
        logger.info("learned from %d lists (%d links, %d targets among the candidates)",
                    self.info_["n_lists"], self.info_["n_links"], int(y.sum()))
        return self

    def rerank(self, context: PairContext, source_rows, candidates, scores, as_of,
               text_sources: TextSources | None = None):
        """Candidates re-ordered by the learned probability; returns ``(rows, probabilities)``
        of the same shape, -1 / -inf padding last."""
        features = pair_features(context, source_rows, candidates, scores, as_of,
                                 links=self.links_, category_share=self.category_share_,
                                 text_sources=text_sources)
        valid = candidates >= 0
        raw = np.full(candidates.shape, -np.inf)
        raw[valid] = self.trees_.decision_function(features[valid][:, self.columns()])
        probability = np.where(valid, 1 / (1 + np.exp(-raw)), -np.inf).astype(np.float32)
        order = np.lexsort((candidates, -probability), axis=1)
        return (np.take_along_axis(candidates, order, 1),
                np.take_along_axis(probability, order, 1))
