"""What ``recommender serve`` refuses before any worker starts, each in one line with exit
status 2: an exposed address with writes and no token, a missing or empty token file, a
port in use, a damaged model folder, missing packages, bad options."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys

import pytest

from recommender.cli import main
from recommender.serve.security import check_exposure, is_loopback, read_token

pytestmark = pytest.mark.usefixtures("restore_logging_and_warnings")


@pytest.fixture(autouse=True)
def no_token_in_the_environment(monkeypatch):
    monkeypatch.delenv("RECOMMENDER_TOKEN", raising=False)


def refused(capsys, *argv) -> str:
    """Run ``recommender serve ARGV`` in process: it must exit 2 with one line."""
    code = main(["serve", *map(str, argv)])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("recommender serve: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org"])
def test_refuses_an_exposed_address_with_writes_and_no_token(capsys, model_dir, host):
    line = refused(capsys, model_dir, "--host", host)
    assert f"refusing to listen on {host} with writes enabled and no token" in line
    assert "RECOMMENDER_TOKEN" in line and "--read-only" in line


def test_exposure_rules():
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
        assert is_loopback(host)
        check_exposure(host, read_only=False, token=None)
    for host in ("0.0.0.0", "::", "10.0.0.1", "example.org", "localhost.example.org"):
        assert not is_loopback(host)
        check_exposure(host, read_only=True, token=None)
        check_exposure(host, read_only=False, token="t")


def test_token_file_missing_or_empty(capsys, tmp_path, model_dir):
    line = refused(capsys, model_dir, "--token-file", tmp_path / "missing")
    assert "token file not found" in line and "missing" in line
    empty = tmp_path / "empty"
    empty.write_text("\n  \n")
    assert "is empty: write the token on its first line" in refused(
        capsys, model_dir, "--token-file", empty)
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00")
    assert "is not UTF-8" in refused(capsys, model_dir, "--token-file", binary)


def test_token_sources(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("  from-file  \nsecond line\n")
    assert read_token(token_file, {"RECOMMENDER_TOKEN": "env"}) == "from-file"
    assert read_token(None, {"RECOMMENDER_TOKEN": " env \n"}) == "env"
    assert read_token(None, {"RECOMMENDER_TOKEN": "  "}) is None
    assert read_token(None, {}) is None


def test_a_token_file_opens_an_exposed_address(capsys, tmp_path):
    """With a token the exposure check passes; the command then fails on the (missing)
    model folder, which it checks last."""
    token_file = tmp_path / "token"
    token_file.write_text("t0ken")
    line = refused(capsys, tmp_path / "no-model", "--host", "0.0.0.0", "--token-file",
                   token_file)
    assert "refusing" not in line and "no-model" in line


def test_port_in_use(capsys, model_dir):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = refused(capsys, model_dir, "--port", port)
    assert f"port {port} on 127.0.0.1 is in use" in line


def test_damaged_model_folder(capsys, tmp_path, model_dir):
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(model_dir, folder)
    (folder / "idf.npy").write_bytes(b"not an array")
    line = refused(capsys, folder)
    assert "idf.npy" in line


def test_missing_packages(capsys, monkeypatch, model_dir):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "uvicorn" else real(name, *a))
    line = refused(capsys, model_dir)
    assert "needs uvicorn, which is not installed" in line
    assert "pip install 'recommender[serve]'" in line


@pytest.mark.parametrize("option, value", [("--port", "0"), ("--port", "http"),
                                           ("--workers", "0")])
def test_bad_options(capsys, model_dir, option, value):
    with pytest.raises(SystemExit) as exit_:
        main(["serve", str(model_dir), option, value])
    assert exit_.value.code == 2
    assert option in capsys.readouterr().err


def test_the_command_line_does_not_import_the_service():
    """FastAPI and uvicorn are imported by ``serve`` only, not by every command."""
    code = ("import sys; from recommender.cli.parser import build_parser; build_parser(); "
            "print(sorted(m for m in ('fastapi', 'uvicorn', 'prometheus_client', 'starlette')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ}, check=True).stdout
    assert out.strip() == "[]"
