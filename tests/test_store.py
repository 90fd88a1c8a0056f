"""Tests for recommender.store: a model folder round-trips exactly, loads without unpickling,
and every damaged folder is refused with a message that names the problem."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import warnings
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import scipy
import sklearn

import recommender
from recommender import ArticleRecommender, CorpusWarning, ModelFormatError
from recommender.errors import UndatedWarning
from recommender.model.estimator import load_model
from recommender.store import FILES, FORMAT_VERSION, TABLE_FILES, check_replaceable

from helpers import flip_bytes, read_manifest, refresh_facts, write_manifest

TIGER = "CNT000001r4edC"


@pytest.fixture
def copy_of(model_dir, tmp_path):
    """A copy of the saved sample model that a test may damage."""
    path = tmp_path / "model"
    shutil.copytree(model_dir, path)
    return path


def assert_same_model(a, b, sources=None, page=None):
    """Every learned array equal, and identical lists for every article."""
    for name in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(getattr(a.matrix_, name), getattr(b.matrix_, name))
        assert getattr(a.matrix_, name).dtype == getattr(b.matrix_, name).dtype
    assert a.matrix_.shape == b.matrix_.shape
    assert a.vectorizer_.vocabulary_ == b.vectorizer_.vocabulary_
    assert a.vectorizer_.words_ == b.vectorizer_.words_
    np.testing.assert_array_equal(a.vectorizer_.idf_, b.vectorizer_.idf_)
    assert a.vectorizer_.settings() == b.vectorizer_.settings()
    for name in ("ids_", "published_", "categories_", "titles_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.info_ == b.info_
    assert a.get_params() == b.get_params() and a.max_age_days_ == b.max_age_days_
    sources = list(a.ids_) if sources is None else sources
    for source in sources:
        for k in (3, a.n_articles):
            ids_a, scores_a = a.recommend(source, k=k)
            ids_b, scores_b = b.recommend(source, k=k)
            np.testing.assert_array_equal(ids_a, ids_b)
            np.testing.assert_array_equal(scores_a, scores_b)
    batch_a, batch_b = a.recommend_batch(sources, k=7), b.recommend_batch(sources, k=7)
    np.testing.assert_array_equal(batch_a.ids, batch_b.ids)
    np.testing.assert_array_equal(batch_a.scores, batch_b.scores)
    if page is not None:
        np.testing.assert_array_equal(a.similar(page, k=10)[0], b.similar(page, k=10)[0])
        np.testing.assert_array_equal(a.similar(page, k=10)[1], b.similar(page, k=10)[1])


# -- round trip ---------------------------------------------------------------------------
def test_round_trip_of_the_sample_model(small_model, model_dir, page_path):
    loaded = ArticleRecommender.load(model_dir)
    assert loaded.n_articles == 41
    assert_same_model(small_model, loaded, page=page_path.read_text(encoding="utf-8"))
    ids, _ = loaded.recommend(TIGER, k=5)
    other = ids[1]
    assert loaded.explain(TIGER, other, 8) == small_model.explain(TIGER, other, 8)


def test_round_trip_with_undated_empty_and_uncategorised_articles(articles, tmp_path):
    odd = [{"id": "NO-DATE", "title": articles[0].title, "body": articles[0].body},
           {"id": "NO-TEXT", "title": "", "published": "2020-06-01T12:00:00+02:00"},
           {"id": "NO-CATEGORY", "title": "Un tigre de Sumatra", "category": "",
            "published": "2020-06-02T12:00:00+02:00"}]
    model = ArticleRecommender(max_age=45.5, min_df=1, field_weights={"title": 3, "body": 1})
    with pytest.warns(UserWarning, match="1 articles have no date"):  # the table, max_age
        model.fit(list(articles) + odd)
    model.save(tmp_path / "odd")
    with pytest.warns(UndatedWarning, match="^1 articles have no date"):
        loaded = ArticleRecommender.load(tmp_path / "odd")
    assert loaded.max_age_days_ == 45.5 and loaded.info_["n_undated"] == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the undated article, with max_age
        assert_same_model(model, loaded)


def test_numpy_scalar_parameters_are_saved_as_plain_json(articles, tmp_path):
    """Regression: ``min_df=np.int64(2)`` made save() fail with "Object of type int64 is not
    JSON serializable"."""
    model = ArticleRecommender(min_df=np.int64(2), max_age=np.float64(30), n_jobs=np.int64(2))
    model.fit(articles)
    model.save(tmp_path / "model")
    params = read_manifest(tmp_path / "model")["params"]
    assert params["min_df"] == 2 and params["max_age"] == 30.0 and params["n_jobs"] == 2
    assert ArticleRecommender.load(tmp_path / "model").get_params()["min_df"] == 2


def test_save_returns_and_creates_the_folder(small_model, tmp_path):
    path = tmp_path / "deep" / "er" / "model"
    assert small_model.save(path) is None
    assert sorted(p.name for p in path.iterdir()) == sorted([*FILES, *TABLE_FILES,
                                                             "manifest.json"])


# -- no unpickling --------------------------------------------------------------------------
def test_load_never_unpickles(model_dir, small_model, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("a model load must not unpickle")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    real_load = np.load
    calls = []

    def checked_load(file, *args, **kwargs):
        calls.append(kwargs.get("allow_pickle"))
        assert kwargs.get("allow_pickle") is False, "np.load must get allow_pickle=False"
        return real_load(file, *args, **kwargs)

    monkeypatch.setattr(np, "load", checked_load)
    loaded = ArticleRecommender.load(model_dir)
    assert calls == [False] * sum(name.endswith(".npy") for name in (*FILES, *TABLE_FILES))
    np.testing.assert_array_equal(loaded.recommend(TIGER)[0], small_model.recommend(TIGER)[0])


class _Payload:
    """Unpickling this creates a file: a stand-in for code run by a hostile model file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickled_array_is_refused_and_never_run(copy_of, tmp_path):
    marker = tmp_path / "payload-ran"
    hostile = np.array([_Payload(marker)], dtype=object)
    # the payload is real: loading it with pickles allowed runs it
    np.save(tmp_path / "probe.npy", hostile, allow_pickle=True)
    np.load(tmp_path / "probe.npy", allow_pickle=True)
    assert marker.exists()
    marker.unlink()

    np.save(copy_of / "ids.data.npy", hostile, allow_pickle=True)
    refresh_facts(copy_of, "ids.data.npy")  # a consistent manifest: only allow_pickle stops it
    with pytest.raises(ModelFormatError, match=r"cannot read ids\.data\.npy: Object arrays cannot "
                                               r"be loaded when allow_pickle=False"):
        ArticleRecommender.load(copy_of)
    assert not marker.exists()


# -- damaged or foreign folders ----------------------------------------------------------
def test_missing_folder(tmp_path):
    path = tmp_path / "no-such-model"
    with pytest.raises(FileNotFoundError, match=rf"^model folder not found: "
                                                rf"{str(path).replace('/', '.')}\. Train one"):
        ArticleRecommender.load(path)


def test_folder_without_manifest(copy_of):
    (copy_of / "manifest.json").unlink()
    with pytest.raises(ModelFormatError, match=r"model is not a model folder: it has no "
                                               r"manifest\.json\. Train one with"):
        ArticleRecommender.load(copy_of)


def test_manifest_that_is_not_json(copy_of):
    (copy_of / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelFormatError, match=r"manifest\.json is not valid JSON .*Retrain"):
        ArticleRecommender.load(copy_of)


@pytest.mark.parametrize("version", [4, 0, "1", "3", None, True])
def test_other_format_version_names_both(copy_of, version):
    manifest = read_manifest(copy_of)
    manifest["format_version"] = version
    write_manifest(copy_of, manifest)
    with pytest.raises(ModelFormatError, match=rf"model format_version {version!r}, but this "
                                               rf"version of recommender reads formats 1, 2 "
                                               rf"and 3\. Retrain the model"):
        ArticleRecommender.load(copy_of)


def test_manifest_without_a_section(copy_of):
    manifest = read_manifest(copy_of)
    del manifest["files"], manifest["nnz"]
    write_manifest(copy_of, manifest)
    with pytest.raises(ModelFormatError, match=r"manifest\.json lacks files, nnz; the model is "
                                               r"damaged"):
        ArticleRecommender.load(copy_of)


def test_manifest_that_does_not_list_a_file(copy_of):
    """Regression: a file dropped from the manifest's list was not checked, and its absence
    then escaped as a bare FileNotFoundError from numpy."""
    manifest = read_manifest(copy_of)
    del manifest["files"]["ids.offsets.npy"]
    write_manifest(copy_of, manifest)
    (copy_of / "ids.offsets.npy").unlink()
    with pytest.raises(ModelFormatError, match=r"manifest\.json does not list ids\.offsets\.npy; the "
                                               r"model is incomplete"):
        ArticleRecommender.load(copy_of)


def test_missing_file(copy_of):
    (copy_of / "titles.json").unlink()
    with pytest.raises(ModelFormatError, match=r"file titles\.json is missing; the model is "
                                               r"incomplete"):
        ArticleRecommender.load(copy_of)


def test_truncated_npy_names_the_file(copy_of):
    file = copy_of / "matrix.data.npy"
    data = file.read_bytes()
    file.write_bytes(data[:len(data) // 2])
    with pytest.raises(ModelFormatError, match=rf"file matrix\.data\.npy has "
                                               rf"{len(data) // 2:,} bytes, the manifest says "
                                               rf"{len(data):,}: the model is truncated"):
        ArticleRecommender.load(copy_of)


def test_truncated_npy_with_a_matching_manifest_names_the_file(copy_of):
    file = copy_of / "matrix.indptr.npy"
    file.write_bytes(file.read_bytes()[:-7])
    refresh_facts(copy_of, "matrix.indptr.npy")
    with pytest.raises(ModelFormatError, match=r"cannot read matrix\.indptr\.npy"):
        ArticleRecommender.load(copy_of)


def test_checksum_mismatch(copy_of):
    flip_bytes(copy_of / "matrix.data.npy", 3)
    with pytest.raises(ModelFormatError, match=r"file matrix\.data\.npy does not match its checksum in "
                                               r"the manifest: the model is damaged"):
        ArticleRecommender.load(copy_of)
    loaded = load_model(copy_of, verify=False)  # verify=False skips that check
    assert loaded.n_articles == 41


def test_files_that_disagree_with_the_manifest(copy_of):
    np.save(copy_of / "published.npy", np.zeros(40, np.int64), allow_pickle=False)
    refresh_facts(copy_of, "published.npy")
    with pytest.raises(ModelFormatError, match=r"published\.npy holds int64\[40\], expected "
                                               r"int64\[41\]; the model is damaged"):
        ArticleRecommender.load(copy_of)


# -- saving ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def other_model(articles):
    """A different model: the sample's first 20 articles."""
    return ArticleRecommender(min_df=1).fit(articles[:20])


def test_interrupted_save_keeps_the_old_model(small_model, other_model, tmp_path, monkeypatch):
    path = tmp_path / "model"
    small_model.save(path)
    before = {f.name: f.read_bytes() for f in path.iterdir()}
    real_save, calls = np.save, []

    def save_then_fail(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 3:
            raise OSError("No space left on device")
        return real_save(*args, **kwargs)

    monkeypatch.setattr(np, "save", save_then_fail)
    with pytest.raises(OSError, match="No space left on device"):
        other_model.save(path)
    monkeypatch.undo()
    assert len(calls) == 3
    assert os.listdir(tmp_path) == ["model"]  # no temporary folder left behind
    assert {f.name: f.read_bytes() for f in path.iterdir()} == before
    assert_same_model(small_model, ArticleRecommender.load(path), sources=[TIGER])


def test_interrupted_first_save_leaves_nothing(other_model, tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "save", fail)
    with pytest.raises(KeyboardInterrupt):
        other_model.save(tmp_path / "model")
    assert os.listdir(tmp_path) == []


def test_saving_over_a_model_replaces_it(small_model, other_model, tmp_path):
    path = tmp_path / "model"
    small_model.save(path)
    other_model.save(path)
    loaded = ArticleRecommender.load(path)
    assert loaded.n_articles == 20
    assert_same_model(other_model, loaded)
    assert os.listdir(tmp_path) == ["model"]
    small_model.save(path)  # and back
    assert ArticleRecommender.load(path).n_articles == 41


def test_saving_over_a_folder_of_other_files_is_refused(small_model, tmp_path):
    """Regression: save() replaced any existing folder, deleting whatever it held."""
    path = tmp_path / "documents"
    path.mkdir()
    (path / "thesis.txt").write_text("years of work", encoding="utf-8")
    with pytest.raises(FileExistsError, match=r"documents is a folder of other files \(it has "
                                              r"no manifest\.json\); a model is saved over an "
                                              r"older model only"):
        small_model.save(path)
    assert os.listdir(path) == ["thesis.txt"]
    assert os.listdir(tmp_path) == ["documents"]


def test_saving_into_an_empty_folder_or_over_a_file(small_model, tmp_path):
    (tmp_path / "empty").mkdir()
    small_model.save(tmp_path / "empty")
    assert ArticleRecommender.load(tmp_path / "empty").n_articles == 41
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(FileExistsError, match=r"file exists and is not a model folder"):
        small_model.save(tmp_path / "file")
    assert sorted(os.listdir(tmp_path)) == ["empty", "file"]


def test_saved_folder_has_the_usual_permissions(small_model, tmp_path):
    """Regression: the folder kept mkdtemp's mode 0700, unreadable by the service that
    serves the model."""
    mask = os.umask(0o022)
    os.umask(mask)
    small_model.save(tmp_path / "model")
    assert (tmp_path / "model").stat().st_mode & 0o777 == 0o777 & ~mask


# -- the manifest ---------------------------------------------------------------------------
def test_manifest_contents(model_dir, small_model, articles_path):
    manifest = read_manifest(model_dir)
    assert manifest["format_version"] == FORMAT_VERSION == 3
    assert manifest["recommender_version"] == recommender.__version__
    assert manifest["versions"] == {"numpy": np.__version__, "scipy": scipy.__version__,
                                    "scikit-learn": sklearn.__version__}
    assert manifest["params"] == {"field_weights": None, "min_df": 2, "max_df": 0.5,
                                  "sublinear_tf": True, "analyzer": None, "idf_power": 0.25,
                                  "query_terms": 20, "length_prior": 0.2, "half_life": None,
                                  "dedupe": None, "diversity": 0.0, "min_score": None,
                                  "max_age": None, "max_block_bytes": 256 * 2**20, "n_jobs": 1,
                                  "table_size": 50}
    assert manifest["n_articles"] == 41 and manifest["shape"][0] == 41
    assert manifest["nnz"] == small_model.matrix_.nnz
    # corpus_sha256: id, title, heading and body of each article in file order, each ended
    # by the unit separator 0x1F
    digest = hashlib.sha256()
    for line in articles_path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        for field in ("id", "title", "heading", "body"):
            digest.update(record[field].encode("utf-8") + b"\x1f")
    assert manifest["corpus_sha256"] == digest.hexdigest()
    created = datetime.fromisoformat(manifest["created"])
    assert created.utcoffset() == timedelta(0)
    assert timedelta(0) <= datetime.now(timezone.utc) - created < timedelta(hours=2)
    assert set(manifest["files"]) == set(FILES) | set(TABLE_FILES)
    for name, facts in manifest["files"].items():
        data = (model_dir / name).read_bytes()
        assert facts == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_corpus_checksum_follows_the_text(articles):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        a = ArticleRecommender().fit(articles)
        b = ArticleRecommender().fit([replace(articles[0], body="Autre."), *articles[1:]])
    assert a.info_["corpus_sha256"] != b.info_["corpus_sha256"]


# -- the neighbour table ----------------------------------------------------------------
def test_table_round_trips_memory_mapped(small_model, model_dir):
    loaded = ArticleRecommender.load(model_dir)
    for name in ("table_indices_", "table_scores_"):
        array = getattr(loaded, name)
        assert isinstance(array, np.memmap) and array.mode == "r"
        np.testing.assert_array_equal(array, getattr(small_model, name))
        assert array.dtype == getattr(small_model, name).dtype
    assert loaded.table_indices_.shape == (41, 40)  # table_size 50, clipped to the others
    with pytest.raises(ValueError, match="read-only"):
        loaded.table_scores_[0, 0] = 1
    for source in small_model.ids_:
        got, want = loaded.recommend(source, k=12), small_model.recommend(source, k=12)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
        assert not isinstance(got[1], np.memmap)  # answers are copies, not views of the file


def test_matrix_is_memory_mapped_and_scores_as_before(small_model, model_dir):
    loaded = ArticleRecommender.load(model_dir)
    for part in ("data", "indices"):  # indptr (one value per row) scipy may convert
        array = getattr(loaded.matrix_, part)
        assert not array.flags.writeable  # the file's pages, not a copy
        np.testing.assert_array_equal(array, getattr(small_model.matrix_, part))
    np.testing.assert_array_equal(loaded.matrix_.indptr, small_model.matrix_.indptr)
    with pytest.raises(ValueError, match="read-only"):
        loaded.matrix_.data[0] = 1
    ids = small_model.ids_[:5]
    for scoring in ({}, {"idf_power": 1.0}):  # re-weighting copies the matrix first
        got = loaded.with_scoring(**scoring).recommend_batch(ids, k=8, max_age=None)
        want = small_model.with_scoring(**scoring).recommend_batch(ids, k=8, max_age=None)
        np.testing.assert_array_equal(got.ids, want.ids)
        np.testing.assert_array_equal(got.scores, want.scores)


def as_format_2(path: Path) -> None:
    """Turn a saved model into the folder format 2 wrote: the ids in one fixed-width
    ``ids.npy``."""
    data = np.load(path / "ids.data.npy").tobytes()
    offsets = np.load(path / "ids.offsets.npy").tolist()
    ids = [data[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:])]
    for name in ("ids.data.npy", "ids.offsets.npy"):
        (path / name).unlink()
    np.save(path / "ids.npy", np.asarray(ids, dtype=str), allow_pickle=False)
    refresh_facts(path, "ids.npy")
    manifest = read_manifest(path)
    del manifest["files"]["ids.data.npy"], manifest["files"]["ids.offsets.npy"]
    manifest["format_version"] = 2
    write_manifest(path, manifest)


def as_format_1(path: Path) -> None:
    """Turn a saved model into the folder an older version wrote: no table, format 1."""
    as_format_2(path)
    manifest = read_manifest(path)
    for name in TABLE_FILES:
        del manifest["files"][name]
        (path / name).unlink()
    del manifest["params"]["table_size"]
    manifest["format_version"] = 1
    write_manifest(path, manifest)


def test_older_folder_without_a_table_loads_and_scores(copy_of, small_model):
    as_format_1(copy_of)
    loaded = ArticleRecommender.load(copy_of)
    assert loaded.table_indices_ is None and loaded.table_scores_ is None
    assert loaded.table_size == 0
    loaded.table_size = 50  # the only difference
    assert_same_model(small_model, loaded, sources=[TIGER, "CNT000001r2yqP"])
    loaded.table_size = 0
    loaded.save(copy_of)  # and saved again, it is a format-3 folder without a table
    assert read_manifest(copy_of)["format_version"] == 3
    assert not set(TABLE_FILES) & set(os.listdir(copy_of))
    assert ArticleRecommender.load(copy_of).table_indices_ is None


def test_model_without_a_table_saves_no_table_files(articles, tmp_path):
    model = ArticleRecommender(min_df=2, table_size=0).fit(articles)
    model.save(tmp_path / "model")
    assert sorted(os.listdir(tmp_path / "model")) == sorted([*FILES, "manifest.json"])
    loaded = ArticleRecommender.load(tmp_path / "model")
    assert loaded.table_indices_ is None and loaded.table_size == 0


def test_half_a_table_is_refused(copy_of):
    manifest = read_manifest(copy_of)
    del manifest["files"]["table.scores.npy"]
    write_manifest(copy_of, manifest)
    with pytest.raises(ModelFormatError, match=r"manifest\.json lists table\.indices\.npy but "
                                               r"not table\.scores\.npy; the model is damaged"):
        ArticleRecommender.load(copy_of)


def test_table_of_another_shape_is_refused(copy_of):
    np.save(copy_of / "table.scores.npy", np.zeros((41, 7), np.float32), allow_pickle=False)
    refresh_facts(copy_of, "table.scores.npy")
    with pytest.raises(ModelFormatError, match=r"the neighbour table does not fit the model: "
                                               r"indices int32\[41, 40\], scores "
                                               r"float32\[41, 7\], for 41 articles"):
        ArticleRecommender.load(copy_of)


def test_damaged_table_fails_the_checksum(copy_of):
    flip_bytes(copy_of / "table.scores.npy")
    with pytest.raises(ModelFormatError, match=r"file table\.scores\.npy does not match its "
                                               r"checksum"):
        ArticleRecommender.load(copy_of)


def test_a_model_folder_below_a_file_is_refused_before_any_work(small_model, tmp_path):
    """Regression: ``train --out FILE/model`` trained the whole model, then failed."""
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(NotADirectoryError, match=r"cannot write the model folder .*file/deep/"
                                                 r"model: .*file is a file, not a folder"):
        check_replaceable(tmp_path / "file" / "deep" / "model")
    with pytest.raises(NotADirectoryError):
        small_model.save(tmp_path / "file" / "model")
    assert (tmp_path / "file").read_text() == "not a folder"
