"""Time every stage of the engine, and other libraries, at several corpus sizes.

    python scripts/benchmark.py [--quick] [--scales real,100k,300k,1m] [--repeats 3]
                                [--jobs 1,2] [--json FILE] [--corpus PATH]

The same as ``recommender bench`` (see ``recommender bench --help`` and BENCHMARKS.md);
the logic lives in ``recommender/bench/``.
"""

import sys

from recommender.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
