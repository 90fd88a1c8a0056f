"""Tests for recommender.evaluate.metrics: hand-computed oracles, edge cases, errors."""

import math

import numpy as np
import pytest
from sklearn.metrics import ndcg_score

from recommender.errors import ParameterError
from recommender.evaluate.metrics import (
    catalogue_coverage,
    hit_rate_at_k,
    mean_reciprocal_rank,
    ndcg_at_k,
    mrr_curve,
    precision_at_k,
    rank_of_targets,
    recall_at_k,
    recall_curve,
    summarize,
)

INF = np.inf

# Running example: 4 links from 3 sources.
#   link 0: source 0, rank 1
#   link 1: source 0, rank 3
#   link 2: source 1, miss
#   link 3: source 2, rank 12
RANKS = np.array([1, 3, INF, 12])
SOURCES = np.array([0, 0, 1, 2])


# ---------------------------------------------------------------- recall


def test_recall_hand_computed():
    # ranks <= 2: {1}            -> 1/4
    assert recall_at_k(RANKS, 2) == 0.25
    # ranks <= 5: {1, 3}         -> 2/4
    assert recall_at_k(RANKS, 5) == 0.5
    # ranks <= 12: {1, 3, 12}    -> 3/4 (rank == k counts)
    assert recall_at_k(RANKS, 12) == 0.75
    assert recall_at_k(RANKS, 11) == 0.5
    assert recall_at_k(RANKS, np.int64(2)) == 0.25  # a numpy integer is a k


def test_recall_accepts_int_lists_and_returns_float():
    value = recall_at_k([1, 2, 7], 2)  # 2/3
    assert isinstance(value, float) and value == pytest.approx(2 / 3)


# ---------------------------------------------------------------- precision


def test_precision_hand_computed():
    # k=2: source 0 has 1 link <= 2 -> 1/2; sources 1, 2 -> 0.  mean = (1/2)/3
    assert precision_at_k(RANKS, SOURCES, 2) == pytest.approx(1 / 6)
    # k=5: source 0 has 2 links <= 5 -> 2/5; others 0.         mean = (2/5)/3
    assert precision_at_k(RANKS, SOURCES, 5) == pytest.approx(2 / 15)
    # k=12: source 0 -> 2/12, source 1 -> 0, source 2 -> 1/12. mean = (3/12)/3
    assert precision_at_k(RANKS, SOURCES, 12) == pytest.approx(1 / 12)


def test_precision_groups_by_source_value_not_position():
    # Sources need not be 0..n-1 nor contiguous; same example with other labels.
    sources = np.array([42, 42, -7, 1000])
    assert precision_at_k(RANKS, sources, 2) == pytest.approx(1 / 6)
    shuffled = np.array([3, 2, 0, 1])
    assert precision_at_k(RANKS[shuffled], sources[shuffled], 2) == pytest.approx(1 / 6)
    assert precision_at_k(RANKS, np.array(["a", "a", "b", "c"]), 2) == pytest.approx(1 / 6)


# ---------------------------------------------------------------- hit rate


def test_hit_rate_hand_computed():
    # k=2: only source 0 has a link <= 2                 -> 1/3
    assert hit_rate_at_k(RANKS, SOURCES, 2) == pytest.approx(1 / 3)
    # k=12: sources 0 and 2 have a link <= 12            -> 2/3
    assert hit_rate_at_k(RANKS, SOURCES, 12) == pytest.approx(2 / 3)
    # a source with two hits still counts once: k=3      -> 1/3
    assert hit_rate_at_k(RANKS, SOURCES, 3) == pytest.approx(1 / 3)


# ---------------------------------------------------------------- MRR


def test_mrr_hand_computed():
    # cutoff 10: (1 + 1/3 + 0 + 0) / 4 = (4/3)/4 = 1/3   (rank 12 > 10 counts 0)
    assert mean_reciprocal_rank(RANKS, cutoff=10) == pytest.approx(1 / 3)
    # cutoff 100 (default): (1 + 1/3 + 0 + 1/12) / 4 = (17/12)/4 = 17/48
    assert mean_reciprocal_rank(RANKS) == pytest.approx(17 / 48)


def test_mrr_cutoff_boundary():
    # rank == cutoff counts, cutoff + 1 does not: (1/10 + 0) / 2 = 0.05
    assert mean_reciprocal_rank([10, 11], cutoff=10) == pytest.approx(0.05)
    assert mean_reciprocal_rank([11], cutoff=10) == 0.0
    assert mean_reciprocal_rank([10], cutoff=10) == pytest.approx(0.1)


# ---------------------------------------------------------------- nDCG


def test_ndcg_hand_computed():
    log2_3 = math.log2(3)
    # k=2:
    #   source 0 (2 links, ranks 1, 3): DCG = 1/log2(2) = 1 (rank 3 > k)
    #                                   IDCG = 1 + 1/log2(3)
    #   source 1 (miss), source 2 (rank 12 > k): 0
    expected = (1 / (1 + 1 / log2_3)) / 3
    assert ndcg_at_k(RANKS, SOURCES, 2) == pytest.approx(expected)
    # k=10:
    #   source 0: DCG = 1 + 1/log2(4) = 1.5, IDCG = 1 + 1/log2(3)
    #   source 2: rank 12 > 10 -> 0
    expected = (1.5 / (1 + 1 / log2_3)) / 3
    assert ndcg_at_k(RANKS, SOURCES, 10) == pytest.approx(expected)


def test_ndcg_source_with_more_links_than_k():
    # One source with 4 links, k=2: IDCG uses min(4, 2) = 2 ideal slots.
    # ranks 1, 2 fill both slots: DCG = IDCG = 1 + 1/log2(3) -> 1.0
    assert ndcg_at_k([1, 2, 5, INF], [0, 0, 0, 0], 2) == pytest.approx(1.0)
    # ranks 2, 3, 4 with k=2: DCG = 1/log2(3), IDCG = 1 + 1/log2(3)
    expected = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k([2, 3, 4], [0, 0, 0], 2) == pytest.approx(expected)


def test_ndcg_single_link_sources():
    # One link per source: IDCG = 1, so nDCG = mean of 1/log2(rank+1) within k.
    # ranks 1, 3, 7 with k=3: (1 + 1/log2(4) + 0) / 3 = 1.5/3 = 0.5
    assert ndcg_at_k([1, 3, 7], [0, 1, 2], 3) == pytest.approx(0.5)


def test_ndcg_matches_sklearn_on_random_sources():
    # Exact construction: per source, a row of W items. Columns 0..M-1 are the
    # recommended list (scores M..1, strictly decreasing), the found targets
    # are relevant (1) at column rank-1. Missed targets are relevant items
    # placed after the list with distinct negative scores, so they sit beyond
    # rank M >= k and add nothing to DCG@k -- like np.inf here -- but still
    # count in sklearn's IDCG. No ties anywhere, so sklearn's tie handling
    # plays no role.
    rng = np.random.default_rng(0)
    M, max_links, n_sources = 15, 6, 40
    W = M + max_links
    scores_row = np.concatenate([np.arange(M, 0, -1), -np.arange(1, max_links + 1)]).astype(float)
    y_true = np.zeros((n_sources, W))
    y_score = np.tile(scores_row, (n_sources, 1))
    ranks, sources = [], []
    for s in range(n_sources):
        n = rng.integers(1, max_links + 1)
        n_found = rng.integers(0, n + 1)
        found = rng.choice(M, size=n_found, replace=False) + 1
        y_true[s, found - 1] = 1
        y_true[s, M : M + n - n_found] = 1
        ranks += list(found) + [INF] * (n - n_found)
        sources += [s] * n
    ranks, sources = np.array(ranks, dtype=float), np.array(sources)
    order = rng.permutation(len(ranks))  # link order must not matter
    for k in (1, 2, 5, 10, M):
        expected = ndcg_score(y_true, y_score, k=k)
        assert ndcg_at_k(ranks[order], sources[order], k) == pytest.approx(expected, rel=1e-12)


# ---------------------------------------------------------------- edge cases


def test_all_misses_give_zero():
    ranks = [INF, INF, INF]
    sources = [0, 0, 1]
    assert recall_at_k(ranks, 10) == 0.0
    assert precision_at_k(ranks, sources, 10) == 0.0
    assert hit_rate_at_k(ranks, sources, 10) == 0.0
    assert mean_reciprocal_rank(ranks) == 0.0
    assert ndcg_at_k(ranks, sources, 10) == 0.0


def test_ranks_all_beyond_k_give_zero():
    ranks, sources = [11, 20], [0, 1]
    assert recall_at_k(ranks, 10) == 0.0
    assert precision_at_k(ranks, sources, 10) == 0.0
    assert hit_rate_at_k(ranks, sources, 10) == 0.0
    assert ndcg_at_k(ranks, sources, 10) == 0.0


def test_equal_ranks_across_sources():
    # Four sources, one link each, ranks 1, 1, 2, 2; k=1.
    ranks, sources = [1, 1, 2, 2], [0, 1, 2, 3]
    assert recall_at_k(ranks, 1) == 0.5  # 2/4
    assert precision_at_k(ranks, sources, 1) == 0.5  # (1 + 1 + 0 + 0)/4
    assert hit_rate_at_k(ranks, sources, 1) == 0.5  # 2/4
    assert ndcg_at_k(ranks, sources, 1) == 0.5  # (1 + 1 + 0 + 0)/4
    assert mean_reciprocal_rank(ranks) == 0.75  # (1 + 1 + 1/2 + 1/2)/4


def test_equal_ranks_within_a_source():
    # Two links of source 0 at rank 1 can only be a duplicated link.
    # Per-link metrics and hit rate stay well defined ...
    ranks, sources = [1, 1, INF], [0, 0, 1]
    assert recall_at_k(ranks, 1) == pytest.approx(2 / 3)
    assert hit_rate_at_k(ranks, sources, 1) == 0.5
    assert mean_reciprocal_rank(ranks) == pytest.approx(2 / 3)
    # ... but precision and nDCG would exceed 1, so they refuse.
    with pytest.raises(ValueError, match=r"distinct ranks .* got two links at rank 1 for source 0"):
        precision_at_k(ranks, sources, 1)
    with pytest.raises(ValueError, match=r"distinct ranks .* got two links at rank 1 for source 0"):
        ndcg_at_k(ranks, sources, 2)
    # Several misses in one source are not a tie.
    assert ndcg_at_k([1, INF, INF], [0, 0, 0], 1) == 1.0


# ---------------------------------------------------------------- rank_of_targets


def test_rank_of_targets_int_ids():
    recommended = np.array(
        [
            [10, 20, 30, -1],
            [10, 20, 30, -1],
            [5, -1, -1, -1],
            [7, 8, 7, -1],
        ]
    )
    targets = np.array([30, 99, 5, 7])
    # 30 at position 3; 99 absent; 5 at position 1; 7 first at position 1
    np.testing.assert_array_equal(rank_of_targets(recommended, targets), [3, INF, 1, 1])


def test_rank_of_targets_string_ids_and_padding_never_matches():
    recommended = np.array([["a", "b", ""], ["a", "b", ""], ["c", "", ""]])
    targets = np.array(["b", "", "z"])
    np.testing.assert_array_equal(rank_of_targets(recommended, targets), [2, INF, INF])
    np.testing.assert_array_equal(rank_of_targets([[1, -1]], [-1]), [INF])


def test_rank_of_targets_feeds_metrics():
    recommended = np.array([[3, 1, 4, 1, 5]] * 2 + [[9, 2, 6, -1, -1]])
    targets = np.array([4, 8, 6])
    ranks = rank_of_targets(recommended, targets)  # [3, inf, 3]
    assert ranks.dtype == float
    assert recall_at_k(ranks, 3) == pytest.approx(2 / 3)


# ---------------------------------------------------------------- coverage


def test_catalogue_coverage():
    # distinct non-padding ids {0, 1, 2} out of 10
    assert catalogue_coverage(np.array([[0, 1, -1], [1, 2, -1]]), 10) == pytest.approx(0.3)
    # strings, "" ignored: {"a", "b"} out of 4
    assert catalogue_coverage([["a", "b", ""], ["b", "", ""]], 4) == 0.5
    # object arrays: None, "" and -1 are padding: {"x"} out of 2
    assert catalogue_coverage(np.array(["x", None, "", -1], dtype=object), 2) == 0.5
    # only padding -> 0
    assert catalogue_coverage([[-1, -1]], 3) == 0.0
    # full catalogue
    assert catalogue_coverage([2, 0, 1, 0], 3) == 1.0


# ---------------------------------------------------------------- summarize


def test_summarize_keys_and_values():
    out = summarize(RANKS, SOURCES)
    assert list(out) == ["recall@2", "recall@5", "recall@10", "precision@2", "precision@5",
                         "precision@10", "hit_rate@2", "hit_rate@5", "hit_rate@10", "mrr",
                         "ndcg@10"]
    assert out["recall@2"] == 0.25
    assert out["precision@5"] == pytest.approx(2 / 15)
    assert out["hit_rate@10"] == pytest.approx(1 / 3)
    assert out["mrr"] == pytest.approx(17 / 48)
    # source 0: ranks 1 and 3 of two links; sources 1 and 2: nothing within 10
    assert out["ndcg@10"] == pytest.approx((1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3)) / 3)
    assert all(isinstance(v, float) for v in out.values())
    out = summarize(RANKS, SOURCES, ks=(1,), cutoff=10)
    assert list(out) == ["recall@1", "precision@1", "hit_rate@1", "mrr", "ndcg@10"]
    assert out["mrr"] == pytest.approx(1 / 3)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("bad_k, shown", [(0, "0"), (-3, "-3"), (True, "True"), (2.0, "2.0"),
                                          ("5", "'5'"), (np.int64(0), "0")])
def test_k_must_be_positive_int(bad_k, shown):
    message = rf"^k must be a positive integer, got {shown}$"
    for call in (lambda: recall_at_k(RANKS, bad_k), lambda: precision_at_k(RANKS, SOURCES, bad_k),
                 lambda: hit_rate_at_k(RANKS, SOURCES, bad_k),
                 lambda: ndcg_at_k(RANKS, SOURCES, bad_k),
                 lambda: summarize(RANKS, SOURCES, ks=(2, bad_k))):
        with pytest.raises(ParameterError, match=message):
            call()


def test_cutoff_must_be_positive_int():
    with pytest.raises(ValueError, match=r"cutoff must be a positive integer, got 0$"):
        mean_reciprocal_rank(RANKS, cutoff=0)
    with pytest.raises(ValueError, match=r"cutoff must be a positive integer, got False$"):
        summarize(RANKS, SOURCES, cutoff=False)


@pytest.mark.parametrize("bad_ranks, shown, position", [
    ([1, 0, 3], "0", 1), ([2, 5, -1], "-1", 2), ([2.5, 1], "2.5", 0),
    ([1, 2, np.nan], "nan", 2), ([1, -np.inf], "-inf", 1)])
def test_bad_rank_values_name_value_and_position(bad_ranks, shown, position):
    message = (rf"ranks must be whole numbers >= 1, or np.inf for 'not found', got {shown} "
               rf"at position {position}$")
    for call in (lambda: recall_at_k(bad_ranks, 2), lambda: mean_reciprocal_rank(bad_ranks),
                 lambda: ndcg_at_k(bad_ranks, [0] * len(bad_ranks), 2)):
        with pytest.raises(ParameterError, match=message):
            call()


def test_empty_input():
    for call in (lambda: recall_at_k([], 2), lambda: precision_at_k([], [], 2),
                 lambda: hit_rate_at_k([], [], 2), lambda: mean_reciprocal_rank([]),
                 lambda: ndcg_at_k(np.array([]), np.array([], dtype=int), 2),
                 lambda: summarize([], []),
                 lambda: rank_of_targets(np.empty((0, 5), dtype=int), np.empty(0, dtype=int))):
        with pytest.raises(ParameterError, match="no links to evaluate"):
            call()


def test_shape_errors():
    with pytest.raises(ValueError, match=r"sources must have shape \(n_links,\) = \(4,\) like ranks, got shape \(3,\)"):
        precision_at_k(RANKS, [0, 0, 1], 2)
    with pytest.raises(ValueError, match=r"sources must have shape \(n_links,\) = \(4,\) like ranks, got shape \(4, 1\)"):
        ndcg_at_k(RANKS, SOURCES[:, None], 2)
    with pytest.raises(ValueError, match=r"ranks must have shape \(n_links,\), got shape \(2, 2\)"):
        recall_at_k([[1, 2], [3, 4]], 2)
    with pytest.raises(ValueError, match=r"ranks must be a numeric array, got dtype <U1"):
        recall_at_k(["1", "2"], 2)
    with pytest.raises(ValueError, match=r"ranks must be a numeric array, got dtype bool"):
        recall_at_k([True, False], 2)


def test_rank_of_targets_errors():
    with pytest.raises(ValueError, match=r"recommended must have shape \(n_links, L\) = \(2, L\), got shape \(3, 4\)"):
        rank_of_targets(np.zeros((3, 4), dtype=int), [1, 2])
    with pytest.raises(ValueError, match=r"recommended must have shape \(n_links, L\) = \(2, L\), got shape \(2,\)"):
        rank_of_targets([1, 2], [1, 2])
    with pytest.raises(ValueError, match=r"targets must have shape \(n_links,\), got shape \(2, 1\)"):
        rank_of_targets([[1], [2]], [[1], [2]])
    with pytest.raises(ValueError, match=r"same kind of ids, got dtypes <U1 and int64"):
        rank_of_targets([["a", "b"]], np.array([1], dtype=np.int64))


def test_catalogue_coverage_errors():
    with pytest.raises(ValueError, match=r"n_catalogue must be a positive integer, got 0$"):
        catalogue_coverage([1, 2], 0)
    with pytest.raises(ValueError, match=r"n_catalogue must be a positive integer, got True$"):
        catalogue_coverage([1, 2], True)
    with pytest.raises(ValueError, match="no recommendations to evaluate: recommended_ids is empty"):
        catalogue_coverage(np.empty((0, 5), dtype=int), 10)
    with pytest.raises(ValueError, match=r"recommended_ids holds 3 distinct ids, more than n_catalogue = 2"):
        catalogue_coverage([[0, 1], [2, -1]], 2)


def test_summarize_needs_ks():
    with pytest.raises(ValueError, match="ks must hold at least one k, got an empty sequence"):
        summarize(RANKS, SOURCES, ks=())


# ---------------------------------------------------------------- curves over k


def test_recall_curve_hand_computed():
    # RANKS = 1, 3, miss, 12: k=1 -> 1/4, k=2 -> 1/4, k=3..11 -> 2/4, k=12 -> 3/4
    curve = recall_curve(RANKS, 12)
    assert curve.shape == (12,)
    assert curve.tolist() == [0.25, 0.25] + [0.5] * 9 + [0.75]


def test_mrr_curve_hand_computed():
    # k=1,2: 1/4; k=3..11: (1 + 1/3)/4; k=12: (1 + 1/3 + 1/12)/4
    curve = mrr_curve(RANKS, 12)
    assert curve.shape == (12,)
    assert curve[:2] == pytest.approx([0.25, 0.25])
    assert curve[2:11] == pytest.approx([(1 + 1 / 3) / 4] * 9)
    assert curve[11] == pytest.approx((1 + 1 / 3 + 1 / 12) / 4)


def test_curves_equal_the_single_metrics():
    ranks = np.array([1, 2, 2, 5, 7, 20, 21, 99, 100, 101, INF, INF, 3])
    recall, mrr = recall_curve(ranks, 100), mrr_curve(ranks, 100)
    for k in range(1, 101):
        assert recall[k - 1] == pytest.approx(recall_at_k(ranks, k))
        assert mrr[k - 1] == pytest.approx(mean_reciprocal_rank(ranks, cutoff=k))


def test_curves_check_their_input():
    with pytest.raises(ValueError, match="max_k must be a positive integer, got 0"):
        recall_curve(RANKS, 0)
    with pytest.raises(ValueError, match="no links to evaluate"):
        mrr_curve([], 10)
    with pytest.raises(ValueError, match="ranks must be whole numbers >= 1"):
        mrr_curve([0, 1], 10)
