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
from recommender import ArticleRecommender, CorpusWarning, ModelFormatError, store
from recommender.errors import UndatedWarning
from recommender.model.estimator import load_model
from recommender.model.folder import decode_strings, encode_strings
from recommender.store import FILES, FORMAT_VERSION, MARKER, TABLE_FILES, check_replaceable

from helpers import bm25_oracle, flip_bytes, read_manifest, refresh_facts, write_manifest

TIGER = "CNT000001r4edC"
SCORINGS = ["mlt", "cosine"]
#: What a More Like This folder holds besides the files of every folder: each text's length.
MLT_FILES = ("lengths.npy", "df.npy")
#: The parameters that format 4 added (formats 1 to 3 scored with cosine, rolling window).
FORMAT_4_PARAMS = ("scoring", "k1", "b", "mlt_idf_power", "mlt_terms", "min_term_freq",
                   "window", "time_zone")


@pytest.fixture
def copy_of(model_dir, tmp_path):
    """A copy of the saved sample model (More Like This) that a test may damage."""
    path = tmp_path / "model"
    shutil.copytree(model_dir, path)
    return path


@pytest.fixture
def cosine_copy(cosine_dir, tmp_path):
    """A copy of the saved cosine sample model that a test may damage."""
    path = tmp_path / "cosine"
    shutil.copytree(cosine_dir, path)
    return path


def folder_files(scoring: str) -> list:
    """The files of a saved model of the sample (whose articles have related lists: the
    site's lists are kept) with a neighbour table, marker and manifest aside."""
    return [*FILES, *TABLE_FILES, "site_lists.json", *(MLT_FILES if scoring == "mlt" else ())]


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


@pytest.mark.parametrize("scoring", SCORINGS)
def test_save_returns_and_creates_the_folder(sample_models, tmp_path, scoring):
    path = tmp_path / "deep" / "er" / "model"
    assert sample_models[scoring].save(path) is None
    assert sorted(p.name for p in path.iterdir()) == sorted([*folder_files(scoring),
                                                             "manifest.json", MARKER])


# -- no unpickling --------------------------------------------------------------------------
@pytest.mark.parametrize("scoring", SCORINGS)
def test_load_never_unpickles(sample_dirs, sample_models, monkeypatch, scoring):
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
    loaded = ArticleRecommender.load(sample_dirs[scoring])
    assert calls == [False] * sum(name.endswith(".npy") for name in folder_files(scoring))
    np.testing.assert_array_equal(loaded.recommend(TIGER)[0],
                                  sample_models[scoring].recommend(TIGER)[0])


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


@pytest.mark.parametrize("version", [6, 0, "1", "4", None, True])
def test_other_format_version_names_both(copy_of, version):
    manifest = read_manifest(copy_of)
    manifest["format_version"] = version
    write_manifest(copy_of, manifest)
    with pytest.raises(ModelFormatError, match=rf"model format_version {version!r}, but this "
                                               rf"version of recommender reads formats 1, 2, "
                                               rf"3, 4 and 5\. Retrain the model"):
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
    with pytest.raises(ModelFormatError, match=r"manifest\.json does not list ids\.offsets\.npy; "
                                               r"the model is incomplete"):
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


def test_checksum_mismatch(cosine_copy):
    flip_bytes(cosine_copy / "matrix.data.npy", 3)
    with pytest.raises(ModelFormatError, match=r"file matrix\.data\.npy does not match its "
                                               r"checksum in the manifest: the model is damaged"):
        ArticleRecommender.load(cosine_copy)
    loaded = load_model(cosine_copy, verify=False)  # verify=False skips that check
    assert loaded.n_articles == 41


def test_checksum_mismatch_of_counts(copy_of):
    """The same damage to a More Like This folder's counts: the last count's sign and
    exponent bytes inverted make it negative, which the content checks refuse whatever
    ``verify``."""
    assert np.load(copy_of / "matrix.data.npy")[-1] >= 1
    flip_bytes(copy_of / "matrix.data.npy", 3)
    with pytest.raises(ModelFormatError, match=r"file matrix\.data\.npy does not match its "
                                               r"checksum in the manifest: the model is damaged"):
        ArticleRecommender.load(copy_of)
    assert np.load(copy_of / "matrix.data.npy")[-1] < 0
    with pytest.raises(ModelFormatError, match=r"lengths\.npy or matrix\.data\.npy holds a "
                                               r"negative or infinite count; the model is "
                                               r"damaged"):
        load_model(copy_of, verify=False)


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
#: The parameters every saved model lists, as the sample models have them (min_df=2).
SAMPLE_PARAMS = {"field_weights": None, "min_df": 2, "max_df": None, "sublinear_tf": True,
                 "analyzer": None, "idf_power": 0.25, "query_terms": 20, "length_prior": 0.2,
                 "k1": 0.8, "b": 0.75, "mlt_idf_power": 0.75, "mlt_terms": 30,
                 "min_term_freq": "auto", "query_stop_words": "auto", "half_life": None,
                 "dedupe": None, "diversity": 0.0, "min_score": None, "max_age": None,
                 "window": "calendar",
                 "time_zone": "Europe/Paris", "max_block_bytes": 256 * 2**20, "n_jobs": 1,
                 "table_size": 50, "shard_days": None}


def test_manifest_contents(model_dir, small_model, articles_path, articles):
    manifest = read_manifest(model_dir)
    assert manifest["format_version"] == FORMAT_VERSION == 4
    assert manifest["recommender_version"] == recommender.__version__
    assert manifest["versions"] == {"numpy": np.__version__, "scipy": scipy.__version__,
                                    "scikit-learn": sklearn.__version__}
    assert manifest["params"] == {"scoring": "mlt", **SAMPLE_PARAMS}
    assert manifest["n_articles"] == 41 and manifest["shape"][0] == 41
    assert manifest["nnz"] == small_model.matrix_.nnz
    # the BM25 facts, from the articles' analysed terms (helpers.Bm25Oracle)
    oracle = bm25_oracle(small_model, articles)
    assert manifest["bm25"]["n_documents"] == 41
    assert manifest["bm25"]["mean_length"] == pytest.approx(oracle.avgdl, rel=1e-12)
    assert manifest["bm25"]["median_length"] == oracle.median
    assert set(manifest["bm25"]) == {"n_documents", "mean_length", "median_length"}
    assert manifest["shape"][1] == len(oracle.df)
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
    assert set(manifest["files"]) == set(folder_files("mlt"))
    for name, facts in manifest["files"].items():
        data = (model_dir / name).read_bytes()
        assert facts == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_mlt_folder_holds_the_raw_counts_and_lengths(model_dir, small_model, articles):
    """matrix.* are each article's term counts (title, lead and body together), and
    lengths.npy its number of terms, those outside the vocabulary included."""
    oracle = bm25_oracle(small_model, articles)
    terms = json.loads((model_dir / "vocabulary.json").read_text(encoding="utf-8"))
    assert terms == sorted(oracle.df)
    data, indices, indptr = (np.load(model_dir / f"matrix.{part}.npy")
                             for part in ("data", "indices", "indptr"))
    lengths = np.load(model_dir / "lengths.npy")
    assert lengths.dtype == np.float64 and data.dtype == np.float32
    for i, article_id in enumerate(small_model.ids_):
        row = indices[indptr[i]:indptr[i + 1]]
        counts = {terms[c]: v for c, v in zip(row, data[indptr[i]:indptr[i + 1]])}
        assert counts == {t: n for t, n in oracle.tf[article_id].items() if t in oracle.df}
        assert lengths[i] == oracle.length[article_id]


def test_cosine_manifest_contents(cosine_dir, cosine_model):
    manifest = read_manifest(cosine_dir)
    assert manifest["format_version"] == 4
    assert manifest["params"] == {"scoring": "cosine", **SAMPLE_PARAMS}
    assert "bm25" not in manifest
    assert manifest["nnz"] == cosine_model.matrix_.nnz
    assert set(manifest["files"]) == set(folder_files("cosine"))
    # the rows as scored: unit TF-IDF rows with the length prior
    np.testing.assert_array_equal(np.load(cosine_dir / "matrix.data.npy"),
                                  cosine_model.matrix_.data)


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


def test_matrix_is_memory_mapped_and_scores_as_before(cosine_model, cosine_dir):
    loaded = ArticleRecommender.load(cosine_dir)
    for part in ("data", "indices"):  # indptr (one value per row) scipy may convert
        array = getattr(loaded.matrix_, part)
        assert not array.flags.writeable  # the file's pages, not a copy
        np.testing.assert_array_equal(array, getattr(cosine_model.matrix_, part))
    np.testing.assert_array_equal(loaded.matrix_.indptr, cosine_model.matrix_.indptr)
    with pytest.raises(ValueError, match="read-only"):
        loaded.matrix_.data[0] = 1
    ids = cosine_model.ids_[:5]
    for scoring in ({}, {"idf_power": 1.0}):  # re-weighting copies the matrix first
        got = loaded.with_scoring(**scoring).recommend_batch(ids, k=8, max_age=None)
        want = cosine_model.with_scoring(**scoring).recommend_batch(ids, k=8, max_age=None)
        np.testing.assert_array_equal(got.ids, want.ids)
        np.testing.assert_array_equal(got.scores, want.scores)


def test_counts_are_memory_mapped_and_score_as_before(small_model, model_dir):
    """A More Like This folder maps its counts; the BM25 weights are computed at load (one
    float32 per stored count), on the counts' own column indices."""
    loaded = ArticleRecommender.load(model_dir)
    counts = loaded.content_.counts
    for part in ("data", "indices"):
        array = getattr(counts, part)
        assert not array.flags.writeable  # the file's pages, not a copy
        np.testing.assert_array_equal(array, getattr(small_model.content_.counts, part))
    assert np.shares_memory(loaded.matrix_.indices, counts.indices)
    with pytest.raises(ValueError, match="read-only"):
        counts.data[0] = 1
    for part in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(getattr(loaded.matrix_, part),
                                      getattr(small_model.matrix_, part))
    np.testing.assert_array_equal(loaded.content_.lengths, small_model.content_.lengths)
    assert (loaded.content_.queries != small_model.content_.queries).nnz == 0
    ids = small_model.ids_[:5]
    for scoring in ({}, {"k1": 1.2, "b": 0.5}):
        got = loaded.with_scoring(**scoring).recommend_batch(ids, k=8, max_age=None)
        want = small_model.with_scoring(**scoring).recommend_batch(ids, k=8, max_age=None)
        np.testing.assert_array_equal(got.ids, want.ids)
        np.testing.assert_array_equal(got.scores, want.scores)


def as_format_3(path: Path) -> None:
    """Turn a saved cosine model into the folder format 3 wrote: no parameter of those
    format 4 added (a folder without ``scoring`` scores with cosine)."""
    manifest = read_manifest(path)
    assert manifest["params"]["scoring"] == "cosine" and "bm25" not in manifest
    for name in FORMAT_4_PARAMS:
        del manifest["params"][name]
    manifest["format_version"] = 3
    write_manifest(path, manifest)


def as_format_2(path: Path) -> None:
    """Turn a saved cosine model into the folder format 2 wrote: format 3 with the ids in
    one fixed-width ``ids.npy``."""
    as_format_3(path)
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


def test_older_folder_without_a_table_loads_and_scores(cosine_copy, cosine_model):
    as_format_1(cosine_copy)
    loaded = ArticleRecommender.load(cosine_copy)
    assert loaded.scoring == "cosine"
    assert loaded.table_indices_ is None and loaded.table_scores_ is None
    assert loaded.table_size == 0
    loaded.table_size = 50  # the only difference
    loaded.window = cosine_model.window  # no max_age: no window (that test is below)
    assert_same_model(cosine_model, loaded, sources=[TIGER, "CNT000001r2yqP"])
    loaded.table_size = 0
    loaded.save(cosine_copy)  # and saved again, it is a format-4 folder without a table
    assert read_manifest(cosine_copy)["format_version"] == 4
    assert read_manifest(cosine_copy)["params"]["scoring"] == "cosine"
    assert not set(TABLE_FILES) & set(os.listdir(cosine_copy))
    assert ArticleRecommender.load(cosine_copy).table_indices_ is None


def test_format_3_folder_loads_as_cosine_and_scores_as_before(cosine_copy, cosine_model,
                                                              page_path):
    as_format_3(cosine_copy)
    assert "scoring" not in read_manifest(cosine_copy)["params"]
    loaded = ArticleRecommender.load(cosine_copy)
    assert loaded.scoring == "cosine" and loaded.content_.queries is None
    loaded.window = cosine_model.window  # no max_age: no window (that test is below)
    assert_same_model(cosine_model, loaded, page=page_path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("scoring", SCORINGS)
def test_a_folder_saved_before_fold_stops_analyzes_new_text_as_it_did(sample_dirs, tmp_path,
                                                                      scoring):
    # Its terms were made with the stop list tested on words as written: "précise" gave the
    # term "precise", which the folded test now drops. New text (similar, add) keeps its rule.
    path = tmp_path / "model"
    shutil.copytree(sample_dirs[scoring], path)
    manifest = read_manifest(path)
    assert manifest["vectorizer"]["analyzer"]["fold_stops"] is True
    del manifest["vectorizer"]["analyzer"]["fold_stops"]
    write_manifest(path, manifest)
    analyzer = ArticleRecommender.load(path).vectorizer_.build_analyzer()
    assert analyzer.fold_stops is False and analyzer("précise et sûr")[0] == "precise"
    fresh = ArticleRecommender.load(sample_dirs[scoring]).vectorizer_.build_analyzer()
    assert fresh.fold_stops is True
    assert ("precise" in fresh("précise et sûr")) is (scoring == "mlt")  # mlt keeps stops


@pytest.fixture(scope="module")
def aged_cosine_dir(tmp_path_factory, articles):
    """A cosine model with the 62-day freshness that ``recommender train`` gives, as a
    format-3 folder (whose window was the only one then: rolling), and that model."""
    model = ArticleRecommender(scoring="cosine", window="rolling", min_df=2, max_age=62,
                               table_size=10).fit(articles)
    path = tmp_path_factory.mktemp("format3") / "model"
    model.save(path)
    as_format_3(path)
    return path, model


# Regression: folders without 'window' (formats 1 to 3) loaded with the new calendar
# default, and their lists disagreed with their own neighbour table.
def test_format_3_folder_with_max_age_keeps_its_rolling_window(aged_cosine_dir):
    path, before = aged_cosine_dir
    loaded = ArticleRecommender.load(path)
    # 2020-06-24T17:00+02:00, 1 day: rolling from 06-23T17:00, so the tiger story
    # (06-23T16:47:45) is out; calendar days would keep it
    as_of = "2020-06-24T17:00:00+02:00"
    want = before.recommend("CNT000001rdIhh", k=40, as_of=as_of, max_age=1)
    assert TIGER not in want[0]
    got = loaded.recommend("CNT000001rdIhh", k=40, as_of=as_of, max_age=1)
    np.testing.assert_array_equal(got[0], want[0])
    assert loaded.window == "rolling"
    # the table (default filters, k <= 10) and scoring (k = 11) give one list
    for source in loaded.ids_:
        table = loaded.recommend(source, k=10)
        scored = loaded.recommend(source, k=11)
        np.testing.assert_array_equal(table[0], scored[0][:10])


@pytest.mark.parametrize("scoring", SCORINGS)
def test_model_without_a_table_saves_no_table_files(articles, tmp_path, scoring):
    model = ArticleRecommender(scoring=scoring, min_df=2, table_size=0).fit(articles)
    model.save(tmp_path / "model")
    assert sorted(os.listdir(tmp_path / "model")) == sorted(
        [*FILES, *(MLT_FILES if scoring == "mlt" else ()), "site_lists.json", "manifest.json",
         MARKER])
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


# -- load-time validation (issue 11) -------------------------------------------------------
def rewrite(folder: Path, name: str, array: np.ndarray) -> None:
    """Write ``array`` as ``name`` and make the manifest agree, as a hostile writer would."""
    np.save(folder / name, array, allow_pickle=False)
    refresh_facts(folder, name)


def edited(folder: Path, name: str) -> np.ndarray:
    """A writable copy of one of the folder's arrays."""
    return np.load(folder / name, allow_pickle=False).copy()


def assert_refused(folder: Path, pattern: str) -> None:
    """Refused the same way with and without the checksums."""
    for verify in (True, False):
        with pytest.raises(ModelFormatError, match=pattern):
            load_model(folder, verify=verify)


def test_regression_a_manifest_created_that_is_no_time_ends_in_a_parameter_error(copy_of):
    """Found by the slow fuzz of mutated folders: ``"created": "0"`` raised the time
    parser's ParameterError from the catalogue instead of a ModelFormatError."""
    manifest = read_manifest(copy_of)
    manifest["created"] = "0"
    write_manifest(copy_of, manifest)
    with pytest.raises(ModelFormatError, match='created is "0", expected an ISO 8601 time'):
        ArticleRecommender.load(copy_of, verify=False)


@pytest.mark.parametrize("name, value", [("field_weights", [1, 2]), ("analyzer", "stem")])
def test_regression_a_manifest_param_of_the_wrong_type_ends_in_a_traceback(copy_of, name,
                                                                          value):
    """Found by the slow fuzz of mutated folders: a list for field_weights raised an
    AttributeError inside the vectorizer instead of a ModelFormatError."""
    manifest = read_manifest(copy_of)
    manifest["params"][name] = value
    write_manifest(copy_of, manifest)
    with pytest.raises(ModelFormatError, match=f"params: {name} must be an object or null"):
        ArticleRecommender.load(copy_of, verify=False)


@pytest.mark.parametrize("column", [-1, 10**6])
def test_regression_out_of_range_matrix_indices_segfault_even_with_a_matching_manifest(
        copy_of, column):
    """Regression: a column outside the terms reached scipy, which read out of bounds and
    ended the process with a segmentation fault, checksums or not."""
    indices = edited(copy_of, "matrix.indices.npy")
    indices[5] = column
    rewrite(copy_of, "matrix.indices.npy", indices)
    assert_refused(copy_of, r"matrix\.indices\.npy holds a column outside \[0, [\d,]+\) \(the "
                            r"terms\); the model is damaged\. Retrain it\.$")


@pytest.mark.parametrize("row, value", [(0, 1), (20, 10**9), (20, -5), (-1, 3)])
def test_regression_out_of_range_matrix_indptr_segfault_even_with_a_matching_manifest(
        copy_of, row, value):
    """Regression: an ``indptr`` past the non-zeros, decreasing, or not from 0 to nnz read
    out of bounds in scipy."""
    indptr = edited(copy_of, "matrix.indptr.npy")
    indptr[row] = value
    rewrite(copy_of, "matrix.indptr.npy", indptr)
    assert_refused(copy_of, r"matrix\.indptr\.npy does not run from 0 to nnz \([\d,]+\) "
                            r"without decreasing")


def test_matrix_parts_of_another_dtype_or_length(copy_of):
    rewrite(copy_of, "matrix.indices.npy", edited(copy_of, "matrix.indices.npy").astype(np.int64))
    assert_refused(copy_of, r"matrix\.indices\.npy holds int64\[\d+\], expected int32\[\d+\]; "
                            r"the model is damaged")


def test_matrix_values_that_are_not_finite(copy_of):
    data = edited(copy_of, "matrix.data.npy")
    data[3] = np.nan
    rewrite(copy_of, "matrix.data.npy", data)
    assert_refused(copy_of, r"matrix\.data\.npy holds a value that is not finite")


@pytest.mark.parametrize("value", [41, 2**31 - 1, -2])
def test_regression_out_of_range_table_indices_end_in_a_traceback(copy_of, value):
    """Regression: a row outside the catalogue in the neighbour table ended recommend() in
    an IndexError."""
    indices = edited(copy_of, "table.indices.npy")
    indices[0, 0] = value
    rewrite(copy_of, "table.indices.npy", indices)
    assert_refused(copy_of, r"table\.indices\.npy holds a row outside \[-1, 41\); the model is "
                            r"damaged")


def test_table_padding_before_a_row_is_refused(copy_of):
    indices, scores = edited(copy_of, "table.indices.npy"), edited(copy_of, "table.scores.npy")
    indices[2, 0], scores[2, 0] = -1, -np.inf
    rewrite(copy_of, "table.indices.npy", indices)
    rewrite(copy_of, "table.scores.npy", scores)
    assert_refused(copy_of, r"table\.indices\.npy has -1 padding before a row")


@pytest.mark.parametrize("score", [np.nan, np.inf, -np.inf])
def test_table_scores_that_are_not_finite_are_refused(copy_of, score):
    scores = edited(copy_of, "table.scores.npy")
    scores[4, 0] = score
    rewrite(copy_of, "table.scores.npy", scores)
    assert_refused(copy_of, r"table\.scores\.npy holds a score that is not finite, or padding "
                            r"that is not -inf")


@pytest.mark.parametrize("code", [-1, 10_000])
def test_category_codes_outside_the_categories(copy_of, code):
    codes = edited(copy_of, "category_codes.npy")
    codes[7] = code
    rewrite(copy_of, "category_codes.npy", codes)
    assert_refused(copy_of, r"category_codes\.npy holds a code outside \[0, \d+\) "
                            r"\(categories\.json\)")


def test_published_out_of_order(copy_of):
    published = edited(copy_of, "published.npy")
    published[[0, 1]] = published[[1, 0]] + np.array([0, 1])
    rewrite(copy_of, "published.npy", published)
    assert_refused(copy_of, r"published\.npy is not in publication order")


@pytest.mark.parametrize("entry", ["x", {"bytes": "12", "sha256": "0" * 64}, {"bytes": 12},
                                   {"bytes": -1, "sha256": "0" * 64}, None, []])
def test_regression_malformed_files_entry_ends_in_a_traceback(copy_of, entry):
    """Regression: a ``files`` entry that is not ``{"bytes": int, "sha256": str}`` ended the
    load in a TypeError or a KeyError."""
    manifest = read_manifest(copy_of)
    manifest["files"]["idf.npy"] = entry
    write_manifest(copy_of, manifest)
    assert_refused(copy_of, r"manifest\.json: the entry of idf\.npy in files is .*, expected "
                            r"\{\"bytes\": size, \"sha256\": 64 hex digits\}; the model is "
                            r"damaged\. Retrain it\.$")


@pytest.mark.parametrize("name", ["../idf.npy", "/etc/passwd", ".hidden.npy", "model.pkl", ""])
def test_files_entry_that_is_not_a_model_file_name(copy_of, name):
    manifest = read_manifest(copy_of)
    manifest["files"][name] = manifest["files"]["idf.npy"]
    write_manifest(copy_of, manifest)
    assert_refused(copy_of, r"manifest\.json: files lists .*, not the name of a model file")


@pytest.mark.parametrize("entry, value, expected", [
    ("shape", [41], "a list of two non-negative integers"),
    ("shape", [41, -3], "a list of two non-negative integers"),
    ("shape", [41.0, 300], "a list of two non-negative integers"),
    ("shape", [True, 300], "a list of two non-negative integers"),
    ("nnz", "12", "a non-negative integer"),
    ("params", [], "an object"),
    ("vectorizer", None, "an object"),
    ("files", [], "an object of file names"),
    ("n_articles", 4.5, "a non-negative integer"),
])
def test_manifest_entry_of_the_wrong_type(copy_of, entry, value, expected):
    manifest = read_manifest(copy_of)
    manifest[entry] = value
    write_manifest(copy_of, manifest)
    assert_refused(copy_of, rf"manifest\.json: {entry} is .*, expected {expected}")


def test_manifest_shape_of_another_size(copy_of):
    manifest = read_manifest(copy_of)
    manifest["shape"][0] = 40
    write_manifest(copy_of, manifest)
    assert_refused(copy_of, r"matrix\.indptr\.npy holds int64\[42\], expected int64\[41\]")


@pytest.mark.parametrize("params, message", [
    ({"query_terms": "20"},
     r"query_terms must be a positive integer or None \(all terms\), got '20'"),
    ({"max_age": -3}, r"max_age must be a positive number of days, got -3"),
    ({"max_age": 1e300}, r"max_age must be at most [\d,]+ days"),
    ({"diversity": 2}, r"diversity must be in \[0, 1\)"),
    ({"colour": "red"}, r"unexpected keyword argument 'colour'"),
])
def test_manifest_parameters_that_no_call_could_use(copy_of, params, message):
    manifest = read_manifest(copy_of)
    manifest["params"].update(params)
    write_manifest(copy_of, manifest)
    assert_refused(copy_of, rf"manifest\.json: params: .*{message}.*; the model is damaged")


@pytest.mark.parametrize("setting, value, message", [
    ("idf_power", "high", r"idf_power must be a number between 0 and 4, got 'high'"),
    ("field_weights", ["title"], r"field_weights must be an object or null, got list"),
    ("analyzer", 3, r"analyzer must be an object or null, got int"),
])
def test_manifest_vectorizer_settings_that_are_not_settings(copy_of, setting, value, message):
    manifest = read_manifest(copy_of)
    manifest["vectorizer"][setting] = value
    write_manifest(copy_of, manifest)
    assert_refused(copy_of, rf"manifest\.json: vectorizer: {message}; the model is damaged")


@pytest.mark.parametrize("name, doc, message", [
    ("titles.json", {"a": 1}, r"titles\.json holds a dict, expected a list of str"),
    ("titles.json", ["x"] * 40 + [3], r"titles\.json: value 40 is a int, expected str"),
    ("categories.json", "sport", r"categories\.json holds a str, expected a list of str"),
    ("vocabulary.json", ["a"], r"vocabulary\.json holds 1 values, expected [\d,]+"),
])
def test_json_documents_of_the_wrong_shape(copy_of, name, doc, message):
    (copy_of / name).write_text(json.dumps(doc), encoding="utf-8")
    refresh_facts(copy_of, name)
    assert_refused(copy_of, message)


def test_json_nested_too_deep_is_refused(copy_of):
    (copy_of / "titles.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    refresh_facts(copy_of, "titles.json")
    assert_refused(copy_of, r"cannot read titles\.json: maximum recursion depth")


def test_a_file_that_the_manifest_does_not_list_is_never_read(copy_of):
    manifest = read_manifest(copy_of)
    del manifest["files"]["table.scores.npy"], manifest["files"]["table.indices.npy"]
    write_manifest(copy_of, manifest)
    assert load_model(copy_of).table_ is None  # the files are there, unlisted: ignored


@pytest.fixture
def learned_copy(learned_dir, tmp_path):
    return shutil.copytree(learned_dir, tmp_path / "learned")


@pytest.mark.parametrize("name, value, message", [
    ("left", 10**6, r"reranker\.left\.npy sends a node outside its tree or back"),
    ("right", -7, r"reranker\.right\.npy sends a node outside its tree or back"),
    ("left", 0, r"reranker\.left\.npy sends a node outside its tree or back"),  # a loop
    ("feature", 14, r"reranker\.feature\.npy holds a feature outside \[0, 14\)"),  # FEATURES
    ("feature", -1, r"reranker\.feature\.npy holds a feature outside \[0, 14\)"),
    ("roots", 10**6, r"reranker\.roots\.npy does not start each tree within the [\d,]+ "
                     r"nodes in order"),
], ids=["left-past-the-end", "right-negative", "left-loop", "feature-past", "feature-negative",
        "root-past-the-end"])
def test_regression_out_of_range_tree_nodes_reach_the_tree_walker(learned_copy, name, value,
                                                                  message):
    """Regression: a child, feature or root index outside the re-ranker's arrays reached
    scikit-learn's compiled tree walker (reads out of bounds) or numpy (IndexError); a
    child pointing back made the walk loop for ever."""
    array = edited(learned_copy, f"reranker.{name}.npy")
    inner = np.flatnonzero(~np.load(learned_copy / "reranker.is_leaf.npy"))
    array[inner[0] if name != "roots" else -1] = value
    rewrite(learned_copy, f"reranker.{name}.npy", array)
    assert_refused(learned_copy, message)


def test_regression_a_negative_last_tree_root_wraps_the_order_check(learned_copy):
    """Regression (found by the slow fuzz): roots ending in int32's minimum passed the
    "in order" check, their int32 difference wrapping round to a positive number, and the
    tree walker indexed with it (IndexError)."""
    roots = edited(learned_copy, "reranker.roots.npy")
    roots[-1] = np.iinfo(np.int32).min
    rewrite(learned_copy, "reranker.roots.npy", roots)
    assert_refused(learned_copy, r"reranker\.roots\.npy does not start each tree within")


def test_tree_arrays_of_another_dtype(learned_copy):
    rewrite(learned_copy, "reranker.left.npy",
            edited(learned_copy, "reranker.left.npy").astype(np.int64))
    assert_refused(learned_copy, r"reranker\.left\.npy holds int64\[\d+\], expected "
                                 r"int32\[any\]; the model is damaged")


def test_tree_values_that_are_not_finite(learned_copy):
    value = edited(learned_copy, "reranker.value.npy")
    value[-1] = np.inf
    rewrite(learned_copy, "reranker.value.npy", value)
    assert_refused(learned_copy, r"the re-ranker's values \(reranker\.value\.npy, baseline\) "
                                 r"are not all finite numbers")


def test_learned_category_shares_of_another_type(learned_copy):
    manifest = read_manifest(learned_copy)
    manifest["learned"]["category_share"] = {"sport": "most"}
    write_manifest(learned_copy, manifest)
    assert_refused(learned_copy, r"the learned re-ranker's sources, links or category shares "
                                 r"are not of their types")


def test_learned_n_candidates_that_is_not_a_count(learned_copy):
    manifest = read_manifest(learned_copy)
    manifest["learned"]["params"]["n_candidates"] = 0
    write_manifest(learned_copy, manifest)
    assert_refused(learned_copy, r"the learned re-ranker is incomplete \(n_candidates must be a "
                                 r"positive integer, got 0\)")


def test_a_damaged_learned_model_that_passes_the_checks_still_answers(learned_copy):
    """Sanity of the checks: the learned folder itself loads and answers."""
    model = load_model(learned_copy)
    ids, scores = model.recommend(TIGER, k=5)
    assert len(ids) and np.isfinite(scores).all()


# -- ids: their own bytes ---------------------------------------------------------------
def test_regression_one_long_id_made_the_folder_cost_its_length_times_every_article(
        articles, tmp_path):
    """Regression: ``ids.npy`` was a fixed-width array: one 20 KB id made every id cost
    80 KB (a 19 MB model became 750 MB). Now the folder grows by that id's bytes only."""
    long_id = "X" * 20_000
    sizes = {}
    for name, first in (("short", articles[0].id), ("long", long_id)):
        model = ArticleRecommender(min_df=2).fit([replace(articles[0], id=first),
                                                  *articles[1:]])
        model.save(tmp_path / name)
        sizes[name] = sum(f.stat().st_size for f in (tmp_path / name).iterdir())
        assert long_id in load_model(tmp_path / name) or name == "short"
    assert sizes["long"] - sizes["short"] < 20_000 + 2_000  # its bytes, and the manifest's


@pytest.mark.parametrize("ids", [["CNT1", "é", "", "日本語", "a\U0001F600b"],
                                 ["\ud800x", "plain"]])  # a lone surrogate round-trips too
def test_ids_round_trip_through_bytes_and_offsets(ids, tmp_path):
    files = store.ModelFiles(tmp_path, {"files": {"ids.data.npy": {}, "ids.offsets.npy": {}}})
    data, offsets = encode_strings(ids)
    np.save(tmp_path / "ids.data.npy", data, allow_pickle=False)
    np.save(tmp_path / "ids.offsets.npy", offsets, allow_pickle=False)
    decoded = decode_strings(files, "ids", len(ids))
    assert decoded.dtype.kind == "U" and decoded.tolist() == ids


@pytest.mark.parametrize("data, offsets, message", [
    (b"abc", [0, 1, 4], r"ids\.offsets\.npy does not run from 0 to the 3 bytes of "
                        r"ids\.data\.npy without decreasing"),
    (b"abc", [0, 2, 1, 3], r"does not run from 0"),
    (b"abc", [1, 3], r"does not run from 0"),
    ("é".encode() + b"a", [0, 1, 3], r"ids\.offsets\.npy cuts a character of ids\.data\.npy"),
    (b"a\xffb", [0, 3], r"ids\.data\.npy is not UTF-8 \(invalid start byte at byte 1\)"),
])
def test_ids_bytes_and_offsets_that_disagree(tmp_path, data, offsets, message):
    files = store.ModelFiles(tmp_path, {"files": {"ids.data.npy": {}, "ids.offsets.npy": {}}})
    np.save(tmp_path / "ids.data.npy", np.frombuffer(data, np.uint8), allow_pickle=False)
    np.save(tmp_path / "ids.offsets.npy", np.asarray(offsets, np.int64), allow_pickle=False)
    with pytest.raises(ModelFormatError, match=message):
        decode_strings(files, "ids", len(offsets) - 1)


def test_format_2_folder_loads_and_answers_as_before(cosine_copy, cosine_model):
    """A folder as format 2 wrote it (one fixed-width ids.npy) still loads."""
    as_format_2(cosine_copy)
    assert read_manifest(cosine_copy)["format_version"] == 2
    assert (cosine_copy / "ids.npy").is_file()
    loaded = ArticleRecommender.load(cosine_copy)
    assert loaded.ids_.dtype.kind == "U" and loaded.scoring == "cosine"
    loaded.window = cosine_model.window  # no max_age: no window
    assert_same_model(cosine_model, loaded, sources=[TIGER, "CNT000001r2yqP"])


def test_format_2_ids_that_are_not_strings(cosine_copy):
    as_format_2(cosine_copy)
    rewrite(cosine_copy, "ids.npy", np.arange(41))
    assert_refused(cosine_copy, r"ids\.npy holds int64, expected strings")


def test_regression_damaged_npy_header_ended_in_a_syntax_or_token_error(copy_of):
    """Regression (found by the fuzz tests): a header whose dict does not parse escaped
    numpy as a SyntaxError or a tokenize.TokenError."""
    file = copy_of / "published.npy"
    file.write_bytes(file.read_bytes().replace(b"{", b"}", 1))
    refresh_facts(copy_of, "published.npy")
    assert_refused(copy_of, r"cannot read published\.npy: TokenError")


def test_npy_header_that_announces_more_than_the_file_holds(copy_of):
    file = copy_of / "published.npy"
    file.write_bytes(file.read_bytes().replace(b"(41,)", b"(9999999999,)".ljust(5), 1))
    refresh_facts(copy_of, "published.npy")
    assert_refused(copy_of, r"cannot read published\.npy")


def test_regression_learned_features_of_another_type_ended_in_a_type_error(learned_copy):
    """Regression (found by the fuzz tests): ``"features": null`` in the learned entry
    ended the load in a TypeError."""
    manifest = read_manifest(learned_copy)
    manifest["learned"]["features"] = None
    write_manifest(learned_copy, manifest)
    assert_refused(learned_copy, r"the re-ranker was trained on other features \(None\)")


def test_regression_vectorizer_field_weights_as_a_list_ended_in_an_attribute_error(copy_of):
    """Regression (found by the fuzz tests): ``field_weights`` as a list reached
    ``dict.get``."""
    manifest = read_manifest(copy_of)
    manifest["vectorizer"]["field_weights"] = ["title", 2]
    write_manifest(copy_of, manifest)
    assert_refused(copy_of, r"vectorizer: field_weights must be an object or null, got list")
