"""Writing files and folders so that a reader never sees half of one.

Every output (a model folder, a batch file, a report page, a benchmark's JSON) is written
under a temporary name in its own folder, then renamed into place: a crash or Ctrl-C leaves
the old output whole, and removes the temporary one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_file", "replace_folder", "temporary_folder", "umask"]


def umask() -> int:
    """The process's umask (read without changing it for longer than two calls)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_file(path, mode: str = "w", **open_args):
    """Open a temporary file beside ``path`` for writing; on a clean exit it replaces
    ``path``, on an exception it is removed. Text modes default to UTF-8.

    >>> with atomic_file("out.jsonl") as fh:   # doctest: +SKIP
    ...     fh.write("...")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if "b" not in mode:
        open_args.setdefault("encoding", "utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes it 0600; give the usual mode
        with os.fdopen(fd, mode, **open_args) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def temporary_folder(path):
    """A new empty folder beside ``path`` (usual mode), removed with its files if the block
    raises; the block moves it into place (see :func:`replace_folder`)."""
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
    """Move the folder ``tmp`` to ``path``; a folder already there is removed only once the
    new one is in, and put back if the move fails."""
    if not path.exists():
        os.replace(tmp, path)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
    os.replace(path, old / "previous")
    try:
        os.replace(tmp, path)
    except BaseException:
        os.replace(old / "previous", path)
        shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
