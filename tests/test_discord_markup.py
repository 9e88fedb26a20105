"""Questions in Discord are searched as Discord shows them: without the markup it renders."""

from __future__ import annotations

import pytest

from bot.discord.ask import AskCog
from bot.markup import plain_question
from tests.test_discord_ask import GIPFEL, open_service, spy_on_ask
from tests.test_discord_mocks import BOT_USER_ID, make_bot, make_interaction, make_message


@pytest.mark.parametrize(
    "written",
    [
        "**Wo** soll der __Gipfel__ stattfinden?",
        "Wo soll der *Gipfel* stattfinden?",
        "||Wo soll der `Gipfel` stattfinden?||",
        "```\nWo soll der Gipfel stattfinden?```",
        "> Wo soll der Gipfel stattfinden?",
        "# Wo soll der Gipfel stattfinden?",
        "Wo soll der [Gipfel](https://evil.example/x) stattfinden?",
        "Wo soll der Gipfel stattfinden? https://example.org/artikel",
        "Wo soll der Gipfel stattfinden? <https://example.org/artikel>",
        "Wo soll der Gipfel stattfinden? <:pepe:123456789012345678> <a:tanz:123456789012345679>",
        "<@&42> Wo soll der Gipfel stattfinden?",
    ],
)
def test_markup_leaves_the_question_as_it_reads(written):
    assert plain_question(written) == GIPFEL


@pytest.mark.parametrize("plain", ["Was kostet 5*3*2?", "Was ist snake_case?", "Wer gewann beim 1. FC Köln?"])
def test_what_only_looks_like_markup_stays(plain):
    assert plain_question(plain) == plain


@pytest.mark.parametrize(
    ("written", "reads"),
    [
        ("@here@everyone Wo soll der Gipfel stattfinden?", GIPFEL),
        ("*@here* Wo soll der Gipfel stattfinden?", GIPFEL),
        ("Wo soll der [[Gipfel](https://a.example)](https://b.example) stattfinden?", GIPFEL),
        ("Wo soll der [[Gipfel]](https://a.example) stattfinden?", "Wo soll der [Gipfel] stattfinden?"),
        ("*Wo *soll der Gipfel stattfinden?", "*Wo *soll der Gipfel stattfinden?"),
        ("_Wo _soll der Gipfel stattfinden?", "_Wo _soll der Gipfel stattfinden?"),
    ],
)
def test_markup_read_in_one_pass_reads_as_discord_shows_it(written, reads):
    """Mentions run together, links in a link's label (Discord shows the inner label in brackets) and markers that
    cannot close are each read in one pass now (benchmarks/markup_speed.py: they took seconds at 10,000 characters,
    growing with the square of the length)."""
    assert plain_question(written) == reads


async def test_a_mention_and_frage_are_asked_without_their_markup(settings, fake_embedder, articles_dir):
    service = open_service(settings, fake_embedder, articles_dir, refusal_threshold=0.0)
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    link = "Wo soll der [Gipfel](https://evil.example) stattfinden? <:pepe:123456789012345678>"

    await cog.on_message(make_message(f"<@{BOT_USER_ID}> {link}", mentions_bot=True))
    await cog.frage.callback(cog, make_interaction(), frage=link)

    assert [question for question, _ in calls] == [GIPFEL, GIPFEL]
