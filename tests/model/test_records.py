"""What a model keeps for editors: the site's own lists of its corpus (saved, loaded, kept
by compaction), the title search (folded, live articles in, withdrawn ones out), and where
its evaluation report is."""

from __future__ import annotations

import dataclasses

import pytest

from recommender import ArticleRecommender
from recommender.errors import ModelFormatError, ParameterError
from recommender.model.titles import find_articles, fold

from helpers import read_manifest, refresh_facts


def test_fold_ignores_case_accents_and_punctuation():
    assert fold("Réforme « des » RETRAITES : l’emploi — Œuvre") == \
        "reforme   des   retraites   l emploi   oeuvre"


def test_the_site_lists_are_the_corpus_related_lists(small_model, articles, tmp_path):
    expected = {a.id: list(a.related) for a in articles if a.related}
    assert small_model.site_lists_ == expected and expected
    source = next(iter(expected))
    assert small_model.site_list(source) == expected[source]
    bare = next(a.id for a in articles if not a.related)
    assert small_model.site_list(bare) == []
    small_model.save(tmp_path / "model")
    live = ArticleRecommender.load(tmp_path / "model")
    assert live.site_lists_ == expected
    live.withdraw([bare])
    live.compact()
    assert ArticleRecommender.load(tmp_path / "model").site_lists_ == expected


def test_damaged_site_lists_are_refused(small_model, tmp_path):
    folder = tmp_path / "model"
    small_model.save(folder)
    (folder / "site_lists.json").write_text('{"a": [1]}', encoding="utf-8")
    refresh_facts(folder, "site_lists.json")
    assert "site_lists.json" in read_manifest(folder)["files"]
    with pytest.raises(ModelFormatError, match="site_lists.json does not map ids to lists"):
        ArticleRecommender.load(folder)


def test_find_articles_by_id_and_words(small_model, articles, tmp_path):
    folder = tmp_path / "model"
    small_model.save(folder)
    model = ArticleRecommender.load(folder)
    article = max(articles, key=lambda a: len(a.title))
    words = fold(article.title).split()[:2]
    found = find_articles(model, " ".join(words).upper(), 50)
    assert found == [a.id for a in sorted(articles, key=lambda a: a.published, reverse=True)
                     if all(w in fold(a.title) for w in words)]
    assert find_articles(model, article.id)[0] == article.id
    model.add(dataclasses.replace(article, id="live-copy", related=()))
    assert "live-copy" in find_articles(model, " ".join(words), 50)
    model.withdraw([article.id])
    assert article.id not in find_articles(model, " ".join(words), 50)
    with pytest.raises(ParameterError, match="the search is empty"):
        find_articles(model, "  ")


def test_the_report_is_recorded_in_the_folder(small_model, tmp_path):
    folder = tmp_path / "model"
    small_model.save(folder)
    page = tmp_path / "r" / "index.html"
    ArticleRecommender.load(folder).record_report(page)
    assert ArticleRecommender.load(folder).report_ == str(page.resolve())
    (folder / "report.json").write_text("{bad", encoding="utf-8")
    assert ArticleRecommender.load(folder).report_ is None  # optional: never refuses a model


def test_a_category_is_one_str_shared_by_its_rows(small_model, model_dir, articles):
    """The catalogue's categories cost a pointer a row (a worker of a cluster holds the
    catalogue of the whole archive), fitted or loaded, and are the articles' own."""
    by_id = {a.id: a.category for a in articles}
    for model in (small_model, ArticleRecommender.load(model_dir)):
        categories = model.categories_
        assert categories.dtype == object
        assert categories.tolist() == [by_id[i] for i in model.ids_.tolist()]
        assert len({id(c) for c in categories}) == len(set(categories.tolist())) > 1
