"""``tune`` and ``recommender tune`` on the sample: choices read TUNE only, every figure
is an evaluation of the settings it names, the folder keeps the table."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from recommender import ArticleRecommender, CorpusWarning
from recommender.cli import main
from recommender.evaluate.runs import evaluate
from recommender.evaluate.tuning import LEVERS, tune
from recommender.truth import GroundTruth, half_of, read_ground_truth

#: A few levers of each kind: a refit, query settings, a window.
SMALL = (
    ("min_df", ("mlt", "cosine"), [("min_df 3", {"min_df": 3})]),
    ("query: terms said once", ("mlt",), [("once", {"min_term_freq": 1}),
                                          ("twice", {"min_term_freq": 2})]),
    ("cosine: query terms", ("cosine",), [("10 terms", {"query_terms": 10})]),
    ("window", ("mlt", "cosine"), [("rolling", {"window": "rolling"})]),
)


@pytest.fixture(scope="module")
def truth(related_path) -> GroundTruth:
    return read_ground_truth(related_path)


@pytest.fixture(scope="module")
def tuned(articles, truth):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        return tune(articles, truth, params={"min_df": 2, "max_age": 62.0}, levers=SMALL)


def scrambled_confirm(truth: GroundTruth) -> GroundTruth:
    """The same links with the CONFIRM half's targets shuffled among themselves."""
    odd = np.zeros(len(truth), bool)
    confirm = half_of(truth, "odd")
    keys = set(zip(confirm.sources.tolist(), confirm.targets.tolist()))
    odd[[i for i, pair in enumerate(zip(truth.sources.tolist(), truth.targets.tolist()))
         if pair in keys]] = True
    targets = truth.targets.copy()
    targets[odd] = np.random.default_rng(0).permutation(targets[odd])
    return GroundTruth(truth.sources, targets, truth.shown_at)


def test_choices_do_not_depend_on_the_confirm_half(articles, truth, tuned):
    other = scrambled_confirm(truth)
    assert not np.array_equal(other.targets, truth.targets)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        again = tune(articles, other, params={"min_df": 2, "max_age": 62.0}, levers=SMALL)
    assert again.chosen == tuned.chosen
    assert [r["TUNE"] for r in again.rows] == [r["TUNE"] for r in tuned.rows]
    assert [r["kept"] for r in again.rows] == [r["kept"] for r in tuned.rows]


def test_each_row_is_an_evaluation_of_its_settings(articles, truth, tuned):
    for row in tuned.rows[:3] + tuned.rows[-2:]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CorpusWarning)
            model = ArticleRecommender(**row["params"], table_size=0).fit(articles)
        for half, parity in (("TUNE", "even"), ("CONFIRM", "odd")):
            report = evaluate(model, half_of(truth, parity), ks=(2, 10), baselines=False)
            assert row[half] == pytest.approx(
                {k: round(float(report[k]), 4) for k in ("recall@2", "recall@10", "mrr")},
                abs=1e-4), (row["setting"], half)


def test_the_walk_keeps_only_what_is_better_on_tune(tuned):
    for scoring in ("mlt", "cosine"):
        walk = [r for r in tuned.rows if r["group"].split(":")[0] == scoring]
        assert walk[0]["kept"] and walk[0]["params"]["scoring"] == scoring
        best = walk[0]["TUNE"]
        for row in walk[1:]:
            better = (row["TUNE"]["recall@10"] > best["recall@10"] + 0.001
                      or (abs(row["TUNE"]["recall@10"] - best["recall@10"]) <= 0.001
                          and row["TUNE"]["mrr"] > best["mrr"]))
            assert row["kept"] == better, row["setting"]
            if better:
                best = row["TUNE"]
    chosen = [r for r in tuned.rows if r["chosen"]]
    assert len(chosen) == 1
    assert tuned.model.get_params()["scoring"] == chosen[0]["params"]["scoring"]
    for name, value in chosen[0]["params"].items():
        assert tuned.model.get_params()[name] == value, name


def test_every_lever_names_real_parameters():
    params = ArticleRecommender().get_params()
    for group, scorings, options in LEVERS:
        assert set(scorings) <= {"mlt", "cosine"}, group
        for name, change in options:
            assert set(change) <= set(params), (group, name)


def test_cli_tune_writes_a_model_with_its_table(capsys, tmp_path, articles_path, related_path,
                                                restore_logging_and_warnings):
    out = tmp_path / "tuned"
    code = main(["tune", str(articles_path), str(related_path), "--out", str(out),
                 "--jobs", "1", "--json", "-q"])
    stdout = capsys.readouterr().out
    assert code == 0
    record = json.loads(stdout)
    model = ArticleRecommender.load(out)
    assert model.tuning_ == record
    assert model.table_ is not None
    chosen = next(r for r in record["rows"] if r["chosen"])
    for name, value in chosen["params"].items():
        assert model.get_params()[name] == value, name
    assert json.loads((out / "manifest.json").read_text("utf-8"))["files"]["tuning.json"]


def test_cli_tune_refuses_a_folder_that_is_not_a_model(capsys, tmp_path, articles_path,
                                                       related_path,
                                                       restore_logging_and_warnings):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    code = main(["tune", str(articles_path), str(related_path), "--out", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{out} is a folder of other files (it has no manifest.json)" in err
    assert (out / "mine.txt").read_text() == "keep me"
