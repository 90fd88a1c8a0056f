"""A database URL, opened: SQLAlchemy's engine, with one-line errors that say how to fix.

The lists go to a database named by an SQLAlchemy URL (``sqlite:///recs.db``,
``mysql+pymysql://user:password@host/site``, ``postgresql+psycopg://…``). SQLAlchemy and the
drivers are optional (the ``sql`` extra), so this module imports none of them until a URL
is opened. Every error it raises is one line that names the URL with its password masked
(a password must never reach a terminal or a log): SQLAlchemy missing, a malformed URL, a
database kind the swap of :mod:`.database` does not know, a driver not installed, a server
that does not answer. :func:`database_errors` turns the driver's errors during a write
(a lost connection, a full disk, a denied privilege) into the same kind of line.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

from ..errors import DatabaseError, MissingDependencyError, ParameterError

__all__ = ["BACKENDS", "connect", "database_errors", "is_url", "mask"]

#: The databases whose atomic swap :mod:`.database` knows, by SQLAlchemy backend name.
BACKENDS = ("sqlite", "mysql", "mariadb", "postgresql")
#: What pip installs for a driver module SQLAlchemy asked for.
_PACKAGES = {"pymysql": "PyMySQL", "MySQLdb": "mysqlclient", "mariadb": "mariadb",
             "mysql": "mysql-connector-python", "psycopg": "'psycopg[binary]'",
             "psycopg2": "psycopg2-binary", "pg8000": "pg8000"}
#: ``name://`` or ``name+driver://``: what tells a URL from a file name in ``--out``.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\+[A-Za-z0-9_]+)?://")
_PASSWORDS = ((re.compile(r"(://[^/?#@:]*:)[^/?#]*@"), r"\1***@"),
              (re.compile(r"([?&]password=)[^&]*", re.I), r"\1***"))
#: Seconds a writer waits for SQLite's lock of the file (the default, 5, is short for a
#: reader of a CMS page that overlaps a sync's commit).
SQLITE_TIMEOUT = 30


def is_url(text) -> bool:
    """Whether ``text`` is a database URL (``name://…`` or ``name+driver://…``) rather
    than a file name."""
    return isinstance(text, str) and _SCHEME.match(text) is not None


def mask(url) -> str:
    """``url`` as text with its password replaced by ``***`` (also in a URL SQLAlchemy
    cannot read)."""
    text = url if isinstance(url, str) else url.render_as_string(hide_password=True)
    for pattern, masked in _PASSWORDS:
        text = pattern.sub(masked, text)
    return text


def sqlalchemy():
    """The ``sqlalchemy`` module, or a one-line error that says how to install it."""
    try:
        import sqlalchemy
    except ImportError:
        raise MissingDependencyError("writing related lists to a database needs SQLAlchemy: "
                                     "pip install 'recommender[sql]'") from None
    return sqlalchemy


def connect(url, *, immediate: bool = True):
    """An engine on ``url`` whose server answered (one connection was opened and closed).

    SQLite: the folder of the file is created if needed, the Python driver's implicit
    transactions are replaced by SQLAlchemy's own (so that DDL runs inside a transaction,
    which SQLite supports: a swap is one transaction), opened with ``BEGIN IMMEDIATE`` when
    ``immediate`` (the writer takes SQLite's write lock at once and never fails half-way
    on a lock upgrade) or a plain ``BEGIN`` (readers). MySQL and MariaDB: utf8mb4 unless
    the URL names a charset.
    """
    sa = sqlalchemy()
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        raise ParameterError(f"cannot read the database URL {mask(str(url))!r}: expected "
                             f"DIALECT[+DRIVER]://USER:PASSWORD@HOST/DATABASE, e.g. "
                             f"sqlite:///recs.db or mysql+pymysql://user:password@localhost/"
                             f"site") from None
    shown = mask(parsed)
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        raise ParameterError(f"cannot write related lists to {shown}: {backend!r} is not a "
                             f"database this package knows how to swap a table in; use "
                             f"sqlite, mysql, mariadb or postgresql")
    options = {}
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or "mode=memory" in database \
                or parsed.query.get("mode") == "memory":
            raise ParameterError(f"{shown} is an in-memory database, gone when this process "
                                 f"ends: name a file, e.g. sqlite:///recs.db")
        if not database.startswith("file:"):
            try:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except ValueError as exc:  # a NUL in the path
                raise ParameterError(f"cannot open {shown}: {exc}") from None
        if "timeout" not in parsed.query:
            options["connect_args"] = {"timeout": SQLITE_TIMEOUT}
    elif backend in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    try:
        engine = sa.create_engine(parsed, **options)
    except ImportError as exc:  # the driver module of the URL
        module = (exc.name or "").split(".")[0] or "its driver"
        hint = _PACKAGES.get(module, module)
        other = (" (or use mysql+pymysql:// with PyMySQL)" if backend in ("mysql", "mariadb")
                 and module != "pymysql" else "")
        raise MissingDependencyError(f"the database URL {shown} needs the driver module "
                                     f"{module!r}, which is not installed: pip install "
                                     f"{hint}{other}") from None
    except (sa.exc.NoSuchModuleError, sa.exc.ArgumentError, ValueError, TypeError) as exc:
        raise ParameterError(f"cannot open {shown}: {_first_line(exc)}") from None
    if backend == "sqlite":
        _sqlite_transactions(sa, engine, "BEGIN IMMEDIATE" if immediate else "BEGIN")
    try:
        with engine.connect():
            pass
    except sa.exc.DBAPIError as exc:
        engine.dispose()
        raise DatabaseError(f"cannot connect to {shown}: {_reason(exc)}") from None
    except (ValueError, TypeError, AttributeError, LookupError) as exc:
        # the driver choked on the URL: an option of its query (?charset=nope), a NUL
        engine.dispose()
        raise ParameterError(f"cannot connect to {shown}: the driver refused the URL "
                             f"({type(exc).__name__}: {_first_line(exc)})") from None
    return engine


@contextmanager
def database_errors(engine, doing: str = "write to"):
    """Turn the driver's errors in the block into a :class:`DatabaseError` line that names
    the database (password masked) and the driver's reason."""
    sa = sqlalchemy()
    try:
        yield
    except sa.exc.DBAPIError as exc:
        raise DatabaseError(f"cannot {doing} {mask(engine.url)}: {_reason(exc)}") from None


def _sqlite_transactions(sa, engine, begin: str) -> None:
    """Let SQLAlchemy, not the driver, open SQLite's transactions (SQLAlchemy's documented
    recipe: the driver's own would leave DDL outside of them)."""
    @sa.event.listens_for(engine, "connect")
    def no_driver_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def begin_transaction(connection):
        connection.exec_driver_sql(begin)


def _reason(exc) -> str:
    """The driver's message of a DBAPIError, on one line, without SQLAlchemy's statement
    and parameters (they may hold data) or its background link."""
    orig = getattr(exc, "orig", None)
    if orig is not None and getattr(orig, "args", None):
        args = orig.args
        text = args[1] if len(args) == 2 and isinstance(args[0], int) else args[0]
        return " ".join(str(text).split()) or type(orig).__name__
    return _first_line(exc)


def _first_line(exc) -> str:
    lines = str(exc).strip().splitlines()
    return " ".join(lines[0].split()) if lines else type(exc).__name__
