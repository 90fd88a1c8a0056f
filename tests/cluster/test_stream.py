"""Tasks streamed back in item order: ``ordered_map`` on a counting fake client (order,
the bound on tasks in flight, releases, failures) and on a real two-worker cluster."""

from __future__ import annotations

import sys
import time

import pytest

from recommender.cluster import cluster_client, ordered_map
from recommender.errors import ParameterError

distributed = pytest.importorskip("distributed")


class FakeFuture:
    def __init__(self, client, func, args, kwargs):
        self.client, self.call = client, (func, args, kwargs)
        self.released = self.cancelled = False

    def result(self):
        func, args, kwargs = self.call
        return func(*args, **kwargs)

    def release(self):
        assert not self.released
        self.released = True
        self.client.live -= 1

    def cancel(self):
        self.cancelled = True


class FakeClient:
    """Runs a task when its result is asked for; counts the futures not yet released."""

    def __init__(self, threads=(1, 2)):
        self.threads = threads
        self.live = self.most = 0
        self.futures = []
        self.pure = set()

    def nthreads(self):
        return {f"tcp://w{i}": n for i, n in enumerate(self.threads)}

    def submit(self, func, *args, pure=True, **kwargs):
        self.pure.add(pure)
        future = FakeFuture(self, func, args, kwargs)
        self.futures.append(future)
        self.live += 1
        self.most = max(self.most, self.live)
        return future


def scaled(item, factor, offset=0):
    return item * factor + offset


def fail_on(item, bad):
    if item == bad:
        raise ParameterError(f"item {item} is bad")
    return item


def test_results_in_item_order_with_args_and_kwargs():
    client = FakeClient()
    assert list(ordered_map(client, scaled, range(10), 3, offset=1)) == [
        3 * i + 1 for i in range(10)]
    assert client.pure == {False}
    assert all(f.released for f in client.futures) and client.live == 0


@pytest.mark.parametrize("in_flight, threads, most", [(None, (1, 2), 6), (None, (1,), 2),
                                                     (1, (1, 2), 1), (4, (1,), 4)])
def test_in_flight_is_bounded(in_flight, threads, most):
    client = FakeClient(threads)
    assert list(ordered_map(client, scaled, range(25), 1, in_flight=in_flight)) == list(
        range(25))
    assert client.most == most


def test_results_are_streamed_not_gathered():
    client = FakeClient()
    stream = ordered_map(client, scaled, iter(range(100)), 1, in_flight=3)
    assert next(stream) == 0
    assert len(client.futures) == 3  # three submitted, not a hundred
    stream.close()
    assert [f.cancelled for f in client.futures] == [False, True, True]


def test_a_task_exception_is_raised_as_it_is_and_the_rest_cancelled():
    client = FakeClient()
    with pytest.raises(ParameterError, match="^item 2 is bad$"):
        list(ordered_map(client, fail_on, range(10), 2, in_flight=4))
    assert all(f.cancelled for f in client.futures[3:])


def test_in_flight_below_one():
    with pytest.raises(ValueError, match="in_flight must be at least 1, got 0"):
        list(ordered_map(FakeClient(), scaled, range(3), 1, in_flight=0))


def test_progress_bar_counts_the_items(capsys):
    list(ordered_map(FakeClient(), scaled, range(7), 1, progress=True, desc="testing"))
    err = capsys.readouterr().err
    assert "testing" in err or err == ""  # tqdm shows nothing when stderr is not a terminal


# -- on a real cluster ----------------------------------------------------------------------
def slow_inverse(item, n):
    """The later the item, the sooner it is done: results arrive out of order."""
    time.sleep(0.02 * (n - item))
    return item * item


@pytest.fixture(scope="module")
def client():
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    try:
        with cluster_client(workers=2) as client:
            yield client
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def test_cluster_results_in_order_though_done_out_of_order(client):
    n = 12
    assert list(ordered_map(client, slow_inverse, range(n), n)) == [i * i for i in range(n)]


def test_cluster_equal_items_are_separate_tasks(client):
    assert list(ordered_map(client, slow_inverse, [3, 3, 3], 3)) == [9, 9, 9]


def test_cluster_task_exception_raised_in_the_caller(client):
    with pytest.raises(ParameterError, match="^item 5 is bad$"):
        list(ordered_map(client, fail_on, range(8), 5))


def test_a_task_that_kills_its_workers_ends_the_run_in_one_line_regression():
    """A task whose every worker dies (os._exit: a crash, an out-of-memory kill) ended the
    run with Dask's KilledWorker traceback; it is a ClusterError of one line."""
    import os

    import dask

    from recommender.errors import ClusterError

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
            cluster_client(workers=1) as client:
        with pytest.raises(ClusterError, match=r"^scoring: task 1 killed each worker that ran "
                                               r"it \(2 in all, the last tcp://127\.0\.0\.1:"
                                               r"\d+\), so the run stops and writes nothing; "
                                               r"a worker's log says why it died"):
            list(ordered_map(client, os._exit, [3], desc="scoring"))
