"""Evaluation against a site's own related lists, as of the moment each list was shown.

Ground truth is a set of links ``source -> target`` (a corpus with ``related`` fields, or a
TSV of ``source_id, target_id[, rank[, shown_at]]``). For each source the model ranks its
candidates as of ``shown_at`` (only articles published before it; the model's or the
caller's ``max_age`` narrows the pool further), and the metrics of
:mod:`recommender.metrics` are computed over links. Two baselines rank the same pool:
a random order, and the most recent articles of the source's category first.
"""

from __future__ import annotations

import logging

import numpy as np

from . import metrics
from ..errors import CorpusError
from ..model.estimator import ArticleRecommender
from ..times import UNDATED, to_iso
from ..truth import GroundTruth, first_of_each_link, lists_by_source

__all__ = ["evaluate"]

logger = logging.getLogger(__name__)

#: Ranks beyond this count as misses for MRR, as the data README's protocol says.
CUTOFF = 100


def evaluate(model: ArticleRecommender, truth: GroundTruth, *, ks=(2, 5, 10), max_age=None,
             baselines: bool = True, seed: int = 0, details: bool = False) -> dict:
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
    """
    ks = tuple(sorted({metrics._check_positive_int(k, "k") for k in ks}))
    known = np.isin(truth.sources, model.ids_)
    target_known = np.isin(truth.targets, model.ids_)
    keep = known & target_known
    unique = first_of_each_link(truth)
    n_duplicates = int((keep & ~unique).sum())
    keep &= unique
    reranker = getattr(model, "reranker_", None)
    n_learned = 0
    if reranker is not None:
        # A learned model is never scored on the lists it learned from.
        learned = np.isin(truth.sources, reranker.sources_)
        n_learned = int((keep & learned).sum())
        keep &= ~learned
    if not keep.any():
        raise ValueError(
            f"none of the {len(truth):,} ground-truth links has both its source and its "
            f"target in the model ({int((~known).sum()):,} unknown sources, "
            f"{int((known & ~target_known).sum()):,} unknown targets"
            + (f", {n_learned:,} links of lists the model learned from" if reranker else "")
            + "); is it the same corpus?")
    tgt = truth.targets[keep]
    source_ids, link_source, as_of = lists_by_source(truth.sources[keep], truth.shown_at[keep])
    as_of_list = [to_iso(t) for t in as_of]

    lists = model.recommend_batch(source_ids, CUTOFF, as_of=as_of_list, max_age=max_age)
    report = {
        "n_sources": int(len(source_ids)),
        "n_links": int(keep.sum()),
        "missing_targets": int((known & ~target_known).sum()),
        "missing_sources": int((~known).sum()),
        "duplicate_links": n_duplicates,
        "sources_without_time": int((as_of == UNDATED).sum()),
        "max_age": model.max_age_days_ if max_age is None else max_age,
        **_run_scores(model, lists.ids, link_source, tgt, ks),
    }
    if reranker is not None:
        report["learned"] = {**reranker.info_, "links_left_out": n_learned}
        plain = model.content_only().recommend_batch(source_ids, CUTOFF, as_of=as_of_list,
                                                     max_age=max_age)
        report["content_only"] = _run_scores(model, plain.ids, link_source, tgt, ks)
    all_lists = {"model": lists.ids}
    if reranker is not None:
        all_lists["content_only"] = plain.ids
    if baselines:
        pools = _pools(model, source_ids, as_of_list, max_age)
        rng = np.random.default_rng(seed)
        report["baselines"] = {}
        for name, ranker in (("random", _random_order(rng)),
                             ("recent_same_category", _recent_order(model))):
            all_lists[name] = _baseline_lists(model, pools, ranker)
            report["baselines"][name] = _run_scores(model, all_lists[name], link_source,
                                                    tgt, ks)
    if details:
        report["details"] = {
            "source_ids": source_ids, "as_of": as_of_list, "link_source": link_source,
            "targets": tgt, "lists": lists.ids,
            "ranks": {name: _zero_based(metrics.rank_of_targets(ids[link_source], tgt))
                      for name, ids in all_lists.items()},
        }
    return report


def _zero_based(ranks: np.ndarray) -> np.ndarray:
    """1-based ranks with ``inf`` for a miss, as 0-based ints with -1 for a miss."""
    return np.where(np.isinf(ranks), -1, ranks - 1).astype(np.int64)


def model_recommendable(model: ArticleRecommender) -> np.ndarray:
    """Rows that can be recommended: those with at least one term."""
    return np.diff(model.matrix_.indptr) > 0


def _scores(ids, link_source, targets, ks) -> dict:
    ranks = metrics.rank_of_targets(ids[link_source], targets)
    return metrics.summarize(ranks, link_source, ks=ks, cutoff=CUTOFF)


def _run_scores(model, lists, link_source, targets, ks) -> dict:
    """The link metrics of one run's lists, and its catalogue coverage."""
    out = _scores(lists, link_source, targets, ks)
    out["coverage"] = metrics.catalogue_coverage(lists[:, :max(ks)],
                                                 int(model_recommendable(model).sum()))
    return out


def _pools(model, source_ids, as_of_list, max_age):
    """For each source, the row range of its candidates (the model's own windows)."""
    n = len(source_ids)
    lo, hi = model._windows(n, as_of=as_of_list, max_age=max_age, since=None, until=None)
    if lo is None:
        lo, hi = np.zeros(n, np.int64), np.full(n, model.n_articles, np.int64)
    return lo, hi, model.rows_of(list(source_ids))


def _baseline_lists(model, pools, order) -> np.ndarray:
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
