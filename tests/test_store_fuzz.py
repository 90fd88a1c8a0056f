"""Property tests of ``load_model`` on mutated model folders: whatever is done to the files
(bytes flipped, cut or added, the manifest rewritten to match, JSON edits of the manifest,
files swapped or removed, arrays replaced by arrays of other dtypes, shapes or values,
out-of-range indices included), a load with ``verify=True`` or ``verify=False`` either
refuses the folder with a ModelFormatError, or gives a model that answers ``recommend``,
``recommend_batch``, ``explain`` and ``similar`` without an exception.

The loads run in this process: a segmentation fault would end the test run, so none may
remain. The default run tries a few hundred folders per model; ``-m slow`` tries 10,000.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from recommender import ArticleRecommender, ModelFormatError
from recommender.model.estimator import load_model

#: Examples per model: the default run, and the slow marker's.
QUICK, SLOW = 200, 10_000
#: Deterministic, without a database of failures, no deadline (the first load compiles).
PROFILE = dict(derandomize=True, database=None, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture,
                                      HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def originals(model_dir, learned_dir):
    """Each model's files as bytes: a mutated folder is written from them."""
    return Files({name: Files({f.name: f.read_bytes() for f in path.iterdir()})
                  for name, path in (("content", model_dir), ("learned", learned_dir))})


# -- mutations --------------------------------------------------------------------------
#: Values that sit on the bounds the loader must check, for any dtype.
EDGES = [-2**31, -2**31 + 1, -2, -1, 0, 1, 2, 39, 40, 41, 42, 2**31 - 1, 2**32, 2**62,
         float("nan"), float("inf"), float("-inf"), 1e30]
DTYPES = ["int8", "uint8", "int32", "uint32", "int64", "float32", "float64", "bool", "<U3",
          ">i4", ">f4"]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.sampled_from(EDGES)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=4),
    max_leaves=8)


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def as_array(data: bytes) -> np.ndarray | None:
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except Exception:
        return None


def facts(data: bytes) -> dict:
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


@st.composite
def damage(draw, files: dict) -> None:
    """Bytes of one file flipped, cut or added; often with the manifest made to match."""
    name = draw(st.sampled_from(sorted(files)))
    data = bytearray(files[name])
    how = draw(st.sampled_from(["flip", "cut", "extend"]))
    if how == "flip" and data:
        for _ in range(draw(st.integers(1, 4))):
            at = draw(st.integers(0, len(data) - 1))
            data[at] ^= draw(st.integers(1, 255))
    elif how == "cut":
        del data[draw(st.integers(0, len(data))):]
    else:
        data += draw(st.binary(min_size=1, max_size=64))
    files[name] = bytes(data)
    if name != "manifest.json" and draw(st.booleans()):
        refresh(files, name)


@st.composite
def replace_array(draw, files: dict) -> None:
    """An ``.npy`` file replaced: the same array with values at the bounds, or an array
    of another dtype or shape."""
    name = draw(st.sampled_from(sorted(n for n in files if n.endswith(".npy"))))
    array = as_array(files[name])
    if array is not None and array.size and draw(st.integers(0, 3)):
        array = array.copy()
        flat = array.reshape(-1)
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, flat.size - 1))
            try:
                flat[at] = draw(st.sampled_from(EDGES))
            except (OverflowError, ValueError, TypeError):
                pass
    else:
        dtype = draw(st.sampled_from(DTYPES))
        shape = draw(st.lists(st.integers(0, 45), min_size=0, max_size=3))
        values = draw(st.lists(st.sampled_from(EDGES), min_size=1, max_size=8))
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            array = np.resize(np.asarray(values, np.float64), shape)
            array = array.astype(dtype) if dtype != "<U3" else array.astype(str)
    files[name] = npy(array)
    refresh(files, name)


@st.composite
def edit_manifest(draw, files: dict) -> None:
    """One entry of the manifest (at the top, in ``files``, ``params``, ``learned``...)
    replaced by another JSON value, or deleted."""
    try:
        manifest = json.loads(files["manifest.json"])
    except ValueError:
        return  # damaged by an earlier mutation
    if not isinstance(manifest, dict) or not manifest:
        return
    section = draw(st.sampled_from([None, "files", "params", "vectorizer", "learned",
                                    "shape"]))
    target = manifest if section is None else manifest.get(section)
    if isinstance(target, dict) and target:
        key = draw(st.sampled_from(sorted(target)))
        if section == "files" and draw(st.booleans()):  # the facts of one file
            target = target[key]
            key = draw(st.sampled_from(["bytes", "sha256"]))
    elif isinstance(target, list) and target:
        key = draw(st.integers(0, len(target) - 1))
    else:
        target, key = manifest, draw(st.sampled_from(sorted(manifest)))
    if isinstance(target, dict) and draw(st.integers(0, 4)) == 0:
        target.pop(key, None)
    else:
        target[key] = draw(JSON_VALUES)
    files["manifest.json"] = json.dumps(manifest).encode("utf-8")


@st.composite
def swap_or_remove(draw, files: dict) -> None:
    """Two files swapped, or one removed (from the folder, the manifest, or both)."""
    names = sorted(n for n in files if n != "manifest.json")
    a, b = draw(st.lists(st.sampled_from(names), min_size=2, max_size=2, unique=True))
    if draw(st.booleans()):
        files[a], files[b] = files[b], files[a]
        refresh(files, a)
        refresh(files, b)
        return
    how = draw(st.sampled_from(["file", "entry", "both"]))
    if how != "entry":
        del files[a]
    if how != "file":
        try:
            manifest = json.loads(files["manifest.json"])
            manifest["files"].pop(a, None)
        except (ValueError, KeyError, TypeError, AttributeError):
            return  # damaged by an earlier mutation
        files["manifest.json"] = json.dumps(manifest).encode("utf-8")


class Files(dict):
    """A folder's files by name (bytes), shown briefly in the strategies' reprs."""

    def __repr__(self) -> str:
        return f"<{len(self)} files>"


def refresh(files: dict, name: str) -> None:
    """The manifest made to agree with a rewritten file, as a hostile writer would."""
    try:
        manifest = json.loads(files["manifest.json"])
        manifest["files"][name] = facts(files[name])
    except (ValueError, KeyError, TypeError):
        return  # a damaged manifest stays damaged
    files["manifest.json"] = json.dumps(manifest).encode("utf-8")


#: Values at the bounds are what a loader can miss: they come most often.
MUTATIONS = [damage, replace_array, replace_array, replace_array, edit_manifest, swap_or_remove]


# -- the property --------------------------------------------------------------------------
def check_mutated_folder(data, originals, tmp_path) -> None:
    kind = data.draw(st.sampled_from(sorted(originals)), label="model")
    files = Files(originals[kind])
    for _ in range(data.draw(st.integers(1, 2), label="mutations")):
        data.draw(data.draw(st.sampled_from(MUTATIONS))(files))
    folder = tmp_path / "model"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    used = False
    for verify in (True, False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # undated articles, on load and on use
            try:
                model = load_model(folder, verify=verify)
            except ModelFormatError:
                event(f"verify={verify}: refused")
                continue
            event(f"verify={verify}: loaded")
            if not used:  # the same files: one model's answers are the other's
                use(model)
                used = True


def use(model: ArticleRecommender) -> None:
    """The calls a service makes: none may raise on a model that loaded."""
    ids = list(model.ids_[:3])
    for source in ids:
        model.recommend(source, k=5)
    model.recommend_batch(ids, k=60)
    model.recommend_batch(ids, k=3, max_age=None, categories=list(model.categories_[:1]))
    model.explain(ids[0], ids[1], 5)
    model.similar("Un tigre de Sumatra\nLe zoo annonce une naissance.", k=4)
    model.article_info(ids[-1])


@given(data=st.data())
@settings(max_examples=QUICK, **PROFILE)
def test_load_model_on_mutated_folders(data, originals, tmp_path):
    check_mutated_folder(data, originals, tmp_path)


@pytest.mark.slow
@given(data=st.data())
@settings(max_examples=SLOW, **PROFILE)
def test_load_model_on_mutated_folders_slow(data, originals, tmp_path):
    check_mutated_folder(data, originals, tmp_path)
