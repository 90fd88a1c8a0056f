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

import _thread
import logging
import signal
import sys
import warnings

from ..errors import InputFileNotFoundError, RecommenderError

__all__ = ["USER_ERRORS", "console", "main"]

#: What the command line prints as one line and exit status 2 (without ``--debug``).
USER_ERRORS = (RecommenderError, OSError)


def console() -> int:
    """The ``recommender`` command (console script and ``python -m recommender.cli``):
    :func:`main`, then Ctrl-C ignored while the interpreter exits. The work is done and
    written by then; a Ctrl-C during the exit printed a traceback from the shutdown of the
    fit's worker processes.

    Two ways a Ctrl-C used to slip past :func:`main`'s one line:

    - It lands in a C callback into Python (numba's compiler calls back through ctypes),
      which prints it as "Exception ignored" and drops it: the command then ran to its end.
      :func:`_deliver_again` raises it again at the next line of Python.
    - It passes through code run by an ``exec`` or ``eval`` of a string (numba, dataclasses
      and namedtuple make their code so) before :func:`main` catches it. CPython then marks
      the interrupt as unhandled and ends the process by SIGINT after its exit (status -2,
      not 130; seen in CI). :func:`_forget_interrupt` clears that mark.
    """
    sys.unraisablehook = _deliver_again
    code = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if code == 130:
        _forget_interrupt()
    return code


def _deliver_again(unraisable) -> None:
    """``sys.unraisablehook``: an interrupt that C code could not raise (a Ctrl-C in a ctypes
    callback) is sent again, to be raised at the next line of Python outside this hook;
    anything else is printed as Python does. It is sent from a new thread: sent from here
    (``signal.raise_signal``, ``_thread.interrupt_main``), it would be raised at once, in the
    hook, and dropped again. The hook returns long before that thread can run."""
    if issubclass(unraisable.exc_type, KeyboardInterrupt):
        _thread.start_new_thread(_thread.interrupt_main, (signal.SIGINT,))
        return
    sys.__unraisablehook__(unraisable)


def _forget_interrupt() -> None:
    """Clear CPython's mark of an unhandled Ctrl-C, left by a ``KeyboardInterrupt`` that went
    through an ``exec`` of a string even though :func:`main` caught it. Each ``exec`` of a
    string clears the mark before it runs, and this one ends without an interrupt (SIGINT is
    ignored by now)."""
    exec("None")  # noqa: S102 - a constant: what matters is the exec itself


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
