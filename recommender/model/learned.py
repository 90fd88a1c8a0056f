"""Learned mode's glue: from a model and a site's own lists to a fitted re-ranker.

For each source of the lists that the model knows, the content model's best
``n_candidates`` rows are computed as of the list's time with the model's own filters;
:class:`~recommender.model.rerank.LinkReranker` then learns which of them the site chose.
"""

from __future__ import annotations

import numpy as np

from ..errors import CorpusError
from ..index.topk import check_k
from ..truth import GroundTruth, first_of_each_link, lists_by_source
from .rerank import LinkReranker

__all__ = ["known_links", "learn_reranker"]


def known_links(catalogue, truth: GroundTruth):
    """The links whose source and target are in the catalogue, one per (source, target):
    ``(source_ids, targets, as_of, link_source)`` (see
    :func:`~recommender.truth.lists_by_source`)."""
    keep = np.isin(truth.sources, catalogue.ids) & np.isin(truth.targets, catalogue.ids)
    keep &= first_of_each_link(truth)
    if not keep.any():
        raise CorpusError(f"none of the {len(truth):,} links has both its source and its "
                          f"target in the model; are they lists of this corpus?")
    sources, link_source, as_of = lists_by_source(truth.sources[keep], truth.shown_at[keep])
    return sources, truth.targets[keep], as_of, link_source


def learn_reranker(model, truth: GroundTruth, params: dict) -> LinkReranker:
    """A :class:`LinkReranker` (with ``params``) fitted on ``truth`` for the content model
    ``model`` (whose own re-ranker, if any, is not used)."""
    reranker = LinkReranker(**params)
    n_candidates = check_k(reranker.n_candidates, "n_candidates")
    catalogue = model.catalogue_
    sources, targets, as_of, link_source = known_links(catalogue, truth)
    # Lists without a time are taken as shown now (after the newest article), as a request
    # without as_of is served.
    when = catalogue.reference_times(as_of)
    rows = catalogue.rows_of(list(sources))
    target_rows = catalogue.rows_of(list(targets))
    Q = model.row_queries(rows)
    lo, hi = catalogue.windows(when, max_age=model.max_age_seconds(), since=None, until=None,
                               zone=model.window_zone())
    candidates, scores = model.content_.top_k(Q, n_candidates, lo=lo, hi=hi, skip=rows,
                                              max_block_bytes=model.max_block_bytes,
                                              n_jobs=model.n_jobs)
    return reranker.fit(model.pair_context(), candidates, scores, source_ids=sources,
                        source_rows=rows, as_of=when, link_source=link_source,
                        target_rows=target_rows, n_jobs=model.n_jobs)
