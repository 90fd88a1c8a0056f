"""A corpus in partitions: a folder, a glob or an fsspec URL of JSONL(.gz), CSV and Parquet
files gives the articles of the single file they were cut from, in the order of their
names; each bad input is one line that names it. The oracle is ``read_corpus`` of the
single file."""

from __future__ import annotations

import gzip
import json
import sys
import warnings
from datetime import datetime

import numpy as np
import pytest

from recommender import ArticleRecommender, CorpusWarning, read_corpus
from recommender.cli import main
from recommender.cluster.partitions import PartitionedCorpus, list_partitions, open_corpus, \
    read_partition
from recommender.errors import CorpusError, InputFileNotFoundError, MissingDependencyError

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

pytestmark = pytest.mark.usefixtures("restore_logging_and_warnings")


def records_of(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def write_parquet(path, records) -> None:
    """``records`` as a Parquet file, every field a column (null where a record lacks it)."""
    keys = sorted({k for r in records for k in r})
    pq.write_table(pa.Table.from_pylist([{k: r.get(k) for k in keys} for r in records]), path,
                   row_group_size=7)  # several row groups, several batches


def write_jsonl(path, records) -> None:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")


def write_csv(path, records) -> None:
    import csv

    keys = ["id", "title", "heading", "body", "published", "category", "url", "related"]
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(keys)
        for r in records:
            out.writerow(["|".join(r.get(k) or []) if k == "related" else r.get(k) or ""
                          for k in keys])


def split(records, n):
    size = -(-len(records) // n)
    return [records[i:i + size] for i in range(0, len(records), size)]


@pytest.fixture(scope="module")
def sample(articles_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        return list(read_corpus(articles_path))


@pytest.fixture
def parts(tmp_path, articles_path):
    """The sample cut in 4: .jsonl, .jsonl.gz, .parquet, .jsonl.gz, named in that order."""
    folder = tmp_path / "parts"
    folder.mkdir()
    first, second, third, fourth = split(records_of(articles_path), 4)
    write_jsonl(folder / "2020-01.jsonl", first)
    write_jsonl(folder / "2020-02.jsonl.gz", second)
    write_parquet(folder / "2020-03.parquet", third)
    write_jsonl(folder / "2020-04.jsonl.gz", fourth)
    return folder


def read_all(source) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        return list(PartitionedCorpus(source))


def test_folder_gives_the_single_file_articles(parts, sample):
    assert read_all(parts) == sample
    assert read_all(str(parts)) == sample  # and twice: each iteration reads again


def test_glob_and_file_url_give_the_same_articles(parts, sample):
    assert read_all(f"{parts}/2020-0*") == sample
    assert read_all(f"file://{parts}/2020-*") == sample
    assert read_all(f"file://{parts}") == sample
    assert [str(p) for p in list_partitions(f"file://{parts}")][0].startswith("file://")


@pytest.mark.filterwarnings("ignore::recommender.CorpusWarning")
def test_each_partition_alone_is_read_corpus_of_its_records(tmp_path, articles_path, sample):
    records = records_of(articles_path)
    write_parquet(tmp_path / "all.parquet", records)
    write_jsonl(tmp_path / "all.jsonl.gz", records)
    write_csv(tmp_path / "all.csv", records)
    assert list(read_partition(tmp_path / "all.parquet")) == sample
    assert list(read_partition(tmp_path / "all.jsonl.gz")) == sample
    assert list(read_partition(tmp_path / "all.csv")) == list(read_corpus(tmp_path / "all.csv"))


def test_parquet_typed_columns(tmp_path):
    """Timestamps, an integer id and a list of related ids read as their JSON forms do."""
    table = pa.table({
        "id": pa.array([1, 2], pa.int64()),
        "title": ["Un titre", None],
        "body": ["Le texte de l'article.", "Un autre texte."],
        "published": pa.array([datetime(2020, 6, 2, 16, 50), datetime(2020, 6, 3)],
                              pa.timestamp("s")),
        "related": pa.array([["2"], []], pa.list_(pa.string())),
        "extra": ["ignored", "ignored"],
    })
    pq.write_table(table, tmp_path / "typed.parquet")
    write_jsonl(tmp_path / "typed.jsonl", [
        {"id": 1, "title": "Un titre", "body": "Le texte de l'article.",
         "published": "2020-06-02T16:50:00", "related": ["2"]},
        {"id": 2, "title": None, "body": "Un autre texte.", "published": "2020-06-03"}])
    for zone in (None, "Europe/Paris"):
        assert list(read_partition(tmp_path / "typed.parquet", time_zone=zone)) == \
            list(read_corpus(tmp_path / "typed.jsonl", time_zone=zone))


def test_sorted_by_name_hidden_and_markers_left_out(tmp_path, articles_path, sample):
    records = records_of(articles_path)
    a, b = split(records, 2)
    write_jsonl(tmp_path / "b.jsonl", b)
    write_parquet(tmp_path / "a.parquet", a)
    (tmp_path / "_SUCCESS").write_text("")
    (tmp_path / ".a.parquet.crc").write_text("")
    (tmp_path / "sub").mkdir()
    assert [p.rsplit("/", 1)[-1] for p in list_partitions(tmp_path)] == ["a.parquet", "b.jsonl"]
    assert read_all(tmp_path) == sample


def test_related_ids_are_checked_over_all_partitions(tmp_path, articles_path):
    """A related id of another partition is no warning; one of no partition is, once."""
    records = records_of(articles_path)
    records[0] = {**records[0], "related": [records[-1]["id"], "CNT-NOWHERE"]}
    a, b = split(records, 2)
    write_jsonl(tmp_path / "a.jsonl", a)
    write_parquet(tmp_path / "b.parquet", b)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        list(PartitionedCorpus(tmp_path))
    said = [str(w.message) for w in caught if "'related' ids" in str(w.message)]
    assert len(said) == 1 and "'CNT-NOWHERE'" in said[0] and records[-1]["id"] not in said[0]


def test_open_corpus_keeps_a_single_file_a_corpus_file(articles_path, tmp_path):
    assert type(open_corpus(articles_path)) is type(read_corpus(articles_path))
    with pytest.raises(InputFileNotFoundError, match="corpus file not found: .*nothing.jsonl"):
        open_corpus(tmp_path / "nothing.jsonl")


# -- errors: one line each, naming the input -----------------------------------------------
def test_empty_folder_and_glob(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match=r"^no corpus partitions in .*empty: expected files "
                                          r"ending in \.jsonl, "):
        list_partitions(tmp_path / "empty")
    with pytest.raises(CorpusError, match=r"^no corpus partitions in .*/\*\.parquet: expected"):
        list_partitions(f"{tmp_path}/*.parquet")


def test_missing_path(tmp_path):
    with pytest.raises(InputFileNotFoundError, match=r"^corpus not found: .*absent$"):
        list_partitions(tmp_path / "absent")
    with pytest.raises(InputFileNotFoundError, match=r"^corpus not found: file://.*absent$"):
        list_partitions(f"file://{tmp_path}/absent")


@pytest.mark.parametrize("where", ["folder", "glob"])
def test_unknown_suffix(tmp_path, articles_path, where):
    write_jsonl(tmp_path / "a.jsonl", records_of(articles_path))
    (tmp_path / "notes.txt").write_text("hello")
    source = tmp_path if where == "folder" else f"{tmp_path}/*"
    with pytest.raises(CorpusError, match=r"notes\.txt: not a corpus partition \(expected a "
                                          r"name ending in \.jsonl, .*\.parquet\); move it"):
        list_partitions(source)


def test_missing_pyarrow(tmp_path, articles_path, monkeypatch):
    write_parquet(tmp_path / "a.parquet", records_of(articles_path))
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # import raises ImportError
    with pytest.raises(MissingDependencyError, match=r"^reading the Parquet partition "
                                                     r".*a\.parquet needs pyarrow, which is "
                                                     r"not installed: pip install "
                                                     r"'recommender\[distributed\]'$"):
        PartitionedCorpus(tmp_path)


def test_unknown_url_protocol():
    with pytest.raises(MissingDependencyError, match=r"^reading nosuch://bucket/\*\.parquet "
                                                     r"needs the fsspec driver of 'nosuch', "
                                                     r"which fsspec does not know"):
        list_partitions("nosuch://bucket/*.parquet")


def test_parquet_without_the_corpus_columns(tmp_path):
    pq.write_table(pa.table({"name": ["x"], "title": ["t"]}), tmp_path / "a.parquet")
    with pytest.raises(CorpusError, match=r"a\.parquet: a corpus partition needs the columns "
                                          r"'id' and at least one of title, heading, body; "
                                          r"found name, title$"):
        list(read_partition(tmp_path / "a.parquet"))


def test_not_a_parquet_file(tmp_path):
    (tmp_path / "a.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(CorpusError, match=r"a\.parquet: cannot read it as Parquet \("):
        list(read_partition(tmp_path / "a.parquet"))


def test_bad_parquet_row_named_by_its_row(tmp_path):
    pq.write_table(pa.table({"id": ["a", None], "body": ["x y", "z"]}), tmp_path / "a.parquet")
    with pytest.raises(CorpusError, match=r"a\.parquet, line 2: record has no 'id'"):
        list(read_partition(tmp_path / "a.parquet"))


def test_duplicate_id_across_partitions_stops_the_fit(tmp_path, articles_path):
    records = records_of(articles_path)
    write_jsonl(tmp_path / "a.jsonl", records[:20])
    write_parquet(tmp_path / "b.parquet", records[19:])
    with pytest.raises(CorpusError, match=rf"article id '{records[19]['id']}' appears more "
                                          rf"than once \(article 21\)"):
        ArticleRecommender().fit(PartitionedCorpus(tmp_path))


# -- recommender train reads partitions locally --------------------------------------------
def test_train_a_folder_is_train_the_file(parts, articles_path, tmp_path):
    assert main(["train", str(articles_path), "--out", str(tmp_path / "file"), "-q"]) == 0
    assert main(["train", str(parts), "--out", str(tmp_path / "folder"), "-q"]) == 0
    one = ArticleRecommender.load(tmp_path / "file")
    other = ArticleRecommender.load(tmp_path / "folder")
    assert one.info_["corpus_sha256"] == other.info_["corpus_sha256"]
    for name in sorted(p.name for p in (tmp_path / "file").glob("*.npy")):
        assert np.array_equal(np.load(tmp_path / "file" / name),
                              np.load(tmp_path / "folder" / name)), name


def test_train_an_empty_folder_is_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code = main(["train", str(tmp_path / "empty"), "--out", str(tmp_path / "m"), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert "no corpus partitions in" in err
