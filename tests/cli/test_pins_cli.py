"""``recommender pin``, ``unpin``, ``ban``, ``unban`` and ``pins`` on a copy of the sample
model; the lists of ``recommend`` and ``batch`` that obey them; ``train --pins`` (a refit
keeps them); and every bad argument as one line and exit 2."""

from __future__ import annotations

import json
import shutil

import pytest

from recommender import ArticleRecommender
from recommender.cli import main

pytestmark = pytest.mark.usefixtures("restore_logging_and_warnings")

TIGER = "CNT000001r4edC"


@pytest.fixture
def folder(tmp_path, model_dir):
    return shutil.copytree(model_dir, tmp_path / "model")


@pytest.fixture
def ids(model_dir) -> list:
    return ArticleRecommender.load(model_dir).served_ids().tolist()


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def user_error(capsys, *argv) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and "Traceback" not in err, (code, out, err)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"recommender {argv[0]}: error: "), err
    return lines[0]


def listed(capsys, folder, source, k=5) -> list:
    code, out, _ = run(capsys, "recommend", folder, source, "-k", k, "--json", "--explain")
    assert code == 0
    return json.loads(out)["related"]


def test_pin_and_ban_change_the_lists_and_say_so(capsys, folder, ids):
    organic = [item["id"] for item in listed(capsys, folder, TIGER)]
    far = next(i for i in reversed(ids) if i not in organic and i != TIGER)
    code, out, _ = run(capsys, "pin", folder, TIGER, far, "--position", 2)
    assert (code, out) == (0, f"pinned {far} at position 2 of {TIGER}'s list (pins revision "
                              f"1)\n")
    code, out, _ = run(capsys, "ban", folder, organic[0], "--from", TIGER)
    assert out == f"banned {organic[0]} from {TIGER}'s list (pins revision 2)\n"
    items = listed(capsys, folder, TIGER)
    assert len(organic) == 5 and len(items) == 5
    assert [item["id"] for item in items][:4] == [organic[1], far, *organic[2:4]]
    assert items[1]["pinned"] is True and all("pinned" not in i for i in items if i["id"] != far)
    assert items[1]["shared_words"] is not None  # explained like the others
    code, out, _ = run(capsys, "recommend", folder, TIGER, "-k", 3)
    assert out.splitlines()[2].endswith("[pinned]")
    code, out, _ = run(capsys, "pins", folder)
    assert out.splitlines() == [f"pin {TIGER} {far} 2", f"ban {organic[0]} from {TIGER}'s list"]
    assert run(capsys, "unpin", folder, TIGER, far)[0] == 0
    assert run(capsys, "unban", folder, organic[0], "--from", TIGER)[0] == 0
    assert [item["id"] for item in listed(capsys, folder, TIGER)] == organic
    code, out, _ = run(capsys, "pins", folder, "--json")
    assert json.loads(out)["revision"] == 4 and json.loads(out)["pins"] == []


def test_a_ban_from_every_list_holds_in_the_batch_file(capsys, tmp_path, folder, ids):
    first = listed(capsys, folder, TIGER)[0]["id"]
    assert run(capsys, "ban", folder, first)[0] == 0
    out = tmp_path / "lists.jsonl"
    assert run(capsys, "batch", folder, "--out", out, "-k", 5)[0] == 0
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(rows) == len(ids)
    assert all(first not in [r["id"] for r in row["related"]] for row in rows)
    model = ArticleRecommender.load(folder)
    for row in rows:
        assert [r["id"] for r in row["related"]] == model.recommend(row["id"], 5)[0].tolist()


def test_a_refit_keeps_the_pins_of_its_folder_or_of_the_file_it_is_given(
        capsys, tmp_path, folder, articles_path):
    first = listed(capsys, folder, TIGER)[0]["id"]
    assert run(capsys, "ban", folder, first, "--from", TIGER)[0] == 0
    kept = tmp_path / "kept-pins.json"
    shutil.copy(folder / "pins.json", kept)
    other = tmp_path / "refit"
    code, _, err = run(capsys, "train", articles_path, "--out", other, "--min-df", 2,
                       "--pins", kept)
    assert code == 0 and "kept 0 pins and 1 bans" in err
    assert first not in [i["id"] for i in listed(capsys, other, TIGER, 40)]
    code, _, err = run(capsys, "train", articles_path, "--out", folder, "--min-df", 2)
    assert code == 0 and "kept 0 pins and 1 bans" in err  # a refit over the folder
    assert first not in [i["id"] for i in listed(capsys, folder, TIGER, 40)]


@pytest.mark.parametrize("argv, message", [
    (("pin", "{folder}", TIGER, "nope"), "Unknown article id 'nope'"),
    (("pin", "{folder}", "nope", TIGER), "Unknown article id 'nope'"),
    (("pin", "{folder}", TIGER, "{other}", "--position", 41),
     "a pin's position must be a whole number from 1 to 40 (the longest list this model "
     "prepares), got 41"),
    (("pin", "{folder}", TIGER, TIGER), f"cannot pin article '{TIGER}' in its own list"),
    (("unpin", "{folder}", TIGER, "{other}"), f"is not pinned in the list of '{TIGER}'"),
    (("ban", "{folder}", "nope"), "Unknown article id 'nope'"),
    (("ban", "{folder}", "{other}", "--from", "nope"), "Unknown article id 'nope'"),
    (("unban", "{folder}", "{other}"), "is not banned from every list"),
    (("pin", "{tmp}/none", TIGER, "{other}"), "model folder not found"),
    (("train", "{articles}", "--out", "{tmp}/m", "--pins", "{tmp}/none.json"),
     "pins file not found"),
    (("train", "{articles}", "--out", "{tmp}/m", "--pins", "{articles}"), "is not JSON"),
])
def test_bad_arguments_are_one_line_and_exit_2(capsys, tmp_path, folder, ids, articles_path,
                                               argv, message):
    other = next(i for i in ids if i != TIGER)
    values = {"folder": folder, "other": other, "tmp": tmp_path, "articles": articles_path}
    line = user_error(capsys, *(str(a).format(**values) for a in argv))
    assert message in line


def test_a_position_of_zero_is_refused_by_the_parser(capsys, folder, ids):
    with pytest.raises(SystemExit) as caught:
        main(["pin", str(folder), TIGER, ids[0], "--position", "0"])
    assert caught.value.code == 2
    assert "expected a positive integer, got 0" in capsys.readouterr().err
