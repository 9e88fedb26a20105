"""Starting the bot: token handling in `newsbot discord`, command sync in setup_hook, feed polling."""

from __future__ import annotations

import logging
from unittest.mock import AsyncMock

import discord
import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.discord.client import NewsBot
from bot.discord.feeds import FeedPoller
from bot.service import NewsService
from index.errors import NewsbotError
from index.indexer import IndexReport
from index.texts import message
from tests.test_discord_mocks import make_bot

TOKEN = "MTIzNDU2Nzg5.secret-token-never-shown.abcdefghijklmnop"


@pytest.fixture
def service(settings, fake_embedder) -> NewsService:
    return NewsService.open(settings, fake_embedder)


@pytest.fixture
def fake_open(monkeypatch, fake_embedder) -> list[object]:
    """`NewsService.open` with the fake embedder, so the CLI starts without loading a model."""
    opened: list[object] = []
    real_open = NewsService.open.__func__  # type: ignore[attr-defined]

    def open_with_fake(cls, settings, embedder=None, **kwargs):
        opened.append(settings)
        return real_open(cls, settings, fake_embedder, **kwargs)

    monkeypatch.setattr(NewsService, "open", classmethod(open_with_fake))
    return opened


def test_a_missing_token_stops_with_one_line_and_exit_code_2(settings, fake_open):
    result = CliRunner().invoke(cli, ["discord"])
    assert result.exit_code == 2
    assert result.stderr.strip() == message("discord_token_missing")
    assert fake_open == []  # checked before anything slow is opened


def test_a_rejected_token_stops_with_one_line_and_never_shows_the_token(
    settings, fake_open, monkeypatch, caplog, capsys, httpserver
):
    caplog.set_level(logging.DEBUG)
    # Discord's API on loopback: the start-up check asks it who the token belongs to, as login does.
    httpserver.expect_request("/users/@me", headers={"Authorization": f"Bot {TOKEN}"}).respond_with_json(
        {"message": "401: Unauthorized", "code": 0}, status=401
    )
    monkeypatch.setattr("bot.ops.DISCORD_API", httpserver.url_for("").rstrip("/"))
    result = CliRunner().invoke(cli, ["discord"], env={"DISCORD_TOKEN": TOKEN})

    assert len(httpserver.log) == 1  # the real token reached Discord ...
    assert fake_open == []  # and was rejected before the model and the index loaded
    assert result.exit_code == 2
    assert result.stderr.strip() == message("discord_token_rejected")
    assert len(result.stderr.strip().splitlines()) == 1
    captured = capsys.readouterr()
    for shown in (result.output, result.stderr, caplog.text, captured.out, captured.err):
        assert TOKEN not in shown  # ... and nowhere else
        assert "secret-token" not in shown


def test_a_token_of_only_whitespace_counts_as_missing(settings, fake_open):
    result = CliRunner().invoke(cli, ["discord"], env={"DISCORD_TOKEN": "   "})
    assert result.exit_code == 2
    assert result.stderr.strip() == message("discord_token_missing")


def test_the_bot_reads_message_content_and_never_pings(service):
    bot = NewsBot(service)
    assert bot.intents.message_content is True
    mentions = bot.allowed_mentions
    assert (mentions.everyone, mentions.users, mentions.roles, mentions.replied_user) == (False,) * 4


async def test_setup_hook_registers_the_cogs_and_syncs_to_the_development_guild(service):
    service.settings.discord_guild_id = 1234
    bot = NewsBot(service)
    bot.tree.sync = AsyncMock(return_value=[])  # type: ignore[method-assign]
    await bot.setup_hook()
    assert set(bot.cogs) == {"AskCog", "ManageCog", "FeedPoller"}
    (call,) = bot.tree.sync.await_args_list
    assert call.kwargs["guild"].id == 1234
    names = {c.name for c in bot.tree.get_commands(guild=discord.Object(id=1234))}
    assert names == {"frage", "index", "artikel", "status"}


async def test_setup_hook_syncs_globally_without_a_development_guild(service):
    bot = NewsBot(service)
    bot.tree.sync = AsyncMock(return_value=[])  # type: ignore[method-assign]
    await bot.setup_hook()
    bot.tree.sync.assert_awaited_once_with()
    payloads = {c.name: c.to_dict(bot.tree) for c in bot.tree.get_commands()}  # what Discord receives
    assert set(payloads) == {"frage", "index", "artikel", "status"}
    assert [(o["name"], o["required"]) for o in payloads["frage"]["options"]] == [("frage", True)]
    assert [(o["name"], o["type"], o["required"]) for o in payloads["index"]["options"]] == [
        ("url", discord.AppCommandOptionType.string.value, False),
        ("datei", discord.AppCommandOptionType.attachment.value, False),
    ]
    assert payloads["frage"]["default_member_permissions"] is None
    manage_guild = discord.Permissions(manage_guild=True).value
    for name in ("index", "artikel", "status"):
        assert int(payloads[name]["default_member_permissions"]) == manage_guild


# ---- feed polling --------------------------------------------------------------------------------


class StubFeedService:
    """Only the feed call of the service, so polling needs no network."""

    def __init__(self, settings, failing: str = "") -> None:
        self.settings = settings
        self.failing = failing
        self.polled: list[tuple[str, bool]] = []

    def index_feed(self, url: str, report: IndexReport | None = None, *, untrusted: bool = False) -> IndexReport:
        self.polled.append((url, untrusted))
        if url == self.failing:
            raise NewsbotError(f"Kein gültiger RSS- oder Atom-Feed: {url}")
        return IndexReport(added=[f"{url}#neu"])


def feed_settings(settings, *feeds: str):
    return settings.model_copy(update={"feeds": list(feeds), "feed_interval_minutes": 7.0})


async def test_a_poll_indexes_every_configured_feed_and_a_failing_one_does_not_stop_the_rest(settings, caplog):
    stub = StubFeedService(
        feed_settings(settings, "https://a.example/feed", "https://b.example/rss"), failing="https://a.example/feed"
    )
    poller = FeedPoller(make_bot(), stub)  # type: ignore[arg-type]
    await poller.poll()
    assert stub.polled == [("https://a.example/feed", False), ("https://b.example/rss", False)]
    assert "Kein gültiger RSS- oder Atom-Feed: https://a.example/feed" in caplog.text


async def test_polling_runs_at_the_configured_interval_only_when_feeds_are_configured(settings):
    idle = FeedPoller(make_bot(), StubFeedService(feed_settings(settings)))  # type: ignore[arg-type]
    await idle.cog_load()
    assert not idle.poll.is_running()

    bot = make_bot()
    bot.wait_until_ready = AsyncMock()
    stub = StubFeedService(feed_settings(settings, "https://a.example/feed"))
    poller = FeedPoller(bot, stub)  # type: ignore[arg-type]
    assert poller.poll.minutes == 7.0
    await poller.cog_load()
    try:
        assert poller.poll.is_running()
    finally:
        await poller.cog_unload()
