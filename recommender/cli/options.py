"""The command line's option types, the option groups several subcommands share, and what
their values do to a model.

An option type turns a bad value into ``argparse.ArgumentTypeError``, so that argparse
prints it with the usage and exits 2, as it does for its own errors.
"""

from __future__ import annotations

import argparse
import contextlib
import math

from ..bench.competitors import COMPETITORS
from ..bench.synthetic import parse_scale
from ..errors import ParameterError
from ..model.controls import CONTROLS, check_controls
from ..model.estimator import ArticleRecommender
from ..times import NO_LIMIT, parse_time, time_zone

__all__ = [
    "cluster_from_args", "cluster_options", "common_options", "competitors", "control_options",
    "days", "filter_options", "filters",
    "fit_options", "in_zone", "jobs_list", "ks", "listing_options", "load", "max_age_options",
    "positive_int", "positive_ints", "scales", "set_controls", "table_size", "timestamp",
    "timezone_options", "zone",
]


# -- option types ------------------------------------------------------------------------
def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def table_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer (0 for no "
                                         f"neighbour table), got {text!r}")
    return value


def days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of days, got {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number of days, got {text}"
                                         + (" (--no-max-age: no limit)"
                                            if value == math.inf else ""))
    return value


def max_age_options(parser: argparse.ArgumentParser, help_text: str, default=None) -> None:
    """``--max-age DAYS`` or ``--no-max-age`` (:data:`~recommender.times.NO_LIMIT`)."""
    age = parser.add_mutually_exclusive_group()
    age.add_argument("--max-age", type=days, metavar="DAYS", default=default, help=help_text)
    age.add_argument("--no-max-age", dest="max_age", action="store_const", const=NO_LIMIT,
                     help="no freshness limit")


def timestamp(text: str) -> str:
    """A time as ``parse_time`` reads it (ISO 8601 or French); the text is kept, and
    :func:`filters` places it in ``--timezone`` (which argparse may read after it)."""
    try:
        parse_time(text, what="time")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def zone(text: str):
    """An IANA time zone name, as a ``ZoneInfo``."""
    try:
        return time_zone(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"unknown time zone {text!r}: expected an IANA name such as 'Europe/Paris' or "
            f"'UTC' (on a system without that database, pip install tzdata)") from None


def in_zone(text, timezone):
    """A time of the command line (``--as-of``, an ids file's), as an aware datetime when
    ``--timezone`` is given; else the text as it came (the model reads a time without
    offset as UTC)."""
    if text is None or timezone is None:
        return text
    return parse_time(text, what="time", zone=timezone)


def positive_ints(default: int, example: str):
    """An option type: comma-separated positive integers (``[default]`` when none)."""
    def parse(text: str) -> list[int]:
        try:
            return [positive_int(part) for part in text.split(",") if part.strip()] or [default]
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(f"expected {example}, got {text!r}") from None
    return parse


ks = positive_ints(10, "k values like 2,5,10")
jobs_list = positive_ints(1, "thread counts like 1,2")


def scales(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected scales like real,100k,1m, got {text!r}")
    for name in names:
        try:
            parse_scale(name)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return names


def competitors(text: str) -> list[str]:
    if text.strip().lower() == "none":
        return []
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in COMPETITORS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown competitor {unknown[0]!r}: expected some of "
                                         f"{','.join(COMPETITORS)} (or 'none')")
    return names


# -- option groups (parent parsers) ------------------------------------------------------
def common_options() -> argparse.ArgumentParser:
    """``--quiet`` and ``--debug``: every subcommand has them."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", "-q", action="store_true", help="no progress or info lines")
    common.add_argument("--debug", action="store_true",
                        help="show tracebacks of user errors too")
    return common


def timezone_options(dates: str) -> argparse.ArgumentParser:
    """``--timezone``: the time zone of the ``dates`` that the command reads without an
    offset (the default, UTC, is that of the corpus format and of the API)."""
    timezone = argparse.ArgumentParser(add_help=False)
    timezone.add_argument("--timezone", type=zone, metavar="ZONE",
                          help=f"the time zone of {dates} written without an offset, an IANA "
                               f"name such as Europe/Paris (default: UTC)")
    return timezone


def filter_options() -> argparse.ArgumentParser:
    """Which articles may be recommended: time, age and category; ``--timezone`` for the
    times."""
    filters = argparse.ArgumentParser(
        add_help=False, parents=[timezone_options("--as-of, --since and --until")])
    filters.add_argument("--as-of", type=timestamp, metavar="TIME",
                         help="recommend as of this time: only articles published before it "
                              "(ISO 8601 or French: '2020-06-02T16:50', '2 juin 2020 à "
                              "16h50', '02/06/2020 16:50')")
    max_age_options(filters, "only articles at most this old (default: the model's)")
    filters.add_argument("--since", type=timestamp, metavar="TIME",
                         help="only articles from then on")
    filters.add_argument("--until", type=timestamp, metavar="TIME",
                         help="only articles before then")
    filters.add_argument("--category", action="append", metavar="NAME",
                         help="only articles of this category (repeat for several)")
    return filters


def cluster_options() -> argparse.ArgumentParser:
    """``--workers N`` (a Dask cluster of N one-thread processes on this machine) or
    ``--scheduler ADDRESS`` (an existing cluster); neither: the local run. Both need the
    ``distributed`` extra (:func:`cluster_from_args` says how to install it)."""
    cluster = argparse.ArgumentParser(add_help=False)
    group = cluster.add_argument_group("Dask cluster (pip install 'recommender[distributed]')")
    where = group.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N",
                       help="run on a Dask cluster of N worker processes of one thread each, "
                            "started on this machine")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on the Dask cluster of this scheduler (tcp://HOST:8786); "
                            "its workers must read the model and data at the same paths")
    return cluster


def cluster_from_args(args):
    """The cluster of ``--workers`` / ``--scheduler`` as a context manager yielding a Dask
    client, or yielding None when neither is given. Checked now, before any work: a number
    of workers below 1 is a ParameterError, and a missing Dask a MissingDependencyError
    with the install hint."""
    workers, scheduler = getattr(args, "workers", None), getattr(args, "scheduler", None)
    if workers is None and scheduler is None:
        return contextlib.nullcontext(None)
    if workers is not None and workers < 1:
        raise ParameterError(f"--workers must be at least 1, got {workers}; leave it out to "
                             f"run without a cluster")
    from ..cluster.client import cluster_client, require

    require("--workers" if workers is not None else "--scheduler")
    return cluster_client(scheduler=scheduler, workers=workers)


def fit_options() -> argparse.ArgumentParser:
    """What every command that fits a model takes: bad lines, the corpus's time zone,
    processes, the table."""
    fit = argparse.ArgumentParser(
        add_help=False, parents=[timezone_options("the dates of the corpus (and ground truth)")])
    fit.add_argument("--skip-invalid", action="store_true",
                     help="skip bad lines and duplicate ids, and report them, instead of "
                          "failing")
    fit.add_argument("--jobs", type=positive_int, default=2,
                     help="threads for scoring, processes for the analysis of the text")
    fit.add_argument("--table-size", type=table_size, default=50, metavar="N",
                     help="precompute each article's top N for serving, 0 for none "
                          "(default: %(default)s)")
    return fit


def control_options() -> argparse.ArgumentParser:
    """The newsroom controls; each overrides the model's own value when given."""
    controls = argparse.ArgumentParser(add_help=False)
    group = controls.add_argument_group(
        "newsroom controls (default: the model's; see EVALUATION.md)")
    group.add_argument("--half-life", type=days, metavar="DAYS",
                       help="freshness decay: a score halves every DAYS of age")
    group.add_argument("--dedupe", type=float, metavar="COSINE",
                       help="drop an item whose text has this cosine with one shown above it")
    group.add_argument("--diversity", type=float, metavar="WEIGHT",
                       help="maximal marginal relevance, 0 (none) to 1 (novelty only)")
    group.add_argument("--min-score", type=float, metavar="SCORE",
                       help="show fewer items rather than any below this score")
    return controls


def listing_options() -> argparse.ArgumentParser:
    """One list, printed: its length and form."""
    listing = argparse.ArgumentParser(add_help=False)
    listing.add_argument("-k", type=positive_int, default=5,
                         help="how many (default: %(default)s)")
    listing.add_argument("--explain", action="store_true",
                         help="show the shared words behind each")
    listing.add_argument("--json", action="store_true", help="print JSON")
    return listing


# -- what the values do ------------------------------------------------------------------
def load(args, *, rows: bool = True) -> ArticleRecommender:
    """The model folder of the command, with the controls given on the command line;
    ``rows=False``: of a folder sharded by time, without its rows (a client whose workers
    read them: :mod:`recommender.model.shards`)."""
    model = (ArticleRecommender.load(args.model) if rows
             else ArticleRecommender.from_folder(args.model, keep=()))
    return set_controls(model, args)


def set_controls(model, args):
    """Set on ``model`` the controls given on the command line, checked with the model's."""
    given = {name: getattr(args, name) for name in CONTROLS
             if getattr(args, name, None) is not None}
    current = {name: getattr(model, name) for name in CONTROLS}
    for name, value in check_controls(**{**current, **given}).items():
        setattr(model, name, value)
    return model


def filters(args) -> dict:
    """The filter options as keyword arguments of ``recommend``, ``similar`` and ``batch``,
    their times in ``--timezone`` (see :func:`in_zone`)."""
    return {"as_of": in_zone(args.as_of, args.timezone), "max_age": args.max_age,
            "since": in_zone(args.since, args.timezone),
            "until": in_zone(args.until, args.timezone), "categories": args.category}
