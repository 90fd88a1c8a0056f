"""The documented limits of the service: what one request may ask and send.

A request beyond them is refused with a one-line message that names the limit (413 for a
body or a batch too large, 422 for a parameter out of range), before any work is done.
They bound the memory and the time one request can take, so that one client cannot stall a
worker that serves everyone.
"""

from __future__ import annotations

from ..corpus import MAX_ID_CHARS

__all__ = ["EXPLAIN_WORDS", "MAX_ARTICLES", "MAX_ARTICLES_BYTES", "MAX_ID_CHARS", "MAX_K",
           "MAX_TEXT_BYTES"]

#: The longest related list one request may ask for (``k`` from 1 to this). The neighbour
#: table holds 50 by default; a larger ``k`` is scored, which costs more per request.
MAX_K = 100
#: The largest body of ``POST /related`` (one article's text): 1 MiB, far above any news
#: article (the corpus's longest is about 60 kB) and small enough to analyse in a request.
MAX_TEXT_BYTES = 1 << 20
#: The largest body of ``POST /articles``: 32 MiB, room for a full batch of long articles.
MAX_ARTICLES_BYTES = 32 << 20
#: The most articles one ``POST /articles`` may add or update; split larger batches.
#: A batch is one change of the model's log, so one request of at most this many articles
#: is durable as a whole or not at all.
MAX_ARTICLES = 1_000
#: The shared words shown per item with ``explain=true``.
EXPLAIN_WORDS = 5
