"""Names a question in another language writes otherwise than the articles: "Henry" for "Heinrich", "Vienna" for
"Wien". The multilingual embedder puts a name and its translation together, also as single words; the refusal's
`name_missing` signal counts such a name as held, not as the sign of a near miss it is where the article lacks it.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Protocol

import numpy as np

# The cosine of two single words' query vectors (multilingual-e5-small) above which they name the same thing. On the
# proper names of the 16 dev articles against the names of the English dev questions, different names came up to
# 0.923 ("Manning", "Manakin"), translations mostly above: "Rom" 0.971, "Spanien" 0.957, "Heinrich" 0.931,
# "Großbritannien" for "England" 0.926; "Wien" 0.978, "München" 0.974. Below it stay some a reader would hold
# ("Ägypten" for "Egypt", 0.900, under "Israel", 0.909; "Moskauer" for "Moscow", 0.911): a miss keeps the old signal.
SAME_NAME_COSINE = 0.925
# Shorter words are the embedder's hubs ("E", "de", "ca" come near every short name); no name worth holding is one.
MIN_NAME_LENGTH = 3
# Single words whose vectors are kept: names recur across questions and articles ("Deutschland", "Wien").
WORDS_KEPT = 8192


class QueryEncoder(Protocol):
    def encode_queries(self, texts: list[str]) -> np.ndarray: ...


class TranslatedNames:
    """Finds which of a question's names a text writes in its own language, by the embedder's cosine between the
    name and each of the text's capitalised words.

    The text is the answer's sentences and the headline, not the whole article: embedding an article's thirty
    names took seconds on a busy machine, the few words near the answer a fraction of that, and a name the
    answer's sentences and headline do not name tells little about the answer."""

    def __init__(self, embedder: QueryEncoder) -> None:
        self._embedder = embedder
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def found(self, names: Iterable[str], text: str) -> dict[str, str]:
        """Of `names` (a question's, in another language), those `text` writes otherwise, each with its word."""
        asked = [n for n in dict.fromkeys(names) if _worth_holding(n)]
        words = sorted(_capitalised(text) - set(asked))
        if not asked or not words:
            return {}
        cosines = self._vectors_of(asked) @ self._vectors_of(words).T
        best = cosines.argmax(axis=1)
        return {name: words[best[i]] for i, name in enumerate(asked) if cosines[i, best[i]] >= SAME_NAME_COSINE}

    def _vectors_of(self, words: list[str]) -> np.ndarray:
        """Unit query vectors of single `words` (both sides as queries: so a name and its translation came closer
        than as query and passage, other names no closer)."""
        with self._lock:
            kept = {w: self._vectors[w] for w in words if w in self._vectors}
        new = [w for w in dict.fromkeys(words) if w not in kept]
        if new:
            encoded = self._embedder.encode_queries(new)
            encoded = encoded / np.maximum(np.linalg.norm(encoded, axis=1, keepdims=True), 1e-12)
            kept.update(zip(new, encoded, strict=True))
            with self._lock:
                self._vectors.update(zip(new, encoded, strict=True))
                while len(self._vectors) > WORDS_KEPT:
                    self._vectors.popitem(last=False)
        return np.stack([kept[w] for w in words])


def _worth_holding(word: str) -> bool:
    return len(word) >= MIN_NAME_LENGTH and word[:1].isupper()


def _capitalised(text: str) -> set[str]:
    return {w for w in _WORDS.findall(text) if _worth_holding(w)}


_WORDS = re.compile(r"\w[\w\-]*\w")
