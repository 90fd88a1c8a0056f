"""``python -m recommender.cli``: the ``recommender`` command."""

import sys

from . import console

sys.exit(console())
