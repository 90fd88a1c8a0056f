"""Related-article recommendations for French news: TF-IDF, cosine top-k, evaluation."""

from .corpus import Article, CorpusError, CorpusWarning, read_corpus
from .model import ArticleRecommender, NotFittedError, Recommendations, UnknownArticleError
from .store import ModelFormatError

__all__ = [
    "Article",
    "ArticleRecommender",
    "CorpusError",
    "CorpusWarning",
    "ModelFormatError",
    "NotFittedError",
    "Recommendations",
    "UnknownArticleError",
    "read_corpus",
]

__version__ = "0.1.0"
