"""The two scorings of a model, and how a fitted model changes its scoring settings.

``scoring="mlt"`` reads BM25 rows with More Like This queries
(:mod:`recommender.vectors.bm25`); ``scoring="cosine"`` reads unit TF-IDF rows scaled by
the length prior (:mod:`recommender.vectors.tfidf`). :func:`vectorizer_for` makes the
vectorizer of a model's parameters; :func:`rescored` re-weighs a fitted model's rows for
other settings without reading the texts again.
"""

from __future__ import annotations

import copy

import numpy as np

from .._checks import check_int, check_number
from ..vectors.bm25 import Bm25Vectorizer
from ..vectors.tfidf import FieldTfidfVectorizer, l2_normalize
from .search import ContentIndex, apply_length_prior, check_scoring

__all__ = ["SCORING_SETTINGS", "check_cosine_settings", "rescored", "vectorizer_for"]

#: What :meth:`~recommender.ArticleRecommender.with_scoring` can change without
#: refitting, by scoring.
SCORING_SETTINGS = {"cosine": ("idf_power", "query_terms", "length_prior", "window",
                               "max_age"),
                    "mlt": ("k1", "b", "mlt_idf_power", "mlt_terms", "min_term_freq",
                            "query_stop_words", "window", "max_age")}


def check_cosine_settings(params) -> None:
    """The cosine scoring's settings, checked whatever the scoring: a More Like This
    model's learned re-ranker reads cosine features made with them."""
    check_number(params.idf_power, "idf_power", "a number between 0 and 4", low=0, high=4)
    check_int(params.query_terms, "query_terms", allow_none=True,
              what="a positive integer or None (all terms)")
    check_number(params.length_prior, "length_prior", low=0, high=2,
                 what="a number between 0 and 2 (0 for plain cosine)")


def vectorizer_for(params):
    """The unfitted vectorizer of a model's parameters (an object with the attributes of
    :class:`~recommender.ArticleRecommender`'s parameters)."""
    if check_scoring(params.scoring) == "mlt":
        # checked here, under the model's names (the vectorizer names them otherwise)
        check_number(params.mlt_idf_power, "mlt_idf_power", "a number between 0 and 4",
                     low=0, high=4)
        check_int(params.mlt_terms, "mlt_terms")
        return Bm25Vectorizer(field_weights=params.field_weights,
                              min_df=2 if params.min_df is None else params.min_df,
                              max_df=1.0 if params.max_df is None else params.max_df,
                              analyzer=params.analyzer, k1=params.k1, b=params.b,
                              idf_power=params.mlt_idf_power, query_terms=params.mlt_terms,
                              min_term_freq=params.min_term_freq,
                              query_stop_words=params.query_stop_words,
                              n_jobs=params.n_jobs)
    return FieldTfidfVectorizer(field_weights=params.field_weights,
                                min_df=3 if params.min_df is None else params.min_df,
                                max_df=0.5 if params.max_df is None else params.max_df,
                                analyzer=params.analyzer, idf_power=params.idf_power,
                                sublinear_tf=params.sublinear_tf, n_jobs=params.n_jobs)


def rescored(model, other):
    """``(vectorizer, content index)`` of the fitted ``model`` re-weighed for the scoring
    settings of ``other`` (a copy of it with other settings, checked). With cosine the
    weights equal a refit's to float32 rounding; with More Like This they are a refit's,
    made from the model's raw counts."""
    if model.scoring == "mlt":
        vectorizer = model.vectorizer_.with_settings(
            k1=other.k1, b=other.b, idf_power=other.mlt_idf_power,
            query_terms=other.mlt_terms, min_term_freq=other.min_term_freq,
            query_stop_words=other.query_stop_words)
        content = model.content_
        return vectorizer, ContentIndex.bm25(vectorizer, content.counts, content.lengths)
    vectorizer = copy.copy(model.vectorizer_)
    vectorizer.idf_power = other.idf_power
    X = l2_normalize(model.matrix_.copy())  # back to unit rows
    if other.idf_power != model.idf_power:
        change = model.vectorizer_.idf_.astype(np.float64) ** (other.idf_power - model.idf_power)
        X.data *= change[X.indices].astype(np.float32)
        l2_normalize(X)
    return vectorizer, ContentIndex(apply_length_prior(X, other.length_prior))
