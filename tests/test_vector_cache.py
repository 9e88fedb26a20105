"""The candidates' sentence and passage vectors, fetched from Chroma by id per question: right rows, right
version, and no copy of every vector when the catalog changes."""

from __future__ import annotations

import numpy as np
import pytest

import bot.retrieve
from bot.retrieve import Candidate, Retriever, StoredVectors
from bot.service import NewsService
from index.store import chunk_id, sentence_id
from tests.conftest import counting_chroma_reads


def vectors_in_chroma(service: NewsService) -> np.ndarray:
    """The current snapshot's sentence vectors, fetched straight from Chroma, by row."""
    snapshot = service.retriever.snapshot()
    ids = [sentence_id(s.article_id, snapshot.versions[s.article_id], s.n) for s in snapshot.sentences]
    stored = service.index.store.vectors(service.index.store.sentences, ids)
    return np.stack([stored[i] for i in ids])


def passage_vectors_in_chroma(service: NewsService) -> np.ndarray:
    """The current snapshot's passage vectors, fetched straight from Chroma, in the order of `passage_keys`."""
    snapshot = service.retriever.snapshot()
    ids = [chunk_id(a, snapshot.versions[a], n) for a, n in snapshot.passage_keys]
    stored = service.index.store.vectors(service.index.store.chunks, ids)
    return np.stack([stored[i] for i in ids])


def every_sentence_a_candidate(settings, embedder, articles_dir, question: str):
    """An index of the test articles, the question's vector, and every sentence as a bare candidate,
    as if BM25 alone had found it: no cosine and no passage score yet."""
    service = NewsService.open(settings, embedder)
    service.index_paths([articles_dir])
    snapshot = service.retriever.snapshot()
    candidates = {row: Candidate(row) for row in range(len(snapshot.sentences))}
    return service, snapshot, embedder.encode_query(question), candidates


def test_sentences_only_bm25_found_get_the_cosine_of_their_stored_vector(settings, fake_embedder, articles_dir):
    service, snapshot, query, candidates = every_sentence_a_candidate(
        settings, fake_embedder, articles_dir, "Wann wurde die Bahnstrecke zwischen Graz und Klagenfurt eröffnet?"
    )
    Retriever._fill_missing_dense(snapshot, candidates, query)
    expected = vectors_in_chroma(service) @ query
    assert [c.dense for c in candidates.values()] == pytest.approx(list(expected), abs=1e-5)
    assert len(set(np.round(expected, 4))) > 3  # the rows differ, so a shifted row would show


def every_row(snapshot) -> list[int]:
    return [row for row, _ in snapshot.sentences.items()]


def test_the_vectors_follow_an_update_to_the_new_version(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    first = service.retriever.snapshot()
    before = first.sentence_vectors(every_row(first))  # the old version's vectors, now in the cache

    (articles_dir / "gipfel.txt").write_text(
        "Gipfeltreffen in Wien geplant\n\nDer Gipfel der beiden Präsidenten soll in Wien stattfinden. "
        "Die Hitze in Wien ist groß.",
        encoding="utf-8",
    )
    service.index_paths([articles_dir])
    second = service.retriever.snapshot()
    vectors = second.sentence_vectors(every_row(second))
    assert second.generation != first.generation
    changed = [a for a in second.versions if second.versions[a] != first.versions[a]]
    assert len(changed) == 1
    assert not np.isnan(vectors).any()
    assert np.allclose(vectors, vectors_in_chroma(service))  # the new version's vectors, row by row
    rows = [i for i, s in enumerate(second.sentences) if s.article_id == changed[0]]  # positions in every_row
    old_rows = [i for i, s in enumerate(first.sentences) if s.article_id == changed[0]]
    assert not np.allclose(vectors[rows[:1]], before[old_rows[:1]])  # not the old version's, from the cache


def test_a_catalog_change_fetches_only_the_candidates_vectors(settings, fake_embedder, articles_dir, monkeypatch):
    """One new article costs no copy of the archive's vectors: the next question fetches its candidates'
    sentence vectors and their passages' from Chroma, nothing more (without the catalog's copy of every vector,
    tests/test_catalog_vectors.py; the index run reads back only its new article's)."""
    settings.candidates = 2
    settings.vectors_in_catalog = False
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    service.ask("Wo soll der Gipfel stattfinden?")
    fetched = counting_chroma_reads(service, monkeypatch)
    (articles_dir / "wetter.md").write_text(
        "# Hitzewelle in Wien\n\nIn Wien wurden am Montag 41 Grad gemessen. Der Hitzerekord fiel.", encoding="utf-8"
    )
    service.index_paths([articles_dir])
    assert set(fetched) <= {i for i in fetched if "wetter.md@" in i}  # the index run read back its article's only
    fetched.clear()
    service.retriever.warm_up()
    assert fetched == []  # the new snapshot copies nothing
    answer = service.ask("Wie heiß wurde es am Montag in Wien?")
    assert "41 Grad" in answer.text
    snapshot = service.retriever.snapshot()
    assert 0 < len(fetched) <= 2 * 2 * settings.candidates < len(snapshot.sentences) + len(snapshot.passage_keys)


def test_vector_copies_of_an_older_newsbot_are_removed(settings, fake_embedder, articles_dir):
    """Older versions copied every vector into data_dir/vectors once per generation: gigabytes on a large
    index, of no use now."""
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    vectors = settings.data_dir / "vectors"
    vectors.mkdir()
    (vectors / f"sentences-generation-{service.index.catalog.generation}.npy").write_bytes(b"an old copy")
    NewsService.open(settings, fake_embedder).ask("Wo soll der Gipfel stattfinden?")
    assert not vectors.exists()


def test_a_vector_missing_in_chroma_scores_nothing(settings, fake_embedder, articles_dir):
    settings.vectors_in_catalog = False  # else the catalog's copy gives it (tests/test_catalog_vectors.py)
    service, snapshot, query, candidates = every_sentence_a_candidate(
        settings, fake_embedder, articles_dir, "Wo soll der Gipfel stattfinden?"
    )
    sentence = snapshot.sentences[0]
    store = service.index.store
    store.delete(store.sentences, [sentence_id(sentence.article_id, snapshot.versions[sentence.article_id], 0)])
    Retriever._fill_missing_dense(snapshot, candidates, query)
    assert candidates[0].dense == 0.0
    assert all(c.dense != 0.0 for row, c in candidates.items() if row)


def test_each_candidate_gets_the_cosine_of_its_stored_passage(settings, fake_embedder, articles_dir):
    service, snapshot, query, candidates = every_sentence_a_candidate(
        settings, fake_embedder, articles_dir, "Wo soll der Gipfel stattfinden?"
    )
    floor = Retriever._score_passages(snapshot, candidates, query)

    expected = passage_vectors_in_chroma(service) @ query
    assert len(expected) < bot.retrieve.PASSAGE_FLOOR_RANK  # so no passage is raised to the floor
    assert floor == pytest.approx(expected.min(), abs=1e-5)
    position = {key: i for i, key in enumerate(snapshot.passage_keys)}
    for row, candidate in candidates.items():
        assert candidate.passage == pytest.approx(expected[position[snapshot.passage_of(row)]], abs=1e-5)
    assert len(set(np.round(expected, 4))) == len(expected) >= 3  # all differ, so a shifted row would show


def test_passages_below_the_floor_rank_count_as_the_floor(settings, fake_embedder, articles_dir, monkeypatch):
    service, snapshot, query, candidates = every_sentence_a_candidate(
        settings, fake_embedder, articles_dir, "Wo soll der Gipfel stattfinden?"
    )
    monkeypatch.setattr(bot.retrieve, "PASSAGE_FLOOR_RANK", 2)
    floor = Retriever._score_passages(snapshot, candidates, query)

    expected = passage_vectors_in_chroma(service) @ query
    assert floor == pytest.approx(sorted(expected)[-2], abs=1e-5)
    position = {key: i for i, key in enumerate(snapshot.passage_keys)}
    for row, candidate in candidates.items():
        assert candidate.passage == pytest.approx(max(expected[position[snapshot.passage_of(row)]], floor), abs=1e-5)
    assert sum(c.passage > floor + 1e-6 for c in candidates.values()) > 0  # the best passage stays above


def test_a_sentence_of_an_article_the_rescoring_read_is_not_read_again(settings, fake_embedder, articles_dir):
    """BM25's hits name their articles, whose vectors the exact rescoring reads whole and keeps: the cosine of a
    candidate only BM25 found comes from there, the same bytes as a read by id."""
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    record = next(r for r in service.index.catalog.articles() if r.sentence_count > 1)
    vectors = StoredVectors(service.index.store, service.index.catalog)
    dim = fake_embedder.dim
    ids = [sentence_id(record.article_id, record.version, n) for n in range(record.sentence_count)]
    by_id = vectors.fetch(service.index.store.sentences, ids, kind="s")
    vectors = StoredVectors(service.index.store, service.index.catalog)
    vectors.fetch_articles(
        service.index.store.sentences, [(record.article_id, record.version, record.sentence_count)], dim, None, True
    )
    read: list[object] = []
    catalog_read = service.index.catalog.stored_vectors
    service.index.catalog.stored_vectors = lambda *args: read.append(args) or catalog_read(*args)  # type: ignore[method-assign]
    kept = vectors.fetch(service.index.store.sentences, list(reversed(ids)), kind="s")
    assert read == []
    assert np.array_equal(kept[::-1], by_id)
