"""What the editors' page reads, over HTTP on a real server: the search by id and title
words (accents and case ignored), the site's own box, the model's facts with the tuning
table and the report link, the report's files (and nothing outside its folder), and the
newsroom controls that change one answer only."""

from __future__ import annotations

import json

import pytest

from servers import TOKEN, auth, error_of, folder_copy, sample_records
from recommender import ArticleRecommender
from recommender.model.titles import fold

TIGER = "CNT000001r4edC"


@pytest.fixture(scope="module")
def records(articles_path) -> dict:
    return {r["id"]: r for r in sample_records(articles_path)}


def test_search_by_id_and_by_title_words(shared_server, records):
    body = shared_server.get("/search", params={"q": TIGER}).json()
    assert body["items"][0]["id"] == TIGER and body["items"][0]["title"] == \
        records[TIGER]["title"]
    title = records[TIGER]["title"]
    words = [w for w in fold(title).split() if len(w) > 3][:2]
    typed = " ".join(w.upper() for w in words)  # capitals and no accents
    found = shared_server.get("/search", params={"q": typed}).json()["items"]
    expected = [i for i, r in records.items() if all(w in fold(r["title"]) for w in words)]
    assert {item["id"] for item in found} == set(expected) and TIGER in expected
    dates = [item["published"] for item in found]
    assert dates == sorted(dates, reverse=True)  # newest first
    assert shared_server.get("/search", params={"q": "zzzyyyxxx"}).json()["items"] == []
    assert len(shared_server.get("/search", params={"q": "e", "limit": 3}).json()["items"]) \
        == 3
    assert "empty" in error_of(shared_server.get("/search", params={"q": " "}), 422)
    assert "limit must be from 1 to 100" in error_of(
        shared_server.get("/search", params={"q": "a", "limit": 0}), 422)


def test_the_site_list_is_the_corpus_box(shared_server, records):
    source = next(i for i, r in records.items() if len(r.get("related") or []) >= 2)
    items = shared_server.get(f"/articles/{source}/site").json()["items"]
    assert [item["id"] for item in items] == records[source]["related"]
    for item in items:
        known = item["id"] in records
        assert (item["title"] == records[item["id"]]["title"]) if known \
            else item["title"] is None
    bare = next(i for i, r in records.items() if not r.get("related"))
    assert shared_server.get(f"/articles/{bare}/site").json()["items"] == []
    assert "nope" in error_of(shared_server.get("/articles/nope/site"), 404)


def test_controls_change_one_answer_only(shared_server):
    plain = shared_server.get(f"/articles/{TIGER}/related", params={"k": 5}).json()
    lowest = plain["items"][-1]["score"]
    cut = shared_server.get(f"/articles/{TIGER}/related",
                            params={"k": 5, "min_score": lowest + 1e-3}).json()
    assert [i["id"] for i in cut["items"]] == [i["id"] for i in plain["items"]
                                               if i["score"] >= lowest + 1e-3]
    again = shared_server.get(f"/articles/{TIGER}/related", params={"k": 5}).json()
    assert again["items"] == plain["items"]  # the model kept its own controls
    model = shared_server.get("/model").json()
    assert model["controls"]["min_score"] is None and model["controls"]["diversity"] == 0.0
    assert "diversity" in error_of(shared_server.get(
        f"/articles/{TIGER}/related", params={"diversity": 2}), 422)
    assert "half_life must be a number" in error_of(shared_server.get(
        f"/articles/{TIGER}/related", params={"half_life": "soon"}), 422)
    draft = {"title": "Un tigre", "body": "Le tigre s'est échappé du zoo."}
    assert shared_server.post("/related", params={"k": 3, "dedupe": 0.9},
                              json=draft).status_code == 200


def test_the_model_facts_tuning_and_report(start, tmp_path, model_dir):
    folder = folder_copy(model_dir, tmp_path / "model")
    model = ArticleRecommender.load(folder)
    model.tuning_ = {"chosen": {"max_age": 30.0}, "rows": [
        {"group": "max age", "setting": "max age 30 days", "params": {"max_age": 30.0},
         "kept": True, "chosen": True, "TUNE": {"recall@10": 0.5}, "CONFIRM": {}}]}
    report = tmp_path / "report"
    report.mkdir()
    (report / "index.html").write_text("<h1>Rapport</h1>", encoding="utf-8")
    (report / "plot.svg").write_text("<svg/>", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("no", encoding="utf-8")
    model.save(folder)
    ArticleRecommender.load(folder).record_report(report / "index.html")
    server = start(folder, env={"RECOMMENDER_TOKEN": TOKEN})
    facts = server.get("/model").json()
    assert facts["tuning"] == model.tuning_ and facts["report"] == "/report/index.html"
    assert facts["max_pin_position"] == 40 and facts["articles"] == model.n_articles
    page = server.get("/report/index.html")
    assert page.text == "<h1>Rapport</h1>" and "script-src" not in \
        page.headers["content-security-policy"] and "default-src 'none'" in \
        page.headers["content-security-policy"]
    assert server.get("/report/plot.svg").status_code == 200
    assert "no file" in error_of(server.get("/report/..%2Fsecret.txt"), 404)
    assert "no file" in error_of(server.get("/report/missing.png"), 404)
    # a compaction keeps the report and the tuning table
    live = ArticleRecommender.load(folder)
    live.withdraw([TIGER])
    live.compact()
    again = ArticleRecommender.load(folder)
    assert again.report_ == str((report / "index.html").resolve())
    assert again.tuning_ == model.tuning_ and json.loads(
        (folder / "report.json").read_text("utf-8"))["page"] == again.report_
    assert server.post("/admin/reload", headers=auth()).status_code == 200
    assert server.get("/model").json()["report"] == "/report/index.html"


def test_a_model_without_report_or_tuning_says_null(shared_server):
    facts = shared_server.get("/model").json()
    assert facts["tuning"] is None and facts["report"] is None
    assert "no evaluation report" in error_of(shared_server.get("/report/index.html"), 404)
