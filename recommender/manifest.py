"""The manifest of a model folder, checked before any other file is read.

``manifest.json`` names the format version, the versions of the libraries, the parameters,
the facts of the fit, and the size and sha256 of every other file. :func:`read_manifest`
refuses a manifest whose entries are missing or of the wrong type (a crafted or damaged one)
with a :class:`~recommender.errors.ModelFormatError`, so that no later code trusts them.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from .errors import ModelFormatError

__all__ = ["MANIFEST", "read_manifest"]

MANIFEST = "manifest.json"
#: What a manifest must hold besides the file list.
_REQUIRED = ("files", "shape", "nnz", "params", "vectorizer")
_FILE_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\.(npy|json)")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def read_manifest(path: Path, readable_versions: tuple) -> dict:
    """The manifest of the model folder ``path``, checked: JSON, of one of
    ``readable_versions``, with the entries every model has, each of the right type (and
    ``files`` naming only plain files of the folder). ModelFormatError otherwise."""
    file = path / MANIFEST
    if not file.is_file():
        raise ModelFormatError(f"{path} is not a model folder: it has no {MANIFEST}. Train one "
                               f"with 'recommender train CORPUS --out {path}'")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ModelFormatError(f"{path}: {MANIFEST} is not valid JSON ({exc}); the model is "
                               f"damaged. Retrain it.") from None
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if isinstance(version, bool) or version not in readable_versions:
        readable = ", ".join(map(str, readable_versions[:-1])) + f" and {readable_versions[-1]}"
        raise ModelFormatError(f"{path}: model format_version {version!r}, but this version of "
                               f"recommender reads formats {readable}. Retrain the model "
                               f"with this version.")
    missing = [k for k in _REQUIRED if k not in manifest]
    if missing:
        raise ModelFormatError(f"{path}: {MANIFEST} lacks {', '.join(missing)}; the model is "
                               f"damaged. Retrain it.")
    wrong = _wrong_entry(manifest)
    if wrong:
        raise ModelFormatError(f"{path}: {MANIFEST}: {wrong}; the model is damaged. Retrain "
                               f"it.")
    return manifest


def _count(value) -> bool:
    """A non-negative int, not a bool."""
    return type(value) is int and value >= 0


def _is_time(text: str) -> bool:
    """Whether ``text`` reads as an ISO 8601 time (the catalogue counts from it)."""
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


#: Entries of a manifest that, when present, are of one type: ``(name, check, expected)``.
_ENTRIES = (
    ("shape", lambda v: type(v) is list and len(v) == 2 and all(map(_count, v)),
     "a list of two non-negative integers (articles, terms)"),
    ("nnz", _count, "a non-negative integer"),
    ("params", lambda v: type(v) is dict, "an object"),
    ("vectorizer", lambda v: type(v) is dict, "an object"),
    ("learned", lambda v: type(v) is dict, "an object"),
    ("created", lambda v: type(v) is str and _is_time(v), "an ISO 8601 time"),
    ("corpus_sha256", lambda v: type(v) is str, "a string"),
    *((name, _count, "a non-negative integer")
      for name in ("n_articles", "n_without_text", "n_undated", "n_after_run", "n_terms")),
)


def _wrong_entry(manifest: dict) -> str | None:
    """What is wrong with the entries of a manifest, or None."""
    for name, check, expected in _ENTRIES:
        if name in manifest and not check(manifest[name]):
            return f"{name} is {_shown(manifest[name])}, expected {expected}"
    files = manifest["files"]
    if type(files) is not dict:
        return f"files is {_shown(files)}, expected an object of file names"
    for name, facts in files.items():
        if not _FILE_NAME.fullmatch(name):
            return (f"files lists {_shown(name)}, not the name of a model file (a plain "
                    f".npy or .json name)")
        if (type(facts) is not dict or not _count(facts.get("bytes"))
                or type(facts.get("sha256")) is not str
                or not _SHA256.fullmatch(facts["sha256"])):
            return (f"the entry of {name} in files is {_shown(facts)}, expected "
                    f"{{\"bytes\": size, \"sha256\": 64 hex digits}}")
    return None


def _shown(value) -> str:
    """A manifest value in a message, cut to a readable length."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."
