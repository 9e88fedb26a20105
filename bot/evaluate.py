"""Measures retrieval and answer quality on a question set (JSON Lines, see ../shared/data/README.md)."""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.result import Answer
from index.errors import NewsbotError
from index.settings import Settings
from index.texts import message


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: list[str]
    article: str | None
    unanswerable: bool
    history: tuple[str, ...] = ()  # earlier questions of the conversation, oldest first
    line: int = 0  # in its file, to name it in a message


class _QuestionLine(BaseModel):
    """One line of a question file, checked strictly: `"answers": "Budapest"` would count every answer
    with a "B" in it as a hit, `"article": 5` would fail only when the first answer is scored."""

    model_config = ConfigDict(strict=True, extra="ignore")

    id: str | int | None = None
    question: str = Field(pattern=r"\S")
    answers: list[str] | None = None
    article: str | None = None
    unanswerable: bool = False
    history: list[str] | None = None  # earlier questions of the conversation, oldest first


def load_questions(path: Path, settings: Settings | None = None) -> list[Question]:
    """Read and check a whole question file before any question is asked; a bad line is a user error
    that names the line and what is wrong with it. With `settings`, each question is also checked as
    `ask` would check it (too long, nothing but invisible characters): found only when its turn came,
    such a line ended the run after every question before it, without its line number."""
    if not path.is_file():
        raise NewsbotError(message("path_missing", path=str(path)))
    try:
        data = path.read_bytes()
    except OSError as error:
        raise NewsbotError(message("unreadable_file", path=str(path), reason=error.strerror or "")) from error
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise NewsbotError(_invalid(path, line, message("questions_reason_not_utf8")), detail=str(error)) from error
    questions = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except ValueError as error:
            column = getattr(error, "colno", 1)
            reason = message("questions_reason_not_json", column=column)
            raise NewsbotError(_invalid(path, number, reason), detail=str(error)) from error
        if not isinstance(raw, dict):
            raise NewsbotError(_invalid(path, number, message("questions_reason_not_object")))
        try:
            checked = _QuestionLine.model_validate(raw)
        except ValidationError as error:
            reason = message(f"questions_reason_{error.errors()[0]['loc'][0]}")
            raise NewsbotError(_invalid(path, number, reason), detail=str(error)) from error
        if "answers" not in raw and not checked.unanswerable:
            # a misspelt key ("answer") left the question without answers: scored as unanswerable, its right answer
            # counted as a missed refusal. `"answers": []` (or null) still says "unanswerable" on purpose.
            raise NewsbotError(_invalid(path, number, message("questions_reason_answers_missing")))
        if settings is not None:
            from bot.service import validate_question

            try:
                validate_question(settings, checked.question)
            except NewsbotError as error:
                raise NewsbotError(_invalid(path, number, error.message.rstrip(".")), detail=error.detail) from error
        questions.append(
            Question(
                id=str(number if checked.id is None else checked.id),
                question=checked.question,
                answers=checked.answers or [],
                article=checked.article,
                unanswerable=checked.unanswerable or not checked.answers,
                history=tuple(checked.history or ()),
                line=number,
            )
        )
    if not questions:
        raise NewsbotError(message("questions_file_empty", path=str(path)))
    return questions


def _invalid(path: Path, line: int, reason: str) -> str:
    return message("questions_file_invalid", path=str(path), line=line, reason=reason)


def check_details_path(path: Path, questions: Path | None = None) -> None:
    """Fail before any question is asked when the detail rows could not be written at the end, or would overwrite
    the question file itself (`eval fragen.jsonl --details fragen.jsonl` replaced the questions with the rows)."""
    if questions is not None and path.exists() and path.resolve() == questions.resolve():
        raise NewsbotError(message("details_is_questions", path=str(path)))
    folder = path.parent
    if not folder.is_dir():
        raise NewsbotError(message("details_folder_missing", path=str(folder)))
    if path.is_dir() or not os.access(path if path.exists() else folder, os.W_OK):
        raise NewsbotError(message("details_not_writable", path=str(path)))


def answer_hit(answer: Answer, gold: Iterable[str]) -> bool:
    text = answer.text.casefold()
    return answer.answered and any(g.casefold() in text for g in gold if g)


def names_article(source: str, article: str) -> bool:
    """Whether `source` (a path or URL) is the article a question file names by its file name."""
    return Path(source).name == article or source.endswith("/" + article)


def evidence_hit(answer: Answer, article: str | None, k: int = 5) -> bool:
    if not article:
        return False
    return any(names_article(s.source, article) for s in answer.sources[:k])


def articles_not_indexed(questions: Iterable[Question], sources: Iterable[str]) -> list[Question]:
    """The questions whose `article` no indexed article (its path or URL in `sources`) is: a typo in the file, or an
    index without that article. Each counts as a miss in `evidence_recall_at_5`, whatever the bot finds."""
    indexed = list(sources)
    names = {Path(source).name for source in indexed}
    return [
        q
        for q in questions
        if q.article and q.article not in names and not any(names_article(source, q.article) for source in indexed)
    ]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def evaluate(
    questions: list[Question], ask: Callable[..., Answer], count_llm_fallbacks: bool = False
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, float]]:
    """Ask every question; return the metrics, one detail row per question, and median stage timings.

    `count_llm_fallbacks` (llm mode) adds `llm_fallback_rate`, the share of generated answers the grounding
    check replaced, and each row's mode and note; extractive runs keep their keys exactly as before.
    """
    details: list[dict[str, Any]] = []
    answerable = [q for q in questions if not q.unanswerable]
    unanswerable = [q for q in questions if q.unanswerable]
    with_article = [q for q in answerable if q.article]  # evidence recall counts only where the file names it
    hits = evidence = false_refusals = refusals = fallbacks = 0
    latencies: list[float] = []
    stages: dict[str, list[float]] = {}
    for question in questions:
        # `ask(question)` or, for a question with a history, `ask(question, history)`
        answer = ask(question.question, question.history) if question.history else ask(question.question)
        latencies.append(answer.latency_ms)
        for stage, ms in answer.timings_ms.items():
            stages.setdefault(stage, []).append(ms)
        if question.unanswerable:
            refusals += not answer.answered
        else:
            hits += answer_hit(answer, question.answers)
            evidence += evidence_hit(answer, question.article)
            false_refusals += not answer.answered
        row = {
            "id": question.id,
            "answer": answer.text,
            "answered": answer.answered,
            "confidence": round(answer.confidence, 4),
            "sources": answer.to_json()["sources"],
        }
        if question.history:
            row["used_history"] = answer.used_history
        if count_llm_fallbacks:
            fallbacks += answer.mode == "extractive-fallback"
            row.update(mode=answer.mode, note=answer.note)
        details.append(row)
    # None (JSON null) where the file has no question to count: 0.0 would read as every one missed.
    share = lambda n, d: round(n / d, 4) if d else None  # noqa: E731
    metrics = {
        "n": len(questions),
        "answer_hit_at_1": share(hits, len(answerable)),
        "evidence_recall_at_5": share(evidence, len(with_article)),
        "refusal_accuracy": share(refusals, len(unanswerable)),
        "false_refusal_rate": share(false_refusals, len(answerable)),
        "latency_ms_p50": round(percentile(latencies, 50), 2),
        "latency_ms_p95": round(percentile(latencies, 95), 2),
    }
    if count_llm_fallbacks:
        metrics["llm_fallback_rate"] = share(fallbacks, len(questions))
    timings = {f"{stage}_ms_p50": round(percentile(v, 50), 2) for stage, v in stages.items()}
    return metrics, details, timings
