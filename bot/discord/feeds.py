"""Polls the configured feeds (`NEWSBOT_FEEDS`) while the bot runs, so new articles arrive on their own.

Feeds come from the operator's settings, so they are fetched as trusted; a feed that fails is
logged and tried again next round, the others go on.
"""

from __future__ import annotations

import asyncio
import logging

from discord.ext import commands, tasks

from bot.service import NewsService
from index.errors import NewsbotError

log = logging.getLogger(__name__)


class FeedPoller(commands.Cog):
    """Indexes new entries of every configured feed every `feed_interval_minutes`."""

    def __init__(self, bot: commands.Bot, service: NewsService) -> None:
        self.bot = bot
        self.service = service
        self.feeds = list(service.settings.feeds)
        self.poll.change_interval(minutes=service.settings.feed_interval_minutes)

    async def cog_load(self) -> None:
        if self.feeds:
            self.poll.start()

    async def cog_unload(self) -> None:
        self.poll.cancel()

    @tasks.loop(minutes=30)
    async def poll(self) -> None:
        for url in self.feeds:
            try:
                report = await asyncio.to_thread(self.service.index_feed, url)
            except NewsbotError as error:
                log.warning("feed %s: %s", url, error.message)
            except Exception:
                log.exception("feed %s failed", url)
            else:
                log.info("feed %s: %s", url, report.summary(self.service.settings.language))

    @poll.before_loop
    async def wait_until_ready(self) -> None:
        await self.bot.wait_until_ready()
