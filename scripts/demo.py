"""The main job on the shipped corpus: train, evaluate against the baselines, show lists.

    python scripts/demo.py [--model models/orangesum-2020] [--quiet]
    python scripts/demo.py --pages tests/data/pages [--out out/site]

Trains on corpus/orangesum-2020.jsonl.gz, prints the evaluation table (as of when each
"À lire aussi" list was shown, the model's 62-day freshness) against the random and
most-recent baselines, writes the HTML report to reports/orangesum-2020/index.html, then
shows the related articles, with the words that explain them, of one article (as of when
its page was shown, beside the site's own box) and of scraped pages (examples/page.txt,
and ../shared/seed/page.txt when it is there).

With ``--pages DIR`` (a site's pages: a folder, a tar or WARC archive, a feed), the whole
path for a newsroom instead, into ``--out``: ``import`` the pages (each page's related
box becomes its ground truth), ``train`` on them, ``evaluate`` against those boxes with the
HTML report, and ``batch`` every list into an SQLite database (a JSONL file without
SQLAlchemy, the ``sql`` extra).
"""

import argparse
import importlib.util
import sys
from pathlib import Path

from recommender import read_corpus
from recommender.cli import main

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus" / "orangesum-2020.jsonl.gz"
PAGES = [ROOT / "examples" / "page.txt", ROOT.parent / "shared" / "seed" / "page.txt"]
REPORT = ROOT / "reports" / "orangesum-2020"
ARTICLE = "CNT000001rj1Q1"  # "Pastoralisme et ours: 10 millions d'euros en 2020 ..."
#: Orange Actu's own article ids, the last part of its URLs (the shipped pages' site).
ID_PATTERN = r"(CNT\w+)\.html"


def run(argv: list[str]) -> None:
    print(f"\n$ recommender {' '.join(argv)}", flush=True)
    status = main(argv)
    if status:
        sys.exit(status)


def demo(model: str, quiet: bool) -> None:
    q = ["--quiet"] if quiet else []
    run(["train", str(CORPUS), "--out", model, *q])
    run(["evaluate", model, str(CORPUS), "-k", "2,5,10", "--report", str(REPORT), *q])

    articles = {a.id: a for a in read_corpus(CORPUS)}
    source = articles[ARTICLE]
    shown = source.related_at.isoformat()
    run(["recommend", model, ARTICLE, "-k", "5", "--as-of", shown, "--explain", *q])
    print(f"The site's own box on that page, shown {shown}:")
    for rank, target in enumerate(source.related, start=1):
        print(f"{rank:>3}. {target}  {articles[target].title}")

    # The example page is CNT000001r4edC's text (2020-06-23) wrapped in other articles'
    # teasers: rank what was published before it.
    run(["similar", model, "--text-file", str(PAGES[0]), "-k", "5", "--as-of", "2020-06-23",
         "--explain", *q])
    if PAGES[1].is_file():
        run(["similar", model, "--text-file", str(PAGES[1]), "-k", "5", "--explain", *q])


def pages_demo(pages: str, out: Path, id_pattern: str, quiet: bool) -> None:
    q = ["--quiet"] if quiet else []
    corpus, model = out / "site.jsonl.gz", out / "model"
    lists = f"sqlite:///{out / 'recs.db'}" if importlib.util.find_spec("sqlalchemy") \
        else str(out / "lists.jsonl")
    run(["import", pages, "--out", str(corpus), "--id-pattern", id_pattern, *q])
    run(["train", str(corpus), "--out", str(model), *q])
    run(["evaluate", str(model), str(corpus), "--report", str(out / "report"), *q])
    run(["batch", str(model), "--out", lists, *q])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "orangesum-2020"))
    parser.add_argument("--pages", metavar="DIR",
                        help="a site's pages: run import, train, evaluate and batch on them")
    parser.add_argument("--out", default="out/site", help="with --pages: the folder of the "
                        "corpus, model, report and lists (default: %(default)s)")
    parser.add_argument("--id-pattern", default=ID_PATTERN,
                        help="with --pages: the site's ids in its URLs (default: Orange's, "
                             "%(default)s)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    if args.pages:
        pages_demo(args.pages, Path(args.out), args.id_pattern, args.quiet)
    else:
        demo(args.model, args.quiet)
