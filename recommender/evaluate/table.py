"""The evaluation as a plain-text table: what ``recommender evaluate`` prints."""

from __future__ import annotations

__all__ = ["format_report"]


def format_report(report: dict, ks) -> str:
    """The evaluation as a plain-text table, the model first, then the baselines."""
    columns = [f"recall@{k}" for k in ks] + ["mrr", "ndcg@10", "coverage"]
    rows = [("model", report)]
    if "content_only" in report:
        rows.append(("content only", report["content_only"]))
    rows += list(report.get("baselines", {}).items())
    width = max(len(name) for name, _ in rows)
    age = report.get("max_age")
    untimed = report.get("sources_without_time", 0)
    untimed = f" ({untimed:,} lists without a time: against every article)" if untimed else ""
    left_out = f"{report['missing_targets']:,} links with a target not in the model"
    if report.get("missing_sources"):
        left_out += f" and {report['missing_sources']:,} with a source not in it"
    if report.get("duplicate_links"):
        left_out += f" and {report['duplicate_links']:,} repeated links"
    lines = [
        f"{report['n_links']:,} links from {report['n_sources']:,} source articles, ranked as "
        f"of when each list was shown{untimed}, max age {f'{age:g} days' if age else 'none'}; "
        f"{left_out} left out",
        "  ".join([" " * width] + [f"{c:>9}" for c in columns]),
    ]
    for name, values in rows:
        lines.append("  ".join([f"{name:<{width}}"] + [f"{values[c]:>9.3f}" for c in columns]))
    learned = report.get("learned")
    if learned:
        lines.append(f"model = learned re-ranker, trained on {learned['n_lists']:,} lists "
                     f"({learned['n_links']:,} links); the {learned['links_left_out']:,} links "
                     f"of those lists are left out here, so every row is on lists it never saw")
    return "\n".join(lines)
