"""Save and load a model as a folder of plain files; loading never unpickles anything.

A model folder holds::

    manifest.json          format_version, versions, parameters, facts, file sizes and sha256
    vocabulary.json        the terms (stems), in column order
    words.json             the word shown for each term
    idf.npy                float32 (n_terms,)
    matrix.data.npy        float32 CSR parts of the L2-normalised TF-IDF rows
    matrix.indices.npy     int32
    matrix.indptr.npy      int64 (n_articles + 1,)
    ids.npy                str (n_articles,), in publication order
    published.npy          int64 seconds since 1970 UTC (int64 max: undated)
    categories.json        the distinct categories
    category_codes.npy     int32 (n_articles,), index into categories.json
    titles.json            the titles
    table.indices.npy      int32 (n_articles, width): the neighbour table, if the model has
    table.scores.npy       float32 (n_articles, width)   one (format 2; optional)

A model with a learned re-ranker (``train --learn-from``) adds the ``reranker.*.npy`` arrays
of its trees, the link counts it learned (``reranker.links.npy``) and the ids of the sources
whose lists it learned from (``reranker.sources.npy``); the manifest's ``learned`` entry
says from how many lists, and its settings.

Arrays are read with ``allow_pickle=False`` and JSON with ``json``, so a model file cannot
run code. The TF-IDF matrix and the neighbour table are memory-mapped (``mmap_mode="r"``):
a server maps them instead of copying them into its memory, and processes serving one model
share their pages. ``verify=True`` (the default) reads every file once to check its sha256
(about 1 s per GB); ``load_model(path, verify=False)`` skips that read (sizes are still
checked). A million-article folder (1.2 GB) loads in about 2 s, 1 s without the check.

Format 2 added the neighbour table and the ``table_size`` parameter; folders of format 1
(no table) still load, and their models score every request. A folder is written under a
temporary name and renamed into place: a crash leaves the old model whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .errors import ModelFormatError
from .model.rerank import FEATURES, LinkReranker, Trees

__all__ = ["FORMAT_VERSION", "ModelFormatError", "READABLE_VERSIONS", "TABLE_FILES",
           "load_model", "save_model"]

#: Bumped whenever the files change meaning; a model of another version is refused.
FORMAT_VERSION = 2
#: Versions this code reads: 1 is 2 without the neighbour table.
READABLE_VERSIONS = (1, 2)
MANIFEST = "manifest.json"
#: The files of a model folder besides the manifest.
FILES = ("idf.npy", "matrix.data.npy", "matrix.indices.npy", "matrix.indptr.npy", "ids.npy",
         "published.npy", "category_codes.npy", "vocabulary.json", "words.json",
         "categories.json", "titles.json")
#: The neighbour table: both files or neither.
TABLE_FILES = ("table.indices.npy", "table.scores.npy")


def save_model(model, path) -> Path:
    """Write ``model`` (a fitted ArticleRecommender) to the folder ``path``."""
    import scipy
    import sklearn

    from . import __version__

    path = Path(path)
    check_replaceable(path)  # before any work: never write over a folder of other files
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it 0700; give the usual mode
        X = model.matrix_
        vec = model.vectorizer_
        categories, codes = np.unique(model.categories_, return_inverse=True)
        arrays = {
            "idf.npy": vec.idf_.astype(np.float32),
            "matrix.data.npy": X.data.astype(np.float32),
            "matrix.indices.npy": X.indices.astype(np.int32),
            "matrix.indptr.npy": X.indptr.astype(np.int64),
            "ids.npy": np.asarray(model.ids_, dtype=str),
            "published.npy": model.published_.astype(np.int64),
            "category_codes.npy": codes.astype(np.int32),
        }
        if getattr(model, "table_indices_", None) is not None:
            arrays["table.indices.npy"] = np.asarray(model.table_indices_, np.int32)
            arrays["table.scores.npy"] = np.asarray(model.table_scores_, np.float32)
        documents = {
            "vocabulary.json": vec.terms().tolist(),
            "words.json": list(vec.words_),
            "categories.json": categories.tolist(),
            "titles.json": [str(t) for t in model.titles_],
        }
        reranker = getattr(model, "reranker_", None)
        if reranker is not None:
            arrays.update({f"reranker.{k}.npy": v for k, v in reranker.trees_.arrays().items()})
            arrays["reranker.links.npy"] = reranker.links_.astype(np.float64)
            arrays["reranker.sources.npy"] = np.asarray(reranker.sources_, dtype=str)
        for name, array in arrays.items():
            np.save(tmp / name, array, allow_pickle=False)
        for name, doc in documents.items():
            (tmp / name).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        params = {**model.get_params(), "max_age": model.max_age_days_}
        manifest = {
            "format_version": FORMAT_VERSION,
            "recommender_version": __version__,
            "versions": {"numpy": np.__version__, "scipy": scipy.__version__,
                         "scikit-learn": sklearn.__version__},
            "params": params,
            "vectorizer": vec.get_params(),
            "shape": list(X.shape),
            "nnz": int(X.nnz),
            **{k: v for k, v in model.info_.items() if k != "learned"},
            **({} if reranker is None else {"learned": {
                **reranker.info_, "params": reranker.get_params(),
                "features": list(FEATURES), "baseline": reranker.trees_.baseline,
                "category_share": reranker.category_share_}}),
            "files": {name: _file_facts(tmp / name) for name in (*arrays, *documents)},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False,
                                               default=_plain), encoding="utf-8")
        _replace_folder(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _plain(value):
    """JSON for numpy scalars in parameters (``min_df=np.int64(2)``)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot save a parameter of type {type(value).__name__} in {MANIFEST}")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_replaceable(path: Path) -> None:
    """``path`` is free, an empty folder, or a model folder (which a save may replace)."""
    if not path.exists():
        return
    if not path.is_dir():
        raise FileExistsError(f"{path} exists and is not a model folder; choose another path")
    if not (path / MANIFEST).is_file() and any(path.iterdir()):
        raise FileExistsError(f"{path} is a folder of other files (it has no {MANIFEST}); a "
                              f"model is saved over an older model only. Choose another path "
                              f"or empty that folder.")


def _replace_folder(tmp: Path, path: Path) -> None:
    """Move ``tmp`` to ``path``; an old model there is removed only once the new one is in."""
    if not path.exists():
        os.replace(tmp, path)
        return
    check_replaceable(path)
    old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
    os.replace(path, old / "model")
    try:
        os.replace(tmp, path)
    except BaseException:
        os.replace(old / "model", path)  # put the old model back
        shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _file_facts(file: Path) -> dict:
    digest = hashlib.sha256()
    with file.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return {"bytes": file.stat().st_size, "sha256": digest.hexdigest()}


def load_model(path, *, verify: bool = True, cls=None):
    """Read a model folder. ``verify`` checks each file's sha256 against the manifest.

    ``cls`` is the class to build (``ArticleRecommender`` or a subclass of it).
    """
    from .model.estimator import ArticleRecommender
    from .vectors.tfidf import FieldTfidfVectorizer

    cls = ArticleRecommender if cls is None else cls

    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"model folder not found: {path}. Train one with "
                                f"'recommender train CORPUS --out {path}'")
    manifest = _read_manifest(path)
    unlisted = sorted(set(FILES) - set(manifest["files"]))
    if unlisted:
        raise ModelFormatError(f"{path}: {MANIFEST} does not list {', '.join(unlisted)}; the "
                               f"model is incomplete or damaged. Retrain it.")
    for name, facts in manifest["files"].items():
        file = path / name
        if not file.is_file():
            raise ModelFormatError(f"{path}: file {name} is missing; the model is incomplete. "
                                   f"Retrain it.")
        size = file.stat().st_size
        if size != facts["bytes"]:
            raise ModelFormatError(f"{path}: file {name} has {size:,} bytes, the manifest says "
                                   f"{facts['bytes']:,}: the model is truncated or damaged. "
                                   f"Retrain it.")
        if verify and _file_facts(file)["sha256"] != facts["sha256"]:
            raise ModelFormatError(f"{path}: file {name} does not match its checksum in the "
                                   f"manifest: the model is damaged. Retrain it.")

    def array(name, mmap_mode=None):
        try:
            return np.load(path / name, allow_pickle=False, mmap_mode=mmap_mode)
        except (ValueError, OSError, EOFError) as exc:
            raise ModelFormatError(f"{path}: cannot read {name}: {exc}") from None

    def document(name):
        try:
            return json.loads((path / name).read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ModelFormatError(f"{path}: cannot read {name}: {exc}") from None

    n, n_terms = manifest["shape"]
    # memory-mapped, as the table: nothing is copied, and processes share the pages
    matrix = sp.csr_matrix((array("matrix.data.npy", "r"), array("matrix.indices.npy", "r"),
                            array("matrix.indptr.npy", "r")), shape=(n, n_terms), copy=False)
    vocabulary = document("vocabulary.json")
    words = document("words.json")
    idf = array("idf.npy")
    ids = array("ids.npy")
    published = array("published.npy")
    codes = array("category_codes.npy")
    titles = document("titles.json")
    categories = np.asarray(document("categories.json"), dtype=str)
    lengths = {"vocabulary.json": len(vocabulary), "words.json": len(words), "idf.npy": len(idf)}
    lengths_n = {"ids.npy": len(ids), "published.npy": len(published),
                 "category_codes.npy": len(codes), "titles.json": len(titles)}
    bad = {k: v for k, v in lengths.items() if v != n_terms}
    bad |= {k: v for k, v in lengths_n.items() if v != n}
    if bad or matrix.nnz != manifest["nnz"] or (codes.size and codes.max() >= len(categories)):
        raise ModelFormatError(f"{path}: the files do not agree with the manifest "
                               f"({n:,} articles, {n_terms:,} terms): {bad or 'matrix'}. "
                               f"Retrain the model.")

    # Folders written before these settings existed scored with plain cosine over all terms.
    params = {**_LEGACY_SCORING, **manifest["params"]}
    params.setdefault("table_size", 0)  # format 1: no table
    model = cls(**params)
    vec = FieldTfidfVectorizer(**{k: v for k, v in manifest["vectorizer"].items()})
    vec.vocabulary_ = {t: i for i, t in enumerate(vocabulary)}
    vec.idf_ = idf.astype(np.float32)
    vec.words_ = words
    model.vectorizer_ = vec
    model.matrix_ = matrix
    model.ids_ = ids
    model.published_ = published
    model.categories_ = categories[codes] if len(categories) else np.full(n, "", dtype=str)
    model.titles_ = np.asarray(titles, dtype=object)
    model.max_age_days_ = params["max_age"]
    model.table_indices_, model.table_scores_ = _table(path, manifest, array, n)
    model.info_ = {k: manifest[k] for k in
                   ("n_articles", "n_without_text", "n_undated", "n_terms", "corpus_sha256",
                    "created") if k in manifest}
    model.reranker_ = None
    if "learned" in manifest:
        model.reranker_ = _load_reranker(manifest["learned"], array, path, n)
        model.info_["learned"] = {k: v for k, v in manifest["learned"].items()
                                  if k not in ("category_share", "baseline")}
    # learn() rebuilds the table, so a saved table holds the lists of the saved scoring.
    model._table_learned = model.reranker_ is not None
    model._reset_caches()
    return model


def _load_reranker(learned: dict, array, path: Path, n_articles: int):
    if list(learned.get("features", ())) != list(FEATURES):
        raise ModelFormatError(f"{path}: the re-ranker was trained on other features "
                               f"({learned.get('features')}); retrain it with this version")
    try:
        trees = Trees(**{k: array(f"reranker.{k}.npy") for k in (*Trees.FIELDS, "roots")},
                      baseline=learned["baseline"])
        reranker = LinkReranker(**learned["params"])
        reranker.trees_ = trees
        reranker.links_ = array("reranker.links.npy")
        reranker.sources_ = array("reranker.sources.npy")
        reranker.category_share_ = dict(learned["category_share"])
        reranker.info_ = {k: learned[k] for k in
                          ("n_lists", "n_links", "n_targets_in_candidates", "n_candidates")}
    except (KeyError, TypeError, FileNotFoundError) as exc:
        raise ModelFormatError(f"{path}: the learned re-ranker is incomplete ({exc}); "
                               f"retrain it") from None
    if len(reranker.links_) != n_articles:
        raise ModelFormatError(f"{path}: reranker.links.npy has {len(reranker.links_):,} "
                               f"values for {n_articles:,} articles; retrain the model")
    return reranker


#: Scoring settings of a folder that does not name them: plain TF-IDF cosine.
_LEGACY_SCORING = {"idf_power": 1.0, "query_terms": None, "length_prior": 0.0}


def _table(path: Path, manifest: dict, array, n: int):
    """The neighbour table's two arrays, memory-mapped, or (None, None) without one."""
    listed = [name for name in TABLE_FILES if name in manifest["files"]]
    if not listed:
        return None, None
    if len(listed) == 1:
        missing = sorted(set(TABLE_FILES) - set(listed))[0]
        raise ModelFormatError(f"{path}: {MANIFEST} lists {listed[0]} but not {missing}; the "
                               f"model is damaged. Retrain it.")
    indices = array("table.indices.npy", mmap_mode="r")
    scores = array("table.scores.npy", mmap_mode="r")
    if (indices.ndim != 2 or indices.shape != scores.shape or indices.shape[0] != n
            or indices.dtype != np.int32 or scores.dtype != np.float32):
        raise ModelFormatError(f"{path}: the neighbour table does not fit the model: "
                               f"indices {indices.dtype}{list(indices.shape)}, scores "
                               f"{scores.dtype}{list(scores.shape)}, for {n:,} articles. "
                               f"Retrain the model.")
    return indices, scores


def _read_manifest(path: Path) -> dict:
    file = path / MANIFEST
    if not file.is_file():
        raise ModelFormatError(f"{path} is not a model folder: it has no {MANIFEST}. Train one "
                               f"with 'recommender train CORPUS --out {path}'")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFormatError(f"{path}: {MANIFEST} is not valid JSON ({exc}); the model is "
                               f"damaged. Retrain it.") from None
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        readable = " and ".join(map(str, READABLE_VERSIONS))
        raise ModelFormatError(f"{path}: model format_version {version!r}, but this version of "
                               f"recommender reads formats {readable}. Retrain the model "
                               f"with this version.")
    missing = [k for k in ("files", "shape", "nnz", "params", "vectorizer") if k not in manifest]
    if missing:
        raise ModelFormatError(f"{path}: {MANIFEST} lacks {', '.join(missing)}; the model is "
                               f"damaged. Retrain it.")
    return manifest

