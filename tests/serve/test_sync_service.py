"""``recommender serve --sync URL``: the site's table of lists written at start, then kept
in step with the service's writes (an add, a withdrawal, a pin, a ban), checked in the
database itself against the lists the model serves; and a bad URL refused at start in one
line."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

pytest.importorskip("sqlalchemy")

from servers import TOKEN, auth, folder_copy, free_port, sample_records  # noqa: E402
from recommender import ArticleRecommender  # noqa: E402
from recommender.batch.database import read_lists, read_state  # noqa: E402

TIGER = "CNT000001r4edC"


def table_is_the_models(url, folder, k=10) -> bool:
    """Whether the table holds the list of every article the folder serves, exactly."""
    model = ArticleRecommender.load(folder)
    ids = model.served_ids().tolist()
    lists = read_lists(url)
    if set(lists) != set(ids):
        return False
    related, scores = model.recommend_batch(ids, k)
    for source, row, row_scores in zip(ids, related.tolist(), scores.tolist()):
        want = [r for r in row if r]
        if lists[source][0] != want:
            return False
        if any(abs(a - b) > 1e-4 * max(1.0, abs(b)) for a, b in zip(lists[source][1],
                                                                      row_scores)):
            return False
    return True


def wait_for(check, seconds=20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


def test_the_table_follows_the_services_writes(start, tmp_path, model_dir, articles_path):
    folder = folder_copy(model_dir, tmp_path / "model")
    url = f"sqlite:///{tmp_path / 'site.db'}"
    server = start(folder, "--sync", url, env={"RECOMMENDER_TOKEN": TOKEN})
    assert table_is_the_models(url, folder)  # written at start
    start_position = read_state(url)["changes"]

    ids = ArticleRecommender.load(folder).served_ids().tolist()
    record = next(r for r in sample_records(articles_path) if r["id"] == TIGER)
    assert server.post("/articles", json={**record, "id": "new-tiger"},
                       headers=auth()).status_code == 200
    assert server.client.put(f"/articles/{TIGER}/pins/{ids[0]}", headers=auth()
                             ).status_code == 200
    assert server.client.put(f"/bans/{ids[1]}", headers=auth()).status_code == 200
    assert server.delete(f"/articles/{ids[2]}", headers=auth()).status_code == 200
    assert wait_for(lambda: table_is_the_models(url, folder)), server.output()
    lists = read_lists(url)
    assert lists[TIGER][0][0] == ids[0] and "new-tiger" in lists and ids[2] not in lists
    assert all(ids[1] not in related for related, _ in lists.values())
    state = read_state(url)
    assert state["changes"] == start_position + 2  # the add and the withdrawal
    assert state["pins_revision"] == 2
    health = server.get("/health").json()
    assert health["sync"]["error"] is None and health["sync"]["last"]["position"] == 2


def test_a_bad_sync_url_is_refused_at_start_in_one_line(tmp_path, model_dir):
    command = [sys.executable, "-m", "recommender.cli", "serve", str(model_dir),
               "--port", str(free_port()), "--sync", "mysql+nodriver://user:hunter2@localhost/site"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("recommender serve: error: ")
    assert "hunter2" not in done.stderr
