"""``recommender import``: the summary, one line per bad page, one line and exit 2 for each
error of the user, and the whole path of the README (import -> train -> evaluate -> batch)."""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("trafilatura", reason="pip install 'recommender[import]'")

from pages_helpers import ID_PATTERN, PAGES, page_files, read_jsonl  # noqa: E402

from recommender.cli import main  # noqa: E402

pytestmark = pytest.mark.usefixtures("restore_logging_and_warnings")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(capsys, match, *argv):
    """Status 2 and exactly one line on stderr, ``recommender import: error: ...``."""
    code, out, err = run(capsys, "import", *argv)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("recommender import: error: ")
    assert re.search(match, lines[0]), lines[0]


def assert_usage_error(capsys, match, *argv):
    """argparse's own: the usage, then one line, exit 2."""
    with pytest.raises(SystemExit) as exc:
        main(["import", *map(str, argv)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert re.search(match, err.splitlines()[-1]), err


def test_import_prints_its_summary(capsys, tmp_path):
    out = tmp_path / "corpus.jsonl.gz"
    code, stdout, err = run(capsys, "import", PAGES, "--out", out, "--id-pattern", ID_PATTERN,
                            "--quiet")
    assert code == 0 and stdout == "" and err == ""  # --quiet: warnings only
    assert len(read_jsonl(out)) == 12
    code, stdout, err = run(capsys, "import", PAGES, "--out", out, "--id-pattern", ID_PATTERN)
    assert code == 0
    info = [line for line in err.splitlines() if line.startswith("INFO: ")]
    assert info[0] == f"INFO: imported 12 of 12 pages -> {out} (2 files that are not HTML " \
                      f"passed over)"
    assert info[1].startswith("INFO: related boxes found on 12 of 12 articles, 24 links: ")
    assert "importing" in err  # the progress bar


def test_a_bad_page_is_one_warning_line(capsys, tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "page.html").write_bytes(page_files()[0].read_bytes())
    (folder / "broken.html").write_bytes(bytes(range(256)))
    code, _, err = run(capsys, "import", folder, "--out", tmp_path / "c.jsonl", "-q")
    assert code == 0
    assert err.splitlines() == [f"WARNING: skipped {folder / 'broken.html'}: not an HTML page "
                                f"(binary data)"]


@pytest.mark.parametrize("argv, match", [
    (["missing-folder"], r"error: source not found: missing-folder$"),
    ([PAGES, "--id-pattern", "(CNT"], r"error: --id-pattern '\(CNT' is not a regular "
                                      r"expression: missing \), unterminated subpattern"),
    ([PAGES, "--box-selector", "div::after"], r"error: --box-selector 'div::after': cannot "
                                              r"read '::after' at character 4"),
])
def test_user_errors_are_one_line(capsys, tmp_path, argv, match):
    assert_user_error(capsys, match, *argv, "--out", tmp_path / "c.jsonl")
    assert not (tmp_path / "c.jsonl").exists()


def test_out_of_another_kind(capsys, tmp_path):
    assert_user_error(capsys, r"error: --out .*corpus\.csv: the import writes a corpus as "
                              r"\.jsonl or \.jsonl\.gz", PAGES, "--out", tmp_path / "corpus.csv")
    assert_user_error(capsys, r"error: --out .* is a folder; give a corpus file such as",
                      PAGES, "--out", tmp_path)


def test_nothing_imported(capsys, tmp_path):
    page = tmp_path / "a.html"
    page.write_bytes(b"<html><body><p>Texte.</p></body></html>")
    code, out, err = run(capsys, "import", page, "--out", tmp_path / "c.jsonl", "-q")
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.splitlines() == [
        f"WARNING: skipped {page}: no URL (the page has no canonical link and its source "
        f"gives none)",
        "recommender import: error: no article imported from 1 pages (skipped 1 pages: 1 no "
        "URL); nothing written"]


def test_missing_package(capsys, tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "trafilatura" else real(name, *a))
    assert_user_error(capsys, r"error: importing pages needs trafilatura, which is not "
                              r"installed: pip install 'recommender\[import\]'$",
                      PAGES, "--out", tmp_path / "c.jsonl")


@pytest.mark.parametrize("argv, match", [
    (["--timezone", "Mars/Olympus"], r"argument --timezone: unknown time zone 'Mars/Olympus'"),
    (["--shown-at", "hier"], r"argument --shown-at: cannot read time 'hier'"),
    (["--jobs", "0"], r"argument --jobs: expected a positive integer, got 0"),
])
def test_bad_option_values_are_argparse_errors(capsys, tmp_path, argv, match):
    assert_usage_error(capsys, match, PAGES, "--out", tmp_path / "c.jsonl", *argv)


def test_shown_at_in_the_timezone(capsys, tmp_path):
    page = tmp_path / "actu.orange.fr" / "monde" / "a-CNT000000aaaa.html"
    page.parent.mkdir(parents=True)
    page.write_bytes(b"<html><head><title>Un titre</title></head><body><article><p>Le chapo."
                     b"</p><p>" + b"Un texte assez long pour faire un article. " * 5 +
                     b"</p></article></body></html>")
    code, _, _ = run(capsys, "import", tmp_path / "actu.orange.fr", "--out",
                     tmp_path / "c.jsonl", "--shown-at", "3 juillet 2020 à 12h43",
                     "--timezone", "America/Montreal", "-q")
    assert code == 0
    # the folder given is itself the host's: its name is not in the relative paths
    (record,) = read_jsonl(tmp_path / "c.jsonl")
    assert record["related_at"] == "2020-07-03T12:43:00-04:00"


def test_whole_path_import_train_evaluate_batch(capsys, tmp_path):
    """The README's path on the shipped sample: the site's own boxes are the ground truth
    that evaluate reads from the imported corpus."""
    corpus, model = tmp_path / "corpus.jsonl.gz", tmp_path / "model"
    assert run(capsys, "import", PAGES, "--out", corpus, "--id-pattern", ID_PATTERN,
               "-q")[0] == 0
    assert run(capsys, "train", corpus, "--out", model, "--jobs", "1", "-q")[0] == 0
    code, out, _ = run(capsys, "evaluate", model, corpus, "--json", "-q")
    assert code == 0
    report = json.loads(out)
    assert report["n_links"] == 16  # the box links between pages of the sample
    lists = tmp_path / "lists.jsonl"
    assert run(capsys, "batch", model, "--out", lists, "-k", "3", "-q")[0] == 0
    assert len(lists.read_text().splitlines()) == 12
