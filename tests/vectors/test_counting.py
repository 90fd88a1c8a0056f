"""The chunked, multi-process fit gives the same model, bit for bit, as the serial one."""

from __future__ import annotations

import ast
import subprocess
import sys

import numpy as np
import scipy.sparse as sp
import pytest

from recommender import ArticleRecommender
from recommender.errors import ParameterError
from recommender.vectors.counting import (CountedArticles, CountMerger, chunked, count_chunk,
                                          merge_chunks, stacked_rows)
from recommender.text import ELISIONS, FrenchAnalyzer
from recommender.vectors.tfidf import FieldTfidfVectorizer, row_sums, select_terms

EDGE_TEXTS = [
    "",
    "L'État l’a dit: jusqu'à Noël.Puis rien",
    "Un texte.\nÀ lire aussi : > Un autre titre\nLa suite du texte.",
    "Début.\r\nAller plus loin\r\nUn teaser\nUn autre",
    "Ligne\u2028seconde ligne\x1cTROISIÈME\u0085fin",
    "Les plus lus\nrien après",
    "CES ARTICLES DEVRAIENT VOUS INTÉRESSER :\nTeaser",
    "Le ſujet et İstanbul, ı : plus loin ? Aller pluſ loin",
    "quelqu'un presqu'île lorsqu'il puisqu'on d d' l",
    "Rendez-vous 2024 à 14h30, 1234 et l’œuvre d’Ælfric.",
    "Lire la suite, à lire : > Titre RéunionLe texte reprend.",
    "le_mot sous_tiret e\u0301te\u0301 (accents décomposés)",
]


def assert_same_fit(a: FieldTfidfVectorizer, b: FieldTfidfVectorizer, Xa, Xb) -> None:
    assert a.vocabulary_ == b.vocabulary_
    assert a.words_ == b.words_
    assert np.array_equal(a.idf_.view(np.int32), b.idf_.view(np.int32))
    assert np.array_equal(Xa.indptr, Xb.indptr)
    assert np.array_equal(Xa.indices, Xb.indices)
    assert np.array_equal(Xa.data.view(np.int32), Xb.data.view(np.int32))  # bit for bit


@pytest.mark.parametrize("n_jobs, chunk_size", [(1, 5), (1, 17), (2, 5), (2, 17), (2, 1000)])
def test_fit_is_the_same_for_any_jobs_and_chunks(articles, n_jobs, chunk_size):
    serial = FieldTfidfVectorizer(min_df=2)
    X = serial.fit_transform(articles)
    other = FieldTfidfVectorizer(min_df=2, n_jobs=n_jobs, chunk_size=chunk_size)
    assert_same_fit(serial, other, X, other.fit_transform(articles))


class MergedGroups(CountedArticles):
    """Articles counted in chunks of ``chunk_size``, each ``group`` chunks merged into one
    block where they were counted (as a cluster's worker merges a partition's)."""

    def __init__(self, articles, vectorizer, chunk_size: int, group: int):
        analyzer = vectorizer.build_analyzer()
        weights = list(vectorizer.settings()["field_weights"].items())
        super().__init__(analyzer.get_params(), weights)
        texts = [[getattr(a, name) for name, _ in weights] for a in articles]
        chunks = [count_chunk(analyzer, chunk) for chunk in chunked(texts, chunk_size)]
        self.blocks = [merge_chunks(chunks[i:i + group], [w for _, w in weights], analyzer.term)
                       for i in range(0, len(chunks), group)]

    def __iter__(self):
        return iter(self.blocks)


@pytest.mark.parametrize("weights", [None, {"title": 0.7, "heading": 1.3, "body": 0.1}])
@pytest.mark.parametrize("chunk_size, group", [(5, 1), (7, 3), (1000, 1), (3, 1000)])
def test_counts_merged_where_they_were_counted_give_the_same_fit(articles, weights,
                                                                 chunk_size, group):
    """The fit of blocks of chunks merged elsewhere (a cluster's partitions) equals the
    serial fit bit for bit, words' frequencies (the words shown) included."""
    serial = FieldTfidfVectorizer(min_df=2, field_weights=weights)
    X = serial.fit_transform(articles)
    other = FieldTfidfVectorizer(min_df=2, field_weights=weights)
    merged = MergedGroups(articles, other, chunk_size, group)
    assert_same_fit(serial, other, X, other.fit_transform(merged))


def test_counts_merged_elsewhere_need_a_growing_vocabulary(articles):
    analyzer = FrenchAnalyzer()
    chunk = count_chunk(analyzer, [[a.title] for a in articles[:5]])
    block = merge_chunks([chunk], [1.0], analyzer.term)
    merger = CountMerger([1.0], lambda word: -1)  # a fixed vocabulary that drops all
    with pytest.raises(ValueError, match="^counts merged elsewhere need a column per term, "
                                         "growing a vocabulary; these terms are dropped or "
                                         "share a column$"):
        merger.add(block)


def test_merged_counts_give_new_words_the_column_of_their_term(articles):
    """A MergedCounts' new words get the column of the term the part gives them: the merger
    asks ``column_of_term``, never ``column_of`` (which would analyse each word again), and
    merges what asking each word gives."""
    analyzer = FrenchAnalyzer()
    texts = [[a.title, a.body] for a in articles]
    chunks = [count_chunk(analyzer, chunk) for chunk in chunked(texts, 9)]
    parts = [merge_chunks(chunks[i:i + 2], [1.0, 0.5], analyzer.term)
             for i in range(0, len(chunks), 2)]
    by_word, by_term = {}, {}

    def grow(vocabulary, term):
        return -1 if term is None else vocabulary.setdefault(term, len(vocabulary))

    def never(word):
        raise AssertionError(f"column_of asked of {word!r}")

    of_words = CountMerger([1.0, 0.5], lambda word: grow(by_word, analyzer.term(word)))
    of_terms = CountMerger([1.0, 0.5], never, lambda term: grow(by_term, term))
    for part in parts:
        of_words.add(part)
        of_terms.add(part)
    assert len(parts) > 1 and list(by_term.items()) == list(by_word.items())
    (a, (words_a, columns_a, freq_a)), (b, (words_b, columns_b, freq_b)) = (
        of_words.result(len(by_word)), of_terms.result(len(by_term)))
    assert words_a == words_b and (columns_a == -1).any()
    np.testing.assert_array_equal(columns_a, columns_b)
    np.testing.assert_array_equal(freq_a, freq_b)
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_counts_of_other_weights_are_refused(articles):
    vectorizer = FieldTfidfVectorizer(min_df=2)
    merged = MergedGroups(articles, vectorizer, 10, 2)
    other = FieldTfidfVectorizer(min_df=2, field_weights={"title": 1.0, "body": 1.0})
    with pytest.raises(ParameterError, match="^these articles were counted with the analyzer "
                                             ".* and the field weights \\{'title': 1.5, "
                                             "'heading': 2.25, 'body': 2.0\\}; this vectorizer"):
        other.fit(merged)


def test_transform_is_the_same_in_processes(articles):
    vec = FieldTfidfVectorizer(min_df=2).fit(articles)
    X = vec.transform(articles)
    vec.n_jobs, vec.chunk_size = 2, 7
    Y = vec.transform(articles)
    assert np.array_equal(X.indices, Y.indices)
    assert np.array_equal(X.data.view(np.int32), Y.data.view(np.int32))


def test_recommender_fit_in_two_processes_equals_one(articles):
    one = ArticleRecommender(min_df=2, n_jobs=1).fit(articles)
    two = ArticleRecommender(min_df=2, n_jobs=2).fit(articles)
    assert np.array_equal(one.ids_, two.ids_)
    assert_same_fit(one.vectorizer_, two.vectorizer_, one.matrix_, two.matrix_)


@pytest.mark.parametrize("clean", [True, False])
def test_raw_words_are_words_with_elisions(articles, clean):
    """The fast path of the vectorizer reads the same words as the analyzer."""
    analyzer = FrenchAnalyzer(clean=clean)
    texts = EDGE_TEXTS + [getattr(a, f) for a in articles for f in ("title", "heading", "body")]
    for text in texts:
        assert [w for w in analyzer.raw_words(text) if w not in ELISIONS] == \
            analyzer.words(text), text


def test_elisions_have_no_term():
    analyzer = FrenchAnalyzer(min_length=1, stop_words=False)
    assert [analyzer.term(w) for w in ("l", "qu", "jusqu", "quelqu")] == [None] * 4
    assert analyzer("L'État jusqu'à") == ["etat", "a"]


def test_count_chunk_counts_each_field():
    analyzer = FrenchAnalyzer()
    counts = count_chunk(analyzer, [["Paris Paris Lyon", "Lyon"], ["", "Nice"]])
    assert counts.lengths.tolist() == [[2, 1], [0, 1]]
    words = [counts.words[s] for s in counts.slots]
    assert list(zip(words, counts.counts.tolist())) == [("paris", 2), ("lyon", 1),
                                                       ("lyon", 1), ("nice", 1)]


def test_chunked_keeps_order_and_sizes():
    assert list(chunked(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunked([], 3)) == []


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "10"])
def test_bad_chunk_size_is_named(articles, bad):
    with pytest.raises(ParameterError,
                       match=f"^chunk_size must be a positive integer, got {bad!r}$"):
        FieldTfidfVectorizer(chunk_size=bad).fit(articles)


def test_bad_n_jobs_is_named(articles):
    with pytest.raises(ParameterError, match="^n_jobs must be a positive integer or -1"):
        FieldTfidfVectorizer(n_jobs=0).fit(articles)


def test_a_worker_imports_only_what_counting_needs():
    """A fit's worker unpickles count_chunk, which imports the package first: that must
    import only the text code and its checks, not the index, the model, the evaluation or
    scikit-learn (a second of CPU per worker)."""
    assert count_chunk.__module__ == "recommender.vectors.counting"  # what a worker imports
    code = ("import sys, recommender.vectors.counting; "
            "print(sorted(m for m in sys.modules if m.startswith('recommender'))); "
            "print(sorted(m for m in ('sklearn', 'numba', 'joblib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    ours = ast.literal_eval(out[0])
    assert "recommender.index.topk" not in ours and "recommender.model.estimator" not in ours
    assert ours == ["recommender", "recommender._checks", "recommender.errors",
                    "recommender.text", "recommender.vectors", "recommender.vectors.counting"]
    assert out[1] == "[]"


def test_package_names_are_the_modules_objects():
    """Each name of ``recommender.__all__`` is the object of the module that defines it, found
    on first use; an unknown name is an AttributeError."""
    import importlib

    import recommender

    for name in recommender.__all__:
        value = getattr(recommender, name)
        assert value.__module__.startswith("recommender."), name
        assert getattr(importlib.import_module(value.__module__), name) is value
    assert set(recommender.__all__) <= set(dir(recommender))
    with pytest.raises(AttributeError, match="module 'recommender' has no attribute 'nope'"):
        recommender.nope


def shuffled_rows(X, seed: int):
    """``X`` with each row's entries in a random order (the same entries)."""
    rng = np.random.default_rng(seed)
    order = np.concatenate([start + rng.permutation(stop - start)
                            for start, stop in zip(X.indptr[:-1], X.indptr[1:])])
    return type(X)((X.data[order], X.indices[order], X.indptr.copy()), shape=X.shape)


def test_select_terms_does_not_depend_on_the_order_of_a_rows_entries(articles):
    """Counts merged from partitions hold a row's terms in another order than a local
    fit's: what is kept (and the rows' order of terms) is the same."""
    vectorizer = FieldTfidfVectorizer(min_df=2)
    vocabulary: dict = {}
    counts, stats = vectorizer.count(articles, vocabulary, grow=True)
    want = select_terms(counts, dict(vocabulary), stats, min_df=2, max_df=0.5)
    got = select_terms(shuffled_rows(counts, 0), dict(vocabulary), stats, min_df=2, max_df=0.5)
    assert want.counts.has_sorted_indices and got.counts.has_sorted_indices
    assert np.array_equal(want.counts.indptr, got.counts.indptr)
    assert np.array_equal(want.counts.indices, got.counts.indices)
    assert np.array_equal(want.counts.data.view(np.int32), got.counts.data.view(np.int32))
    assert (want.terms, want.words) == (got.terms, got.words)


def test_row_sums_are_exact_in_any_order():
    """float32 values whose float32 sum depends on their order: the sum is the exact one
    (math.fsum), whatever the order; empty rows sum to 0."""
    import math

    import scipy.sparse as sp

    values = np.array([1e8, 1.0, 0.7, -1e8, 3.25], np.float32)
    X = sp.csr_matrix((np.r_[values, values[::-1], [2.5]], np.r_[0:5, 0:5, 0],
                       [0, 5, 5, 10, 11]), shape=(4, 5))
    exact = math.fsum(float(v) for v in values)
    assert row_sums(X).tolist() == [exact, 0.0, exact, 2.5]
    assert row_sums(shuffled_rows(X, 1)).tolist() == [exact, 0.0, exact, 2.5]
    assert float(np.float32(1e8) + np.float32(1.0) - np.float32(1e8)) != 1.0  # float32 loses it


@pytest.mark.parametrize("block", [1, 2, 7, 64, 1 << 16])
def test_row_sums_in_blocks_are_each_rows_exact_sum(monkeypatch, block):
    """Blocks of any size (smaller than a row, ending inside a run of empty rows, the whole
    matrix): each row's sum is math.fsum of its values, empty rows 0."""
    import math

    import scipy.sparse as sp

    import recommender.vectors.rowblocks as rowblocks

    rng = np.random.default_rng(block)
    lengths = rng.integers(0, 9, 300)
    lengths[rng.random(300) < 0.3] = 0  # runs of empty rows
    lengths[:3] = 0
    lengths[-2:] = 0
    indptr = np.r_[0, np.cumsum(lengths)]
    values = (rng.integers(-4000, 4000, indptr[-1]) * 0.125).astype(np.float32)
    X = sp.csr_matrix((values, rng.integers(0, 50, indptr[-1]), indptr), shape=(300, 50))
    monkeypatch.setattr(rowblocks, "BLOCK_ENTRIES", block)
    expected = [math.fsum(values[a:z].tolist()) for a, z in zip(indptr[:-1], indptr[1:])]
    assert row_sums(X).tolist() == expected
    assert row_sums(X[:0]).tolist() == []


@pytest.mark.parametrize("weights", [None, {"title": 0.7, "heading": 1.3, "body": 0.1}])
def test_regression_fit_transform_rows_hold_their_terms_in_column_order(articles, weights):
    """fit_transform gave each row's terms in order of their first occurrence in the
    corpus (an unsorted CSR, its norms added in that order), transform in column order:
    both now give the same CSR, bit for bit."""
    vectorizer = FieldTfidfVectorizer(min_df=2, field_weights=weights)
    X = vectorizer.fit_transform(articles)
    Y = vectorizer.transform(articles)
    assert all(np.all(np.diff(X.indices[s:e]) > 0) for s, e in zip(X.indptr[:-1], X.indptr[1:]))
    assert np.array_equal(X.indptr, Y.indptr) and np.array_equal(X.indices, Y.indices)
    assert np.array_equal(X.data.view(np.int32), Y.data.view(np.int32))


@pytest.mark.parametrize("shapes", [[(3, 40), (0, 0), (5, 0), (1, 7)], [(0, 0)], []])
def test_stacked_rows_are_scipys_vstack(shapes):
    """The rows of blocks one after the other, as scipy's vstack gives them (the oracle):
    blocks with no row, blocks of empty rows, no block at all."""
    rng = np.random.default_rng(7)
    blocks = []
    for n_rows, nnz in shapes:
        indptr = np.r_[0, np.sort(rng.integers(0, nnz + 1, max(n_rows - 1, 0))), nnz]
        indptr = indptr[:n_rows + 1] if n_rows else np.zeros(1, np.int64)
        indices = rng.integers(0, 9, nnz).astype(np.int32)
        data = rng.random(nnz, dtype=np.float32)
        blocks.append(sp.csr_matrix((data, indices, indptr.astype(np.int32)), shape=(n_rows, 9)))
    got = stacked_rows(blocks, 9)
    want = (sp.vstack(blocks, format="csr", dtype=np.float32)
            if blocks else sp.csr_matrix((0, 9), dtype=np.float32))
    assert got.shape == want.shape and got.dtype == np.float32
    assert got.indices.dtype == got.indptr.dtype == np.int32
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data, want.data)


def test_a_merged_part_numbers_its_terms_alphabetically(articles):
    """merge_chunks numbers a part's terms in alphabetical order and sorts its rows, so that
    numbered as the fit numbers the kept terms (alphabetically) its rows stay in order; the
    counts of each (article, term) are those of a merger of the chunks (the oracle)."""
    analyzer = FrenchAnalyzer()
    chunks = [count_chunk(analyzer, chunk)
              for chunk in chunked([[a.title, a.body] for a in articles], 9)]
    part = merge_chunks(chunks, [1.0, 0.5], analyzer.term)
    assert len(part.terms) > 100 and part.terms == sorted(part.terms)
    assert [part.terms[c] if c >= 0 else None for c in part.columns.tolist()] == [
        analyzer.term(word) for word in part.words]
    counts = part.counts
    assert all((np.diff(counts.indices[a:b]) > 0).all()
               for a, b in zip(counts.indptr[:-1], counts.indptr[1:]))
    vocabulary = {}
    oracle = CountMerger([1.0, 0.5], lambda word: -1 if analyzer.term(word) is None
                         else vocabulary.setdefault(analyzer.term(word), len(vocabulary)))
    for chunk in chunks:
        oracle.add(chunk)
    want = oracle.result(len(vocabulary))[0].tocoo()
    terms = list(vocabulary)
    got = counts.tocoo()
    assert sorted(zip(want.row.tolist(), [terms[c] for c in want.col.tolist()],
                      want.data.tolist())) == sorted(
        zip(got.row.tolist(), [part.terms[c] for c in got.col.tolist()], got.data.tolist()))
