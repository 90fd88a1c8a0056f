"""``recommender train``: fit a model on a corpus file, or on a folder or glob of partitions,
and save its folder; with ``--workers`` or ``--scheduler``, on a Dask cluster (the
partitions read and analysed on the workers, the neighbour table scored there:
:mod:`recommender.cluster.fit`), the same model as the local run's."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from tqdm import tqdm

from .._files import writer_lock
from ..cluster.fit import cluster_table, fit_partitions
from ..cluster.partitions import list_partitions, open_corpus
from ..errors import InputFileNotFoundError, ParameterError
from ..model.estimator import DEFAULT_MAX_AGE, ArticleRecommender
from ..model.pins import Pins
from ..model.search import SCORINGS
from ..store import check_replaceable
from ..truth import half_of, read_ground_truth
from .options import cluster_from_args, cluster_options, common_options, control_options, days, \
    fit_options, positive_int, set_controls

__all__ = ["add_train", "train"]

logger = logging.getLogger(__name__)


def add_train(sub) -> None:
    p = sub.add_parser("train", parents=[common_options(), fit_options(), control_options(),
                                         cluster_options()],
                       help="fit a model on a corpus file or on partitions")
    p.add_argument("corpus", help="articles: a file (.jsonl, .jsonl.gz, .jsonl.xz or .csv), or "
                                  "partitions read in the order of their names: a folder or a "
                                  "glob of such files and .parquet ones, or an fsspec URL "
                                  "(s3://bucket/articles/*.parquet)")
    p.add_argument("--out", default="models/default", help="model folder (default: %(default)s)")
    age = p.add_mutually_exclusive_group()
    age.add_argument("--max-age", type=days, metavar="DAYS", default=DEFAULT_MAX_AGE,
                     help="the model's default freshness, in days (default: %(default)s, "
                          "chosen on the shared corpus's lists)")
    age.add_argument("--no-max-age", dest="max_age", action="store_const", const=None,
                     help="no freshness limit by default")
    p.add_argument("--scoring", choices=SCORINGS, default="mlt",
                   help="mlt: More Like This (BM25, the queries of Lucene's MoreLikeThis); "
                        "cosine: TF-IDF cosine (default: %(default)s)")
    p.add_argument("--window", choices=("calendar", "rolling"), default="calendar",
                   help="the freshness window: from the start of the day --max-age days "
                        "before (calendar, in --time-zone), or that many days back to the "
                        "second (rolling) (default: %(default)s)")
    p.add_argument("--time-zone", default="Europe/Paris",
                   help="the time zone of the calendar window's days (default: %(default)s; "
                        "--timezone is that of the corpus's dates)")
    p.add_argument("--min-df", type=positive_int, default=None,
                   help="ignore words in fewer articles (default: 2 with mlt, 3 with cosine)")
    p.add_argument("--learn-from", metavar="GROUND_TRUTH",
                   help="learned mode: re-rank with what these related lists teach (a corpus "
                        "with 'related', or a TSV of links as for evaluate)")
    p.add_argument("--learn-half", choices=("even", "odd"),
                   help="learn only from the sources whose id falls in this half (crc32 of "
                        "the id, even or odd), so that evaluating on the same lists measures "
                        "the other half")
    p.add_argument("--stem", action="store_true",
                   help="match Snowball French stems instead of whole words")
    p.add_argument("--shard-days", type=positive_int, metavar="DAYS",
                   help="save the rows in shards of DAYS days of publication: a cluster's "
                        "workers then read only the shards their queries touch")
    p.add_argument("--pins", metavar="PINS",
                   help="the editors' pins and bans to keep: a pins.json file, or the model "
                        "folder that holds it (default: those of the --out folder, if any)")
    p.set_defaults(run=train)


def train(args) -> int:
    started = time.perf_counter()
    check_replaceable(Path(args.out))  # fail now, not after an hour of training
    pins_from = Path(args.pins) if args.pins else Path(args.out)
    if args.pins and not pins_from.exists():
        raise InputFileNotFoundError(f"pins file not found: {pins_from}")
    if pins_from.exists():
        Pins.read(pins_from)  # a bad pins file fails now, before the fit
    cluster = cluster_from_args(args)  # a missing Dask or a bad --workers: now
    if args.workers is None and args.scheduler is None:
        corpus = open_corpus(args.corpus, skip_invalid=args.skip_invalid,
                             time_zone=args.timezone)
    else:
        list_partitions(args.corpus)  # none, or a file of another kind: now
    truth = None
    if args.learn_from:
        # a bad file fails before the training
        truth = read_ground_truth(args.learn_from, time_zone=args.timezone)
        if args.learn_half:
            truth = half_of(truth, args.learn_half)
    elif args.learn_half:
        raise ParameterError("--learn-half needs --learn-from GROUND_TRUTH")
    model = ArticleRecommender(scoring=args.scoring, max_age=args.max_age, min_df=args.min_df,
                               window=args.window, time_zone=args.time_zone, n_jobs=args.jobs,
                               analyzer={"stem": True} if args.stem else None,
                               table_size=args.table_size, shard_days=args.shard_days)
    set_controls(model, args)
    with cluster as client:
        if client is None:
            model.fit(tqdm(corpus, unit=" articles", desc="reading",
                           disable=True if args.quiet else None))
        else:  # the table after learning, once: the local fit builds it twice
            fit_partitions(model, args.corpus, client, skip_invalid=args.skip_invalid,
                           time_zone=args.timezone, progress=not args.quiet, table=False)
        if truth is not None:
            model.learn(truth)
            learned = model.reranker_.info_
            logger.info("learned from %s lists (%s links) of %s", f"{learned['n_lists']:,}",
                        f"{learned['n_links']:,}", args.learn_from)
        _keep_pins(model, pins_from)
        if client is None:
            model.save(args.out)
        else:
            with writer_lock(args.out):  # no other writer removes the scratch model meanwhile
                cluster_table(model, client, beside=args.out, progress=not args.quiet)
                model.save(args.out)
    info = model.info_
    logger.info("trained on %s articles (%s without text), %s terms, in %.1f s -> %s",
                f"{info['n_articles']:,}", f"{info['n_without_text']:,}",
                f"{info['n_terms']:,}", time.perf_counter() - started, args.out)
    return 0


def _keep_pins(model, source: Path) -> None:
    """Give ``model`` the pins of ``source`` (a pins file or a model folder), read now: an
    editor's edit made during the fit is kept. Pins of articles the new model does not
    serve are kept too, and apply if those articles are added."""
    if not source.exists():
        return
    model.pins_ = Pins.read(source)
    if not model.pins_:
        return
    doc = model.pins_.to_json()
    named = {e["article"] for e in doc["pins"]} | {e["pinned"] for e in doc["pins"]} \
        | {e["banned"] for e in doc["bans"]} | {e["from"] for e in doc["bans"] if e["from"]}
    missing = sum(1 for article_id in named if article_id not in model)
    logger.info("kept %d pins and %d bans of %s%s", len(doc["pins"]), len(doc["bans"]), source,
                f" ({missing:,} of the articles they name are not in this corpus)"
                if missing else "")
