"""The batch of the full corpus on a Dask cluster (slow; run with ``-m slow``): the lists of
every one of the 34,178 articles, on a two-worker cluster started by ``--workers 2`` and on
an external one (``dask scheduler`` and two ``dask worker`` processes of one thread each on
the loopback interface), are the local batch's, byte for byte; from the neighbour table and
scored with a filter.

The full corpus is ``../shared/corpus/orangesum`` next to the checkout; the test skips when
it is absent.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from recommender import ArticleRecommender, CorpusWarning, read_corpus
from recommender.cli import main
from recommender.cluster import cluster_client

pytest.importorskip("distributed")

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("restore_logging_and_warnings")]

FULL = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "orangesum"
#: The runs compared: from the neighbour table, and scored (a filter: no table answers).
RUNS = {"table": [], "scored": ["--max-age", "30", "--category", "politique",
                                "--category", "monde", "--category", "france"]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def full_dir(tmp_path_factory) -> Path:
    """A model of the 34,178 articles of the shared corpus, saved."""
    corpus = FULL / "articles.jsonl.gz"
    if not corpus.is_file():
        pytest.skip(f"{corpus} is absent: the full corpus is in ../shared beside the checkout "
                    f"(CI and the team's machines), not in a user's clone")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        model = ArticleRecommender(n_jobs=2).fit(read_corpus(corpus))
    path = tmp_path_factory.mktemp("full") / "model"
    model.save(path)
    return path


@pytest.fixture(scope="module")
def local_outputs(full_dir, tmp_path_factory) -> dict:
    """{run: the bytes of the local batch's JSONL}."""
    out = tmp_path_factory.mktemp("local")
    outputs = {}
    for name, argv in RUNS.items():
        assert main(["batch", str(full_dir), "--out", str(out / f"{name}.jsonl"), "-q",
                     *argv]) == 0
        outputs[name] = (out / f"{name}.jsonl").read_bytes()
    assert outputs["table"].count(b"\n") == 34_178
    assert outputs["scored"] != outputs["table"]
    return outputs


@pytest.fixture(scope="module")
def external_scheduler(tmp_path_factory):
    """The address of a ``dask scheduler`` with two ``dask worker`` processes of one thread
    each, on loopback ports; all three ended after the module."""
    logs = tmp_path_factory.mktemp("dask")
    dask = [sys.executable, "-m", "dask"]
    address = f"tcp://127.0.0.1:{free_port()}"
    commands = [[*dask, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                 "--no-dashboard", "--dashboard-address", "127.0.0.1:0"]]
    commands += [[*dask, "worker", address, "--nthreads", "1", "--nworkers", "1",
                  "--host", "127.0.0.1", "--no-dashboard", "--name", f"worker-{i}"]
                 for i in range(2)]
    processes = []
    try:
        for i, command in enumerate(commands):
            with open(logs / f"{i}.log", "wb") as log:
                processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                                  cwd=logs))
            if i == 0:
                _wait_for_port(address, processes[0])
        with cluster_client(scheduler=address) as client:
            client.wait_for_workers(2, timeout=60)
            assert sorted(client.nthreads().values()) == [1, 1]
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_for_port(address: str, process, seconds: float = 30) -> None:
    import time

    host, port = address[len("tcp://"):].rsplit(":", 1)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "dask scheduler exited"
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"dask scheduler did not listen at {address} within {seconds} s")


def cluster_outputs(full_dir, out: Path, *where) -> dict:
    outputs = {}
    for name, argv in RUNS.items():
        path = out / f"{name}.jsonl"
        assert main(["batch", str(full_dir), "--out", str(path), "-q", *argv, *where]) == 0
        outputs[name] = path.read_bytes()
    return outputs


def test_local_cluster_every_article_as_the_local_batch(full_dir, local_outputs, tmp_path):
    assert cluster_outputs(full_dir, tmp_path, "--workers", "2") == local_outputs


def test_external_scheduler_every_article_as_the_local_batch(full_dir, local_outputs, tmp_path,
                                                             external_scheduler):
    assert cluster_outputs(full_dir, tmp_path, "--scheduler", external_scheduler) == \
        local_outputs
