"""Which words of a question are proper names, for languages where capitals do not tell, and whether it names
anything at all (a noun, a name, a number).

In German every noun is capitalised, so "Paris" and "Auszeichnung" look alike; the Hannover Tagger (HanTa, a
part-of-speech tagger whose German model ships in its package) tells proper names (STTS tag NE) from common
nouns (NN) in about a millisecond a question. In a language that capitalises only names, a capitalised word
after the first is one.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import Any

from bot.language import question_language
from bot.lexical import capitalises_nouns

# HanTa's models by language (its package holds both).
TAGGER_MODELS = {"de": "morphmodel_ger.pgz", "en": "morphmodel_en.pgz"}
# Tags of words that name what a question is about: nouns, names, numbers, foreign and non-words. German (STTS:
# NN, NE, HanTa's NNA, CARD, FM, XY, TRUNC) and English (CLAWS: NN0 to NN2, NP0, CRD, ORD, UNC).
_NAMING_TAGS = ("N", "CARD", "CRD", "ORD", "FM", "XY", "UNC", "TRUNC")
# Words as the tagger expects them: punctuation apart, a hyphenated name whole ("GPA-djp").
_TOKENS = re.compile(r"\w[\w\-'’.]*\w|\w|[^\w\s]")
_lock = threading.Lock()
# A question counts as written in capitals where at least this share of at least this many cased letters is upper case.
_CAPITALS_SHARE, _CAPITALS_LETTERS = 0.8, 8
# Where a sentence starts: the text's start, or after its end mark and a space (and quote marks or brackets).
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+)\W*?\w")


# Words whose analysis a tagger keeps. HanTa knows the words of its training corpus; any other word ("37,2",
# "Sonntagnachmittag", a name) it analyses letter by letter at every sentence, about 1.6 ms a word: 8 of the 9.5 ms
# that tagging a 36-word answer took, five words of it. A word's analysis depends on the word alone, so kept it is
# the same; news repeats its words. At most about 10 MB.
_ANALYSED_WORDS = 65536


@cache
def _tagger(language: str) -> Any:
    from HanTa import HanoverTagger

    tagger = HanoverTagger.HanoverTagger(TAGGER_MODELS[language])
    tagger.analyze_forward = lru_cache(maxsize=_ANALYSED_WORDS)(tagger.analyze_forward)
    return tagger


def load_tagger(language: str) -> None:
    """Load `language`'s tagger, where it has one, before a question needs it: its model takes about a second to
    unpickle, which the first German follow-up waited for (the bot and `chat` call this as they warm up)."""
    if language in TAGGER_MODELS:
        with _lock:
            _tagger(language)


@lru_cache(maxsize=1024)  # read by several signals of each search of a question, and by the conversation's checks
def proper_names(question: str, language: str) -> frozenset[str]:
    """The words of `question` that are proper names ("Paris" in "Wie viele Einwohner hat Paris?")."""
    words = _TOKENS.findall(question)
    if not capitalises_nouns(language):  # a capitalised word after the first, of more than a letter ("I")
        return frozenset(w for n, w in enumerate(words) if n and len(w) > 1 and w[:1].isupper())
    if language not in _NAME_TAGS:
        return frozenset()
    return _names_by_tag(words, language)


# The taggers' tag of a proper name: STTS's NE, CLAWS's NP0 ("Poland", "Tesla"; "Parliament" and "Treaty" are NN1).
_NAME_TAGS = {"de": "NE", "en": "NP0"}


def _names_by_tag(words: list[str], language: str) -> frozenset[str]:
    """The `words` that `language`'s tagger tags as proper names."""
    tags = _tags(words, language)
    return frozenset(word for word, tag in zip(words, tags, strict=True) if tag == _NAME_TAGS[language])


def _tags(words: list[str], language: str, casesensitive: bool = True) -> list[str]:
    """The part-of-speech tag of each of `words` in `language` (its tagger's tag set). Only the tags: HanTa's lemmas
    (`taglevel=1`) cost a morphological analysis of every word on top, about as much as the tagging, and the tags
    come out the same (both are the sentence's Viterbi path)."""
    return list(_tag_sequence(tuple(words), language, casesensitive))


# Kept by words: a follow-up's question is read by `refers_back`, `refers_to_someone` and `is_elliptic` in turn, and
# an answer's stretch again when the conversation asks it once more.
@lru_cache(maxsize=1024)
def _tag_sequence(words: tuple[str, ...], language: str, casesensitive: bool) -> tuple[str, ...]:
    with _lock:  # HanTa does not say it is thread-safe (Discord asks from worker threads)
        return tuple(_tagger(language).tag_sent(list(words), taglevel=0, casesensitive=casesensitive))


def tagged_names(question: str, language: str) -> frozenset[str]:
    """The words of `question` that its language's tagger takes for proper names: in English not every capitalised
    word, as `proper_names` reads it, since title case capitalises nouns too ("National Anthem", "Maastricht
    Treaty"). Without a tagger for `language`, `proper_names`."""
    if language not in _NAME_TAGS:
        return proper_names(question, language)
    return _names_by_tag(_TOKENS.findall(question), language)


def named_only_inside_other_names(words: frozenset[str], texts: Iterable[str], language: str) -> bool:
    """Whether every one of `words` that `texts` hold opens a longer proper name: "Wiener" in "Wiener Neustadt",
    a town of its own, not Vienna. A place's adjective (STTS ADJA) directly before a proper name (NE) is that
    name's first word, and so it is before a word the name's last word begins ("jeder vierte Wiener Neustädter",
    its people, which the tagger takes for a common noun); before any other noun it says where the thing is
    ("der Wiener Bürgermeister", "die Wiener Philharmoniker"). False where `texts` hold none of `words`, or
    `language` has no tagger.

    `words`: the texts' words (as `bot.lexical.WORDS` splits them, punctuation around them left off) that hold a
    name a question asks about, told by their terms."""
    if language not in _NAME_TAGS:
        return False
    held = []  # each of `words` in `texts`, with the word after it and whether that one is a proper name
    for text in texts:
        tokens = _TOKENS.findall(text)
        if words.isdisjoint(tokens):
            continue
        tags = _tags(tokens, language)
        for n, (token, tag) in enumerate(zip(tokens, tags, strict=True)):
            if token in words:
                after = tokens[n + 1] if n + 1 < len(tokens) else ""
                held.append((tag.startswith("ADJ"), after, n + 1 < len(tokens) and tags[n + 1] == _NAME_TAGS[language]))
    names = {_name_stem(after) for adjective, after, name in held if adjective and name}
    return bool(held) and all(adjective and (name or _name_stem(after) in names) for adjective, after, name in held)


def _name_stem(word: str) -> str:
    """A name's first letters with its umlauts folded: "neust" of "Neustadt" and of "Neustädter"."""
    return folded(word)[:_NAME_STEM_LETTERS] if len(word) > _NAME_STEM_LETTERS else word


def folded(text: str) -> str:
    """`text` in small letters with its umlauts and "ß" folded as the stemmer folds them ("Römer": "romer",
    "Straße": "strasse"), so a name matches however a writer without those letters spelled it."""
    return text.lower().translate(_FOLDED_LETTERS)


_FOLDED_LETTERS = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
_NAME_STEM_LETTERS = 5


# Tags of words that refer back to what was said before: personal, possessive and demonstrative pronouns and
# pronominal adverbs ("es", "seine", "das", "davon"; STTS), personal pronouns and possessive determiners (CLAWS).
_REFERRING_TAGS = {
    "de": ("PPER", "PPOSAT", "PDS", "PDAT", "PROAV"),
    "en": ("PNP", "DPS"),
}


def refers_back(question: str, language: str) -> bool:
    """Whether `question` holds a word that refers to something said before ("Welcher König erließ es?", "Wie hieß
    sein Unternehmen?", "Wie viel Prozent davon …?"), or opens with "Und"/"And" ("Und in Wien?"): what it asks
    about, the conversation says. True where no tagger knows the language (it may)."""
    words = _TOKENS.findall(question)
    if language not in _REFERRING_TAGS or not words:
        return True
    if words[0].lower() in ("und", "and"):
        return True
    return any(tag in _REFERRING_TAGS[language] for tag in _tags(words, language))


# Pronouns that refer to no one said before: the expletive "es"/"it" ("Wie viele Einwohner gibt es …?"), and the
# speakers and the one spoken to ("Wo finde ich …?", "Können Sie …?").
_NOT_BACK = frozenset(
    [
        "es",
        "it",
        "ich",
        "mich",
        "mir",
        "mein",
        "meine",
        "meinen",
        "meinem",
        "meiner",
        "wir",
        "uns",
        "unser",
        "unsere",
        "du",
        "dich",
        "dir",
        "dein",
        "deine",
        "i",
        "me",
        "my",
        "we",
        "us",
        "our",
        "you",
        "your",
    ]
)


def refers_to_someone(question: str, language: str) -> bool:
    """Whether `question` holds a pronoun that stands for someone or something the conversation named: "er", "sie",
    "sein", "das", "davon" ("Wie lange ist er schon im Amt?", "Was empfiehlt er den Betroffenen?"), not "es", "ich"
    or "Sie" (`_NOT_BACK`). Unlike `refers_back`, an opening "Und" alone does not count ("Und in Graz?" names what it
    asks about); False where no tagger knows the language."""
    words = _TOKENS.findall(question)
    if language not in _REFERRING_TAGS or not words:
        return False
    tags = _tags(words, language)
    return any(
        tag in _REFERRING_TAGS[language] and word.lower() not in _NOT_BACK and not (n and word == "Sie")
        for n, (word, tag) in enumerate(zip(words, tags, strict=True))
    )


def is_elliptic(question: str, language: str) -> bool:
    """Whether `question` has no verb ("Und in Graz?", "Und die VIG?"): it asks the conversation's last question again,
    of what it names. German only: English's tagger takes a name for a verb where the sentence has none ("And in
    Graz?": VVG), and other languages have no tagger."""
    if language != "de":
        return False
    words = _TOKENS.findall(question)
    return bool(words) and not any(tag.startswith("V") for tag in _tags(words, language))


# A definite article in STTS: ART tags "ein" too, so its forms; APPRART is a preposition fused with one ("im", "beim").
_DEFINITE_ARTICLES = frozenset(["der", "die", "das", "den", "dem", "des"])
# Tags between an article, or a question word, and the noun it opens: "die neue Studie", "wie viele Tore".
_BEFORE_THE_NOUN = ("ADJ", "ADV", "PIAT", "CARD")


def definite_nouns(question: str, language: str) -> frozenset[str]:
    """The common nouns that `question` names with a definite article ("die Arbeit" in "In welcher Zeitschrift
    erschien die Arbeit?", "beim Hinspiel"): "die Studie" or "der Konzern" says which study or group as "sie" or "er"
    does, one the listener knows of already. German only (STTS tells the article and the noun)."""
    if language != "de":
        return frozenset()
    words = _TOKENS.findall(question)
    tags = _tags(words, language)
    found = set()
    opened = False
    for word, tag in zip(words, tags, strict=True):
        if tag == "APPRART" or (tag == "ART" and word.lower() in _DEFINITE_ARTICLES):
            opened = True
        elif opened and tag == "NN":
            found.add(word)
            opened = False
        elif not tag.startswith(_BEFORE_THE_NOUN):
            opened = False
    return frozenset(found)


def names_only_what_it_asks(question: str, language: str) -> bool:
    """Whether `question` has no verb and names nothing but what its question word asks for ("Bei welchem Anlass?",
    "Und in welchem Jahr?", "Wie viele Tore?"): it asks the conversation's last topic something new, and names no
    topic of its own ("Und in Graz?" and "Und die VIG?" do: their nouns stand outside a question word's phrase).
    German only, as `is_elliptic`."""
    if not is_elliptic(question, language):
        return False
    words = _TOKENS.findall(question)
    tags = _tags(words, language)
    asks = opened = False
    for word, tag in zip(words, tags, strict=True):
        if tag == "PWAT" or (tag == "PWAV" and word.lower() == "wie"):
            asks = opened = True
        elif opened and tag.startswith(_BEFORE_THE_NOUN):
            continue
        elif tag.startswith(_NAMING_TAGS):
            if not (opened and tag == "NN"):
                return False
            opened = False
        else:
            opened = False
    return asks


# Kept by question: a refused question is asked again as its answer is made, and each follow-up asks it of the
# conversation's question before (`NewsService._conversation_article`), tagged when it was asked.
@lru_cache(maxsize=1024)
def names_a_thing(question: str, language: str) -> bool:
    """Whether `question` holds a noun, a name or a number: what it is about. Asked alone, one without any
    ("Wer hat es vorgeschlagen?", "Who suggested it?", "Wer war dagegen?") names no topic, and got the best
    sentence of any article with a word like its verb, at 0.92, 0.84 and 0.80 on the examples index; only a
    conversation can say what it asks about. Read case-insensitively, as people type in chat ("wer hat den
    gipfel vorgeschlagen?"): so, no question of the dev, English dev, seed, news or near-miss sets, as written or
    in small letters, names nothing. True where no tagger knows the language.
    """
    if language not in TAGGER_MODELS:
        return True
    return any(tag.startswith(_NAMING_TAGS) for tag in _tags(_TOKENS.findall(question), language, casesensitive=False))


# "Wie viele Kunden …?", "Mit wie vielen …?", "Wieviele …": where a question asks how many of a thing. Not "Wie viel
# Cannabis …?", an amount, whose unit stands next to its number ("der Besitz von fünf Gramm"), not the thing.
_HOW_MANY = ("viele", "vielen", "wieviele")
# Tags between the question word and the noun counted: "Wie viele schulpflichtige Flüchtlingskinder …?"
_BEFORE_THE_COUNTED = ("ADJ", "ADV", "PIAT")


def counted_thing(question: str, language: str) -> str | None:
    """The noun that a "Wie viele …?" question counts ("Kunden" in "Wie viele Kunden nutzen B-free?"), after any
    adjectives; None where the question counts nothing it names ("Wie viel kostet …?", "Wie hoch …?"), asks an
    amount ("Wie viel Preisgeld …?") or the language has no tagger that tells nouns (German only: the pattern is
    German word order)."""
    if language != "de":
        return None
    words = _TOKENS.findall(question)
    lowered = [w.lower() for w in words]
    start = next(
        (
            n + 1
            for n, word in enumerate(lowered)
            if word in _HOW_MANY and (word.startswith("wie") or (n and lowered[n - 1] == "wie"))
        ),
        None,
    )
    if start is None or start >= len(words):
        return None
    tags = _tags(words, language, casesensitive=False)
    for word, tag in zip(words[start:], tags[start:], strict=True):
        if tag in ("NN", "NE"):
            return word
        if not tag.startswith(_BEFORE_THE_COUNTED):
            return None
    return None


def in_small_letters(question: str, language: str) -> str:
    """`question` as people write it, where it came in capitals ("WIE LANGE DAUERT DIE FAHRT?"): the embedder
    reads "FAHRT" as other tokens than "Fahrt", and on the dev and seed questions in capitals 0.664 were answered
    right instead of 0.820. In a language whose nouns have capitals, HanTa tells which of the lower-cased words
    are nouns and names (abbreviations come back as "Usa", which the embedder reads as it reads "USA"); in
    others every sentence starts with a capital and nothing else has one: English dev questions in capitals were
    answered right 0.634 of the time as they came, 0.676 cased by the German tagger, 0.775 so. A few capitals
    ("EZB", "ORF") stay as they are.
    """
    cased = [c for c in question if c.isupper() or (c.islower() and c != "ß")]  # "STRAßE" has no upper-case ß
    if len(cased) < _CAPITALS_LETTERS or sum(c.isupper() for c in cased) < _CAPITALS_SHARE * len(cased):
        return question
    text = question.lower()
    written_in = question_language(text, language)  # told from small letters: py3langid reads them as it was taught
    if capitalises_nouns(written_in) and written_in in TAGGER_MODELS:
        words = _TOKENS.findall(text)
        tags = _tags(words, written_in, casesensitive=False)
        nouns = {word for word, tag in zip(words, tags, strict=True) if tag in ("NN", "NE")}
        text = _TOKENS.sub(lambda m: _capitalised_parts(m[0]) if m[0] in nouns else m[0], text)
    return _SENTENCE_START.sub(lambda m: m[0].upper(), text)


def _capitalised_parts(noun: str) -> str:
    """A noun with a capital on each part of a hyphenated compound: "Nato-Gipfel", "49-Euro-Ticket"."""
    return "-".join(part[:1].upper() + part[1:] for part in noun.split("-"))


# A dateline: where a report was filed, before an en or em dash at the start of its first sentences ("Wien – ",
# "Gaza/Jerusalem – ", "Santiago de Chile – "). Up to five words, joined by spaces, slashes or hyphens.
_DATELINE = re.compile(r"^(\w[\w.'’-]*(?:[ /]\w[\w.'’-]*){0,4}) [–—] (?=\S)")


def dateline_end(text: str, language: str) -> int:
    """Where `text`'s dateline ends (0: it has none). A dateline's first word is a place's name, which the
    tagger tells from the noun or preposition that opens a teaser with a dash ("Wegen Irreführung der
    Verbraucher – Kein Preisvergleichsportal …"); without a tagger for `language`, none is read."""
    found = _DATELINE.match(text)
    if found is None or language not in _NAME_TAGS or not found.group(1)[:1].isupper():
        return 0
    words = _TOKENS.findall(text[: found.end()])
    return found.end() if _tags(words, language)[0] in (_NAME_TAGS[language], "FM") else 0
