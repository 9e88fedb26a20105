"""BM25 in the catalog stays as FTS5 ranks it when a search no longer lets FTS5 rank every sentence that
holds a common term (`Catalog.search_terms`: the rarest terms find the candidates, all terms score them)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import index.catalog as catalog_module
from index.catalog import ArticleRecord, Catalog, SentenceRow, _any_of


def plain_terms(title: str, rows: list[SentenceRow]) -> list[str]:
    """An analyser for tests: the lower-cased words, as the real one yields space-joined terms."""
    return [row.text.lower() for row in rows]


def article(article_id: str, texts: list[str]) -> tuple[ArticleRecord, list[str], list[SentenceRow]]:
    rows = [SentenceRow(article_id, n, 0, 0, text) for n, text in enumerate(texts)]
    now = datetime.now(UTC).isoformat()
    record = ArticleRecord(article_id, article_id, article_id, None, None, now, "v1", 1, len(rows))
    return record, [" ".join(texts)], rows


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    """300 sentences: "jahr" in all of them, "stadt" in every third, "zoo" in five; some of them long."""
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    catalog.analyse = plain_terms
    upserts = []
    for a in range(30):
        texts = []
        for n in range(10):
            i = a * 10 + n
            words = ["jahr"] + (["stadt"] * (1 + i % 2) if i % 3 == 0 else []) + (["zoo"] if i % 61 == 7 else [])
            texts.append(" ".join(words + [f"wort{i}"] * (i % 7)))
        upserts.append(article(f"a{a:02d}", texts))
    catalog.commit_versions(upserts)
    yield catalog
    catalog.close()


def fts5_ranking(catalog: Catalog, terms: list[str], k: int) -> list[tuple[str, int, float]]:
    return [(h.article_id, h.n, h.score) for h in catalog._ranked(terms, k)]


def test_the_python_bm25_is_fts5s_own(catalog):
    """Candidates are scored outside FTS5: the scores must be FTS5's to the last digits, or the bounded
    search would rank differently from a full one."""
    terms = ["zoo", "stadt", "jahr", "stadt"]  # a term twice counts twice, as two phrases of the MATCH
    rows = (
        catalog._reader()
        .execute("SELECT rowid, -rank FROM sentence_terms WHERE sentence_terms MATCH ?", (_any_of(terms),))
        .fetchall()
    )
    assert len(rows) == 300
    ours = catalog._bm25([r for r, _ in rows], terms, catalog.term_counts(terms))
    assert ours == pytest.approx(dict(rows), rel=1e-12)


def test_fts5s_averages_record_is_read(catalog):
    """Rows and tokens as FTS5 counts them (its varints run over one byte here)."""
    tokens = sum(len(text.split()) for (text,) in catalog._reader().execute("SELECT terms FROM sentence_terms"))
    assert catalog._averages() == (300, tokens)
    assert tokens > 127


def test_a_bounded_search_ranks_as_fts5_does(catalog, monkeypatch):
    """With the common terms left out of FTS5's ranking, the best sentences are still FTS5's best."""
    terms = ["zoo", "stadt", "jahr"]
    full = fts5_ranking(catalog, terms, 5)
    monkeypatch.setattr(catalog_module, "RANKED_POSTINGS", 10)  # only "zoo" (5 sentences) is ranked by FTS5
    monkeypatch.setattr(catalog_module, "RESCORED", 5)
    bounded = [(h.article_id, h.n, h.score) for h in catalog.search_terms(terms, 5)]
    assert bounded == [(a, n, pytest.approx(score, rel=1e-12)) for a, n, score in full]


def test_a_search_within_the_bound_is_fts5s(catalog, monkeypatch):
    terms = ["stadt", "jahr", "nirgends"]
    assert catalog.search_terms(terms, 7) == catalog._ranked(["stadt", "jahr"], 7)
    assert catalog.search_terms(["nirgends"], 7) == []


def test_an_articles_scores_are_fts5s(catalog):
    """The story rule scores every sentence of one article; from its own terms, as FTS5 would."""
    terms = ["zoo", "stadt", "jahr"]
    expected = dict(
        catalog._reader().execute(
            "SELECT s.n, -sentence_terms.rank FROM sentence_terms "
            "JOIN sentences AS s ON s.rowid = sentence_terms.rowid "
            "WHERE sentence_terms MATCH ? AND s.article_id = 'a12'",
            (_any_of(terms),),
        )
    )
    assert len(expected) == 10
    assert catalog.article_term_scores(terms, "a12") == pytest.approx(expected, rel=1e-12)
    assert catalog.article_term_scores(["nirgends"], "a12") == {}


def test_a_question_of_common_terms_only_searches_the_newest_sentences(catalog, monkeypatch):
    """When even the rarest term is in more than RANKED_POSTINGS sentences, ranking all of them would take
    as long as the archive is: the newest of them (the last articles indexed) are searched instead."""
    monkeypatch.setattr(catalog_module, "RANKED_POSTINGS", 50)  # "jahr" is in all 300, "stadt" in 100
    hits = catalog.search_terms(["jahr"], 10)
    newest = [h for h in catalog._ranked(["jahr"], 300) if h.article_id >= "a25"][:10]  # the newest 50 sentences
    assert [(h.article_id, h.n) for h in hits] == [(h.article_id, h.n) for h in newest]
    assert [h.score for h in hits] == pytest.approx([h.score for h in newest], rel=1e-12)
    # with "stadt" the rarest: the newest 50 sentences that hold it, scored on both terms
    hits = catalog.search_terms(["jahr", "stadt"], 10)
    assert {h.article_id for h in hits} <= {f"a{a}" for a in range(15, 30)}
    assert len(hits) == 10
