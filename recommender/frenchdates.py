"""French dates as news sites write them: "15 décembre 2019", "1er oct. 2019",
"mardi 02 juin 2020 à 16h50", "02/06/2020 16:50", "Publié le lundi 11 mai 2020 à 12h08".

CSV exports, page bylines and editors type dates this way, not in ISO 8601; reading them
here, once, lets every place that reads a date (the corpus reader, the command line's
``--as-of``, the import) take them. :func:`~recommender.times.parse_time` tries ISO 8601
first (the fast path of a 1 GB corpus) and this parser only when that fails.

What is read (case, accents, dots and spaces aside; non-breaking spaces are spaces):

- a day, a month name and a year: ``15 décembre 2019``, ``1er octobre 2019`` (``1er``),
  abbreviated months with or without accents and a final dot (``janv.``, ``févr.``/``fev``,
  ``avr.``, ``juil.``, ``août``/``aout``, ``sept.``, ``oct.``, ``nov.``, ``déc.``/``dec``; also
  ``jan`` and ``sep``);
- or day first in figures, as French sites write: ``02/06/2020``, ``02-06-2020``,
  ``02.06.2020`` (never month first: ``02/06`` is the 2nd of June);
- an optional weekday before (``mardi``, ``mar.``), which is *not* checked against the date:
  sites get it wrong, and the figures are what they mean;
- an optional time after: ``à 16h50``, ``16:50``, ``16:50:30``, ``16h``, ``16 h 50``,
  optionally with an offset (``UTC``, ``GMT``, ``Z``, ``+02:00``, ``+0200``, ``UTC+2``);
- an optional lead (``Publié le``, ``Mis en ligne le``, ``Le`` …) and an optional tail saying
  when it was updated (``, mis à jour le …``, ``Modifié le …``): the first date is the one
  read.

Anything else (a month first, a two-digit year, text around the date) is not a date here:
:func:`parse_french_date` returns None and the caller says it cannot read the value, rather
than guess.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta, timezone, tzinfo

__all__ = ["MONTHS", "parse_french_date"]

#: Month names and their abbreviations, without accents, lower case -> month number.
MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1,
    "fevrier": 2, "fevr": 2, "fev": 2,
    "mars": 3,
    "avril": 4, "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7, "juil": 7,
    "aout": 8,
    "septembre": 9, "sept": 9, "sep": 9,
    "octobre": 10, "oct": 10,
    "novembre": 11, "nov": 11,
    "decembre": 12, "dec": 12,
}
_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
             "lun", "mar", "mer", "jeu", "ven", "sam", "dim")
_LEADS = ("publie", "publiee", "mis en ligne", "mise en ligne", "mis a jour", "mise a jour",
          "modifie", "modifiee", "actualise", "actualisee", "paru", "parue",
          "date de publication", "publication", "date")
_UPDATES = ("mis a jour", "mise a jour", "modifie", "modifiee", "actualise", "actualisee",
            "maj", "m.a.j")


def _words(names) -> str:
    """An alternation of ``names``, longest first (so "sept" is not read as "sep"), each a
    whole word."""
    return "(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) \
        + r")(?![a-z])"


_DATE = re.compile(
    rf"(?:{_words(_LEADS)}\s*:?\s*)?(?:le\s+)?"
    rf"(?:{_words(_WEEKDAYS)}\.?,?\s+)?"
    r"(?:(?P<day>\d{1,2})(?:er)?\s*(?P<month>" + _words(MONTHS) + r")\.?,?\s*(?P<year>\d{4})"
    r"|(?P<nday>\d{1,2})(?P<sep>[/.-])(?P<nmonth>\d{1,2})(?P=sep)(?P<nyear>\d{4}))"
    r"(?:(?:\s*[,|\-\u2013\u2014]\s*|\s+)(?:a\s*)?"
    r"(?P<hour>\d{1,2})\s*(?:h\s*(?P<hminute>\d{2})?|:(?P<minute>\d{2})(?::(?P<second>\d{2}))?)"
    r"(?:\s*(?P<utc>utc|gmt|z)?\s*(?P<offset>[+-]\d{1,2}(?::?\d{2})?)?)?)?"
    rf"(?:\s*[,;|(\-\u2013\u2014]?\s*(?:et\s+)?{_words(_UPDATES)}.*)?",
    re.ASCII)


def parse_french_date(text: str, zone: tzinfo) -> datetime | None:
    """The aware datetime that ``text`` writes in French, or None when it is not one of the
    forms of this module (see its docstring), or names no such day ("31 février 2020").

    A time without an offset is in ``zone`` (None: UTC); a date without a time is midnight
    in ``zone``.
    An explicit offset (``UTC``, ``+02:00``) is kept. A weekday is accepted and not checked:
    "lundi 02 juin 2020" is the 2nd of June 2020 (a Tuesday).
    """
    if not isinstance(text, str) or not any(c.isdigit() for c in text):
        return None
    match = _DATE.fullmatch(_plain(text))
    if match is None:
        return None
    g = match.groupdict()
    if g["day"] is not None:
        day, month, year = int(g["day"]), MONTHS[g["month"]], int(g["year"])
    else:
        day, month, year = int(g["nday"]), int(g["nmonth"]), int(g["nyear"])
    hour = int(g["hour"] or 0)
    minute = int(g["hminute"] or g["minute"] or 0)
    second = int(g["second"] or 0)
    if g["offset"] is not None:
        zone = _offset(g["offset"])
        if zone is None:  # +25:00
            return None
    elif g["utc"] is not None or zone is None:
        zone = timezone.utc
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError:  # no such day or time: 31 février, 25h
        return None


def _plain(text: str) -> str:
    """Lower case, without accents (``1ᵉʳ`` is ``1er``), one space for any run of spaces
    (non-breaking ones included)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.lower().split())


def _offset(text: str) -> tzinfo | None:
    """``+02:00``, ``+0200`` or ``+2`` as a fixed offset; None when out of range."""
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = (digits, "0") if len(digits) <= 2 else (digits[:-2], digits[-2:])
    if int(hours) > 23 or int(minutes) > 59:
        return None
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
