"""Shared test helpers (no test file imports another): random cases of unit rows and the
brute-force top-k oracle that the tests of every top-k implementation (scipy blocks, numba
kernel, all pairs) compare with; the brute-force More Like This (BM25) oracle that the
tests of the "mlt" scoring compare with; model folders edited by hand."""

from __future__ import annotations

import hashlib
import json
import math
import statistics
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import numpy as np
import scipy.sparse as sp

from recommender.text import french_stop_words

#: The shape of :func:`random_case`: rows of the index, queries, terms.
N_ROWS, N_QUERIES, N_TERMS = 70, 60, 40
#: Scores closer than this are ties: either row may come first.
TIE = 1e-6


def unit_rows(n, n_terms, rng, density=0.12, signed=False, empty=()):
    """Random CSR rows of unit L2 norm (float32); rows in ``empty`` are all zero."""
    X = sp.random(n, n_terms, density=density, format="csr", dtype=np.float64,
                  random_state=rng)
    if signed:  # negative entries give negative cosines, which must never be returned
        X.data = X.data * rng.choice([-1.0, 1.0], size=X.nnz)
    X = X.tolil()
    for i in empty:
        X.rows[i], X.data[i] = [], []
    X = X.tocsr()
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1))).ravel()
    norms[norms == 0] = 1
    return sp.csr_matrix(sp.diags(1 / norms) @ X, dtype=np.float32)


def brute_force(Q, X, k, lo, hi, skip, allowed):
    """The oracle: dense ``Q @ X.T`` in float64, filters applied, full sort per query."""
    S = (Q.astype(np.float64) @ X.astype(np.float64).T).toarray()
    expected = []
    for i in range(Q.shape[0]):
        cands = [j for j in range(X.shape[0])
                 if lo[i] <= j < hi[i] and j != skip[i] and allowed[j] and S[i, j] > 0]
        cands.sort(key=lambda j: -S[i, j])
        expected.append(cands[:k])
    return S, expected


def assert_matches_oracle(indices, scores, S, expected, k):
    """``(indices, scores)`` are the oracle's lists: the same scores (to :data:`TIE`), rows
    that differ only among near-ties, -1/-inf padding exactly after the results, scores
    positive and non-increasing."""
    n_queries = S.shape[0]
    assert indices.shape == scores.shape == (n_queries, k)
    assert indices.dtype == np.int64 and scores.dtype == np.float32
    for i in range(n_queries):
        want = expected[i]
        n = len(want)
        got_ids, got = indices[i, :n], scores[i, :n]
        # padding: -1 / -inf exactly after the n results, nowhere else
        assert (indices[i, n:] == -1).all() and np.isneginf(scores[i, n:]).all()
        assert (got_ids >= 0).all() and np.isfinite(got).all()
        assert (got > 0).all()
        assert len(set(got_ids.tolist())) == n
        np.testing.assert_allclose(got, S[i, want], rtol=0, atol=TIE)
        np.testing.assert_allclose(got, S[i, got_ids], rtol=0, atol=TIE)
        for p, (g, w) in enumerate(zip(got_ids, want)):
            if g != w:  # allowed only among near-ties
                assert abs(S[i, g] - S[i, w]) < TIE, (i, p, g, w)
        assert (np.diff(scores[i][np.isfinite(scores[i])]) <= 0).all()


def random_case(seed, *, windows=True, skip=True, allowed=True):
    """``(Q, X, lo, hi, skip, allowed)``: signed unit rows (some empty), with random windows
    (some empty, one full), rows to skip and an allowed mask, unless told otherwise."""
    rng = np.random.default_rng(seed)
    X = unit_rows(N_ROWS, N_TERMS, rng, signed=True, empty=(3, 40))
    Q = unit_rows(N_QUERIES, N_TERMS, rng, signed=True, empty=(7,))
    lo = np.zeros(N_QUERIES, np.int64)
    hi = np.full(N_QUERIES, N_ROWS, np.int64)
    if windows:
        a = rng.integers(0, N_ROWS, N_QUERIES)
        b = rng.integers(0, N_ROWS + 1, N_QUERIES)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        hi[::9] = lo[::9]  # some empty windows
        lo[5], hi[5] = 0, N_ROWS  # and a full one
    sk = rng.integers(-1, N_ROWS, N_QUERIES) if skip else np.full(N_QUERIES, -1)
    ok = rng.random(N_ROWS) < 0.75 if allowed else np.ones(N_ROWS, bool)
    return Q, X, lo, hi, sk, ok


# -- More Like This, by brute force ------------------------------------------------------------
class Bm25Oracle:
    """More Like This over ``articles`` from its definition, in plain Python (dicts of
    terms, float64), independently of :mod:`recommender.vectors.bm25`.

    An article is one field: the terms that ``analyzer`` (a
    :class:`~recommender.text.FrenchAnalyzer`) gives for its title, lead and body, counted
    together. ``N`` articles; a term's ``df`` is the number of articles holding it; the
    vocabulary is the terms with ``min_df <= df <= max_df * N``; an article's length is its
    number of terms, those outside the vocabulary included; ``avgdl`` the mean length.

    - BM25 weight of term t in article d: ``idf ** idf_power * tf (k1 + 1) / (tf + k1 (1 -
      b + b len_d / avgdl))``, ``idf = ln(1 + (N - df + 0.5) / (df + 0.5))``;
    - the query of a text: its ``query_terms`` vocabulary terms of highest ``tf × (ln((N +
      1) / (df + 1)) + 1)`` among those it holds ``min_term_freq`` times or more (and, with
      ``query_stop_words``, that are not French stop words), ties to the alphabetically
      first term, each weighted 1;
    - "auto" for ``min_term_freq`` and ``query_stop_words``: a corpus whose median length
      is under 100 terms is one of short texts, whose queries take terms said once (1) and
      leave stop words out (True); otherwise 2 and False;
    - a score: the sum of the candidate's BM25 weights over the query's terms.
    """

    def __init__(self, articles, analyzer, *, min_df, max_df=1.0, k1=0.8, b=0.75,
                 idf_power=0.75, query_terms=30, min_term_freq="auto",
                 query_stop_words="auto"):
        self.analyzer = analyzer
        self.k1, self.b, self.idf_power = k1, b, idf_power
        self.query_terms = query_terms
        self.ids = [a.id for a in articles]
        self.tf = {}  # id -> {term: count}, every analysed term
        self.length = {}
        for article in articles:
            terms = self.terms_of(article)
            self.tf[article.id] = Counter(terms)
            self.length[article.id] = len(terms)
        self.n = len(articles)
        df = Counter(t for counts in self.tf.values() for t in counts)
        self.df = {t: d for t, d in df.items() if min_df <= d <= max_df * self.n}
        self.avgdl = sum(self.length.values()) / self.n
        self.median = statistics.median(self.length.values())
        short = self.median < 100
        self.min_term_freq = (1 if short else 2) if min_term_freq == "auto" else min_term_freq
        self.query_stop_words = short if query_stop_words == "auto" else query_stop_words
        self.stops = french_stop_words() if self.query_stop_words else frozenset()

    def terms_of(self, article) -> list:
        return (self.analyzer(article.title) + self.analyzer(article.heading)
                + self.analyzer(article.body))

    def idf(self, term) -> float:
        df = self.df[term]
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def weight(self, term, article_id) -> float:
        """The BM25 weight of ``term`` in an article of the corpus (0 if it lacks it)."""
        tf = self.tf[article_id].get(term, 0)
        if tf == 0 or term not in self.df:
            return 0.0
        norm = self.k1 * (1 - self.b + self.b * self.length[article_id] / self.avgdl)
        return self.idf(term) ** self.idf_power * tf * (self.k1 + 1) / (tf + norm)

    def row(self, article_id) -> dict:
        """{term: BM25 weight} of an article of the corpus."""
        return {t: self.weight(t, article_id) for t in self.tf[article_id] if t in self.df}

    def query(self, counts: dict) -> list:
        """The query terms of a text's term counts, strongest first."""
        ranked = []
        for term, tf in counts.items():
            if term in self.df and tf >= self.min_term_freq and term not in self.stops:
                strength = tf * (math.log((self.n + 1) / (self.df[term] + 1)) + 1)
                ranked.append((-strength, term))
        ranked.sort()
        return [term for _, term in ranked[:self.query_terms]]

    def query_of(self, article) -> list:
        """The query terms of an article (in the corpus or not)."""
        return self.query(Counter(self.terms_of(article)))

    def scores(self, query: list) -> dict:
        """{id: score} of every article of the corpus for a query (zeros included)."""
        return {a: sum(self.weight(t, a) for t in query) for a in self.ids}

    def ranking(self, query: list, keep=lambda article_id: True) -> tuple[list, dict]:
        """``(ids, scores)``: the kept articles of positive score, best first (ties: by
        id), and every article's score."""
        score = self.scores(query)
        found = sorted((a for a in self.ids if keep(a) and score[a] > 0),
                       key=lambda a: (-score[a], a))
        return found, score


def bm25_oracle(model, articles) -> Bm25Oracle:
    """The oracle of a fitted "mlt" model, from its public parameters (the defaults of the
    "mlt" scoring where they are None: min_df 2, max_df 1.0, every field weighing 1, no
    stop list) and its analyzer."""
    assert model.scoring == "mlt" and model.field_weights is None
    analyzer = model.vectorizer_.build_analyzer()
    if model.analyzer is None:
        assert analyzer.stop_words is False  # "mlt" analyses without a stop list
    return Bm25Oracle(articles, analyzer,
                      min_df=2 if model.min_df is None else model.min_df,
                      max_df=1.0 if model.max_df is None else model.max_df,
                      k1=model.k1, b=model.b, idf_power=model.mlt_idf_power,
                      query_terms=model.mlt_terms, min_term_freq=model.min_term_freq,
                      query_stop_words=model.query_stop_words)


# -- model folders ------------------------------------------------------------------------
def read_manifest(path: Path) -> dict:
    return json.loads((path / "manifest.json").read_text(encoding="utf-8"))


def write_manifest(path: Path, manifest: dict) -> None:
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def refresh_facts(path: Path, name: str) -> None:
    """Make the manifest agree with a file that a test rewrote (size and checksum)."""
    manifest = read_manifest(path)
    data = (path / name).read_bytes()
    manifest["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    write_manifest(path, manifest)


def flip_bytes(file: Path, n: int = 1) -> None:
    """Damage a file without changing its size: its last ``n`` bytes inverted."""
    data = bytearray(file.read_bytes())
    data[-n:] = bytes(b ^ 0xFF for b in data[-n:])
    file.write_bytes(bytes(data))


# -- property tests ---------------------------------------------------------------------------
#: Generated inputs per property: a few hundred in the default run, 10,000 with -m slow.
QUICK, MANY = 300, 10_000
EXAMPLES = [pytest.param(QUICK, id="quick"),
            pytest.param(MANY, id="many", marks=pytest.mark.slow)]


def run_property(examples: int, check, *strategies) -> None:
    """``check`` on ``examples`` generated inputs, the same ones on every run."""
    settings(max_examples=examples, derandomize=True, deadline=None, database=None,
             suppress_health_check=list(HealthCheck))(given(*strategies)(check))()


def frozen_union_model(model, articles, reference):
    """The oracle of a live model: a model of ``articles`` (the articles it serves) fitted
    with the statistics of ``model``'s fit (its vectorizer: vocabulary, idf, document count,
    mean length), rows in publication order, its reference time ``reference`` (ISO), no
    neighbour table. A live model's lists must be this model's, exactly."""
    from recommender import ArticleRecommender
    from recommender.model.catalogue import Catalogue
    from recommender.model.search import ContentIndex
    from recommender.times import UNDATED, to_seconds

    vec = model.vectorizer_
    counts, lengths = vec.transform_vectors(articles)
    published = np.array([UNDATED if a.published is None else to_seconds(a.published, "p")
                          for a in articles], np.int64)
    order = np.lexsort((np.arange(len(articles)), published))
    content = ContentIndex.bm25(vec, counts[order].tocsr(), lengths[order])
    catalogue = Catalogue(np.asarray([a.id for a in articles], str)[order], published[order],
                          np.asarray([a.category for a in articles], str)[order],
                          np.asarray([a.title for a in articles] + [None], object)[:-1][order],
                          created=reference)
    oracle = ArticleRecommender(**{**model.get_params(), "table_size": 0})
    return oracle.assemble(vectorizer=vec, content=content, catalogue=catalogue, info={})
