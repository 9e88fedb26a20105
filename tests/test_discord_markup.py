"""Questions in Discord are searched as Discord shows them: without the markup it renders."""

from __future__ import annotations

import pytest

from bot import markup
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


@pytest.mark.parametrize("unit", ["*@here", "@here*", "_@here*", "`@here*", "||@here*", "*<@42>", "*<:pepe:1>"])
def test_mentions_between_markers_are_read_in_a_bounded_number_of_passes(unit, monkeypatch):
    """Each pass uncovered one more mention between stars ("*@here*@here…"), so the passes grew with the length:
    1.2 s at 5,000 characters (benchmarks/markup_speed.py). Counted in passes, not timed."""
    passes = []
    read_once = markup._unmarked

    def counted(text: str) -> str:
        passes.append(text)
        return read_once(text)

    monkeypatch.setattr(markup, "_unmarked", counted)
    written = unit * (3000 // len(unit))

    assert plain_question(written).strip("*_`| ") == ""
    assert len(passes) <= 3


@pytest.mark.parametrize(
    ("written", "reads"),
    [
        ("*@here*@here*@here* Wo soll der Gipfel stattfinden?", GIPFEL),
        ("_<@42>_ Wo soll der Gipfel stattfinden?", GIPFEL),
        ("(@everyone) Wo soll der Gipfel stattfinden?", "( ) Wo soll der Gipfel stattfinden?"),
        ("Wer schrieb an max@everyone.at?", "Wer schrieb an max@everyone.at?"),
        ("Wer ist hr.@here?", "Wer ist hr.@here?"),
    ],
)
def test_a_mention_right_after_markup_is_a_mention_and_one_in_an_address_is_not(written, reads):
    assert plain_question(written) == reads
