"""Starting the bot: token handling in `newsbot discord`, command sync in setup_hook, feed polling."""

from __future__ import annotations

import asyncio
import logging
import re
from unittest.mock import AsyncMock

import aiohttp
import discord
import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.discord.client import NewsBot, serve
from bot.discord.feeds import FeedPoller
from bot.service import NewsService
from index.errors import NewsbotError
from index.indexer import IndexReport
from index.texts import message
from tests.test_discord_mocks import BOT_USER_ID, make_bot, make_message

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


def test_unreachable_discord_stops_with_one_line_and_exit_code_2(settings, fake_open, monkeypatch, httpserver):
    # The start-up check reaches Discord's API (on loopback), then the gateway connection fails.
    httpserver.expect_request("/users/@me").respond_with_json({"username": "newsbot"})
    monkeypatch.setattr("bot.ops.DISCORD_API", httpserver.url_for("").rstrip("/"))

    async def unreachable(self, token: str, *, reconnect: bool = True) -> None:
        raise aiohttp.ClientConnectionError("Cannot connect to host discord.com:443")

    monkeypatch.setattr(NewsBot, "start", unreachable)
    result = CliRunner().invoke(cli, ["discord"], env={"DISCORD_TOKEN": TOKEN})
    assert result.exit_code == 2
    assert result.stderr.strip() == message("discord_unreachable", reason="ClientConnectionError")


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
    assert names == {"frage", "neu", "hilfe", "index", "artikel", "feeds", "status"}


async def test_setup_hook_syncs_globally_without_a_development_guild(service):
    bot = NewsBot(service)
    bot.tree.sync = AsyncMock(return_value=[])  # type: ignore[method-assign]
    await bot.setup_hook()
    bot.tree.sync.assert_awaited_once_with(guild=None)
    payloads = {c.name: c.to_dict(bot.tree) for c in bot.tree.get_commands()}  # what Discord receives
    assert set(payloads) == {"frage", "neu", "hilfe", "index", "artikel", "feeds", "status"}
    assert [o["name"] for o in payloads["artikel"]["options"]] == ["liste", "entfernen"]
    assert [(o["name"], o["required"]) for o in payloads["frage"]["options"]] == [("frage", True)]
    assert [(o["name"], o["type"], o["required"]) for o in payloads["index"]["options"]] == [
        ("url", discord.AppCommandOptionType.string.value, False),
        ("datei", discord.AppCommandOptionType.attachment.value, False),
    ]
    for name in ("frage", "neu", "hilfe"):
        assert payloads[name]["default_member_permissions"] is None
    manage_guild = discord.Permissions(manage_guild=True).value
    for name in ("index", "artikel", "feeds", "status"):
        assert int(payloads[name]["default_member_permissions"]) == manage_guild


def stub_sync(bot: NewsBot) -> AsyncMock:
    bot.tree.sync = AsyncMock(return_value=[])  # type: ignore[method-assign]
    return bot.tree.sync


async def test_commands_are_synced_again_only_when_they_changed_or_when_forced(service, caplog):
    caplog.set_level(logging.INFO)
    first = NewsBot(service)
    sync = stub_sync(first)
    await first.setup_hook()
    sync.assert_awaited_once()  # nothing synced before

    restarted = NewsBot(service)
    sync = stub_sync(restarted)
    await restarted.setup_hook()
    sync.assert_not_awaited()  # the same commands as last time: Discord already has them
    assert "not synced" in caplog.text

    forced = NewsBot(service, force_sync=True)
    sync = stub_sync(forced)
    await forced.setup_hook()
    sync.assert_awaited_once()

    # With a manager role the management commands become visible to everyone: a changed payload.
    service.settings.discord_manager_role = "Redaktion"
    changed = NewsBot(service)
    sync = stub_sync(changed)
    await changed.setup_hook()
    sync.assert_awaited_once()


async def test_a_damaged_sync_state_file_costs_one_sync_not_the_start(service):
    service.settings.data_dir.mkdir(parents=True, exist_ok=True)
    (service.settings.data_dir / "discord_commands.json").write_text("{kaputt", encoding="utf-8")
    bot = NewsBot(service)
    sync = stub_sync(bot)
    await bot.setup_hook()
    sync.assert_awaited_once()


async def test_a_mention_is_no_unknown_prefix_command(service, caplog):
    bot = NewsBot(service)
    await bot._async_setup_hook()  # what `login` does first: the bot gets its event loop
    bot._connection.user = make_bot().user  # ... and then its user
    msg = make_message(f"<@{BOT_USER_ID}> Wo soll der Gipfel stattfinden?", mentions_bot=True)
    msg.author.id = 1
    caplog.set_level(logging.DEBUG)
    await bot.on_message(msg)
    for _ in range(5):  # let any scheduled error event run
        await asyncio.sleep(0)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert "CommandNotFound" not in caplog.text


def test_starting_the_bot_does_not_warn_about_voice_libraries(service, caplog, monkeypatch):
    monkeypatch.setattr(discord.VoiceClient, "warn_nacl", True)  # as in a fresh process without PyNaCl
    monkeypatch.setattr(discord.VoiceClient, "warn_dave", True)
    caplog.set_level(logging.DEBUG)
    NewsBot(service)
    assert "PyNaCl" not in caplog.text
    assert "davey" not in caplog.text


async def test_without_the_message_content_intent_the_bot_connects_without_it(service, monkeypatch, caplog):
    started: list[bool] = []

    async def start(self, token: str, *, reconnect: bool = True) -> None:
        started.append(self.intents.message_content)
        if self.intents.message_content:
            raise discord.PrivilegedIntentsRequired(None)

    monkeypatch.setattr(NewsBot, "start", start)
    caplog.set_level(logging.INFO)
    await serve(service, TOKEN)
    assert started == [True, False]
    assert "message content intent" in caplog.text
    assert "mention" in caplog.text  # what the operator loses: follow-ups without a mention


# ---- feed polling --------------------------------------------------------------------------------


class StubFeedService:
    """Only the feed call of the service, so polling needs no network."""

    def __init__(self, settings, failing: str = "") -> None:
        self.settings = settings
        self.failing = failing
        self.polled: list[str] = []

    def index_feed(self, url: str, report: IndexReport | None = None) -> IndexReport:
        self.polled.append(url)
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
    assert sorted(stub.polled) == ["https://a.example/feed", "https://b.example/rss"]  # side by side: any order
    assert "Kein gültiger RSS- oder Atom-Feed: https://a.example/feed" in caplog.text


async def test_polling_runs_at_the_configured_interval(settings):
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


async def test_a_bot_started_without_feeds_polls_a_feed_added_to_env_later(settings):
    """Round 9: a bot started with no feeds configured never started its rounds, so it never read `.env` again and
    a feed added there waited for a restart."""
    from index.settings import load_settings

    env = settings.data_dir.parent / ".env"  # the settings fixture runs in this folder, without NEWSBOT_ variables
    env.write_text("NEWSBOT_FEEDS=\nNEWSBOT_FEED_INTERVAL_MINUTES=0.002\n", encoding="utf-8")
    bot = make_bot()
    bot.wait_until_ready = AsyncMock()
    stub = StubFeedService(load_settings(data_dir=settings.data_dir))
    assert stub.settings.feeds == []
    poller = FeedPoller(bot, stub)  # type: ignore[arg-type]
    await poller.cog_load()
    try:
        env.write_text("NEWSBOT_FEEDS=https://a.example/feed\nNEWSBOT_FEED_INTERVAL_MINUTES=0.002\n", encoding="utf-8")
        for _ in range(300):  # rounds every 0.12 s: the next one reads the feed (at most 30 s, then the assert says)
            if stub.polled:
                break
            await asyncio.sleep(0.1)
    finally:
        await poller.cog_unload()
    assert stub.polled[:1] == ["https://a.example/feed"]


async def test_a_running_poller_follows_feeds_removed_from_and_added_to_env(settings, caplog):
    """Round 8: a feed removed from the configuration while the bot ran was polled every round until a restart."""
    from index.settings import load_settings

    env = settings.data_dir.parent / ".env"  # the settings fixture runs in this folder, without NEWSBOT_ variables
    env.write_text("NEWSBOT_FEEDS=https://a.example/feed,https://b.example/rss\n", encoding="utf-8")
    stub = StubFeedService(load_settings(data_dir=settings.data_dir))
    poller = FeedPoller(make_bot(), stub)  # type: ignore[arg-type]
    await poller.poll()
    assert sorted(stub.polled) == ["https://a.example/feed", "https://b.example/rss"]

    env.write_text("NEWSBOT_FEEDS=https://b.example/rss\n", encoding="utf-8")
    stub.polled.clear()
    await poller.poll()
    assert stub.polled == ["https://b.example/rss"]

    env.write_text("NEWSBOT_FEEDS=https://b.example/rss,https://c.example/atom\nNEWSBOT_TOP_K=null\n", encoding="utf-8")
    stub.polled.clear()
    await poller.poll()  # a typo in .env: the feeds of the last round, and a warning that says why
    assert stub.polled == ["https://b.example/rss"]
    assert "NEWSBOT_TOP_K" in caplog.text

    env.write_text("NEWSBOT_FEEDS=https://b.example/rss,https://c.example/atom\n", encoding="utf-8")
    stub.polled.clear()
    await poller.poll()
    assert sorted(stub.polled) == ["https://b.example/rss", "https://c.example/atom"]

    env.write_text("NEWSBOT_FEEDS=\n", encoding="utf-8")
    stub.polled.clear()
    await poller.poll()  # none left: the round polls nothing
    assert stub.polled == []


async def synced_payloads(service: NewsService) -> dict[str, dict]:
    """What `tree.sync` sends Discord for each command, translations included."""
    bot = NewsBot(service)
    stub_sync(bot)
    await bot.setup_hook()
    commands = bot.tree.get_commands()
    return {c.name: await c.get_translated_payload(bot.tree, bot.tree.translator) for c in commands}


@pytest.mark.parametrize("language", ["de", "en"])
async def test_command_descriptions_reach_each_user_in_their_language_else_the_configured_one(
    settings, fake_embedder, language
):
    """The descriptions were declared German at import and sent so in every deployment: the English texts in
    prompts/ never reached Discord."""
    service = NewsService.open(settings.model_copy(update={"language": language}), fake_embedder)

    payloads = await synced_payloads(service)

    frage = payloads["frage"]["description_localizations"]
    assert frage["de"] == message("discord_describe_frage", "de")
    assert frage["en-US"] == frage["en-GB"] == message("discord_describe_frage", "en")
    assert frage["fr"] == frage["ja"] == message("discord_describe_frage", language)  # no texts of their own
    (option,) = payloads["frage"]["options"]
    assert option["description_localizations"]["en-US"] == message("discord_describe_frage_text", "en")
    liste = next(o for o in payloads["artikel"]["options"] if o["name"] == "liste")
    assert liste["description_localizations"]["fr"] == message("discord_describe_artikel_liste", language)
    for described in descriptions(list(payloads.values())):  # Discord refuses the sync over 100 characters
        assert 0 < len(described) <= 100


@pytest.mark.parametrize("language", ["de", "en"])
async def test_command_names_reach_each_user_in_their_language_else_the_configured_one(
    settings, fake_embedder, language
):
    """An English deployment offered `/frage`, `/neu` and `/artikel liste`: the names were German for everyone."""
    service = NewsService.open(settings.model_copy(update={"language": language}), fake_embedder)

    payloads = await synced_payloads(service)

    configured = {"de": "frage", "en": "ask"}[language]
    assert payloads["frage"]["name_localizations"]["de"] == "frage"
    assert payloads["frage"]["name_localizations"]["en-US"] == payloads["frage"]["name_localizations"]["en-GB"] == "ask"
    assert payloads["frage"]["name_localizations"]["fr"] == configured  # no texts of their own
    (question,) = payloads["frage"]["options"]
    assert question["name_localizations"]["en-US"] == "question"
    artikel = payloads["artikel"]
    assert artikel["name_localizations"]["en-GB"] == "articles"
    assert {o["name_localizations"]["en-US"] for o in artikel["options"]} == {"list", "remove"}
    index_options = {o["name"]: o["name_localizations"]["en-US"] for o in payloads["index"]["options"]}
    assert index_options == {"url": "url", "datei": "file"}


@pytest.mark.parametrize("locale", [discord.Locale.german, discord.Locale.american_english, discord.Locale.french])
async def test_command_names_are_valid_and_distinct_in_every_language_discord_shows(service, locale):
    """Discord refuses a whole sync for one name that is not lowercase letters, digits, - and _ (1 to 32), or two
    commands (or two options of one command) that share a name in one locale."""
    payloads = list((await synced_payloads(service)).values())

    def names(entries: list[dict]) -> list[str]:
        return [entry["name_localizations"].get(locale.value, entry["name"]) for entry in entries]

    def check(entries: list[dict]) -> None:
        shown = names(entries)
        assert len(set(shown)) == len(shown), shown
        for name in shown:
            assert re.fullmatch(r"[-_\w]{1,32}", name), name
            assert name == name.lower(), name
        for entry in entries:
            check(entry.get("options", []))

    check(payloads)


def descriptions(payloads: list[dict]) -> list[str]:
    """Every description of the commands, their options and subcommands, in every language."""
    found = []
    for payload in payloads:
        found += [payload["description"], *payload.get("description_localizations", {}).values()]
        found += descriptions(payload.get("options", []))
    return found


async def test_a_bot_whose_commands_were_synced_without_translations_syncs_them_once(service, monkeypatch):
    """A deployment synced before the translations had the same commands by name and base description: its
    fingerprint must change, or Discord would never get the translations."""
    first = NewsBot(service)
    monkeypatch.setattr(first.tree, "set_translator", AsyncMock())  # as before: no translator
    stub_sync(first)
    await first.setup_hook()

    now = NewsBot(service)
    sync = stub_sync(now)
    await now.setup_hook()
    sync.assert_awaited_once()
