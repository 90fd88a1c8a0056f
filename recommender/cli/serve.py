"""``recommender serve``: the HTTP service on a model folder (see :mod:`recommender.serve`).

Everything that can be wrong is checked before a worker starts, each as one line and exit
status 2: the service's packages installed, the token file, an exposed address without a
token, the port free, the model folder whole (its files' sha256 checked once, here; the
workers then load it without reading it all again).
"""

from __future__ import annotations

import argparse
import logging
import os

from ..batch.dburl import mask
from ..batch.sync import sync_lists
from ..model.estimator import ArticleRecommender
from .options import common_options, positive_int

__all__ = ["add_serve", "serve"]

logger = logging.getLogger(__name__)


def port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {text!r}")
    return value


def add_serve(sub) -> None:
    p = sub.add_parser("serve", parents=[common_options()],
                       help="serve related lists over HTTP, with live adds and withdrawals",
                       description="Serve a model folder over HTTP (FastAPI on uvicorn; "
                                   "pip install 'recommender[serve]'). Routes: see /docs.")
    p.add_argument("model", help="model folder")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: %(default)s); another than a "
                        "loopback one needs a token, or --read-only")
    p.add_argument("--port", type=port, default=8000, help="(default: %(default)s)")
    p.add_argument("--workers", type=positive_int, default=1,
                   help="worker processes; they share the memory-mapped model and follow "
                        "its folder's changes (default: %(default)s)")
    p.add_argument("--read-only", action="store_true",
                   help="refuse POST /articles and DELETE /articles/ID (405); the server "
                        "still follows changes made to the folder by other processes")
    p.add_argument("--token-file", metavar="FILE",
                   help="the token of the write and admin calls, on the file's first line "
                        "(default: the environment variable RECOMMENDER_TOKEN)")
    p.add_argument("--sync", metavar="URL",
                   help="a database (SQLAlchemy URL, e.g. sqlite:///recs.db) whose table "
                        "related_articles is brought up to date at start and after every "
                        "add, withdrawal, pin and ban: only the lists that changed are "
                        "rewritten (pip install 'recommender[sql]')")
    p.add_argument("--access-log", action="store_true",
                   help="log every request (off by default: it costs throughput)")
    p.set_defaults(run=serve)


def serve(args) -> int:
    from ..serve.server import check_port, require, run
    from ..serve.settings import Settings

    require()  # before the modules that import the service's packages
    from ..serve.security import check_exposure, is_loopback, read_token

    token = read_token(args.token_file)
    check_exposure(args.host, read_only=args.read_only, token=token)
    check_port(args.host, args.port)
    model = ArticleRecommender.load(args.model)  # a damaged folder fails here, in one line
    if args.sync:  # a bad URL, a missing driver, a server away: one line, before any worker
        report = sync_lists(model.snapshot(), args.sync)
        logger.info("synced %s at start: %d lists changed, current up to change %d",
                    mask(args.sync), report.lists_changed, report.position)
    if token is None and not args.read_only:
        logger.warning("no token: anyone who can reach %s:%d may add and withdraw articles "
                       "(set RECOMMENDER_TOKEN or --token-file)", args.host, args.port)
    settings = Settings(model_dir=os.path.abspath(args.model), read_only=args.read_only,
                        token_file=args.token_file and os.path.abspath(args.token_file),
                        loopback=is_loopback(args.host),
                        sync_url=args.sync)
    if args.workers > 1:
        model = None  # each worker loads its own
    run(settings, host=args.host, port=args.port, workers=args.workers, model=model,
        quiet=args.quiet, access_log=args.access_log)
    return 0
