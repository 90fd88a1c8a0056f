"""Tests for the newsroom controls: each checked against lists worked out by hand, and on
the sample model against the plain lists it starts from."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.errors import ParameterError
from recommender.model.controls import CONTROLS, active, apply_controls, check_controls
from recommender.times import SECONDS_PER_DAY

TIGER = "CNT000001r4edC"
DAY = SECONDS_PER_DAY


def units(*vectors) -> sp.csr_matrix:
    rows = np.asarray(vectors, dtype=np.float32)
    return sp.csr_matrix(rows / np.linalg.norm(rows, axis=1, keepdims=True))


def controls(**given) -> dict:
    return check_controls(**{**CONTROLS, **given})


# -- checks -------------------------------------------------------------------------------
@pytest.mark.parametrize("name, bad, message", [
    ("half_life", 0, "half_life must be a positive number of days or None, got 0"),
    ("half_life", -2.5, "half_life must be a positive number of days or None, got -2.5"),
    ("half_life", math.inf, "half_life must be a positive number of days or None, got inf"),
    ("dedupe", 0, r"dedupe must be a cosine in \(0, 1\] or None, got 0"),
    ("dedupe", 1.5, r"dedupe must be a cosine in \(0, 1\] or None, got 1.5"),
    ("diversity", 1, r"diversity must be in \[0, 1\) \(0 for none\), got 1"),
    ("diversity", None, r"diversity must be in \[0, 1\) \(0 for none\), got None"),
    ("min_score", "0.1", "min_score must be a number or None, got '0.1'"),
    ("min_score", True, "min_score must be a number or None, got True"),
    ("min_score", math.nan, "min_score must be a number or None, got nan"),
])
def test_a_bad_control_is_named(name, bad, message):
    with pytest.raises(ParameterError, match=f"^{message}$"):
        check_controls(**{**CONTROLS, name: bad})


def test_the_off_values_are_inactive_and_any_other_is_active():
    assert not active(controls())
    for name, value in {"half_life": 7, "dedupe": 0.9, "diversity": 0.3,
                        "min_score": 0.0}.items():
        assert active(controls(**{name: value})), name


# -- each control against a list worked out by hand -----------------------------------------
def test_half_life_decays_by_age_and_reorders():
    # rows 0, 1, 2: published 0, 10 and 20 days before the list's time (day 20)
    published = np.array([0, 10, 20], np.int64) * DAY
    rows, scores = np.array([[0, 1, 2]]), np.array([[0.8, 0.5, 0.3]], np.float32)
    got_rows, got_scores = apply_controls(rows, scores, 3, controls(half_life=10),
                                          units=units([1, 0], [0, 1], [1, 1]),
                                          published=published, as_of=np.array([20 * DAY]))
    # 0.8 * 0.5**2 = 0.2, 0.5 * 0.5 = 0.25, 0.3 * 1 = 0.3: the order reverses
    np.testing.assert_array_equal(got_rows, [[2, 1, 0]])
    np.testing.assert_allclose(got_scores, [[0.3, 0.25, 0.2]], rtol=1e-6)


def test_min_score_shows_fewer_items_rather_than_weak_ones():
    rows, scores = np.array([[4, 2, 7, -1]]), np.array([[0.5, 0.2, 0.1, -np.inf]], np.float32)
    got_rows, got_scores = apply_controls(rows, scores, 3, controls(min_score=0.15),
                                          units=units(*np.eye(8)), published=np.zeros(8, np.int64),
                                          as_of=np.zeros(1, np.int64))
    np.testing.assert_array_equal(got_rows, [[4, 2, -1]])
    np.testing.assert_array_equal(got_scores, np.array([[0.5, 0.2, -np.inf]], np.float32))


def test_dedupe_drops_an_item_too_close_to_one_shown_above_it():
    # row 1 is row 0 rewritten (cosine 0.995); row 2 is another story
    vectors = units([1, 0, 0], [1, 0.1, 0], [0, 0, 1])
    rows, scores = np.array([[0, 1, 2]]), np.array([[0.9, 0.8, 0.4]], np.float32)
    got_rows, _ = apply_controls(rows, scores, 3, controls(dedupe=0.99), units=vectors,
                                 published=np.zeros(3, np.int64), as_of=np.zeros(1, np.int64))
    np.testing.assert_array_equal(got_rows, [[0, 2, -1]])
    kept, _ = apply_controls(rows, scores, 3, controls(dedupe=0.999), units=vectors,
                             published=np.zeros(3, np.int64), as_of=np.zeros(1, np.int64))
    np.testing.assert_array_equal(kept, [[0, 1, 2]])  # 0.995 < 0.999: both kept


def test_diversity_follows_maximal_marginal_relevance():
    # cos(0, 1) = 1, cos(0, 2) = cos(1, 2) = 0. With weight 0.5: first 0 (0.45); then
    # 1: 0.5*0.8 - 0.5*1 = -0.1 against 2: 0.5*0.3 - 0 = 0.15, so 2; then 1.
    vectors = units([1, 0], [1, 0], [0, 1])
    rows, scores = np.array([[0, 1, 2]]), np.array([[0.9, 0.8, 0.3]], np.float32)
    got_rows, got_scores = apply_controls(rows, scores, 3, controls(diversity=0.5),
                                          units=vectors, published=np.zeros(3, np.int64),
                                          as_of=np.zeros(1, np.int64))
    np.testing.assert_array_equal(got_rows, [[0, 2, 1]])
    np.testing.assert_allclose(got_scores, [[0.9, 0.3, 0.8]], rtol=1e-6)  # similarity kept


# -- on the model ----------------------------------------------------------------------------
def with_controls(model, **given):
    other = copy.copy(model)
    for name, value in given.items():
        setattr(other, name, value)
    return other


def test_min_score_cuts_the_plain_list_of_the_model(small_model):
    plain_ids, plain_scores = small_model.recommend(TIGER, k=10)
    cut = float(plain_scores[3])
    ids, scores = with_controls(small_model, min_score=cut).recommend(TIGER, k=10)
    np.testing.assert_array_equal(ids, plain_ids[plain_scores >= cut])
    np.testing.assert_array_equal(scores, plain_scores[plain_scores >= cut])


def test_no_two_items_of_a_deduplicated_list_are_that_close(small_model):
    model = with_controls(small_model, dedupe=0.3)
    U = small_model.unit_vectors()
    for source in small_model.ids_[:15]:
        ids, _ = model.recommend(source, k=8)
        rows = small_model.rows_of(ids)
        cosines = (U[rows] @ U[rows].T).toarray()
        np.fill_diagonal(cosines, 0)
        assert (cosines < 0.3).all(), source


def test_a_controlled_model_scores_instead_of_reading_the_table(small_model):
    """The table holds the plain lists: with a control set, the answer must be the
    controlled scoring's, for recommend and recommend_batch alike."""
    assert small_model.table_indices_ is not None
    model = with_controls(small_model, half_life=3)
    no_table = with_controls(model, table_size=0).build_table(0)
    for source in small_model.ids_[:10]:
        ids, scores = model.recommend(source, k=5)
        want_ids, want_scores = no_table.recommend(source, k=5)
        np.testing.assert_array_equal(ids, want_ids)
        np.testing.assert_array_equal(scores, want_scores)
        batch = model.recommend_batch([source], k=5)
        np.testing.assert_array_equal(batch.ids[0, :len(ids)], ids)
