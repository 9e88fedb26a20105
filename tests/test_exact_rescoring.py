"""Chroma's HNSW search is approximate: it can miss a question's best sentence, and its graph differs from process
to process. The retriever scores every sentence of the articles that Chroma's and BM25's hits name exactly, from
the catalog's stored vectors, so a sentence the graph search does not return is still found where its article was
named. Here the graph "misses" deterministically: the sentence's vector is deleted from Chroma (a real index) and
stays in the catalog, which is what a question's scoring reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.retrieve import Retriever, row_norms
from bot.service import NewsService
from index.store import sentence_id

# Row 2 is the best sentence by the hashed bag of words for QUESTION ("wer", "das", "ist"), whose words BM25 leaves
# out as stop words: only the vector search can find it. BM25_QUESTION adds "Anbau", which names the article by
# row 1 only.
MESSE = (
    "Ausbau der Messe in Graz\n\nDie Messehalle in Graz bekommt einen Anbau. "
    "Wer das bezahlt, ist noch nicht klar. Die Stadt verhandelt mit dem Land."
)
WETTER = "Hitzewelle in Wien\n\nIn Wien wurden am Sonntag 38 Grad gemessen. Die Stadt öffnet zusätzliche Trinkbrunnen."
QUESTION = "Wer ist das, und ist es so?"
BM25_QUESTION = "Wer ist das mit dem Anbau?"
BEST_N = 2


@pytest.fixture
def service(settings, fake_embedder, tmp_path: Path) -> NewsService:
    return indexed(settings, fake_embedder, tmp_path)


def indexed(settings, fake_embedder, tmp_path: Path) -> NewsService:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "messe.txt").write_text(MESSE, encoding="utf-8")
    (folder / "wetter.txt").write_text(WETTER, encoding="utf-8")
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([folder])
    return service


def messe_id(service: NewsService) -> str:
    snapshot = service.retriever.snapshot()
    return next(a for a in snapshot.articles if a.endswith("messe.txt"))


def exact_cosines(service: NewsService, question: str) -> dict[tuple[str, int], float]:
    """Every sentence's cosine to `question`, from the catalog's stored vectors."""
    snapshot = service.retriever.snapshot()
    rows = list(range(len(snapshot.sentences)))
    scores = snapshot.sentence_vectors(rows) @ service.index.embedder.encode_query(question)
    return {(snapshot.article_of(r), snapshot.sentences[r].n): float(s) for r, s in zip(rows, scores, strict=True)}


def drop_from_chroma(service: NewsService, article_id: str, ns: list[int]) -> None:
    """Take sentences out of Chroma's graph only, as if its search missed them; the catalog keeps their vectors."""
    store, version = service.index.store, service.retriever.snapshot().versions[article_id]
    store.delete(store.sentences, [sentence_id(article_id, version, n) for n in ns])


def chroma_keys(service: NewsService, question: str) -> set[tuple[str, int]]:
    store = service.index.store
    return {(h.article_id, h.n) for h in store.query(store.sentences, service.index.embedder.encode_query(question), 7)}


def ranked_keys(service: NewsService, question: str) -> list[tuple[str, int]]:
    snapshot, retrieval = service.retriever.retrieve(question)
    return [(snapshot.article_of(c.row), snapshot.sentences[c.row].n) for c in retrieval.candidates]


def test_the_best_sentence_the_graph_search_misses_is_found_through_its_articles_other_hits(service):
    messe = messe_id(service)
    exact = exact_cosines(service, QUESTION)
    assert max(exact, key=exact.get) == (messe, BEST_N)
    snapshot = service.retriever.snapshot()
    assert not snapshot.lexical.search(snapshot.lexical.query_terms(QUESTION, "de"), 40)  # BM25 cannot find it

    drop_from_chroma(service, messe, [BEST_N])
    assert (messe, BEST_N) not in chroma_keys(service, QUESTION)  # the graph search does not return it
    assert chroma_keys(service, QUESTION) & {(messe, n) for n in range(4)}  # but other sentences of its article

    snapshot, retrieval = service.retriever.retrieve(QUESTION)
    best = retrieval.candidates[0]
    assert (snapshot.article_of(best.row), snapshot.sentences[best.row].n) == (messe, BEST_N)
    assert best.dense == pytest.approx(exact[(messe, BEST_N)], abs=1e-5)


def test_an_article_only_bm25_names_has_its_sentences_scored_exactly(service):
    messe = messe_id(service)
    exact = exact_cosines(service, BM25_QUESTION)
    assert max(exact, key=exact.get) == (messe, BEST_N)
    snapshot = service.retriever.snapshot()
    lexical = snapshot.lexical.search(snapshot.lexical.query_terms(BM25_QUESTION, "de"), 40)
    assert [(snapshot.article_of(r), snapshot.sentences[r].n) for r, _ in lexical] == [(messe, 1)]  # "Anbau"

    drop_from_chroma(service, messe, [0, 1, 2, 3])  # the graph search finds nothing of the article
    assert not {key for key in chroma_keys(service, BM25_QUESTION) if key[0] == messe}

    keys = ranked_keys(service, BM25_QUESTION)
    assert (messe, BEST_N) in keys  # neither search returned it: the article's exact scoring did
    assert keys[0] == (messe, BEST_N)


@pytest.mark.parametrize("in_catalog", [True, False])
def test_where_chroma_is_exact_the_rescoring_keeps_its_hits(settings, fake_embedder, tmp_path, in_catalog):
    """On an index this small HNSW is exact: the named articles' sentences add nothing above Chroma's `k` best,
    and the scores are Chroma's cosines; with the vectors read from the catalog (whole articles) or, where the
    catalog does not keep them, from Chroma by id. Asked twice: the second time from the kept articles."""
    settings.vectors_in_catalog = in_catalog
    service = indexed(settings, fake_embedder, tmp_path)
    snapshot = service.retriever.snapshot()
    vector = service.index.embedder.encode_query(BM25_QUESTION)
    store = service.index.store
    for k in (1, 3, 7, 7):
        hits = store.query(store.sentences, vector, k)
        named = [snapshot.position[(h.article_id, h.n)] for h in hits] + [0, 4]
        rescored = Retriever._rescored_articles(snapshot, vector, hits, named, k)
        assert [(h.article_id, h.n) for h in rescored] == [(h.article_id, h.n) for h in hits]
        assert [h.score for h in rescored] == pytest.approx([h.score for h in hits], abs=1e-5)


def test_row_norms_are_numpys_norms_to_the_bit():
    """The rescoring keeps each article's row norms with its vectors; they must be the norms of the whole matrix."""
    rng = np.random.default_rng(3)
    matrix = rng.standard_normal((257, 384)).astype(np.float32)
    matrix[5] = np.nan  # a vector missing
    matrix[7] = 0.0
    whole = np.linalg.norm(matrix, axis=1)
    by_article = np.concatenate([row_norms(matrix[start : start + 25]) for start in range(0, len(matrix), 25)])
    assert by_article.dtype == whole.dtype
    assert np.array_equal(by_article, whole, equal_nan=True)
