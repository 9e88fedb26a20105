"""BM25 over a snapshot's rows in memory (`SnapshotLexicalIndex` over `TermPostings`) finds what FTS5 in the
catalog finds (`Catalog.search_terms`): the same sentences in the same order with the same scores, also after
changes appended segments, small segments were merged and the rows were compacted."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import bot.lexical as lexical_module
import index.catalog as catalog_module
from bot.retrieve import Snapshot
from bot.saved_postings import SavedPostings, load_postings, save_postings
from bot.service import NewsService
from index.articles import read_article_file
from tests.conftest import shared_data

QUESTIONS = [
    "Wo soll der Gipfel der Präsidenten stattfinden?",
    "Wie viel kostet das neue Stadion?",
    "Was sagte die Regierung im Jahr 2019?",
    "Wer gewann das Spiel am Wochenende?",
    "Welche Firma baut die Fabrik in Deutschland?",
    "Wie hoch ist die Inflation in Europa?",
    "Jahr Prozent sagte",  # common terms only
    "Zwettlbach Hallenbad",  # none of its terms in the index
]


def news_folder(tmp_path: Path, first: int, count: int) -> Path:
    folder = tmp_path / f"news-{first}"
    folder.mkdir()
    for path in sorted((shared_data() / "news_de" / "articles").glob("*.txt"))[first : first + count]:
        shutil.copy(path, folder / path.name)
    return folder


def hits(snapshot: Snapshot, found: list[tuple[int, float]]) -> list[tuple[str, int, float]]:
    return [(snapshot.sentences[row].article_id, snapshot.sentences[row].n, score) for row, score in found]


def assert_searches_as_fts5(service: NewsService, snapshot: Snapshot, k: int = 12) -> None:
    catalog = service.index.catalog
    for question in QUESTIONS:
        terms = snapshot.lexical.query_terms(question)
        expected = [(h.article_id, h.n, h.score) for h in catalog.search_terms(terms, k) if h.score > 0]
        found = hits(snapshot, snapshot.lexical.search(terms, k))
        assert [(a, n) for a, n, _ in found] == [(a, n) for a, n, _ in expected], question
        assert [s for *_, s in found] == pytest.approx([s for *_, s in expected], rel=1e-12), question
        assert snapshot.lexical.counts(terms) == {t: catalog.term_counts(terms).get(t, 0) for t in terms}
        if expected:
            article_id = expected[0][0]
            assert snapshot.lexical.article_scores(terms, article_id) == pytest.approx(
                catalog.article_term_scores(terms, article_id), rel=1e-12
            )


@pytest.fixture
def news_service(settings, fake_embedder, tmp_path) -> NewsService:
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([news_folder(tmp_path, 0, 40)])
    return service


@pytest.mark.parametrize("bound", [None, 40, 3])
def test_the_snapshots_bm25_ranks_as_fts5_does(news_service, monkeypatch, bound):
    """Within the bound (FTS5 ranks every sentence), and bounded: the rarest terms' sentences ranked, the best
    rescored on every term, or when even the rarest term is common, only its newest sentences."""
    if bound is not None:
        for module in (catalog_module, lexical_module):
            monkeypatch.setattr(module, "RANKED_POSTINGS", bound)
            monkeypatch.setattr(module, "RESCORED", 5)
    assert_searches_as_fts5(news_service, Snapshot(news_service.index))


def test_after_changes_the_snapshots_bm25_is_still_fts5s(news_service, tmp_path, monkeypatch):
    """Each change appends a segment of the new rows and marks the old ones dead; small segments are merged
    (here after two) and the rows compacted (here at once), and the searches stay FTS5's."""
    monkeypatch.setattr(lexical_module, "SMALL_SEGMENTS", 2)
    for module in (catalog_module, lexical_module):
        monkeypatch.setattr(module, "RANKED_POSTINGS", 40)
        monkeypatch.setattr(module, "RESCORED", 5)
    first = news_service.retriever.snapshot()
    more = news_folder(tmp_path, 40, 6)
    for path in sorted(more.glob("*.txt")):  # one article a change: one segment each
        news_service.index.add_articles([read_article_file(path)])
        snapshot = news_service.retriever.snapshot()
        assert_searches_as_fts5(news_service, snapshot)
    assert len(snapshot.lexical._segments) <= 1 + 3  # the full read's, and the small ones merged
    assert snapshot._arena is first._arena
    changed = next(iter(sorted(snapshot.articles)))
    news_service.remove(changed)
    assert_searches_as_fts5(news_service, news_service.retriever.snapshot())

    monkeypatch.setattr("bot.retrieve.ARENA_SLACK", 0.0)
    monkeypatch.setattr("bot.retrieve.ARENA_SLACK_ROWS", 0)
    news_service.remove(sorted(snapshot.articles)[1])
    compacted = news_service.retriever.snapshot()
    assert compacted._arena is not first._arena
    assert_searches_as_fts5(news_service, compacted)
    full = Snapshot(news_service.index)
    for question in QUESTIONS:
        terms = full.lexical.query_terms(question)
        assert hits(compacted, compacted.lexical.search(terms, 12)) == hits(full, full.lexical.search(terms, 12))
    # an older snapshot still searches its own rows: those of the articles it holds, as a full read of it found
    found = first.lexical.search(first.lexical.query_terms(QUESTIONS[2]), 12)
    assert found
    assert all(first.versions.get(first.sentences[row].article_id) for row, _ in found)


def test_only_the_segments_with_dead_rows_are_masked(news_service, tmp_path, monkeypatch):
    """A snapshot reads the postings of a segment without dead rows as they are, and masks the others: after a
    removal, the searches, counts and story scores equal FTS5's and a full read's (whose segments are all live)."""
    for module in (catalog_module, lexical_module):
        monkeypatch.setattr(module, "RANKED_POSTINGS", 40)
        monkeypatch.setattr(module, "RESCORED", 5)
    first = news_service.retriever.snapshot()
    for path in sorted(news_folder(tmp_path, 40, 3).glob("*.txt")):  # one article a change: one segment each
        news_service.index.add_articles([read_article_file(path)])
        grown = news_service.retriever.snapshot()
    assert len(grown.lexical._segments) == 4
    assert all(grown.lexical._whole)
    news_service.remove(sorted(first.articles)[5])  # its rows are in the first segment
    removed = news_service.retriever.snapshot()
    assert removed._arena is first._arena
    assert removed.lexical._whole == [False, True, True, True]
    assert_searches_as_fts5(news_service, removed)
    full = Snapshot(news_service.index)
    for question in QUESTIONS:
        terms = full.lexical.query_terms(question)
        assert hits(removed, removed.lexical.search(terms, 12)) == hits(full, full.lexical.search(terms, 12))
        assert removed.lexical.counts(terms) == full.lexical.counts(terms)


def test_a_term_counted_past_one_byte_keeps_its_count(tmp_path):
    """Postings hold their counts in one byte where all of a segment's fit (`narrow_counts`: a sentence is cut at
    100 words, so nearly always); a row that holds a term 300 times keeps two bytes and its true count, also
    through the saved file. The counts that fit read the same from either."""
    builder = lexical_module.PostingsBuilder(lexical_module.Vocabulary())
    builder([" ".join(["tor"] * 300 + ["stadion"]), "tor stadion stadion"], [1, 2])
    postings = lexical_module.TermPostings(builder._vocabulary)
    postings.append(0, builder)
    path = tmp_path / "postings.npz"
    save_postings(path, SavedPostings("c", 1, "de", postings, {"a": (0, 2)}, {"a": "v"}))
    loaded = load_postings(path)
    assert loaded is not None
    for segments in (postings.segments, loaded.postings.segments):
        assert [s.tfs.dtype for s in segments] == [np.dtype(np.uint16)]
        assert segments[0].postings(postings.vocabulary["tor"])[1].tolist() == [300, 1]
        assert segments[0].postings(postings.vocabulary["stadion"])[1].tolist() == [1, 2]


def test_counts_that_fit_one_byte_take_one():
    def segment(counts: list[int]) -> lexical_module.PostingSegment:
        return lexical_module.PostingSegment.of(
            np.array([0, 0, 1]), np.array([0, 1, 0]), np.array(counts, dtype=np.uint16), 2
        )

    small, large = segment([1, 255, 3]), segment([1, 256, 3])
    assert small.tfs.dtype == np.uint8
    assert small.tfs.tolist() == [1, 255, 3]
    assert large.tfs.dtype == np.uint16
    assert large.tfs.tolist() == [1, 256, 3]


def expected_postings(batches: list[list[str]], first_row: int) -> dict[str, list[tuple[int, int]]]:
    """Each term's (row, occurrences) from the rows' space-joined terms, counted one by one."""
    found: dict[str, list[tuple[int, int]]] = {}
    rows = [terms for batch in batches for terms in batch]
    for row, terms in enumerate(rows, start=first_row):
        for term, count in sorted(Counter(terms.split()).items()):
            found.setdefault(term, []).append((row, count))
    return found


def test_postings_built_in_segments_are_each_terms_rows_and_counts(monkeypatch):
    """The builder sorts each segment in place as one key per posting (`PostingsBuilder._flush`) and hands its
    segments over renumbered from the first row they are appended at: every term's rows and counts are those
    counted one by one, across segments, batches that end mid-segment or cross a segment's end, and an empty row."""
    monkeypatch.setattr(lexical_module, "SEGMENT_ROWS", 4)
    batches = [
        ["tor stadion tor", "stadion", "", "gipfel tor gipfel gipfel"],
        ["tor", "präsident gipfel", "stadion stadion stadion stadion"],
        ["zwettlbach", "tor tor tor tor tor tor tor tor tor tor"],
    ]
    builder = lexical_module.PostingsBuilder(lexical_module.Vocabulary())
    postings = lexical_module.TermPostings(builder._vocabulary)
    postings.lengths.extend(np.zeros(7, dtype=np.int32))  # rows of an earlier change
    postings.rowids.extend(np.arange(7, dtype=np.int64))
    for number, batch in enumerate(batches):
        builder(batch, list(range(100 + 10 * number, 100 + 10 * number + len(batch))))
    postings.append(7, builder)
    assert builder.segments == []  # handed over, not kept twice
    assert builder.lengths == []
    # a segment ends at SEGMENT_ROWS rows exactly, within a batch too; each holds its rows in two bytes from its first
    assert [s.rows for s in postings.segments] == [4, 4, 1]
    assert [s.base for s in postings.segments] == [7, 11, 15]
    assert all(s.docs.dtype == np.uint16 for s in postings.segments)
    found = {}
    for term, term_id in postings.vocabulary.items():
        parts = [s.postings(term_id) for s in postings.segments]
        found[term] = [
            (row, count)
            for docs, tfs in filter(None, parts)
            for row, count in zip(docs.tolist(), tfs.tolist(), strict=True)
        ]
    assert found == expected_postings(batches, 7)
    assert postings.lengths.data[7:16].tolist() == [3, 1, 0, 4, 1, 2, 4, 1, 10]
