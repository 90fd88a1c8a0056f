"""Related-article recommendations for French news: TF-IDF, cosine top-k, evaluation.

The names below are imported from their modules on first use (PEP 562), not when the
package is. A worker process of a parallel fit unpickles
:func:`recommender.counting.count_chunk`, which imports this package first: importing
every module here (the model and scikit-learn with it) cost each worker about a second of
CPU before its first chunk.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS = {
    "Article": "corpus",
    "CorpusError": "corpus",
    "CorpusWarning": "corpus",
    "read_corpus": "corpus",
    "GroundTruth": "evaluate.runs",
    "read_ground_truth": "evaluate.runs",
    "ArticleRecommender": "model.estimator",
    "NotFittedError": "model.estimator",
    "Recommendations": "model.estimator",
    "UnknownArticleError": "model.estimator",
    "ModelFormatError": "store",
}

__all__ = [
    "Article",
    "ArticleRecommender",
    "CorpusError",
    "CorpusWarning",
    "GroundTruth",
    "ModelFormatError",
    "NotFittedError",
    "Recommendations",
    "UnknownArticleError",
    "read_corpus",
    "read_ground_truth",
]

if TYPE_CHECKING:  # what the names are, for type checkers and editors
    from .corpus import Article, CorpusError, CorpusWarning, read_corpus
    from .evaluate.runs import GroundTruth, read_ground_truth
    from .model.estimator import ArticleRecommender, NotFittedError, Recommendations, UnknownArticleError
    from .store import ModelFormatError


def __getattr__(name: str):
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next look-up finds it at once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
