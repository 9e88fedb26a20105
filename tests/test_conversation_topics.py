"""A question answered as if asked alone starts the conversation anew: a follow-up after it is about it."""

from __future__ import annotations

import discord
from click.testing import CliRunner

from bot.cli import cli
from bot.discord.ask import AskCog
from bot.service import NewsService
from tests.test_conversation import ELLIPTIC, HEAT, SUMMIT
from tests.test_discord_ask import spy_on_ask
from tests.test_discord_mocks import make_bot, make_channel, make_message


def test_chat_reads_a_follow_up_against_the_topic_asked_last(settings, fake_embedder, articles_dir, monkeypatch):
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    assert not service.ask(HEAT, [SUMMIT, ELLIPTIC]).used_history  # the heat stands on its own
    calls = spy_on_ask(service)
    monkeypatch.setattr(NewsService, "open", classmethod(lambda cls, s: service))
    session = f"{SUMMIT}\n{ELLIPTIC}\n{HEAT}\n{ELLIPTIC}\n\n"
    result = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "chat"], input=session)
    assert result.exit_code == 0, result.output
    assert calls[-1] == (ELLIPTIC, [HEAT])  # was [SUMMIT, ELLIPTIC, HEAT]: the summit's date came back


async def test_a_direct_message_follow_up_after_a_new_topic_is_about_it(settings, fake_embedder, articles_dir):
    service = NewsService.open(settings.model_copy(update={"discord_cooldown_seconds": 0.0}), fake_embedder)
    service.index_paths([articles_dir])
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    dm = make_channel(discord.DMChannel, channel_id=42)
    for question in (SUMMIT, ELLIPTIC, HEAT, ELLIPTIC):
        await cog.on_message(make_message(question, channel=dm, in_guild=False))
    assert [history for _, history in calls] == [[], [SUMMIT], [SUMMIT, ELLIPTIC], [HEAT]]
