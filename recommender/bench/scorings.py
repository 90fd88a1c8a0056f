"""The benchmark's comparison of the two scorings: each stage timed with each, in turn.

:class:`ScoringStages` is a part of :class:`~recommender.bench.run.Bench`: the neighbour
table and the model's batch of every scoring, alternated in rounds
(:func:`~recommender.bench.timing.alternated`) so that the machine's slow spells fall on
both alike, and a ``mlt / cosine`` ratio row after each stage.
"""

from __future__ import annotations

from ..model.estimator import DEFAULT_MAX_AGE
from .timing import alternated

__all__ = ["ScoringStages"]


class ScoringStages:
    """Stages of :class:`~recommender.bench.run.Bench` that compare the scorings (it
    provides ``record``, ``jobs``, ``exact_limit``, ``repeats`` and ``k``)."""

    def ratios(self, scale, n, stage, timings: dict, threads: int) -> None:
        """A row of each scoring's time over the last one's (the baseline: cosine)."""
        if len(timings) < 2:
            return
        names = list(timings)
        base = names[-1]
        for name in names[:-1]:
            self.record(scale, n, f"{stage}: {name} / {base}", None, threads=threads,
                        ratio=round(timings[name][0] / timings[base][0], 3))

    def tables(self, scale, models: dict, repeats: int) -> None:
        """The neighbour table of each scoring, alternated: the top-50 of every article
        from the newest 62 days, as ``recommender train`` builds it."""
        n = next(iter(models.values())).n_articles
        if n > self.exact_limit:
            return
        models = {scoring: model.with_scoring(max_age=DEFAULT_MAX_AGE)
                  for scoring, model in models.items()}
        for threads in self.jobs:
            runs = {}
            for scoring, model in models.items():
                def build(model=model, threads=threads):
                    model.n_jobs = threads
                    return model.build_table(50)
                runs[scoring] = build
            timings = alternated(runs, repeats)
            for scoring, (seconds, peak, _, _) in timings.items():
                self.record(scale, n, f"neighbour table top-50 ({scoring})", seconds,
                            threads=threads, peak=peak, per=n,
                            max_age_days=DEFAULT_MAX_AGE)
            self.ratios(scale, n, "neighbour table top-50", timings, threads)

    def model_batch(self, scale, models: dict, threads, sample) -> None:
        """``recommend_batch`` of every article with each scoring (alternated), over the
        whole archive, and from the newest 62 days as ``recommender batch`` of a model
        trained with the defaults does. Above ``exact_limit``, timed on the sampled
        queries and multiplied out."""
        first = next(iter(models.values()))
        n, k = first.n_articles, self.k
        ids = first.ids_ if n <= self.exact_limit else first.ids_[sample]
        for label, max_age in (("whole archive", None),
                               (f"newest {DEFAULT_MAX_AGE:g} days", DEFAULT_MAX_AGE)):
            runs = {}
            for scoring, model in models.items():
                def batch(model=model, max_age=max_age):
                    model.n_jobs = threads
                    return model.recommend_batch(ids, k, max_age=max_age)
                runs[scoring] = batch
            timings = alternated(runs, 1 if len(ids) < n or n > 50_000 else self.repeats)
            for scoring, (seconds, peak, _, _) in timings.items():
                extra = {}
                if len(ids) < n:
                    seconds *= n / len(ids)
                    extra.update(extrapolated_from=len(ids),
                                 note=f"timed on {len(ids):,} queries, times n/{len(ids):,}")
                self.record(scale, n, f"batch top-{k}, {label} ({scoring})", seconds,
                            threads=threads, peak=peak, per=n, **extra)
            self.ratios(scale, n, f"batch top-{k}, {label}", timings, threads)
