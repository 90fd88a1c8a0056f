"""The main job on the shipped corpus: train, evaluate against the baselines, show lists.

    python scripts/demo.py [--model models/orangesum-2020] [--quiet]

Trains on corpus/orangesum-2020.jsonl.gz, prints the evaluation table (as of when each
"À lire aussi" list was shown, the model's 62-day freshness) against the random and
most-recent baselines, writes the HTML report to reports/orangesum-2020/index.html, then
shows the related articles, with the words that explain them, of one article (as of when
its page was shown, beside the site's own box) and of scraped pages (examples/page.txt,
and ../shared/seed/page.txt when it is there).
"""

import argparse
import sys
from pathlib import Path

from recommender import read_corpus
from recommender.cli import main

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus" / "orangesum-2020.jsonl.gz"
PAGES = [ROOT / "examples" / "page.txt", ROOT.parent / "shared" / "seed" / "page.txt"]
REPORT = ROOT / "reports" / "orangesum-2020"
ARTICLE = "CNT000001rj1Q1"  # "Pastoralisme et ours: 10 millions d'euros en 2020 ..."


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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "orangesum-2020"))
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    demo(args.model, args.quiet)
