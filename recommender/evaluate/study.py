"""An evaluation study: the model, its baselines, its ablations and example lists, as a report.

:func:`study` runs :func:`~recommender.evaluate.evaluate` on the model and on variants of
it that each turn one lever off (:data:`ABLATIONS`, made with
:meth:`~recommender.ArticleRecommender.with_scoring`, no refit), picks example sources, and
hands all of it to :func:`~recommender.evaluate.report.write_report`.
"""

from __future__ import annotations

import numpy as np

from . import plots
from ..model.search import PLAIN_TFIDF
from ..times import NO_LIMIT
from .report import header_notes, write_report
from .runs import evaluate

__all__ = ["ABLATIONS", "study"]

#: For each scoring, name -> what the variant changes (see
#: :meth:`~recommender.ArticleRecommender.with_scoring`). "max_age": None means no
#: freshness limit; "window" is run only on a model whose window is the other one.
ABLATIONS = {
    "cosine": {
        "plain TF-IDF cosine (idf power 1, every query term, no length prior)":
            {k: v for k, v in PLAIN_TFIDF.items() if k != "scoring"},
        "idf power 1": {"idf_power": 1.0},
        "every query term": {"query_terms": None},
        "no length prior": {"length_prior": 0.0},
        "no max age": {"max_age": None},
        "rolling window": {"window": "rolling"},
    },
    "mlt": {
        "query terms said once allowed (min_term_freq 1)": {"min_term_freq": 1},
        "25 query terms (Elasticsearch's default)": {"mlt_terms": 25},
        "BM25 k1 1.2 (Lucene's default)": {"k1": 1.2},
        "plain BM25 idf (power 1)": {"mlt_idf_power": 1.0},
        "no length normalisation (b 0)": {"b": 0.0},
        "no max age": {"max_age": None},
        "rolling window": {"window": "rolling"},
    },
}


def study(model, truth, path, *, ks=(2, 5, 10), max_age=None, n_examples=12, seed=0,
          ablations: bool = True, corpus=None, ground_truth=None, command=None):
    """Evaluate ``model`` on ``truth`` and write the HTML report to the folder ``path``.

    Returns ``(html_path, report)``, ``report`` being :func:`evaluate`'s dict for the model
    (without its details).
    """
    plots.require_matplotlib()  # no matplotlib: say so now, not after the evaluation
    report = evaluate(model, truth, ks=ks, max_age=max_age, details=True)
    details = report.pop("details")
    link_source = details["link_source"]
    age = model.max_age_days_ if max_age is None else max_age
    learned = report.get("learned")
    runs = [_run("learned re-ranker" if learned else "content model", "model",
                 details["ranks"]["model"], link_source, report)]
    if learned:  # the content model first: the ablations change it, not the re-ranker
        runs.insert(0, _run("content only", "model", details["ranks"]["content_only"],
                            link_source, report["content_only"]))
    for name, figures in report.get("baselines", {}).items():
        runs.append(_run(name.replace("_", " "), "baseline", details["ranks"][name],
                         link_source, figures))
    if ablations:
        content = model.content_only()
        if learned:  # the same links as the learned model: not those of its own lists
            truth = truth.subset(~np.isin(truth.sources, model.reranker_.sources_))
        for name, change in ABLATIONS[model.scoring].items():
            if change == {"window": model.window}:
                continue  # the model's own window
            scoring = {k: v for k, v in change.items() if k != "max_age"}
            variant_age = max_age
            if "max_age" in change:
                if age is None:
                    continue  # the model has no limit already
                variant_age = NO_LIMIT
            variant = content.with_scoring(**scoring)
            r = evaluate(variant, truth, ks=ks, max_age=variant_age, baselines=False,
                         details=True)
            runs.append(_run(name, "ablation", r["details"]["ranks"]["model"],
                             r["details"]["link_source"], r))
    notes = header_notes(corpus=corpus, ground_truth=ground_truth, max_age=age,
                         learned_from=learned["n_lists"] if learned else None,
                         command=command)
    if learned:
        notes.append(f"The learned re-ranker left out the {learned['links_left_out']:,} links "
                     f"of the lists it learned from; every run here is scored on the same "
                     f"{report['n_links']:,} links.")
    examples = _examples(model, truth, details, n_examples, seed, max_age)
    html_path = write_report(path, runs, examples=examples,
                             title="Related articles: evaluation", notes=notes)
    return html_path, report


def _run(name, kind, ranks, link_source, figures) -> dict:
    keep = ("recall@2", "recall@5", "recall@10", "mrr", "ndcg@10", "coverage", "n_links",
            "n_sources")
    return {"name": name, "kind": kind, "ranks": np.asarray(ranks),
            "link_source": np.asarray(link_source),
            "metrics": {k: figures[k] for k in keep if k in figures}}


def _examples(model, truth, details, n, seed, max_age, k=5) -> list[dict]:
    """``n`` sources drawn at random: the site's list beside ours, with shared words."""
    sources = details["source_ids"]
    if n <= 0 or len(sources) == 0:
        return []
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(len(sources), size=min(n, len(sources)), replace=False))
    out = []
    for i in picked:
        source = str(sources[i])
        as_of = details["as_of"][i]
        targets = [str(t) for t in details["targets"][details["link_source"] == i]]
        ids, scores = model.recommend(source, k, as_of=as_of, max_age=max_age)
        out.append({
            "source_id": source,
            "source_title": model.article_info(source)["title"],
            "shown_at": as_of,
            "site": [{"id": t, "title": model.article_info(t)["title"]} for t in targets],
            "ours": [{"id": str(r), "title": model.article_info(str(r))["title"],
                      "score": float(s), "is_target": str(r) in targets,
                      "terms": [w for w, _ in model.explain(source, str(r), n_terms=4)]}
                     for r, s in zip(ids, scores)],
        })
    return out
