"""Synthetic corpora of any size, recombined from the sentences of a real one.

``SentencePool.from_articles(real)`` cuts the bodies of a real corpus into sentences;
``pool.articles(n, seed)`` streams ``n`` articles made from them, the same for a seed:

- each synthetic article takes a real article as its template, drawn at random: its title,
  lead (heading) and category are the template's, and its publication time keeps the
  template's time of day;
- its body has as many sentences as the template's (so body lengths follow the real
  distribution), each drawn from the template's own sentences with probability
  ``own_share``, else from the sentences of any article of the template's category (so an
  article stays on one subject, and vocabulary and term frequencies stay those of real
  news);
- its date is spread uniformly over a timeline that ends on the real corpus's last day
  and spans the real corpus's days, or ``n / per_day`` days when longer (a news site
  publishing ``per_day`` articles a day).

Articles are made in blocks of ``BLOCK`` from a generator seeded with ``(seed, block)``,
so the stream holds one article at a time and any block can be made on its own.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Iterable, Iterator

import numpy as np

from ..corpus import Article
from ..errors import CorpusError, ParameterError

__all__ = ["BLOCK", "SentencePool", "parse_scale"]

#: Articles made from one seeded generator.
BLOCK = 10_000
# A sentence ends at . ! ? or … followed by white space (a glued "domestique.Consternant"
# stays one sentence, as it is one in the real text).
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_SCALE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([km]?)\s*$", re.IGNORECASE)


def parse_scale(text: str) -> int | None:
    """``"real"`` -> None (the real corpus); ``"100k"`` -> 100_000; ``"1m"`` -> 1_000_000.

    Raises :class:`~recommender.errors.ParameterError` (a ``ValueError``) naming the value
    and the accepted forms.
    """
    if text.strip().lower() == "real":
        return None
    match = _SCALE.match(text)
    if not match:
        raise ParameterError(f"unknown scale {text!r}: expected 'real' or a number of "
                             f"articles such as 5000, 100k or 1m")
    value = float(match.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    if value < 2 or value != int(value):
        raise ParameterError(f"scale {text!r} must be a whole number of at least 2 articles")
    return int(value)


class SentencePool:
    """The sentences of a real corpus, grouped by article and by category.

    Attributes
    ----------
    sentences : list of str
    starts, counts : int64 arrays, shape (n_templates,)
        Template ``j``'s body is ``sentences[starts[j]:starts[j] + counts[j]]``.
    by_category : dict of str -> int64 array
        The sentence numbers of every template of a category.
    """

    def __init__(self, templates: list[Article], sentences: list[str], starts, counts):
        if not templates:
            raise CorpusError("no real article with a body to take sentences from; give a "
                              "corpus whose articles have a body")
        self.templates = templates
        self.sentences = sentences
        self.starts = np.asarray(starts, np.int64)
        self.counts = np.asarray(counts, np.int64)
        category = np.array([t.category for t in templates], dtype=object)
        self.by_category = {}
        for name in dict.fromkeys(category.tolist()):
            members = np.flatnonzero(category == name)
            self.by_category[name] = np.concatenate(
                [np.arange(self.starts[j], self.starts[j] + self.counts[j]) for j in members])
        self.category_of = category
        dates = [t.published for t in templates if t.published is not None]
        self.last_day = max(dates).date() if dates else datetime(2020, 9, 30).date()
        self.real_days = max((max(dates) - min(dates)).days + 1, 1) if dates else 365

    @classmethod
    def from_articles(cls, articles: Iterable[Article]) -> "SentencePool":
        """Cut the bodies of real articles into sentences; articles without body are left out."""
        templates, sentences, starts, counts = [], [], [], []
        for article in articles:
            parts = [s for s in _SENTENCE_END.split(article.body.strip()) if s]
            if not parts:
                continue
            templates.append(Article(id=article.id, title=article.title,
                                     heading=article.heading, category=article.category,
                                     published=article.published))
            starts.append(len(sentences))
            counts.append(len(parts))
            sentences.extend(parts)
        return cls(templates, sentences, starts, counts)

    def __len__(self) -> int:
        return len(self.templates)

    def articles(self, n: int, seed: int = 0, *, own_share: float = 0.5,
                 per_day: float = 300.0, constant_rate: bool = False) -> Iterator[Article]:
        """Stream ``n`` synthetic articles (ids ``SYN000000001``, ...), the same for a seed.

        The timeline spans the real corpus's days or ``n / per_day`` when longer; with
        ``constant_rate`` it spans ``n / per_day`` days whatever ``n``, so that corpora of
        every size have ``per_day`` articles a day (a site's rate), and a 62-day window
        holds as many articles at 300,000 as at 1,000,000.
        """
        if not 0 <= own_share <= 1:
            raise ParameterError(f"own_share must be between 0 and 1, got {own_share}")
        if not np.isfinite(per_day) or per_day <= 0:
            raise ParameterError(f"per_day must be a positive number, got {per_day}")
        days = int(np.ceil(n / per_day))
        if not constant_rate:
            days = max(self.real_days, days)
        first_day = self.last_day - timedelta(days=days - 1)
        for block_start in range(0, n, BLOCK):
            yield from self._block(block_start, min(BLOCK, n - block_start), seed, own_share,
                                   first_day, days)

    def _block(self, start, size, seed, own_share, first_day, days) -> Iterator[Article]:
        rng = np.random.default_rng([seed, start // BLOCK])
        # Whole blocks of draws, then cut: a block's articles do not depend on n.
        templates = rng.integers(0, len(self.templates), BLOCK)[:size]
        day = (rng.random(BLOCK)[:size] * days).astype(np.int64)
        sentences = self.sentences
        for i, (j, d) in enumerate(zip(templates.tolist(), day.tolist())):
            template = self.templates[j]
            count = int(self.counts[j])
            own = rng.random(count) < own_share
            picks = np.empty(count, np.int64)
            picks[own] = self.starts[j] + rng.integers(0, count, int(own.sum()))
            pool = self.by_category[self.category_of[j]]
            picks[~own] = pool[rng.integers(0, len(pool), int((~own).sum()))]
            yield Article(
                id=f"SYN{start + i + 1:09d}",
                title=template.title,
                heading=template.heading,
                body=" ".join([sentences[p] for p in picks.tolist()]),
                category=template.category,
                published=_on_day(template.published, first_day + timedelta(days=d)),
            )


def _on_day(published: datetime | None, day) -> datetime:
    """The template's time of day (and offset) on another day; noon UTC when undated."""
    if published is None:
        return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)
    return published.replace(year=day.year, month=day.month, day=day.day)
