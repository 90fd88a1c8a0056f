"""Batch scoring into a database: the related list of every article, as rows of a table that
a CMS reads when it renders a page (as YARPP's cache table is read), always one whole set.

:func:`write_lists` writes the lists of every served article (or of listed ones) to the
table ``related_articles`` of an SQLAlchemy URL (``sqlite:///recs.db``,
``mysql+pymysql://…``, ``postgresql+psycopg://…``), through staging tables swapped in at
once (:mod:`.tables`), with the state row that :func:`~recommender.batch.sync.sync_lists`
reads to rewrite only the lists that changed. :func:`read_lists` and :func:`read_state`
read them back. Rows go in by chunks of :data:`~recommender.batch.score.CHUNK` articles
(one ``executemany`` and one commit each, into the staging table): memory stays bounded
and SQLite's readers are not locked out while a long set is written. The chunks are
:func:`~recommender.batch.score.list_chunks`'s, scored by the model in memory or by the
workers of a Dask cluster, the same rows either way.

Needs SQLAlchemy (``pip install 'recommender[sql]'``) and the URL's driver; each missing
piece, a bad URL or an unreachable server is one line (:mod:`.dburl`).
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta, timezone

import numpy as np

from ..errors import ParameterError
from ..index.topk import check_k
from ..model.controls import CONTROLS
from .dburl import connect, database_errors, sqlalchemy
from .score import list_chunks
from .tables import ID_CHARS, TABLE, create_staging, drop_leftovers, exists, insert_rows, \
    lists_table, state_table, swap, table_names, writers_lock

__all__ = ["FILTERS", "filters_of", "list_chunks", "model_version", "read_lists", "read_state",
           "settings_of", "state_row", "utc_now", "write_full", "write_lists"]

#: The filters of ``recommend_batch`` that a set of lists may be written with.
FILTERS = ("as_of", "max_age", "since", "until", "categories")


def write_lists(model, url, *, k: int = 10, ids=None, table: str = TABLE,
                progress: bool = False, client=None, model_path=None, **filters) -> int:
    """Write the top-``k`` related articles of ``ids`` (default: every article served) to
    the table ``table`` of the database ``url``, replacing the set it held at once.

    ``filters`` are those of ``recommend_batch`` (``as_of``: one time for all or, with
    ``ids``, one per id). The lists are ``model.recommend_batch``'s, pins and bans
    included (with a Dask ``client``, scored by its workers from the model folder
    ``model_path``, default the folder ``model`` was loaded from: the same rows, see
    :func:`~recommender.batch.score.list_chunks`); the state row records the model's
    version and change-log position, ``k``, the filters and newsroom controls, so that a
    sync keeps the set as it was defined.
    Returns the number of rows written. Raises ParameterError (a bad ``k``, table name,
    URL, or an id longer than 255 characters, before anything is written),
    UnknownArticleError (an unknown id), MissingDependencyError (SQLAlchemy or the driver)
    and DatabaseError (a server that does not answer or refuses the write).
    """
    names = table_names(table)
    k = check_k(k)
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise TypeError(f"write_lists() got an unexpected keyword argument {unknown[0]!r}")
    model = model.snapshot() if hasattr(model, "snapshot") else model
    listed = ids is not None
    ids = [str(i) for i in model.served_ids()] if ids is None else list(ids)
    if listed:
        model.rows_of(ids)  # unknown ids fail before anything is written
        _check_unique(ids)
    _check_lengths(ids, model.served_ids(), names.lists)
    engine = connect(url)
    try:
        with database_errors(engine), engine.connect() as conn, \
                writers_lock(conn, names.lists):
            return write_full(conn, model, ids, k, filters, names, all_served=not listed,
                              written_by="batch", progress=progress, client=client,
                              model_path=model_path)
    finally:
        engine.dispose()


def write_full(conn, model, ids, k: int, filters: dict, names, *, all_served: bool,
               written_by: str, progress: bool = False, client=None, model_path=None) -> int:
    """Write a whole set through staging tables and swap it in, on ``conn`` (whose caller
    holds the writers' lock); the number of rows written. ``client``, ``model_path``: see
    :func:`~recommender.batch.score.list_chunks`."""
    chunks = list_chunks(model, ids, k, filters, progress, client=client,
                         model_path=model_path)
    drop_leftovers(conn, names)
    lists, state = create_staging(conn, names)
    constants = {"model_version": model_version(model), "created_at": utc_now()}
    written = 0
    for part, related, scores in chunks:
        rows = [(source, rank, other, score)
                for source, others, values in zip(part, related, scores)
                for rank, (other, score) in enumerate(zip(others, values), start=1)]
        insert_rows(conn, lists, rows, constants)
        conn.commit()
        written += len(rows)
    settings = settings_of(model, filters)
    conn.execute(state.insert(), state_row(model, k=k, settings=settings, articles=len(ids),
                                           all_served=all_served, written_by=written_by))
    conn.commit()
    swap(conn, names)
    return written


def model_version(model) -> str:
    """The version of the lists ``model`` serves: its base model's creation time, the
    changes applied since, and the pins' revision when there are pins
    (``2026-12-03T21:00:00+00:00+37``)."""
    if hasattr(model, "version"):
        return model.version()
    status = model.live_status()
    return f"{status['base_created']}+{status['changes']}"


def settings_of(model, filters: dict) -> dict:
    """What the lists depend on besides the model's articles: the filters and the newsroom
    controls, as JSON values."""
    return {"filters": {name: "per article" if name == "as_of" and np.ndim(value) == 1
                        else _plain(value)
                        for name, value in sorted(filters.items()) if value is not None},
            "controls": {name: _plain(getattr(model, name, off))
                         for name, off in CONTROLS.items()}}


def filters_of(settings: dict) -> dict:
    """The filters recorded by :func:`settings_of`, as ``recommend_batch`` takes them."""
    filters = dict(settings.get("filters", {}))
    if filters.get("max_age") == "inf":
        filters["max_age"] = math.inf
    return filters


def state_row(model, *, k: int, settings: dict, articles: int, all_served: bool,
              written_by: str) -> dict:
    """The state row of a set written from ``model`` now."""
    status = model.live_status()
    return {"id": 1, "model_version": model_version(model), "changes": status["changes"],
            "log_offset": int(getattr(model, "log_offset_", 0) or 0),
            "pins_revision": int(getattr(model, "pins_revision", lambda: 0)()),
            "k": k, "articles": articles, "all_served": all_served,
            "settings": json.dumps(settings, sort_keys=True), "folder": status.get("folder"),
            "written_by": written_by, "written_at": utc_now()}


def utc_now() -> datetime:
    """Now in UTC, to the second, without a zone (as the tables store times)."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def read_lists(url, *, ids=None, table: str = TABLE) -> dict:
    """The lists in the table: ``{article_id: (related_ids, scores)}``, best first, of
    ``ids`` (default: every article in it; an id without a list is left out). Raises
    DatabaseError when there is no such table."""
    names = table_names(table)
    sa = sqlalchemy()
    engine = connect(url, immediate=False)
    try:
        with database_errors(engine, "read"), engine.connect() as conn:
            lists = lists_table(sa.MetaData(), names.lists)
            query = sa.select(lists.c.article_id, lists.c.related_id, lists.c.score)
            ids = None if ids is None else [str(i) for i in ids]
            parts = [None] if ids is None else [ids[i:i + 500] for i in range(0, len(ids), 500)]
            out: dict = {}
            for part in parts:
                chosen = query if part is None else query.where(lists.c.article_id.in_(part))
                for source, other, score in conn.execute(
                        chosen.order_by(lists.c.article_id, lists.c.rank)):
                    related, scores = out.setdefault(source, ([], []))
                    related.append(other)
                    scores.append(score)
            return out
    finally:
        engine.dispose()


def read_state(url, *, table: str = TABLE) -> dict | None:
    """The state row of the table (its columns as a dict, ``settings`` decoded), or None
    when the table has none."""
    names = table_names(table)
    sa = sqlalchemy()
    engine = connect(url, immediate=False)
    try:
        with database_errors(engine, "read"), engine.connect() as conn:
            if not exists(conn, names.state):
                return None
            state = state_table(sa.MetaData(), names.state)
            row = conn.execute(sa.select(state).where(state.c.id == 1)).mappings().first()
            return None if row is None else {**row, "settings": json.loads(row["settings"])}
    finally:
        engine.dispose()


def _check_unique(ids) -> None:
    seen = set()
    for article_id in ids:
        if article_id in seen:
            raise ParameterError(f"article id {article_id!r} is listed twice: a table holds "
                                 f"one list per article; list each id once")
        seen.add(article_id)


def _check_lengths(ids, served, table: str) -> None:
    """Every id written (sources, and related articles: served ones) fits the table."""
    for group in (served, ids):
        lengths = np.char.str_len(np.asarray(group, dtype=str)) if len(group) else [0]
        longest = int(np.argmax(lengths))
        if lengths[longest] > ID_CHARS:
            raise ParameterError(f"article id {str(group[longest])[:40]!r}... has "
                                 f"{int(lengths[longest]):,} characters: table {table} holds "
                                 f"ids of up to {ID_CHARS} (VARCHAR({ID_CHARS})); write the "
                                 f"lists to a .jsonl or .csv file instead")


def _plain(value):
    """A filter or control value as JSON can hold it (times as ISO text, ages in days)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, timedelta):
        return value.total_seconds() / 86400
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return _plain(value.item())
    return str(value)
