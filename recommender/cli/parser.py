"""The parser of the command line: one subparser per subcommand module."""

from __future__ import annotations

import argparse

from .batch import add_batch
from .bench import add_bench
from .evaluate import add_evaluate
from .importing import add_import
from .live import add_live
from .pins import add_pins
from .related import add_recommend, add_similar
from .serve import add_serve
from .sync import add_sync
from .train import add_train
from .tune import add_tune

__all__ = ["build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The parser of the command line, with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="recommender",
        description="Related articles for French news: train, tune, recommend, evaluate.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (add_import, add_train, add_tune, add_recommend, add_similar, add_batch,
                add_evaluate, add_bench, add_live, add_pins, add_serve, add_sync):
        add(sub)
    return parser
