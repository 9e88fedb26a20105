"""Factories for discord.py objects as spec'd mocks, shared by the Discord tests (no tests of its own).

A spec'd mock only has the attributes of the real class, and its coroutine methods are `AsyncMock`s,
so a handler that calls something discord.py does not have fails here as it would against Discord.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import DEFAULT, AsyncMock, MagicMock

import discord
from discord.ext import commands

BOT_USER_ID = 999


def make_bot() -> MagicMock:
    bot = MagicMock(spec=commands.Bot)
    bot.user = MagicMock(spec=discord.ClientUser, id=BOT_USER_ID, bot=True)
    return bot


def make_member(user_id: int = 1, roles: tuple[tuple[int, str], ...] = ()) -> MagicMock:
    member = MagicMock(spec=discord.Member, id=user_id, bot=False)
    member.roles = []
    for role_id, name in roles:
        role = MagicMock(spec=discord.Role, id=role_id)
        role.name = name  # `name=` in the constructor would name the mock, not the role
        member.roles.append(role)
    return member


def make_channel(kind: type = discord.TextChannel, channel_id: int = 100, owner_id: int | None = None) -> MagicMock:
    channel = MagicMock(spec=kind, id=channel_id)
    if kind is discord.Thread:
        channel.owner_id = owner_id
    return channel


def make_thread(thread_id: int, owner_id: int = BOT_USER_ID) -> MagicMock:
    return make_channel(discord.Thread, thread_id, owner_id)


def make_sent_message(thread_id: int = 555) -> MagicMock:
    """What `followup.send(wait=True)` or `Message.reply` returns: a message a thread can be opened on."""
    sent = MagicMock(spec=discord.WebhookMessage)
    sent.create_thread = AsyncMock(return_value=make_thread(thread_id))
    return sent


def make_interaction(
    user: MagicMock | None = None,
    channel: MagicMock | None = None,
    *,
    in_guild: bool = True,
    manage_guild: bool = False,
    events: list[str] | None = None,
    thread_id: int = 555,
    locale: discord.Locale = discord.Locale.german,
) -> MagicMock:
    """An `Interaction` whose response remembers whether it was used, like the real one.

    `events` (if given) records "defer", "send_message" and "followup" in the order they happened.
    """
    events = events if events is not None else []
    interaction = MagicMock(spec=discord.Interaction)
    interaction.user = user or make_member()
    interaction.channel = channel or make_channel()
    interaction.guild = MagicMock(spec=discord.Guild, id=1) if in_guild else None
    interaction.permissions = discord.Permissions(manage_guild=manage_guild)
    interaction.locale = locale  # the asker's Discord language
    state = {"done": False}

    def responded(name: str) -> Any:
        def record(*_args: Any, **_kwargs: Any) -> None:
            state["done"] = True
            events.append(name)

        return record

    response = MagicMock(spec=discord.InteractionResponse)
    response.is_done.side_effect = lambda: state["done"]
    response.defer.side_effect = responded("defer")
    response.send_message.side_effect = responded("send_message")
    response.edit_message.side_effect = responded("edit_message")
    interaction.response = response

    followup = MagicMock(spec=discord.Webhook)
    followup.send.return_value = make_sent_message(thread_id)

    def followup_send(*_args: Any, **_kwargs: Any) -> Any:
        events.append("followup")
        return DEFAULT  # so the call returns `send.return_value`, the sent message

    followup.send.side_effect = followup_send
    interaction.followup = followup
    return interaction


def make_message(
    content: str,
    author: MagicMock | None = None,
    channel: MagicMock | None = None,
    *,
    mentions_bot: bool = False,
    in_guild: bool = True,
    thread_id: int = 556,
) -> MagicMock:
    msg = MagicMock(spec=discord.Message)
    msg.content = content
    msg.author = author or make_member()
    msg.channel = channel or make_channel()
    msg.guild = MagicMock(spec=discord.Guild, id=1) if in_guild else None
    msg.mentions = [MagicMock(spec=discord.ClientUser, id=BOT_USER_ID)] if mentions_bot else []
    msg.attachments = []  # as a message without files has
    msg.reply = AsyncMock(return_value=make_sent_message(thread_id))
    return msg


def sent_kwargs(mock: AsyncMock) -> list[dict[str, Any]]:
    """The keyword arguments of every awaited call, e.g. of `followup.send`."""
    return [call.kwargs for call in mock.await_args_list]


def assert_no_mentions(kwargs: dict[str, Any]) -> None:
    """The reply was sent with every mention disabled (AllowedMentions has no equality of its own)."""
    mentions = kwargs["allowed_mentions"]
    assert isinstance(mentions, discord.AllowedMentions)
    assert (mentions.everyone, mentions.users, mentions.roles, mentions.replied_user) == (False,) * 4


def sent_texts(mock: AsyncMock) -> list[str]:
    return [call.args[0] if call.args else call.kwargs.get("content", "") for call in mock.await_args_list]
