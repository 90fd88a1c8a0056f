"""Live changes: what the change log says, as data applied to a base model.

A live site adds articles as they are published and withdraws some. A change is a JSON
record (the log's frames, :mod:`recommender.changelog`)::

    {"op": "add", "at": 1733234567.1, "articles": [{"id", "title", "category", "url",
     "published", "terms", "counts", "length"}, ...]}
    {"op": "withdraw", "at": ..., "ids": [...]}

An added article is stored as its raw term counts over the base model's vocabulary (and
its length in words, unknown words included), as the fit counted it: replaying a log
needs no analysis of text, and gives every process the same rows bit for bit. The
statistics of the fit stay frozen (vocabulary, idf, document count, mean length): an added
article's BM25 row and query are exactly those a model fitted on the union with these
statistics gives it. :meth:`~recommender.ArticleRecommender.staleness` measures how far
they drift.

:class:`LiveState` applies records in order: an id already served is an update (its
base row is hidden, its new text served instead); a withdrawn id leaves every list. The
**reference time** of a live model (the "now" its default ``max_age`` counts back from) is
the newest publication among the base model's articles and the added ones, an added
article counting only if it was published when it was added (a mis-dated one does not
move it); withdrawals do not move it back. Every decision that depends on the clock is
made from the record's own ``at``, so a replay gives the same state.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ..changelog import ChangeLogError
from ..corpus import Article, as_article, check_id
from ..errors import CorpusError, UnknownArticleError
from ..times import UNDATED, to_iso, to_seconds

__all__ = ["Changes", "LiveArticle", "LiveState", "add_record", "parse_change", "withdraw_record"]

#: The most articles one change may add (a larger batch is several changes).
MAX_BATCH = 100_000


class Changes(NamedTuple):
    """What one change did: the ids added (new), updated (a new text for an id already
    served) and withdrawn; ``position``, the number of changes since the base model's fit
    after this one; ``reference``, the live model's reference time (ISO) after it."""

    added: tuple[str, ...]
    updated: tuple[str, ...]
    withdrawn: tuple[str, ...]
    position: int
    reference: str | None


class LiveArticle(NamedTuple):
    """An added article as the model keeps it: its catalogue facts, its raw term counts
    over the base vocabulary (``terms`` int32, ``counts`` float64) and its ``length`` in
    words (unknown words included)."""

    id: str
    title: str
    category: str
    url: str
    published: int
    terms: np.ndarray
    counts: np.ndarray
    length: float

    def as_json(self) -> dict:
        return {"id": self.id, "title": self.title, "category": self.category, "url": self.url,
                "published": None if self.published == UNDATED else int(self.published),
                "terms": self.terms.tolist(), "counts": self.counts.tolist(),
                "length": self.length}

    @classmethod
    def from_json(cls, doc: dict, n_terms: int) -> "LiveArticle":
        """The article of a change read from a log, checked: the log is part of the model
        folder, and nothing out of bounds may reach the sparse products (ValueError,
        TypeError or KeyError otherwise)."""
        terms = np.asarray(doc["terms"], np.int64)
        counts = np.asarray(doc["counts"], np.float64)
        if terms.ndim != 1 or counts.shape != terms.shape:
            raise ValueError("its terms and counts are not two lists of one length")
        if len(terms) and (terms[0] < 0 or terms[-1] >= n_terms or (np.diff(terms) <= 0).any()):
            raise ValueError(f"its terms are not increasing columns within [0, {n_terms:,})")
        length = float(doc["length"])
        if not (np.isfinite(counts).all() and (counts > 0).all() and math.isfinite(length)
                and length >= 0):
            raise ValueError("its counts or length are not positive finite numbers")
        published = doc["published"]
        if published is not None and type(published) is not int:
            raise TypeError(f"its publication time is {published!r}, not seconds or null")
        texts = [doc[name] for name in ("id", "title", "category", "url")]
        if not all(isinstance(t, str) for t in texts):
            raise TypeError("its id, title, category and url are not all strings")
        return cls(check_id(texts[0]), *texts[1:], UNDATED if published is None else published,
                   terms.astype(np.int32), counts, length)


def parse_change(change, n_terms: int):
    """``(op, at, articles or ids)`` of a change read from a log, checked; a
    ChangeLogError (the folder is damaged) otherwise."""
    try:
        op, at = change["op"], float(change["at"])
        if not math.isfinite(at):
            raise ValueError(f"its time is {at}")
        if op == "add":
            return op, at, [LiveArticle.from_json(d, n_terms) for d in change["articles"]]
        if op == "withdraw":
            ids = change["ids"]
            if not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
                raise TypeError("its ids are not a list of strings")
            return op, at, ids
        raise ValueError(f"its operation is {op!r}; this version knows 'add' and 'withdraw'")
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        what = f"{type(exc).__name__}: {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ChangeLogError(f"a change of the change log is not valid ({what}); the model "
                             f"folder is damaged: restore it from a backup, or retrain") from None


def add_record(vectorizer, articles) -> dict:
    """The change that adds (or updates) ``articles`` (Article records or dicts with the
    corpus fields), analysed by the model's fitted ``vectorizer``
    (:class:`~recommender.vectors.bm25.Bm25Vectorizer`)."""
    if isinstance(articles, (str, bytes)):
        raise TypeError("add() takes articles (dicts or Article records), not a string")
    if isinstance(articles, (dict, Article)):
        articles = [articles]  # one article
    records = []
    for i, record in enumerate(articles):
        try:
            records.append(as_article(record))
        except ValueError as exc:
            raise CorpusError(f"article {i + 1:,} of the change: {exc}") from None
    if not records:
        raise CorpusError("no article to add: give at least one")
    if len(records) > MAX_BATCH:
        raise CorpusError(f"{len(records):,} articles in one change; at most {MAX_BATCH:,}: "
                          f"add them in several changes")
    seen = set()
    for article in records:
        if article.id in seen:
            raise CorpusError(f"article id {article.id!r} appears more than once in the change; "
                              f"ids must be unique")
        seen.add(article.id)
    counts, lengths = vectorizer.transform_vectors(records)
    counts = sp.csr_matrix(counts)
    counts.sort_indices()
    out = []
    for i, article in enumerate(records):
        a, z = counts.indptr[i], counts.indptr[i + 1]
        published = (UNDATED if article.published is None
                     else to_seconds(article.published, "published"))
        out.append(LiveArticle(article.id, article.title, article.category, article.url,
                               published, counts.indices[a:z].astype(np.int32),
                               counts.data[a:z].astype(np.float64),
                               float(lengths[i])).as_json())
    return {"op": "add", "at": time.time(), "articles": out}


def withdraw_record(ids) -> dict:
    """The change that withdraws the articles ``ids``."""
    if isinstance(ids, str):
        ids = [ids]
    ids = [str(i) if isinstance(i, np.str_) else i for i in ids]
    bad = next((i for i in ids if not isinstance(i, str)), None)
    if bad is not None:
        raise CorpusError(f"article ids are strings, got {type(bad).__name__} {bad!r}")
    if not ids:
        raise CorpusError("no article id to withdraw: give at least one")
    return {"op": "withdraw", "at": time.time(), "ids": list(dict.fromkeys(ids))}


class LiveState:
    """The changes applied so far to a base model whose catalogue is ``base``: the added
    articles by id (``entries``, in the order they came), the base rows hidden (withdrawn,
    or replaced by an update), the reference time, the number of changes."""

    def __init__(self, base, n_terms: int):
        self.base = base
        self.n_terms = n_terms
        self.entries: dict[str, LiveArticle] = {}
        self.hidden: set[int] = set()
        self.n_updated_base = 0  # base rows hidden by an update (not withdrawn)
        self.reference = int(base.newest)
        self.position = 0
        self.last_change: float | None = None

    def copy(self) -> "LiveState":
        other = LiveState.__new__(LiveState)
        other.__dict__.update(self.__dict__)
        other.entries = dict(self.entries)
        other.hidden = set(self.hidden)
        return other

    @property
    def empty(self) -> bool:
        return not self.entries and not self.hidden

    def base_row(self, article_id: str) -> int | None:
        """The base row that serves ``article_id`` (None: not in the base, or hidden)."""
        row = self.base.row_or_none(article_id)
        return None if row is None or row in self.hidden else row

    def served(self, article_id: str) -> bool:
        return article_id in self.entries or self.base_row(article_id) is not None

    def apply(self, change: dict) -> Changes:
        """Apply one change (checked first: a withdrawal of an id not served raises
        UnknownArticleError and changes nothing)."""
        op, at, items = parse_change(change, self.n_terms)
        if op == "add":
            added, updated = self._add(items, at)
            withdrawn = ()
        else:
            unknown = [i for i in items if not self.served(i)]
            if unknown:
                raise UnknownArticleError(
                    f"cannot withdraw {len(unknown):,} unknown article"
                    f"{'s' if len(unknown) > 1 else ''} ({', '.join(map(repr, unknown[:5]))}): "
                    f"not among the articles this model serves (never added, or withdrawn "
                    f"already); nothing was withdrawn")
            for article_id in items:
                if self.entries.pop(article_id, None) is None:
                    self.hidden.add(self.base_row(article_id))
            added, updated, withdrawn = (), (), tuple(items)
        self.position += 1
        self.last_change = at
        return Changes(added, updated, withdrawn, self.position, self.reference_iso)

    def _add(self, articles, at: float):
        added, updated = [], []
        for article in articles:
            row = self.base_row(article.id)
            if article.id in self.entries or row is not None:
                updated.append(article.id)
            else:
                added.append(article.id)
            if row is not None:
                self.hidden.add(row)
                self.n_updated_base += 1
            self.entries.pop(article.id, None)  # an update goes last, as a new article
            self.entries[article.id] = article
            if article.published != UNDATED and article.published <= math.floor(at):
                self.reference = (article.published if self.reference == UNDATED
                                  else max(self.reference, article.published))
        return tuple(added), tuple(updated)

    @property
    def reference_iso(self) -> str | None:
        return to_iso(self.reference) if self.reference != UNDATED else None

    def hidden_mask(self) -> np.ndarray | None:
        """The hidden base rows as a mask (None when there are none)."""
        if not self.hidden:
            return None
        mask = np.zeros(len(self.base), bool)
        mask[np.fromiter(self.hidden, np.int64, len(self.hidden))] = True
        return mask
