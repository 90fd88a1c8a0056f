"""The documented user errors and warnings: one family, each kind also a builtin.

Everything a user can cause (a bad file, an unknown id, a bad parameter, a damaged model,
a missing optional package) raises a :class:`RecommenderError`. Each kind keeps the builtin
base that Python code would expect (an unknown id is a ``KeyError``, a bad parameter a
``ValueError``), so ``except KeyError`` still works. The command line prints these as one
line and exits 2; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = [
    "ClusterError",
    "CorpusError",
    "CorpusWarning",
    "DatabaseError",
    "MissingDependencyError",
    "ModelFormatError",
    "NotFittedError",
    "ParameterError",
    "RecommenderError",
    "UndatedWarning",
    "InputFileNotFoundError",
    "UnknownArticleError",
]


class RecommenderError(Exception):
    """Base of the errors a user can cause and fix; the message says how."""


class CorpusError(RecommenderError, ValueError):
    """A corpus or ground-truth file, or a record in it, that cannot be used."""


class UnknownArticleError(RecommenderError, KeyError):
    """An article id that the model does not know."""

    def __str__(self) -> str:  # KeyError would print the message inside quotes
        return str(self.args[0]) if self.args else ""


class ModelFormatError(RecommenderError, ValueError):
    """A model folder that is incomplete, damaged, or of another format version."""


class ParameterError(RecommenderError, ValueError):
    """A parameter or an option with a value it cannot take."""


class InputFileNotFoundError(RecommenderError, FileNotFoundError):
    """An input file (a corpus, ids, ground truth, pins, a text) is not there. Unlike
    another ``OSError`` without a file name, it is not an error of the command's output."""


class NotFittedError(RecommenderError, RuntimeError):
    """A model or vectorizer used before ``fit`` or ``load``."""


class MissingDependencyError(RecommenderError, ImportError):
    """An optional package that a feature needs is not installed; the message says how to
    install it."""


class DatabaseError(RecommenderError, RuntimeError):
    """A database that cannot be reached or written (a server that does not answer, a
    denied privilege, a full disk); the message names its URL, password masked, and the
    database's reason."""


class ClusterError(RecommenderError, RuntimeError):
    """A Dask cluster that cannot be used: no scheduler answers at the address, or its
    workers do not see the model folder the client sees; the message names the address or
    the worker."""


class CorpusWarning(UserWarning):
    """Something in a corpus was kept but deserves attention (empty text, unknown ids)."""


class UndatedWarning(UserWarning):
    """Articles without a date, which no time filter can keep (given once per model)."""

