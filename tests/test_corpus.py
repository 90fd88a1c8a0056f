"""Reading corpus files: formats, laziness, and every bad input with its message."""

from __future__ import annotations

import csv
import gzip
import json
import lzma
import os
import re
import tracemalloc
import warnings
from dataclasses import asdict, replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from recommender import Article, CorpusError, CorpusWarning, read_corpus
from recommender.batch.ids import read_ids_file
from recommender.corpus import MAX_ID_CHARS, MAX_LINE_BYTES, as_article, check_id
from recommender.errors import ParameterError
from recommender.times import parse_time
from recommender.truth import read_ground_truth

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
    ("date", "07/31/2020", "'date' '07/31/2020'"),  # month first: not a French date
    ("published", "31 février 2020", "'published' '31 février 2020'"),
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


# -- French dates, the time zone, tags (issue 16) ------------------------------------------
PARIS = ZoneInfo("Europe/Paris")
UTC = timezone.utc


def write_csv(path, header, *rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_french_dates_in_jsonl_and_csv(tmp_path):
    records = [
        {"id": "A", "title": "t", "published": "15 décembre 2019", "related": ["B"],
         "related_at": "mardi 02 juin 2020 à 16h50"},
        {"id": "B", "title": "t", "date": "1er oct. 2019"},
        {"id": "C", "title": "t", "published": "Publié le 02/06/2020 16:50, mis à jour le …"},
    ]
    jsonl = write_lines(tmp_path / "a.jsonl", *(json.dumps(r, ensure_ascii=False)
                                                for r in records))
    header = ["id", "title", "published", "date", "related", "related_at"]
    table = write_csv(tmp_path / "a.csv", header,
                      *([r.get(k) or "" for k in header[:4]] + ["|".join(r.get("related", [])),
                                                                r.get("related_at", "")]
                        for r in records))
    for path in (jsonl, table):
        a, b, c = read_all(path)
        assert a.published == datetime(2019, 12, 15, tzinfo=UTC)
        assert a.related_at == datetime(2020, 6, 2, 16, 50, tzinfo=UTC)
        assert b.published == datetime(2019, 10, 1, tzinfo=UTC)
        assert c.published == datetime(2020, 6, 2, 16, 50, tzinfo=UTC)
        # in Paris, the same wall times; an ISO time with its offset is kept as it is
        a, b, c = read_all(path, time_zone="Europe/Paris")
        assert a.published == datetime(2019, 12, 15, tzinfo=PARIS)
        assert a.related_at == datetime(2020, 6, 2, 14, 50, tzinfo=UTC)
        assert (b.published, c.published) == (datetime(2019, 10, 1, tzinfo=PARIS),
                                               datetime(2020, 6, 2, 16, 50, tzinfo=PARIS))
        assert read_all(path, time_zone=PARIS) == read_all(path, time_zone="Europe/Paris")


def test_the_time_zone_applies_to_times_without_offset_only(tmp_path):
    path = write_lines(tmp_path / "a.jsonl",
                       good("A", published="2020-07-03T12:43:14"),
                       good("B", published="2020-07-03T12:43:14+02:00"),
                       good("C", published="2020-07-03"))
    a, b, c = read_all(path, time_zone="Europe/Paris")
    assert a.published == b.published == datetime(2020, 7, 3, 10, 43, 14, tzinfo=UTC)
    assert c.published == datetime(2020, 7, 3, tzinfo=PARIS)  # midnight in Paris
    a, b, c = read_all(path)  # the documented default: UTC
    assert a.published == datetime(2020, 7, 3, 12, 43, 14, tzinfo=UTC)
    assert c.published == datetime(2020, 7, 3, tzinfo=UTC)
    record = {"id": "A", "title": "t", "published": "3 juillet 2020 à 12h43"}
    assert as_article(record, time_zone="Europe/Paris").published.utcoffset() == \
        timedelta(hours=2)


def test_a_bad_time_zone_fails_when_the_reader_is_made(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", good("A"))
    with pytest.raises(ParameterError, match=r"^time_zone: unknown time zone 'Paris' \(a name "
                                             r"of the IANA database"):
        read_corpus(path, time_zone="Paris")
    with pytest.raises(ParameterError, match=r"time_zone must be the name of a time zone"):
        read_corpus(path, time_zone=2)


def test_a_french_date_that_is_no_day_names_file_line_and_value(tmp_path):
    path = write_csv(tmp_path / "a.csv", ["id", "title", "published", "related_at"],
                     ["A", "t", "2 juin 2020", ""], ["B", "t", "31 février 2020", ""],
                     ["C", "t", "", "le 32 mai"])
    with pytest.raises(CorpusError, match=r"^.*a\.csv, line 3: article 'B': cannot read "
                                          r"'published' '31 février 2020': expected ISO 8601 "
                                          r"[^\n]* or a French date [^\n]*\. Fix the line"):
        read_all(path)
    corpus = read_corpus(path, skip_invalid=True)
    with pytest.warns(CorpusWarning, match="skipped 2 invalid lines"):
        assert [a.id for a in corpus] == ["A"]
    assert [(n, why.split(":")[0]) for n, why in corpus.skipped] == [(3, "article 'B'"),
                                                                     (4, "article 'C'")]
    assert "cannot read 'related_at' 'le 32 mai'" in corpus.skipped[1][1]


def test_ground_truth_times_read_french_in_the_time_zone(tmp_path):
    links = tmp_path / "links.tsv"
    links.write_text("A\tB\t1\t02/06/2020 16:50\nA\tC\t2\t2 juin 2020 à 16h50 UTC\n",
                     encoding="utf-8")
    corpus = write_lines(tmp_path / "a.jsonl", good("A", related=["B"],
                                                    related_at="02/06/2020 16:50"), good("B"))
    utc = int(datetime(2020, 6, 2, 16, 50, tzinfo=UTC).timestamp())
    assert read_ground_truth(links).shown_at.tolist() == [utc, utc]
    assert read_ground_truth(links, time_zone="Europe/Paris").shown_at.tolist() == \
        [utc - 7200, utc]
    assert read_ground_truth(corpus).shown_at.tolist() == [utc]
    assert read_ground_truth(corpus, time_zone=PARIS).shown_at.tolist() == [utc - 7200]


def test_tags_in_jsonl_csv_and_dicts(tmp_path):
    jsonl = write_lines(tmp_path / "a.jsonl",
                        good("A", tags=["Covid-19", " santé ", "", "Île-de-France"]),
                        good("B", tags="Covid-19, santé,,Île-de-France "),
                        good("C"), good("D", tags=[]), good("E", tags=None), good("F", tags=""))
    table = write_csv(tmp_path / "a.csv", ["id", "title", "tags"],
                      ["A", "Titre A", "Covid-19, santé,Île-de-France"],
                      ["B", "Titre B", "Covid-19,santé , Île-de-France"], ["C", "Titre C", ""])
    three = ("Covid-19", "santé", "Île-de-France")
    assert [a.tags for a in read_all(jsonl)] == [three, three, (), (), (), ()]
    assert [a.tags for a in read_all(table)] == [three, three, ()]
    assert as_article({"id": "X", "title": "t", "tags": ["a", "b"]}).tags == ("a", "b")
    assert as_article({"id": "X", "title": "t", "tags": "a"}).tags == ("a",)
    article = Article(id="X", title="t", tags=("a", "b"),
                      published=datetime(2020, 6, 2, tzinfo=PARIS))
    assert as_article(asdict(article)) == article  # a tuple of tags, as asdict gives it
    assert Article(id="X").tags == ()


@pytest.mark.parametrize("tags, message", [
    (3, r"got int"),
    ({"a": 1}, r"got dict"),
    (["a", 2], r"got a list holding int 2"),
    (["a", ["b"]], r"got a list holding list \['b'\]"),
    (["a", None], r"got a list holding NoneType None"),
    (["\ud800"], r"field 'tags' holds a lone surrogate \(U\+D800"),
])
def test_a_bad_tags_value_names_file_line_and_value(tmp_path, tags, message):
    path = write_lines(tmp_path / "bad.jsonl", good("A"), good("B", tags=tags))
    shape = "" if "surrogate" in message else (r"field 'tags' must be a list of strings or one "
                                                r"comma-separated string, ")
    with pytest.raises(CorpusError, match=r"bad\.jsonl, line 2: article 'B': " + shape + message):
        read_all(path)
    with pytest.raises(CorpusError, match=r"^article 'B': " + shape + message):
        as_article({"id": "B", "title": "t", "tags": tags})


def test_tags_are_not_part_of_the_corpus_checksum(articles):
    from recommender import ArticleRecommender

    tagged = [replace(a, tags=("tag", a.id)) for a in articles]
    plain = ArticleRecommender(min_df=2, table_size=0).fit(articles)
    with_tags = ArticleRecommender(min_df=2, table_size=0).fit(tagged)
    assert plain.info_["corpus_sha256"] == with_tags.info_["corpus_sha256"]


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


# -- limits and hostile input (issue 11) -----------------------------------------------------
def huge_line_file(path, size: int):
    """A good line, a line of ``size`` zero bytes (a sparse hole: no disk, no write time),
    and a good line."""
    with open(path, "wb") as fh:
        fh.write((good("A") + "\n").encode())
        fh.seek(size, os.SEEK_CUR)
        fh.write(("\n" + good("B") + "\n").encode())
    return path


def peak_bytes(function):
    """The largest memory Python allocated while ``function()`` ran, and its result."""
    tracemalloc.start()
    try:
        result = function()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def test_regression_a_line_over_16_mb_is_read_whole_into_memory(tmp_path):
    # A zero device read as a corpus grew past 5 GB: one line is never read whole.
    path = huge_line_file(tmp_path / "zeros.jsonl", 5 * MAX_LINE_BYTES)
    with pytest.raises(CorpusError) as raised:
        peak_bytes(lambda: read_all(path))
    assert re.search(r"zeros\.jsonl, line 2: the line is longer than 16,777,216 bytes "
                     r"\(MAX_LINE_BYTES, 16 MB\)\. Fix the line or pass skip_invalid=True "
                     r"\(--skip-invalid\)", str(raised.value))
    peak, articles = peak_bytes(lambda: read_all(path, skip_invalid=True))
    assert [a.id for a in articles] == ["A", "B"]
    assert peak < 3 * MAX_LINE_BYTES  # the old reader held the whole 80 MB line, and more


def test_regression_a_2_gb_line_inside_a_small_gz_is_read_whole(tmp_path):
    # One 2 GB line inside a small .gz took 4.3 GB; here 3 times the limit, packed in ~50 KB.
    path = tmp_path / "packed.jsonl.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b"[" + b" " * (3 * MAX_LINE_BYTES) + b"]\n" + good("A").encode() + b"\n")
    assert path.stat().st_size < 200_000
    with pytest.raises(CorpusError, match=r"packed\.jsonl\.gz, line 1: the line is longer than "
                                          r"16,777,216 bytes"):
        read_all(path)
    peak, articles = peak_bytes(lambda: read_all(path, skip_invalid=True))
    assert [a.id for a in articles] == ["A"] and peak < 3 * MAX_LINE_BYTES


def test_a_line_of_exactly_the_limit_is_read(tmp_path):
    record = good("A")
    line = record[:-1] + " " * (MAX_LINE_BYTES - len(record) - 1) + "}\n"
    assert len(line.encode()) == MAX_LINE_BYTES
    path = tmp_path / "edge.jsonl"
    path.write_text(line + line.replace('"A"', '"B"', 1) + "X" * MAX_LINE_BYTES + "\n")
    with pytest.raises(CorpusError, match=r"edge\.jsonl, line 3: the line is longer"):
        read_all(path)
    assert [a.id for a in read_all(path, skip_invalid=True)] == ["A", "B"]


def test_a_long_line_in_a_csv_corpus_is_skipped(tmp_path):
    path = tmp_path / "a.csv"
    with open(path, "wb") as fh:
        fh.write(b'id,title\nA,"un\n')   # the long line falls inside A's quoted title ...
        fh.write(b"x" * (MAX_LINE_BYTES + 1) + b'"\nB,deux\n\n')
        fh.write(b"z" * (MAX_LINE_BYTES + 1) + b"\nC,trois\n")  # ... and this one outside
    with pytest.raises(CorpusError, match=r"a\.csv, line 3: the line is longer than"):
        read_all(path)
    corpus = read_corpus(path, skip_invalid=True)
    with pytest.warns(CorpusWarning, match=r"skipped 2 invalid lines"):
        assert [a.id for a in corpus] == ["B", "C"]
    assert [n for n, _ in corpus.skipped] == [3, 6]


def test_a_csv_record_quoted_over_too_many_lines(tmp_path):
    path = tmp_path / "open.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('id,title\nA,"a quote never closed\n')  # then fields of 100 KB, each quoted
        fh.writelines("y" * 100_000 + '","\n' for _ in range(170))
    with pytest.raises(CorpusError, match=r"open\.csv, line 170: a record quoted over several "
                                          r"lines is longer than 16,777,216 characters "
                                          r"\(MAX_LINE_BYTES, 16 MB\): is a quote left open\?"):
        read_all(path)


def test_regression_a_json_line_nested_very_deep_is_a_traceback(tmp_path):
    path = write_lines(tmp_path / "deep.jsonl", good("A"), "[" * 100_000, good("B"))
    with pytest.raises(CorpusError, match=r"deep\.jsonl, line 2: malformed JSON \(nested deeper "
                                          r"than Python's recursion limit\): '\[\[\[\["):
        read_all(path)
    assert [a.id for a in read_all(path, skip_invalid=True)] == ["A", "B"]


def test_regression_a_csv_field_over_the_csv_limit_is_a_traceback(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text(f"id,title\nA,un\nB,{'x' * 200_000}\nC,trois\n", encoding="utf-8")
    limit = f"{csv.field_size_limit():,}"
    with pytest.raises(CorpusError, match=rf"big\.csv, line 3: unreadable CSV \(a field is longer "
                                          rf"than the csv module's limit of {limit} characters; "
                                          rf"write long texts as JSONL\)"):
        read_all(path)
    assert [a.id for a in read_all(path, skip_invalid=True)] == ["A", "C"]


def test_regression_a_carriage_return_inside_a_csv_line_is_a_traceback(tmp_path):
    path = tmp_path / "cr.csv"
    path.write_bytes(b"id,title\nA,un\rdeux\nB,trois\n")
    with pytest.raises(CorpusError, match=r"cr\.csv, line 2: unreadable CSV \(new-line character "
                                          r"seen in unquoted field"):
        read_all(path)
    assert [a.id for a in read_all(path, skip_invalid=True)] == ["B"]


def test_a_bad_csv_header_names_the_line(tmp_path):
    path = tmp_path / "head.csv"
    path.write_text(f"id,{'t' * 200_000}\nA,un\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"head\.csv, line 1: cannot read the CSV header: "
                                          r"unreadable CSV \(a field is longer"):
        read_all(path, skip_invalid=True)


def test_regression_a_huge_integer_id_is_a_traceback(tmp_path):
    # json refuses to read an integer of more than 4,300 digits; str() refuses to print one.
    path = write_lines(tmp_path / "int.jsonl", good("A"), '{"id": ' + "7" * 5000 + ', "title": "t"}')
    with pytest.raises(CorpusError, match=r"int\.jsonl, line 2: malformed JSON \(Exceeds the "
                                          r"limit \(4300 digits\)"):
        read_all(path)
    assert [a.id for a in read_all(path, skip_invalid=True)] == ["A"]
    with pytest.raises(CorpusError, match=r"^'id' is an integer of more than 512 digits; an id "
                                          r"may have at most 512 characters \(MAX_ID_CHARS\)$"):
        as_article({"id": 7 ** 9000, "title": "t"})
    with pytest.raises(CorpusError, match=r"^related id is an integer of more than 512 digits"):
        as_article({"id": "A", "title": "t", "related": ["B", 7 ** 9000]})


def test_regression_a_lone_surrogate_in_an_id_or_a_field_is_read(tmp_path):
    # A JSON "\ud800" decodes to a lone surrogate, which no UTF-8 writer can encode later.
    path = write_lines(tmp_path / "s.jsonl", good("A"), r'{"id": "B\ud800", "title": "t"}',
                       r'{"id": "C", "title": "t\udfff"}', r'{"id": "D", "title": "\ud83d\ude00"}')
    with pytest.raises(CorpusError, match=r"s\.jsonl, line 2: 'id' 'B\\ud800' holds a lone "
                                          r"surrogate \(an escape such as \\ud800 in JSON\), "
                                          r"U\+D800, at character 1; ids must be printable text"):
        read_all(path)
    corpus = read_corpus(path, skip_invalid=True)
    with pytest.warns(CorpusWarning, match=r"line 3: article 'C': field 'title' holds a lone "
                                           r"surrogate \(U\+DFFF, an escape such as \\ud800 in "
                                           r"JSON\) at character 1, which UTF-8 cannot encode"):
        assert [a.title for a in corpus] == ["Titre A", "\U0001F600"]  # a pair is an emoji


def test_regression_an_id_longer_than_max_id_chars_is_accepted(tmp_path):
    # One 20 KB id made a 19 MB model 750 MB (ids are stored at the longest one's width).
    path = write_lines(tmp_path / "long.jsonl", good("x" * MAX_ID_CHARS), good("y" * 20_000))
    with pytest.raises(CorpusError, match=r"long\.jsonl, line 2: 'id' 'y{40}'\.\.\. has 20,000 "
                                          r"characters; an id may have at most 512 "
                                          r"\(MAX_ID_CHARS\)"):
        read_all(path)
    assert [len(a.id) for a in read_all(path, skip_invalid=True)] == [MAX_ID_CHARS]


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\n", "\x7f", "\x85", "\u2028"])
def test_regression_control_characters_in_ids_reach_the_csv_output_raw(tmp_path, char):
    path = write_lines(tmp_path / "c.jsonl", good("A"), good(f"B{char}B"))
    with pytest.raises(CorpusError, match=rf"c\.jsonl, line 2: 'id' {re.escape(repr('B' + char + 'B'))} "
                                          rf"holds a control character, U\+{ord(char):04X}, at "
                                          rf"character 1; ids must be printable text"):
        read_all(path)
    with pytest.raises(CorpusError, match=r"^related id 'Z\\x1b' holds a control character"):
        as_article({"id": "A", "title": "t", "related": "B;Z\x1b"})
    csv_path = tmp_path / "c.csv"
    csv_path.write_text(f'id,title\nA,un\n"B{char}B",deux\n', encoding="utf-8", newline="")
    assert [a.id for a in read_all(csv_path, skip_invalid=True)] == ["A"]


def test_an_id_of_other_unicode_is_kept():
    """Only control characters are refused: accents, spaces inside, right-to-left, emoji."""
    for article_id in ("été 2020", "مقال-١", "\U0001F600", "a\u200bb", "x" * MAX_ID_CHARS):
        assert check_id(article_id) == article_id
        assert as_article({"id": f" {article_id} ", "title": "t"}).id == article_id


@pytest.mark.parametrize("related, message", [
    ([["A"]], r"^related id must be a string, got list \['A'\]$"),
    ([1.5], r"^related id must be a string, got float 1\.5$"),
    ("[" * 100_000, r"^'related' is not a JSON list of ids \(nested deeper than Python's "
                    r"recursion limit\)$"),
    (["x" * 600], r"^related id 'x{40}'\.\.\. has 600 characters"),
])
def test_bad_related_ids(related, message):
    with pytest.raises(CorpusError, match=message):
        as_article({"id": "A", "title": "t", "related": related})


def test_related_ids_that_are_integers_are_kept():
    assert as_article({"id": 1, "title": "t", "related": [2, " 3 ", ""]}).related == ("2", "3")


def test_a_long_line_in_a_ground_truth_or_an_ids_file(tmp_path):
    links = tmp_path / "links.tsv"
    links.write_bytes(b"source_id\ttarget_id\nA\tB\n" + b"C\t" + b"D" * MAX_LINE_BYTES + b"\n")
    with pytest.raises(CorpusError, match=r"links\.tsv, line 3: the line is longer than "
                                          r"16,777,216 bytes \(MAX_LINE_BYTES, 16 MB\)\.$"):
        read_ground_truth(links)
    ids = tmp_path / "ids.txt"
    ids.write_bytes(b"A\n" + b"B" * (MAX_LINE_BYTES + 1))
    with pytest.raises(CorpusError, match=r"ids\.txt, line 2: the line is longer than"):
        read_ids_file(ids)


def test_regression_a_tsv_field_over_the_csv_limit_is_a_traceback(tmp_path):
    links = tmp_path / "links.tsv"
    links.write_text(f"A\tB\nC\t{'D' * 200_000}\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"links\.tsv, line 2: unreadable TSV \(field larger "
                                          r"than field limit"):
        read_ground_truth(links)


@pytest.mark.parametrize("line, message", [
    ("A\tB\x1b", r"line 1: target id 'B\\x1b' holds a control character, U\+001B"),
    (f"{'A' * 513}\tB", r"line 1: source id 'A{40}'\.\.\. has 513 characters"),
])
def test_bad_ids_in_a_ground_truth(tmp_path, line, message):
    links = tmp_path / "links.tsv"
    links.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"links\.tsv, " + message):
        read_ground_truth(links)


def test_a_line_that_is_not_utf8_is_skipped(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(good("A").encode() + b'\n{"id": "B", "title": "caf\xe9"}\n' + good("C").encode())
    corpus = read_corpus(path, skip_invalid=True)
    with pytest.warns(CorpusWarning, match=r"line 2: bytes that are not UTF-8 at offset 25 of the "
                                           r"line \(b'\\xe9\"}\\n'\); re-encode the file as UTF-8"):
        assert [a.id for a in corpus] == ["A", "C"]
