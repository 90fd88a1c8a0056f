"""Settings for a site's own lists: chosen on one half of them, confirmed on the other.

:func:`tune` splits a site's related lists by source article (:func:`~recommender.truth.half_of`:
even crc32 of the id is TUNE, odd is CONFIRM). For each scoring (More Like This, then
cosine) it walks the levers of :data:`LEVERS` in order, one group at a time: each option
of the group is tried on top of what was chosen so far and kept when it finds more of the
TUNE links (recall@10, then MRR) than the current choice. The scoring whose walk ends
best on TUNE wins. Analysis levers refit the model; scoring levers re-weigh it
(:meth:`~recommender.ArticleRecommender.with_scoring`). Every run is also scored on
CONFIRM, for the record only: no choice ever reads it. The result is the fitted model with
the chosen settings and the table of what each lever did (:class:`Tuning`), which the model
folder keeps (``tuning.json``).
"""

from __future__ import annotations

import logging
import time
from typing import NamedTuple

from ..model.estimator import ArticleRecommender
from ..model.scoring import SCORING_SETTINGS
from ..truth import GroundTruth, half_of
from .runs import evaluate

__all__ = ["LEVERS", "REFIT", "Tuning", "tune"]

logger = logging.getLogger(__name__)

#: The parameters whose change needs a refit (the analysis of the text, the vocabulary).
REFIT = ("scoring", "analyzer", "min_df", "max_df", "field_weights", "sublinear_tf")

#: Groups of options, walked in order for each scoring: (group, scorings it applies to,
#: [(name, params)]).
LEVERS = (
    ("stop words", ("mlt",), [("stop words removed from the text",
                               {"analyzer": {"stop_words": True}})]),
    ("stop words", ("cosine",), [("stop words kept", {"analyzer": {"stop_words": False}})]),
    ("min_df", ("mlt", "cosine"), [("min_df 2", {"min_df": 2}), ("min_df 5", {"min_df": 5}),
                                   ("min_df 10", {"min_df": 10})]),
    ("query: terms said once", ("mlt",), [
        ("terms said once allowed", {"min_term_freq": 1}),
        ("terms said twice or more", {"min_term_freq": 2})]),
    ("query: stop words", ("mlt",), [
        ("stop words out of queries", {"query_stop_words": True}),
        ("stop words in queries", {"query_stop_words": False})]),
    ("query: terms", ("mlt",), [("20 query terms", {"mlt_terms": 20}),
                                ("40 query terms", {"mlt_terms": 40})]),
    ("BM25 k1", ("mlt",), [("k1 0.5", {"k1": 0.5}), ("k1 1.2", {"k1": 1.2})]),
    ("BM25 b", ("mlt",), [("b 0.5", {"b": 0.5}), ("b 0.9", {"b": 0.9})]),
    ("idf power", ("mlt",), [("idf power 0.5", {"mlt_idf_power": 0.5}),
                             ("idf power 1", {"mlt_idf_power": 1.0})]),
    ("idf power", ("cosine",), [("idf power 0.5", {"idf_power": 0.5}),
                                        ("idf power 1", {"idf_power": 1.0})]),
    ("query terms", ("cosine",), [("10 query terms", {"query_terms": 10}),
                                          ("40 query terms", {"query_terms": 40})]),
    ("length prior", ("cosine",), [("no length prior", {"length_prior": 0.0}),
                                           ("length prior 0.4", {"length_prior": 0.4})]),
    ("window", ("mlt", "cosine"), [("rolling window", {"window": "rolling"}),
                                   ("calendar window", {"window": "calendar"})]),
    ("max age", ("mlt", "cosine"), [("max age 30 days", {"max_age": 30.0}),
                                    ("max age 120 days", {"max_age": 120.0}),
                                    ("no max age", {"max_age": None})]),
)

#: The figures kept for each run.
KEYS = ("recall@2", "recall@10", "mrr")


class Tuning(NamedTuple):
    """What :func:`tune` found: the fitted ``model`` with the chosen settings, those
    settings (``chosen``: the parameters that differ from the defaults and the starting
    ones), and ``rows``: one dict per run (``group``, ``setting``, ``params``, ``kept``: it
    was better on TUNE than the choice before it, ``chosen``: the final choice, and
    ``TUNE`` and ``CONFIRM`` figures)."""

    model: ArticleRecommender
    chosen: dict
    rows: list

    def record(self) -> dict:
        """The JSON the model folder keeps (``tuning.json``)."""
        return {"split": "links by source: crc32 of the id, even TUNE (choices), odd "
                         "CONFIRM (checks only)",
                "chosen": self.chosen, "rows": self.rows}


def tune(articles, truth: GroundTruth, *, params: dict | None = None, levers=LEVERS,
         n_jobs: int = 1, progress=None) -> Tuning:
    """Choose the settings of a model for the lists of ``truth``, as the module says.

    ``articles`` is a sequence (it is read once per refit); ``params`` the parameters to
    start from (the defaults otherwise). ``progress(row)`` is called after each run.
    Returns a :class:`Tuning`; its model has no neighbour table yet (call
    :meth:`~recommender.ArticleRecommender.build_table`).
    """
    start = dict(params or {})
    halves = {"TUNE": half_of(truth, "even"), "CONFIRM": half_of(truth, "odd")}
    fits: dict = {}

    def run(group: str, name: str, settings: dict, kept: bool | None) -> dict:
        started = time.perf_counter()
        model = _variant(articles, settings, fits, n_jobs)
        row = {"group": group, "setting": name, "params": _plain(settings), "kept": kept}
        for half, links in halves.items():
            report = evaluate(model, links, ks=(2, 10), baselines=False)
            row[half] = {k: round(float(report[k]), 4) for k in KEYS}
        row["seconds"] = round(time.perf_counter() - started, 1)
        if progress is not None:
            progress(row)
        return row

    rows, finals = [], []
    for scoring in ("mlt", "cosine"):
        current = {**start, "scoring": scoring}
        best = run(scoring, "defaults" if not start else "the given settings", current, True)
        rows.append(best)
        for group, scorings, options in levers:
            if scoring not in scorings:
                continue
            for name, change in options:
                if _same(current, {**current, **change}):
                    continue  # already the current setting
                row = run(f"{scoring}: {group}", name, {**current, **change}, False)
                rows.append(row)
                if _better(row["TUNE"], best["TUNE"]):
                    best, row["kept"] = row, True
            if best["params"] != _plain(current):
                current = dict(best["params"])
                logger.info("%s: %r chosen", group, best["setting"])
        finals.append(best)
    best = finals[0] if not _better(finals[1]["TUNE"], finals[0]["TUNE"]) else finals[1]
    for row in rows:
        row["chosen"] = row is best
    current = dict(best["params"])
    model = _variant(articles, current, fits, n_jobs)
    chosen = {k: v for k, v in _plain(current).items()
              if _plain(start).get(k, _default(k)) != v}
    return Tuning(model, chosen, rows)


def _better(a: dict, b: dict) -> bool:
    """More TUNE links found at 10 (by more than one in a thousand), or as many and a
    better MRR."""
    if abs(a["recall@10"] - b["recall@10"]) > 0.001:
        return a["recall@10"] > b["recall@10"]
    return a["mrr"] > b["mrr"]


def _variant(articles, settings: dict, fits: dict, n_jobs: int) -> ArticleRecommender:
    """The model of ``settings``: refitted when an analysis setting differs from a model
    already fitted, else that model re-weighed."""
    key = repr(sorted((k, repr(v)) for k, v in settings.items() if k in REFIT))
    if key not in fits:
        fitted = {k: v for k, v in settings.items() if k in REFIT}
        fits[key] = ArticleRecommender(**fitted, table_size=0, n_jobs=n_jobs).fit(articles)
    model = fits[key]
    scoring = settings.get("scoring", "mlt")
    changes = {k: v for k, v in settings.items()
               if k not in REFIT and k in (*SCORING_SETTINGS[scoring], "max_age")}
    return model.with_scoring(**changes) if changes else model


def _same(a: dict, b: dict) -> bool:
    """Whether two settings make the same model: the same vectorizer settings (``None``
    resolved to the scoring's default) and the same other parameters."""
    one, two = ArticleRecommender(**a), ArticleRecommender(**b)
    rest = [{k: v for k, v in m.get_params().items() if k not in REFIT} for m in (one, two)]
    return (rest[0] == rest[1] and one.scoring == two.scoring
            and one.make_vectorizer().settings() == two.make_vectorizer().settings())


def _default(name: str):
    return ArticleRecommender().get_params()[name]


def _plain(settings: dict) -> dict:
    """Settings as JSON keeps them (sorted keys)."""
    return {k: settings[k] for k in sorted(settings)}
