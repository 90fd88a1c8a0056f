"""An ArticleRecommender <-> the plain arrays and JSON of its folder (:mod:`recommender.store`).

:func:`model_files` lists what a fitted model saves; :func:`model_from_files` rebuilds a
model from a checked folder, checking that the files agree with each other (lengths,
category codes, the table's shape, the re-ranker's features) before anything uses them.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..store import MANIFEST, TABLE_FILES, ModelFiles
from ..vectors.tfidf import FieldTfidfVectorizer
from .catalogue import Catalogue
from .rerank import FEATURES, LinkReranker, Trees
from .search import PLAIN_TFIDF
from .table import NeighbourTable

__all__ = ["model_files", "model_from_files"]

#: The facts of ``info_`` that the manifest carries.
INFO = ("n_articles", "n_without_text", "n_undated", "n_after_run", "n_terms", "corpus_sha256",
        "created")


def model_files(model):
    """``(arrays, documents, manifest)`` of a fitted model, for
    :func:`recommender.store.write_folder`."""
    X = model.matrix_
    vec = model.vectorizer_
    catalogue = model.catalogue_
    categories, codes = np.unique(catalogue.categories, return_inverse=True)
    arrays = {
        "idf.npy": vec.idf_.astype(np.float32),
        "matrix.data.npy": X.data.astype(np.float32),
        "matrix.indices.npy": X.indices.astype(np.int32),
        "matrix.indptr.npy": X.indptr.astype(np.int64),
        "ids.npy": np.asarray(catalogue.ids, dtype=str),
        "published.npy": catalogue.published.astype(np.int64),
        "category_codes.npy": codes.astype(np.int32),
    }
    if model.table_ is not None:
        arrays["table.indices.npy"] = np.asarray(model.table_.indices, np.int32)
        arrays["table.scores.npy"] = np.asarray(model.table_.scores, np.float32)
    documents = {
        "vocabulary.json": vec.terms().tolist(),
        "words.json": list(vec.words_),
        "categories.json": categories.tolist(),
        "titles.json": [str(t) for t in catalogue.titles],
    }
    reranker = model.reranker_
    if reranker is not None:
        arrays.update({f"reranker.{k}.npy": v for k, v in reranker.trees_.arrays().items()})
        arrays["reranker.links.npy"] = reranker.links_.astype(np.float64)
        arrays["reranker.sources.npy"] = np.asarray(reranker.sources_, dtype=str)
    manifest = {
        "params": {**model.get_params(), "max_age": model.max_age_days_},
        "vectorizer": vec.settings(),
        "shape": list(X.shape),
        "nnz": int(X.nnz),
        **{k: v for k, v in model.info_.items() if k != "learned"},
        **({} if reranker is None else {"learned": {
            **reranker.info_, "params": reranker.get_params(),
            "features": list(FEATURES), "baseline": reranker.trees_.baseline,
            "category_share": reranker.category_share_}}),
    }
    return arrays, documents, manifest


def model_from_files(files: ModelFiles, cls):
    """A model of class ``cls`` from a checked folder; ModelFormatError when its files
    disagree."""
    manifest = files.manifest
    n, n_terms = manifest["shape"]
    # memory-mapped, as the table: nothing is copied, and processes share the pages
    matrix = sp.csr_matrix((files.array("matrix.data.npy", "r"),
                            files.array("matrix.indices.npy", "r"),
                            files.array("matrix.indptr.npy", "r")),
                           shape=(n, n_terms), copy=False)
    vectorizer = _vectorizer(files, n, n_terms)
    catalogue = _catalogue(files, n, n_terms)
    if matrix.nnz != manifest["nnz"]:
        raise _disagree(files, n, n_terms, "matrix")
    # Folders written before these settings existed scored with plain cosine over all terms.
    params = {**PLAIN_TFIDF, **manifest["params"]}
    params.setdefault("table_size", 0)  # format 1: no table
    reranker = None
    info = {k: manifest[k] for k in INFO if k in manifest}
    if "learned" in manifest:
        reranker = _reranker(files, manifest["learned"], n)
        info["learned"] = {k: v for k, v in manifest["learned"].items()
                           if k not in ("category_share", "baseline")}
    # learn() rebuilds the table, so a saved table holds the lists of the saved scoring.
    table = _table(files, n, learned=reranker is not None)
    return cls(**params).assemble(vectorizer=vectorizer, matrix=matrix, catalogue=catalogue,
                                  info=info, reranker=reranker, table=table)


def _disagree(files: ModelFiles, n: int, n_terms: int, what):
    return files.refuse(f"the files do not agree with the manifest ({n:,} articles, "
                        f"{n_terms:,} terms): {what}. Retrain the model.")


def _vectorizer(files: ModelFiles, n: int, n_terms: int) -> FieldTfidfVectorizer:
    vocabulary = files.document("vocabulary.json")
    words = files.document("words.json")
    idf = files.array("idf.npy")
    lengths = {"vocabulary.json": len(vocabulary), "words.json": len(words), "idf.npy": len(idf)}
    bad = {k: v for k, v in lengths.items() if v != n_terms}
    if bad:
        raise _disagree(files, n, n_terms, bad)
    vec = FieldTfidfVectorizer(**files.manifest["vectorizer"])
    vec.vocabulary_ = {t: i for i, t in enumerate(vocabulary)}
    vec.idf_ = idf.astype(np.float32)
    vec.words_ = words
    return vec


def _catalogue(files: ModelFiles, n: int, n_terms: int) -> Catalogue:
    ids = files.array("ids.npy")
    published = files.array("published.npy")
    codes = files.array("category_codes.npy")
    titles = files.document("titles.json")
    categories = np.asarray(files.document("categories.json"), dtype=str)
    lengths = {"ids.npy": len(ids), "published.npy": len(published),
               "category_codes.npy": len(codes), "titles.json": len(titles)}
    bad = {k: v for k, v in lengths.items() if v != n}
    if bad or (codes.size and codes.max() >= len(categories)):
        raise _disagree(files, n, n_terms, bad or "category_codes.npy")
    return Catalogue(ids, published,
                     categories[codes] if len(categories) else np.full(n, "", dtype=str),
                     np.asarray(titles, dtype=object), created=files.manifest.get("created"))


def _reranker(files: ModelFiles, learned: dict, n_articles: int) -> LinkReranker:
    if list(learned.get("features", ())) != list(FEATURES):
        raise files.refuse(f"the re-ranker was trained on other features "
                           f"({learned.get('features')}); retrain it with this version")
    try:
        trees = Trees(**{k: files.array(f"reranker.{k}.npy") for k in (*Trees.FIELDS, "roots")},
                      baseline=learned["baseline"])
        reranker = LinkReranker(**learned["params"])
        reranker.trees_ = trees
        reranker.links_ = files.array("reranker.links.npy")
        reranker.sources_ = files.array("reranker.sources.npy")
        reranker.category_share_ = dict(learned["category_share"])
        reranker.info_ = {k: learned[k] for k in
                          ("n_lists", "n_links", "n_targets_in_candidates", "n_candidates")}
    except (KeyError, TypeError, FileNotFoundError) as exc:
        raise files.refuse(f"the learned re-ranker is incomplete ({exc}); retrain it") from None
    if len(reranker.links_) != n_articles:
        raise files.refuse(f"reranker.links.npy has {len(reranker.links_):,} values for "
                           f"{n_articles:,} articles; retrain the model")
    return reranker


def _table(files: ModelFiles, n: int, *, learned: bool) -> NeighbourTable | None:
    """The neighbour table, memory-mapped, or None without one."""
    listed = [name for name in TABLE_FILES if files.has(name)]
    if not listed:
        return None
    if len(listed) == 1:
        missing = sorted(set(TABLE_FILES) - set(listed))[0]
        raise files.refuse(f"{MANIFEST} lists {listed[0]} but not {missing}; the model is "
                           f"damaged. Retrain it.")
    indices = files.array("table.indices.npy", mmap_mode="r")
    scores = files.array("table.scores.npy", mmap_mode="r")
    if (indices.ndim != 2 or indices.shape != scores.shape or indices.shape[0] != n
            or indices.dtype != np.int32 or scores.dtype != np.float32):
        raise files.refuse(f"the neighbour table does not fit the model: indices "
                           f"{indices.dtype}{list(indices.shape)}, scores "
                           f"{scores.dtype}{list(scores.shape)}, for {n:,} articles. "
                           f"Retrain the model.")
    return NeighbourTable(indices, scores, learned=learned)
