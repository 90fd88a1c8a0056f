"""Compare analysis settings on two halves of the dev lists: tune on one, confirm on the other.

    python scripts/tune.py [CORPUS] [GROUND_TRUTH] [--max-age 60]

Defaults: ../shared/corpus/orangesum/articles.jsonl.gz and related_dev.tsv. The links are
split by source article (crc32 of the id, even: TUNE, odd: CONFIRM), so no source's list
is in both halves. Each setting is a real fit of the whole corpus (about 20 s each), ranked
as of each list's time with the given max age. This reproduces the comparison behind the
defaults (README, "Evaluation"); the full grid of 232 settings was run the same way.
"""

from __future__ import annotations

import argparse
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np

from recommender import ArticleRecommender, read_corpus
from recommender.evaluate import GroundTruth, evaluate, read_ground_truth

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus" / "orangesum"

SETTINGS = {
    "defaults (whole words, 0.6/0.75/0.65, min_df 5)": {},
    "Snowball stems, same weights": {"analyzer": {"stem": True}},
    "whole words, weights 2/1/1, min_df 2": {"field_weights": {"title": 2, "heading": 1,
                                                               "body": 1}, "min_df": 2},
    "Snowball stems, weights 2/1/1, min_df 2": {"analyzer": {"stem": True}, "min_df": 2,
                                                "field_weights": {"title": 2, "heading": 1,
                                                                  "body": 1}},
}
KEYS = ("recall@2", "recall@5", "recall@10", "mrr", "ndcg@10")


def halves(truth: GroundTruth) -> dict[str, GroundTruth]:
    even = np.array([zlib.crc32(s.encode()) % 2 == 0 for s in truth.sources.tolist()])
    part = lambda m: GroundTruth(truth.sources[m], truth.targets[m], truth.shown_at[m])
    return {"TUNE": part(even), "CONFIRM": part(~even)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=str(SHARED / "articles.jsonl.gz"))
    parser.add_argument("ground_truth", nargs="?", default=str(SHARED / "related_dev.tsv"))
    parser.add_argument("--max-age", type=float, default=60)
    args = parser.parse_args(argv)
    articles = list(read_corpus(args.corpus))
    parts = halves(read_ground_truth(args.ground_truth))
    print(f"{'setting':<46} {'half':<8}" + "".join(f"{k:>10}" for k in KEYS))
    for name, params in SETTINGS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ArticleRecommender(n_jobs=2, **params).fit(articles)
        for half, truth in parts.items():
            report = evaluate(model, truth, max_age=args.max_age, baselines=False)
            print(f"{name:<46} {half:<8}" + "".join(f"{report[k]:>10.4f}" for k in KEYS),
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
