"""``recommender sync``: rewrite, in a database table of related lists, only the lists that
changed since it was written (articles added, withdrawn, pins edited), in one transaction
(:mod:`recommender.batch.sync`); one info line says how many and up to which change of the
model folder's log the table is now current."""

from __future__ import annotations

import logging

from ..batch.dburl import connect, is_url, mask
from ..batch.sync import sync_lists
from ..batch.tables import TABLE
from ..errors import ParameterError
from ..model.estimator import ArticleRecommender
from .options import common_options, positive_int

__all__ = ["add_sync", "sync"]

logger = logging.getLogger(__name__)


def add_sync(sub) -> None:
    p = sub.add_parser("sync", parents=[common_options()],
                       help="rewrite the lists that changed in a database table written by "
                            "batch --out URL")
    p.add_argument("model", help="model folder")
    p.add_argument("--out", required=True, metavar="URL",
                   help="database URL (sqlite:///recs.db, mysql+pymysql://USER:PASSWORD@HOST/DB, "
                        "postgresql+psycopg://…)")
    p.add_argument("-k", type=positive_int,
                   help="how many per list (default: the table's, 10 for a new table; another "
                        "k rewrites every list)")
    p.add_argument("--table", default=TABLE, help="the table (default: %(default)s)")
    p.set_defaults(run=sync)


def sync(args) -> int:
    url, args.out = args.out, mask(args.out)  # no error line may show the password
    if not is_url(url):
        raise ParameterError(f"--out must be a database URL such as sqlite:///recs.db or "
                             f"mysql+pymysql://USER:PASSWORD@HOST/DB, got {args.out!r}")
    connect(url).dispose()  # a bad URL, driver or server fails before the model loads
    model = ArticleRecommender.load(args.model)
    report = sync_lists(model, url, k=args.k, table=args.table, progress=not args.quiet)
    what = ("wrote a whole set: " if report.full else "") + (
        f"{report.lists_changed:,} lists changed, {report.lists_removed:,} removed, "
        f"{report.rows_written:,} rows written, {report.rows_deleted:,} deleted")
    logger.info("%s in %.1f s; %s table %s is current up to change %s of %s's log "
                "(version %s)", what, report.elapsed, args.out, args.table,
                f"{report.position:,}", args.model, report.model_version)
    return 0
