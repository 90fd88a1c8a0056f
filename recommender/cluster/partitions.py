"""A corpus in partitions: the files of a folder, of a glob or of an fsspec URL, in order.

A large archive is kept as many files (a month each, an export each night), on storage that
a cluster's workers read as well as the client (a local disk, NFS, or an object store
through fsspec: ``s3://bucket/articles/*.parquet`` once that storage's fsspec driver is
installed). The corpus is the partitions' concatenation in the order of their names, so a
local fit of the folder and a fit on a cluster read the same articles in the same order.

Each partition is read as :func:`~recommender.corpus.read_corpus` reads a file (JSONL,
JSONL.gz/.xz, CSV/TSV), or, for Parquet, by pyarrow one record batch at a time, its rows
turned into articles by the same :func:`~recommender.corpus.as_article`: a Parquet file gives
the articles its JSONL twin gives, with the same checks (line numbers are row numbers).
Ids are unique within a partition (the reader's check) and across partitions (the fit's);
``related`` ids are checked against the whole corpus, not partition by partition.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Iterator

from ..corpus import Corpus, read_corpus
from ..errors import CorpusError, CorpusWarning, InputFileNotFoundError, MissingDependencyError
from .client import INSTALL

__all__ = ["CORPUS_COLUMNS", "PartitionedCorpus", "RelatedCheck", "SUFFIXES", "list_partitions",
           "open_corpus", "read_partition"]

#: What a partition's name may end with (case-insensitive).
SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.xz", ".ndjson", ".ndjson.gz", ".csv", ".csv.gz",
            ".csv.xz", ".tsv", ".tsv.gz", ".parquet")
#: The columns of a Parquet partition that are read: the corpus fields (others are ignored).
CORPUS_COLUMNS = ("id", "title", "heading", "body", "published", "date", "category", "url",
                  "related", "related_at", "tags")
#: Rows of a Parquet partition converted at a time.
BATCH_ROWS = 4096
_GLOB = ("*", "?", "[")
_EXAMPLES = 5


def is_url(source) -> bool:
    """Whether ``source`` is an fsspec URL (``s3://…``, ``file://…``), not a local path."""
    return isinstance(source, str) and "://" in source


def list_partitions(source) -> list[str]:
    """The partitions of ``source``, sorted by name: a folder's files (hidden ones and
    markers such as ``_SUCCESS`` left out), the files a glob matches, an fsspec URL of either,
    or one file. Every file must end with one of :data:`SUFFIXES`.

    Raises InputFileNotFoundError when ``source`` does not exist, CorpusError when it holds
    no partition or a file of another kind (named), MissingDependencyError for a URL
    without fsspec (or its driver).
    """
    if is_url(source):
        paths, folder = _remote(source)
    else:
        text = os.fspath(source)
        if "\x00" in text:
            raise InputFileNotFoundError(f"corpus not found: a path cannot hold a NUL byte: "
                                         f"{text!r}")
        folder = os.path.isdir(text)
        if folder:
            paths = [os.path.join(text, e.name) for e in os.scandir(text) if e.is_file()]
        elif any(c in text for c in _GLOB) and not os.path.exists(text):
            paths = [p for p in glob.glob(text) if os.path.isfile(p)]
        elif os.path.isfile(text):
            paths = [text]
        else:
            raise InputFileNotFoundError(f"corpus not found: {text}")
    if folder:
        paths = [p for p in paths if not _basename(p).startswith((".", "_"))]
    if not paths:
        raise CorpusError(f"no corpus partitions in {source}: expected files ending in "
                          f"{', '.join(SUFFIXES)}")
    other = [p for p in paths if not _basename(p).lower().endswith(SUFFIXES)]
    if other:
        raise CorpusError(f"{sorted(other)[0]}: not a corpus partition (expected a name ending "
                          f"in {', '.join(SUFFIXES)}); move it out of {source}")
    return sorted(paths)


def _basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _remote(source: str) -> tuple[list[str], bool]:
    fs, path = _filesystem(source)
    if any(c in path for c in _GLOB):
        found, folder = fs.glob(path), False
    elif fs.isdir(path):
        found, folder = fs.ls(path, detail=False), True
    elif fs.exists(path):
        found, folder = [path], False
    else:
        raise InputFileNotFoundError(f"corpus not found: {source}")
    return [fs.unstrip_protocol(p) for p in found if fs.isfile(p)], folder


def _filesystem(url: str):
    """``(filesystem, path)`` of an fsspec URL; MissingDependencyError without fsspec or
    the storage's driver."""
    try:
        import fsspec
        from fsspec.core import url_to_fs
    except ImportError:
        raise MissingDependencyError(f"reading {url} needs fsspec, which is not installed: "
                                     f"{INSTALL}") from None
    try:
        return url_to_fs(url)
    except (ImportError, ValueError) as exc:
        protocol = url.split("://", 1)[0]
        known = protocol in fsspec.available_protocols()
        why = (f"which cannot be loaded ({' '.join(str(exc).split())[:120]})" if known
               else "which fsspec does not know")
        raise MissingDependencyError(f"reading {url} needs the fsspec driver of {protocol!r}, "
                                     f"{why}: install that storage's fsspec package (such as "
                                     f"s3fs for s3://)") from None


# -- reading one partition ---------------------------------------------------------------------
def read_partition(path, *, skip_invalid: bool = False, time_zone=None) -> Corpus:
    """The articles of one partition, as :func:`~recommender.corpus.read_corpus` gives them
    (a :class:`~recommender.corpus.Corpus`, streamed at each iteration), its ``related`` ids
    left unchecked (they may name articles of other partitions: :class:`RelatedCheck`)."""
    name = _basename(os.fspath(path)).lower()
    if name.endswith(".parquet"):
        _pyarrow(path)
        if not is_url(path) and not os.path.isfile(path):
            raise InputFileNotFoundError(f"corpus partition not found: {path}")
        part = ParquetCorpus(path if is_url(path) else Path(path), skip_invalid=skip_invalid,
                             time_zone=_zone(time_zone))
    elif is_url(path):
        part = FetchedCorpus(path, skip_invalid=skip_invalid, time_zone=_zone(time_zone))
    else:
        part = read_corpus(path, skip_invalid=skip_invalid, time_zone=time_zone)
    part.check_related = False
    return part


def _zone(time_zone):
    from ..times import zone_of

    return zone_of(time_zone, "time_zone")


def _pyarrow(path):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError(f"reading the Parquet partition {path} needs pyarrow, "
                                     f"which is not installed: {INSTALL}") from None
    return pq


class ParquetCorpus(Corpus):
    """A Parquet partition: its rows, batch by batch, as the records of a corpus file (the
    columns of :data:`CORPUS_COLUMNS` it has; a null is an absent value, as an empty CSV
    cell)."""

    def records(self) -> Iterator[tuple[int, object]]:
        pq = _pyarrow(self.path)
        with _open(self.path) as file:
            try:
                parquet = pq.ParquetFile(file)
            except Exception as exc:  # pyarrow's own errors: not a Parquet file, cut short
                raise CorpusError(f"{self.path}: cannot read it as Parquet "
                                  f"({' '.join(str(exc).split())[:160]})") from None
            names = parquet.schema_arrow.names
            columns = [c for c in CORPUS_COLUMNS if c in names]
            if "id" not in columns or not {"title", "heading", "body"} & set(columns):
                raise CorpusError(f"{self.path}: a corpus partition needs the columns 'id' and "
                                  f"at least one of title, heading, body; found "
                                  f"{', '.join(names) or 'no columns'}")
            row = 0
            for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns):
                for record in batch.to_pylist():
                    row += 1
                    yield row, record


class FetchedCorpus(Corpus):
    """A JSONL or CSV partition at an fsspec URL, copied to a temporary file at each
    iteration and read there (the copy removed after)."""

    def records(self) -> Iterator[tuple[int, object]]:
        fs, path = _filesystem(str(self.path))
        folder = tempfile.mkdtemp(prefix="recommender-partition-")
        try:
            local = os.path.join(folder, _basename(path))
            fs.get(path, local)
            yield from read_corpus(local).records()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _open(path):
    if is_url(str(path)):
        fs, inner = _filesystem(str(path))
        return fs.open(inner, "rb")
    return open(path, "rb")


# -- the whole corpus ------------------------------------------------------------------------
class RelatedCheck:
    """The ``related`` ids of a corpus read in partitions, checked against all its ids once
    every partition is read (one warning, as a corpus file gives)."""

    def __init__(self, source):
        self.source = source
        self.ids: set[str] = set()
        self.related: list[tuple[str, str]] = []

    def note(self, article) -> None:
        self.ids.add(article.id)
        self.related.extend((article.id, r) for r in article.related)

    def note_lists(self, ids, site_lists: dict) -> None:
        """Note articles by their ids and their lists (id -> related ids), in order."""
        self.ids.update(ids)
        self.related.extend((a, r) for a, related in site_lists.items() for r in related)

    def warn(self) -> None:
        unknown = [(a, r) for a, r in self.related if r not in self.ids]
        if unknown:
            first = ", ".join(f"{r!r} (of {a!r})" for a, r in unknown[:_EXAMPLES])
            warnings.warn(f"{self.source}: {len(unknown):,} 'related' ids are not articles of "
                          f"this corpus: {first}", CorpusWarning, stacklevel=3)


class PartitionedCorpus:
    """The articles of :func:`list_partitions` of ``source``, partition after partition: one
    stream, as a corpus file is (read again at each iteration)."""

    def __init__(self, source, *, skip_invalid: bool = False, time_zone=None):
        self.source = source
        self.paths = list_partitions(source)
        self.skip_invalid = skip_invalid
        self.time_zone = _zone(time_zone)
        for path in self.paths:  # a missing pyarrow, a bad format: now, not midway
            read_partition(path, skip_invalid=skip_invalid, time_zone=self.time_zone)

    def __iter__(self):
        related = RelatedCheck(self.source)
        for path in self.paths:
            for article in read_partition(path, skip_invalid=self.skip_invalid,
                                          time_zone=self.time_zone):
                related.note(article)
                yield article
        related.warn()


def open_corpus(source, *, skip_invalid: bool = False, time_zone=None):
    """What ``recommender train`` reads: a corpus file (:func:`~recommender.read_corpus`),
    or a folder, glob or URL of partitions (:class:`PartitionedCorpus`)."""
    text = os.fspath(source)
    if not is_url(text) and os.path.isfile(text) and not text.lower().endswith(".parquet"):
        return read_corpus(text, skip_invalid=skip_invalid, time_zone=time_zone)
    if not is_url(text) and not os.path.exists(text) and not any(c in text for c in _GLOB):
        return read_corpus(text, skip_invalid=skip_invalid, time_zone=time_zone)  # its error
    return PartitionedCorpus(text, skip_invalid=skip_invalid, time_zone=time_zone)
