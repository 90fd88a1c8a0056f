"""Fixtures of the service's tests: servers started for a test or for a module (skipped
without the service's packages: pip install 'recommender[serve]')."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("prometheus_client")

from browsers import Tab, chromium_browser  # noqa: E402  (after the skips)
from servers import TOKEN, Server, folder_copy  # noqa: E402


@pytest.fixture
def start(tmp_path):
    """``start(model_dir, *args, env=None)``: a :class:`Server`, stopped after the test."""
    servers = []

    def start_server(model_dir, *args, env=None):
        server = Server(model_dir, *args, env=env, log=tmp_path / f"server{len(servers)}.log")
        servers.append(server)
        return server

    yield start_server
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory, model_dir):
    """One server for the read and error tests of a module: a copy of the sample model,
    writes enabled with the token ``TOKEN`` (from the environment), one worker."""
    folder = folder_copy(model_dir, tmp_path_factory.mktemp("served") / "model")
    server = Server(folder, env={"RECOMMENDER_TOKEN": TOKEN},
                    log=tmp_path_factory.mktemp("logs") / "server.log")
    server.folder = folder
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium for the page's tests of a module (skips without it or playwright)."""
    with chromium_browser() as launched:
        yield launched


@pytest.fixture
def tab(browser, shared_server):
    """A fresh tab on the module's shared server; the test fails on any script error."""
    opened = Tab(browser, shared_server)
    yield opened
    assert not opened.errors, opened.errors
    opened.close()
