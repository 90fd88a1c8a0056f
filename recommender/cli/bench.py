"""``recommender bench``: time every stage, and other libraries, at several corpus sizes."""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

from ..bench.run import Bench, write_json
from .options import common_options, competitors, jobs_list, positive_int, scales

__all__ = ["add_bench", "bench", "default_corpus"]

logger = logging.getLogger(__name__)


def default_corpus() -> Path:
    """The shared full corpus next to the checkout when it is there, else the shipped one."""
    root = Path(__file__).resolve().parents[2]
    shared = root.parent / "shared" / "corpus" / "orangesum" / "articles.jsonl.gz"
    return shared if shared.is_file() else root / "corpus" / "orangesum-2020.jsonl.gz"


def rate(text: str) -> float:
    """A positive, finite number of articles a day."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of articles a day, "
                                         f"got {text!r}")
    return value


def add_bench(sub) -> None:
    p = sub.add_parser("bench", parents=[common_options()],
                       help="time every stage, and other libraries, at several corpus sizes")
    p.add_argument("--corpus", default=None,
                   help="the real corpus (default: ../shared/corpus/orangesum/articles.jsonl.gz "
                        "next to the checkout, else the shipped corpus)")
    p.add_argument("--scales", type=scales, default=["real"], metavar="S,S,…",
                   help="'real' and synthetic sizes such as 100k,300k,1m (default: real)")
    p.add_argument("--quick", action="store_true",
                   help="the real corpus only, whatever --scales says, each stage once, "
                        "competitors on the 2,000 sampled queries (a few minutes)")
    p.add_argument("--repeats", type=positive_int, default=None,
                   help="runs of each stage below 50,000 articles; the median is shown "
                        "(default: 3, or 1 with --quick)")
    p.add_argument("--jobs", type=jobs_list, default=[1, 2], metavar="T,T,…",
                   help="thread (and fit process) counts to time (default: 1,2)")
    p.add_argument("-k", type=positive_int, default=10, help="list length (default: %(default)s)")
    p.add_argument("--sample", type=positive_int, default=2000,
                   help="queries for the recall of the approximate mode (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic corpora")
    p.add_argument("--competitors", type=competitors,
                   default=["sparse_dot_topn", "sklearn", "gensim"],
                   metavar="NAME,…", help="some of sparse_dot_topn,sklearn,gensim, or 'none'")
    p.add_argument("--exact-all", action="store_true",
                   help="time the exact all-pairs on every article at every size (above "
                        "150,000 articles it is otherwise timed on the sample and multiplied "
                        "out; at 1M it takes about an hour on 2 cores)")
    p.add_argument("--per-day", type=rate, default=None, metavar="N",
                   help="make the synthetic corpora at a constant N articles a day (300 is a "
                        "site's rate), so that a window holds as many articles at every "
                        "size (default: spread over the real corpus's span, or longer)")
    p.add_argument("--json", metavar="FILE", help="also write the rows as JSON to this file")
    p.set_defaults(run=bench)


def bench(args) -> int:
    corpus = Path(args.corpus) if args.corpus else default_corpus()
    if not corpus.is_file():
        raise FileNotFoundError(f"corpus not found: {corpus}; give the real corpus with --corpus")
    if args.json:
        out = Path(args.json)
        if not out.parent.is_dir():
            raise FileNotFoundError(f"cannot write {out}: folder {out.parent} does not exist")
    runner = Bench(corpus, scales=["real"] if args.quick else args.scales, jobs=args.jobs,
                   repeats=args.repeats or (1 if args.quick else 3), k=args.k,
                   sample=args.sample, seed=args.seed, competitors=args.competitors,
                   json_path=args.json, competitor_sample=args.quick,
                   exact_all=args.exact_all, per_day=args.per_day)
    report = runner.run()
    if args.json:
        write_json(report, args.json)
        logger.info("wrote %d rows -> %s", len(report["rows"]), args.json)
    return 0
