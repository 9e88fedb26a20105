"""What kind of answer a question asks for (a person, a place, a time, a count), told from its question word and
structure, and whether the answer's sentence and its neighbours hold one that the question does not name itself.

A near miss is on the topic of an article that lacks the asked fact: "Wer leitet die GPA-djp?" over a sentence that
names the union and no person, "Wann …?" over one that names no time. Its context then holds the question's own
names and numbers only; an answer's holds another (the person, the place, the year). `type_missing` (bot.retrieve)
counted any digit as a date and "in" before any capitalised word as a place, so in German, where every noun has a
capital, nearly every context held "one", and it counted the question's own year or place as the answer's.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.names import proper_names

PERSON, PLACE, TIME, AMOUNT, PRICE = "person", "place", "time", "amount", "price"
# Two amounts whose answers have a form of their own: "Wie alt ist Luis Durnwalder?" is answered by "dem
# 74-Jährigen", not by the "drei Jahre Haft" of the lead that names him; "Wie lange …?" by a span ("fünf Jahre").
# Only the sentence shown asks for them (`asked_value`); the refusal weighs them as amounts (`asked_kind`).
AGE, DURATION = "age", "duration"
# The kinds whose absence is a signal (bot.answerability.Signals); a price counts as an amount. A person's or a
# place's is not: judged by the proper names of the best sentence (German capitalises every noun, so HanTa's NE),
# one was missing for 19 % and 35 % of the answerable dev questions asking "Wer …?" and "Wo …?" ("die Römer", "im
# Norden"), against 30 % and 17 % of the near misses: no help (benchmarks/HISTORY.md).
WEIGHED = (TIME, AMOUNT)

_AMOUNT_QUESTION = re.compile(
    r"\b(wie\s?viele?n?|um\s+wie\s?viel|wieviele?|wie\s+(hoch|lang|lange|alt|groß|gross|weit|schwer|teuer|oft|breit|tief)"
    r"|how\s+(many|much|long|old|high|large|big|far|often|tall)|what\s+(percentage|number|amount))\b",
    re.IGNORECASE,
)
# A price asks for a sum of money: a number of the railway article ("45 Minuten") does not answer "Was kostet …?".
_PRICE_QUESTION = re.compile(
    r"\b(was\s+(kostet|kosten|kostete|kosteten)|wie\s+teuer|wie\s?viel\s+(kostet|kosten|kostete|geld|euro)"
    r"|(wie\s?viel|was)\b.*\b(kosten|gekostet)\b"  # "Wie viel wird das Krankenhaus am Ende kosten?"
    r"|how\s+much\s+(does|do|did|is|was|are|were|money)|what\s+(does|did)\s+\w+(\s+\w+)?\s+cost|what\s+is\s+the\s+price"
    r"|how\s+much\b.*\bcost(s|ed)?)\b",  # "How much will the new Apple TV cost?": the verb at the end, as in German
    re.IGNORECASE,
)
# A clock time is asked with an amount's words ("Um wie viel Uhr …?"): read before `_AMOUNT_QUESTION`.
_CLOCK_QUESTION = re.compile(r"\b(um\s+wie\s?viel\s+uhr|wie\s+spät|(at\s+)?what\s+time)\b", re.IGNORECASE)
_TIME_QUESTION = re.compile(
    r"\b(wann|seit\s+wann|bis\s+wann|in\s+welche[mn]\s+(jahr|monat|jahrhundert|jahrzehnt)|an\s+welche[mn]\s+(tag|datum)"
    r"|when|(in|of)\s+what\s+(year|month|century)|in\s+which\s+(year|month|century)|on\s+what\s+(day|date))\b",
    re.IGNORECASE,
)
_PLACE_QUESTION = re.compile(
    r"\b(wo|wohin|woher|in\s+welche[mrn]?\s+(stadt|land|ort|staat|region|hauptstadt|bundesland|bezirk|gemeinde)"
    r"|where|in\s+(which|what)\s+(city|country|town|state|region))\b",
    re.IGNORECASE,
)
# "Wer …?", "Von wem …?", "Wessen …?": a person or a body, which news and Wikipedia name ("Pamela Rendi-Wagner",
# "die SPÖ"). Not "Wer ist Barbara Teiber?": a question about a named person asks what she is, not who.
_PERSON_QUESTION = re.compile(r"\b(wer|wen|wem|wessen|who|whom|whose)\b", re.IGNORECASE)
_OPENS_WITH_PERSON = re.compile(r"\W*(wer|wen|wem|wessen|who|whom|whose)\b", re.IGNORECASE)
_ABOUT_A_NAMED_ONE = re.compile(r"\b(wer|who)\s+(ist|war|sind|waren|is|was|are|were)\s+(?P<name>\S+)", re.IGNORECASE)

_MONTHS = (
    "januar|jänner|februar|feber|märz|april|mai|juni|juli|august|september|oktober|november|dezember"
    "|january|february|march|may|june|july|october|december"
)
# a weekday with its part of the day written as one word too: "am Donnerstagabend", "am Sonntagnachmittag"
_DAYS = (
    "(montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag)(früh|morgen|vormittag|mittag|nachmittag|abend|nacht)?"
    "|wochenende|feiertag"
)
# A time a sentence gives: a year, a date, a month, a weekday, an hour, a decade or century, a day relative to the
# report's ("gestern"), a span back or ahead ("vor drei Jahren"). Not "Jahr" or "heute" alone in a phrase like
# "in diesem Jahr"? It is a time too: the report's year, which answers "Wann …?" as the report meant it.
# A span counted from the report's day may name its article and its direction: "in den nächsten zwei Wochen" (the
# summit's date as Trump gave it) is a time as "in zwei Wochen" is.
_TIME = re.compile(
    rf"\b(1\d{{3}}|20\d{{2}}|\d{{1,2}}\.\s*(\d{{1,2}}\.|{_MONTHS})|{_MONTHS}|{_DAYS}|\d{{1,2}}(:\d\d)?\s*uhr"
    r"|\d{2,4}er(\s*jahren?)?|jahrhunderts?|jahrzehnts?|gestern|vorgestern|heute|morgen|übermorgen|heuer|kürzlich"
    r"|damals|bislang|bisher|derzeit|nun|jetzt|demnächst|bald|zuletzt|zuvor|seither"
    r"|(vor|seit|nach|in|binnen|innerhalb)\s+((den|der|dem)\s+)?((nächsten|kommenden|vergangenen|letzten|ersten)\s+)?"
    r"(\d+|\w+)\s+(jahr|monat|woche|tag|stunde|minute)\w*"
    r"|(diese[mnrs]?|nächste[mnrs]?|vergangene[mnrs]?|letzte[mnrs]?|kommende[mnrs]?)\s+(jahr|monat|woche)\w*)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\d[\d.,]*|\b(eins|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|(drei|vier|fünf|sech|sieb|acht"
    r"|neun)zehn|zwanzig|dreißig|(vier|fünf|sech|sieb|acht|neun)zig|hundert|tausend|million(en)?|milliarde(n)?"
    r"|dutzend|dutzende|hunderte|tausende|hälfte|drittel|viertel|doppelt|kein|keine[nmrs]?|beide"
    r"|(ein|zwei|drei|vier)(halb|drittel|viertel)\w*)\b",  # a share opening a compound: "Zweidrittelmehrheit"
    re.IGNORECASE,
)
# A year answers "Wann …?", not "Wie viele …?". A count says what it counts: a noun follows it, after at most one
# word ("2000 zumeist Vermummte", "2004 Menschen"), or a unit ("1999 %"); a year stands in the sentence on its own
# ("die Region, die 2004 stark vom Tsunami betroffen war", "die Erklärung von 1989 und die Verträge"). So a figure of
# four digits in the centuries news writes about with neither after it is a year; two years as a span's bounds
# ("von 1870 bis 1939 in Betrieb") still give an amount: its length.
_YEAR = re.compile(r"(1[5-9]|20)\d\d")
_COUNTED_AFTER = re.compile(r"(\s+[a-zäöüß]\w*)?\s+[A-ZÄÖÜ]|\s*(%|€|\$|£)")
# A span given by its bounds in years ("von 1870 bis 1939", "1922-26"): a duration's form too (`_DURATION`).
_YEARS_BOUNDS = r"\b(1\d{3}|20\d{2})\s*(bis|–|-)\s*(\d{2,4})\b"
_YEARS_SPAN = re.compile(_YEARS_BOUNDS, re.IGNORECASE)
_NUMBER_WORDS = (
    r"eins?|zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|(drei|vier|fünf|sech|sieb|acht|neun)zehn"
    r"|zwanzig|dreißig|(vier|fünf|sech|sieb|acht|neun)zig|hundert|tausend|einer|einem|halbe[nm]?"
)
# A span of time: a number or an article before a unit ("fünf Jahre", "ein halbes Jahr", "neun Monate"), or its
# bounds ("von 1870 bis 1939", "1922–26", "seit 2014").
_DURATION = re.compile(
    rf"(\d[\d.,]*|\b({_NUMBER_WORDS}|eine[ns]?|mehrere[n]?|einige[n]?))\s+((halbe[ns]?|knapp|rund|gut)\s+)?"
    r"(jahr|monat|woche|tag|stunde|minute|sekunde|jahrzehnt|jahrhundert)\w*"
    rf"|{_YEARS_BOUNDS}|\bseit\s+(1\d{{3}}|20\d{{2}})\b",
    re.IGNORECASE,
)
# A count given without a figure: "zur Wiedergeburt, häufig mehrere Male" answers "Zu wie vielen Wiedergeburten …?".
_QUANTITY = re.compile(
    r"\b(mehrere[nmrs]?|einige[nmrs]?|zahlreiche[nmrs]?|etliche[nmrs]?|wenige[nmrs]?)\b", re.IGNORECASE
)
_MONEY = re.compile(
    rf"((\d[\d.,]*|\b({_NUMBER_WORDS}))\s*(millionen|million|milliarden|milliarde|mio\.?|mrd\.?|tausend)?\s*"
    r"(euro|€|dollar|\$|cent|franken|pfund|£|eur\b|usd\b)|(€|\$|£|\beur|\busd)\s*\d|\b(kostenlos|gratis|umsonst)\b)",
    re.IGNORECASE,
)
_AGE_QUESTION = re.compile(r"\b(wie\s+alt|how\s+old)\b", re.IGNORECASE)
# Not "Wie lang ist die Strecke?", a length; nor "How long …?", which asks either.
_DURATION_QUESTION = re.compile(r"\bwie\s+lange\b", re.IGNORECASE)
# How German news and Wikipedia give a person's age: "der 74-Jährige", "ein 25-jähriger Muslim", "34 Jahre alt",
# "im Alter von 38 Jahren", "mit 39 Jahren", "Luis Durnwalder (74)".
_AGE = re.compile(
    r"\b\d{1,3}-jährig\w*|\b\d[\d.]*\s+jahre\s+alt\b|\balter\s+von\s+\d{1,3}\b|\bmit\s+\d{1,3}\s+jahren\b|\(\d{1,3}\)",
    re.IGNORECASE,
)
_WORDS = re.compile(r"\w+")
# Not "wie\w*", which takes "Wien" for a question word, nor "wo\w*" ("Woche").
_QUESTION_WORD = re.compile(
    r"\b(wer|wen|wem|wessen|was|wann|wie|wieso|wieviele?|wo|wohin|woher|wofür|womit|worauf|worüber|wovon|wozu|woran"
    r"|wodurch|worin|welche[mnrs]?|warum|weshalb|who|whom|whose|what|when|where|which|why|how)\b",
    re.IGNORECASE,
)


def asked_kind(question: str, earlier: str = "") -> str | None:
    """The kind of answer `question` asks for, or None where its question word does not tell ("Was …?",
    "Welche Rolle …?"). A count before a time ("Wie viele Jahre …?" asks a number); a follow-up without a question
    word ("Und in Wien?") asks what the `earlier` question asked."""
    if _PRICE_QUESTION.search(question):
        return PRICE
    if _CLOCK_QUESTION.search(question):
        return TIME
    if _AMOUNT_QUESTION.search(question):
        return AMOUNT
    if _TIME_QUESTION.search(question):
        return TIME
    if _PLACE_QUESTION.search(question):
        return PLACE
    if _PERSON_QUESTION.search(question):
        named = _ABOUT_A_NAMED_ONE.search(question)
        if named and named["name"].strip("?.,!") in proper_names(question, _language_of(named[1])):
            return None  # "Wer ist Barbara Teiber?": about a named one; it asks what she is
        return PERSON
    if earlier and not _QUESTION_WORD.search(question):
        return asked_kind(earlier)
    return None


def asked_value(question: str, earlier: str = "") -> str | None:
    """The kind of value an answer to `question` must show, where its form tells one from other values: a time, an
    amount (an age, a duration, any number), a price; None for a person, a place or no kind (names are told from
    other capitalised words by a tagger only, which missed the answer of 19 % and 35 % of such questions, HISTORY)."""
    if _OPENS_WITH_PERSON.match(question):
        return None  # "Who was the leader when the Franks entered …?": its "when" opens a clause, it asks a person
    kind = asked_kind(question, earlier)
    if kind == AMOUNT:
        asking = question if _AMOUNT_QUESTION.search(question) else earlier
        if _AGE_QUESTION.search(asking):
            return AGE
        if _DURATION_QUESTION.search(asking):
            return DURATION
    return kind if kind in (TIME, AMOUNT, PRICE) else None


# The figures of a time: a date ("am 3. und 4. Juni", "7. Januar 1943"), a year a time word leads ("im Herbst 2014",
# "seit 2012", "Jänner 2016"), a span of years ("1922–26"), a clock time ("20.15 Uhr").
_DATED = re.compile(
    rf"\b\d{{1,2}}\.\s*((und|bis|–|-)\s*\d{{1,2}}\.\s*)?({_MONTHS})(\s+(1\d{{3}}|20\d{{2}}))?"
    rf"|\b({_MONTHS}|jahre?s?|im|seit|herbst|frühjahr|frühling|sommer|winter|ende|anfang|mitte|saison)"
    r"\s+(1\d{3}|20\d{2})\b|\b(1\d{3}|20\d{2})\s*(bis|–|-|/)\s*\d{2,4}\b|\b\d{1,2}([.:]\d\d)?\s*uhr\b",
    re.IGNORECASE,
)


# An age or a span of time may be given by its dates ("von 1870 bis 1939", "geboren 1943"), in either language.
_DATED_ANSWER_QUESTION = re.compile(r"\b(wie\s+alt|wie\s+lange?|how\s+old|how\s+long)\b", re.IGNORECASE)


def shows_value(kind: str, sentences: list[str], question: str, language: str) -> bool:
    """Whether `sentences` show a value of the `kind` `asked_value` gives: as `holds_kind`, and for an amount also a
    count given in words ("mehrere Male"), but not the figures of a date, a year or a clock time: a count, a sum or
    a measure is not written as one, and "am 3. und 4. Juni" (a conference's days) or "im Herbst 2014" answers
    "Wann …?", not "Wie viele Mitglieder …?". Not for the refusal's `amount_missing`: fitted on figures alone."""
    if kind == AMOUNT:
        if any(_QUANTITY.search(sentence) for sentence in sentences):
            return True
        if not _DATED_ANSWER_QUESTION.search(question):
            sentences = [_DATED.sub(" ", sentence) for sentence in sentences]
    return holds_kind(kind, sentences, question, language)


def asking_words(question: str) -> frozenset[str]:
    """The words of `question` that ask its kind of value ("Wie hoch", "In welchem Jahr", "Was kostet"), lower-cased:
    they say what form the answer takes, not what it is about."""
    return frozenset(
        word.lower()
        for pattern in (_PRICE_QUESTION, _AMOUNT_QUESTION, _CLOCK_QUESTION, _TIME_QUESTION)
        for match in pattern.finditer(question)
        for word in _WORDS.findall(match[0])
    )


def _language_of(question_word: str) -> str:
    return "en" if question_word.lower() in ("who", "whom", "whose") else "de"


@lru_cache(maxsize=4096)
def _names_of(sentence: str, language: str) -> frozenset[str]:
    """The proper names of one sentence (HanTa's NE in German), kept: the best sentences recur across questions."""
    return proper_names(sentence, language)


def _own(word: str, question_words: set[str]) -> bool:
    """Whether `word` is one the question names itself, inflected or not ("Wiens" for "Wien")."""
    lowered = word.lower()
    return any(
        lowered == q or (len(q) >= 4 and lowered.startswith(q) and len(lowered) - len(q) <= 2) for q in question_words
    )


def holds_kind(kind: str, sentences: list[str], question: str, language: str) -> bool:
    """Whether `sentences` hold an answer of `kind` that `question` does not name itself: a name for a person or a
    place (a body or a place has one as a person does; German capitalises nouns, so the tagger tells names), a time,
    a number."""
    question_words = {w.lower() for w in _WORDS.findall(question)}
    if kind in (PERSON, PLACE):
        return any(
            not _own(part, question_words)
            for sentence in sentences
            for name in _names_of(sentence, language)
            for part in _WORDS.findall(name)
        )
    if kind == PRICE:  # a sum of money, whatever the question names: "Ticket um 49 Euro"
        return any(_MONEY.search(sentence) for sentence in sentences)
    pattern = {TIME: _TIME, AGE: _AGE, DURATION: _DURATION}.get(kind, _NUMBER)
    for sentence in sentences:
        for match in pattern.finditer(sentence):
            if pattern is _NUMBER and _is_a_year(match, sentence):
                continue
            words = _WORDS.findall(match[0])
            if words and not all(_own(w, question_words) for w in words):
                return True
    return False


def _is_a_year(match: re.Match[str], sentence: str) -> bool:
    """Whether the figure `match` of `sentence` is a year (`_YEAR`), which gives no count."""
    if not _YEAR.fullmatch(match[0]) or _COUNTED_AFTER.match(sentence, match.end()):
        return False
    return not any(span.start() <= match.start() < span.end() for span in _YEARS_SPAN.finditer(sentence))


def kind_missing(kind: str | None, sentences: list[str], question: str, language: str) -> dict[str, float]:
    """One signal per weighed kind: 1 for the kind `question` asks where the answer's `sentences` (the best one and
    the neighbours that hold the question's other words, bot.retrieve.sentences_of_the_fact) hold none of it beyond
    what the question names, else 0. Not every neighbour: a near miss's best sentence is on the asked fact's topic,
    and its neighbours hold the dates and figures of other facts (of the dev near misses asking "Wann …?", 12 %
    lacked a time in the sentence and both neighbours, 26 % in the sentence; 2 % and 5 % of the answerable)."""
    missing = dict.fromkeys(WEIGHED, 0.0)
    weighed = AMOUNT if kind == PRICE else kind
    if kind is not None and weighed in missing and not holds_kind(kind, sentences, question, language):
        missing[weighed] = 1.0
    return missing
