"""Property-based tests of ``read_corpus`` on JSONL and CSV files of random lines and bytes.

Whatever the file holds, reading it raises nothing but :class:`CorpusError` (the documented
error of a bad file or record), and with ``skip_invalid=True`` every valid record among the
garbage is read back exactly, in order. The default run tries a few hundred files per
format; ``-m slow`` tries 10,000 each. Inputs are derandomized: the same on every run.
"""

from __future__ import annotations

import csv
import io
import json
import warnings

import pytest
from hypothesis import strategies as st

from recommender import CorpusError, CorpusWarning, read_corpus
from recommender.corpus import as_article

from helpers import EXAMPLES, QUICK, run_property



# -- what a file is made of ------------------------------------------------------------------
# Text fields: any Unicode but lone surrogates (a valid record holds none), with the
# characters that matter to a reader (quotes, delimiters, line ends) made frequent.
fields = st.text(st.characters(exclude_categories=["Cs"]) | st.sampled_from('",;\t\r\n\\[] '),
                 max_size=40)
times = st.sampled_from([None, "", "2020-06-23T16:47:45+02:00", "2020-06-23", "2021-01-01Z"])


def valid_records(n: int):
    """Valid article records whose id ``V<n>`` no garbage line can take."""
    return st.fixed_dictionaries(
        {"id": st.just(f"V{n}"), "title": fields},
        optional={"body": fields, "category": fields, "published": times,
                  "related": st.lists(st.sampled_from(["V0", "V1", "X9", "ü"]), max_size=3)})


garbage_json = st.one_of(
    st.text(max_size=60),                                   # any text
    st.binary(max_size=60),                                 # any bytes
    st.sampled_from(["[" * 3000, '{"id": ' + "9" * 5000 + ', "title": "t"}',
                     '{"id": "G\\ud800", "title": "t"}', '{"id": "G\\u001b", "title": "t"}',
                     '{"id": "' + "G" * 600 + '", "title": "t"}', '{"id": "G"}', "{}", "[]",
                     '{"id": 1.5, "title": "t"}', '{"id": "G", "title": 3}', "null", '"x"',
                     '{"id": "G", "title": "t", "related": [[' + "[" * 5000 + "]]}",
                     '{"id": "G", "title": "t", "published": "tomorrow"}']),
    st.builds(lambda r, cut: json.dumps(r)[:-1][:cut], valid_records(99),  # cut short
              st.integers(1, 40)),
)


def encode(line) -> bytes:
    return line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")


@st.composite
def jsonl_files(draw):
    """``(file bytes, the valid records in it)``: valid lines mixed with garbage lines."""
    valid, lines = [], []
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.booleans()):
            record = draw(valid_records(len(valid)))
            valid.append(record)
            lines.append(json.dumps(record, ensure_ascii=draw(st.booleans())))
        else:
            lines.append(draw(garbage_json))
    ends = [draw(st.sampled_from([b"\n", b"\r\n"])) for _ in lines]
    # garbage may hold a line end of its own: a line of it is then several lines
    data = b"".join(encode(line).replace(b"\n", b" ") + end for line, end in zip(lines, ends))
    return data, valid


def csv_row(cells) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerow(cells)
    return out.getvalue().encode("utf-8")


CSV_HEADER = ["id", "title", "body", "published", "related"]
# CSV garbage that cannot be a record nor swallow the next line: no quote, a wrong number
# of columns, bytes that are not UTF-8, an id that no reader takes, a field over the limit.
garbage_csv = st.one_of(
    st.text(st.characters(exclude_characters='"\r\n,'), max_size=30).map(lambda t: t + ",,,,,,"),
    st.binary(max_size=30).map(lambda b: b.replace(b'"', b"").replace(b"\n", b"")
                               .replace(b"\r", b"") + b"\xff,,,,"),
    st.sampled_from([csv_row(["G\x1b", "t", "", "", ""]), csv_row(["G" * 600, "t", "", "", ""]),
                     csv_row(["G", "t" * 140_000, "", "", ""]), b"G,t,b,\xff,x",
                     csv_row(["G", "t", "", "tomorrow", ""]), csv_row(["G", "t", "", "", "[[["])]),
)


@st.composite
def csv_files(draw):
    """``(file bytes, the valid records in it)``, CSV with the header of CSV_HEADER."""
    valid, rows = [], [csv_row(CSV_HEADER)]
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.booleans()):
            record = draw(valid_records(len(valid)))
            record.pop("related", None)  # a CSV cell of ids is read as a list: as_article's
            record = {k: record.get(k) for k in CSV_HEADER}
            # CSV cannot tell an empty cell from a missing one, nor keep a text's "\r\n"
            record = {k: (v.replace("\r", "") if isinstance(v, str) else v) or None
                      for k, v in record.items()}
            valid.append(record)
            rows.append(csv_row(["" if v is None else v for v in record.values()]))
        else:
            rows.append(encode(draw(garbage_csv)).rstrip(b"\r\n") + b"\r\n")
    return b"".join(rows), valid


any_bytes = st.one_of(st.binary(max_size=400),
                      st.lists(st.one_of(garbage_json.map(encode), garbage_csv.map(encode),
                                         st.sampled_from([b'"', b'id,title', b"\xef\xbb\xbf"])),
                               max_size=8).map(b"\n".join))


# -- the properties --------------------------------------------------------------------------
def read(path, **kwargs) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        return list(read_corpus(path, **kwargs))


def check(path, data: bytes, valid: list[dict] | None) -> None:
    """Only CorpusErrors; with ``skip_invalid=True``, the ``valid`` records read back exactly
    (unless ``valid`` is None: bytes of no known make-up)."""
    path.write_bytes(data)
    try:
        read(path)
    except CorpusError:
        pass
    try:
        articles = read(path, skip_invalid=True)
    except CorpusError as exc:
        assert valid is None or not valid and "no articles in this file" in str(exc), exc
        return
    if valid is not None:
        assert articles == [as_article(r) for r in valid]


def files(made_of):
    """Files of valid records and garbage, or of any bytes: ``(bytes, valid or None)``."""
    return st.one_of(made_of, any_bytes.map(lambda data: (data, None)))


@pytest.mark.parametrize("examples", EXAMPLES)
def test_jsonl_raises_only_corpus_errors_and_skips_to_every_valid_line(tmp_path, examples):
    run_property(examples, lambda file: check(tmp_path / "f.jsonl", *file), files(jsonl_files()))


@pytest.mark.parametrize("examples", EXAMPLES)
def test_csv_raises_only_corpus_errors_and_skips_to_every_valid_row(tmp_path, examples):
    run_property(examples, lambda file: check(tmp_path / "f.csv", *file), files(csv_files()))


@pytest.mark.parametrize("suffix", [".tsv", ".jsonl.gz", ".csv.xz"])
def test_other_formats_raise_only_corpus_errors(tmp_path, suffix):
    run_property(QUICK // 3, lambda data: check(tmp_path / f"f{suffix}", data, None), any_bytes)
