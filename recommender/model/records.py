"""What a model folder keeps for the people who read it, besides what scoring needs.

- ``tuning.json``: the table of ``recommender tune`` (what each setting did to recall on
  the site's own lists), which the editors' page shows beside the newsroom controls;
- ``site_lists.json``: the site's own related box of each article of the corpus the model
  was fitted on (its ``related`` ids, in order), which the page shows beside the model's
  list. Articles added live keep the box they came with, if any, only until compaction.

Both are listed in the manifest like the model's other files and checked when read.
Beside them, outside the manifest since it is written after the model (by ``recommender
evaluate --report``), ``report.json`` says where the model's HTML evaluation report is.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["REPORT_NAME", "documents_of", "read_documents", "read_report", "report_files",
           "site_lists_of", "write_report"]

#: The file of a model folder that says where its HTML evaluation report is.
REPORT_NAME = "report.json"


def site_lists_of(articles) -> dict:
    """``{id: [related ids]}`` of the articles that have a related box."""
    return {a.id: list(a.related) for a in articles if a.related}


def documents_of(model) -> dict:
    """The documents of ``model`` for :func:`~recommender.store.write_folder`."""
    documents = {}
    if model.tuning_ is not None:
        documents["tuning.json"] = model.tuning_
    if model.site_lists_:
        documents["site_lists.json"] = model.site_lists_
    return documents


def read_documents(files, model) -> None:
    """Set ``model.tuning_`` and ``model.site_lists_`` from a checked folder
    (:class:`~recommender.store.ModelFiles`); a damaged one is refused."""
    if files.has("tuning.json"):
        model.tuning_ = files.document("tuning.json")
        if not isinstance(model.tuning_, dict):
            raise files.refuse("tuning.json does not hold an object; the model is damaged. "
                               "Retrain it.")
    if files.has("site_lists.json"):
        lists = files.document("site_lists.json")
        if not (isinstance(lists, dict) and all(
                isinstance(v, list) and all(isinstance(i, str) for i in v)
                for v in lists.values())):
            raise files.refuse("site_lists.json does not map ids to lists of ids; the model "
                               "is damaged. Retrain it.")
        model.site_lists_ = lists


def report_files(model) -> dict:
    """The ``report.json`` of a folder saved from ``model`` (none without a report)."""
    return {REPORT_NAME: {"page": model.report_}} if model.report_ else {}


def read_report(folder) -> str | None:
    """The path of the report page a model folder names, or None (no file, or one that
    does not name a page: the report is optional, never a reason to refuse a model)."""
    try:
        doc = json.loads((Path(folder) / REPORT_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    page = doc.get("page") if isinstance(doc, dict) else None
    return page if isinstance(page, str) and page else None


def write_report(folder, page: str) -> None:
    """Name ``page`` as the report of the model folder ``folder`` (a temporary file renamed
    over ``report.json``: a kill leaves the old file or the new one)."""
    tmp = Path(folder) / f"{REPORT_NAME}.tmp"
    tmp.write_text(json.dumps({"page": page}, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, Path(folder) / REPORT_NAME)
