"""Reading corpus files: formats, laziness, and every bad input with its message."""

from __future__ import annotations

import csv
import gzip
import json
import lzma
import os
import re
import warnings
from datetime import datetime, timedelta, timezone

import pytest

from recommender import Article, CorpusError, CorpusWarning, read_corpus
from recommender.corpus import as_article
from recommender.times import parse_time

CSV_FIELDS = ["id", "url", "category", "date", "published", "title", "heading", "body",
              "related", "related_at"]


@pytest.fixture(scope="module")
def lines(articles_path) -> list[str]:
    """The sample's JSON lines, each with its final newline."""
    return articles_path.read_text(encoding="utf-8").splitlines(keepends=True)


@pytest.fixture(scope="module")
def records(lines) -> list[dict]:
    return [json.loads(line) for line in lines]


def read_all(path, **kwargs):
    """Every article of a file, with the sample's CorpusWarnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        return list(read_corpus(path, **kwargs))


def write_lines(path, *lines: str):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def good(article_id: str, **fields) -> str:
    return json.dumps({"id": article_id, "title": f"Titre {article_id}", **fields})


# -- the sample, in every format --------------------------------------------------------------
def test_sample_articles(articles):
    assert len(articles) == 41
    assert all(isinstance(a, Article) for a in articles)
    tiger = next(a for a in articles if a.id == "CNT000001r4edC")
    assert tiger.title == "Indonésie: un tigre de Sumatra découvert empoisonné"
    assert tiger.category == "societe/environnement"
    assert tiger.published == datetime(2020, 6, 23, 16, 47, 45,
                                       tzinfo=timezone(timedelta(hours=2)))
    assert tiger.related == ("CNT000001rdIhh", "CNT000001r2yqP")
    assert tiger.related_at == datetime(2020, 7, 3, 10, 55, 58, tzinfo=timezone.utc)
    assert tiger.text.startswith(tiger.title + "\nUn tigre de Sumatra")
    empty_body = next(a for a in articles if a.id == "CNT000001fdRmk")
    assert empty_body.body == "" and empty_body.has_text  # it has a title


def test_sample_matches_the_raw_records(articles, records):
    assert [a.id for a in articles] == [r["id"] for r in records]
    for article, record in zip(articles, records):
        assert (article.title, article.heading, article.body) == (
            record["title"], record["heading"], record["body"])
        assert article.published == datetime.fromisoformat(record["published"])
        assert article.related == tuple(record.get("related") or ())
        assert article.url == record["url"]


def test_gz_xz_and_csv_give_the_same_articles(tmp_path, articles, lines, records):
    data = "".join(lines).encode("utf-8")
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(data))
    (tmp_path / "a.jsonl.xz").write_bytes(lzma.compress(data))
    with open(tmp_path / "a.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, CSV_FIELDS)
        writer.writeheader()
        for r in records:
            writer.writerow({**r, "related": "|".join(r.get("related") or [])})
    with open(tmp_path / "a.tsv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, CSV_FIELDS, delimiter="\t")
        writer.writeheader()
        for r in records:
            writer.writerow({**r, "related": json.dumps(r.get("related") or [])})
    for name in ("a.jsonl.gz", "a.jsonl.xz", "a.csv", "a.tsv"):
        assert read_all(tmp_path / name) == articles, name


def test_reading_twice_streams_again(articles_path, articles):
    corpus = read_corpus(articles_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        assert list(corpus) == articles
        assert list(corpus) == articles
    assert corpus.n_articles == 41


def test_read_corpus_is_lazy(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", good("A"), good("B"), "{not json", good("C"))
    stream = iter(read_corpus(path))
    assert next(stream).id == "A"
    assert next(stream).id == "B"
    with pytest.raises(CorpusError, match=r"a\.jsonl, line 3: malformed JSON"):
        next(stream)


def test_sample_warns_about_related_ids_outside_it(articles_path, records):
    ids = {r["id"] for r in records}
    outside = [t for r in records for t in r.get("related") or [] if t not in ids]
    assert len(outside) == 10  # tests/data/README.md: 10 links leave the file
    corpus = read_corpus(articles_path)
    with pytest.warns(CorpusWarning, match=r"10 'related' ids are not articles of this corpus: "
                                           r"'CNT000001rfke3' \(line 3\)"):
        list(corpus)
    assert [r for _, r in corpus.unknown_related] == outside


# -- bad files -----------------------------------------------------------------------------
def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"corpus file not found: .*nothere\.jsonl"):
        read_corpus(tmp_path / "nothere.jsonl")


def test_unreadable_file(tmp_path):
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("running as root: chmod 000 does not stop root from reading")
    path = write_lines(tmp_path / "locked.jsonl", good("A"))
    path.chmod(0)
    try:
        with pytest.raises(PermissionError, match=r"permission denied.*locked\.jsonl"):
            read_corpus(path)
    finally:
        path.chmod(0o644)


def test_folder(tmp_path):
    folder = tmp_path / "corpus.jsonl"
    folder.mkdir()
    with pytest.raises(CorpusError, match=r"corpus\.jsonl is a folder; expected a corpus file"):
        read_corpus(folder)


@pytest.mark.parametrize("name, shown", [("articles.txt", "'.txt'"), ("articles", "'(none)'"),
                                         ("articles.jsonl.bz2", "'.jsonl.bz2'")])
def test_unknown_suffix(tmp_path, name, shown):
    path = write_lines(tmp_path / name, good("A"))
    with pytest.raises(CorpusError, match=rf"unknown corpus format {re.escape(shown)}; "
                                          rf"expected \.jsonl"):
        read_corpus(path)


def test_malformed_json_names_line_and_value(tmp_path):
    # Regression: a line cut short was reported at "column 1" (of the line end).
    path = write_lines(tmp_path / "bad.jsonl", good("A"), good("B"), '{"id": "C", "title": ')
    with pytest.raises(CorpusError, match=r"bad\.jsonl, line 3: malformed JSON \(Expecting value "
                                          r"at column 22\): '\{\"id\": \"C\", \"title\":'"):
        read_all(path)


@pytest.mark.parametrize("record, message", [
    ({"title": "Sans id"}, r"line 2: record has no 'id'"),
    ({"id": None, "title": "Id nul"}, r"line 2: record has no 'id'"),
    ({"id": "  ", "title": "Id vide"}, r"line 2: record has an empty 'id'"),
    ({"id": ["CNT1"], "title": "Liste"}, r"line 2: 'id' must be a string, got list \['CNT1'\]"),
    ({"id": 1.5, "title": "Réel"}, r"line 2: 'id' must be a string, got float 1\.5"),
    ({"id": True, "title": "Booléen"}, r"line 2: 'id' must be a string, got bool True"),
    ([1, 2], r"line 2: expected a JSON object \(an article\), got list"),
    ({"id": "X", "url": "u"}, r"line 2: article 'X' has none of the text fields title, heading, "
                              r"body"),
    ({"id": "X", "title": 3}, r"line 2: article 'X': field 'title' must be a string, got int"),
])
def test_bad_record(tmp_path, record, message):
    path = write_lines(tmp_path / "bad.jsonl", good("A"), json.dumps(record), good("B"))
    with pytest.raises(CorpusError, match=r"bad\.jsonl, " + message):
        read_all(path)


def test_integer_id_is_read_as_text(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", json.dumps({"id": 12, "title": "t"}), good("B"))
    assert [a.id for a in read_all(path)] == ["12", "B"]


def test_duplicate_ids_count_and_examples(tmp_path):
    path = write_lines(tmp_path / "dup.jsonl", good("A"), good("B"), good("C"), good("A"),
                       good("B"), good("A"))
    with pytest.raises(CorpusError, match=r"dup\.jsonl: 2 article ids appear more than once, "
                                          r"first: 'A' on lines 1, 4, 6; 'B' on lines 2, 5\. "
                                          r"Ids must be unique"):
        read_all(path)


def test_csv_without_the_needed_columns(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("name,text\nA,bonjour\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"a\.csv: the CSV header lacks the column\(s\) id, "
                                          r"title or heading or body; found name, text"):
        read_all(path)
    path.write_text("id,summary\nA,bonjour\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"lacks the column\(s\) title or heading or body; "
                                          r"found id, summary"):
        read_all(path)


def test_csv_row_with_wrong_column_count(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,title\nA,Un\nB,Deux,trop\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"a\.csv, line 3: expected 2 columns, got 3"):
        read_all(path)


def test_bytes_that_are_not_utf8_name_line_and_offset(tmp_path):
    prefix = b'{"id": "B", "title": "caf'
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(good("A").encode() + b"\n" + prefix + b'\xe9"}\n')
    with pytest.raises(CorpusError, match=rf"latin1\.jsonl, line 2: bytes that are not UTF-8 at "
                                          rf"offset {len(prefix)} of the line"):
        read_all(path)


def test_utf8_bom_is_not_malformed_json_regression(tmp_path, articles_path, articles):
    # Files saved by Windows tools start with a BOM; line 1 was "malformed JSON".
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + articles_path.read_bytes())
    assert read_all(path) == articles


@pytest.mark.parametrize("field, value, shown", [
    ("published", "hier soir", "'published' 'hier soir'"),
    ("published", "2020-13-45", "'published' '2020-13-45'"),
    ("date", "03/07/2020", "'date' '03/07/2020'"),
    ("related_at", "bientôt", "'related_at' 'bientôt'"),
])
def test_unparseable_date(tmp_path, field, value, shown):
    path = write_lines(tmp_path / "a.jsonl", good("A"), good("B", **{field: value}))
    with pytest.raises(CorpusError, match=rf"a\.jsonl, line 2: article 'B': cannot read "
                                          rf"{re.escape(shown)}: expected ISO 8601"):
        read_all(path)


def test_dates_without_offset_are_utc_and_date_alone_is_midnight():
    assert parse_time("2020-06-01") == datetime(2020, 6, 1, tzinfo=timezone.utc)
    assert parse_time("2020-06-01T12:00:00Z") == datetime(2020, 6, 1, 12, tzinfo=timezone.utc)
    record = {"id": "A", "title": "t", "date": "2020-06-01"}
    assert as_article(record).published == datetime(2020, 6, 1, tzinfo=timezone.utc)


def test_article_without_text_is_kept_counted_and_warned(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", good("A"),
                       json.dumps({"id": "E", "title": "", "heading": " ", "body": ""}),
                       good("B"))
    corpus = read_corpus(path)
    with pytest.warns(CorpusWarning, match=r"1 articles have no text; they are kept but never "
                                           r"recommended: 'E' \(line 2\)"):
        articles = list(corpus)
    assert [a.id for a in articles] == ["A", "E", "B"]
    assert corpus.n_empty == 1 and not articles[1].has_text


def test_related_ids_not_in_the_corpus_warn(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", good("A", related=["B", "Z"]), good("B"))
    corpus = read_corpus(path)
    with pytest.warns(CorpusWarning, match=r"1 'related' ids are not articles of this corpus: "
                                           r"'Z' \(line 1\)"):
        list(corpus)
    assert corpus.unknown_related == [(1, "Z")]


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError, match=r"empty\.jsonl: no articles in this file$"):
        read_all(path)


def test_empty_csv(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"empty\.csv: no articles in this file"):
        read_all(path)


def test_skip_invalid_skips_and_reports(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", good("A"), "{oops", json.dumps({"title": "x"}),
                       good("A"), good("B", published="jamais"), good("C"))
    corpus = read_corpus(path, skip_invalid=True)
    with pytest.warns(CorpusWarning, match=r"a\.jsonl: skipped 4 invalid lines, first: line 2: "
                                           r"malformed JSON .*; line 3: record has no 'id'; "
                                           r"line 4: duplicate id 'A'; line 5: article 'B'"):
        articles = list(corpus)
    assert [a.id for a in articles] == ["A", "C"]
    assert [line for line, _ in corpus.skipped] == [2, 3, 4, 5]


def test_skip_invalid_with_nothing_left(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", "{oops", "[]")
    with pytest.raises(CorpusError, match=r"no articles in this file \(2 invalid lines skipped\)"):
        read_all(path, skip_invalid=True)


def test_truncated_gz(tmp_path, articles_path):
    data = gzip.compress(articles_path.read_bytes())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(CorpusError, match=r"cut\.jsonl\.gz: the file is truncated or not a valid "
                                          r"\.gz archive"):
        read_all(path)


def test_corrupt_gz_is_a_corpus_error_regression(tmp_path, articles_path):
    # Damaged deflate data raises zlib.error, which is not an OSError: it escaped as is.
    data = bytearray(gzip.compress(articles_path.read_bytes()))
    data[2000:2040] = bytes(b ^ 0xFF for b in data[2000:2040])
    path = tmp_path / "damaged.jsonl.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(CorpusError, match=r"damaged\.jsonl\.gz: the file is truncated or not a "
                                          r"valid \.gz archive"):
        read_all(path)


def test_plain_text_named_gz(tmp_path, articles_path):
    path = tmp_path / "plain.jsonl.gz"
    path.write_bytes(articles_path.read_bytes())
    with pytest.raises(CorpusError, match=r"plain\.jsonl\.gz: the file is truncated or not a "
                                          r"valid \.gz archive"):
        read_all(path)


def test_truncated_xz(tmp_path, articles_path):
    data = lzma.compress(articles_path.read_bytes())
    path = tmp_path / "cut.jsonl.xz"
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(CorpusError, match=r"cut\.jsonl\.xz: the file is truncated"):
        read_all(path)


@pytest.mark.parametrize("record, message", [
    ({"title": "Sans id"}, r"^record has no 'id'$"),
    ({"id": "X", "title": 3}, r"^article 'X': field 'title' must be a string, got int$"),
    ({"id": "X", "title": "t", "published": "hier"}, r"^article 'X': cannot read 'published' "),
    ({"id": "X", "title": "t", "related": '["A", '},  # column 6: the text is stripped
     r"^'related' is not a JSON list of ids \(Expecting value at column 6\)$"),
    ({"id": "X", "title": "t", "related": 3}, r"^'related' must be a list of ids, got int$"),
])
def test_as_article_raises_a_corpus_error(record, message):
    """A record given to the model directly (not from a file) fails with the same kind."""
    with pytest.raises(CorpusError, match=message):
        as_article(record)


def test_related_ids_as_json_or_separated_text():
    base = {"id": "X", "title": "t"}
    assert as_article({**base, "related": '["A", " B "]'}).related == ("A", "B")
    assert as_article({**base, "related": "A; B|C, D"}).related == ("A", "B", "C", "D")
    assert as_article({**base, "related": ""}).related == ()
