"""Asking in Discord: `/frage`, mentions, direct messages and follow-ups in the bot's threads; `/neu` starts
a conversation afresh and `/hilfe` explains it all.

Thin glue over `NewsService.ask`: the search runs in a worker thread, so the gateway heartbeat and
other questions go on while one is answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.command_texts import command_name, command_text, language_of
from bot.discord.conversations import Conversations
from bot.discord.errors import NO_MENTIONS, explain
from bot.discord.formatting import answer_embed, thread_name
from bot.discord.guards import UserCooldown
from bot.discord.streaming import iterate_in_thread, stream_answer
from bot.result import Answer
from bot.service import NewsService, ends_the_conversation, normalised_text, starts_a_topic, validate_question
from index.errors import NewsbotError
from index.texts import message

log = logging.getLogger(__name__)

Send = Callable[..., Awaitable[Any]]

# Seconds a cooldown notice stays in a channel: it matters only to the one who asked.
NOTICE_SECONDS = 10


async def send_answer(send: Send, answer: Answer, language: str = "de") -> discord.Message:
    """The one place an extractive answer goes out; generated answers stream (`bot.discord.streaming`)."""
    return await send(embed=answer_embed(answer, language), allowed_mentions=NO_MENTIONS)


CONVERSATION_TYPES = frozenset(
    {
        discord.ChannelType.private,
        discord.ChannelType.public_thread,
        discord.ChannelType.private_thread,
        discord.ChannelType.news_thread,
    }
)


def conversation_id(channel: object) -> int | None:
    """Threads and direct messages are conversations; a plain channel starts a new one per question.

    Uncached channels arrive as `PartialMessageable`, so their type counts, not only their class.
    """
    if isinstance(channel, discord.Thread | discord.DMChannel) or getattr(channel, "type", None) in CONVERSATION_TYPES:
        return getattr(channel, "id", None)
    return None


def reply_to(msg: discord.Message) -> Send:
    """Send as a reply to `msg`, else as a message in its channel where Discord refused the reply for a reason of the
    reply itself: it needs the permission to read the channel's history, and the question may be deleted meanwhile.

    A 429 or 5xx, which discord.py has retried already, is raised: the answer may have gone out after all.
    """

    async def send(*args: Any, **kwargs: Any) -> discord.Message:
        try:
            return await msg.reply(*args, mention_author=False, **kwargs)
        except discord.HTTPException as error:
            if error.status == 429 or error.status >= 500:
                raise
            log.warning("could not reply to the question, writing to its channel instead: %s", error)
            return await msg.channel.send(*args, **kwargs)

    return send


class AskCog(commands.Cog):
    """Answers questions and keeps each conversation in a thread of its own."""

    def __init__(self, bot: commands.Bot, service: NewsService) -> None:
        self.bot = bot
        self.service = service
        self.settings = service.settings
        self.language = service.settings.language
        self.cooldown = UserCooldown(service.settings.discord_cooldown_seconds)
        self.conversations = Conversations()
        # Edits made within the asker's cooldown, by message id, each answered once the cooldown allows.
        self.edits_waiting: dict[int, asyncio.Task[None]] = {}

    async def cog_unload(self) -> None:
        for waiting in self.edits_waiting.values():
            waiting.cancel()

    @app_commands.command(name=command_name("discord_name_frage"), description=command_text("discord_describe_frage"))
    @app_commands.rename(frage=command_name("discord_name_frage_option"))
    @app_commands.describe(frage=command_text("discord_describe_frage_text"))
    async def frage(self, interaction: discord.Interaction, frage: str) -> None:
        """Answer in public, then continue in a thread; refusals of input come privately and at once."""
        frage = validate_question(self.settings, frage)  # before the cooldown: a typo costs no turn
        notice = self.cooldown_notice(interaction.user.id)
        if notice:
            await interaction.response.send_message(notice, ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        await interaction.response.defer(thinking=True)
        send = functools.partial(interaction.followup.send, wait=True)
        await self.answer(frage, interaction.channel, send, interaction.user.id)

    @app_commands.command(name=command_name("discord_name_neu"), description=command_text("discord_describe_neu"))
    async def neu(self, interaction: discord.Interaction) -> None:
        """Forget the user's earlier questions in this thread or DM, so the next one is not read as a follow-up."""
        key = conversation_id(interaction.channel)
        if key is None:
            text = message("discord_new_no_conversation", self.language)
        else:
            self.conversations.forget((key, interaction.user.id))
            text = message("discord_new_conversation", self.language)
        # only the asker's questions are forgotten, so only the asker needs to read it
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @app_commands.command(name=command_name("discord_name_hilfe"), description=command_text("discord_describe_hilfe"))
    async def hilfe(self, interaction: discord.Interaction) -> None:
        """How to ask, and which commands there are; only the one who asked sees it, in the language Discord shows
        them the commands' names in."""
        language = language_of(interaction.locale, self.language)
        text = message("discord_help", language, cooldown=math.ceil(self.cooldown.seconds))
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @commands.Cog.listener()
    async def on_message(self, msg: discord.Message) -> None:
        """Mentions, direct messages and questions in the bot's own threads are answered like `/frage`."""
        written = self.question_in(msg)
        if written is None:
            return
        send = reply_to(msg)
        try:
            if msg.attachments and not normalised_text(written):  # a file and a mention: no question to read
                await send(message("discord_attachment_only", self.language), allowed_mentions=NO_MENTIONS)
                return
            # before the cooldown, as /frage: "@newsbot" alone costs no turn
            question = validate_question(self.settings, written)
            notice = self.cooldown_notice(msg.author.id)
            if notice:
                await send(notice, allowed_mentions=NO_MENTIONS, delete_after=NOTICE_SECONDS)
                return
            async with contextlib.AsyncExitStack() as typing:
                try:  # a courtesy: Discord refusing it (no permission, 429, 5xx) cost the answer itself
                    await typing.enter_async_context(msg.channel.typing())
                except discord.HTTPException as error:
                    log.warning("Discord refused the typing indicator: %s", error)
                await self.answer(question, msg.channel, send, msg.author.id)
        except discord.HTTPException as error:  # Discord refused the answer itself: nowhere left to say so there
            await self.could_not_answer(msg, error)
        except Exception as error:  # the face's error handler for messages: text to the user, detail to the log
            try:
                await send(explain(error, self.language), allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as failure:
                await self.could_not_answer(msg, failure)

    @commands.Cog.listener()
    async def on_message_edit(self, before: discord.Message, after: discord.Message) -> None:
        """A question edited to read otherwise (a typo fixed, the bot mentioned afterwards) is answered as it now
        reads, as a question in its own right: its earlier wording leaves the conversation. An edit that leaves
        the text as it reads (Discord adding a link's preview, a pin) asks nothing again.

        An edit made within the asker's cooldown (a typo seen in the answer's title) replaces the question, so it
        is answered, not told to wait: once the cooldown allows, as it then reads (a later edit replaces a waiting
        one). Answering it at once would let edits go round the cooldown."""
        written = self.question_in(after)
        if written is None:
            return
        earlier = self.question_in(before)
        if earlier is not None:
            if normalised_text(earlier) == normalised_text(written):
                return
            key = conversation_id(after.channel)
            if key is not None:
                with contextlib.suppress(NewsbotError):  # the earlier wording was no question: nothing to withdraw
                    self.conversations.withdraw((key, after.author.id), validate_question(self.settings, earlier))
        replaced = self.edits_waiting.pop(after.id, None)
        if replaced is not None:
            replaced.cancel()
        if self.cooldown.remaining(after.author.id):
            self.edits_waiting[after.id] = asyncio.create_task(self.answer_edit_when_allowed(after))
        else:
            await self.on_message(after)

    async def answer_edit_when_allowed(self, edited: discord.Message) -> None:
        # a clock, not an event: another question of the asker's may have taken the turn meanwhile
        while wait := self.cooldown.remaining(edited.author.id):  # noqa: ASYNC110
            await asyncio.sleep(wait)
        if self.edits_waiting.get(edited.id) is asyncio.current_task():
            del self.edits_waiting[edited.id]  # under way now: a later edit waits for its own turn, cancels nothing
        await self.on_message(edited)

    async def could_not_answer(self, msg: discord.Message, error: discord.HTTPException) -> None:
        """Log what Discord refused; where the bot may not write in the channel, tell the asker by direct message."""
        log.warning("could not answer in channel %s: %s", getattr(msg.channel, "id", "?"), error)
        if not isinstance(error, discord.Forbidden) or msg.guild is None:
            return
        text = message("discord_cannot_answer_there", self.language, channel=getattr(msg.channel, "name", ""))
        try:
            await msg.author.send(text, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as failure:  # direct messages closed: the log is all there is
            log.warning("could not tell the asker by direct message either: %s", failure)

    def cooldown_notice(self, user_id: int) -> str | None:
        """The polite "one moment" text when the user asked too recently; None takes the turn."""
        wait = self.cooldown.retry_after(user_id)
        return message("discord_cooldown", self.language, seconds=UserCooldown.whole_seconds(wait)) if wait else None

    def question_in(self, msg: discord.Message) -> str | None:
        """The text of the question `msg` asks the bot as written (`validate_question` reads it as Discord shows it,
        as it reads a question to `newsbot ask`), or None when it is not addressed to the bot."""
        me = self.bot.user
        if me is None or msg.author.bot:
            return None
        mentioned = any(user.id == me.id for user in msg.mentions)
        own_thread = isinstance(msg.channel, discord.Thread) and msg.channel.owner_id == me.id
        # In its own threads the bot answers questions, not the "Danke!" people say to each other.
        if not (msg.guild is None or mentioned or (own_thread and "?" in msg.content)):
            return None
        return msg.content

    async def answer(self, question: str, channel: object, send: Send, user_id: int) -> None:
        """Ask off the event loop with the user's earlier questions in this conversation, send, then open a thread.

        Each user's own: in a thread several people ask, and one's questions must not steer another's answers
        (a question about the heat after someone else's about the summit was answered with the summit's date).
        """
        key = conversation_id(channel)
        history = self.conversations.history((key, user_id)) if key is not None else []
        if self.settings.answer_mode == "llm":
            stream = iterate_in_thread(self.service.ask_stream(question, history))
            reply, answer = await stream_answer(send, stream, self.language)
        else:
            answer = await asyncio.to_thread(self.service.ask, question, history)
            reply = await send_answer(send, answer, self.language)
        if key is None and answer.answered and isinstance(channel, discord.TextChannel):
            key = await self.open_thread(reply, answer.question)  # as the embed titles it: "WO …?" comes as "Wo …?"
        if key is not None and answer.answered:  # a refused question is no context for the next one (as in chat)
            self.conversations.remember((key, user_id), answer.question, afresh=starts_a_topic(answer))
        elif key is not None and ends_the_conversation(answer, self.settings.language):
            self.conversations.forget((key, user_id))

    async def open_thread(self, reply: discord.Message, question: str) -> int | None:
        """A thread on the answer for follow-ups; without the permission the answer simply stands alone."""
        try:
            thread = await reply.create_thread(name=thread_name(question), auto_archive_duration=1440)
        except discord.HTTPException as error:
            log.warning("could not open a thread for follow-ups: %s", error)
            return None
        return thread.id
