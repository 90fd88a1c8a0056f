"""The benchmark: every stage of the engine, and other libraries, at several corpus sizes.

``run(...)`` builds the corpus of each scale point (the real corpus, or a synthetic one of
``n`` articles recombined from its sentences, :mod:`.synthetic`), and times, in one
process: fit (analysis + vectorizing) at each thread count, save, load, the top-10 of
every article (exact, :func:`recommender.index.topk.top_k`, and the approximate mode of
:mod:`recommender.index.approx` with its recall on a sample), ``recommend()`` and
``similar(text)`` latencies, writing the batch file, and each competitor
(:mod:`.competitors`) on the same matrix with the same ``k`` and threads, with
the share of lists that agree. Every row is a dict (``stage``, ``competitor``,
``threads``, ``seconds``, ``ratio`` ...) printed as a table line and written as JSON.

Memory is the peak resident set size (RSS) of this process plus its child processes (the
fit's workers), sampled every 20 ms by a thread while a stage runs (:mod:`.memory`).
Timings are medians of ``repeats`` runs (:mod:`.timing`); the machine's other work makes
them noisy, so ratios are taken between runs of the same process.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import tempfile
import time
import warnings
from itertools import islice
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .._files import atomic_file
from ..batch.sinks import writer_for
from ..corpus import read_corpus
from ..errors import CorpusWarning, ParameterError
from ..index.approx import approx_top_k, recall
from ..index.topk import top_k
from ..model.estimator import ArticleRecommender
from .competitors import COMPETITORS, THREADED, CompetitorMissing, agreement
from .synthetic import SentencePool, parse_scale
from .scorings import ScoringStages
from .timing import Counted, alternated, machine, timed

__all__ = ["Bench", "write_json"]

logger = logging.getLogger(__name__)

#: Above this many articles the exact all-pairs top-k is timed on a sample of queries and
#: extrapolated (it grows as n²); the approximate mode runs on every article.
EXACT_LIMIT = 150_000
#: A competitor whose time extrapolated from the previous scale point (as n²) passes this
#: is skipped at that point, with a note.
COMPETITOR_LIMIT = 900.0
SAMPLE = 2000
#: Above ``exact_limit``, the approximate mode is timed on this many queries.
APPROX_TIMING = 20_000
#: The approximate mode's settings that the benchmark runs: the defaults, and fewer terms
#: with a lower document-frequency cap (faster, lower recall).
APPROX_SETTINGS = {"default": {}, "fast": {"n_terms": 16, "max_df_share": 0.01}}


class Bench(ScoringStages):
    """One benchmark run. ``rows`` collects the measurements; :meth:`run` fills them."""

    def __init__(self, corpus, *, scales=("real",), jobs=(1, 2), repeats: int = 3, k: int = 10,
                 sample: int = SAMPLE, seed: int = 0, competitors=tuple(COMPETITORS),
                 exact_limit: int = EXACT_LIMIT, competitor_limit: float = COMPETITOR_LIMIT,
                 print_fn=None, json_path=None, competitor_sample: bool = False,
                 exact_all: bool = False, scorings=("mlt", "cosine"),
                 per_day: float | None = None):
        self.corpus = Path(corpus)
        self.scales = [(s, parse_scale(s)) for s in scales]
        self.jobs = list(jobs)
        self.repeats = repeats
        self.k = k
        self.sample = sample
        self.seed = seed
        self.competitors = list(competitors)
        unknown = set(self.competitors) - set(COMPETITORS)
        if unknown:
            raise ParameterError(f"unknown competitor {sorted(unknown)[0]!r}: expected some of "
                             f"{', '.join(COMPETITORS)}")
        self.exact_limit = exact_limit
        self.scorings = list(scorings)  # the first is the default; the last the baseline
        self.exact_all = exact_all  # the exact all-pairs on every article at every size
        self.per_day = per_day  # synthetic corpora at this constant rate (None: real span)
        self.competitor_limit = competitor_limit
        self.print = print_fn or (lambda line: print(line, flush=True))
        self.rows: list[dict] = []
        self.competitor_sample = competitor_sample  # compare on the sampled queries only
        self.json_path = json_path  # rewritten after every row: a long run leaves its rows
        self._last_time: dict[tuple, tuple[int, float]] = {}
        self._cosine = None  # (model, its unit rows, their postings): see cosine_rows

    # -- output ----------------------------------------------------------------------------
    def record(self, scale, n, stage, seconds=None, *, competitor="ours", threads=1,
               peak=None, per=None, **extra) -> dict:
        row = {"scale": scale, "n_articles": n, "stage": stage, "competitor": competitor,
               "threads": threads,
               "seconds": None if seconds is None else round(seconds, 6),
               "peak_rss_mb": None if peak is None else round(peak / 2**20, 1), **extra}
        if per and seconds:
            row["per_second"] = round(per / seconds, 1)
        self.rows.append(row)
        secs = "" if seconds is None else f"{seconds:10.4f} s"
        rate = f"{row['per_second']:>11,.0f}/s" if "per_second" in row else " " * 13
        mem = "" if peak is None else f"{row['peak_rss_mb']:>9,.0f} MB"
        more = "  ".join(f"{key}={value}" for key, value in extra.items())
        self.print(f"{scale:>5} {stage:<30} {competitor:<16} {threads:>2}t {secs:>12} "
                   f"{rate} {mem:>12}  {more}".rstrip())
        if self.json_path:
            write_json(self.report(), self.json_path)
        return row

    def report(self) -> dict:
        return {"machine": machine(), "corpus": str(self.corpus), "k": self.k,
                "per_day": self.per_day,
                "repeats": self.repeats, "jobs": self.jobs, "rows": self.rows}

    def cosine_rows(self, model):
        """The model's unit TF-IDF rows and their postings, kept for the model of the
        current scale: the all-pairs stages time the plain cosine top-k that every
        competitor computes (the model's own scoring, with its query terms and length
        prior, is timed by the batch stage)."""
        if self._cosine is None or self._cosine[0] is not model:
            X = model.unit_vectors()
            self._cosine = (model, X, sp.csr_matrix(X.T))
        return self._cosine[1:]

    # -- the run ---------------------------------------------------------------------------
    def run(self) -> dict:
        if not self.corpus.is_file():
            raise FileNotFoundError(f"corpus not found: {self.corpus}; give the real corpus "
                                    f"with --corpus")
        pool = None
        logging.getLogger("gensim").setLevel(logging.WARNING)
        self.print(f"corpus {self.corpus}; k={self.k}; threads {self.jobs}; repeats "
                   f"{self.repeats}; {os.cpu_count()} CPUs")
        start = time.perf_counter()
        with warnings.catch_warnings():  # data-quality notes are not the benchmark's business
            warnings.simplefilter("ignore", CorpusWarning)
            real = list(read_corpus(self.corpus))
        self.record("real", len(real), "read corpus", time.perf_counter() - start,
                    per=len(real))
        # similar(text) is asked with the texts of 200 real articles, at every scale.
        picks = np.random.default_rng(self.seed).choice(len(real), min(200, len(real)),
                                                        replace=False)
        self.query_texts = [real[i].text for i in picks.tolist()]
        for name, n in self.scales:
            if n is None:
                self.run_scale(name, lambda: real, len(real), materialize=True)
                continue
            if pool is None:
                seconds, peak, pool = timed(lambda: SentencePool.from_articles(real), 1)
                self.record("pool", len(pool), "sentence pool", seconds, peak=peak,
                            sentences=len(pool.sentences))
            self.run_scale(name, lambda n=n: pool.articles(n, seed=self.seed,
                                                           **self.rate()), n,
                           materialize=n <= self.exact_limit * 2)
        return self.report()

    def rate(self) -> dict:
        """The synthetic corpora's rate: ``per_day`` articles a day, constant, if given."""
        if self.per_day is None:
            return {}
        return {"per_day": self.per_day, "constant_rate": True}

    def run_scale(self, scale: str, make, n: int, materialize: bool) -> None:
        logger.info("scale %s: %s articles", scale, f"{n:,}")
        repeats = self.repeats if n <= 50_000 else 1
        texts = None
        if materialize:
            seconds, peak, articles = timed(lambda: list(make()), 1)
            if scale != "real":
                self.record(scale, n, "generate (in memory)", seconds, peak=peak, per=n)
            texts = articles
        model = None
        head = list(islice(texts if materialize else make(), SAMPLE))
        words = round(float(np.mean([len(a.title.split()) + len(a.heading.split())
                                     + len(a.body.split()) for a in head])), 1)
        del head
        models = {}
        for threads in self.jobs:
            runs, streams = {}, {}
            for scoring in self.scorings:
                counted = streams[scoring] = Counted(texts if materialize else make())

                def fit(counted=counted, threads=threads, scoring=scoring):
                    counted.n = 0
                    counted.seconds = 0.0
                    model = ArticleRecommender(scoring=scoring, n_jobs=threads,
                                               table_size=0).fit(counted)
                    model.matrix_  # made on first use without a table: timed as the fit's
                    return model
                runs[scoring] = fit
            timings = alternated(runs, repeats, cpu=threads == 1)
            for scoring, (seconds, peak, model, cpu) in timings.items():
                extra = {}
                if cpu is not None:  # one process: its CPU time is the fit's
                    extra["cpu_seconds"] = round(cpu, 3)
                    extra["per_cpu_second"] = round(n / cpu, 1)
                if not materialize:
                    extra["of_which_generating_s"] = round(streams[scoring].seconds, 2)
                X = model.matrix_
                self.record(scale, n, f"fit ({scoring})", seconds, threads=threads,
                            peak=peak, per=n, per_core=round(n / seconds / threads, 1),
                            vocabulary=X.shape[1], nnz=int(X.nnz),
                            terms_per_article=round(X.nnz / n, 1),
                            words_per_article=words, **extra)
                models[scoring] = model
            self.ratios(scale, n, "fit", timings, threads)
        del texts
        model = models[self.scorings[0]]
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "model"
            seconds, peak, _ = timed(lambda: model.save(folder), 1)
            size = sum(f.stat().st_size for f in folder.iterdir())
            self.record(scale, n, "save", seconds, peak=peak, folder_bytes=size,
                        bytes_per_article=round(size / n, 1))
            seconds, peak, model = timed(lambda: ArticleRecommender.load(folder), self.repeats)
            self.record(scale, n, f"load ({self.scorings[0]})", seconds, peak=peak)
        models[self.scorings[0]] = model
        for scoring, each in models.items():
            self.latencies(scale, each, scoring)
        self.tables(scale, models, repeats)
        self.all_pairs(scale, models.get("cosine", model), models)

    def latencies(self, scale, model, scoring) -> None:
        n = model.n_articles
        rng = np.random.default_rng(self.seed)
        model.n_jobs = 1
        model.warm_up()  # built once on first use; not part of a request
        ids = rng.choice(model.ids_, size=min(1000, n), replace=False).tolist()
        self._latency(scale, n, f"recommend() ({scoring})",
                      lambda i: model.recommend(i, self.k), ids)
        self._latency(scale, n, f"similar(text) ({scoring})",
                      lambda t: model.similar(t, self.k), self.query_texts)

    def _latency(self, scale, n, name, call, queries) -> None:
        """p50 and p99 of ``call`` over ``queries``, one at a time."""
        times = []
        for query in queries:
            start = time.perf_counter()
            call(query)
            times.append(time.perf_counter() - start)
        for p in (50, 99):
            self.record(scale, n, f"{name} p{p}", float(np.percentile(times, p)),
                        queries=len(queries))

    def all_pairs(self, scale, model, models: dict) -> None:
        """The all-pairs top-k of the plain cosine of ``model``'s rows, ours and the
        competitors', the approximate mode, and each scoring's batch (``models``)."""
        X, XT = self.cosine_rows(model)
        n, k = model.n_articles, self.k
        rng = np.random.default_rng(self.seed)
        sample = np.sort(rng.choice(n, size=min(self.sample, n), replace=False))
        exact_sample = None
        if n <= self.exact_limit:
            exact_sample = top_k(X[sample], X, k, skip=sample, XT=XT, n_jobs=max(self.jobs))
        repeats = self.repeats if n <= 50_000 else 1
        ours = {}
        for threads in self.jobs:
            if n <= self.exact_limit or self.exact_all:
                seconds, peak, result = timed(
                    lambda: top_k(X, X, k, skip=np.arange(n), XT=XT, n_jobs=threads), repeats)
                ours[threads] = (seconds, result)
                self.record(scale, n, f"all-pairs top-{k} exact", seconds, threads=threads,
                            peak=peak, per=n)
                self._last_time[("ours", threads)] = (n, seconds)
                if exact_sample is None:
                    exact_sample = (result[0][sample], result[1][sample])
            else:
                seconds, peak, result = timed(
                    lambda: top_k(X[sample], X, k, skip=sample, XT=XT, n_jobs=threads), 1)
                exact_sample = exact_sample or result
                self.record(scale, n, f"all-pairs top-{k} exact", seconds * n / len(sample),
                            threads=threads, peak=peak, per=n, extrapolated_from=len(sample),
                            note=f"timed on {len(sample)} queries, times n/{len(sample)}")
            for label, params in APPROX_SETTINGS.items():
                self.approx(scale, model, threads, label, params, sample, exact_sample)
            self.model_batch(scale, models, threads, sample)
        ours_sample = {}
        for name in self.competitors:
            if n > self.exact_limit:
                self.record(scale, n, f"all-pairs top-{k} exact", None, competitor=name,
                            skipped=f"not run above {self.exact_limit:,} articles (hours "
                                    f"for each at 1M)")
                continue
            for threads in self.jobs:
                if name not in THREADED and threads != 1:
                    continue
                if self.competitor_sample:
                    if threads not in ours_sample:
                        ours_sample[threads] = timed(lambda: top_k(
                            X[sample], X, k, skip=sample, XT=XT, n_jobs=threads), 1)[::2]
                    self.competitor(scale, name, X, threads, ours_sample[threads], sample)
                else:
                    self.competitor(scale, name, X, threads, ours[threads] if threads in ours
                                    else ours[max(ours)])

    def approx(self, scale, model, threads, label, params, sample, exact_sample) -> None:
        """The approximate mode on every article (or, above ``exact_limit``, on a sample of
        ``APPROX_TIMING`` queries, the time multiplied out), with its recall on ``sample``."""
        X, XT = self.cosine_rows(model)
        n, k = model.n_articles, self.k
        stage = f"all-pairs top-{k} approx" + ("" if label == "default" else f" {label}")
        if n <= self.exact_limit:
            rows = np.arange(n)
        else:
            rng = np.random.default_rng(self.seed + 1)
            rows = np.union1d(sample, rng.choice(n, size=min(APPROX_TIMING, n), replace=False))
        seconds, peak, (ai, ascore) = timed(
            lambda: approx_top_k(X[rows] if len(rows) < n else X, X, k, XT=XT, skip=rows,
                                 n_jobs=threads, **params), 1)
        at = np.searchsorted(rows, sample)
        found = recall(ai[at], exact_sample[0], exact_sample[1], ascore[at])
        extra = {"recall_vs_exact": round(found, 4), "recall_sample": len(sample), **params}
        if len(rows) < n:
            seconds *= n / len(rows)
            extra.update(extrapolated_from=len(rows),
                         note=f"timed on {len(rows):,} queries, times n/{len(rows):,}")
        self.record(scale, n, stage, seconds, threads=threads, peak=peak, per=n, **extra)
        if threads == max(self.jobs) and label == "default":
            self.write_batch(scale, model, rows, ai, ascore)

    def competitor(self, scale, name, X, threads, ours, rows=None) -> None:
        n, k = X.shape[0], self.k
        stage = f"all-pairs top-{k} exact" if rows is None else \
            f"top-{k} of {len(rows):,} sampled queries"
        last = self._last_time.get((name, threads)) if rows is None else None
        if last is not None:
            guess = last[1] * (n / last[0]) ** 2
            if guess > self.competitor_limit:
                self.record(scale, n, stage, None, competitor=name,
                            threads=threads, skipped=f"extrapolated {guess:,.0f} s (n² from "
                            f"{last[0]:,} articles) > {self.competitor_limit:,.0f} s")
                return
        try:
            seconds, peak, (ti, ts) = timed(
                lambda: COMPETITORS[name](X, k, threads, rows),
                self.repeats if n <= 50_000 else 1)
        except CompetitorMissing as exc:
            self.record(scale, n, stage, None, competitor=name, threads=threads,
                        skipped=str(exc))
            return
        if rows is None:
            self._last_time[(name, threads)] = (n, seconds)
        ours_s, (oi, os_) = ours
        self.record(scale, n, stage, seconds, competitor=name, threads=threads, peak=peak,
                    per=n if rows is None else len(rows), ratio=round(ours_s / seconds, 3),
                    ours_seconds=round(ours_s, 6), **agreement(oi, os_, ti, ts))

    def write_batch(self, scale, model, rows, indices, scores) -> None:
        """The batch file (JSON lines of :mod:`recommender.batch`) of the approximate lists
        of ``rows``; the bytes per article are measured on those rows."""
        n = len(rows)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "batch.jsonl"

            def write():
                with open(path, "w", encoding="utf-8", newline="") as fh:
                    writer = writer_for(fh, ".jsonl")
                    ids = model.ids_
                    for i, row in enumerate(rows.tolist()):
                        found = indices[i] >= 0
                        writer(ids[row], ids[indices[i][found]].tolist(),
                               scores[i][found].tolist())
                return path.stat().st_size

            seconds, peak, size = timed(write, 1)
            self.record(scale, model.n_articles, f"write batch JSONL top-{self.k}", seconds,
                        peak=peak, per=n, file_bytes=size, articles_written=n,
                        bytes_per_article=round(size / n, 1))


def write_json(report: dict, path) -> None:
    """The report as JSON (gzip when the name ends in .gz), written whole then renamed."""
    path = Path(path)
    with atomic_file(path, "wb") as raw:
        if path.suffix == ".gz":
            with gzip.open(raw, "wt", encoding="utf-8") as fh:
                json.dump(report, fh, indent=1)
        else:
            raw.write(json.dumps(report, indent=1).encode("utf-8"))
