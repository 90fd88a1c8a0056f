"""A model folder <-> plain arrays and JSON documents; reading never unpickles anything.

This module is the codec of the folder format: it knows files, their checksums and the
format version, not the model class (:mod:`recommender.model.folder` maps a model to
these files and back).

A model folder holds::

    manifest.json          format_version, versions, parameters, facts, file sizes and sha256
    vocabulary.json        the terms (stems), in column order
    words.json             the word shown for each term
    idf.npy                float32 (n_terms,)
    matrix.data.npy        float32 CSR parts of the L2-normalised TF-IDF rows
    matrix.indices.npy     int32
    matrix.indptr.npy      int64 (n_articles + 1,)
    ids.data.npy           uint8: the ids' UTF-8 bytes end to end, in publication order
    ids.offsets.npy        int64 (n_articles + 1,): where each id starts, then the end
    published.npy          int64 seconds since 1970 UTC (int64 max: undated)
    categories.json        the distinct categories
    category_codes.npy     int32 (n_articles,), index into categories.json
    titles.json            the titles
    table.indices.npy      int32 (n_articles, width): the neighbour table, if the model has
    table.scores.npy       float32 (n_articles, width)   one (format 2; optional)
    lengths.npy            float64 (n_articles,): More Like This's text lengths (format 4)
    df.npy                 int64 (n_terms,): the fit's document frequencies (optional)

A model saved with ``shard_days`` (format 5) holds its rows as time shards instead of
``matrix.*``: ``shard_00000.data.npy``, ``.indices.npy``, ``.indptr.npy`` and so on, listed
in the manifest's ``shards`` (:mod:`recommender.model.shards`).

Beside them, a live folder holds ``changes.log`` and ``changes.lock``: the articles added
and withdrawn since the fit (:mod:`recommender.changelog`), not listed in the manifest; a
save over the folder replaces them with it.

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

Format 3 stores the ids as bytes and offsets, so one long id costs its own bytes (format 2
had one fixed-width ``ids.npy``: every id as wide as the longest). Format 2 added the
neighbour table and the ``table_size`` parameter. Folders of formats 2 and 1 (no table)
still load; models of format 1 score every request. Every load checks the files'
contents whatever ``verify`` (:func:`read_folder`). A folder is written under a
temporary name and renamed into place: a crash leaves the old model whole.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

from importlib.metadata import version

import numpy as np
import scipy

from . import __version__
from ._files import check_path, clean_leftovers, recover_folder, replace_folder, \
    temporary_folder, writer_lock
from .changelog import LOCK_NAME, LOG_NAME
from .errors import InputFileNotFoundError, ModelFormatError
from .manifest import MANIFEST, read_manifest

__all__ = ["EDITABLE_FILES", "FILES", "FORMAT_VERSION", "MARKER", "MATRIX_FILES",
           "OLDER_FILES", "OPTIONAL_FILES", "READABLE_VERSIONS", "SHARDED_VERSION",
           "TABLE_FILES", "ModelFiles", "check_replaceable", "read_folder", "write_folder"]

#: Bumped whenever the files change meaning; a model of another version is refused.
FORMAT_VERSION = 4
#: The version of a folder whose rows are in time shards (:mod:`recommender.model.shards`):
#: older readers refuse it in one line rather than miss its ``matrix.*``.
SHARDED_VERSION = 5
#: Versions this code reads: 5 is 4 with its rows in shards, 3 has no More Like This
#: scoring (no ``lengths.npy``, no ``scoring`` parameter: cosine), 2 stores the ids as one
#: fixed-width array (``ids.npy``), 1 is 2 without the neighbour table.
READABLE_VERSIONS = (1, 2, 3, 4, 5)
#: The files of the one matrix, which a sharded folder has as shards instead.
MATRIX_FILES = ("matrix.data.npy", "matrix.indices.npy", "matrix.indptr.npy")
#: The files of a model folder besides the manifest.
FILES = ("idf.npy", "matrix.data.npy", "matrix.indices.npy", "matrix.indptr.npy",
         "ids.data.npy", "ids.offsets.npy", "published.npy", "category_codes.npy",
         "vocabulary.json", "words.json", "categories.json", "titles.json")
#: The files of formats 1 and 2: the ids in one ``ids.npy``.
OLDER_FILES = tuple("ids.npy" if name == "ids.data.npy" else name
                    for name in FILES if name != "ids.offsets.npy")
#: The neighbour table: both files or neither.
TABLE_FILES = ("table.indices.npy", "table.scores.npy")
#: The other files a model folder may hold: More Like This's text lengths and document
#: frequencies (frozen at the fit: a compacted folder keeps them), the tuning record, the
#: site's own lists of the corpus, the learned re-ranker's arrays.
OPTIONAL_FILES = ("lengths.npy", "df.npy", "tuning.json", "site_lists.json", *(
    f"reranker.{name}.npy" for name in ("feature", "threshold", "left", "right",
                                        "missing_left", "is_leaf", "value", "roots", "links",
                                        "sources")))
#: The files of a model folder that change after its save, outside its manifest: the
#: editors' pins (:mod:`recommender.model.pins`), where its evaluation report is
#: (:mod:`recommender.model.records`), and their writers' temporary files.
EDITABLE_FILES = ("pins.json", "pins.json.tmp", "report.json", "report.json.tmp")
#: The name of a file in a model folder: no folder part, no hidden file.


def write_folder(path, arrays: dict, documents: dict, manifest: dict,
                 editable: dict | None = None) -> Path:
    """Write a model folder: ``arrays`` (name -> ndarray, saved without pickling),
    ``documents`` (name -> JSON value), the marker :data:`MARKER` and ``manifest.json``
    (``manifest`` with the format version, the versions of this package and its libraries
    first, and the size and sha256 of every file last). ``editable`` (name -> JSON value,
    names of :data:`EDITABLE_FILES`) are written too but not listed in the manifest: files
    that change after the save (the editors' pins), checked by their readers instead.

    The folder is written under a temporary name and swapped into place at once (see
    :mod:`recommender._files`): a kill at any moment leaves the old model whole or the new
    one. Only an empty folder or a model folder is replaced (:func:`check_replaceable`);
    another process writing ``path`` makes this fail at once (:class:`BlockingIOError`).
    """
    path = Path(path)
    check_replaceable(path)  # before any work: never write over a folder of other files
    with writer_lock(path):
        recover_folder(path)
        clean_leftovers(path)
        check_replaceable(path)
        with temporary_folder(path) as tmp:
            for name, array in arrays.items():
                np.save(tmp / name, array, allow_pickle=False)
            for name, doc in {**documents, **(editable or {})}.items():
                (tmp / name).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
            header = {"format_version": SHARDED_VERSION if "shards" in manifest
                      else FORMAT_VERSION, "recommender_version": __version__,
                      "versions": {"numpy": np.__version__, "scipy": scipy.__version__,
                                   "scikit-learn": version("scikit-learn")}}
            files = {name: _file_facts(tmp / name) for name in (*arrays, *documents)}
            (tmp / MARKER).write_text(json.dumps(_MARKER_TEXT), encoding="utf-8")
            (tmp / MANIFEST).write_text(
                json.dumps({**header, **manifest, "files": files}, indent=2,
                           ensure_ascii=False, default=_plain), encoding="utf-8")
            check_replaceable(path)
            replace_folder(tmp, path)
    return path


def _plain(value):
    """JSON for numpy scalars in parameters (``min_df=np.int64(2)``)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot save a parameter of type {type(value).__name__} in {MANIFEST}")


#: The file that marks a folder as a model folder written by this package (from format 2
#: on; it is not in the manifest's list): a save replaces only such a folder, an older
#: model folder (see :func:`check_replaceable`) or an empty one.
MARKER = ".recommender-model"
_MARKER_TEXT = {"kind": "recommender model folder", "format_version": FORMAT_VERSION}


def check_replaceable(path: Path) -> None:
    """Raise unless ``path`` is free, an empty folder, or a model folder holding only the
    files of its model, which a save may replace. A model folder is one with the marker
    :data:`MARKER`, or (written before the marker) a ``manifest.json`` with a readable
    ``format_version`` and a ``recommender_version``. Any other file in it (a user's notes)
    makes the save fail, naming the files, rather than delete them with the old model.
    Raises :class:`FileExistsError` or :class:`NotADirectoryError`, in one line."""
    path = Path(path)
    check_path(path)
    if not os.path.lexists(path):
        existing = next((p for p in path.parents if p.exists()), None)
        if existing is not None and not existing.is_dir():
            raise NotADirectoryError(f"cannot write the model folder {path}: {existing} is a "
                                     f"file, not a folder; choose another path")
        return
    if not path.is_dir():
        raise FileExistsError(f"{path} exists and is not a model folder; choose another path")
    names = set(os.listdir(path))
    ours = _model_files(path, names)
    if ours is not None:
        others = sorted(names - ours)
        if others:
            shown = ", ".join(others[:5]) + (f" and {len(others) - 5:,} more"
                                             if len(others) > 5 else "")
            raise FileExistsError(f"{path} is a model folder that also holds files a model "
                                  f"does not have: {shown}; saving would delete them. Move "
                                  f"them out of the folder, or choose another path.")
    elif MANIFEST in names:
        raise FileExistsError(f"{path} holds a {MANIFEST} that recommender did not write (no "
                              f"{MARKER}, no format_version and recommender_version); a model "
                              f"is saved over an older model only. Choose another path or "
                              f"empty that folder.")
    elif names:
        raise FileExistsError(f"{path} is a folder of other files (it has no {MANIFEST}); a "
                              f"model is saved over an older model only. Choose another path "
                              f"or empty that folder.")


def _model_files(path: Path, names: set):
    """The names a model folder may hold (those its manifest lists, or if the manifest is
    unreadable the usual ones), or None if ``path`` is not a model folder of ours."""
    marker = _json_of(path / MARKER) if MARKER in names else None
    marked = isinstance(marker, dict) and marker.get("kind") == _MARKER_TEXT["kind"]
    manifest = _json_of(path / MANIFEST) if MANIFEST in names else None
    manifest = manifest if isinstance(manifest, dict) else {}
    listed = manifest.get("files")
    listed = {n for n in listed if isinstance(n, str)} if isinstance(listed, dict) else None
    version = manifest.get("format_version")
    older = (listed is not None and "recommender_version" in manifest
             and not isinstance(version, bool) and version in READABLE_VERSIONS)
    if not (marked or older):
        return None
    return {MANIFEST, MARKER, LOG_NAME, LOCK_NAME, *EDITABLE_FILES,
            *(listed if listed is not None else (*FILES, *TABLE_FILES, *OPTIONAL_FILES))}


def _json_of(file: Path):
    """The JSON value of a small file, or None if it is not one."""
    try:
        if file.stat().st_size > 1 << 26:
            return None
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _file_facts(file: Path) -> dict:
    digest = hashlib.sha256()
    with file.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return {"bytes": file.stat().st_size, "sha256": digest.hexdigest()}


class ModelFiles:
    """A model folder whose manifest and files were checked: read its parts by name.

    :meth:`array` and :meth:`document` refuse a file of another type or shape than the
    caller expects, with a :class:`ModelFormatError` that names the file.
    """

    def __init__(self, path: Path, manifest: dict, unverified=()):
        self.path = path
        self.manifest = manifest
        #: Listed files whose sha256 is checked when they are first read, not before.
        self.unverified = set(unverified)

    @property
    def version(self) -> int:
        """The folder's ``format_version``."""
        return self.manifest["format_version"]

    def has(self, name: str) -> bool:
        return name in self.manifest["files"]

    def array(self, name: str, mmap_mode=None, *, dtype=None, shape=None) -> np.ndarray:
        """An ``.npy`` file, never unpickled (memory-mapped with ``mmap_mode="r"``), of
        ``dtype`` and ``shape`` when given (None in ``shape``: any length on that axis)."""
        self._check_listed(name)
        self._check_header(name)
        if name in self.unverified:
            _check_sum(self.path, name, self.manifest["files"][name])
            self.unverified.discard(name)
        try:
            array = np.load(self.path / name, allow_pickle=False, mmap_mode=mmap_mode)
        except (ValueError, OSError, EOFError) as exc:
            raise self.refuse(f"cannot read {name}: {exc}") from None
        wrong_type = dtype is not None and array.dtype != np.dtype(dtype)
        wrong_shape = shape is not None and (
            len(shape) != array.ndim
            or any(want is not None and want != got for want, got in zip(shape, array.shape)))
        if wrong_type or wrong_shape:
            expected = (("" if dtype is None else str(np.dtype(dtype)))
                        + ("" if shape is None else "[" + ", ".join(
                            "any" if v is None else str(v) for v in shape) + "]"))
            raise self.refuse(f"{name} holds {array.dtype}{list(array.shape)}, expected "
                              f"{expected}; the model is damaged. Retrain it.")
        return array

    def document(self, name: str, *, items=None, length: int | None = None):
        """A JSON file; with ``items`` (a type) a list of values of that type, of ``length``
        values when given."""
        self._check_listed(name)
        try:
            doc = json.loads((self.path / name).read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise self.refuse(f"cannot read {name}: {exc}") from None
        if items is not None:
            if not isinstance(doc, list):
                raise self.refuse(f"{name} holds a {type(doc).__name__}, expected a list of "
                                  f"{items.__name__}; the model is damaged. Retrain it.")
            bad = next((i for i, v in enumerate(doc) if type(v) is not items), None)
            if bad is not None:
                raise self.refuse(f"{name}: value {bad:,} is a {type(doc[bad]).__name__}, "
                                  f"expected {items.__name__}; the model is damaged. Retrain "
                                  f"it.")
            if length is not None and len(doc) != length:
                raise self.refuse(f"{name} holds {len(doc):,} values, expected {length:,}; "
                                  f"the model is damaged. Retrain it.")
        return doc

    def _check_header(self, name: str) -> None:
        """The ``.npy`` header parses, and the file holds exactly the bytes it announces:
        nothing is allocated for a shape the file does not have."""
        file = self.path / name
        try:
            with file.open("rb") as fh:
                version = np.lib.format.read_magic(fh)
                read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                        else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read(fh)
                start = fh.tell()
        except Exception as exc:  # numpy's parser of an untrusted header raises many kinds
            raise self.refuse(f"cannot read {name}: {type(exc).__name__}: {exc}") from None
        if dtype.hasobject:
            return  # np.load refuses it, in its own words
        size = start + math.prod(shape) * dtype.itemsize
        if size != file.stat().st_size:
            raise self.refuse(f"cannot read {name}: its header announces {size:,} bytes, the "
                              f"file has {file.stat().st_size:,}; the model is damaged. "
                              f"Retrain it.")

    def _check_listed(self, name: str) -> None:
        """Only the files of the manifest are read: they alone had their size checked."""
        if not self.has(name):
            raise self.refuse(f"{MANIFEST} does not list {name}; the model is incomplete or "
                              f"damaged. Retrain it.")

    def refuse(self, what: str) -> ModelFormatError:
        """The error for a folder whose files disagree: ``raise files.refuse("...")``."""
        return ModelFormatError(f"{self.path}: {what}")


def read_folder(path, *, verify: bool = True, defer_shards: bool = False) -> ModelFiles:
    """Open a model folder: its manifest read and checked (format version, the type of
    every entry), every listed file present with its size, and with ``verify`` its sha256
    (with ``defer_shards``, the sha256 of a shard's file when it is first read: a process
    that reads some shards does not read the others).

    The files' contents are checked as they are read (:class:`ModelFiles`,
    :mod:`recommender.model.folder`), whatever ``verify``: a damaged folder is refused
    with a :class:`ModelFormatError`, it never reaches the code that reads it.
    """
    path = Path(path)
    recover_folder(path)  # a swap that a crash interrupted: the old model put back
    if not path.is_dir():
        raise InputFileNotFoundError(f"model folder not found: {path}. Train one with "
                                     f"'recommender train CORPUS --out {path}'")
    manifest = read_manifest(path, READABLE_VERSIONS)
    needed = FILES if manifest["format_version"] >= 3 else OLDER_FILES
    if "shards" in manifest:
        needed = [name for name in needed if name not in MATRIX_FILES]
    unverified = set()
    unlisted = [name for name in needed if name not in manifest["files"]]
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
        if verify and defer_shards and name.startswith("shard_"):
            unverified.add(name)
        elif verify:
            _check_sum(path, name, facts)
    return ModelFiles(path, manifest, unverified)


def _check_sum(path: Path, name: str, facts: dict) -> None:
    if _file_facts(path / name)["sha256"] != facts["sha256"]:
        raise ModelFormatError(f"{path}: file {name} does not match its checksum in the "
                               f"manifest: the model is damaged. Retrain it.")
