"""Related-article recommendations for French news: TF-IDF, cosine top-k, evaluation.

The names below are imported from their modules on first use (PEP 562), not when the
package is. A worker process of a parallel fit unpickles
:func:`recommender.vectors.counting.count_chunk`, which imports this package first: importing
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
    "CorpusError": "errors",
    "CorpusWarning": "errors",
    "read_corpus": "corpus",
    "GroundTruth": "truth",
    "read_ground_truth": "truth",
    "ArticleRecommender": "model.estimator",
    "NotFittedError": "errors",
    "Recommendations": "model.estimator",
    "UnknownArticleError": "errors",
    "ModelFormatError": "errors",
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
    from .corpus import Article, read_corpus
    from .errors import (CorpusError, CorpusWarning, ModelFormatError, NotFittedError,
                         UnknownArticleError)
    from .model.estimator import ArticleRecommender, Recommendations
    from .truth import GroundTruth, read_ground_truth


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
