"""Evaluation against a site's own lists: metrics, runs, study, HTML report."""
