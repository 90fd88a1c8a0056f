"""Tests for recommender.evaluate.report: hand-computed figures in the page, files, escaping, errors."""

import base64
import math
import sys
from html.parser import HTMLParser

import numpy as np
import pytest

import recommender.evaluate.report
from recommender.errors import MissingDependencyError, ParameterError
from recommender.evaluate.report import header_notes, write_report
from recommender.times import NO_LIMIT

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Running example: 4 links from 3 sources, ranks 0-based, -1 when not in the list.
SOURCES = np.array([0, 0, 1, 2])
# model: 1-based ranks 1, 3, miss, 12
MODEL = {"name": "model", "kind": "model", "ranks": np.array([0, 2, -1, 11]),
         "link_source": SOURCES}
MODEL_FIGURES = {
    "recall@2": 1 / 4,                       # rank 1
    "recall@5": 2 / 4,                       # ranks 1, 3
    "recall@10": 2 / 4,                      # 12 > 10
    "mrr": (1 + 1 / 3 + 1 / 12) / 4,         # 17/48
    # source 0: (1 + 1/log2 4) / (1 + 1/log2 3); sources 1 and 2: nothing within 10
    "ndcg@10": (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3)) / 3,
}
# random: 1-based ranks miss, miss, 5, miss; listed first, so the reference is not runs[0]
RANDOM = {"name": "random", "kind": "baseline", "ranks": np.array([-1, -1, 4, -1]),
          "link_source": SOURCES, "metrics": {"coverage": 0.9}}
RANDOM_FIGURES = {"recall@2": 0.0, "recall@5": 1 / 4, "recall@10": 1 / 4, "mrr": (1 / 5) / 4,
                  "ndcg@10": (1 / math.log2(6)) / 3}
# worse: 1-based ranks 2, 3, miss, miss: recall@2 equal (1/4), MRR (1/2 + 1/3)/4 lower
WORSE = {"name": "no titles", "kind": "ablation", "ranks": np.array([1, 2, -1, -1]),
         "link_source": SOURCES}
# better: 1-based ranks 1, 2, 1, 4: recall@2 3/4, MRR (1 + 1/2 + 1 + 1/4)/4 higher
BETTER = {"name": "stems", "kind": "ablation", "ranks": np.array([0, 1, 0, 3]),
          "link_source": SOURCES}


class _Page(HTMLParser):
    """The page's table cells by (section id, run, key), its images and its text."""

    def __init__(self, text):
        super().__init__()
        self.section = self.run = self.cell = None
        self.field = "text"
        self.cells, self.images, self.links = {}, [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.section = a.get("id")
        elif tag == "tr":
            self.run = a.get("data-run")
        elif tag == "td" and "data-key" in a:
            self.cell = {"value": a.get("data-value"), "class": a.get("class") or "",
                         "text": "", "delta_text": ""}
            self.cells[(self.section, self.run, a["data-key"])] = self.cell
        elif tag == "span" and self.cell is not None and "data-delta" in a:
            self.cell.update(delta=float(a["data-delta"]), delta_class=a["class"])
            self.field = "delta_text"
        elif tag == "img":
            self.images.append(a["src"])
        elif tag == "a":
            self.links.append(a["href"])

    def handle_endtag(self, tag):
        if tag == "td":
            self.cell = None
        self.field = "text"

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[self.field] += data


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One report written with every section: (html path, page text, parsed page)."""
    folder = tmp_path_factory.mktemp("report") / "out"
    path = write_report(folder, [RANDOM, MODEL, WORSE, BETTER], examples=[EXAMPLE],
                        title="Évaluation", notes=["Corpus: sample.jsonl", "max age 60 days"])
    text = path.read_text(encoding="utf-8")
    return path, text, _Page(text)


EXAMPLE = {
    "source_id": "CNT1", "source_title": "Un ours dans les Pyrénées",
    "shown_at": "2020-07-03T12:43:14+02:00",
    "site": [{"id": "A", "title": "L'ours Goiat"}, {"id": "B", "title": "Un berger inquiet"}],
    "ours": [{"id": "A", "title": "L'ours Goiat", "score": 0.4123, "is_target": True,
              "terms": ["ours", "pyrénées"]},
             {"id": "C", "title": "Un loup en Ariège", "score": 0.2, "is_target": False,
              "terms": ["ariège"]}],
}


# ---------------------------------------------------------------- figures


@pytest.mark.parametrize("run, expected", [("model", MODEL_FIGURES), ("random", RANDOM_FIGURES)])
def test_table_figures_equal_hand_computed_metrics(report, run, expected):
    cells = report[2].cells
    for key, value in expected.items():
        cell = cells[("metrics", run, key)]
        assert float(cell["value"]) == pytest.approx(value, rel=1e-12, abs=1e-15), key
        assert cell["text"] == f"{value:.3f}", key
    assert cells[("metrics", run, "n_links")]["text"] == "4"


def test_coverage_shown_only_when_given(report):
    cells = report[2].cells
    assert cells[("metrics", "random", "coverage")]["text"] == "0.900"
    assert cells[("metrics", "model", "coverage")]["text"] == "—"
    assert "90.0%" in report[1]


def test_given_metrics_are_used_and_missing_ones_computed(tmp_path):
    run = {**MODEL, "metrics": {"recall@2": 0.9, "coverage": 0.25, "n_links": 7777,
                                "n_sources": 4232, "baselines": {"ignored": {}}}}
    page = _Page(write_report(tmp_path, [run]).read_text(encoding="utf-8"))
    assert page.cells[("metrics", "model", "recall@2")]["text"] == "0.900"
    assert page.cells[("metrics", "model", "coverage")]["text"] == "0.250"
    assert page.cells[("metrics", "model", "n_links")]["text"] == "7,777"
    assert float(page.cells[("metrics", "model", "mrr")]["value"]) == pytest.approx(17 / 48)


def test_best_value_per_column_is_highlighted(report):
    cells = report[2].cells
    for key in MODEL_FIGURES:  # the model beats random on every score
        assert cells[("metrics", "model", key)]["class"] == "best", key
        assert cells[("metrics", "random", key)]["class"] == "", key
    assert cells[("metrics", "random", "coverage")]["class"] == "best"
    assert ("metrics", "stems", "recall@2") not in cells  # ablations have their own table


def test_ablation_deltas_are_signed_and_coloured(report):
    cells = report[2].cells
    assert float(cells[("ablation", "model", "mrr")]["value"]) == pytest.approx(17 / 48)
    worse_mrr = cells[("ablation", "no titles", "mrr")]
    assert worse_mrr["delta"] == pytest.approx((1 / 2 + 1 / 3) / 4 - 17 / 48)
    assert worse_mrr["delta_class"] == "delta worse"
    assert worse_mrr["delta_text"] == "\u2212" + f"{17 / 48 - (1 / 2 + 1 / 3) / 4:.3f}"
    same = cells[("ablation", "no titles", "recall@2")]
    assert same["delta"] == 0 and same["delta_class"] == "delta same"
    assert same["delta_text"] == "±0.000"
    better = cells[("ablation", "stems", "recall@2")]
    assert better["text"] == "0.750"
    assert better["delta"] == pytest.approx(0.5) and better["delta_class"] == "delta better"
    assert better["delta_text"] == "+0.500"
    better_mrr = cells[("ablation", "stems", "mrr")]
    assert better_mrr["delta"] == pytest.approx((1 + 1 / 2 + 1 + 1 / 4) / 4 - 17 / 48)
    assert better_mrr["delta_class"] == "delta better"


def test_header_gives_counts_and_notes(report):
    text = report[1]
    assert "4 links from 3 source articles" in text
    assert "<li>Corpus: sample.jsonl</li>" in text and "<li>max age 60 days</li>" in text
    assert "<title>Évaluation</title>" in text


def test_examples_show_both_lists(report):
    text = report[1]
    assert "Un ours dans les Pyrénées" in text
    assert '<time datetime="2020-07-03T12:43:14+02:00">2020-07-03 12:43:14+02:00</time>' in text
    assert '<span class="score">0.412</span>' in text
    assert '<li class="hit"><span class="score">0.412</span>' in text
    assert '<li><span class="score">0.200</span>' in text
    assert "shared: ours, pyrénées" in text
    assert 'Goiat <span class="mark">our #1</span>' in text  # the site's item we found
    assert "Un berger inquiet</li>" in text                   # and one we did not


# ---------------------------------------------------------------- files


def test_pngs_are_written_valid_and_embedded(report):
    path, _, page = report
    written = {name: (path.parent / name).read_bytes()
               for name in ("recall_at_k.png", "mrr_at_k.png")}
    for data in written.values():
        assert data.startswith(PNG_MAGIC)
    assert len(page.images) == 2
    embedded = []
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        embedded.append(base64.b64decode(src.split(",", 1)[1], validate=True))
    assert embedded == [written["recall_at_k.png"], written["mrr_at_k.png"]]
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "index.html", "mrr_at_k.png", "recall_at_k.png"]  # no temporary file left


def test_page_is_self_contained(report):
    text = report[1].lower()
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert "http:" not in text and "https:" not in text and "url(" not in text
    assert report[2].links == ["recall_at_k.png", "mrr_at_k.png"]  # the files beside it


def test_a_failure_mid_write_leaves_the_old_page_whole_regression(tmp_path, monkeypatch):
    folder = tmp_path / "report"
    page = write_report(folder, [MODEL]).read_bytes()

    def interrupted(*args, **kwargs):  # the page's file is open when its text is made
        raise KeyboardInterrupt

    monkeypatch.setattr(recommender.evaluate.report, "render", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_report(folder, [RANDOM])
    assert (folder / "index.html").read_bytes() == page
    assert sorted(p.name for p in folder.iterdir()) == [
        "index.html", "mrr_at_k.png", "recall_at_k.png"]  # no temporary file left


def test_missing_folder_is_created(tmp_path):
    folder = tmp_path / "a" / "b"
    path = write_report(folder, [MODEL])
    assert path == folder / "index.html" and path.is_file()
    assert (folder / "recall_at_k.png").is_file() and (folder / "mrr_at_k.png").is_file()


def test_existing_file_is_refused(tmp_path):
    file = tmp_path / "report"
    file.write_text("not a folder")
    with pytest.raises(NotADirectoryError, match=r"report folder .*report exists and is not a "
                                                 r"folder; give a folder path"):
        write_report(file, [MODEL])
    assert file.read_text() == "not a folder"


def test_missing_matplotlib_names_the_extra(tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'recommender\[report\]'"):
        write_report(tmp_path / "out", [MODEL])
    assert not (tmp_path / "out").exists()  # nothing written before the check


# ---------------------------------------------------------------- escaping


def test_every_text_is_escaped(tmp_path):
    evil = "<script>alert('x')</script>"
    run = {**MODEL, "name": f"model {evil}"}
    example = {**EXAMPLE, "source_id": evil, "source_title": f"Titre {evil}",
               "shown_at": f'2020"{evil}',
               "site": [{"id": "A", "title": evil}],
               "ours": [{"id": "A", "title": evil, "score": 0.5, "is_target": True,
                         "terms": [evil]}]}
    text = write_report(tmp_path, [run, {**BETTER, "name": evil}], examples=[example],
                        title=evil, notes=[evil]).read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    assert 'datetime="2020&quot;&lt;script&gt;' in text
    page = _Page(text)
    assert ("metrics", f"model {evil}", "mrr") in page.cells  # the attribute reads back whole


# ---------------------------------------------------------------- bad input


def test_empty_runs_are_refused(tmp_path):
    with pytest.raises(ParameterError, match="runs is empty: the report needs at least one run"):
        write_report(tmp_path, [])


def test_mismatched_lengths_are_refused(tmp_path):
    run = {**MODEL, "link_source": np.array([0, 0, 1])}
    with pytest.raises(ParameterError, match=r"run 'model': link_source has shape \(3,\) but ranks "
                                         r"has 4 entries; give one source index per link"):
        write_report(tmp_path, [run])


@pytest.mark.parametrize("runs, error, message", [
    ([{**MODEL, "kind": "best"}], ParameterError,
     r"run 'model': kind must be 'model', 'baseline' or 'ablation', got 'best'"),
    ([MODEL, {**RANDOM, "name": "model"}], ParameterError, r"two runs are named 'model'"),
    ([RANDOM, WORSE], ParameterError,
     r"the ablation runs \['no titles'\] need a run of kind 'model' as their reference"),
    ([{**MODEL, "ranks": np.array([0, -2, 1, 3])}], ParameterError,
     r"run 'model': ranks must be 0-based positions, or -1 for a target not in the list, "
     r"got -2 at position 1"),
    ([{**MODEL, "ranks": np.array([0, 1.5, 1, 3])}], ParameterError, r"got 1.5 at position 1"),
    ([{**MODEL, "ranks": np.array([], int), "link_source": np.array([], int)}], ParameterError,
     r"run 'model': ranks is empty; give one rank per link"),
    ([{**MODEL, "ranks": np.array([0, 0, 1, 3])}], ParameterError,
     r"run 'model': each source's links must have distinct ranks"),
    ([{"name": "model", "kind": "model", "ranks": [0]}], ParameterError,
     r"runs\[0\] has no 'link_source'; each run needs 'name', 'kind', 'ranks' and "
     r"'link_source'"),
    ([{**MODEL, "metrics": {"mrr": "high"}}], ParameterError,
     r"run 'model': metrics\['mrr'\] must be a number, got 'high'"),
    (MODEL, TypeError, r"runs must be a sequence, got a dict; wrap a single item in a list"),
])
def test_bad_runs_name_the_problem(tmp_path, runs, error, message):
    with pytest.raises(error, match=message):
        write_report(tmp_path / "out", runs)
    assert not (tmp_path / "out").exists()


def test_bad_example_names_the_problem(tmp_path):
    example = {**EXAMPLE, "ours": [{"id": "A", "title": "t"}]}
    with pytest.raises(ParameterError, match=r"examples\[0\]\['ours'\]\[0\] has no 'score'"):
        write_report(tmp_path, [MODEL], examples=[example])


# ---------------------------------------------------------------- header notes


def test_header_notes_wording():
    assert header_notes(corpus="c.jsonl.gz", ground_truth="dev.tsv", max_age=60,
                        learned_from=1200, command="recommender evaluate m dev.tsv") == [
        "Corpus: c.jsonl.gz",
        "Ground truth: dev.tsv",
        "Protocol: ranked as of when each list was shown; max age 60 days; "
        "MRR counts ranks beyond 100 as 0",
        "Split: learned from 1,200 lists; evaluated only on sources it never saw",
        "Reproduce: recommender evaluate m dev.tsv",
    ]
    for no_limit in (None, NO_LIMIT):
        assert header_notes(max_age=no_limit) == [
            "Protocol: ranked as of when each list was shown; no max age; "
            "MRR counts ranks beyond 100 as 0"]
