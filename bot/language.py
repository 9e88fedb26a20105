"""Which language a question is in, among those newsbot has texts for (py3langid, restricted to them).

Users ask German articles in English too: the reply's refusal text follows the question, and the refusal
decision needs to know whether the question can share words with the articles at all.
"""

from __future__ import annotations

from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from index.texts import supported_languages


@cache
def _identifier(languages: tuple[str, ...]) -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier.set_languages(list(languages))
    return identifier


def load() -> None:
    """Read the model now (about half a second, seconds on a busy machine), not at the first question."""
    if len(supported_languages()) > 1:
        _identifier(supported_languages())


def question_language(question: str, default: str) -> str:
    """The supported language `question` is most likely in; `default` when there is nothing to tell by.

    Restricted to the supported languages, py3langid names all 867 dev questions (German and English)
    correctly; a question of digits and names alone keeps the articles' language.
    """
    languages = supported_languages()
    if len(languages) < 2 or not any(c.isalpha() for c in question):
        return default
    return str(_identifier(languages).classify(question)[0])
