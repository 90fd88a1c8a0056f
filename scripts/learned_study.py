"""The learned mode on the shared corpus: learned from the TUNE lists, scored on CONFIRM,
with all its features and with each one left out.

    python scripts/learned_study.py [CORPUS] [GROUND_TRUTH]

Defaults: ../shared/corpus/orangesum/articles.jsonl.gz and related_dev.tsv. One fit of the
content model (the defaults), then one re-ranker per row (about 20 s each). The links are
split by source (``half_of``): the re-ranker learns from the even half only, and the
evaluation leaves the lists it learned from out, so every figure is on CONFIRM.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from recommender import ArticleRecommender, read_corpus
from recommender.evaluate.runs import evaluate
from recommender.model.estimator import DEFAULT_MAX_AGE
from recommender.model.rerank import FEATURES
from recommender.truth import half_of, read_ground_truth

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus" / "orangesum"
KEYS = ("recall@2", "recall@5", "recall@10", "mrr", "ndcg@10")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=str(SHARED / "articles.jsonl.gz"))
    parser.add_argument("ground_truth", nargs="?", default=str(SHARED / "related_dev.tsv"))
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    truth = read_ground_truth(args.ground_truth)
    model = ArticleRecommender(max_age=DEFAULT_MAX_AGE, table_size=0, n_jobs=args.jobs)
    model.fit(read_corpus(args.corpus))
    print(f"{'run (CONFIRM)':<34}" + "".join(f"{k:>11}" for k in KEYS))
    content = evaluate(model, half_of(truth, "odd"), ks=(2, 5, 10), baselines=False)
    print(f"{'content model':<34}" + "".join(f"{content[k]:>11.3f}" for k in KEYS))
    runs = {"learned, all features": None,
            **{f"learned, without {name}": [f for f in FEATURES if f != name]
               for name in FEATURES}}
    for name, features in runs.items():
        model.learn(half_of(truth, "even"), features=features)
        report = evaluate(model, truth, ks=(2, 5, 10), baselines=False)
        print(f"{name:<34}" + "".join(f"{report[k]:>11.3f}" for k in KEYS), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
