"""Splits an article into chunks (passages shown as sources) and sentences (answer candidates).

Chunks come from LangChain's recursive splitter at paragraph and sentence boundaries, sized well under
the embedder's 512-token window; sentences come from pysbd's German rules (abbreviations, dates and
ordinals such as "3. Oktober" do not end a sentence). Every sentence knows the chunk it belongs to.
"""

from __future__ import annotations

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


def split_sentences(text: str, language: str = "de") -> list[tuple[int, int, str]]:
    """(start offset, paragraph number, sentence) for every sentence of `text`, paragraph by paragraph."""
    segmenter = _segmenter(language)
    found: list[tuple[int, int, str]] = []
    position = 0
    for paragraph_number, paragraph in enumerate(_PARAGRAPH.split(text)):
        paragraph_start = text.find(paragraph, position)
        position = paragraph_start + len(paragraph)
        if not paragraph.strip():
            continue
        cursor = paragraph_start
        for raw in _whole_sentences(segmenter.segment(paragraph)):
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
    sentences: list[Sentence] = []
    for i, (start, paragraph, text) in enumerate(split_sentences(article.text, language)):
        end = start + len(text)
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
