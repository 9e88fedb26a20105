"""The Discord face's one error handler: users get a short German text, the log gets the detail.

`NewsbotError` and the manager refusal carry their own ready-to-show text; anything else becomes a
generic text and a logged traceback. Never a traceback in Discord.
"""

from __future__ import annotations

import contextlib
import logging

import discord
from discord import app_commands

from bot.discord.guards import NotManager
from index.errors import NewsbotError
from index.texts import message

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()


def explain(error: BaseException, language: str = "de") -> str:
    """The text a user sees for `error`; what went wrong in detail goes to the log only."""
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(original, NewsbotError):
        log.info("user error: %s%s", original.message, f" ({original.detail})" if original.detail else "")
        return original.message
    if isinstance(original, NotManager):
        return original.message
    if isinstance(original, app_commands.CheckFailure):
        return message("discord_check_failed", language)
    if isinstance(original, discord.Forbidden):
        log.warning("missing Discord permission: %s", original)
        return message("discord_missing_permissions", language)
    log.error("unexpected error", exc_info=original)
    return message("discord_unexpected_error", language)


async def reply_privately(interaction: discord.Interaction, text: str) -> None:
    """Tell only the user who asked: an ephemeral reply, or after a public "thinking…" its removal first.

    Discord shows the first follow-up of a deferred interaction in place of the "thinking…" message,
    public if that was public; removing it lets the ephemeral follow-up stand alone.
    """
    try:
        if interaction.response.is_done():
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException:
        log.warning("could not tell the user about an error (interaction expired?)", exc_info=True)


class NewsCommandTree(app_commands.CommandTree):
    """The command tree whose `on_error` every slash command's failure goes through."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError, /) -> None:
        language = getattr(getattr(self.client, "settings", None), "language", "de")
        await reply_privately(interaction, explain(error, language))
