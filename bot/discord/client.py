"""The Discord bot: built over one `NewsService`, registers the cogs and syncs the slash commands.

`run_bot` is what `newsbot discord` calls. The token is read from the settings and handed to
discord.py only; it is never printed or logged, and a bad one ends in a one-line `NewsbotError`.
Commands are synced only when they changed since the last sync (or when asked to), as discord.py
advises: a sync on every start would run into Discord's rate limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.ask import AskCog
from bot.discord.command_texts import CommandTexts
from bot.discord.errors import NO_MENTIONS, NewsCommandTree
from bot.discord.feeds import FeedPoller
from bot.discord.manage import ManageCog
from bot.service import NewsService
from index.errors import NewsbotError
from index.settings import Settings
from index.texts import message

log = logging.getLogger(__name__)


# Which command payload was last synced to which application and guild: `sync_commands` skips an unchanged one.
SYNC_STATE_FILE = "discord_commands.json"


def bot_intents(message_content: bool = True) -> discord.Intents:
    """Default intents plus, where granted, message content: follow-ups in threads come without a mention."""
    intents = discord.Intents.default()
    intents.message_content = message_content
    return intents


class NewsBot(commands.Bot):
    """The bot process: one service, three cogs, mentions of anyone disabled on everything it sends.

    It has no prefix commands (a mention is a question, answered by `AskCog`), and no voice.
    """

    def __init__(self, service: NewsService, *, force_sync: bool = False, message_content: bool = True) -> None:
        # A news bot never speaks: without this, every start warns that PyNaCl and davey are missing.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=bot_intents(message_content),
            help_command=None,
            allowed_mentions=NO_MENTIONS,
            tree_cls=NewsCommandTree,
        )
        self.service = service
        self.settings = service.settings
        self.force_sync = force_sync

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands to run: the default would report every mention as `CommandNotFound`."""

    async def setup_hook(self) -> None:
        await self.tree.set_translator(CommandTexts(self.settings.language))
        await self.add_cog(AskCog(self, self.service))
        await self.add_cog(ManageCog(self.service))
        await self.add_cog(FeedPoller(self, self.service))
        # Load the search snapshot and the name tagger now, so the first question is not the slow one.
        await asyncio.to_thread(self.service.warm_up)
        await self.sync_commands()

    async def sync_commands(self) -> None:
        """To the development guild when one is set, globally otherwise (Discord may take a while to show
        those); only when the commands differ from the last sync there, or `force_sync` asks for it."""
        guild_id = self.settings.discord_guild_id
        guild = discord.Object(id=guild_id) if guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        where = f"guild {guild_id}" if guild_id else "globally"
        target = f"{self.application_id}:{guild_id or 'global'}"
        fingerprint = await command_fingerprint(self.tree, guild)
        state_path = self.settings.data_dir / SYNC_STATE_FILE
        state = read_sync_state(state_path)
        if not self.force_sync and state.get(target) == fingerprint:
            log.info("commands unchanged since the last sync %s: not synced (newsbot discord --sync forces it)", where)
            return
        synced = await self.tree.sync(guild=guild)
        log.info("synced %d commands %s", len(synced), where)
        write_sync_state(state_path, {**state, target: fingerprint})

    async def on_ready(self) -> None:
        log.info("logged in as %s (id %s) in %d servers", self.user, getattr(self.user, "id", "?"), len(self.guilds))


async def command_fingerprint(tree: app_commands.CommandTree, guild: discord.abc.Snowflake | None) -> str:
    """A hash of exactly what a sync would send to Discord for `guild` (None: the global commands), with the
    descriptions in every language: a changed translation is a changed command."""
    commands = tree.get_commands(guild=guild)
    translator = tree.translator
    payloads = [
        await command.get_translated_payload(tree, translator) if translator else command.to_dict(tree)
        for command in commands
    ]
    payload = sorted(payloads, key=lambda c: c["name"])
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def read_sync_state(path: Path) -> dict[str, str]:
    """What was synced where; a missing or damaged file only costs one sync."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in state.items()} if isinstance(state, dict) else {}


def write_sync_state(path: Path, state: dict[str, str]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2), encoding="utf-8")
        temporary.replace(path)
    except OSError as error:  # the bot runs on; it syncs again next start
        log.warning("could not remember the synced commands in %s: %s", path, error)


def require_token(settings: Settings) -> str:
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        raise NewsbotError(message("discord_token_missing", settings.language))
    return token


async def serve(service: NewsService, token: str, *, force_sync: bool = False) -> None:
    """Run the bot until it is stopped; login problems become one-line `NewsbotError`s without the token.

    When Discord refuses the message content intent (not enabled in the Developer Portal), the bot
    connects again without it rather than not at all.
    """
    try:
        await _run(NewsBot(service, force_sync=force_sync), token)
    except discord.PrivilegedIntentsRequired:
        log.warning(
            "Discord refused the message content intent (Developer Portal → Bot → Privileged Gateway Intents): "
            "running without it. Slash commands, mentions and direct messages work; follow-up questions in "
            "threads are answered only when they mention the bot."
        )
        await _run(NewsBot(service, force_sync=force_sync, message_content=False), token)


async def _run(bot: NewsBot, token: str) -> None:
    async with bot:
        try:
            await bot.start(token)
        except discord.LoginFailure:
            raise NewsbotError(message("discord_token_rejected", bot.settings.language)) from None
        except (aiohttp.ClientConnectionError, discord.GatewayNotFound) as error:
            raise NewsbotError(
                message("discord_unreachable", bot.settings.language, reason=type(error).__name__),
                detail=f"{type(error).__name__}: {error}",
            ) from None


def run_bot(settings: Settings, open_service: Callable[[], NewsService], *, force_sync: bool = False) -> None:
    """Check the token before the (slow) service opens, then serve until Ctrl-C.

    `force_sync` syncs the slash commands even when they did not change (`newsbot discord --sync`).
    """
    token = require_token(settings)
    for name in ("discord", "bot.discord"):
        if logging.getLogger(name).getEffectiveLevel() > logging.INFO:
            logging.getLogger(name).setLevel(logging.INFO)  # a running bot should say what it does
    asyncio.run(serve(open_service(), token, force_sync=force_sync))
