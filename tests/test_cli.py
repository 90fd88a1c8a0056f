"""The command line: happy paths on the sample, and one clean line for every user error."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys

import pytest

from recommender.model.estimator import DEFAULT_MAX_AGE
from recommender import ArticleRecommender
from recommender.cli import main
from recommender.text import tokenize

TIGER = "CNT000001r4edC"


# ``main`` configures logging and warnings for the process: undo it after each test.
pytestmark = pytest.mark.usefixtures("restore_logging_and_warnings")


@pytest.fixture
def model_copy(tmp_path, model_dir):
    """A copy of the session model folder that a test may damage."""
    return shutil.copytree(model_dir, tmp_path / "model")


def run(capsys, *argv):
    """``main(argv)`` -> (return code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(capsys, command, match, *argv):
    """Status 2 and exactly one line on stderr, ``recommender CMD: error: ...``."""
    code, out, err = run(capsys, command, *argv)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"recommender {command}: error: ")
    assert re.search(match, lines[0]), lines[0]


def sample_records(articles_path) -> dict:
    with open(articles_path, encoding="utf-8") as fh:
        return {r["id"]: r for r in map(json.loads, fh)}


# -- happy paths -----------------------------------------------------------------------------
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


@pytest.mark.parametrize("bad", ["-1", "2.5", "many"])
def test_train_bad_table_size(capsys, tmp_path, articles_path, bad):
    with pytest.raises(SystemExit) as exc:
        main(["train", str(articles_path), "--out", str(tmp_path / "m"), f"--table-size={bad}"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (f"recommender train: error: argument --table-size: "
                                    f"expected a non-negative integer (0 for no neighbour "
                                    f"table), got {bad!r}")
    assert "Traceback" not in err
    assert not (tmp_path / "m").exists()


def test_train_skip_invalid(capsys, tmp_path, articles_path):
    corpus = tmp_path / "a.jsonl"
    lines = articles_path.read_text(encoding="utf-8").splitlines()
    corpus.write_text("\n".join(lines[:5] + ["{broken"] + lines[5:]) + "\n", encoding="utf-8")
    assert_user_error(capsys, "train", r"a\.jsonl, line 6: malformed JSON", corpus, "--out",
                      tmp_path / "m")
    code, _, err = run(capsys, "train", corpus, "--out", tmp_path / "m", "--skip-invalid")
    assert code == 0
    assert "skipped 1 invalid lines, first: line 6: malformed JSON" in err
    assert ArticleRecommender.load(tmp_path / "m").n_articles == 41


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
@pytest.mark.parametrize("flag", ["--quiet", "-q"])
def test_quiet_is_accepted_by_every_command(capsys, tmp_path, model_dir, articles_path,
                                            related_path, page_path, command, argv, flag):
    values = {"corpus": articles_path, "tmp": tmp_path, "model": model_dir, "page": page_path,
              "truth": related_path}
    code, _, err = run(capsys, command, *[a.format(**values) for a in argv], flag)
    assert code == 0
    assert "INFO" not in err


# -- user errors -----------------------------------------------------------------------------
def test_train_missing_corpus(capsys, tmp_path):
    assert_user_error(capsys, "train", r"corpus file not found: .*nothere\.jsonl$",
                      tmp_path / "nothere.jsonl", "--out", tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_train_out_is_a_file_regression(capsys, tmp_path, articles_path):
    # FileExistsError was not a user error: the command ended in a traceback, and only
    # after the whole corpus was read and fitted.
    (tmp_path / "m").write_text("not a folder")
    assert_user_error(capsys, "train", r"m exists and is not a model folder; choose another "
                                       r"path$", articles_path, "--out", tmp_path / "m")
    assert (tmp_path / "m").read_text() == "not a folder"


def test_batch_out_under_a_file_regression(capsys, tmp_path, model_dir):
    (tmp_path / "f").write_text("not a folder")
    assert_user_error(capsys, "batch", r"File exists: .*f'", model_dir, "--out",
                      tmp_path / "f" / "out.jsonl", "-q")


def test_recommend_unknown_id(capsys, model_dir):
    assert_user_error(capsys, "recommend", r"Unknown article id 'CNT_NOPE': not among the 41 "
                                           r"articles of this model", model_dir, "CNT_NOPE")


@pytest.mark.parametrize("k, shown", [("0", "got 0"), ("abc", "got 'abc'"), ("-3", "got -3")])
def test_recommend_bad_k(capsys, model_dir, k, shown):
    with pytest.raises(SystemExit) as exc:
        main(["recommend", str(model_dir), TIGER, "-k", k])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (f"recommender recommend: error: argument -k: expected a "
                                    f"positive integer, {shown}")
    assert "Traceback" not in err


@pytest.mark.parametrize("ks", ["0", "2,x", "5,-1"])
def test_evaluate_bad_k(capsys, model_dir, related_path, ks):
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", str(model_dir), str(related_path), "-k", ks])
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"recommender evaluate: error: argument -k: expected k values like 2,5,10, got {ks!r}")


def test_bad_as_of(capsys, model_dir):
    with pytest.raises(SystemExit) as exc:
        main(["recommend", str(model_dir), TIGER, "--as-of", "hier"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith(
        "recommender recommend: error: argument --as-of: cannot read time 'hier': expected ISO")


def test_bad_max_age(capsys, model_dir):
    with pytest.raises(SystemExit) as exc:
        main(["batch", str(model_dir), "--out", "x.jsonl", "--max-age", "0"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "recommender batch: error: argument --max-age: expected a positive number of days, got 0")


def test_batch_bad_ids_line(capsys, tmp_path, model_dir):
    ids = tmp_path / "ids.tsv"
    ids.write_text(f"{TIGER}\nCNT000001r2yqP\tnot a date\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert_user_error(capsys, "batch", r"ids\.tsv, line 2: cannot read as-of time 'not a date'",
                      model_dir, "--out", out, "--ids", ids)
    assert not out.exists()


def test_batch_unknown_id(capsys, tmp_path, model_dir):
    ids = tmp_path / "ids.txt"
    ids.write_text(f"{TIGER}\nCNT_NOPE\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert_user_error(capsys, "batch", r"Unknown article id 'CNT_NOPE'", model_dir, "--out", out,
                      "--ids", ids)
    assert not out.exists()


def test_batch_bad_suffix(capsys, tmp_path, model_dir):
    assert_user_error(capsys, "batch", r"the output must end in \.jsonl or \.csv", model_dir,
                      "--out", tmp_path / "out.txt")


@pytest.mark.parametrize("command, extra", [("recommend", [TIGER]), ("batch", ["--out", "o.csv"]),
                                            ("evaluate", ["truth.tsv"])])
def test_missing_model_folder(capsys, tmp_path, command, extra):
    assert_user_error(capsys, command, r"model folder not found: .*nomodel\. Train one with "
                                       r"'recommender train CORPUS --out", tmp_path / "nomodel",
                      *extra)


def test_model_folder_of_another_format_version(capsys, model_copy):
    manifest = model_copy / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    assert data["format_version"] == 2
    data["format_version"] = 99
    manifest.write_text(json.dumps(data), encoding="utf-8")
    assert_user_error(capsys, "recommend", r"model format_version 99, but this version of "
                                           r"recommender reads formats 1 and 2\. "
                                           r"Retrain",
                      model_copy, TIGER)


def test_truncated_model_file(capsys, model_copy):
    file = model_copy / "matrix.data.npy"
    size = file.stat().st_size
    with open(file, "r+b") as fh:
        fh.truncate(size - 100)
    assert_user_error(capsys, "recommend",
                      rf"file matrix\.data\.npy has {size - 100:,} bytes, the manifest says "
                      rf"{size:,}: the model is truncated or damaged", model_copy, TIGER)


def test_folder_without_manifest(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    assert_user_error(capsys, "recommend", r"empty is not a model folder: it has no "
                                           r"manifest\.json", tmp_path / "empty", TIGER)


@pytest.mark.parametrize("content", ["", "  \n\n"])
def test_similar_empty_text_file(capsys, tmp_path, model_dir, content):
    text = tmp_path / "page.txt"
    text.write_text(content, encoding="utf-8")
    assert_user_error(capsys, "similar", r"page\.txt: the text file is empty$", model_dir,
                      "--text-file", text)


def test_similar_missing_and_non_utf8_text_file(capsys, tmp_path, model_dir):
    assert_user_error(capsys, "similar", r"text file not found: .*nothere\.txt", model_dir,
                      "--text-file", tmp_path / "nothere.txt")
    text = tmp_path / "latin1.txt"
    text.write_bytes("Élection".encode("latin-1"))
    assert_user_error(capsys, "similar", r"latin1\.txt: bytes that are not UTF-8 at offset 0",
                      model_dir, "--text-file", text)


def test_evaluate_missing_ground_truth(capsys, tmp_path, model_dir):
    assert_user_error(capsys, "evaluate", r"nothere\.jsonl", model_dir, tmp_path / "nothere.jsonl")


def test_console_script_error_has_no_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "recommender.cli", "recommend", str(tmp_path / "nomodel"), TIGER],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"recommender recommend: error: model folder not found: {tmp_path / 'nomodel'}. Train "
        f"one with 'recommender train CORPUS --out {tmp_path / 'nomodel'}'"]


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
    import zlib

    ids = set(sample_records(related_path.parent / "articles.jsonl"))
    links = set()
    for line in related_path.read_text("utf-8").splitlines()[1:]:
        source, target, *_ = line.split("\t")
        if source in ids and target in ids and zlib.crc32(source.encode()) % 2 == 0:
            links.add((source, target))
    return len({s for s, _ in links}), len(links)


def test_train_learn_half_needs_learn_from(capsys, tmp_path, articles_path):
    assert_user_error(capsys, "train", r"--learn-half needs --learn-from GROUND_TRUTH$",
                      articles_path, "--out", tmp_path / "m", "--learn-half", "even")
    assert not (tmp_path / "m").exists()


def test_train_learn_from_a_missing_file(capsys, tmp_path, articles_path):
    assert_user_error(capsys, "train", r"ground-truth file not found: .*missing\.tsv$",
                      articles_path, "--out", tmp_path / "m", "--learn-from",
                      tmp_path / "missing.tsv")
    assert not (tmp_path / "m").exists()


def test_train_max_age_and_no_max_age_together(capsys, tmp_path, articles_path):
    with pytest.raises(SystemExit) as exc:
        main(["train", str(articles_path), "--out", str(tmp_path / "m"), "--max-age", "3",
              "--no-max-age"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == ("recommender train: error: argument --no-max-age: not "
                                    "allowed with argument --max-age")
    assert not (tmp_path / "m").exists()


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
    page = (report / "index.html").read_text("utf-8")
    assert f"Split: learned from {n_lists} lists; evaluated only on sources it never saw" in page
    assert f"Reproduce: recommender evaluate {out} {related_path} --report {report}" in page
    lines = stdout.splitlines()
    assert lines[0].startswith(f"{37 - n_links} links from ")
    assert [line.split()[0] for line in lines[2:4]] == ["model", "content"]
    assert lines[-1].startswith(f"model = learned re-ranker, trained on {n_lists} lists "
                                f"({n_links} links); the {n_links} links of those lists are "
                                f"left out here")


def test_evaluate_report_refuses_no_baselines(capsys, tmp_path, model_dir, related_path):
    assert_user_error(capsys, "evaluate", r"--report shows the baselines; leave out "
                                          r"--no-baselines$",
                      model_dir, related_path, "--report", tmp_path / "r", "--no-baselines")
    assert not (tmp_path / "r").exists()


def test_evaluate_report_without_matplotlib(capsys, monkeypatch, tmp_path, model_dir,
                                            related_path):
    import recommender.evaluate.report

    def no_matplotlib():
        raise ImportError("the evaluation report draws its plots with matplotlib, which is "
                          f"not installed: {recommender.evaluate.report.INSTALL_HINT}")

    monkeypatch.setattr(recommender.evaluate.report, "_matplotlib", no_matplotlib)
    assert_user_error(capsys, "evaluate", r"matplotlib, which is not installed: pip install "
                                          r"'recommender\[report\]'$",
                      model_dir, related_path, "--report", tmp_path / "r")
