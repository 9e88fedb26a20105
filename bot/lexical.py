"""BM25 over answer sentences (bm25s with the Snowball German stemmer and German stop words).

It finds names, numbers and rare words that a dense vector blurs. It is derived from the catalog and
rebuilt whenever the catalog's generation changes, so it follows every add, update and removal.
"""

from __future__ import annotations

from functools import cache

import bm25s
import numpy as np

# Single characters count: "3" or "5G" must stay searchable.
TOKEN_PATTERN = r"(?u)\b\w+\b"


@cache
def _stemmer(language: str):  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer({"de": "german", "en": "english"}[language])


class LexicalIndex:
    """A BM25 index over a fixed list of texts; `search` returns (position, score) pairs."""

    def __init__(self, texts: list[str], language: str = "de") -> None:
        self._language = language
        self._size = len(texts)
        self._bm25 = bm25s.BM25()
        if texts:
            self._bm25.index(self._tokenize(texts), show_progress=False)

    def _tokenize(self, texts: list[str]) -> list[list[str]]:
        return bm25s.tokenize(
            texts, token_pattern=TOKEN_PATTERN, stopwords=self._language, stemmer=_stemmer(self._language),
            return_ids=False, show_progress=False,
        )

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        if self._size == 0:
            return []
        tokens = self._tokenize([query])
        if not tokens[0]:
            return []
        ids, scores = self._bm25.retrieve(tokens, k=min(k, self._size), show_progress=False, n_threads=1)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if s > 0]

    def score_all(self, query: str) -> np.ndarray:
        tokens = self._tokenize([query])
        if self._size == 0 or not tokens[0]:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens[0]), dtype=np.float32)
