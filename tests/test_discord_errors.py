"""The one error handler of the Discord face: a German text for the user, only in private; detail in the log."""

from __future__ import annotations

import logging
from unittest.mock import MagicMock

import discord
import pytest
from discord import app_commands

from bot.discord.client import NewsBot
from bot.discord.errors import explain
from bot.discord.guards import NotManager
from bot.service import NewsService
from index.errors import NewsbotError
from index.texts import message
from tests.test_discord_mocks import assert_no_mentions, make_interaction


@pytest.fixture
def bot(settings) -> NewsBot:
    service = MagicMock(spec=NewsService)
    service.settings = settings
    return NewsBot(service)


def invoke_error(original: Exception) -> app_commands.CommandInvokeError:
    """How discord.py hands a command's exception to the tree's error handler."""
    command = app_commands.Command(name="frage", description="d", callback=_callback)
    return app_commands.CommandInvokeError(command, original)


async def _callback(interaction: discord.Interaction) -> None:
    """A stand-in command body for `invoke_error`."""


def test_a_newsbot_error_shows_its_own_message():
    assert explain(invoke_error(NewsbotError("Der Index ist leer.", detail="no rows"))) == "Der Index ist leer."


def test_the_manager_refusal_shows_its_own_message():
    assert explain(NotManager("Nur für Admins.")) == "Nur für Admins."


def test_an_unexpected_error_shows_a_generic_text_and_logs_the_traceback(caplog):
    caplog.set_level(logging.ERROR)
    try:
        raise RuntimeError("database at /srv/secret broke")
    except RuntimeError as error:
        text = explain(invoke_error(error))
    assert text == message("discord_unexpected_error")
    assert "secret" not in text
    assert "database at /srv/secret broke" in caplog.text
    assert "Traceback" in caplog.text
    assert "test_an_unexpected_error" in caplog.text  # where it happened, for whoever reads the log


async def test_the_tree_replies_ephemerally_when_nothing_was_sent_yet(bot):
    interaction = make_interaction()
    await bot.tree.on_error(interaction, invoke_error(NewsbotError("Bitte stelle eine Frage.")))
    interaction.response.send_message.assert_awaited_once()
    assert interaction.response.send_message.await_args.args == ("Bitte stelle eine Frage.",)
    assert interaction.response.send_message.await_args.kwargs["ephemeral"] is True
    assert_no_mentions(interaction.response.send_message.await_args.kwargs)


async def test_after_a_public_defer_the_thinking_message_goes_and_the_error_comes_privately(bot):
    events: list[str] = []
    interaction = make_interaction(events=events)
    await interaction.response.defer(thinking=True)

    await bot.tree.on_error(interaction, invoke_error(RuntimeError("boom")))

    interaction.delete_original_response.assert_awaited_once()
    assert events == ["defer", "followup"]
    kwargs = interaction.followup.send.await_args.kwargs
    assert interaction.followup.send.await_args.args == (message("discord_unexpected_error"),)
    assert kwargs["ephemeral"] is True
    assert_no_mentions(kwargs)


async def test_an_expired_interaction_does_not_raise_from_the_error_handler(bot, caplog):
    interaction = make_interaction()
    interaction.response.send_message.side_effect = discord.NotFound(MagicMock(status=404), "Unknown interaction")
    await bot.tree.on_error(interaction, invoke_error(NewsbotError("x")))
    assert "could not tell the user" in caplog.text


def test_a_missing_discord_permission_is_explained_without_detail():
    forbidden = discord.Forbidden(MagicMock(status=403, reason="Forbidden"), "Missing Access")
    assert explain(invoke_error(forbidden)) == message("discord_missing_permissions")
