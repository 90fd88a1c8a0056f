"""What the cluster tests share: one cluster of two one-thread workers per module."""

from __future__ import annotations

import pytest

from recommender.cluster import cluster_client


@pytest.fixture(scope="module")
def client():
    """One cluster of two one-thread workers for the module."""
    with cluster_client(workers=2) as client:
        yield client
