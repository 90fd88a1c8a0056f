"""A self-contained HTML evaluation report: curves, tables, coverage and example lists.

``write_report(DIR, runs)`` writes ``DIR/index.html``, with its two plots embedded as base64
``data:`` URIs and also written beside it (``recall_at_k.png``, ``mrr_at_k.png``). The page
links no stylesheet, script or font, so it reads offline and travels as one file. Every
text is escaped with :func:`html.escape`: titles come from scraped pages.

A *run* is one ranking of the links: the model, a baseline, or an ablation (a variant of
the model, shown as deltas against the first run of kind ``"model"``). Its ``ranks`` are
0-based, ``-1`` for a target not in the list; they are turned into the 1-based,
``np.inf``-for-a-miss ranks of :mod:`recommender.metrics`, whose functions compute every
figure that the caller does not give.

matplotlib (the ``report`` extra) draws the plots with the Agg canvas, through ``Figure``
objects only: pyplot and its global state are never touched.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path

import numpy as np

from .. import __version__
from . import metrics
from .runs import CUTOFF

__all__ = ["write_report", "header_notes"]

KINDS = ("model", "baseline", "ablation")
#: Recall is plotted for k = 1..RECALL_MAX_K, MRR@k for k = 1..MRR_MAX_K (log scale).
RECALL_MAX_K = 20
MRR_MAX_K = CUTOFF
RECALL_PNG = "recall_at_k.png"
MRR_PNG = "mrr_at_k.png"
INSTALL_HINT = "pip install 'recommender[report]'"

#: The score columns, in table order: key in the figures, heading. Higher is better.
SCORES = (("recall@2", "recall@2"), ("recall@5", "recall@5"), ("recall@10", "recall@10"),
          ("mrr", "MRR"), ("ndcg@10", "nDCG@10"), ("coverage", "coverage"))
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


@dataclass(frozen=True)
class _Run:
    """A checked run: 1-based ranks (``np.inf`` for a miss) and its figures."""

    name: str
    kind: str
    ranks: np.ndarray
    sources: np.ndarray
    figures: dict


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
            key is computed from ranks with recommender.metrics, except 'coverage')}
        The first run of kind "model" is the reference for the ablation deltas.
    examples: sequence of dicts {"source_id", "source_title", "shown_at" (ISO str or None),
        "site": [{"id", "title"}], "ours": [{"id", "title", "score": float,
        "is_target": bool, "terms": [str, ...]}]}
    notes: sequence of str (protocol, split, command that reproduces the figures), shown in
        the header; :func:`header_notes` words the usual ones.

    The folder is created if missing; the files are written under temporary names and
    renamed into place, ``index.html`` last. Raises ``ValueError`` for a bad run or example,
    ``NotADirectoryError`` when ``path`` is a file, and ``ImportError`` (with the install
    command) when matplotlib is not installed.
    """
    checked = _check_runs(runs)
    shown = [_check_example(i, e) for i, e in enumerate(_sequence(examples, "examples"))]
    notes = [str(n) for n in _sequence(notes, "notes")]
    Figure, Canvas = _matplotlib()
    folder = _folder(path)
    plotted = [r for r in checked if r.kind != "ablation"] or checked
    plots = {
        RECALL_PNG: _plot(Figure, Canvas, plotted, metrics.recall_curve, RECALL_MAX_K,
                          "recall@k", log=False),
        MRR_PNG: _plot(Figure, Canvas, plotted, metrics.mrr_curve, MRR_MAX_K,
                       "MRR@k (ranks beyond k count 0)", log=True),
    }
    for name, png in plots.items():
        _write_atomic(folder / name, png)
    page = _page(str(title), checked, shown, notes, plots)
    target = folder / "index.html"
    _write_atomic(target, page.encode("utf-8"))
    return target


def header_notes(*, corpus=None, ground_truth=None, max_age=None, learned_from=None,
                 command=None) -> list[str]:
    """The usual header lines for :func:`write_report`'s ``notes``, in the report's words.

    ``max_age`` in days (None: no limit); ``learned_from`` the number of lists a learned
    model was fitted on (then it was evaluated only on sources it never saw); ``command``
    the command line that reproduces the figures. Arguments left None give no line, except
    the protocol line, which is always there.
    """
    lines = []
    if corpus is not None:
        lines.append(f"Corpus: {corpus}")
    if ground_truth is not None:
        lines.append(f"Ground truth: {ground_truth}")
    age = f"max age {max_age:g} days" if max_age else "no max age"
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


def _check_runs(runs) -> list[_Run]:
    """Every run checked and its figures completed; the reference model first among them."""
    runs = _sequence(runs, "runs")
    if not runs:
        raise ValueError("runs is empty: the report needs at least one run, a dict with "
                         "'name', 'kind', 'ranks' and 'link_source'")
    checked = [_check_run(i, run) for i, run in enumerate(runs)]
    names = [r.name for r in checked]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"two runs are named {name!r}; give each run its own name "
                             "(it labels the table rows and the plot lines)")
    ablations = [r.name for r in checked if r.kind == "ablation"]
    if ablations and not any(r.kind == "model" for r in checked):
        raise ValueError(f"the ablation runs {ablations} need a run of kind 'model' as "
                         "their reference, and there is none; add the full model's run")
    return checked


def _check_run(i: int, run) -> _Run:
    if not isinstance(run, Mapping):
        raise TypeError(f"runs[{i}] must be a dict, got a {type(run).__name__}")
    for key in ("name", "kind", "ranks", "link_source"):
        if key not in run:
            raise ValueError(f"runs[{i}] has no {key!r}; each run needs 'name', 'kind', "
                             "'ranks' and 'link_source'")
    name, kind = run["name"], run["kind"]
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"runs[{i}]: name must be a non-empty string, got {name!r}")
    if kind not in KINDS:
        raise ValueError(f"run {name!r}: kind must be 'model', 'baseline' or 'ablation', "
                         f"got {kind!r}")
    ranks = _ranks_1_based(name, run["ranks"])
    sources = np.asarray(run["link_source"])
    if sources.ndim != 1 or len(sources) != len(ranks):
        raise ValueError(f"run {name!r}: link_source has shape {sources.shape} but ranks has "
                         f"{len(ranks)} entries; give one source index per link, in the "
                         "order of ranks")
    given = run.get("metrics") or {}
    if not isinstance(given, Mapping):
        raise TypeError(f"run {name!r}: metrics must be a dict, got a {type(given).__name__}")
    return _Run(name, kind, ranks, sources, _figures(name, ranks, sources, given))


def _ranks_1_based(name: str, ranks) -> np.ndarray:
    """0-based ranks with -1 for a miss -> the 1-based, ``np.inf`` ranks of the metrics."""
    r = np.asarray(ranks)
    if r.ndim != 1:
        raise ValueError(f"run {name!r}: ranks must have shape (n_links,), got shape {r.shape}")
    if r.size == 0:
        raise ValueError(f"run {name!r}: ranks is empty; give one rank per link")
    if r.dtype.kind not in "iuf":
        raise ValueError(f"run {name!r}: ranks must be integers, got dtype {r.dtype}")
    r = r.astype(float)
    bad = ~np.isfinite(r) | (r != np.floor(r)) | (r < -1)
    if bad.any():
        pos = int(np.argmax(bad))
        raise ValueError(f"run {name!r}: ranks must be 0-based positions, or -1 for a target "
                         f"not in the list, got {r[pos]:g} at position {pos}")
    return np.where(r < 0, np.inf, r + 1.0)


def _figures(name: str, ranks: np.ndarray, sources: np.ndarray, given: Mapping) -> dict:
    """The figures the report shows: those given, the others computed (coverage: None)."""
    out = {}
    for key in [k for k, _ in SCORES] + ["n_links", "n_sources"]:
        if given.get(key) is not None:
            try:
                out[key] = float(given[key])
            except (TypeError, ValueError):
                raise ValueError(f"run {name!r}: metrics[{key!r}] must be a number, "
                                 f"got {given[key]!r}") from None
        elif key in COMPUTED:
            try:
                out[key] = float(COMPUTED[key](ranks, sources))
            except ValueError as exc:
                raise ValueError(f"run {name!r}: {exc}") from None
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
            raise ValueError(f"{where}['ours'][{j}]: score must be a number, "
                             f"got {item['score']!r}") from None
        terms = item.get("terms") or ()
        ours.append({"id": item["id"], "title": item["title"], "score": score,
                     "is_target": bool(item.get("is_target", False)),
                     "terms": [str(t) for t in _sequence(terms, f"{where}['ours'][{j}]['terms']")]})
    return {"source_id": example["source_id"], "source_title": example["source_title"],
            "shown_at": example.get("shown_at"), "site": site, "ours": ours}


def _require(item, keys, where: str):
    if not isinstance(item, Mapping):
        raise TypeError(f"{where} must be a dict, got a {type(item).__name__}")
    for key in keys:
        if key not in item:
            raise ValueError(f"{where} has no {key!r}; it needs {', '.join(map(repr, keys))}")
    return item


# -- files ---------------------------------------------------------------------------------
def _matplotlib():
    """``(Figure, FigureCanvasAgg)``, or an ImportError that says how to install them."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("the evaluation report draws its plots with matplotlib, which is "
                          f"not installed: {INSTALL_HINT}") from exc
    return Figure, FigureCanvasAgg


def _folder(path) -> Path:
    """The report's folder, created if missing; a file in its place is refused."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(
            f"report folder {folder} exists and is not a folder; give a folder path (the "
            f"report writes index.html, {RECALL_PNG} and {MRR_PNG} into it) or move the file")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary name beside ``path``, then rename it into place."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


# -- plots ---------------------------------------------------------------------------------
def _plot(Figure, Canvas, runs, curve, max_k: int, ylabel: str, *, log: bool) -> bytes:
    """One PNG: ``curve(ranks, max_k)`` against k for every run, models solid."""
    fig = Figure(figsize=(6.4, 4.0), dpi=110, layout="constrained")
    Canvas(fig)
    ax = fig.add_subplot()
    ks = np.arange(1, max_k + 1)
    n_models = n_baselines = 0
    for run in runs:
        if run.kind == "baseline":
            style = {"color": "0.45", "linestyle": ("--", ":", "-.")[n_baselines % 3],
                     "linewidth": 1.5}
            n_baselines += 1
        else:
            style = {"color": f"C{n_models % 10}", "linewidth": 2.2}
            n_models += 1
        ax.plot(ks, curve(run.ranks, max_k), label=_plot_label(run.name),
                marker=None if log else "o", markersize=3, **style)
    ax.set_xlabel("k (length of the list)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    if log:
        ax.set_xscale("log")
        ticks = [k for k in (1, 2, 5, 10, 20, 50, 100, 200, 500) if k <= max_k]
        ax.set_xticks(ticks, [str(k) for k in ticks])
    else:
        ax.set_xticks([k for k in (1, 2, 5, 10, 15, 20) if k <= max_k])
    ax.set_xlim(1, max_k)
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False)
    buffer = BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _plot_label(name: str) -> str:
    """A run name as matplotlib shows it verbatim: ``$`` is not math, ``_x`` not hidden."""
    label = name.replace("$", r"\$")
    return " " + label if label.startswith("_") else label


# -- the page ------------------------------------------------------------------------------
def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _page(title: str, runs: list[_Run], examples: list[dict], notes: list[str],
          plots: dict) -> str:
    sections = [_header(title, runs, notes), _curves(plots), _metrics_table(runs)]
    if any(r.kind == "ablation" for r in runs):
        sections.append(_ablation_table(runs))
    sections.append(_coverage(runs))
    if examples:
        sections.append(_examples(examples))
    written = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sections.append(f'<footer>Written by recommender {_e(__version__)} on {written}. '
                    'The page is self-contained: the plots are embedded, nothing is '
                    'fetched.</footer>')
    body = "\n".join(sections)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n'
            f'<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n')


def _reference(runs: list[_Run]) -> _Run:
    """The first run of kind "model", else the first run."""
    return next((r for r in runs if r.kind == "model"), runs[0])


def _header(title: str, runs: list[_Run], notes: list[str]) -> str:
    ref = _reference(runs)
    counts = (f'{_count(ref.figures["n_links"])} links from '
              f'{_count(ref.figures["n_sources"])} source articles '
              f'<span class="muted">(run {_e(ref.name)})</span>')
    items = "".join(f"<li>{_e(n)}</li>" for n in notes)
    return (f'<header>\n<h1>{_e(title)}</h1>\n<p class="lede">{counts}</p>\n'
            + (f'<ul class="notes">{items}</ul>\n' if items else "") + "</header>")


def _count(value) -> str:
    return "?" if value is None else f"{int(value):,}"


def _curves(plots: dict) -> str:
    captions = {
        RECALL_PNG: ("Recall@k", "Share of the site's links whose target is in our top k, "
                     f"k = 1 to {RECALL_MAX_K}."),
        MRR_PNG: ("MRR@k", "Mean of 1/rank over links, a rank beyond k counting 0, "
                  f"k = 1 to {MRR_MAX_K} (log scale)."),
    }
    figures = []
    for name, png in plots.items():
        head, text = captions[name]
        data = base64.b64encode(png).decode("ascii")
        figures.append(f'<figure><img src="data:image/png;base64,{data}" alt="{_e(head)} '
                       f'curves"><figcaption><b>{_e(head)}.</b> {_e(text)} Also '
                       f'<a href="{_e(name)}">{_e(name)}</a>.</figcaption></figure>')
    return ('<section id="curves">\n<h2>By length of the list</h2>\n<div class="plots">'
            + "".join(figures) + "</div>\n</section>")


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def _score_cell(key: str, value, css: str = "") -> str:
    data = "" if value is None else f' data-value="{value!r}"'
    cls = f' class="{css}"' if css else ""
    return f'<td data-key="{_e(key)}"{data}{cls}>{_fmt(value)}</td>'


def _metrics_table(runs: list[_Run]) -> str:
    """Models and baselines, one row each; the best value of each column highlighted."""
    rows = [r for r in runs if r.kind != "ablation"]
    best = {}
    for key, _ in SCORES:
        shown = [round(r.figures[key], 3) for r in rows if r.figures[key] is not None]
        best[key] = max(shown) if shown else None
    head = "".join(f"<th>{_e(h)}</th>" for _, h in SCORES)
    body = []
    for run in rows:
        cells = []
        for key, _ in SCORES:
            value = run.figures[key]
            top = value is not None and len(rows) > 1 and round(value, 3) == best[key]
            cells.append(_score_cell(key, value, "best" if top else ""))
        body.append(f'<tr data-run="{_e(run.name)}" class="{run.kind}"><th>{_e(run.name)}'
                    f' <span class="kind">{run.kind}</span></th>{"".join(cells)}'
                    f'<td data-key="n_links">{_count(run.figures["n_links"])}</td></tr>')
    return ('<section id="metrics">\n<h2>Metrics</h2>\n<table class="figures">\n'
            f'<thead><tr><th>run</th>{head}<th>links</th></tr></thead>\n<tbody>\n'
            + "\n".join(body) + "\n</tbody>\n</table>\n"
            f'<p class="hint">Recall over links; MRR counts ranks beyond {CUTOFF} as 0; '
            'nDCG@10 per source article. The best value of each column is highlighted.</p>'
            "\n</section>")


def _ablation_table(runs: list[_Run]) -> str:
    """Each ablation's figures with its signed delta against the reference model."""
    ref = _reference(runs)
    head = "".join(f"<th>{_e(h)}</th>" for _, h in SCORES)
    body = [f'<tr data-run="{_e(ref.name)}" class="reference"><th>{_e(ref.name)} '
            '<span class="kind">reference</span></th>'
            + "".join(_score_cell(key, ref.figures[key]) for key, _ in SCORES) + "</tr>"]
    for run in (r for r in runs if r.kind == "ablation"):
        cells = [_delta_cell(key, run.figures[key], ref.figures[key]) for key, _ in SCORES]
        body.append(f'<tr data-run="{_e(run.name)}"><th>{_e(run.name)}</th>'
                    + "".join(cells) + "</tr>")
    return ('<section id="ablation">\n<h2>Ablation</h2>\n<table class="figures">\n'
            f'<thead><tr><th>variant</th>{head}</tr></thead>\n<tbody>\n'
            + "\n".join(body) + "\n</tbody>\n</table>\n"
            f'<p class="hint">Each variant changes one thing in the model; the figure under '
            f'each value is its difference with {_e(ref.name)}, green when higher.</p>'
            "\n</section>")


def _delta_cell(key: str, value, reference) -> str:
    """The value, and under it the signed difference with the reference, coloured."""
    if value is None or reference is None:
        return _score_cell(key, value)
    delta = value - reference
    shown = round(delta, 3)
    if shown > 0:
        sign, css = "+", "better"
    elif shown < 0:
        sign, css = "\u2212", "worse"  # a minus sign, as wide as the plus
    else:
        sign, css = "±", "same"
    return (f'<td data-key="{_e(key)}" data-value="{value!r}">{_fmt(value)}'
            f'<span class="delta {css}" data-delta="{delta!r}">{sign}{abs(shown):.3f}</span></td>')


def _coverage(runs: list[_Run]) -> str:
    """A bar per model and baseline run that gives its coverage."""
    rows = [r for r in runs if r.kind != "ablation" and r.figures["coverage"] is not None]
    if not rows:
        return ('<section id="coverage">\n<h2>Coverage</h2>\n<p class="hint">No run gives '
                "its coverage (it needs the lists, not only the ranks): pass "
                "metrics={'coverage': …}, as recommender.evaluate computes it.</p>\n</section>")
    bars = "".join(
        f'<div class="bar-row"><span class="bar-name">{_e(r.name)}</span>'
        f'<span class="bar"><span class="fill {r.kind}" '
        f'style="width:{100 * min(max(r.figures["coverage"], 0.0), 1.0):.1f}%"></span></span>'
        f'<span class="bar-value">{100 * r.figures["coverage"]:.1f}%</span></div>'
        for r in rows)
    return ('<section id="coverage">\n<h2>Coverage</h2>\n'
            '<p class="hint">Share of the articles that can be recommended that appear in at '
            "least one of the run's lists. Random lists cover much and match little: read it "
            f"beside recall.</p>\n<div class=\"bars\">{bars}</div>\n</section>")


def _examples(examples: list[dict]) -> str:
    parts = [_example(e) for e in examples]
    return ('<section id="examples">\n<h2>Examples</h2>\n<p class="hint">The site\'s list '
            "beside ours, for a sample of source articles. <span class=\"mark\">✓ site</span> "
            "marks our items that the site also lists; the words under each are the shared "
            "terms that weigh most in its score.</p>\n" + "\n".join(parts) + "\n</section>")


def _example(example: dict) -> str:
    ours_rank = {str(item["id"]): n for n, item in enumerate(example["ours"], start=1)}
    site = []
    for item in example["site"]:
        found = ours_rank.get(str(item.get("id")))
        mark = f' <span class="mark">our #{found}</span>' if found else ""
        site.append(f'<li lang="fr">{_e(item["title"])}{mark}</li>')
    ours = []
    for item in example["ours"]:
        mark = ' <span class="mark">✓ site</span>' if item["is_target"] else ""
        terms = (f'<div class="terms">shared: {_e(", ".join(item["terms"]))}</div>'
                 if item["terms"] else "")
        hit = ' class="hit"' if item["is_target"] else ""
        ours.append(f'<li{hit}><span class="score">{item["score"]:.3f}</span> '
                    f'<span lang="fr">{_e(item["title"])}</span>{mark}{terms}</li>')
    return (f'<article class="example">\n<h3 lang="fr">{_e(example["source_title"])}</h3>\n'
            f'<p class="meta"><code>{_e(example["source_id"])}</code> · '
            f'{_shown_at(example["shown_at"])}</p>\n<div class="lists">'
            f'<div><h4>The site\'s list</h4>{_list(site)}</div>'
            f'<div><h4>Ours</h4>{_list(ours)}</div></div>\n</article>')


def _list(items: list[str]) -> str:
    return f"<ol>{''.join(items)}</ol>" if items else '<p class="muted">(empty)</p>'


def _shown_at(value) -> str:
    if not value:
        return "shown at an unknown time"
    text = str(value)
    return f'shown <time datetime="{_e(text)}">{_e(text.replace("T", " "))}</time>'


CSS = """
:root { --ink: #1d2430; --muted: #667085; --line: #e4e7ec; --best: #dcf5e3;
  --better: #137333; --worse: #b3261e; --accent: #1f5fbf; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fafbfc;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { margin: 36px 0 10px; font-size: 19px; border-bottom: 1px solid var(--line);
  padding-bottom: 4px; }
h3 { margin: 0 0 2px; font-size: 16px; }
h4 { margin: 8px 0 4px; font-size: 13px; text-transform: uppercase; letter-spacing: .04em;
  color: var(--muted); }
.lede { font-size: 17px; margin: 4px 0; }
.notes { margin: 6px 0 0; padding-left: 18px; color: var(--muted); }
.muted, .hint, footer { color: var(--muted); }
.hint { font-size: 13px; }
footer { margin-top: 40px; font-size: 12px; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr));
  gap: 16px; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 8px;
  padding: 8px; }
figure img { width: 100%; height: auto; display: block; }
figcaption { font-size: 13px; color: var(--muted); padding: 4px 4px 0; }
table.figures { border-collapse: collapse; background: #fff; width: 100%;
  font-variant-numeric: tabular-nums; }
.figures th, .figures td { padding: 6px 10px; border-bottom: 1px solid var(--line);
  text-align: right; white-space: nowrap; }
.figures th:first-child { text-align: left; }
.figures thead th { font-size: 13px; color: var(--muted); font-weight: 600; }
.figures tr.baseline th, .figures tr.baseline td { color: var(--muted); }
.figures tr.reference { background: #f4f6fa; }
td.best { background: var(--best); font-weight: 700; }
.kind { font-size: 11px; color: var(--muted); font-weight: 400; margin-left: 4px; }
.delta { display: block; font-size: 12px; }
.delta.better { color: var(--better); }
.delta.worse { color: var(--worse); }
.delta.same { color: var(--muted); }
.bars { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px; }
.bar-row { display: grid; grid-template-columns: 220px 1fr 70px; gap: 10px;
  align-items: center; margin: 4px 0; }
.bar-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.bar { background: #eef1f5; border-radius: 4px; height: 14px; overflow: hidden; }
.fill { display: block; height: 100%; background: var(--accent); }
.fill.baseline { background: #98a2b3; }
.bar-value { text-align: right; font-variant-numeric: tabular-nums; }
.example { background: #fff; border: 1px solid var(--line); border-radius: 8px;
  padding: 12px 14px; margin: 12px 0; }
.meta { margin: 0; font-size: 13px; color: var(--muted); }
.lists { display: grid; grid-template-columns: 1fr 1fr; gap: 20px; }
@media (max-width: 760px) { .lists { grid-template-columns: 1fr; } }
ol { margin: 0; padding-left: 22px; }
li { margin: 3px 0; }
li.hit { background: var(--best); border-radius: 4px; }
.score { font-variant-numeric: tabular-nums; color: var(--muted); font-size: 13px; }
.mark { font-size: 11px; font-weight: 700; color: var(--better); white-space: nowrap; }
.terms { font-size: 12px; color: var(--muted); }
code { font-size: 12px; }
"""
