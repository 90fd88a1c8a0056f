"""Finding articles by the words of their title, for people (the editors' page).

An editor looks an article up as they remember it: a few words of its title, typed
without accents or capitals ("reforme retraites"), or its id. :func:`find_articles`
answers the article with that exact id first, then those whose title holds every word
typed (as a part of a word: "retraite" finds "retraites"), case and accents ignored, the
newest first. The titles are folded once per catalogue (about 0.1 s for 34,000 titles) and
kept while that catalogue is served; a search is then one pass over the folded titles.
"""

from __future__ import annotations

import functools
import unicodedata
import weakref

import numpy as np

from ..errors import ParameterError

__all__ = ["find_articles", "fold", "folded_titles"]

#: The folded titles of each catalogue served (dropped with the catalogue).
_FOLDED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@functools.lru_cache(maxsize=1 << 18)
def fold(text: str) -> str:
    """``text`` without accents, case folded, with spaces for punctuation: what a typed
    query and a title are compared as (remembered: a catalogue changed by a live add folds
    only its new titles)."""
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text)
                       if not unicodedata.combining(c))
    return text.casefold().translate(_SPACES)


#: Punctuation as spaces (ASCII, and the quotes, apostrophes and dashes of French text).
_SPACES = str.maketrans({c: " " for c in
                         [chr(i) for i in range(128) if not chr(i).isalnum()]
                         + list("\u2018\u2019\u201c\u201d\u00ab\u00bb\u2013\u2014\u2026\u00a0")}
                        | {"\u0153": "oe", "\u00e6": "ae"})


def find_articles(model, query: str, limit: int = 20) -> list[str]:
    """The ids of at most ``limit`` articles that ``model`` serves matching ``query``: the
    article whose id it is first, then those whose title holds every word of it, newest
    first. ParameterError for a query without a word."""
    words = fold(query).split()
    if not query.strip():
        raise ParameterError("the search is empty: type words of a title, or an article id")
    found = [query.strip()] if query.strip() in model else []
    if not words:
        return found[:limit]
    catalogue = model.catalogue_
    folded = folded_titles(catalogue)
    served = catalogue.served_rows()
    newest_first = served[np.argsort(-catalogue.published[served], kind="stable")]
    for row in newest_first.tolist():
        title = folded[row]
        if all(word in title for word in words):
            article_id = str(catalogue.ids[row])
            if article_id not in found:
                found.append(article_id)
                if len(found) >= limit:
                    break
    return found


def folded_titles(catalogue) -> list[str]:
    """The folded title of each row of ``catalogue``, made on first use and kept with it
    (call it once at start so that no search pays for it)."""
    folded = _FOLDED.get(catalogue)
    if folded is None:
        folded = _FOLDED[catalogue] = [fold(str(t)) for t in catalogue.titles]
    return folded
