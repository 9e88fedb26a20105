"""Generated answers, grounded in the passages shown: the LLM writes from numbered passages, cites them as
[1], [2], and its answer is checked against them before anyone relies on it.

An answer that cites nothing, cites a passage that does not exist, carries a link the cited passages
lack, says what its cited passages do not, fails, or gives up although the extractive answer is
confident, is replaced by the extractive answer (or refusal) with a short note. What retrieval refuses,
the model is never asked: a fluent reply must not turn "not in the articles" into an answer.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

import yaml
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_GERMAN
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from bot.lexical import PREFIX, QUESTION_STOPWORDS
from bot.llm import LLMUnavailable, make_chat_model, stream_within
from bot.result import Answer, Source
from bot.retrieve import Candidate, Snapshot
from index.settings import Settings
from index.texts import message, render, template

log = logging.getLogger(__name__)

# Enough context around the best sentence to answer from, small enough that five passages fit a 2k context.
PASSAGE_CHARS = 700

# [1], [2, 3] and [2; 3]; several single brackets like [1][2] match one by one.
CITATION = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")

# Links as Discord and terminals make them clickable: with a scheme, or starting with "www.".
LINK = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s<>()\[\]]+", re.IGNORECASE)
# bm25s's English list is short; replies to German articles may be written in English.
ENGLISH_FILLER = (
    "according also about after again all any been before being both can could did do does during each from "
    "further had has have having he her here him his how its just more most my now only other our out over own "
    "same she should so some than them those through too under until up very we were what when where which "
    "while who whom why would you your article articles passage passages source sources states said"
)
# Words of a reply that say nothing of what it claims, in both languages a reply may be written in.
FILLER_WORDS = frozenset(
    {
        *STOPWORDS_GERMAN,
        *STOPWORDS_EN,
        *ENGLISH_FILLER.split(),
        *QUESTION_STOPWORDS["de"].split(),
        *QUESTION_STOPWORDS["en"].split(),
        *("laut", "artikel", "textstelle", "textstellen", "quelle", "demnach", "bereits", "ja", "nein", "yes"),
    }
)
# At least this share of the words a reply adds to the question must occur in the passages it cites.
MIN_SUPPORTED_SHARE = 0.5

MODE_LLM = "llm"
MODE_FALLBACK = "extractive-fallback"


@dataclass(frozen=True)
class Passage:
    """One numbered passage in the prompt; number n is `Answer.sources[n - 1]`."""

    number: int
    title: str
    published: str | None
    text: str
    link: str | None = None  # the source's own URL, which a reply may repeat


@dataclass(frozen=True)
class Verdict:
    """What the grounding check made of a reply: keep it (as answer or refusal) or fall back, and why."""

    keep: bool
    answered: bool = False
    cited: tuple[int, ...] = ()
    reason: str | None = None  # message key of the note when the reply is replaced


def cited_numbers(text: str) -> tuple[int, ...]:
    """The passage numbers a reply cites, in order of first mention."""
    numbers: dict[int, None] = {}
    for match in CITATION.finditer(text):
        for part in re.split(r"[,;]", match.group(1)):
            numbers.setdefault(int(part), None)
    return tuple(numbers)


def claims_not_to_know(text: str, markers: Sequence[str]) -> bool:
    folded = " ".join(text.casefold().replace("’", "'").split())
    return any(marker.casefold() in folded for marker in markers)


def links_in(text: str) -> list[str]:
    return [match.group(0).rstrip(".,;:!?'\"") for match in LINK.finditer(text)]


def foreign_links(reply: str, cited: Sequence[Passage]) -> list[str]:
    """Links of the reply that none of its cited passages carries: what an injected instruction plants."""
    known = " ".join(f"{p.title} {p.text} {p.link or ''}" for p in cited).casefold()
    return [link for link in links_in(reply) if link.casefold() not in known]


def content_words(text: str) -> set[str]:
    """The words of `text` that carry meaning: no citations, links or filler words."""
    plain = LINK.sub(" ", CITATION.sub(" ", text)).casefold()
    return {word for word in re.findall(r"\w+", plain) if word not in FILLER_WORDS}


def _same_word(word: str, known: set[str], text: str) -> bool:
    """Exact, or the same first letters ("stattfinden", "stattfindet"), or part of a compound in `text`
    ("Strecke" in "Bahnstrecke"); words under four letters must match exactly."""
    return word in known or (len(word) >= PREFIX and word[:PREFIX] in known) or (len(word) >= 4 and word in text)


def supported(reply: str, question: str, cited: Sequence[Passage]) -> bool:
    """Whether the cited passages hold what the reply says: its words beyond the question's mostly occur there.

    A cheap lexical check, not an entailment model: it catches a reply that cites [1] for a claim [1]
    does not make ("abgesagt", "Wien"), and lets through paraphrases that keep the passage's key words.
    """
    words = content_words(reply)
    if not words:  # "Nein [1]." claims nothing a word list could check
        return True
    passage_text = " ".join(f"{p.title} {p.text}" for p in cited).casefold()
    passage_words = content_words(passage_text)
    known = passage_words | {w[:PREFIX] for w in passage_words if len(w) >= PREFIX}
    asked = content_words(question)
    asked |= {w[:PREFIX] for w in asked if len(w) >= PREFIX}
    added = [w for w in words if not _same_word(w, asked, question.casefold())]
    if not added:  # the reply only restates the question: at least one of its words must be in the passages
        return any(_same_word(w, known, passage_text) for w in words)
    found = sum(_same_word(w, known, passage_text) for w in added)
    return found > 0 and found >= MIN_SUPPORTED_SHARE * len(added)


def judge(
    reply: str,
    passages: Sequence[Passage],
    extractive_confidence: float,
    overrule_at: float,
    refusal_markers: Sequence[str],
    question: str = "",
) -> Verdict:
    """Decide whether a generated reply may stand; the order of the checks is the order of their severity.

    An "I don't know" is overruled when the extractive answer's confidence is at least `overrule_at`.
    """
    if not reply.strip():
        return Verdict(keep=False, reason="llm_failed")
    cited = cited_numbers(reply)
    if any(not 1 <= n <= len(passages) for n in cited):
        return Verdict(keep=False, cited=cited, reason="llm_invalid_citation")
    cited_passages = [passages[n - 1] for n in cited]
    if foreign_links(reply, cited_passages):
        return Verdict(keep=False, cited=cited, reason="llm_foreign_link")
    if claims_not_to_know(reply, refusal_markers):
        if extractive_confidence >= overrule_at:
            return Verdict(keep=False, cited=cited, reason="llm_unsure_overruled")
        return Verdict(keep=True, answered=False, cited=cited)
    if not cited:
        return Verdict(keep=False, reason="llm_no_citation")
    if not supported(reply, question, cited_passages):
        return Verdict(keep=False, cited=cited, reason="llm_unsupported")
    return Verdict(keep=True, answered=True, cited=cited)


def passages_for(
    snapshot: Snapshot, ranked: list[Candidate], sources: list[Source], limit: int = PASSAGE_CHARS
) -> list[Passage]:
    """One passage per source shown, in the same order: its best sentence widened within its chunk.

    `sources_for` picked each source's sentence as the first candidate of its article; the same candidate
    is found again here, so passage n and source n always speak of the same place.
    """
    passages = []
    for number, source in enumerate(sources, start=1):
        rows = [c.row for c in ranked if snapshot.sentences[c.row].article_id == source.article_id]
        stem = source.snippet.rstrip("…")
        row = next((r for r in rows if snapshot.sentences[r].text.startswith(stem)), rows[0] if rows else None)
        text = source.snippet if row is None else _widen(snapshot, row, limit)
        passages.append(Passage(number, source.title, source.published, text, source.link))
    return passages


def _widen(snapshot: Snapshot, row: int, limit: int) -> str:
    """The sentence at `row` plus its neighbours in the same chunk, alternately before and after, up to `limit`."""
    sentences = snapshot.sentences
    centre = sentences[row]
    start, end = snapshot.position.spans[centre.article_id]  # the rows beside its article's are of others

    def same_chunk(other: int) -> bool:
        # Sentence 0 is the title, which the prompt already shows above the passage.
        return start <= other < end and sentences[other].chunk == centre.chunk and sentences[other].n > 0

    first = last = row
    size = len(centre.text)
    grew = True
    while grew:
        grew = False
        for step in (last + 1, first - 1):
            if same_chunk(step) and size + 1 + len(sentences[step].text) <= limit:
                size += 1 + len(sentences[step].text)
                first, last = min(first, step), max(last, step)
                grew = True
    text = " ".join(sentences[r].text for r in range(first, last + 1))
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


class GroundedAnswerer:
    """Writes answers with the configured chat model and keeps only those the passages support."""

    def __init__(self, settings: Settings, refusal_threshold: float, chat_model: BaseChatModel | None = None) -> None:
        self.settings = settings
        self.overrule_at = refusal_threshold + settings.llm_overrule_margin
        self._model = chat_model
        self._model_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(settings.llm_max_concurrency)

    @property
    def model(self) -> BaseChatModel:
        """Built on first use, so commands that never generate never import a provider package."""
        with self._model_lock:
            if self._model is None:
                self._model = make_chat_model(self.settings)
            return self._model

    @cached_property
    def refusal_markers(self) -> list[str]:
        source = template(f"grounding.{self.settings.language}.yaml", self.settings.prompts_dir)
        return [str(m) for m in yaml.safe_load(source)["refusal_markers"]]

    def messages(self, question: str, passages: list[Passage], history: Sequence[str] = ()) -> list[BaseMessage]:
        language = self.settings.language
        prompts_dir = self.settings.prompts_dir
        system = render(template(f"answer_system.{language}.j2", prompts_dir), refusal=message("refusal", language))
        user = render(
            template(f"answer_user.{language}.j2", prompts_dir),
            question=question,
            passages=passages,
            history=list(history[-3:]),
        )
        return [SystemMessage(system), HumanMessage(user)]

    def stream(
        self, extractive: Answer, snapshot: Snapshot, ranked: list[Candidate], history: Sequence[str] = ()
    ) -> Iterator[str | Answer]:
        """Yield the reply's text deltas, then the grounded Answer (the reply, or the extractive fallback).

        A refusal of retrieval is final: the model is not asked, so it cannot answer what the articles do not.
        """
        if not extractive.answered:
            yield extractive
            return
        model = self.model  # a configuration error surfaces here, before any text is shown
        passages = passages_for(snapshot, ranked, extractive.sources)
        messages = self.messages(extractive.question, passages, history)
        started = time.perf_counter()
        parts: list[str] = []
        try:
            for delta in stream_within(model, messages, self._slots, self.settings.llm_timeout_seconds):
                parts.append(delta)
                yield delta
        except LLMUnavailable as failure:
            log.warning("LLM answer failed (%s), falling back: %s", failure.reason, self._redact(failure.detail))
            yield self._fallback(extractive, failure.reason, started)
            return
        reply = "".join(parts).strip()
        verdict = judge(
            reply, passages, extractive.confidence, self.overrule_at, self.refusal_markers, extractive.question
        )
        if not verdict.keep:
            log.info("LLM answer replaced (%s): %r", verdict.reason, self._redact(reply[:200]))
            yield self._fallback(extractive, verdict.reason or "llm_failed", started)
            return
        yield dataclasses.replace(
            extractive,
            text=reply,
            answered=verdict.answered,
            context="",
            mode=MODE_LLM,
            note=None,
            cited=verdict.cited,
            timings_ms=self._timings(extractive, started),
        )

    def _redact(self, text: str) -> str:
        """`text` without the API key, should any error description still carry it."""
        key = self.settings.llm_api_key.get_secret_value() if self.settings.llm_api_key else ""
        return text.replace(key, "***") if key else text

    def _fallback(self, extractive: Answer, reason: str, started: float) -> Answer:
        return dataclasses.replace(
            extractive,
            mode=MODE_FALLBACK,
            note=message(reason, self.settings.language),
            timings_ms=self._timings(extractive, started),
        )

    @staticmethod
    def _timings(extractive: Answer, started: float) -> dict[str, float]:
        return {**extractive.timings_ms, "llm": round((time.perf_counter() - started) * 1000, 3)}
