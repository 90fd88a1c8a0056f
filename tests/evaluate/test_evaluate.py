"""Tests for recommender.evaluate.runs: ground truth from a corpus and from a TSV, and metrics
computed by hand on six hand-written articles, as of the moment each list was shown."""

from __future__ import annotations

import json
import math
import warnings
import zlib
from datetime import datetime

import numpy as np
import pytest

from recommender import ArticleRecommender, CorpusError, CorpusWarning
from recommender.errors import ParameterError
from recommender.evaluate.runs import BASELINES, baseline_lists, evaluate
from recommender.truth import GroundTruth, half_of, read_ground_truth


def links_of(truth) -> set:
    return set(zip(truth.sources.tolist(), truth.targets.tolist(), truth.shown_at.tolist()))


@pytest.fixture(scope="module")
def sample_truth(related_path):
    return read_ground_truth(related_path)


def test_corpus_and_tsv_give_the_same_links(articles_path, sample_truth):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)  # 10 targets outside the sample
        from_corpus = read_ground_truth(articles_path)
    assert len(from_corpus) == len(sample_truth) == 47
    assert links_of(from_corpus) == links_of(sample_truth)
    # one link read by hand: the tiger story's box, rendered 2020-07-03T12:55:58+02:00
    shown = int(datetime.fromisoformat("2020-07-03T12:55:58+02:00").timestamp())
    assert ("CNT000001r4edC", "CNT000001rdIhh", shown) in links_of(sample_truth)


def test_missing_targets_are_counted_not_scored(small_model, sample_truth, articles_path,
                                                related_path):
    report = evaluate(small_model, sample_truth, baselines=False)
    # by hand (tests/data/README.md): 10 of the 47 links point outside the sample, and
    # 5 of the 29 sources have no link left
    assert report["missing_targets"] == 10
    assert report["missing_sources"] == 0 and report["duplicate_links"] == 0
    assert report["n_links"] == 37 and report["n_sources"] == 24
    ids = {json.loads(line)["id"] for line in articles_path.read_text("utf-8").splitlines()}
    rows = [line.split("\t") for line in related_path.read_text("utf-8").splitlines()[1:]]
    assert sum(target not in ids for _, target, *_ in rows) == 10
    assert len({source for source, target, *_ in rows if target in ids}) == 24


def by_hand(ranks_by_source: dict, ks=(2, 5, 10)) -> dict:
    """The metrics of per-source 0-based ranks (None: a miss), computed here by their
    definitions, independently of recommender.evaluate.metrics."""
    ranks = [r for rs in ranks_by_source.values() for r in rs]
    out = {"mrr": sum(1 / (r + 1) for r in ranks if r is not None) / len(ranks)}
    for k in ks:
        out[f"recall@{k}"] = sum(r is not None and r < k for r in ranks) / len(ranks)
        hits = [sum(r is not None and r < k for r in rs) for rs in ranks_by_source.values()]
        out[f"precision@{k}"] = sum(h / k for h in hits) / len(hits)
        out[f"hit_rate@{k}"] = sum(h > 0 for h in hits) / len(hits)
    ndcg = []
    for rs in ranks_by_source.values():
        dcg = sum(1 / math.log2(r + 2) for r in rs if r is not None and r < 10)
        ideal = sum(1 / math.log2(i + 2) for i in range(min(len(rs), 10)))
        ndcg.append(dcg / ideal)
    out["ndcg@10"] = sum(ndcg) / len(ndcg)
    return out


def recent_first(model, source, as_of):
    """The recent-same-category baseline by brute force: every article with terms published
    before ``as_of``, but the source; the source's category first, then newest first."""
    seconds = int(datetime.fromisoformat(as_of).timestamp())
    rows = [r for r in range(model.n_articles)
            if model.published_[r] < seconds and model.ids_[r] != source
            and model.matrix_[r].nnz > 0]
    category = model.article_info(source)["category"]
    rows.sort(key=lambda r: (model.categories_[r] != category, -r))
    return [model.ids_[r] for r in rows][:100]


def test_sample_report_against_single_calls_by_hand(small_model, sample_truth, sample_links):
    """Every figure of the model and of the recent baseline, against ranks found with one
    ``recommend`` call per link (the model) or by brute force (the baseline)."""
    report = evaluate(small_model, sample_truth, ks=(10, 2, 5, 2))
    model_ranks, recent_ranks = {}, {}
    for (source, target), shown in sample_links.items():
        listed = small_model.recommend(source, 100, as_of=shown)[0].tolist()
        model_ranks.setdefault(source, []).append(
            listed.index(target) if target in listed else None)
        recent = recent_first(small_model, source, shown)
        recent_ranks.setdefault(source, []).append(
            recent.index(target) if target in recent else None)
    for name, got, ranks in (("model", report, model_ranks),
                             ("recent", report["baselines"]["recent_same_category"],
                              recent_ranks)):
        for key, value in by_hand(ranks).items():
            assert got[key] == pytest.approx(value, abs=1e-12), (name, key)
    assert set(report["baselines"]) == set(BASELINES)
    assert report["max_age"] is None


def test_random_baseline_is_reproducible(small_model):
    sources = small_model.ids_.tolist()  # no as_of: each pool is the other 40 articles
    lists = [baseline_lists(small_model, sources, seed=seed)["random"] for seed in (0, 0, 1)]
    np.testing.assert_array_equal(lists[0], lists[1])
    assert not np.array_equal(lists[0], lists[2])
    for row, source in zip(lists[0], sources):  # a permutation of the pool, never the source
        picked = row[row != ""].tolist()
        assert len(picked) == 40 and set(picked) == set(sources) - {source}


# -- six hand-written articles ------------------------------------------------------------
# Each title's words are distinct stems. T2, T3 and T6 hold ever smaller subsets of T1's
# words, so whatever the idf: cos(T1, X) = |X| / |T1| for a subset X, which ranks T2 > T3
# > T6 for T1; T4 and T5 (volcanoes) share no word with the tiger articles. The model
# scores with cosine: these are its ranks (More Like This would find no query term in
# a title whose words occur once).
TINY = [
    ("T1", "2020-06-01", "societe/environnement", "tigre sumatra braconnage empoisonnement"),
    ("T2", "2020-06-02", "societe/environnement", "tigre sumatra braconnage"),
    ("T3", "2020-06-03", "societe/environnement", "tigre sumatra"),
    ("T4", "2020-06-04", "monde", "volcan islande"),
    ("T5", "2020-06-05", "monde", "volcan islande éruption"),
    ("T6", "2020-06-10", "societe/environnement", "tigre"),
]
SHOWN = "2020-06-20T12:00:00+02:00"
# link                          as of   hand-computed rank (model)
# T1 -> T2                      06-20   1  (T2, T3, T6 all subsets of T1)
# T1 -> T6                      06-20   3
# T5 -> T4                      06-20   1  (the only article sharing a word)
# T3 -> T6                      06-08   miss: T6 is published on 06-10, after the box
# T4 -> T1                      06-20   miss: no shared word
LINKS = [("T1", "T2", SHOWN), ("T1", "T6", SHOWN), ("T5", "T4", SHOWN),
         ("T3", "T6", "2020-06-08T12:00:00+02:00"), ("T4", "T1", SHOWN)]


@pytest.fixture(scope="module")
def tiny_model():
    articles = [{"id": i, "title": title, "category": category,
                 "published": f"{day}T12:00:00+02:00"} for i, day, category, title in TINY]
    model = ArticleRecommender(scoring="cosine", min_df=1, max_df=1.0).fit(articles)
    assert model.n_articles == 6 and model.info_["n_terms"] == 7  # every word is a term
    return model


def write_tsv(tmp_path, links, header=True, name="links.tsv"):
    lines = ["source_id\ttarget_id\trank\tshown_at"] if header else []
    lines += [f"{s}\t{t}\t1\t{when}" for s, t, when in links]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_tiny_metrics_by_hand(tiny_model, tmp_path):
    report = evaluate(tiny_model, read_ground_truth(write_tsv(tmp_path, LINKS)))
    # ranks: 1, 3, 1, miss, miss over 5 links from 4 sources (T1 twice, T5, T3, T4)
    assert report["n_links"] == 5 and report["n_sources"] == 4
    assert report["recall@2"] == 2 / 5
    assert report["recall@5"] == report["recall@10"] == 3 / 5
    assert report["mrr"] == pytest.approx((1 + 1 / 3 + 1) / 5)  # 7/15
    assert report["precision@2"] == pytest.approx((1 / 2 + 1 / 2) / 4)  # T1, T5: one each
    assert report["precision@5"] == pytest.approx((2 / 5 + 1 / 5) / 4)
    assert report["hit_rate@2"] == report["hit_rate@10"] == 2 / 4
    ndcg_t1 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert report["ndcg@10"] == pytest.approx((ndcg_t1 + 1) / 4)
    # lists: T1 [T2 T3 T6], T5 [T4], T3 [T2 T1], T4 [T5]: all six articles appear
    assert report["coverage"] == 1.0
    assert report["missing_targets"] == report["missing_sources"] == 0


def test_pool_is_as_of_the_box(tiny_model, tmp_path):
    """The same link T3 -> T6 is a miss when the box was shown before T6 existed, and is
    found (T6 is one of three candidates sharing a word) when shown after."""
    before = evaluate(tiny_model, read_ground_truth(write_tsv(tmp_path, LINKS)),
                      baselines=False)
    later = [link if link[:2] != ("T3", "T6") else ("T3", "T6", "2020-06-11T12:00:00+02:00")
             for link in LINKS]
    after = evaluate(tiny_model, read_ground_truth(write_tsv(tmp_path, later, name="b.tsv")),
                     baselines=False)
    assert before["recall@10"] == 3 / 5 and after["recall@10"] == 4 / 5
    assert after["recall@5"] == 4 / 5
    # a box shown one second before T6's publication still misses it
    edge = [link if link[:2] != ("T3", "T6") else ("T3", "T6", "2020-06-10T11:59:59+02:00")
            for link in LINKS]
    edge_report = evaluate(tiny_model, read_ground_truth(write_tsv(tmp_path, edge,
                                                                   name="c.tsv")),
                           baselines=False)
    assert edge_report["recall@10"] == 3 / 5


def test_max_age_narrows_the_pool(tiny_model, tmp_path):
    # 12 days back from 06-20 12:00 leaves T6 only; from 06-08, T1 and T2
    report = evaluate(tiny_model, read_ground_truth(write_tsv(tmp_path, LINKS)), max_age=12)
    assert report["recall@2"] == report["mrr"] == 1 / 5  # T1 -> T6 at rank 1, nothing else
    assert report["max_age"] == 12
    assert report["baselines"]["random"]["recall@10"] == 1 / 5  # T6 is the only target left


def test_baselines_by_hand(tiny_model, tmp_path):
    report = evaluate(tiny_model, read_ground_truth(write_tsv(tmp_path, LINKS)), seed=3)
    recent = report["baselines"]["recent_same_category"]
    # newest first, the source's section first:
    # T1 (06-20): T6 T3 T2 | T5 T4   -> T2 at 3, T6 at 1
    # T5 (06-20): T4 | T6 T3 T2 T1   -> T4 at 1
    # T3 (06-08): T2 T1 | T5 T4      -> T6 not yet published: miss
    # T4 (06-20): T5 | T6 T3 T2 T1   -> T1 at 5
    assert recent["recall@2"] == 2 / 5
    assert recent["recall@5"] == recent["recall@10"] == 4 / 5
    assert recent["mrr"] == pytest.approx((1 / 3 + 1 + 1 + 1 / 5) / 5)  # 38/75
    # random: each pool (5 or 4 articles) is listed whole, so a link is found at @5 and @10
    # exactly when its target is in the pool: all but T3 -> T6
    random = report["baselines"]["random"]
    assert random["recall@5"] == random["recall@10"] == 4 / 5
    assert report["baselines"] == evaluate(
        tiny_model, read_ground_truth(write_tsv(tmp_path, LINKS)), seed=3)["baselines"]


def test_baseline_lists_by_hand(tiny_model):
    # as of 06-20 (after every article) and 06-08 (before T6); articles at 10:00 UTC
    as_of = np.array(["2020-06-20T10:00", "2020-06-08T10:00", "NaT"], "datetime64[s]")
    lists = baseline_lists(tiny_model, ["T1", "T3", "T4"], as_of, seed=1)
    recent = [row[row != ""].tolist() for row in lists["recent_same_category"]]
    assert recent == [["T6", "T3", "T2", "T5", "T4"], ["T2", "T1", "T5", "T4"],
                      ["T5", "T6", "T3", "T2", "T1"]]  # NaT: no time, every article
    for row, want in zip(lists["random"], recent):
        assert sorted(row[row != ""].tolist()) == sorted(want)
    iso = baseline_lists(tiny_model, ["T1", "T3", "T4"],
                         ["2020-06-20T12:00:00+02:00", "2020-06-08T12:00:00+02:00", None],
                         seed=1)
    for name in BASELINES:
        np.testing.assert_array_equal(iso[name], lists[name])
    narrow = baseline_lists(tiny_model, ["T1"], "2020-06-20T10:00:00Z", max_age=12)
    assert narrow["recent_same_category"][0][:2].tolist() == ["T6", ""]  # 06-08 onwards


def test_duplicates_and_unknown_ids_are_counted(tiny_model, tmp_path):
    extra = LINKS + [("T1", "T2", SHOWN), ("T1", "NOPE", SHOWN), ("GONE", "T1", SHOWN),
                     ("T5", "T4", SHOWN), ("GONE", "NOPE", SHOWN)]
    report = evaluate(tiny_model, read_ground_truth(write_tsv(tmp_path, extra)))
    assert report["duplicate_links"] == 2
    # each link left out is counted once: by its source when that is unknown
    assert report["missing_targets"] == 1 and report["missing_sources"] == 2
    assert (report["n_links"] + report["duplicate_links"] + report["missing_targets"]
            + report["missing_sources"]) == len(extra) == 10
    plain = evaluate(tiny_model, read_ground_truth(write_tsv(tmp_path, LINKS, name="p.tsv")))
    for key in ("recall@2", "recall@10", "mrr", "precision@2", "ndcg@10", "n_links"):
        assert report[key] == plain[key]


def test_tsv_without_header_or_shown_at(tiny_model, tmp_path):
    path = tmp_path / "bare.tsv"
    path.write_text("T1\tT2\nT5\tT4\t1\n\n", encoding="utf-8")
    truth = read_ground_truth(path)
    assert links_of(truth) == {("T1", "T2", np.iinfo(np.int64).max),
                               ("T5", "T4", np.iinfo(np.int64).max)}
    report = evaluate(tiny_model, truth, baselines=False)  # no shown_at: every article
    assert report["recall@2"] == 1.0


# -- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("content, message", [
    ("T1\tT2\t1\t2020-06-20\nT1\n", r"links\.tsv, line 3: expected 'source_id<TAB>target_id"
                                      r"\[<TAB>rank\[<TAB>shown_at\]\]', got 'T1'"),
    ("T1\tT2\t1\tdemain\n", r"links\.tsv, line 2: cannot read shown_at 'demain': expected "
                            r"ISO 8601"),
    ("", r"links\.tsv: no links in this file"),
])
def test_bad_tsv_names_the_line(tmp_path, content, message):
    path = tmp_path / "links.tsv"
    path.write_text("source_id\ttarget_id\trank\tshown_at\n" + content, encoding="utf-8")
    with pytest.raises(CorpusError, match=message):
        read_ground_truth(path)


def test_missing_ground_truth_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"ground-truth file not found: .*nope\.tsv"):
        read_ground_truth(tmp_path / "nope.tsv")


def test_no_usable_link(tiny_model, tmp_path):
    truth = read_ground_truth(write_tsv(tmp_path, [("GONE", "T1", SHOWN), ("T1", "NOPE", SHOWN)]))
    with pytest.raises(CorpusError, match=r"none of the 2 ground-truth links has both its source "
                                         r"and its target in the model \(1 unknown sources, "
                                         r"1 unknown targets\); is it the same corpus\?"):
        evaluate(tiny_model, truth)


@pytest.mark.parametrize("ks, shown", [((0,), "0"), ((2, -1), "-1"), ((2.5,), "2.5")])
def test_bad_ks(tiny_model, tmp_path, ks, shown):
    truth = read_ground_truth(write_tsv(tmp_path, LINKS))
    with pytest.raises(ParameterError, match=rf"^k must be a positive integer, got {shown}$"):
        evaluate(tiny_model, truth, ks=ks)


# -- halves, learned models and details ---------------------------------------------------
def crc_parity(source: str) -> int:
    return zlib.crc32(source.encode("utf-8")) % 2


@pytest.fixture(scope="module")
def learned_even(small_model, sample_truth):
    """The sample model that learned from the lists of the even half of the sources."""
    return small_model.content_only().learn(half_of(sample_truth, "even"), n_candidates=10)


def test_half_of_splits_by_the_crc32_of_the_source(sample_truth):
    rows = list(zip(sample_truth.sources.tolist(), sample_truth.targets.tolist(),
                    sample_truth.shown_at.tolist()))
    even, odd = half_of(sample_truth, "even"), half_of(sample_truth, "odd")
    for half, parity in ((even, 0), (odd, 1)):
        assert isinstance(half, GroundTruth)
        got = list(zip(half.sources.tolist(), half.targets.tolist(), half.shown_at.tolist()))
        assert got == [r for r in rows if crc_parity(r[0]) == parity]  # in the file's order
    assert len(even) + len(odd) == len(sample_truth) == 47
    assert 0 < len(even) < 47
    assert not set(even.sources.tolist()) & set(odd.sources.tolist())
    # by hand: crc32(b"CNT000001r4edC") is odd, so the tiger story's list is in "odd"
    assert zlib.crc32(b"CNT000001r4edC") % 2 == 1
    assert "CNT000001r4edC" in odd.sources.tolist()


@pytest.mark.parametrize("which", ["first", "EVEN", "", None, 0])
def test_half_of_bad_half(sample_truth, which):
    with pytest.raises(ValueError, match=rf"^which half: 'even' or 'odd', got {which!r}$"):
        half_of(sample_truth, which)


METRICS = ("recall@2", "recall@5", "recall@10", "precision@5", "hit_rate@5", "mrr", "ndcg@10",
           "coverage")


def test_learned_model_leaves_its_own_lists_out(learned_even, small_model, sample_truth,
                                                sample_links):
    left_out = sum(crc_parity(s) == 0 for s, _ in sample_links)
    assert left_out == 15
    report = evaluate(learned_even, sample_truth, baselines=False)
    assert report["learned"] == {**learned_even.reranker_.info_, "links_left_out": left_out}
    assert report["learned"]["n_lists"] == len({s for s, _ in sample_links
                                                if crc_parity(s) == 0})
    assert report["n_links"] == len(sample_links) - left_out == 22
    assert report["n_sources"] == len({s for s, _ in sample_links if crc_parity(s) == 1})
    # exactly the odd half: the same figures as when given only the odd lists
    odd = evaluate(learned_even, half_of(sample_truth, "odd"), baselines=False)
    assert odd["learned"]["links_left_out"] == 0
    for key in METRICS + ("n_links", "n_sources"):
        assert report[key] == odd[key], key
    # and the content-only row is the content model on those lists
    content = evaluate(small_model, half_of(sample_truth, "odd"), baselines=False)
    for key in METRICS:
        assert report["content_only"][key] == pytest.approx(content[key], abs=1e-12), key


def test_learned_model_scored_on_its_own_lists_only(learned_even, sample_truth):
    even = half_of(sample_truth, "even")
    unknown_targets = 16 - 15  # by hand: the even half has 16 links, 15 with a known target
    assert len(even) == 16
    with pytest.raises(CorpusError, match=rf"^none of the 16 ground-truth links has both its "
                       rf"source and its target in the model \(0 unknown sources, "
                       rf"{unknown_targets} unknown targets, 15 links of lists the model "
                       rf"learned from\); is it the same corpus\?$"):
        evaluate(learned_even, even)


def test_details_ranks_agree_with_the_lists_and_the_recall(small_model, sample_truth,
                                                           sample_links):
    report = evaluate(small_model, sample_truth, details=True)
    details = report["details"]
    source_ids = details["source_ids"].tolist()
    ranks = details["ranks"]
    assert set(ranks) == {"model", "random", "recent_same_category"}
    links = list(zip((source_ids[i] for i in details["link_source"]),
                     details["targets"].tolist()))
    assert sorted(links) == sorted(sample_links)
    for i, (source, target) in enumerate(links):  # 0-based, -1 for a miss, by hand
        listed = small_model.recommend(source, 100, as_of=sample_links[source, target])[0]
        want = listed.tolist().index(target) if target in listed else -1
        assert ranks["model"][i] == want, (source, target)
    for name, figures in [("model", report)] + list(report["baselines"].items()):
        r = np.asarray(ranks[name])
        assert r.dtype.kind == "i" and r.shape == (37,)
        assert ((r >= -1) & (r < 100)).all()
        for k in (2, 5, 10):
            assert np.mean((r >= 0) & (r < k)) == pytest.approx(figures[f"recall@{k}"],
                                                                abs=1e-12), (name, k)


def test_details_of_a_learned_model(learned_even, sample_truth):
    report = evaluate(learned_even, sample_truth, baselines=False, details=True)
    ranks = report["details"]["ranks"]
    assert set(ranks) == {"model", "content_only"}
    for name, figures in (("model", report), ("content_only", report["content_only"])):
        r = np.asarray(ranks[name])
        assert r.shape == (22,)
        for k in (2, 5, 10):
            assert np.mean((r >= 0) & (r < k)) == pytest.approx(figures[f"recall@{k}"],
                                                                abs=1e-12), (name, k)
    assert "details" not in evaluate(learned_even, sample_truth, baselines=False)
