"""The slash commands' descriptions in each Discord user's language where newsbot ships texts for it, and in
NEWSBOT_LANGUAGE for everyone else, through discord.py's `Translator`: the commands are declared once, at import,
and their descriptions were German in every deployment (the English texts in prompts/ were never sent)."""

from __future__ import annotations

import discord
from discord import app_commands

from index.texts import message, supported_languages


def command_text(key: str) -> app_commands.locale_str:
    """A command's or option's description: the German text, as declared, with its key in prompts/ to translate."""
    return app_commands.locale_str(message(key), key=key)


class CommandTexts(app_commands.Translator):
    """Every Discord locale gets a description: its own language's where prompts/ has it, else the configured one's
    (so a French user of an English deployment reads English, not the German of the declaration)."""

    def __init__(self, language: str) -> None:
        self.language = language

    async def translate(
        self, string: app_commands.locale_str, locale: discord.Locale, context: app_commands.TranslationContextTypes
    ) -> str | None:
        key = string.extras.get("key")
        if key is None:  # the command names stay as they are: /frage is /frage for everyone
            return None
        own = locale.value.partition("-")[0]  # "en-US" and "en-GB" are English
        return message(key, own if own in supported_languages() else self.language)
