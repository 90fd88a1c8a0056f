"""Kill tests of the database writers: SIGKILL of ``write_lists`` (a batch) and of
``sync_lists`` at random points, on SQLite and (when ``RECOMMENDER_TEST_MYSQL_URL`` is set)
on MariaDB, while a reader process polls the table all along.

Two model folders, A (the sample model) and B (A with three articles added and two
withdrawn), give two sets of lists. Each round writes the other set than the table holds,
by a batch or a sync, and kills the writer: at the Nth statement or commit it sends to the
database (a hook in the forked writer only: production code has none; N drawn over all the
statements of such a run, the swap's included) or after a random delay. The writer runs
with small chunks and a few milliseconds per statement, so that a run has dozens of points
to die at and the reader polls inside them. After each kill the table holds exactly one
complete set, the old one or the new one, with the state row of that set; every poll of
the reader (one read transaction: the lists and the state row) saw one complete set and its
own version, never a mix; a killed writer's leftovers go with the next run.

The writers are processes forked from a "zygote" (a child Python that imported the package
and loaded both models once), as in tests/test_kills.py, so that a run costs a fork.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recommender import ArticleRecommender
from recommender.batch.database import read_lists, read_state

pytestmark = pytest.mark.slow

REPO = Path(__file__).parents[2]
KILLED = -9
K = 5
#: Kills of each writer (batch, sync) on each database.
KILLS = 15

ZYGOTE = r'''
import json, os, signal, sys, time, traceback
import sqlalchemy, sqlalchemy.dialects.mysql.pymysql, pymysql
from sqlalchemy.engine import Connection, Engine
from recommender import ArticleRecommender
from recommender.batch import database, sync
from recommender.batch.database import write_lists
from recommender.batch.sync import sync_lists

config = json.loads(sys.argv[1])
# small chunks: many statements, so many points to die at
database.CHUNK, sync._IN, sync._ROWS = 7, 5, 7
models = {name: ArticleRecommender.load(path) for name, path in config["folders"].items()}
for model in models.values():
    model.recommend_batch([str(model.served_ids()[0])], 5)  # warm, before the forks
# the statements and commits, and the disposal of the engine once all is done (a kill there:
# after the last commit: the new set must be whole)
STEPS = [(Connection, "execute"), (Connection, "exec_driver_sql"), (Connection, "commit"),
         (Engine, "dispose")]


def inject(kill_at, delay, count):
    """Count the steps; SIGKILL this process at the ``kill_at``th ("end": at the
    disposal of the engine)."""
    for owner, name in STEPS:
        def step(self, *args, _call=getattr(owner, name), _name=name, **kw):
            count[0] += 1
            if count[0] == kill_at or (kill_at == "end" and _name == "dispose"):
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(delay)
            return _call(self, *args, **kw)
        setattr(owner, name, step)


def child(job):
    fd = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    code, count = 99, [0]
    try:
        inject(job.get("kill_at"), job["delay"], count)
        model = models[job["folder"]]
        if job["op"] == "batch":
            write_lists(model, config["url"], k=config["k"], table=config["table"])
        else:
            sync_lists(model, config["url"], table=config["table"])
        with open(job["log"] + ".steps", "w") as fh:
            fh.write(str(count[0]))
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


print("ready", flush=True)
for line in sys.stdin:
    job = json.loads(line)
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        child(job)
    if job.get("kill_after") is not None:
        time.sleep(job["kill_after"])
        os.kill(pid, signal.SIGKILL)  # a zombie by then if it finished: no error
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    print(json.dumps({"status": status, "seconds": time.monotonic() - started}), flush=True)
'''

READER = r'''
import hashlib, json, os, sys, time
config = json.loads(sys.argv[1])
table = config["table"]
LISTS = f"SELECT article_id, {config['rank']}, related_id FROM {table}"
STATE = f"SELECT model_version FROM {table}_state WHERE id = 1"
if config["kind"] == "sqlite":
    import sqlite3
    conn = sqlite3.connect(config["path"], timeout=30, isolation_level=None)
    begin, retry = "BEGIN", ("database is locked",)
else:
    import pymysql
    from sqlalchemy.engine import make_url
    url = make_url(config["url"])
    conn = pymysql.connect(user=url.username, password=url.password or "", host=url.host,
                           port=url.port or 3306, database=url.database,
                           unix_socket=url.query.get("unix_socket"), charset="utf8mb4")
    begin = "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"
    retry = ("(1412,", "(1213,", "(1205,")  # table definition changed, deadlock, lock wait
cursor = conn.cursor()


def poll():
    cursor.execute(begin)
    try:
        cursor.execute(LISTS)
        rows = sorted(cursor.fetchall())
        cursor.execute(STATE)
        state = cursor.fetchall()
    finally:
        cursor.execute("COMMIT")
    digest = hashlib.sha1(json.dumps(rows).encode()).hexdigest()
    return digest, [r[0] for r in state]


seen, errors, polls = {}, {}, 0
while not os.path.exists(config["stop"]):
    try:
        digest, versions = poll()
        key = json.dumps([digest, versions])
        seen[key] = seen.get(key, 0) + 1
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        kind = "retry" if text.split(": ", 1)[1].startswith(retry) else text[:200]
        errors[kind] = errors.get(kind, 0) + 1
    polls += 1
    time.sleep(0.002)
with open(config["out"], "w") as fh:
    json.dump({"seen": seen, "errors": errors, "polls": polls}, fh)
'''


def digest_of(lists: dict) -> str:
    """The reader's digest of a set: its sorted ``(article_id, rank, related_id)`` rows."""
    rows = sorted([source, rank, other] for source, (ids, _) in lists.items()
                  for rank, other in enumerate(ids, start=1))
    return hashlib.sha1(json.dumps(rows).encode()).hexdigest()


@pytest.fixture(scope="module")
def folders(tmp_path_factory, model_dir, articles):
    """Model folders A (the sample) and B (three articles added, two withdrawn)."""
    root = tmp_path_factory.mktemp("kills")
    a, b = root / "A", root / "B"
    shutil.copytree(model_dir, a)
    shutil.copytree(model_dir, b)
    model = ArticleRecommender.load(b)
    model.add([dataclasses.replace(x, id=f"NEW-{i}", related=(), related_at=None)
               for i, x in enumerate(articles[:3])])
    model.withdraw(["CNT000001rdIhh", "CNT000001r2yqP"])
    return {"A": str(a), "B": str(b)}


def test_kills_of_batch_and_sync_leave_one_whole_set_and_readers_see_only_whole_sets(
        db, folders, tmp_path, oracle, same_lists):
    url, table, kind = db
    path = url[len("sqlite:///"):] if kind == "sqlite" else None
    models = {name: ArticleRecommender.load(folder) for name, folder in folders.items()}
    sets = {name: oracle(model, K) for name, model in models.items()}
    versions = {name: model.version() for name, model in models.items()}
    digests = {name: digest_of(lists) for name, lists in sets.items()}
    assert digests["A"] != digests["B"] and versions["A"] != versions["B"]

    config = {"folders": folders, "url": url, "table": table, "k": K}
    zygote = subprocess.Popen([sys.executable, "-c", ZYGOTE, json.dumps(config)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
    reader = None
    try:
        assert zygote.stdout.readline().strip() == "ready"

        def run(job):
            zygote.stdin.write(json.dumps({"delay": 0.004, **job,
                                           "log": str(tmp_path / "run.log")}) + "\n")
            zygote.stdin.flush()
            done = json.loads(zygote.stdout.readline())
            steps = tmp_path / "run.log.steps"
            done["steps"] = int(steps.read_text()) if steps.exists() else None
            steps.unlink(missing_ok=True)
            if done["status"] not in (0, KILLED):
                pytest.fail(f"{job}: {done}\n{(tmp_path / 'run.log').read_text()}")
            return done

        def check(expected: tuple) -> str:
            """The table holds one of the ``expected`` sets whole, with its state row."""
            got = read_lists(url, table=table)
            name = next((n for n in expected if digest_of(got) == digests[n]), None)
            assert name is not None, f"the table holds neither set of {expected}"
            same_lists(got, sets[name])
            assert read_state(url, table=table)["model_version"] == versions[name]
            return name

        full = {op: run({"op": op, "folder": name}) for op, name in (("batch", "A"),
                                                                     ("sync", "B"))}
        assert check(("B",)) == "B"  # both whole runs did their work
        stop, out = tmp_path / "stop", tmp_path / "reader.json"
        reader = subprocess.Popen([sys.executable, "-c", READER, json.dumps({
            "kind": kind, "path": str(path), "url": url, "table": table,
            "rank": '"rank"' if kind == "sqlite" else "`rank`", "stop": str(stop),
            "out": str(out)})], cwd=REPO)
        time.sleep(0.3)
        rng = random.Random(14)
        kills, current, rounds = {"batch": 0, "sync": 0}, "B", 0
        outcomes = {"old": 0, "new": 0}
        while min(kills.values()) < KILLS:
            rounds += 1
            assert rounds < 8 * KILLS, f"too few kills landed: {kills}"
            op = rng.choice([op for op, n in kills.items() if n < KILLS])
            target = "A" if current == "B" else "B"
            job = {"op": op, "folder": target}
            if kills[op] in (0, 5):  # after the last commit: the new set must be whole
                job["kill_at"] = "end"
            elif rng.random() < 0.7:
                job["kill_at"] = rng.randint(1, full[op]["steps"])
            else:  # a random moment, maybe past the end of the run
                job["kill_after"] = rng.uniform(0, 1.2 * full[op]["seconds"])
            done = run(job)
            killed = done["status"] == KILLED
            kills[op] += killed
            before, current = current, check((current, target) if killed else (target,))
            if killed:
                outcomes["old" if current == before else "new"] += 1
        for op in ("batch", "sync"):  # whole runs after all those kills: clean and right
            target = "A" if current == "B" else "B"
            assert run({"op": op, "folder": target, "delay": 0})["status"] == 0
            current = check((target,))
        stop.touch()
        reader.wait(timeout=60)
    finally:
        zygote.stdin.close()
        zygote.wait(timeout=60)
        if reader is not None and reader.poll() is None:
            reader.kill()
    seen = json.loads(out.read_text())
    allowed = {json.dumps([digests[n], [versions[n]]]) for n in ("A", "B")}
    assert set(seen["seen"]) <= allowed, (set(seen["seen"]) - allowed, seen["errors"])
    assert set(seen["errors"]) <= {"retry"}, seen["errors"]
    assert len(seen["seen"]) == 2 and seen["polls"] > 500, seen  # it read both sets, often
    assert sum(kills.values()) >= 2 * KILLS and min(outcomes.values()) >= 2, outcomes
