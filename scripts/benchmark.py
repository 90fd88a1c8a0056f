"""Time each stage of the engine on a corpus, against a named baseline in the same run.

    python scripts/benchmark.py [CORPUS] [--sample 2000] [--repeats 3] [--jobs 2] [--json FILE]

CORPUS defaults to ../shared/corpus/orangesum/articles.jsonl.gz when it is there, else the
shipped corpus/orangesum-2020.jsonl.gz. Stages: read, fit, save, load, batch top-10 of
every article, single recommend() latency. The top-10 kernel is compared with
scikit-learn's ``NearestNeighbors(metric="cosine", algorithm="brute")`` on the same
matrix, the same sampled queries and the same thread count: medians of ``--repeats`` runs
and the ratio, and a check that the lists agree. Peak memory is the process's maximum
resident size after each stage (it only grows). Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from recommender import ArticleRecommender, read_corpus
from recommender.index import top_k

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus" / "orangesum" / "articles.jsonl.gz"
SHIPPED = ROOT / "corpus" / "orangesum-2020.jsonl.gz"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, repeats=1):
    """``(median seconds, last result)`` of ``repeats`` calls."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=str(SHARED if SHARED.exists() else SHIPPED))
    parser.add_argument("--sample", type=int, default=2000, help="queries for the comparison")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", help="also write the rows as JSON to this file")
    args = parser.parse_args(argv)
    rows = []

    def record(stage, seconds, n=None, **extra):
        row = {"stage": stage, "seconds": round(seconds, 4), "peak_mb": round(peak_mb(), 1),
               **({"per_second": round(n / seconds, 1)} if n else {}), **extra}
        rows.append(row)
        rate = f"{row['per_second']:>12,.0f}/s" if n else " " * 14
        more = "  ".join(f"{k}={v}" for k, v in extra.items())
        print(f"{stage:<38} {seconds:>9.3f} s {rate}  peak {row['peak_mb']:>8,.0f} MB  {more}",
              flush=True)

    print(f"corpus: {args.corpus}")
    seconds, articles = timed(lambda: list(read_corpus(args.corpus)))
    record("read corpus", seconds, len(articles))
    seconds, model = timed(lambda: ArticleRecommender(n_jobs=args.jobs).fit(articles))
    record("fit (analysis + tf-idf)", seconds, len(articles),
           terms=model.matrix_.shape[1], nnz=model.matrix_.nnz)
    del articles
    with tempfile.TemporaryDirectory() as tmp:
        seconds, _ = timed(lambda: model.save(Path(tmp) / "model"))
        record("save", seconds)
        seconds, model = timed(lambda: ArticleRecommender.load(Path(tmp) / "model"))
        record("load", seconds)
    model.n_jobs = args.jobs
    n = model.n_articles
    seconds, batch = timed(lambda: model.recommend_batch(model.ids_, 10))
    record(f"batch top-10, all articles, {args.jobs} threads", seconds, n)

    rng = np.random.default_rng(0)
    ids = rng.choice(model.ids_, size=min(1000, n), replace=False)
    latencies = []
    for article_id in ids:
        start = time.perf_counter()
        model.recommend(article_id, 5)
        latencies.append(time.perf_counter() - start)
    record("recommend() one article, p50", float(np.percentile(latencies, 50)))
    record("recommend() one article, p99", float(np.percentile(latencies, 99)))

    compare_with_sklearn(model, rng, args, record)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
        print(f"wrote {args.json}")
    return 0


def compare_with_sklearn(model, rng, args, record) -> None:
    """Our top-10 kernel and scikit-learn's brute-force cosine kNN on the same queries."""
    from sklearn.neighbors import NearestNeighbors

    X = model.matrix_
    rows = np.sort(rng.choice(X.shape[0], size=min(args.sample, X.shape[0]), replace=False))
    Q = X[rows]
    ours_s, (ours, _) = timed(lambda: top_k(Q, X, 10, skip=rows, n_jobs=args.jobs),
                              args.repeats)
    knn = NearestNeighbors(n_neighbors=11, metric="cosine", algorithm="brute",
                           n_jobs=args.jobs).fit(X)
    theirs_s, (dist, theirs) = timed(lambda: knn.kneighbors(Q), args.repeats)
    # Drop the query itself from scikit-learn's lists; compare the sets of the top 10
    # (near-ties may swap places).
    agree = np.mean([len(set(o[o >= 0]) & set(t[t != r][:10])) / max((o >= 0).sum(), 1)
                     for o, t, r in zip(ours, theirs, rows)])
    record(f"top-10 of {len(rows)} queries, ours", ours_s, len(rows))
    record(f"top-10 of {len(rows)} queries, sklearn brute", theirs_s, len(rows),
           ratio_ours_over_theirs=round(ours_s / theirs_s, 3), same_lists=round(agree, 4))


if __name__ == "__main__":
    sys.exit(main())
