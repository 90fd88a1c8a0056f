"""The tables of the related lists in a database: their schema, the staging copies and the
swap that puts them in place, and the lock that lets one writer at a time change them.

Two tables, named after ``table`` (``related_articles`` by default):

- ``related_articles(article_id, rank, related_id, score, model_version, created_at)``,
  primary key ``(article_id, rank)``, ranks from 1: the list of each article, best first.
  Ids are ``VARCHAR(255)`` (compared byte for byte on MySQL and MariaDB: ``utf8mb4_bin``,
  as ids are case-sensitive); ``score`` a double; ``model_version`` the version of the
  model that wrote the list (:func:`~recommender.batch.database.model_version`);
  ``created_at`` when, in UTC (without a zone: not every database stores one).
- ``related_articles_state``: one row (``id = 1``), what the set as a whole is: the
  model version and the position in the model folder's change log it is current up to,
  ``k``, the pins' revision, the folder, the settings the lists were made with (filters and
  newsroom controls, JSON), whether it holds every served article, and when and by which
  command it was written.

A full set is written to ``…_new`` copies of both, then swapped in at once: in one
transaction on SQLite and PostgreSQL (``DROP`` and ``ALTER TABLE … RENAME``: their DDL is
transactional), by one ``RENAME TABLE`` of the four names on MySQL and MariaDB (atomic
there; the old tables, renamed ``…_old``, are dropped after). A reader sees the old set or
the new one, never half of one; a writer killed before the swap leaves the old set whole,
and the staging and old copies it leaves are dropped by the next writer. The primary keys
are named with a random token per write: PostgreSQL names indexes per schema, and a
renamed table keeps its key's name, which the next staging table must not take again.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import NamedTuple

from .._files import writer_lock
from ..errors import DatabaseError, ParameterError
from .dburl import mask, sqlalchemy

__all__ = ["ID_CHARS", "LOCK_WAIT", "TABLE", "Names", "create_staging", "drop_leftovers",
           "exists", "insert_rows", "lists_table", "state_table", "swap", "table_names",
           "writers_lock"]

#: The default name of the lists' table.
TABLE = "related_articles"
#: The longest article id the table holds (``VARCHAR(255)``).
ID_CHARS = 255
#: Seconds a writer (a batch or a sync) waits for another writer of the same table.
LOCK_WAIT = 600
# Short enough that "<name>_state_pk_<token>" fits the 63 characters PostgreSQL allows.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


class Names(NamedTuple):
    """The names of a table's lists and state, their staging copies and old copies."""

    lists: str
    state: str
    lists_new: str
    state_new: str
    lists_old: str
    state_old: str


def table_names(table: str) -> Names:
    """The names that ``table`` implies; a ParameterError for a name that is not a plain
    identifier of at most 40 characters."""
    if not isinstance(table, str) or not _NAME.fullmatch(table):
        raise ParameterError(f"cannot name a table {table!r}: expected letters, digits and "
                             f"underscores, 40 at most, not starting with a digit (default: "
                             f"{TABLE})")
    state = f"{table}_state"
    return Names(table, state, f"{table}_new", f"{state}_new", f"{table}_old", f"{state}_old")


def _table_options() -> dict:
    # both prefixes: SQLAlchemy's "mariadb" dialect (mariadb:// URLs) reads only its own
    return {f"{prefix}_{name}": value for prefix in ("mysql", "mariadb")
            for name, value in (("charset", "utf8mb4"), ("collate", "utf8mb4_bin"))}


def lists_table(metadata, name: str, key_name: str | None = None):
    """The lists' table ``name`` in ``metadata`` (its key named ``key_name``, for a new
    table; any name reads an existing one)."""
    sa = sqlalchemy()
    return sa.Table(
        name, metadata,
        sa.Column("article_id", sa.String(ID_CHARS), nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("related_id", sa.String(ID_CHARS), nullable=False),
        sa.Column("score", sa.Double, nullable=False),
        sa.Column("model_version", sa.String(96), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("article_id", "rank", name=key_name),
        **_table_options())


def state_table(metadata, name: str, key_name: str | None = None):
    """The one-row state table ``name`` in ``metadata``."""
    sa = sqlalchemy()
    return sa.Table(
        name, metadata,
        sa.Column("id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("model_version", sa.String(96), nullable=False),
        sa.Column("changes", sa.Integer, nullable=False),
        sa.Column("log_offset", sa.BigInteger, nullable=False),
        sa.Column("pins_revision", sa.Integer, nullable=False),
        sa.Column("k", sa.Integer, nullable=False),
        sa.Column("articles", sa.Integer, nullable=False),
        sa.Column("all_served", sa.Boolean, nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("folder", sa.Text),
        sa.Column("written_by", sa.String(16), nullable=False),
        sa.Column("written_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=key_name),
        **_table_options())


def insert_rows(conn, table, rows, constants: dict) -> None:
    """Insert ``rows`` (tuples of the columns of ``table`` other than those of
    ``constants``, in the table's order) with ``constants`` (the same on every row, last in
    the table), in one ``executemany``.

    On SQLite, MySQL and MariaDB (drivers with ``?`` or ``%s`` parameters) the statement
    is written and the types' conversions found once, and the tuples go to the driver as
    they are: SQLAlchemy's handling of each row's parameters was three quarters of a
    batch's time on SQLite. Elsewhere, SQLAlchemy's own ``executemany``.
    """
    if not rows:
        return
    dialect = conn.dialect
    names = [c.name for c in table.columns]
    free = len(names) - len(constants)
    if dialect.name not in ("sqlite", "mysql", "mariadb") or names[free:] != list(constants) \
            or dialect.paramstyle not in ("qmark", "format", "pyformat"):
        conn.execute(table.insert(), [{**dict(zip(names, row)), **constants} for row in rows])
        return
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, names))}) "
           f"VALUES ({', '.join([mark] * len(names))})")
    convert = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in table.columns]
    fixed = tuple(value if f is None else f(value)
                  for f, value in zip(convert[free:], constants.values()))
    if any(convert[:free]):
        rows = [tuple(value if f is None else f(value) for f, value in zip(convert, row))
                for row in rows]
    conn.exec_driver_sql(sql, [row + fixed for row in rows])


def exists(conn, name: str) -> bool:
    """Whether the table ``name`` exists (in the connection's own view of it)."""
    return sqlalchemy().inspect(conn).has_table(name)


def drop_leftovers(conn, names: Names) -> None:
    """Drop the staging and old copies a killed writer left; commits."""
    sa = sqlalchemy()
    metadata = sa.MetaData()
    for name in (names.lists_new, names.state_new, names.lists_old, names.state_old):
        sa.Table(name, metadata).drop(conn, checkfirst=True)
    conn.commit()


def create_staging(conn, names: Names):
    """Create the empty staging tables; commits. Returns ``(lists, state)`` tables."""
    sa = sqlalchemy()
    metadata = sa.MetaData()
    token = secrets.token_hex(4)
    lists = lists_table(metadata, names.lists_new, f"{names.lists}_pk_{token}")
    state = state_table(metadata, names.state_new, f"{names.state}_pk_{token}")
    metadata.create_all(conn)
    conn.commit()
    return lists, state


def swap(conn, names: Names) -> None:
    """Put the staging tables in the place of the current ones, at once; commits."""
    sa = sqlalchemy()
    quote = conn.dialect.identifier_preparer.quote
    pairs = [(names.lists, names.lists_new, names.lists_old),
             (names.state, names.state_new, names.state_old)]
    if conn.dialect.name in ("mysql", "mariadb"):
        renames = []
        for name, new, old in pairs:
            if exists(conn, name):
                renames.append(f"{quote(name)} TO {quote(old)}")
            renames.append(f"{quote(new)} TO {quote(name)}")
        conn.commit()  # RENAME TABLE commits; nothing of ours may be pending before it
        conn.exec_driver_sql("RENAME TABLE " + ", ".join(renames))
        metadata = sa.MetaData()
        for name, _new, old in pairs:
            sa.Table(old, metadata).drop(conn, checkfirst=True)
        conn.commit()
        return
    for name, new, _old in pairs:  # one transaction: SQLite and PostgreSQL
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(name)}")
        conn.exec_driver_sql(f"ALTER TABLE {quote(new)} RENAME TO {quote(name)}")
    conn.commit()


@contextmanager
def writers_lock(conn, table: str, wait: float = LOCK_WAIT):
    """Hold, for the block, the lock of the writers of ``table`` in the database of
    ``conn``: a batch or a sync that finds it held waits (up to ``wait`` seconds: a sync
    is short, and two workers of one server may sync at once; then a DatabaseError).

    MySQL and MariaDB: ``GET_LOCK``, PostgreSQL: an advisory lock, both held by the
    connection (the server lets them go when a killed writer's connection closes).
    SQLite: a lock file beside the database file (``.NAME.TABLE.lock``, released by the
    system when its holder dies).
    """
    sa = sqlalchemy()
    kind = conn.dialect.name
    deadline = time.monotonic() + wait
    if kind == "sqlite":
        database = conn.engine.url.database or ""
        if database.startswith("file:"):  # a URI filename: file:path or file:///path
            database = database[len("file:"):].split("?")[0]
            database = database[2:] if database.startswith("//") else database
        with ExitStack() as held:
            if database:
                path = Path(database).expanduser()
                while True:
                    try:
                        held.enter_context(writer_lock(path.with_name(f"{path.name}.{table}")))
                        break
                    except BlockingIOError:
                        if time.monotonic() > deadline:
                            raise _busy(conn, table, wait) from None
                        time.sleep(0.05)
            yield
        return
    database = conn.execute(sa.text("SELECT current_database()" if kind == "postgresql"
                                    else "SELECT DATABASE()")).scalar()
    digest = hashlib.sha1(f"{database}.{table}".encode()).digest()
    if kind == "postgresql":
        key = {"key": int.from_bytes(digest[:8], "big", signed=True)}
        while not conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), key).scalar():
            if time.monotonic() > deadline:
                raise _busy(conn, table, wait)
            time.sleep(0.05)
        release = sa.text("SELECT pg_advisory_unlock(:key)")
    else:
        key = {"key": "recommender." + digest.hex()[:40]}
        taken = conn.execute(sa.text("SELECT GET_LOCK(:key, :wait)"),
                             {**key, "wait": int(wait)}).scalar()
        if taken != 1:
            raise _busy(conn, table, wait)
        release = sa.text("SELECT RELEASE_LOCK(:key)")
    conn.commit()
    try:
        yield
    finally:
        try:
            conn.rollback()
            conn.execute(release, key)
            conn.commit()
        except sa.exc.DBAPIError:
            pass  # a lost connection: the server has let the lock go with it


def _busy(conn, table, wait) -> DatabaseError:
    return DatabaseError(f"another batch or sync has been writing table {table} of "
                         f"{mask(conn.engine.url)} for {wait:g} s; try again when it is done")
