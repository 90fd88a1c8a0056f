"""Batch scoring to files, and ids files."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import strategies as st

import recommender.batch.score
from recommender import CorpusError, CorpusWarning, UnknownArticleError
from recommender.batch.ids import read_ids_file
from recommender.batch.score import score_to_file
from recommender.batch.sinks import block_text, writer_for
from recommender.lines import MAX_LINE_BYTES
from recommender.errors import ParameterError

from helpers import run_property


@pytest.fixture(scope="module")
def published(articles_path) -> dict:
    """Publication time of each sample article, read from the raw JSON."""
    with open(articles_path, encoding="utf-8") as fh:
        return {r["id"]: datetime.fromisoformat(r["published"]) for r in map(json.loads, fh)}


def read_jsonl(path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def assert_row_is_recommend(model, source, related, k, **filters):
    """One output row: best first, never the source, the same as ``model.recommend``."""
    ids = [r["id"] for r in related]
    scores = [r["score"] for r in related]
    assert source not in ids
    assert scores == sorted(scores, reverse=True)
    expected_ids, expected_scores = model.recommend(source, k, **filters)
    assert ids == expected_ids.tolist()
    np.testing.assert_allclose(scores, expected_scores, atol=1e-6)


# -- ids files -----------------------------------------------------------------------------
def test_read_ids_file_ids_only(tmp_path):
    path = tmp_path / "ids.txt"
    path.write_text("# sources\nCNT000001r4edC\n\n  CNT000001rdIhh  \r\n", encoding="utf-8")
    assert read_ids_file(path) == (["CNT000001r4edC", "CNT000001rdIhh"], None)


def test_read_ids_file_with_as_of(tmp_path):
    path = tmp_path / "ids.tsv"
    path.write_text("CNT000001r4edC\t2020-06-25\nCNT000001rdIhh\nCNT000001r2yqP\t\n",
                    encoding="utf-8")
    assert read_ids_file(path) == (["CNT000001r4edC", "CNT000001rdIhh", "CNT000001r2yqP"],
                                   ["2020-06-25", None, None])


def test_read_ids_file_bad_as_of(tmp_path):
    path = tmp_path / "ids.tsv"
    path.write_text("CNT000001r4edC\t2020-06-25\nCNT000001rdIhh\tla veille\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"ids\.tsv, line 2: cannot read as-of time 'la veille': "
                                          r"expected ISO 8601"):
        read_ids_file(path)


def test_read_ids_file_extra_columns(tmp_path):
    path = tmp_path / "ids.tsv"
    path.write_text("CNT000001r4edC\n\nCNT000001rdIhh\t2020-06-25\t5\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"ids\.tsv, line 3: expected 'ID' or 'ID<TAB>AS_OF', got "
                                          r"'CNT000001rdIhh\\t2020-06-25\\t5'"):
        read_ids_file(path)


def test_read_ids_file_missing_id(tmp_path):
    path = tmp_path / "ids.tsv"
    path.write_text("\t2020-06-25\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"ids\.tsv, line 1: expected 'ID' or 'ID<TAB>AS_OF'"):
        read_ids_file(path)


@pytest.mark.parametrize("content", ["", "\n# nothing\n\n"])
def test_read_ids_file_empty(tmp_path, content):
    path = tmp_path / "ids.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError, match=r"ids\.txt: no article ids in this file"):
        read_ids_file(path)


def test_read_ids_file_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"ids file not found: .*nothere\.txt"):
        read_ids_file(tmp_path / "nothere.txt")


# -- score_to_file -------------------------------------------------------------------------
def test_score_to_jsonl_every_article_once(tmp_path, small_model, articles):
    out = tmp_path / "out" / "related.jsonl"
    assert score_to_file(small_model, out, k=5) == 41
    rows = read_jsonl(out)
    assert sorted(r["id"] for r in rows) == sorted(a.id for a in articles)
    for row in rows:
        assert_row_is_recommend(small_model, row["id"], row["related"], 5)
    tiger = next(r for r in rows if r["id"] == "CNT000001r4edC")
    # The site's own list for the tiger story comes first.
    assert {r["id"] for r in tiger["related"][:2]} == {"CNT000001rdIhh", "CNT000001r2yqP"}
    assert [p.name for p in out.parent.iterdir()] == ["related.jsonl"]  # no temporary left


def test_score_to_csv_same_as_recommend(tmp_path, small_model):
    out = tmp_path / "related.csv"
    assert score_to_file(small_model, out, k=3) == 41
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["id", "rank", "related_id", "score"]
    by_source: dict[str, list] = {}
    for source, rank, other, score in rows[1:]:
        by_source.setdefault(source, []).append((int(rank), other, float(score)))
    assert set(by_source) == set(small_model.ids_.tolist())
    for source, items in by_source.items():
        assert [rank for rank, _, _ in items] == list(range(1, len(items) + 1))
        related = [{"id": other, "score": score} for _, other, score in items]
        assert_row_is_recommend(small_model, source, related, 3)


def test_time_filters_restrict_candidates_not_sources(tmp_path, small_model, published):
    out = tmp_path / "related.jsonl"
    as_of, max_age = "2020-06-01", 30
    assert score_to_file(small_model, out, k=10, as_of=as_of, max_age=max_age) == 41
    rows = read_jsonl(out)
    assert len(rows) == 41
    lower = datetime(2020, 6, 1, tzinfo=timezone.utc) - timedelta(days=30)
    upper = datetime(2020, 6, 1, tzinfo=timezone.utc)
    in_window = {i for i, t in published.items() if lower <= t < upper}
    # The sample's four articles of May 2020 (checked by hand in tests/data/articles.jsonl).
    assert in_window == {"CNT000001qiHFZ", "CNT000001q02vP", "CNT000001pZBiy", "CNT000001qork3"}
    found = {r["id"] for row in rows for r in row["related"]}
    assert found == in_window
    for row in rows:
        assert_row_is_recommend(small_model, row["id"], row["related"], 10, as_of=as_of,
                                max_age=max_age)


def test_per_id_as_of(tmp_path, small_model, published):
    out = tmp_path / "related.jsonl"
    ids = ["CNT000001r4edC", "CNT000001r2yqP", "CNT000001qSzVN"]
    as_of = ["2020-06-25T00:00:00+02:00", None, "2020-06-23T00:00:00+02:00"]
    score_to_file(small_model, out, k=40, ids=ids, as_of=as_of)
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == ids
    for row, when in zip(rows, as_of):
        assert_row_is_recommend(small_model, row["id"], row["related"], 40, as_of=when)
        if when is not None:
            limit = datetime.fromisoformat(when)
            assert all(published[r["id"]] < limit for r in row["related"])
    # rdIhh (June 29) is after the first as-of, the second row has no limit.
    assert "CNT000001rdIhh" not in [r["id"] for r in rows[0]["related"]]
    assert "CNT000001rdIhh" in [r["id"] for r in rows[1]["related"]]
    unlimited = small_model.recommend("CNT000001qSzVN", 40)[0]
    assert len(unlimited) > len(rows[2]["related"])


def test_unknown_id_fails_before_writing(tmp_path, small_model):
    out = tmp_path / "related.jsonl"
    with pytest.raises(UnknownArticleError, match=r"Unknown article id 'CNT_NOPE': not among the "
                                                  r"41 articles"):
        score_to_file(small_model, out, ids=["CNT000001r4edC", "CNT_NOPE"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["related.txt", "related.json", "related"])
def test_bad_suffix(tmp_path, small_model, name):
    with pytest.raises(ParameterError, match=rf"cannot write .*{name}: the output must end in "
                                         rf"\.jsonl or \.csv"):
        score_to_file(small_model, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_output_file_mode_follows_umask_regression(tmp_path, small_model):
    # mkstemp creates 0600 files, and the rename kept that mode: other users and services
    # could not read the batch output.
    old = os.umask(0o022)
    try:
        out = tmp_path / "related.jsonl"
        score_to_file(small_model, out, k=1, ids=["CNT000001r4edC"])
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644


def test_k_larger_than_the_catalogue(tmp_path, small_model):
    out = tmp_path / "related.jsonl"
    assert score_to_file(small_model, out, k=1000) == 41
    rows = read_jsonl(out)
    assert max(len(r["related"]) for r in rows) <= 40  # 41 articles, never itself
    for row in rows:
        assert_row_is_recommend(small_model, row["id"], row["related"], 1000)


class FailingAfter:
    """``model`` whose ``recommend_batch`` raises on its call number ``calls + 1``."""

    def __init__(self, model, calls: int):
        self.model, self.calls = model, calls
        self.ids_ = model.ids_

    def rows_of(self, ids):
        return self.model.rows_of(ids)

    def served_ids(self):
        return self.model.served_ids()

    def recommend_batch(self, *args, **kwargs):
        if self.calls == 0:
            raise KeyboardInterrupt
        self.calls -= 1
        return self.model.recommend_batch(*args, **kwargs)


@pytest.mark.parametrize("name", ["related.jsonl", "related.csv"])
def test_a_failure_mid_write_leaves_the_old_file_whole_regression(tmp_path, small_model,
                                                                  monkeypatch, name):
    out = tmp_path / name
    out.write_bytes(b"the previous output\n")
    monkeypatch.setattr(recommender.batch.score, "CHUNK", 10)  # 41 articles: 5 chunks
    with pytest.raises(KeyboardInterrupt):
        score_to_file(FailingAfter(small_model, 2), out, k=3)  # 2 chunks written, then stop
    assert out.read_bytes() == b"the previous output\n"
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left
    assert score_to_file(FailingAfter(small_model, 5), out, k=3) == 41  # 5 chunks: whole
    assert out.read_bytes() != b"the previous output\n"


def test_writers_by_hand():
    fh = io.StringIO(newline="")
    write = writer_for(fh, ".jsonl")
    write("A", ["B", "Ç"], [0.5, 0.1234567])
    write("D", [], [])
    assert fh.getvalue() == ('{"id": "A", "related": [{"id": "B", "score": 0.5}, '
                             '{"id": "Ç", "score": 0.123457}]}\n{"id": "D", "related": []}\n')
    fh = io.StringIO(newline="")
    write = writer_for(fh, ".csv")
    write("A", ["B", "C,D"], [0.5, 0.1234567])
    assert fh.getvalue() == 'id,rank,related_id,score\r\nA,1,B,0.500000\r\nA,2,"C,D",0.123457\r\n'
    with pytest.raises(ParameterError, match=r"unknown batch format '\.txt': expected one of "
                                             r"\.jsonl, \.csv"):
        writer_for(io.StringIO(), ".txt")


ROWS = st.lists(st.tuples(st.text(), st.lists(st.tuples(
    st.text(), st.floats(allow_nan=False, allow_infinity=False)), max_size=4)), max_size=5)


def check_block_text(rows) -> None:
    """A block's JSONL text is json.dumps of each row (escaped to ASCII when it holds a lone
    surrogate), and the CSV module's rows; a block is the rows one by one."""
    sources = [source for source, _ in rows]
    related = [[r for r, _ in items] for _, items in rows]
    scores = [[s for _, s in items] for _, items in rows]
    want = []
    for source, items in rows:
        row = {"id": source, "related": [{"id": r, "score": round(s, 6)} for r, s in items]}
        line = json.dumps(row, ensure_ascii=False)
        want.append((line if line == line.encode("utf-8", "replace").decode("utf-8")
                     else json.dumps(row)) + "\n")
    assert block_text(".jsonl", sources, related, scores) == ("".join(want), None)
    text, unsafe = block_text(".csv", sources, related, scores)
    if unsafe is None:
        oracle = io.StringIO(newline="")
        csv.writer(oracle).writerows([source, rank, r, f"{s:.6f}"] for source, items in rows
                                     for rank, (r, s) in enumerate(items, start=1))
        assert text == oracle.getvalue()
    single = [block_text(".csv", [a], [b], [c]).text for a, b, c in zip(sources, related, scores)]
    assert text == "".join(single)


@pytest.mark.parametrize("examples", [300])
def test_block_text_is_json_dumps_and_the_csv_module(examples):
    run_property(examples, check_block_text, ROWS)


def test_block_text_of_awkward_ids():
    check_block_text([("a\"b\\c", [("\x00\x1f\x7f", 0.1234565), ("é\u2028", -0.0)]),
                      ("\ud800", [("x", 1e-7)]), ("", [])])


def test_regression_control_characters_in_ids_reach_the_csv_output_raw(tmp_path):
    # A model of another origin may hold such ids (the readers refuse them now): every CSV
    # row stays one line of printable text, and the file is valid UTF-8.
    path = tmp_path / "out.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        write = writer_for(fh, ".csv")
        with pytest.warns(CorpusWarning, match=r"article id 'A\\x1b\[31m' holds a control "
                                               r"character, a line separator or a lone "
                                               r"surrogate: written to the CSV file with U\+FFFD"):
            write("A\x1b[31m", ["B\nC", "D\u2028\x00", "E\ud800"], [0.5, 0.25, 0.125])
        write("F", ["G"], [1.0])
    lines = path.read_text("utf-8").splitlines()
    assert lines == ["id,rank,related_id,score", "A\ufffd[31m,1,B\ufffdC,0.500000",
                     "A\ufffd[31m,2,D\ufffd\ufffd,0.250000", "A\ufffd[31m,3,E\ufffd,0.125000",
                     "F,1,G,1.000000"]


def test_a_lone_surrogate_id_in_the_jsonl_sink_is_escaped(tmp_path):
    path = tmp_path / "out.jsonl"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        write = writer_for(fh, ".jsonl")
        write("A\ud800", ["\x1bB"], [0.5])
        write("é", ["\x1bB"], [0.5])
    rows = read_jsonl(path)
    assert rows[0] == {"id": "A\ud800", "related": [{"id": "\x1bB", "score": 0.5}]}
    assert path.read_text("utf-8").splitlines()[1] == \
        '{"id": "é", "related": [{"id": "\\u001bB", "score": 0.5}]}'


@pytest.mark.parametrize("line, message", [
    ("A\x1bB", r"line 2: id 'A\\x1bB' holds a control character, U\+001B, at character 1; "
               r"ids must be printable text"),
    ("A" * 513, r"line 2: id 'A{40}'\.\.\. has 513 characters; an id may have at most 512 "
                r"\(MAX_ID_CHARS\)"),
    ("B" * 100 + "\tx\ty", r"line 2: expected 'ID' or 'ID<TAB>AS_OF', got 'B{80}'$"),
])
def test_read_ids_file_bad_ids(tmp_path, line, message):
    path = tmp_path / "ids.txt"
    path.write_text(f"CNT000001r4edC\n{line}\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"ids\.txt, " + message):
        read_ids_file(path)


def test_read_ids_file_with_a_line_over_the_limit(tmp_path):
    path = tmp_path / "ids.txt"
    with open(path, "wb") as fh:
        fh.write(b"CNT000001r4edC\n")
        fh.seek(MAX_LINE_BYTES + 1, os.SEEK_CUR)  # a sparse line of zeros
        fh.write(b"\n")
    with pytest.raises(CorpusError, match=r"ids\.txt, line 2: the line is longer than "
                                          r"16,777,216 bytes \(MAX_LINE_BYTES, 16 MB\)\.$"):
        read_ids_file(path)
