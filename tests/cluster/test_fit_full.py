"""The full 34k corpus cut into 8 partitions (JSONL.gz and Parquet in turn), fitted on a
2-worker cluster, is the local fit of the single file: every array of the saved folders
(vocabulary, idf, matrix, neighbour table) equal, bit for bit (minutes; ``-m slow``)."""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import pytest

from recommender import ArticleRecommender, CorpusWarning, read_corpus
from recommender.cluster import cluster_client
from recommender.cluster.fit import fit_partitions

from test_fit_cluster import assert_same_folders, partitions_checksum, write_parts

pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

pytestmark = pytest.mark.slow

FULL = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "orangesum" / \
    "articles.jsonl.gz"


def test_full_corpus_cluster_fit_is_the_local_fit(tmp_path):
    if not FULL.is_file():
        pytest.skip(f"{FULL} is absent: the full corpus is in ../shared beside the checkout "
                    f"(CI and the team's machines), not in a user's clone")
    with gzip.open(FULL, "rt", encoding="utf-8") as f:
        lines = f.readlines()
    paths = write_parts(tmp_path / "parts", lines, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        ArticleRecommender().fit(read_corpus(FULL)).save(tmp_path / "local")
        with cluster_client(workers=2) as client:
            model = fit_partitions(ArticleRecommender(), tmp_path / "parts", client,
                                   scratch=tmp_path / "scratch")
        model.save(tmp_path / "cluster")
        checksum = partitions_checksum(paths)
    assert model.info_["n_articles"] == len(lines)
    assert_same_folders(tmp_path / "local", tmp_path / "cluster", checksum=checksum)
