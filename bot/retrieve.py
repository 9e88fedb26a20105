"""Hybrid retrieval: dense sentence search in Chroma plus BM25, combined per sentence.

Candidates come from two searches (dense sentences in Chroma, BM25 over sentences); each candidate is
then scored on all signals at once: its own cosine similarity, its BM25 score relative to the best one,
the similarity of the passage around it, and whether it holds the kind of answer the question asks
for (a number for "Wie viele?", a date for "Wann?"). One query embedding per question; everything else
is search over data prepared at indexing time, and dot products with the candidates' vectors fetched from Chroma.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial
from itertools import pairwise, repeat
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz.distance import OSA

from bot.answer_kind import AMOUNT, PRICE, TIME, WEIGHED, asked_kind, asked_value, kind_missing, shows_value
from bot.answerability import Signals
from bot.language import LANGUAGE_SHARE, written_in
from bot.lexical import (
    QUESTION_WORD,
    WORDS,
    LexicalIndex,
    PostingsBuilder,
    SnapshotLexicalIndex,
    TermPostings,
    Vocabulary,
    holds,
    hyphen_parts,
    joined_terms,
    needles,
    terms_of,
)
from bot.names import counted_thing, folded, named_only_inside_other_names, proper_names, tagged_names
from bot.saved_postings import FORMAT as SAVED_FORMAT
from bot.saved_postings import SavedPostings, load_postings, postings_path, save_postings
from bot.translated_names import TranslatedNames
from index.catalog import ArticleRecord, Catalog, CatalogChanges, SentencePlaces, SentenceRow
from index.indexer import NewsIndex, OutsideVectors, index_runs, run_of
from index.store import Hit, VectorStore, chunk_id, parse_id, sentence_id

log = logging.getLogger(__name__)

# Weights of the signals, tuned on the dev questions (xquad_de_dev in a news_de haystack); cosine
# similarity is the base, the others shift it by at most these amounts.
LEXICAL_WEIGHT = 0.04
PASSAGE_WEIGHT = 0.1
PASSAGE_FLOOR_RANK = 20
ANSWER_TYPE_WEIGHT = 0.06

_NUMBER_QUESTION = re.compile(
    r"\b(wie\s?viele?|wie\s+(hoch|lang|lange|alt|groß|gross|weit|schwer|teuer|oft|breit|tief)|um\s+wie\s?viel"
    r"|wieviel|welche[ms]?\s+(jahr|jahrhundert|alter|anzahl|prozentsatz|betrag)"
    # the articles' German answers a question in English asks for: "How many?", "How old?"
    r"|how\s+(many|much|long|old|high|large|big|far|often|tall)|what\s+(percentage|number|amount))\b",
    re.IGNORECASE,
)
_DATE_QUESTION = re.compile(
    r"\b(wann|seit\s+wann|bis\s+wann|in\s+welchem\s+jahr|an\s+welchem\s+tag|when|(in|of)\s+what\s+year|on\s+what\s+day)\b",
    re.IGNORECASE,
)
_PLACE_QUESTION = re.compile(
    r"\b(wo|wohin|woher|in\s+welche[mrn]?\s+(stadt|land|ort|staat|region|gebäude|hauptstadt)"
    r"|where|in\s+(which|what)\s+(city|country|town|state|region|building))\b",
    re.IGNORECASE,
)
# "in Budapest", "im Weißen Haus", "bei Wien"; not "am Donnerstag" nor "aus Washington" (a source, not a place)
_PLACE = re.compile(r"\b(in|im|bei|nach)\s+(der\s+|dem\s+|den\s+)?[A-ZÄÖÜ]\w+")
# Not "ein", "eine": mostly the article, so nearly every sentence held "a number" and a "Wie viele …?" question
# preferred any sentence, and its near misses were never short of one (`type_missing`).
_NUMBER = re.compile(
    r"\d|\b(eins|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|(drei|vier|fünf|sech|sieb|acht|neun)zehn"
    r"|zwanzig|dreißig|(vier|fünf|sech|sieb|acht|neun)zig|hundert"
    r"|tausend|million(en)?|milliarde(n)?|dutzend|hälfte|doppelt)\b",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"\d|\b(januar|februar|märz|april|mai|juni|juli|august|september|oktober|november|dezember|montag|dienstag"
    r"|mittwoch|donnerstag|freitag|samstag|sonntag|jahrhundert|gestern|heute|morgen|woche[n]?|monat(e|en)?"
    r"|jahr(e|en)?|früher|später|bald)\b",
    re.IGNORECASE,
)


def expected_answer_pattern(question: str, earlier: str = "") -> re.Pattern[str] | None:
    """What an answer to `question` must contain, where the question word tells: a number, a date, a place.

    A follow-up without a question word of its own ("Und Ford?" after "Wann schließt Toyota?") asks what
    the `earlier` question asked, so it expects the same kind of answer.
    """
    if _NUMBER_QUESTION.search(question):
        return _NUMBER
    if _DATE_QUESTION.search(question):
        return _DATE
    if _PLACE_QUESTION.search(question):
        return _PLACE
    if earlier and not QUESTION_WORD.search(question):  # a fragment of the earlier question
        return expected_answer_pattern(earlier)
    return None


@dataclass
class Candidate:
    """One sentence that may answer the question, with every signal that ranked it."""

    row: int
    dense: float | None = None
    lexical: float = 0.0
    passage: float | None = None
    answer_type: bool = False
    topic: float = 0.0  # share of the question's weighted terms its article holds (weigh_topic_and_recency)
    age_days: float = 0.0  # how much older its article is than the newest on the question's topic
    fused: float = 0.0
    story: bool = False  # of the story the question means (current_story): ranked before all others


# `answer_span`'s results by (best row, limit, sentences given), with the snapshot, scores and weights they were for
SpansKept = dict[
    tuple[int, int, frozenset[tuple[str, int]]],
    tuple["Snapshot", dict[int, float], dict[str, float], tuple[str, str]],
]


@dataclass
class Retrieval:
    candidates: list[Candidate]
    timings_ms: dict[str, float] = field(default_factory=dict)
    signals: Signals | None = None  # of the best candidate, for the refusal decision
    weights: dict[str, float] = field(default_factory=dict)  # the question's terms, by rarity (term_weights)
    # the share of `weights` each article holds, computed once a question: sources read it too (sources_for)
    coverage: ArticleCoverage | None = None
    # answers already taken from these candidates (`answer_span`'s `kept`): the asked value's check and the service
    # show the same stretch, and a stretch is words scanned a window at a time
    spans: SpansKept = field(default_factory=dict)


class StoredVectors:
    """Sentence and passage vectors read by id when a question needs them: from the catalog where it holds every
    vector as Chroma returns it (`NEWSBOT_VECTORS_IN_CATALOG`, one SQLite query), else fetched from Chroma.

    A question needs the vectors of its candidates only (about a hundred sentences and their passages),
    so nothing is copied when the catalog changes. An id names one version of one text, so its vector
    never changes: the last VECTOR_CACHE_SIZE fetched are kept for the next questions, whatever the
    generation. Ids missing from Chroma give NaN rows and are not kept.
    """

    def __init__(self, store: VectorStore, catalog: Catalog | None = None) -> None:
        self.store = store
        self.catalog = catalog
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        # whole articles' sentence vectors by (article id, version) (`fetch_articles`), up to VECTOR_CACHE_SIZE rows
        self._articles: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()  # with norms
        self._article_rows = 0
        self._lock = threading.Lock()

    def fetch(
        self,
        collection: Any,
        ids: list[str],
        outside: Mapping[str, np.ndarray] | None = None,
        kind: str | None = None,
    ) -> np.ndarray:
        """The vectors of `ids` as rows of one matrix (NaN rows for ids Chroma does not hold). Those in `outside`
        (another process's changes, which this process's Chroma segments may lack) are taken from there. With
        `kind` ('s' sentences, 'c' chunks) those the catalog holds are read there; Chroma is asked for the rest.
        A Chroma `get` took 3 to 4 ms at a million sentences, most of it its vectors handed over as lists of
        floats; the catalog's query about half a millisecond."""
        with self._lock:
            known = {i: self._cache[i] for i in ids if i in self._cache}
            for i in known:
                self._cache.move_to_end(i)
        if outside:
            known.update((i, outside[i]) for i in ids if i in outside)
        missing = [i for i in dict.fromkeys(ids) if i not in known]
        if missing and kind == "s":  # the sentences of an article the rescoring read (BM25's hits: all of them)
            kept = self._of_kept_articles(missing)
            known.update(kept)
            missing = [i for i in missing if i not in kept]
        fetched: dict[str, np.ndarray] = {}
        if missing and kind is not None and self.catalog is not None:
            keys = [parse_id(i) for i in missing]
            found = self.catalog.stored_vectors(kind, keys)
            for vector_id, key in zip(missing, keys, strict=True):
                vector = found.get(key)
                if vector is not None:
                    fetched[vector_id] = np.frombuffer(vector, dtype="<f4")
            missing = [i for i in missing if i not in fetched]
        if missing:
            fetched.update(self.store.vectors(collection, missing))
        if fetched:
            with self._lock:
                self._cache.update(fetched)
                while len(self._cache) > VECTOR_CACHE_SIZE:
                    self._cache.popitem(last=False)
        found = known | fetched
        dim = len(next(iter(found.values()))) if found else 0
        rows = np.full((len(ids), dim), np.nan, dtype=np.float32)
        for row, vector_id in enumerate(ids):
            vector = found.get(vector_id)
            if vector is not None:
                rows[row] = vector
        return rows

    def _of_kept_articles(self, ids: list[str]) -> dict[str, np.ndarray]:
        """The vectors of sentence `ids` whose whole article version is kept (`fetch_articles`): the bytes the
        catalog holds for them, as a read by id would give."""
        found = {}
        with self._lock:
            for vector_id in ids:
                article_id, version, n = parse_id(vector_id)
                entry = self._articles.get((article_id, version))
                if entry is not None and n < len(entry[0]):
                    found[vector_id] = entry[0][n]
        return found

    def fetch_articles(
        self,
        collection: Any,
        articles: Sequence[tuple[str, str, int]],
        dim: int,
        outside: Mapping[str, np.ndarray] | None = None,
        in_catalog: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The vectors of every sentence of whole article versions ((article id, version, sentence count)), one
        article after the other, as rows of one matrix (NaN rows where a vector is missing), and each row's norm
        (`row_norms`). With `in_catalog` each article is read from the catalog in one range
        (`Catalog.article_vectors`) and kept whole with its norms for later questions: read by id, a thousand
        vectors took about as long as Chroma's search, and the norms of a question's few thousand rows at once
        took up to 14 ms at p95 (a million sentences, temporaries of megabytes). Articles in `outside`, or that
        the catalog lacks, are fetched by id (`fetch`)."""
        with self._lock:
            known = {(a, v): self._articles[(a, v)] for a, v, _ in articles if (a, v) in self._articles}
            for key in known:
                self._articles.move_to_end(key)
        wanted = [(a, v, count) for a, v, count in articles if (a, v) not in known and count]
        if outside:
            wanted = [(a, v, count) for a, v, count in wanted if sentence_id(a, v, 0) not in outside]
        read = self.catalog.article_vectors("s", wanted) if in_catalog and wanted and self.catalog else {}
        matrices: list[np.ndarray] = []
        norms: list[np.ndarray] = []
        for article_id, version, count in articles:
            entry = known.get((article_id, version))
            stored = read.get((article_id, version))
            if entry is None and stored is not None:
                matrix = np.frombuffer(stored, dtype="<f4").reshape(count, -1)
                entry = (matrix, row_norms(matrix))
                with self._lock:
                    self._articles[(article_id, version)] = entry
                    self._article_rows += count
                    while self._article_rows > VECTOR_CACHE_SIZE and len(self._articles) > 1:
                        self._article_rows -= len(self._articles.popitem(last=False)[1][0])
            if entry is None:
                ids = [sentence_id(article_id, version, n) for n in range(count)]
                matrix = self.fetch(collection, ids, outside, "s" if in_catalog else None)
                entry = (matrix, row_norms(matrix))
            if entry[0].shape != (count, dim):
                entry = (np.full((count, dim), np.nan, dtype=np.float32), np.full(count, np.nan, dtype=np.float32))
            matrices.append(entry[0])
            norms.append(entry[1])
        if not matrices:
            return np.zeros((0, dim), dtype=np.float32), np.zeros(0, dtype=np.float32)
        return np.vstack(matrices), np.concatenate(norms)


def row_norms(matrix: np.ndarray) -> np.ndarray:
    """The Euclidean norm of each row, to the bit what `np.linalg.norm(matrix, axis=1)` gives (the same products
    and row sums; a row's sum does not depend on the rows around it), without its copy of the matrix."""
    return np.sqrt(np.add.reduce(matrix * matrix, axis=1))


# Vectors kept between questions (StoredVectors): 1.5 KB each at 384 dimensions, 30 MB in all.
VECTOR_CACHE_SIZE = 20_000


class RowArena:
    """Every sentence row that snapshots of one catalog read, appended as they are read and never changed: rows
    keep their numbers from one snapshot to the next, so a change appends its articles' new rows and leaves
    their old ones unused (a question of an older snapshot may still read them). Shared by those snapshots.
    Held in columns of 4-byte ints (16 bytes a row; a row object took 80): each row's article (its number in
    `article_ids`), n, chunk and paragraph."""

    def __init__(self, postings: TermPostings | None = None) -> None:
        self.article_ids: list[str] = []  # the article of each span appended, by number
        self.article, self.n, self.chunk, self.paragraph = array("i"), array("i"), array("i"), array("i")
        self.postings = postings if postings is not None else TermPostings()  # BM25's, row for row
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.n)

    def article_id(self, row: int) -> str:
        return self.article_ids[self.article[row]]

    def append(self, places: SentencePlaces, spans: Iterable[tuple[str, tuple[int, int]]] | None = None) -> int:
        """Append the rows of `places`' articles (`spans` of them, in that order; all in the order read by
        default), each article's after the last, and return the number of the first."""
        with self._lock:
            start = len(self.n)
            if spans is None:  # the columns as they are
                for article_id, (first, end) in places.spans.items():
                    self.article.extend(repeat(len(self.article_ids), end - first))
                    self.article_ids.append(article_id)
                self.n.extend(places.n)
                self.chunk.extend(places.chunk)
                self.paragraph.extend(places.paragraph)
                return start
            for article_id, (first, end) in spans:
                self.article.extend(repeat(len(self.article_ids), end - first))
                self.article_ids.append(article_id)
                self.n.extend(places.n[first:end])
                self.chunk.extend(places.chunk[first:end])
                self.paragraph.extend(places.paragraph[first:end])
            return start

    def append_unused(self, count: int) -> None:
        """Append `count` rows that no snapshot reads (a restored file's rows of articles changed since)."""
        with self._lock:
            self.article.extend(repeat(len(self.article_ids), count))
            self.article_ids.append("")
            for column in (self.n, self.chunk, self.paragraph):
                column.extend(repeat(-1, count))

    def copy_rows(self, source: RowArena, start: int, end: int) -> int:
        """Append rows `start` to `end` of `source` (one article's), and return the number of the first."""
        with self._lock:
            first = len(self.n)
            self.article.extend(repeat(len(self.article_ids), end - start))
            self.article_ids.append(source.article_id(start))
            self.n.extend(source.n[start:end])
            self.chunk.extend(source.chunk[start:end])
            self.paragraph.extend(source.paragraph[start:end])
            return first


# Sentence texts kept between questions and snapshots (`SentenceTexts`): about 200 bytes each, 10 MB in all.
TEXTS_KEPT = 50_000


@dataclass
class RestoredRows:
    """A first snapshot's rows and postings as restored from the saved file (`Snapshot._restore`)."""

    arena: RowArena
    spans: dict[str, tuple[int, int]]
    count: int
    live: np.ndarray
    tokens: int
    built: PostingsBuilder  # the changed articles' postings, read with their rows
    outdated: bool  # the file is of an older format (`bot.saved_postings.FORMAT`): saved anew where it can be


class SnapshotMoved(Exception):
    """The catalog no longer holds the version of an article whose texts a question of this snapshot needs:
    the article changed meanwhile (another process), so the question is asked again on the new snapshot."""


class SentenceTexts:
    """Sentence texts by (article id, version, n), read from the catalog when a question needs them, and the
    last TEXTS_KEPT read kept: a snapshot holds no texts (they were most of its memory, about 200 bytes a
    sentence). A version names one text, so a text read is right for every snapshot of that version; one
    the catalog no longer holds is not given (another version's would be wrong)."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._texts: OrderedDict[tuple[str, str, int], str] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, wanted: Iterable[tuple[str, str, int | None]]) -> set[tuple[str, str, int | None]]:
        """Read the texts `wanted` (n None: the article's every sentence) that are not kept, in one query;
        return those the catalog does not hold (their article is at another version now)."""
        with self._lock:
            missing = [key for key in dict.fromkeys(wanted) if key[2] is None or key not in self._texts]
        if not missing:
            return set()
        found = self._catalog.sentence_texts(missing)
        articles = {(a, v) for a, v, _ in found}
        with self._lock:
            self._texts.update(found)
            while len(self._texts) > TEXTS_KEPT:
                self._texts.popitem(last=False)
        return {key for key in missing if (key not in found if key[2] is not None else key[:2] not in articles)}

    def text(self, article_id: str, version: str, n: int) -> str:
        """The text of one sentence; read with its article's others when not kept (its neighbours are read
        next). Empty where the catalog no longer holds that version: nothing wrong is said of it."""
        key = (article_id, version, n)
        with self._lock:
            text = self._texts.get(key)
        if text is None:
            self.read([(article_id, version, None)])
            with self._lock:
                text = self._texts.get(key)
        if text is None:
            log.warning("sentence %d of %s (version %s) is gone: the article changed", n, article_id, version)
            return ""
        return text


def place(sentence: SnapshotSentence | SentenceRow) -> tuple[str, int]:
    """A sentence's article and number: the same sentence in the next snapshot, where its article did not change."""
    return sentence.article_id, sentence.n


class SnapshotSentence:
    """One sentence of a snapshot: its place from the snapshot's rows, its text read when first asked for."""

    __slots__ = ("_texts", "_version", "article_id", "chunk", "n", "paragraph")

    def __init__(self, arena: RowArena, row: int, version: str, texts: SentenceTexts) -> None:
        self.article_id = arena.article_id(row)
        self.n, self.chunk, self.paragraph = arena.n[row], arena.chunk[row], arena.paragraph[row]
        self._version, self._texts = version, texts

    @property
    def text(self) -> str:
        return self._texts.text(self.article_id, self._version, self.n)

    def _key(self) -> tuple[str, int, int, int, str]:
        return self.article_id, self.n, self.chunk, self.paragraph, self.text

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SnapshotSentence | SentenceRow):
            return self._key() == (other.article_id, other.n, other.chunk, other.paragraph, other.text)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"SnapshotSentence({self.article_id!r}, {self.n}, {self.chunk}, {self.paragraph}, {self.text!r})"


class SentenceRows(Sequence[SnapshotSentence]):
    """The sentences of one snapshot by row (`RowArena`): its length is the number of sentences the snapshot
    holds, its rows those of its articles (`spans`), and iterating gives those in row order. The arena's rows
    hold no text: each sentence reads its own (`SentenceTexts`) by the version of its article here."""

    def __init__(
        self,
        arena: RowArena,
        spans: dict[str, tuple[int, int]],
        count: int,
        versions: dict[str, str],
        texts: SentenceTexts,
    ) -> None:
        self._arena = arena
        self._spans = spans
        self._count = count
        self._versions = versions
        self._texts = texts

    def __getitem__(self, row):  # type: ignore[no-untyped-def,override]
        return SnapshotSentence(self._arena, row, self._versions[self._arena.article_id(row)], self._texts)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[SnapshotSentence]:
        return (row for _, row in self.items())

    def items(self) -> Iterator[tuple[int, SnapshotSentence]]:
        """(row, sentence) of every sentence the snapshot holds, in row order."""
        for start, end in sorted(self._spans.values()):
            yield from ((row, self[row]) for row in range(start, end))


class SentencePositions(Mapping[tuple[str, int], int]):
    """The row of each sentence (article id, n) of a snapshot, from where each article's rows start."""

    def __init__(self, spans: dict[str, tuple[int, int]], arena: RowArena, count: int) -> None:
        self.spans = spans  # article id: (first row, row after the last)
        self._n = arena.n
        self._count = count

    def __getitem__(self, key: tuple[str, int]) -> int:
        article_id, n = key
        start, end = self.spans.get(article_id, (0, 0))
        row = start + n
        if not start <= row < end or self._n[row] != n:
            raise KeyError(key)
        return row

    def __iter__(self) -> Iterator[tuple[str, int]]:
        for article_id, (start, end) in self.spans.items():
            for n in self._n[start:end]:
                yield article_id, n

    def __len__(self) -> int:
        return self._count


# Unused rows (of changed or removed articles) a RowArena may hold beside a snapshot's own, as a share of those,
# before a new snapshot copies its rows into a new arena: a compaction now and then, not on every change.
ARENA_SLACK, ARENA_SLACK_ROWS = 0.25, 10_000


# Articles whose terms (`joined_terms`, 1.5 KB each on average) are kept between questions and snapshots: 6 MB.
ARTICLE_TERMS_KEPT = 4_000


class ArticleTermsCache:
    """The joined index terms of the last ARTICLE_TERMS_KEPT articles read, by (article id, version), for
    every thread."""

    def __init__(self) -> None:
        self._terms: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, versions: dict[str, str]) -> dict[str, str]:
        """The kept terms of the articles `versions` names (article id: version), by article id."""
        found = {}
        with self._lock:
            for key in versions.items():
                terms = self._terms.get(key)
                if terms is not None:
                    self._terms.move_to_end(key)
                    found[key[0]] = terms
        return found

    def put(self, terms: dict[tuple[str, str], str]) -> None:
        with self._lock:
            self._terms.update(terms)
            while len(self._terms) > ARTICLE_TERMS_KEPT:
                self._terms.popitem(last=False)


class ArticleCoverage:
    """The share of one question's weighted terms (`weights`) that whole articles with their headlines hold,
    computed once per article for the question: the topic weight, the story rule and the refusal's signals
    all read it for the candidates' articles (about 45 a question), whose terms are read in one go. It
    equals `LexicalIndex.coverage` of the article's terms, found by substring search (`holds`): building
    each article's set of terms and prefixes took more than reading them."""

    def __init__(self, snapshot: Snapshot, weights: dict[str, float]) -> None:
        self._snapshot = snapshot
        self._weights = weights
        self._total = sum(weights.values())
        self._needles = {term: needles(term) for term in weights}
        self._held: dict[str, frozenset[str]] = {}

    def _read(self, article_ids: Iterable[str]) -> list[str]:
        wanted = list(dict.fromkeys(article_ids))
        missing = [a for a in wanted if a not in self._held]
        if missing:
            for article_id, joined in self._snapshot.articles_terms(missing).items():
                self._held[article_id] = frozenset(t for t in self._weights if holds(joined, self._needles[t]))
        return wanted

    def of(self, article_ids: Iterable[str]) -> dict[str, float]:
        wanted = self._read(article_ids)
        if not self._total:
            return dict.fromkeys(wanted, 0.0)
        return {a: sum(w for t, w in self._weights.items() if t in self._held[a]) / self._total for a in wanted}

    def share(self, article_id: str) -> float:
        return self.of([article_id])[article_id]

    def held(self, article_id: str) -> frozenset[str]:
        """The question's terms that the article holds."""
        return self._held[self._read([article_id])[0]]


class ConversationTopic(ArticleCoverage):
    """The topic of a conversation whose languages differ from the articles': one article, the conversation's,
    wholly on it and every other off it. Their words cannot say which article the conversation is about (only
    names and numbers carry across), so the article its last naming question was answered from says it."""

    def __init__(self, snapshot: Snapshot, article_id: str) -> None:
        super().__init__(snapshot, {})
        self.article_id = article_id

    def of(self, article_ids: Iterable[str]) -> dict[str, float]:
        return {article_id: float(article_id == self.article_id) for article_id in dict.fromkeys(article_ids)}

    def held(self, article_id: str) -> frozenset[str]:
        return frozenset({self.article_id}) if article_id == self.article_id else frozenset()


class Snapshot:
    """What the catalog held at one generation: sentences in a flat list, articles, and BM25 over them
    (searched in the catalog, hits of other article versions left out)."""

    def __init__(
        self,
        index: NewsIndex,
        vectors: StoredVectors | None = None,
        previous: Snapshot | None = None,
    ) -> None:
        """Read the catalog's current generation; with the `previous` snapshot, only the articles that changed
        since it (`Catalog.read_changes`): the others' records and rows are taken over as they are, and
        nothing here walks every article or sentence (copying a dict or two is done in C)."""
        since = (previous.catalog_id, previous.generation) if previous is not None else None
        most = max(100, len(previous.articles) // 4) if previous is not None else 0
        path = postings_path(index.settings.data_dir)
        restored = self._restore(index.catalog, load_postings(path)) if previous is None else None
        if restored is not None:
            changes, base = restored
            built = base.built
        else:
            vocabulary = previous._arena.postings.vocabulary if previous is not None else Vocabulary()
            built = PostingsBuilder(vocabulary)
            changes = index.catalog.read_changes(since, most, terms_to=built)
        self.generation, self.catalog_id = changes.generation, changes.catalog_id
        self.restored = restored is not None  # BM25's postings came from the saved file (`bot.saved_postings`)
        if restored is not None:
            self.articles, self.versions = {}, {}
            self._arena, spans, count, live, tokens = base.arena, base.spans, base.count, base.live, base.tokens
            removed = ()
        elif changes.full or previous is None:
            self.articles: dict[str, ArticleRecord] = {}
            # The version each article is at: vectors of any other version are in flight or stale.
            self.versions: dict[str, str] = {}
            self._arena = RowArena(TermPostings(vocabulary))
            spans: dict[str, tuple[int, int]] = {}
            count = tokens = 0
            live = np.zeros(0, dtype=bool)
            removed: Iterable[str] = ()
        else:
            self.articles, self.versions = previous.articles.copy(), previous.versions.copy()
            spans, count, self._arena = previous.position.spans.copy(), len(previous.sentences), previous._arena
            live, tokens = previous._live.copy(), previous._tokens
            removed = changes.changed
        lengths = self._arena.postings.lengths
        for article_id in removed:  # changed or removed: its rows so far are of no use
            span = spans.pop(article_id, None)
            if span:
                count -= span[1] - span[0]
                live[span[0] : span[1]] = False
                tokens -= int(lengths.data[span[0] : span[1]].sum())
            self.articles.pop(article_id, None)
            self.versions.pop(article_id, None)
        for article in changes.articles:
            self.articles[article.article_id] = article
            self.versions[article.article_id] = article.version
        first_new = self._arena.append(changes.sentences)  # in the order read (`built`'s), each from n = 0 on
        for article_id, (start, end) in changes.sentences.spans.items():
            spans[article_id] = (first_new + start, first_new + end)
            count += end - start
        live = np.concatenate([live, np.ones(len(self._arena) - first_new, dtype=bool)])
        self._arena.postings.append(first_new, built, live)
        tokens += int(self._arena.postings.lengths.data[first_new : len(self._arena)].sum())
        compacted = len(self._arena) > (1 + ARENA_SLACK) * count + ARENA_SLACK_ROWS  # many rows not read
        if compacted:
            spans = self._compact(spans)
            live = np.ones(count, dtype=bool)
        self._live, self._tokens = live, tokens
        outdated = restored is not None and restored[1].outdated  # saved in the current format where all are live
        if previous is None and (restored is None or compacted or outdated) and count and bool(live.all()):
            self._save_postings(path, changes.terms_by, spans)
        # texts by (article id, version): valid in every snapshot that holds that version, so shared
        self._texts = previous._texts if previous is not None else SentenceTexts(index.catalog)
        self.sentences = SentenceRows(self._arena, spans, count, self.versions, self._texts)
        self.position = SentencePositions(spans, self._arena, count)
        language, decompounder = index.settings.language, index.decompounder
        self.lexical = SnapshotLexicalIndex(
            index.catalog, self._arena.postings, live, tokens, spans, language, decompounder
        )
        # article terms by (article id, version): valid in every snapshot that holds that version, so shared
        self._article_terms = previous._article_terms if previous is not None else ArticleTermsCache()
        self._title_terms: dict[str, set[str]] = {}
        self._word_terms: dict[int, list[tuple[str, ...]]] = {}
        self._word_pairs: dict[int, set[tuple[str, ...]]] = {}
        self._vectors = vectors or StoredVectors(index.store, index.catalog)
        # the catalog holds every vector as Chroma returns it (`NEWSBOT_VECTORS_IN_CATALOG`): read them there
        self._vectors_in_catalog = index.settings.vectors_in_catalog and index.catalog.holds_all_vectors()
        # another process's changes that the store's Chroma segments may lack (`NewsIndex.follow_outside_changes`)
        self.outside: OutsideVectors | None = index.outside

    @staticmethod
    def _restore(catalog: Catalog, saved: SavedPostings | None) -> tuple[CatalogChanges, RestoredRows] | None:
        """The catalog as of now (every article and row) with BM25's postings from `saved`, brought up to date:
        the rows of articles changed since are left dead there, and their new rows are returned in the changes
        (with their terms read into the builder) to be appended as after any change. None when `saved` does not
        fit the catalog: another file, analyser or generation out of the log's reach, or, for an article not
        changed since, another version or number of sentences (a folder built anew, a catalog restored)."""
        if saved is None:
            return None
        built = PostingsBuilder(saved.postings.vocabulary)
        found = catalog.read_since_saved((saved.catalog_id, saved.generation), saved.terms_by, built)
        if found is None:
            log.info("the saved BM25 postings are of another catalog, analyser or generation: building them")
            return None
        everything, changed_sentences, first_rowids = found
        versions = {a.article_id: a.version for a in everything.articles}
        saved_rowids = saved.postings.rowids.data
        changed = everything.changed
        unchanged = [a for a in everything.sentences.spans if a not in changed]
        if any(a not in saved.spans for a in unchanged):
            log.warning("the saved BM25 postings lack articles the catalog holds: building them")
            return None
        arena = RowArena(saved.postings)
        spans: dict[str, tuple[int, int]] = {}
        lengths = saved.postings.lengths.data
        live = np.zeros(saved.postings.lengths.size, dtype=bool)
        for article_id, (start, end) in saved.spans.items():
            current = everything.sentences.spans.get(article_id)
            if article_id in changed:
                arena.append_unused(end - start)
                continue
            if (
                current is None
                or versions.get(article_id) != saved.versions[article_id]
                or current[1] - current[0] != end - start
                or int(saved_rowids[start]) != first_rowids[article_id]  # sentences numbered anew (a dump loaded)
            ):
                log.warning("the saved BM25 postings do not fit the catalog (article %s): building them", article_id)
                return None
            arena.append(everything.sentences, [(article_id, current)])
            spans[article_id] = (start, end)
            live[start:end] = True
        log.info(
            "BM25's postings from the saved file (generation %d), %d articles changed since",
            saved.generation,
            len(changed),
        )
        count = int(np.count_nonzero(live))
        tokens = int(lengths[: len(live)][live].sum())
        changes = CatalogChanges(
            everything.generation,
            everything.catalog_id,
            False,
            everything.articles,
            changed,
            changed_sentences,
            everything.terms_by,
        )
        return changes, RestoredRows(arena, spans, count, live, tokens, built, saved.format < SAVED_FORMAT)

    def _save_postings(self, path: Path, terms_by: str, spans: dict[str, tuple[int, int]]) -> None:
        """Save this snapshot's postings for the next process's start; a failure costs that start only."""
        ordered = dict(sorted(spans.items(), key=lambda item: item[1]))
        saved = SavedPostings(
            self.catalog_id,
            self.generation,
            terms_by,
            self._arena.postings,
            ordered,
            {a: self.versions[a] for a in ordered},
        )
        started = time.perf_counter()
        try:
            save_postings(path, saved)
        except OSError as error:
            log.warning("could not save the BM25 postings to %s: %r", path, error)
            return
        log.info(
            "saved the BM25 postings (generation %d) in %.0f ms",
            self.generation,
            1000 * (time.perf_counter() - started),
        )

    def _compact(self, spans: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        """Copy this snapshot's rows into a new arena of their own, and return their spans there."""
        old = self._arena
        rows = np.full(len(old), -1, dtype=np.int64)  # the new row of each old one (-1: not kept)
        self._arena = RowArena()
        moved = {}
        for article_id, (start, end) in sorted(spans.items(), key=lambda item: item[1]):  # rows keep their order
            first = self._arena.copy_rows(old, start, end)
            moved[article_id] = (first, first + end - start)
            rows[start:end] = np.arange(first, first + end - start)
        self._arena.postings = old.postings.compacted(rows)
        return moved

    @property
    def passage_keys(self) -> list[tuple[str, int]]:
        """Every passage (article id, chunk number) the snapshot holds: for tests and benchmarks, a list the
        size of the archive."""
        return [(a.article_id, n) for a in self.articles.values() for n in range(a.chunk_count)]

    def article_of(self, row: int) -> str:
        """The article id of sentence `row`: fusion asks it of every candidate several times, and the arena's row
        says it without the `SnapshotSentence` that `sentences[row]` makes."""
        return self._arena.article_id(row)

    def sentence_vectors(self, rows: Sequence[int]) -> np.ndarray:
        """The stored vectors of sentences `rows` (NaN where Chroma lacks one), fetched by id: the cosine
        of a sentence that only BM25 found, without a second search."""
        arena = self._arena
        ids = []
        for row in rows:
            article_id = arena.article_id(row)
            ids.append(sentence_id(article_id, self.versions[article_id], arena.n[row]))
        kind = "s" if self._vectors_in_catalog else None
        return self._vectors.fetch(self._vectors.store.sentences, ids, self.outside and self.outside.vectors, kind)

    def article_sentence_vectors(self, article_ids: Sequence[str], dim: int) -> tuple[np.ndarray, np.ndarray]:
        """The stored vectors of every sentence of `article_ids`, in the order of their rows, one article after the
        other (NaN rows where one is missing), and their norms: the exact scoring of the articles a question's
        searches named."""
        spans = self.position.spans
        articles = [(a, self.versions[a], spans[a][1] - spans[a][0]) for a in article_ids]
        outside = self.outside and self.outside.vectors
        return self._vectors.fetch_articles(
            self._vectors.store.sentences, articles, dim, outside, self._vectors_in_catalog
        )

    def passage_vectors(self, passages: Sequence[tuple[str, int]]) -> np.ndarray:
        """The stored vectors of passages `passages` ((article id, chunk), NaN where Chroma lacks one): the
        candidates' passages are scored by dot products instead of a second search in Chroma."""
        ids = [chunk_id(a, self.versions[a], n) for a, n in passages]
        kind = "c" if self._vectors_in_catalog else None
        return self._vectors.fetch(self._vectors.store.chunks, ids, self.outside and self.outside.vectors, kind)

    def passage_of(self, row: int) -> tuple[str, int] | None:
        """The passage (article id, chunk) that sentence `row` belongs to, if its article has that chunk."""
        article_id, chunk = self._arena.article_id(row), self._arena.chunk[row]
        article = self.articles.get(article_id)
        return (article_id, chunk) if article and chunk < article.chunk_count else None

    def read_texts(self, rows: Iterable[int]) -> bool:
        """Read the texts of sentences `rows` in one query (a question reads those of its candidates and their
        neighbours); False where the catalog no longer holds some of their articles' versions."""
        arena, wanted = self._arena, []
        for row in rows:
            article_id = arena.article_id(row)
            wanted.append((article_id, self.versions[article_id], arena.n[row]))
        return not self._texts.read(wanted)

    def word_pairs(self, row: int) -> set[tuple[str, ...]]:
        """The sentence's word pairs (for near-duplicate checks), computed once per snapshot."""
        pairs = self._word_pairs.get(row)
        if pairs is None:
            pairs = self._word_pairs[row] = word_pairs(self.sentences[row].text)
        return pairs

    def article_terms(self, article_id: str) -> set[str]:
        """The index terms of a whole article with its headline, with their prefixes (see `articles_terms`)."""
        return terms_of(self.articles_terms([article_id])[article_id])

    def articles_terms(self, article_ids: Iterable[str]) -> dict[str, str]:
        """The index terms of whole articles with their headlines (`joined_terms`), from the terms the catalog
        stored (`CatalogLexicalIndex.articles_terms`, one query for all that are not kept), or analysed again
        for an article that moved on meanwhile. The last ARTICLE_TERMS_KEPT are kept for later questions and
        snapshots: the terms of one version of an article never change."""
        wanted = {article_id: self.versions[article_id] for article_id in article_ids}
        found = self._article_terms.get(wanted)
        missing = {a: v for a, v in wanted.items() if a not in found}
        if missing:
            read = self.lexical.articles_terms(missing)
            for article_id, terms in read.items():
                found[article_id] = terms if terms is not None else self._analysed_terms(article_id)
            self._article_terms.put({(a, v): found[a] for a, v in missing.items()})
        return {article_id: found[article_id] for article_id in wanted}

    def _analysed_terms(self, article_id: str) -> str:
        """The terms of an article's headline and sentences in this snapshot, analysed from their text."""
        start, end = self.position.spans.get(article_id, (0, 0))
        texts = [self.articles[article_id].title, *(self.sentences[row].text for row in range(start, end))]
        return joined_terms(self.lexical.terms(" ".join(texts)))

    def word_terms(self, row: int) -> list[tuple[str, ...]]:
        """The terms of each word of sentence `row` (`LexicalIndex.word_terms`), computed once per snapshot:
        the refusal's coverage and the answer's stretch read them for every question."""
        terms = self._word_terms.get(row)
        if terms is None:
            terms = self._word_terms[row] = self.lexical.word_terms(self.sentences[row].text)
        return terms

    def context_terms(self, row: int) -> set[str]:
        """The terms of sentence `row`, its neighbours in the paragraph and its headline: the context
        whose coverage of the question the refusal reads."""
        article_id = self.article_of(row)
        headline = self._title_terms.get(article_id)
        if headline is None:
            headline = self._title_terms[article_id] = self.lexical.terms(self.articles[article_id].title)
        return headline.union(*(terms for r in self.around(row, 1) for terms in self.word_terms(r)))

    def context_coverage(self, row: int, weights: dict[str, float]) -> float:
        """Share of the question's weighted terms (`weights`) that the `context_terms` of `row` hold."""
        return self.lexical.coverage(weights, self.context_terms(row))

    def around(self, row: int, reach: int) -> list[int]:
        """`row` and up to `reach` sentences on either side of it, as far as its paragraph goes."""
        paragraphs = self._arena.paragraph
        paragraph = paragraphs[row]
        start, end = self.position.spans[self._arena.article_id(row)]  # rows next to its article's are of others
        first = row
        while first > max(start, row - reach) and paragraphs[first - 1] == paragraph:
            first -= 1
        last = row
        while last < min(end - 1, row + reach) and paragraphs[last + 1] == paragraph:
            last += 1
        return list(range(first, last + 1))


# Sentences whose word pairs overlap this much (Jaccard) are the same text: an agency report that several
# outlets ran, perhaps with a word changed. Only the best candidates are compared, which is where it shows.
DUPLICATE_OVERLAP = 0.7
DUPLICATE_WINDOW = 30
_WORD = re.compile(r"\w+")


def word_pairs(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.casefold())
    return set(pairwise(words)) if len(words) > 1 else {tuple(words)}


def is_headline_line(snapshot: Snapshot, row: int) -> bool:
    """Whether `row` is its article's headline on a line of its own ("Warsaw", "Super Bowl 50"), not the first
    sentence of a lead paragraph that also serves as the title (the news archive's).

    To a question in another language than the articles, such a headline is the nearest sentence in meaning
    whenever the question names its topic: only names carry across, and the headline is little else. It holds
    no fact to answer with (the source shows it already): English dev questions got "Warsaw" for "And why was
    the club relegated in 2013?" (8 of 107 asked alone), German ones never got a headline."""
    sentence = snapshot.sentences[row]
    return (
        sentence.n == 0
        and snapshot.around(row, 1) == [row]
        and sentence.text.strip() == snapshot.articles[sentence.article_id].title.strip()
    )


def without_the_language_share(
    snapshot: Snapshot, candidates: Iterable[Candidate], asked_in: str, articles_language: str, share: float
) -> None:
    """Take `share` (`bot.language.LANGUAGE_SHARE`) off the cosine of each candidate written in the question's
    language `asked_in` rather than the articles': it is scored against the question as a sentence of its article's
    language would be, by its meaning. An English tweet in a German article gained 0.0145 by its language alone over
    the German sentences, so it came above the ones that answer; the fused score, the refusal signals and the
    sources' order all read the cosine."""
    if share <= 0.0:
        return
    for c in candidates:
        if c.dense is not None and written_in(snapshot.sentences[c.row].text, asked_in, articles_language):
            c.dense -= share


def published_or_indexed(article: ArticleRecord) -> str:
    return article.published or article.indexed_at


def collapse_near_duplicates(snapshot: Snapshot, ranked: list[Candidate]) -> list[Candidate]:
    """Keep one of each group of near-identical sentences from different articles: the newest article's.

    It takes the place of the group's best-scoring one, so a repeated agency text is one answer and one
    source, and the newest outlet's version (an update, a correction) is the one shown.
    """
    # each kept one with its word pairs, their count and its article: compared with every later candidate (30 by
    # 30), they were looked up again for each pair
    kept: list[tuple[Candidate, set[tuple[str, ...]], int, str]] = []
    for candidate in ranked[:DUPLICATE_WINDOW]:
        article_id = snapshot.article_of(candidate.row)
        pairs = snapshot.word_pairs(candidate.row)
        size = len(pairs)
        for position, (_, other_pairs, other_size, other_article_id) in enumerate(kept):
            if other_article_id == article_id:
                continue
            if min(size, other_size) < DUPLICATE_OVERLAP * max(size, other_size):
                continue  # the overlap can be at most the smaller set over the larger: not a duplicate
            shared = len(pairs & other_pairs)
            if shared >= DUPLICATE_OVERLAP * (size + other_size - shared):
                newer = published_or_indexed(snapshot.articles[article_id])
                if newer > published_or_indexed(snapshot.articles[other_article_id]):
                    kept[position] = (candidate, pairs, size, article_id)
                break
        else:
            kept.append((candidate, pairs, size, article_id))
    return [c for c, *_ in kept] + ranked[DUPLICATE_WINDOW:]


# What the question's own words weigh beside the embedder: a candidate gains up to TOPIC_WEIGHT by the share
# of the question's weighted terms (rare words weigh most) its whole article holds. A sentence that only
# echoes the question's phrasing ("soll … stattfinden") in an article about something else gains little.
TOPIC_WEIGHT = 0.05
# News goes stale: a candidate whose article is older than the newest article on the question's topic
# loses up to RECENCY_WEIGHT, half of it at HALF_LIFE_DAYS older. "On the topic": among the TOPIC_POOL
# best candidates, the articles that hold as much of the question's weighted terms as the best of them.
RECENCY_WEIGHT = 0.05
HALF_LIFE_DAYS = 7.0
TOPIC_POOL = 10


def article_time(article: ArticleRecord) -> datetime:
    """When an article was news: its publication time, else when it was indexed (a date alone counts
    from midnight UTC; an unreadable one is taken as unknown, the oldest possible)."""
    for value in (article.published, article.indexed_at):
        if value:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.min.replace(tzinfo=UTC)


def weigh_topic_and_recency(snapshot: Snapshot, candidates: list[Candidate], coverage: ArticleCoverage) -> None:
    """Add the topic's and the recency's part to each candidate's fused score (see TOPIC_WEIGHT, RECENCY_WEIGHT).

    A definite "der Gipfel" in a news question usually means the newest summit; a question that names an
    older one ("der Klimagipfel in Nairobi") finds its words only in that article, which is then the
    newest on the topic and loses nothing. Articles indexed in one run, undated, are as new as each other.
    """
    if not candidates:
        return
    article_ids = {c.row: snapshot.article_of(c.row) for c in candidates}
    shares = coverage.of(article_ids.values())
    times = {article_id: article_time(snapshot.articles[article_id]) for article_id in shares}
    for c in candidates:
        c.topic = shares[article_ids[c.row]]
        c.fused += TOPIC_WEIGHT * c.topic
    pool = sorted(candidates, key=lambda c: c.fused, reverse=True)[:TOPIC_POOL]
    best = max(c.topic for c in pool)
    newest = max(times[article_ids[c.row]] for c in pool if c.topic >= best)
    for c in candidates:
        age = (newest - times[article_ids[c.row]]).total_seconds() / 86400
        c.age_days = max(0.0, age)
        c.fused -= RECENCY_WEIGHT * (1 - 0.5 ** (c.age_days / HALF_LIFE_DAYS))


def current_story(snapshot: Snapshot, rows: list[int], runs: list[str], coverage: ArticleCoverage) -> str | None:
    """The article a question about "der Gipfel" means when several undated articles tell such a story.

    The question's topic: the articles among the candidates' (`rows`) that hold every one of its
    terms. When there are several and all are undated, the only clue to their age is when the bot
    learned of them: an article that a later indexing run (`runs`, see `index.indexer.index_runs`)
    brought is newer news than the archive loaded before, however close in time; within one run
    (a bulk load) nothing tells their age apart. If exactly one of them is of the latest run, it is
    the story. Only the order of runs is known, not how much older the rest is, so this is an order
    (its sentences first), not a weight. A question that names an older story finds all its words
    only there; dated articles are weighed by their dates instead (`weigh_topic_and_recency`).
    """
    shares = coverage.of(snapshot.article_of(row) for row in rows)
    on_topic = [a for a, share in shares.items() if share >= 1.0 - 1e-9]
    if len(on_topic) < 2 or any(snapshot.articles[a].published for a in on_topic):
        return None
    newest, runner_up = sorted((run_of(snapshot.articles[a].indexed_at, runs), a) for a in on_topic)[-1:-3:-1]
    return newest[1] if newest[0] > runner_up[0] else None


# How much more of the question's weight the runner-up's context must hold to take first place.
RUNNER_UP_COVERAGE_LEAD = 0.2


def prefer_the_covering_runner_up(
    snapshot: Snapshot, ranked: list[Candidate], weights: dict[str, float]
) -> list[Candidate]:
    """Put the runner-up first where its context holds clearly more of the question's words.

    The two best sentences are often close paraphrases of the question to the embedder. Then the one
    whose context (the sentence, its neighbours in the paragraph and its headline, where the answer's
    stretch also draws from) holds more than RUNNER_UP_COVERAGE_LEAD more of the question's weighted
    terms is the better answer. Only the first two trade places: further down, coverage would
    overrule the embedder where it is right, as with a question the article paraphrases.
    """
    if len(ranked) < 2:
        return ranked
    first, second = (snapshot.context_coverage(c.row, weights) for c in ranked[:2])
    if second - first > RUNNER_UP_COVERAGE_LEAD:
        return [ranked[1], ranked[0], *ranked[2:]]
    return ranked


def carried_across(lexical: LexicalIndex, query: str, weights: dict[str, float], language: str) -> dict[str, float]:
    """The `weights` of the terms of `query`'s proper names and numbers: all that a question in another `language`
    than the articles shares with them by more than chance ("Davutoğlu", "VIG", "2014"). Its other words are its
    own language's ("pensions", "ballot"), or look like the articles' words only by accident ("Team", "Airline",
    "Chief" of a rapper's name). Empty where it names nothing: then no words tell its topic."""
    names = proper_names(query, language)
    return {
        term: weights[term]
        for word, terms in zip(WORDS.findall(query), lexical.word_terms(query), strict=False)
        if _bare(word) in names or _NUMBER_WORD.fullmatch(word)
        for term in terms
        if term in weights
    }


# Query vectors kept for questions asked again (in a channel, the same question often comes from several
# people): the embedding is most of a question's time, and a vector does not change with the index.
QUERY_CACHE_SIZE = 512


def name_missing(lexical: LexicalIndex, question: str, weights: dict[str, float], present: set[str]) -> float:
    """The weight of the rarest noun or name of `question` (a capitalised word after the first) that none of
    the terms `present` holds, relative to the rarest term's: "Japan" in "Wie hoch ist der Leitzins in Japan?"."""
    return _rarest_missing_word(
        lexical, question, weights, present, lambda n, word: n > 0 and word.lstrip("\"'„“‚(«»")[:1].isupper()
    )


def names_inside_other_names(
    snapshot: Snapshot, question: str, weights: dict[str, float], article_id: str, language: str
) -> bool:
    """Whether the article holds a proper name of the question only as the first word of a longer name: "Wien" of
    "Wer ist der Bürgermeister von Wien?" in a report on Wiener Neustadt, whose every "Wiener" opens the town's
    name (`bot.names.named_only_inside_other_names`). Such an article names another place, though the stemmer
    finds "Wien" in "Wiener": it was answered at 86 % on the haystack. Read from the article's text where its terms
    hold one of the names, in the sentences that hold the name's first letters (its umlauts folded: "Rom", "Römer")."""
    names = proper_names(question, language)
    if not names:
        return False
    lexical = snapshot.lexical
    held = snapshot.article_terms(article_id)
    asked = [
        (folded(_bare(word)), set(terms) & weights.keys())
        for word, terms in zip(WORDS.findall(question), lexical.word_terms(question), strict=False)
        if _bare(word) in names and any(term in weights and lexical.present(term, held) for term in terms)
    ]
    if not asked:
        return False
    start, end = snapshot.position.spans[article_id]
    rows = list(range(start, end))
    snapshot.read_texts(rows)
    headline = snapshot.articles[article_id].title
    texts = [(headline, lexical.word_terms(headline))]
    texts += [(snapshot.sentences[row].text, snapshot.word_terms(row)) for row in rows]
    for name, terms in asked:
        holding = [(text, word_terms) for text, word_terms in texts if name[:NAME_LETTERS] in folded(text)]
        words = frozenset(
            _bare(word)
            for text, word_terms in holding
            for word, its_terms in zip(WORDS.findall(text), word_terms, strict=False)
            if not terms.isdisjoint(its_terms)
        )
        if any(folded(word) == name for word in words):
            continue  # the article writes the name itself: no other name's first word (and no tagging, ms a text)
        if words and named_only_inside_other_names(words, [text for text, _ in holding], language):
            return True
    return False


def names_the_article_lacks(
    snapshot: Snapshot, question: str, weights: dict[str, float], article_id: str, language: str
) -> bool:
    """Whether the article holds none of the terms of a proper name of the question (`bot.names.proper_names`), nor
    a word one edit from it: "Innsbruck" of "Wie lange dauert die Fahrt nach Innsbruck?" over a report on the
    railway between Graz and Klagenfurt. A question's misspelled name ("Sentanta Sports" for "Setanta Sports") still
    names the article's: most misspellings are one letter inserted, dropped, replaced or two swapped (Damerau, 1964),
    and names shorter than `MISSPELLED_NAME_MIN_LETTERS` are too short to tell a misspelling from another name by."""
    # an abbreviation ("EZB") may stand for what the article writes out ("Europäische Zentralbank")
    names = frozenset(name for name in proper_names(question, language) if not name.isupper())
    if not names:
        return False
    unheld = names_not_held(snapshot.lexical, question, weights, snapshot.article_terms(article_id), names)
    if not unheld:
        return False
    if any(len(name) < MISSPELLED_NAME_MIN_LETTERS for name in unheld):
        return True  # no misspelling to look for: the article's texts need not be read
    start, end = snapshot.position.spans[article_id]
    rows = list(range(start, end))
    snapshot.read_texts(rows)
    texts = [snapshot.articles[article_id].title, *(snapshot.sentences[row].text for row in rows)]
    words = {folded(_bare(word)) for text in texts for word in WORDS.findall(text) if word[:1].isupper()}
    return any(not any(OSA.distance(folded(name), word, score_cutoff=1) <= 1 for word in words) for name in unheld)


# The letters a name needs before a word one edit from it counts as its misspelling: a German article capitalises its
# nouns, and a short name is one letter from many of them ("Bern" from "Berg", "Graz" from "Gras").
MISSPELLED_NAME_MIN_LETTERS = 5


# The first letters of a question's name that a sentence holding it by its terms holds too ("Wien" in "Wiener").
NAME_LETTERS = 3


# How many first letters a question word in another language shares with an article's word it spells alike: English
# and German write a name or a borrowed word alike up to an ending ("Parliament", "Parlament"; "Maastricht").
COGNATE_PREFIX = 4


def spelled_alike(weights: dict[str, float], present: set[str]) -> set[str]:
    """The terms `present` and those of `weights` an English question spells as the articles do up to an ending:
    ones that share their first COGNATE_PREFIX letters with a term `present`, or begin with a shorter one ("pol"
    of "Polen" for "Poland"). Such a word tells the question's language, not that the asked fact is missing; a name
    the article does not spell alike ("Japan" in an article on the ECB's rate) still tells a near miss."""
    beginnings = {term[:COGNATE_PREFIX] for term in present if len(term) >= COGNATE_PREFIX}
    alike = {
        term
        for term in weights
        if term[:COGNATE_PREFIX] in beginnings or any(term[:n] in present for n in range(3, COGNATE_PREFIX))
    }
    return present | alike


def names_not_held(
    lexical: LexicalIndex, question: str, weights: dict[str, float], present: set[str], names: frozenset[str]
) -> dict[str, set[str]]:
    """The words of `question` in `names` none of whose weighted terms the terms `present` hold, each with those
    terms: what `proper_name_missing` counts."""
    held_by_name = _missing_words(lexical, question, weights, present, lambda _, word: _bare(word) in names)
    return {_bare(word): set(terms) for word, terms in held_by_name}


def proper_name_missing(
    lexical: LexicalIndex, question: str, weights: dict[str, float], present: set[str], names: frozenset[str]
) -> float:
    """As `name_missing`, for the words of `question` in `names`: its proper names (`bot.names.proper_names`),
    which in German capitals do not tell from nouns."""
    return _rarest_missing_word(lexical, question, weights, present, lambda _, word: _bare(word) in names)


def _bare(word: str) -> str:
    """`word` without the punctuation around it: "Paris?" is "Paris"."""
    return re.sub(r"^\W+|\W+$", "", word)


def number_missing(lexical: LexicalIndex, question: str, weights: dict[str, float], present: set[str]) -> float:
    """As `name_missing`, for the numbers of `question`: "1900" in "Wie viele Einwohner hatte Warschau im Jahr
    1900?" pins down which fact is asked, and a context about another year does not answer it."""
    return _rarest_missing_word(lexical, question, weights, present, lambda _, word: bool(_NUMBER_WORD.fullmatch(word)))


_NUMBER_WORD = re.compile(r"\W*\d+\W*")

# How many words from the thing a "Wie viele …?" question counts its count may stand: "46.133 Asylanträge",
# "drei der sechs Pavillons", "Finanzhilfen in Höhe von 450 Millionen Dollar".
COUNT_REACH = 4
# A count in digits ("1.000", "46.133", "50.000-Dollar-Turnier") or in words ("drei", "Millionen"); not "A1". "Die
# Zahl der Flüchtlinge" speaks of their count too, whose figure may follow in other words ("rund 1.000 Menschen");
# "keiner der ursprünglichen Verträge" counts none.
_COUNT = re.compile(rf"\W*({_NUMBER.pattern}|\b(zahl|anzahl|kein|keine[nmrs]?)\b)", re.IGNORECASE)


def counted_terms(lexical: LexicalIndex, counted: str) -> set[str]:
    """The terms that name what a "Wie viele …?" question counts: its noun, whole or its head (the last part of a
    compound: "Spieler" of "Verteidigungsspieler", "Pilger" of "Hindu-Pilger")."""
    head = (hyphen_parts(counted) or [counted])[-1]
    terms = {t for word in lexical.word_terms(head) for t in word}
    whole = max(terms, key=len, default="")
    return {t for t in terms if whole.endswith(t)}


def names_counted(terms: Iterable[str], counted: set[str]) -> bool:
    """Whether `terms` (of a word or an article) name the thing of `counted_terms`: one of them, or a compound that
    ends with one ("Firmenpensionisten" names "Pensionisten"). Not by a shared beginning, as coverage matches: the
    parts before the head say which kind, and a sentence on the Panthers' "Verteidigung" does not name their
    "Verteidigungsspieler"."""
    return any(term.endswith(head) for term in terms for head in counted)


def own_terms(word_terms: tuple[str, ...]) -> list[str]:
    """A word's own terms (`LexicalIndex.word_terms`: its stem, a compound's parts), without the beginnings kept for
    matching: "siedl" of "Siedlung" is not "Siedler"."""
    return [t for t in word_terms if not any(o != t and o.startswith(t) for o in word_terms)]


def count_missing(snapshot: Snapshot, rows: list[int], counted: str) -> float:
    """1 where the sentences `rows` name the thing a "Wie viele …?" question counts (`counted`, its noun), but no
    number stands within COUNT_REACH words of it: "Ab sofort können Kunden einen neuen LTE-Tarif … nutzen" for
    "Wie viele Kunden nutzen B-free?". A count stands next to what it counts ("46.133 Asylanträge"); a sentence that
    names the thing without one is on the question's topic, not its answer. 0 where they do not name it (they may
    say it in other words) or name it with a number."""
    lexical = snapshot.lexical
    wanted = counted_terms(lexical, counted)
    named = False
    for row in rows:
        words = WORDS.findall(snapshot.sentences[row].text)
        for n, terms in enumerate(snapshot.word_terms(row)):
            if not names_counted(own_terms(terms), wanted):
                continue
            named = True
            if any(_COUNT.match(word) for word in words[max(0, n - COUNT_REACH) : n + COUNT_REACH + 1]):
                return 0.0
    return float(named)


# A sentence that opens with a pronoun or a pronominal adverb goes on about the one before: "Die Teststrecken sind
# Teil des Turbopakets … Dafür nimmt man 50 Millionen Euro in die Hand."
_REFERS_BACK = re.compile(
    r"\W*(er|sie|es|dies\w*|dort|damals|dafür|damit|dabei|davon|dazu|darauf|daran|darüber|daher|deshalb|deswegen"
    r"|dadurch|demnach|insgesamt|this|these|it|they|there|then)\b",
    re.IGNORECASE,
)
COMPOUND_PART = 4  # letters of a question term found inside a longer word: "kost" in "Baukosten", not "ab" in "Staben"


def kind_unshown(question: str, sentences: list[str], language: str) -> bool:
    """Whether `question` asks a time, an amount or a price by its own question word ("Wann …?", "Wie viele …?",
    "Was kostet …?") and `sentences` show none beyond what it names itself (`shows_value`, as the answer shown is
    chosen). Its own word only: a follow-up's kind comes from the question before it, whose words are not its own."""
    kind = asked_kind(question)
    if kind not in (TIME, AMOUNT, PRICE) or asked_value(question) is None:
        return False  # "Who led the party when …?" asks a person: its "when" opens a clause (`asked_value`)
    return not shows_value(kind, sentences, question, language)


def sentences_of_the_fact(
    snapshot: Snapshot, row: int, weights: dict[str, float], across_languages: bool = False
) -> list[int]:
    """The best sentence `row`, the next one where it refers back to it ("Dafür …"), and each neighbour in its
    paragraph that holds a question term it lacks: where the asked fact's answer may stand ("… ein 33 Kilometer
    langer Tunnel. Die Baukosten beliefen sich auf rund sechs Milliarden Euro." for "Was kostete der Bau?"). Not
    every neighbour: a near miss's best sentence stands among the article's other facts, with their dates and
    figures.

    A question in another language than the articles (`across_languages`) shares few words with them, so no
    neighbour can show that it holds the asked fact's ("transfer fee" for "Ablösesumme"): there the next sentence
    of the paragraph counts as the one that refers back does, since a report gives the detail of what a sentence
    says (the sum of a transfer, the date of a plan) in the sentence after it. Not the one before: over the news
    and near-miss sets, where the best sentence lacked the asked kind, the next one held it for 1 of 31 near
    misses and the one before for 6; for the answerable questions the next held the answer for 7 of 15
    (benchmarks/HISTORY.md, english18)."""
    lexical = snapshot.lexical

    def holds(terms: set[str], term: str) -> bool:  # or as a compound's part: "kost" in "baukost" ("Baukosten")
        return lexical.present(term, terms) or (len(term) >= COMPOUND_PART and any(term in t for t in terms))

    held = set().union(*snapshot.word_terms(row))
    lacking = [term for term in weights if not holds(held, term)]
    rows = [row]
    for other in snapshot.around(row, 1):
        terms = set().union(*snapshot.word_terms(other))
        follows = other == row + 1 and (across_languages or _REFERS_BACK.match(snapshot.sentences[other].text))
        if other != row and (follows or any(holds(terms, term) for term in lacking)):
            rows.append(other)
    return rows


def compound_missing(lexical: LexicalIndex, question: str, weights: dict[str, float], present: set[str]) -> float:
    """The weight of the rarest part before the hyphen of a hyphenated word of `question` that the terms `present`
    lack while they hold its head, relative to the rarest term's: "Fußball" of "Wer hat die Fußball-
    Weltmeisterschaft 2014 gewonnen?" in an article on the "Rallye-Weltmeisterschaft". Such an article is about
    another thing of the same kind; `name_missing` counts the whole word as held by any of its parts."""

    def question_terms(text: str) -> list[str]:
        return [t for terms in lexical.word_terms(text) for t in terms if t in weights]

    def held(terms: list[str]) -> bool:
        return any(lexical.present(t, present) for t in terms)

    missing = []
    for word in WORDS.findall(question):
        *modifiers, head = hyphen_parts(word) or [word]
        head_terms = question_terms(head) if modifiers else []
        if head_terms and held(head_terms):
            lacked = [terms for terms in map(question_terms, modifiers) if terms and not held(terms)]
            missing += [max(weights[t] for t in terms) for terms in lacked]
    return max(missing, default=0.0) / max(weights.values()) if weights else 0.0


def _rarest_missing_word(
    lexical: LexicalIndex,
    question: str,
    weights: dict[str, float],
    present: set[str],
    counts: Callable[[int, str], bool],
) -> float:
    """The weight of the rarest word of `question` that `counts` (by its position and text) and none of whose
    weighted terms `present` holds, relative to the rarest term's."""
    unheld = _missing_words(lexical, question, weights, present, counts)
    missing = [max(weights[t] for t in terms) for _, terms in unheld]
    return max(missing, default=0.0) / max(weights.values()) if weights else 0.0


def _missing_words(
    lexical: LexicalIndex,
    question: str,
    weights: dict[str, float],
    present: set[str],
    counts: Callable[[int, str], bool],
) -> Iterator[tuple[str, list[str]]]:
    """Each word of `question` that `counts` (by its position and text), with its weighted terms, where it has some
    and `present` holds none of them."""
    words = WORDS.findall(question)
    for n, (word, terms) in enumerate(zip(words, lexical.word_terms(question), strict=False)):
        weighted = [t for t in terms if t in weights]
        if counts(n, word) and weighted and not any(lexical.present(t, present) for t in weighted):
            yield word, weighted


# How often a question is asked on a newer snapshot when an article it needs changed meanwhile (`SnapshotMoved`),
# and how many sentences on either side of the best two the answer may read (bot/extractive.py's SPAN_REACH).
TEXT_ATTEMPTS = 3
TEXT_REACH = 2


class Retriever:
    """Searches the index; keeps a snapshot of the catalog and refreshes it when the catalog changes."""

    def __init__(self, index: NewsIndex) -> None:
        self.index = index
        self.settings = index.settings
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self._vectors = StoredVectors(index.store, index.catalog)
        # Older versions copied every vector and built BM25 here once per generation (gigabytes on a large index).
        for leftover in ("vectors", "lexical"):
            shutil.rmtree(self.settings.data_dir / leftover, ignore_errors=True)
        self._query_vector = lru_cache(maxsize=QUERY_CACHE_SIZE)(self._embed_query)
        self._translated_names = TranslatedNames(index.embedder)
        self._runs: tuple[int, list[str]] = (-1, [])

    def _embed_query(self, query: str) -> np.ndarray:
        vector = self.index.embedder.encode_query(query)
        vector.setflags(write=False)  # shared by every later ask of the same question
        return vector

    def snapshot(self) -> Snapshot:
        """The snapshot of the catalog's current generation, also after another process changed it."""
        generation = self.index.follow_outside_changes()
        with self._lock:
            if self._snapshot is None or self._snapshot.generation != generation:
                started = time.perf_counter()
                self._snapshot = Snapshot(self.index, self._vectors, self._snapshot)
                log.info(
                    "loaded %d sentences (generation %d) in %.0f ms",
                    len(self._snapshot.sentences),
                    generation,
                    (time.perf_counter() - started) * 1000,
                )
            return self._snapshot

    def index_runs(self, snapshot: Snapshot) -> list[str]:
        """The recorded starts of indexing runs (`index.indexer.index_runs`), read once per generation."""
        generation, runs = self._runs
        if generation != snapshot.generation:
            runs = index_runs(self.index.catalog)
            self._runs = (snapshot.generation, runs)
        return runs

    def warm_up(self) -> None:
        """Load what questions need (the snapshot) before the first one."""
        self.snapshot()

    def retrieve(
        self,
        question: str,
        context: str = "",
        earlier: str = "",
        language: str | None = None,
        asked_in: str | None = None,
        topic_article: str | None = None,
        given: frozenset[tuple[str, int]] = frozenset(),
    ) -> tuple[Snapshot, Retrieval]:
        """Rank answer candidates for `question`; `context` (earlier questions) widens the search: the query
        vector is then the mean of the question's own and that of context and question together, BM25 over
        both finds candidates, and BM25 over the question's own words scores them. `earlier`, the question
        asked last, gives a follow-up without a question word its kind of answer (expected_answer_pattern).
        `language`, the question's, says which stop words its terms leave out (`LexicalIndex.query_terms`);
        `asked_in`, the question's own language where the conversation's differs (else `language`): in another
        language than the articles, BM25 does not vote on sentences and only names and numbers tell the topic.
        `topic_article`, the conversation's article where its words cannot tell it (`ConversationTopic`): all its
        sentences compete, and it alone gets the topic's part. `given`: sentences (article id, number) the
        conversation showed already, left out of the ranking, so that the refusal signals judge the best of the rest
        (a follow-up asking for more: "Wer noch?").

        The snapshot holds no texts: they are read for the candidates and the best ones' neighbours. Where an
        article changed meanwhile (another process), the question is asked again on the new snapshot."""
        for attempt in range(1, TEXT_ATTEMPTS + 1):
            snapshot = self.snapshot()
            try:
                strict = attempt < TEXT_ATTEMPTS
                return snapshot, self._retrieve(
                    snapshot, question, context, earlier, language, strict, asked_in, topic_article, given
                )
            except SnapshotMoved:
                log.info("an article changed while the question was asked: asking again on the new snapshot")
        raise AssertionError("the last attempt does not raise SnapshotMoved")

    def _retrieve(
        self,
        snapshot: Snapshot,
        question: str,
        context: str,
        earlier: str,
        language: str | None,
        strict: bool,
        asked_in: str | None = None,
        topic_article: str | None = None,
        given: frozenset[tuple[str, int]] = frozenset(),
    ) -> Retrieval:
        """`retrieve` on `snapshot`; `strict`: raise SnapshotMoved where a needed text is gone (else it is empty)."""
        query = f"{context} {question}".strip() if context else question
        own_language = asked_in or language or self.settings.language
        cross_language = own_language != self.settings.language
        timings: dict[str, float] = {}

        started = time.perf_counter()
        vector = self._query_vector(query)
        if context:
            # A follow-up's own words say what it asks for, the context only its topic: with the glued
            # query alone, the sentence that answered the earlier question often wins again.
            vector = vector + self._query_vector(question)
            vector = vector / (np.linalg.norm(vector) or 1.0)
        timings["embed"] = (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        k = self.settings.candidates
        sentence_hits = self._dense_hits(snapshot, vector, min(k, len(snapshot.sentences)))
        terms = snapshot.lexical.query_terms(query, language)  # once: BM25 and the refusal signals both need them
        lexical_hits = snapshot.lexical.search(terms, k)
        context_hits: list[tuple[int, float]] = []
        if context:
            # The conversation's words find the topic's sentences; only the follow-up's own words score
            # them: scored by the glued words, the sentence that answered the earlier question wins again.
            context_hits = lexical_hits
            lexical_hits = snapshot.lexical.search(snapshot.lexical.query_terms(question, language), k)
        # every sentence of the articles either search named, scored exactly: what HNSW missed in them is found
        named = [snapshot.position.get((h.article_id, h.n)) for h in sentence_hits]
        named += [row for row, _ in (*lexical_hits, *context_hits)]
        sentence_hits = self._rescored_articles(snapshot, vector, sentence_hits, named, len(sentence_hits))
        timings["search"] = (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        versions = snapshot.versions
        candidates: dict[int, Candidate] = {}
        for hit in sentence_hits:
            row = snapshot.position.get((hit.article_id, hit.n))
            if row is not None and versions.get(hit.article_id) == hit.version:
                # a vector of a version the catalog no longer (or not yet) points at is skipped
                candidates[row] = Candidate(row, dense=hit.score)
        for row, _ in context_hits:
            candidates.setdefault(row, Candidate(row))
        top_lexical = lexical_hits[0][1] if lexical_hits else 1.0
        for row, score in lexical_hits:
            candidates.setdefault(row, Candidate(row)).lexical = score / top_lexical
        weights = snapshot.lexical.term_weights(terms)
        coverage = ArticleCoverage(snapshot, weights)
        topic = coverage  # which articles hold the question's words: the topic part and the story rule
        if cross_language:
            topic = ArticleCoverage(snapshot, carried_across(snapshot.lexical, query, weights, own_language))
        if topic_article is not None and topic_article in snapshot.position.spans:
            topic = ConversationTopic(snapshot, topic_article)
            for row in range(*snapshot.position.spans[topic_article]):
                candidates.setdefault(row, Candidate(row))
        story = current_story(snapshot, list(candidates), self.index_runs(snapshot), topic)
        if story is not None:  # all its sentences compete, scored as if the two searches had found them
            scores = snapshot.lexical.article_scores(terms, story)
            for row in range(*snapshot.position.spans[story]):
                score = scores.get(snapshot.sentences[row].n, 0.0)
                candidate = candidates.setdefault(row, Candidate(row))
                candidate.story = True
                candidate.lexical = max(candidate.lexical, min(1.0, score / top_lexical))
        if not snapshot.read_texts(candidates) and strict:  # every candidate's text is read below
            raise SnapshotMoved
        self._fill_missing_dense(snapshot, candidates, vector)
        if cross_language:
            share = LANGUAGE_SHARE.get((self.index.embedder.name, own_language, self.settings.language), 0.0)
            without_the_language_share(snapshot, candidates.values(), own_language, self.settings.language, share)
        floor = self._score_passages(snapshot, candidates, vector)
        pattern = expected_answer_pattern(question, earlier)
        # BM25 over a question in another language matches its names (and words alike by accident): a name tells the
        # article, which the topic part weighs, not the sentence, which often says "er" or "die Airline" instead
        lexical_weight = 0.0 if cross_language else LEXICAL_WEIGHT
        for c in candidates.values():
            c.answer_type = bool(pattern and pattern.search(snapshot.sentences[c.row].text))
            c.fused = (
                (c.dense or 0.0)
                + lexical_weight * c.lexical
                + PASSAGE_WEIGHT * (c.passage - floor)
                + ANSWER_TYPE_WEIGHT * c.answer_type
            )
        weigh_topic_and_recency(snapshot, list(candidates.values()), topic)
        ranked = sorted(candidates.values(), key=lambda c: self._sort_key(snapshot, c), reverse=True)
        ranked = collapse_near_duplicates(snapshot, ranked)
        if given:  # after collapsing: another outlet's copy of a sentence already shown went with it
            ranked = [c for c in ranked if place(snapshot.sentences[c.row]) not in given]
        if cross_language:
            ranked = [c for c in ranked if not is_headline_line(snapshot, c.row)]
        around = [r for c in ranked[:2] for r in snapshot.around(c.row, TEXT_REACH)]  # the answer's stretch
        if not snapshot.read_texts(around) and strict:
            raise SnapshotMoved
        ranked = prefer_the_covering_runner_up(snapshot, ranked, weights)
        # what a "Wie viele …?" question counts; a follow-up without a question word counts what the one before did
        counting = question if _NUMBER_QUESTION.search(question) else earlier if pattern is _NUMBER else ""
        counted = counted_thing(counting, language or self.settings.language) if counting else None
        kind = asked_kind(question, earlier)
        articles_language = self.settings.language
        signals = (
            self._signals(
                snapshot,
                ranked,
                weights,
                coverage,
                pattern,
                question,
                counted,
                kind,
                articles_language,
                own_language if cross_language else None,
                self._translated_names,
            )
            if ranked
            else None
        )
        # after the signals: the refusal judges what the search found, this only which of the article's sentences shows
        spans: SpansKept = {}
        ranked = self._showing_the_asked_value(snapshot, ranked, vector, question, earlier, weights, given, spans)
        timings["fuse"] = (time.perf_counter() - started) * 1000
        return Retrieval(ranked, timings, signals, weights, coverage, spans)

    def _showing_the_asked_value(
        self,
        snapshot: Snapshot,
        ranked: list[Candidate],
        vector: np.ndarray,
        question: str,
        earlier: str,
        weights: dict[str, float],
        given: frozenset[tuple[str, int]],
        spans: SpansKept | None = None,
    ) -> list[Candidate]:
        """`ranked` with another sentence of the first one's article first where the answer shown from the first
        holds no value of the kind the question asks (`asked_value`: a time, an age, a span, a number, a price) and
        that sentence does: of those that do, the nearest to the question.

        Not a weight among near ties: an answer without the asked value does not answer, however well it repeats
        the question's names. "Wie alt ist Luis Durnwalder?" found the lead that names him ("… drei Jahre Haft für
        den Ex-Politiker"), ranked by its names and the answer-type weight of any number; the article's "dem
        74-Jährigen" was no candidate at all. Judged on the answer shown, the first sentence and its neighbours,
        not on the sentence alone: "Wie lange pflegt Canonical …?" is answered by the lead's next sentence ("… von
        fünf Jahren"), and another sentence's "neun Monate" would replace a right answer. `spans` keeps the answer
        taken from the first, which the service shows where this keeps it first."""
        from bot.extractive import answer_span  # it builds on this module

        value = asked_value(question, earlier)
        if value is None or not ranked:
            return ranked
        language = self.settings.language  # the value is judged in the articles' words
        first = ranked[0]
        scores = {c.row: c.fused for c in ranked}
        shown, _ = answer_span(snapshot, first, scores, self.settings.max_answer_chars, weights, given, spans)
        if shows_value(value, [shown], question, language):
            return ranked
        rows = [
            row
            for row in range(*snapshot.position.spans[snapshot.article_of(first.row)])
            if row != first.row and place(snapshot.sentences[row]) not in given and not is_headline_line(snapshot, row)
        ]
        snapshot.read_texts(rows)
        holding = [row for row in rows if shows_value(value, [snapshot.sentences[row].text], question, language)]
        if not holding:
            return ranked
        stored = snapshot.sentence_vectors(holding)
        if stored.shape[1] != len(vector):  # vectors of another embedder: nothing tells which is nearer
            return ranked
        similarity = np.nan_to_num(stored @ vector, nan=-1.0)
        chosen = holding[int(np.argmax(similarity))]
        candidate = next((c for c in ranked if c.row == chosen), None)
        if candidate is None:  # no candidate: neither search found it, nor was it near enough to be rescored
            candidate = Candidate(chosen, dense=float(np.max(similarity)), fused=float(np.max(similarity)))
        return [candidate, *(c for c in ranked if c is not candidate)]

    def _dense_hits(self, snapshot: Snapshot, vector: np.ndarray, k: int) -> list[Hit]:
        """The `k` sentences nearest to `vector`: Chroma's search, except for the articles another process changed
        since this process's Chroma segments were loaded (`snapshot.outside`), whose hits there are stale or
        missing. Those are left out of Chroma's hits (more are asked for until `k` others are found) and their
        sentences' vectors, read from the catalog, are scored here: a few dozen dot products per article."""
        store = self.index.store
        outside = snapshot.outside
        if outside is None:
            return store.query(store.sentences, vector, k)
        wanted = k
        while True:
            found = store.query(store.sentences, vector, wanted)
            hits = [h for h in found if h.article_id not in outside.articles]
            if len(hits) >= k or len(found) < wanted:
                break
            wanted *= 2
        norm = float(np.linalg.norm(vector)) or 1.0
        for article_id, rows in outside.sentences.items():
            version = snapshot.versions.get(article_id)
            if version != outside.versions.get(article_id) or not rows:
                continue
            matrix = np.vstack([v for _, v in rows])
            scores = matrix @ vector / (np.linalg.norm(matrix, axis=1) * norm)  # cosine, as Chroma's space
            hits += [Hit(article_id, version, n, float(score)) for (n, _), score in zip(rows, scores, strict=True)]
        return sorted(hits, key=lambda h: h.score, reverse=True)[:k]

    @staticmethod
    def _rescored_articles(
        snapshot: Snapshot, vector: np.ndarray, hits: list[Hit], named: Iterable[int | None], k: int
    ) -> list[Hit]:
        """The `k` sentences nearest to `vector` among every sentence of the articles that the searches named
        (`named`: the rows of Chroma's and BM25's hits), scored exactly from their stored vectors.

        Chroma's HNSW search is approximate, and its graph differs from process to process (HISTORY, "Stop 24"): it
        can miss a question's best sentence, and then mostly its whole article (the haystack's German dev questions:
        12 of 426 best sentences missed, none of their articles among Chroma's hits), while BM25 names the article
        by its words. Scoring all sentences of the named articles (a few hundred to two
        thousand dot products, bounded by the candidates, not by the archive) finds the best sentence of every
        article either search found. An article neither names stays missed, and may be named in one process and
        not in another (the Hinduism question of English dev, HISTORY). Hits of an article version the snapshot does not
        hold are kept as Chroma gave them (fusion skips them); sentences whose vector is missing keep Chroma's
        score if it found them, else they are left out."""
        articles = {snapshot.article_of(row) for row in named if row is not None}
        if not articles or k <= 0:
            return hits
        spans, ordered = snapshot.position.spans, sorted(articles)
        starts = np.cumsum([0] + [spans[a][1] - spans[a][0] for a in ordered])  # each article's first matrix row
        stored, stored_norms = snapshot.article_sentence_vectors(ordered, len(vector))
        norms = stored_norms * (float(np.linalg.norm(vector)) or 1.0)
        scores = stored @ vector / np.where(norms > 0, norms, 1.0)  # cosine, as Chroma's space
        scored = ~np.isnan(scores)
        first_row = {a: int(start) for a, start in zip(ordered, starts.tolist(), strict=False)}
        versions = snapshot.versions

        def rescored(hit: Hit) -> bool:
            start = first_row.get(hit.article_id)
            return start is not None and versions[hit.article_id] == hit.version and bool(scored[start + hit.n])

        merged = [h for h in hits if not rescored(h)]
        valid = np.flatnonzero(scored)
        best = valid[np.argsort(-scores[valid], kind="stable")[:k]]  # Hits for these only: a pool holds thousands
        which = np.searchsorted(starts, best, side="right") - 1
        for i, j in zip(best.tolist(), which.tolist(), strict=True):
            article_id = ordered[j]
            merged.append(Hit(article_id, versions[article_id], i - int(starts[j]), float(scores[i])))
        return sorted(merged, key=lambda h: h.score, reverse=True)[:k]

    def similarity(self, snapshot: Snapshot, question: str, row: int) -> tuple[float, float]:
        """The cosine similarity of `question` alone to sentence `row` and to its passage (NaN: unknown)."""
        vector = self._query_vector(question)
        stored = snapshot.sentence_vectors([row])
        sentence = float(stored[0] @ vector) if stored.shape[1] == len(vector) else math.nan
        passage = snapshot.passage_of(row)
        if passage is None:
            return sentence, math.nan
        stored = snapshot.passage_vectors([passage])
        return sentence, float(stored[0] @ vector) if stored.shape[1] == len(vector) else math.nan

    @staticmethod
    def _fill_missing_dense(snapshot: Snapshot, candidates: dict[int, Candidate], vector: np.ndarray) -> None:
        """Cosine similarity for candidates that only BM25 found, from their stored vectors."""
        missing = [c for c in candidates.values() if c.dense is None]
        if not missing:
            return
        stored = snapshot.sentence_vectors([c.row for c in missing])
        if stored.shape[1] != len(vector):
            for c in missing:
                c.dense = 0.0
            return
        scores = stored @ vector
        for c, score in zip(missing, scores, strict=True):
            c.dense = 0.0 if np.isnan(score) else float(score)

    @staticmethod
    def _score_passages(snapshot: Snapshot, candidates: dict[int, Candidate], vector: np.ndarray) -> float:
        """Give each candidate the cosine similarity of its passage, from the stored passage vectors.

        What counts is how far a passage stands above the PASSAGE_FLOOR_RANK-th best of the candidates'
        passages: lower ones are raised to it, so an unrelated passage costs no more than a weak one.
        Returns that floor.
        """
        passage_of = {c.row: snapshot.passage_of(c.row) for c in candidates.values()}
        rows = sorted({r for r in passage_of.values() if r is not None})
        stored = snapshot.passage_vectors(rows)
        scores: dict[tuple[str, int] | None, float] = {}
        if rows and stored.shape[1] == len(vector):
            # a passage whose vector is missing scores lowest
            scores.update(zip(rows, np.nan_to_num(stored @ vector, nan=-1.0).tolist(), strict=True))
        ranked = sorted(scores.values(), reverse=True)
        floor = ranked[min(len(ranked), PASSAGE_FLOOR_RANK) - 1] if ranked else 0.0
        for c in candidates.values():
            c.passage = max(scores.get(passage_of[c.row], floor), floor)
        return floor

    @staticmethod
    def _signals(
        snapshot: Snapshot,
        ranked: list[Candidate],
        weights: dict[str, float],
        coverage: ArticleCoverage,
        pattern: re.Pattern[str] | None,
        question: str = "",
        counted: str | None = None,
        kind: str | None = None,
        language: str = "de",
        other_language: str | None = None,
        translations: TranslatedNames | None = None,
    ) -> Signals:
        """How well the best candidate covers the question, and how far it stands out from the rest; `counted`, the
        thing a "Wie viele …?" question counts (`bot.names.counted_thing`); `other_language`, the question's where
        it is not the articles'; `translations`, to find its names the article writes otherwise ("Moskau")."""
        best = ranked[0]
        sentence = snapshot.sentences[best.row]
        article_terms = snapshot.article_terms(sentence.article_id)
        context = " ".join(snapshot.sentences[r].text for r in snapshot.around(best.row, 1))
        top_dense = sorted((c.dense or 0.0 for c in ranked), reverse=True)[:10]
        context_terms = snapshot.context_terms(best.row)
        fact = sentences_of_the_fact(snapshot, best.row, weights, across_languages=other_language is not None)
        asked = [snapshot.sentences[r].text for r in fact]
        missing = kind_missing(kind, asked, question, language) if question else dict.fromkeys(WEIGHED, 0.0)
        names_missing = partial(name_missing, snapshot.lexical, question, weights)
        article_names, context_names = article_terms, context_terms
        if other_language:  # its proper names only, held where the article spells them alike or translates them
            named = tagged_names(question, other_language)
            names_missing = partial(proper_name_missing, snapshot.lexical, question, weights, names=named)
            article_names, context_names = spelled_alike(weights, article_terms), spelled_alike(weights, context_terms)
            unheld = names_not_held(snapshot.lexical, question, weights, article_names, named)
            if unheld and translations is not None:  # held where the answer's sentences or headline translate it
                headline = snapshot.articles[sentence.article_id].title
                for name in translations.found(unheld, f"{headline} {context}"):
                    article_names, context_names = article_names | unheld[name], context_names | unheld[name]
        return Signals(
            dense=best.dense or 0.0,
            passage=best.passage or 0.0,
            context_coverage=snapshot.lexical.coverage(weights, context_terms),
            article_coverage=coverage.share(sentence.article_id),
            margin=best.fused - ranked[1].fused if len(ranked) > 1 else 0.0,
            spread=top_dense[0] - float(np.mean(top_dense)),
            rarest_missing=snapshot.lexical.rarest_missing(weights, article_terms),
            index_size=math.log10(max(1, len(snapshot.sentences))),
            context_rarest_missing=snapshot.lexical.rarest_missing(weights, context_terms),
            type_missing=float(bool(pattern and not pattern.search(context))),
            name_missing=names_missing(present=article_names),
            context_name_missing=names_missing(present=context_names),
            number_missing=number_missing(snapshot.lexical, question, weights, context_terms),
            compound_missing=compound_missing(snapshot.lexical, question, weights, article_terms),
            count_missing=count_missing(snapshot, snapshot.around(best.row, 1), counted) if counted else 0.0,
            name_elsewhere=float(
                bool(question and not other_language)
                and names_inside_other_names(snapshot, question, weights, sentence.article_id, language)
            ),
            name_unheld=float(
                bool(question and not other_language)
                and names_the_article_lacks(snapshot, question, weights, sentence.article_id, language)
            ),
            **{f"{kind}_missing": value for kind, value in missing.items()},
            kind_unshown=float(bool(question) and kind_unshown(question, asked, language)),
        )

    @staticmethod
    def _sort_key(snapshot: Snapshot, c: Candidate) -> tuple[bool, float, str]:
        # The story the question means first; on a tie the newer article wins: news that was updated
        # should beat what it replaced.
        article = snapshot.articles[snapshot.article_of(c.row)]
        return (c.story, round(c.fused, 4), published_or_indexed(article))
