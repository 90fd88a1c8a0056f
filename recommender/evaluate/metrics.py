"""Ranking metrics for the related-article recommender, computed over links.

A *link* is one ground-truth pair (source article -> target article). The
recommender produces a ranked list for each source; each link is summarised by
the 1-based ``rank`` of its target in that list, or ``np.inf`` when the target
is absent ("not found"). There is one convention only: a miss is ``np.inf``,
never 0; a rank must otherwise be a whole number >= 1.

Per-link metrics (recall, MRR) average over links; per-source metrics
(precision, hit rate, nDCG) first group links by their ``sources`` value, then
average over the distinct sources.

All metric functions are pure, take numpy-compatible arrays and return Python
floats.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._checks import check_int
from ..errors import ParameterError

__all__ = [
    "rank_of_targets",
    "recall_at_k",
    "precision_at_k",
    "hit_rate_at_k",
    "mean_reciprocal_rank",
    "ndcg_at_k",
    "catalogue_coverage",
    "summarize",
    "recall_curve",
    "mrr_curve",
]


# --------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------


def _as_ranks(ranks) -> np.ndarray:
    """Validate ranks and return them as a float array of shape (n_links,).

    Each rank must be a whole number >= 1, or ``np.inf`` for "not found".
    """
    r = np.asarray(ranks)
    if r.dtype.kind not in "iuf":
        raise ParameterError(f"ranks must be a numeric array, got dtype {r.dtype}")
    if r.ndim != 1:
        raise ParameterError(f"ranks must have shape (n_links,), got shape {r.shape}")
    if r.size == 0:
        raise ParameterError("no links to evaluate")
    r = r.astype(float)
    finite = np.isfinite(r)
    ok = np.where(finite, (r >= 1) & (r == np.floor(r)), r == np.inf)
    if not ok.all():
        pos = int(np.argmin(ok))
        raise ParameterError(
            "ranks must be whole numbers >= 1, or np.inf for 'not found', "
            f"got {r[pos]:g} at position {pos}"
        )
    return r


def _group(ranks, sources) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate ranks and sources together.

    Returns ``(ranks, group, values)``: ranks as float (n_links,), ``group``
    the int (n_links,) index of each link's source in ``values``, the sorted
    distinct source ids (n_sources,).
    """
    r = _as_ranks(ranks)
    s = np.asarray(sources)
    if s.ndim != 1 or s.shape[0] != r.shape[0]:
        raise ParameterError(
            f"sources must have shape (n_links,) = ({r.shape[0]},) like ranks, got shape {s.shape}"
        )
    values, group = np.unique(s, return_inverse=True)
    return r, group.reshape(-1), values


def _check_distinct_ranks(ranks: np.ndarray, group: np.ndarray, values: np.ndarray) -> None:
    """Raise if one source has two links at the same finite rank.

    A recommendation slot holds one article, so such a tie can only come from a
    duplicated link; it would push precision or nDCG above 1.
    """
    finite = np.isfinite(ranks)
    g, r = group[finite], ranks[finite]
    order = np.lexsort((r, g))
    g, r = g[order], r[order]
    dup = (g[1:] == g[:-1]) & (r[1:] == r[:-1])
    if dup.any():
        i = int(np.argmax(dup))
        raise ParameterError(
            "each source's links must have distinct ranks (duplicate link?), "
            f"got two links at rank {r[i]:g} for source {values[g[i]].item()!r}"
        )


def _padding_mask(ids: np.ndarray) -> np.ndarray:
    """Boolean mask, same shape as ``ids``, True where the entry is padding.

    Padding is -1 for numeric ids, "" for string ids, and any of -1, "", None
    for object arrays.
    """
    kind = ids.dtype.kind
    if kind in "iuf":
        return ids == -1
    if kind == "U":
        return ids == ""
    if kind == "S":
        return ids == b""
    if kind == "O":
        flat = ids.reshape(-1)
        pad = [x is None or (isinstance(x, str) and x == "") or
               (isinstance(x, numbers.Number) and x == -1) for x in flat]
        return np.array(pad, dtype=bool).reshape(ids.shape)
    raise ParameterError(f"ids must be integers or strings, got dtype {ids.dtype}")


# --------------------------------------------------------------------------
# ranks from recommendation lists
# --------------------------------------------------------------------------


def rank_of_targets(recommended, targets) -> np.ndarray:
    """1-based position of each link's target in its source's recommendation list.

    Parameters
    ----------
    recommended : array of shape (n_links, L)
        Row i is the recommendation list of link i's source (repeated for each
        link of that source), padded with -1 (numeric ids) or "" (string ids).
    targets : array of shape (n_links,)
        The target id of each link.

    Returns
    -------
    ranks : float array of shape (n_links,)
        Position (1..L) of the first occurrence of ``targets[i]`` in
        ``recommended[i]``, or ``np.inf`` when absent. Padding never matches.
    """
    rec = np.asarray(recommended)
    tgt = np.asarray(targets)
    if tgt.ndim != 1:
        raise ParameterError(f"targets must have shape (n_links,), got shape {tgt.shape}")
    if rec.ndim != 2 or rec.shape[0] != tgt.shape[0]:
        raise ParameterError(
            f"recommended must have shape (n_links, L) = ({tgt.shape[0]}, L), got shape {rec.shape}"
        )
    if tgt.size == 0:
        raise ParameterError("no links to evaluate")
    text = ("U", "S")
    numeric = tuple("iuf")
    if (rec.dtype.kind in text and tgt.dtype.kind in numeric) or (
        rec.dtype.kind in numeric and tgt.dtype.kind in text
    ):
        raise ParameterError(
            "recommended and targets must hold the same kind of ids, "
            f"got dtypes {rec.dtype} and {tgt.dtype}"
        )
    match = (rec == tgt[:, None]) & ~_padding_mask(rec)
    found = match.any(axis=1)
    position = np.argmax(match, axis=1) + 1
    return np.where(found, position, np.inf).astype(float)


# --------------------------------------------------------------------------
# metrics over links
# --------------------------------------------------------------------------


def recall_at_k(ranks, k: int) -> float:
    """Share of links whose target is ranked within the top ``k``.

    ``ranks``: (n_links,) 1-based ranks, ``np.inf`` for misses.
    """
    k = check_int(k, "k")
    r = _as_ranks(ranks)
    return float(np.mean(r <= k))


def precision_at_k(ranks, sources, k: int) -> float:
    """Mean over sources of (that source's links ranked <= k) / k.

    ``ranks``: (n_links,) 1-based ranks, ``np.inf`` for misses.
    ``sources``: (n_links,) source id of each link; links are grouped by value.
    Ranks within one source must be distinct (a slot holds one article).
    """
    k = check_int(k, "k")
    r, group, values = _group(ranks, sources)
    _check_distinct_ranks(r, group, values)
    n_sources = len(values)
    hits = np.bincount(group, weights=(r <= k), minlength=n_sources)
    return float(np.mean(hits / k))


def hit_rate_at_k(ranks, sources, k: int) -> float:
    """Share of sources with at least one link ranked <= k.

    ``ranks``: (n_links,) 1-based ranks, ``np.inf`` for misses.
    ``sources``: (n_links,) source id of each link; links are grouped by value.
    """
    k = check_int(k, "k")
    r, group, values = _group(ranks, sources)
    n_sources = len(values)
    hits = np.bincount(group, weights=(r <= k), minlength=n_sources)
    return float(np.mean(hits > 0))


def mean_reciprocal_rank(ranks, cutoff: int = 100) -> float:
    """Mean over links of 1/rank, where a rank > ``cutoff`` (or a miss) counts 0.

    ``ranks``: (n_links,) 1-based ranks, ``np.inf`` for misses. A rank equal to
    ``cutoff`` still counts.
    """
    cutoff = check_int(cutoff, "cutoff")
    r = _as_ranks(ranks)
    return float(np.mean(np.where(r <= cutoff, 1.0 / r, 0.0)))


def ndcg_at_k(ranks, sources, k: int) -> float:
    """Mean over sources of DCG@k / IDCG@k with binary gains.

    For one source with n links: DCG@k = sum over its links with rank <= k of
    1 / log2(rank + 1); IDCG@k = sum_{i=1..min(n, k)} 1 / log2(i + 1).

    ``ranks``: (n_links,) 1-based ranks, ``np.inf`` for misses.
    ``sources``: (n_links,) source id of each link; links are grouped by value.
    Ranks within one source must be distinct (a slot holds one article).
    """
    k = check_int(k, "k")
    r, group, values = _group(ranks, sources)
    _check_distinct_ranks(r, group, values)
    n_sources = len(values)
    gains = np.zeros_like(r)
    top = r <= k
    gains[top] = 1.0 / np.log2(r[top] + 1.0)
    dcg = np.bincount(group, weights=gains, minlength=n_sources)
    n_links = np.bincount(group, minlength=n_sources)  # >= 1 for every source
    ideal = np.cumsum(1.0 / np.log2(np.arange(1, k + 1) + 1.0))  # (k,): IDCG for 1..k links
    idcg = ideal[np.minimum(n_links, k) - 1]
    return float(np.mean(dcg / idcg))


def catalogue_coverage(recommended_ids, n_catalogue: int) -> float:
    """Share of the catalogue recommended at least once.

    ``recommended_ids``: array of ids of any shape (e.g. (n_sources, L)),
    padded with -1 (numeric ids) or "" (string ids); padding is ignored.
    ``n_catalogue``: number of articles in the catalogue, > 0.
    """
    n_catalogue = check_int(n_catalogue, "n_catalogue")
    ids = np.asarray(recommended_ids)
    if ids.size == 0:
        raise ParameterError("no recommendations to evaluate: recommended_ids is empty")
    kept = ids[~_padding_mask(ids)]
    n_distinct = len(set(kept.tolist()))
    if n_distinct > n_catalogue:
        raise ParameterError(
            f"recommended_ids holds {n_distinct} distinct ids, "
            f"more than n_catalogue = {n_catalogue}"
        )
    return n_distinct / n_catalogue


def _hits_by_rank(ranks, max_k: int) -> tuple[np.ndarray, int]:
    """``(hits, n_links)``: ``hits[k - 1]`` is the number of links at rank k, for k = 1..max_k."""
    max_k = check_int(max_k, "max_k")
    r = _as_ranks(ranks)
    top = r[r <= max_k].astype(np.int64)
    return np.bincount(top, minlength=max_k + 1)[1:].astype(float), len(r)


def recall_curve(ranks, max_k: int) -> np.ndarray:
    """``recall_at_k(ranks, k)`` for every k = 1..max_k, in one pass.

    ``ranks``: (n_links,) 1-based ranks, ``np.inf`` for misses.
    Returns a float array of shape (max_k,); entry ``k - 1`` is recall@k.
    """
    hits, n = _hits_by_rank(ranks, max_k)
    return np.cumsum(hits) / n


def mrr_curve(ranks, max_k: int) -> np.ndarray:
    """``mean_reciprocal_rank(ranks, cutoff=k)`` for every k = 1..max_k, in one pass.

    ``ranks``: (n_links,) 1-based ranks, ``np.inf`` for misses; a rank beyond k counts 0.
    Returns a float array of shape (max_k,); entry ``k - 1`` is MRR@k.
    """
    hits, n = _hits_by_rank(ranks, max_k)
    return np.cumsum(hits / np.arange(1, len(hits) + 1)) / n


def summarize(ranks, sources, ks=(2, 5, 10), cutoff: int = 100) -> dict[str, float]:
    """All link metrics in one dict.

    Keys, in order: "recall@k" for each k in ``ks``, then "precision@k", then
    "hit_rate@k", then "mrr" (with ``cutoff``) and "ndcg@10".
    ``ranks`` and ``sources``: (n_links,) as in the individual metrics.
    """
    ks = tuple(ks)
    if not ks:
        raise ParameterError("ks must hold at least one k, got an empty sequence")
    out: dict[str, float] = {}
    for k in ks:
        out[f"recall@{k}"] = recall_at_k(ranks, k)
    for k in ks:
        out[f"precision@{k}"] = precision_at_k(ranks, sources, k)
    for k in ks:
        out[f"hit_rate@{k}"] = hit_rate_at_k(ranks, sources, k)
    out["mrr"] = mean_reciprocal_rank(ranks, cutoff)
    out["ndcg@10"] = ndcg_at_k(ranks, sources, 10)
    return out
