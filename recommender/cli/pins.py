"""``recommender pin``, ``unpin``, ``ban``, ``unban`` and ``pins``: the editors' choices.

Each edit is written to the model folder's ``pins.json`` and is durable when the command
returns; a server following the folder (``recommender serve``) obeys it from its next
request, and ``recommender sync`` rewrites the lists it changed. Each prints one line
saying what is now true; ``pins`` prints them all (``--json``: the file's content).
"""

from __future__ import annotations

import json

from ..model.estimator import ArticleRecommender
from .options import common_options, positive_int

__all__ = ["add_pins", "ban", "pin", "show_pins", "unban", "unpin"]


def add_pins(sub) -> None:
    p = sub.add_parser("pin", parents=[common_options()],
                       help="show an article at a position of another's list, always")
    p.add_argument("model", help="model folder")
    p.add_argument("article_id", help="the article whose list shows it")
    p.add_argument("pinned_id", help="the article shown")
    p.add_argument("--position", type=positive_int, default=1,
                   help="its position, 1 for first (default: %(default)s)")
    p.set_defaults(run=pin)

    p = sub.add_parser("unpin", parents=[common_options()], help="undo a pin")
    p.add_argument("model", help="model folder")
    p.add_argument("article_id")
    p.add_argument("pinned_id")
    p.set_defaults(run=unpin)

    for name, run, text in (("ban", ban, "keep an article out of one list, or of every list"),
                            ("unban", unban, "undo a ban")):
        p = sub.add_parser(name, parents=[common_options()], help=text)
        p.add_argument("model", help="model folder")
        p.add_argument("banned_id", help="the article kept out")
        p.add_argument("--from", dest="from_id", metavar="ARTICLE_ID",
                       help="only out of this article's list (default: out of every list)")
        p.set_defaults(run=run)

    p = sub.add_parser("pins", parents=[common_options()],
                       help="the pins and bans of a model folder")
    p.add_argument("model", help="model folder")
    p.add_argument("--json", action="store_true", help="as the JSON of its pins.json")
    p.set_defaults(run=show_pins)


def pin(args) -> int:
    pins = _model(args).pin(args.article_id, args.pinned_id, args.position)
    print(f"pinned {args.pinned_id} at position {args.position} of {args.article_id}'s list "
          f"(pins revision {pins.revision})")
    return 0


def unpin(args) -> int:
    pins = _model(args).unpin(args.article_id, args.pinned_id)
    print(f"unpinned {args.pinned_id} from {args.article_id}'s list (pins revision "
          f"{pins.revision})")
    return 0


def ban(args) -> int:
    pins = _model(args).ban(args.banned_id, args.from_id)
    print(f"banned {args.banned_id} from {_where(args.from_id)} (pins revision "
          f"{pins.revision})")
    return 0


def unban(args) -> int:
    pins = _model(args).unban(args.banned_id, args.from_id)
    print(f"unbanned {args.banned_id} from {_where(args.from_id)} (pins revision "
          f"{pins.revision})")
    return 0


def show_pins(args) -> int:
    doc = _model(args).pins_.to_json()
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
    for entry in doc["pins"]:
        print(f"pin {entry['article']} {entry['pinned']} {entry['position']}")
    for entry in doc["bans"]:
        print(f"ban {entry['banned']} from {_where(entry['from'])}")
    return 0


def _model(args) -> ArticleRecommender:
    # Not verified: an edit reads the ids, not the scores (the sha256 of every file of a
    # large model takes seconds); the files' sizes and contents are still checked.
    return ArticleRecommender.load(args.model, verify=False)


def _where(from_id) -> str:
    return "every list" if from_id is None else f"{from_id}'s list"
