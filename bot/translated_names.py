"""Names a question in another language writes otherwise than the articles: "Moscow" for "Moskau", "Vienna" for
"Wien". The multilingual embedder puts a name and its translation together, also as single words; the refusal's
`name_missing` signal counts such a name as held, not as the sign of a near miss it is where the article lacks it.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Protocol

import numpy as np

from bot.names import proper_names

# The cosine of two single words' query vectors (multilingual-e5-small) above which they name the same thing. On the
# proper names of the 16 dev articles against the names of the English dev questions, different names came up to
# 0.923 ("Manning", "Manakin"), translations mostly above: "Rom" 0.971, "Spanien" 0.957, "Heinrich" 0.931,
# "Großbritannien" for "England" 0.926; "Moskau" 0.942, "Wien" 0.978, "München" 0.974. Below it stay some a
# reader would hold ("Ägypten" for "Egypt", 0.900, under "Israel", 0.909): a miss there only keeps the old signal.
SAME_NAME_COSINE = 0.925
# Shorter words are the embedder's hubs ("E", "de", "ca" come near every short name); no name worth holding is one.
MIN_NAME_LENGTH = 3
# Articles whose names are kept, and single words whose vectors are kept: a cross-language question's best article
# is tagged and its names embedded once, about a second on a busy machine.
ARTICLES_KEPT = 256
WORDS_KEPT = 8192


class QueryEncoder(Protocol):
    def encode_queries(self, texts: list[str]) -> np.ndarray: ...


class TranslatedNames:
    """Finds which of a question's names an article writes in its own language, by the embedder's cosine between
    the name and each of the article's proper names (its tagger's, `bot.names.proper_names`)."""

    def __init__(self, embedder: QueryEncoder, language: str) -> None:
        self._embedder = embedder
        self._language = language  # the articles'
        self._names: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def found(
        self, names: Iterable[str], article: str, texts: Callable[[], Iterable[str]], nearby: str = ""
    ) -> dict[str, str]:
        """Of `names` (a question's, in another language), those the article `article` (a key that changes with
        its text) writes otherwise, each with the article's word for it; `texts`: the article's texts, read only
        where its names are not kept. The capitalised words of `nearby` (the answer's sentences) count too: the
        tagger takes a name it does not know in running text for a noun or an adjective ("Moskau", "Moskauer")."""
        names = [n for n in dict.fromkeys(names) if len(n) >= MIN_NAME_LENGTH]
        if not names:
            return {}
        own = sorted({*self._article_names(article, texts), *_capitalised(nearby)})
        if not own:
            return {}
        asked, theirs = self._vectors_of(names), self._vectors_of(list(own))
        cosines = asked @ theirs.T
        best = cosines.argmax(axis=1)
        return {name: own[best[i]] for i, name in enumerate(names) if cosines[i, best[i]] >= SAME_NAME_COSINE}

    def _article_names(self, article: str, texts: Callable[[], Iterable[str]]) -> tuple[str, ...]:
        with self._lock:
            if article in self._names:
                self._names.move_to_end(article)
                return self._names[article]
        found: set[str] = set()
        for text in texts():
            found |= proper_names(text, self._language)
        own = tuple(sorted(n for n in found if _worth_holding(n)))
        with self._lock:
            self._names[article] = own
            while len(self._names) > ARTICLES_KEPT:
                self._names.popitem(last=False)
        return own

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
