"""The catalogue: which articles a model knows, in which row, published when.

Rows are in publication order (undated articles last, then in input order), so that a
date window is a contiguous range of rows: a time filter becomes two binary searches,
never a pass over the catalogue. Times are int64 seconds (:mod:`recommender.times`).
A live model's catalogue (articles added and withdrawn since the fit) is
:class:`recommender.model.overlay.LiveCatalogue`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import numpy as np

from ..corpus import as_article
from ..errors import CorpusError, ParameterError, UnknownArticleError
from ..times import SECONDS_PER_DAY, UNDATED, calendar_starts, to_iso, to_seconds
from ..vectors.counting import CountedArticles

__all__ = ["ArticleColumns", "Catalogue", "CatalogueBuilder", "IdRows", "checksum_bytes",
           "shared_strings"]

_INT64_MIN = np.iinfo(np.int64).min


class Catalogue:
    """The articles of a model, one per row, in publication order (read-only).

    ``ids``, ``published`` (int64 seconds, :data:`~recommender.times.UNDATED` when
    unknown), ``categories`` and ``titles`` are arrays of one value per row (categories: an
    object array of one str per distinct name, :func:`shared_strings`). ``created`` is
    the model's creation time (ISO): the run's own "now". An article dated after it (a
    mis-dated one) is kept, but does not move the reference time of the freshness window
    (:attr:`newest`).
    """

    def __init__(self, ids, published, categories, titles, created: str | None = None):
        self.ids = ids
        self.published = published
        self.categories = categories
        self.titles = titles
        self.created = created
        #: Rows ``[0, dated)`` have a date; the rest are undated.
        self.dated = int(np.searchsorted(published, UNDATED))
        now = UNDATED if created is None else to_seconds(created, "created")
        #: Rows ``[0, until_now)`` were published at or before the run's time.
        self.until_now = int(np.searchsorted(published[:self.dated], now, side="right"))
        self._now = now
        self._row_of: IdRows | None = None

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def n_undated(self) -> int:
        return len(self) - self.dated

    @property
    def n_after_run(self) -> int:
        """Articles dated after the run's own time (mis-dated)."""
        return self.dated - self.until_now

    @property
    def newest(self) -> int:
        """The reference "now" of a query without ``as_of``: the newest publication at or
        before the run's time (the run's time itself if every date is after it),
        :data:`~recommender.times.UNDATED` when no article has a date."""
        if self.until_now:
            return int(self.published[self.until_now - 1])
        return self._now if self.dated else UNDATED

    def served_rows(self) -> np.ndarray:
        """The rows of the articles served: every row (a live catalogue hides some)."""
        return np.arange(len(self))

    def find_rows(self, article_ids: list) -> np.ndarray:
        """Row numbers of article ids, -1 for an unknown one."""
        if self._row_of is None:
            self._row_of = IdRows(self.ids)
        return self._row_of.rows(article_ids)

    def rows_of(self, article_ids) -> np.ndarray:
        """Row numbers of article ids; :class:`UnknownArticleError` names the first unknown."""
        article_ids = list(article_ids)
        rows = self.find_rows(article_ids)
        unknown = np.flatnonzero(rows < 0)
        if len(unknown):
            raise UnknownArticleError(self.unknown_message(article_ids[unknown[0]]))
        return rows

    def unknown_message(self, article_id) -> str:
        """What :meth:`rows_of` says of an id that is not one of this catalogue's."""
        return (f"Unknown article id {article_id!r}: not among the {len(self):,} articles of "
                f"this model (trained {self.created or '?'}). Retrain with the article, or "
                f"use similar(text) for a text that is not in the model.")

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_row_of"] = None  # made of this process's str hashes: made again after
        return state

    def row_or_none(self, article_id) -> int | None:
        row = int(self.find_rows([article_id])[0])
        return None if row < 0 else row

    def info(self, row: int) -> dict:
        """``id``, ``title``, ``category`` and ``published`` (ISO, or None) of a row."""
        return {"id": str(self.ids[row]), "title": str(self.titles[row]),
                "category": str(self.categories[row]),
                "published": to_iso(self.published[row])}

    def allowed(self, categories=None, exclude=()) -> np.ndarray | None:
        """Rows that may be recommended: of one of ``categories`` (None: any), not one of
        the ids of ``exclude`` (unknown ids are ignored). None when every row may."""
        allowed = None
        if categories is not None:
            if isinstance(categories, str):
                categories = [categories]
            categories = np.asarray(list(categories), dtype=str)
            allowed = np.isin(self.categories, categories)
            if not allowed.any():
                raise ParameterError(self._unknown_categories(categories))
        if exclude is not None and len(exclude):
            if isinstance(exclude, str):
                exclude = [exclude]
            rows = [self.row_or_none(a) for a in exclude]
            allowed = np.ones(len(self), bool) if allowed is None else allowed
            allowed[[r for r in rows if r is not None]] = False
        return allowed

    def _unknown_categories(self, categories) -> str:
        if not len(categories):
            return "categories is empty: give at least one, or None for every category"
        known = sorted(set(self.categories.tolist()) - {""})
        shown = ", ".join(known[:30]) + (f" and {len(known) - 30:,} more" if len(known) > 30
                                         else "")
        names = ", ".join(repr(str(c)) for c in categories)
        return (f"unknown categor{'y' if len(categories) == 1 else 'ies'} {names}: the "
                f"model's categories are {shown or '(none)'}")

    def reference_times(self, as_of: np.ndarray) -> np.ndarray:
        """Each query's time: its ``as_of``, else the newest article's publication."""
        return np.where(as_of == UNDATED, self.newest, as_of)

    def windows(self, as_of: np.ndarray, *, max_age: int | None, since: int | None,
                until: int | None, zone=None, newest: int | None = None):
        """Row ranges ``[lo, hi)`` of the candidates of each query, or ``(None, None)``
        when no filter applies.

        ``as_of`` holds one time per query (UNDATED: none); ``max_age`` (seconds) counts
        back from it, or from the newest article (with a time ``zone``, to the start of the
        day that many whole days before, both days as in that zone: a calendar window);
        ``since <= published < until``. Undated articles are candidates only of queries
        without any time filter. ``newest`` replaces :attr:`newest` (a live model's
        reference time, :mod:`recommender.model.live`).
        """
        has_as_of = as_of != UNDATED
        if max_age is None and since is None and until is None and not has_as_of.any():
            return None, None
        upper = as_of if until is None else np.minimum(as_of, until)
        lower = np.full(len(as_of), _INT64_MIN if since is None else since, dtype=np.int64)
        if max_age is not None:
            if newest is None:
                newest = self.newest if self.dated else 0
            reference = np.where(has_as_of, as_of, newest)
            if zone is None:
                lower = np.maximum(lower, reference - max_age)
            else:
                starts = calendar_starts(reference, max_age // SECONDS_PER_DAY, zone)
                lower = np.maximum(lower, starts)
        dated = self.published[:self.dated]
        lo = np.searchsorted(dated, lower, side="left")
        hi = np.searchsorted(dated, upper, side="left")
        if max_age is None and since is None and until is None:
            # Rows whose as_of is None have no time filter: undated articles stay candidates,
            # as in a single call without as_of.
            hi[~has_as_of] = len(self)
        return lo, np.maximum(hi, lo)


class ArticleColumns:
    """What the catalogue keeps of a run of articles, a list per field
    (:meth:`CatalogueBuilder.note_columns`): what a cluster's worker sends of a partition
    instead of its articles, cheaper to send and to note than one object per article."""

    def __init__(self):
        self.ids, self.published, self.categories, self.titles = [], [], [], []
        self.site_lists: dict[str, list[str]] = {}  # the site's own box of each article
        self.n_empty = 0

    def add(self, article, *, has_text: bool) -> None:
        """Add ``article`` (an Article; ``has_text``: whether it had text)."""
        self.ids.append(article.id)
        self.published.append(to_seconds(article.published, "published"))
        self.categories.append(article.category)
        self.titles.append(article.title)
        if article.related:
            self.site_lists[article.id] = list(article.related)
        self.n_empty += not has_text


class CatalogueBuilder(ArticleColumns):
    """Collects what the catalogue keeps of each article while the vectorizer streams them
    (the lists of :class:`ArticleColumns`) and the corpus checksum; refuses an id seen
    twice."""

    def __init__(self):
        super().__init__()
        self.sha = hashlib.sha256()
        self.finished = False
        self._seen: set[str] = set()

    def collect(self, articles):
        """Yield each article of ``articles`` (records or dicts) as an Article, noting it.
        Articles counted elsewhere (:class:`~recommender.vectors.counting.CountedArticles`)
        are returned as they are, for the vectorizer to merge: they note their articles in
        this builder themselves (:meth:`note_columns`), as their counts are read."""
        if isinstance(articles, CountedArticles):
            articles.builder = self
            return articles
        return self._collect(articles)

    def _collect(self, articles):
        for record in articles:
            try:
                article = as_article(record)
            except ValueError as exc:
                raise CorpusError(f"article {self.n + 1:,} of the input: {exc}") from None
            self.note(article, has_text=article.has_text)
            self.sha.update(checksum_bytes(article))
            yield article
        self.finished = True

    def note(self, article, *, has_text: bool) -> None:
        """Note what the catalogue keeps of ``article`` (an Article; its lead and body are
        not read: ``has_text`` says whether it had text). Not the checksum: the caller
        updates :attr:`sha`."""
        if article.id in self._seen:
            self._refuse_copy(article.id, self.n)
        self._seen.add(article.id)
        self.add(article, has_text=has_text)

    def note_columns(self, columns: ArticleColumns) -> None:
        """Note a run of articles at once, as :meth:`note` notes each (the same catalogue,
        the same error for an id seen before)."""
        fresh = set(columns.ids)
        if len(fresh) < len(columns.ids) or not self._seen.isdisjoint(fresh):
            for i, article_id in enumerate(columns.ids):  # the first copy, as note() finds it
                if article_id in self._seen:
                    self._refuse_copy(article_id, self.n + i)
                self._seen.add(article_id)
        self._seen |= fresh
        self.ids.extend(columns.ids)
        self.published.extend(columns.published)
        self.categories.extend(columns.categories)
        self.titles.extend(columns.titles)
        self.site_lists.update(columns.site_lists)
        self.n_empty += columns.n_empty

    @property
    def n(self) -> int:
        """The articles noted so far."""
        return len(self.ids)

    @staticmethod
    def _refuse_copy(article_id: str, before: int):
        # Two rows with one id: recommend(id) would return the other row, itself.
        raise CorpusError(f"article id {article_id!r} appears more than once (article "
                          f"{before + 1:,}); ids must be unique, remove the copies")

    def order(self) -> np.ndarray:
        """The rows' order: by publication time, undated last, then input order."""
        return np.lexsort((np.arange(self.n), np.asarray(self.published, np.int64)))

    def build(self, order: np.ndarray) -> Catalogue:
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return Catalogue(np.asarray(self.ids, dtype=str)[order],
                         np.asarray(self.published, np.int64)[order],
                         shared_strings(self.categories)[order],
                         np.asarray(self.titles, dtype=object)[order], created=created)


class IdRows:
    """The row of each id of ``ids`` (distinct str), found by binary search over the ids'
    hashes: 12 bytes an article, where a dict of the ids takes about 140 (a worker of a
    cluster holds the catalogue of the whole archive). The hashes are this process's
    (Python's str hash): do not keep them across processes."""

    def __init__(self, ids: np.ndarray):
        self.ids = ids
        hashes = np.fromiter(map(hash, ids.tolist()), np.int64, count=len(ids))
        self.order = np.argsort(hashes, kind="stable").astype(
            np.int32 if len(ids) < 2**31 else np.int64)
        self.hashes = hashes[self.order]

    def rows(self, ids: list) -> np.ndarray:
        """The rows of ``ids`` (int64), -1 for an id that is not one of them."""
        n = len(self.hashes)
        rows = np.full(len(ids), -1, np.int64)
        if not n or not len(ids):
            return rows
        if len(ids) == 1:  # one id (a request): without the arrays of a list
            rows[0] = self.row(ids[0])
            return rows
        hashes = np.fromiter(map(_hash_or_zero, ids), np.int64, count=len(ids))
        at = np.minimum(np.searchsorted(self.hashes, hashes), n - 1)
        rows_at = self.order[at].astype(np.int64)
        found = np.array([same and isinstance(wanted, str) and name == wanted
                          for same, name, wanted in zip((self.hashes[at] == hashes).tolist(),
                                                        self.ids[rows_at].tolist(), ids)],
                         dtype=bool)
        rows[found] = rows_at[found]
        for i in np.flatnonzero(~found).tolist():  # a hash shared by other ids: the next ones
            rows[i] = self._scan(int(at[i]) + 1, int(hashes[i]), ids[i])
        return rows

    def row(self, article_id) -> int:
        """The row of one id, -1 when it is not one of them."""
        wanted = _hash_or_zero(article_id)
        return self._scan(int(np.searchsorted(self.hashes, wanted)), wanted, article_id)

    def _scan(self, j: int, wanted: int, article_id) -> int:
        """The row of ``article_id`` among the ids of hash ``wanted`` from sorted place
        ``j`` on, -1 when none is it."""
        if not isinstance(article_id, str):
            return -1
        while j < len(self.hashes) and self.hashes[j] == wanted:
            row = int(self.order[j])
            if self.ids[row] == article_id:
                return row
            j += 1
        return -1


def _hash_or_zero(value) -> int:
    try:
        return hash(value)
    except TypeError:  # unhashable: not an id (its look-up under 0 finds no str equal to it)
        return 0


def shared_strings(values) -> np.ndarray:
    """``values`` (str) as an object array holding one str per distinct value: a value
    repeated on every row (a category) costs a pointer a row, where an array of dtype str
    costs the longest value's width (4 bytes a character) a row."""
    names, codes = np.unique(np.asarray(values, dtype=str), return_inverse=True)
    return names.astype(object)[codes.reshape(-1)]


def checksum_bytes(article) -> bytes:
    """What the corpus checksum reads of an article: its id, title, lead and body, each
    followed by ``\x1f`` (the same digest as one update per part)."""
    return (f"{article.id}\x1f{article.title}\x1f{article.heading}\x1f{article.body}\x1f"
            .encode("utf-8"))
