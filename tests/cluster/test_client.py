"""The Dask client of the commands: a cluster on this machine or an existing scheduler,
each bad input one line; and the install hint when Dask is missing."""

from __future__ import annotations

import re
import socket
import sys
import time

import pytest

from recommender.cli import main
from recommender.cluster import INSTALL, cluster_client, require
from recommender.errors import ClusterError, MissingDependencyError, ParameterError

pytest.importorskip("distributed")

# ``main`` configures logging and warnings for the process: undo it after each test.
pytestmark = pytest.mark.usefixtures("restore_logging_and_warnings")

HINT = "pip install 'recommender[distributed]'"


def free_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_line_error(capsys, *argv) -> str:
    """Run the command; assert status 2 and one line on stderr; that line."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def no_dask(monkeypatch):
    """dask.distributed as if it were not installed."""
    monkeypatch.setitem(sys.modules, "distributed", None)


# -- require ------------------------------------------------------------------------------
def test_install_hint_is_the_extra():
    assert INSTALL == HINT


def test_require_gives_distributed():
    assert require().__name__ == "distributed"


def test_require_without_dask_gives_the_install_hint(no_dask):
    with pytest.raises(MissingDependencyError) as exc:
        require()
    assert str(exc.value) == (f"running on a Dask cluster needs dask.distributed, which is not "
                              f"installed (distributed cannot be imported): {HINT}")
    assert isinstance(exc.value, ImportError)


def test_cluster_client_without_dask_gives_the_install_hint(no_dask):
    with pytest.raises(MissingDependencyError, match=re.escape(HINT)):
        with cluster_client(workers=1):
            pass


@pytest.mark.parametrize("flag", [["--workers", "2"], ["--scheduler", "tcp://127.0.0.1:8786"]])
def test_cli_flags_without_dask_say_how_to_install(capsys, no_dask, model_dir, tmp_path, flag):
    line = one_line_error(capsys, "batch", model_dir, "--out", tmp_path / "out.jsonl", *flag)
    assert line == (f"recommender batch: error: {flag[0]} needs dask.distributed, which is not "
                    f"installed (distributed cannot be imported): {HINT}")
    assert not (tmp_path / "out.jsonl").exists()


# -- bad inputs ---------------------------------------------------------------------------
@pytest.mark.parametrize("workers", ["0", "-3"])
def test_cli_workers_below_one(capsys, model_dir, tmp_path, workers):
    line = one_line_error(capsys, "batch", model_dir, "--out", tmp_path / "out.jsonl",
                          "--workers", workers)
    assert line == (f"recommender batch: error: --workers must be at least 1, got {workers}; "
                    f"leave it out to run without a cluster")


def test_cli_workers_and_scheduler_exclude_each_other(capsys, model_dir, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["batch", str(model_dir), "--out", str(tmp_path / "out.jsonl"), "--workers", "2",
              "--scheduler", "tcp://127.0.0.1:8786"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "recommender batch: error: argument --scheduler: not allowed with argument --workers")


def test_cli_unreachable_scheduler_is_one_line(capsys, model_dir, tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"
    started = time.monotonic()
    line = one_line_error(capsys, "batch", model_dir, "--out", tmp_path / "out.jsonl",
                          "--scheduler", address)
    assert time.monotonic() - started < 20
    assert line.startswith(f"recommender batch: error: no Dask scheduler answered at "
                           f"{address} (")
    assert line.endswith("start one with 'dask scheduler', or check the address")
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("address, reason", [
    ("foo", "missing port number in address 'foo'"),
    ("bogus://x:1", "unknown address scheme 'bogus'"),
])
def test_cli_malformed_scheduler_address(capsys, model_dir, tmp_path, address, reason):
    line = one_line_error(capsys, "batch", model_dir, "--out", tmp_path / "out.jsonl",
                          "--scheduler", address)
    assert line.startswith(f"recommender batch: error: bad scheduler address {address!r} "
                           f"({reason}")
    assert line.endswith("): expected tcp://HOST:PORT")


@pytest.mark.parametrize("kwargs, message", [
    ({}, "give either a scheduler address or a number of workers, not both nor neither"),
    ({"scheduler": "tcp://127.0.0.1:8786", "workers": 2},
     "give either a scheduler address or a number of workers, not both nor neither"),
    ({"workers": 0}, "the number of workers must be a positive integer, got 0"),
    ({"workers": 1.5}, "the number of workers must be a positive integer, got 1.5"),
    ({"scheduler": ""}, "expected a scheduler address such as tcp://HOST:8786, got ''"),
])
def test_cluster_client_bad_arguments(kwargs, message):
    with pytest.raises(ParameterError) as exc:
        with cluster_client(**kwargs):
            pass
    assert str(exc.value) == message


def test_refused_address_fails_at_once():
    address = f"tcp://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(ClusterError, match=re.escape(f"no Dask scheduler answered at {address} (")):
        with cluster_client(scheduler=address, timeout=5):
            pass
    assert time.monotonic() - started < 5


# -- a cluster ----------------------------------------------------------------------------
def test_local_cluster_and_a_client_of_its_scheduler_closed_on_exit():
    with cluster_client(workers=1) as first:
        threads = first.nthreads()
        assert list(threads.values()) == [1]
        assert all(address.startswith("tcp://127.0.0.1:") for address in threads)
        with cluster_client(scheduler=first.scheduler.address) as client:
            assert client.submit(max, [4, 2]).result() == 4
        assert client.status == "closed"
        assert first.status == "running"  # the cluster is not the second client's to close
        cluster = first.cluster
    assert first.status == "closed"
    assert cluster.status.name == "closed"


def _settings(keys, dask_worker=None):
    """These Dask settings as a worker sees them, and whether it samples a profile (Dask's
    ``client.run`` gives the worker as ``dask_worker``)."""
    import dask

    return ({key: dask.config.get(key) for key in keys},
            "profile" in dask_worker.periodic_callbacks)


def test_local_cluster_workers_keep_no_profile_and_poll_less():
    """The cluster on this machine has no dashboard: its workers sample no profile for one,
    and its monitors poll at LOCAL_CONFIG's pace; this process's settings are its own."""
    import dask

    from recommender.cluster.client import LOCAL_CONFIG

    assert LOCAL_CONFIG["distributed.worker.profile.enabled"] is False
    before = {key: dask.config.get(key) for key in LOCAL_CONFIG}
    assert before != LOCAL_CONFIG  # Dask's defaults: the test would show nothing otherwise
    with cluster_client(workers=2) as client:
        seen = client.run(_settings, list(LOCAL_CONFIG))
        assert len(seen) == 2
        assert all(answer == (LOCAL_CONFIG, False) for answer in seen.values()), seen
        assert {key: dask.config.get(key) for key in LOCAL_CONFIG} == before
    assert {key: dask.config.get(key) for key in LOCAL_CONFIG} == before


def test_regression_a_local_cluster_that_does_not_close_does_not_hang_the_run(monkeypatch,
                                                                             caplog):
    """Dask's close of a LocalCluster once waited for ever on a worker its nanny was
    restarting (CI hung after a test whose task kills its workers): the close is bounded,
    and a close that times out is a warning, not a hang or an error."""
    import distributed

    import recommender.cluster.client as client_module

    asked = []
    close = distributed.LocalCluster.close

    def slow_close(self, timeout=None):
        asked.append(timeout)
        close(self)  # closed for real, then as a close that timed out
        raise TimeoutError(f"timed out after {timeout} s.")

    monkeypatch.setattr(distributed.LocalCluster, "close", slow_close)
    with cluster_client(workers=1) as client:
        assert client.submit(max, [4, 2]).result() == 4
    assert asked == [client_module.CLOSE_TIMEOUT]
    assert "did not close within 30 s" in caplog.text
