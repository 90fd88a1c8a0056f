"""``recommender tune``: settings chosen on half of a site's lists, confirmed on the other
half, and a model fitted with them."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from ..corpus import read_corpus
from ..evaluate.tuning import tune as tune_model
from ..model.estimator import DEFAULT_MAX_AGE
from ..store import check_replaceable
from ..truth import read_ground_truth
from .options import common_options, fit_options

__all__ = ["add_tune", "tune"]

logger = logging.getLogger(__name__)


def add_tune(sub) -> None:
    p = sub.add_parser("tune", parents=[common_options(), fit_options()],
                       help="choose the settings for a site's own lists, and fit with them")
    p.add_argument("corpus", help="articles: .jsonl, .jsonl.gz, .jsonl.xz or .csv")
    p.add_argument("ground_truth", help="the site's lists: a corpus file with 'related', or "
                                        "a TSV of links")
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--json", action="store_true", help="print the table as one JSON object")
    p.set_defaults(run=tune)


def tune(args) -> int:
    started = time.perf_counter()
    check_replaceable(Path(args.out))  # fail now, not after the tuning
    truth = read_ground_truth(args.ground_truth, time_zone=args.timezone)
    articles = list(read_corpus(args.corpus, skip_invalid=args.skip_invalid,
                                time_zone=args.timezone))

    def progress(row: dict) -> None:
        logger.info("%-45s TUNE R@10 %.3f   CONFIRM R@10 %.3f   (%.0f s)", row["setting"],
                    row["TUNE"]["recall@10"], row["CONFIRM"]["recall@10"], row["seconds"])

    result = tune_model(articles, truth, params={"max_age": DEFAULT_MAX_AGE},
                        n_jobs=args.jobs, progress=None if args.quiet else progress)
    model = result.model
    model.table_size = args.table_size
    model.build_table()
    model.tuning_ = result.record()
    model.save(args.out)
    if args.json:
        print(json.dumps(result.record(), indent=2))
    else:
        print(format_tuning(result.record()))
    logger.info("tuned on %s articles in %.0f s -> %s", f"{len(articles):,}",
                time.perf_counter() - started, args.out)
    return 0


def format_tuning(record: dict) -> str:
    """The table of a tuning record: one line per run, the kept ones marked."""
    lines = [f"{'':2}{'group':<30}{'setting':<36}" + "".join(
        f"{h + ' ' + k:>16}" for h in ("TUNE", "CONFIRM") for k in ("R@2", "R@10", "MRR"))]
    for row in record["rows"]:
        figures = [row[h][k] for h in ("TUNE", "CONFIRM") for k in ("recall@2", "recall@10",
                                                                    "mrr")]
        mark = "=>" if row.get("chosen") else "*" if row["kept"] else " "
        lines.append(f"{mark:2}{row['group']:<30}"
                     f"{row['setting']:<36}" + "".join(f"{v:>16.3f}" for v in figures))
    chosen = ", ".join(f"{k}={v!r}" for k, v in record["chosen"].items()) or "the defaults"
    lines.append(f"chosen on TUNE: {chosen} (=> the choice, * better on TUNE than the one "
                 f"before it; CONFIRM is only a check)")
    return "\n".join(lines)
