"""The command line's errors: argparse's own (usage, exit 2), one clean line and exit 2 for
every user error (a RecommenderError, or an OSError on a path the user gave), the traceback
of every other exception (a bug), and of a user error too with ``--debug``."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from recommender import ArticleRecommender
from recommender.cli import main
from recommender.errors import UnknownArticleError

TIGER = "CNT000001r4edC"


# ``main`` configures logging and warnings for the process: undo it after each test.
pytestmark = pytest.mark.usefixtures("restore_logging_and_warnings")


@pytest.fixture
def model_copy(tmp_path, model_dir):
    """A copy of the session model folder that a test may damage."""
    return shutil.copytree(model_dir, tmp_path / "model")


def run(capsys, *argv):
    """``main(argv)`` -> (return code, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(capsys, command, match, *argv):
    """Status 2 and exactly one line on stderr, ``recommender CMD: error: ...``."""
    code, out, err = run(capsys, command, *argv)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"recommender {command}: error: ")
    assert re.search(match, lines[0]), lines[0]


# -- argparse's own errors: the usage, then one line, exit 2 -------------------------------
@pytest.mark.parametrize("bad", ["-1", "2.5", "many"])
def test_train_bad_table_size(capsys, tmp_path, articles_path, bad):
    with pytest.raises(SystemExit) as exc:
        main(["train", str(articles_path), "--out", str(tmp_path / "m"), f"--table-size={bad}"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (f"recommender train: error: argument --table-size: "
                                    f"expected a non-negative integer (0 for no neighbour "
                                    f"table), got {bad!r}")
    assert "Traceback" not in err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("bad", ["0", "-300", "nan", "inf", "many"])
def test_bench_bad_per_day(capsys, bad):
    with pytest.raises(SystemExit) as exc:
        main(["bench", "--per-day", bad])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (f"recommender bench: error: argument --per-day: expected "
                                    f"a positive number of articles a day, got {bad!r}")
    assert "Traceback" not in err


@pytest.mark.parametrize("k, shown", [("0", "got 0"), ("abc", "got 'abc'"), ("-3", "got -3")])
def test_recommend_bad_k(capsys, model_dir, k, shown):
    with pytest.raises(SystemExit) as exc:
        main(["recommend", str(model_dir), TIGER, "-k", k])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (f"recommender recommend: error: argument -k: expected a "
                                    f"positive integer, {shown}")
    assert "Traceback" not in err


@pytest.mark.parametrize("ks", ["0", "2,x", "5,-1"])
def test_evaluate_bad_k(capsys, model_dir, related_path, ks):
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", str(model_dir), str(related_path), "-k", ks])
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"recommender evaluate: error: argument -k: expected k values like 2,5,10, got {ks!r}")


def test_bad_as_of(capsys, model_dir):
    with pytest.raises(SystemExit) as exc:
        main(["recommend", str(model_dir), TIGER, "--as-of", "hier"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith(
        "recommender recommend: error: argument --as-of: cannot read time 'hier': expected ISO")


def test_bad_max_age(capsys, model_dir):
    with pytest.raises(SystemExit) as exc:
        main(["batch", str(model_dir), "--out", "x.jsonl", "--max-age", "0"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "recommender batch: error: argument --max-age: expected a positive number of days, got 0")


def test_train_max_age_and_no_max_age_together(capsys, tmp_path, articles_path):
    with pytest.raises(SystemExit) as exc:
        main(["train", str(articles_path), "--out", str(tmp_path / "m"), "--max-age", "3",
              "--no-max-age"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == ("recommender train: error: argument --no-max-age: not "
                                    "allowed with argument --max-age")
    assert not (tmp_path / "m").exists()


# -- user errors: one line, exit 2 ---------------------------------------------------------
def test_train_skip_invalid(capsys, tmp_path, articles_path):
    corpus = tmp_path / "a.jsonl"
    lines = articles_path.read_text(encoding="utf-8").splitlines()
    corpus.write_text("\n".join(lines[:5] + ["{broken"] + lines[5:]) + "\n", encoding="utf-8")
    assert_user_error(capsys, "train", r"a\.jsonl, line 6: malformed JSON", corpus, "--out",
                      tmp_path / "m")
    code, _, err = run(capsys, "train", corpus, "--out", tmp_path / "m", "--skip-invalid")
    assert code == 0
    assert "skipped 1 invalid lines, first: line 6: malformed JSON" in err
    assert ArticleRecommender.load(tmp_path / "m").n_articles == 41


def test_train_missing_corpus(capsys, tmp_path):
    assert_user_error(capsys, "train", r"corpus file not found: .*nothere\.jsonl$",
                      tmp_path / "nothere.jsonl", "--out", tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_missing_input_not_blamed_on_the_output_regression(capsys, tmp_path, articles_path):
    # A missing input was reported as "cannot write OUT: corpus file not found: …": every
    # OSError without a file name was taken for an error of the command's output.
    for argv, what in ((("train", tmp_path / "nothere.jsonl"), "corpus file"),
                       (("batch", tmp_path / "no-model"), "model folder"),
                       (("train", articles_path, "--pins", tmp_path / "no-pins.json"),
                        "pins file")):
        assert_user_error(capsys, argv[0], rf": error: {what} not found: ", *argv[1:],
                          "--out", tmp_path / "out.jsonl")
        assert not (tmp_path / "out.jsonl").exists()


def test_train_out_is_a_file_regression(capsys, tmp_path, articles_path):
    # FileExistsError was not a user error: the command ended in a traceback, and only
    # after the whole corpus was read and fitted.
    (tmp_path / "m").write_text("not a folder")
    assert_user_error(capsys, "train", r"m exists and is not a model folder; choose another "
                                       r"path$", articles_path, "--out", tmp_path / "m")
    assert (tmp_path / "m").read_text() == "not a folder"


def test_batch_out_under_a_file_regression(capsys, tmp_path, model_dir):
    (tmp_path / "f").write_text("not a folder")
    assert_user_error(capsys, "batch", r"File exists: .*f'", model_dir, "--out",
                      tmp_path / "f" / "out.jsonl", "-q")


def test_recommend_unknown_id(capsys, model_dir):
    assert_user_error(capsys, "recommend", r"Unknown article id 'CNT_NOPE': not among the 41 "
                                           r"articles of this model", model_dir, "CNT_NOPE")


def test_batch_bad_ids_line(capsys, tmp_path, model_dir):
    ids = tmp_path / "ids.tsv"
    ids.write_text(f"{TIGER}\nCNT000001r2yqP\tnot a date\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert_user_error(capsys, "batch", r"ids\.tsv, line 2: cannot read as-of time 'not a date'",
                      model_dir, "--out", out, "--ids", ids)
    assert not out.exists()


def test_batch_unknown_id(capsys, tmp_path, model_dir):
    ids = tmp_path / "ids.txt"
    ids.write_text(f"{TIGER}\nCNT_NOPE\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert_user_error(capsys, "batch", r"Unknown article id 'CNT_NOPE'", model_dir, "--out", out,
                      "--ids", ids)
    assert not out.exists()


def test_batch_bad_suffix(capsys, tmp_path, model_dir):
    assert_user_error(capsys, "batch", r"the output must end in \.jsonl or \.csv", model_dir,
                      "--out", tmp_path / "out.txt")


@pytest.mark.parametrize("command, extra", [("recommend", [TIGER]), ("batch", ["--out", "o.csv"]),
                                            ("evaluate", ["truth.tsv"])])
def test_missing_model_folder(capsys, tmp_path, command, extra):
    assert_user_error(capsys, command, r"model folder not found: .*nomodel\. Train one with "
                                       r"'recommender train CORPUS --out", tmp_path / "nomodel",
                      *extra)


def test_model_folder_of_another_format_version(capsys, model_copy):
    manifest = model_copy / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    assert data["format_version"] == 4
    data["format_version"] = 99
    manifest.write_text(json.dumps(data), encoding="utf-8")
    assert_user_error(capsys, "recommend", r"model format_version 99, but this version of "
                                           r"recommender reads formats 1, 2, 3, 4 and 5\. "
                                           r"Retrain",
                      model_copy, TIGER)


def test_truncated_model_file(capsys, model_copy):
    file = model_copy / "matrix.data.npy"
    size = file.stat().st_size
    with open(file, "r+b") as fh:
        fh.truncate(size - 100)
    assert_user_error(capsys, "recommend",
                      rf"file matrix\.data\.npy has {size - 100:,} bytes, the manifest says "
                      rf"{size:,}: the model is truncated or damaged", model_copy, TIGER)


def test_folder_without_manifest(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    assert_user_error(capsys, "recommend", r"empty is not a model folder: it has no "
                                           r"manifest\.json", tmp_path / "empty", TIGER)


@pytest.mark.parametrize("content", ["", "  \n\n"])
def test_similar_empty_text_file(capsys, tmp_path, model_dir, content):
    text = tmp_path / "page.txt"
    text.write_text(content, encoding="utf-8")
    assert_user_error(capsys, "similar", r"page\.txt: the text file is empty$", model_dir,
                      "--text-file", text)


def test_similar_missing_and_non_utf8_text_file(capsys, tmp_path, model_dir):
    assert_user_error(capsys, "similar", r"text file not found: .*nothere\.txt", model_dir,
                      "--text-file", tmp_path / "nothere.txt")
    text = tmp_path / "latin1.txt"
    text.write_bytes("Élection".encode("latin-1"))
    assert_user_error(capsys, "similar", r"latin1\.txt: bytes that are not UTF-8 at offset 0",
                      model_dir, "--text-file", text)


def test_evaluate_missing_ground_truth(capsys, tmp_path, model_dir):
    assert_user_error(capsys, "evaluate", r"nothere\.jsonl", model_dir, tmp_path / "nothere.jsonl")


def test_console_script_error_has_no_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "recommender.cli", "recommend", str(tmp_path / "nomodel"), TIGER],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"recommender recommend: error: model folder not found: {tmp_path / 'nomodel'}. Train "
        f"one with 'recommender train CORPUS --out {tmp_path / 'nomodel'}'"]


@pytest.mark.parametrize("option, value, match", [
    ("--diversity", "1", r"diversity must be in \[0, 1\) \(0 for none\), got 1\.0$"),
    ("--dedupe", "0", r"dedupe must be a cosine in \(0, 1\] or None, got 0\.0$"),
    ("--min-score", "nan", r"min_score must be a number or None, got nan$"),
])
def test_recommend_bad_control(capsys, model_dir, option, value, match):
    assert_user_error(capsys, "recommend", match, model_dir, TIGER, option, value)


def test_train_min_df_leaves_no_term(capsys, tmp_path, articles_path):
    corpus = tmp_path / "a.jsonl"  # without 'related', whose unknown ids give a warning
    records = [json.loads(line) for line in articles_path.read_text("utf-8").splitlines()]
    corpus.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "related"}) + "\n"
                              for r in records), encoding="utf-8")
    assert_user_error(capsys, "train", r"no term is left after min_df=1000 and max_df=\S+ on "
                                       r"41 articles; lower min_df$",
                      corpus, "--out", tmp_path / "m", "--min-df", "1000")
    assert not (tmp_path / "m").exists()


def test_train_learn_half_needs_learn_from(capsys, tmp_path, articles_path):
    assert_user_error(capsys, "train", r"--learn-half needs --learn-from GROUND_TRUTH$",
                      articles_path, "--out", tmp_path / "m", "--learn-half", "even")
    assert not (tmp_path / "m").exists()


def test_train_learn_from_a_missing_file(capsys, tmp_path, articles_path):
    assert_user_error(capsys, "train", r"ground-truth file not found: .*missing\.tsv$",
                      articles_path, "--out", tmp_path / "m", "--learn-from",
                      tmp_path / "missing.tsv")
    assert not (tmp_path / "m").exists()


def test_evaluate_report_refuses_no_baselines(capsys, tmp_path, model_dir, related_path):
    assert_user_error(capsys, "evaluate", r"--report shows the baselines; leave out "
                                          r"--no-baselines$",
                      model_dir, related_path, "--report", tmp_path / "r", "--no-baselines")
    assert not (tmp_path / "r").exists()


def test_evaluate_report_without_matplotlib(capsys, monkeypatch, tmp_path, model_dir,
                                            related_path):
    # None in sys.modules makes an import fail as if the package were not installed.
    for name in ["matplotlib", *[m for m in sys.modules if m.startswith("matplotlib.")]]:
        monkeypatch.setitem(sys.modules, name, None)
    assert_user_error(capsys, "evaluate", r"matplotlib, which is not installed: pip install "
                                          r"'recommender\[report\]'$",
                      model_dir, related_path, "--report", tmp_path / "r")
    assert not (tmp_path / "r").exists()


# -- OSError on a user's path: one line that names it -------------------------------------
@pytest.mark.parametrize("command, argv, named", [
    ("train", ["{corpus}", "--out", "{file}/m", "--min-df", "2"], "{file}"),
    ("train", ["{file}/a.jsonl", "--out", "{tmp}/m"], "{file}/a.jsonl"),
    ("recommend", ["{file}/m", TIGER], "{file}/m"),
    ("similar", ["{model}", "--text-file", "{file}/page.txt"], "{file}/page.txt"),
    ("batch", ["{model}", "--out", "{tmp}/o.jsonl", "--ids", "{file}/ids"], "{file}/ids"),
    ("evaluate", ["{model}", "{file}/links.tsv"], "{file}/links.tsv"),
    ("evaluate", ["{model}", "{truth}", "--report", "{file}/r"], "{file}/r"),
    ("bench", ["--corpus", "{corpus}", "--json", "{file}/rows.json"], "{file}/rows.json"),
])
def test_a_path_below_a_file(capsys, tmp_path, model_dir, articles_path, related_path,
                             command, argv, named):
    """Every path a user gives, put below a regular file: the OSError is one line naming
    it (as root, a read-only folder would not stop the writes)."""
    file = tmp_path / "f"
    file.write_text("not a folder", encoding="utf-8")
    values = {"corpus": articles_path, "tmp": tmp_path, "file": file, "model": model_dir,
              "truth": related_path}
    code, out, err = run(capsys, command, *[a.format(**values) for a in argv], "-q")
    assert (code, out) == (2, "")
    *warnings, line = err.splitlines()  # train warns about the sample's unknown 'related' ids
    assert all(w.startswith("WARNING: ") for w in warnings), err
    assert line.startswith(f"recommender {command}: error: ")
    assert named.format(**values) in line
    assert file.read_text(encoding="utf-8") == "not a folder"


# -- a bug keeps its traceback; --debug shows a user error's too --------------------------
@pytest.mark.parametrize("error", [RuntimeError("boom"), ValueError("boom"), TypeError("boom"),
                                   ImportError("boom"), KeyError("boom")])
def test_a_bug_is_not_swallowed_regression(capsys, monkeypatch, model_dir, error):
    """A plain ValueError, TypeError or ImportError from anywhere was printed as a user error,
    one line without the traceback that would show where the bug is."""
    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(ArticleRecommender, "recommend", broken)
    with pytest.raises(type(error)) as raised:
        main(["recommend", str(model_dir), TIGER])
    assert raised.value is error
    assert "error:" not in capsys.readouterr().err


@pytest.mark.parametrize("argv, error, match", [
    (["recommend", "{model}", "CNT_NOPE"], UnknownArticleError, "Unknown article id 'CNT_NOPE'"),
    (["similar", "{model}", "--text-file", "{tmp}/nothere.txt"], FileNotFoundError,
     "text file not found"),
])
def test_debug_raises_a_user_error(capsys, tmp_path, model_dir, argv, error, match):
    values = {"model": model_dir, "tmp": tmp_path}
    with pytest.raises(error, match=match):
        main([a.format(**values) for a in argv] + ["--debug"])
    assert "error:" not in capsys.readouterr().err  # the traceback instead of the line


def test_console_script_debug_shows_the_traceback(model_dir):
    result = subprocess.run(
        [sys.executable, "-m", "recommender.cli", "recommend", str(model_dir), "CNT_NOPE",
         "--debug"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[-1].startswith("recommender.errors.UnknownArticleError: Unknown article id "
                                "'CNT_NOPE': not among the 41 articles of this model")


@pytest.mark.parametrize("option, bad, message", [
    ("--scoring", "bm25", r"argument --scoring: invalid choice: 'bm25' \(choose from "
                          r"'?mlt'?, '?cosine'?\)"),
    ("--window", "weekly", r"argument --window: invalid choice: 'weekly' \(choose from "
                           r"'?calendar'?, '?rolling'?\)")])
def test_train_bad_scoring_or_window(capsys, tmp_path, articles_path, option, bad, message):
    with pytest.raises(SystemExit) as exc:
        main(["train", str(articles_path), "--out", str(tmp_path / "m"), option, bad])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert re.fullmatch(rf"recommender train: error: {message}", err.splitlines()[-1]), err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("zone", ["Nowhere/Else", "../../etc/passwd", ""])
def test_train_unknown_time_zone_is_one_line_before_the_work(capsys, tmp_path, articles_path,
                                                             zone):
    assert_user_error(capsys, "train", r"time_zone(: unknown time zone| must be the name of "
                                       r"a time zone)", articles_path, "--out",
                      tmp_path / "m", "--time-zone", zone)
    assert not (tmp_path / "m").exists()


def test_tune_missing_ground_truth_is_one_line(capsys, tmp_path, articles_path):
    assert_user_error(capsys, "tune", r"related_missing\.tsv", articles_path,
                      tmp_path / "related_missing.tsv", "--out", tmp_path / "m")
    assert not (tmp_path / "m").exists()
