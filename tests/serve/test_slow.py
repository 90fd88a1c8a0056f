"""The service under concurrent load, on a model of the shipped corpus (8,418 of its 9,418
articles; the other 1,000 are added live): writers and readers at once on two workers,
a batch of 1,000 adds, a compaction and a retrained model swapped in while requests keep
coming. No request may fail, and every answer after an acknowledgement holds the change.
Minutes: run with ``-m slow``."""

from __future__ import annotations

import gzip
import json
import random
import threading
import time
from pathlib import Path

import httpx
import pytest

from servers import TOKEN, auth
from recommender import ArticleRecommender
from recommender.cli import main

pytestmark = pytest.mark.slow

SHIPPED = Path(__file__).resolve().parents[2] / "corpus" / "orangesum-2020.jsonl.gz"
N_LIVE = 1_000


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """(the base model's folder, the corpus file of all the articles, the 1,000 held out)."""
    with gzip.open(SHIPPED, "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    held = random.Random(13).sample(range(len(records)), N_LIVE)
    live = [records[i] for i in held]
    base = [r for i, r in enumerate(records) if i not in set(held)]
    work = tmp_path_factory.mktemp("shipped")
    with open(work / "base.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in base)
    assert main(["train", str(work / "base.jsonl"), "--out", str(work / "base"), "-q"]) == 0
    return work / "base", SHIPPED, [{**r, "related": []} for r in live]


@pytest.fixture
def folder(shipped, tmp_path):
    import shutil

    return shutil.copytree(shipped[0], tmp_path / "model")


class Readers:
    """Threads that ask related lists of random ids until stopped, half of them on new
    connections; every answer recorded (sent at, status, version, worker)."""

    def __init__(self, url: str, ids: list, n: int = 4):
        self.url, self.ids = url, ids
        self.results: list = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i % 2 == 0, i))
                        for i in range(n)]
        for thread in self.threads:
            thread.start()

    def _run(self, keep_alive: bool, seed: int):
        rng = random.Random(seed)
        with httpx.Client(base_url=self.url, timeout=60, limits=httpx.Limits(
                max_keepalive_connections=None if keep_alive else 0)) as client:
            while not self.stop.is_set():
                sent = time.monotonic()
                try:
                    response = client.get(f"/articles/{rng.choice(self.ids)}/related")
                    self.results.append((sent, response.status_code,
                                         response.json().get("model"),
                                         response.headers.get("x-worker")))
                except Exception as exc:  # a failed request is a result too
                    self.results.append((sent, repr(exc), None, None))

    def finish(self) -> list:
        self.stop.set()
        for thread in self.threads:
            thread.join()
        failures = [r for r in self.results if r[1] != 200]
        assert not failures, failures[:5]
        assert len(self.results) > 100
        return self.results


def same_lists(server, folder, ids, k=10):
    """The service's lists are the library's on the folder, for ``ids``."""
    model = ArticleRecommender.load(folder)
    for source in ids:
        body = server.get(f"/articles/{source}/related", params={"k": k}).json()
        assert [item["id"] for item in body["items"]] == model.recommend(source, k)[0].tolist()


def test_concurrent_writers_and_readers(start, folder, shipped):
    server = start(folder, "--workers", "2", env={"RECOMMENDER_TOKEN": TOKEN})
    base_ids = ArticleRecommender.load(folder).ids_.tolist()
    readers = Readers(server.url, base_ids)
    live = shipped[2]
    acked_adds, acked_withdrawals, problems = set(), set(), []

    def writer(w: int):
        with httpx.Client(base_url=server.url, timeout=60, headers=auth(),
                          limits=httpx.Limits(max_keepalive_connections=0)) as client:
            for b in range(5):
                batch = live[w * 100 + b * 20: w * 100 + (b + 1) * 20]
                response = client.post("/articles", json={"articles": batch})
                if response.status_code != 200:
                    problems.append(("add", response.status_code, response.text))
                    continue
                acked_adds.update(a["id"] for a in batch)
                for article in batch:  # read-your-writes, whichever worker answers
                    if client.get(f"/articles/{article['id']}").status_code != 200:
                        problems.append(("read after add", article["id"]))
                for article in batch[:5]:
                    if client.delete(f"/articles/{article['id']}").status_code != 200:
                        problems.append(("withdraw", article["id"]))
                        continue
                    acked_withdrawals.add(article["id"])
                    if client.get(f"/articles/{article['id']}").status_code != 404:
                        problems.append(("read after withdraw", article["id"]))

    writers = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    results = readers.finish()
    assert not problems, problems[:5]
    assert len(acked_adds) == 300 and len(acked_withdrawals) == 75
    assert {r[3] for r in results} == both(server)
    model = ArticleRecommender.load(folder)
    assert model.live_status()["changes"] == 15 + 75
    assert all(i in model for i in acked_adds - acked_withdrawals)
    assert not any(i in model for i in acked_withdrawals)
    same_lists(server, folder, random.Random(1).sample(sorted(acked_adds - acked_withdrawals),
                                                       30) + base_ids[-30:])


def both(server) -> set:
    seen = set()
    for _ in range(400):
        seen.add(server.get("/health").headers["x-worker"])
        if len(seen) == 2:
            return seen
    raise AssertionError(f"one worker answered: {seen}")


def test_adds_compaction_and_retrain_under_load(start, folder, shipped,
                                                restore_logging_and_warnings):
    server = start(folder, "--workers", "2", env={"RECOMMENDER_TOKEN": TOKEN})
    base_ids = ArticleRecommender.load(folder).ids_.tolist()
    readers = Readers(server.url, base_ids)
    live = shipped[2]
    rng = random.Random(2)

    # 1,000 adds in one request: all served at once, by both workers
    response = server.post("/articles", json={"articles": live}, headers=auth())
    assert response.status_code == 200 and len(response.json()["added"]) == N_LIVE
    added = response.json()["model"]
    for article in rng.sample(live, 40):
        body = server.get(f"/articles/{article['id']}").json()
        assert body["model"] == added and body["title"] == article["title"]
    sample = rng.sample([a["id"] for a in live], 20) + rng.sample(base_ids, 20)
    same_lists(server, folder, sample)

    # a compaction by another process: the workers follow, the lists stay the library's
    assert main(["compact", str(folder), "-q"]) == 0
    compacted = server.get("/health").json()
    assert compacted["model"] != added and compacted["articles"] == len(base_ids) + N_LIVE
    same_lists(server, folder, sample)

    # a model retrained on the whole corpus, swapped in and reloaded
    assert main(["train", str(shipped[1]), "--out", str(folder), "--table-size", "20",
                 "-q"]) == 0
    reload = server.post("/admin/reload", headers=auth())
    acknowledged = time.monotonic()
    assert reload.status_code == 200
    retrained = reload.json()["model"]
    time.sleep(1)
    results = readers.finish()
    after = [r for r in results if r[0] > acknowledged]
    assert after and {r[2] for r in after} == {retrained}
    assert {r[3] for r in after} == both(server)
    same_lists(server, folder, sample)
