"""The slash commands' names and descriptions in each Discord user's language where newsbot ships texts for it, and
in NEWSBOT_LANGUAGE for everyone else, through discord.py's `Translator`: the commands are declared once, at import,
in German, and were German in every deployment (an English one offered `/frage`, `/neu`, `/artikel liste`)."""

from __future__ import annotations

import discord
from discord import app_commands

from index.texts import message, supported_languages


def command_text(key: str) -> app_commands.locale_str:
    """A command's or option's description: the German text, as declared, with its key in prompts/ to translate."""
    return app_commands.locale_str(message(key), key=key)


def command_name(key: str) -> app_commands.locale_str:
    """A command's, group's or option's name: the German one (`discord_name_frage`: "frage"), which discord.py
    routes by, with its key in prompts/ for the name each user sees."""
    return command_text(key)


def language_of(locale: discord.Locale, configured: str) -> str:
    """The language a Discord user reads newsbot's commands in: their own where prompts/ has it ("en-US" and
    "en-GB" are English), else the configured one (a French user of an English deployment reads English)."""
    own = locale.value.partition("-")[0]
    return own if own in supported_languages() else configured


class CommandTexts(app_commands.Translator):
    """Every Discord locale gets each name and description in `language_of` it."""

    def __init__(self, language: str) -> None:
        self.language = language

    async def translate(
        self, string: app_commands.locale_str, locale: discord.Locale, context: app_commands.TranslationContextTypes
    ) -> str | None:
        key = string.extras.get("key")
        if key is None:
            return None
        return message(key, language_of(locale, self.language))
