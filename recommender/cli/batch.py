"""``recommender batch``: the related lists of every article (or of ``--ids``), to a file or
to a database table (``--out`` a URL: :mod:`recommender.batch.database`)."""

from __future__ import annotations

import logging
import time

from ..batch.database import write_lists
from ..batch.dburl import connect, is_url, mask
from ..batch.ids import read_ids_file
from ..batch.score import score_to_file
from ..batch.tables import TABLE
from ..errors import ParameterError
from .options import cluster_from_args, cluster_options, common_options, control_options, \
    filter_options, filters, in_zone, load, positive_int

__all__ = ["add_batch", "batch"]

logger = logging.getLogger(__name__)


def add_batch(sub) -> None:
    p = sub.add_parser("batch", parents=[common_options(), filter_options(), control_options(),
                                         cluster_options()],
                       help="related lists of every article, to a .jsonl or .csv file or a "
                            "database table")
    p.add_argument("model", help="model folder")
    p.add_argument("--out", required=True,
                   help="output file, .jsonl or .csv, or database URL (sqlite:///recs.db, "
                        "mysql+pymysql://USER:PASSWORD@HOST/DB, postgresql+psycopg://…)")
    p.add_argument("-k", type=positive_int, default=10, help="how many (default: %(default)s)")
    p.add_argument("--ids", help="only these articles: one 'ID' or 'ID<TAB>AS_OF' a line")
    p.add_argument("--table", help=f"the table of a database URL (default: {TABLE})")
    p.set_defaults(run=batch)


def batch(args) -> int:
    url = None
    if is_url(args.out):
        url, args.out = args.out, mask(args.out)  # no error line may show the password
        connect(url).dispose()  # a bad URL, driver or server fails before the model loads
    elif args.table is not None:
        raise ParameterError(f"--table names a table of a database URL; --out {args.out} is "
                             f"a file (a URL looks like sqlite:///recs.db)")
    cluster = cluster_from_args(args)  # a bad --workers or a missing Dask: before the model
    # the workers of a cluster read the rows: of a sharded folder, the client does not
    model = load(args, rows=args.workers is None and args.scheduler is None)
    ids, as_of = None, filters(args)["as_of"]
    if args.ids:
        ids, per_id = read_ids_file(args.ids)
        if per_id is not None:  # a line without a time takes --as-of
            as_of = [in_zone(t, args.timezone) if t is not None else as_of for t in per_id]
    started = time.perf_counter()
    with cluster as client:
        return _write(args, model, url, ids, as_of, client, started)


def _write(args, model, url, ids, as_of, client, started) -> int:
    """Write the lists (on ``client``'s workers when it is not None)."""
    where = {"client": client, "model_path": args.model if client is not None else None}
    if url is not None:
        rows = write_lists(model, url, k=args.k, ids=ids, table=args.table or TABLE,
                           progress=not args.quiet, **where,
                           **{**filters(args), "as_of": as_of})
        logger.info("wrote the top %d of %s articles (%s rows) in %.1f s -> %s, table %s",
                    args.k, f"{len(model.served_ids()) if ids is None else len(ids):,}",
                    f"{rows:,}", time.perf_counter() - started, args.out, args.table or TABLE)
        return 0
    n = score_to_file(model, args.out, k=args.k, ids=ids, progress=not args.quiet, **where,
                      **{**filters(args), "as_of": as_of})
    logger.info("wrote the top %d of %s articles in %.1f s -> %s", args.k, f"{n:,}",
                time.perf_counter() - started, args.out)
    return 0
