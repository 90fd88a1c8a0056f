"""``recommender add``, ``withdraw`` and ``compact`` on a copy of the sample model: what they
print (one line per article changed), what the folder then serves, and their user errors
(one line, exit 2)."""

from __future__ import annotations

import json
import shutil

import pytest

from recommender import ArticleRecommender
from recommender.cli import main

TIGER = "CNT000001r4edC"

pytestmark = pytest.mark.usefixtures("restore_logging_and_warnings")


@pytest.fixture
def folder(tmp_path, model_dir):
    return shutil.copytree(model_dir, tmp_path / "model")


@pytest.fixture
def records(articles_path) -> dict:
    with open(articles_path, encoding="utf-8") as fh:
        return {r["id"]: r for r in map(json.loads, fh)}


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def write_jsonl(path, records) -> str:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return str(path)


def user_error(capsys, *argv) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"recommender {argv[0]}: error: "), err
    return lines[0]


def test_add_prints_each_article_and_the_folder_serves_them(capsys, tmp_path, folder, records):
    new = [{**records[TIGER], "id": "new-1"}, {**records["CNT000001q02vP"], "id": "new-2"},
           {**records["CNT000001rcO7J"], "title": "Un nouveau titre"}]
    code, out, err = run(capsys, "add", folder, write_jsonl(tmp_path / "new.jsonl", new))
    assert code == 0
    assert out.splitlines() == ["added new-1", "added new-2", "updated CNT000001rcO7J"]
    assert "2 added, 1 updated" in err and "change 1 of its log" in err
    model = ArticleRecommender.load(folder)
    assert "new-1" in model and "new-2" in model and model.live_status()["articles"] == 43
    assert model.article_info("CNT000001rcO7J")["title"] == "Un nouveau titre"
    assert model.recommend(TIGER, 1)[0].tolist() == ["new-1"]
    assert run(capsys, "add", folder, write_jsonl(tmp_path / "again.jsonl", new[:1]),
               "-q")[1] == "updated new-1\n"


def test_add_reads_gzip_and_skips_invalid_lines(capsys, tmp_path, folder, records):
    import gzip

    path = tmp_path / "new.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({**records[TIGER], "id": "gz-1"}) + "\n")
        fh.write("{not json\n")
        fh.write(json.dumps({**records[TIGER], "id": "gz-2"}) + "\n")
    line = user_error(capsys, "add", folder, path)
    assert "new.jsonl.gz" in line and "line 2" in line
    assert "gz-1" not in ArticleRecommender.load(folder)  # nothing added
    code, out, _ = run(capsys, "add", folder, path, "--skip-invalid", "-q")
    assert code == 0 and out.splitlines() == ["added gz-1", "added gz-2"]


def test_withdraw_prints_each_article(capsys, folder):
    code, out, err = run(capsys, "withdraw", folder, TIGER, "CNT000001q02vP", TIGER)
    assert code == 0
    assert out.splitlines() == [f"withdrawn {TIGER}", "withdrawn CNT000001q02vP"]
    model = ArticleRecommender.load(folder)
    assert TIGER not in model and model.live_status()["articles"] == 39
    for source in model.ids_.tolist():
        if source in model:
            assert TIGER not in model.recommend(source, 40)[0].tolist()


def test_withdraw_unknown_changes_nothing(capsys, folder):
    line = user_error(capsys, "withdraw", folder, TIGER, "NOPE")
    assert "'NOPE'" in line and "nothing was withdrawn" in line
    assert TIGER in ArticleRecommender.load(folder)


def test_compact_folds_the_log(capsys, tmp_path, folder, records):
    write_jsonl(tmp_path / "new.jsonl", [{**records[TIGER], "id": "c-1"}])
    assert run(capsys, "add", folder, tmp_path / "new.jsonl")[0] == 0
    assert run(capsys, "withdraw", folder, "CNT000001q02vP")[0] == 0
    before = ArticleRecommender.load(folder)
    lists = {source: before.recommend(source, 10)[0].tolist()
             for source in before.ids_.tolist() if source in before}
    code, out, _ = run(capsys, "compact", folder)
    assert code == 0
    assert out == f"compacted 2 changes into {folder}: 41 articles\n"
    after = ArticleRecommender.load(folder)
    assert after.live_status()["changes"] == 0 and "c-1" in after
    assert {source: after.recommend(source, 10)[0].tolist() for source in lists} == lists


def test_compact_without_changes(capsys, folder):
    code, out, _ = run(capsys, "compact", folder)
    assert code == 0 and out == f"compacted 0 changes into {folder}: 41 articles\n"
    assert ArticleRecommender.load(folder).live_status()["changes"] == 0


@pytest.mark.parametrize("command", [["add", "NEW"], ["withdraw", TIGER], ["compact"]])
def test_missing_model_folder(capsys, tmp_path, articles_path, command):
    argv = [command[0], tmp_path / "none",
            *[articles_path if a == "NEW" else a for a in command[1:]]]
    assert "none" in user_error(capsys, *argv)


def test_add_missing_corpus(capsys, tmp_path, folder):
    assert "corpus file not found" in user_error(capsys, "add", folder, tmp_path / "new.jsonl")


def test_withdraw_needs_an_id(capsys, folder):
    with pytest.raises(SystemExit) as exit_:
        main(["withdraw", str(folder)])
    assert exit_.value.code == 2
    assert "ID" in capsys.readouterr().err
