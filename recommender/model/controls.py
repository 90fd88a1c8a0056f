"""Newsroom controls: what a desk changes in a related box after the similarity is computed.

Each control re-orders or cuts one list of candidates (model rows, best first):

- ``half_life`` (days): freshness decay; a score is multiplied by ``0.5 ** (age / half_life)``,
  ``age`` counted back from the list's time.
- ``dedupe`` (a cosine in (0, 1]): near-duplicate suppression; a candidate whose text has
  at least this cosine with one already kept (a republished story, the same dispatch
  rewritten) is dropped.
- ``diversity`` (in [0, 1)): maximal marginal relevance; items are picked one at a time by
  ``(1 - diversity) * score - diversity * (highest cosine with the items picked so far)``.
- ``min_score``: candidates scoring below it are dropped, so the box shows fewer items
  rather than weak ones.

Their cost in recall on the shared corpus is measured in EVALUATION.md.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._checks import check_number
from ..times import SECONDS_PER_DAY

__all__ = ["CONTROLS", "apply_controls", "check_controls"]

#: The controls and their "off" value.
CONTROLS = {"half_life": None, "dedupe": None, "diversity": 0.0, "min_score": None}


def check_controls(half_life=None, dedupe=None, diversity=0.0, min_score=None) -> dict:
    """The controls, checked: a ParameterError names a bad one and the values it takes."""
    return {
        "half_life": check_number(half_life, "half_life", "a positive number of days or None",
                                  low=0, low_open=True, allow_none=True),
        "dedupe": check_number(dedupe, "dedupe", "a cosine in (0, 1] or None", low=0,
                               low_open=True, high=1, allow_none=True),
        "diversity": check_number(diversity, "diversity", "in [0, 1) (0 for none)", low=0,
                                  high=1, high_open=True),
        "min_score": check_number(min_score, "min_score", "a number or None", allow_none=True),
    }


def active(controls: dict) -> bool:
    """Whether any control changes a list."""
    return any(controls[name] != off for name, off in CONTROLS.items())


def apply_controls(rows, scores, k, controls, *, units: sp.csr_matrix, published, as_of):
    """Lists of ``k`` items after the controls.

    ``rows`` and ``scores`` have shape ``(n, width)``, best first, -1 / -inf padding;
    ``units`` holds the unit text vector of each model row (for the cosines between
    candidates), ``published`` the rows' publication times and ``as_of`` each list's time
    (seconds). Returns ``(rows, scores)`` of shape ``(n, k)``, best first.
    """
    n = rows.shape[0]
    out_rows = np.full((n, k), -1, np.int64)
    out_scores = np.full((n, k), -np.inf, np.float32)
    half_life, dedupe = controls["half_life"], controls["dedupe"]
    diversity, min_score = controls["diversity"], controls["min_score"]
    for i in range(n):
        valid = rows[i] >= 0
        cand, score = rows[i][valid], scores[i][valid].astype(np.float64)
        if half_life is not None and len(cand):
            age = np.maximum(as_of[i] - published[cand], 0) / SECONDS_PER_DAY
            score = score * 0.5 ** (age / half_life)
        if min_score is not None:
            keep = score >= min_score
            cand, score = cand[keep], score[keep]
        order = np.lexsort((cand, -score))
        cand, score = cand[order], score[order]
        if (dedupe is not None or diversity > 0) and len(cand) > 1:
            V = units[cand]
            similar = (V @ V.T).toarray()
            picked = _pick(score, similar, k, dedupe, diversity)
        else:
            picked = np.arange(min(k, len(cand)))
        out_rows[i, :len(picked)] = cand[picked]
        out_scores[i, :len(picked)] = score[picked]
    return out_rows, out_scores


def _pick(score, similar, k, dedupe, diversity) -> np.ndarray:
    """Greedy choice of up to ``k`` positions: no near-duplicate of a kept item, and with
    ``diversity`` the maximal-marginal-relevance order."""
    allowed = np.ones(len(score), bool)
    closest = np.zeros(len(score))  # highest cosine with the items picked so far
    picked = []
    while len(picked) < k and allowed.any():
        value = (1 - diversity) * score - diversity * closest
        value[~allowed] = -np.inf
        j = int(np.argmax(value))
        picked.append(j)
        allowed[j] = False
        closest = np.maximum(closest, similar[j])
        if dedupe is not None:
            allowed &= similar[j] < dedupe
    return np.array(picked, np.int64)
