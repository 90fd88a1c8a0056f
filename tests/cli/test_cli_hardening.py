"""The command line under careless or hostile use (issue 11): regressions named after each
defect, Ctrl-C at any moment, OS errors on output, and ``main(argv)`` fuzzed in process on
random argument lists (only exit 0, exit 2 or argparse's exit may come out, never a
traceback)."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recommender import ArticleRecommender
from recommender.cli import main
from recommender.times import NO_LIMIT

TIGER = "CNT000001r4edC"
DATA = Path(__file__).parents[1] / "data"
DATA_ARTICLES = DATA / "articles.jsonl"
DATA_RELATED = DATA / "related.tsv"

pytestmark = pytest.mark.usefixtures("restore_logging_and_warnings")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(capsys, command, *argv) -> str:
    code, out, err = run(capsys, command, *argv)
    assert code == 2 and out == "" and "Traceback" not in err, (code, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"recommender {command}: error: "), err
    return lines[0]


def argparse_error(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in argv])
    assert exc.value.code == 2
    return capsys.readouterr().err.splitlines()[-1]


# -- regressions ------------------------------------------------------------------------------
def test_regression_an_output_path_with_a_nul_byte_ends_in_a_traceback(capsys, tmp_path,
                                                                        model_dir):
    """Found by the slow fuzz: ``train --out '\\x00'`` raised the system's ValueError."""
    line = one_line_error(capsys, "train", DATA_ARTICLES, "--min-df", 2, "--out", "\x00", "-q")
    assert line.endswith("a path cannot hold a NUL byte: '\\x00'")
    line = one_line_error(capsys, "batch", model_dir, "--out", tmp_path / "x\x00.jsonl")
    assert "a path cannot hold a NUL byte" in line


def test_regression_max_age_inf_gives_a_traceback(capsys, model_dir):
    for command, extra in (("recommend", [TIGER]), ("batch", ["--out", "x.jsonl"])):
        line = argparse_error(capsys, command, model_dir, *extra, "--max-age", "inf")
        assert line == (f"recommender {command}: error: argument --max-age: expected a positive "
                        f"number of days, got inf (--no-max-age: no limit)")
    assert argparse_error(capsys, "recommend", model_dir, TIGER, "--max-age", "nan").endswith(
        "expected a positive number of days, got nan")


def test_no_max_age_on_a_request_is_no_limit(capsys, model_dir):
    code, out, _ = run(capsys, "recommend", model_dir, TIGER, "-k", "8", "--no-max-age", "--json")
    assert code == 0
    ids, scores = ArticleRecommender.load(model_dir).recommend(TIGER, k=8, max_age=NO_LIMIT)
    related = json.loads(out)["related"]
    assert [item["id"] for item in related] == ids.tolist()
    code, out, _ = run(capsys, "evaluate", model_dir, DATA_RELATED, "--no-max-age", "--json")
    assert code == 0 and json.loads(out)["max_age"] is None


def test_regression_since_after_until_exits_0_with_an_empty_list(capsys, model_dir):
    line = one_line_error(capsys, "recommend", model_dir, TIGER, "--since", "2020-08-01",
                          "--until", "2020-07-01")
    assert line.endswith("since (2020-08-01) is not before until (2020-07-01): no article can "
                         "be published in that window")


def test_regression_unknown_category_exits_0_with_an_empty_list(capsys, model_dir, tmp_path):
    line = one_line_error(capsys, "recommend", model_dir, TIGER, "--category", "sprots")
    assert "unknown category 'sprots': the model's categories are " in line
    line = one_line_error(capsys, "batch", model_dir, "--out", tmp_path / "o.jsonl",
                          "--category", "sprots")
    assert "unknown category 'sprots'" in line and not (tmp_path / "o.jsonl").exists()


def test_regression_a_corpus_without_dates_blames_shared_words(capsys, tmp_path, articles):
    corpus = tmp_path / "undated.jsonl"
    with corpus.open("w", encoding="utf-8") as fh:
        for article in articles:
            record = {k: v for k, v in asdict(article).items()
                      if k not in ("published", "related", "related_at")}
            fh.write(json.dumps(record) + "\n")
    line = one_line_error(capsys, "train", corpus, "--out", tmp_path / "m", "--min-df", "2",
                          "--jobs", "1")
    assert line.endswith("none of the 41 articles has a date, so a maximum age of 62 days "
                         "would leave every list empty: fit with max_age=None (recommender "
                         "train --no-max-age), or give the articles their 'published' dates")
    code, _, _ = run(capsys, "train", corpus, "--out", tmp_path / "m", "--min-df", "2",
                     "--jobs", "1", "--no-max-age", "--quiet")
    assert code == 0
    code, out, _ = run(capsys, "recommend", tmp_path / "m", TIGER, "--json")
    assert code == 0 and len(json.loads(out)["related"]) == 5


@pytest.mark.parametrize("code, text", [(errno.ENOSPC, "No space left on device"),
                                        (errno.EROFS, "Read-only file system"),
                                        (errno.EACCES, "Permission denied")])
def test_regression_a_full_disk_on_out_has_no_path(capsys, monkeypatch, tmp_path, code, text):
    """An OSError without a file name (a full or read-only disk under np.save) is one line
    that names the output, and nothing half-written is left."""
    def failing(*args, **kwargs):
        raise OSError(code, text)

    monkeypatch.setattr(np, "save", failing)
    out = tmp_path / "m"
    status, _, err = run(capsys, "train", DATA_ARTICLES, "--out", out, "--min-df", "2",
                         "--jobs", "1", "--quiet")
    assert status == 2 and "Traceback" not in err
    assert err.splitlines()[-1] == (f"recommender train: error: cannot write {out}: "
                                    f"[Errno {code}] {text}")
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] in ([], [".m.lock"])  # nothing half-written


# -- Ctrl-C ------------------------------------------------------------------------------------
class _InterruptImport:
    """A meta-path finder that raises KeyboardInterrupt when ``name`` is imported."""

    def __init__(self, name):
        self.name = name

    def find_spec(self, name, path=None, target=None):
        if name == self.name:
            raise KeyboardInterrupt
        return None


def test_regression_ctrl_c_during_start_up_prints_a_traceback(capsys, monkeypatch, model_dir):
    monkeypatch.delitem(sys.modules, "recommender.cli.parser", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_InterruptImport("recommender.cli.parser"),
                                           *sys.meta_path])
    code, out, err = run(capsys, "recommend", model_dir, TIGER)
    assert (code, out, err) == (130, "", "recommender: interrupted\n")


def test_ctrl_c_during_the_work_is_one_line(capsys, monkeypatch, model_dir):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ArticleRecommender, "recommend_batch", interrupted)
    code, out, err = run(capsys, "recommend", model_dir, TIGER)
    assert (code, out, err) == (130, "", "recommender: interrupted\n")


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.1, 0.2, 0.3, 0.6, 0.9, 1.2, 1.5, 1.8, 2.1, 2.4, 3.0])
def test_regression_a_real_ctrl_c_prints_the_tracebacks_of_starting_workers(tmp_path, delay):
    """SIGINT to the whole process group of ``recommender train --jobs 2`` at several
    moments (start-up, reading, analysis in the workers): status 130, one line. Regression:
    a Ctrl-C in the start-up imports sometimes ended the process by SIGINT after its line
    (status -2, seen in CI at 0.3 s)."""
    proc = subprocess.Popen([sys.executable, "-m", "recommender.cli", "train",
                             str(DATA_ARTICLES), "--out", str(tmp_path / "m"), "--min-df",
                             "2", "--jobs", "2", "--quiet"], stderr=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(delay)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    lines = [line for line in err.splitlines() if not line.startswith("WARNING: ")]
    # 130 from main; 0 when the work was done before (the exit then ignores Ctrl-C)
    assert proc.returncode in (0, 130), (proc.returncode, err)
    assert "Traceback" not in err and lines in ([], ["recommender: interrupted"]), err
    if proc.returncode == 130:
        assert lines == ["recommender: interrupted"], err



# ``python -m recommender.cli train``, its work replaced by BODY (run by ``-m``, as the real
# one: a ``-c`` script leaves by another road, which never ended by SIGINT).
INTERRUPTED_TRAIN = """
import ctypes, sys
import recommender.cli.train as command
def train(args):
{body}
    print("ran to its end", file=sys.stderr)
    return 0
command.train = train
from recommender.cli import console
sys.argv = ["recommender", "train", {corpus!r}, "--out", {out!r}, "--quiet"]
sys.exit(console())
"""


def _interrupted_train(tmp_path, body):
    script = INTERRUPTED_TRAIN.format(body=body, corpus=str(DATA_ARTICLES),
                                      out=str(tmp_path / "m"))
    (tmp_path / "interrupted_train.py").write_text(script, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "interrupted_train"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stderr


def test_regression_a_ctrl_c_through_an_exec_of_a_string_exits_130_not_by_sigint(tmp_path):
    """A KeyboardInterrupt that went through an ``exec`` of a string (numba and dataclasses
    make code so) before ``main`` caught it: CPython took it as unhandled and ended the process
    by SIGINT after the one line (status -2, seen in CI at 1.2 s)."""
    code, err = _interrupted_train(tmp_path, '    exec("raise KeyboardInterrupt")')
    assert (code, err) == (130, "recommender: interrupted\n")


def test_regression_a_ctrl_c_in_a_ctypes_callback_is_not_dropped(tmp_path):
    """A Ctrl-C that lands in a C callback into Python (numba's compiler calls back through
    ctypes) was printed as "Exception ignored", with its traceback, and the command ran to its
    end with status 0 (seen here at 0.8 s into ``train``). It now comes back as soon as
    another thread may run: here, in the sleep after the callback."""
    body = ("    callback = ctypes.CFUNCTYPE(None)(lambda: (_ for _ in ()).throw("
            "KeyboardInterrupt))\n"
            "    callback()\n"
            "    import time; time.sleep(2)")
    code, err = _interrupted_train(tmp_path, body)
    assert (code, err) == (130, "recommender: interrupted\n")


# -- fuzz: main(argv) on random argument lists --------------------------------------------------
OPTIONS = ["-k", "--as-of", "--max-age", "--no-max-age", "--since", "--until", "--category",
           "--explain", "--json", "--half-life", "--dedupe", "--diversity", "--min-score",
           "--out", "--ids", "--text-file", "--min-df", "--stem", "--skip-invalid", "--jobs",
           "--table-size", "--learn-from", "--learn-half", "--no-baselines", "--report",
           "--quiet", "--scales", "--quick", "--repeats", "--competitors", "--sample",
           "--exact-all", "--corpus", "--bogus", "-x", "--"]
VALUES = ["0", "1", "2", "-1", "3.5", "1e309", "inf", "-inf", "nan", "abc", "", " ",
          "2020-07-01", "2020-13-45", "2020-07-01T12:00:00+02:00", "9999-12-31", "0001-01-01",
          "even", "odd", "france", "sprots", "real", "1m", "10k", "none", "sklearn", "2,5,10",
          "5,-1", TIGER, "CNT-unknown", "é\u200bà", "\U0001F600", "a" * 300, "\x00"]


def _paths(base: Path, model_dir: Path) -> list[str]:
    return [str(p) for p in (model_dir, DATA_ARTICLES, DATA_RELATED, base / "new", DATA /
                             ".." / ".." / "examples" / "page.txt",
                             base / "out.jsonl", base / "out.csv", base / "out.txt",
                             base / "file" / "below", base / "file", base / "report",
                             base / "missing.jsonl", DATA, "/dev/null")]


def argv_lists(base, model_dir):
    """A command, its required arguments most of the time (else random ones), then options
    with values drawn from valid and invalid ones."""
    paths = st.sampled_from(_paths(base, model_dir))
    value = st.one_of(st.sampled_from(VALUES), paths, st.text(max_size=12))
    skeletons = {
        "train": [str(DATA_ARTICLES), "--out", str(base / "new"), "--min-df", "2"],
        "recommend": [str(model_dir), TIGER],
        "similar": [str(model_dir), "--text-file", str(DATA.parents[1] / "examples/page.txt")],
        "batch": [str(model_dir), "--out", str(base / "out.jsonl")],
        "evaluate": [str(model_dir), str(DATA_RELATED)],
        "bench": ["--quick"],
        "nope": [],
    }
    start = st.sampled_from(sorted(skeletons)).flatmap(
        lambda c: st.one_of(st.just([c, *skeletons[c]]),
                            st.lists(value, max_size=3).map(lambda rest: [c, *rest])))
    option = st.one_of(st.tuples(st.sampled_from(OPTIONS), value).map(list),
                       st.sampled_from(OPTIONS).map(lambda o: [o]), value.map(lambda v: [v]))
    return st.tuples(start, st.lists(option, max_size=4)).map(
        lambda t: [*t[0], *(token for pair in t[1] for token in pair)])


def _fuzz(base, model_dir, monkeypatch, n):
    (base / "file").write_text("a file, not a folder")
    monkeypatch.chdir(base)  # relative outputs ("--report 2") land in the test's folder
    ran, codes = [], []

    class NoBench:  # the benchmark itself takes minutes: its arguments are what is fuzzed
        def __init__(self, *args, **kwargs):
            ran.append(kwargs)

        def run(self):
            return {"rows": []}

    monkeypatch.setattr("recommender.cli.bench.Bench", NoBench)

    @settings(max_examples=n, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(argv=argv_lists(base, model_dir))
    def check(argv):
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse: usage and message, or --help
                code = exc.code
        codes.append(code)
        assert code in (0, 2), (argv, code, stderr.getvalue()[-500:])
        assert "Traceback" not in stderr.getvalue(), argv
        if code == 2 and not stderr.getvalue().startswith("usage:"):
            lines = stderr.getvalue().splitlines()
            assert lines and lines[-1].startswith(("recommender ", "usage:")), (argv, lines)

    check()
    # not all noise: some argument lists were valid commands that ran to the end (of 10,000:
    # 51 on a team machine and 47 in CI on 2026-12-03, so the floor is half of that)
    assert codes.count(0) >= max(1, n // 400), (codes.count(0), len(codes))
    print(f"fuzzed {len(codes)} argument lists: {codes.count(0)} ran, {codes.count(2)} refused")


def test_fuzz_the_command_line_quick(tmp_path, model_dir, monkeypatch):
    _fuzz(tmp_path, model_dir, monkeypatch, 300)


@pytest.mark.slow
def test_fuzz_the_command_line(tmp_path, model_dir, monkeypatch):
    _fuzz(tmp_path, model_dir, monkeypatch, 10_000)


def test_regression_ctrl_c_at_start_up_gave_an_import_error_traceback():
    """Ctrl-C in the middle of scikit-learn's import (scipy's HiGHS module, compiled) left
    it half registered, and the next import of it failed with "ImportError: generic_type:
    type 'ObjSense' is already registered!" instead of one line (seen in CI). The command
    line no longer imports scikit-learn to start: only the learned mode does."""
    code = ("import sys, recommender.cli.parser, recommender.model.estimator; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
