"""Writers that never destroy what they did not write (recommender._files, store.write_folder):
which folders a save may replace, the lock of an output, the leftovers of killed runs, the
swap and its recovery, and workers that end with their parent. Kills: test_kills.py."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers import read_manifest, write_manifest
from recommender import ArticleRecommender
from recommender._files import atomic_file, clean_leftovers, lock_path, recover_folder, \
    writer_lock
from recommender.batch.score import score_to_file
from recommender.cli import main
from recommender.store import (FILES, FORMAT_VERSION, MARKER, OPTIONAL_FILES,
                               TABLE_FILES, check_replaceable)

pytestmark = pytest.mark.usefixtures("restore_logging_and_warnings")
REPO = Path(__file__).parents[1]


def train(capsys, articles_path, out, *more):
    """``recommender train`` in this process -> (return code, stderr lines)."""
    code = main(["train", str(articles_path), "--out", str(out), "--min-df", "2", "-q",
                 "--jobs", "1", *map(str, more)])
    return code, capsys.readouterr().err.splitlines()


def errors(lines):
    return [line for line in lines if ": error: " in line]


# -- what a save may replace ------------------------------------------------------------------
def test_regression_train_out_deletes_a_folder_with_a_foreign_manifest(capsys, tmp_path,
                                                                        articles_path):
    """Regression: any folder with a file named manifest.json (another tool's) was deleted
    whole by ``train --out``, which exited 0."""
    out = tmp_path / "site"
    out.mkdir()
    (out / "manifest.json").write_text('{"name": "my web app", "icons": []}')
    (out / "index.html").write_text("<html>years of work</html>")
    code, lines = train(capsys, articles_path, out)
    assert code == 2
    assert errors(lines) == [
        f"recommender train: error: {out} holds a manifest.json that recommender did not "
        f"write (no .recommender-model, no format_version and recommender_version); a model "
        f"is saved over an older model only. Choose another path or empty that folder."]
    assert sorted(os.listdir(out)) == ["index.html", "manifest.json"]
    assert sorted(os.listdir(tmp_path)) == ["site"]


def test_a_manifest_with_a_format_version_but_no_recommender_version_is_foreign(small_model,
                                                                                 tmp_path):
    out = tmp_path / "other"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"format_version": 2, "files": {}}))
    with pytest.raises(FileExistsError, match="recommender did not write"):
        small_model.save(out)
    assert os.listdir(out) == ["manifest.json"]


def test_regression_retraining_deletes_a_users_file_in_the_model_folder(capsys, tmp_path,
                                                                         articles_path):
    """Regression: retraining over a model folder deleted the files a user had put in it."""
    out = tmp_path / "model"
    assert train(capsys, articles_path, out)[0] == 0
    before = read_manifest(out)["files"]
    (out / "notes.txt").write_text("why this model")
    (out / "plots").mkdir()
    code, lines = train(capsys, articles_path, out, "--table-size", "5")
    assert code == 2
    assert errors(lines) == [
        f"recommender train: error: {out} is a model folder that also holds files a model "
        f"does not have: notes.txt, plots; saving would delete them. Move them out of the "
        f"folder, or choose another path."]
    assert (out / "notes.txt").read_text() == "why this model"
    assert read_manifest(out)["files"] == before  # the old model, untouched
    assert sorted(os.listdir(tmp_path)) == ["model"]


def test_many_unknown_files_are_counted(small_model, tmp_path):
    out = tmp_path / "model"
    small_model.save(out)
    for i in range(7):
        (out / f"n{i}.txt").write_text("x")
    with pytest.raises(FileExistsError, match=r"does not have: n0\.txt, n1\.txt, n2\.txt, "
                                              r"n3\.txt, n4\.txt and 2 more; saving would"):
        small_model.save(out)


def test_a_saved_folder_carries_the_marker_outside_the_manifest(small_model, tmp_path):
    small_model.save(tmp_path / "model")
    marker = json.loads((tmp_path / "model" / MARKER).read_text())
    assert marker == {"kind": "recommender model folder", "format_version": FORMAT_VERSION}
    assert MARKER not in read_manifest(tmp_path / "model")["files"]
    check_replaceable(tmp_path / "model")


def test_an_older_model_folder_without_the_marker_is_replaced(small_model, other_model,
                                                              tmp_path):
    """Folders written before the marker are recognised by their manifest."""
    out = tmp_path / "model"
    small_model.save(out)
    (out / MARKER).unlink()
    other_model.save(out)
    assert ArticleRecommender.load(out).n_articles == other_model.n_articles
    assert (out / MARKER).is_file()


def test_an_older_model_folder_with_unlisted_files_is_refused(small_model, tmp_path):
    out = tmp_path / "model"
    small_model.save(out)
    (out / MARKER).unlink()
    manifest = read_manifest(out)
    del manifest["files"]["titles.json"]  # not listed: not known to be the model's
    write_manifest(out, manifest)
    with pytest.raises(FileExistsError, match=r"does not have: titles\.json;"):
        check_replaceable(out)


@pytest.mark.parametrize("scoring", [
    "mlt",  # regression: a More Like This folder with a damaged manifest could not be replaced
    "cosine"])
def test_a_marked_folder_with_a_damaged_manifest_is_replaced(sample_models, other_model,
                                                             tmp_path, scoring):
    out = tmp_path / "model"
    sample_models[scoring].save(out)
    (out / "manifest.json").write_text("{not json")
    other_model.save(out)
    assert ArticleRecommender.load(out).n_articles == other_model.n_articles


def test_optional_files_are_what_a_model_adds_to_the_usual_files(learned_dir):
    """A learned More Like This folder of the sample lists the usual files, lengths.npy,
    df.npy, the re-ranker's arrays and the site's lists (its corpus has related lists);
    tuning.json is the one a tuned model adds."""
    listed = set(read_manifest(learned_dir)["files"])
    assert listed - set(FILES) - set(TABLE_FILES) == set(OPTIONAL_FILES) - {"tuning.json"}
    assert len(OPTIONAL_FILES) == len(set(OPTIONAL_FILES)) == 14


def test_a_learned_and_tuned_folder_with_a_damaged_manifest_is_replaced(learned_dir,
                                                                        other_model, tmp_path):
    """Every file a model may write (its re-ranker's arrays, tuning.json) is recognised as
    the model's when the manifest cannot tell."""
    out = shutil.copytree(learned_dir, tmp_path / "model")
    (out / "tuning.json").write_text("{}")
    assert {"lengths.npy", "reranker.value.npy", "tuning.json"} <= set(os.listdir(out))
    (out / "manifest.json").write_text("{not json")
    other_model.save(out)
    assert ArticleRecommender.load(out).n_articles == other_model.n_articles
    assert not list(out.glob("reranker.*")) and not (out / "tuning.json").exists()


def test_a_folder_with_a_damaged_manifest_and_another_file_is_refused(small_model, tmp_path):
    out = tmp_path / "model"
    small_model.save(out)
    (out / "manifest.json").write_text("{not json")
    (out / "reranker.notes.npy").write_text("mine")
    with pytest.raises(FileExistsError, match=r"does not have: reranker\.notes\.npy;"):
        check_replaceable(out)


@pytest.fixture(scope="module")
def other_model(articles):
    return ArticleRecommender(min_df=2, table_size=5).fit(articles[:20])


# -- the lock ---------------------------------------------------------------------------------
HOLD = """
import sys, time
from recommender._files import writer_lock
with writer_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def held_by_another_process(tmp_path):
    """A function that holds the lock of a path in a child process until the test ends."""
    children = []

    def hold(path):
        child = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], cwd=REPO,
                                 stdout=subprocess.PIPE, text=True,
                                 env={**os.environ, "PYTHONPATH": str(REPO)})
        children.append(child)
        assert child.stdout.readline() == "held\n"
        return child.pid

    yield hold
    for child in children:
        child.kill()
        child.wait()


def test_a_second_writer_fails_at_once(capsys, tmp_path, articles_path, small_model,
                                       held_by_another_process):
    out = tmp_path / "model"
    small_model.save(out)
    before = read_manifest(out)["files"]
    pid = held_by_another_process(out)
    code, lines = train(capsys, articles_path, out, "--table-size", "5")
    assert code == 2
    assert errors(lines) == [f"recommender train: error: another process (pid {pid}) is "
                             f"writing {out} (it holds {tmp_path / '.model.lock'}); wait for "
                             f"it to finish or choose another path"]
    assert read_manifest(out)["files"] == before
    assert sorted(os.listdir(tmp_path)) == [".model.lock", "model"]  # the holder's lock


def test_a_second_batch_writer_fails_at_once(tmp_path, small_model, held_by_another_process):
    out = tmp_path / "related.jsonl"
    out.write_text("old\n")
    held_by_another_process(out)
    with pytest.raises(BlockingIOError, match=r"^another process \(pid \d+\) is writing "
                                              r".*related\.jsonl \(it holds .*\.related\."
                                              r"jsonl\.lock\); wait for it"):
        score_to_file(small_model, out, k=3)
    assert out.read_text() == "old\n"


def test_the_lock_is_reentrant_in_a_thread_and_exclusive_between_threads(tmp_path):
    out = tmp_path / "out.txt"
    caught = []
    with writer_lock(out) as lock:
        assert lock == lock_path(out) == tmp_path / ".out.txt.lock"
        assert lock.read_text() == f"{os.getpid()}\n"
        with atomic_file(out) as fh:  # the same thread: takes it again
            fh.write("new")

        def other():
            try:
                with writer_lock(out):
                    pass
            except BlockingIOError as exc:
                caught.append(str(exc))

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert caught == [f"another thread of this process is writing {out} (it holds "
                      f"{tmp_path / '.out.txt.lock'}); wait for it to finish or choose another "
                      f"path"]
    assert sorted(os.listdir(tmp_path)) == ["out.txt"]  # the lock file went with the lock


def test_a_killed_writers_lock_file_is_taken_over(tmp_path, small_model):
    out = tmp_path / "model"
    lock_path(out).write_text("999999999\n")  # left by a killed writer: nobody holds it
    small_model.save(out)
    assert sorted(os.listdir(tmp_path)) == ["model"]


# -- leftovers, the swap, recovery ------------------------------------------------------------
def test_regression_killed_runs_leave_temporary_folders_behind(tmp_path, small_model):
    """Regression: the temporary folders and files of killed runs stayed forever."""
    out = tmp_path / "model"
    small_model.save(out)
    for name in (".model.tmp-a1b2c3d4", ".model.old-e5f6g7h8", ".model.tmp-abcd_123"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "idf.npy").write_bytes(b"half")
    (tmp_path / ".model.x1y2z3w4.tmp").write_bytes(b"half")
    kept = [".model.tmp-a1b2c3d4.keep", ".modelx.tmp-a1b2c3d4", ".model.b.tmp-a1b2c3d4",
            ".model.tmp-short", "model.tmp-a1b2c3d4", ".other.old-e5f6g7h8"]
    for name in kept:
        (tmp_path / name).write_text("someone else's")
    small_model.save(out)
    assert sorted(os.listdir(tmp_path)) == sorted(["model", *kept])


def test_regression_killed_batch_runs_leave_temporary_files_behind(tmp_path, small_model):
    out = tmp_path / "related.csv"
    (tmp_path / ".related.csv.k2j4h5g6.tmp").write_text("half")
    (tmp_path / ".related.csv.lock").write_text("")
    (tmp_path / ".related.csv.x.k2j4h5g6.tmp").write_text("another output's")
    assert score_to_file(small_model, out, k=2) == 41
    assert sorted(os.listdir(tmp_path)) == [".related.csv.x.k2j4h5g6.tmp", "related.csv"]


def test_clean_leftovers_keeps_an_old_folder_while_the_path_is_missing(tmp_path):
    (tmp_path / ".m.old-abcdefgh").mkdir()
    (tmp_path / ".m.tmp-abcdefgh").mkdir()
    assert clean_leftovers(tmp_path / "m") == [tmp_path / ".m.tmp-abcdefgh"]
    assert os.listdir(tmp_path) == [".m.old-abcdefgh"]


def test_regression_a_kill_between_the_two_renames_leaves_no_model_at_the_path(
        tmp_path, small_model, model_dir):
    """Regression: a kill between the swap's two renames left no model at the path, the old
    one stranded in a hidden folder. Now the reader and the next writer put it back (and on
    Linux the swap is one step; test_kills.py kills at every step)."""
    out = tmp_path / "model"
    shutil.copytree(model_dir, tmp_path / ".model.old-k1ll3d00")  # the state after the kill
    assert recover_folder(out) is True
    assert ArticleRecommender.load(out).n_articles == 41
    assert os.listdir(tmp_path) == ["model"]
    assert recover_folder(out) is False  # nothing to do: one lstat
    os.rename(out, tmp_path / ".model.old-k1ll3d01")
    small_model.save(out)  # the writer recovers, then replaces
    assert sorted(os.listdir(tmp_path)) == ["model"]


def test_recover_folder_reads_the_first_layout_and_waits_for_a_writer(tmp_path, model_dir,
                                                                      held_by_another_process):
    out = tmp_path / "model"
    (tmp_path / ".model.old-abcdefgh").mkdir()
    shutil.copytree(model_dir, tmp_path / ".model.old-abcdefgh" / "previous")
    pid = held_by_another_process(out)  # a writer mid-swap: it will finish the swap
    assert recover_folder(out) is False and not out.exists()
    os.kill(pid, signal.SIGKILL)
    _wait_gone(pid)
    assert recover_folder(out) is True
    assert ArticleRecommender.load(out).n_articles == 41


# -- workers end with their parent ------------------------------------------------------------
BUSY_FIT = """
import os
from recommender.text import FrenchAnalyzer
from recommender.vectors.counting import count_texts
text = "Le gouvernement annonce une réforme des retraites pour les salariés " * 400
chunks = ([[text, text]] * 20 for _ in range(100_000))
print(os.getpid(), flush=True)
for _ in count_texts(FrenchAnalyzer(), chunks, n_jobs=2):
    pass
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_regression_workers_outlive_a_killed_train():
    """Regression: the worker processes of a parallel fit stayed alive for minutes after a
    SIGKILL of train. They now end within a second or so of their parent."""
    parent = subprocess.Popen([sys.executable, "-c", BUSY_FIT], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, env={**os.environ,
                                                              "PYTHONPATH": str(REPO)})
    try:
        assert int(parent.stdout.readline()) == parent.pid
        workers = _wait_for(lambda: [p for p in _children(parent.pid) if _busy(p)], 2, 60)
    finally:
        parent.kill()
        parent.wait()
    alive = _wait_for(lambda: [p for p in workers if not _gone(p)], 0, 15)
    assert alive == [], f"workers {alive} outlived their parent"


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat and int(stat[1]) == pid:
                found.append(int(entry))
    return found


def _stat(pid: int):
    """(state, ppid, utime) of a process, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], fields[1], int(fields[11])


def _busy(pid: int) -> bool:
    """A worker at work: it has used CPU time (the resource trackers hardly do)."""
    stat = _stat(pid)
    return stat is not None and stat[2] > 50 and b"loky" in _cmdline(pid)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _gone(pid: int) -> bool:
    stat = _stat(pid)
    return stat is None or stat[0] in "ZX"  # a zombie has ended; its reaper may be slow


def _wait_gone(pid: int) -> None:
    _wait_for(lambda: [] if _gone(pid) else [pid], 0, 15)


def _wait_for(probe, n: int, seconds: float) -> list:
    """Poll ``probe()`` until it returns at least (n > 0) or exactly (n == 0) n items."""
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if (len(found) >= n if n else not found) or time.monotonic() > deadline:
            return found
        time.sleep(0.1)

