"""The levers of the cosine scorer, each measured on two halves of the dev lists.

    python scripts/tune.py [CORPUS] [GROUND_TRUTH] [--max-age 62]

Defaults: ../shared/corpus/orangesum/articles.jsonl.gz and related_dev.tsv. The links are
split by source article (crc32 of the id, even: TUNE, odd: CONFIRM; ``half_of``), so no
source's list is in both halves: the settings were chosen on TUNE, CONFIRM checks them.
Two real fits of the whole corpus (about 40 s each); the idf power, query terms and length
prior are changed without refitting (``with_scoring``). This reproduces the cosine
scorer's table of EVALUATION.md, from the foundation's plain TF-IDF to its defaults, with
the rolling window it was measured with. ``recommender tune`` is the general tool: both
scorers, any site's lists.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from recommender import ArticleRecommender, read_corpus
from recommender.truth import half_of, read_ground_truth
from recommender.evaluate.runs import evaluate
from recommender.model.estimator import DEFAULT_MAX_AGE
from recommender.model.search import PLAIN_TFIDF
from recommender.times import NO_LIMIT

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus" / "orangesum"

FOUNDATION_WEIGHTS = {"title": 0.6, "heading": 0.75, "body": 0.65}
PLAIN = {k: v for k, v in PLAIN_TFIDF.items() if k != "scoring"}
#: name -> (fit parameters, with_scoring changes, max age or None for the command's)
SETTINGS = {
    "foundation: plain TF-IDF cosine, weights 0.6/0.75/0.65, min_df 5":
        ({"field_weights": FOUNDATION_WEIGHTS, "min_df": 5}, PLAIN, None),
    "foundation weights, today's scoring":
        ({"field_weights": FOUNDATION_WEIGHTS, "min_df": 5}, {}, None),
    "today's defaults": ({}, {}, None),
    "today's, idf power 1": ({}, {"idf_power": 1.0}, None),
    "today's, every query term": ({}, {"query_terms": None}, None),
    "today's, no length prior": ({}, {"length_prior": 0.0}, None),
    "today's, plain cosine (the three above)": ({}, PLAIN, None),
    "today's, max age 60": ({}, {}, 60),
    "today's, no max age": ({}, {}, NO_LIMIT),
}
KEYS = ("recall@2", "recall@5", "recall@10", "mrr", "ndcg@10")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=str(SHARED / "articles.jsonl.gz"))
    parser.add_argument("ground_truth", nargs="?", default=str(SHARED / "related_dev.tsv"))
    parser.add_argument("--max-age", type=float, default=DEFAULT_MAX_AGE)
    args = parser.parse_args(argv)
    articles = list(read_corpus(args.corpus))
    truth = read_ground_truth(args.ground_truth)
    parts = {"TUNE": half_of(truth, "even"), "CONFIRM": half_of(truth, "odd")}
    print(f"{'setting':<66} {'half':<8}" + "".join(f"{k:>10}" for k in KEYS))
    fitted = {}
    for name, (params, scoring, max_age) in SETTINGS.items():
        key = repr(sorted(params.items()))
        if key not in fitted:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted[key] = ArticleRecommender(scoring="cosine", window="rolling", n_jobs=2,
                                                 **params).fit(articles)
        model = fitted[key].with_scoring(**scoring)
        for half, links in parts.items():
            report = evaluate(model, links, max_age=max_age or args.max_age, baselines=False)
            print(f"{name:<66} {half:<8}" + "".join(f"{report[k]:>10.4f}" for k in KEYS),
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
