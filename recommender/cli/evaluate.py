"""``recommender evaluate``: the model's lists against the site's own, as a table or JSON,
and with ``--report`` an HTML page."""

from __future__ import annotations

import json
import logging
from functools import partial

from ..errors import ParameterError
from ..evaluate.runs import evaluate as evaluate_model
from ..evaluate.study import study
from ..evaluate.table import format_report
from ..truth import read_ground_truth
from ..times import NO_LIMIT
from .options import cluster_from_args, cluster_options, common_options, control_options, ks, \
    load, max_age_options, timezone_options

__all__ = ["add_evaluate", "evaluate"]

logger = logging.getLogger(__name__)


def add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", parents=[common_options(), control_options(),
                                            timezone_options("a ground-truth file's dates"),
                                            cluster_options()],
                       help="compare the model's lists with the site's own related lists")
    p.add_argument("model", help="model folder")
    p.add_argument("ground_truth", help="a corpus file with 'related', or a TSV of links")
    p.add_argument("-k", type=ks, default=[2, 5, 10], metavar="K,K,…",
                   help="cut-offs for recall (default: 2,5,10)")
    max_age_options(p, "freshness for the candidates (default: the model's)")
    p.add_argument("--no-baselines", action="store_true", help="skip the two baselines")
    p.add_argument("--report", metavar="DIR",
                   help="also write an HTML report (curves, ablations, example lists) to DIR")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=evaluate)


def evaluate(args) -> int:
    if args.report and (args.workers is not None or args.scheduler is not None):
        raise ParameterError("--report also scores the model's variants, on this machine; "
                             "leave out --workers and --scheduler with --report")
    cluster = cluster_from_args(args)  # a bad --workers or a missing Dask: before the model
    model = load(args)
    truth = read_ground_truth(args.ground_truth, time_zone=args.timezone)
    if args.report:
        if args.no_baselines:
            raise ParameterError("--report shows the baselines; leave out --no-baselines")
        command = " ".join(["recommender", "evaluate", args.model, args.ground_truth,
                            "--report", args.report]
                           + _max_age_words(args.max_age)
                           + (["--timezone", str(args.timezone)] if args.timezone else []))
        page, report = study(model, truth, args.report, ks=args.k, max_age=args.max_age,
                             ground_truth=args.ground_truth, command=command)
        model.record_report(page)  # the editors' page of `recommender serve` links to it
        logger.info("report written to %s", page)
    else:
        with cluster as client:
            where = {}
            if client is not None:  # the model's lists scored by the workers
                from ..cluster.batch import cluster_lists

                where["recommend_ids"] = partial(cluster_lists, client, args.model)
            report = evaluate_model(model, truth, ks=args.k, max_age=args.max_age,
                                    baselines=not args.no_baselines, **where)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report, args.k))
    return 0


def _max_age_words(max_age) -> list[str]:
    if max_age is None:
        return []
    return ["--no-max-age"] if max_age == NO_LIMIT else ["--max-age", f"{max_age:g}"]
