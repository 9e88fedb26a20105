"""Splits an article into chunks (passages shown as sources) and sentences (answer candidates).

Chunks come from LangChain's recursive splitter at paragraph and sentence boundaries, sized well under
the embedder's 512-token window; sentences come from pysbd's German rules (abbreviations, dates and
ordinals such as "3. Oktober" do not end a sentence). Every sentence knows the chunk it belongs to.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass
from functools import cache

from langchain_text_splitters import RecursiveCharacterTextSplitter

from index.articles import Article

# A sentence longer than this is split further; it would be too long to show as an answer anyway.
MAX_SENTENCE_CHARS = 400
_PARAGRAPH = re.compile(r"\n\s*\n|\n")


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    start: int


@dataclass(frozen=True)
class Sentence:
    index: int
    text: str
    start: int
    chunk: int
    paragraph: int


@dataclass(frozen=True)
class SplitArticle:
    chunks: list[Chunk]
    sentences: list[Sentence]


@cache
def _segmenter(language: str):  # type: ignore[no-untyped-def]
    import pysbd

    return pysbd.Segmenter(language=language, clean=False, char_span=False)


@cache
def _chunk_splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=["\n\n", "\n", r"(?<=[.!?])\s+", "; ", ", ", " ", ""],
        is_separator_regex=True,
        add_start_index=True,
        keep_separator="end",  # with False, LangChain joins the pieces with the regex pattern itself
        strip_whitespace=True,
    )


@cache
def _long_sentence_splitter() -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=MAX_SENTENCE_CHARS, chunk_overlap=0, separators=["; ", ": ", ", ", " ", ""]
    )


def _whole_sentences(segments: list[str]) -> list[str]:
    """pysbd's segments, joined again where it cut without whitespace: "Die FRITZ!" + "Box 5490 …",
    "K." + "-o." + "-Phase", "Wetten, keiner schafft es?" + ", fragt er." A sentence ends before
    whitespace or at the end of its paragraph (pysbd keeps the whitespace, with clean=False)."""
    merged: list[str] = []
    for segment in segments:
        if merged and merged[-1] and not merged[-1][-1].isspace():
            merged[-1] += segment
        else:
            merged.append(segment)
    return merged


# What joins one ordinal to the next: "18. und 19.", "3. bis 5.", "18. – 19.".
_JOINING_WORD = r"(?:und|bis|oder|sowie|bzw\.|–|—|-|/)"
# A segment that is an ordinal alone, or with its joining word: pysbd reads "des 18. und 19. Jahrhunderts" as a
# numbered list and cuts it into "Im Laufe des" | "18. und" | "19. Jahrhunderts …".
_BARE_ORDINAL = re.compile(rf"\d{{1,4}}\.(?P<joined>\s+{_JOINING_WORD})?\s*", re.IGNORECASE)
_STARTS_JOINED = re.compile(rf"{_JOINING_WORD}\s", re.IGNORECASE)
_ENDS_SENTENCE = re.compile(r"[.!?:;…\"'»«“”)\]]\s*$")


def _ordinals_joined(segments: list[str]) -> list[str]:
    """`segments` with an ordinal that pysbd cut off as a list item put back into its sentence: "Im Laufe des" +
    "18. und" + "19. Jahrhunderts …" is one sentence, and so is "Im" + "18." + "– 19. Jahrhundert …". A ranking's
    line ("6. Tomasz Majewski stieß …") holds more than an ordinal and its joining word: it stays on its own."""
    merged: list[str] = []
    pulls_next = False  # the last segment was an ordinal joined to what follows ("18. und")
    bare_before = False  # the last segment was an ordinal alone ("18."): a joining word next continues it
    for segment in segments:
        bare = _BARE_ORDINAL.fullmatch(segment)
        continues = pulls_next or (bare_before and _STARTS_JOINED.match(segment) is not None)
        if bare is not None and merged and not _ENDS_SENTENCE.search(merged[-1]):
            continues = True  # "Im Laufe des" + "18. und"
        if merged and continues:
            merged[-1] += segment
        else:
            merged.append(segment)
        pulls_next = bare is not None and bare["joined"] is not None
        bare_before = bare is not None and bare["joined"] is None
    return merged


# pysbd's rules rewrite a whole paragraph once for every abbreviation they find in it, so its cost grows with
# the square of a paragraph's length; a longer paragraph is read in windows of about this many characters.
WINDOW_CHARS = 4000


def _segments(paragraph: str, language: str) -> list[str]:
    """pysbd's sentences of `paragraph`, each with the whitespace after it (what `Segmenter.segment` returns
    with clean=False), in time linear in the paragraph's length.

    Each window's last two sentences are read again at the start of the next window, since the window's
    end may have cut them.
    """
    found: list[str] = []
    start = 0
    while start < len(paragraph):
        end = len(paragraph) if len(paragraph) - start <= 2 * WINDOW_CHARS else start + WINDOW_CHARS
        spans = _sentence_spans(paragraph, start, end, language)
        if end < len(paragraph):
            if len(spans) > 2:
                spans = spans[:-2]
            else:  # one sentence longer than the window: cut at its last space (it is split further anyway)
                cut = paragraph.rfind(" ", start, end) + 1
                spans = [(start, cut if cut > start else end)]
        if not spans:
            break
        found.extend(paragraph[begin:stop] for begin, stop in spans)
        start = spans[-1][1]
    return found


def _sentence_spans(paragraph: str, start: int, end: int, language: str) -> list[tuple[int, int]]:
    """(begin, end) in `paragraph` of pysbd's sentences of `paragraph[start:end]`, trailing whitespace included.

    pysbd's own `segment` finds each sentence by a regex search from the text's start, compiled anew for
    every sentence: quadratic, and it evicts pysbd's rule patterns from `re`'s cache. A cursor finds them
    in one pass.
    """
    window = paragraph[start:end]
    spans: list[tuple[int, int]] = []
    cursor = 0
    for sentence in _segmenter(language).processor(window).process() or []:
        at = window.find(sentence, cursor)
        if at < 0:  # pysbd's `segment` drops such a sentence too
            continue
        stop = at + len(sentence)
        while stop < len(window) and window[stop].isspace():
            stop += 1
        spans.append((start + at, start + stop))
        cursor = stop
    return spans


def split_sentences(text: str, language: str = "de") -> list[tuple[int, int, str]]:
    """(start offset, paragraph number, sentence) for every sentence of `text`, paragraph by paragraph."""
    found: list[tuple[int, int, str]] = []
    position = 0
    for paragraph_number, paragraph in enumerate(_PARAGRAPH.split(text)):
        paragraph_start = text.find(paragraph, position)
        position = paragraph_start + len(paragraph)
        if not paragraph.strip():
            continue
        cursor = paragraph_start
        for raw in _ordinals_joined(_whole_sentences(_segments(paragraph, language))):
            sentence = raw.strip()
            if not sentence:
                continue
            pieces = [sentence]
            if len(sentence) > MAX_SENTENCE_CHARS:
                pieces = _long_sentence_splitter().split_text(sentence)
            for piece in pieces:
                start = text.find(piece, cursor)
                if start < 0:
                    start = cursor
                found.append((start, paragraph_number, piece))
                cursor = start + len(piece)
    return found


def split_article(article: Article, chunk_size: int, chunk_overlap: int, language: str = "de") -> SplitArticle:
    """Chunks and sentences of one article, with each sentence mapped to the first chunk that holds it."""
    documents = _chunk_splitter(chunk_size, chunk_overlap).create_documents([article.text])
    chunks = [Chunk(i, doc.page_content, int(doc.metadata.get("start_index", 0))) for i, doc in enumerate(documents)]
    # Chunks follow each other: their starts and their ends grow, so two binary searches find a sentence's
    # chunk (a scan of all chunks for every sentence made long articles quadratic).
    starts = [c.start for c in chunks]
    ends = [c.start + len(c.text) for c in chunks]
    ordered = all(a <= b for a, b in itertools.pairwise(ends))
    sentences: list[Sentence] = []
    for i, (start, paragraph, text) in enumerate(split_sentences(article.text, language)):
        end = start + len(text)
        if ordered:
            first_holding = bisect.bisect_left(ends, end)  # the first chunk that reaches past the sentence
            after_start = bisect.bisect_right(starts, start)  # chunks before this one begin before the sentence
            holder = first_holding if first_holding < after_start else max(after_start - 1, 0)
        else:
            holder = next(
                (c.index for c in chunks if c.start <= start and end <= c.start + len(c.text)),
                max((c.index for c in chunks if c.start <= start), default=0),
            )
        sentences.append(Sentence(i, text, start, holder, paragraph))
    return SplitArticle(chunks, sentences)


# Words of the headline put before each sentence: enough to tell articles apart, short enough that
# embedding stays close to the cost of the article text itself (a long lead as title doubled it).
TITLE_CONTEXT_WORDS = 8


def sentence_embedding_text(title: str, sentence: str) -> str:
    """What gets embedded for an answer candidate: the sentence with the start of its headline as context."""
    context = " ".join(title.split()[:TITLE_CONTEXT_WORDS])
    if not context or sentence.startswith(context):
        return sentence
    return f"{context}: {sentence}"
