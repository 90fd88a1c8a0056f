"""Evaluate a model against related lists: a thin wrapper over `recommender evaluate`.

    python scripts/evaluate.py MODEL_DIR GROUND_TRUTH [-k 2,5,10] [--max-age DAYS] [--json]
"""

import sys

from recommender.cli import main

if __name__ == "__main__":
    sys.exit(main(["evaluate", *sys.argv[1:]]))
