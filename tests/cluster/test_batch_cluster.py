"""The batch on a Dask cluster writes what the local batch writes: the same JSONL and CSV
bytes and the same SQL rows, for every article or listed ones (with their own as-of times),
with filters, controls, pins and live changes in the folder; a worker killed mid-run
changes nothing; workers that see another model stop the run in one line.

The oracle of each cluster run is the local run of the same command."""

from __future__ import annotations

import json
import os
import shutil
import signal

import pytest

import recommender.batch.score
from recommender import ArticleRecommender
from recommender.batch.database import read_lists, read_state, write_lists
from recommender.batch.score import list_chunks, score_to_file
from recommender.cli import main
from recommender.cluster import cluster_client
from recommender.errors import ClusterError, ParameterError

pytest.importorskip("distributed")

# ``main`` configures logging and warnings for the process: undo it after each test.
pytestmark = pytest.mark.usefixtures("restore_logging_and_warnings")

TIGER = "CNT000001r4edC"


@pytest.fixture
def folder(tmp_path, model_dir):
    """A copy of the sample model's folder that a test may edit."""
    return shutil.copytree(model_dir, tmp_path / "model")


def batch(*argv) -> None:
    """``recommender batch ARGV -q``, which must succeed."""
    assert main(["batch", *map(str, argv), "-q"]) == 0


def local_and_cluster(client, folder, out_dir, name, *argv):
    """The bytes of ``name`` written by the local batch and by the cluster's."""
    local, remote = out_dir / f"local-{name}", out_dir / f"cluster-{name}"
    batch(folder, "--out", local, *argv)
    batch(folder, "--out", remote, *argv, "--scheduler", client.scheduler.address)
    return local.read_bytes(), remote.read_bytes()


@pytest.mark.parametrize("name", ["related.jsonl", "related.csv"])
@pytest.mark.parametrize("argv", [
    ["-k", "5"],
    ["-k", "40", "--no-max-age"],
    ["--max-age", "20", "--category", "politique", "--category", "france"],
    ["--as-of", "2020-06-20", "--since", "2020-05-01", "--timezone", "Europe/Paris"],
    ["--half-life", "10", "--diversity", "0.3", "--dedupe", "0.8", "-k", "7"],
], ids=["defaults", "no-max-age", "filters", "times", "controls"])
def test_files_are_the_local_batch_byte_for_byte(client, model_dir, tmp_path, name, argv):
    local, remote = local_and_cluster(client, model_dir, tmp_path, name, *argv)
    assert remote == local
    assert local.count(b"\n") > 30


@pytest.mark.parametrize("name", ["related.jsonl", "related.csv"])
def test_ids_with_their_own_times(client, model_dir, tmp_path, name):
    ids = tmp_path / "ids.tsv"
    ids.write_text(f"{TIGER}\t2020-06-25T12:00:00\nCNT000001rcO7J\nCNT000001qiHFZ\t"
                   f"2020-05-21\n# a comment\nCNT000001rcEbW\t28 juin 2020 à 09h00\n",
                   encoding="utf-8")
    local, remote = local_and_cluster(client, model_dir, tmp_path, name, "--ids", ids,
                                      "--as-of", "2020-06-29", "-k", "8")
    assert remote == local
    assert local.count(b"\n") == (4 if name.endswith("jsonl") else local.count(b"\n"))


def test_pins_bans_and_live_changes_in_the_folder(client, folder, tmp_path):
    editor = ArticleRecommender.load(folder)
    others = [i for i in editor.served_ids() if i != TIGER]
    editor.pin(TIGER, others[-1], 2)
    editor.ban(others[0])
    editor.withdraw([others[1]])
    local, remote = local_and_cluster(client, folder, tmp_path, "related.jsonl", "-k", "6")
    assert remote == local
    lists = {row["id"]: [r["id"] for r in row["related"]]
             for row in map(json.loads, local.decode("utf-8").splitlines())}
    assert lists[TIGER][1] == others[-1]  # pinned at 2
    assert others[1] not in lists  # withdrawn
    assert not any(others[0] in ids or others[1] in ids for ids in lists.values())


def test_sqlite_rows_are_the_local_batch_rows(client, folder, tmp_path):
    ArticleRecommender.load(folder).pin(TIGER, "CNT000001rcO7J", 1)
    local, remote = f"sqlite:///{tmp_path / 'local.db'}", f"sqlite:///{tmp_path / 'dask.db'}"
    batch(folder, "--out", local, "-k", "9", "--max-age", "30")
    batch(folder, "--out", remote, "-k", "9", "--max-age", "30", "--workers", "2")
    assert read_lists(remote) == read_lists(local)
    assert read_lists(local)[TIGER][0][0] == "CNT000001rcO7J"
    moments = ("written_at",)
    assert {k: v for k, v in read_state(remote).items() if k not in moments} == \
        {k: v for k, v in read_state(local).items() if k not in moments}


@pytest.mark.parametrize("chunk", [1, 5, 17, 4096])
def test_any_block_size_gives_the_same_file(client, model_dir, tmp_path, chunk):
    model = ArticleRecommender.load(model_dir)
    local, remote = tmp_path / "local.jsonl", tmp_path / "cluster.jsonl"
    score_to_file(model, local, k=4, max_age=25)
    score_to_file(model, remote, k=4, max_age=25, client=client, chunk=chunk)
    assert remote.read_bytes() == local.read_bytes()


def test_sql_api_with_a_client(client, model_dir, tmp_path):
    model = ArticleRecommender.load(model_dir)
    local, remote = f"sqlite:///{tmp_path / 'local.db'}", f"sqlite:///{tmp_path / 'dask.db'}"
    ids = list(model.served_ids())[::3]
    as_of = ["2020-06-25", None, "2020-06-01"] * len(ids)
    write_lists(model, local, k=3, ids=ids, as_of=as_of[:len(ids)])
    write_lists(model, remote, k=3, ids=ids, as_of=as_of[:len(ids)], client=client,
                model_path=model_dir)
    assert read_lists(remote) == read_lists(local)


# -- errors ---------------------------------------------------------------------------------
def test_workers_seeing_another_model_stop_the_run(client, folder, tmp_path, capsys):
    model = ArticleRecommender.load(folder)
    ArticleRecommender.load(folder).ban(TIGER)  # the folder changes after the client read it
    out = tmp_path / "out.jsonl"
    with pytest.raises(ClusterError) as exc:
        score_to_file(model, out, client=client)
    worker = min(client.nthreads())
    assert str(exc.value) == (
        f"worker {worker} sees another model in {folder.resolve()} (version "
        f"{ArticleRecommender.load(folder).version()}) than this process (version "
        f"{model.version()}): the workers must read the same folder, on storage shared with "
        f"the client, and it must not change during the run")
    assert not out.exists()


def test_workers_that_cannot_open_the_folder(client, model_dir, tmp_path):
    model = ArticleRecommender.load(model_dir)
    missing = tmp_path / "elsewhere"
    with pytest.raises(ClusterError, match=f"^worker tcp://127.0.0.1:[0-9]+ cannot open the "
                                           f"model folder {missing}: "):
        score_to_file(model, tmp_path / "out.jsonl", client=client, model_path=missing)


def test_a_model_without_a_folder_needs_one(client, small_model, tmp_path):
    with pytest.raises(ParameterError) as exc:
        score_to_file(small_model, tmp_path / "out.jsonl", client=client)
    assert str(exc.value) == ("the workers of a cluster read the model from its folder: save "
                              "the model and give its folder (model_path), or load it from one")
    assert not (tmp_path / "out.jsonl").exists()


def test_a_scheduler_without_workers(model_dir, tmp_path, monkeypatch):
    import distributed

    import recommender.cluster.batch

    monkeypatch.setattr(recommender.cluster.batch, "WORKERS_TIMEOUT", 0.5)
    with distributed.LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None,
                                  scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) \
            as empty, distributed.Client(empty) as lonely:
        address = lonely.scheduler.address
        with pytest.raises(ClusterError) as exc:
            score_to_file(ArticleRecommender.load(model_dir), tmp_path / "out.jsonl",
                          client=lonely)
    assert str(exc.value) == (f"no worker joined the scheduler at {address} within 0.5 s: "
                              f"start some with 'dask worker {address}'")
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("chunk", [0, -2, 1.5])
def test_bad_block_size(client, model_dir, chunk):
    model = ArticleRecommender.load(model_dir)
    with pytest.raises(ParameterError, match=f"^chunk must be a positive number of articles, "
                                             f"got {chunk}"):
        list_chunks(model, ["x"], 3, {}, client=client, chunk=chunk)


# -- faults ---------------------------------------------------------------------------------
def test_a_worker_killed_mid_run_changes_nothing(model_dir, tmp_path, monkeypatch):
    """One article a block (41 tasks, 4 in flight); once 3 blocks are written, one worker
    is killed. Its tasks are recomputed: the file is whole, each row once, and equal to the
    local run's."""
    model = ArticleRecommender.load(model_dir)
    local, remote = tmp_path / "local.csv", tmp_path / "cluster.csv"
    score_to_file(model, local, k=5, max_age=40)
    list_chunks = recommender.batch.score.list_chunks
    with cluster_client(workers=2) as cluster:
        pids = cluster.run(os.getpid)
        killed, written = [], []

        def killing_chunks(*args, **kwargs):
            for text, unsafe in list_chunks(*args, **kwargs):
                yield text, unsafe  # written before the next chunk is asked for
                written.append(text)
                if len(written) == 3:
                    killed.append(max(pids.values()))
                    os.kill(killed[0], signal.SIGKILL)

        monkeypatch.setattr(recommender.batch.score, "list_chunks", killing_chunks)
        score_to_file(model, remote, k=5, max_age=40, client=cluster, chunk=1)
        with pytest.raises(ProcessLookupError):
            os.kill(killed[0], 0)  # it was killed, mid-run
    assert len(written) == len(model.served_ids()) == 41  # each block once
    assert remote.read_bytes() == local.read_bytes()
    keys = [tuple(row.split(",")[:2]) for row in remote.read_text("utf-8").splitlines()[1:]]
    assert len(keys) == len(set(keys)) > 41
