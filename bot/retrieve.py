"""Hybrid retrieval: dense sentence and passage search in Chroma plus BM25, fused by reciprocal rank.

The result is a ranked list of answer candidates (sentences with their neighbours) and the passages
they come from. One query embedding per question; everything else is search over prepared data.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from bot.lexical import LexicalIndex
from index.catalog import ArticleRecord, SentenceRow
from index.indexer import NewsIndex

log = logging.getLogger(__name__)

RRF_K = 60


@dataclass
class Candidate:
    """One sentence that may answer the question, with every signal that ranked it."""

    row: int
    fused: float = 0.0
    dense: float | None = None
    dense_rank: int | None = None
    lexical_rank: int | None = None
    chunk_score: float | None = None


@dataclass
class Retrieval:
    candidates: list[Candidate]
    timings_ms: dict[str, float] = field(default_factory=dict)


class Snapshot:
    """What the catalog held at one generation: sentences in a flat list, articles, and BM25 over them."""

    def __init__(self, index: NewsIndex) -> None:
        self.generation = index.catalog.generation
        self.articles: dict[str, ArticleRecord] = {a.article_id: a for a in index.catalog.articles()}
        self.sentences: list[SentenceRow] = index.catalog.sentences()
        self.position = {(s.article_id, s.n): i for i, s in enumerate(self.sentences)}
        texts = [f"{self.articles[s.article_id].title} {s.text}" if s.n else s.text for s in self.sentences]
        self.lexical = LexicalIndex(texts, index.settings.language)

    def neighbours(self, row: int) -> tuple[int | None, int | None]:
        """The sentences before and after `row` in the same paragraph, if any."""
        sentence = self.sentences[row]
        before = row - 1 if row > 0 and self._same_paragraph(row - 1, sentence) else None
        after = row + 1 if row + 1 < len(self.sentences) and self._same_paragraph(row + 1, sentence) else None
        return before, after

    def _same_paragraph(self, other: int, sentence: SentenceRow) -> bool:
        o = self.sentences[other]
        return o.article_id == sentence.article_id and o.paragraph == sentence.paragraph


class Retriever:
    """Searches the index; keeps a snapshot of the catalog and refreshes it when the catalog changes."""

    def __init__(self, index: NewsIndex) -> None:
        self.index = index
        self.settings = index.settings
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()

    def snapshot(self) -> Snapshot:
        generation = self.index.catalog.generation
        with self._lock:
            if self._snapshot is None or self._snapshot.generation != generation:
                started = time.perf_counter()
                self._snapshot = Snapshot(self.index)
                log.info("loaded %d sentences (generation %d) in %.0f ms", len(self._snapshot.sentences),
                         generation, (time.perf_counter() - started) * 1000)
            return self._snapshot

    def retrieve(self, question: str, context: str = "") -> tuple[Snapshot, Retrieval]:
        """Rank answer candidates for `question`; `context` (earlier questions) widens the search."""
        snapshot = self.snapshot()
        query = f"{context} {question}".strip() if context else question
        timings: dict[str, float] = {}

        started = time.perf_counter()
        vector = self.index.embedder.encode_query(query)
        timings["embed"] = (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        k = self.settings.candidates
        store = self.index.store
        sentence_hits = store.query(store.sentences, vector, k)
        chunk_hits = store.query(store.chunks, vector, max(10, k // 2))
        lexical_hits = snapshot.lexical.search(query, k)
        timings["search"] = (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        versions = {a: r.version for a, r in snapshot.articles.items()}
        candidates: dict[int, Candidate] = {}

        def candidate(row: int) -> Candidate:
            return candidates.setdefault(row, Candidate(row))

        rank = 0
        for hit in sentence_hits:
            row = snapshot.position.get((hit.article_id, hit.n))
            if row is None or versions.get(hit.article_id) != hit.version:
                continue  # a vector of a version the catalog no longer (or not yet) points at
            rank += 1
            c = candidate(row)
            c.dense, c.dense_rank = hit.score, rank
            c.fused += 1.0 / (RRF_K + rank)
        for rank, (row, _score) in enumerate(lexical_hits, start=1):
            c = candidate(row)
            c.lexical_rank = rank
            c.fused += 1.0 / (RRF_K + rank)
        chunk_rank = {}
        for hit in chunk_hits:
            if versions.get(hit.article_id) == hit.version:
                chunk_rank.setdefault((hit.article_id, hit.n), (len(chunk_rank) + 1, hit.score))
        for row, c in candidates.items():
            sentence = snapshot.sentences[row]
            found = chunk_rank.get((sentence.article_id, sentence.chunk))
            if found:
                c.chunk_score = found[1]
                c.fused += 0.5 / (RRF_K + found[0])
        ranked = sorted(candidates.values(), key=lambda c: self._sort_key(snapshot, c), reverse=True)
        timings["fuse"] = (time.perf_counter() - started) * 1000
        return snapshot, Retrieval(ranked, timings)

    @staticmethod
    def _sort_key(snapshot: Snapshot, c: Candidate) -> tuple[float, str]:
        # On a tie the newer article wins: news that was updated should beat what it replaced.
        article = snapshot.articles[snapshot.sentences[c.row].article_id]
        return (round(c.fused, 6), article.published or article.indexed_at)


