"""Fit and batch on a Dask cluster against the local run, on synthetic corpora at a site's rate.

    python scripts/bench_cluster.py make --scales 300k,1m      # the corpora, as partitions
    python scripts/bench_cluster.py fit --scale 300k           # local 2 jobs, 1 and 2 workers
    python scripts/bench_cluster.py shard --model M1M --out M1M_SHARDED  # in 30-day shards
    python scripts/bench_cluster.py batch --model M1M          # local 1, 2 threads; 1, 2 workers
    python scripts/bench_cluster.py cores                      # this machine's own 2-core gain

The corpora are synthetic (:mod:`recommender.bench.synthetic`, made from the sentences of
the real corpus) at a constant 300 articles a day, written as JSONL partitions of 50,000
articles under ``--work`` (default /tmp/recommender-bench-cluster). Every figure is the
median of ``--repeats`` rounds, each round running the configurations in turn, so that a
noisy machine slows them alike; the ratios are taken round by round. Workers have one
thread each; the local baseline uses two threads (the model's ``n_jobs``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recommender import read_corpus  # noqa: E402
from recommender.bench.synthetic import SentencePool, parse_scale  # noqa: E402
from recommender.cli.bench import default_corpus  # noqa: E402
from recommender.errors import CorpusWarning  # noqa: E402

#: Articles per partition file.
PARTITION = 50_000


def make(work: Path, scales, per_day: float, seed: int) -> None:
    """Write each scale's corpus as partitions ``part-00000.jsonl`` … (skipped if there)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        pool = SentencePool.from_articles(read_corpus(default_corpus()))
    for name in scales:
        n = parse_scale(name)
        folder = work / name
        done = folder / "_DONE"  # a marker: names that start with _ are not partitions
        if done.exists():
            print(f"{name}: already made in {folder}", flush=True)
            continue
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        articles = pool.articles(n, seed=seed, per_day=per_day, constant_rate=True)
        part, fh = -1, None
        for i, article in enumerate(articles):
            if i % PARTITION == 0:
                if fh:
                    fh.close()
                part += 1
                fh = open(folder / f"part-{part:05d}.jsonl", "w", encoding="utf-8")
            fh.write(json.dumps(record_of(article), ensure_ascii=False) + "\n")
        fh.close()
        done.write_text(json.dumps({"n": n, "per_day": per_day, "seed": seed}))
        print(f"{name}: {n:,} articles in {part + 1} partitions, "
              f"{time.perf_counter() - started:.0f} s -> {folder}", flush=True)


def bench_batch(model_dir: Path, sample: int, repeats: int, out_dir: Path) -> dict:
    """Seconds to score the lists of ``sample`` articles (evenly spaced over the model's rows,
    so over its whole timeline) with the model's 62-day window: locally with 1 and 2 threads
    (what two cores give at best), on a LocalCluster of 1 worker and one of 2 workers (one
    thread each), in alternated rounds, and the workers' largest resident memory.
    The model has no neighbour table, so every list is scored (as a batch with ``--as-of``
    or filters is). Each cluster first scores a small block untimed: its workers open the
    folder and make its postings once, as a long-lived cluster has done already."""
    import numpy as np

    from recommender import ArticleRecommender
    from recommender.batch.score import score_to_file
    from recommender.cluster import cluster_client

    model = ArticleRecommender.load(model_dir)
    ids = model.served_ids()
    ids = ids[np.linspace(0, len(ids) - 1, min(sample, len(ids))).astype(np.int64)]
    model.n_jobs = 2
    score_to_file(model, out_dir / "warm.jsonl", ids=ids[:2000])
    times: dict[str, list] = {"local, 1 thread": [], "local, 2 threads": [], "1 worker": [],
                              "2 workers": []}
    memory: dict[str, list] = {"1 worker": [], "2 workers": []}
    with cluster_client(workers=1) as one, cluster_client(workers=2) as two:
        for client in (one, two):
            score_to_file(model, out_dir / "warm.jsonl", ids=ids[:8192], client=client,
                          model_path=model_dir)
        for _ in range(repeats):
            for i, (name, client) in enumerate(zip(times, (None, None, one, two))):
                model.n_jobs = 1 if name == "local, 1 thread" else 2
                started = time.perf_counter()
                extra = {} if client is None else {"client": client, "model_path": model_dir}
                score_to_file(model, out_dir / f"{i}.jsonl", ids=ids, **extra)
                times[name].append(time.perf_counter() - started)
                if client is not None:
                    memory[name].append(max(client.run(resident_bytes).values()))
                print(f"{model.n_articles:,} articles, {len(ids):,} lists, {name}: "
                      f"{times[name][-1]:.1f} s", flush=True)
    same = len({(out_dir / f"{i}.jsonl").read_bytes() for i in range(len(times))}) == 1
    result = {"n_articles": int(model.n_articles), "lists": len(ids), "same_output": same}
    for name, values in times.items():
        median = float(np.median(values))
        result[name] = {"seconds": values, "median": median,
                        "lists_per_second": len(ids) / median,
                        "us_per_list": median / len(ids) * 1e6}
    for name, values in memory.items():
        result[name]["worker_rss_mb"] = max(values) / 2**20
    threads = [a / b for a, b in zip(times["local, 1 thread"], times["local, 2 threads"])]
    result["local 2 threads / 1 thread throughput"] = float(np.median(threads))
    two_over_one = [a / b for a, b in zip(times["1 worker"], times["2 workers"])]
    local_over_two = [b / a for a, b in zip(times["local, 2 threads"], times["2 workers"])]
    result["2 workers / 1 worker throughput"] = float(np.median(two_over_one))
    result["2 workers time / local time"] = float(np.median(local_over_two))
    print(json.dumps(result, indent=1), flush=True)
    return result


def bench_fit(corpus: Path, repeats: int, out_dir: Path) -> dict:
    """Seconds of ``recommender train PARTITIONS`` (the whole command: reading, counting,
    the neighbour table, the save) locally with 2 processes, and with ``--workers 1`` and
    ``--workers 2`` (the cluster's start included), in alternated rounds; the folders'
    arrays compared."""
    import subprocess

    import numpy as np

    configs = {"local, 2 jobs": ["--jobs", "2"], "1 worker": ["--workers", "1"],
               "2 workers": ["--workers", "2"]}
    times: dict[str, list] = {name: [] for name in configs}
    for _ in range(repeats):
        for name, flags in configs.items():
            out = out_dir / f"fit-{name[0]}"
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "recommender.cli", "train", str(corpus),
                            "--out", str(out), "--quiet", *flags], check=True)
            times[name].append(time.perf_counter() - started)
            print(f"fit {corpus.name}, {name}: {times[name][-1]:.1f} s", flush=True)
    arrays = [sorted(p.name for p in (out_dir / f"fit-{n[0]}").glob("*.npy")) for n in configs]
    same = all(np.array_equal(np.load(out_dir / f"fit-{a[0]}" / f),
                              np.load(out_dir / f"fit-{b[0]}" / f))
               for a in configs for b in configs for f in arrays[0]) and \
        all(a == arrays[0] for a in arrays)
    result = {"corpus": str(corpus), "same_arrays": same}
    for name, values in times.items():
        result[name] = {"seconds": values, "median": float(np.median(values))}
    result["2 workers / 1 worker speed"] = float(np.median(
        [a / b for a, b in zip(times["1 worker"], times["2 workers"])]))
    result["2 workers time / local time"] = float(np.median(
        [b / a for a, b in zip(times["local, 2 jobs"], times["2 workers"])]))
    print(json.dumps(result, indent=1), flush=True)
    return result


#: The loads of ``cores``: what one unit of each does, in words.
LOADS = {"python": "a Python loop of integer sums (compute only)",
         "scatter": "counts at random rows of a 16,384-row accumulator (in cache, as a window's)",
         "stream": "sums over a 256 MB float32 array (memory read, as postings are)"}


def load_unit(kind: str) -> float:
    """One unit of a load of :data:`LOADS`; returns its seconds."""
    import numpy as np

    started = time.perf_counter()
    if kind == "python":
        total = 0
        for i in range(20_000_000):
            total += i
    elif kind == "scatter":
        rng = np.random.default_rng(0)
        rows = rng.integers(0, 16_384, 2_000_000).astype(np.int32)
        for _ in range(15):
            np.bincount(rows, minlength=16_384)
    else:
        data = np.ones(64 * 2**20, np.float32)
        for _ in range(12):
            data.sum()
    return time.perf_counter() - started


def bench_cores(repeats: int) -> dict:
    """Throughput of two processes running a load at once against one process running it
    alone (2.0 is a perfect second core), in alternated rounds: the ceiling that a second
    worker or thread can reach on this machine, for compute and for memory reads."""
    from concurrent.futures import ProcessPoolExecutor

    import numpy as np

    result = {}
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(load_unit, ["python", "python"]))  # both processes started
        for kind, what in LOADS.items():
            ratios = []
            for _ in range(repeats):
                alone = pool.submit(load_unit, kind).result()
                started = time.perf_counter()
                list(pool.map(load_unit, [kind, kind]))
                ratios.append(2 * alone / (time.perf_counter() - started))
            result[kind] = {"load": what, "two / one throughput": float(np.median(ratios)),
                            "rounds": ratios}
            print(f"{kind}: two processes give {np.median(ratios):.2f}x one ({what})",
                  flush=True)
    return result


def resident_bytes() -> int:
    """The resident memory of this process (a worker's, through ``client.run``)."""
    import psutil

    return psutil.Process().memory_info().rss


def record_of(article) -> dict:
    return {"id": article.id, "title": article.title, "heading": article.heading,
            "body": article.body, "category": article.category,
            "published": article.published.isoformat() if article.published else None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("make", "fit", "shard", "batch", "cores"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/recommender-bench-cluster"))
    parser.add_argument("--scales", default="300k,1m")
    parser.add_argument("--scale", default="300k")
    parser.add_argument("--per-day", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", type=Path, help="batch: a model folder without a table")
    parser.add_argument("--sample", type=int, default=100_000,
                        help="batch: lists scored per run (default: %(default)s)")
    parser.add_argument("--shard-days", type=int, default=30,
                        help="shard: the model --model saved in shards of this many days")
    parser.add_argument("--out", type=Path, help="shard: the sharded model's folder")
    args = parser.parse_args(argv)
    if args.step == "make":
        make(args.work, args.scales.split(","), args.per_day, args.seed)
    elif args.step == "fit":
        out = args.work / "out"
        out.mkdir(parents=True, exist_ok=True)
        bench_fit(args.work / args.scale, args.repeats, out)
    elif args.step == "shard":
        from recommender import ArticleRecommender

        model = ArticleRecommender.load(args.model)
        model.shard_days = args.shard_days
        model.save(args.out)
    elif args.step == "batch":
        out = args.work / "out"
        out.mkdir(parents=True, exist_ok=True)
        bench_batch(args.model, args.sample, args.repeats, out)
    elif args.step == "cores":
        bench_cores(args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
