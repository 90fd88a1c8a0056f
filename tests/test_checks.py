"""Tests for the shared checks (recommender._checks) and atomic writes (recommender._files)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from recommender._checks import Params, check_int, check_jobs, check_number, is_number
from recommender import _files
from recommender._files import atomic_file, exchange, replace_folder, temporary_folder, umask, \
    writer_lock
from recommender.errors import ParameterError, RecommenderError


def test_is_number():
    for yes in (0, 2.5, -1, np.int64(3), np.float32(0.5)):
        assert is_number(yes), yes
    for no in (True, np.bool_(False), "1", None, float("nan"), float("inf"), [1]):
        assert not is_number(no), no
    assert is_number(float("inf"), finite=False)


@pytest.mark.parametrize("value, kwargs, message", [
    (0, {}, "k must be a positive integer, got 0"),
    (2.0, {}, "k must be a positive integer, got 2.0"),
    (True, {}, "k must be a positive integer, got True"),
    (np.int64(-1), {}, "k must be a positive integer, got -1"),
    (-1, {"minimum": 0}, "k must be a non-negative integer, got -1"),
    (None, {}, "k must be a positive integer, got None"),
    (1, {"minimum": 2}, "k must be an integer of at least 2, got 1"),
    ("5", {"what": "a count of items"}, "k must be a count of items, got '5'"),
])
def test_check_int_names_the_value(value, kwargs, message):
    with pytest.raises(ParameterError, match=f"^{message}$") as caught:
        check_int(value, "k", **kwargs)
    assert isinstance(caught.value, (ValueError, RecommenderError))


def test_check_int_returns_plain_ints():
    assert check_int(np.int32(4), "k") == 4 and type(check_int(np.int32(4), "k")) is int
    assert check_int(0, "k", minimum=0) == 0
    assert check_int(None, "k", allow_none=True) is None


def test_check_number_bounds():
    within = dict(low=0, high=1, low_open=True)
    assert check_number(1, "x", "in (0, 1]", **within) == 1.0
    for bad in (0, 1.5, float("nan"), "0.5", False):
        with pytest.raises(ParameterError, match=r"^x must be in \(0, 1\], got "):
            check_number(bad, "x", "in (0, 1]", **within)
    assert check_number(None, "x", "a number", allow_none=True) is None
    with pytest.raises(ParameterError, match="^x must be a number, got None$"):
        check_number(None, "x", "a number")


def test_check_jobs():
    assert check_jobs(-1) == (os.cpu_count() or 1)
    assert check_jobs(3) == 3
    for bad in (0, -2, True, 1.5):
        with pytest.raises(ParameterError, match=r"^n_jobs must be a positive integer or -1"):
            check_jobs(bad)


class Thing(Params):
    def __init__(self, *, size=3, name="a", weights=None):
        self.size = size
        self.name = name
        self.weights = weights


def test_params_come_from_the_constructor():
    thing = Thing(size=5)
    assert Thing.param_names() == ["size", "name", "weights"]
    assert thing.get_params() == {"size": 5, "name": "a", "weights": None}
    assert thing.set_params(name="b") is thing and thing.name == "b"
    assert repr(thing) == "Thing(size=5, name='b')"
    with pytest.raises(ParameterError, match=r"^Thing has no parameter 'colour'; its parameters "
                                             r"are size, name, weights$"):
        thing.set_params(colour="red")


def test_the_models_params_are_its_constructors():
    from recommender import ArticleRecommender

    model = ArticleRecommender(min_df=2, n_jobs=2)
    params = model.get_params()
    assert list(params) == ArticleRecommender.param_names()
    assert params["min_df"] == 2 and params["n_jobs"] == 2
    assert ArticleRecommender(**params).get_params() == params


# -- atomic writes (their lock, leftovers and kills: test_writers.py, test_kills.py) ----------
def test_atomic_file_replaces_only_when_complete(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_file(target) as fh:
            fh.write("half of the new")
            assert (tmp_path / ".out.txt.lock").is_file()
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]  # no temporary, no lock
    with atomic_file(target) as fh:
        fh.write("new")
    assert target.read_text() == "new"
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~umask())


def test_atomic_file_creates_its_folder(tmp_path):
    with atomic_file(tmp_path / "a" / "b.bin", "wb") as fh:
        fh.write(b"x")
    assert (tmp_path / "a" / "b.bin").read_bytes() == b"x"
    assert os.listdir(tmp_path / "a") == ["b.bin"]


@pytest.mark.parametrize("can_exchange", [True, False], ids=["exchange", "two renames"])
def test_a_folder_is_replaced_whole(tmp_path, monkeypatch, can_exchange):
    if not can_exchange:
        monkeypatch.setattr(_files, "exchange", lambda a, b: False)
    path = tmp_path / "model"
    path.mkdir()
    (path / "a").write_text("old")
    with pytest.raises(RuntimeError):
        with writer_lock(path), temporary_folder(path) as tmp:
            (tmp / "a").write_text("new")
            raise RuntimeError("killed")
    assert (path / "a").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    with writer_lock(path), temporary_folder(path) as tmp:
        (tmp / "a").write_text("new")
        assert oct(tmp.stat().st_mode & 0o777) == oct(0o777 & ~umask())
        replace_folder(tmp, path)
    assert (path / "a").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    with writer_lock(tmp_path / "fresh"), temporary_folder(tmp_path / "fresh") as tmp:
        replace_folder(tmp, tmp_path / "fresh")  # nothing to replace: one rename
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh", "model"]


def folder(path: Path, **files) -> Path:
    path.mkdir()
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def test_exchange_swaps_two_folders_at_once(tmp_path):
    a, b = folder(tmp_path / "a", x="a"), folder(tmp_path / "b", x="b")
    if not exchange(a, b):
        pytest.skip("this system or file system has no renameat2(RENAME_EXCHANGE)")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"
    with pytest.raises(FileNotFoundError):
        exchange(a, tmp_path / "missing")


def test_a_failed_second_rename_puts_the_old_folder_back(tmp_path, monkeypatch):
    monkeypatch.setattr(_files, "exchange", lambda a, b: False)
    path = folder(tmp_path / "m", old="1")
    tmp = folder(tmp_path / ".m.tmp-abcdefgh", new="2")
    rename = os.rename

    def fail_into_place(src, dst):
        if Path(src) == tmp:
            raise KeyboardInterrupt
        rename(src, dst)

    monkeypatch.setattr(os, "rename", fail_into_place)
    with pytest.raises(KeyboardInterrupt):
        replace_folder(tmp, path)
    assert os.listdir(path) == ["old"]
