"""The report's HTML page: header, curves, tables, coverage bars and example lists.

:func:`render` returns the whole page as one string, with its plots embedded as base64
``data:`` URIs and its style inline: it links no stylesheet, script or font, so it reads
offline and travels as one file. Every text is escaped with :func:`html.escape`: titles
come from scraped pages.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from .. import __version__
from .plots import MRR_MAX_K, MRR_PNG, RECALL_MAX_K, RECALL_PNG
from .runs import CUTOFF

__all__ = ["SCORES", "Run", "render"]

#: The score columns, in table order: key in the figures, heading. Higher is better.
SCORES = (("recall@2", "recall@2"), ("recall@5", "recall@5"), ("recall@10", "recall@10"),
          ("mrr", "MRR"), ("ndcg@10", "nDCG@10"), ("coverage", "coverage"))


@dataclass(frozen=True)
class Run:
    """A checked run: 1-based ranks (``np.inf`` for a miss) and its figures."""

    name: str
    kind: str
    ranks: np.ndarray
    sources: np.ndarray
    figures: dict


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def render(title: str, runs: list[Run], examples: list[dict], notes: list[str],
           plots: dict) -> str:
    """The page of checked ``runs``, ``examples`` and ``notes``; ``plots`` maps each PNG's
    file name to its bytes (embedded, and linked to the file beside the page)."""
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


def _reference(runs: list[Run]) -> Run:
    """The first run of kind "model", else the first run."""
    return next((r for r in runs if r.kind == "model"), runs[0])


def _header(title: str, runs: list[Run], notes: list[str]) -> str:
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


def _metrics_table(runs: list[Run]) -> str:
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


def _ablation_table(runs: list[Run]) -> str:
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


def _coverage(runs: list[Run]) -> str:
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
