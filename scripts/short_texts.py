"""Titles-only and title + lead versions of a corpus: same ids, same dates, same lists.

    python scripts/short_texts.py [CORPUS] [--out FOLDER]

Writes ``titles.jsonl.gz`` (title only) and ``title_lead.jsonl.gz`` (title and lead) beside
each other in FOLDER (default: ``data/short/``), from CORPUS (default: the shared corpus).
Many sites' feeds and exports hold only these; EVALUATION.md measures every scorer on them.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpus" / "orangesum" / "articles.jsonl.gz"
#: version name -> the text fields it keeps
VERSIONS = {"titles": ("title",), "title_lead": ("title", "heading")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=str(SHARED))
    parser.add_argument("--out", default=str(ROOT / "data" / "short"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = {name: gzip.open(out / f"{name}.jsonl.gz", "wt", encoding="utf-8")
             for name in VERSIONS}
    n = 0
    with gzip.open(args.corpus, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            for name, kept in VERSIONS.items():
                short = {k: ("" if k in ("title", "heading", "body") and k not in kept else v)
                         for k, v in record.items()}
                files[name].write(json.dumps(short, ensure_ascii=False) + "\n")
            n += 1
    for f in files.values():
        f.close()
    print(f"{n:,} articles -> " + ", ".join(str(out / f"{name}.jsonl.gz") for name in VERSIONS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
