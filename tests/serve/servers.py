"""Real servers for the service's tests: ``recommender serve`` started as a process on a
free loopback port and called over HTTP, and the checks every test of an answer makes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

TOKEN = "s3cret-token-for-tests"
#: How long a server may take to answer its first /health (imports, model load, workers).
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """``recommender serve MODEL_DIR ARGS`` in a child process; ``url`` once it answers.

    ``env`` is added to the environment (``RECOMMENDER_TOKEN`` is removed from it unless
    given there). Its stderr goes to ``log`` (read it with :meth:`output`)."""

    def __init__(self, model_dir, *args, env=None, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.client = httpx.Client(base_url=self.url, timeout=30,
                                   limits=httpx.Limits(max_keepalive_connections=0))
        self.log = log
        environ = {k: v for k, v in os.environ.items() if k != "RECOMMENDER_TOKEN"}
        environ.update(env or {})
        command = [sys.executable, "-m", "recommender.cli", "serve", str(model_dir),
                   "--port", str(self.port), *map(str, args)]
        with open(log, "wb") as err:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err,
                                            env=environ, start_new_session=True)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n"
                                   f"{self.output()}")
            try:
                if self.client.get("/health", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer in {START_TIMEOUT:g} s:\n"
                           f"{self.output()}")

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        """SIGTERM (uvicorn's graceful stop), then SIGKILL after 15 s; the exit status."""
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode

    # -- calls: each on a new connection, which either worker may accept ----------------------
    def get(self, path, **kwargs) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(self, path, **kwargs) -> httpx.Response:
        return self.client.post(path, **kwargs)

    def delete(self, path, **kwargs) -> httpx.Response:
        return self.client.delete(path, **kwargs)


def auth(token: str = TOKEN) -> dict:
    return {"Authorization": f"Bearer {token}"}


def error_of(response: httpx.Response, status: int) -> str:
    """The message of an error answer, after checking its status and shape."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "message"}
    assert body["error"]["status"] == status
    message = body["error"]["message"]
    assert message and "\n" not in message
    return message


def folder_copy(source: Path, target: Path) -> Path:
    """A copy of a model folder that a test may change."""
    shutil.copytree(source, target)
    return target


def sample_records(articles_path) -> list[dict]:
    with open(articles_path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]
