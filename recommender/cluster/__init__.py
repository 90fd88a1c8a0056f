"""Work on a Dask cluster (the ``distributed`` extra): the client, tasks streamed in order,
and model folders opened once per worker.

Nothing here is imported by the local paths: ``import recommender`` works without Dask, and
each command's ``--workers`` / ``--scheduler`` says in one line how to install it.
"""

from .blocks import open_folder
from .client import INSTALL, cluster_client, require
from .stream import ordered_map

__all__ = ["INSTALL", "cluster_client", "open_folder", "ordered_map", "require"]
