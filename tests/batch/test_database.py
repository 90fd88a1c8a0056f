"""Batch scoring into a database table (``write_lists``, ``recommender batch --out URL``):
the rows are ``recommend_batch``'s lists, one whole set, never duplicated; each bad input is
one line that says how to fix it and never shows a password. Every test runs on SQLite and,
when ``RECOMMENDER_TEST_MYSQL_URL`` is set, on MariaDB (tests/batch/conftest.py)."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from recommender import ArticleRecommender, UnknownArticleError
from recommender.batch.database import read_lists, read_state, write_lists
from recommender.cli import main
from recommender.errors import DatabaseError, MissingDependencyError, ParameterError

SECRET = "s3cret-pw"


def raw_rows(db) -> list[tuple]:
    """Every row of the test's table, as the database holds it."""
    engine = sa.create_engine(db.url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT article_id, {conn.dialect.identifier_preparer.quote('rank')}, "
            f"related_id, score, model_version, created_at FROM {db.table}").all()
    engine.dispose()
    return [tuple(r) for r in rows]


def table_names(db) -> set:
    engine = sa.create_engine(db.url)
    names = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    return {n for n in names if n.startswith(db.table)}


# -- the set written ---------------------------------------------------------------------------
def test_the_rows_are_the_lists_of_recommend_batch(db, small_model, oracle, same_lists):
    before = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    written = write_lists(small_model, db.url, k=5, table=db.table)
    want = oracle(small_model, 5)
    assert written == sum(len(ids) for ids, _ in want.values())
    same_lists(read_lists(db.url, table=db.table), want)
    rows = raw_rows(db)
    assert len(rows) == written  # one row per (article, rank): nothing else
    ranks: dict = {}
    for source, rank, _other, _score, version, created in rows:
        ranks.setdefault(source, []).append(rank)
        assert version == small_model.version()
        if isinstance(created, str):  # SQLite keeps the text SQLAlchemy wrote
            created = datetime.fromisoformat(created)
        assert before - timedelta(seconds=1) <= created <= before + timedelta(minutes=5)
    assert all(sorted(r) == list(range(1, len(r) + 1)) for r in ranks.values())
    state = read_state(db.url, table=db.table)
    assert {key: state[key] for key in ("model_version", "changes", "log_offset",
                                        "pins_revision", "k", "articles", "all_served",
                                        "folder", "written_by")} == {
        "model_version": small_model.version(), "changes": 0, "log_offset": 0,
        "pins_revision": 0, "k": 5, "articles": 41, "all_served": True, "folder": None,
        "written_by": "batch"}
    assert state["settings"] == {"filters": {}, "controls": {
        "half_life": None, "dedupe": None, "diversity": 0.0, "min_score": None}}


def test_a_rerun_replaces_the_set_and_never_duplicates_a_row(db, small_model, oracle,
                                                              same_lists):
    write_lists(small_model, db.url, k=5, table=db.table)
    written = write_lists(small_model, db.url, k=5, table=db.table)
    assert len(raw_rows(db)) == written
    write_lists(small_model, db.url, k=3, table=db.table)
    same_lists(read_lists(db.url, table=db.table), oracle(small_model, 3))
    assert read_state(db.url, table=db.table)["k"] == 3
    assert table_names(db) == {db.table, f"{db.table}_state"}  # no staging copy left


def test_the_copies_a_killed_run_left_are_dropped(db, small_model, oracle, same_lists):
    write_lists(small_model, db.url, k=2, table=db.table)
    engine = sa.create_engine(db.url)
    with engine.begin() as conn:  # a run killed before its swap, another after it
        for name in ("_new", "_state_new", "_old"):
            conn.exec_driver_sql(f"CREATE TABLE {db.table}{name} (x INTEGER)")
    engine.dispose()
    write_lists(small_model, db.url, k=4, table=db.table)
    assert table_names(db) == {db.table, f"{db.table}_state"}
    same_lists(read_lists(db.url, table=db.table), oracle(small_model, 4))


def test_listed_articles_with_filters(db, small_model, oracle, same_lists):
    ids = ["CNT000001r4edC", "CNT000001rdIhh", "CNT000001r2yqP"]
    write_lists(small_model, db.url, k=4, ids=ids, table=db.table, categories=["monde"],
                max_age=float("inf"))
    same_lists(read_lists(db.url, table=db.table),
               oracle(small_model, 4, ids, categories=["monde"], max_age=float("inf")))
    state = read_state(db.url, table=db.table)
    assert not state["all_served"] and state["articles"] == 3
    assert state["settings"]["filters"] == {"categories": ["monde"], "max_age": "inf"}
    assert read_lists(db.url, ids=["CNT000001rdIhh", "nope"], table=db.table).keys() <= {
        "CNT000001rdIhh"}


def test_a_live_model_records_its_position_in_the_log(db, live_dir, articles, oracle,
                                                      same_lists):
    model = ArticleRecommender.load(live_dir)
    model.withdraw(["CNT000001rdIhh"])
    write_lists(model, db.url, k=5, table=db.table)
    state = read_state(db.url, table=db.table)
    assert (state["changes"], state["log_offset"]) == (1, model.log_offset_)
    assert state["model_version"] == model.version() and state["model_version"].endswith("+1")
    assert state["folder"] == str(live_dir) and state["articles"] == 40
    same_lists(read_lists(db.url, table=db.table), oracle(model, 5))


# -- bad input: one line that says how to fix it -----------------------------------------------
def test_an_unknown_or_repeated_id_fails_before_anything_is_written(tmp_path, small_model):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(UnknownArticleError, match="nope"):
        write_lists(small_model, url, ids=["CNT000001r4edC", "nope"])
    with pytest.raises(ParameterError, match=r"article id 'CNT000001r4edC' is listed twice: "
                                             r"a table holds one list per article"):
        write_lists(small_model, url, ids=["CNT000001r4edC", "CNT000001r4edC"])
    assert read_state(url) is None


def test_an_id_longer_than_the_column_is_refused(db, live_dir, articles):
    model = ArticleRecommender.load(live_dir)
    long_id = "L" * 300
    model.add([{"id": long_id, "title": articles[0].title, "body": articles[0].body,
                "published": "2020-06-25T10:00:00+02:00"}])
    with pytest.raises(ParameterError, match=r"article id 'L{40}'\.\.\. has 300 characters: "
                                             r"table \w+ holds ids of up to 255 "
                                             r"\(VARCHAR\(255\)\); write the lists to a "
                                             r"\.jsonl or \.csv file instead"):
        write_lists(model, db.url, table=db.table)
    assert read_state(db.url, table=db.table) is None


@pytest.mark.parametrize("table, k", [("1table", 10), ("a-b", 10), ("x" * 41, 10),
                                      ("ok", 0)])
def test_a_bad_table_name_or_k(tmp_path, small_model, table, k):
    with pytest.raises(ParameterError, match=r"cannot name a table|k must be"):
        write_lists(small_model, f"sqlite:///{tmp_path / 'x.db'}", k=k, table=table)


def test_without_sqlalchemy_the_error_says_how_to_install_it(small_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    with pytest.raises(MissingDependencyError, match=r"^writing related lists to a database "
                                                     r"needs SQLAlchemy: pip install "
                                                     r"'recommender\[sql\]'$"):
        write_lists(small_model, "sqlite:///x.db")


@pytest.mark.parametrize("url, module, package", [
    (f"mysql+pymysql://root:{SECRET}@db.example/site", "pymysql", "PyMySQL"),
    (f"postgresql+psycopg://app:{SECRET}@db.example/site", "psycopg", r"'psycopg\[binary\]'"),
    (f"mysql://root:{SECRET}@db.example/site", "MySQLdb", "mysqlclient"),
])
def test_a_missing_driver_is_named_with_its_pip_command(small_model, monkeypatch, url, module,
                                                        package):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingDependencyError) as caught:
        write_lists(small_model, url)
    message = str(caught.value)
    assert SECRET not in message and ":***@db.example/site" in message
    assert f"needs the driver module '{module}', which is not installed: pip install " in message
    assert message.split("pip install ")[1].startswith(package.replace("\\", ""))


@pytest.mark.parametrize("url, message", [
    ("mysql+pymysql://root:pw@host:port/db", r"cannot read the database URL 'mysql\+pymysql://"
                                             r"root:\*\*\*@host:port/db': expected DIALECT"),
    ("mssql+pyodbc://u:pw@host/db", r"'mssql' is not a database this package knows how to "
                                    r"swap a table in; use sqlite, mysql, mariadb or postgresql"),
    ("mysql+nosuchdriver://u:pw@host/db", r"cannot open mysql\+nosuchdriver://u:\*\*\*@host/db"),
    ("sqlite://", r"^sqlite:// is an in-memory database, gone when this process ends: name a "
                  r"file, e.g. sqlite:///recs\.db$"),
    ("sqlite:///x.db?timeout=abc", r"^cannot open sqlite:///x\.db\?timeout=abc: could not "
                                   r"convert string to float: 'abc'$"),
])
def test_a_bad_url(small_model, url, message):
    with pytest.raises(ParameterError, match=message):
        write_lists(small_model, url)


def test_a_refused_connection_names_the_url_with_its_password_masked(small_model):
    with pytest.raises(DatabaseError) as caught:
        write_lists(small_model, f"mysql+pymysql://root:{SECRET}@127.0.0.1:1/site")
    message = str(caught.value)
    assert message.startswith("cannot connect to mysql+pymysql://root:***@127.0.0.1:1/site")
    assert "Connection refused" in message and SECRET not in message
    assert "\n" not in message


def test_reading_a_table_that_does_not_exist(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert read_state(url) is None
    with pytest.raises(DatabaseError, match=r"cannot read sqlite:///.*x\.db: no such table: "
                                            r"related_articles"):
        read_lists(url)


# -- the command line --------------------------------------------------------------------------
def test_cli_batch_to_a_url(db, model_dir, small_model, oracle, same_lists, capsys,
                            restore_logging_and_warnings):
    assert main(["batch", str(model_dir), "--out", db.url, "-k", "3", "--table", db.table]) == 0
    err = capsys.readouterr().err
    assert "wrote the top 3 of 41 articles (" in err and f"table {db.table}" in err
    got = read_lists(db.url, table=db.table)
    same_lists(got, oracle(small_model, 3))
    assert read_state(db.url, table=db.table)["folder"] == str(model_dir)


def test_cli_batch_to_a_file_is_as_before(tmp_path, model_dir, restore_logging_and_warnings):
    out = tmp_path / "lists.jsonl"
    assert main(["batch", str(model_dir), "--out", str(out), "-k", "2", "-q"]) == 0
    assert len([json.loads(line) for line in out.read_text("utf-8").splitlines()]) == 41


@pytest.mark.parametrize("argv, message", [
    (["--out", f"mysql+pymysql://root:{SECRET}@127.0.0.1:1/site"],
     "error: cannot connect to mysql+pymysql://root:***@127.0.0.1:1/site: "),
    (["--out", f"postgresql+psycopg://u:{SECRET}@h/db"],
     "error: the database URL postgresql+psycopg://u:***@h/db needs the driver module"),
    (["--out", "mysql+pymysql://u:p@h:x/db"], "error: cannot read the database URL"),
    (["--out", "lists.jsonl", "--table", "t"], "error: --table names a table of a database URL"),
    (["--out", "sqlite:///x.db", "--table", "a-b"], "error: cannot name a table 'a-b'"),
])
def test_cli_batch_bad_arguments_are_one_line(model_dir, capsys, monkeypatch, argv, message,
                                              restore_logging_and_warnings, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    assert main(["batch", str(model_dir), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and SECRET not in err
