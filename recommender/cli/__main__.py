"""``python -m recommender.cli``: the ``recommender`` command."""

import sys

from . import main

sys.exit(main())
