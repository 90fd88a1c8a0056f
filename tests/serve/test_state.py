"""How a worker follows its model folder (:mod:`recommender.serve.state`), in process: a
change made by another process is served after a refresh, a request keeps the snapshot it
started with, a reload swaps in a retrained model, and a damaged log is refused (503)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from servers import folder_copy, sample_records
from recommender import ArticleRecommender
from recommender.changelog import LOG_NAME
from recommender.serve.state import ServedModel

TIGER = "CNT000001r4edC"


@pytest.fixture
def folder(tmp_path, model_dir):
    return folder_copy(model_dir, tmp_path / "model")


@pytest.fixture
def twin(articles_path):
    record = next(r for r in sample_records(articles_path) if r["id"] == TIGER)
    return {**record, "id": "twin", "related": []}


def test_a_change_by_another_process_is_served_after_a_refresh(folder, twin):
    served = ServedModel(folder)
    held = served.current  # what a request that started now holds
    assert not served.stale()
    other = ArticleRecommender.load(folder)  # another worker, or `recommender add`
    other.add([twin])
    assert served.stale()
    assert served.refresh() is True and not served.stale()
    assert served.refresh() is False
    now = served.current
    assert "twin" in now.model and now.version.endswith("+1")
    assert now.status["articles"] == 42 and now.info("twin")["title"] == twin["title"]
    assert now.model.recommend(TIGER, 1)[0].tolist() == ["twin"]
    # the request that started before still reads its own snapshot, whole
    assert "twin" not in held.model and held.version.endswith("+0")
    assert held.model.recommend(TIGER, 1)[0].tolist() != ["twin"]


def test_writes_reach_the_other_workers(folder, twin):
    one, two = ServedModel(folder), ServedModel(folder)
    changes, version = one.add([twin])
    assert changes.added == ("twin",) and version == one.current.version
    assert "twin" in one.current.model and not one.stale()
    assert two.stale() and two.refresh()
    assert two.current.version == version
    changes, version = two.withdraw(["twin"])
    assert changes.withdrawn == ("twin",)
    assert one.stale() and one.refresh() and "twin" not in one.current.model
    assert one.current.version == two.current.version == version


def test_a_write_starts_from_the_latest_folder(folder, twin):
    one, two = ServedModel(folder), ServedModel(folder)
    one.add([twin])
    # `two` has not refreshed: its withdrawal of the article `one` added must see it
    changes, _ = two.withdraw(["twin"])
    assert changes.withdrawn == ("twin",) and changes.position == 2


def test_reload_swaps_in_a_retrained_model(folder, articles):
    served = ServedModel(folder)
    held = served.current
    retrained = ArticleRecommender(min_df=3, table_size=5).fit(articles)
    retrained.save(folder)
    assert served.stale()
    now = served.reload()
    assert now is served.current and not served.stale()
    assert now.model.min_df == 3 and now.model.table_indices_.shape[1] == 5
    # the held snapshot still answers, from the old model's files
    assert len(held.model.recommend(TIGER, 10)[0]) == 10
    again = served.reload()  # nothing changed: the folder is read again whole
    assert again is not now and again.version == now.version


def test_a_served_snapshot_scores_in_one_thread(folder):
    model = ArticleRecommender.load(folder)
    model.n_jobs = 2
    served = ServedModel(folder, model=model)
    assert served.current.model.n_jobs == 1 and model.n_jobs == 2


def test_a_damaged_log_is_503_and_the_worker_keeps_its_snapshot(folder, twin):
    from recommender.serve.app import create_app
    from recommender.serve.settings import Settings

    app = create_app(Settings(model_dir=str(folder)))
    model = ArticleRecommender.load(folder)
    model.add([twin])
    model.add([{**twin, "id": "twin-2"}])
    log = folder / LOG_NAME
    data = bytearray(log.read_bytes())
    data[20] ^= 0xFF  # the first change damaged, the second whole: not a torn tail
    log.write_bytes(bytes(data))

    async def calls():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
            return await client.get(f"/articles/{TIGER}/related")

    response = asyncio.run(calls())
    assert response.status_code == 503
    message = response.json()["error"]["message"]
    assert "the model folder cannot be read" in message and "damaged" in message
    assert app.state.served.current.version.endswith("+0")
