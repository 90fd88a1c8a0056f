"""Live add and withdraw on the full shared corpus (slow; skipped without ``../shared``):
the newest 1,000 articles added to a model of the others get, and give the older articles,
exactly the lists of a model of all of them fitted with the frozen statistics; withdrawn
articles leave every list, and the lists they leave are refilled."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from helpers import frozen_union_model
from recommender import ArticleRecommender, CorpusWarning, read_corpus
from recommender.model.estimator import DEFAULT_MAX_AGE

pytestmark = pytest.mark.slow

FULL = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "orangesum" / \
    "articles.jsonl.gz"
N_NEW = 1000


@pytest.fixture(scope="module")
def split():
    if not FULL.is_file():
        pytest.skip(f"{FULL} is absent: the full corpus is in ../shared beside the checkout "
                    f"(CI and the team's machines), not in a user's clone")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        articles = sorted((a for a in read_corpus(FULL) if a.published),
                          key=lambda a: a.published)
    return articles[:-N_NEW], articles[-N_NEW:]


def test_a_thousand_live_articles_on_the_full_corpus(split, tmp_path):
    base, new = split
    ArticleRecommender(max_age=DEFAULT_MAX_AGE).fit(base).save(tmp_path / "model")
    model = ArticleRecommender.load(tmp_path / "model")
    assert model.add(new).added == tuple(a.id for a in new)

    served = base + new
    ids = [a.id for a in served]
    oracle = frozen_union_model(model, served, model.live_status()["reference"])
    got, want = model.recommend_batch(ids, 10), oracle.recommend_batch(ids, 10)
    differ = np.flatnonzero((got.ids != want.ids).any(axis=1))
    assert not len(differ), f"{len(differ)} lists differ, first {ids[differ[0]]}"
    # the new articles entered the older articles' lists (the table's, read through them)
    old_lists = got.ids[:len(base)]
    assert np.isin(old_lists, [a.id for a in new]).any(axis=1).sum() > 1000

    # withdrawn: the new ones and the base ones most often listed
    listed, counts = np.unique(old_lists[old_lists != ""], return_counts=True)
    gone = [a.id for a in new[:5]] + list(listed[np.argsort(-counts)[:15]])
    model.withdraw(gone)
    rest = [a for a in served if a.id not in set(gone)]
    rest_ids = [a.id for a in rest]
    lists = model.recommend_batch(rest_ids, 10)
    assert not np.isin(lists.ids, gone).any()
    oracle = frozen_union_model(model, rest, model.live_status()["reference"])
    want = oracle.recommend_batch(rest_ids, 10)
    differ = np.flatnonzero((lists.ids != want.ids).any(axis=1))
    assert not len(differ), f"{len(differ)} lists differ after the withdrawals"
