"""The streaming import: the same output for any number of jobs, duplicates and bad pages
skipped with one line each, the output written whole or not at all, the summary."""

from __future__ import annotations

import logging

import pytest

pytest.importorskip("trafilatura", reason="pip install 'recommender[import]'")

from pages_helpers import ID_PATTERN, PAGES, PARIS, page_files, read_jsonl  # noqa: E402

from recommender.errors import MissingDependencyError, ParameterError  # noqa: E402
from recommender.imports import import_pages  # noqa: E402
from recommender.imports.run import CHUNK_PAGES, check_output  # noqa: E402


def run(sources, out, **kw):
    kw = {"id_pattern": ID_PATTERN, "zone": PARIS, **kw}
    return import_pages([str(s) for s in sources], out, **kw)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A folder of more than two chunks of pages: the sample three times (the later copies'
    pages are duplicates), and pages that give no article."""
    folder = tmp_path_factory.mktemp("mixed")
    for copy in ("a", "b", "c"):
        for path in page_files():
            target = folder / copy / path.relative_to(PAGES)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    bad = folder / "a" / "actu.orange.fr" / "monde"
    (bad / "empty-CNT000000empt.html").write_bytes(b"")
    (bad / "binary-CNT000000bin0.html").write_bytes(bytes(range(256)) * 20)
    (bad / "no-url.html").write_bytes(b"<html><body><p>x</p></body></html>")
    return folder


def test_same_output_for_any_number_of_jobs(mixed, tmp_path):
    assert len(list(mixed.rglob("*.html"))) > 2 * CHUNK_PAGES
    one = run([mixed], tmp_path / "one.jsonl.gz", jobs=1)
    two = run([mixed], tmp_path / "two.jsonl.gz", jobs=2)
    assert (tmp_path / "one.jsonl.gz").read_bytes() == (tmp_path / "two.jsonl.gz").read_bytes()
    assert one.lines()[1:] == two.lines()[1:]


def test_duplicates_and_bad_pages_are_skipped_one_line_each(mixed, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        summary = run([mixed], tmp_path / "out.jsonl")
    records = read_jsonl(tmp_path / "out.jsonl")
    assert len(records) == summary.imported == 12
    assert summary.pages == 39
    assert dict(summary.skipped) == {"duplicate id": 24, "not an HTML page": 2, "no id": 1}
    skipped = [r.getMessage() for r in caplog.records if r.name == "recommender.imports.run"]
    assert len(skipped) == 27 and all("\n" not in line for line in skipped)
    assert any(line.startswith("skipped ") and line.endswith(
        "empty-CNT000000empt.html: not an HTML page (Document is empty)") for line in skipped)
    assert any(line.endswith("binary-CNT000000bin0.html: not an HTML page (binary data)")
               for line in skipped)
    # the first copy of each page is the one kept (its folder comes first)
    assert all("Traceback" not in r.getMessage() for r in caplog.records)


def test_summary_counts_boxes_and_links(imported):
    _, summary = imported
    assert summary.boxes == 12
    assert summary.links == 24  # two links a box
    assert summary.resolved == 16 and summary.unresolved == 8
    lines = summary.lines()
    assert lines[0].startswith("imported 12 of 12 pages -> ")
    assert lines[0].endswith("(2 files that are not HTML passed over)")
    assert lines[1] == ("related boxes found on 12 of 12 articles, 24 links: 16 to imported "
                        "articles, 8 to articles not imported (kept)")


def test_canonical_url_ids_resolve_the_same_links(tmp_path, imported):
    """Without --id-pattern, ids are canonical URLs; the site's boxes link to the canonical
    URL (not to the address a page was crawled at), so the same links resolve."""
    summary = run([PAGES], tmp_path / "out.jsonl", id_pattern=None)
    records = read_jsonl(tmp_path / "out.jsonl")
    assert [r["id"] for r in records] == [r["url"] for r in records]
    assert all(r["id"].startswith("https://actu.orange.fr/") for r in records)
    assert (summary.resolved, summary.unresolved) == (16, 8) == \
        (imported[1].resolved, imported[1].unresolved)


def test_nothing_imported_writes_nothing(tmp_path):
    page = tmp_path / "no-url.html"
    page.write_bytes(b"<html><body><p>x</p></body></html>")
    out = tmp_path / "out.jsonl"
    out.write_text("the old corpus\n")
    with pytest.raises(ParameterError, match=r"^no article imported from 1 pages \(skipped 1 "
                                             r"pages: 1 no URL\); nothing written$"):
        run([page], out)
    assert out.read_text() == "the old corpus\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["no-url.html", "out.jsonl"]


@pytest.mark.parametrize("name, message", [
    ("corpus.csv", "the import writes a corpus as .jsonl or .jsonl.gz"),
    ("corpus.json.gz", "the import writes a corpus as .jsonl or .jsonl.gz"),
    ("corpus", "the import writes a corpus as .jsonl or .jsonl.gz"),
])
def test_output_of_another_kind(tmp_path, name, message):
    with pytest.raises(ParameterError, match=message):
        check_output(tmp_path / name)
    with pytest.raises(ParameterError, match="is a folder; give a corpus file such as"):
        check_output(tmp_path)


def test_missing_package_names_the_extra(monkeypatch, tmp_path):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "warcio" else real(name, *a))
    with pytest.raises(MissingDependencyError, match=r"^importing pages needs warcio, which "
                                                     r"is not installed: pip install "
                                                     r"'recommender\[import\]'$"):
        run([PAGES], tmp_path / "out.jsonl")
