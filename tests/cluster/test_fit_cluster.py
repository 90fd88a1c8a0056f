"""The fit on a Dask cluster gives the local fit's model: the same vocabulary, idf, matrix
and neighbour table, bit for bit, on 2,000 articles cut into 4 partitions (JSONL.gz and
Parquet), with More Like This and cosine, learned lists and pins through the command line.

The oracle of each cluster fit is the local fit of the single file the partitions were cut
from: every array of the saved folders is equal, and every document; the manifest differs
only by its creation time and by the corpus checksum, which a cluster computes over the
partitions' own checksums (see :class:`recommender.cluster.fit.ClusterCounts`)."""

from __future__ import annotations

import gzip
import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from recommender import ArticleRecommender, CorpusWarning, read_corpus
from recommender.cli import main
from recommender.cluster.fit import fit_partitions
from recommender.cluster.partitions import PartitionedCorpus, read_partition
from recommender.errors import CorpusError
from recommender.model.catalogue import checksum_bytes

pytest.importorskip("distributed")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

pytestmark = pytest.mark.usefixtures("restore_logging_and_warnings")

SHIPPED = Path(__file__).resolve().parents[2] / "corpus" / "orangesum-2020.jsonl.gz"
N_ARTICLES = 2000
N_SMALL = 500


def write_parts(folder: Path, lines: list[str], n: int) -> list[Path]:
    """``lines`` (JSONL) cut into ``n`` partitions, JSONL.gz and Parquet in turn."""
    folder.mkdir()
    size = -(-len(lines) // n)
    paths = []
    for i, start in enumerate(range(0, len(lines), size)):
        chunk = lines[start:start + size]
        if i % 2 == 0:
            path = folder / f"part-{i:02d}.jsonl.gz"
            with gzip.open(path, "wt", encoding="utf-8") as f:
                f.write("".join(chunk))
        else:
            path = folder / f"part-{i:02d}.parquet"
            records = [json.loads(line) for line in chunk]
            keys = sorted({k for r in records for k in r})
            pq.write_table(pa.Table.from_pylist([{k: r.get(k) for k in keys} for r in records]),
                           path, row_group_size=500)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """``(single file, partitions folder, partition paths)`` of the shipped corpus's first
    articles."""
    if not SHIPPED.is_file():
        pytest.skip(f"{SHIPPED} is absent")
    root = tmp_path_factory.mktemp("corpus")
    with gzip.open(SHIPPED, "rt", encoding="utf-8") as f:
        lines = [line for _, line in zip(range(N_ARTICLES), f)]
    single = root / "all.jsonl"
    single.write_text("".join(lines), encoding="utf-8")
    paths = write_parts(root / "parts", lines, 4)
    small = root / "small.jsonl"  # for the learned mode, whose learning takes longer
    small.write_text("".join(lines[:N_SMALL]), encoding="utf-8")
    write_parts(root / "small", lines[:N_SMALL], 3)
    return single, root / "parts", paths


def quiet_fit(model, articles):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        return model.fit(articles)


def assert_same_folders(local: Path, cluster: Path, *, checksum=None) -> None:
    """Every array and document of the two model folders equal; the manifests equal but
    for ``created`` and, with ``checksum``, a corpus checksum equal to it."""
    names = sorted(p.name for p in local.iterdir())
    assert names == sorted(p.name for p in cluster.iterdir())
    assert any(n.startswith("table") for n in names)
    for name in names:
        if name.endswith(".npy"):
            a, b = np.load(local / name), np.load(cluster / name)
            assert a.dtype == b.dtype and np.array_equal(a, b), name
        elif name == "pins.json":  # written at the save: its time may differ
            assert {**json.loads((local / name).read_text("utf-8")), "written": None} == \
                {**json.loads((cluster / name).read_text("utf-8")), "written": None}
        elif name != "manifest.json":
            assert (local / name).read_bytes() == (cluster / name).read_bytes(), name
    one, other = (json.loads((f / "manifest.json").read_text("utf-8")) for f in (local, cluster))
    for manifest in (one, other):
        manifest.pop("created")
    if checksum is not None:
        assert other.pop("corpus_sha256") == checksum
        one.pop("corpus_sha256")
    assert one == other


def partitions_checksum(paths) -> str:
    """The cluster's corpus checksum: sha256 of each partition's local checksum."""
    outer = hashlib.sha256()
    for path in paths:
        inner = hashlib.sha256()
        for article in read_partition(path):
            inner.update(checksum_bytes(article))
        outer.update(inner.digest())
    return outer.hexdigest()


@pytest.mark.parametrize("params", [{}, {"scoring": "cosine", "table_size": 20},
                                    {"shard_days": 7, "max_age": 10}],
                         ids=["mlt", "cosine", "sharded"])
def test_cluster_fit_is_the_local_fit(client, corpus, tmp_path, params):
    single, parts, paths = corpus
    local = quiet_fit(ArticleRecommender(**params), read_corpus(single))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        cluster = fit_partitions(ArticleRecommender(**params), parts, client,
                                 scratch=tmp_path / "scratch")
    local.save(tmp_path / "local")
    cluster.save(tmp_path / "cluster")
    assert_same_folders(tmp_path / "local", tmp_path / "cluster",
                        checksum=partitions_checksum(paths))
    assert cluster.info_["n_articles"] == N_ARTICLES
    assert not list(tmp_path.glob(".scratch.tmp-*"))  # the scratch model is gone


def test_local_fit_of_the_partitions_is_the_local_fit_of_the_file(corpus, tmp_path):
    single, parts, _ = corpus
    params = {"table_size": 0}
    quiet_fit(ArticleRecommender(**params), read_corpus(single)).save(tmp_path / "file")
    quiet_fit(ArticleRecommender(**params), PartitionedCorpus(parts)).save(tmp_path / "parts")
    assert_same_folders_without_table(tmp_path / "file", tmp_path / "parts")


def assert_same_folders_without_table(one: Path, other: Path) -> None:
    for file in one.iterdir():
        if file.suffix == ".npy":
            assert np.array_equal(np.load(file), np.load(other / file.name)), file.name
    a, b = (json.loads((f / "manifest.json").read_text("utf-8")) for f in (one, other))
    a.pop("created"), b.pop("created")
    assert a == b  # the corpus checksum too: the same stream of texts


def test_train_command_on_a_cluster_with_learning_and_pins(client, corpus, tmp_path):
    """``recommender train`` with --scheduler writes the local command's folder, learned
    lists and kept pins included."""
    single, parts = corpus[0].parent / "small.jsonl", corpus[0].parent / "small"
    ids = [json.loads(line)["id"] for line in single.read_text("utf-8").splitlines()[:3]]
    pins = {"format": "recommender-pins/1",
            "pins": [{"article": ids[0], "pinned": ids[1], "position": 1}],
            "bans": [{"banned": ids[2], "from": None}]}
    pins_file = tmp_path / "pins.json"
    pins_file.write_text(json.dumps(pins), encoding="utf-8")
    common = ["--learn-from", str(single), "--learn-half", "even", "--pins", str(pins_file),
              "--table-size", "10", "-q"]
    assert main(["train", str(single), "--out", str(tmp_path / "local"), *common]) == 0
    assert main(["train", str(parts), "--out", str(tmp_path / "cluster"), *common,
                 "--scheduler", client.scheduler.address]) == 0
    assert_same_folders(tmp_path / "local", tmp_path / "cluster",
                        checksum=partitions_checksum(sorted(parts.iterdir())))
    model = ArticleRecommender.load(tmp_path / "cluster")
    assert model.reranker_ is not None and model.table_.learned
    assert not [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name]


def same_error(client, folder) -> str:
    """The CorpusError of a fit of the partitions in ``folder`` on the cluster, checked to
    be the local fit's, word for word."""
    with pytest.raises(CorpusError) as local:
        quiet_fit(ArticleRecommender(), PartitionedCorpus(folder))
    with pytest.raises(CorpusError) as cluster:
        fit_partitions(ArticleRecommender(), folder, client)
    assert str(cluster.value) == str(local.value)
    return str(cluster.value)


def test_a_bad_line_on_a_worker_is_the_local_error(client, tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "a.jsonl").write_text('{"id": "a", "body": "un texte"}\n'
                                    '{"id": "b", "body": "un autre"}\n', encoding="utf-8")
    (folder / "b.jsonl").write_text('{"id": "c", "body": "encore un"}\n{"id": \n',
                                    encoding="utf-8")
    assert "b.jsonl, line 2: malformed JSON" in same_error(client, folder)


def test_duplicate_ids_across_partitions_are_the_local_error(client, tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "a.jsonl").write_text('{"id": "a", "body": "un texte"}\n'
                                    '{"id": "b", "body": "un autre texte"}\n', encoding="utf-8")
    pq.write_table(pa.table({"id": ["c", "a"], "body": ["le texte", "encore"]}),
                   folder / "b.parquet")
    assert "article id 'a' appears more than once (article 4)" in same_error(client, folder)


def test_the_workers_warnings_reach_the_caller(client, tmp_path):
    """An article without text and a related id of no partition: the warnings of the local
    fit, on the client."""
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "a.jsonl").write_text(
        '{"id": "a", "body": "un texte sur le climat", "related": ["c", "zz"]}\n'
        '{"id": "b", "title": ""}\n', encoding="utf-8")
    (folder / "b.jsonl").write_text('{"id": "c", "body": "un autre texte sur le climat"}\n'
                                    '{"id": "d", "body": "le climat encore"}\n',
                                    encoding="utf-8")

    def said(fit) -> list[str]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit()
        return sorted(str(w.message) for w in caught if w.category is CorpusWarning)

    local = said(lambda: ArticleRecommender(min_df=1).fit(PartitionedCorpus(folder)))
    cluster = said(lambda: fit_partitions(ArticleRecommender(min_df=1), folder, client))
    assert cluster == local
    assert len(local) == 2 and "'zz'" in " ".join(local) and "have no text" in " ".join(local)


def test_train_on_a_cluster_errors_in_one_line(client, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code = main(["train", str(tmp_path / "empty"), "--out", str(tmp_path / "m"), "-q",
                 "--scheduler", client.scheduler.address])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "error: no corpus partitions in" in err


def test_table_blocks_score_with_the_workers_threads_regression(client, model_dir, tmp_path,
                                                                monkeypatch):
    # The scratch folder holds the client's n_jobs (train's default is 2), and each table
    # block ran the kernel with that many threads: one worker took both cores, two workers
    # ran four threads on two, and the fit's table gained little from the second worker.
    import recommender.cluster.fit as fit
    from recommender.cluster.blocks import forget, open_folder, worker_threads

    model = ArticleRecommender.load(model_dir)
    model.n_jobs = 2
    model.save(tmp_path / "model")
    used, table_lists = [], fit.table_lists
    monkeypatch.setattr(fit, "table_lists", lambda m, rows, width: used.append(m.n_jobs)
                        or table_lists(m, rows, width))
    rows = np.arange(0, model.n_articles, 3)
    try:
        idx, scores = fit.table_block(rows, str(tmp_path / "model"), 5)
        assert used == [1]  # outside a worker: one thread
        assert open_folder(tmp_path / "model").n_jobs == 2  # the shared model untouched
    finally:
        forget()
    want_idx, want_scores = table_lists(model, rows, 5)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_array_equal(scores, want_scores.astype(np.float32))
    assert set(client.run(worker_threads).values()) == {1}
