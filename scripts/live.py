"""Live add and withdraw on a real corpus: speed, exactness, and the distance to a refit.

The newest ``--new`` articles of the corpus are held out; a model is fitted on the rest
(the parameters of ``recommender train``) and saved; then, on fresh copies of that folder:

- ``add`` of the held-out articles in one call (the library call: analysis, the durable
  log append with its fsync, the new parts), median of ``--repeat`` runs;
- the new articles' top-10 against a model of the union fitted with the frozen statistics
  (must be equal: the count of lists that differ is printed) and against a full refit on
  the union (overlap@10: the share of the refit's ten that the live list holds);
- ``withdraw`` of one article, median of 20 calls, and whether any list still holds it;
- the first request after a change (the new parts are built at the change, not then).

    python scripts/live.py ../shared/corpus/orangesum/articles.jsonl.gz --new 1000
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from helpers import frozen_union_model  # noqa: E402
from recommender import ArticleRecommender, read_corpus  # noqa: E402
from recommender.model.estimator import DEFAULT_MAX_AGE  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("--new", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        articles = sorted((a for a in read_corpus(args.corpus) if a.published),
                          key=lambda a: a.published)
    base, new = articles[:-args.new], articles[-args.new:]
    work = Path(tempfile.mkdtemp())
    t = time.perf_counter()
    ArticleRecommender(max_age=DEFAULT_MAX_AGE).fit(base).save(work / "base")
    print(f"base: {len(base):,} articles, fitted and saved in {time.perf_counter() - t:.1f} s; "
          f"{len(new):,} held out")

    adds, firsts, model = [], [], None
    for i in range(args.repeat):
        folder = work / f"run{i}"
        shutil.copytree(work / "base", folder)
        model = ArticleRecommender.load(folder)
        model.warm_up()
        t = time.perf_counter()
        model.add(new)
        adds.append(time.perf_counter() - t)
        t = time.perf_counter()
        model.recommend(base[-1].id, 5)
        firsts.append(time.perf_counter() - t)
    print(f"add {len(new):,} articles: median {statistics.median(adds):.2f} s "
          f"(runs: {', '.join(f'{x:.2f}' for x in adds)}); first request after it: "
          f"median {1000 * statistics.median(firsts):.1f} ms")

    served = base + new
    ids = [a.id for a in new]
    live = model.recommend_batch(ids, 10).ids
    oracle = frozen_union_model(model, served, model.live_status()["reference"])
    frozen = oracle.recommend_batch(ids, 10).ids
    older = [a.id for a in base[-3000:]]
    older_differ = int((model.recommend_batch(older, 10).ids
                        != oracle.recommend_batch(older, 10).ids).any(axis=1).sum())
    print(f"new articles' top-10 equal to the frozen-statistics union model: "
          f"{int((live == frozen).all(axis=1).sum()):,} of {len(ids):,}; the 3,000 newest "
          f"older articles' lists that differ from it: {older_differ}")
    t = time.perf_counter()
    refit = ArticleRecommender(max_age=DEFAULT_MAX_AGE).fit(served)
    refit_lists = refit.recommend_batch(ids, 10).ids
    overlap = [len(set(a) & set(b) - {""}) / max(len(set(b) - {""}), 1)
               for a, b in zip(live, refit_lists)]
    print(f"overlap@10 of the new articles' lists with a full refit on the union "
          f"(refit in {time.perf_counter() - t:.0f} s): mean {np.mean(overlap):.3f}, "
          f"median {np.median(overlap):.3f}")

    times, held = [], []
    every = [a.id for a in served]
    for article in base[-20:]:
        t = time.perf_counter()
        model.withdraw([article.id])
        times.append(time.perf_counter() - t)
        held.append(article.id)
    every = [i for i in every if i not in set(held)]
    lists = model.recommend_batch(every, 10).ids
    print(f"withdraw one article: median {1000 * statistics.median(times):.1f} ms, max "
          f"{1000 * max(times):.1f} ms (20 calls); lists of the {len(every):,} served articles "
          f"still holding one of them: {int(np.isin(lists, held).any(axis=1).sum())}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
