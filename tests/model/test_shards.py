"""An index sharded by time (recommender.model.shards): a folder saved with ``shard_days``
holds its rows as shards of consecutive publication days, gives the lists of the same model
saved as one matrix (the oracle), reads only the shards asked for, refuses damaged shard
entries in one line, and adds, withdraws, pins and compacts as an unsharded model does."""

from __future__ import annotations

import copy
import json
import shutil
from datetime import datetime, timezone

import numpy as np
import pytest

from recommender import ArticleRecommender
from recommender.cli import main
from recommender.errors import ModelFormatError, ParameterError
from recommender.model.shards import Shards, shard_bounds
from recommender.store import read_folder
from recommender.times import UNDATED

# ``main`` configures logging and warnings for the process: undo it after each test.
pytestmark = pytest.mark.usefixtures("restore_logging_and_warnings")

FILTERS = [{}, {"max_age": 10}, {"max_age": 30, "as_of": "2020-06-20"},
           {"since": "2020-06-01", "until": "2020-06-25"}, {"max_age": None, "k": 40}]


def saved(model, path, shard_days):
    """``model`` saved to ``path`` with ``shard_days`` (the model itself unchanged)."""
    other = copy.copy(model)
    other.shard_days = shard_days
    other.save(path)
    return path


@pytest.fixture(scope="module")
def folders(tmp_path_factory, small_model):
    """The sample model saved as one matrix and in 7-day shards."""
    root = tmp_path_factory.mktemp("shards")
    return saved(small_model, root / "one", None), saved(small_model, root / "sharded", 7)


def test_rows_share_a_shard_when_published_in_the_same_span():
    days = [0, 3, 6, 7, 13, 14, 30, 400]
    published = np.array([d * 86400 + 3600 for d in days] + [UNDATED, UNDATED], np.int64)
    bounds = shard_bounds(published, 7)
    # spans of 7 days from 1970-01-01: day // 7 = 0 0 0 1 1 2 4 57, then the undated
    assert bounds.tolist() == [0, 3, 5, 6, 7, 8, 10]
    assert shard_bounds(published, 1000).tolist() == [0, 8, 10]
    assert shard_bounds(np.array([UNDATED, UNDATED]), 5).tolist() == [0, 2]


def test_touching_finds_every_shard_a_range_holds():
    rng = np.random.default_rng(0)
    bounds = np.array([0, 4, 5, 9, 20, 21, 30], np.int64)
    shards = Shards([f"shard_{i:05d}" for i in range(6)], bounds, [0] * 6)
    row_shard = np.repeat(np.arange(6), np.diff(bounds))
    for _ in range(200):
        lo = rng.integers(0, 30, 5)
        hi = lo + rng.integers(0, 8, 5).clip(max=30 - lo)
        expected = sorted({int(row_shard[r]) for a, b in zip(lo, hi) for r in range(a, b)})
        assert shards.touching(lo, hi).tolist() == expected


def test_a_sharded_folder_holds_shards_not_one_matrix(folders, small_model):
    _, sharded = folders
    manifest = json.loads((sharded / "manifest.json").read_text())
    assert manifest["format_version"] == 5
    assert not list(sharded.glob("matrix.*"))
    entries = manifest["shards"]
    published = small_model.published_
    assert entries[0]["rows"][0] == 0 and entries[-1]["rows"][1] == small_model.n_articles
    for entry, following in zip(entries, entries[1:]):
        assert entry["rows"][1] == following["rows"][0]
    for entry in entries:
        start, stop = entry["rows"]
        spans = {UNDATED if p == UNDATED else p // 86400 // 7 for p in published[start:stop]}
        assert len(spans) == 1
        for part in ("data", "indices", "indptr"):
            assert (sharded / f"{entry['name']}.{part}.npy").is_file()
        if published[start] != UNDATED:
            first = datetime.fromisoformat(entry["first"]).timestamp()
            assert first == published[start]
    assert len(entries) >= 5


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f) or "defaults")
def test_the_lists_are_those_of_one_matrix(folders, filters):
    one, sharded = (ArticleRecommender.load(f) for f in folders)
    filters = dict(filters)
    k = filters.pop("k", 10)
    ids = one.served_ids()
    expected, got = one.recommend_batch(ids, k, **filters), sharded.recommend_batch(ids, k,
                                                                                    **filters)
    assert (got.ids == expected.ids).all()
    assert np.array_equal(got.scores, expected.scores)
    assert np.array_equal(sharded.table_.indices, one.table_.indices)


def test_a_partial_read_holds_the_rows_of_its_shards_only(folders):
    one, path = ArticleRecommender.load(folders[0]), folders[1]
    base = ArticleRecommender.from_folder(path, keep=())
    assert base.content_.matrix.nnz == 0
    shards = base.shards_
    keep = [1, 3]
    part = base.with_shards(keep).content_.matrix
    whole = one.content_.matrix
    kept = np.zeros(one.n_articles, bool)
    for i in keep:
        kept[shards.bounds[i]:shards.bounds[i + 1]] = True
    assert (part[kept] != whole[kept]).nnz == 0
    assert part[~kept].nnz == 0 and part[kept].nnz > 0


def test_with_shards_needs_a_partial_read_of_a_sharded_folder(folders):
    message = (r"^with_shards\(\) needs a model loaded with from_folder\(keep=…\) from a "
               r"sharded folder, without live changes$")
    for model in (ArticleRecommender.load(folders[1]),
                  ArticleRecommender.from_folder(folders[0], keep=())):
        with pytest.raises(ParameterError, match=message):
            model.with_shards([0])


def test_queries_alone_need_more_like_this_without_a_re_ranker(cosine_model, tmp_path):
    base = ArticleRecommender.from_folder(saved(cosine_model, tmp_path / "cosine", 7), keep=())
    with pytest.raises(ParameterError, match=r"^with_query_rows\(\) needs a More Like This "
                                             r"model without a learned re-ranker$"):
        base.with_shards([0]).with_query_rows([0])


def test_a_damaged_shard_is_read_only_when_asked_for(folders, tmp_path):
    path = shutil.copytree(folders[1], tmp_path / "model")
    manifest = json.loads((path / "manifest.json").read_text())
    name = manifest["shards"][2]["name"]
    data = path / f"{name}.data.npy"
    raw = bytearray(data.read_bytes())
    raw[-1] ^= 0xFF  # same size, other bytes: only the checksum sees it
    data.write_bytes(bytes(raw))
    base = ArticleRecommender.from_folder(path, keep=())
    assert base.with_shards([0, 1, 3]).content_.matrix.nnz > 0
    with pytest.raises(ModelFormatError, match=f"file {name}.data.npy does not match its "
                                               f"checksum"):
        base.with_shards([2])
    with pytest.raises(ModelFormatError, match="does not match its checksum"):
        ArticleRecommender.load(path)


def damage(path, change):
    manifest = json.loads((path / "manifest.json").read_text())
    change(manifest)
    (path / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("change, message", [
    (lambda m: m["shards"][1]["rows"].__setitem__(0, m["shards"][1]["rows"][0] + 1),
     r"shards: shard 1 \(.*\) is not a name shard_NNNNN with rows \[\d+, stop\) and nnz; "
     r"the model is damaged"),
    (lambda m: m["shards"][0].__setitem__("name", "../matrix"),
     r"shards: shard 0 .* is not a name shard_NNNNN"),
    (lambda m: m["shards"].pop(),
     r"shards: the shards hold \d+ rows and [\d,]+ values, the model \d+ and [\d,]+"),
    (lambda m: m["files"].pop("shard_00001.indices.npy"),
     r"shards: shard_00001.indices.npy is not listed"),
    (lambda m: m.__setitem__("shards", {}), r"shards: shards must be a non-empty list"),
    (lambda m: m["files"].pop("df.npy"), r"a sharded model lists no df.npy"),
], ids=["gap", "name", "rows-missing", "unlisted", "not-a-list", "no-df"])
def test_damaged_shard_entries_are_refused(folders, tmp_path, change, message):
    path = shutil.copytree(folders[1], tmp_path / "model")
    damage(path, change)
    with pytest.raises(ModelFormatError, match=message):
        ArticleRecommender.load(path, verify=False)


def test_a_shard_with_a_column_outside_the_terms_is_refused(folders, tmp_path):
    path = shutil.copytree(folders[1], tmp_path / "model")
    indices = path / "shard_00001.indices.npy"
    values = np.load(indices)
    values[0] = 10**6
    np.save(indices, values)
    with pytest.raises(ModelFormatError, match=r"shard_00001.indices.npy holds a column "
                                               r"outside \[0, [\d,]+\) \(the terms\)"):
        ArticleRecommender.load(path, verify=False)


def test_live_changes_pins_and_compaction_as_on_one_matrix(folders, tmp_path, articles):
    one = ArticleRecommender.load(shutil.copytree(folders[0], tmp_path / "one"))
    sharded_path = shutil.copytree(folders[1], tmp_path / "sharded")
    sharded = ArticleRecommender.load(sharded_path)
    ids = list(one.served_ids())
    new = {"id": "NEW", "title": articles[3].title, "body": articles[3].body,
           "published": datetime(2020, 10, 30, tzinfo=timezone.utc).isoformat()}
    for model in (one, sharded):
        model.add([new])
        model.withdraw([ids[5]])
        model.pin(ids[0], ids[9], 2)
        model.ban(ids[1])
    served = list(one.served_ids())
    assert (sharded.recommend_batch(served, 8).ids == one.recommend_batch(served, 8).ids).all()
    sharded.compact()
    one.compact()
    manifest = json.loads((sharded_path / "manifest.json").read_text())
    assert manifest["format_version"] == 5
    last = [e for e in manifest["shards"] if e["first"] is not None][-1]
    assert last["first"].startswith("2020-10-30")  # the newest shard took the addition
    fresh = ArticleRecommender.load(sharded_path)
    assert fresh.recommend(ids[0], 5)[0][1] == ids[9]
    assert (fresh.recommend_batch(served, 8).ids == one.recommend_batch(served, 8).ids).all()


@pytest.mark.parametrize("value, shown", [(0, "0"), (-3, "-3"), (2.5, "2.5"), ("7", "'7'")])
def test_bad_shard_days(articles, value, shown):
    with pytest.raises(ParameterError, match=rf"^shard_days must be a positive number of "
                                             rf"days, or None for no shards, got {shown}$"):
        ArticleRecommender(shard_days=value).fit(articles)


def test_train_shard_days_on_the_command_line(articles_path, tmp_path, capsys):
    assert main(["train", str(articles_path), "--out", str(tmp_path / "m"), "--shard-days",
                 "30", "-q"]) == 0
    files = read_folder(tmp_path / "m")
    assert files.version == 5 and len(files.manifest["shards"]) >= 3
    assert files.manifest["params"]["shard_days"] == 30
    with pytest.raises(SystemExit) as exit_:
        main(["train", str(articles_path), "--out", str(tmp_path / "n"), "--shard-days", "0"])
    assert exit_.value.code == 2
    assert "--shard-days: expected a positive integer, got 0" in capsys.readouterr().err
