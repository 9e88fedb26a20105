"""Articles: what one source (a file or a web page) holds, read into title, text and metadata.

Reading files lives here (encoding detection, HTML extraction); fetching URLs and feeds lives in
`index.web`. Both end in the same `Article`, whose content hash decides whether it needs re-embedding.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from charset_normalizer import from_bytes

from index.errors import NewsbotError
from index.texts import message

SUPPORTED_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
_MAX_TITLE_CHARS = 160
# Characters that show nothing but split words for BM25 and the embedder: soft hyphens (U+00AD, which
# web pages put inside long words), zero-width spaces and non-joiners (set between letters that must not form a
# ligature, "Auf|lage"), word joiners, and byte-order marks inside a text. The zero-width joiner stays: emoji need it.
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u2060\ufeff]")
# The Latin ligatures (ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ) that text copied from a PDF holds: one character for two or three letters.
_LIGATURE = re.compile("[\ufb00-\ufb06]")


# Line breaks other than a line feed: CR alone (classic Mac files), CR LF, Unicode's line separator (JavaScript and JSON
# text), next line (NEL), vertical tab and form feed; Unicode's paragraph separator (Word) ends a paragraph.
_LINE_BREAK = re.compile("\r\n?|[\u2028\x85\x0b\x0c]")
_PARAGRAPH_SEPARATOR = "\u2029"


def with_plain_line_breaks(text: str) -> str:
    """`text` with every line break a line feed and every paragraph separator a blank line, as the chunker splits
    paragraphs: read as no break at all, a headline ran into the first sentence, separator and all."""
    return _LINE_BREAK.sub("\n", text).replace(_PARAGRAPH_SEPARATOR, "\n\n")


def without_invisible_characters(text: str) -> str:
    """`text` in composed form (NFC), without invisible characters. macOS writes and sends "ü" as "u" plus a
    combining diaeresis (NFD): in that form a word matched neither BM25's terms nor the embedder's tokens of
    the composed one, so a question typed there was less sure of its answer and an article saved there was
    not found by composed questions. Ligatures of text copied from a PDF become their letters ("ﬁ": "fi")."""
    text = _LIGATURE.sub(lambda m: unicodedata.normalize("NFKC", m[0]), _INVISIBLE.sub("", text))
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class Article:
    """One article, ready to chunk. `article_id` is stable: the resolved path or the canonical URL."""

    article_id: str
    source: str
    title: str
    text: str
    url: str | None = None
    published: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Every source (file, page, feed entry) ends here, so this is the one place to clean the text.
        object.__setattr__(self, "title", without_invisible_characters(self.title))
        object.__setattr__(self, "text", with_plain_line_breaks(without_invisible_characters(self.text)))

    @property
    def content_hash(self) -> str:
        digest = hashlib.sha256()
        for part in (self.title, self.text, self.url or "", self.published or ""):
            digest.update(part.encode("utf-8"))
            digest.update(b"\x00")
        return digest.hexdigest()[:16]


def decode_bytes(data: bytes, origin: str, language: str = "de") -> str:
    """Decode text of unknown encoding: UTF-8 first, else charset detection (which knows UTF-16 and
    UTF-32 by their byte-order mark or their zero bytes); refuse binary data, wherever it shows."""
    text = None
    if b"\x00" not in data:  # UTF-8 text has no zero bytes; UTF-16 and UTF-32 text has plenty
        with contextlib.suppress(UnicodeDecodeError):
            text = data.decode("utf-8-sig")
    if text is None:
        best = from_bytes(data).best()
        text = str(best) if best is not None else None
    if text is None or _looks_binary(text):
        raise NewsbotError(message("binary_file", language, path=origin))
    return text


# Control characters that text files do not hold (tab, line feed, form feed and carriage return are text).
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _looks_binary(text: str) -> bool:
    """A zero character anywhere, or more than one control character in a hundred: not an article."""
    return "\x00" in text or len(_CONTROL.findall(text)) > len(text) / 100


def title_from_text(text: str) -> str:
    """The first line, or its first sentence when the first line is a whole lead paragraph.

    The sentence comes from the same German rules as the index's sentences (pysbd), so a headline
    does not end at an abbreviation: "… nach St. Petersburg", not "… nach St.".
    """
    from index.chunking import split_sentences  # imports index.articles: loaded on first use

    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = re.sub(r"^#+\s*", "", first)
    if len(first) > _MAX_TITLE_CHARS:
        sentences = split_sentences(first)
        sentence = sentences[0][2].strip() if sentences else first
        first = sentence if len(sentence) <= _MAX_TITLE_CHARS else sentence[: _MAX_TITLE_CHARS - 1] + "…"
    return first


def markdown_to_text(markdown: str) -> str:
    """The text of a Markdown document, a paragraph per block (heading, paragraph, list item, quote):
    its markup ("# ", "**", a link's address) would show in answers and be read by BM25 and the embedder.
    markdown-it-py parses it; code keeps its text, raw HTML is left out."""
    from markdown_it import MarkdownIt

    blocks = []
    for token in MarkdownIt("commonmark").enable("table").parse(markdown):
        if token.type == "inline":
            parts = []
            for child in token.children or []:
                if child.type in {"text", "code_inline"}:
                    parts.append(child.content)
                elif child.type in {"softbreak", "hardbreak"}:
                    parts.append(" ")
                elif child.type == "image":  # its alt text
                    parts.extend(c.content for c in child.children or [] if c.type == "text")
            blocks.append(re.sub(r"[ \t]+", " ", "".join(parts)).strip())
        elif token.type in {"fence", "code_block"}:
            blocks.append(token.content.strip())
    return "\n\n".join(block for block in blocks if block)


def article_from_html(html: str, article_id: str, source: str, url: str | None = None, language: str = "de") -> Article:
    """Extract the main text and metadata of an HTML page with trafilatura (boilerplate removed)."""
    import trafilatura

    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=False, favor_recall=True)
    meta = trafilatura.extract_metadata(html, default_url=url)
    title = (meta.title if meta and meta.title else "") or ""
    if not text or not text.strip():
        raise NewsbotError(message("empty_article", language, path=source))
    canonical = (meta.url if meta and meta.url else None) or url
    published = meta.date if meta and meta.date else None
    if published and published[5:10] == "01-01" and not trafilatura.extract_metadata(html, url, extensive=False).date:
        # htmldate's last resort: a year the text mentions, or its copyright year, as the 1st of January. Dated so,
        # a page was shown with that date, aged by it, and removed at once by a retention shorter than its "age".
        published = None
    if not title:
        title = title_from_text(text)
    elif not text.lstrip().startswith(title):
        # Keep the headline searchable: many questions are answered by it.
        text = f"{title}\n\n{text}"
    return Article(article_id, source, title, text.strip(), canonical, published)


def read_article_file(path: Path, max_chars: int | None = None, language: str = "de") -> Article:
    """Read one .txt, .md or .html file into an Article; unreadable input is a `NewsbotError` (in `language`).

    A file longer than `max_chars` characters is refused, one far larger without reading it.
    """
    if path.is_symlink() and not path.exists():
        raise NewsbotError(message("dangling_link", language, path=str(path)))
    resolved = path.resolve()
    if resolved.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise NewsbotError(message("unsupported_file", language, path=str(path)))
    try:
        status = resolved.stat()
        if not stat.S_ISREG(status.st_mode):  # reading a pipe would wait forever, a device never ends
            raise NewsbotError(message("not_regular_file", language, path=str(path)))
        if max_chars is not None and status.st_size > 4 * max_chars:  # no encoding takes over 4 bytes a character
            raise NewsbotError(message("article_too_large", language, path=str(path), limit=max_chars))
        data = resolved.read_bytes()
    except OSError as error:
        raise NewsbotError(message("unreadable_file", language, path=str(path), reason=error.strerror or "")) from error
    text = decode_bytes(data, str(path), language)
    article_id = resolved.as_posix()
    if resolved.suffix.lower() in {".html", ".htm"}:  # markup does not count: the indexer checks the text
        return article_from_html(text, article_id, article_id, language=language)
    if max_chars is not None and len(text) > max_chars:
        raise NewsbotError(message("article_too_large", language, path=str(path), limit=max_chars))
    text = text.replace("\r\n", "\n").strip()
    if resolved.suffix.lower() in MARKDOWN_SUFFIXES:
        text = markdown_to_text(text)
    if not text:
        raise NewsbotError(message("empty_article", language, path=str(path)))
    return Article(article_id, article_id, title_from_text(text), text)


def find_article_files(path: Path, language: str = "de") -> list[Path]:
    """The supported files at `path` (a file, or a folder searched recursively), in a stable order."""
    if not path.exists():
        raise NewsbotError(message("path_missing", language, path=str(path)))
    if path.is_file():
        return [path]
    if not path.is_dir():  # a device such as /dev/null, or a pipe: nothing to index, and that is an error
        raise NewsbotError(message("not_regular_file", language, path=str(path)))
    # Anything but a folder is listed, not only regular files: a pipe or a link to nothing with an
    # article's name is reported by `read_article_file` with its reason instead of left out unseen.
    return sorted(
        p
        for p in path.rglob("*")
        if not p.is_dir()
        and p.suffix.lower() in SUPPORTED_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )
