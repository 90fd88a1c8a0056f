"""Score every article of a model (or those of --ids): a thin wrapper over `recommender batch`.

    python scripts/batch_score.py MODEL_DIR --out FILE.jsonl|FILE.csv [-k 10] [--ids FILE]
        [--as-of TIME] [--max-age DAYS] [--quiet]
"""

import sys

from recommender.cli import main

if __name__ == "__main__":
    sys.exit(main(["batch", *sys.argv[1:]]))
