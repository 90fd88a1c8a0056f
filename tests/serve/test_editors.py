"""The editors' routes over HTTP, on a real server: pin, ban (one list, every list), undo;
the lists and their ``pinned`` marks as a client reads them, in another server process on
the same folder too; and every refusal (token, unknown id, taken position, bad position)
with its status and message."""

from __future__ import annotations

import pytest

from servers import TOKEN, auth, error_of, folder_copy
from recommender import ArticleRecommender

TIGER = "CNT000001r4edC"


@pytest.fixture
def folder(tmp_path, model_dir):
    return folder_copy(model_dir, tmp_path / "model")


def related(server, source, k=5) -> list:
    response = server.get(f"/articles/{source}/related", params={"k": k, "explain": "true"})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_pins_and_bans_through_the_api(start, folder):
    server = start(folder, env={"RECOMMENDER_TOKEN": TOKEN})
    other_server = start(folder, env={"RECOMMENDER_TOKEN": TOKEN})  # another process
    organic = [item["id"] for item in related(server, TIGER)]
    ids = ArticleRecommender.load(folder).served_ids().tolist()
    far = next(i for i in reversed(ids) if i not in organic and i != TIGER)
    version = server.get("/health").json()["model"]

    response = server.client.put(f"/articles/{TIGER}/pins/{far}", params={"position": 2},
                                 headers=auth())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["pins"] == [{"id": far, "position": 2}] and body["model"].endswith("+pins1")
    assert body["model"] != version
    for reader in (server, other_server):
        items = related(reader, TIGER)
        assert [i["id"] for i in items] == [organic[0], far, *organic[1:4]]
        assert items[1]["pinned"] is True and items[1]["explain"]
        assert not any(i.get("pinned") for i in items if i["id"] != far)

    response = server.client.put(f"/articles/{TIGER}/bans/{organic[0]}", headers=auth())
    assert response.json()["bans"] == [organic[0]]
    response = server.client.put(f"/bans/{organic[1]}", headers=auth())
    assert response.json()["banned_everywhere"] is True
    listed = [i["id"] for i in related(other_server, TIGER)]
    assert listed[1] == far and organic[0] not in listed and organic[1] not in listed
    for source in ids[:10]:
        assert organic[1] not in [i["id"] for i in related(other_server, source, 10)]
    text = {"title": "Tigre", "body": "Un tigre s'est échappé"}
    assert organic[1] not in [i["id"] for i in
                              server.post("/related", json=text).json()["items"]]
    pins = other_server.get(f"/articles/{TIGER}/pins").json()
    assert pins["pins"] == [{"id": far, "position": 2}] and pins["bans"] == [organic[0]]
    assert server.get("/pins").json()["revision"] == 3

    for path in (f"/articles/{TIGER}/pins/{far}", f"/articles/{TIGER}/bans/{organic[0]}",
                 f"/bans/{organic[1]}"):
        assert server.delete(path, headers=auth()).status_code == 200
    assert [i["id"] for i in related(other_server, TIGER)] == organic
    assert ArticleRecommender.load(folder).pins_revision() == 6  # in the folder


def test_refusals_have_a_status_and_a_message(start, folder):
    server = start(folder, env={"RECOMMENDER_TOKEN": TOKEN})
    ids = ArticleRecommender.load(folder).served_ids().tolist()
    a, b, c = TIGER, ids[0], ids[1]
    put = server.client.put
    assert "token" in error_of(put(f"/articles/{a}/pins/{b}"), 401)
    assert "token" in error_of(put(f"/articles/{a}/pins/{b}", headers=auth("wrong")), 403)
    assert "nope" in error_of(put(f"/articles/{a}/pins/nope", headers=auth()), 404)
    assert "nope" in error_of(put(f"/articles/nope/bans/{b}", headers=auth()), 404)
    assert "nope" in error_of(server.get("/articles/nope/pins"), 404)
    assert put(f"/articles/{a}/pins/{b}", json={"position": 3}, headers=auth()).status_code \
        == 200
    message = error_of(put(f"/articles/{a}/pins/{c}", params={"position": 3},
                           headers=auth()), 409)
    assert message == f"position 3 of the list of '{a}' is pinned to '{b}' already: unpin " \
                      f"it first"
    assert "from 1 to 40" in error_of(put(f"/articles/{a}/pins/{c}", params={"position": 41},
                                          headers=auth()), 422)
    assert "whole number from 1, got 'x'" in error_of(
        put(f"/articles/{a}/pins/{c}", params={"position": "x"}, headers=auth()), 422)
    assert "whole number from 1, got 0" in error_of(
        put(f"/articles/{a}/pins/{c}", json={"position": 0}, headers=auth()), 422)
    assert '{"position": P}' in error_of(
        put(f"/articles/{a}/pins/{c}", json={"rank": 2}, headers=auth()), 422)
    assert f"'{c}' is not pinned in the list of '{a}'" == error_of(
        server.delete(f"/articles/{a}/pins/{c}", headers=auth()), 404)
    assert f"'{c}' is not banned from every list" == error_of(
        server.delete(f"/bans/{c}", headers=auth()), 404)
    assert ArticleRecommender.load(folder).pins_.pins_of(a) == [(b, 3)]  # nothing else


def test_a_read_only_server_refuses_edits(start, folder):
    server = start(folder, "--read-only", env={"RECOMMENDER_TOKEN": TOKEN})
    message = error_of(server.client.put(f"/bans/{TIGER}", headers=auth()), 405)
    assert "read-only" in message
