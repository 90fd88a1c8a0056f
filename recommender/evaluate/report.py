"""A self-contained HTML evaluation report: curves, tables, coverage and example lists.

``write_report(DIR, runs)`` writes ``DIR/index.html``, with its two plots embedded as base64
``data:`` URIs and also written beside it (``recall_at_k.png``, ``mrr_at_k.png``). This
module checks what it is given and writes the files; :mod:`.page` words the page and
:mod:`.plots` draws the plots.

A *run* is one ranking of the links: the model, a baseline, or an ablation (a variant of
the model, shown as deltas against the first run of kind ``"model"``). Its ``ranks`` are
0-based, ``-1`` for a target not in the list; they are turned into the 1-based,
``np.inf``-for-a-miss ranks of :mod:`recommender.evaluate.metrics`, whose functions compute
every figure that the caller does not give.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from . import metrics, plots
from .._files import atomic_file
from ..errors import ParameterError
from .page import SCORES, Run, render
from .plots import INSTALL_HINT, MRR_PNG, RECALL_PNG
from .runs import CUTOFF

__all__ = ["INSTALL_HINT", "header_notes", "write_report"]

KINDS = ("model", "baseline", "ablation")
#: How each figure is computed from ``(ranks, link_source)`` when the run does not give it.
#: Coverage needs the lists themselves, so it is only shown when given.
COMPUTED = {
    "recall@2": lambda r, s: metrics.recall_at_k(r, 2),
    "recall@5": lambda r, s: metrics.recall_at_k(r, 5),
    "recall@10": lambda r, s: metrics.recall_at_k(r, 10),
    "mrr": lambda r, s: metrics.mean_reciprocal_rank(r, CUTOFF),
    "ndcg@10": lambda r, s: metrics.ndcg_at_k(r, s, 10),
    "n_links": lambda r, s: len(r),
    "n_sources": lambda r, s: len(np.unique(s)),
}


# -- the public functions -----------------------------------------------------------------
def write_report(path, runs, *, examples=(), title="Evaluation", notes=()) -> Path:
    """Write DIR/index.html (+ DIR/recall_at_k.png, DIR/mrr_at_k.png); return the html path.

    runs: sequence of dicts, each:
        {"name": str, "kind": "model" | "baseline" | "ablation",
         "ranks": int array (one per link: 0-based rank of the link's target in that run's
            list, or -1 when not found within the list),
         "link_source": int array (one per link: index of its source),
         "metrics": dict (optional precomputed figures with keys like 'recall@2',
            'recall@10', 'mrr', 'ndcg@10', 'coverage', 'n_links', 'n_sources'; a missing
            key is computed from ranks with recommender.evaluate.metrics, except 'coverage')}
        The first run of kind "model" is the reference for the ablation deltas.
    examples: sequence of dicts {"source_id", "source_title", "shown_at" (ISO str or None),
        "site": [{"id", "title"}], "ours": [{"id", "title", "score": float,
        "is_target": bool, "terms": [str, ...]}]}
    notes: sequence of str (protocol, split, command that reproduces the figures), shown in
        the header; :func:`header_notes` words the usual ones.

    The folder is created if missing; the files are written under temporary names and
    renamed into place, ``index.html`` last. Raises
    :class:`~recommender.errors.ParameterError` (a ``ValueError``) for a bad run or example,
    ``NotADirectoryError`` when ``path`` is a file, and
    :class:`~recommender.errors.MissingDependencyError` (an ``ImportError``, with the
    install command) when matplotlib is not installed.
    """
    checked = _check_runs(runs)
    shown = [_check_example(i, e) for i, e in enumerate(_sequence(examples, "examples"))]
    notes = [str(n) for n in _sequence(notes, "notes")]
    plots.require_matplotlib()  # before the folder is made: nothing written without it
    folder = _folder(path)
    pngs = plots.draw([r for r in checked if r.kind != "ablation"] or checked)
    for name, png in pngs.items():
        with atomic_file(folder / name, "wb") as fh:
            fh.write(png)
    target = folder / "index.html"
    with atomic_file(target, "wb") as fh:
        fh.write(render(str(title), checked, shown, notes, pngs).encode("utf-8"))
    return target


def header_notes(*, corpus=None, ground_truth=None, max_age=None, learned_from=None,
                 command=None) -> list[str]:
    """The usual header lines for :func:`write_report`'s ``notes``, in the report's words.

    ``max_age`` in days (None or :data:`~recommender.times.NO_LIMIT`: no limit);
    ``learned_from`` the number of lists a learned model was fitted on (then it was
    evaluated only on sources it never saw); ``command`` the command line that reproduces
    the figures. Arguments left None give no line, except
    the protocol line, which is always there.
    """
    lines = []
    if corpus is not None:
        lines.append(f"Corpus: {corpus}")
    if ground_truth is not None:
        lines.append(f"Ground truth: {ground_truth}")
    limited = max_age and not math.isinf(max_age)
    age = f"max age {max_age:g} days" if limited else "no max age"
    lines.append(f"Protocol: ranked as of when each list was shown; {age}; "
                 f"MRR counts ranks beyond {CUTOFF} as 0")
    if learned_from is not None:
        lines.append(f"Split: learned from {int(learned_from):,} lists; "
                     "evaluated only on sources it never saw")
    if command is not None:
        lines.append(f"Reproduce: {command}")
    return lines


# -- checking the input --------------------------------------------------------------------
def _sequence(value, name: str) -> list:
    """``value`` as a list; a dict or a string (a likely slip for one item) is refused."""
    if isinstance(value, (Mapping, str, bytes)):
        raise TypeError(f"{name} must be a sequence, got a {type(value).__name__}; "
                        f"wrap a single item in a list")
    return list(value)


def _check_runs(runs) -> list[Run]:
    """Every run checked and its figures completed; the reference model first among them."""
    runs = _sequence(runs, "runs")
    if not runs:
        raise ParameterError("runs is empty: the report needs at least one run, a dict with "
                             "'name', 'kind', 'ranks' and 'link_source'")
    checked = [_check_run(i, run) for i, run in enumerate(runs)]
    names = [r.name for r in checked]
    for name in names:
        if names.count(name) > 1:
            raise ParameterError(f"two runs are named {name!r}; give each run its own name "
                                 "(it labels the table rows and the plot lines)")
    ablations = [r.name for r in checked if r.kind == "ablation"]
    if ablations and not any(r.kind == "model" for r in checked):
        raise ParameterError(f"the ablation runs {ablations} need a run of kind 'model' as "
                             "their reference, and there is none; add the full model's run")
    return checked


def _check_run(i: int, run) -> Run:
    if not isinstance(run, Mapping):
        raise TypeError(f"runs[{i}] must be a dict, got a {type(run).__name__}")
    for key in ("name", "kind", "ranks", "link_source"):
        if key not in run:
            raise ParameterError(f"runs[{i}] has no {key!r}; each run needs 'name', 'kind', "
                                 "'ranks' and 'link_source'")
    name, kind = run["name"], run["kind"]
    if not isinstance(name, str) or not name.strip():
        raise ParameterError(f"runs[{i}]: name must be a non-empty string, got {name!r}")
    if kind not in KINDS:
        raise ParameterError(f"run {name!r}: kind must be 'model', 'baseline' or 'ablation', "
                             f"got {kind!r}")
    ranks = _ranks_1_based(name, run["ranks"])
    sources = np.asarray(run["link_source"])
    if sources.ndim != 1 or len(sources) != len(ranks):
        raise ParameterError(f"run {name!r}: link_source has shape {sources.shape} but ranks "
                             f"has {len(ranks)} entries; give one source index per link, in "
                             "the order of ranks")
    given = run.get("metrics") or {}
    if not isinstance(given, Mapping):
        raise TypeError(f"run {name!r}: metrics must be a dict, got a {type(given).__name__}")
    return Run(name, kind, ranks, sources, _figures(name, ranks, sources, given))


def _ranks_1_based(name: str, ranks) -> np.ndarray:
    """0-based ranks with -1 for a miss -> the 1-based, ``np.inf`` ranks of the metrics."""
    r = np.asarray(ranks)
    if r.ndim != 1:
        raise ParameterError(f"run {name!r}: ranks must have shape (n_links,), got shape "
                             f"{r.shape}")
    if r.size == 0:
        raise ParameterError(f"run {name!r}: ranks is empty; give one rank per link")
    if r.dtype.kind not in "iuf":
        raise ParameterError(f"run {name!r}: ranks must be integers, got dtype {r.dtype}")
    r = r.astype(float)
    bad = ~np.isfinite(r) | (r != np.floor(r)) | (r < -1)
    if bad.any():
        pos = int(np.argmax(bad))
        raise ParameterError(f"run {name!r}: ranks must be 0-based positions, or -1 for a "
                             f"target not in the list, got {r[pos]:g} at position {pos}")
    return np.where(r < 0, np.inf, r + 1.0)


def _figures(name: str, ranks: np.ndarray, sources: np.ndarray, given: Mapping) -> dict:
    """The figures the report shows: those given, the others computed (coverage: None)."""
    out = {}
    for key in [k for k, _ in SCORES] + ["n_links", "n_sources"]:
        if given.get(key) is not None:
            try:
                out[key] = float(given[key])
            except (TypeError, ValueError):
                raise ParameterError(f"run {name!r}: metrics[{key!r}] must be a number, "
                                     f"got {given[key]!r}") from None
        elif key in COMPUTED:
            try:
                out[key] = float(COMPUTED[key](ranks, sources))
            except ValueError as exc:
                raise ParameterError(f"run {name!r}: {exc}") from None
        else:
            out[key] = None
    return out


def _check_example(i: int, example) -> dict:
    """The example with its lists checked; optional fields filled in."""
    where = f"examples[{i}]"
    if not isinstance(example, Mapping):
        raise TypeError(f"{where} must be a dict, got a {type(example).__name__}")
    _require(example, ("source_id", "source_title", "site", "ours"), where)
    site = [_require(item, ("title",), f"{where}['site'][{j}]")
            for j, item in enumerate(_sequence(example["site"], f"{where}['site']"))]
    ours = []
    for j, item in enumerate(_sequence(example["ours"], f"{where}['ours']")):
        _require(item, ("id", "title", "score"), f"{where}['ours'][{j}]")
        try:
            score = float(item["score"])
        except (TypeError, ValueError):
            raise ParameterError(f"{where}['ours'][{j}]: score must be a number, "
                                 f"got {item['score']!r}") from None
        terms = _sequence(item.get("terms") or (), f"{where}['ours'][{j}]['terms']")
        ours.append({"id": item["id"], "title": item["title"], "score": score,
                     "is_target": bool(item.get("is_target", False)),
                     "terms": [str(t) for t in terms]})
    return {"source_id": example["source_id"], "source_title": example["source_title"],
            "shown_at": example.get("shown_at"), "site": site, "ours": ours}


def _require(item, keys, where: str):
    if not isinstance(item, Mapping):
        raise TypeError(f"{where} must be a dict, got a {type(item).__name__}")
    for key in keys:
        if key not in item:
            raise ParameterError(f"{where} has no {key!r}; it needs "
                                 f"{', '.join(map(repr, keys))}")
    return item


def _folder(path) -> Path:
    """The report's folder, created if missing; a file in its place is refused."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(
            f"report folder {folder} exists and is not a folder; give a folder path (the "
            f"report writes index.html, {RECALL_PNG} and {MRR_PNG} into it) or move the file")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
