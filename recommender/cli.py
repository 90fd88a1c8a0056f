"""The ``recommender`` command line: train, recommend, similar, batch, evaluate, bench.

A user error (a missing file, a bad line, an unknown id, a bad option value) prints one
line to stderr and exits with status 2, with no traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from pathlib import Path

from .corpus import read_corpus
from .errors import CorpusError, ModelFormatError, UnknownArticleError
from .model.estimator import DEFAULT_MAX_AGE, ArticleRecommender
from .store import check_replaceable
from .times import parse_time
from .truth import half_of, read_ground_truth

__all__ = ["main"]

logger = logging.getLogger("recommender")

USER_ERRORS = (CorpusError, ModelFormatError, UnknownArticleError, FileNotFoundError,
               FileExistsError, PermissionError, IsADirectoryError, NotADirectoryError,
               ValueError, TypeError, ImportError)


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _configure_logging(args.quiet)
    try:
        return args.run(args) or 0
    except USER_ERRORS as exc:
        message = str(exc) or type(exc).__name__
        print(f"recommender {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("recommender: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _configure_logging(quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if quiet else logging.INFO)
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").handlers[:] = []
    warnings.formatwarning = lambda message, category, *a, **k: f"{message}"


# -- option types ------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _table_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer (0 for no "
                                         f"neighbour table), got {text!r}")
    return value


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of days, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of days, got {text}")
    return value


def _time(text: str) -> str:
    try:
        parse_time(text, what="time")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _positive_ints(default: int, example: str):
    """An option type: comma-separated positive integers (``[default]`` when none)."""
    def parse(text: str) -> list[int]:
        try:
            return [_positive_int(part) for part in text.split(",") if part.strip()] or [default]
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(f"expected {example}, got {text!r}") from None
    return parse


_ks = _positive_ints(10, "k values like 2,5,10")
_jobs_list = _positive_ints(1, "thread counts like 1,2")


def _scales(text: str) -> list[str]:
    from .bench.synthetic import parse_scale

    scales = [part.strip() for part in text.split(",") if part.strip()]
    if not scales:
        raise argparse.ArgumentTypeError(f"expected scales like real,100k,1m, got {text!r}")
    for scale in scales:
        try:
            parse_scale(scale)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return scales




def _competitors(text: str) -> list[str]:
    from .bench.competitors import COMPETITORS

    if text.strip().lower() == "none":
        return []
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in COMPETITORS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown competitor {unknown[0]!r}: expected some of "
                                         f"{','.join(COMPETITORS)} (or 'none')")
    return names


def _default_corpus() -> str:
    """The shared full corpus next to the checkout when it is there, else the shipped one."""
    root = Path(__file__).resolve().parents[1]
    shared = root.parent / "shared" / "corpus" / "orangesum" / "articles.jsonl.gz"
    return str(shared if shared.is_file() else root / "corpus" / "orangesum-2020.jsonl.gz")


# -- parser ------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recommender",
        description="Related articles for French news: train, recommend, evaluate.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", "-q", action="store_true", help="no progress or info lines")
    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--as-of", type=_time, metavar="TIME",
                         help="recommend as of this time: only articles published before it")
    filters.add_argument("--max-age", type=_days, metavar="DAYS",
                         help="only articles at most this old (default: the model's)")
    filters.add_argument("--since", type=_time, metavar="TIME", help="only articles from then on")
    filters.add_argument("--until", type=_time, metavar="TIME", help="only articles before then")
    filters.add_argument("--category", action="append", metavar="NAME",
                         help="only articles of this category (repeat for several)")

    controls = argparse.ArgumentParser(add_help=False)
    group = controls.add_argument_group(
        "newsroom controls (default: the model's; see EVALUATION.md)")
    group.add_argument("--half-life", type=_days, metavar="DAYS",
                       help="freshness decay: a score halves every DAYS of age")
    group.add_argument("--dedupe", type=float, metavar="COSINE",
                       help="drop an item whose text has this cosine with one shown above it")
    group.add_argument("--diversity", type=float, metavar="WEIGHT",
                       help="maximal marginal relevance, 0 (none) to 1 (novelty only)")
    group.add_argument("--min-score", type=float, metavar="SCORE",
                       help="show fewer items rather than any below this score")

    p = sub.add_parser("train", parents=[common, controls], help="fit a model on a corpus file")
    p.add_argument("corpus", help="articles: .jsonl, .jsonl.gz, .jsonl.xz or .csv")
    p.add_argument("--out", default="models/default", help="model folder (default: %(default)s)")
    age = p.add_mutually_exclusive_group()
    age.add_argument("--max-age", type=_days, metavar="DAYS", default=DEFAULT_MAX_AGE,
                     help="the model's default freshness, in days (default: %(default)s, "
                          "chosen on the shared corpus's lists)")
    age.add_argument("--no-max-age", dest="max_age", action="store_const", const=None,
                     help="no freshness limit by default")
    p.add_argument("--min-df", type=_positive_int, default=ArticleRecommender().min_df,
                   help="ignore words in fewer articles (default: %(default)s)")
    p.add_argument("--learn-from", metavar="GROUND_TRUTH",
                   help="learned mode: re-rank with what these related lists teach (a corpus "
                        "with 'related', or a TSV of links as for evaluate)")
    p.add_argument("--learn-half", choices=("even", "odd"),
                   help="learn only from the sources whose id falls in this half (crc32 of "
                        "the id, even or odd), so that evaluating on the same lists measures "
                        "the other half")
    p.add_argument("--stem", action="store_true",
                   help="match Snowball French stems instead of whole words")
    p.add_argument("--skip-invalid", action="store_true",
                   help="skip bad lines and duplicate ids, and report them, instead of failing")
    p.add_argument("--jobs", type=_positive_int, default=2,
                   help="threads for scoring, processes for the analysis of the text")
    p.add_argument("--table-size", type=_table_size, default=50, metavar="N",
                   help="precompute each article's top N for serving, 0 for none "
                        "(default: %(default)s)")
    p.set_defaults(run=_train)

    listing = argparse.ArgumentParser(add_help=False)  # one list, printed
    listing.add_argument("-k", type=_positive_int, default=5,
                         help="how many (default: %(default)s)")
    listing.add_argument("--explain", action="store_true",
                         help="show the shared words behind each")
    listing.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("recommend", parents=[common, filters, listing, controls],
                       help="related articles of one article of the model")
    p.add_argument("model", help="model folder")
    p.add_argument("article_id")
    p.set_defaults(run=_recommend)

    p = sub.add_parser("similar", parents=[common, filters, listing, controls],
                       help="related articles of a text that is not in the model")
    p.add_argument("model", help="model folder")
    p.add_argument("--text-file", required=True, help="UTF-8 text; first line is the title")
    p.set_defaults(run=_similar)

    p = sub.add_parser("batch", parents=[common, filters, controls],
                       help="related lists of every article, to a .jsonl or .csv file")
    p.add_argument("model", help="model folder")
    p.add_argument("--out", required=True, help="output file, .jsonl or .csv")
    p.add_argument("-k", type=_positive_int, default=10, help="how many (default: %(default)s)")
    p.add_argument("--ids", help="only these articles: one 'ID' or 'ID<TAB>AS_OF' a line")
    p.set_defaults(run=_batch)

    p = sub.add_parser("evaluate", parents=[common, controls],
                       help="compare the model's lists with the site's own related lists")
    p.add_argument("model", help="model folder")
    p.add_argument("ground_truth", help="a corpus file with 'related', or a TSV of links")
    p.add_argument("-k", type=_ks, default=[2, 5, 10], metavar="K,K,…",
                   help="cut-offs for recall (default: 2,5,10)")
    p.add_argument("--max-age", type=_days, metavar="DAYS",
                   help="freshness for the candidates (default: the model's)")
    p.add_argument("--no-baselines", action="store_true", help="skip the two baselines")
    p.add_argument("--report", metavar="DIR",
                   help="also write an HTML report (curves, ablations, example lists) to DIR")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=_evaluate)

    p = sub.add_parser("bench", parents=[common],
                       help="time every stage, and other libraries, at several corpus sizes")
    p.add_argument("--corpus", default=None,
                   help="the real corpus (default: ../shared/corpus/orangesum/articles.jsonl.gz "
                        "next to the checkout, else the shipped corpus)")
    p.add_argument("--scales", type=_scales, default=["real"], metavar="S,S,…",
                   help="'real' and synthetic sizes such as 100k,300k,1m (default: real)")
    p.add_argument("--quick", action="store_true",
                   help="the real corpus only, whatever --scales says, each stage once, "
                        "competitors on the 2,000 sampled queries (a few minutes)")
    p.add_argument("--repeats", type=_positive_int, default=None,
                   help="runs of each stage below 50,000 articles; the median is shown "
                        "(default: 3, or 1 with --quick)")
    p.add_argument("--jobs", type=_jobs_list, default=[1, 2], metavar="T,T,…",
                   help="thread (and fit process) counts to time (default: 1,2)")
    p.add_argument("-k", type=_positive_int, default=10, help="list length (default: %(default)s)")
    p.add_argument("--sample", type=_positive_int, default=2000,
                   help="queries for the recall of the approximate mode (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic corpora")
    p.add_argument("--competitors", type=_competitors,
                   default=["sparse_dot_topn", "sklearn", "gensim"],
                   metavar="NAME,…", help="some of sparse_dot_topn,sklearn,gensim, or 'none'")
    p.add_argument("--exact-all", action="store_true",
                   help="time the exact all-pairs on every article at every size (above "
                        "150,000 articles it is otherwise timed on the sample and multiplied "
                        "out; at 1M it takes about an hour on 2 cores)")
    p.add_argument("--json", metavar="FILE", help="also write the rows as JSON to this file")
    p.set_defaults(run=_bench)
    return parser


# -- commands ----------------------------------------------------------------------------
def _train(args) -> int:
    from tqdm import tqdm

    started = time.perf_counter()
    check_replaceable(Path(args.out))  # fail now, not after an hour of training
    corpus = read_corpus(args.corpus, skip_invalid=args.skip_invalid)
    truth = None
    if args.learn_from:
        truth = read_ground_truth(args.learn_from)  # a bad file fails before the training
        if args.learn_half:
            truth = half_of(truth, args.learn_half)
    elif args.learn_half:
        raise ValueError("--learn-half needs --learn-from GROUND_TRUTH")
    model = ArticleRecommender(max_age=args.max_age, min_df=args.min_df, n_jobs=args.jobs,
                               analyzer={"stem": True} if args.stem else None,
                               table_size=args.table_size)
    _set_controls(model, args)
    model.fit(tqdm(corpus, unit=" articles", desc="reading",
                   disable=True if args.quiet else None))
    if truth is not None:
        model.learn(truth)
        learned = model.reranker_.info_
        logger.info("learned from %s lists (%s links) of %s", f"{learned['n_lists']:,}",
                    f"{learned['n_links']:,}", args.learn_from)
    model.save(args.out)
    info = model.info_
    logger.info("trained on %s articles (%s without text), %s terms, in %.1f s -> %s",
                f"{info['n_articles']:,}", f"{info['n_without_text']:,}",
                f"{info['n_terms']:,}", time.perf_counter() - started, args.out)
    return 0


def _load(args) -> ArticleRecommender:
    """The model folder of the command, with the controls given on the command line."""
    return _set_controls(ArticleRecommender.load(args.model), args)


def _set_controls(model, args):
    from .model.controls import CONTROLS, check_controls

    given = {name: getattr(args, name) for name in CONTROLS
             if getattr(args, name, None) is not None}
    current = {name: getattr(model, name) for name in CONTROLS}
    for name, value in check_controls(**{**current, **given}).items():
        setattr(model, name, value)
    return model


def _filters(args) -> dict:
    return {"as_of": args.as_of, "max_age": args.max_age, "since": args.since,
            "until": args.until, "categories": args.category}


def _recommend(args) -> int:
    model = _load(args)
    ids, scores = model.recommend(args.article_id, args.k, **_filters(args))
    explain = (lambda other: model.explain(args.article_id, other)) if args.explain else None
    _show(model, model.article_info(args.article_id), ids, scores, explain, args.json)
    return 0


def _similar(args) -> int:
    model = _load(args)
    path = Path(args.text_file)
    if not path.is_file():
        raise FileNotFoundError(f"text file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: bytes that are not UTF-8 at offset {exc.start}") from None
    if not text.strip():
        raise ValueError(f"{path}: the text file is empty")
    ids, scores = model.similar(text, args.k, **_filters(args))
    query = model.vectorize(text)
    explain = (lambda other: model.explain_vector(query, other)) if args.explain else None
    title = next((line.strip() for line in text.splitlines() if line.strip()), "")
    _show(model, {"id": None, "title": title, "file": str(path)}, ids, scores, explain, args.json)
    return 0


def _show(model, source, ids, scores, explain, as_json) -> None:
    items = []
    for rank, (other, score) in enumerate(zip(ids.tolist(), scores.tolist()), start=1):
        item = {"rank": rank, **model.article_info(other), "score": round(score, 6)}
        if explain:
            item["shared_words"] = [[w, round(c, 6)] for w, c in explain(other)]
        items.append(item)
    if as_json:
        print(json.dumps({"source": source, "related": items}, ensure_ascii=False, indent=2))
        return
    print(f"Related to {source.get('id') or source.get('file')}: {source['title']}")
    if not items:
        print("  (no article shares a word with it within the filters)")
    for item in items:
        date = (item["published"] or "undated")[:10]
        print(f"{item['rank']:>3}. {item['score']:.3f}  {item['id']}  {date}  {item['title']}")
        if explain:
            words = ", ".join(f"{w} ({c:.3f})" for w, c in item["shared_words"])
            print(f"       shared: {words}")


def _batch(args) -> int:
    from .batch.score import read_ids_file, score_to_file

    model = _load(args)
    ids, as_of = None, args.as_of
    if args.ids:
        ids, per_id = read_ids_file(args.ids)
        if per_id is not None:
            as_of = [t if t is not None else args.as_of for t in per_id]
    started = time.perf_counter()
    filters = {**_filters(args), "as_of": as_of}
    n = score_to_file(model, args.out, k=args.k, ids=ids, progress=not args.quiet, **filters)
    logger.info("wrote the top %d of %s articles in %.1f s -> %s", args.k, f"{n:,}",
                time.perf_counter() - started, args.out)
    return 0


def _evaluate(args) -> int:
    from .evaluate.runs import evaluate

    model = _load(args)
    truth = read_ground_truth(args.ground_truth)
    if args.report:
        from .evaluate.study import study

        if args.no_baselines:
            raise ValueError("--report shows the baselines; leave out --no-baselines")
        command = " ".join(["recommender", "evaluate", args.model, args.ground_truth,
                            "--report", args.report]
                           + (["--max-age", f"{args.max_age:g}"] if args.max_age else []))
        page, report = study(model, truth, args.report, ks=args.k, max_age=args.max_age,
                             ground_truth=args.ground_truth, command=command)
        logger.info("report written to %s", page)
    else:
        report = evaluate(model, truth, ks=args.k, max_age=args.max_age,
                          baselines=not args.no_baselines)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report, args.k))
    return 0


def _bench(args) -> int:
    from .bench.run import Bench, write_json

    corpus = Path(args.corpus or _default_corpus())
    if not corpus.is_file():
        raise FileNotFoundError(f"corpus not found: {corpus}; give the real corpus with --corpus")
    if args.json:
        out = Path(args.json)
        if not out.parent.is_dir():
            raise FileNotFoundError(f"cannot write {out}: folder {out.parent} does not exist")
    bench = Bench(corpus, scales=["real"] if args.quick else args.scales, jobs=args.jobs,
                  repeats=args.repeats or (1 if args.quick else 3), k=args.k,
                  sample=args.sample, seed=args.seed, competitors=args.competitors,
                  json_path=args.json, competitor_sample=args.quick,
                  exact_all=args.exact_all)
    report = bench.run()
    if args.json:
        write_json(report, args.json)
        logger.info("wrote %d rows -> %s", len(report["rows"]), args.json)
    return 0


def format_report(report: dict, ks) -> str:
    """The evaluation as a plain-text table, the model first, then the baselines."""
    columns = [f"recall@{k}" for k in ks] + ["mrr", "ndcg@10", "coverage"]
    rows = [("model", report)]
    if "content_only" in report:
        rows.append(("content only", report["content_only"]))
    rows += list(report.get("baselines", {}).items())
    width = max(len(name) for name, _ in rows)
    age = report.get("max_age")
    untimed = report.get("sources_without_time", 0)
    untimed = f" ({untimed:,} lists without a time: against every article)" if untimed else ""
    left_out = f"{report['missing_targets']:,} links with a target not in the model"
    if report.get("missing_sources"):
        left_out += f" and {report['missing_sources']:,} with a source not in it"
    if report.get("duplicate_links"):
        left_out += f" and {report['duplicate_links']:,} repeated links"
    lines = [
        f"{report['n_links']:,} links from {report['n_sources']:,} source articles, ranked as "
        f"of when each list was shown{untimed}, max age {f'{age:g} days' if age else 'none'}; "
        f"{left_out} left out",
        "  ".join([" " * width] + [f"{c:>9}" for c in columns]),
    ]
    for name, values in rows:
        lines.append("  ".join([f"{name:<{width}}"] + [f"{values[c]:>9.3f}" for c in columns]))
    learned = report.get("learned")
    if learned:
        lines.append(f"model = learned re-ranker, trained on {learned['n_lists']:,} lists "
                     f"({learned['n_links']:,} links); the {learned['links_left_out']:,} links "
                     f"of those lists are left out here, so every row is on lists it never saw")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
