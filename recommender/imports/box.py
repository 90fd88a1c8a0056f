"""The site's related box in a page: its links, in the order the page shows them.

The box is the ground truth of an evaluation ("here is how well your box does"), so it is
read from the page as the reader saw it:

* **by its heading**: the first text of the page (outside scripts and styles) that reads,
  accents, case, spaces and a final colon aside, as one of :data:`HEADINGS` or of the
  headings given with ``--box-heading``. The box is what follows that heading: from the
  heading (or the smallest of its ancestors, at most :data:`MAX_CLIMB` levels up, that has
  a following sibling holding a link) the run of following siblings that hold links, up to
  the first that holds none or is a heading (``h1``–``h6``). That reads a
  ``<span>A lire aussi</span><div>…links…</div>``, a ``<h2>…</h2><ul>…</ul>`` and a heading
  followed by one card per link. A text of the same words inside a paragraph ("À lire :
  …" in the text of the article) is not a heading and is not read.
* **by ``--box-selector CSS``**: the links inside the first element the selector names.

Each link is made absolute against the page's URL; links that are not web addresses
(``javascript:``, ``mailto:``, anchors) are left out, and a target linked twice (a card's
picture and its title) is kept once, at its first place. The box's elements are then taken
out of the tree, so that the text extraction never reads them into the article's body.
"""

from __future__ import annotations

import re
import unicodedata

from .ids import absolute_url
from .selectors import css_to_xpath

__all__ = ["Box", "HEADINGS", "MAX_CLIMB", "heading_key"]

#: The headings of related boxes on French news sites (accents, case and a final colon
#: are ignored; ``--box-heading`` adds to them).
HEADINGS = (
    "À lire aussi", "A lire aussi", "Lire aussi", "À lire également", "Lire également",
    "À lire sur le même sujet", "Ces articles devraient vous intéresser",
    "Ces articles pourraient vous intéresser", "Ces articles peuvent vous intéresser",
    "Aller plus loin", "Pour aller plus loin", "Sur le même sujet", "Sur le même thème",
    "Dans la même rubrique", "Voir aussi", "À voir aussi", "À découvrir aussi",
    "À découvrir également", "Vous aimerez aussi", "Vous aimerez peut-être aussi",
    "Vous pourriez aimer", "Articles liés", "Articles similaires", "Articles associés",
    "Contenus associés", "Nos articles sur le même sujet", "En lien avec cet article",
)
#: How many ancestors of the heading are tried for the box's links.
MAX_CLIMB = 4
#: A text longer than the longest heading by more than this (punctuation, an arrow) is
#: never a box's heading: a fast XPath filter before the comparison.
_SLACK = 6
_SECTION_HEADS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_PUNCTUATION = re.compile(r"[\s:.…!?>»«\"'’\-–—|]+")


def _fold_table() -> dict[int, str]:
    """Accented Latin letters (U+00C0 to U+017F) to their letters without accents."""
    table = {}
    for code in range(0xC0, 0x180):
        plain = "".join(c for c in unicodedata.normalize("NFKD", chr(code))
                        if not unicodedata.combining(c))
        if plain and plain != chr(code):
            table[code] = plain
    table.update({ord("œ"): "oe", ord("Œ"): "OE", ord("æ"): "ae", ord("Æ"): "AE",
                  ord("’"): "'"})
    return table


_FOLD = _fold_table()


def heading_key(text: str) -> str:
    """``text`` without accents, case, punctuation at either end and repeated spaces: the
    form in which headings are compared."""
    plain = text.translate(_FOLD).casefold()
    if not plain.isascii():  # rarer accents: the full decomposition
        plain = "".join(c for c in unicodedata.normalize("NFKD", plain)
                        if not unicodedata.combining(c))
    return " ".join(_PUNCTUATION.sub(" ", plain).split())


class Box:
    """Find a page's related box: ``Box(headings=(), selector=None)(tree, url)`` -> the
    box's link URLs in order, or None when the page has no box.

    ``headings`` are added to :data:`HEADINGS`; ``selector`` (CSS, see
    :mod:`recommender.imports.selectors`) replaces the search by heading.
    """

    def __init__(self, headings=(), selector: str | None = None):
        self.headings = tuple(headings)
        self.selector = selector
        self._keys = frozenset(k for k in map(heading_key, HEADINGS + self.headings) if k)
        longest = max(map(len, self._keys), default=0) + _SLACK
        self._texts = (f"//text()[string-length(normalize-space(.)) > 3]"
                       f"[string-length(normalize-space(.)) <= {longest}]"
                       f"[not(ancestor::script or ancestor::style or ancestor::noscript)]")
        self._xpath = css_to_xpath(selector) if selector is not None else None

    def __getstate__(self):  # to a worker process: the parameters, not the compiled forms
        return {"headings": self.headings, "selector": self.selector}

    def __setstate__(self, state):
        self.__init__(state["headings"], state["selector"])

    def __call__(self, tree, url: str = "") -> list[str] | None:
        """The absolute URLs of the box of ``tree`` (an lxml HTML tree), in the page's
        order, each once; None when no box is found (a box without links counts as none).
        The box's elements are removed from ``tree``."""
        parts = self._by_selector(tree) if self._xpath is not None else self._by_heading(tree)
        if not parts:
            return None
        links = []
        for part in parts:
            for anchor in part.iter("a"):
                target = absolute_url(anchor.get("href") or "", url)
                if target:
                    links.append(target)
        for part in parts:
            _remove(part)
        return list(dict.fromkeys(links)) or None

    def _by_selector(self, tree) -> list:
        found = tree.xpath(self._xpath)
        return found[:1] if found and _has_link(found[0]) else []

    def _by_heading(self, tree) -> list:
        for text in tree.xpath(self._texts):
            if heading_key(text) not in self._keys:
                continue
            element = text.getparent()
            if text.is_tail:  # the text after an element is its parent's
                continue
            parts = _links_after(element)
            if parts:
                return [element, *parts]
        return []


def _has_link(element) -> bool:
    return any(a.get("href") for a in element.iter("a"))


def _links_after(heading) -> list:
    """The run of siblings after ``heading`` (or after one of its ancestors) that hold
    links: the box's body."""
    node = heading
    for _ in range(MAX_CLIMB):
        run = []
        for sibling in node.itersiblings():
            if not isinstance(sibling.tag, str):
                continue
            if sibling.tag in _SECTION_HEADS or not _has_link(sibling):
                break
            run.append(sibling)
        if run:
            return run
        node = node.getparent()
        if node is None or node.tag in ("body", "html"):
            break
    return []


def _remove(element) -> None:
    """Take ``element`` out of its tree, keeping the text that follows it (its tail)."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)
