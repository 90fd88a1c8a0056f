"""Helpers of the import's tests (imported by them; the fixtures are in conftest.py): the
shipped sample of 12 real pages (``tests/data/pages``, see its README) and the comparisons
of the issue's targets."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo

PAGES = Path(__file__).parents[1] / "data" / "pages"
#: Orange's own ids, as the sample's README and the corpus use them.
ID_PATTERN = r"(CNT\w+)\.html"
PARIS = ZoneInfo("Europe/Paris")
WORD = re.compile(r"\w+")


def page_files() -> list[Path]:
    """The sample's HTML files, in the order a folder import reads them."""
    return sorted(PAGES.rglob("*.html"), key=lambda p: p.relative_to(PAGES).as_posix())


def read_jsonl(path) -> list[dict]:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def words(text: str) -> set[str]:
    """The set of lower-cased ``\\w+`` words: what the body's word overlap compares."""
    return set(WORD.findall((text or "").lower()))


def jaccard(a: str, b: str) -> float:
    x, y = words(a), words(b)
    return len(x & y) / len(x | y) if x | y else 1.0


def no_space(text: str) -> str:
    """``text`` without any whitespace: titles and headings are compared "whitespace
    aside" (the reference glued the lines of a paragraph without a space)."""
    return "".join((text or "").split())


def in_order(wanted, found) -> bool:
    """Whether ``wanted`` is a subsequence of ``found`` (the box holds more links)."""
    rest = iter(found)
    return all(item in rest for item in wanted)
