"""Editors' pins and bans in the library: every list the model serves obeys them, checked
against an oracle built from the model's plain lists; they survive the folder's reloads,
live changes and compaction; their file's errors are one clear line."""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil

import numpy as np
import pytest

from recommender import ArticleRecommender
from recommender.errors import ParameterError, UnknownArticleError
from recommender.model.pins import NotPinnedError, Pins, PinsFileError, PositionTakenError


@pytest.fixture
def model(small_model):
    """A copy of the sample model (no freshness limit: every article is a candidate)."""
    other = copy.copy(small_model)
    other.max_age = None
    other.max_age_days_ = None
    other.build_table(40)
    return other


def plain(model):
    """The model without its pins."""
    other = copy.copy(model)
    other.pins_ = Pins()
    return other


def oracle(model, source, k, *, exclude=(), as_of=None):
    """The list the pins ask for, from the model's plain list of every candidate: banned and
    pinned articles out, then each usable pin at its position, cut to ``k``. A pinned
    article's score is the sum of the contributions explain() gives."""
    pins = model.pins_
    base = plain(model)
    ids, scores = base.recommend(source, model.n_articles - 1, exclude=exclude, as_of=as_of)
    pinned = dict(pins.pins_of(source))
    banned = (pins.banned_everywhere - set(pinned)) | pins.banned_from(source) | set(pinned)
    items = [(i, s) for i, s in zip(ids.tolist(), scores.tolist()) if i not in banned]
    for other, position in sorted(pinned.items(), key=lambda p: p[1]):
        published = base.article_info(other)["published"]
        if other in exclude or position > k or (as_of is not None and published >= as_of):
            continue
        score = sum(c for _, c in base.explain(source, other, n_terms=10_000))
        items.insert(min(position - 1, len(items)), (other, score))
    return [i for i, _ in items[:k]], [s for _, s in items[:k]]


def random_pins(model, seed, n_pins=12, n_bans=10, n_everywhere=2):
    rng = np.random.default_rng(seed)
    ids = model.served_ids().tolist()
    for _ in range(n_pins):
        a, b = rng.choice(ids, 2, replace=False)
        try:
            model.pin(str(a), str(b), int(rng.integers(1, 8)))
        except PositionTakenError:
            pass
    for _ in range(n_bans):
        a, b = rng.choice(ids, 2, replace=False)
        model.ban(str(b), str(a))
    for b in rng.choice(ids, n_everywhere, replace=False):
        model.ban(str(b))
    return model


def assert_lists(model, source, k, **filters):
    ids, scores = model.recommend(source, k, **filters)
    want_ids, want_scores = oracle(model, source, k, **filters)
    assert ids.tolist() == want_ids, source
    np.testing.assert_allclose(scores, want_scores, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_list_obeys_the_pins_and_bans(model, seed):
    random_pins(model, seed)
    sources = model.served_ids().tolist()
    for k in (1, 3, 7):
        for source in sources:
            assert_lists(model, source, k)
        batch_ids, batch_scores = model.recommend_batch(sources, k)
        for row, source in enumerate(sources):
            ids, scores = model.recommend(source, k)
            assert batch_ids[row][:len(ids)].tolist() == ids.tolist()
            np.testing.assert_allclose(batch_scores[row][:len(ids)], scores, rtol=1e-6)


def test_the_table_and_the_search_give_the_same_pinned_lists(model):
    random_pins(model, 5)
    searched = copy.copy(model)
    searched.table_ = None
    sources = model.served_ids().tolist()
    for k in (2, 5):
        a_ids, a_scores = model.recommend_batch(sources, k)
        b_ids, b_scores = searched.recommend_batch(sources, k)
        assert (a_ids == b_ids).all()
        np.testing.assert_allclose(a_scores, b_scores, rtol=1e-5)


def test_a_pin_is_shown_at_its_position_with_its_own_score(model):
    source = model.served_ids()[3]
    far = plain(model).recommend(source, 40)[0][-1]  # the least related candidate
    model.pin(source, far, 2)
    ids, scores = model.recommend(source, 5)
    assert ids[1] == far
    explained = sum(c for _, c in model.explain(source, far, n_terms=10_000))
    assert scores[1] == pytest.approx(explained, rel=1e-5)
    assert model.pins_.position(source, far) == 2


def test_a_pin_beyond_k_shows_nowhere_and_the_list_stays_k_long(model):
    source = model.served_ids()[3]
    first = plain(model).recommend(source, 3)[0][0]
    model.pin(source, first, 9)
    ids, _ = model.recommend(source, 3)
    assert first not in ids and len(ids) == 3
    assert model.recommend(source, 9)[0][8] == first


def test_filters_exclude_and_as_of_rule_out_a_pin(model):
    ids = model.served_ids()
    source, pinned = ids[2], ids[-1]  # rows are in publication order: the newest last
    model.pin(source, pinned, 1)
    assert_lists(model, source, 5, exclude=(pinned,))
    assert pinned not in model.recommend(source, 5, exclude=(pinned,))[0]
    as_of = model.article_info(pinned)["published"]  # published at that time: not before
    assert_lists(model, source, 5, as_of=as_of)
    assert pinned not in model.recommend(source, 5, as_of=as_of)[0]


def test_a_ban_from_every_list_holds_for_a_text_too(model, articles):
    source = articles[5]
    first = model.similar(source.title + "\n" + source.body, 5)[0][0]
    model.ban(str(first))
    ids, _ = model.similar(source.title + "\n" + source.body, 5)
    assert first not in ids and len(ids) == 5
    for other in model.served_ids():
        if other != first:
            assert first not in model.recommend(other, 10)[0]


def test_a_pin_beats_a_ban_from_every_list_and_a_ban_from_the_list_lifts_the_pin(model):
    ids = model.served_ids()
    source, other = ids[4], ids[9]
    model.ban(other)
    model.pin(source, other, 1)
    assert model.recommend(source, 3)[0][0] == other
    model.ban(other, source)  # the narrower ban lifts the pin
    assert model.pins_.position(source, other) is None
    assert other not in model.recommend(source, 40)[0]
    model.pin(source, other, 2)  # and a pin lifts it again
    assert other not in model.pins_.banned_from(source)
    assert model.recommend(source, 3)[0][1] == other


def test_a_withdrawn_pinned_article_is_skipped(model):
    ids = model.served_ids()
    source, pinned = str(ids[4]), str(ids[9])
    model.pin(source, pinned, 1)
    model.withdraw([pinned])
    listed, _ = model.recommend(source, 5)
    assert pinned not in listed and len(listed) == 5


def test_bad_edits_say_what_is_wrong(model):
    ids = model.served_ids()
    a, b, c = str(ids[1]), str(ids[2]), str(ids[3])
    model.pin(a, b, 2)
    with pytest.raises(PositionTakenError, match=f"position 2 of the list of '{a}' is pinned "
                                                 f"to '{b}' already: unpin it first"):
        model.pin(a, c, 2)
    with pytest.raises(ParameterError, match="from 1 to 40 .the longest list this model "
                                             "prepares., got 41"):
        model.pin(a, c, 41)
    with pytest.raises(ParameterError, match="from 1 to 40"):
        model.pin(a, c, 0)
    with pytest.raises(ParameterError, match=f"cannot pin article '{a}' in its own list"):
        model.pin(a, a)
    with pytest.raises(UnknownArticleError, match="nope"):
        model.pin(a, "nope")
    with pytest.raises(UnknownArticleError, match="nope"):
        model.ban("nope")
    with pytest.raises(NotPinnedError, match=f"'{c}' is not pinned in the list of '{a}'"):
        model.unpin(a, c)
    with pytest.raises(NotPinnedError, match=f"'{c}' is not banned from every list"):
        model.unban(c)
    with pytest.raises(NotPinnedError, match=f"'{c}' is not banned from the list of '{a}'"):
        model.unban(c, a)
    assert model.pins_.pins_of(a) == [(b, 2)]  # nothing changed by the refused edits


def test_pins_follow_the_folder_across_processes(model, tmp_path):
    folder = tmp_path / "model"
    model.save(folder)
    editor, server = ArticleRecommender.load(folder), ArticleRecommender.load(folder)
    version = server.version()
    random_pins(editor, 3)
    assert server.needs_refresh()
    assert server.refresh() and not server.needs_refresh()
    assert server.pins_ == editor.pins_ and server.pins_revision() == editor.pins_revision()
    assert server.version() != version and server.version().endswith(
        f"+pins{editor.pins_revision()}")
    sources = server.served_ids().tolist()
    assert (server.recommend_batch(sources, 5).ids == editor.recommend_batch(sources, 5).ids
            ).all()
    again = ArticleRecommender.load(folder)
    assert again.pins_ == editor.pins_


def test_two_editors_never_lose_each_others_edits(model, tmp_path):
    folder = tmp_path / "model"
    model.save(folder)
    first, second = ArticleRecommender.load(folder), ArticleRecommender.load(folder)
    ids = model.served_ids()
    first.pin(ids[1], ids[2], 1)
    second.pin(ids[1], ids[3], 2)  # read the file as it is now: the first pin is kept
    assert ArticleRecommender.load(folder).pins_.pins_of(ids[1]) == [(ids[2], 1), (ids[3], 2)]


def test_pins_survive_add_withdraw_and_compaction(model, tmp_path, articles):
    folder = tmp_path / "model"
    model.save(folder)
    live = ArticleRecommender.load(folder)
    ids = live.served_ids()
    source, pinned, banned = str(ids[5]), str(ids[20]), str(ids[6])
    live.pin(source, pinned, 1)
    live.ban(banned)
    live.add(dataclasses.replace(articles[7], id="brand-new", related=()))
    live.pin("brand-new", source, 3)
    live.withdraw([str(ids[30])])
    served = live.served_ids().tolist()
    before = live.recommend_batch(served, 5)
    live.compact()
    reloaded = ArticleRecommender.load(folder)
    assert reloaded.live_status()["changes"] == 0 and reloaded.pins_ == live.pins_
    after = reloaded.recommend_batch(served, 5)
    assert (after.ids == before.ids).all()
    assert reloaded.recommend(source, 3)[0][0] == pinned
    assert reloaded.recommend("brand-new", 5)[0][2] == source
    assert all(banned not in row for row in after.ids.tolist())


def test_a_leftover_temporary_pins_file_does_not_block_a_save(model, tmp_path):
    folder = tmp_path / "model"
    model.save(folder)
    (folder / "pins.json.tmp").write_text("{half", encoding="utf-8")  # a killed writer's
    live = ArticleRecommender.load(folder)
    live.ban(str(live.served_ids()[0]))
    model.save(folder)  # the folder holds only files a model has: replaceable
    assert not ArticleRecommender.load(folder).pins_  # the model saved had none


@pytest.mark.parametrize("text, message", [
    ("{half", "is not JSON"),
    ('{"format": "other"}', "is not a pins file of this version"),
    ('{"format": "recommender-pins/1", "pins": {}, "bans": []}', "must be lists"),
    ('{"format": "recommender-pins/1", "pins": [{"article": "a", "pinned": "a", '
     '"position": 1}], "bans": []}', "pin 1 is not"),
    ('{"format": "recommender-pins/1", "pins": [{"article": "a", "pinned": "b", '
     '"position": 1}, {"article": "a", "pinned": "c", "position": 1}], "bans": []}',
     "pin 2 repeats a position"),
    ('{"format": "recommender-pins/1", "pins": [], "bans": [{"banned": 3}]}', "ban 1 is not"),
])
def test_a_damaged_pins_file_is_refused_in_one_line(model, tmp_path, text, message):
    folder = tmp_path / "model"
    model.save(folder)
    (folder / "pins.json").write_text(text, encoding="utf-8")
    with pytest.raises(PinsFileError, match=message) as caught:
        ArticleRecommender.load(folder)
    assert "\n" not in str(caught.value) and "pins.json" in str(caught.value)


def test_the_pins_file_round_trips(model, tmp_path):
    random_pins(model, 7)
    folder = tmp_path / "model"
    model.save(folder)
    doc = json.loads((folder / "pins.json").read_text("utf-8"))
    assert doc["format"] == "recommender-pins/1" and doc["revision"] == model.pins_revision()
    assert Pins.from_json(doc) == model.pins_
    shutil.copy(folder / "pins.json", tmp_path / "kept.json")
    assert Pins.read(tmp_path / "kept.json") == Pins.read(folder) == model.pins_
