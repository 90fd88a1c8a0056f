"""The routes of a real server over HTTP, against the library's own answers: related lists
(filters, explain), texts not in the model, articles, health, metrics, the OpenAPI page.
Every answer is checked against the model the server loaded (the sample model)."""

from __future__ import annotations

import re

import pytest

from servers import TOKEN, auth, sample_records

TIGER = "CNT000001r4edC"
SOURCES = (TIGER, "CNT000001q02vP", "CNT000001rcO7J")


def test_related_is_the_library_list(shared_server, small_model):
    version = shared_server.get("/health").json()["model"]
    for source in SOURCES:
        for k in (1, 5, 40):
            response = shared_server.get(f"/articles/{source}/related", params={"k": k})
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json"
            body = response.json()
            assert list(body) == ["id", "items", "model"]
            assert body["id"] == source and body["model"] == version
            ids, scores = small_model.recommend(source, k)
            assert [item["id"] for item in body["items"]] == ids.tolist()
            assert [item["score"] for item in body["items"]] == \
                pytest.approx(scores.tolist(), abs=1e-5)
            for item in body["items"]:
                assert list(item) == ["id", "score", "title", "published", "category"]
                info = small_model.article_info(item["id"])
                assert (item["title"], item["published"], item["category"]) == \
                    (info["title"], info["published"], info["category"])


def test_related_default_k_is_5(shared_server, small_model):
    body = shared_server.get(f"/articles/{TIGER}/related").json()
    assert [item["id"] for item in body["items"]] == small_model.recommend(TIGER)[0].tolist()


@pytest.mark.parametrize("params, filters", [
    ({"since": "2020-07-01"}, {"since": "2020-07-01"}),
    ({"until": "2020-08-01T00:00:00+02:00"}, {"until": "2020-08-01T00:00:00+02:00"}),
    ({"as_of": "2020-08-15", "max_age": "30"}, {"as_of": "2020-08-15", "max_age": 30.0}),
    ({"max_age": "none"}, {"max_age": float("inf")}),
    ({"max_age": "2.5"}, {"max_age": 2.5}),
    ({"category": "france"}, {"categories": ["france"]}),
    ([("category", "france"), ("category", "monde")], {"categories": ["france", "monde"]}),
    ({"as_of": "", "since": ""}, {}),  # an empty value is no filter
], ids=["since", "until", "as_of+max_age", "no-max-age", "max_age", "category",
        "categories", "empty"])
def test_related_filters_are_the_library_filters(shared_server, small_model, params, filters):
    k = 10
    query = [*(params.items() if isinstance(params, dict) else params), ("k", str(k))]
    body = shared_server.get(f"/articles/{TIGER}/related", params=query).json()
    ids, scores = small_model.recommend(TIGER, k, **filters)
    assert [item["id"] for item in body["items"]] == ids.tolist()
    assert [item["score"] for item in body["items"]] == pytest.approx(scores.tolist(), abs=1e-5)


def test_explain_gives_the_shared_words(shared_server, small_model):
    body = shared_server.get(f"/articles/{TIGER}/related",
                             params={"k": 3, "explain": "true"}).json()
    assert len(body["items"]) == 3
    for item in body["items"]:
        expected = small_model.explain(TIGER, item["id"], 5)
        assert [w["word"] for w in item["explain"]] == [word for word, _ in expected]
        assert [w["weight"] for w in item["explain"]] == \
            pytest.approx([c for _, c in expected], abs=1e-5)
        assert all(set(w) == {"word", "weight"} for w in item["explain"])
    plain = shared_server.get(f"/articles/{TIGER}/related", params={"explain": "false"})
    assert all("explain" not in item for item in plain.json()["items"])


def test_post_related_is_similar(shared_server, small_model, articles_path):
    record = next(r for r in sample_records(articles_path) if r["id"] == TIGER)
    text = {name: record[name] for name in ("title", "heading", "body", "published",
                                            "category")}
    response = shared_server.post("/related", json=text, params={"k": 7})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] is None
    ids, scores = small_model.similar(text, 7)
    assert [item["id"] for item in body["items"]] == ids.tolist()
    assert [item["score"] for item in body["items"]] == pytest.approx(scores.tolist(), abs=1e-5)
    # an id may come with the text; it need not be in the model
    named = shared_server.post("/related", json={**text, "id": "draft-1"},
                               params={"k": 2, "explain": "1"}).json()
    assert named["id"] == "draft-1"
    # an article of the model sent with its id (a page being edited) is not in its list
    assert ids[0] == TIGER
    edited = shared_server.post("/related", json={**text, "id": TIGER}, params={"k": 6})
    assert [item["id"] for item in edited.json()["items"]] == \
        small_model.similar(text, 6, exclude=[TIGER])[0].tolist()
    assert TIGER not in [item["id"] for item in edited.json()["items"]]
    query = small_model.vectorize(text)
    for item in named["items"]:
        expected = small_model.explain_vector(query, item["id"], 5)
        assert [w["word"] for w in item["explain"]] == [word for word, _ in expected]


def test_post_related_with_filters(shared_server, small_model):
    text = {"title": "Municipales : le second tour à Paris", "body": "Anne Hidalgo et "
            "Rachida Dati au second tour des municipales à Paris, les électeurs votent."}
    body = shared_server.post("/related", json=text,
                              params={"k": 4, "category": "france", "max_age": "none"}).json()
    ids, _ = small_model.similar(text, 4, categories=["france"], max_age=float("inf"))
    assert [item["id"] for item in body["items"]] == ids.tolist()


def test_get_article(shared_server, small_model):
    response = shared_server.get(f"/articles/{TIGER}")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("id", "title", "category", "published")} == \
        small_model.article_info(TIGER)
    assert body["model"] == shared_server.get("/health").json()["model"]


def test_health(shared_server):
    body = shared_server.get("/health").json()
    assert body["status"] == "ok"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00\+\d+", body["model"])
    assert body["articles"] >= 41 and body["read_only"] is False
    assert "last_change" in body and "reference" in body
    staleness = body["staleness"]
    for name in ("articles_added", "articles_withdrawn", "unknown_word_share", "idf_drift",
                 "advice"):
        assert name in staleness
    assert isinstance(body["worker"], int)


def test_every_answer_names_its_worker(shared_server):
    for path in ("/health", f"/articles/{TIGER}", "/articles/nope", "/no-route"):
        assert shared_server.get(path).headers["x-worker"].isdigit()


def test_metrics_in_the_prometheus_text_format(shared_server):
    shared_server.get(f"/articles/{TIGER}/related")
    shared_server.get("/articles/nope/related")
    response = shared_server.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    requests = [(name, value) for name, value in samples.items()
                if name.startswith("recommender_requests_total{")]
    assert any('route="/articles/{article}/related"' in name and 'status="200"' in name
               and 'method="GET"' in name and value >= 1 for name, value in requests)
    assert any('route="/articles/{article}/related"' in name and 'status="404"' in name
               for name, _ in requests)
    assert 'recommender_request_seconds_bucket{le="0.01",route="/articles/{article}/related"}' \
        in samples
    assert 'recommender_request_seconds_count{route="/articles/{article}/related"}' in samples
    assert samples["recommender_articles"] >= 41
    assert "# TYPE recommender_articles_added_total counter" in text
    assert "# TYPE recommender_request_seconds histogram" in text


def test_metrics_count_adds_and_withdrawals(shared_server, articles_path):
    def count(name):
        for line in shared_server.get("/metrics").text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return 0.0

    record = sample_records(articles_path)[2]
    before = {name: count(f"recommender_articles_{name}_total")
              for name in ("added", "updated", "withdrawn")}
    new = [{**record, "id": f"metrics-{i}"} for i in range(3)]
    assert shared_server.post("/articles", json={"articles": new}, headers=auth()).status_code \
        == 200
    assert shared_server.post("/articles", json=new[0], headers=auth()).status_code == 200
    assert shared_server.delete("/articles/metrics-1", headers=auth()).status_code == 200
    assert count("recommender_articles_added_total") == before["added"] + 3
    assert count("recommender_articles_updated_total") == before["updated"] + 1
    assert count("recommender_articles_withdrawn_total") == before["withdrawn"] + 1


def test_openapi_and_docs(shared_server):
    spec = shared_server.get("/openapi.json").json()
    assert {"/articles/{article}/related", "/related", "/articles", "/articles/{article}",
            "/health", "/metrics", "/admin/reload"} <= set(spec["paths"])
    parameters = {p["name"] for p in spec["paths"]["/articles/{article}/related"]["get"]
                  ["parameters"]}
    assert parameters == {"article", "k", "as_of", "max_age", "since", "until", "category",
                          "explain"}
    docs = shared_server.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_token_is_not_needed_to_read(shared_server):
    assert shared_server.get(f"/articles/{TIGER}/related",
                             headers=auth("wrong")).status_code == 200
    assert shared_server.get("/health").status_code == 200
    assert TOKEN not in shared_server.output()
