"""``sync_lists`` and ``recommender sync``: after live adds, withdrawals and pins, the table
equals a fresh batch of the changed model, and only the lists that changed were rewritten
(counted against the oracle: ``recommend_batch`` before and after, diffed). On SQLite and,
when ``RECOMMENDER_TEST_MYSQL_URL`` is set, on MariaDB."""

from __future__ import annotations

import contextlib
import dataclasses
import threading

import pytest

from recommender import ArticleRecommender
from recommender.batch.database import read_lists, read_state, write_lists
from recommender.batch.sync import SyncReport, sync_lists
from recommender.cli import main
from recommender.errors import ParameterError

WITHDRAWN = ["CNT000001rdIhh", "CNT000001r2yqP"]


def copies(articles, n=3):
    """New articles: copies of sample ones under new ids (they enter those articles' lists)."""
    return [dataclasses.replace(a, id=f"NEW-{i}", related=(), related_at=None)
            for i, a in enumerate(articles[:n])]


def changed_lists(before: dict, after: dict, served) -> tuple[int, int]:
    """The oracle's count: ``(lists that differ among the served articles, lists of
    articles no longer served)``; a list is its ids in order and its scores (to 1e-6)."""
    def differ(a, b):
        return a[0] != b[0] or any(abs(x - y) > 1e-6 for x, y in zip(a[1], b[1]))
    served = set(served)
    changed = sum(differ(before.get(i, ([], [])), after.get(i, ([], []))) for i in served)
    return changed, len(set(before) - served)


def test_sync_after_adds_and_withdrawals_is_a_fresh_batch_and_touches_only_what_changed(
        db, live_dir, articles, oracle, same_lists, tmp_path):
    model = ArticleRecommender.load(live_dir)
    write_lists(model, db.url, k=5, table=db.table)
    before = oracle(model, 5)
    other = ArticleRecommender.load(live_dir)  # another process changes the folder
    other.add(copies(articles))
    other.withdraw(WITHDRAWN)

    report = sync_lists(model, db.url, table=db.table)  # refreshes the model first
    after = oracle(model, 5)
    served = [str(i) for i in model.served_ids()]
    assert len(served) == 42
    changed, removed = changed_lists(before, after, served)
    assert 0 < changed < len(served) - 10  # the point: most lists stay as they were
    assert (report.lists_changed, report.lists_removed) == (changed, removed) == (changed, 2)
    differing = [i for i in served if before.get(i) != after.get(i)]
    assert report.rows_written == sum(len(after.get(i, ((),))[0]) for i in differing)
    assert report.rows_deleted == (sum(len(before.get(i, ((),))[0]) for i in differing)
                                   + sum(len(before[i][0]) for i in WITHDRAWN))
    assert not report.full and report.articles == 42
    assert (report.position, report.log_offset) == (2, model.log_offset_)
    assert report.model_version == model.version()

    got = read_lists(db.url, table=db.table)
    same_lists(got, after)
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    write_lists(model, fresh, k=5)
    same_lists(got, read_lists(fresh))
    state = read_state(db.url, table=db.table)
    assert (state["changes"], state["log_offset"], state["model_version"], state["written_by"],
            state["articles"], state["k"]) == (2, model.log_offset_, model.version(), "sync",
                                                42, 5)


def test_a_second_sync_writes_nothing(db, live_dir, articles):
    model = ArticleRecommender.load(live_dir)
    write_lists(model, db.url, k=4, table=db.table)
    model.add(copies(articles, 1))
    assert sync_lists(model, db.url, table=db.table).lists_changed > 0
    again = sync_lists(model, db.url, table=db.table)
    assert again[:4] == (0, 0, 0, 0) and again.position == 1 and not again.full


def test_a_sync_without_a_table_writes_the_whole_set(db, live_dir, oracle, same_lists):
    model = ArticleRecommender.load(live_dir)
    report = sync_lists(model, db.url, table=db.table)
    assert report.full and report.lists_changed == 41 and report.rows_deleted == 0
    same_lists(read_lists(db.url, table=db.table), oracle(model, 10))
    assert read_state(db.url, table=db.table)["written_by"] == "sync"


def test_another_k_rewrites_the_whole_set(db, live_dir, oracle, same_lists):
    model = ArticleRecommender.load(live_dir)
    written = write_lists(model, db.url, k=5, table=db.table)
    report = sync_lists(model, db.url, k=2, table=db.table)
    assert report.full and report.rows_deleted == written
    same_lists(read_lists(db.url, table=db.table), oracle(model, 2))
    assert sync_lists(model, db.url, table=db.table).rows_written == 0  # k=2 is the table's now


def test_a_sync_keeps_the_filters_and_controls_of_the_batch(db, live_dir, articles, oracle,
                                                            same_lists):
    model = ArticleRecommender.load(live_dir)
    model.diversity = 0.3
    write_lists(model, db.url, k=4, table=db.table, categories=["monde", "france"],
                max_age=float("inf"))
    plain = ArticleRecommender.load(live_dir)  # the model's own controls: no diversity
    plain.add(copies(articles))
    sync_lists(plain, db.url, table=db.table)
    assert plain.diversity == 0.0  # the caller's model is left as it is
    plain.diversity = 0.3
    same_lists(read_lists(db.url, table=db.table),
               oracle(plain, 4, categories=["monde", "france"], max_age=float("inf")))


def test_a_table_of_listed_articles_is_not_synced(db, live_dir):
    model = ArticleRecommender.load(live_dir)
    write_lists(model, db.url, k=3, ids=["CNT000001r4edC"], table=db.table)
    with pytest.raises(ParameterError, match=r"holds the lists of listed articles only "
                                             r"\(batch --ids\): a sync keeps every served "
                                             r"article's list"):
        sync_lists(model, db.url, table=db.table)


def test_concurrent_syncs_take_turns(db, live_dir, articles, oracle, same_lists):
    write_lists(ArticleRecommender.load(live_dir), db.url, k=5, table=db.table)
    before = oracle(ArticleRecommender.load(live_dir), 5)
    ArticleRecommender.load(live_dir).add(copies(articles))
    models = [ArticleRecommender.load(live_dir) for _ in range(4)]
    reports, errors = [], []

    def run(model):
        try:
            reports.append(sync_lists(model, db.url, table=db.table))
        except Exception as exc:  # noqa: BLE001 - collected, asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(m,)) for m in models]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    after = oracle(models[0], 5)
    same_lists(read_lists(db.url, table=db.table), after)
    changed, _ = changed_lists(before, after, after)
    assert sorted(r.lists_changed for r in reports) == [0, 0, 0, changed]


def test_a_pin_rewrites_the_one_list_it_changes(db, live_dir, oracle, same_lists):
    model = ArticleRecommender.load(live_dir)
    if not hasattr(model, "pin"):
        pytest.skip("this model has no pins yet")
    write_lists(model, db.url, k=5, table=db.table)
    source = "CNT000001r4edC"
    pinned = next(i for i in map(str, model.served_ids())
                  if i != source and i not in oracle(model, 5)[source][0])
    ArticleRecommender.load(live_dir).pin(source, pinned, 2)
    report = sync_lists(model, db.url, table=db.table)
    assert report.lists_changed == 1 and report.rows_written == 5
    got = read_lists(db.url, table=db.table)
    assert got[source][0][1] == pinned
    same_lists(got, oracle(model, 5))
    assert read_state(db.url, table=db.table)["pins_revision"] == model.pins_revision() == 1


def test_sync_report_fields():
    assert SyncReport._fields[:4] == ("lists_changed", "lists_removed", "rows_written",
                                      "rows_deleted")


# -- the command line --------------------------------------------------------------------------
def test_cli_sync_prints_what_it_changed_and_the_position(db, live_dir, articles, capsys,
                                                          restore_logging_and_warnings):
    assert main(["batch", str(live_dir), "--out", db.url, "--table", db.table, "-k", "5",
                 "-q"]) == 0
    before = read_lists(db.url, table=db.table)
    ArticleRecommender.load(live_dir).withdraw(WITHDRAWN[:1])
    assert main(["sync", str(live_dir), "--out", db.url, "--table", db.table]) == 0
    err = capsys.readouterr().err.strip()
    changed = sum(WITHDRAWN[0] in ids for ids, _ in before.values())
    assert err.count("\n") == 0 and err.startswith(
        f"INFO: {changed} lists changed, 1 removed, ")
    assert (f"table {db.table} is current up to change 1 of {live_dir}'s log (version "
            in err)


@pytest.mark.parametrize("argv, message", [
    (["--out", "lists.jsonl"], "error: --out must be a database URL such as sqlite:///recs.db"),
    (["--out", "mysql+pymysql://root:s3cret@127.0.0.1:1/site"],
     "error: cannot connect to mysql+pymysql://root:***@127.0.0.1:1/site: "),
    (["--out", "sqlite:///x.db", "-k", "0"], "argument -k: expected a positive integer"),
])
def test_cli_sync_bad_arguments_are_one_line(model_dir, capsys, argv, message, tmp_path,
                                             monkeypatch, restore_logging_and_warnings):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) if "-k" in argv else contextlib.nullcontext():
        assert main(["sync", str(model_dir), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "s3cret" not in err

