"""Whether the index answers a question: a calibrated probability from the signals of the best candidate.

A cosine similarity alone barely separates "on topic" from "answers it" (e5 rates unrelated news at
about 0.8). Together with how much of the question's rare vocabulary the answer's paragraph and article
hold, how far the best candidate stands out from the rest, and how many sentences were searched (among
more of them, an unrelated one is likelier to look like an answer), it does much better. The model is a
logistic regression over these signals, fitted by `benchmarks/calibrate_refusal.py` on dev questions
whose articles were left out of the index; it ships as `answerability.json` beside this module, with
its threshold, 0.5 (see the README). Questions in another language than the articles share few words
with them, so the file holds a second model for them, over the signals that do not count shared words
(`cross_language`). Linear on purpose: the
probability moves one way with each signal, so no signal can make a worse match look better (squares and
products fitted no better).
"""

from __future__ import annotations

import json
import math
from dataclasses import astuple, dataclass, fields
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from index.errors import NewsbotError
from index.texts import message

MODEL_FILE = "answerability.json"
# What a missing count (`Signals.count_missing`) leaves of the model's probability.
COUNT_MISSING_FACTOR = 0.5
# The asked kind's absence from the answer's sentences ("Wann …?", "When …?" over sentences without a time; "How
# many …?" without a number): read from the sentences' times and figures, which a German article writes alike for a
# question in any language, so it says as much about an English question's answer as about a German one's. The
# cross-language model cannot weigh it: it was fitted on Wikipedia rows, where it is set for 1 to 5 of 426 English
# near misses (a removed paragraph's neighbours hold other facts' years and figures). The German model, fitted where it
# is set for 25 to 34 of 566 near misses, gives its weight to both (benchmarks/HISTORY.md, english17).
ASKED_KIND_SIGNALS = frozenset(("time_missing", "amount_missing"))


@dataclass(frozen=True)
class Signals:
    """What the retriever knows about its best candidate; each is a number the model weighs."""

    dense: float  # cosine similarity of the best sentence
    passage: float  # cosine similarity of the passage around it
    context_coverage: float  # share of the question's weighted terms in its headline and paragraph
    article_coverage: float  # the same share in the whole article
    margin: float  # its fused score minus the runner-up's
    spread: float  # the best cosine minus the mean of the ten best: does anything stand out?
    rarest_missing: float  # IDF of the rarest question term the article lacks, over the rarest term's: 1 = "Japan"
    index_size: float  # log10 of the number of sentences searched: the best of many unrelated ones looks better
    # A near miss (on the article's topic, but its fact is not there) shows in what the answer's context lacks:
    context_rarest_missing: float  # as rarest_missing, for the best sentence's context: the fact's own words
    type_missing: float  # 1 when the question asks for a number, date or place and the context holds none
    # What an answerable question's article lacks is mostly a verb or a question's word ("sang", "lautet");
    # what a near miss's lacks is a thing or a name ("Japan", "Ticket"): German capitalises both.
    name_missing: float  # IDF of the rarest capitalised question word the article lacks, over the rarest term's
    context_name_missing: float  # the same, for the best sentence's context
    number_missing: float  # IDF of the rarest number of the question ("1900") its context lacks, over the rarest term's
    # A compound names a kind of its last part: an article on the "Rallye-Weltmeisterschaft" holds the head of
    # "Fußball-Weltmeisterschaft" but is about another championship.
    compound_missing: float = 0.0  # IDF of the rarest part before the hyphen the article lacks, where it holds the head
    # "Wie viele Kunden …?" over "Ab sofort können Kunden …": the context names what is counted, without a count.
    count_missing: float = 0.0  # 1 when it does (bot.retrieve.count_missing); not weighed by the model, a veto
    # "Wer ist der Bürgermeister von Wien?" over a report on Wiener Neustadt: the stemmer finds "Wien" in "Wiener", but
    # the article names another town. 1 where a proper name of the question stands in the answer's article only as the
    # first word of a longer name (bot.retrieve.names_inside_other_names); not weighed by the model, a veto.
    name_elsewhere: float = 0.0
    # "Wie lange dauert die Fahrt nach Innsbruck?" over the railway between Graz and Klagenfurt: an article that names
    # none of a proper name of the question (HanTa's NE, not any capitalised noun as `name_missing` reads it, nor a
    # one-letter misspelling of a word it holds: "Sentanta" for "Setanta") is about another place, person or thing.
    # 1 where it does (bot.retrieve.names_the_article_lacks), for a question in the articles' language; a veto.
    name_unheld: float = 0.0
    # The kind of answer the question word asks (bot.answer_kind) that the best sentence does not hold, beyond what
    # the question names itself: a near miss's best sentence is on the topic, and its neighbours hold the dates and
    # figures of other facts. 1 for "Wann …?" over a sentence without a time, for "Wie viele …?" or "Wie hoch …?"
    # over one without a number, for "Was kostet …?" over one without a sum of money.
    time_missing: float = 0.0
    amount_missing: float = 0.0
    # The same absence as a veto, for a question in the articles' language that asks a time, an amount or a price by
    # its own question word: 1 where the answer's sentences show none, read as the answer shown reads a value
    # (`bot.answer_kind.shows_value`: a count in words, "mehrere Male", is one). Weighed above, the absence moves a
    # news near miss too little: the model was fitted on Wikipedia, where a removed paragraph's neighbours hold other
    # facts' years and figures, so it is rarely set there for a near miss either (benchmarks/HISTORY.md, nearmiss19).
    # On news it is set for no answerable question of news_dev and for about half its written near misses.
    kind_unshown: float = 0.0

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def against(cls) -> frozenset[str]:
        """The signals that speak against an answer; every other one speaks for it. The fit keeps each
        signal's weight on its side (benchmarks/calibrate_refusal.py)."""
        return frozenset(
            (
                "rarest_missing",
                "index_size",
                "context_rarest_missing",
                "type_missing",
                "name_missing",
                "context_name_missing",
                "number_missing",
                "compound_missing",
                "count_missing",
                "name_elsewhere",
                "name_unheld",
                "time_missing",
                "amount_missing",
                "kind_unshown",
            )
        )

    def as_list(self) -> list[float]:
        return [float(v) for v in astuple(self)]

    def values(self, names: list[str]) -> list[float]:
        return [float(getattr(self, name)) for name in names]


@dataclass(frozen=True)
class AnswerabilityModel:
    """Standardised signals, weighted, squashed to a probability.

    Each signal is first held within the range seen in fitting (`lower`, `upper`): the model says
    nothing about an index ten times larger than any it was fitted on, so it does not extrapolate.
    """

    features: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    embedder: str
    lower: np.ndarray
    upper: np.ndarray
    # For questions in another language than the articles (see bot/language.py), which share few words with
    # them: a model over the signals that do not count shared words, its intercept set for the same threshold.
    cross_language: AnswerabilityModel | None = None

    @classmethod
    def from_dict(cls, raw: dict) -> AnswerabilityModel:
        cross = raw.get("cross_language")
        return cls(
            features=list(raw["features"]),
            mean=np.asarray(raw["mean"], dtype=float),
            scale=np.asarray(raw["scale"], dtype=float),
            coef=np.asarray(raw["coef"], dtype=float),
            intercept=float(raw["intercept"]),
            threshold=float(raw["threshold"]),
            embedder=str(raw.get("embedder", "")),
            lower=np.asarray(raw.get("lower", [-np.inf] * len(raw["features"])), dtype=float),
            upper=np.asarray(raw.get("upper", [np.inf] * len(raw["features"])), dtype=float),
            cross_language=cls.from_dict(cross) if cross else None,
        )

    @classmethod
    def load(cls, path: Path | None = None) -> AnswerabilityModel:
        """The shipped model, or the one at `path`; a missing, broken or foreign file is a user error."""
        try:
            text = path.read_text(encoding="utf-8") if path else resources.files("bot").joinpath(MODEL_FILE).read_text()
            model = cls.from_dict(json.loads(text))
            for part in (model, model.cross_language):
                if part is None:
                    continue
                unknown = set(part.features) - set(Signals.names())
                if unknown or not part.features:
                    raise ValueError(f"unknown signals: {', '.join(sorted(unknown))}" if unknown else "no signals")
                per_signal = (part.mean, part.scale, part.coef, part.lower, part.upper)
                if any(len(values) != len(part.features) for values in per_signal):
                    raise ValueError("mean, scale, coef, lower and upper need one number per signal")
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise NewsbotError(
                message("answerability_model_invalid", path=str(path or MODEL_FILE), reason=str(error)[:200])
            ) from error
        return model

    def logit(self, signals: Signals) -> float:
        """The model's log-odds that the articles answer, from `signals`."""
        values = np.clip(np.asarray(signals.values(self.features)), self.lower, self.upper)
        return float((values - self.mean) / self.scale @ self.coef) + self.intercept

    def asked_kind_missing(self, signals: Signals) -> float:
        """What this model's weights for the asked kind's absence (`ASKED_KIND_SIGNALS`) take off the log-odds of
        `signals`, against the same answer with the kind present: for the cross-language model, which does not
        weigh them (0 where this model does not either)."""
        weighed = self.cross_language.features if self.cross_language is not None else []
        return sum(
            self.coef[i] / self.scale[i] * float(np.clip(getattr(signals, name), self.lower[i], self.upper[i]))
            for i, name in enumerate(self.features)
            if name in ASKED_KIND_SIGNALS and name not in weighed
        )

    def probability(self, signals: Signals, cross_language: bool = False) -> float:
        """The probability that the articles answer; `cross_language`: the question is in another language."""
        if cross_language and self.cross_language is not None:
            z = self.cross_language.logit(signals) + self.asked_kind_missing(signals)
        else:
            z = self.logit(signals)
        probability = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
        # A "Wie viele …?" answer that names what is counted without a count is no answer, however close its
        # words, nor is one from an article on another place than the question names, or that does not name it at
        # all, nor a "Wann …?" answer whose sentences give no time: halved, it is refused at the shipped threshold
        # (0.5), and still shown below a lowered one.
        vetoed = (
            signals.count_missing > 0
            or signals.name_elsewhere > 0
            or signals.name_unheld > 0
            or signals.kind_unshown > 0
        )
        return probability * COUNT_MISSING_FACTOR if vetoed else probability


@cache
def shipped_model() -> AnswerabilityModel:
    return AnswerabilityModel.load()
