"""Evaluation against a site's own related lists, as of the moment each list was shown.

Ground truth is a set of links ``source -> target`` (a corpus with ``related`` fields, or a
TSV of ``source_id, target_id[, rank[, shown_at]]``). For each source the model ranks its
candidates as of ``shown_at`` (only articles published before it; the model's or the
caller's ``max_age`` narrows the pool further), and the metrics of
:mod:`recommender.evaluate.metrics` are computed over links. Two baselines rank the same
pool: a random order, and the most recent articles of the source's category first.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np

from . import metrics
from .._checks import check_int
from ..errors import CorpusError
from ..model.estimator import ArticleRecommender
from ..times import NO_LIMIT, UNDATED, to_iso
from ..truth import GroundTruth, first_of_each_link, lists_by_source

__all__ = ["BASELINES", "CUTOFF", "baseline_lists", "evaluate", "model_recommendable"]

logger = logging.getLogger(__name__)

#: Ranks beyond this count as misses for MRR, as the data README's protocol says.
CUTOFF = 100
#: The baselines, in the report's order.
BASELINES = ("random", "recent_same_category")


class _Links(NamedTuple):
    """The links that can be scored (``keep``), and the counts of those left out."""

    keep: np.ndarray
    missing_targets: int
    missing_sources: int
    duplicates: int
    learned: int


def evaluate(model: ArticleRecommender, truth: GroundTruth, *, ks=(2, 5, 10), max_age=None,
             baselines: bool = True, seed: int = 0, details: bool = False,
             recommend_ids=None) -> dict:
    """Metrics of ``model`` on ``truth``, with the two baselines on the same pool.

    Returns a dict with ``n_sources``, ``n_links``, ``missing_targets`` (links whose target
    is not in the model, left out and counted), ``missing_sources``, ``duplicate_links``,
    ``sources_without_time`` (sources whose list has no ``shown_at``: ranked against the
    whole catalogue),
    ``recall@K``, ``precision@K``, ``hit_rate@K`` for each K, ``mrr``, ``ndcg@10``,
    ``coverage`` and ``baselines`` (the same keys for ``random`` and
    ``recent_same_category``).

    A learned model (:meth:`~recommender.ArticleRecommender.learn`) is scored only on the
    sources whose lists it did not learn from; the report then adds ``learned`` (what it
    learned from, and ``links_left_out``) and ``content_only`` (the same links ranked by
    the model without its re-ranker).

    With ``details``, ``report["details"]`` holds arrays for a report: ``source_ids``,
    ``as_of`` (ISO times), ``link_source`` and ``targets`` (one per link), ``lists`` (the
    model's lists, one row per source) and ``ranks`` (for each run, the 0-based rank of each
    link's target in its list, -1 when absent).

    ``recommend_ids(model, source_ids, k, as_of=, max_age=)`` gives the ids of the
    model's lists (default: ``model.recommend_batch(…).ids``; on a Dask cluster,
    :func:`recommender.cluster.batch.cluster_lists`, the same arrays).

    Raises :class:`~recommender.errors.CorpusError` when no link has both its source and
    its target in the model.
    """
    recommend_ids = recommend_ids or _recommend_ids
    ks = tuple(sorted({check_int(k, "k") for k in ks}))
    links = _usable_links(model, truth)
    targets = truth.targets[links.keep]
    source_ids, link_source, as_of = lists_by_source(truth.sources[links.keep],
                                                     truth.shown_at[links.keep])
    times = _datetime64(as_of)
    lists = {"model": recommend_ids(model, source_ids, CUTOFF, as_of=times, max_age=max_age)}
    report = {
        "n_sources": int(len(source_ids)),
        "n_links": int(links.keep.sum()),
        "missing_targets": links.missing_targets,
        "missing_sources": links.missing_sources,
        "duplicate_links": links.duplicates,
        "sources_without_time": int((as_of == UNDATED).sum()),
        "max_age": _days_or_none(model.max_age_days_ if max_age is None else max_age),
        **_run_scores(model, lists["model"], link_source, targets, ks),
    }
    if model.reranker_ is not None:
        report["learned"] = {**model.reranker_.info_, "links_left_out": links.learned}
        lists["content_only"] = recommend_ids(model.content_only(), source_ids, CUTOFF,
                                              as_of=times, max_age=max_age)
        report["content_only"] = _run_scores(model, lists["content_only"], link_source,
                                             targets, ks)
    if baselines:
        report["baselines"] = {}
        for name, ids in baseline_lists(model, source_ids, times, max_age=max_age,
                                        seed=seed).items():
            lists[name] = ids
            report["baselines"][name] = _run_scores(model, ids, link_source, targets, ks)
    if details:
        report["details"] = {
            "source_ids": source_ids, "as_of": [to_iso(t) for t in as_of],
            "link_source": link_source, "targets": targets, "lists": lists["model"],
            "ranks": {name: _zero_based(metrics.rank_of_targets(ids[link_source], targets))
                      for name, ids in lists.items()},
        }
    return report


def _recommend_ids(model, source_ids, k, *, as_of, max_age) -> np.ndarray:
    return model.recommend_batch(source_ids, k, as_of=as_of, max_age=max_age).ids


def _usable_links(model: ArticleRecommender, truth: GroundTruth) -> _Links:
    """The links whose source and target the model knows, each once, and, for a learned
    model, not of the lists it learned from; raises CorpusError when none is left."""
    known = np.isin(truth.sources, model.ids_)
    target_known = np.isin(truth.targets, model.ids_)
    keep = known & target_known
    unique = first_of_each_link(truth)
    n_duplicates = int((keep & ~unique).sum())
    keep &= unique
    reranker = model.reranker_
    n_learned = 0
    if reranker is not None:
        # A learned model is never scored on the lists it learned from.
        learned = np.isin(truth.sources, reranker.sources_)
        n_learned = int((keep & learned).sum())
        keep &= ~learned
    missing_targets = int((known & ~target_known).sum())
    missing_sources = int((~known).sum())
    if not keep.any():
        raise CorpusError(
            f"none of the {len(truth):,} ground-truth links has both its source and its "
            f"target in the model ({missing_sources:,} unknown sources, "
            f"{missing_targets:,} unknown targets"
            + (f", {n_learned:,} links of lists the model learned from" if reranker else "")
            + "); is it the same corpus?")
    return _Links(keep, missing_targets, missing_sources, n_duplicates, n_learned)


def _datetime64(seconds: np.ndarray) -> np.ndarray:
    """int64 seconds -> ``datetime64[s]``, NaT where :data:`~recommender.times.UNDATED`."""
    times = seconds.astype("datetime64[s]")
    times[seconds == UNDATED] = np.datetime64("NaT")
    return times


def _zero_based(ranks: np.ndarray) -> np.ndarray:
    """1-based ranks with ``inf`` for a miss, as 0-based ints with -1 for a miss."""
    return np.where(np.isinf(ranks), -1, ranks - 1).astype(np.int64)


def model_recommendable(model: ArticleRecommender) -> np.ndarray:
    """Rows that can be recommended: those with at least one term."""
    return np.diff(model.matrix_.indptr) > 0


def _run_scores(model, lists, link_source, targets, ks) -> dict:
    """The link metrics of one run's lists, and its catalogue coverage."""
    ranks = metrics.rank_of_targets(lists[link_source], targets)
    out = metrics.summarize(ranks, link_source, ks=ks, cutoff=CUTOFF)
    out["coverage"] = metrics.catalogue_coverage(lists[:, :max(ks)],
                                                 int(model_recommendable(model).sum()))
    return out


def baseline_lists(model: ArticleRecommender, source_ids, as_of=None, *, max_age=None,
                   seed: int = 0) -> dict[str, np.ndarray]:
    """The baselines' lists of ``source_ids``: ``{name: (n, CUTOFF) array of ids}``, ""
    padding, for each name of :data:`BASELINES`.

    Each ranks the same pool as the model: the articles of the source's candidate window
    (``as_of`` and ``max_age`` as for :meth:`~recommender.ArticleRecommender.recommend_batch`)
    that can be recommended, the source left out. ``random`` is a random order of the pool
    (the same for a ``seed``); ``recent_same_category`` the newest first, the source's
    category before the others.
    """
    source_ids = list(source_ids)
    lo, hi = model.candidate_windows(as_of, n=len(source_ids), max_age=max_age)
    pools = (lo, hi, model.rows_of(source_ids))
    rng = np.random.default_rng(seed)
    return {"random": _lists_by(model, pools, _random_order(rng)),
            "recent_same_category": _lists_by(model, pools, _recent_order(model))}


def _lists_by(model, pools, order) -> np.ndarray:
    """Each source's list by ``order(pool, source_row)``: the pool holds the rows of its
    window that can be recommended, the source left out, oldest first."""
    lo, hi, rows = pools
    ok = model_recommendable(model)
    out = np.full((len(rows), CUTOFF), "", dtype=model.ids_.dtype)
    for i, (a, z, r) in enumerate(zip(lo, hi, rows)):
        pool = np.arange(a, z)[ok[a:z]]
        pick = order(pool[pool != r], r)[:CUTOFF]
        out[i, :len(pick)] = model.ids_[pick]
    return out


def _random_order(rng):
    return lambda pool, source: rng.choice(pool, size=min(CUTOFF, len(pool)), replace=False)


def _recent_order(model):
    """Newest first, the source's category before the others (rows are in time order)."""
    def order(pool, source):
        pool = pool[::-1]
        same = model.categories_[pool] == model.categories_[source]
        return np.concatenate([pool[same], pool[~same]])
    return order


def _days_or_none(days):
    """A maximum age for the report: days, or None for no limit (JSON has no infinity)."""
    return None if days is None or days == NO_LIMIT else days
