"""A server of two worker processes: the same lists from both, a change acknowledged by one
served by the other from the next request on (read-your-writes across workers), and a
model retrained into the folder and reloaded under concurrent requests with no failure.

Each request below opens a new connection (``httpx.get``), so the kernel hands it to
either worker; the header ``X-Worker`` says which one answered."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from servers import TOKEN, auth, folder_copy, sample_records
from recommender import ArticleRecommender
from recommender.cli import main

TIGER = "CNT000001r4edC"


def both_workers(server, tries: int = 400) -> set:
    """The process ids of the workers, from requests on new connections."""
    seen = set()
    for _ in range(tries):
        seen.add(server.get("/health").headers["x-worker"])
        if len(seen) == 2:
            break
    assert len(seen) == 2, f"one worker answered {tries} requests: {seen}"
    return seen


def twin_of(articles_path, source: str, new_id: str) -> dict:
    record = next(r for r in sample_records(articles_path) if r["id"] == source)
    return {**record, "id": new_id, "related": []}


@pytest.fixture
def two_workers(start, tmp_path, model_dir):
    folder = folder_copy(model_dir, tmp_path / "model")
    server = start(folder, "--workers", "2", env={"RECOMMENDER_TOKEN": TOKEN})
    server.folder = folder
    server.pids = both_workers(server)
    return server


def test_both_workers_answer_the_same_lists(two_workers, articles_path):
    lists = {}  # (source, worker) -> list
    for record in sample_records(articles_path):
        for _ in range(6):
            response = two_workers.get(f"/articles/{record['id']}/related",
                                       params={"k": 10, "explain": "true"})
            lists[record["id"], response.headers["x-worker"]] = response.json()
    compared = 0
    for (source, worker), body in lists.items():
        for other in two_workers.pids - {worker}:
            if (source, other) in lists:
                assert lists[source, other] == body
                compared += 1
    assert compared >= 10


def test_a_change_acknowledged_by_one_worker_is_served_by_every_worker(two_workers,
                                                                      articles_path):
    for round_ in range(3):
        new = f"rw-{round_}"
        ack = two_workers.post("/articles", json=twin_of(articles_path, TIGER, new),
                               headers=auth())
        assert ack.status_code == 200 and ack.json()["added"] == [new]
        version = ack.json()["model"]
        answered = {}
        for i in range(600):  # until both workers answered (a loaded machine may send
            if len(answered) == 2 and min(answered.values()) >= 10:  # many to one)
                break
            # new connections: either worker; every answer after the ack holds the article
            if i % 2:
                response = two_workers.get(f"/articles/{new}")
                assert response.status_code == 200, response.text
            else:
                response = two_workers.get(f"/articles/{TIGER}/related", params={"k": 10})
                assert new in [item["id"] for item in response.json()["items"]]
            assert response.json()["model"] == version
            answered[response.headers["x-worker"]] = answered.get(
                response.headers["x-worker"], 0) + 1
        assert set(answered) == two_workers.pids, answered  # both answered after the ack

    ack = two_workers.delete("/articles/rw-1", headers=auth())
    assert ack.status_code == 200
    answered = set()
    sources = [r["id"] for r in sample_records(articles_path)] + ["rw-0", "rw-2"]
    for round_ in range(10):  # every list, again until both workers answered
        for source in sources:
            response = two_workers.get(f"/articles/{source}/related",
                                       params={"k": 40, "max_age": "none"})
            assert "rw-1" not in [item["id"] for item in response.json()["items"]]
            assert two_workers.get("/articles/rw-1").status_code == 404
            answered.add(response.headers["x-worker"])
        if answered == two_workers.pids:
            break
    assert answered == two_workers.pids


def test_reload_under_concurrent_requests(two_workers, articles_path, tmp_path,
                                          restore_logging_and_warnings):
    """Requests keep coming (on kept-alive and on new connections) while a model is
    retrained into the folder and reloaded: none fails, and every request sent after the
    reload's answer is served by the new model, whichever worker answers."""
    old = two_workers.get("/health").json()["model"]
    stop = threading.Event()
    results = []  # (sent at, status, model version, worker)

    def hammer(keep_alive: bool):
        client = httpx.Client(timeout=30, limits=httpx.Limits(
            max_keepalive_connections=None if keep_alive else 0))
        source = TIGER
        while not stop.is_set():
            sent = time.monotonic()
            try:
                response = client.get(f"{two_workers.url}/articles/{source}/related",
                                      params={"k": 5})
                body = response.json()
                results.append((sent, response.status_code, body.get("model"),
                                response.headers.get("x-worker")))
            except Exception as exc:  # a failed request is a result too
                results.append((sent, repr(exc), None, None))

    threads = [threading.Thread(target=hammer, args=(keep,)) for keep in (True, False) * 2]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    while ArticleRecommender.load(two_workers.folder).info_["created"] == \
            time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()):
        time.sleep(0.1)  # the new model must be created in another second (its version)
    assert main(["train", str(articles_path), "--out", str(two_workers.folder), "--min-df", "2",
                 "--table-size", "20", "-q"]) == 0
    reload = two_workers.post("/admin/reload", headers=auth())
    acknowledged = time.monotonic()
    assert reload.status_code == 200, reload.text
    new = reload.json()["model"]
    assert new != old and reload.json()["previous"] in (old, new)
    deadline = time.monotonic() + 20  # until both workers answered after the reload
    while time.monotonic() < deadline and not (
            time.monotonic() > acknowledged + 1.0
            and {r[3] for r in list(results) if r[0] > acknowledged} >= two_workers.pids):
        time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join()
    failures = [r for r in results if r[1] != 200]
    assert not failures, failures[:5]
    after = [r for r in results if r[0] > acknowledged]
    assert len(after) > 20 and {r[2] for r in after} == {new}
    assert {r[3] for r in after} == two_workers.pids
    assert {r[2] for r in results} == {old, new}


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_stops_cleanly_and_removes_the_metrics_folder(start, tmp_path, model_dir,
                                                              workers):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    server = start(model_dir, "--workers", workers, "--read-only",
                   env={"TMPDIR": str(scratch)})
    assert server.get("/metrics").status_code == 200
    assert [p.name[:20] for p in scratch.iterdir()] == ["recommender-metrics-"]
    assert server.stop() == 0
    assert list(scratch.iterdir()) == []
    assert "Traceback" not in server.output()
