"""What managers type in Discord, in the other Unicode form: macOS sends "ü" as "u" and a combining mark (NFD)."""

from __future__ import annotations

import unicodedata
from unittest.mock import MagicMock

from bot.discord.manage import article_choices, find_article
from bot.service import NewsService
from index.catalog import ArticleRecord

TITLE = "Zürcher Seebad schließt wegen Blaualgen"


def records() -> list[ArticleRecord]:
    return [
        ArticleRecord("/a/seebad.txt", "/a/seebad.txt", TITLE, None, None, "2025-11-20", "v", 1, 1),
        ArticleRecord("/a/wien.txt", "/a/wien.txt", "Hitzewelle in Wien", None, None, "2025-11-20", "v", 1, 1),
    ]


def test_a_title_typed_in_decomposed_form_finds_its_article(settings):
    stub = MagicMock(spec=NewsService)
    stub.settings = settings
    stub.articles.return_value = records()
    typed = unicodedata.normalize("NFD", "zürcher seebad")
    assert find_article(stub, unicodedata.normalize("NFD", TITLE)).article_id == "/a/seebad.txt"
    assert find_article(stub, typed).article_id == "/a/seebad.txt"  # the start of a title, as a cut one
    assert [c.value for c in article_choices(records(), typed)] == ["/a/seebad.txt"]


async def test_a_question_in_capitals_names_its_thread_as_its_answer_titles_it(settings, fake_embedder, articles_dir):
    from bot.discord.ask import AskCog
    from tests.test_discord_ask import open_service
    from tests.test_discord_mocks import make_bot, make_interaction, sent_kwargs

    service = open_service(settings, fake_embedder, articles_dir, refusal_threshold=0.0)
    interaction = make_interaction()
    cog = AskCog(make_bot(), service)
    await cog.frage.callback(cog, interaction, frage="WO SOLL DER GIPFEL STATTFINDEN?")
    title = sent_kwargs(interaction.followup.send)[0]["embed"].title
    assert title == "Wo soll der Gipfel stattfinden?"
    assert interaction.followup.send.return_value.create_thread.await_args.kwargs["name"] == title
