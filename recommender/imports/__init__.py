"""From a site's own pages to a corpus: ``recommender import`` (issue 16).

Pages (HTML files, folders, tar archives, WARC files, RSS/Atom feeds:
:mod:`~.sources`) become article records of the corpus format, one page parsed once
(:mod:`~.page`), with the site's related box as their ``related`` ids (:mod:`~.box`), the
ids made from URLs (:mod:`~.ids`), in worker processes and bounded memory (:mod:`~.run`).
The packages it needs are the ``import`` extra (``pip install 'recommender[import]'``);
they are imported only when pages are read.
"""

from .box import HEADINGS
from .run import ImportSummary, import_pages

__all__ = ["HEADINGS", "ImportSummary", "import_pages"]
