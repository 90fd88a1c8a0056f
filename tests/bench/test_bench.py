"""The benchmark: the JSON rows of a tiny run, the competitors' adapters, bad CLI inputs."""

from __future__ import annotations

import builtins
import gzip
import json

import numpy as np
import pytest

from recommender.bench.competitors import (COMPETITORS, CompetitorMissing, agreement,
                                           drop_self, sklearn_brute)
from recommender.bench.run import Bench, write_json
from recommender.cli import main
from recommender.errors import MissingDependencyError
from recommender.index.topk import top_k

STAGES = {"read corpus", "save", "load (mlt)", "all-pairs top-5 exact",
          "all-pairs top-5 approx", "write batch JSONL top-5",
          *(f"{stage} ({scoring})" for scoring in ("mlt", "cosine") for stage in (
              "fit", "neighbour table top-50", "batch top-5, whole archive",
              "batch top-5, newest 62 days")),
          *(f"{call} ({scoring}) p{p}" for scoring in ("mlt", "cosine")
            for call in ("recommend()", "similar(text)") for p in (50, 99)),
          *(f"{stage}: mlt / cosine" for stage in (
              "fit", "neighbour table top-50", "batch top-5, whole archive",
              "batch top-5, newest 62 days"))}


# ``main`` configures logging and warnings for the process: undo it after each test.
pytestmark = pytest.mark.usefixtures("restore_logging_and_warnings")


@pytest.fixture(scope="module")
def tiny_report(articles_path):
    bench = Bench(articles_path, scales=["real", "60"], jobs=[1], repeats=1, k=5, sample=20,
                  competitors=["sklearn"], print_fn=lambda line: None)
    return bench.run()


def test_a_tiny_run_has_every_stage(tiny_report):
    rows = tiny_report["rows"]
    assert STAGES <= {r["stage"] for r in rows}
    for row in rows:
        assert {"scale", "n_articles", "stage", "competitor", "threads", "seconds",
                "peak_rss_mb"} <= set(row)
    real = [r for r in rows if r["scale"] == "real" and r["stage"] != "read corpus"]
    assert all(r["n_articles"] == 41 for r in real)
    synthetic = [r for r in rows if r["scale"] == "60"]
    assert synthetic and all(r["n_articles"] == 60 for r in synthetic)
    fit = next(r for r in real if r["stage"].startswith("fit"))
    assert fit["vocabulary"] > 0 and fit["nnz"] > 0 and fit["words_per_article"] > 50
    save = next(r for r in real if r["stage"] == "save")
    assert save["bytes_per_article"] == pytest.approx(save["folder_bytes"] / 41, abs=0.1)
    approx = next(r for r in real if r["stage"] == "all-pairs top-5 approx")
    assert 0 <= approx["recall_vs_exact"] <= 1


def test_each_ratio_is_that_of_the_two_scorings_timed_together(tiny_report):
    rows = [r for r in tiny_report["rows"] if r["scale"] == "real"]
    ratios = [r for r in rows if r["stage"].endswith(": mlt / cosine")]
    assert len(ratios) == 4
    for ratio in ratios:
        stage = ratio["stage"].removesuffix(": mlt / cosine")
        mlt, cosine = (next(r for r in rows if r["stage"] == f"{stage} ({scoring})"
                            and r["threads"] == ratio["threads"])
                       for scoring in ("mlt", "cosine"))
        assert ratio["ratio"] == pytest.approx(mlt["seconds"] / cosine["seconds"], rel=1e-3,
                                               abs=2e-3)


def test_competitor_rows_have_a_ratio_and_agreement(tiny_report):
    row = next(r for r in tiny_report["rows"] if r["competitor"] == "sklearn"
               and r["scale"] == "real")
    ours = next(r for r in tiny_report["rows"] if r["competitor"] == "ours" and r["scale"] == "real"
                and r["stage"] == "all-pairs top-5 exact")
    assert row["ratio"] == pytest.approx(ours["seconds"] / row["seconds"], rel=0.01, abs=1e-3)
    assert row["same_scores"] == 1.0  # exact on both sides: the same lists, ties aside


@pytest.mark.parametrize("exact_all", [False, True])
def test_above_the_exact_limit_a_sample_is_timed_unless_exact_all(articles_path, exact_all):
    bench = Bench(articles_path, scales=["60"], jobs=[1], repeats=1, k=5, sample=20,
                  competitors=["sklearn"], exact_limit=30, exact_all=exact_all,
                  print_fn=lambda line: None)
    rows = [r for r in bench.run()["rows"] if r["scale"] == "60"]
    exact = next(r for r in rows if r["stage"] == "all-pairs top-5 exact")
    assert ("extrapolated_from" in exact) is not exact_all
    if not exact_all:
        assert exact["extrapolated_from"] == 20 and "times n/20" in exact["note"]
    batch = [r for r in rows if r["stage"].startswith("batch top-5") and "/" not in r["stage"]]
    assert len(batch) == 4 and all(r["extrapolated_from"] == 20 for r in batch)
    approx = next(r for r in rows if r["stage"] == "all-pairs top-5 approx")
    assert 0 <= approx["recall_vs_exact"] <= 1 and approx["recall_sample"] == 20
    theirs = next(r for r in rows if r["competitor"] == "sklearn")
    assert theirs["seconds"] is None and "not run above 30 articles" in theirs["skipped"]


@pytest.mark.parametrize("name", ["bench.json", "bench.json.gz"])
def test_report_is_json(tiny_report, tmp_path, name):
    path = tmp_path / name
    path.write_text("an older report")
    write_json(tiny_report, path)
    data = path.read_bytes()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    back = json.loads(data.decode("utf-8"))
    assert back["k"] == 5 and back["rows"] == json.loads(json.dumps(tiny_report["rows"]))
    assert {"python", "cpus", "numpy"} <= set(back["machine"])
    assert [p.name for p in tmp_path.iterdir()] == [name]  # replaced, no temporary left


def test_competitor_missing_is_a_missing_dependency():
    assert issubclass(CompetitorMissing, MissingDependencyError)
    assert issubclass(CompetitorMissing, ImportError)


def test_a_missing_competitor_is_skipped_with_its_install_hint(articles_path, monkeypatch):
    real_import = builtins.__import__

    def no_sdt(name, *args, **kwargs):
        if name.startswith("sparse_dot_topn"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sdt)
    bench = Bench(articles_path, jobs=[1], repeats=1, k=5, sample=10,
                  competitors=["sparse_dot_topn"], print_fn=lambda line: None)
    row = next(r for r in bench.run()["rows"] if r["competitor"] == "sparse_dot_topn")
    assert row["seconds"] is None
    assert "pip install 'sparse_dot_topn>=1.1'" in row["skipped"]


@pytest.mark.parametrize("name", sorted(COMPETITORS))
def test_every_competitor_agrees_with_ours(small_model, name):
    X = small_model.unit_vectors()  # plain cosine: what every competitor computes
    n = X.shape[0]
    try:
        theirs = COMPETITORS[name](X, 5, 1)
    except ImportError as exc:
        pytest.skip(str(exc))
    ours = top_k(X, X, 5, skip=np.arange(n))
    assert agreement(*ours, *theirs)["same_scores"] == 1.0


def test_drop_self_keeps_k_other_rows():
    idx = np.array([[0, 3, 2], [5, 4, 1], [2, 9, 1]])
    scores = np.array([[1.0, 0.5, 0.2], [0.9, 0.3, 0.0], [1.0, 1.0, 0.1]], np.float32)
    out_i, out_s = drop_self(idx, scores, 2)
    # row 0: itself first; row 1: itself absent, the last row dropped; row 2: itself (2) tied at the top
    assert out_i.tolist() == [[3, 2], [5, 4], [9, 1]]
    np.testing.assert_array_equal(out_s, np.float32([[0.5, 0.2], [0.9, 0.3], [1.0, 0.1]]))
    out_i, out_s = drop_self(idx, scores, 2, rows=[3, 7, 9])  # queries of other rows
    assert out_i.tolist() == [[0, 2], [5, 4], [2, 1]]
    out_i, out_s = drop_self(idx[1:2], scores[1:2], 3, rows=[4])  # 1 scores 0: padding
    assert out_i.tolist() == [[5, -1, -1]] and out_s[0, 1:].tolist() == [-np.inf, -np.inf]


def test_agreement_compares_scores_not_tied_ids():
    oi, os_ = np.array([[1, 2], [3, -1]]), np.array([[0.5, 0.5], [0.4, -np.inf]], np.float32)
    ti, ts = np.array([[2, 1], [3, -1]]), np.array([[0.5, 0.5], [0.4, -np.inf]], np.float32)
    assert agreement(oi, os_, ti, ts) == {"same_scores": 1.0, "same_ids": 0.5}
    assert agreement(oi, os_, ti, ts * 0.5)["same_scores"] == 0.0


def test_sklearn_adapter_leaves_the_query_out(small_model):
    idx, _ = sklearn_brute(small_model.matrix_, 3, 1)
    assert not (idx == np.arange(len(idx))[:, None]).any()


# -- the command line ----------------------------------------------------------------------
def _error(capsys, *argv):
    with pytest.raises(SystemExit) as exc:
        main(["bench", *map(str, argv)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.splitlines()[-1]


@pytest.mark.parametrize("option, value, message", [
    ("--scales", "real,2g", "argument --scales: unknown scale '2g': expected 'real' or a "
                            "number of articles such as 5000, 100k or 1m"),
    ("--scales", "1", "argument --scales: scale '1' must be a whole number of at least 2 articles"),
    ("--jobs", "1,0", "argument --jobs: expected thread counts like 1,2, got '1,0'"),
    ("--repeats", "0", "argument --repeats: expected a positive integer, got 0"),
])
def test_bad_options(capsys, option, value, message):
    assert _error(capsys, option, value) == f"recommender bench: error: {message}"


def test_unknown_competitor(capsys):
    assert _error(capsys, "--competitors", "faiss") == (
        "recommender bench: error: argument --competitors: unknown competitor 'faiss': "
        "expected some of sparse_dot_topn,sklearn,gensim (or 'none')")


def test_missing_corpus(capsys, tmp_path):
    code = main(["bench", "--corpus", str(tmp_path / "nope.jsonl")])
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"recommender bench: error: corpus not found: {tmp_path / 'nope.jsonl'}; give the "
        f"real corpus with --corpus"]


def test_json_in_a_missing_folder(capsys, tmp_path, articles_path):
    out = tmp_path / "no" / "bench.json"
    code = main(["bench", "--corpus", str(articles_path), "--json", str(out)])
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"recommender bench: error: cannot write {out}: folder {out.parent} does not exist"]


def test_cli_writes_json(capsys, tmp_path, articles_path):
    out = tmp_path / "bench.json"
    code = main(["bench", "--corpus", str(articles_path), "--quick", "--repeats", "1",
                 "--jobs", "1", "-k", "3", "--competitors", "none", "--quiet", "--json", str(out)])
    assert code == 0
    rows = json.loads(out.read_text())["rows"]
    assert {r["competitor"] for r in rows} == {"ours"}
    assert "all-pairs top-3 exact" in capsys.readouterr().out


def test_quick_compares_competitors_on_the_sampled_queries(articles_path):
    bench = Bench(articles_path, jobs=[1, 2], repeats=1, k=5, sample=15,
                  competitors=["sklearn", "gensim"], competitor_sample=True,
                  print_fn=lambda line: None)
    rows = [r for r in bench.run()["rows"] if r["competitor"] != "ours"]
    assert {r["stage"] for r in rows} == {"top-5 of 15 sampled queries"}
    assert {(r["competitor"], r["threads"]) for r in rows} == \
        {("sklearn", 1), ("sklearn", 2), ("gensim", 1)}
    for row in rows:
        if row.get("skipped"):
            continue
        assert row["same_scores"] == 1.0
        assert row["ratio"] == pytest.approx(row["ours_seconds"] / row["seconds"], rel=0.01,
                                             abs=1e-3)
