"""Generated answers, grounded in the passages shown: the LLM writes from numbered passages, cites them as
[1], [2], and its answer is checked against them before anyone relies on it.

An answer that cites nothing, cites a passage that does not exist, fails, or gives up although the
extractive answer is confident, is replaced by the extractive answer (or refusal) with a short note.
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
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

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

MODE_LLM = "llm"
MODE_FALLBACK = "extractive-fallback"


@dataclass(frozen=True)
class Passage:
    """One numbered passage in the prompt; number n is `Answer.sources[n - 1]`."""

    number: int
    title: str
    published: str | None
    text: str


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


def judge(
    reply: str, passage_count: int, extractive_confidence: float, overrule_at: float, refusal_markers: Sequence[str]
) -> Verdict:
    """Decide whether a generated reply may stand; the order of the checks is the order of their severity.

    An "I don't know" is overruled when the extractive answer's confidence is at least `overrule_at`.
    """
    if not reply.strip():
        return Verdict(keep=False, reason="llm_failed")
    cited = cited_numbers(reply)
    if any(not 1 <= n <= passage_count for n in cited):
        return Verdict(keep=False, cited=cited, reason="llm_invalid_citation")
    if claims_not_to_know(reply, refusal_markers):
        if extractive_confidence >= overrule_at:
            return Verdict(keep=False, cited=cited, reason="llm_unsure_overruled")
        return Verdict(keep=True, answered=False, cited=cited)
    if not cited:
        return Verdict(keep=False, reason="llm_no_citation")
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
        passages.append(Passage(number, source.title, source.published, text))
    return passages


def _widen(snapshot: Snapshot, row: int, limit: int) -> str:
    """The sentence at `row` plus its neighbours in the same chunk, alternately before and after, up to `limit`."""
    sentences = snapshot.sentences
    centre = sentences[row]

    def same_chunk(other: int) -> bool:
        # Sentence 0 is the title, which the prompt already shows above the passage.
        return (
            0 <= other < len(sentences)
            and sentences[other].article_id == centre.article_id
            and sentences[other].chunk == centre.chunk
            and sentences[other].n > 0
        )

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
        """Yield the reply's text deltas, then the grounded Answer (the reply, or the extractive fallback)."""
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
            log.warning("LLM answer failed (%s), falling back: %s", failure.reason, failure.detail)
            yield self._fallback(extractive, failure.reason, started)
            return
        reply = "".join(parts).strip()
        verdict = judge(reply, len(passages), extractive.confidence, self.overrule_at, self.refusal_markers)
        if not verdict.keep:
            log.info("LLM answer replaced (%s): %r", verdict.reason, reply[:200])
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
