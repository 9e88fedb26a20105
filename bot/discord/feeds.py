"""Polls the configured feeds (`NEWSBOT_FEEDS`) while the bot runs, so new articles arrive on their own,
and after each poll removes what is older than `NEWSBOT_RETENTION_DAYS`; `/feeds` polls them at once
through the same `poll_feeds`. Each round reads the feeds from the configuration again (`configured_feeds`),
so a feed removed from `.env` is not polled again and one added there is, without a restart.

A feed is a third party's text even when the operator configured it, so it is fetched under the one
fetch policy like any URL; a feed that fails is logged and tried again next round, the others go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta

from discord.ext import commands, tasks

from bot.service import NewsService
from index.errors import NewsbotError
from index.indexer import IndexReport
from index.settings import Settings
from index.texts import message

log = logging.getLogger(__name__)

# A feed's outcome: what indexing it changed, or the text saying why it failed.
FeedResult = tuple[str, IndexReport | str]


def configured_feeds(settings: Settings) -> list[str]:
    """The feeds the configuration names now: NEWSBOT_FEEDS read again from the environment and `.env` (an operator
    removes a feed there while the bot runs), kept in `settings` for the next look. A configuration that does not
    read now (a typo in `.env`) keeps the feeds of the last look, with a warning; settings built in code keep theirs.
    """
    try:
        now = settings.read_again()
    except NewsbotError as error:
        log.warning("keeping the feeds as they were: the configuration does not read now: %s", error.message)
        return list(settings.feeds)
    if now is not None and now.feeds != settings.feeds:
        log.info("feeds configured now: %s (were: %s)", ", ".join(now.feeds) or "none", ", ".join(settings.feeds))
        settings.feeds = now.feeds
    return list(settings.feeds)


async def poll_feeds(service: NewsService, feeds: Sequence[str]) -> list[FeedResult]:
    """Index every feed's new entries, all at once off the event loop (a slow feed keeps no other one
    waiting; the index runs themselves take turns); a failure stops only its feed."""
    return list(await asyncio.gather(*(poll_feed(service, url) for url in feeds)))


async def poll_feed(service: NewsService, url: str) -> FeedResult:
    language = service.settings.language
    try:
        report = await asyncio.to_thread(service.index_feed, url)
    except NewsbotError as error:
        log.warning("feed %s: %s", url, error.message)
        return url, error.message
    except Exception:
        log.exception("feed %s failed", url)
        return url, message("unexpected_error", language)
    log.info("feed %s: %s", url, report.summary(language))
    return url, report


async def apply_retention(service: NewsService) -> IndexReport | None:
    """Remove the articles older than `retention_days` off the event loop; None when there is no limit.

    A failure is logged and the poller goes on: the next round tries again.
    """
    days = service.settings.retention_days
    if days is None:
        return None
    try:
        report = await asyncio.to_thread(service.index.prune, timedelta(days=days))
    except Exception:
        log.exception("applying the retention of %d days failed", days)
        return None
    if report.removed:
        log.info("retention: removed %d articles older than %d days", len(report.removed), days)
    return report


class FeedPoller(commands.Cog):
    """Indexes new entries of every configured feed every `feed_interval_minutes`, then applies retention.

    The feeds are those configured at each round: one removed from the configuration is not polled again, one
    added is polled from the next round on. The rounds run with no feeds configured too: a bot started without
    any never looked at `.env` again, and a feed added there waited for a restart."""

    def __init__(self, bot: commands.Bot, service: NewsService) -> None:
        self.bot = bot
        self.service = service
        self.poll.change_interval(minutes=service.settings.feed_interval_minutes)

    async def cog_load(self) -> None:
        if self.service.settings.feeds or self.service.settings.can_read_again:  # else none will ever be polled
            self.poll.start()

    async def cog_unload(self) -> None:
        self.poll.cancel()

    @tasks.loop(minutes=30)
    async def poll(self) -> None:
        feeds = await asyncio.to_thread(configured_feeds, self.service.settings)  # reads `.env`: off the loop
        await poll_feeds(self.service, feeds)
        await apply_retention(self.service)

    @poll.before_loop
    async def wait_until_ready(self) -> None:
        await self.bot.wait_until_ready()
