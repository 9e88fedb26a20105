"""Property tests (hypothesis): whatever text users or articles bring — surrogates, control characters,
markdown, huge lengths — the core raises nothing but `NewsbotError`, and what the faces render stays
valid text within Discord's limits."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import discord
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import render_answer
from bot.discord.formatting import (
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELD_VALUE_LIMIT,
    EMBED_FOOTER_LIMIT,
    EMBED_TITLE_LIMIT,
    EMBED_TOTAL_LIMIT,
    MESSAGE_LIMIT,
    THREAD_NAME_LIMIT,
    answer_embed,
    articles_embed,
    report_text,
    sources_field,
    split_message,
    thread_name,
)
from bot.result import Answer, Source
from bot.service import NewsService, validate_question
from index.catalog import ArticleRecord
from index.errors import NewsbotError
from index.indexer import IndexReport
from index.settings import Settings
from tests.conftest import REPO
from tests.fakes import HashedBagOfWords

T = TypeVar("T")
FUZZ = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
CONTROLS = st.characters(max_codepoint=0x9F, categories=["Cc"])
MARKDOWN = st.sampled_from(
    [
        "*",
        "**",
        "_",
        "`",
        "```",
        "~~",
        "||",
        ">",
        "# ",
        "[",
        "]",
        "(",
        ")",
        "\\",
        "@everyone",
        "<@123>",
        "](https://x.y)",
    ]
)
WORDS = st.sampled_from(["Wo", "Gipfel", "Budapest", "stattfinden", "Wien", "Grad", "?", " ", "\n", "\u00ad", "😀"])
# Valid text (what an article or Discord can hold) and anything a terminal or JSON can hand over.
VALID_TEXT = st.lists(st.one_of(st.text(max_size=30), MARKDOWN, WORDS, CONTROLS), max_size=40).map("".join)
ANY_TEXT = st.lists(st.one_of(st.text(max_size=30), MARKDOWN, WORDS, CONTROLS, SURROGATES), max_size=40).map("".join)
LONG_TEXT = st.one_of(VALID_TEXT, st.tuples(VALID_TEXT, st.integers(1, 400)).map(lambda t: t[0] * t[1]))
URLS = st.one_of(st.none(), st.just("https://example.org/a(b) c"), VALID_TEXT.map(lambda t: f"https://x.org/{t}"))


def attempt(call: Callable[[], T]) -> T | None:
    """The call's result, or None when it raised a `NewsbotError` (whose message must be valid text)."""
    try:
        return call()
    except NewsbotError as error:
        error.message.encode("utf-8")
        return None


def encodes(text: str) -> bool:
    text.encode("utf-8")
    return True


def assert_fits(embed: discord.Embed) -> None:
    """Discord rejects an embed over any of its limits, or with text that is not valid Unicode."""
    assert len(embed) <= EMBED_TOTAL_LIMIT
    assert len(embed.title or "") <= EMBED_TITLE_LIMIT
    assert len(embed.description or "") <= EMBED_DESCRIPTION_LIMIT
    assert len(embed.footer.text or "") <= EMBED_FOOTER_LIMIT
    for field in embed.fields:
        assert 0 < len(field.value or "") <= EMBED_FIELD_VALUE_LIMIT
        assert len(field.name or "") <= 256
    json.dumps(embed.to_dict(), ensure_ascii=False).encode("utf-8")


@pytest.fixture(scope="module")
def fuzz_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("fuzz") / "data", refusal_threshold=0.3)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def service(fuzz_settings: Settings) -> NewsService:
    """A small real index (the example articles, fake embedder), built once for all examples."""
    news = NewsService.open(fuzz_settings, HashedBagOfWords())
    news.index_paths([REPO / "examples" / "articles"])
    return news


@FUZZ
@given(question=ANY_TEXT)
def test_validate_question_returns_clean_text_or_a_user_error(fuzz_settings: Settings, question: str):
    text = attempt(lambda: validate_question(fuzz_settings, question))
    if text is None:
        return
    assert encodes(text)
    assert text
    assert len(text) <= fuzz_settings.max_question_chars
    assert text == text.strip()
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text)
    assert validate_question(fuzz_settings, text) == text  # cleaning twice changes nothing


@FUZZ
@given(question=st.one_of(ANY_TEXT, st.tuples(ANY_TEXT, st.integers(1, 200)).map(lambda t: t[0] * t[1])))
def test_ask_answers_or_refuses_and_every_face_renders_it(service: NewsService, question: str):
    answer = attempt(lambda: service.ask(question))
    if answer is None:
        return
    assert encodes(json.dumps(answer.to_json(), ensure_ascii=False))
    assert encodes(render_answer(answer))
    assert_fits(answer_embed(answer))
    name = thread_name(answer.question)
    assert 0 < len(name) <= THREAD_NAME_LIMIT
    assert encodes(name)


sources = st.builds(
    Source,
    title=LONG_TEXT,
    source=LONG_TEXT,
    snippet=LONG_TEXT,
    score=st.floats(-1, 2, allow_nan=False),
    url=URLS,
    published=st.one_of(st.none(), st.just("2025-10-17T08:00:00")),
)
answers = st.builds(
    Answer,
    question=LONG_TEXT,
    text=LONG_TEXT,
    answered=st.booleans(),
    sources=st.lists(sources, max_size=12),
    confidence=st.floats(0, 1),
    note=st.one_of(st.none(), LONG_TEXT),
    mode=st.sampled_from(["extractive", "llm", "extractive-fallback"]),
    cited=st.lists(st.integers(-2, 14), max_size=4).map(tuple),
)


@FUZZ
@given(answer=answers)
def test_formatters_keep_any_answer_within_discords_limits(answer: Answer):
    assert_fits(answer_embed(answer))
    assert len(sources_field(answer.sources)) <= EMBED_FIELD_VALUE_LIMIT
    assert 0 < len(thread_name(answer.question)) <= THREAD_NAME_LIMIT
    assert encodes(render_answer(answer))
    assert encodes(render_answer(answer, text_shown=True))


@FUZZ
@given(text=LONG_TEXT)
def test_split_message_keeps_every_part_within_the_message_limit(text: str):
    parts = split_message(text)
    assert all(0 < len(part) <= MESSAGE_LIMIT for part in parts)


records = st.builds(
    ArticleRecord,
    article_id=LONG_TEXT,
    source=LONG_TEXT,
    title=LONG_TEXT,
    url=URLS,
    published=st.none(),
    indexed_at=st.just("2025-10-17T08:00:00+00:00"),
    version=st.just("0123456789abcdef"),
    chunk_count=st.integers(0, 50),
    sentence_count=st.integers(0, 500),
    origin=st.sampled_from(["file", "url", "feed", None]),
)


@FUZZ
@given(
    listing=st.lists(records, max_size=25), page=st.integers(-3, 5), failures=st.lists(st.tuples(LONG_TEXT, LONG_TEXT))
)
def test_listings_and_reports_stay_within_discords_limits(listing: list[ArticleRecord], page: int, failures):  # type: ignore[no-untyped-def]
    assert_fits(articles_embed(listing, page))
    text = report_text([IndexReport(added=["a"], failed=failures)])
    assert 0 < len(text) <= MESSAGE_LIMIT
    assert encodes(text)


def test_the_fuzzed_index_is_not_empty(service: NewsService):
    """The ask property above means something only when questions reach a real index."""
    assert service.status().articles == len(list(Path(REPO / "examples" / "articles").iterdir()))
