"""``recommender recommend`` and ``recommender similar``: one related list, printed.

``recommend`` ranks for an article of the model, ``similar`` for a text that is not in it;
both print the list as lines or as JSON, with the shared words behind each item if asked.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import CorpusError, InputFileNotFoundError
from .options import common_options, control_options, filter_options, filters, \
    listing_options, load

__all__ = ["add_recommend", "add_similar", "recommend", "show", "similar"]


def _parents() -> list:
    return [common_options(), filter_options(), listing_options(), control_options()]


def add_recommend(sub) -> None:
    p = sub.add_parser("recommend", parents=_parents(),
                       help="related articles of one article of the model")
    p.add_argument("model", help="model folder")
    p.add_argument("article_id")
    p.set_defaults(run=recommend)


def add_similar(sub) -> None:
    p = sub.add_parser("similar", parents=_parents(),
                       help="related articles of a text that is not in the model")
    p.add_argument("model", help="model folder")
    p.add_argument("--text-file", required=True, help="UTF-8 text; first line is the title")
    p.set_defaults(run=similar)


def recommend(args) -> int:
    model = load(args)
    ids, scores = model.recommend(args.article_id, args.k, **filters(args))
    explain = (lambda other: model.explain(args.article_id, other)) if args.explain else None
    show(model, model.article_info(args.article_id), ids, scores, explain, args.json)
    return 0


def similar(args) -> int:
    model = load(args)
    path = Path(args.text_file)
    text = _read_text(path)
    ids, scores = model.similar(text, args.k, **filters(args))
    query = model.vectorize(text)
    explain = (lambda other: model.explain_vector(query, other)) if args.explain else None
    title = next((line.strip() for line in text.splitlines() if line.strip()), "")
    show(model, {"id": None, "title": title, "file": str(path)}, ids, scores, explain, args.json)
    return 0


def _read_text(path: Path) -> str:
    """The text of ``--text-file``: UTF-8 and not blank."""
    if not path.is_file():
        raise InputFileNotFoundError(f"text file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: bytes that are not UTF-8 at offset {exc.start}") from None
    if not text.strip():
        raise CorpusError(f"{path}: the text file is empty")
    return text


def show(model, source: dict, ids, scores, explain, as_json: bool) -> None:
    """Print a list: ``source`` (id or file, title), then one line (or JSON item) an item,
    marked when an editor pinned it there.

    ``explain(other)`` gives the shared words of an item, or is None for no words.
    """
    items = []
    for rank, (other, score) in enumerate(zip(ids.tolist(), scores.tolist()), start=1):
        item = {"rank": rank, **model.article_info(other), "score": round(score, 6)}
        pinned = model.pins_.position(source.get("id"), other)
        if pinned is not None:
            item["pinned"] = True  # there by an editor's choice, not by its score
        if explain:
            item["shared_words"] = [[w, round(c, 6)] for w, c in explain(other)]
        items.append(item)
    if as_json:
        print(json.dumps({"source": source, "related": items}, ensure_ascii=False, indent=2))
        return
    print(f"Related to {source.get('id') or source.get('file')}: {source['title']}")
    if not items:
        print("  (no article shares a word with it within the filters)")
    for item in items:
        date = (item["published"] or "undated")[:10]
        mark = "  [pinned]" if item.get("pinned") else ""
        print(f"{item['rank']:>3}. {item['score']:.3f}  {item['id']}  {date}  {item['title']}"
              f"{mark}")
        if explain:
            words = ", ".join(f"{w} ({c:.3f})" for w, c in item["shared_words"])
            print(f"       shared: {words}")
