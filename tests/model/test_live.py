"""Live add and withdraw: every list of a changed model is exactly the list of a model of
the served articles fitted with the frozen statistics (``frozen_union_model``), through
the neighbour table and through scoring; changes are durable, replayed, and compacted."""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
from datetime import timedelta

import numpy as np
import pytest

from helpers import frozen_union_model
from recommender import ArticleRecommender
from recommender.changelog import LOG_NAME, ChangeLog, ChangeLogError
from recommender.errors import CorpusError, ParameterError, UnknownArticleError


def by_date(articles):
    return sorted(articles, key=lambda a: a.published)


@pytest.fixture
def split(articles):
    """The sample's 30 oldest articles (the base) and the 11 newest (added later)."""
    ordered = by_date(articles)
    return ordered[:30], ordered[30:]


def fit_dir(tmp_path, articles, **params):
    model = ArticleRecommender(min_df=2, **params).fit(articles)
    path = tmp_path / "model"
    model.save(path)
    return path


def assert_lists_are_the_oracles(model, served, k=10, **filters):
    """Every served article's list equals the frozen-statistics union model's, through
    recommend_batch (the table path) and recommend (one at a time, scored when filtered)."""
    oracle = frozen_union_model(model, served, model.live_status()["reference"])
    ids = [a.id for a in served]
    got = model.recommend_batch(ids, k, **filters)
    want = oracle.recommend_batch(ids, k, **filters)
    np.testing.assert_array_equal(got.ids, want.ids)
    np.testing.assert_allclose(got.scores, want.scores, rtol=1e-6)
    for article_id in ids[::7]:
        got_ids, _ = model.recommend(article_id, k, **filters)
        want_ids, _ = oracle.recommend(article_id, k, **filters)
        np.testing.assert_array_equal(got_ids, want_ids)


@pytest.mark.parametrize("max_age", [None, 30.0])
def test_added_articles_get_the_lists_of_a_model_fitted_on_the_union(tmp_path, split, max_age):
    base, new = split
    model = ArticleRecommender.load(fit_dir(tmp_path, base, max_age=max_age))
    done = model.add(new)
    assert done.added == tuple(a.id for a in new) and done.position == 1
    assert model.n_articles == 41 and model.live_status()["articles"] == 41
    assert_lists_are_the_oracles(model, base + new)
    # and the older articles' lists hold the new ones where they belong
    ids, _ = model.recommend(base[-1].id, 10)
    assert set(ids) & {a.id for a in new}


def test_a_filtered_request_sees_the_added_articles_too(tmp_path, split):
    base, new = split
    model = ArticleRecommender.load(fit_dir(tmp_path, base))
    model.add(new)
    served = base + new
    assert_lists_are_the_oracles(model, served, categories=["politique", "france"])
    assert_lists_are_the_oracles(model, served, as_of="2020-06-29T00:00:00+00:00",
                                 max_age=20)
    text = dataclasses.asdict(new[3])
    oracle = frozen_union_model(model, served, model.live_status()["reference"])
    np.testing.assert_array_equal(model.similar(text, 8)[0], oracle.similar(text, 8)[0])


def test_withdrawn_articles_leave_every_list_and_the_lists_are_refilled(tmp_path, split):
    base, new = split
    model = ArticleRecommender.load(fit_dir(tmp_path, base, table_size=3))
    model.add(new)
    gone = [base[-1].id, new[2].id, base[12].id]
    done = model.withdraw(gone)
    assert done.withdrawn == tuple(gone)
    served = [a for a in base + new if a.id not in gone]
    ids = [a.id for a in served]
    lists = model.recommend_batch(ids, 3).ids
    assert not np.isin(lists, gone).any()
    # a table of width 3 that lost an entry is scored again: never served short
    assert_lists_are_the_oracles(model, served, k=3)
    for article_id in gone:
        with pytest.raises(UnknownArticleError, match="not among the 38 articles this model "
                                                      "serves"):
            model.recommend(article_id)


def test_one_article_alone_is_one_article(tmp_path, split):
    base, new = split
    model = ArticleRecommender.load(fit_dir(tmp_path, base))
    assert model.add(new[0]).added == (new[0].id,)
    assert model.add(dataclasses.asdict(new[1])).added == (new[1].id,)
    assert model.withdraw(new[0].id).withdrawn == (new[0].id,)


def test_an_update_replaces_the_text_of_an_article(tmp_path, split):
    base, new = split
    model = ArticleRecommender.load(fit_dir(tmp_path, base))
    changed = dataclasses.replace(base[5], title=new[0].title, body=new[0].body)
    done = model.add([changed])
    assert done.updated == (changed.id,) and done.added == ()
    served = [changed if a.id == changed.id else a for a in base]
    assert model.live_status()["articles"] == 30
    assert_lists_are_the_oracles(model, served)


def test_the_reference_time_advances_with_the_adds_and_old_articles_leave_the_window(
        tmp_path, split):
    base, new = split
    model = ArticleRecommender.load(fit_dir(tmp_path, base, max_age=10.0))
    before = model.live_status()["reference"]
    late = dataclasses.replace(new[-1], published=base[-1].published + timedelta(days=8))
    model.add([late])
    assert model.live_status()["reference"] > before
    served = base + [late]
    assert_lists_are_the_oracles(model, served)
    ids, _ = model.recommend(base[-1].id, 10)
    window_start = late.published - timedelta(days=11)
    assert all(model.article_info(i)["published"] >= window_start.isoformat()[:10]
               for i in ids)


def test_a_mis_dated_article_does_not_move_the_reference_time(tmp_path, split):
    base, new = split
    model = ArticleRecommender.load(fit_dir(tmp_path, base, max_age=10.0))
    before = model.live_status()["reference"]
    future = dataclasses.replace(new[0], published=new[0].published + timedelta(days=3650))
    model.add([future])
    assert model.live_status()["reference"] == before


def test_changes_are_in_the_folder_and_other_readers_catch_up(tmp_path, split):
    base, new = split
    path = fit_dir(tmp_path, base)
    writer, reader = ArticleRecommender.load(path), ArticleRecommender.load(path)
    assert not reader.needs_refresh()
    writer.add(new[:5])
    assert reader.needs_refresh()
    assert reader.refresh() and not reader.needs_refresh()
    writer.withdraw([new[1].id])
    reader.refresh()
    ids = [a.id for a in base + new[:5] if a.id != new[1].id]
    np.testing.assert_array_equal(reader.recommend_batch(ids, 5).ids,
                                  writer.recommend_batch(ids, 5).ids)
    replayed = ArticleRecommender.load(path)
    np.testing.assert_array_equal(replayed.recommend_batch(ids, 5).ids,
                                  writer.recommend_batch(ids, 5).ids)
    assert replayed.live_status()["changes"] == 2


def test_a_reader_validates_against_what_others_logged(tmp_path, split):
    """A withdrawal by one process of an article another process added is checked against
    the log's latest state, under the lock."""
    base, new = split
    path = fit_dir(tmp_path, base)
    a, b = ArticleRecommender.load(path), ArticleRecommender.load(path)
    a.add(new[:1])
    assert b.withdraw([new[0].id]).withdrawn == (new[0].id,)
    a.refresh()
    assert new[0].id not in a


def test_concurrent_writers_lose_nothing(tmp_path, split):
    base, new = split
    path = fit_dir(tmp_path, base)
    models = [ArticleRecommender.load(path) for _ in range(2)]
    halves = [new[0::2], new[1::2]]

    def write(model, articles):
        for article in articles:
            model.add([article])

    threads = [threading.Thread(target=write, args=pair) for pair in zip(models, halves)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = ArticleRecommender.load(path)
    assert final.live_status()["changes"] == len(new)
    assert all(a.id in final for a in new)


def test_snapshots_are_not_touched_by_later_changes(tmp_path, split):
    base, new = split
    model = ArticleRecommender.load(fit_dir(tmp_path, base))
    before = model.snapshot()
    lists = before.recommend_batch([a.id for a in base], 5)
    model.add(new)
    model.withdraw([base[-1].id])
    again = before.recommend_batch([a.id for a in base], 5)
    np.testing.assert_array_equal(lists.ids, again.ids)
    assert new[0].id not in before and new[0].id in model


def test_bad_changes_are_refused_and_change_nothing(tmp_path, split):
    base, new = split
    path = fit_dir(tmp_path, base)
    model = ArticleRecommender.load(path)
    with pytest.raises(UnknownArticleError, match=r"cannot withdraw 1 unknown article "
                                                  r"\('nope'\).*nothing was withdrawn"):
        model.withdraw([base[0].id, "nope"])
    assert base[0].id in model
    with pytest.raises(CorpusError, match="no article to add"):
        model.add([])
    with pytest.raises(CorpusError, match="appears more than once in the change"):
        model.add([new[0], new[0]])
    with pytest.raises(CorpusError, match="article 2 of the change: record has no 'id'"):
        model.add([{"id": "x", "title": "t"}, {"title": "no id"}])
    with pytest.raises(TypeError, match="not a string"):
        model.add("a text")
    with pytest.raises(CorpusError, match="no article id to withdraw"):
        model.withdraw([])
    with pytest.raises(CorpusError, match="article ids are strings, got int 3"):
        model.withdraw([3])
    assert ChangeLog(path).size() == 0 and model.live_status()["changes"] == 0


def test_a_cosine_model_withdraws_but_does_not_add(tmp_path, split):
    base, new = split
    model = ArticleRecommender.load(fit_dir(tmp_path, base, scoring="cosine", table_size=4))
    with pytest.raises(ParameterError, match="needs scoring='mlt'"):
        model.add(new)
    every = [a.id for a in base]
    full = model.recommend_batch(every, 6)
    model.withdraw([base[-1].id])
    rest = every[:-1]
    lists = model.recommend_batch(rest, 4)
    assert not np.isin(lists.ids, [base[-1].id]).any()
    # the list without the withdrawn article is the list before, less it, then the next
    for i, article_id in enumerate(rest):
        before = [x for x in full.ids[i] if x and x != base[-1].id][:4]
        assert list(lists.ids[i][lists.ids[i] != ""]) == before


def test_compaction_folds_the_log_and_keeps_the_lists(tmp_path, split):
    base, new = split
    path = fit_dir(tmp_path, base)
    model = ArticleRecommender.load(path)
    model.add(new)
    model.withdraw([base[3].id])
    ids = [a.id for a in base + new if a.id != base[3].id]
    lists = model.recommend_batch(ids, 10)
    assert model.compact() == path
    assert not (path / LOG_NAME).exists()
    assert model.live_status()["changes"] == 0 and model.n_articles == 40
    again = ArticleRecommender.load(path)
    np.testing.assert_array_equal(again.recommend_batch(ids, 10).ids, lists.ids)
    np.testing.assert_allclose(again.recommend_batch(ids, 10).scores, lists.scores, rtol=1e-6)
    # the statistics stay the fit's (df.npy): a refit would weigh otherwise
    np.testing.assert_array_equal(again.vectorizer_.df_, model.vectorizer_.df_)
    assert again.vectorizer_.n_documents_ == 30


def test_a_torn_last_change_is_ignored_then_cut_by_the_next_writer(tmp_path, split):
    base, new = split
    path = fit_dir(tmp_path, base)
    model = ArticleRecommender.load(path)
    model.add(new[:2])
    size = (path / LOG_NAME).stat().st_size
    with open(path / LOG_NAME, "ab") as fh:
        fh.write(b"RCL1\x00\x01garbage of a killed writer")
    replayed = ArticleRecommender.load(path)
    assert replayed.live_status()["changes"] == 1 and new[1].id in replayed
    replayed.add(new[2:3])
    assert ArticleRecommender.load(path).live_status()["changes"] == 2
    assert (path / LOG_NAME).stat().st_size > size


def test_a_damaged_change_followed_by_others_is_an_error_not_a_silent_loss(tmp_path, split):
    base, new = split
    path = fit_dir(tmp_path, base)
    model = ArticleRecommender.load(path)
    model.add(new[:1])
    model.add(new[1:2])
    data = bytearray((path / LOG_NAME).read_bytes())
    data[30] ^= 0xFF  # inside the first change's payload
    (path / LOG_NAME).write_bytes(bytes(data))
    with pytest.raises(ChangeLogError, match="is damaged and later ones follow it"):
        ArticleRecommender.load(path)


def test_staleness_counts_the_changes_and_the_unknown_words(tmp_path, split):
    base, new = split
    model = ArticleRecommender.load(fit_dir(tmp_path, base))
    assert model.staleness()["articles_added"] == 0
    assert model.staleness()["advice"] == "no refit needed yet"
    known = " ".join(model.vectorizer_.words_[:50])
    model.add([{"id": "known", "title": known}, {"id": "unknown", "title": "zqxw wqzx xzqw"}])
    figures = model.staleness()
    assert figures["articles_added"] == 2
    assert figures["unknown_word_share"] == pytest.approx(3 / (3 + 50))
    assert figures["advice"].startswith("refit: unknown_word_share")
    model.add(new)
    assert model.staleness()["idf_drift"] > 0


def test_a_model_fitted_in_memory_changes_in_memory_and_saves_compacted(tmp_path, split):
    base, new = split
    model = ArticleRecommender(min_df=2).fit(base)
    model.add(new)
    assert model.source_ is None and model.live_status()["folder"] is None
    model.save(tmp_path / "saved")
    saved = ArticleRecommender.load(tmp_path / "saved")
    assert saved.n_articles == 41 and saved.live_status()["changes"] == 0
    assert_lists_are_the_oracles(model, base + new)


def test_the_log_is_part_of_the_model_folder_for_a_new_save(tmp_path, split):
    """A model saved over a folder with a log replaces the log with the folder."""
    base, new = split
    path = fit_dir(tmp_path, base)
    ArticleRecommender.load(path).add(new)
    ArticleRecommender(min_df=2).fit(base).save(path)
    assert ArticleRecommender.load(path).live_status()["changes"] == 0


def test_a_learned_model_serves_added_articles(learned_dir, tmp_path, articles):
    path = tmp_path / "learned"
    shutil.copytree(learned_dir, path)
    model = ArticleRecommender.load(path)
    extra = dataclasses.replace(by_date(articles)[-1], id="copy")
    model.add([extra])
    ids, scores = model.recommend("copy", 5)
    assert len(ids) and np.isfinite(scores).all() and "copy" not in ids
    assert "copy" in model.recommend(by_date(articles)[-1].id, 8)[0]


def test_regression_batch_scoring_of_a_live_folder_lists_each_served_article_once(
        tmp_path, split):
    """``batch`` took ``ids_``, which keeps the rows of withdrawn and updated articles: it
    failed on a withdrawn id, and would list an updated one twice."""
    from recommender.batch.score import score_to_file

    base, new = split
    model = ArticleRecommender.load(fit_dir(tmp_path, base))
    model.add(new[:3] + [dataclasses.replace(base[4], title="Nouveau titre")])
    model.withdraw([base[7].id])
    out = tmp_path / "related.jsonl"
    assert score_to_file(model, out, k=5) == 30 - 1 + 3
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    ids = [line["id"] for line in lines]
    assert sorted(ids) == sorted(model.served_ids()) and len(set(ids)) == len(ids)
    assert base[7].id not in ids and base[4].id in ids
    want = model.recommend_batch(ids, 5)
    assert [line["related"][0]["id"] for line in lines] == list(want.ids[:, 0])


def test_with_scoring_asks_to_compact_a_live_model_first(tmp_path, split):
    base, new = split
    model = ArticleRecommender.load(fit_dir(tmp_path, base))
    model.add(new[:1])
    with pytest.raises(ParameterError, match="has live changes; compact it first"):
        model.with_scoring(k1=1.2)
    with pytest.raises(ParameterError, match="has live changes.*compact it first"):
        model.candidate_windows(None, n=1, max_age=3)


def test_regression_load_of_a_path_with_a_null_byte_says_the_folder_is_not_found(capsys):
    """The folder's identity, read before its files for the change log, raised
    ``ValueError: embedded null byte`` (found by the slow fuzz of the command line)."""
    from recommender.cli import main

    with pytest.raises(FileNotFoundError, match="model folder not found"):
        ArticleRecommender.load("bad\x00path")
    assert main(["recommend", "bad\x00path", "x"]) == 2
    assert "model folder not found" in capsys.readouterr().err


def good_change(model, article) -> dict:
    from recommender.model.live import add_record
    return add_record(model.vectorizer_, [article])


CRAFTED = {
    "a term outside the vocabulary": lambda c, n: c["articles"][0].update(terms=[0, n],
                                                                         counts=[1, 1]),
    "terms out of order": lambda c, n: c["articles"][0].update(terms=[2, 1], counts=[1, 1]),
    "a negative count": lambda c, n: c["articles"][0].update(counts=[-1.0] * len(
        c["articles"][0]["terms"])),
    "counts and terms of other lengths": lambda c, n: c["articles"][0].update(counts=[1.0]),
    "an infinite length": lambda c, n: c["articles"][0].update(length=float("inf")),
    "a date that is text": lambda c, n: c["articles"][0].update(published="2020"),
    "an id with a control character": lambda c, n: c["articles"][0].update(id="a\x00b"),
    "a missing field": lambda c, n: c["articles"][0].pop("title"),
    "articles that are not a list": lambda c, n: c.update(articles=3),
    "an unknown operation": lambda c, n: c.update(op="rename"),
    "ids that are not strings": lambda c, n: c.update(op="withdraw", ids=[1, 2]),
    "no time": lambda c, n: c.pop("at"),
    "a time that is not a number": lambda c, n: c.update(at="soon"),
}


@pytest.mark.parametrize("defect", list(CRAFTED))
def test_a_crafted_change_in_the_log_is_refused_at_load(tmp_path, split, defect):
    """The log is part of the model folder: a change with a valid checksum but bad content
    is refused in one error (ChangeLogError), it never reaches the sparse products."""
    base, new = split
    path = fit_dir(tmp_path, base)
    model = ArticleRecommender.load(path)
    change = good_change(model, new[0])
    CRAFTED[defect](change, len(model.vectorizer_.vocabulary_))
    ChangeLog(path).commit(change, 0)
    with pytest.raises(ChangeLogError, match="a change of the change log is not valid .*the "
                                             "model folder is damaged"):
        ArticleRecommender.load(path)


def test_a_save_over_a_folder_with_live_changes_says_they_are_replaced(tmp_path, split,
                                                                       caplog):
    base, new = split
    path = fit_dir(tmp_path, base)
    ArticleRecommender.load(path).add(new[:2])
    with caplog.at_level("WARNING", logger="recommender"):
        ArticleRecommender(min_df=2).fit(base).save(path)
    assert "had live changes" in caplog.text and "the new model replaces them" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="recommender"):
        ArticleRecommender(min_df=2).fit(base).save(path)  # no log now: nothing to say
    assert "live changes" not in caplog.text


def test_a_learned_live_model_makes_the_base_pair_context_once(learned_dir, tmp_path, articles):
    """The pair context of a live learned model is the base's (made once, kept across
    changes) stacked on the segment's: equal, field by field, to one made of all the live
    rows at once."""
    path = tmp_path / "learned"
    shutil.copytree(learned_dir, path)
    model = ArticleRecommender.load(path)
    newest = by_date(articles)[-1]
    model.add([dataclasses.replace(newest, id="copy-1")])
    first = model.pair_context()
    model.add([dataclasses.replace(by_date(articles)[-2], id="copy-2")])
    model.withdraw(["copy-1"])
    context = model.pair_context()
    assert context.titles.shape[0] == model.n_articles == first.titles.shape[0]
    whole = model.context_of(model.catalogue_, model.content_)
    for name, got, want in zip(context._fields, context, whole):
        if want is None:
            assert got is None, name
        elif isinstance(want, np.ndarray):
            np.testing.assert_array_equal(got, want, err_msg=name)
        else:
            assert (got != want).nnz == 0, name
    assert model.live_.base.cache["context"] is not None
    ids, _ = model.recommend("copy-2", 5)
    assert len(ids)
