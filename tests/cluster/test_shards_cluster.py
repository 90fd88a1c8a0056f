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
from recommender.cluster import cluster_client
from recommender.cluster.blocks import forget, open_block

pytest.importorskip("distributed")

# ``main`` configures logging and warnings for the process: undo it after each test.
pytestmark = pytest.mark.usefixtures("restore_logging_and_warnings")


@pytest.fixture(scope="module")
def client():
    """One cluster of two one-thread workers for the module."""
    with cluster_client(workers=2) as client:
        yield client


@pytest.fixture(scope="module")
def sharded_dir(tmp_path_factory, small_model):
    """The sample model saved in 7-day shards, with a 10-day window and no table (every
    list is scored)."""
    model = copy.copy(small_model)
    model.shard_days, model.max_age = 7, 10
    model.table_ = None
    path = tmp_path_factory.mktemp("shards") / "model"
    model.save(path)
    return path


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


def test_a_block_reads_the_shards_of_its_rows_and_windows_only(sharded_dir):
    forget()
    whole = ArticleRecommender.load(sharded_dir)
    ids = whole.served_ids()
    for filters in ({}, {"max_age": 3, "as_of": "2020-06-10"}):
        for start in range(0, len(ids), 6):
            block = ids[start:start + 6]
            model = open_block(sharded_dir, block, filters)
            assert block_lists(model, block, 6, filters) == block_lists(whole, block, 6,
                                                                        filters)
            bounds = model.shards_.bounds
            shard_of = np.searchsorted(bounds, np.arange(len(ids)), side="right") - 1
            needed = set()
            for row in whole.rows_of(block):  # one by one: the window of each article
                lo, hi = whole.candidate_windows(filters.get("as_of"), n=1,
                                                 max_age=filters.get("max_age"))
                needed |= {int(shard_of[r]) for r in [row, *range(lo[0], hi[0])]}
            loaded = np.diff(model.content_.matrix.indptr) > 0
            has_rows = np.diff(whole.content_.matrix.indptr) > 0
            expected = np.isin(shard_of, sorted(needed)) & has_rows
            assert np.array_equal(loaded, expected)
    forget()
