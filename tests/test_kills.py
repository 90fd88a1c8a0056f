"""Kill tests: SIGKILL of ``recommender train --out`` and ``recommender batch --out`` at
random moments and at every step of their writes; after each kill the old output is whole
or the new one is, and the next run cleans the leftovers and succeeds. The same for the
live changes (``recommender add`` and ``withdraw``): after each kill the folder loads,
every acknowledged change is in it, and the killed change is whole or absent.

The runs are processes forked from a "zygote" (a child Python that imported the package
and ran each writer once, so that a run costs a fork, not the imports). Fault injection
wraps the file-system calls a write makes (``os.open/rename/replace/unlink/...``,
``shutil.rmtree``, ``fcntl.flock``, ``numpy.save``, ``Path.write_text`` and
``_files.exchange``) in the forked run only, and SIGKILLs the run at the Nth of them:
production code has no hook. The default run kills at a handful of the swap's steps; the
``slow`` marker at every step, plus 50 random kills per writer.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import read_manifest
from recommender import ArticleRecommender
from recommender.store import MARKER

REPO = Path(__file__).parents[1]
KILLED = -9

ZYGOTE = r'''
import fcntl, json, os, pathlib, shutil, signal, sys, time, traceback
import numpy
import tqdm
from recommender import _files
from recommender.cli import main
import recommender.batch.score, recommender.model.estimator  # everything, before the forks

# No lock a killed child may hold can be shared with its siblings: tqdm's default lock
# includes a multiprocessing semaphore, shared across fork, and a child killed while holding
# it left every later child waiting forever (a hung slow run). A thread lock is copied per
# fork instead; and no monitor thread may hold it when this process forks.
import threading
tqdm.tqdm.set_lock(threading.RLock())
tqdm.tqdm.monitor_interval = 0

STEPS = [(os, n) for n in ("open", "close", "write", "pwrite", "fsync", "ftruncate", "mkdir",
                           "rmdir", "chmod", "unlink", "rename", "replace")]
STEPS += [(shutil, "rmtree"), (fcntl, "flock"), (numpy, "save"), (pathlib.Path, "write_text"),
          (_files, "exchange")]


def inject(fault, steps, no_exchange, scope, torn=False):
    """Count the steps from the first that touches the folder ``scope`` (names in
    ``steps``); SIGKILL this process at the ``fault``th (with ``torn``, a write there writes
    half its bytes first: a write cut by the kill)."""
    if no_exchange:
        _files.exchange = lambda a, b: False  # a system without renameat2
    for owner, name in STEPS:
        def step(*args, _call=getattr(owner, name),
                 _name=f"{owner.__name__.rsplit('.')[-1]}.{name}", **kw):
            if steps or any(str(a).startswith(scope) for a in args):
                steps.append(_name)
                if len(steps) == fault:
                    if torn and _name == "os.pwrite":
                        _call(args[0], bytes(args[1])[:len(args[1]) // 2], *args[2:])
                    os.kill(os.getpid(), signal.SIGKILL)
            return _call(*args, **kw)
        setattr(owner, name, step)


def child(job):
    fd = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    code, steps = 99, []
    try:
        inject(job.get("fault"), steps, job.get("no_exchange"), job.get("scope", "\0"),
               job.get("torn"))
        code = main(job["argv"])
        if job.get("steps"):
            with open(job["steps"], "w") as fh:
                json.dump(steps, fh)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run(jobs):
    started = time.monotonic()
    pids = []
    for job in jobs:
        pid = os.fork()
        if pid == 0:
            child(job)
        pids.append(pid)
    kill_after = jobs[0].get("kill_after")
    if kill_after is not None:
        time.sleep(kill_after)
        os.kill(pids[0], signal.SIGKILL)  # a zombie by then: no error
    statuses = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    return {"statuses": statuses, "seconds": time.monotonic() - started}


# warm up, in this process: every module imported, numba's kernels loaded, for every fork
saved, quiet = os.dup(2), os.open(os.devnull, os.O_WRONLY)
os.dup2(quiet, 2)
for argv in json.loads(sys.argv[1]):
    assert main(argv) == 0
os.dup2(saved, 2)
print("ready", flush=True)
for line in sys.stdin:
    print(json.dumps(run(json.loads(line))), flush=True)
'''


class Zygote:
    """A process that forks runs of the command line (see the module's docstring)."""

    def __init__(self, folder: Path, articles_path: Path):
        self.folder = folder
        warm = [["train", str(articles_path), "--out", str(folder / "warm"), "--min-df", "2",
                 "-q", "--jobs", "1"],
                ["batch", str(folder / "warm"), "--out", str(folder / "warm.jsonl"), "-q"]]
        self.process = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE, json.dumps(warm)], cwd=REPO, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(REPO)})
        assert self.process.stdout.readline() == "ready\n"
        self.n_runs = 0

    def run(self, *argvs, **job) -> tuple[list[int], list[str], float]:
        """Run these command lines at once -> (exit statuses, their logs, seconds). ``job``:
        ``fault`` (kill at that step), ``steps`` (a file to record them in), ``scope`` (the
        folder whose first touch starts the count), ``no_exchange``, ``kill_after``
        (seconds)."""
        logs = [self.folder / f"run{self.n_runs}-{i}.log" for i in range(len(argvs))]
        self.n_runs += 1
        jobs = [{"argv": [str(a) for a in argv], "log": str(log), "scope": str(self.folder),
                 **job}
                for argv, log in zip(argvs, logs)]
        self.process.stdin.write(json.dumps(jobs) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        texts = [log.read_text() if log.exists() else "" for log in logs]
        return answer["statuses"], texts, answer["seconds"]

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def zygote(tmp_path_factory, articles_path):
    process = Zygote(tmp_path_factory.mktemp("zygote"), articles_path)
    yield process
    process.close()


# -- the writers and what they leave ----------------------------------------------------------
class Writer:
    """One writer: its command line, the old and the new output, and their checks."""

    def __init__(self, zygote, work: Path, articles_path: Path, kind: str):
        self.zygote, self.work, self.kind = zygote, work, kind
        self.base = work / "base"
        self.base.mkdir(parents=True)
        self.corpus = articles_path
        if kind == "batch":
            self.model = self.base / "model"
            assert zygote.run(self.train_argv(self.model, "--no-max-age"))[0] == [0]
        self.old = self.reference("old", *self.old_args)
        self.new = self.reference("new")

    old_args = ("--table-size", "10")

    @property
    def out(self) -> Path:
        return self.work / "out" / ("related.jsonl" if self.kind == "batch" else "model")

    def train_argv(self, out, *more):
        return ["train", self.corpus, "--out", out, "--min-df", "2", "-q", "--jobs", "1", *more]

    def argv(self, out=None, *more):
        out = self.out if out is None else out
        if self.kind == "batch":
            return ["batch", self.model, "--out", out, "-q", "-k", "3" if more else "5"]
        return self.train_argv(out, *more)

    def reference(self, name, *more):
        """The output of a whole run: the bytes of the file, or the model's file list."""
        out = self.base / (name + (".jsonl" if self.kind == "batch" else ""))
        assert self.zygote.run(self.argv(out, *more))[0] == [0]
        return out.read_bytes() if self.kind == "batch" else read_manifest(out)["files"]

    def reset(self, *, leftovers: bool = False) -> None:
        """The old output at ``out``; with ``leftovers`` keep what killed runs left."""
        folder = self.out.parent
        if not leftovers and folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(exist_ok=True)
        if self.kind == "batch":
            (folder / "tmp").write_bytes(self.old)
            os.replace(folder / "tmp", self.out)
            return
        if self.out.exists():
            shutil.rmtree(self.out)
        shutil.copytree(self.base / "old", folder / "tmp")
        os.rename(folder / "tmp", self.out)

    def state(self) -> str:
        """'old' or 'new'; fails unless the output is one of them, whole."""
        if self.kind == "batch":
            data = self.out.read_bytes()
            assert data in (self.old, self.new), "a half-written output"
            return "old" if data == self.old else "new"
        found = self.out
        if not found.exists():  # killed between the two renames: the old one whole beside it
            olds = sorted(self.out.parent.glob(".model.old-*"))
            assert len(olds) == 1, f"no model at {self.out}, nor one old folder: {olds}"
            found = olds[0]
        ArticleRecommender.load(found)  # every file against its checksum
        files = read_manifest(found)["files"]
        assert files in (self.old, self.new), "a model that is neither the old nor the new"
        assert sorted(os.listdir(found)) == sorted([*files, "manifest.json", MARKER])
        return "old" if files == self.old else "new"

    def after_a_kill(self) -> str:
        """Check the killed run's output, then that the next run cleans up and succeeds."""
        state = self.state()
        statuses, logs, _ = self.zygote.run(self.argv())
        assert statuses == [0], logs
        assert self.state() == "new"
        assert os.listdir(self.out.parent) == [self.out.name], "leftovers"
        return state

    def steps(self, **job) -> list[str]:
        """The file-system steps of one whole run, in order."""
        self.reset()
        record = self.work / "steps.json"
        assert self.zygote.run(self.argv(), steps=str(record), scope=str(self.out.parent),
                               **job)[0] == [0]
        return json.loads(record.read_text())


@pytest.fixture(scope="module")
def writers(zygote, tmp_path_factory, articles_path):
    root = tmp_path_factory.mktemp("kills")
    return {kind: Writer(zygote, root / kind, articles_path, kind) for kind in ("train", "batch")}


def kill_at(writer, fault: int, **job) -> str:
    writer.reset()
    statuses, logs, _ = writer.zygote.run(writer.argv(), fault=fault,
                                          scope=str(writer.out.parent), **job)
    assert statuses == [KILLED], logs
    return writer.after_a_kill()


# -- kills at chosen steps (default run) and at every step (slow) -----------------------------
VARIANTS = {"train": ("train", {}), "train without exchange": ("train", {"no_exchange": True}),
            "batch": ("batch", {})}


def swap_steps(steps: list[str]) -> list[int]:
    """The steps (1-based) of the swap: from the last file write on."""
    last_write = max(i for i, s in enumerate(steps) if s in ("numpy.save", "os.write",
                                                             "Path.write_text"))
    return [i + 1 for i in range(last_write + 1, len(steps))
            if steps[i] in ("_files.exchange", "os.rename", "os.replace", "shutil.rmtree")]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_kill_at_each_step_of_the_swap(writers, variant):
    """SIGKILL just before each rename, exchange and removal of the swap (with renameat2 and
    with the two-rename fallback): the old output or the new one, whole, and the next run
    succeeds and leaves nothing behind."""
    kind, job = VARIANTS[variant]
    writer = writers[kind]
    chosen = swap_steps(writer.steps(**job))
    assert chosen, "no swap step found"
    seen = [kill_at(writer, n, **job) for n in chosen]
    assert seen[0] == "old"  # before the first step of the swap, the old one is there


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_kill_at_every_step_of_the_write(writers, variant):
    """SIGKILL before every file-system step of a whole run (lock, cleaning, temporary
    folder, each file, marker, manifest, swap, removal of the old, unlock)."""
    kind, job = VARIANTS[variant]
    writer = writers[kind]
    steps = writer.steps(**job)
    seen = {kill_at(writer, n, **job) for n in range(1, len(steps) + 1)}
    assert seen == {"old", "new"}


# -- random kills (slow) ----------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["train", "batch"])
def test_random_kills(writers, kind):
    """50 SIGKILLs at random moments of a run (uniform over its duration, fixed seed); the
    leftovers of each killed run are left for the next runs to clean."""
    writer = writers[kind]
    rng = random.Random(11)
    writer.reset()
    durations = [writer.zygote.run(writer.argv())[2] for _ in range(3)]
    longest = max(durations)
    states = []
    for _ in range(50):
        writer.reset(leftovers=True)
        statuses, logs, _ = writer.zygote.run(writer.argv(), kill_after=rng.uniform(0, longest))
        assert statuses[0] in (KILLED, 0), logs
        states.append(writer.state())
    writer.after_a_kill()
    assert "old" in states


# -- two writers at once ----------------------------------------------------------------------
@pytest.mark.parametrize("rounds", [pytest.param(2, id="2"),
                                    pytest.param(20, id="20", marks=pytest.mark.slow)])
def test_two_trains_to_one_folder_at_once(writers, rounds):
    """Two ``train --out`` to one folder at once: each succeeds or fails in one line naming
    the other, one whole model is left, and nothing else."""
    writer = writers["train"]
    a, b = writer.argv(None, "--table-size", "10"), writer.argv()
    for _ in range(rounds):
        writer.reset()
        statuses, logs, _ = writer.zygote.run(a, b)
        assert 0 in statuses and set(statuses) <= {0, 2}, logs
        for status, log in zip(statuses, logs):
            errors = [line for line in log.splitlines() if ": error: " in line]
            if status == 0:
                assert errors == [], log
            else:
                assert len(errors) == 1, log
                assert errors[0].startswith("recommender train: error: another process")
                assert f" is writing {writer.out} " in errors[0]
        writer.state()
        assert os.listdir(writer.out.parent) == ["model"]



# -- live changes: add and withdraw ------------------------------------------------------------
class LiveFolder:
    """A model folder changed by ``recommender add`` and ``withdraw`` runs, and the changes
    those runs acknowledged (exit status 0)."""

    def __init__(self, zygote, work: Path, articles_path: Path):
        self.zygote, self.work = zygote, work
        self.base = work / "base"
        assert zygote.run(["train", articles_path, "--out", self.base, "--min-df", "2", "-q",
                           "--jobs", "1"])[0] == [0]
        self.sample = [json.loads(line) for line in articles_path.read_text("utf-8").splitlines()]
        self.out = work / "live" / "model"
        self.n_batches = 0

    def reset(self) -> None:
        if self.out.parent.exists():
            shutil.rmtree(self.out.parent)
        self.out.parent.mkdir(parents=True)
        shutil.copytree(self.base, self.out)
        self.added, self.withdrawn, self.maybe = set(), set(), set()

    def batch(self, size: int = 3) -> tuple[list, list[str]]:
        """The command line that adds ``size`` new articles, and their ids."""
        self.n_batches += 1
        records = [{**self.sample[(self.n_batches * size + j) % len(self.sample)],
                    "id": f"new{self.n_batches}-{j}"} for j in range(size)]
        path = self.work / f"batch{self.n_batches}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        return ["add", self.out, path, "-q"], [r["id"] for r in records]

    def withdrawal(self) -> tuple[list, list[str]]:
        """The command line that withdraws one acknowledged added article (or a base one)."""
        gone = self.withdrawn | self.maybe
        left = sorted(self.added - gone) or [r["id"] for r in self.sample if r["id"] not in gone]
        return ["withdraw", self.out, left[0], "-q"], [left[0]]

    def run(self, change: str, **job) -> int:
        argv, ids = self.batch() if change == "add" else self.withdrawal()
        statuses, logs, _ = self.zygote.run(argv, scope=str(self.out.parent), **job)
        assert statuses[0] in (0, KILLED), logs
        if statuses[0] == 0:
            (self.added if change == "add" else self.withdrawn).update(ids)
            self.check()
        else:  # the killed change is whole or absent, never half
            self.maybe.update(ids)
            present = [i in self.check() for i in ids]
            assert all(present) or not any(present), (change, ids, present)
        return statuses[0]

    def check(self) -> set:
        """The folder loads; every acknowledged change is in it. Returns the ids served."""
        model = ArticleRecommender.load(self.out)
        known = self.added | self.withdrawn | self.maybe
        served = {i for i in known if i in model}
        assert self.added - self.withdrawn - self.maybe <= served, "an acknowledged add lost"
        assert not (self.withdrawn - self.maybe) & served, "an acknowledged withdrawal lost"
        return served

    def steps(self, change: str) -> list[str]:
        """The file-system steps of one whole ``change`` run, in order."""
        record = self.work / "steps.json"
        argv, ids = self.batch() if change == "add" else self.withdrawal()
        assert self.zygote.run(argv, steps=str(record), scope=str(self.out.parent))[0] == [0]
        (self.added if change == "add" else self.withdrawn).update(ids)
        return json.loads(record.read_text())


@pytest.fixture(scope="module")
def live_folder(zygote, tmp_path_factory, articles_path):
    return LiveFolder(zygote, tmp_path_factory.mktemp("live"), articles_path)


def commit_steps(steps: list[str]) -> list[int]:
    """The steps (1-based) of the log's commit: from the lock to the last fsync."""
    first = steps.index("fcntl.flock")
    last = max(i for i, s in enumerate(steps) if s == "os.fsync")
    return list(range(first + 1, last + 2))


@pytest.mark.parametrize("change", ["add", "withdraw"])
@pytest.mark.parametrize("every", [pytest.param(False, id="commit"),
                                   pytest.param(True, id="every", marks=pytest.mark.slow)])
def test_a_kill_at_each_step_of_a_change(live_folder, change, every):
    """SIGKILL before each file-system call of the log's commit (default run), or of the
    whole run (slow): the acknowledged changes stay, the killed one is whole or absent, and
    the next change succeeds."""
    live_folder.reset()
    live_folder.steps("add")  # the log exists: the runs below append to it
    steps = live_folder.steps(change)
    assert {"os.pwrite", "os.fsync", "fcntl.flock"} <= set(steps), steps
    chosen = range(1, len(steps) + 1) if every else commit_steps(steps)
    for n in chosen:
        assert live_folder.run(change, fault=n) == KILLED
        assert live_folder.run(change) == 0
    # a kill in the middle of the frame's write: half of it on disk, cut by the next change
    write = steps.index("os.pwrite") + 1
    log = live_folder.out / "changes.log"
    before = log.stat().st_size
    changes = ArticleRecommender.load(live_folder.out).live_status()["changes"]
    assert live_folder.run(change, fault=write, torn=True) == KILLED
    torn = log.stat().st_size
    assert torn > before  # half a frame on disk, ignored:
    assert ArticleRecommender.load(live_folder.out).live_status()["changes"] == changes
    assert live_folder.run(change) == 0 and log.stat().st_size > torn


@pytest.mark.slow
def test_random_kills_of_add_and_withdraw(live_folder):
    """60 SIGKILLs of add and withdraw runs at random moments (uniform over a run, fixed
    seed), with acknowledged runs between them: nothing acknowledged is lost, nothing is
    half applied."""
    rng = random.Random(13)
    live_folder.reset()
    longest = max(live_folder.zygote.run(live_folder.batch()[0])[2] for _ in range(3))
    killed = 0
    for i in range(60):
        change = "add" if i % 3 else "withdraw"
        killed += live_folder.run(change, kill_after=rng.uniform(0, longest)) == KILLED
        if i % 5 == 0:
            live_folder.run("add")
    assert killed >= 30, f"only {killed} of 60 runs were killed before they ended"
    assert live_folder.run("add") == 0
