"""Fixtures of the import's tests: the shipped sample of 12 real pages
(``tests/data/pages``, see its README), their reference records, and the sample imported
once. The helpers the tests import are in ``pages_helpers.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from pages_helpers import ID_PATTERN, PAGES, PARIS, read_jsonl


@pytest.fixture(scope="session")
def pages_dir() -> Path:
    return PAGES


@pytest.fixture(scope="session")
def reference() -> dict:
    """The corpus records of the sample's 12 ids, by id."""
    return {r["id"]: r for r in read_jsonl(PAGES / "records.jsonl")}


@pytest.fixture(scope="session")
def imported(tmp_path_factory) -> tuple[dict, object]:
    """The sample imported once with Orange's ids: (records by id, the summary)."""
    from recommender.imports import import_pages

    out = tmp_path_factory.mktemp("import") / "sample.jsonl"
    summary = import_pages([PAGES], out, id_pattern=ID_PATTERN, zone=PARIS)
    return {r["id"]: r for r in read_jsonl(out)}, summary
