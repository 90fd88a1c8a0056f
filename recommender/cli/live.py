"""``recommender add``, ``recommender withdraw`` and ``recommender compact``: change a model
folder in place, as articles are published and withdrawn.

Each change is appended to the folder's change log and is durable when the command
returns; a server following the folder (``recommender serve``) serves it from its next
request. ``add`` and ``withdraw`` print one line per article changed (``added ID``,
``updated ID``, ``withdrawn ID``), so a script can read what happened; ``compact`` folds
the log into a new base folder and prints one line.
"""

from __future__ import annotations

import logging
import time

from ..corpus import read_corpus
from ..model.estimator import ArticleRecommender
from .options import common_options, timezone_options

__all__ = ["add", "add_live", "compact", "withdraw"]

logger = logging.getLogger(__name__)


def add_live(sub) -> None:
    p = sub.add_parser("add", parents=[common_options(), timezone_options("the corpus's dates")],
                       help="add articles to a model folder, or update them (by id)")
    p.add_argument("model", help="model folder")
    p.add_argument("corpus", help="the new articles: .jsonl, .jsonl.gz, .jsonl.xz or .csv")
    p.add_argument("--skip-invalid", action="store_true",
                   help="skip bad lines and duplicate ids, and report them, instead of "
                        "failing")
    p.set_defaults(run=add)

    p = sub.add_parser("withdraw", parents=[common_options()],
                       help="withdraw articles from a model folder: they leave every list")
    p.add_argument("model", help="model folder")
    p.add_argument("ids", nargs="+", metavar="ID", help="article ids")
    p.set_defaults(run=withdraw)

    p = sub.add_parser("compact", parents=[common_options()],
                       help="fold a model folder's change log into a new base folder")
    p.add_argument("model", help="model folder")
    p.set_defaults(run=compact)


def add(args) -> int:
    started = time.perf_counter()
    model = ArticleRecommender.load(args.model)
    corpus = read_corpus(args.corpus, skip_invalid=args.skip_invalid, time_zone=args.timezone)
    changes = model.add(corpus)
    for kind, ids in (("added", changes.added), ("updated", changes.updated)):
        for article_id in ids:
            print(f"{kind} {article_id}")
    logger.info("%s added, %s updated in %.2f s; %s -> %s (change %s of its log)",
                f"{len(changes.added):,}", f"{len(changes.updated):,}",
                time.perf_counter() - started, args.corpus, args.model,
                f"{changes.position:,}")
    return 0


def withdraw(args) -> int:
    model = ArticleRecommender.load(args.model)
    ids = list(dict.fromkeys(args.ids))  # an id given twice is withdrawn once
    changes = model.withdraw(ids)
    for article_id in changes.withdrawn:
        print(f"withdrawn {article_id}")
    logger.info("%s withdrawn from %s (change %s of its log)", f"{len(changes.withdrawn):,}",
                args.model, f"{changes.position:,}")
    return 0


def compact(args) -> int:
    started = time.perf_counter()
    model = ArticleRecommender.load(args.model)
    changes = model.live_status()["changes"]
    path = model.compact()
    served = model.live_status()["articles"]
    print(f"compacted {changes:,} changes into {path}: {served:,} articles")
    logger.info("compacted in %.1f s", time.perf_counter() - started)
    return 0
