"""Helpers shared by several test files (no test file imports another)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


# -- model folders ------------------------------------------------------------------------
def read_manifest(path: Path) -> dict:
    return json.loads((path / "manifest.json").read_text(encoding="utf-8"))


def write_manifest(path: Path, manifest: dict) -> None:
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def refresh_facts(path: Path, name: str) -> None:
    """Make the manifest agree with a file that a test rewrote (size and checksum)."""
    manifest = read_manifest(path)
    data = (path / name).read_bytes()
    manifest["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    write_manifest(path, manifest)


def flip_bytes(file: Path, n: int = 1) -> None:
    """Damage a file without changing its size: its last ``n`` bytes inverted."""
    data = bytearray(file.read_bytes())
    data[-n:] = bytes(b ^ 0xFF for b in data[-n:])
    file.write_bytes(bytes(data))
