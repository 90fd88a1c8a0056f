"""A corpus in partitions on S3: ``recommender train s3://bucket/prefix/`` locally and on a
2-worker cluster writes the folder of the local fit of the same articles read from one
file (every array and document equal; the manifest's corpus checksum aside on a cluster).

The storage is a real S3 endpoint on a loopback port (moto's server, started by the
module), reached through s3fs as a user's would be: the endpoint and the credentials come
from the usual AWS environment variables, which the cluster's workers inherit."""

from __future__ import annotations

import gzip
import io
import json
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from recommender import ArticleRecommender, CorpusWarning, read_corpus
from recommender.cli import main
from recommender.cluster import cluster_client
from recommender.cluster.fit import fit_partitions
from recommender.cluster.partitions import list_partitions
from recommender.errors import CorpusError, InputFileNotFoundError

pytest.importorskip("distributed")
pytest.importorskip("s3fs")
pytest.importorskip("moto")
boto3 = pytest.importorskip("boto3")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

pytestmark = pytest.mark.usefixtures("restore_logging_and_warnings")

SHIPPED = Path(__file__).resolve().parents[2] / "corpus" / "orangesum-2020.jsonl.gz"
N_ARTICLES = 600
BUCKET = "news"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3():
    """An S3 endpoint on a loopback port, its address and credentials in the environment
    (for this process and the workers it starts) while the module runs; yields a boto3
    client of it."""
    port = free_port()
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "test",
           "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                               "-p", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        try:
            s3 = boto3.client("s3")
            deadline = time.monotonic() + 30
            while True:
                try:
                    s3.create_bucket(Bucket=BUCKET)
                    break
                except Exception:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.1)
            yield s3
        finally:
            server.terminate()
            server.wait(timeout=30)


@pytest.fixture(scope="module")
def corpus(s3, tmp_path_factory):
    """``(one local file, the S3 URL of its articles in 3 partitions)``: JSONL.gz, Parquet
    and JSONL, with a ``_SUCCESS`` marker."""
    if not SHIPPED.is_file():
        pytest.skip(f"{SHIPPED} is absent")
    with gzip.open(SHIPPED, "rt", encoding="utf-8") as f:
        lines = [line for _, line in zip(range(N_ARTICLES), f)]
    single = tmp_path_factory.mktemp("s3") / "all.jsonl"
    single.write_text("".join(lines), encoding="utf-8")
    third = N_ARTICLES // 3
    s3.put_object(Bucket=BUCKET, Key="parts/part-0.jsonl.gz",
                  Body=gzip.compress("".join(lines[:third]).encode()))
    records = [json.loads(line) for line in lines[third:2 * third]]
    keys = sorted({k for r in records for k in r})
    table = pa.Table.from_pylist([{k: r.get(k) for k in keys} for r in records])
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    s3.put_object(Bucket=BUCKET, Key="parts/part-1.parquet", Body=buffer.getvalue())
    s3.put_object(Bucket=BUCKET, Key="parts/part-2.jsonl",
                  Body="".join(lines[2 * third:]).encode())
    s3.put_object(Bucket=BUCKET, Key="parts/_SUCCESS", Body=b"")
    return single, f"s3://{BUCKET}/parts/"


@pytest.fixture(scope="module")
def s3_client(s3):
    """A cluster of two workers started with the S3 environment."""
    with cluster_client(workers=2) as client:
        yield client


def assert_same_folders(one: Path, other: Path, *, checksum: bool) -> None:
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in other.iterdir())
    for name in names:
        if name.endswith(".npy"):
            a, b = np.load(one / name), np.load(other / name)
            assert a.dtype == b.dtype and np.array_equal(a, b), name
        elif name not in ("manifest.json", "pins.json"):
            assert (one / name).read_bytes() == (other / name).read_bytes(), name
    manifests = [json.loads((f / "manifest.json").read_text("utf-8")) for f in (one, other)]
    for manifest in manifests:
        manifest.pop("created")
        if not checksum:  # a cluster's is the sha256 of the partitions' own
            manifest.pop("corpus_sha256")
    assert manifests[0] == manifests[1]


def test_the_partitions_of_an_s3_prefix(corpus):
    _, url = corpus
    assert list_partitions(url) == [f"{url}part-0.jsonl.gz", f"{url}part-1.parquet",
                                    f"{url}part-2.jsonl"]
    assert list_partitions(f"s3://{BUCKET}/parts/*.parquet") == [f"{url}part-1.parquet"]


def test_train_from_s3_is_the_local_fit(corpus, tmp_path):
    single, url = corpus
    assert main(["train", str(single), "--out", str(tmp_path / "file"), "--quiet"]) == 0
    assert main(["train", url, "--out", str(tmp_path / "s3"), "--quiet"]) == 0
    assert_same_folders(tmp_path / "file", tmp_path / "s3", checksum=True)


def test_a_cluster_fit_from_s3_is_the_local_fit(corpus, s3_client, tmp_path):
    single, url = corpus
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        local = ArticleRecommender().fit(read_corpus(single))
        cluster = fit_partitions(ArticleRecommender(), url, s3_client,
                                 scratch=tmp_path / "scratch")
    local.save(tmp_path / "local")
    cluster.save(tmp_path / "cluster")
    assert_same_folders(tmp_path / "local", tmp_path / "cluster", checksum=False)
    assert cluster.info_["n_articles"] == N_ARTICLES


def test_an_s3_prefix_without_partitions_is_refused(s3):
    s3.put_object(Bucket=BUCKET, Key="empty/_SUCCESS", Body=b"")
    with pytest.raises(CorpusError, match=rf"^no corpus partitions in s3://{BUCKET}/empty/: "
                                          r"expected files ending in \.jsonl"):
        list_partitions(f"s3://{BUCKET}/empty/")
    with pytest.raises(InputFileNotFoundError,
                       match=rf"^corpus not found: s3://{BUCKET}/nothing-here/$"):
        list_partitions(f"s3://{BUCKET}/nothing-here/")

