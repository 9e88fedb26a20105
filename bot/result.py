"""The one result object a question produces; the CLI and Discord only render it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Source:
    """A passage shown as evidence: where it comes from and how well it matched."""

    title: str
    source: str
    snippet: str
    score: float
    article_id: str = ""
    url: str | None = None
    published: str | None = None

    @property
    def link(self) -> str | None:
        """A URL to link to, when the article came from the web."""
        return self.url if self.url and self.url.startswith(("http://", "https://")) else None


# The refusal of a question outside a conversation that names no noun, name or number ("Und wann?" asked first).
NO_TOPIC = "refusal_no_topic"


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    answered: bool
    sources: list[Source]
    confidence: float
    context: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    mode: str = "extractive"
    note: str | None = None
    cited: tuple[int, ...] = ()  # passage numbers a generated answer cites: [n] is sources[n - 1]
    used_history: bool = False  # the conversation's earlier questions shaped the search (a follow-up)
    language: str = ""  # of the question (bot/language.py): faces word a refusal in it; empty: the configured one
    refusal: str = ""  # why the search refused, as the key of its text in prompts/ ("refusal", "refusal_no_topic", …)

    @property
    def confidence_percent(self) -> int:
        """The confidence as every face shows it (message `answer_confidence`): a whole percentage."""
        return round(self.confidence * 100)

    @property
    def latency_ms(self) -> float:
        return round(sum(self.timings_ms.values()), 2)

    @property
    def cited_sources(self) -> list[Source]:
        return [self.sources[n - 1] for n in self.cited if 1 <= n <= len(self.sources)]

    def to_json(self) -> dict[str, Any]:
        """The `ask --json` shape: question, answer, answered, confidence, sources, latency_ms."""
        return {
            "question": self.question,
            "answer": self.text,
            "answered": self.answered,
            "confidence": round(self.confidence, 4),
            "sources": [
                {"title": s.title, "source": s.source, "snippet": s.snippet, "score": round(s.score, 4)}
                for s in self.sources
            ],
            "latency_ms": self.latency_ms,
            # Only generated answers carry these, so the extractive shape stays what scripts expect.
            **({"mode": self.mode, "note": self.note, "cited": list(self.cited)} if self.mode != "extractive" else {}),
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
