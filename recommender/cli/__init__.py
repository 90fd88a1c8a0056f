"""The ``recommender`` command line: train, recommend, similar, batch, evaluate, bench.

A user error (a :class:`~recommender.errors.RecommenderError`: a bad line, an unknown id, a
bad option value; or an ``OSError`` on a path the user gave: a missing file, a folder where
a file should be) prints one line to stderr and exits with status 2, with no traceback;
``--debug`` shows its traceback too. Any other exception is a bug and keeps its traceback.

``main(argv)`` runs one command (tests call it in process); :func:`console` is the console
script ``recommender`` and ``python -m recommender.cli``. Each subcommand lives in its own
module, which adds its parser and runs it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import warnings

from ..errors import InputFileNotFoundError, RecommenderError

__all__ = ["USER_ERRORS", "console", "main"]

#: What the command line prints as one line and exit status 2 (without ``--debug``).
USER_ERRORS = (RecommenderError, OSError)
#: Whether :func:`main` was interrupted before a command started (read by :func:`console`).
_interrupted_at_start = False


def console() -> int:
    """The ``recommender`` command (console script and ``python -m recommender.cli``):
    :func:`main`, then Ctrl-C ignored while the interpreter exits. The work is done and
    written by then; a Ctrl-C during the exit printed a traceback from the shutdown of the
    fit's worker processes."""
    code = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if _interrupted_at_start:
        # Interrupted in the start-up imports: leave now, with that status. The
        # interpreter's own exit after such a Ctrl-C sometimes ended the process by SIGINT
        # all the same (status -2, seen in CI). Nothing has started yet that needs an end.
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(130)
    return code


def main(argv=None) -> int:
    """Run one subcommand with ``argv`` (default: ``sys.argv[1:]``); its exit status.

    0 on success, 2 on a user error (one line on stderr) or a bad option (argparse's usage
    and message, by ``SystemExit``), 130 on Ctrl-C. Any other exception is raised.
    """
    try:
        # Imported here, inside the try: the subcommands import the engine (about 1.5 s of
        # numpy, scipy and scikit-learn), and Ctrl-C during that start-up must be one line.
        from .parser import build_parser

        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:
        global _interrupted_at_start
        _interrupted_at_start = True
        print("recommender: interrupted", file=sys.stderr)
        return 130
    configure_logging(args.quiet)
    try:
        return args.run(args) or 0
    except BrokenPipeError:  # the reader of stdout went away (``| head``): nothing to say
        return 0
    except USER_ERRORS as exc:
        if args.debug:
            raise
        print(f"recommender {args.command}: error: {_one_line(exc, args)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("recommender: interrupted", file=sys.stderr)
        return 130


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


def _one_line(exc: Exception, args) -> str:
    """The error as one line; an OSError that names no file names the command's output."""
    message = " ".join((str(exc) or type(exc).__name__).split())
    if isinstance(exc, OSError) and exc.filename is None \
            and not isinstance(exc, InputFileNotFoundError):
        out = getattr(args, "out", None) or getattr(args, "report", None)
        if out and str(out) not in message:
            message = f"cannot write {out}: {message}"
    return message
