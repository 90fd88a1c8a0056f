"""The command line's happy paths on the sample: each subcommand's output against the
library's own answer (user errors and bugs: test_cli_errors.py)."""

from __future__ import annotations

import csv
import json
import zlib

import pytest

from recommender import ArticleRecommender
from recommender.cli import main
from recommender.model.estimator import DEFAULT_MAX_AGE
from recommender.text import tokenize

TIGER = "CNT000001r4edC"


# ``main`` configures logging and warnings for the process: undo it after each test.
pytestmark = pytest.mark.usefixtures("restore_logging_and_warnings")


def run(capsys, *argv):
    """``main(argv)`` -> (return code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def sample_records(articles_path) -> dict:
    with open(articles_path, encoding="utf-8") as fh:
        return {r["id"]: r for r in map(json.loads, fh)}


def test_train_default_max_age_is_the_tuned_one(capsys, tmp_path, articles_path, small_model):
    out = tmp_path / "m"
    assert run(capsys, "train", articles_path, "--out", out, "--min-df", "2", "-q")[0] == 0
    model = ArticleRecommender.load(out)
    assert model.max_age_days_ == DEFAULT_MAX_AGE == 62
    ids, _ = model.recommend(TIGER, 40)
    assert ids.tolist() == small_model.recommend(TIGER, 40, max_age=62)[0].tolist()
    assert len(ids) < len(small_model.recommend(TIGER, 40)[0])


def test_train_writes_a_model_equal_to_fit(capsys, tmp_path, articles_path, small_model):
    out = tmp_path / "models" / "m"
    code, stdout, err = run(capsys, "train", articles_path, "--out", out, "--min-df", "2",
                            "--no-max-age")
    assert code == 0
    assert (out / "manifest.json").is_file()
    assert "INFO: trained on 41 articles (0 without text)" in err
    assert "10 'related' ids are not articles of this corpus" in err  # the CorpusWarning
    assert "Traceback" not in err
    model = ArticleRecommender.load(out)
    assert model.ids_.tolist() == small_model.ids_.tolist()
    for source in (TIGER, "CNT000001q02vP"):
        ids, scores = model.recommend(source, 5)
        expected_ids, expected_scores = small_model.recommend(source, 5)
        assert ids.tolist() == expected_ids.tolist()
        assert scores.tolist() == pytest.approx(expected_scores.tolist(), abs=1e-6)


def test_train_table_size(capsys, tmp_path, articles_path):
    code, _, _ = run(capsys, "train", articles_path, "--out", tmp_path / "m", "--min-df", "2",
                     "--table-size", "7")
    assert code == 0
    assert ArticleRecommender.load(tmp_path / "m").table_indices_.shape == (41, 7)
    code, _, _ = run(capsys, "train", articles_path, "--out", tmp_path / "m", "--min-df", "2",
                     "--table-size", "0")
    assert code == 0
    assert ArticleRecommender.load(tmp_path / "m").table_indices_ is None
    assert not (tmp_path / "m" / "table.indices.npy").exists()



def test_recommend(capsys, model_dir, small_model):
    code, out, err = run(capsys, "recommend", model_dir, TIGER, "-k", "3")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == ("Related to CNT000001r4edC: Indonésie: un tigre de Sumatra découvert "
                        "empoisonné")
    ids, _ = small_model.recommend(TIGER, 3)
    assert len(lines) == 4
    for rank, (line, other) in enumerate(zip(lines[1:], ids.tolist()), start=1):
        assert line.lstrip().startswith(f"{rank}. ")
        assert other in line


def test_recommend_json(capsys, model_dir, small_model):
    code, out, _ = run(capsys, "recommend", model_dir, TIGER, "-k", "4", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["source"]["id"] == TIGER
    assert report["source"]["published"] == "2020-06-23T14:47:45+00:00"  # 16:47:45+02:00
    ids, scores = small_model.recommend(TIGER, 4)
    assert [r["id"] for r in report["related"]] == ids.tolist()
    assert [r["rank"] for r in report["related"]] == [1, 2, 3, 4]
    assert [r["score"] for r in report["related"]] == pytest.approx(scores.tolist(), abs=1e-6)
    # The site's own related list for the tiger story is the model's top two.
    assert {r["id"] for r in report["related"][:2]} == {"CNT000001rdIhh", "CNT000001r2yqP"}


def test_recommend_category_and_time_filters(capsys, model_dir, small_model):
    code, out, _ = run(capsys, "recommend", model_dir, TIGER, "-k", "10", "--json",
                       "--category", "societe/insolite", "--category", "politique",
                       "--until", "2020-06-20")
    assert code == 0
    related = json.loads(out)["related"]
    expected = small_model.recommend(TIGER, 10, categories=["societe/insolite", "politique"],
                                     until="2020-06-20")[0].tolist()
    assert [r["id"] for r in related] == expected
    assert related and all(r["category"] in ("societe/insolite", "politique") and
                           r["published"] < "2020-06-20" for r in related)


def test_recommend_explain_shows_words_not_stems(capsys, model_dir, articles_path):
    code, out, _ = run(capsys, "recommend", model_dir, TIGER, "-k", "2", "--explain", "--json")
    assert code == 0
    records = sample_records(articles_path)

    def words_of(article_id):
        r = records[article_id]
        return set(tokenize(" ".join((r["title"], r["heading"], r["body"]))))

    source_words = words_of(TIGER)
    for item in json.loads(out)["related"]:
        shared = [w for w, _ in item["shared_words"]]
        assert len(shared) == 5
        # Each shown word is a word form of both texts: a stem such as "empoison" is not.
        target_words = words_of(item["id"])
        assert all(w in source_words and w in target_words for w in shared), shared
        assert "tigre" in shared
        contributions = [c for _, c in item["shared_words"]]
        assert contributions == sorted(contributions, reverse=True)
        assert sum(contributions) <= item["score"] + 1e-6

    code, out, _ = run(capsys, "recommend", model_dir, TIGER, "-k", "1", "--explain")
    assert code == 0
    assert "       shared: " in out and "tigre (" in out


def test_similar_on_the_example_page(capsys, model_dir, page_path):
    code, out, _ = run(capsys, "similar", model_dir, "--text-file", page_path, "-k", "3",
                       "--json")
    assert code == 0
    report = json.loads(out)
    assert report["source"]["id"] is None
    assert report["source"]["title"] == "Indonésie: un tigre de Sumatra découvert empoisonné"
    ids = [r["id"] for r in report["related"]]
    assert ids[0] == TIGER  # the page is that article's text
    assert set(ids[1:]) <= {"CNT000001rdIhh", "CNT000001r2yqP", "CNT000000qbLYj"}
    code, out, _ = run(capsys, "similar", model_dir, "--text-file", page_path, "--explain")
    assert code == 0 and out.startswith(f"Related to {page_path}: Indonésie")


def test_batch_jsonl_and_ids_with_as_of(capsys, tmp_path, model_dir, small_model):
    out = tmp_path / "all.jsonl"
    code, _, err = run(capsys, "batch", model_dir, "--out", out, "-k", "4", "--quiet")
    assert code == 0 and err == ""
    with open(out, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    assert len(rows) == 41
    for row in rows:
        assert [r["id"] for r in row["related"]] == small_model.recommend(row["id"], 4)[0].tolist()

    ids = tmp_path / "ids.tsv"
    ids.write_text(f"{TIGER}\t2020-06-25\nCNT000001r2yqP\n", encoding="utf-8")
    out = tmp_path / "some.csv"
    code, _, _ = run(capsys, "batch", model_dir, "--out", out, "--ids", ids, "-k", "40",
                     "--as-of", "2020-06-27", "-q")
    assert code == 0
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    tiger = [r["related_id"] for r in rows if r["id"] == TIGER]
    other = [r["related_id"] for r in rows if r["id"] == "CNT000001r2yqP"]
    assert tiger == small_model.recommend(TIGER, 40, as_of="2020-06-25")[0].tolist()
    # A line without a time takes --as-of.
    assert other == small_model.recommend("CNT000001r2yqP", 40, as_of="2020-06-27")[0].tolist()
    assert "CNT000001rdIhh" not in tiger + other  # published on June 29


def _links(articles_path, related_path):
    ids = set(sample_records(articles_path))
    with open(related_path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return ids, rows


def test_evaluate_json(capsys, model_dir, articles_path, related_path):
    ids, rows = _links(articles_path, related_path)
    assert len(rows) == 47
    missing = [r for r in rows if r["target_id"] not in ids]
    kept = [r for r in rows if r["target_id"] in ids]
    assert len(missing) == 10  # tests/data/README.md says so too
    code, out, _ = run(capsys, "evaluate", model_dir, related_path, "--json", "-q")
    assert code == 0
    report = json.loads(out)
    keys = {"n_sources", "n_links", "missing_targets", "recall@2", "recall@5", "recall@10",
            "mrr", "ndcg@10", "coverage", "baselines"}
    assert keys <= set(report)
    assert report["missing_targets"] == 10
    assert report["n_links"] == len(kept) == 37
    assert report["n_sources"] == len({r["source_id"] for r in kept}) == 24
    assert set(report["baselines"]) == {"random", "recent_same_category"}
    for values in (report, *report["baselines"].values()):
        for key in ("recall@2", "recall@5", "recall@10", "mrr", "ndcg@10", "coverage"):
            assert 0 <= values[key] <= 1
        assert values["recall@2"] <= values["recall@5"] <= values["recall@10"]
    # Ranking by text beats ranking at random on the site's own lists.
    assert report["mrr"] > report["baselines"]["random"]["mrr"]


def test_evaluate_table_and_corpus_ground_truth(capsys, model_dir, articles_path):
    code, out, _ = run(capsys, "evaluate", model_dir, articles_path, "-k", "1,3", "-q",
                       "--no-baselines")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("37 links from 24 source articles")
    assert lines[0].endswith("10 links with a target not in the model left out")
    assert lines[1].split() == ["recall@1", "recall@3", "mrr", "ndcg@10", "coverage"]
    assert len(lines) == 3 and lines[2].startswith("model")


@pytest.mark.parametrize("command, argv", [
    ("train", ["{corpus}", "--out", "{tmp}/m"]),
    ("recommend", ["{model}", TIGER]),
    ("similar", ["{model}", "--text-file", "{page}"]),
    ("batch", ["{model}", "--out", "{tmp}/out.jsonl"]),
    ("evaluate", ["{model}", "{truth}"]),
])
@pytest.mark.parametrize("flags", [["--quiet"], ["-q"], ["-q", "--debug"]])
def test_quiet_and_debug_are_accepted_by_every_command(capsys, tmp_path, model_dir,
                                                      articles_path, related_path, page_path,
                                                      command, argv, flags):
    values = {"corpus": articles_path, "tmp": tmp_path, "model": model_dir, "page": page_path,
              "truth": related_path}
    code, _, err = run(capsys, command, *[a.format(**values) for a in argv], *flags)
    assert code == 0
    assert "INFO" not in err



def test_evaluate_table_says_what_was_left_out(capsys, tmp_path, model_dir):
    """A TSV without shown_at, a repeated link, an unknown source and an unknown target:
    the table's first line counts each, and says the lists were ranked without a time."""
    tsv = tmp_path / "links.tsv"
    tsv.write_text("source_id\ttarget_id\n"
                   "CNT000001r4edC\tCNT000001r2yqP\n"
                   "CNT000001r4edC\tCNT000001r2yqP\n"
                   "NOT-AN-ID\tCNT000001r2yqP\n"
                   "CNT000001r4edC\tNOT-A-TARGET\n", encoding="utf-8")
    code, out, _ = run(capsys, "evaluate", model_dir, tsv, "--no-baselines", "-q")
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("1 links from 1 source articles, ranked as of when each list was "
                            "shown (1 lists without a time: against every article), max age "
                            "none; 1 links with a target not in the model and 1 with a source "
                            "not in it and 1 repeated links left out")



# -- learned mode and the evaluation report -------------------------------------------------
def even_half(related_path) -> tuple[int, int]:
    """(lists, links) of the sample's TSV links with both ends in the sample and a source
    whose crc32 is even, counted from the files."""
    ids = set(sample_records(related_path.parent / "articles.jsonl"))
    links = set()
    for line in related_path.read_text("utf-8").splitlines()[1:]:
        source, target, *_ = line.split("\t")
        if source in ids and target in ids and zlib.crc32(source.encode()) % 2 == 0:
            links.add((source, target))
    return len({s for s, _ in links}), len(links)



def test_train_no_max_age(capsys, tmp_path, articles_path):
    out = tmp_path / "m"
    assert run(capsys, "train", articles_path, "--out", out, "--min-df", "2", "--no-max-age",
               "-q")[0] == 0
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["params"]["max_age"] is None and "learned" not in manifest
    assert ArticleRecommender.load(out).max_age_days_ is None


def test_train_learned_then_evaluate_with_a_report(capsys, tmp_path, articles_path,
                                                   related_path):
    out = tmp_path / "m"
    code, _, err = run(capsys, "train", articles_path, "--out", out, "--min-df", "2",
                       "--learn-from", related_path, "--learn-half", "even", "--jobs", "1")
    assert code == 0, err
    n_lists, n_links = even_half(related_path)
    assert (n_lists, n_links) == (10, 15)
    assert f"INFO: learned from {n_lists} lists ({n_links} links) of {related_path}" in err
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["learned"]["n_lists"] == n_lists
    assert manifest["learned"]["n_links"] == n_links
    assert manifest["params"]["max_age"] == DEFAULT_MAX_AGE
    assert {f for f in manifest["files"] if f.startswith("reranker.")} == {
        f"reranker.{n}.npy" for n in ("feature", "threshold", "left", "right", "missing_left",
                                      "is_leaf", "value", "roots", "links", "sources")}

    report = tmp_path / "report"
    code, stdout, err = run(capsys, "evaluate", out, related_path, "--report", report)
    assert code == 0, err
    assert f"INFO: report written to {report / 'index.html'}" in err
    for name in ("index.html", "recall_at_k.png", "mrr_at_k.png"):
        assert (report / name).is_file()
    # the model folder says where its report is (the editors' page links to it)
    assert ArticleRecommender.load(out).report_ == str((report / "index.html").resolve())
    page = (report / "index.html").read_text("utf-8")
    assert f"Split: learned from {n_lists} lists; evaluated only on sources it never saw" in page
    assert f"Reproduce: recommender evaluate {out} {related_path} --report {report}" in page
    lines = stdout.splitlines()
    assert lines[0].startswith(f"{37 - n_links} links from ")
    assert [line.split()[0] for line in lines[2:4]] == ["model", "content"]
    assert lines[-1].startswith(f"model = learned re-ranker, trained on {n_lists} lists "
                                f"({n_links} links); the {n_links} links of those lists are "
                                f"left out here")

