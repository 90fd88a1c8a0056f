"""Keeping a database's lists in step with a live model: rewrite only the lists that changed.

After articles are added or withdrawn (or pins edited), most lists are as they were: an
added article enters the lists it belongs in, a withdrawn one leaves those it was in, and
the rest stay. :func:`sync_lists` computes every served article's list as the model serves
it now, compares it with the table's rows, and in one transaction rewrites the lists that
differ (other ids or order, or a score that moved by more than :data:`SCORE_TOLERANCE`),
deletes those of articles no longer served, and records in the state row up to which
change of the model folder's log the table is current. A reader sees the table before the
sync or after it. Concurrent syncs and batches of one table take turns
(:func:`~recommender.batch.tables.writers_lock`); the state row is also read again, locked,
inside the transaction, so that a set swapped in by a writer that ignores the lock fails
the sync rather than mixing with it.

The table keeps the definition it was written with (:func:`~recommender.batch.database.
write_lists` records it): the same ``k``, filters and newsroom controls. A ``k`` other
than the recorded one, or a table that does not exist yet, gets a whole new set, written
and swapped in as a batch writes it.
"""

from __future__ import annotations

import copy
import json
import time
from typing import NamedTuple

from ..errors import DatabaseError, ParameterError
from ..index.topk import check_k
from ..model.controls import check_controls
from .database import filters_of, list_chunks, model_version, settings_of, state_row, \
    utc_now, write_full
from .dburl import connect, database_errors, mask, sqlalchemy
from .tables import TABLE, exists, insert_rows, lists_table, state_table, table_names, writers_lock

__all__ = ["SCORE_TOLERANCE", "SyncReport", "sync_lists"]

#: A list whose scores all moved by less than this (and whose ids are the same, in the same
#: order) is left as it is.
SCORE_TOLERANCE = 1e-6
#: Ids per ``IN (…)`` of a query (SQLite before 3.32 allowed 999 parameters).
_IN = 500
#: Rows per ``executemany`` of a sync.
_ROWS = 10_000


class SyncReport(NamedTuple):
    """What :func:`sync_lists` did."""

    #: Lists written: those of new articles and those that changed.
    lists_changed: int
    #: Lists deleted: articles no longer served (withdrawn), whose rows were removed.
    lists_removed: int
    rows_written: int
    rows_deleted: int
    #: Articles with a list in the table now.
    articles: int
    #: Whether a whole set was written and swapped in (no table yet, or another ``k``).
    full: bool
    #: The changes of the model folder's log that the table is now current up to.
    position: int
    #: The same position in bytes of the log (``model.log_offset_``).
    log_offset: int
    model_version: str
    #: Seconds the sync took.
    elapsed: float


def sync_lists(model, url, *, k: int | None = None, table: str = TABLE,
               progress: bool = False) -> SyncReport:
    """Bring the lists in the table ``table`` of ``url`` up to date with ``model``.

    ``model`` is refreshed first (it catches up with its folder's change log and pins).
    ``k`` defaults to the table's; another ``k`` writes a whole new set. Raises
    ParameterError for a table written for listed articles only (``batch --ids``: a sync
    keeps every served article's list), and the errors of
    :func:`~recommender.batch.database.write_lists`.
    """
    started = time.perf_counter()
    names = table_names(table)
    k = None if k is None else check_k(k)
    if hasattr(model, "refresh"):
        model.refresh()
    sa = sqlalchemy()
    engine = connect(url)
    try:
        with database_errors(engine), engine.connect() as conn, \
                writers_lock(conn, names.lists):
            lists = lists_table(sa.MetaData(), names.lists)
            state = state_table(lists.metadata, names.state)
            old = _read_state(conn, names, state)
            if old is not None and not old["all_served"]:
                raise ParameterError(
                    f"table {names.lists} of {mask(engine.url)} holds the lists of listed "
                    f"articles only (batch --ids): a sync keeps every served article's list; "
                    f"write a whole set first (batch --out without --ids)")
            settings = json.loads(old["settings"]) if old is not None else {}
            model = _with_controls(model, settings.get("controls"))
            filters = filters_of(settings)
            ids = [str(i) for i in model.served_ids()]
            full = old is None or (k is not None and k != old["k"])
            if not full:
                k = old["k"]
                new = state_row(model, k=k, settings=settings_of(model, filters),
                                articles=len(ids), all_served=True, written_by="sync")
                if all(new[name] == old[name] for name in ("model_version", "log_offset",
                                                           "pins_revision", "folder",
                                                           "settings")):
                    return _report(model, 0, 0, 0, 0, old["articles"], False, started)
            present = _articles_in(conn, lists) if exists(conn, names.lists) else set()
            removed = sorted(present - set(ids))
            if full:
                deleted = _count(conn, lists) if present else 0
                written = write_full(conn, model, ids, k or (old or {}).get("k") or 10,
                                     filters, names, all_served=True, written_by="sync",
                                     progress=progress)
                return _report(model, len(ids), len(removed), written, deleted, len(ids),
                               True, started)
            changed = {}
            for part, related, scores in list_chunks(model, ids, k, filters, progress):
                current = _lists_of(conn, lists, [i for i in part if i in present])
                conn.commit()
                for source, others, values in zip(part, related, scores):
                    if _differs(current.get(source, ((), ())), others, values):
                        changed[source] = (others, values)
            deleted, written = _rewrite(conn, lists, state, old, new, changed, removed,
                                        present)
            return _report(model, len(changed), len(removed), written, deleted, len(ids),
                           False, started)
    finally:
        engine.dispose()


def _rewrite(conn, lists, state, old, new, changed, removed, present):
    """One transaction: the changed lists rewritten, the removed ones deleted, the state
    row updated. Returns ``(rows deleted, rows written)``."""
    sa = sqlalchemy()
    again = conn.execute(sa.select(state.c.model_version, state.c.written_at)
                         .where(state.c.id == 1).with_for_update()).first()
    if again is None or tuple(again) != (old["model_version"], old["written_at"]):
        raise DatabaseError(f"table {lists.name} was rewritten during this sync by a writer "
                            f"that does not take the lock; run the sync again")
    gone = [i for i in changed if i in present] + removed
    deleted = 0
    for start in range(0, len(gone), _IN):
        deleted += conn.execute(lists.delete().where(
            lists.c.article_id.in_(gone[start:start + _IN]))).rowcount
    constants = {"model_version": new["model_version"], "created_at": utc_now()}
    rows = [(source, rank, other, score) for source, (others, values) in changed.items()
            for rank, (other, score) in enumerate(zip(others, values), start=1)]
    for start in range(0, len(rows), _ROWS):
        insert_rows(conn, lists, rows[start:start + _ROWS], constants)
    conn.execute(state.update().where(state.c.id == 1)
                 .values({name: value for name, value in new.items() if name != "id"}))
    conn.commit()
    return deleted, len(rows)


def _read_state(conn, names, state):
    if not exists(conn, names.state):
        return None
    sa = sqlalchemy()
    row = conn.execute(sa.select(state).where(state.c.id == 1)).mappings().first()
    conn.commit()
    return None if row is None else dict(row)


def _articles_in(conn, lists) -> set:
    sa = sqlalchemy()
    found = {row[0] for row in conn.execute(sa.select(lists.c.article_id).distinct())}
    conn.commit()
    return found


def _count(conn, lists) -> int:
    sa = sqlalchemy()
    n = conn.execute(sa.select(sa.func.count()).select_from(lists)).scalar()
    conn.commit()
    return int(n)


def _lists_of(conn, lists, ids) -> dict:
    """``{article_id: (related_ids, scores)}`` of the table's rows of ``ids``."""
    sa = sqlalchemy()
    out: dict = {}
    for start in range(0, len(ids), _IN):
        query = (sa.select(lists.c.article_id, lists.c.related_id, lists.c.score)
                 .where(lists.c.article_id.in_(ids[start:start + _IN]))
                 .order_by(lists.c.article_id, lists.c.rank))
        for source, other, score in conn.execute(query):
            related, scores = out.setdefault(source, ([], []))
            related.append(other)
            scores.append(score)
    return out


def _differs(old, others, values) -> bool:
    old_ids, old_scores = old
    return list(old_ids) != others or any(abs(a - b) > SCORE_TOLERANCE
                                          for a, b in zip(old_scores, values))


def _with_controls(model, controls):
    """A snapshot of ``model`` with the newsroom controls the table was written with (the
    caller's model is left as it is)."""
    snap = model.snapshot() if hasattr(model, "snapshot") else copy.copy(model)
    for name, value in check_controls(**controls).items() if controls else ():
        setattr(snap, name, value)
    return snap


def _report(model, changed, removed, written, deleted, articles, full, started) -> SyncReport:
    status = model.live_status()
    return SyncReport(changed, removed, written, deleted, articles, full, status["changes"],
                      int(getattr(model, "log_offset_", 0) or 0), model_version(model),
                      time.perf_counter() - started)
