"""Lists in a database: a full batch into SQLite and into MariaDB, and a sync after live adds.

For each of ``--repeat`` runs (medians printed at the end):

- ``write_lists`` of every article of MODEL_DIR (top ``-k``) into a new SQLite file, and
  into MariaDB (a table already there: the run replaces it), timed: seconds and rows/s;
- on a fresh copy of MODEL_DIR (the folder itself is never changed): the full set written
  to both databases, then the articles of ``--new`` added (``model.add``, one change of
  the log), then ``sync_lists`` timed on each database, with the lists it rewrote and the
  oracle's count of the lists that changed (``recommend_batch`` of every served article
  before and after the adds, diffed: other ids or order, or a score moved by more than
  1e-6); the table is then checked equal to the model's lists;
- then ``--withdraw`` articles withdrawn (drawn with a fixed seed) and the same again: a
  withdrawal changes the lists that held the article (refilled), and deletes its own.

MariaDB: ``--mysql-url URL``, or else a server of Debian's ``mariadbd`` started here in a
temporary folder on a unix socket (networking off, the server's default settings:
``innodb_flush_log_at_trx_commit=1``, a 128 MiB buffer pool), stopped at the end.

    python scripts/bench_sql.py /root/s13/model34k --new /root/s13/new1000.jsonl
"""

from __future__ import annotations

import argparse
import getpass
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from recommender import ArticleRecommender, read_corpus
from recommender.batch.database import read_lists, write_lists
from recommender.batch.sync import SCORE_TOLERANCE, sync_lists


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="model folder (copied before any change)")
    parser.add_argument("--new", required=True, help="articles to add before the sync (.jsonl)")
    parser.add_argument("--mysql-url", help="a MariaDB/MySQL URL (default: start a server here)")
    parser.add_argument("--withdraw", type=int, default=100,
                        help="articles withdrawn before a second sync (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("-k", type=int, default=10)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    new = list(read_corpus(args.new))
    with tempfile.TemporaryDirectory(prefix="bench_sql.") as scratch, \
            mariadb(args.mysql_url, Path(scratch)) as mysql_url:
        scratch = Path(scratch)
        model = ArticleRecommender.load(args.model)
        model.recommend_batch([str(model.served_ids()[0])], args.k)  # pages in
        results: dict[str, list] = {}
        for run in range(1, args.repeat + 1):
            urls = {"sqlite": f"sqlite:///{scratch / f'batch{run}.db'}", "mariadb": mysql_url}
            for kind, url in urls.items():
                started = time.perf_counter()
                rows = write_lists(model, url, k=args.k)
                seconds = time.perf_counter() - started
                results.setdefault(f"batch {kind}", []).append((seconds, rows))
                print(f"run {run}: full batch into {kind}: {rows:,} rows in {seconds:.2f} s, "
                      f"{rows / seconds:,.0f} rows/s", flush=True)
            for kind, figures in sync_run(args, scratch, run, new, mysql_url).items():
                results.setdefault(f"sync {kind}", []).append(figures)
        print(f"\nmedians of {args.repeat} runs (k={args.k}, {len(model.served_ids()):,} "
              f"articles, {len(new):,} added before the sync):")
        for name, runs in results.items():
            seconds = statistics.median(r[0] for r in runs)
            speed = statistics.median(r[1] / r[0] for r in runs)
            line = (f"  {name:34} {seconds:6.2f} s  {each(runs, 1):>9} rows  {speed:>9,.0f} "
                    f"rows/s")
            if name.startswith("sync"):
                line += (f"  ({each(runs, 2)} lists rewritten, oracle {each(runs, 3)} changed; "
                         f"{each(runs, 4)} rows deleted)")
            print(line)


def each(runs, field: int) -> str:
    """The runs' values of ``field``: one when they agree, else all of them."""
    values = [f"{r[field]:,}" for r in runs]
    return values[0] if len(set(values)) == 1 else "/".join(values)


def sync_run(args, scratch: Path, run: int, new, mysql_url) -> dict:
    """A sync after the adds, then one after the withdrawals, on each database; ``{name:
    (seconds, rows written, lists rewritten, oracle count, rows deleted)}``."""
    folder = scratch / f"model{run}"
    shutil.copytree(args.model, folder)
    model = ArticleRecommender.load(folder)
    urls = {"sqlite": f"sqlite:///{scratch / f'sync{run}.db'}", "mariadb": mysql_url}
    table = f"sync{run}"
    for url in urls.values():
        write_lists(model, url, k=args.k, table=table)
    out = {}
    for what, change in (("adds", lambda: model.add(new)),
                         ("withdrawals", lambda: model.withdraw(withdrawn))):
        withdrawn = [str(i) for i in np.random.default_rng(run).choice(
            model.served_ids(), args.withdraw, replace=False)]
        before = lists_of(model, args.k)
        started = time.perf_counter()
        change()
        count = len(new) if what == "adds" else args.withdraw
        print(f"run {run}: {count:,} {what}: {time.perf_counter() - started:.2f} s", flush=True)
        after = lists_of(model, args.k)
        oracle = sum(differs(before.get(i, ([], [])), lists) for i, lists in after.items())
        for kind, url in urls.items():
            report = sync_lists(model, url, table=table)
            assert report.lists_changed == oracle, (report, oracle)
            assert report.lists_removed == (0 if what == "adds" else
                                            sum(bool(before[i][0]) for i in withdrawn))
            got = read_lists(url, table=table)
            want = {i: lists for i, lists in after.items() if lists[0]}
            assert got.keys() == want.keys() and not any(differs(got[i], want[i]) for i in want)
            out[f"{kind} after {count:,} {what}"] = (
                report.elapsed, report.rows_written, report.lists_changed, oracle,
                report.rows_deleted)
            print(f"run {run}: sync into {kind} after the {what}: {report.lists_changed:,} "
                  f"lists rewritten (oracle: {oracle:,} changed), {report.lists_removed:,} "
                  f"removed, {report.rows_written:,} rows written, {report.rows_deleted:,} "
                  f"deleted, in {report.elapsed:.2f} s", flush=True)
    shutil.rmtree(folder)
    return out


def lists_of(model, k) -> dict:
    """``{article_id: (related_ids, scores)}`` of every served article."""
    ids = [str(i) for i in model.served_ids()]
    out = {}
    for start in range(0, len(ids), 4096):
        part = ids[start:start + 4096]
        related, scores = model.recommend_batch(part, k)
        for source, row_ids, row_scores in zip(part, related, scores):
            found = np.isfinite(row_scores)
            out[source] = (row_ids[found].tolist(), row_scores[found].tolist())
    return out


def differs(old, new) -> bool:
    return list(old[0]) != list(new[0]) or any(abs(a - b) > SCORE_TOLERANCE
                                               for a, b in zip(old[1], new[1]))


@contextmanager
def mariadb(url, scratch: Path):
    """``url``, or the URL of a MariaDB server started in ``scratch`` for the block."""
    if url:
        yield url
        return
    data, sock = scratch / "mariadb", scratch / "mysqld.sock"
    user = getpass.getuser()
    subprocess.run(["mariadb-install-db", "--no-defaults", "--auth-root-authentication-method="
                    "normal", f"--datadir={data}", f"--user={user}", "--skip-test-db"],
                   check=True, capture_output=True)
    server = subprocess.Popen(["/usr/sbin/mariadbd", "--no-defaults", f"--datadir={data}",
                               f"--socket={sock}", "--skip-networking", f"--user={user}",
                               f"--log-error={scratch / 'mariadb.log'}",
                               f"--pid-file={scratch / 'mariadb.pid'}"])
    try:
        url = f"mysql+pymysql://root@localhost/bench?unix_socket={sock}"
        engine = sa.create_engine(url.replace("/bench?", "/?"))
        for _ in range(600):
            try:
                with engine.connect() as conn:
                    conn.exec_driver_sql("CREATE DATABASE bench CHARACTER SET utf8mb4")
                break
            except sa.exc.OperationalError:
                if server.poll() is not None:
                    sys.exit(f"mariadbd stopped: see {scratch / 'mariadb.log'}")
                time.sleep(0.1)
        engine.dispose()
        with sa.create_engine(url).connect() as conn:
            version = conn.exec_driver_sql("SELECT VERSION()").scalar()
        print(f"MariaDB {version} on {sock}", flush=True)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=120)


if __name__ == "__main__":
    main()
