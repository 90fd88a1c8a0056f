"""The benchmark: the run, memory sampling, competitors, synthetic corpora."""
