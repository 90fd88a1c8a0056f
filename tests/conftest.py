"""Shared fixtures: the sample corpus, a model fitted on it once, and that model saved."""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

from recommender import ArticleRecommender, CorpusWarning, read_corpus
from recommender.truth import read_ground_truth

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parents[1]
#: ``../shared`` next to the checkout: present in CI and on the team's machines only.
SHARED = Path(__file__).parents[2] / "shared"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def articles_path() -> Path:
    """``tests/data/articles.jsonl``: 41 real OrangeSum articles (see tests/data/README.md)."""
    return DATA / "articles.jsonl"


@pytest.fixture(scope="session")
def related_path() -> Path:
    """``tests/data/related.tsv``: the 47 site links of the sample's 29 sources."""
    return DATA / "related.tsv"


@pytest.fixture(scope="session")
def sample_links(articles_path, related_path) -> dict:
    """{(source, target): shown_at ISO} of the TSV links with both ends in the sample (the
    first time a link is shown, when it is shown several times)."""
    ids = {json.loads(line)["id"] for line in articles_path.read_text("utf-8").splitlines()}
    out = {}
    for line in related_path.read_text("utf-8").splitlines()[1:]:
        source, target, _rank, shown = line.split("\t")
        if source in ids and target in ids:
            out.setdefault((source, target), shown)
    return out


@pytest.fixture(scope="session")
def articles(articles_path):
    """The sample as a list of :class:`~recommender.Article`, in file order."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        return list(read_corpus(articles_path))


@pytest.fixture(scope="session")
def small_model(articles_path) -> ArticleRecommender:
    """A model fitted on the sample, min_df=2 (More Like This's default, given so that
    ``cosine_model``, whose default is 3, keeps the same words), other parameters the
    defaults: More Like This scoring ("auto" query rule: full articles), calendar window.
    Do not mutate it."""
    with warnings.catch_warnings():  # the sample has an empty article and outside links
        warnings.simplefilter("ignore", CorpusWarning)
        return ArticleRecommender(min_df=2).fit(read_corpus(articles_path))


@pytest.fixture(scope="session")
def cosine_model(articles_path) -> ArticleRecommender:
    """``small_model`` with ``scoring="cosine"`` (TF-IDF rows with the length prior, the
    cosine's own defaults). Do not mutate it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        return ArticleRecommender(scoring="cosine", min_df=2).fit(read_corpus(articles_path))


@pytest.fixture(scope="session")
def sample_models(small_model, cosine_model) -> dict:
    """{scoring: the sample model that scores so}."""
    return {"mlt": small_model, "cosine": cosine_model}


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory, small_model) -> Path:
    """``small_model`` saved in a session temporary folder. Copy it before editing."""
    path = tmp_path_factory.mktemp("models") / "small"
    small_model.save(path)
    return path


@pytest.fixture(scope="session")
def cosine_dir(tmp_path_factory, cosine_model) -> Path:
    """``cosine_model`` saved in a session temporary folder. Copy it before editing."""
    path = tmp_path_factory.mktemp("models") / "cosine"
    cosine_model.save(path)
    return path


@pytest.fixture(scope="session")
def sample_dirs(model_dir, cosine_dir) -> dict:
    """{scoring: the folder of the sample model that scores so}."""
    return {"mlt": model_dir, "cosine": cosine_dir}


@pytest.fixture(scope="session")
def learned_dir(tmp_path_factory, articles, related_path) -> Path:
    """The sample model with a small learned re-ranker (8 candidates, 5 trees), saved in a
    session temporary folder. Copy it before editing."""
    with threadpool_limits(1):
        model = ArticleRecommender(min_df=2).fit(articles)
        model.learn(read_ground_truth(related_path), n_candidates=8, max_iter=5)
    path = tmp_path_factory.mktemp("learned") / "model"
    model.save(path)
    return path


@pytest.fixture(scope="session")
def page_path() -> Path:
    """``examples/page.txt``: CNT000001r4edC's text wrapped in teasers and "À lire" lines."""
    return REPO / "examples" / "page.txt"


@pytest.fixture(scope="session")
def seed_page_path() -> Path:
    """``../shared/seed/page.txt``; skips the test when ``../shared`` is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (it exists in CI, not in a user's clone)")
    path = SHARED / "seed" / "page.txt"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


@pytest.fixture
def restore_logging_and_warnings():
    """``cli.main`` configures logging and warnings for the process; undo it after a test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    py_warnings = logging.getLogger("py.warnings")
    py_handlers = py_warnings.handlers[:]
    formatwarning = warnings.formatwarning
    yield
    logging.captureWarnings(False)
    root.handlers[:] = handlers
    root.setLevel(level)
    py_warnings.handlers[:] = py_handlers
    warnings.formatwarning = formatwarning
