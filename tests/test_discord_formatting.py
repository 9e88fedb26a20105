"""Embeds and messages built for Discord stay within its limits and show what users need."""

from __future__ import annotations

import dataclasses
import re

import pytest

from bot.discord.formatting import (
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELD_VALUE_LIMIT,
    EMBED_TITLE_LIMIT,
    EMBED_TOTAL_LIMIT,
    MESSAGE_LIMIT,
    THREAD_NAME_LIMIT,
    answer_embed,
    articles_embed,
    report_text,
    split_message,
    status_embed,
    thread_name,
    truncate,
)
from bot.ops import format_duration
from bot.result import Answer, Source
from bot.service import Status
from index.catalog import ArticleRecord
from index.indexer import IndexReport
from index.texts import message, message_keys


def web_source(n: int = 1, title: str = "Gipfel in Budapest", url: str = "https://news.example/gipfel") -> Source:
    return Source(title=title, source=url, snippet="…", score=0.8, article_id=url, url=url)


def file_source(title: str = "Hitzewelle in Wien", path: str = "/data/articles/wetter.md") -> Source:
    return Source(title=title, source=path, snippet="…", score=0.7, article_id=path)


def answered(text: str = "In Budapest.", sources: list[Source] | None = None, confidence: float = 0.534) -> Answer:
    return Answer(
        "Wo soll der Gipfel stattfinden?",
        text,
        True,
        [web_source(), file_source()] if sources is None else sources,
        confidence,
    )


def record(n: int, title: str = "Artikel", url: str | None = None) -> ArticleRecord:
    return ArticleRecord(
        f"id-{n}", f"/data/a{n}.txt", f"{title} {n}", url, None, "2025-11-20T10:00:00+00:00", "v1", 3, 9
    )


def assert_within_limits(embed) -> None:
    assert len(embed) <= EMBED_TOTAL_LIMIT
    assert len(embed.title or "") <= EMBED_TITLE_LIMIT
    assert len(embed.description or "") <= EMBED_DESCRIPTION_LIMIT
    assert all(len(field.value or "") <= EMBED_FIELD_VALUE_LIMIT for field in embed.fields)


def test_truncate_keeps_short_text_and_cuts_long_text_at_a_word_with_an_ellipsis():
    assert truncate("kurz", 10) == "kurz"
    cut = truncate("Der Gipfel soll in Budapest stattfinden", 20)
    assert len(cut) <= 20
    assert cut == "Der Gipfel soll in…"


def test_split_message_keeps_every_part_within_the_limit_and_loses_no_word():
    text = "\n".join(f"Zeile {n} " + "wort " * 30 for n in range(200))
    parts = split_message(text)
    assert len(parts) > 1
    assert all(len(part) <= MESSAGE_LIMIT for part in parts)
    assert " ".join(parts).split() == text.split()


def test_split_message_cuts_a_single_overlong_word_hard():
    parts = split_message("x" * 4500)
    assert [len(p) for p in parts] == [2000, 2000, 500]


def test_answer_embed_shows_answer_linked_sources_and_a_footer_with_passages_and_certainty():
    embed = answer_embed(answered())
    assert embed.title == "Wo soll der Gipfel stattfinden?"
    assert embed.description == "In Budapest."
    (field,) = embed.fields
    assert field.name == "Quellen"
    assert "[Gipfel in Budapest](https://news.example/gipfel)" in field.value
    assert "Hitzewelle in Wien (wetter.md)" in field.value
    assert "/data/articles" not in field.value  # the server's paths are nobody's business
    assert embed.footer.text == "2 Passagen · Sicherheit 53 %"
    assert embed.footer.text.endswith(message("answer_confidence", percent=answered().confidence_percent))  # as the CLI


def test_an_answer_to_an_english_question_is_labelled_in_english_on_a_german_server():
    answer = dataclasses.replace(answered(sources=[web_source()]), language="en", used_history=True)
    embed = answer_embed(answer, "de")
    assert embed.fields[0].name == message("discord_sources_label", "en") != message("discord_sources_label", "de")
    assert message("answer_confidence", "en", percent=answer.confidence_percent) in embed.footer.text
    assert "Sicherheit" not in embed.footer.text
    assert embed.description.endswith(f"*{message('history_used', 'en')}*")
    german = answered(sources=[web_source()])
    assert answer_embed(german, "de").fields[0].name == message("discord_sources_label", "de")


def test_a_refusal_is_the_friendly_text_without_sources_or_footer():
    refused = Answer("Wie hoch ist der Eiffelturm?", message("refusal"), False, [web_source()], 0.41)
    embed = answer_embed(refused)
    assert embed.description == message("refusal_friendly")
    assert embed.fields == []
    assert embed.footer.text is None


def test_answer_embed_stays_within_every_discord_limit_for_huge_answers():
    sources = [web_source(n, title="T" * 400, url=f"https://news.example/{n}/" + "a" * 200) for n in range(30)]
    huge = Answer("F" * 1000, "Antwort " * 2000, True, sources, 0.9, note="Hinweis " * 300)
    embed = answer_embed(huge)
    assert_within_limits(embed)
    assert embed.fields[0].value.endswith("weitere")  # sources that did not fit are counted, not cut


def outside_code(markdown: str) -> str:
    """What Discord renders as text rather than inline code: the only place a URL becomes clickable."""
    return re.sub(r"`[^`]*`", "", markdown)


def test_article_text_cannot_plant_a_masked_link_or_formatting():
    embed = answer_embed(answered(text="[Hier klicken](https://evil.example) **laut**"))
    assert "://" not in outside_code(embed.description)
    assert "Hier klicken (`https://evil.example`)" in embed.description  # the target is shown, not hidden
    assert "\\*\\*laut\\*\\*" in embed.description


@pytest.mark.parametrize(
    "text",
    [
        "Mehr auf der [offiziellen Seite](https://evil.example/login).",
        "Mehr auf der \\[offiziellen Seite](https://evil.example/login).",
        "Melden Sie sich an: https://evil.example/login [1]",
        'Siehe <https://evil.example/login> und [x](<https://evil.example> "Titel")',
        "Öffnen: steam://evil.example/run",
    ],
)
def test_links_in_answer_text_are_shown_but_never_clickable(text):
    description = answer_embed(answered(text=text)).description
    assert "://" not in outside_code(description)
    assert "evil.example" in description


def test_links_the_bot_builds_for_its_sources_stay_clickable_beside_an_inert_answer():
    embed = answer_embed(answered(text="Siehe https://evil.example.", sources=[web_source()]))
    assert outside_code(embed.description) == "Siehe ."
    assert "[Gipfel in Budapest](https://news.example/gipfel)" in embed.fields[0].value


def test_a_link_in_a_title_without_url_is_not_clickable():
    source = Source("Gipfel [hier](https://evil.example)", "/tmp/a.txt", "x", 0.9)
    field = answer_embed(answered(sources=[source])).fields[0].value
    assert "://" not in outside_code(field)


def test_brackets_in_titles_and_parentheses_in_urls_do_not_break_links():
    source = web_source(title="Gipfel [Update]", url="https://news.example/a_(b)")
    field = answer_embed(answered(sources=[source])).fields[0].value
    assert "[Gipfel (Update)](https://news.example/a_%28b%29)" in field


def test_an_overlong_url_is_shown_as_plain_title_rather_than_a_cut_link():
    source = web_source(url="https://news.example/" + "x" * 1000)
    field = answer_embed(answered(sources=[source])).fields[0].value
    assert field == "1. Gipfel in Budapest"


def test_articles_embed_pages_ten_at_a_time_with_page_footer():
    records = [record(n) for n in range(25)]
    first, last = articles_embed(records, 0), articles_embed(records, 2)
    assert first.description.count("\n") == 9
    assert "Artikel 0" in first.description
    assert last.description.count("\n") == 4
    assert last.footer.text == "Seite 3 von 3"
    assert first.title == "Artikel im Index (25)"


def test_articles_embed_stays_within_limits_for_long_titles_and_urls():
    records = [record(n, title="Titel " * 100, url="https://news.example/" + "p" * 270) for n in range(10)]
    embed = articles_embed(records, 0)
    assert_within_limits(embed)
    assert "](https://news.example/" in embed.description


def test_articles_embed_says_so_when_the_index_is_empty():
    embed = articles_embed([], 0)
    assert embed.description == message("discord_articles_empty")
    assert embed.footer.text == "Seite 1 von 1"


def test_status_embed_shows_counts_embedder_last_update_feed_poll_and_uptime():
    poll = {"at": "2025-11-20T10:05:00+00:00", "url": "https://news.example/rss", "result": "HTTP 500", "ok": False}
    status = Status(3, 7, 40, "fake:hashed-bow", "2025-11-20T10:00:00+00:00", poll, 3 * 3600 + 300)
    values = {field.name: field.value for field in status_embed(status).fields}
    assert values["Artikel"] == "3"
    assert values["Abschnitte"] == "7"
    assert values["Embedder"] == "fake:hashed-bow"
    assert values["Letzte Aktualisierung"].startswith("<t:")
    assert values["Letzter Feed-Abruf"].startswith("✗ <t:")
    assert "https://news.example/rss" in values["Letzter Feed-Abruf"]
    assert values["Letzter Feed-Abruf"].endswith("HTTP 500")
    assert values["Läuft seit"] == format_duration(status.uptime_seconds)
    never = {f.name: f.value for f in status_embed(Status(0, 0, 0, "x", None)).fields}
    assert never["Letzte Aktualisierung"] == "noch nie"
    assert never["Letzter Feed-Abruf"] == "noch nie"
    assert "Läuft seit" not in never


def test_report_text_lists_failures_and_fits_one_message():
    report = IndexReport(added=["a"], failed=[(f"https://news.example/{n}", "HTTP 404") for n in range(200)])
    text = report_text([report])
    assert text.startswith("1 neu, 0 aktualisiert")
    assert "✗ `https://news.example/0`: HTTP 404" in text
    assert len(text) <= MESSAGE_LIMIT


def test_thread_name_fits_discords_limit():
    assert len(thread_name("Warum " * 100)) <= THREAD_NAME_LIMIT


@pytest.mark.parametrize("key", [k for k in message_keys() if k.startswith("discord_describe_")])
def test_command_descriptions_fit_discords_hundred_characters(key):
    assert 0 < len(message(key)) <= 100
