"""The change log of a model folder: the articles added and withdrawn since its fit.

A live site publishes all day; refitting for each article is not an option. Each change
(``recommender add``, ``withdraw``, ``POST /articles``) is appended to ``changes.log`` in
the model folder, beside the base model it changes, as Lucene appends segments beside its
commit point. Every process that serves the folder reads the log from where it stopped
(one ``stat`` tells whether it grew), so a change acknowledged by one process is seen by
all of them at their next request. ``compact`` folds the log into a new base folder,
swapped into place as any model folder is (:mod:`recommender.store`); the new folder starts
with an empty log.

The log is a sequence of frames, each one change::

    b"RCL1"  crc32 (uint32 LE)  length (uint64 LE)  payload (UTF-8 JSON, `length` bytes)

with the CRC-32 of the length and the payload. A frame is committed once it is whole
and its checksum matches; then it is ``fsync``'d (with the folder, when the file was
just created) before the writer returns: **acknowledged means durable**. A writer killed
in the middle leaves a torn frame at the end, which readers stop at (the state before the
change) and the next writer cuts off, under the lock, before appending. A damaged frame
followed by whole ones is not a torn tail: :class:`ChangeLogError`, not a silent loss.

Writers take ``changes.lock`` (``fcntl.flock``, waiting up to ``timeout`` seconds: two
workers of one server append in turn) and, holding it, check that the folder at the path
is still the one they read (:func:`folder_identity`): a compaction or a retrain replaced it
meanwhile raises :class:`FolderReplaced`, and the writer reloads and tries again.

``tests/test_kills.py`` kills ``recommender add`` and ``withdraw`` before every file-system
call of a change and at random moments: after each kill the folder loads, every
acknowledged change is there, and the killed one is whole or absent.
"""

from __future__ import annotations

import json
import os
import struct
import time
import zlib
from contextlib import contextmanager
from pathlib import Path

from .errors import RecommenderError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one writer at a time is the user's care
    fcntl = None

__all__ = ["LOCK_NAME", "LOG_NAME", "ChangeLog", "ChangeLogError", "FolderReplaced",
           "folder_identity"]

#: The change log and its lock, in the model folder.
LOG_NAME = "changes.log"
LOCK_NAME = "changes.lock"
_MAGIC = b"RCL1"
_HEADER = struct.Struct("<4sIQ")
#: The largest frame a reader accepts (a batch of articles' term counts): 1 GiB.
MAX_FRAME_BYTES = 1 << 30


class ChangeLogError(RecommenderError, ValueError):
    """A change log that is damaged other than by a torn last frame."""


class FolderReplaced(RecommenderError, RuntimeError):
    """The model folder was replaced (compacted, retrained) since it was read."""


def folder_identity(path) -> tuple[int, int]:
    """``(device, inode)`` of the folder at ``path``: changes when a new folder is swapped
    in, whatever its contents."""
    st = os.stat(path)
    return st.st_dev, st.st_ino


class ChangeLog:
    """The change log of the model folder ``path`` (which need not hold one yet).

    ``identity`` is the folder's identity when it was read: :meth:`appending` refuses to
    append to another folder swapped in at the path since (:class:`FolderReplaced`).
    """

    def __init__(self, path, identity=None):
        self.path = Path(path)
        self.file = self.path / LOG_NAME
        self.identity = folder_identity(path) if identity is None else identity

    def size(self) -> int:
        """The log's size in bytes (0 without a log)."""
        try:
            return os.stat(self.file).st_size
        except FileNotFoundError:
            return 0

    def replaced(self) -> bool:
        """Whether another folder is at the path now (or none: an interrupted swap)."""
        try:
            return folder_identity(self.path) != self.identity
        except FileNotFoundError:
            return True

    def read(self, offset: int = 0) -> tuple[list[dict], int]:
        """The changes committed after byte ``offset`` (a frame boundary), and the offset
        after the last of them. A torn last frame is left for later (a writer may be
        writing it now); a damaged frame followed by others raises ChangeLogError."""
        try:
            with open(self.file, "rb") as fh:
                fh.seek(offset)
                data = fh.read()
        except FileNotFoundError:
            return [], offset
        changes, end = [], 0
        while end < len(data):
            frame = _frame(data, end)
            if frame is None:
                if _later_frame(data, end):
                    raise ChangeLogError(f"{self.file}: the change at byte {offset + end:,} is "
                                         f"damaged and later ones follow it; the log cannot be "
                                         f"replayed. Restore the folder from a backup, or "
                                         f"retrain.")
                break
            payload, end = frame
            try:
                change = json.loads(payload.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise ChangeLogError(f"{self.file}: the change at byte {offset + end:,} is not "
                                     f"JSON ({exc})") from None
            changes.append(change)
        return changes, offset + end

    @contextmanager
    def appending(self, timeout: float = 30.0):
        """Hold the log's lock for the block; yields :meth:`commit`'s bound writer.
        Raises FolderReplaced when the folder was replaced since this log was opened,
        TimeoutError when another writer holds the lock for ``timeout`` seconds."""
        fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0),
                     0o666)
        try:
            _lock(fd, self.path / LOCK_NAME, timeout)
            if self.replaced():
                raise FolderReplaced(f"{self.path} was replaced since it was read")
            yield self
        finally:
            os.close(fd)  # closing the descriptor lets the lock go

    def commit(self, change: dict, offset: int) -> int:
        """Append ``change`` after byte ``offset`` (the end of the changes the caller has
        read: whatever lies beyond it is a torn frame, cut off first) and make it durable.
        Call it inside :meth:`appending`, having read the log to its end. Returns the
        offset after it."""
        payload = json.dumps(change, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        header = _HEADER.pack(_MAGIC, _checksum(len(payload), payload), len(payload))
        created = not self.file.exists()
        fd = os.open(self.file, os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        try:
            if os.fstat(fd).st_size > offset:
                os.ftruncate(fd, offset)  # a torn frame of a killed writer
            frame = header + payload
            _write_all(fd, frame, offset)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _sync_folder(self.path)
        return offset + len(frame)


def _checksum(length: int, payload: bytes) -> int:
    return zlib.crc32(payload, zlib.crc32(struct.pack("<Q", length)))


def _frame(data: bytes, at: int):
    """``(payload, end)`` of the whole, valid frame at ``at``, or None."""
    if len(data) - at < _HEADER.size:
        return None
    magic, crc, length = _HEADER.unpack_from(data, at)
    start = at + _HEADER.size
    if magic != _MAGIC or length > MAX_FRAME_BYTES or len(data) - start < length:
        return None
    payload = data[start:start + length]
    if _checksum(length, payload) != crc:
        return None
    return payload, start + length


def _later_frame(data: bytes, at: int) -> bool:
    """Whether a whole, valid frame starts somewhere after the invalid one at ``at``."""
    find = data.find(_MAGIC, at + 1)
    while find >= 0:
        if _frame(data, find) is not None:
            return True
        find = data.find(_MAGIC, find + 1)
    return False


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def _sync_folder(path: Path) -> None:
    """fsync a folder, so that a file just created in it survives a crash."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _lock(fd: int, lock: Path, timeout: float) -> None:
    """Take the exclusive lock of ``fd``, waiting up to ``timeout`` seconds."""
    if fcntl is None:
        return
    deadline = time.monotonic() + timeout
    pause = 0.001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"another process has held {lock} for {timeout:g} s (a "
                                   f"compaction?); try again later") from None
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
