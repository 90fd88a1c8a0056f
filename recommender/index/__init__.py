"""Exact top-k: the blocked scipy path, the numba kernels, all-pairs, and the approximate mode."""
