"""Why an article is recommended: the shared terms that weigh most in its score."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["shared_terms"]


def shared_terms(q: sp.csr_matrix, x: sp.csr_matrix, words, n_terms: int):
    """The ``n_terms`` terms of the query row ``q`` and the article row ``x`` whose
    products weigh most in their dot product (the score), largest first: a list of
    ``(word, contribution)``, ``words`` giving the word shown for each column. The
    contributions of all shared terms add up to the score."""
    shared = q.multiply(x).tocsr()
    order = np.argsort(-shared.data, kind="stable")[:n_terms]
    return [(words[shared.indices[i]], float(shared.data[i])) for i in order]
