"""Batch scoring: every article's list written to a file."""
