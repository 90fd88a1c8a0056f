"""Retrain a model from a corpus file, for a cron job: a thin wrapper over `recommender train`.

    python scripts/retrain.py CORPUS --out MODEL_DIR [--max-age DAYS] [--skip-invalid] [--quiet]

The new model is written to a temporary folder and renamed into place, so a reader of
MODEL_DIR sees the old model or the new one, never half of one. Exit status 2 on bad input.
"""

import sys

from recommender.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
