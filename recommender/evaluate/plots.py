"""The report's two plots, recall@k and MRR@k against k, drawn as PNG bytes.

matplotlib (the ``report`` extra) draws them with the Agg canvas, through ``Figure``
objects only: pyplot and its global state are never touched. It is imported inside the
functions, so that the rest of the evaluation works without it.
"""

from __future__ import annotations

from io import BytesIO

import numpy as np

from . import metrics
from ..errors import MissingDependencyError
from .runs import CUTOFF

__all__ = ["INSTALL_HINT", "MRR_MAX_K", "MRR_PNG", "RECALL_MAX_K", "RECALL_PNG", "draw",
           "require_matplotlib"]

#: Recall is plotted for k = 1..RECALL_MAX_K, MRR@k for k = 1..MRR_MAX_K (log scale).
RECALL_MAX_K = 20
MRR_MAX_K = CUTOFF
RECALL_PNG = "recall_at_k.png"
MRR_PNG = "mrr_at_k.png"
INSTALL_HINT = "pip install 'recommender[report]'"


def require_matplotlib():
    """``(Figure, FigureCanvasAgg)``, or a :class:`~recommender.errors.MissingDependencyError`
    (an ``ImportError``) that says how to install them."""
    try:  # an optional dependency: imported only when a report is drawn
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingDependencyError("the evaluation report draws its plots with matplotlib, "
                                     f"which is not installed: {INSTALL_HINT}") from exc
    return Figure, FigureCanvasAgg


def draw(runs) -> dict[str, bytes]:
    """``{file name: PNG bytes}`` of the two plots, for ``runs`` (each with ``name``,
    ``kind`` and the 1-based ``ranks`` of :mod:`recommender.evaluate.metrics`)."""
    Figure, Canvas = require_matplotlib()
    return {
        RECALL_PNG: _plot(Figure, Canvas, runs, metrics.recall_curve, RECALL_MAX_K,
                          "recall@k", log=False),
        MRR_PNG: _plot(Figure, Canvas, runs, metrics.mrr_curve, MRR_MAX_K,
                       "MRR@k (ranks beyond k count 0)", log=True),
    }


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
