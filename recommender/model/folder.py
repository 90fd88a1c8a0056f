"""An ArticleRecommender <-> the plain arrays and JSON of its folder (:mod:`recommender.store`).

:func:`model_files` lists what a fitted model saves; :func:`model_from_files` rebuilds a
model from a checked folder. Every load checks, whatever the checksums say (a manifest can
be rewritten to match a damaged file, and ``verify=False`` skips them), everything that
later code indexes with: the dtype and shape of every array; the matrix's ``indptr`` from 0
to ``nnz`` without decreasing and every column within the terms; the table's rows within
the catalogue, -1 only as trailing padding, finite scores; category codes within the
categories; the re-ranker's trees (children after their parent, within their tree;
features within :data:`~recommender.model.rerank.FEATURES`); the parameters. A folder that
fails is refused with a ModelFormatError naming the file: nothing out of bounds reaches
scipy, numba or scikit-learn's tree walker. The checks are vectorised passes over the
memory-mapped arrays (their cost at a million articles is in BENCHMARKS.md).

Ids are stored as their UTF-8 bytes end to end (``ids.data.npy``) and the offset of each
(``ids.offsets.npy``): one long id costs its own bytes, not its length times every article.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._checks import check_int, check_jobs, is_number
from ..errors import ModelFormatError, ParameterError
from ..index.topk import check_k
from ..manifest import MANIFEST
from ..store import TABLE_FILES, ModelFiles
from ..times import SECONDS_PER_DAY, check_days, days_to_seconds
from ..vectors.bm25 import Bm25Vectorizer
from ..vectors.tfidf import FieldTfidfVectorizer
from .catalogue import Catalogue
from .records import documents_of, read_documents, report_files
from .rerank import FEATURES, LinkReranker
from .trees import Trees
from .scoring import check_cosine_settings
from .search import PLAIN_TFIDF, ContentIndex
from .shards import check_shard_days, read_matrix, shard_arrays
from .table import NeighbourTable

__all__ = ["bm25_content", "decode_strings", "encode_strings", "model_files",
           "model_from_files"]

#: The facts of ``info_`` that the manifest carries.
INFO = ("n_articles", "n_without_text", "n_undated", "n_after_run", "n_terms", "corpus_sha256",
        "created")


def model_files(model):
    """``(arrays, documents, manifest, editable)`` of a fitted model, for
    :func:`recommender.store.write_folder` (``editable``: its pins and bans, if any)."""
    content = model.content_
    # More Like This saves the raw counts its rows and queries are made of.
    X = content.matrix if content.counts is None else content.counts
    vec = model.vectorizer_
    catalogue = model.catalogue_
    categories, codes = np.unique(catalogue.categories, return_inverse=True)
    shard_days = check_shard_days(model.shard_days)
    if shard_days is None:
        rows, shards = {"matrix.data.npy": X.data.astype(np.float32),
                        "matrix.indices.npy": X.indices.astype(np.int32),
                        "matrix.indptr.npy": X.indptr.astype(np.int64)}, None
    else:
        rows, shards = shard_arrays(X, catalogue.published, shard_days)
    arrays = {
        "idf.npy": vec.idf_.astype(np.float32),
        **rows,
        **dict(zip(("ids.data.npy", "ids.offsets.npy"), encode_strings(catalogue.ids))),
        "published.npy": catalogue.published.astype(np.int64),
        "category_codes.npy": codes.astype(np.int32),
    }
    if content.lengths is not None:
        arrays["lengths.npy"] = np.asarray(content.lengths, np.float64)
        arrays["df.npy"] = np.asarray(vec.df_, np.int64)
    if model.table_ is not None:
        arrays["table.indices.npy"] = np.asarray(model.table_.indices, np.int32)
        arrays["table.scores.npy"] = np.asarray(model.table_.scores, np.float32)
    documents = {
        "vocabulary.json": vec.terms().tolist(),
        "words.json": list(vec.words_),
        "categories.json": categories.tolist(),
        "titles.json": [str(t) for t in catalogue.titles],
        **documents_of(model),
    }
    reranker = model.reranker_
    if reranker is not None:
        arrays.update({f"reranker.{k}.npy": v for k, v in reranker.trees_.arrays().items()})
        arrays["reranker.links.npy"] = reranker.links_.astype(np.float64)
        arrays["reranker.sources.npy"] = np.asarray(reranker.sources_, dtype=str)
    manifest = {
        "params": {**model.get_params(), "max_age": model.max_age_days_},
        "vectorizer": vec.settings(),
        **({"bm25": {"n_documents": vec.n_documents_, "mean_length": vec.mean_length_,
                     "median_length": vec.median_length_}}
           if content.lengths is not None else {}),
        "shape": list(X.shape),
        "nnz": int(X.nnz),
        **({} if shards is None else {"shards": shards}),
        **{k: v for k, v in model.info_.items() if k != "learned"},
        **({} if reranker is None else {"learned": {
            **reranker.info_, "params": reranker.get_params(),
            "features": list(reranker.features_), "baseline": reranker.trees_.baseline,
            "category_share": reranker.category_share_}}),
    }
    return arrays, documents, manifest, {**model.pins_.files(), **report_files(model)}


def model_from_files(files: ModelFiles, cls, keep=None):
    """A model of class ``cls`` from a checked folder (of a sharded one, only the rows of
    the shards ``keep``, None for all); ModelFormatError when a file is damaged or the
    files disagree (see the module's docstring for what is checked)."""
    manifest = files.manifest
    n, n_terms = manifest["shape"]
    if n < 2 or n_terms < 1:
        raise files.refuse(f"{MANIFEST}: shape {[n, n_terms]}, but a model has at least 2 "
                           f"articles and 1 term; the model is damaged. Retrain it.")
    matrix = read_matrix(files, n, n_terms, manifest["nnz"], keep)
    # Folders written before these settings existed scored with plain cosine over all terms.
    params = {**PLAIN_TFIDF, **manifest["params"]}
    # Folders written before the calendar window counted max_age back to the second.
    params.setdefault("window", "rolling")
    params.setdefault("table_size", 0)  # format 1: no table
    mlt = params["scoring"] == "mlt"
    vectorizer = _vectorizer(files, n_terms, matrix if mlt else None)
    content = bm25_content(files, vectorizer, matrix, n) if mlt else ContentIndex(matrix)
    catalogue = _catalogue(files, n)
    reranker = None
    info = {k: manifest[k] for k in INFO if k in manifest}
    if "learned" in manifest:
        reranker = _reranker(files, manifest["learned"], n)
        info["learned"] = {k: v for k, v in manifest["learned"].items()
                           if k not in ("category_share", "baseline")}
    # learn() rebuilds the table, so a saved table holds the lists of the saved scoring.
    table = _table(files, n, learned=reranker is not None)
    model = _model(files, cls, params).assemble(vectorizer=vectorizer, content=content,
                                                catalogue=catalogue, info=info,
                                                reranker=reranker, table=table)
    read_documents(files, model)
    return model


def _model(files: ModelFiles, cls, params: dict):
    """``cls(**params)``, its parameters checked as the calls that read a model use them."""
    try:
        for name in ("field_weights", "analyzer"):  # read as objects by the vectorizer
            if not isinstance(params.get(name), (dict, type(None))):
                raise TypeError(f"{name} must be an object or null, got {params[name]!r:.60}")
        model = cls(**params)
        model.make_vectorizer().settings()
        model.window_zone()
        model.controls()
        check_cosine_settings(model)
        check_int(model.table_size, "table_size", minimum=0)
        check_shard_days(model.shard_days)
        check_int(model.max_block_bytes, "max_block_bytes")
        check_jobs(model.n_jobs)
        seconds = days_to_seconds(check_days(model.max_age, "max_age"))
        if seconds is not None and seconds >= 2**62:
            raise ParameterError(f"max_age must be at most {2**62 // SECONDS_PER_DAY:,} days "
                                 f"(or None), got {model.max_age!r}")
    except (TypeError, ParameterError) as exc:
        raise files.refuse(f"{MANIFEST}: params: {exc}; the model is damaged. Retrain "
                           f"it.") from None
    return model


def bm25_content(files: ModelFiles, vectorizer, counts: sp.csr_matrix, n: int) -> ContentIndex:
    """The BM25 rows and queries of the saved raw counts (``matrix.*``) and lengths."""
    if not files.has("lengths.npy"):
        raise files.refuse(f"{MANIFEST}: the model scores with 'mlt' but lengths.npy is not "
                           f"listed; the model is damaged. Retrain it.")
    lengths = files.array("lengths.npy", dtype=np.float64, shape=(n,))
    if not (np.isfinite(lengths).all() and (lengths >= 0).all() and (counts.data > 0).all()):
        raise files.refuse("lengths.npy or matrix.data.npy holds a negative or infinite "
                           "count; the model is damaged. Retrain it.")
    return ContentIndex.bm25(vectorizer, counts, lengths)


def _vectorizer(files: ModelFiles, n_terms: int, bm25_matrix=None):
    """The fitted vectorizer: TF-IDF, or BM25 when ``bm25_matrix`` (the model's rows,
    whose columns give the document frequencies) is given."""
    vocabulary = files.document("vocabulary.json", items=str, length=n_terms)
    words = files.document("words.json", items=str, length=n_terms)
    idf = files.array("idf.npy", dtype=np.float32, shape=(n_terms,))
    if not np.isfinite(idf).all():
        raise files.refuse("idf.npy holds a value that is not finite; the model is damaged. "
                           "Retrain it.")
    settings = files.manifest["vectorizer"]
    try:
        for name in ("field_weights", "analyzer"):  # settings() reads them as objects
            if not isinstance(settings.get(name), (dict, type(None))):
                raise TypeError(f"{name} must be an object or null, got "
                                f"{type(settings[name]).__name__}")
        if isinstance(settings.get("analyzer"), dict) and "fold_stops" not in settings["analyzer"]:
            # Saved before the parameter: its terms were made with stop words as written.
            settings = {**settings, "analyzer": {**settings["analyzer"], "fold_stops": False}}
        vec = (FieldTfidfVectorizer if bm25_matrix is None else Bm25Vectorizer)(**settings)
        vec.settings()
        if bm25_matrix is not None:
            facts = files.manifest.get("bm25")
            if not (isinstance(facts, dict) and type(facts.get("n_documents")) is int
                    and all(is_number(facts.get(k)) and facts[k] >= 0
                            for k in ("mean_length", "median_length"))):
                raise TypeError(f"bm25 must hold n_documents (an integer), mean_length and "
                                f"median_length (numbers), got {facts!r}")
    except (TypeError, ValueError) as exc:  # ParameterError is a ValueError
        raise files.refuse(f"{MANIFEST}: vectorizer: {exc}; the model is damaged. Retrain "
                           f"it.") from None
    vec.vocabulary_ = {t: i for i, t in enumerate(vocabulary)}
    if len(vec.vocabulary_) != n_terms:
        raise files.refuse("vocabulary.json lists a term twice; the model is damaged. "
                           "Retrain it.")
    vec.idf_ = idf.astype(np.float32)
    vec.words_ = words
    if bm25_matrix is not None:
        if "shards" in files.manifest and not files.has("df.npy"):  # rows read in part
            raise files.refuse("a sharded model lists no df.npy; it is damaged. Retrain it.")
        vec.df_ = (files.array("df.npy", dtype=np.int64, shape=(n_terms,))  # the fit's (a
                   if files.has("df.npy")  # compacted folder holds other rows than the fit)
                   else np.bincount(bm25_matrix.indices, minlength=n_terms).astype(np.int64))
        if (vec.df_ < 0).any():
            raise files.refuse("df.npy holds a negative document frequency; retrain the model")
        vec.n_documents_ = files.manifest["bm25"]["n_documents"]
        vec.mean_length_ = float(files.manifest["bm25"]["mean_length"])
        vec.median_length_ = float(files.manifest["bm25"]["median_length"])
    return vec


def _catalogue(files: ModelFiles, n: int) -> Catalogue:
    if files.version >= 3:
        ids = decode_strings(files, "ids", n)
    else:
        ids = files.array("ids.npy", shape=(n,))
        if ids.dtype.kind != "U":
            raise files.refuse(f"ids.npy holds {ids.dtype}, expected strings; the model is "
                               f"damaged. Retrain it.")
    published = files.array("published.npy", dtype=np.int64, shape=(n,))
    if (np.diff(published) < 0).any():
        raise files.refuse("published.npy is not in publication order; the model is "
                           "damaged. Retrain it.")
    codes = files.array("category_codes.npy", dtype=np.int32, shape=(n,))
    titles = files.document("titles.json", items=str, length=n)
    categories = np.asarray(files.document("categories.json", items=str), dtype=str)
    if codes.view(np.uint32).max() >= len(categories):
        raise files.refuse(f"category_codes.npy holds a code outside [0, {len(categories):,}) "
                           f"(categories.json); the model is damaged. Retrain it.")
    # one str per category, shared by its rows (see shared_strings)
    return Catalogue(ids, published, categories.astype(object)[codes],
                     np.asarray(titles, dtype=object),
                     created=files.manifest.get("created"))


def encode_strings(values) -> tuple[np.ndarray, np.ndarray]:
    """``(data, offsets)``: the UTF-8 bytes of ``values`` end to end (uint8) and where each
    starts, with the end last (int64, ``len(values) + 1``). Lone surrogates are kept."""
    encoded = [str(v).encode("utf-8", "surrogatepass") for v in values]
    offsets = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), np.uint8), offsets


def decode_strings(files: ModelFiles, stem: str, n: int) -> np.ndarray:
    """The ``n`` strings of ``{stem}.data.npy`` and ``{stem}.offsets.npy`` (see
    :func:`encode_strings`) as a numpy str array, decoded in vectorised passes."""
    data = files.array(f"{stem}.data.npy", dtype=np.uint8, shape=(None,))
    offsets = files.array(f"{stem}.offsets.npy", dtype=np.int64, shape=(n + 1,))
    lengths = np.diff(offsets)
    if offsets[0] != 0 or offsets[-1] != len(data) or (lengths < 0).any():
        raise files.refuse(f"{stem}.offsets.npy does not run from 0 to the {len(data):,} bytes "
                           f"of {stem}.data.npy without decreasing; the model is damaged. "
                           f"Retrain it.")
    heads = (data & 0xC0) != 0x80  # the first byte of each character
    if not heads[offsets[:-1][lengths > 0]].all():
        raise files.refuse(f"{stem}.offsets.npy cuts a character of {stem}.data.npy; the "
                           f"model is damaged. Retrain it.")
    try:
        text = data.tobytes().decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:
        raise files.refuse(f"{stem}.data.npy is not UTF-8 ({exc.reason} at byte "
                           f"{exc.start:,}); the model is damaged. Retrain it.") from None
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
    chars = np.zeros(len(data) + 1, np.int64)  # characters before each byte
    np.cumsum(heads, out=chars[1:])
    starts = chars[offsets]
    counts = np.diff(starts)
    width = max(int(counts.max(initial=0)), 1)
    out = np.zeros((n, width), np.uint32)
    out.ravel()[np.arange(len(codes)) + np.repeat(np.arange(n) * width - starts[:-1],
                                                  counts)] = codes
    return out.view(np.dtype(f"U{width}")).ravel()


#: The re-ranker's arrays and their dtypes, as :class:`Trees` saves them.
_TREE_DTYPES = {"feature": np.int32, "threshold": np.float64, "left": np.int32,
                "right": np.int32, "missing_left": np.bool_, "is_leaf": np.bool_,
                "value": np.float64, "roots": np.int32}


def _reranker(files: ModelFiles, learned: dict, n_articles: int) -> LinkReranker:
    features = learned.get("features")
    if (not isinstance(features, list) or not features
            or not all(isinstance(f, str) and f in FEATURES for f in features)):
        raise files.refuse(f"the re-ranker was trained on other features "
                           f"({features}); retrain it with this version")
    try:
        arrays = {k: files.array(f"reranker.{k}.npy", dtype=dtype, shape=(None,))
                  for k, dtype in _TREE_DTYPES.items()}
        _check_trees(files, arrays, learned["baseline"], len(features))
        reranker = LinkReranker(**learned["params"])
        reranker.features_ = tuple(features)
        check_k(reranker.n_candidates, "n_candidates")
        reranker.trees_ = Trees(**arrays, baseline=learned["baseline"])
        reranker.links_ = files.array("reranker.links.npy", dtype=np.float64, shape=(None,))
        reranker.sources_ = files.array("reranker.sources.npy", shape=(None,))
        reranker.category_share_ = dict(learned["category_share"])
        reranker.info_ = {k: learned[k] for k in
                          ("n_lists", "n_links", "n_targets_in_candidates", "n_candidates")}
    except (KeyError, TypeError, ValueError) as exc:  # ParameterError is a ValueError
        if isinstance(exc, ModelFormatError):
            raise
        raise files.refuse(f"the learned re-ranker is incomplete ({exc}); retrain it") from None
    if len(reranker.links_) != n_articles:
        raise files.refuse(f"reranker.links.npy has {len(reranker.links_):,} values for "
                           f"{n_articles:,} articles; retrain the model")
    share = reranker.category_share_
    if (reranker.sources_.dtype.kind != "U" or not np.isfinite(reranker.links_).all()
            or not all(type(k) is str and is_number(v) for k, v in share.items())):
        raise files.refuse("the learned re-ranker's sources, links or category shares are "
                           "not of their types; retrain it")
    return reranker


def _check_trees(files: ModelFiles, arrays: dict, baseline, n_features: int) -> None:
    """Every walk of the trees stays within them and ends: each tree is the nodes from its
    root to the next root, an inner node's children come after it within its tree (so no
    walk loops), its feature is one of FEATURES; values are finite."""
    n_nodes = len(arrays["feature"])
    roots = arrays["roots"].astype(np.int64)  # int32 differences could wrap around
    if any(len(v) != n_nodes for k, v in arrays.items() if k != "roots"):
        raise files.refuse("the re-ranker's node arrays (reranker.*.npy) differ in length; "
                           "retrain it")
    if (len(roots) == 0) != (n_nodes == 0) or len(roots) and (
            roots[0] != 0 or (np.diff(roots) <= 0).any() or roots.min() < 0
            or roots[-1] >= n_nodes):
        raise files.refuse(f"reranker.roots.npy does not start each tree within the "
                           f"{n_nodes:,} nodes in order; retrain it")
    inner = np.flatnonzero(~arrays["is_leaf"])
    ends = np.append(roots[1:], n_nodes)[np.searchsorted(roots, inner, side="right") - 1]
    for name in ("left", "right"):
        child = arrays[name][inner]
        if ((child <= inner) | (child >= ends)).any():
            raise files.refuse(f"reranker.{name}.npy sends a node outside its tree or back; "
                               f"retrain it")
    if (arrays["feature"][inner].view(np.uint32) >= n_features).any():
        raise files.refuse(f"reranker.feature.npy holds a feature outside [0, "
                           f"{n_features}); retrain it")
    if not (np.isfinite(arrays["value"]).all() and is_number(baseline)):
        raise files.refuse("the re-ranker's values (reranker.value.npy, baseline) are not "
                           "all finite numbers; retrain it")


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
    _check_lists(files, indices, scores, n)
    return NeighbourTable(indices, scores, learned=learned)


def _check_lists(files: ModelFiles, indices: np.ndarray, scores: np.ndarray, n: int) -> None:
    """Each row of the table: rows within ``[0, n)`` with finite scores, then only -1 /
    -inf padding. In blocks of rows, so that the passes need little memory."""
    step = max(1, (1 << 22) // max(indices.shape[1], 1))
    for a in range(0, n, step):
        idx, sc = indices[a:a + step], scores[a:a + step]
        if ((idx + 1).view(np.uint32) > n).any():  # -1 <= idx < n; int32 max wraps
            raise files.refuse(f"table.indices.npy holds a row outside [-1, {n:,}); the model "
                               f"is damaged. Retrain it.")
        valid = idx >= 0
        if (valid[:, 1:] & ~valid[:, :-1]).any():
            raise files.refuse("table.indices.npy has -1 padding before a row; the model is "
                               "damaged. Retrain it.")
        if not np.where(valid, np.isfinite(sc), sc == -np.inf).all():
            raise files.refuse("table.scores.npy holds a score that is not finite, or padding "
                               "that is not -inf; the model is damaged. Retrain it.")
