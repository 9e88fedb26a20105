"""The sentence and passage vectors copied out of Chroma per catalog generation: right rows, right version,
self-healing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import bot.retrieve
from bot.retrieve import Candidate, Retriever
from bot.service import NewsService
from index.store import chunk_id, sentence_id


def vectors_in_chroma(service: NewsService) -> np.ndarray:
    """The current snapshot's sentence vectors, fetched straight from Chroma, by row."""
    snapshot = service.retriever.snapshot()
    ids = [sentence_id(s.article_id, snapshot.versions[s.article_id], s.n) for s in snapshot.sentences]
    stored = service.index.store.vectors(service.index.store.sentences, ids)
    return np.stack([stored[i] for i in ids])


def passage_vectors_in_chroma(service: NewsService) -> np.ndarray:
    """The current snapshot's passage vectors, fetched straight from Chroma, by passage row."""
    snapshot = service.retriever.snapshot()
    ids = [chunk_id(a, snapshot.versions[a], n) for a, n in snapshot.passage_row]
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


def test_the_cache_follows_an_update_and_drops_the_old_generation(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    first = service.retriever.snapshot()
    first.sentence_vectors()
    copies = settings.data_dir / "vectors"
    assert [p.name for p in copies.iterdir()] == [f"sentences-generation-{first.generation}.npy"]

    (articles_dir / "wetter.md").write_text(
        "# Hitzewelle in Wien\n\nIn Wien wurden am Montag 41 Grad gemessen. Der Hitzerekord fiel.", encoding="utf-8"
    )
    service.index_paths([articles_dir])
    second = service.retriever.snapshot()
    vectors = second.sentence_vectors()
    assert second.generation != first.generation
    assert [p.name for p in copies.iterdir()] == [f"sentences-generation-{second.generation}.npy"]
    changed = [a for a in second.versions if second.versions[a] != first.versions[a]]
    assert len(changed) == 1
    assert np.allclose(vectors, vectors_in_chroma(service))  # the new version's vectors, row by row


def test_an_unreadable_cache_is_rebuilt(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    good = np.array(service.retriever.snapshot().sentence_vectors())
    cache: Path = next((settings.data_dir / "vectors").iterdir())
    cache.write_bytes(b"not a numpy file")

    reopened = NewsService.open(settings, fake_embedder)
    assert np.allclose(reopened.retriever.snapshot().sentence_vectors(), good)
    assert np.allclose(np.load(cache), good)  # and written back whole


def test_warm_up_copies_the_vectors_before_the_first_question(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    assert not (settings.data_dir / "vectors").exists()
    service.retriever.warm_up()
    generation = service.index.catalog.generation
    assert {p.name for p in (settings.data_dir / "vectors").iterdir()} == {
        f"sentences-generation-{generation}.npy",
        f"passages-generation-{generation}.npy",
    }


def test_a_sentence_copy_named_the_old_way_is_removed(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    vectors = settings.data_dir / "vectors"
    vectors.mkdir()
    (vectors / f"generation-{service.index.catalog.generation}.npy").write_bytes(b"a copy from an older newsbot")
    service.retriever.warm_up()
    assert not any(p.name.startswith("generation-") for p in vectors.iterdir())


def test_each_candidate_gets_the_cosine_of_its_stored_passage(settings, fake_embedder, articles_dir):
    service, snapshot, query, candidates = every_sentence_a_candidate(
        settings, fake_embedder, articles_dir, "Wo soll der Gipfel stattfinden?"
    )
    floor = Retriever._score_passages(snapshot, candidates, query)

    expected = passage_vectors_in_chroma(service) @ query
    assert len(expected) < bot.retrieve.PASSAGE_FLOOR_RANK  # so no passage is raised to the floor
    assert floor == pytest.approx(expected.min(), abs=1e-5)
    for row, candidate in candidates.items():
        assert candidate.passage == pytest.approx(expected[snapshot.passage_of(row)], abs=1e-5)
    assert len(set(np.round(expected, 4))) == len(expected) >= 3  # all differ, so a shifted row would show


def test_passages_below_the_floor_rank_count_as_the_floor(settings, fake_embedder, articles_dir, monkeypatch):
    service, snapshot, query, candidates = every_sentence_a_candidate(
        settings, fake_embedder, articles_dir, "Wo soll der Gipfel stattfinden?"
    )
    monkeypatch.setattr(bot.retrieve, "PASSAGE_FLOOR_RANK", 2)
    floor = Retriever._score_passages(snapshot, candidates, query)

    expected = passage_vectors_in_chroma(service) @ query
    assert floor == pytest.approx(sorted(expected)[-2], abs=1e-5)
    for row, candidate in candidates.items():
        assert candidate.passage == pytest.approx(max(expected[snapshot.passage_of(row)], floor), abs=1e-5)
    assert sum(c.passage > floor + 1e-6 for c in candidates.values()) > 0  # the best passage stays above
