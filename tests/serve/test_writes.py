"""Live changes through the service: add, update, withdraw (and that a withdrawn article
leaves every list), durability across a restart, a read-only server, the token file, and
an admin call refused on an exposed server without a token."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from servers import TOKEN, auth, error_of, folder_copy, sample_records
from recommender import ArticleRecommender

TIGER = "CNT000001r4edC"


def twin_of(articles_path, source: str, new_id: str) -> dict:
    """A new article with the text of ``source``: it must come first in its lists."""
    record = next(r for r in sample_records(articles_path) if r["id"] == source)
    return {**record, "id": new_id, "related": []}


def every_list(server, ids, k=40) -> dict:
    """{id: [related ids]} of every article, with no freshness limit."""
    lists = {}
    for source in ids:
        response = server.get(f"/articles/{source}/related",
                              params={"k": k, "max_age": "none"})
        assert response.status_code == 200, (source, response.text)
        lists[source] = [item["id"] for item in response.json()["items"]]
    return lists


def test_add_then_update(shared_server, articles_path):
    new = twin_of(articles_path, TIGER, "live-twin")
    response = shared_server.post("/articles", json=new, headers=auth())
    assert response.status_code == 200
    body = response.json()
    assert body["added"] == ["live-twin"] and body["updated"] == [] and body["withdrawn"] == []
    assert body["position"] >= 1 and body["reference"]
    assert body["model"] == shared_server.get("/health").json()["model"]
    info = shared_server.get("/articles/live-twin").json()
    assert info["title"] == new["title"] and info["category"] == new["category"]
    # its own list, and the list of the article it copies: each other first
    mine = shared_server.get("/articles/live-twin/related", params={"k": 3}).json()["items"]
    assert mine[0]["id"] == TIGER
    theirs = shared_server.get(f"/articles/{TIGER}/related", params={"k": 3}).json()["items"]
    assert theirs[0]["id"] == "live-twin"
    # the same id again is an update: a new text
    other = twin_of(articles_path, "CNT000001q02vP", "live-twin")
    body = shared_server.post("/articles", json={"articles": [other]}, headers=auth()).json()
    assert body["added"] == [] and body["updated"] == ["live-twin"]
    assert shared_server.get("/articles/live-twin").json()["title"] == other["title"]
    # the service's lists are those of the library on the folder it serves
    model = ArticleRecommender.load(shared_server.folder)
    for source in ("live-twin", TIGER, "CNT000001q02vP"):
        items = shared_server.get(f"/articles/{source}/related", params={"k": 10}).json()
        assert [item["id"] for item in items["items"]] == \
            model.recommend(source, 10)[0].tolist()


def test_withdraw_leaves_every_list(shared_server, articles_path):
    ids = [r["id"] for r in sample_records(articles_path)]
    shared_server.post("/articles", json={"articles": [
        twin_of(articles_path, TIGER, "gone-twin"),
        twin_of(articles_path, "CNT000001rcO7J", "kept-twin")]}, headers=auth())
    before = every_list(shared_server, ids)
    assert sum("gone-twin" in items for items in before.values()) >= 1
    text = twin_of(articles_path, TIGER, "x")
    related = shared_server.post("/related", json=text, params={"k": 40, "max_age": "none"})
    assert "gone-twin" in [item["id"] for item in related.json()["items"]]

    response = shared_server.delete("/articles/gone-twin", headers=auth())
    assert response.status_code == 200
    assert response.json()["withdrawn"] == ["gone-twin"]
    assert "Unknown article id 'gone-twin'" in error_of(
        shared_server.get("/articles/gone-twin"), 404)
    error_of(shared_server.get("/articles/gone-twin/related"), 404)
    after = every_list(shared_server, [*ids, "kept-twin"])
    assert not any("gone-twin" in items for items in after.values())
    for filters in ({"k": 5}, {"k": 40, "category": "societe/environnement"},
                    {"k": 40, "since": "2020-01-01"}):
        for source in (TIGER, "kept-twin"):
            items = shared_server.get(f"/articles/{source}/related", params=filters).json()
            assert "gone-twin" not in [item["id"] for item in items["items"]]
    related = shared_server.post("/related", json=text, params={"k": 40, "max_age": "none"})
    assert "gone-twin" not in [item["id"] for item in related.json()["items"]]
    # a list it left is refilled, never served short (there are more than 40 candidates)
    assert "gone-twin" in before[TIGER] and len(after[TIGER]) == len(before[TIGER]) == 40
    # withdrawing it again: it is unknown now
    error_of(shared_server.delete("/articles/gone-twin", headers=auth()), 404)


def test_changes_are_durable_across_a_restart(start, tmp_path, model_dir, articles_path):
    folder = folder_copy(model_dir, tmp_path / "model")
    server = start(folder)  # loopback without a token: writes are open
    assert server.post("/articles", json=twin_of(articles_path, TIGER, "kept")).status_code \
        == 200
    assert server.delete("/articles/CNT000001q02vP").status_code == 200
    lists = server.get(f"/articles/{TIGER}/related", params={"k": 10}).json()["items"]
    assert "no token" in server.output()
    server.stop()
    model = ArticleRecommender.load(folder)
    assert "kept" in model and "CNT000001q02vP" not in model
    assert model.recommend(TIGER, 10)[0].tolist() == [item["id"] for item in lists]
    again = start(folder)
    assert again.get("/articles/kept").status_code == 200
    assert again.get("/articles/CNT000001q02vP").status_code == 404


def test_read_only_server(start, tmp_path, model_dir, articles_path):
    folder = folder_copy(model_dir, tmp_path / "model")
    server = start(folder, "--read-only", env={"RECOMMENDER_TOKEN": TOKEN})
    assert server.get("/health").json()["read_only"] is True
    for response, allow in (
            (server.post("/articles", json={"id": "x", "title": "t"}, headers=auth()), ""),
            (server.post("/articles", json={"id": "x", "title": "t"}), ""),
            (server.delete(f"/articles/{TIGER}", headers=auth()), "GET")):
        message = error_of(response, 405)
        assert "this server is read-only (started with --read-only)" in message
        assert response.headers["allow"] == allow
    assert server.get(f"/articles/{TIGER}").status_code == 200
    # it follows the folder all the same: a change made by another process is served
    model = ArticleRecommender.load(folder)
    model.add([twin_of(articles_path, TIGER, "from-cli")])
    assert server.get("/articles/from-cli").status_code == 200
    items = server.get(f"/articles/{TIGER}/related", params={"k": 1}).json()["items"]
    assert items[0]["id"] == "from-cli"
    # the admin call needs the token, and works
    error_of(server.post("/admin/reload"), 401)
    reload = server.post("/admin/reload", headers=auth())
    assert reload.status_code == 200
    assert reload.json()["model"].endswith("+1") and reload.json()["articles"] == 42


def test_token_file(start, tmp_path, model_dir):
    token_file = tmp_path / "token"
    token_file.write_text("from-the-file\n")
    folder = folder_copy(model_dir, tmp_path / "model")
    server = start(folder, "--token-file", token_file, env={"RECOMMENDER_TOKEN": TOKEN})
    body = {"id": "tokened", "title": "Un article", "body": "Un texte sur Paris."}
    assert "wrong token" in error_of(server.post("/articles", json=body, headers=auth()), 403)
    response = server.post("/articles", json=body, headers=auth("from-the-file"))
    assert response.status_code == 200 and response.json()["added"] == ["tokened"]
    assert "from-the-file" not in server.output()


def test_admin_is_refused_on_an_exposed_server_without_token(model_dir):
    """A read-only server on a non-loopback address may start without a token, but then
    nobody may call /admin/reload (in process: the tests do not listen on a public
    address)."""
    from recommender.serve.app import create_app
    from recommender.serve.settings import Settings

    app = create_app(Settings(model_dir=str(model_dir), read_only=True, loopback=False))

    async def calls():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
            return (await client.post("/admin/reload"),
                    await client.get(f"/articles/{TIGER}/related"))

    reload, related = asyncio.run(calls())
    message = error_of(reload, 403)
    assert "this server has no token" in message and "RECOMMENDER_TOKEN" in message
    assert related.status_code == 200


@pytest.mark.parametrize("reader", ["library", "service"])
def test_a_withdrawn_article_leaves_every_list_of_a_table_model(start, tmp_path, model_dir,
                                                               articles_path, reader):
    """Withdraw an article that is in many lists; none of the 41 lists (k 40, every
    filter that reads the table or scores) holds it, through the library and the service."""
    folder = folder_copy(model_dir, tmp_path / "model")
    ids = [r["id"] for r in sample_records(articles_path)]
    model = ArticleRecommender.load(folder)
    counts = {}
    for source in ids:
        for other in model.recommend(source, 40, max_age=float("inf"))[0].tolist():
            counts[other] = counts.get(other, 0) + 1
    target = max(counts, key=counts.get)
    assert counts[target] >= 10
    if reader == "library":
        model.withdraw([target])
        for source in ids:
            if source != target:
                for filters in ({}, {"max_age": float("inf")}, {"since": "2000-01-01"}):
                    assert target not in model.recommend(source, 40, **filters)[0].tolist()
        return
    server = start(folder)
    assert server.delete(f"/articles/{target}").status_code == 200
    lists = every_list(server, [i for i in ids if i != target])
    assert not any(target in items for items in lists.values())
