"""BM25 over answer sentences (Snowball German stemmer, German stop words, compounds split).

It finds names, numbers and rare words that a dense vector blurs. The catalog keeps every sentence's
terms in SQLite FTS5, written in the transaction that commits the sentence (`CatalogLexicalIndex`), so
a change costs the terms of the articles it changes. `LexicalIndex` is BM25 (bm25s) over a fixed list of
texts, and the analyser both share. The analyser is bm25s's tokenizer written out (it was `bm25s.tokenize`
until bm25s, with SciPy, cost a one-shot question 0.3 s of imports); the catalog's terms depend on it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import re
import sys
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, cached_property
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.catalog import BM25_B, BM25_K1, RANKED_POSTINGS, RESCORED, Catalog, SearchPlan, SentenceRow
from index.texts import STEMMERS

if TYPE_CHECKING:
    import bm25s

log = logging.getLogger(__name__)

# Single characters count: "3" or "5G" must stay searchable.
TOKEN_PATTERN = r"(?u)\b\w+\b"
_TOKEN = re.compile(TOKEN_PATTERN)
# The words of an answer, as its stretch is cut: runs of anything but whitespace.
WORDS = re.compile(r"\S+")
# A hyphen joins the parts of a compound written apart: "Fußball-Weltmeisterschaft".
_HYPHEN = re.compile(r"[-\u2010\u2011]")
# Words of questions that the stop-word lists lack and that say nothing about which sentence answers:
# question words and forms of modal and auxiliary verbs ("Wer", "könnten", "wurde").
QUESTION_STOPWORDS = {
    "de": "wer wen wem wessen wann warum weshalb wieso wohin woher womit wodurch wofür worüber wovor wozu worauf "
    "woran worin wobei wieviel wieviele könnten konnte konnten sollen sollten müssen mussten darf dürfen durfte "
    "wollten wurde wurden worden mag möchte lassen ließ",
    "en": "who whom whose when why where how which what could would should might",
}
# Any question word: a follow-up without one ("Und Ford?") is a fragment of the earlier question.
QUESTION_WORD = re.compile(
    r"\b(wer|wen|wem|wessen|was|wann|wo\w*|wie\w*|welch\w*|warum|weshalb|wieso"
    r"|who|whom|whose|what|when|where|which|why|how)\b",
    re.IGNORECASE,
)
# Languages that write every noun with a capital: there a capitalised word is no sign of a name.
NOUNS_CAPITALISED = frozenset({"de", "lb"})
# Terms that agree in their first letters count as the same word in the coverage of a question: the Snowball
# stemmer leaves participles and nouns apart ("geliefert", "Lieferung") that the question and answer share.
PREFIX = 5


def word_list(text: str) -> frozenset[str]:
    """The words of a word-list file (stop words, remarks, follow-ups asking for more): one a line, blank lines and
    `#` comments left out."""
    lines = (line.strip() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


@cache
def stopwords(language: str) -> frozenset[str]:
    """The language's stop words: bm25s's list, kept in `bot/stopwords.LANGUAGE.txt` (see its header)."""
    return word_list(Path(__file__).with_name(f"stopwords.{language}.txt").read_text(encoding="utf-8"))


@cache
def query_stopwords(language: str) -> frozenset[str]:
    """The stop words and the question words of `language`: what a question's terms leave out. In German each in
    both spellings, with "ß" and with "ss" ("ließ", "liess"; "muss", "muß"): a user without the letter on the
    keyboard, or from Switzerland, types "ss", and the lists hold one spelling of most words."""
    words = stopwords(language) | set(QUESTION_STOPWORDS[language].split())
    if language != "de":
        return words
    return words | {w.replace("ß", "ss") for w in words} | {w.replace("ss", "ß") for w in words}


def capitalises_nouns(language: str) -> bool:
    """Whether `language` writes every noun with a capital ("Auszeichnung"), not only its names."""
    return language in NOUNS_CAPITALISED


def question_words(question: str) -> list[str]:
    """The lower-cased words of `question`, as the analyser cuts them."""
    return _TOKEN.findall(question.lower())


def asks_something(text: str) -> bool:
    """Whether `text` is put as a question: it has a question mark or a question word."""
    return "?" in text or "？" in text or QUESTION_WORD.search(text) is not None


@cache
def remark_words() -> frozenset[str]:
    """The words of thanks and assent of every shipped language (`prompts/remarks.LANGUAGE.txt`)."""
    from index.texts import supported_languages, template

    return frozenset().union(*(word_list(template(f"remarks.{code}.txt")) for code in supported_languages()))


def is_remark(text: str) -> bool:
    """Whether `text` is a remark, not a question: it asks nothing and says only thanks or assent ("Danke!",
    "super, vielen Dank", "Thanks!", "ok"). As follow-ups these got the earlier question's answer again, "Thanks!"
    at 90 %. A closed class of words, on purpose: a terse follow-up typed without a question mark names what it
    asks about ("und in Wien", "And Ford") and stays in the conversation."""
    words = question_words(text)
    return bool(words) and not asks_something(text) and all(word in remark_words() for word in words)


@cache
def more_words(language: str) -> frozenset[str]:
    """The words that ask for more of what was just answered, in `language` (`prompts/more.LANGUAGE.txt`)."""
    from index.texts import supported_languages, template

    if language not in supported_languages():
        return frozenset()
    return word_list(template(f"more.{language}.txt"))


def asks_for_more(question: str, language: str) -> bool:
    """Whether `question` asks only for more of the answer before it ("Wer noch?", "Und sonst?", "Who else?"): it
    holds a word of `more_words` and otherwise stop and question words of `language`. Its own words name nothing
    to search for, and the conversation's search finds the sentence it answered already: "And who else?" repeated
    it. A closed class of words, on purpose: what a follow-up excludes ("beyond that") is no search term; a
    follow-up that names anything ("Wer nimmt noch teil?") is searched as any other."""
    words = question_words(question)
    more = more_words(language)
    stop = query_stopwords(language)
    return any(word in more for word in words) and all(word in more or word in stop for word in words)


def names_something(question: str, language: str) -> bool:
    """Whether `question` holds a word besides the stop and question words of its own language: "Und wann?"
    and "And when?" name nothing to search for. The index's analyser cannot tell for a question in another
    language: to the German stop words, "and" is a word like any other."""
    stop = query_stopwords(language)
    return any(word not in stop for word in question_words(question))


def analyse(texts: list[str], stop: frozenset[str], stem: Callable[[list[str]], list[str]]) -> list[list[str]]:
    """Each text's terms: lower-cased `TOKEN_PATTERN` words, stop words left out, then stemmed.

    The same terms as `bm25s.tokenize(texts, token_pattern=TOKEN_PATTERN, stopwords=stop, stemmer=...,
    return_ids=False)` gives, which wrote the catalogs before (tests/test_lexical_analyser.py checks this).
    """
    return [stem([word for word in _TOKEN.findall(text.lower()) if word not in stop]) for text in texts]


def _with_prefixes(terms: Iterable[str]) -> set[str]:
    """The terms and, for those long enough, their prefixes: how a text's terms are matched to a question's.

    A term's prefixes are its first letters, and those after a participle's "ge" ("geliefert": "gelie",
    "liefe"); gathered in two set comprehensions, not a set per term: an article has hundreds of terms,
    and a question reads those of dozens of articles."""
    found = set(terms)
    heads = {t[:PREFIX] for t in found if len(t) >= PREFIX}
    participles = {t[2 : PREFIX + 2] for t in found if len(t) >= PREFIX + 2 and t.startswith("ge")}
    return found | heads | participles


def joined_terms(terms: Iterable[str]) -> str:
    """Terms (or space-joined runs of them) in one string, each with a space before and after it: what
    `holds` searches, and `terms_of` turns into the set that `LexicalIndex.present` searches."""
    return f" {' '.join(terms)} "


def terms_of(joined: str) -> set[str]:
    """The terms in `joined` (`joined_terms`) with their prefixes, as `LexicalIndex.terms` gives them."""
    return _with_prefixes(joined.split())


def holds(joined: str, term_needles: tuple[str, ...]) -> bool:
    """`LexicalIndex.present(term, terms_of(joined))` for the term whose `needles` are given, by substring search
    instead of building that set; a question's needles are made once for all the articles it reads."""
    return any(map(joined.__contains__, term_needles))


def needles(term: str) -> tuple[str, ...]:
    """What `holds` searches for in `joined_terms`: the set `terms_of` gives holds the terms and their
    PREFIX-letter prefixes (after a "ge" too), so a form of `term` of PREFIX letters is in it when a term
    begins with it or with "ge" and it; a longer or shorter form only when it is a term itself. A needle that holds
    another one is left out: where it is found, so is the other (" gipfel " and " gipfe"), and each is a scan of
    the article's terms."""
    found: list[str] = []
    for form in sorted(_with_prefixes([term])):
        found.extend((f" {form}", f" ge{form}") if len(form) == PREFIX else (f" {form} ",))
    return tuple(needle for needle in found if not any(other != needle and other in needle for other in found))


def matched_terms(word_terms: list[tuple[str, ...]], weights: dict[str, float]) -> list[set[str]]:
    """For each word's terms (`LexicalIndex.word_terms`), the question terms (keys of `weights`) it holds."""
    forms = {term: _with_prefixes([term]) for term in weights}
    return [{term for term, known in forms.items() if not known.isdisjoint(present)} for present in word_terms]


def hyphen_parts(word: str) -> list[str]:
    """The parts of a hyphenated word ("Fußball", "Weltmeisterschaft"): the last is its head, the kind of thing it
    names, the others say which one. A word without a hyphen is its only part."""
    return [part for part in _HYPHEN.split(word) if _TOKEN.search(part)]


def eszett_spellings(word: str, most: int = 3) -> list[str]:
    """`word` with "ß" for one or more of its first `most` "ss" ("Strassenschluss": "Straßenschluss",
    "Strassenschluß", "Straßenschluß"), fewest first."""
    places = [m.start() for m in re.finditer("ss", word)][:most]
    spellings = []
    for count in range(1, len(places) + 1):
        for chosen in combinations(places, count):
            spelled = word
            for place in reversed(chosen):
                spelled = f"{spelled[:place]}ß{spelled[place + 2 :]}"
            spellings.append(spelled)
    return spellings


@cache
def _stemmer(language: str):  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer(STEMMERS[language])


class Decompounder:
    """Adds the parts of German compounds to a text, so "Gipfel" finds "Gipfeltreffen" and back.

    CharSplit (the `compound-split` package) scores split points by n-gram statistics; every word it
    has split is cached on disk, so a large index pays for each word once.
    """

    MIN_LENGTH = 10
    MIN_SCORE = 0.0
    _WORD = re.compile(rf"\b[A-ZÄÖÜ][a-zäöüß]{{{MIN_LENGTH - 1},}}\b")
    # a question's word one letter shorter may be long enough in the articles' spelling: "Fußballer" is "Fussballer"
    _TYPED_WORD = re.compile(rf"\b[A-ZÄÖÜ][a-zäöüß]{{{MIN_LENGTH - 2},}}\b")

    def __init__(self, cache_path: Path | None = None, tables_dir: Path | None = None) -> None:
        """`cache_path`: the words split so far (JSON); `tables_dir`: where the copy of compound-split's
        n-gram tables lives (`bot/compound_ngrams.py`), None for the library's own (2.8 s to import)."""
        self._cache_path = cache_path
        self._tables_dir = tables_dir
        self._parts: dict[str, list[str]] = {}
        self._dirty = False
        if cache_path and cache_path.is_file():
            try:
                self._parts = json.loads(cache_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                log.warning("ignoring unreadable compound cache %s", cache_path)

    def parts(self, word: str) -> list[str]:
        if word not in self._parts:
            self._parts[word] = self._split(word)
            self._dirty = True
        return self._parts[word]

    def _split(self, word: str) -> list[str]:
        from bot.compound_ngrams import splitter

        found = splitter(self._tables_dir)(word)
        if not found or found[0][0] < self.MIN_SCORE:
            return []
        _, head, tail = found[0]
        parts = [head, tail]
        if len(tail) >= self.MIN_LENGTH:
            parts.extend(self._split(tail))
        return parts

    def expand(self, text: str, query: bool = False) -> str:
        """`text` with the parts of its compounds after it; a `query`'s words in the articles' spelling (`spelled`)."""
        if query:
            words = [w for w in map(self.spelled, self._TYPED_WORD.findall(text)) if self._WORD.fullmatch(w)]
        else:
            words = self._WORD.findall(text)
        extra = [part for word in words for part in self.parts(word)]
        return f"{text} {' '.join(extra)}" if extra else text

    def spelled(self, word: str) -> str:
        """A question's `word` typed with "ss" as the articles write it with "ß", where only that spelling was met:
        compound-split's tables are of standard German, and "Aussenminister" did not split where "Außenminister"
        splits into "Außen" and "Minister" (the stemmer folds "ß" into "ss" itself, but only after the split)."""
        if "ss" not in word or word in self._parts:
            return word
        return next((variant for variant in eszett_spellings(word) if variant in self._parts), word)

    def save(self) -> None:
        if self._cache_path and self._dirty:
            self._cache_path.parent.mkdir(parents=True, exist_ok=True)
            # A name of its own: another process may be saving the same cache at this moment.
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=self._cache_path.parent, prefix=".partial-", delete=False
            ) as tmp:
                json.dump(dict(self._parts), tmp, ensure_ascii=False)  # a copy: questions add words meanwhile
            Path(tmp.name).replace(self._cache_path)
            self._dirty = False


class LexicalIndex:
    """A BM25 index over a fixed list of texts; `search` returns (position, score) pairs."""

    def __init__(
        self,
        texts: list[str],
        language: str = "de",
        decompounder: Decompounder | None = None,
    ) -> None:
        """Build BM25 over `texts` in memory; with none, it is the analyser of texts and questions alone."""
        self._language = language
        self._size = len(texts)
        self._decompounder = decompounder if language == "de" else None
        self._bm25: bm25s.BM25 | None = None
        if not texts:
            return
        self._bm25 = _bm25()
        self._bm25.index(self._tokenize(texts), show_progress=False)
        if self._decompounder:
            self._decompounder.save()

    def _tokenize(self, texts: list[str], query: bool = False, language: str | None = None) -> list[list[str]]:
        """`language`, a question's own when it is not the index's: its stop and question words go too."""
        if self._decompounder:
            texts = [self._decompounder.expand(t, query) for t in texts]
        stop = query_stopwords(self._language) if query else stopwords(self._language)
        if language and language != self._language:
            stop = stop | query_stopwords(language)
        return analyse(texts, stop, _stemmer(self._language).stemWords)

    def document_terms(self, title: str, sentences: list[SentenceRow]) -> list[str]:
        """The terms each sentence is found by, space-joined: the headline goes with every sentence but the
        first (the headline itself), as in the embedded text; it names what "er" or "das Team" is."""
        title, sentences = self._without_dateline(title, sentences)
        texts = [sentence_text(title, s) for s in sentences]
        return [" ".join(tokens) for tokens in self._tokenize(texts)] if texts else []

    def _without_dateline(self, title: str, sentences: list[SentenceRow]) -> tuple[str, list[SentenceRow]]:
        """The article's headline and sentences, its dateline left out of the first of them that opens with one
        (`names.dateline_end`). "Wien – " says where a report was filed, not what it is about: 198 of the
        haystack's 1,028 news articles open so, and each held "Wien" for "Wie heißt der Bürgermeister von
        Wien?", which was answered at 73 % from an article on Mürzzuschlag's mayor."""
        from bot.names import dateline_end

        for n, sentence in enumerate(sentences):
            if sentence.n > DATELINE_SENTENCES:
                break
            end = dateline_end(sentence.text, self._language)
            if end:
                cut = dataclasses.replace(sentence, text=sentence.text[end:])
                if sentence.n == 0 and title[:end] == sentence.text[:end]:  # the report's first line is its headline
                    title = title[end:]
                return title, [*sentences[:n], cut, *sentences[n + 1 :]]
        return title, sentences

    def query_terms(self, query: str, language: str | None = None) -> list[str]:
        """The terms of a question that count (stemmed, compounds split, question words left out).

        A question in another `language` than the index's loses its own language's stop and question words:
        to the German analyser "what" and "the" are rare words, found only in the few English sentences
        (quoted tweets) of German articles, which BM25 then ranks first for every English question."""
        return [t for t in self._tokenize([query], query=True, language=language)[0] if t]

    def term_weights(self, terms: list[str]) -> dict[str, float]:
        """The query's terms with their inverse document frequency: rare names weigh, common words little.

        A term the index has never seen gets the highest weight, since an answer that lacks it is suspect.
        """
        tokens = set(terms)
        indptr = self._bm25.scores["indptr"] if self._bm25 is not None else None
        vocabulary = self._bm25.vocab_dict if self._bm25 is not None else {}
        weights = {}
        for token in tokens:
            token_id = vocabulary.get(token)
            frequency = 0 if token_id is None or indptr is None else int(indptr[token_id + 1] - indptr[token_id])
            weights[token] = float(np.log1p((self._size - frequency + 0.5) / (frequency + 0.5)))
        return weights

    def terms(self, text: str) -> set[str]:
        """The distinct index terms (stemmed, compounds split) of `text`, with their prefixes (see PREFIX)."""
        return _with_prefixes(self._tokenize([text])[0])

    def coverage(self, weights: dict[str, float], text: str | set[str]) -> float:
        """Share of the query's weighted terms that `text` (or its `terms`) contains (0 to 1)."""
        total = sum(weights.values())
        if not total:
            return 0.0
        present = self.terms(text) if isinstance(text, str) else text
        return sum(w for token, w in weights.items() if self.present(token, present)) / total

    def rarest_missing(self, weights: dict[str, float], present: set[str]) -> float:
        """The weight of the rarest query term missing from `present`, relative to the rarest term (0 to 1)."""
        missing = [w for token, w in weights.items() if not self.present(token, present)]
        return max(missing, default=0.0) / max(weights.values()) if weights else 0.0

    def word_terms(self, text: str) -> list[tuple[str, ...]]:
        """The terms of each of the `WORDS` of `text`, in order, with their prefixes (see PREFIX).

        Tuples of interned strings: callers cache them for many sentences, in less than half the memory of sets.
        """
        words = WORDS.findall(text)
        return [tuple(map(sys.intern, _with_prefixes(tokens))) for tokens in self._tokenize(words)] if words else []

    @staticmethod
    def present(term: str, present: set[str]) -> bool:
        """Whether the query term `term` (or a prefix of it, see PREFIX) is among the index terms `present`."""
        return not _with_prefixes([term]).isdisjoint(present)

    def search(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        """The `k` best texts for the `query_terms` of a question, as (position, score), best first."""
        if self._bm25 is None or not terms:
            return []
        # get_scores and a partial sort: bm25s's retrieve() adds a thread pool and a progress loop per call
        scores = self._bm25.get_scores(terms)
        k = min(k, self._size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]


def _bm25() -> bm25s.BM25:
    """An empty bm25s index; bm25s (with SciPy) is imported only here, where texts are indexed in memory."""
    import bm25s

    # bm25s sets its own logger to DEBUG on import, which would print to every CLI user's terminal.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s.BM25()


def sentence_text(title: str, sentence: SentenceRow) -> str:
    """What BM25 indexes of a sentence: with the headline before it, but for the headline itself (n = 0)."""
    return f"{title} {sentence.text}" if sentence.n else sentence.text


# Which analysis the catalog's terms were written with: change it when `document_terms` changes (2: datelines out).
ANALYSER_VERSION = 2
# A dateline opens the report: in its headline, a teaser, or the sentence after them (`LexicalIndex.document_terms`).
DATELINE_SENTENCES = 3


def analyser_name(language: str) -> str:
    return f"{language}|{ANALYSER_VERSION}"


class CatalogLexicalIndex(LexicalIndex):
    """BM25 (SQLite FTS5's: k1 1.2, b 0.75) over the terms the catalog keeps for every sentence.

    Nothing is built per generation: a search asks the catalog, and `row_of` maps each hit to the
    snapshot's row, or to None when the hit is of an article version the snapshot does not hold (an
    article changed since). Document frequencies come from FTS5's vocabulary table.
    """

    def __init__(
        self,
        catalog: Catalog,
        size: int,
        row_of: Callable[[str, int, str], int | None],
        language: str = "de",
        decompounder: Decompounder | None = None,
    ) -> None:
        super().__init__([], language, decompounder)
        self._catalog = catalog
        self._size = size
        self._row_of = row_of
        self._counts: dict[str, int] = {}  # document frequencies, read once per snapshot (generation)

    def counts(self, terms: list[str]) -> dict[str, int]:
        """How many sentences hold each of `terms` (0: none). FTS5 counts a term's postings to tell, which
        takes milliseconds for a common term in a large catalog; the snapshot's questions share them."""
        missing = set(terms).difference(self._counts)
        if missing:
            found = self._catalog.term_counts(missing) if self._size else {}
            self._counts.update({term: found.get(term, 0) for term in missing})
        return {term: self._counts[term] for term in terms}

    def search(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        hits = []
        for hit in self._catalog.search_terms(terms, k, self.counts(terms)) if self._size else []:
            row = self._row_of(hit.article_id, hit.n, hit.version)
            if row is not None and hit.score > 0:
                hits.append((row, hit.score))
        return hits

    def article_scores(self, terms: list[str], article_id: str) -> dict[int, float]:
        """The BM25 scores of an article's sentences that hold any of `terms`, by sentence number."""
        return self._catalog.article_term_scores(terms, article_id, self.counts(terms)) if self._size else {}

    def articles_terms(self, versions: dict[str, str]) -> dict[str, str | None]:
        """The index terms of whole articles with their headlines (article id: version) as `joined_terms`,
        from the terms the catalog stored for their sentences (each holds the headline's), in one query:
        analysing the texts again took milliseconds an article, for every article among a question's
        candidates. None for an article when the catalog holds another version of it."""
        # each distinct term once: every sentence repeats the headline's, and `holds` searches the string
        stored = self._catalog.articles_terms(versions) if self._size else dict.fromkeys(versions)
        return {a: None if terms is None else joined_terms([terms]) for a, terms in stored.items()}

    def term_weights(self, terms: list[str]) -> dict[str, float]:
        counts = self.counts(terms)
        return {
            token: float(np.log1p((self._size - counts.get(token, 0) + 0.5) / (counts.get(token, 0) + 0.5)))
            for token in set(terms)
        }


class Vocabulary(dict[str, int]):
    """Term ids, given out as terms come: `vocabulary[term]` adds a term it lacks (`get` does not)."""

    def __missing__(self, term: str) -> int:
        term_id = self[term] = len(self)
        return term_id


def narrow_counts(tfs: np.ndarray) -> np.ndarray:
    """Occurrence counts in one byte where they all fit, else as they are: a term occurs fewer than 256 times in
    a sentence (nearly always), so a posting's count takes one byte instead of two, the counts the same."""
    if tfs.dtype != np.uint8 and (not len(tfs) or int(tfs.max()) <= np.iinfo(np.uint8).max):
        return tfs.astype(np.uint8)
    return tfs


# A segment's rows are kept as offsets from its first row, in two bytes where its rows span at most this many.
ROW_SPAN = 1 << 16


def narrow_rows(docs: np.ndarray, base: int = 0) -> tuple[np.ndarray, int]:
    """`docs` (rows minus `base`) as offsets from their first row, in two bytes where they span at most ROW_SPAN
    rows (a whole segment does: SEGMENT_ROWS), else in four; and that row. A row was 4 of a posting's 5 bytes; in
    two, a posting takes 3: 44 MB less at a million sentences."""
    if not len(docs):
        return np.zeros(0, dtype=np.uint16), 0
    low, high = int(docs.min()), int(docs.max())
    if high - low < ROW_SPAN:
        return (docs - low).astype(np.uint16), base + low
    if docs.dtype == np.int32 and base + low >= 0:
        return docs, base
    return (docs + base).astype(np.int32), 0


@dataclass(frozen=True)
class PostingSegment:
    """The postings of a run of sentence rows, as arrays: for each term id in `keys` (ascending), its rows
    `base + docs[indptr[i]:indptr[i + 1]]` (ascending) and how often it occurs there (`tfs`). Never changed: a
    change appends a segment, and small ones are merged now and then (`TermPostings`)."""

    keys: np.ndarray  # int32 term ids, ascending
    indptr: np.ndarray  # int64, len(keys) + 1
    docs: np.ndarray  # rows minus `base`: uint16 where they span at most ROW_SPAN rows (`narrow_rows`), else int32
    tfs: np.ndarray  # occurrences in the row: uint8 where they fit (`narrow_counts`), else uint16
    rows: int  # how many rows it was built from (the merge policy's measure)
    base: int = 0  # the row that `docs` count from

    def postings(self, term_id: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The rows (int32, ascending) that hold the term and how often, or None."""
        # the id as a scalar of the keys' own type: with a Python int, numpy cast every key first (a copy each time)
        i = int(self.keys.searchsorted(self.keys.dtype.type(term_id)))
        if i == len(self.keys) or self.keys[i] != term_id:
            return None
        start, end = self.indptr[i], self.indptr[i + 1]
        return self._rows(self.docs[start:end]), self.tfs[start:end]

    def _rows(self, docs: np.ndarray) -> np.ndarray:
        if docs.dtype == np.int32 and not self.base:
            return docs  # a view: the segment's arrays never change
        return np.add(docs, np.int32(self.base), dtype=np.int32)

    @cached_property
    def span(self) -> tuple[int, int]:
        """The first and the last row its postings name ((0, -1) without any): a snapshot whose rows in that
        range are all live reads its postings without masking them."""
        if not len(self.docs):
            return (0, -1)
        return (self.base + int(self.docs.min()), self.base + int(self.docs.max()))

    def expanded(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(term id, row, tf) of every posting."""
        return np.repeat(self.keys, np.diff(self.indptr)), self._rows(self.docs), self.tfs

    def moved(self, rows: int) -> PostingSegment:
        """The same postings `rows` rows further on (no copy of the arrays)."""
        return dataclasses.replace(self, base=self.base + rows)

    def pieces(self) -> list[PostingSegment]:
        """This segment as segments whose rows span at most ROW_SPAN each (itself where it does): a file of
        an older newsbot saved segments of 140,000 rows in four bytes a row."""
        low, high = self.span
        if high - low < ROW_SPAN:
            if self.docs.dtype == np.uint16:
                return [self]
            docs, base = narrow_rows(self.docs, self.base)
            return [dataclasses.replace(self, docs=docs, base=base)]
        term_ids, docs, tfs = self.expanded()
        window = (docs - low) // ROW_SPAN
        count = int(window.max()) + 1
        return [
            PostingSegment.of(
                term_ids[window == w],
                docs[window == w],
                tfs[window == w],
                ROW_SPAN if w < count - 1 else max(1, self.rows - w * ROW_SPAN),
            )
            for w in range(count)
        ]

    @staticmethod
    def of(term_ids: np.ndarray, docs: np.ndarray, tfs: np.ndarray, rows: int, base: int = 0) -> PostingSegment:
        """A segment of postings sorted by (term id, row); `docs` count from `base`."""
        if not len(term_ids):
            empty = np.zeros(0, dtype=np.int32)
            return PostingSegment(empty, np.zeros(1, dtype=np.int64), empty, np.zeros(0, dtype=np.uint16), rows)
        starts = np.flatnonzero(np.concatenate(([True], term_ids[1:] != term_ids[:-1])))
        indptr = np.append(starts, len(term_ids)).astype(np.int64)
        keys = term_ids[starts].astype(np.int32)
        docs, base = narrow_rows(docs, base)
        return PostingSegment(keys, indptr, docs, narrow_counts(tfs), rows, base)


class GrowingArray:
    """A numpy array that rows are appended to (capacity doubled as needed). Rows once written never change,
    so a reader of older rows may use whichever buffer it got."""

    def __init__(self, dtype: type) -> None:
        self.data = np.zeros(1024, dtype=dtype)
        self.size = 0

    def extend(self, values: np.ndarray) -> None:
        end = self.size + len(values)
        if end > len(self.data):
            grown = np.zeros(max(end, 2 * len(self.data)), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : end] = values
        self.size = end


class PostingsBuilder:
    """The postings of rows as their terms are read (`Catalog.read_changes`' `terms_to`), a batch at a time:
    term ids in arrays, segments of about SEGMENT_ROWS rows numbered from 0, no term string kept (at a million
    sentences the strings took hundreds of megabytes that the process did not give back). Each segment is sorted
    in place, in one array of 8 bytes a posting: a first start that builds every segment (no saved postings)
    should need little more memory than the postings it keeps (`TermPostings`)."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self._vocabulary = vocabulary
        self.segments: list[PostingSegment] = []
        self.lengths: list[np.ndarray] = []
        self.rowids: list[np.ndarray] = []
        self._ids: list[np.ndarray] = []
        self._lengths: list[np.ndarray] = []
        self._rows = 0  # rows read
        self._first = 0  # the first row not in a segment yet

    def __call__(self, terms: list[str], rowids: list[int]) -> None:
        start = 0
        while start < len(terms):  # a segment ends at exactly SEGMENT_ROWS rows: its rows fit two bytes each
            room = SEGMENT_ROWS - (self._rows - self._first)
            self._read(terms[start : start + room], rowids[start : start + room])
            start += room

    def _read(self, terms: list[str], rowids: list[int]) -> None:
        lengths = np.fromiter((t.count(" ") + 1 if t else 0 for t in terms), dtype=np.int32, count=len(terms))
        tokens = " ".join(terms).split()
        if len(tokens) != int(lengths.sum()):  # terms apart by more than one space
            lengths = np.fromiter((len(t.split()) for t in terms), dtype=np.int32, count=len(terms))
        self._ids.append(np.fromiter(map(self._vocabulary.__getitem__, tokens), dtype=np.int32, count=len(tokens)))
        self._lengths.append(lengths)
        self.lengths.append(lengths)
        self.rowids.append(np.asarray(rowids, dtype=np.int64))
        self._rows += len(terms)
        if self._rows - self._first >= SEGMENT_ROWS:
            self._flush()

    def finish(self) -> None:
        if self._rows > self._first:
            self._flush()

    def take(self, first_row: int) -> tuple[list[PostingSegment], list[np.ndarray], list[np.ndarray]]:
        """The segments built, their rows numbered from `first_row` (renumbered in place, not copied), and the rows'
        lengths and rowids in batches; the builder holds none of them after (at a million sentences a copy of the
        rows was 84 MB more at once)."""
        self.finish()
        segments, lengths, rowids = self.segments, self.lengths, self.rowids
        self.segments, self.lengths, self.rowids = [], [], []
        if first_row:
            segments = [segment.moved(first_row) for segment in segments]
        return segments, lengths, rowids

    def _flush(self) -> None:
        """Sort the postings read since the last segment by (term id, row) as one int64 key each, made and
        sorted in place: the temporaries of doing it array by array were about 200 MB at once for a segment
        of a million-sentence catalog."""
        lengths = np.concatenate(self._lengths)
        keys = np.concatenate(self._ids, dtype=np.int64) if self._ids else np.zeros(0, dtype=np.int64)
        self._ids, self._lengths = [], []
        keys <<= 32
        keys |= np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
        keys.sort()
        first = np.ones(len(keys), dtype=bool)  # where a (term, row) pair starts: its postings are its run
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        del first
        tfs = np.diff(starts, append=len(keys)).astype(np.uint16)
        keys = keys[starts]
        del starts
        docs = (keys & 0xFFFFFFFF).astype(np.int32)  # rows from the segment's first
        keys >>= 32
        self.segments.append(PostingSegment.of(keys, docs, tfs, len(lengths), self._first))
        self._first = self._rows


# Rows per segment built at once (a full read builds several; their rows fit two bytes), and how many smaller
# segments (those changes append) may pile up before they are merged into one: a search looks a term up in every
# segment.
SEGMENT_ROWS = ROW_SPAN
SMALL_SEGMENTS = 8


class TermPostings:
    """BM25's postings of every sentence row of a `RowArena`, in memory as numpy arrays (segments): a change
    appends a segment for its articles' new rows, and a snapshot's mask of live rows leaves out the rows of
    changed or removed articles, as search engines mark deletions. Built from the terms the catalog stores
    (`sentence_terms`), read with the sentences; scored as FTS5 scores them (`SnapshotLexicalIndex`), in a
    few milliseconds where FTS5 took ten at a million sentences. About 22 terms a sentence: 3 bytes each."""

    def __init__(self, vocabulary: Vocabulary | None = None) -> None:
        self.vocabulary = vocabulary if vocabulary is not None else Vocabulary()
        self.segments: tuple[PostingSegment, ...] = ()
        self.lengths = GrowingArray(np.int32)  # terms per row: BM25's document length
        self.rowids = GrowingArray(np.int64)  # the catalog's rowid of each row: FTS5's order among equal scores

    def append(self, first_row: int, built: PostingsBuilder, live: np.ndarray | None = None) -> None:
        """Add the rows `built` read as rows `first_row`…; `live`, the mask of the snapshot being built
        (covering these rows), lets a merge of small segments drop dead rows."""
        assert first_row == self.lengths.size, "rows are appended in order"
        new_segments, lengths, rowids = built.take(first_row)
        segments = [*self.segments, *new_segments]
        for batch_lengths, batch_rowids in zip(lengths, rowids, strict=True):
            self.lengths.extend(batch_lengths)
            self.rowids.extend(batch_rowids)
        small = 0  # the small segments at the end, of the latest rows: merged, the rows stay in ascending order
        while small < len(segments) and segments[-1 - small].rows < SEGMENT_ROWS:
            small += 1
        if small > SMALL_SEGMENTS and live is not None:
            segments = [*segments[:-small], self._merge(segments[-small:], live)]
        self.segments = tuple(segments)

    @staticmethod
    def _merge(segments: list[PostingSegment], live: np.ndarray) -> PostingSegment:
        """One segment of the postings of `segments` whose rows are `live` (dead rows stay dead)."""
        parts = [s.expanded() for s in segments]
        term_ids = np.concatenate([p[0] for p in parts])
        docs = np.concatenate([p[1] for p in parts])
        tfs = np.concatenate([p[2] for p in parts])
        keep = live[docs]
        term_ids, docs, tfs = term_ids[keep], docs[keep], tfs[keep]
        order = np.lexsort((docs, term_ids))
        return PostingSegment.of(term_ids[order], docs[order], tfs[order], sum(s.rows for s in segments))

    def compacted(self, moved: np.ndarray) -> TermPostings:
        """The postings of the rows that `moved` (new row of each old one, -1: dropped, ascending for the
        kept ones) keeps, under their new numbers: for an arena that copied its rows into a new one."""
        kept = np.flatnonzero(moved >= 0)
        new = TermPostings(self.vocabulary)
        new.lengths.extend(self.lengths.data[kept])
        new.rowids.extend(self.rowids.data[kept])
        segments = []
        for segment in self.segments:
            term_ids, docs, tfs = segment.expanded()
            rows = moved[docs]
            keep = rows >= 0
            segments.append(PostingSegment.of(term_ids[keep], rows[keep], tfs[keep], segment.rows))
        new.segments = tuple(segments)
        return new


class SnapshotLexicalIndex(CatalogLexicalIndex):
    """BM25 over one snapshot's rows from `TermPostings` (the live rows of its segments), with the results
    `Catalog.search_terms` gives from FTS5 for the same catalog: the same bounded search (the rarest terms
    find the candidates, every term rescores the best), FTS5's formula and its order among equal scores (the
    catalog's rowid). Searches read no SQLite; article terms still come from the catalog."""

    def __init__(
        self,
        catalog: Catalog,
        postings: TermPostings,
        live: np.ndarray,
        tokens: int,
        spans: dict[str, tuple[int, int]],
        language: str = "de",
        decompounder: Decompounder | None = None,
    ) -> None:
        size = int(np.count_nonzero(live))
        super().__init__(catalog, size, lambda *_: None, language, decompounder)
        self._postings = postings
        self._segments = postings.segments  # those of this snapshot: later changes append others
        self._live = live
        # the segments with no dead row in this snapshot: their postings need no mask (all of them, mostly)
        self._whole = [bool(live[lo : hi + 1].all()) for lo, hi in (s.span for s in self._segments)]
        self._average = tokens / size if size else 1.0
        self._spans = spans
        self._found: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """The live rows that hold `term` (ascending) and how often; the last few hundred terms are kept."""
        with self._lock:
            found = self._found.get(term)
            if found is not None:
                self._found.move_to_end(term)
                return found
        term_id = self._postings.vocabulary.get(term)
        parts = []
        for segment, whole in zip(self._segments, self._whole, strict=True):
            part = segment.postings(term_id) if term_id is not None else None
            if part is None:
                continue
            if not whole:
                keep = self._live[part[0]]
                part = part[0][keep], part[1][keep]
            parts.append(part)
        if len(parts) == 1:
            found = parts[0]  # one segment's (its rows made int32 from their offsets)
        else:
            docs = np.concatenate([d for d, _ in parts]) if parts else np.zeros(0, dtype=np.int32)
            found = docs, np.concatenate([t for _, t in parts]) if parts else np.zeros(0, dtype=np.uint16)
        with self._lock:
            self._found[term] = found
            while len(self._found) > POSTINGS_KEPT:
                self._found.popitem(last=False)
        return found

    def counts(self, terms: list[str]) -> dict[str, int]:
        return {term: len(self.postings(term)[0]) for term in terms}

    def _frequencies(self, term: str, rows: np.ndarray) -> np.ndarray:
        """How often `term` occurs in each of `rows` (ascending), as floats."""
        docs, tfs = self.postings(term)
        # `rows` in the postings' own type, not the postings cast to that of `rows` (a copy of all of them)
        at = np.minimum(docs.searchsorted(rows.astype(docs.dtype, copy=False)), max(0, len(docs) - 1))
        held = docs[at] == rows if len(docs) else np.zeros(len(rows), dtype=bool)
        return np.where(held, tfs[at], 0).astype(np.float64)

    def _scores(self, rows: np.ndarray, terms: list[str], counts: dict[str, int], fts5: bool) -> np.ndarray:
        """BM25 of `rows` (ascending) for `terms` (each occurrence a phrase), summed in their order, as FTS5's
        bm25() computes it in C (`fts5`) or as `Catalog._bm25` does in Python: the same to the last bits."""
        n, k1, b = self._size, BM25_K1, BM25_B
        length = self._postings.lengths.data[rows].astype(np.float64)
        score = np.zeros(len(rows))
        for term in terms:
            idf = math.log((n - counts[term] + 0.5) / (counts[term] + 0.5))
            idf = (idf if idf > 0 else 1e-6) if fts5 else max(1e-6, idf)  # fts5_aux.c floors only idf <= 0
            f = self._frequencies(term, rows)
            if fts5:
                score += idf * ((f * (k1 + 1.0)) / (f + k1 * (1 - b + b * length / self._average)))
            else:
                score += idf * f * (k1 + 1) / (f + k1 * (1 - b + b * length / self._average))
        return score

    def _best(self, rows: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The `k` best of `rows` by score, and on equal scores by the catalog's rowid, as FTS5 orders them."""
        order = np.lexsort((self._postings.rowids.data[rows], -scores))[:k]
        return rows[order], scores[order]

    def _matching(self, terms: Iterable[str]) -> np.ndarray:
        found = [self.postings(t)[0] for t in dict.fromkeys(terms)]
        return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int32)

    def search(self, terms: list[str], k: int) -> list[tuple[int, float]]:
        """`Catalog.search_terms` over this snapshot's rows."""
        if not terms or k <= 0 or not self._size:
            return []
        counts = self.counts(terms)
        plan = SearchPlan.of(terms, counts)
        present, essential, postings = plan.present, plan.essential, plan.postings
        if not present:
            return []
        if plan.ranks_all:  # few: all ranked, as FTS5 does
            rows = self._matching(present)
            rows, scores = self._best(rows, self._scores(rows, present, counts, fts5=True), k)
        else:
            rows = self._matching(essential)
            if postings > RANKED_POSTINGS:  # even the rarest term is common: its newest sentences are searched
                rowids = self._postings.rowids.data[rows]
                newest = np.partition(rowids, len(rowids) - RANKED_POSTINGS)[len(rowids) - RANKED_POSTINGS]
                rows = rows[rowids >= newest]
            rows, _ = self._best(rows, self._scores(rows, essential, counts, fts5=True), max(k, RESCORED))
            rows, scores = self._best(rows, self._scores(rows, present, counts, fts5=False), k)
        return [(row, score) for row, score in zip(rows.tolist(), scores.tolist(), strict=True) if score > 0]

    def article_scores(self, terms: list[str], article_id: str) -> dict[int, float]:
        """`Catalog.article_term_scores` over this snapshot's rows of the article (sentence n is row start + n)."""
        counts = self.counts(terms)
        present = [t for t in terms if counts[t] > 0]
        start, end = self._spans.get(article_id, (0, 0))
        if not present or end <= start:
            return {}
        scores = self._scores(np.arange(start, end), present, counts, fts5=False)
        return {n: score for n, score in enumerate(scores.tolist()) if score > 0}


# Terms whose live postings a snapshot keeps for its next questions (a common term's are a few hundred KB).
POSTINGS_KEPT = 256
