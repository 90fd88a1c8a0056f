"""One home for the checks that every layer repeats: numbers, thread counts, parameters.

Each check returns the value in its plain Python type, or raises
:class:`~recommender.errors.ParameterError` (a ``ValueError``) whose message names the
parameter, says what it takes and shows what came: ``k must be a positive integer, got 0``.
Booleans are never numbers here, numpy scalars are.
"""

from __future__ import annotations

import inspect
import math
import os

import numpy as np

from .errors import ParameterError

__all__ = ["Params", "check_int", "check_jobs", "check_number", "is_number"]


def _shown(value):
    return value.item() if isinstance(value, np.generic) else value  # np.True_ as True


def is_number(value, *, finite: bool = True) -> bool:
    """A real number (Python or numpy), not a bool; finite unless told otherwise."""
    if isinstance(value, (bool, np.bool_)) or \
            not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    return not finite or math.isfinite(value)


def check_int(value, name: str, *, minimum: int = 1, allow_none: bool = False,
              what: str | None = None) -> int | None:
    """``value`` as an int >= ``minimum`` (None passes with ``allow_none``).

    ``what`` describes the accepted values in the message; by default "a positive integer"
    (``minimum=1``) or "a non-negative integer" (``minimum=0``).
    """
    if value is None and allow_none:
        return None
    if what is None:
        what = {0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer of at least {minimum}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < minimum:
        raise ParameterError(f"{name} must be {what}, got {_shown(value)!r}")
    return int(value)


def check_number(value, name: str, what: str, *, low=None, high=None,
                 low_open: bool = False, high_open: bool = False,
                 allow_none: bool = False) -> float | None:
    """``value`` as a float within ``[low, high]`` (open ends with ``low_open`` /
    ``high_open``; None for no bound), or None with ``allow_none``. ``what`` describes
    the accepted values in the message: ``f"{name} must be {what}, got {value!r}"``."""
    if value is None and allow_none:
        return None
    ok = is_number(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        raise ParameterError(f"{name} must be {what}, got {_shown(value)!r}")
    return float(value)


def check_jobs(n_jobs) -> int:
    """Threads or processes to use: a positive int, or -1 for one per CPU."""
    if n_jobs == -1 and not isinstance(n_jobs, (bool, np.bool_)):
        return os.cpu_count() or 1
    return check_int(n_jobs, "n_jobs", what="a positive integer or -1 (one per CPU)")


class Params:
    """``get_params`` and ``set_params`` derived from the constructor's keyword arguments,
    as scikit-learn's estimators have them: the constructor only stores its arguments
    under their own names, and these two read and write those attributes."""

    @classmethod
    def param_names(cls) -> list[str]:
        """The constructor's parameters, in their order."""
        signature = inspect.signature(cls.__init__)
        return [p.name for p in signature.parameters.values()
                if p.name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]

    def get_params(self) -> dict:
        """The constructor's parameters and their current values."""
        return {name: getattr(self, name) for name in self.param_names()}

    def set_params(self, **params):
        """Set parameters by name; an unknown name is refused. Returns the object."""
        names = self.param_names()
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise ParameterError(f"{type(self).__name__} has no parameter {unknown[0]!r}; "
                                 f"its parameters are {', '.join(names)}")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {p.name: p.default
                    for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{k}={v!r}" for k, v in self.get_params().items()
                   if not _same(v, defaults.get(k))]
        return f"{type(self).__name__}({', '.join(changed)})"


def _same(a, b) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return False
