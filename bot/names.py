"""Which words of a question are proper names, for languages where capitals do not tell.

In German every noun is capitalised, so "Paris" and "Auszeichnung" look alike; the Hannover Tagger (HanTa, a
part-of-speech tagger whose German model ships in its package) tells proper names (STTS tag NE) from common
nouns (NN) in about a millisecond a question. In a language that capitalises only names, a capitalised word
after the first is one.
"""

from __future__ import annotations

import re
import threading
from functools import cache
from typing import Any

from bot.lexical import capitalises_nouns

# HanTa's models by language: the languages whose names need a tagger.
TAGGER_MODELS = {"de": "morphmodel_ger.pgz"}
# Words as the tagger expects them: punctuation apart, a hyphenated name whole ("GPA-djp").
_TOKENS = re.compile(r"\w[\w\-'’.]*\w|\w|[^\w\s]")
_lock = threading.Lock()


@cache
def _tagger(language: str) -> Any:
    from HanTa import HanoverTagger

    return HanoverTagger.HanoverTagger(TAGGER_MODELS[language])


def load_tagger(language: str) -> None:
    """Load `language`'s tagger, where it has one, before a question needs it: its model takes about a second to
    unpickle, which the first German follow-up waited for (the bot and `chat` call this as they warm up)."""
    if language in TAGGER_MODELS:
        with _lock:
            _tagger(language)


def proper_names(question: str, language: str) -> frozenset[str]:
    """The words of `question` that are proper names ("Paris" in "Wie viele Einwohner hat Paris?")."""
    words = _TOKENS.findall(question)
    if not capitalises_nouns(language):  # a capitalised word after the first, of more than a letter ("I")
        return frozenset(w for n, w in enumerate(words) if n and len(w) > 1 and w[:1].isupper())
    if language not in TAGGER_MODELS:
        return frozenset()
    with _lock:  # HanTa does not say it is thread-safe (Discord asks from worker threads); about 1 ms a question
        tagged = _tagger(language).tag_sent(words, taglevel=1)
    return frozenset(word for word, _, tag in tagged if tag == "NE")
