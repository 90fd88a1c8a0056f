"""The catalogue's look-up of ids (binary search over their hashes, not a dict of every id)
against a dict, the oracle: every id, unknown ones, ids of other types, hashes shared by
several ids, a pickled catalogue; and a live model's look-up (withdrawn, re-added). Articles
noted as columns (a cluster's partitions) against articles noted one by one."""

from __future__ import annotations

import pickle
import re
from dataclasses import replace

import numpy as np
import pytest

import recommender.model.catalogue as catalogue_module
from recommender.errors import CorpusError, UnknownArticleError
from recommender.model.catalogue import ArticleColumns, Catalogue, CatalogueBuilder, IdRows


def test_the_rows_of_ids_are_a_dicts(small_model):
    ids = small_model.ids_
    oracle = {a: i for i, a in enumerate(ids.tolist())}
    asked = ids[np.random.default_rng(0).permutation(len(ids))].tolist()
    assert small_model.catalogue_.rows_of(asked).tolist() == [oracle[a] for a in asked]
    assert small_model.catalogue_.rows_of([]).tolist() == []
    assert small_model.rows_of([np.str_(ids[3])]).tolist() == [3]


@pytest.mark.parametrize("unknown", ["nope", "", 5, 5.0, None, b"x", ("a",), ["a"], {"a": 1}])
def test_an_unknown_id_is_named(small_model, unknown):
    first = small_model.ids_[0]
    with pytest.raises(UnknownArticleError, match=f"^Unknown article id {re.escape(repr(unknown))}"
                                                  f": not among the 41 articles of this model"):
        small_model.catalogue_.rows_of([first, unknown])
    assert small_model.catalogue_.row_or_none(unknown) is None


def test_ids_of_one_hash_are_told_apart(monkeypatch):
    """Every id with the hash 7: each is found, in any order, and an eighth is not."""
    monkeypatch.setattr(catalogue_module, "hash", lambda value: 7, raising=False)
    ids = np.array(["c", "a", "d", "b"])
    lookup = IdRows(ids)
    assert (lookup.hashes == 7).all()
    assert lookup.rows(["b", "d", "a", "c", "e", "a"]).tolist() == [3, 2, 1, 0, -1, 1]
    assert [lookup.rows([a])[0] for a in "bdace"] == [3, 2, 1, 0, -1]  # one at a time


def test_a_pickled_catalogue_looks_ids_up_again(small_model):
    """The hashes are of this process (another one's differ): a pickle leaves them out."""
    catalogue = small_model.catalogue_
    catalogue.rows_of(small_model.ids_[:2].tolist())
    copy = pickle.loads(pickle.dumps(catalogue))
    assert copy._row_of is None
    assert copy.rows_of(small_model.ids_.tolist()).tolist() == list(range(len(catalogue)))


def test_an_empty_catalogue_knows_no_id():
    empty = Catalogue(np.array([], dtype=str), np.array([], np.int64),
                      np.array([], dtype=object), np.array([], dtype=object))
    assert empty.find_rows(["a"]).tolist() == [-1]


def test_a_live_model_finds_added_ids_and_not_withdrawn_ones(model_dir, tmp_path, articles):
    """A withdrawn article is unknown; added again, it is found at its new (segment) row."""
    import shutil

    from recommender import ArticleRecommender

    shutil.copytree(model_dir, tmp_path / "m")
    model = ArticleRecommender.load(tmp_path / "m")
    ids = model.ids_.tolist()
    gone = ids[5]
    model.withdraw([gone])
    with pytest.raises(UnknownArticleError, match=f"^Unknown article id {gone!r}: not among "
                                                  f"the 40 articles this model serves"):
        model.rows_of([ids[0], gone])
    again = next(a for a in articles if a.id == gone)
    model.add([again])
    rows = model.rows_of([ids[0], gone, ids[-1]])
    assert rows[0] == 0 and rows[1] >= len(ids) and rows[2] == len(ids) - 1
    assert model.ids_[model.catalogue_.served_rows()].tolist().count(gone) == 1


def _noted_one_by_one(articles):
    builder = CatalogueBuilder()
    for article in articles:
        builder.note(article, has_text=article.has_text)
    return builder


def _noted_as_columns(articles, split):
    """Noted as columns in runs of ``split`` articles (a cluster's partitions)."""
    builder = CatalogueBuilder()
    for start in range(0, len(articles), split):
        columns = ArticleColumns()
        for article in articles[start:start + split]:
            columns.add(article, has_text=article.has_text)
        builder.note_columns(columns)
    return builder


@pytest.mark.parametrize("split", [1, 7, 1000])
def test_articles_noted_as_columns_make_the_same_catalogue(articles, split):
    """Articles noted as columns, a run at a time (from a cluster's workers), and noted one by
    one (the local fit): the same ids, times, categories, titles, site lists and counts."""
    articles = [*articles, replace(articles[0], id="no-text", title="", heading="", body="")]
    one, runs = _noted_one_by_one(articles), _noted_as_columns(articles, split)
    assert any(a.related for a in articles) and runs.n_empty == one.n_empty == 1
    for name in ("ids", "published", "categories", "titles", "site_lists", "n"):
        assert getattr(runs, name) == getattr(one, name), name
    order = one.order()
    np.testing.assert_array_equal(runs.order(), order)
    a, b = one.build(order), runs.build(order)
    for name in ("ids", "published", "categories", "titles"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


@pytest.mark.parametrize("split", [2, 3, 1000])
def test_a_copied_id_noted_as_columns_is_the_same_error(articles, split):
    """An id seen twice, in one run or in two: the error of noting one by one, which names
    the article of the second copy."""
    articles = [*articles[:4], replace(articles[5], id=articles[1].id), *articles[6:9]]
    expected = (f"^article id {re.escape(repr(articles[1].id))} appears more than once "
                f"\\(article 5\\); ids must be unique, remove the copies$")
    with pytest.raises(CorpusError, match=expected):
        _noted_one_by_one(articles)
    with pytest.raises(CorpusError, match=expected):
        _noted_as_columns(articles, split)
