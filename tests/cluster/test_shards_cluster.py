"""The batch on a Dask cluster from a folder sharded by time: the workers read only the
shards their blocks touch (the block's articles, their windows, the articles pinned to
them), and write what the local batch writes from the same folder, byte for byte.

The oracle of each cluster run is the local run of the same command; that of the shards a
block reads, the rows of its windows computed one by one."""

from __future__ import annotations

import copy
import shutil

import numpy as np
import pytest

import recommender.batch.score
from recommender import ArticleRecommender
from recommender.batch.score import block_lists
from recommender.cli import main
from recommender.cluster.blocks import forget, open_block

pytest.importorskip("distributed")

# ``main`` configures logging and warnings for the process: undo it after each test.
pytestmark = pytest.mark.usefixtures("restore_logging_and_warnings")


def sharded(model, path):
    """``model`` saved in 7-day shards to ``path``, with a 10-day window and no table
    (every list is scored); the model itself unchanged."""
    model = copy.copy(model)
    model.shard_days, model.max_age = 7, 10
    model.table_ = None
    model.save(path)
    return path


@pytest.fixture(scope="module")
def sharded_dir(tmp_path_factory, small_model):
    """The sample model (More Like This) in 7-day shards."""
    return sharded(small_model, tmp_path_factory.mktemp("shards") / "model")


@pytest.fixture(scope="module")
def sharded_dirs(tmp_path_factory, sharded_dir, cosine_model, learned_dir):
    """{kind: a sharded folder}: More Like This, cosine (whose sources' rows are read, not
    their queries only), learned (likewise: its re-ranker reads the sources' rows)."""
    root = tmp_path_factory.mktemp("kinds")
    learned = ArticleRecommender.load(learned_dir)
    learned.table_ = None
    return {"mlt": sharded_dir, "cosine": sharded(cosine_model, root / "cosine"),
            "learned": sharded(learned, root / "learned")}


@pytest.mark.parametrize("kind", ["cosine", "learned"])
def test_cosine_and_learned_sharded_folders_on_a_cluster(client, sharded_dirs, tmp_path, kind,
                                                         monkeypatch):
    monkeypatch.setattr(recommender.batch.score, "CHUNK", 7)
    folder = sharded_dirs[kind]
    local, remote = tmp_path / "local.jsonl", tmp_path / "cluster.jsonl"
    assert main(["batch", str(folder), "--out", str(local), "-q", "-k", "6"]) == 0
    assert main(["batch", str(folder), "--out", str(remote), "-q", "-k", "6", "--scheduler",
                 client.scheduler.address]) == 0
    assert remote.read_bytes() == local.read_bytes()


@pytest.mark.parametrize("argv", [
    ["-k", "5"],
    ["--as-of", "2020-06-20", "--max-age", "5", "-k", "8"],
    ["--since", "2020-06-01", "--until", "2020-06-28", "--category", "politique"],
    ["--no-max-age", "-k", "20"],
], ids=["defaults", "as-of", "filters", "no-max-age"])
def test_a_sharded_folder_on_a_cluster_is_the_local_batch(client, sharded_dir, tmp_path, argv,
                                                          monkeypatch):
    monkeypatch.setattr(recommender.batch.score, "CHUNK", 7)  # blocks of a few shards
    local, remote = tmp_path / "local.jsonl", tmp_path / "cluster.jsonl"
    assert main(["batch", str(sharded_dir), "--out", str(local), *argv, "-q"]) == 0
    assert main(["batch", str(sharded_dir), "--out", str(remote), *argv, "-q", "--scheduler",
                 client.scheduler.address]) == 0
    assert remote.read_bytes() == local.read_bytes()
    assert local.read_bytes().count(b"\n") > 30


def test_pins_and_live_changes_on_a_sharded_folder(client, sharded_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(recommender.batch.score, "CHUNK", 5)
    folder = shutil.copytree(sharded_dir, tmp_path / "model")
    editor = ArticleRecommender.load(folder)
    ids = list(editor.served_ids())
    editor.pin(ids[-1], ids[0], 1)  # far outside its window: its shard is read too
    local, remote = tmp_path / "local.jsonl", tmp_path / "cluster.jsonl"
    for step in ("pins", "live"):
        if step == "live":
            editor.withdraw([ids[3]])  # a live change: the workers read the whole folder
        assert main(["batch", str(folder), "--out", str(local), "-q"]) == 0
        assert main(["batch", str(folder), "--out", str(remote), "-q",
                     "--scheduler", client.scheduler.address]) == 0
        assert remote.read_bytes() == local.read_bytes()
        assert f'"id": "{ids[-1]}", "related": [{{"id": "{ids[0]}"'.encode() in \
            local.read_bytes()


@pytest.mark.parametrize("kind", ["mlt", "cosine", "learned"])
def test_a_block_reads_the_shards_of_its_windows_and_the_queries_of_its_rows(sharded_dirs,
                                                                              kind):
    """More Like This without a re-ranker reads the shards of the block's windows and the
    queries of its own articles; the others read the shards of both. The lists are the
    whole model's."""
    folder = sharded_dirs[kind]
    forget()
    whole = ArticleRecommender.load(folder)
    ids = whole.served_ids()
    for filters in ({}, {"max_age": 3, "as_of": "2020-06-10"}):
        for start in range(0, len(ids), 6):
            block = ids[start:start + 6]
            model = open_block(folder, block, filters)
            assert block_lists(model, block, 6, filters) == block_lists(whole, block, 6,
                                                                        filters)
            bounds = model.shards_.bounds
            shard_of = np.searchsorted(bounds, np.arange(len(ids)), side="right") - 1
            rows = whole.rows_of(block)
            needed = set()
            for _ in rows:  # one by one: the window of each article
                lo, hi = whole.candidate_windows(filters.get("as_of"), n=1,
                                                 max_age=filters.get("max_age"))
                needed |= {int(shard_of[r]) for r in range(lo[0], hi[0])}
            if kind != "mlt":
                needed |= {int(shard_of[r]) for r in rows}
            loaded = np.diff(model.content_.matrix.indptr) > 0
            has_rows = np.diff(whole.content_.matrix.indptr) > 0
            assert np.array_equal(loaded, np.isin(shard_of, sorted(needed)) & has_rows)
            if kind == "mlt":
                asked = np.zeros(len(ids), bool)
                asked[rows] = True
                queries, expected = model.content_.queries, whole.content_.queries
                assert (queries[asked] != expected[asked]).nnz == 0
                assert queries[~asked].nnz == 0
    forget()
