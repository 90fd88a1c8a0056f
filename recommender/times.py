"""One internal form of time: int64 seconds since 1970 UTC, parsed once at the public edge.

Users give times as ISO 8601 strings, French dates as sites write them ("15 décembre
2019", "mardi 02 juin 2020 à 16h50", "02/06/2020 16:50": :mod:`recommender.frenchdates`),
``datetime``, ``date``, or numpy ``datetime64`` arrays (UTC); ages as days or
``timedelta``. The public methods turn them into seconds here, once per call, and
everything below works on int64 seconds (:data:`UNDATED` for "no time").
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from .errors import ParameterError
from .frenchdates import parse_french_date

__all__ = ["NO_LIMIT", "SECONDS_PER_DAY", "UNDATED", "calendar_starts", "check_days",
           "days_to_seconds", "parse_time", "time_zone", "times_of", "to_iso", "to_seconds",
           "zone_of"]

#: The seconds of an unknown time: after every date, so undated rows sort last.
UNDATED = np.iinfo(np.int64).max
SECONDS_PER_DAY = 86_400
#: ``max_age=NO_LIMIT``: no freshness limit for this call, whatever the model's default.
NO_LIMIT = math.inf


def parse_time(value, *, what: str = "time", zone=None) -> datetime | None:
    """An aware datetime from an ISO 8601 string, a French date (see
    :mod:`recommender.frenchdates`), a date, a datetime or None.

    A value without a UTC offset is in ``zone`` (a ``tzinfo`` or an IANA name such as
    ``"Europe/Paris"``; default UTC); a date alone is midnight there. ISO 8601 is tried
    first: it is the fast path of a corpus, and the French forms are read only when it
    fails. Raises ``ValueError`` naming the value and the forms read when it cannot be read.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = parse_french_date(value, zone_of(zone))
            if parsed is None:
                raise ParameterError(
                    f"cannot read {what} {value!r}: expected ISO 8601 such as '2020-07-03' or "
                    f"'2020-07-03T12:43:14+02:00', or a French date such as '15 décembre "
                    f"2019', '1er oct. 2019 à 16h50' or '02/06/2020 16:50' (day first)"
                ) from None
    else:
        raise ParameterError(f"cannot read {what} {value!r}: expected an ISO 8601 string, "
                             f"got {type(value).__name__}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc if zone is None else zone_of(zone))
    return parsed


def zone_of(zone, what: str = "time_zone") -> tzinfo:
    """The time zone of times given without an offset: UTC for None, a ``tzinfo`` as it is,
    an IANA name through :func:`time_zone` (ParameterError if unknown)."""
    if zone is None:
        return timezone.utc
    if isinstance(zone, tzinfo):
        return zone
    return time_zone(zone, what)


def to_seconds(value, what: str = "time", zone=None) -> int:
    """Seconds since 1970 UTC of a time (see :func:`parse_time`; ``zone`` is that of a time
    without offset), :data:`UNDATED` for None."""
    if isinstance(value, np.datetime64):
        return _datetime64_seconds(np.asarray(value))[()]
    moment = parse_time(value, what=what, zone=zone)
    return UNDATED if moment is None else int(moment.timestamp())


def to_iso(seconds) -> str | None:
    """The ISO 8601 form (UTC) of seconds, None for :data:`UNDATED`."""
    if seconds == UNDATED:
        return None
    return datetime.fromtimestamp(int(seconds), timezone.utc).isoformat()


def times_of(value, n: int, what: str = "as_of") -> np.ndarray:
    """One time per item, as int64 seconds (:data:`UNDATED` where none is given).

    ``value`` is one time for all ``n`` items (None, a string, a datetime), or a sequence
    of ``n`` of them, or a ``datetime64`` array (NaT for none).
    """
    if isinstance(value, np.ndarray) and value.dtype.kind == "M":
        if value.ndim == 0:
            return np.full(n, to_seconds(value[()], what), np.int64)
        _check_length(len(value), n, what)
        return _datetime64_seconds(value)
    if value is not None and not isinstance(value, (str, date)) and np.ndim(value) == 1:
        _check_length(len(value), n, what)
        return np.array([to_seconds(t, what) for t in value], dtype=np.int64)
    return np.full(n, to_seconds(value, what), dtype=np.int64)


def _check_length(given: int, n: int, what: str) -> None:
    if given != n:
        raise ParameterError(f"{what} has {given} times for {n} articles; give one time for "
                             f"all or one per article")


def _datetime64_seconds(values: np.ndarray) -> np.ndarray:
    seconds = values.astype("datetime64[s]").astype(np.int64)
    return np.where(np.isnat(values), UNDATED, seconds)


def check_days(value, what: str = "max_age") -> float | None:
    """A number of days (a positive number, a ``timedelta``, or :data:`NO_LIMIT`) as a
    float; None stays None. Raises :class:`~recommender.errors.ParameterError`."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        value = value.total_seconds() / SECONDS_PER_DAY
    if isinstance(value, (bool, np.bool_)) or \
            not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{what} must be a number of days or a timedelta, got {value!r}")
    if not value > 0:
        raise ParameterError(f"{what} must be a positive number of days, got {value}")
    return float(value)


def days_to_seconds(days: float | None) -> int | None:
    """Whole seconds of an age in days; None for no limit (None or :data:`NO_LIMIT`)."""
    if days is None or math.isinf(days):
        return None
    return int(round(days * SECONDS_PER_DAY))


def time_zone(name, what: str = "time_zone") -> ZoneInfo:
    """The IANA time zone ``name`` (such as ``"Europe/Paris"``); ParameterError if unknown."""
    if not isinstance(name, str) or not name:
        raise ParameterError(f"{what} must be the name of a time zone such as "
                             f"'Europe/Paris', got {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ParameterError(f"{what}: unknown time zone {name!r} (a name of the IANA "
                             f"database such as 'Europe/Paris'; on a system without that "
                             f"database, pip install tzdata)") from None


def calendar_starts(seconds: np.ndarray, days: int, zone: ZoneInfo) -> np.ndarray:
    """For each time (int64 seconds), the start of the day ``days`` calendar days before
    its own day, both days as in ``zone``: the lower bound of a calendar window. Each
    distinct time is looked up once (some zones' old offsets are not whole minutes)."""
    seconds = np.asarray(seconds, np.int64)
    distinct, inverse = np.unique(seconds, return_inverse=True)
    starts = np.empty(len(distinct), np.int64)
    for i, second in enumerate(distinct.tolist()):
        try:
            day = datetime.fromtimestamp(second, zone).date() - timedelta(days=days)
            starts[i] = int(datetime.combine(day, time(), tzinfo=zone).timestamp())
        except (OverflowError, ValueError, OSError):  # outside years 1 to 9999
            starts[i] = np.iinfo(np.int64).min
    return starts[inverse.reshape(seconds.shape)]
