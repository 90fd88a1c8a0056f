"""The HTTP service: ``recommender serve MODEL_DIR`` (FastAPI on uvicorn, extra ``serve``).

One idea per module, from the edge in:

- :mod:`.server` starts uvicorn (one process, or ``--workers N`` processes that each build
  the app from environment variables, :mod:`.settings`) and owns the Prometheus folder of
  the run;
- :mod:`.app` is the app factory and its routes;
- :mod:`.state` holds the model one worker serves and how it follows its folder: every
  request starts with a check of the folder (two ``stat`` calls), catches up when another
  process changed it, and reads a snapshot that nothing changes under it;
- :mod:`.inputs` reads what a request brings (query parameters, JSON bodies within their
  limits, articles); :mod:`.limits` holds those limits; :mod:`.answers` builds the JSON
  answers and the one shape of every error;
- :mod:`.security` reads the token, checks it, and refuses an exposed server without one;
- :mod:`.metrics` counts requests, latencies, articles, adds and withdrawals for
  Prometheus (multi-process mode).

FastAPI, uvicorn and prometheus-client are imported only here, never by the rest of the
package: ``pip install 'recommender[serve]'`` adds them.
"""
