"""``recommender import``: a site's pages (HTML files, folders, tar or WARC archives,
RSS/Atom feeds) to a corpus file, each page's related box as its ``related`` ids
(:mod:`recommender.imports`)."""

from __future__ import annotations

import logging
import time

from ..imports.run import DEFAULT_ZONE
from .options import common_options, positive_int, timestamp, zone

__all__ = ["add_import", "import_command"]

logger = logging.getLogger(__name__)


def add_import(sub) -> None:
    p = sub.add_parser(
        "import", parents=[common_options()],
        help="a site's pages (HTML, folders, tar, WARC, RSS/Atom) to a corpus file, with "
             "their related boxes as ground truth")
    p.add_argument("sources", nargs="+", metavar="SOURCE",
                   help="an HTML file, a folder of them (recursively), a .tar(.gz) of them, "
                        "a WARC file, or an RSS/Atom feed")
    p.add_argument("--out", required=True, metavar="CORPUS",
                   help="the corpus file to write, .jsonl or .jsonl.gz")
    p.add_argument("--id-pattern", metavar="REGEX",
                   help="the site's own id: the first group of this regular expression in "
                        "the page's URL, e.g. '(CNT\\w+)\\.html' (default: the canonical URL)")
    p.add_argument("--box-heading", action="append", default=[], metavar="TEXT",
                   help="another heading of the related box (repeat for several; accents, "
                        "case and a final colon are ignored), added to the known ones "
                        "('À lire aussi', 'Sur le même sujet', …)")
    p.add_argument("--box-selector", metavar="CSS",
                   help="the related box as a CSS selector (div.related, #related, aside "
                        "ul), instead of finding it by its heading")
    p.add_argument("--shown-at", type=timestamp, metavar="TIME",
                   help="when the pages were rendered, for the pages that do not say it "
                        "(their related_at)")
    p.add_argument("--timezone", type=zone, metavar="ZONE",
                   help=f"the time zone of the times a page writes without an offset "
                        f"(default: {DEFAULT_ZONE})")
    p.add_argument("--jobs", type=positive_int, default=1,
                   help="worker processes (default: %(default)s)")
    p.set_defaults(run=import_command)


def import_command(args) -> int:
    from ..imports import import_pages

    started = time.perf_counter()
    summary = import_pages(args.sources, args.out, id_pattern=args.id_pattern,
                           box_headings=args.box_heading, box_selector=args.box_selector,
                           shown_at=args.shown_at, zone=args.timezone or DEFAULT_ZONE,
                           jobs=args.jobs, progress=not args.quiet)
    for line in summary.lines():
        logger.info("%s", line)
    logger.info("in %.1f s", time.perf_counter() - started)
    return 0
