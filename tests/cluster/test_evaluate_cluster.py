"""``recommender evaluate`` on a Dask cluster: the model's lists of the held-out sources
(each as of its own time) scored by the workers through the batch's block function give
the local run's metrics, and the same list arrays."""

from __future__ import annotations

import json
from functools import partial

import numpy as np
import pytest

from recommender import ArticleRecommender
from recommender.cli import main
from recommender.cluster.batch import cluster_lists
from recommender.evaluate.runs import evaluate
from recommender.truth import half_of, read_ground_truth

pytest.importorskip("distributed")

# ``main`` configures logging and warnings for the process: undo it after each test.
pytestmark = pytest.mark.usefixtures("restore_logging_and_warnings")


@pytest.fixture(scope="module")
def half_learned_dir(tmp_path_factory, articles, related_path):
    """The sample model with a re-ranker learned from the even half of the links (the odd
    half is held out), saved."""
    model = ArticleRecommender(min_df=2).fit(articles)
    model.learn(half_of(read_ground_truth(related_path), "even"), n_candidates=8, max_iter=5)
    path = tmp_path_factory.mktemp("learned") / "model"
    model.save(path)
    return path


def evaluate_json(capsys, *argv) -> dict:
    assert main(["evaluate", *map(str, argv), "--json", "-q"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("folder", ["model_dir", "half_learned_dir"])
@pytest.mark.parametrize("argv", [[], ["--max-age", "20", "-k", "1,3", "--no-baselines"]])
def test_metrics_are_the_local_run_s(client, capsys, request, related_path, folder, argv):
    path = request.getfixturevalue(folder)
    local = evaluate_json(capsys, path, related_path, *argv)
    remote = evaluate_json(capsys, path, related_path, *argv, "--scheduler",
                           client.scheduler.address)
    assert remote == local
    assert local["n_links"] > 0
    assert ("content_only" in local) == (folder == "half_learned_dir")


def test_lists_are_the_local_arrays(client, half_learned_dir, related_path):
    model = ArticleRecommender.load(half_learned_dir)
    truth = read_ground_truth(related_path)
    local = evaluate(model, truth, details=True)
    remote = evaluate(model, truth, details=True,
                      recommend_ids=partial(cluster_lists, client, half_learned_dir, chunk=3))
    lists = local["details"]["lists"]
    assert remote["details"]["lists"].dtype == lists.dtype
    np.testing.assert_array_equal(remote["details"]["lists"], lists)
    assert remote["details"]["ranks"].keys() == local["details"]["ranks"].keys() >= {
        "model", "content_only"}
    for name, ranks in local["details"]["ranks"].items():
        np.testing.assert_array_equal(remote["details"]["ranks"][name], ranks)


def test_workers_with_the_report_is_one_line(capsys, model_dir, related_path, tmp_path):
    assert main(["evaluate", str(model_dir), str(related_path), "--report",
                 str(tmp_path / "report"), "--workers", "2"]) == 2
    err = capsys.readouterr().err
    assert err == ("recommender evaluate: error: --report also scores the model's variants, "
                   "on this machine; leave out --workers and --scheduler with --report\n")
    assert not (tmp_path / "report").exists()


def test_evaluate_workers_below_one(capsys, model_dir, related_path):
    assert main(["evaluate", str(model_dir), str(related_path), "--workers", "0"]) == 2
    assert capsys.readouterr().err == (
        "recommender evaluate: error: --workers must be at least 1, got 0; leave it out to "
        "run without a cluster\n")
