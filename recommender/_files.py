"""Writing files and folders so that a reader never sees half of one, whatever the timing.

Every output (a model folder, a batch file, a report page, a benchmark's JSON) is written
under a temporary name in its own folder, then renamed into place: a crash, a kill or
Ctrl-C leaves the old output whole or the new one whole, never half of one.

Around each write of ``NAME`` (in its folder):

* **a lock**, ``.NAME.lock`` beside it (``fcntl.flock``): a second writer of the same path
  fails at once, in one line, instead of waiting. Waiting would look like a hang (a training
  takes minutes), and the loser's output would replace the winner's a moment later anyway;
  failing says so while there is still time to choose another path. The lock file is removed
  when the writer is done (a killed writer's is reused by the next one). Without ``fcntl``
  (Windows) there is no lock.
* **cleaning**: the temporary files and folders of killed runs (``.NAME.tmp-*``,
  ``.NAME.old-*``, ``.NAME.*.tmp``) are removed by the next writer of that path, under the
  lock; a model stranded by an interrupted swap is put back first (:func:`recover_folder`).
* **the swap** of a folder (:func:`replace_folder`): on Linux one ``renameat2`` call with
  ``RENAME_EXCHANGE`` swaps the new folder and the old one at once, then the old one is
  removed under the temporary name. Where the system or the file system cannot exchange,
  two renames: ``NAME -> .NAME.old-*``, then the new folder to ``NAME``. A kill between the
  two leaves no folder at ``NAME`` but the old one whole under ``.NAME.old-*``; the next
  writer, and the reader (:func:`recover_folder`), put it back. An ``.old-*`` folder is
  only ever a whole folder: it is renamed to a ``.tmp-*`` name before it is removed.

No data is synced to the disk (``fsync``): all this protects against a killed process,
not against a power cut.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import logging
import os
import re
import secrets
import shutil
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, writers are not serialised
    fcntl = None

__all__ = ["atomic_file", "check_path", "clean_leftovers", "exchange", "lock_path",
           "recover_folder", "replace_folder", "temporary_folder", "umask", "writer_lock"]

logger = logging.getLogger(__name__)

#: The random part of a temporary name (``tempfile``'s alphabet, 8 characters).
_RANDOM = r"[a-z0-9_]{8}"


def umask() -> int:
    """The process's umask (read without changing it for longer than two calls)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# -- the lock ---------------------------------------------------------------------------------
def lock_path(path) -> Path:
    """The lock file of the output ``path``: ``.NAME.lock`` beside it."""
    path = Path(path)
    return path.parent / f".{path.name}.lock"


def check_path(path) -> None:
    """Raise an OSError (a user error of the command line) for a path with a NUL byte,
    which the system refuses with a ValueError, or some ``os.path`` calls take as absent."""
    if "\x00" in os.fspath(path):
        raise OSError(errno.EINVAL, "cannot write there: a path cannot hold a NUL byte",
                      os.fspath(path))


#: The locks this process holds: lock file -> [descriptor, owning thread, depth].
_held: dict[str, list] = {}
_held_guard = threading.Lock()


@contextmanager
def writer_lock(path):
    """Hold the lock of the output ``path`` for the block; another process (or thread)
    holding it raises :class:`BlockingIOError` at once, in one line that names the path.

    Re-entrant within one thread: a writer may take it around a whole run (check, work,
    save) and the save takes it again. Creates the folder of ``path`` if needed.
    """
    check_path(path)
    lock = lock_path(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    key = os.path.join(os.path.realpath(lock.parent), lock.name)
    me = threading.get_ident()
    with _held_guard:
        entry = _held.get(key)
        if entry is not None and entry[1] != me:
            raise _busy(path, lock, os.getpid())
        if entry is not None:
            entry[2] += 1
    if entry is None:
        fd = _acquire(lock, path)
        with _held_guard:
            entry = _held[key] = [fd, me, 1]
    try:
        yield lock
    finally:
        with _held_guard:
            entry[2] -= 1
            done = entry[2] == 0
            if done:
                del _held[key]
        if done:
            _release(lock, entry[0])


def _acquire(lock: Path, path) -> int:
    """Open and lock ``lock``; the file may be removed by the writer that held it just
    before (see :func:`_release`), so lock the file that is at that name, or try again."""
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        if fcntl is None:
            return fd
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise _busy(path, lock, holder) from None
        except BaseException:
            os.close(fd)
            raise
        try:
            here = os.stat(lock)
        except FileNotFoundError:
            here = None
        mine = os.fstat(fd)
        if here is not None and (here.st_ino, here.st_dev) == (mine.st_ino, mine.st_dev):
            try:  # the holder's pid, for the message of the next writer (a full disk: none)
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
            except OSError:
                pass
            return fd
        os.close(fd)  # removed or replaced while we waited for it: lock the new one


def _release(lock: Path, fd: int) -> None:
    """Remove the lock file while still holding it, then let it go: a writer that opened
    it meanwhile sees it gone and opens the next one (never two holders)."""
    try:
        lock.unlink(missing_ok=True)
    finally:
        os.close(fd)


def _read_pid(fd: int):
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _busy(path, lock: Path, pid) -> BlockingIOError:
    who = "another process" if pid is None else f"another process (pid {pid})"
    if pid == os.getpid():
        who = "another thread of this process"
    return BlockingIOError(f"{who} is writing {path} (it holds {lock}); wait for it to "
                           f"finish or choose another path")


# -- leftovers --------------------------------------------------------------------------------
def _leftover(name: str, kinds: str) -> re.Pattern:
    return re.compile(rf"\.{re.escape(name)}\.(?:{kinds})")


def clean_leftovers(path) -> list[Path]:
    """Remove what killed writers of ``path`` left beside it: temporary folders
    (``.NAME.tmp-*``), old folders (``.NAME.old-*``, once ``path`` exists again) and
    temporary files (``.NAME.*.tmp``). Call it holding :func:`writer_lock`. Returns what
    was removed."""
    path = Path(path)
    kinds = rf"tmp-{_RANDOM}|{_RANDOM}\.tmp"
    if os.path.lexists(path):
        kinds += rf"|old-{_RANDOM}"
    pattern = _leftover(path.name, kinds)
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if pattern.fullmatch(entry.name):
            _remove(Path(entry.path))
            removed.append(Path(entry.path))
    if removed:
        logger.info("removed %d leftover(s) of an interrupted write of %s: %s", len(removed),
                    path, ", ".join(p.name for p in removed))
    return removed


def _remove(path: Path) -> None:
    """Remove a file, a link or a folder with its files."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _stranded(path: Path) -> list[Path]:
    """The old folders of ``path`` left by an interrupted two-rename swap, newest first."""
    pattern = _leftover(path.name, rf"old-{_RANDOM}")
    try:
        found = [Path(e.path) for e in os.scandir(path.parent)
                 if pattern.fullmatch(e.name) and e.is_dir(follow_symlinks=False)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(found, key=lambda p: p.lstat().st_ctime_ns, reverse=True)


def recover_folder(path) -> bool:
    """Put back the folder ``path`` if a swap was interrupted between its two renames
    (``path`` missing, its old folder whole under ``.NAME.old-*``). Returns whether it did.

    Cheap when there is nothing to do (one ``lstat``); for readers and writers alike: a
    reader calls it before opening ``path``. It takes the writer lock, and does nothing if a
    writer holds it (that writer finishes the swap) or if the folder is read-only.
    """
    path = Path(path)
    if os.path.lexists(path) or not _stranded(path):
        return False
    try:
        with writer_lock(path):
            olds = _stranded(path)
            if os.path.lexists(path) or not olds:
                return False
            # the first version of this module kept it as .NAME.old-*/previous
            source = olds[0] / "previous" if (olds[0] / "previous").is_dir() else olds[0]
            os.rename(source, path)
    except OSError as exc:  # busy, read-only: leave it to the writer
        logger.debug("could not recover %s: %s", path, exc)
        return False
    logger.warning("%s was missing after an interrupted save: put back the previous one "
                   "from %s", path, source)
    return True


# -- files ------------------------------------------------------------------------------------
@contextmanager
def atomic_file(path, mode: str = "w", **open_args):
    """Open a temporary file beside ``path`` for writing; on a clean exit it replaces
    ``path``, on an exception it is removed. Text modes default to UTF-8. The block holds
    the lock of ``path`` (:func:`writer_lock`: another writer of it fails at once), and the
    leftovers of killed writes of ``path`` are removed first.

    >>> with atomic_file("out.jsonl") as fh:   # doctest: +SKIP
    ...     fh.write("...")
    """
    path = Path(path)
    if "b" not in mode:
        open_args.setdefault("encoding", "utf-8")
    with writer_lock(path):
        clean_leftovers(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes it 0600; give the usual mode
            with os.fdopen(fd, mode, **open_args) as fh:
                yield fh
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# -- folders ----------------------------------------------------------------------------------
@contextmanager
def temporary_folder(path):
    """A new empty folder beside ``path`` (usual mode), removed with its files if the block
    raises; the block moves it into place (see :func:`replace_folder`). Hold
    :func:`writer_lock` of ``path`` around it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        os.chmod(tmp, 0o777 & ~umask())  # mkdtemp makes it 0700; give the usual mode
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def replace_folder(tmp: Path, path: Path) -> None:
    """Move the folder ``tmp`` to ``path``, replacing what is there at once (see the
    module's docstring): at every moment ``path`` is the old folder or the new one, or (on
    systems without an atomic exchange, after a kill) the old one waits under
    ``.NAME.old-*`` for :func:`recover_folder`. Hold :func:`writer_lock` of ``path``."""
    tmp, path = Path(tmp), Path(path)
    if not os.path.lexists(path):
        os.rename(tmp, path)
        return
    if exchange(tmp, path):
        _discard(tmp)  # the old folder, now under the temporary name
        return
    old = path.parent / f".{path.name}.old-{secrets.token_hex(4)}"
    os.rename(path, old)
    try:
        os.rename(tmp, path)
    except BaseException:
        os.rename(old, path)
        raise
    trash = path.parent / f".{path.name}.tmp-{secrets.token_hex(4)}"
    os.rename(old, trash)  # an .old-* folder is never half removed
    _discard(trash)


def _discard(old: Path) -> None:
    """Remove the replaced folder; if that fails, the new one is in place all the same,
    and the next writer removes the rest."""
    try:
        _remove(old)
    except OSError as exc:
        logger.warning("could not remove %s (the next save will): %s", old, exc)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
#: errno values of a system or a file system that cannot exchange two names.
_CANNOT_EXCHANGE = (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP)


@functools.cache
def _renameat2():
    """libc's ``renameat2`` (Linux, glibc 2.28 or later), or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def exchange(a, b) -> bool:
    """Swap the names ``a`` and ``b`` (both existing) in one step; False, having done
    nothing, where the system or the file system cannot."""
    function = _renameat2()
    if function is None:
        return False
    if function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _CANNOT_EXCHANGE:
        return False
    raise OSError(code, os.strerror(code), os.fspath(b))
