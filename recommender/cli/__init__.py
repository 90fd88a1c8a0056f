"""The ``recommender`` command line: train, recommend, similar, batch, evaluate, bench.

A user error (a :class:`~recommender.errors.RecommenderError`: a bad line, an unknown id, a
bad option value; or an ``OSError`` on a path the user gave: a missing file, a folder where
a file should be) prints one line to stderr and exits with status 2, with no traceback;
``--debug`` shows its traceback too. Any other exception is a bug and keeps its traceback.

``main(argv)`` is the console script ``recommender`` and ``python -m recommender.cli``;
each subcommand lives in its own module, which adds its parser and runs it.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings

from ..errors import RecommenderError
from .batch import add_batch
from .bench import add_bench
from .evaluate import add_evaluate
from .related import add_recommend, add_similar
from .train import add_train

__all__ = ["USER_ERRORS", "build_parser", "main"]

#: What the command line prints as one line and exit status 2 (without ``--debug``).
USER_ERRORS = (RecommenderError, OSError)


def main(argv=None) -> int:
    """Run one subcommand with ``argv`` (default: ``sys.argv[1:]``); its exit status.

    0 on success, 2 on a user error (one line on stderr) or a bad option (argparse's usage
    and message, by ``SystemExit``), 130 on Ctrl-C. Any other exception is raised.
    """
    args = build_parser().parse_args(argv)
    configure_logging(args.quiet)
    try:
        return args.run(args) or 0
    except BrokenPipeError:  # the reader of stdout went away (``| head``): nothing to say
        return 0
    except USER_ERRORS as exc:
        if args.debug:
            raise
        message = str(exc) or type(exc).__name__
        print(f"recommender {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("recommender: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    """The parser of the command line, with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="recommender",
        description="Related articles for French news: train, recommend, evaluate.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (add_train, add_recommend, add_similar, add_batch, add_evaluate, add_bench):
        add(sub)
    return parser


def configure_logging(quiet: bool) -> None:
    """Info lines (or, with ``quiet``, warnings only) and warnings as ``LEVEL: message``
    on stderr. The command line is the one place that configures logging."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if quiet else logging.INFO)
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").handlers[:] = []
    warnings.formatwarning = lambda message, category, *a, **k: f"{message}"
