"""Related-article recommendations for French news: TF-IDF, cosine top-k, evaluation."""

__version__ = "0.1.0"

from .corpus import Article, CorpusError, CorpusWarning, read_corpus  # noqa: E402
from .evaluate import GroundTruth, read_ground_truth  # noqa: E402
from .model import (ArticleRecommender, NotFittedError, Recommendations,  # noqa: E402
                    UnknownArticleError)
from .store import ModelFormatError  # noqa: E402

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
