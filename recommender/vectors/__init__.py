"""Text to vectors: term counting (the lean import of a fit's worker processes) and TF-IDF per field."""
