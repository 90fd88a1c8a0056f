"""The learned mode on the shared corpus: learned from the TUNE lists, scored on CONFIRM,
with all its features and with each one left out.

    python scripts/learned_study.py [CORPUS] [GROUND_TRUTH]
    python scripts/learned_study.py --max-features 1.0 0.6 --seeds 0 1 2 --no-ablation
    python scripts/learned_study.py --tune [--reverse] --max-features 1.0 0.6 --seeds 0 1 2

Defaults: ../shared/corpus/orangesum/articles.jsonl.gz and related_dev.tsv. One fit of the
content model (the defaults), then one re-ranker per row (about 20 s each). The links are
split by source (``half_of``): the re-ranker learns from the even half only, and the
evaluation leaves the lists it learned from out, so every figure is on CONFIRM.

``--tune`` chooses settings without looking at CONFIRM: the re-ranker learns from the TUNE
links whose source's crc32 is 0 mod 4 and is scored on those at 2 mod 4 (``--reverse``:
the other way round). ``--max-features`` and ``--seeds`` give one row per pair of the
re-ranker's ``max_features`` and ``random_state`` (default: its defaults); the ablation
(each feature left out) follows, with the first pair, unless ``--no-ablation``.
"""

from __future__ import annotations

import argparse
import warnings
import zlib
from pathlib import Path

import numpy as np

from recommender import ArticleRecommender, read_corpus
from recommender.evaluate.runs import evaluate
from recommender.model.estimator import DEFAULT_MAX_AGE
from recommender.model.rerank import FEATURES, LinkReranker
from recommender.truth import half_of, read_ground_truth

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus" / "orangesum"
KEYS = ("recall@2", "recall@5", "recall@10", "mrr", "ndcg@10")


def quarter(truth, which: int):
    """The links whose source id's crc32 is ``which`` mod 4 (0 and 2 are TUNE's)."""
    remainder = np.array([zlib.crc32(s.encode("utf-8")) % 4 for s in truth.sources.tolist()])
    return truth.subset(remainder == which)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=str(SHARED / "articles.jsonl.gz"))
    parser.add_argument("ground_truth", nargs="?", default=str(SHARED / "related_dev.tsv"))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--tune", action="store_true",
                        help="learn and score on two quarters of TUNE, never on CONFIRM")
    parser.add_argument("--reverse", action="store_true",
                        help="with --tune: learn on 2 mod 4, score on 0 mod 4")
    defaults = LinkReranker().get_params()
    parser.add_argument("--max-features", type=float, nargs="+",
                        default=[defaults["max_features"]])
    parser.add_argument("--seeds", type=int, nargs="+", default=[defaults["random_state"]])
    parser.add_argument("--no-ablation", action="store_true",
                        help="leave out the rows of each feature left out")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    truth = read_ground_truth(args.ground_truth)
    if args.tune:
        learn_on, score_on = quarter(truth, 0), quarter(truth, 2)
        if args.reverse:
            learn_on, score_on = score_on, learn_on
        split = "TUNE, " + ("2 -> 0" if args.reverse else "0 -> 2") + " mod 4"
    else:  # the evaluation leaves out the learned sources: what remains is CONFIRM
        learn_on, score_on, split = half_of(truth, "even"), truth, "CONFIRM"
    model = ArticleRecommender(max_age=DEFAULT_MAX_AGE, table_size=0, n_jobs=args.jobs)
    model.fit(read_corpus(args.corpus))

    def row(name, report):
        print(f"{name:<34}" + "".join(f"{report[k]:>11.4f}" for k in KEYS), flush=True)

    print(f"{f'run ({split})':<34}" + "".join(f"{k:>11}" for k in KEYS))
    row("content model", evaluate(model, score_on, ks=(2, 5, 10), baselines=False))
    settings = [{"max_features": share, "random_state": seed}
                for share in args.max_features for seed in args.seeds]
    for params in settings:
        model.learn(learn_on, **params)
        row(f"learned, max_features {params['max_features']:g}, seed {params['random_state']}",
            evaluate(model, score_on, ks=(2, 5, 10), baselines=False))
    if not args.no_ablation:
        for name in FEATURES:
            model.learn(learn_on, features=[f for f in FEATURES if f != name], **settings[0])
            row(f"learned, without {name}",
                evaluate(model, score_on, ks=(2, 5, 10), baselines=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
