"""Discord refusing what the bot sends (a missing permission, 429, 5xx, a question deleted meanwhile): the bot
logs it and answers where it still can; nothing escapes the cog."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from unittest.mock import AsyncMock, MagicMock

import discord

from bot.discord.ask import AskCog
from bot.discord.streaming import WRITING_MARK, stream_answer
from bot.result import Answer
from index.texts import message
from tests.test_discord_ask import GIPFEL, service  # noqa: F401 (the fixture)
from tests.test_discord_mocks import (
    BOT_USER_ID,
    assert_no_mentions,
    make_bot,
    make_message,
    make_sent_message,
    sent_kwargs,
)


def http_error(kind: type[discord.HTTPException], status: int, text: str) -> discord.HTTPException:
    return kind(MagicMock(status=status, reason=text), text)


def mention() -> MagicMock:
    msg = make_message(f"<@{BOT_USER_ID}> {GIPFEL}", mentions_bot=True)
    msg.channel.name = "nachrichten"
    return msg


async def test_a_typing_indicator_discord_refuses_does_not_cost_the_answer(service, caplog):  # noqa: F811
    msg = mention()
    msg.channel.typing.return_value.__aenter__.side_effect = http_error(discord.DiscordServerError, 503, "overloaded")

    await AskCog(make_bot(), service).on_message(msg)

    (kwargs,) = sent_kwargs(msg.reply)
    assert "Budapest" in kwargs["embed"].description
    assert "typing" in caplog.text


async def test_a_reply_discord_forbids_goes_to_the_channel_instead(service, caplog):  # noqa: F811
    """A reply needs the permission to read the message history, a message in the channel does not."""
    msg = mention()
    msg.reply.side_effect = http_error(discord.Forbidden, 403, "Missing Permissions")

    await AskCog(make_bot(), service).on_message(msg)

    (kwargs,) = sent_kwargs(msg.channel.send)
    assert "Budapest" in kwargs["embed"].description
    assert_no_mentions(kwargs)
    assert "Missing Permissions" in caplog.text


async def test_a_question_deleted_before_its_answer_is_answered_in_the_channel(service):  # noqa: F811
    msg = mention()
    msg.reply.side_effect = http_error(discord.HTTPException, 400, "Unknown message")

    await AskCog(make_bot(), service).on_message(msg)

    assert "Budapest" in sent_kwargs(msg.channel.send)[0]["embed"].description


async def test_where_the_bot_may_not_speak_at_all_it_logs_and_goes_on(service, caplog):  # noqa: F811
    caplog.set_level(logging.WARNING)
    msg = mention()
    msg.reply.side_effect = http_error(discord.Forbidden, 403, "Missing Permissions")
    msg.channel.send.side_effect = http_error(discord.Forbidden, 403, "Missing Permissions")
    cog = AskCog(make_bot(), service)

    await cog.on_message(msg)  # raises nothing

    assert "could not answer" in caplog.text
    assert "Traceback" not in caplog.text
    (note,) = [call.args[0] for call in msg.author.send.await_args_list]  # the asker hears why, privately
    assert note == message("discord_cannot_answer_there", channel=msg.channel.name)
    assert_no_mentions(msg.author.send.await_args.kwargs)
    second = mention()
    await cog.on_message(second)
    assert "Budapest" in sent_kwargs(second.reply)[0]["embed"].description


async def test_a_reply_discord_fails_with_5xx_is_not_sent_twice_and_nothing_escapes(service, caplog):  # noqa: F811
    """discord.py has retried a 5xx already, and the message may have gone out: the channel gets no copy."""
    msg = mention()
    msg.reply.side_effect = http_error(discord.DiscordServerError, 503, "Service Unavailable")

    await AskCog(make_bot(), service).on_message(msg)

    msg.channel.send.assert_not_awaited()
    msg.author.send.assert_not_awaited()
    assert "Service Unavailable" in caplog.text


# ---- generated answers, streamed into one message (bot/discord/streaming.py) ----------------------


async def streamed(items: list[str | Answer]) -> AsyncIterator[str | Answer]:
    for item in items:
        yield item


ANSWER = Answer(GIPFEL, "In Budapest [1].", True, [], 0.9, mode="llm", cited=(1,))


async def test_an_edit_discord_refuses_while_the_answer_is_written_costs_only_that_edit(caplog):
    sent = make_sent_message()
    sent.edit.side_effect = [http_error(discord.HTTPException, 429, "rate limited"), None, None]
    send = AsyncMock(return_value=sent)

    reply, final = await stream_answer(send, streamed(["In ", "Budapest ", "[1].", ANSWER]), interval=0.0)

    assert (reply, final) == (sent, ANSWER)
    contents = [e["content"] for e in sent_kwargs(sent.edit)]
    assert contents == ["In Budapest" + WRITING_MARK, "In Budapest [1]." + WRITING_MARK, None]
    assert "rate limited" in caplog.text


async def test_a_streamed_message_deleted_before_the_end_gets_the_answer_as_a_new_message():
    """A moderator (or the asker) deleted the half-written message: the final edit finds nothing."""
    sent, second = make_sent_message(), make_sent_message()
    sent.edit.side_effect = http_error(discord.NotFound, 404, "Unknown Message")
    send = AsyncMock(side_effect=[sent, second])

    reply, _ = await stream_answer(send, streamed(["In ", "Budapest ", ANSWER]), interval=60.0)

    assert reply is second
    final = send.await_args_list[-1].kwargs
    assert "Budapest" in final["embed"].description
    assert_no_mentions(final)
