"""Managing the index from Discord: `/index` (URL, feed or file), `/artikel liste|entfernen`, `/feeds`
and `/status`.

Only for members with Manage Server or the configured role, checked on every call in
`interaction_check`; replies are ephemeral, so managing does not clutter the channel.
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.command_texts import command_name, command_text
from bot.discord.errors import NO_MENTIONS, explain
from bot.discord.feeds import configured_feeds, poll_feeds
from bot.discord.formatting import (
    MAX_LINK_TITLE,
    articles_embed,
    escape,
    feeds_text,
    page_count,
    report_text,
    status_embed,
    truncate,
)
from bot.discord.guards import NotManager, is_manager
from bot.service import NewsService, upload_name
from index.catalog import ArticleRecord
from index.errors import NewsbotError
from index.indexer import IndexReport
from index.texts import message

log = logging.getLogger(__name__)

FEED_SUFFIXES = (".xml", ".rss", ".atom")
# Discord's limits for autocomplete: 25 choices, names and values of at most 100 characters.
MAX_CHOICES = 25
CHOICE_LIMIT = 100


def looks_like_feed(url: str) -> bool:
    """A guess from the address alone; `index_url` falls back to a page when the guess was wrong."""
    parts = urlsplit(url.lower())
    where = f"{parts.netloc}{parts.path}?{parts.query}"
    return parts.path.endswith(FEED_SUFFIXES) or "feed" in where or "rss" in where


def index_url(service: NewsService, url: str) -> IndexReport:
    """Index a URL a chat user gave: a feed's new entries, or the one page (under the one fetch policy)."""
    if looks_like_feed(url):
        try:
            return service.index_feed(url)
        except NewsbotError as error:
            log.info("not readable as a feed, indexing as a page: %s (%s)", url, error.message)
    return service.index_urls([url])


def folded(text: str) -> str:
    """`text` for comparing what was typed with titles: case aside, and in one Unicode form (macOS sends "ü" as "u"
    and a combining mark, NFD; titles are composed, NFC)."""
    return unicodedata.normalize("NFC", text).casefold()


def find_article(service: NewsService, given: str) -> ArticleRecord:
    """The article a manager means: by id (as autocomplete fills it in) or address (as answers link it), else by
    its unique title."""
    records = service.articles()
    wanted = given.strip()
    for record in records:
        if record.article_id == wanted:
            return record
    for record in records:
        if record.is_at(wanted):
            return record
    typed = folded(wanted)
    for matches in (
        [r for r in records if folded(r.title) == typed],
        [r for r in records if typed and folded(r.title).startswith(typed)],  # a title cut to 100 characters
    ):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise NewsbotError(
                message("discord_article_ambiguous", service.settings.language, title=wanted, count=len(matches))
            )
    raise NewsbotError(message("article_not_found", service.settings.language, article_id=wanted))


def article_choices(records: Sequence[ArticleRecord], typed: str) -> list[app_commands.Choice[str]]:
    """Up to 25 articles whose title or id holds what was typed; the value is the id when it fits, else the title."""
    wanted = folded(typed).strip()
    matches = [r for r in records if wanted in folded(r.title) or wanted in folded(r.article_id)]
    return [
        app_commands.Choice(
            name=truncate(r.title, CHOICE_LIMIT),
            value=r.article_id if len(r.article_id) <= CHOICE_LIMIT else r.title[:CHOICE_LIMIT],
        )
        for r in matches[:MAX_CHOICES]
    ]


class ArticlePages(discord.ui.View):
    """Back and forward buttons over the article list; only the one who asked may turn the pages."""

    def __init__(
        self, records: Sequence[ArticleRecord], owner_id: int, language: str = "de", timeout: float = 300.0
    ) -> None:
        super().__init__(timeout=timeout)
        self.records = list(records)
        self.owner_id = owner_id
        self.language = language
        self.page = 0
        self.pages = page_count(len(self.records))
        self.previous_page.label = message("discord_previous", language)
        self.next_page.label = message("discord_next", language)
        self._update_buttons()

    def embed(self) -> discord.Embed:
        return articles_embed(self.records, self.page, self.language)

    def _update_buttons(self) -> None:
        self.previous_page.disabled = self.page <= 0
        self.next_page.disabled = self.page >= self.pages - 1

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.page = min(max(self.page + step, 0), self.pages - 1)
        self._update_buttons()
        await interaction.response.edit_message(embed=self.embed(), view=self, allowed_mentions=NO_MENTIONS)

    @discord.ui.button(label="<", style=discord.ButtonStyle.secondary)
    async def previous_page(self, interaction: discord.Interaction, _button: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label=">", style=discord.ButtonStyle.secondary)
    async def next_page(self, interaction: discord.Interaction, _button: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, +1)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.owner_id

    async def on_error(self, interaction: discord.Interaction, error: Exception, _item: Any) -> None:
        text = explain(error, self.language)
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


class ManageCog(commands.Cog):
    """Index management for the server's managers."""

    def __init__(self, service: NewsService) -> None:
        self.service = service
        self.settings = service.settings
        self.language = service.settings.language
        if not self.settings.discord_manager_role:
            # Hide the commands from non-managers; with a role configured they stay visible to everyone,
            # since Discord cannot show a command to a role by default. The check below decides either way.
            for command in self.get_app_commands():
                command.default_permissions = discord.Permissions(manage_guild=True)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:  # type: ignore[override]
        """Runs before every command of this cog: the real guard, whatever Discord's menu shows."""
        if not is_manager(interaction, self.settings.discord_manager_role):
            raise NotManager(message("discord_not_manager", self.language, role=self.settings.discord_manager_role))
        return True

    @app_commands.command(name=command_name("discord_name_index"), description=command_text("discord_describe_index"))
    @app_commands.rename(url=command_name("discord_name_index_url"), datei=command_name("discord_name_index_file"))
    @app_commands.describe(
        url=command_text("discord_describe_index_url"), datei=command_text("discord_describe_index_file")
    )
    @app_commands.guild_only()
    async def index(
        self, interaction: discord.Interaction, url: str | None = None, datei: discord.Attachment | None = None
    ) -> None:
        """Index a web page, a feed or an uploaded file and report what changed."""
        if not url and datei is None:
            raise NewsbotError(message("discord_index_missing_source", self.language))
        if datei is not None:
            upload_name(self.settings, datei.filename)  # reject a wrong file type before downloading it
        await interaction.response.defer(ephemeral=True, thinking=True)
        reports = []
        if url:
            reports.append(await asyncio.to_thread(index_url, self.service, url.strip()))
        if datei is not None:
            reports.append(await self.index_attachment(datei))
        await interaction.followup.send(
            report_text(reports, self.language), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    async def index_attachment(self, attachment: discord.Attachment) -> IndexReport:
        if attachment.size > self.settings.fetch_max_bytes:
            raise NewsbotError(
                message(
                    "discord_upload_too_large", self.language, size=attachment.size, limit=self.settings.fetch_max_bytes
                )
            )
        data = await attachment.read()
        return await asyncio.to_thread(self.service.index_upload, attachment.filename, data)

    artikel = app_commands.Group(
        name=command_name("discord_name_artikel"), description=command_text("discord_describe_artikel"), guild_only=True
    )

    @artikel.command(
        name=command_name("discord_name_artikel_liste"), description=command_text("discord_describe_artikel_liste")
    )
    async def artikel_liste(self, interaction: discord.Interaction) -> None:
        """The indexed articles, newest first, ten a page with buttons to turn."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        records = await asyncio.to_thread(self.service.articles)
        pages = ArticlePages(records, interaction.user.id, self.language)
        extra: dict[str, Any] = {"view": pages} if pages.pages > 1 else {}
        await interaction.followup.send(embed=pages.embed(), ephemeral=True, allowed_mentions=NO_MENTIONS, **extra)

    @artikel.command(
        name=command_name("discord_name_artikel_entfernen"),
        description=command_text("discord_describe_artikel_entfernen"),
    )
    @app_commands.rename(artikel=command_name("discord_name_artikel_entfernen_artikel"))
    @app_commands.describe(artikel=command_text("discord_describe_artikel_entfernen_artikel"))
    async def artikel_entfernen(self, interaction: discord.Interaction, artikel: str) -> None:
        """Take one article out of the index; the search sees the change with the next question."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        record = await asyncio.to_thread(find_article, self.service, artikel)
        await asyncio.to_thread(self.service.remove, record.article_id)
        log.info("removed from Discord by %s: %s", interaction.user.id, record.article_id)
        text = message("discord_removed", self.language, title=escape(truncate(record.title, MAX_LINK_TITLE)))
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @artikel_entfernen.autocomplete("artikel")
    async def artikel_vorschlaege(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Titles to pick from while typing; only for managers, since the list is theirs to see."""
        if not is_manager(interaction, self.settings.discord_manager_role):
            return []
        records = await asyncio.to_thread(self.service.articles)
        return article_choices(records, current)

    @app_commands.command(name=command_name("discord_name_feeds"), description=command_text("discord_describe_feeds"))
    @app_commands.guild_only()
    async def feeds(self, interaction: discord.Interaction) -> None:
        """The configured feeds, each polled now, with what it brought or why it failed."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        feeds = await asyncio.to_thread(configured_feeds, self.service.settings)
        results = await poll_feeds(self.service, feeds)
        await interaction.followup.send(
            feeds_text(results, self.language), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name=command_name("discord_name_status"), description=command_text("discord_describe_status"))
    @app_commands.guild_only()
    async def status(self, interaction: discord.Interaction) -> None:
        """Article and chunk counts, the embedder and when the index last changed."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        status = await asyncio.to_thread(self.service.status)
        embed = status_embed(status, self.language)
        await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)
