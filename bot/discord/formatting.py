"""Turns answers, reports and index listings into Discord embeds and messages that always fit its limits.

Pure functions without I/O, so every limit is unit-tested without a gateway. Text that comes from
articles, users or the LLM is made inert: markdown escaped, and its links, masked or bare, shown as
code that cannot be clicked; only the source links the bot builds itself lead anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import PurePath
from typing import TYPE_CHECKING

import discord

from bot.ops import format_duration
from bot.result import Answer, Source
from index.catalog import ArticleRecord
from index.indexer import IndexReport
from index.texts import message

if TYPE_CHECKING:
    from bot.service import Status

# Discord's documented limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
MESSAGE_LIMIT = 2000
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELD_VALUE_LIMIT = 1024
EMBED_FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
THREAD_NAME_LIMIT = 100

ARTICLES_PER_PAGE = 10
# A link longer than this is shown as plain title: a cut URL would lead nowhere.
MAX_LINK_URL = 300
MAX_LINK_TITLE = 100

ANSWERED_COLOUR = discord.Colour.blue()
REFUSED_COLOUR = discord.Colour.light_grey()

ELLIPSIS = "…"

# `[label](target)`, also with `<target>` or a title: Discord turns it into a link showing only the label.
MASKED_LINK = re.compile(r"\[([^\[\]]*)\]\(\s*<?([^()<>\s]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# What Discord makes clickable on its own: anything with a scheme (https://, steam://, discord://).
BARE_LINK = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s<>`]+", re.IGNORECASE)


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at a word boundary when one is near, marked with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split `text` into messages of at most `limit` characters, preferring line breaks, then spaces."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:
            cut = limit  # one long word: a hard cut is better than a message over the limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def escape(text: str) -> str:
    """Article, user or LLM text made inert: no masked links, clickable URLs, bold, spoilers or code blocks.

    A masked link shows its target beside its label; every URL becomes inline code, which Discord does not
    link, so a reader still sees where it would lead (escaping alone leaves `\\[x](url)`'s URL clickable).
    """
    unmasked = MASKED_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    parts: list[str] = []
    position = 0
    for match in BARE_LINK.finditer(unmasked):
        link = _without_trailing_punctuation(match.group(0))
        parts.append(discord.utils.escape_markdown(unmasked[position : match.start()], ignore_links=False))
        parts.append(f"`{link}`")
        position = match.start() + len(link)
    parts.append(discord.utils.escape_markdown(unmasked[position:], ignore_links=False))
    return "".join(parts)


def _without_trailing_punctuation(link: str) -> str:
    """The URL without the sentence's full stop or the closing bracket around it (but with its own)."""
    while link and (link[-1] in ".,;:!?'\"]" or (link[-1] == ")" and link.count("(") < link.count(")"))):
        link = link[:-1]
    return link


def thread_name(question: str) -> str:
    return truncate(" ".join(question.split()), THREAD_NAME_LIMIT) or "Frage"


def _link(title: str, url: str | None) -> str:
    """`[title](url)` when the URL fits, else the plain title; brackets in titles would break the link."""
    plain = escape(truncate(title, MAX_LINK_TITLE))
    if not url or len(url) > MAX_LINK_URL:
        return plain
    label = escape(truncate(title.replace("[", "(").replace("]", ")"), MAX_LINK_TITLE))
    target = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return f"[{label}]({target})"


def source_line(number: int, source: Source) -> str:
    """One source: the title linked to its URL, or the title with the file name it came from."""
    if source.link:
        return f"{number}. {_link(source.title, source.link)}"
    name = PurePath(source.source).name or source.source
    return f"{number}. {escape(truncate(source.title, MAX_LINK_TITLE))} ({escape(truncate(name, MAX_LINK_TITLE))})"


def sources_field(sources: Sequence[Source], language: str = "de") -> str:
    """As many source lines as fit one embed field; the rest are counted, never cut mid-link."""
    lines: list[str] = []
    used = 0
    for number, source in enumerate(sources, start=1):
        line = source_line(number, source)
        remaining = len(sources) - number
        reserve = len(message("discord_more_sources", language, count=remaining)) + 1 if remaining else 0
        if used + len(line) + 1 + reserve > EMBED_FIELD_VALUE_LIMIT:
            lines.append(message("discord_more_sources", language, count=len(sources) - number + 1))
            break
        lines.append(line)
        used += len(line) + 1
    return truncate("\n".join(lines), EMBED_FIELD_VALUE_LIMIT)


def answer_embed(answer: Answer, language: str = "de") -> discord.Embed:
    """The answer as users see it: question as title, answer, linked sources, passages and certainty.

    Labels, footer and refusal are in the question's language, as the refusal was: one server's users ask in
    German and in English, and an English question answered under "Quellen" and "Sicherheit" read as half German.
    """
    language = answer.language or language
    if answer.answered:
        text = escape(answer.text)
        if answer.note:
            text += f"\n\n*{escape(answer.note)}*"
        if answer.used_history:
            text += f"\n\n*{message('history_used', language)}*"
    else:  # the search's refusal says why (a remark, no topic); the plain one is worded more kindly here
        text = message("refusal_friendly" if answer.refusal in ("", "refusal") else answer.refusal, language)
    embed = discord.Embed(
        title=truncate(escape(" ".join(answer.question.split())), EMBED_TITLE_LIMIT),
        description=truncate(text, EMBED_DESCRIPTION_LIMIT),
        colour=ANSWERED_COLOUR if answer.answered else REFUSED_COLOUR,
    )
    if answer.answered and answer.sources:
        embed.add_field(
            name=message("discord_sources_label", language), value=sources_field(answer.sources, language), inline=False
        )
        confidence = message("answer_confidence", language, percent=answer.confidence_percent)
        footer = message("discord_answer_footer", language, passages=len(answer.sources), confidence=confidence)
        embed.set_footer(text=truncate(footer, EMBED_FOOTER_LIMIT))
    return fit_embed(embed)


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """Shorten the description until the whole embed is within Discord's 6,000 characters."""
    overflow = len(embed) - EMBED_TOTAL_LIMIT
    if overflow > 0 and embed.description:
        embed.description = truncate(embed.description, max(1, len(embed.description) - overflow))
    return embed


def page_count(items: int, per_page: int = ARTICLES_PER_PAGE) -> int:
    return max(1, -(-items // per_page))


def article_line(number: int, record: ArticleRecord) -> str:
    link = record.url if record.url and record.url.startswith(("http://", "https://")) else None
    where = "" if link else f" ({escape(truncate(PurePath(record.source).name, MAX_LINK_TITLE))})"
    return f"**{number}.** {_link(record.title, link)}{where} · {record.indexed_at[:10]}"


def articles_embed(
    records: Sequence[ArticleRecord], page: int, language: str = "de", per_page: int = ARTICLES_PER_PAGE
) -> discord.Embed:
    """Page `page` (from 0) of the indexed articles, newest first, with "page x of y" in the footer."""
    pages = page_count(len(records), per_page)
    page = min(max(page, 0), pages - 1)
    start = page * per_page
    lines = [article_line(start + i + 1, r) for i, r in enumerate(records[start : start + per_page])]
    embed = discord.Embed(
        title=message("discord_articles_title", language, count=len(records)),
        description=truncate("\n".join(lines) or message("discord_articles_empty", language), EMBED_DESCRIPTION_LIMIT),
        colour=ANSWERED_COLOUR,
    )
    embed.set_footer(text=message("discord_page", language, page=page + 1, pages=pages))
    return fit_embed(embed)


def _when(iso: str | None, language: str) -> str:
    """An index time as a Discord timestamp, which each reader sees in their own time zone."""
    if not iso:
        return message("discord_status_never", language)
    try:
        return discord.utils.format_dt(datetime.fromisoformat(iso), "f")
    except ValueError:
        return escape(iso)


def status_embed(status: Status, language: str = "de") -> discord.Embed:
    """The index's size, embedder and last change, the last feed poll with its result, and the uptime."""
    embed = discord.Embed(title=message("discord_status_title", language), colour=ANSWERED_COLOUR)
    embed.add_field(name=message("discord_status_articles", language), value=str(status.articles))
    embed.add_field(name=message("discord_status_chunks", language), value=str(status.chunks))
    embed.add_field(
        name=message("discord_status_embedder", language),
        value=escape(truncate(status.embedder, EMBED_FIELD_VALUE_LIMIT)),
        inline=False,
    )
    embed.add_field(
        name=message("discord_status_last_update", language), value=_when(status.last_update, language), inline=False
    )
    poll = status.last_feed_poll
    polled = (
        message(
            "discord_status_feed_poll_result",
            language,
            when=_when(poll.get("at"), language),
            mark="✓" if poll.get("ok") else "✗",
            url=escape(truncate(str(poll.get("url", "")), 200)),
            result=escape(truncate(str(poll.get("result", "")), 500)),
        )
        if poll
        else message("discord_status_never", language)
    )
    embed.add_field(name=message("discord_status_feed_poll", language), value=polled, inline=False)
    if status.uptime_seconds is not None:
        embed.add_field(name=message("discord_status_uptime", language), value=format_duration(status.uptime_seconds))
    return fit_embed(embed)


def report_text(reports: Sequence[IndexReport], language: str = "de") -> str:
    """What an /index run did, one summary per source and every failure with its reason, in one message."""
    lines: list[str] = []
    for report in reports:
        lines.append(report.summary(language))
        lines.extend(f"✗ {escape(truncate(source, 200))}: {escape(reason)}" for source, reason in report.failed)
    return truncate("\n".join(lines), MESSAGE_LIMIT)


def feeds_text(results: Sequence[tuple[str, IndexReport | str]], language: str = "de") -> str:
    """What `/feeds` found: each configured feed with its report, or the reason it failed, in one message."""
    if not results:
        return message("discord_feeds_none", language)
    lines = [message("discord_feeds_title", language, count=len(results))]
    for url, outcome in results:
        shown = escape(truncate(url, 200))
        if isinstance(outcome, str):
            lines.append(f"✗ {shown}: {escape(outcome)}")
        else:
            lines.append(f"• {shown}: {outcome.summary(language)}")
            lines.extend(f"  ✗ {escape(truncate(s, 200))}: {escape(r)}" for s, r in outcome.failed[:5])
    return truncate("\n".join(lines), MESSAGE_LIMIT)
