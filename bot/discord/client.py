"""The Discord bot: built over one `NewsService`, registers the cogs and syncs the slash commands.

`run_bot` is what `newsbot discord` calls. The token is read from the settings and handed to
discord.py only; it is never printed or logged, and a bad one ends in a one-line `NewsbotError`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import discord
from discord.ext import commands

from bot.discord.ask import AskCog
from bot.discord.errors import NO_MENTIONS, NewsCommandTree
from bot.discord.feeds import FeedPoller
from bot.discord.manage import ManageCog
from bot.service import NewsService
from index.errors import NewsbotError
from index.settings import Settings
from index.texts import message

log = logging.getLogger(__name__)


def bot_intents() -> discord.Intents:
    """Default intents plus message content: follow-ups in threads come without a mention."""
    intents = discord.Intents.default()
    intents.message_content = True
    return intents


class NewsBot(commands.Bot):
    """The bot process: one service, three cogs, mentions of anyone disabled on everything it sends."""

    def __init__(self, service: NewsService) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=bot_intents(),
            help_command=None,
            allowed_mentions=NO_MENTIONS,
            tree_cls=NewsCommandTree,
        )
        self.service = service
        self.settings = service.settings

    async def setup_hook(self) -> None:
        await self.add_cog(AskCog(self, self.service))
        await self.add_cog(ManageCog(self.service))
        await self.add_cog(FeedPoller(self, self.service))
        # Load the search snapshot now, so the first question is not the slow one.
        await asyncio.to_thread(self.service.retriever.warm_up)
        await self.sync_commands()

    async def sync_commands(self) -> None:
        """To the development guild at once when one is set; globally otherwise (Discord may take a while)."""
        guild_id = self.settings.discord_guild_id
        if guild_id:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to guild %s", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d commands globally", len(synced))

    async def on_ready(self) -> None:
        log.info("logged in as %s (id %s) in %d servers", self.user, getattr(self.user, "id", "?"), len(self.guilds))


def require_token(settings: Settings) -> str:
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        raise NewsbotError(message("discord_token_missing", settings.language))
    return token


async def serve(service: NewsService, token: str) -> None:
    """Run the bot until it is stopped; login problems become one-line `NewsbotError`s without the token."""
    language = service.settings.language
    async with NewsBot(service) as bot:
        try:
            await bot.start(token)
        except discord.LoginFailure:
            raise NewsbotError(message("discord_token_rejected", language)) from None
        except discord.PrivilegedIntentsRequired:
            raise NewsbotError(message("discord_intents_missing", language)) from None


def run_bot(settings: Settings, open_service: Callable[[], NewsService]) -> None:
    """Check the token before the (slow) service opens, then serve until Ctrl-C."""
    token = require_token(settings)
    for name in ("discord", "bot.discord"):
        if logging.getLogger(name).getEffectiveLevel() > logging.INFO:
            logging.getLogger(name).setLevel(logging.INFO)  # a running bot should say what it does
    asyncio.run(serve(open_service(), token))
