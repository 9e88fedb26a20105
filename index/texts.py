"""Loads user-facing texts and prompt templates from `prompts/`, so wording changes need no code change."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined, Template

_ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)

# The Snowball stemmer of each language the search can handle (bot/lexical.py stems and drops stop words by it).
STEMMERS = {"de": "german", "en": "english"}
# What a language needs in prompts/: its user-facing texts and its LLM prompts.
LANGUAGE_FILES = (
    "messages.{}.yaml",
    "answer_system.{}.j2",
    "answer_user.{}.j2",
    "grounding.{}.yaml",
    "remarks.{}.txt",
    "more.{}.txt",
    "click.{}.json",
)


@cache
def supported_languages() -> tuple[str, ...]:
    """The languages with a stemmer and every text shipped: the only values NEWSBOT_LANGUAGE accepts."""
    shipped = resources.files("prompts")
    return tuple(
        code for code in STEMMERS if all(shipped.joinpath(name.format(code)).is_file() for name in LANGUAGE_FILES)
    )


@cache
def _messages(language: str) -> dict[str, str]:
    raw = resources.files("prompts").joinpath(f"messages.{language}.yaml").read_text(encoding="utf-8")
    # libyaml's safe loader where PyYAML has it: 5 ms instead of 40 for the file, in every command that speaks
    return yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def message(key: str, language: str = "de", **values: Any) -> str:
    """Render the user-facing text `key`; a missing placeholder value raises instead of printing blanks."""
    return _message_template(key, language).render(**values)


@cache
def _message_template(key: str, language: str) -> Template:
    """`key`'s text compiled once: compiling took a millisecond, on every answer."""
    return _ENV.from_string(_messages(language)[key])


def message_keys(language: str = "de") -> list[str]:
    return list(_messages(language))


def template(name: str, override_dir: Path | None = None) -> str:
    """Return a prompt template's source: from `override_dir` when the user put one there, else shipped."""
    if override_dir is not None and (override_dir / name).is_file():
        return (override_dir / name).read_text(encoding="utf-8")
    return resources.files("prompts").joinpath(name).read_text(encoding="utf-8")


def render(source: str, **values: Any) -> str:
    return _ENV.from_string(source).render(**values)
