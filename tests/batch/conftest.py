"""The databases the lists are written to in the tests: SQLite always (a file in the
test's temporary folder), MariaDB when ``RECOMMENDER_TEST_MYSQL_URL`` names a server
(``.ci/run`` starts one and sets it). When it is set, a server that does not answer fails
the tests; when it is not (a user's clone), they skip and say why. Each test writes its
own tables (a random name on MariaDB, dropped after), so runs do not interfere.

The oracle of a table is ``recommend_batch`` of every served article: fixtures here give
it, and the table read back, as ``{article_id: (related_ids, scores)}``.
"""

from __future__ import annotations

import os
import secrets
import shutil
from typing import NamedTuple

import numpy as np
import pytest

MYSQL_ENV = "RECOMMENDER_TEST_MYSQL_URL"
#: Scores read back from a table are the float32 scores as doubles: equal within this.
TOLERANCE = 1e-6


class Database(NamedTuple):
    """A database URL and the name of the test's table in it."""

    url: str
    table: str
    kind: str


@pytest.fixture(scope="session")
def mysql_url() -> str:
    """The MariaDB URL of ``RECOMMENDER_TEST_MYSQL_URL``, checked once: skips without it,
    fails when it is set and the server does not answer."""
    url = os.environ.get(MYSQL_ENV)
    if not url:
        pytest.skip(f"{MYSQL_ENV} is not set: .ci/run starts a MariaDB server and sets it")
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure to connect fails the tests
        pytest.fail(f"{MYSQL_ENV} is set but its server does not answer: "
                    f"{type(exc).__name__}: {str(exc).splitlines()[0]}", pytrace=False)
    return url


def drop_tables(url: str, table: str) -> None:
    """Drop a test's tables, their staging and old copies."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for suffix in ("", "_state", "_new", "_state_new", "_old", "_state_old"):
            sa.Table(table + suffix, sa.MetaData()).drop(conn, checkfirst=True)
    engine.dispose()


def make_database(kind: str, tmp_path, request) -> Database:
    if kind == "sqlite":
        return Database(f"sqlite:///{tmp_path / 'lists.db'}", "related_articles", kind)
    url = request.getfixturevalue("mysql_url")
    table = f"t{secrets.token_hex(5)}"
    request.addfinalizer(lambda: drop_tables(url, table))
    return Database(url, table, kind)


@pytest.fixture(params=["sqlite", "mariadb"])
def db(request, tmp_path) -> Database:
    """The test's database: SQLite, then MariaDB (skipped without its URL)."""
    return make_database(request.param, tmp_path, request)


@pytest.fixture
def live_dir(tmp_path, model_dir):
    """A copy of the sample model's folder, for live changes."""
    path = tmp_path / "model"
    shutil.copytree(model_dir, path)
    return path


def lists_of(model, k: int, ids=None, **filters) -> dict:
    """The oracle: ``{article_id: (related_ids, scores)}`` of ``recommend_batch`` for every
    served article (or ``ids``), empty lists left out (a table has no rows for them)."""
    ids = [str(i) for i in (model.served_ids() if ids is None else ids)]
    related, scores = model.recommend_batch(ids, k, **filters)
    out = {}
    for source, row_ids, row_scores in zip(ids, related, scores):
        found = np.isfinite(row_scores)
        if found.any():
            out[source] = (row_ids[found].tolist(), row_scores[found].astype(float).tolist())
    return out


@pytest.fixture(scope="session")
def oracle():
    """:func:`lists_of`, as a fixture (tests do not import conftest)."""
    return lists_of


def assert_same_lists(got: dict, want: dict) -> None:
    """The same articles, the same ids in the same order, scores within rounding."""
    assert sorted(got) == sorted(want)
    for source, (ids, scores) in want.items():
        assert got[source][0] == ids, source
        np.testing.assert_allclose(got[source][1], scores, rtol=0, atol=TOLERANCE,
                                   err_msg=source)


@pytest.fixture(scope="session")
def same_lists():
    """:func:`assert_same_lists`, as a fixture."""
    return assert_same_lists
