"""The main job on the shipped corpus: train, evaluate against the baselines, show lists.

    python scripts/demo.py [--model models/orangesum-2020] [--quiet]

Trains on corpus/orangesum-2020.jsonl.gz, prints the evaluation table (as of when each
"À lire aussi" list was shown, 60-day freshness) against the random and most-recent
baselines, then the related articles, with the words that explain them, of one article and
of a scraped page (examples/page.txt, and ../shared/seed/page.txt when it is there).
"""

import argparse
import sys
from pathlib import Path

from recommender.cli import main

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus" / "orangesum-2020.jsonl.gz"
PAGES = [ROOT / "examples" / "page.txt", ROOT.parent / "shared" / "seed" / "page.txt"]
ARTICLE = "CNT000001rj1Q1"  # "Pastoralisme et ours: 10 millions d'euros en 2020 ..."


def run(argv: list[str]) -> None:
    print(f"\n$ recommender {' '.join(argv)}", flush=True)
    status = main(argv)
    if status:
        sys.exit(status)


def demo(model: str, quiet: bool) -> None:
    q = ["--quiet"] if quiet else []
    run(["train", str(CORPUS), "--out", model, "--max-age", "60", *q])
    run(["evaluate", model, str(CORPUS), "-k", "2,5,10", *q])
    run(["recommend", model, ARTICLE, "-k", "5", "--explain", *q])
    for page in PAGES:
        if page.is_file():
            run(["similar", model, "--text-file", str(page), "-k", "5", "--explain", *q])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "orangesum-2020"))
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    demo(args.model, args.quiet)
