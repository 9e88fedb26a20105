"""Fit the answerability model (bot/answerability.json) on questions whose answers are left out.

Run after `benchmarks/bench.py` has built its index (or with `--data-dir` naming one that holds
`xquad_de_dev`, the `news_de` haystack and the seed article):

    python benchmarks/calibrate_refusal.py [--data-dir DIR] [--out bot/answerability.json] [--rows FILE]

Three kinds of question, each asked in German and in English (xquad_en_dev: the same questions, German
gold answers), on a copy of the index with the news haystack and again without it (a small index):

- answerable: the dev questions while their article is indexed;
- off topic: four rotations each leave a quarter of the dev articles out, so that every dev question
  is unanswerable once (and answerable three times); the seed set's unanswerable questions too;
- near miss: on the topic of an indexed article that lacks the fact. Five rotations each remove one
  of the five answering paragraphs (XQuAD's `context`) from every dev article, and the questions on
  the removed paragraphs are asked; plus benchmarks/near_miss.jsonl, questions written for this
  project about facts an indexed article (examples/articles, the seed article, the dev articles) does
  not hold, asked in every off-topic rotation where their article is indexed.

With `--news`, news too, from half A of benchmarks/news_heldout.jsonl only (half B is never fitted on): its
answerable questions, its written near misses, and near misses made as the Wikipedia ones are: rotations each
remove from every article of half A the sentences that hold one question's answer (a news article is one
paragraph with a lead sentence, so the sentence is what holds the fact), and the questions whose answers are
all gone are asked. On the small index, half A's articles are added. Each news article is a group of its own
in the cross-validation, and the news rows get rates of their own; `--news-only` collects only these rows, to
add to rows collected before. Not in the shipped model's rows: fitted with them, it refused fewer near misses,
of news and of Wikipedia alike (benchmarks/HISTORY.md, "News near misses in the calibration").

The signals of each answer (bot/answerability.py) train two logistic regressions: one for questions
in the articles' language, over `SAME_LANGUAGE_SIGNALS`, and one for questions in another language over the
signals that do not count shared words (`CROSS_LANGUAGE_SIGNALS`): BM25 and coverage need the question
and the article to share words, which an English question over German articles does only for names.
The figures printed are cross-validated by article: the questions of the articles being scored were
not seen in fitting. A signal whose weight comes out against its stated direction (bot/answerability.py)
is left out, weight 0. Each model's intercept is set so that `--threshold` (0.5) falsely refuses
`--false-refusal` (4.5 %) of the answerable German and `--cross-false-refusal` (10 %) of the answerable
English questions, in the scenario where that share is reached first. `--rows` keeps the collected
signals, `--from-rows` refits from them (several files: the haystack's and the small index's, collected with
`--haystack-only` and `--small-only`) without asking again; `--query-vectors` keeps the questions' vectors
for the next run; `--rate-only` rates the models of `--out` on the rows (the figures "before" a refit).
Within a scenario the fit sees the median index size, since each rotation's size tells which text it
removed. The shipped model: `SAME_LANGUAGE_SIGNALS` and `CROSS_LANGUAGE_SIGNALS`, fitted on both scenarios.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from bot.answerability import AnswerabilityModel, Signals  # noqa: E402
from bot.evaluate import Question, load_questions  # noqa: E402
from bot.retrieve import Retriever  # noqa: E402
from index.articles import Article, read_article_file, title_from_text  # noqa: E402
from index.chunking import sentence_embedding_text, split_sentences  # noqa: E402
from index.embedders import NamedEmbeddings, make_embedder  # noqa: E402
from index.indexer import NewsIndex  # noqa: E402
from index.settings import Settings  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
EXAMPLES = REPO / "examples" / "articles"
WRITTEN_NEAR_MISSES = REPO / "benchmarks" / "near_miss.jsonl"
NEWS_ARTICLES = SHARED / "news_de" / "articles"
NEWS_QUESTIONS = REPO / "benchmarks" / "news_heldout.jsonl"
NEWS_SPLIT = "A"  # half B is kept for the check after fitting
ROTATIONS = 4
PARAGRAPH_ROTATIONS = 5  # every dev article has five answering paragraphs
REGULARISATION = 0.1  # LogisticRegression's C on standardised signals: strong, so it does not learn the dev set
# The signals of the model for questions in the articles' language. Fitted over all of them, the rarest
# missing term, the answer-type and the context's signals come out against their direction or at noise level,
# and the off-topic refusal on the haystack drops below 80 %; these eight refuse more of both (see the README).
# `number_missing` (a year or figure of the question its context lacks) adds 1.4 to 1.8 points of near misses.
# `compound_missing` ("Fußball" of "Fußball-Weltmeisterschaft" where the article holds only the head) adds 0.9
# points of off-topic and 0.7 to 1.3 of near misses (see the README). `time_missing` and `amount_missing` (the asked
# fact's sentences lack the time, number or sum of money the question word asks) add 5.3 and 4.2 points of near
# misses on the haystack and the small index (benchmarks/HISTORY.md, "The kind of answer a question asks").
SAME_LANGUAGE_SIGNALS = [
    "dense",
    "passage",
    "context_coverage",
    "article_coverage",
    "margin",
    "spread",
    "index_size",
    "name_missing",
    "number_missing",
    "compound_missing",
    "time_missing",
    "amount_missing",
]
CROSS_LANGUAGE_SIGNALS = [
    "dense",
    "passage",
    "margin",
    "spread",
    "index_size",
    "type_missing",
    # names are spelled alike in both languages: "Japan" missing from the article says the same in English
    "name_missing",
    "context_name_missing",
]
KINDS = ("answerable", "off_topic", "near_miss")
# Signals that speak against an answer (bot/answerability.py); every other one speaks for it.
AGAINST = Signals.against()


class RememberedQueries(NamedEmbeddings):
    """The embedder, with each question's vector kept (in `path` too, when given): every rotation and
    every run asks the same questions again, and their embedding is most of the calibration's time."""

    def __init__(self, embedder: NamedEmbeddings, path: Path | None = None) -> None:
        self._embedder = embedder
        self.name, self.dim = embedder.name, embedder.dim
        self._path = path
        self._queries: dict[str, np.ndarray] = {}
        self._passages: dict[str, np.ndarray] = {}
        if path and path.is_file():
            saved = json.loads(path.read_text(encoding="utf-8"))
            if saved.get("embedder") == embedder.name:
                self._queries = {q: np.asarray(v, dtype=np.float32) for q, v in saved["queries"].items()}

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        """Only the texts not seen before are embedded: a dev article without one paragraph is mostly the
        sentences it had."""
        new = [t for t in dict.fromkeys(texts) if t not in self._passages]
        if new:
            self._passages.update(zip(new, self._embedder.encode_passages(new), strict=True))
        return np.vstack([self._passages[t] for t in texts]) if texts else self._embedder.encode_passages([])

    def remember_passages(self, index: NewsIndex) -> None:
        """Take the vectors of every sentence already in `index`, as the indexer embedded them."""
        snapshot = Retriever(index).snapshot()
        vectors = snapshot.sentence_vectors(range(len(snapshot.sentences)))
        for row, sentence in enumerate(snapshot.sentences):
            title = snapshot.articles[sentence.article_id].title
            self._passages[sentence_embedding_text(title, sentence.text)] = np.asarray(vectors[row])

    def encode_query(self, text: str) -> np.ndarray:
        if text not in self._queries:
            self._queries[text] = self._embedder.encode_query(text)
        return self._queries[text].copy()

    def prepare(self, questions: list[str], batch: int = 64) -> None:
        """Embed the questions not seen before in batches: eight times faster than one by one on a busy
        machine, and the same vectors."""
        new = [q for q in dict.fromkeys(questions) if q not in self._queries]
        for start in range(0, len(new), batch):
            part = new[start : start + batch]
            self._queries.update(zip(part, self._embedder.encode_queries(part), strict=True))
            self.save()
            print(f"embedded {min(start + batch, len(new))} of {len(new)} questions", flush=True)

    def save(self) -> None:
        if self._path:
            queries = {q: v.tolist() for q, v in self._queries.items()}
            self._path.write_text(json.dumps({"embedder": self.name, "queries": queries}), encoding="utf-8")


@dataclasses.dataclass(frozen=True)
class Row:
    scenario: str  # "haystack" or "small"
    group: str  # the article the question is about: cross-validation holds out by it
    kind: str  # one of KINDS
    language: str  # "de" or "en"
    signals: list[float]
    question: str = ""  # what was asked, and the sentence that would answer it: to read the misses
    answer: str = ""


def contexts() -> dict[str, str]:
    """The answering paragraph of each dev question, German and English ids alike."""
    found = {}
    for folder in ("xquad_de_dev", "xquad_en_dev"):
        for line in (SHARED / folder / "questions.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                raw = json.loads(line)
                found[str(raw["id"])] = raw["context"]
    return found


def base_copy(data_dir: Path, scratch: Path, embedder: NamedEmbeddings, haystack: bool) -> Path:
    """A copy of the index with examples/articles and the seed article added; for the small index, without
    the haystack."""
    copy = scratch / f"base-{haystack}"
    shutil.copytree(data_dir, copy)
    index = NewsIndex(Settings(_env_file=None, data_dir=copy), embedder)  # type: ignore[call-arg]
    index.add_paths([EXAMPLES, SHARED / "articles"])
    if not haystack:
        index.remove([a.article_id for a in index.catalog.articles() if "/news_de/" in a.article_id])
    return copy


def ask_all(retriever: Retriever, questions: list[tuple[Question, str, str]], scenario: str) -> list[Row]:
    rows = []
    for question, kind, language in questions:
        snapshot, retrieval = retriever.retrieve(question.question, language=language)
        if retrieval.signals is not None:
            group = question.article or question.id
            best = snapshot.sentences[retrieval.candidates[0].row].text
            rows.append(Row(scenario, group, kind, language, retrieval.signals.as_list(), question.question, best))
    if isinstance(retriever.index.embedder, RememberedQueries):
        retriever.index.embedder.save()
    return rows


def collect(
    data_dir: Path, embedder: NamedEmbeddings, haystack: bool, news: bool = False, news_only: bool = False
) -> list[Row]:
    """The rows of every question in every rotation of one scenario (with the haystack or without); `news`:
    with those of the news questions (`news_rows`), `news_only`: only those."""
    scenario = "haystack" if haystack else "small"
    if news_only:
        with tempfile.TemporaryDirectory(prefix="calibrate-") as scratch_name:
            base = base_copy(data_dir, Path(scratch_name), embedder, haystack)
            return news_rows(base, embedder, haystack)
    dev_files = sorted((SHARED / "xquad_de_dev" / "articles").resolve().glob("*.txt"))
    dev = [(q, "de") for q in load_questions(SHARED / "xquad_de_dev" / "questions.jsonl")]
    dev += [(q, "en") for q in load_questions(SHARED / "xquad_en_dev" / "questions.jsonl")]
    seed = load_questions(SHARED / "seed_questions.jsonl")
    written = load_questions(WRITTEN_NEAR_MISSES)
    if isinstance(embedder, RememberedQueries):
        embedder.prepare([q.question for q, _ in dev] + [q.question for q in seed + written])
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="calibrate-") as scratch_name:
        scratch = Path(scratch_name)
        base = base_copy(data_dir, scratch, embedder, haystack)
        for rotation in range(ROTATIONS):
            left_out = dev_files[rotation::ROTATIONS]
            copy = scratch / f"rotation-{rotation}"
            shutil.copytree(base, copy)
            index = NewsIndex(Settings(_env_file=None, data_dir=copy), embedder)  # type: ignore[call-arg]
            index.remove([p.as_posix() for p in left_out])
            names = {p.name for p in left_out}
            asked = [(q, "off_topic" if q.article in names else "answerable", lang) for q, lang in dev]
            asked += [(q, "off_topic" if q.unanswerable else "answerable", "de") for q in seed]
            asked += [(q, "off_topic" if q.article in names else "near_miss", "de") for q in written]
            rows += ask_all(Retriever(index), asked, scenario)
            shutil.rmtree(copy)
            print(f"{scenario}: rotation {rotation + 1}/{ROTATIONS} left out {sorted(names)}", flush=True)
        rows += news_rows(base, embedder, haystack) if news else []
        rows += near_misses(base, embedder, dev_files, dev, scenario)
    return rows


def near_misses(
    base: Path, embedder: NamedEmbeddings, dev_files: list[Path], dev: list[tuple[Question, str]], scenario: str
) -> list[Row]:
    """Ask the questions on the answering paragraph that each rotation took out of its article."""
    paragraph_of = contexts()
    paragraphs: dict[str, list[str]] = {}  # article: its answering paragraphs, in the order of the questions
    for question, _ in dev:
        found = paragraphs.setdefault(question.article or "", [])
        if paragraph_of[question.id] not in found:
            found.append(paragraph_of[question.id])
    index = NewsIndex(Settings(_env_file=None, data_dir=base), embedder)  # type: ignore[call-arg]
    if isinstance(embedder, RememberedQueries):
        embedder.remember_passages(index)
    rows = []
    for rotation in range(PARAGRAPH_ROTATIONS):
        removed: set[str] = set()
        articles = []
        for path in dev_files:
            article = read_article_file(path)
            own = paragraphs.get(path.name, [])
            if rotation < len(own):
                removed.add(own[rotation])
                text = "\n\n".join(p for p in article.text.split("\n\n") if p.strip() != own[rotation].strip())
                articles.append(dataclasses.replace(article, text=text))
        index.add_articles(articles)
        asked = [(q, "near_miss", lang) for q, lang in dev if paragraph_of[q.id] in removed]
        rows += ask_all(Retriever(index), asked, scenario)
        print(f"{scenario}: paragraph rotation {rotation + 1}/{PARAGRAPH_ROTATIONS}, {len(asked)} asked", flush=True)
    return rows


def news_questions() -> list[tuple[Question, str]]:
    """The news questions of half `NEWS_SPLIT`, with their language (English ids end in "-en"); a written near
    miss's article is the one it is on the topic of (`topic_article`)."""
    found = []
    for line in NEWS_QUESTIONS.read_text(encoding="utf-8").splitlines():
        raw = json.loads(line) if line.strip() else {}
        if raw.get("split") == NEWS_SPLIT:
            article = raw.get("article") or raw["topic_article"]
            unanswerable = bool(raw.get("unanswerable"))
            question = Question(str(raw["id"]), raw["question"], list(raw.get("answers") or []), article, unanswerable)
            found.append((question, "en" if question.id.endswith("-en") else "de"))
    return found


def holds_answer(text: str, answers: list[str]) -> bool:
    """Whether `text` holds one of `answers`, as `newsbot eval` counts a hit (bot/evaluate.py)."""
    return any(a.casefold() in text.casefold() for a in answers if a)


def without_answer(article: Article, answers: list[str]) -> Article | None:
    """`article` without the sentences that hold one of `answers` (its title taken again from what is left);
    None where nothing is left or an answer still stands in it (across two sentences)."""
    kept = [text for _, _, text in split_sentences(article.text) if not holds_answer(text, answers)]
    text = " ".join(kept)
    if not kept or holds_answer(text, answers):
        return None
    return dataclasses.replace(article, text=text, title=title_from_text(text))


def news_rows(base: Path, embedder: NamedEmbeddings, haystack: bool) -> list[Row]:
    """The rows of the news questions of half A (on a copy of `base`): answerable, written near misses, and
    near misses made by removing the sentences that hold an answer, one question of each article a rotation."""
    scenario = "haystack" if haystack else "small"
    asked = news_questions()
    if isinstance(embedder, RememberedQueries):
        embedder.prepare([q.question for q, _ in asked])
    copy = base.parent / f"news-{scenario}"
    shutil.copytree(base, copy)
    index = NewsIndex(Settings(_env_file=None, data_dir=copy), embedder)  # type: ignore[call-arg]
    files = {name: NEWS_ARTICLES / name for name in sorted({q.article or "" for q, _ in asked})}
    if not haystack:  # the small index holds the articles asked about, as a user's index of a few news would
        index.add_paths(list(files.values()))
    kinds = [(q, "near_miss" if q.unanswerable else "answerable", language) for q, language in asked]
    rows = ask_all(Retriever(index), kinds, scenario)
    answerable = [(q, language) for q, language in asked if not q.unanswerable]
    own: dict[str, list[Question]] = {}  # article: its German answerable questions, in the file's order
    for question, language in answerable:
        if language == "de":
            own.setdefault(question.article or "", []).append(question)
    done: set[str] = set()
    for rotation in range(max(map(len, own.values()), default=0)):
        originals = {name: read_article_file(files[name]) for name, mine in own.items() if rotation < len(mine)}
        changed = {name: without_answer(article, own[name][rotation].answers) for name, article in originals.items()}
        texts = {name: article.text for name, article in changed.items() if article is not None}
        index.add_articles([article for article in changed.values() if article is not None])
        near = [
            (q, "near_miss", language)
            for q, language in answerable
            if q.article in texts and q.id not in done and not holds_answer(texts[q.article], q.answers)
        ]
        done.update(q.id for q, _, _ in near)
        rows += ask_all(Retriever(index), near, scenario)
        index.add_articles([originals[name] for name in texts])  # as indexed, for the next rotation
        print(f"{scenario}: news rotation {rotation + 1}, {len(near)} near misses asked", flush=True)
    shutil.rmtree(copy)
    return rows


def make_model() -> object:
    return make_pipeline(StandardScaler(), LogisticRegression(C=REGULARISATION, max_iter=10_000))


def held_out_probabilities(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """P(answerable) for every row from a model that did not see its article (four folds by article)."""
    names = sorted(set(groups))
    held_out = np.zeros(len(y))
    for fold in range(ROTATIONS):
        test = np.isin(groups, names[fold::ROTATIONS])
        seen = x[~test]  # as the shipped model does, signals are held within the range seen in fitting
        unseen = np.clip(x[test], seen.min(axis=0), seen.max(axis=0))
        held_out[test] = make_model().fit(seen, y[~test]).predict_proba(unseen)[:, 0]
    return held_out


def rates(rows: list[Row], answerable: np.ndarray, threshold: float) -> dict[str, dict[str, float]]:
    """Refused share of each kind, per scenario: for `answerable` questions that is the false refusals."""
    refused = answerable < threshold
    table: dict[str, dict[str, float]] = {}
    for scenario in sorted({r.scenario for r in rows}):
        for kind in KINDS:
            mask = np.array([r.scenario == scenario and r.kind == kind for r in rows])
            if mask.any():
                label = "false_refusal" if kind == "answerable" else f"{kind}_refused"
                table.setdefault(scenario, {})[label] = round(float(refused[mask].mean()), 4)
    return table


def fit(rows: list[Row], features: list[str]) -> tuple[dict, np.ndarray]:
    """The model over `features` as bot/answerability.py reads it, and the cross-validated probabilities."""
    columns = [Signals.names().index(f) for f in features]
    x = np.array([[r.signals[c] for c in columns] for r in rows])
    y = np.array([int(r.kind != "answerable") for r in rows])  # the regression predicts "unanswerable"
    groups = np.array([r.group for r in rows])
    if "index_size" in features:
        # Each rotation removes the very text whose questions it asks, so within a scenario the index's size
        # tells the kinds apart (near misses are asked in a larger index than the off-topic rotations): the
        # fit sees each scenario's median size, which tells only a haystack from a small index.
        column, scenarios = features.index("index_size"), np.array([r.scenario for r in rows])
        for scenario in set(scenarios):
            x[scenarios == scenario, column] = np.median(x[scenarios == scenario, column])
    while True:  # a signal weighed against its stated direction is left out (weight 0), and the rest refitted
        final = make_model().fit(x, y)
        scaler, regression = final.steps[0][1], final.steps[1][1]
        answered = -regression.coef_[0]
        wrong = [i for i, f in enumerate(features) if (answered[i] > 0) == (f in AGAINST) and answered[i] != 0]
        if not wrong:
            break
        print(f"left out against their direction: {[features[i] for i in wrong]}", flush=True)
        x[:, wrong] = 0.0
    model = {
        "features": features,
        "mean": scaler.mean_.round(6).tolist(),
        "scale": scaler.scale_.round(6).tolist(),
        "coef": (-regression.coef_[0]).round(6).tolist(),  # negated: it predicts "answered"
        "intercept": round(float(-regression.intercept_[0]), 6),
        "lower": x.min(axis=0).round(6).tolist(),
        "upper": x.max(axis=0).round(6).tolist(),
    }
    return model, held_out_probabilities(x, y, groups)


def logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def at_threshold(
    model: dict, rows: list[Row], held_out: np.ndarray, threshold: float, false_refusal: float
) -> np.ndarray:
    """Shift `model`'s intercept so that `threshold` refuses `false_refusal` of the answerable questions in
    every scenario (the highest such share where the scenarios differ); the held-out probabilities, shifted."""
    answerable = np.array([r.kind == "answerable" for r in rows])
    scenarios = np.array([r.scenario for r in rows])
    at = min(float(np.quantile(held_out[answerable & (scenarios == s)], false_refusal)) for s in set(scenarios))
    shift = logit(threshold) - logit(at)
    model["intercept"] = round(model["intercept"] + shift, 6)
    return np.array([1 / (1 + math.exp(-(logit(p) + shift))) for p in held_out])


def of_news(rows: list[Row], probabilities: np.ndarray) -> tuple[list[Row], np.ndarray]:
    """The rows of the news questions (`news_questions`) and their probabilities: their own rates."""
    news = {q.article for q, _ in news_questions()}
    mask = np.array([r.group in news for r in rows], dtype=bool)
    return [r for r in rows if r.group in news], probabilities[mask] if len(rows) else probabilities


def rate(model: AnswerabilityModel, same: list[Row], cross: list[Row], threshold: float) -> dict:
    """How a model fitted before refuses on these rows (not cross-validated unless the rows are new to it)."""

    def probabilities(rows: list[Row], cross_language: bool) -> np.ndarray:
        # rows collected before a signal was added lack it, and it takes its default
        signals = (Signals(**dict(zip(Signals.names(), r.signals, strict=False))) for r in rows)
        return np.array([model.probability(s, cross_language) for s in signals])

    same_p, cross_p = probabilities(same, False), probabilities(cross, True)
    return {
        "same_language": rates(same, same_p, threshold),
        "cross_language": rates(cross, cross_p, threshold),
        "news": {
            "same_language": rates(*of_news(same, same_p), threshold),
            "cross_language": rates(*of_news(cross, cross_p), threshold),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=REPO / "benchmarks" / "results" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "bot" / "answerability.json")
    parser.add_argument("--threshold", type=float, default=0.5, help="refuse below this probability")
    parser.add_argument(
        "--false-refusal", type=float, default=0.045, help="target, questions in the articles' language"
    )
    parser.add_argument("--cross-false-refusal", type=float, default=0.10, help="target, other languages")
    parser.add_argument("--rows", type=Path, help="write the collected signals here (JSON Lines)")
    parser.add_argument(
        "--from-rows", type=Path, nargs="+", help="refit from signals collected before (files) instead of asking"
    )
    parser.add_argument("--small-only", action="store_true", help="only the index without the haystack")
    parser.add_argument("--haystack-only", action="store_true", help="only the index with the haystack")
    parser.add_argument(
        "--keep-same-language", action="store_true", help="keep --out's model for the articles' language, rate it"
    )
    parser.add_argument("--signals", help="comma-separated signals of the articles' language model")
    parser.add_argument("--rate-only", action="store_true", help="only rate the models of --out on the rows")
    parser.add_argument("--query-vectors", type=Path, help="keep the questions' vectors in this file, for later runs")
    parser.add_argument("--news", action="store_true", help="also ask half A of benchmarks/news_heldout.jsonl")
    parser.add_argument("--news-only", action="store_true", help="ask only half A of the news questions")
    args = parser.parse_args()
    settings = Settings(_env_file=None, data_dir=args.data_dir)  # type: ignore[call-arg]
    embedder = RememberedQueries(make_embedder(settings), args.query_vectors)
    if args.from_rows:
        lines = [line for path in args.from_rows for line in path.read_text(encoding="utf-8").splitlines()]
        rows = [Row(**json.loads(line)) for line in lines if line.strip()]
    else:
        news = (args.news, args.news_only)
        rows = [] if args.haystack_only else collect(args.data_dir, embedder, False, *news)
        if not args.small_only:
            rows += collect(args.data_dir, embedder, True, *news)
        if args.rows:
            args.rows.write_text("".join(json.dumps(dataclasses.asdict(r)) + "\n" for r in rows), encoding="utf-8")
    same = [r for r in rows if r.language == "de"]
    cross = [r for r in rows if r.language != "de"]
    if args.rate_only:
        print(json.dumps(rate(AnswerabilityModel.load(args.out), same, cross, args.threshold), indent=1))
        return
    model, same_held_out = fit(same, args.signals.split(",") if args.signals else SAME_LANGUAGE_SIGNALS)
    cross_model, cross_held_out = fit(cross, CROSS_LANGUAGE_SIGNALS)
    # Each model's intercept moves so that the shipped threshold falsely refuses its target share of the
    # answerable questions, cross-validated, in the scenario where it refuses most of them.
    same_held_out = at_threshold(model, same, same_held_out, args.threshold, args.false_refusal)
    kept = None
    if args.keep_same_language:  # the model shipped before, for the articles' language; only the other is new
        kept = json.loads(args.out.read_text(encoding="utf-8"))
        model = {key: kept[key] for key in ("features", "mean", "scale", "coef", "intercept", "lower", "upper")}
        shipped_before = AnswerabilityModel.from_dict({**model, "threshold": args.threshold})
        as_signals = (Signals(**dict(zip(Signals.names(), r.signals, strict=False))) for r in same)
        same_held_out = np.array([shipped_before.probability(s) for s in as_signals])
    cross_held_out = at_threshold(cross_model, cross, cross_held_out, args.threshold, args.cross_false_refusal)
    calibration = {
        **({"same_language_fitted_before": kept["calibration"]} if kept else {}),
        "questions": {"same_language": len(same), "cross_language": len(cross)},
        "cross_validated": {
            "same_language": rates(same, same_held_out, args.threshold),
            "cross_language": rates(cross, cross_held_out, args.threshold),
        },
    }
    if of_news(same, same_held_out)[0]:  # rows of the news questions (--news): their own rates
        calibration["news_cross_validated"] = {
            "same_language": rates(*of_news(same, same_held_out), args.threshold),
            "cross_language": rates(*of_news(cross, cross_held_out), args.threshold),
        }
    if kept:  # not cross-validated: fitted before, on other rotations, without near misses
        calibration["same_language_model_kept"] = calibration["cross_validated"].pop("same_language")
    shipped = {
        "embedder": embedder.name,
        **model,
        "threshold": args.threshold,
        "cross_language": {**cross_model, "threshold": args.threshold},
        "calibration": calibration,
    }
    args.out.write_text(json.dumps(shipped, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(calibration, indent=1))


if __name__ == "__main__":
    main()
