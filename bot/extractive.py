"""Extractive answers: the best sentence from the retrieved passages, with what of its neighbours fits.

No text is generated, so every word of an answer stands in an article; a weak best match is refused.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from bot.answerability import AnswerabilityModel
from bot.lexical import WORDS, matched_terms
from bot.names import proper_names
from bot.result import Source
from bot.retrieve import ArticleCoverage, Candidate, Retrieval, Snapshot, SpansKept, place

SNIPPET_CHARS = 240
# How the answer's stretch of text is chosen (see answer_span): the best sentence counts twice as much as
# covering the whole question, so it stays whole wherever it fits; the rest only break ties, in this order.
KEEP_BEST = 2.0
NEIGHBOUR_TIE = 0.001
WHOLE_START_TIE = 0.0005
CENTRE_TIE = 0.0001
SPAN_REACH = 2  # sentences on either side of the best one that the answer may draw on
NUMBERS = re.compile(r"\d[\d.,]*\d|\d")


def confidence(retrieval: Retrieval, model: AnswerabilityModel, cross_language: bool = False) -> float:
    """The probability that the best candidate answers the question (see bot/answerability.py).

    An article that holds none of the question's terms does not answer it (in the calibration no answerable
    question in the articles' language had one), nor does any article a question of stop and question words
    alone, of its own language ("Und wann?", "And when?": no terms, `LexicalIndex.query_terms`): there the
    model would weigh only how the best of some unrelated sentences stands out.
    """
    signals = retrieval.signals
    if signals is None or not retrieval.weights or (not cross_language and signals.article_coverage == 0):
        return 0.0
    return round(model.probability(signals, cross_language), 4)


def stretch_rows(snapshot: Snapshot, row: int, given: frozenset[tuple[str, int]] = frozenset()) -> list[int]:
    """The sentences an answer from `row` is taken from: `row` and those around it in its paragraph (SPAN_REACH),
    without a title line (see `answer_span`) and without crossing a sentence already `given` (by article id and
    number) in the conversation, which a follow-up asking for more must not show again."""
    rows = [r for r in snapshot.around(row, SPAN_REACH) if r == row or not _is_title(snapshot, r)]
    kept = [row]
    for step in (-1, 1):
        r = row + step
        while r in rows and place(snapshot.sentences[r]) not in given:
            kept.append(r)
            r += step
    return sorted(kept)


def shown_sentences(snapshot: Snapshot, row: int, text: str, given: frozenset[tuple[str, int]]) -> set[tuple[str, int]]:
    """The sentences (article id, number) of which the answer `text`, taken from `row` (`answer_span`), shows a part."""
    rows = stretch_rows(snapshot, row, given)
    shown = text.removeprefix("…").removesuffix("…")
    context = " ".join(snapshot.sentences[r].text for r in rows)
    start = context.find(shown)
    if start < 0:
        return {place(snapshot.sentences[row])}
    sentences, offset = set(), 0
    for r in rows:
        end = offset + len(snapshot.sentences[r].text)
        if offset < start + len(shown) and start < end:
            sentences.add(place(snapshot.sentences[r]))
        offset = end + 1
    return sentences


def answer_span(
    snapshot: Snapshot,
    best: Candidate,
    scores: dict[int, float],
    limit: int,
    weights: dict[str, float],
    given: frozenset[tuple[str, int]] = frozenset(),
    kept: SpansKept | None = None,
) -> tuple[str, str]:
    """The answer text (at most `limit` characters) and the sentences it was taken from.

    The answer is the stretch of the best sentence and the sentences around it in its paragraph
    (SPAN_REACH on either side) that keeps the best sentence whole where it fits and, with the room
    left or within a sentence too long for the limit, covers most of the question's weighted terms
    (`weights`): the answer to "who?" or "when?" often stands next to the words the question repeats,
    in a sentence nearby or at the end of a long one. Between stretches that cover the question
    equally, the better-scoring neighbour wins, then one that starts with a sentence, then the one
    centred on the best sentence (see _best_window).

    An article's first sentence that is also its title (a file without a headline line, such as the news
    archive's) is left out unless it is the best one: the title is shown with the source already, and its
    room went to the sentence after the best, which often holds the answer ("… dem US-Magazin" cut before
    "Wired").

    `given`: sentences (article id, number) the conversation showed already; the stretch stops before them.

    `kept`: the answers taken before from the same candidates (`Retrieval.spans`), given again for the same arguments
    instead of computed again: a value question's answer was computed by the retriever's check of the asked value
    (`Retriever._showing_the_asked_value`) and then by the service, a follow-up's by `_own_words_prefer` and again.
    """
    key = (best.row, limit, given)
    entry = kept.get(key) if kept is not None else None
    if entry is not None and entry[0] is snapshot and entry[1] == scores and entry[2] == weights:
        return entry[3]
    span = _answer_span(snapshot, best, scores, limit, weights, given)
    if kept is not None:
        kept[key] = (snapshot, dict(scores), dict(weights), span)
    return span


def _answer_span(
    snapshot: Snapshot,
    best: Candidate,
    scores: dict[int, float],
    limit: int,
    weights: dict[str, float],
    given: frozenset[tuple[str, int]],
) -> tuple[str, str]:
    """`answer_span`, computed."""
    rows = stretch_rows(snapshot, best.row, given)
    context = " ".join(snapshot.sentences[r].text for r in rows)
    if len(context) <= limit:
        return context, context
    bounds: dict[int, tuple[int, int]] = {}
    offset = 0
    for r in rows:
        bounds[r] = (offset, offset + len(snapshot.sentences[r].text))
        offset = bounds[r][1] + 1
    neighbours = [r for r in (best.row - 1, best.row + 1) if r in bounds]
    preferred = bounds[max(neighbours, key=lambda r: scores.get(r, 0.0))] if neighbours else (0, 0)
    starts = {a for a, _ in bounds.values()}
    matched = matched_terms([terms for r in rows for terms in snapshot.word_terms(r)], weights)
    start, end = _best_window(context, limit - 2, weights, matched, starts, bounds[best.row], preferred)
    text = context[start:end]
    cut_start = start not in starts
    cut_end = end not in {b for _, b in bounds.values()}
    if len(text) > limit - 2:  # a single word longer than the limit
        text, cut_end = text[: limit - 2], True
    return ("…" if cut_start else "") + text + ("…" if cut_end else ""), context


def _is_title(snapshot: Snapshot, row: int) -> bool:
    sentence = snapshot.sentences[row]
    return sentence.n == 0 and sentence.text.strip() == snapshot.articles[sentence.article_id].title.strip()


def _best_window(
    text: str,
    room: int,
    weights: dict[str, float],
    matched: list[set[str]],
    starts: set[int],
    keep: tuple[int, int],
    prefer: tuple[int, int],
) -> tuple[int, int]:
    """Start and end of the run of whole words of at most `room` characters that scores best.

    `matched` holds, for each word of `text`, the question terms it covers. The score is the share of
    the question's weight the run covers plus KEEP_BEST times the share of `keep` (the best sentence)
    it holds. Ties go, in this order, to the run holding more of `prefer` (the better neighbour), to a
    run that starts at one of the sentence `starts`, and to the run centred on the best sentence.
    """
    words = [(m.start(), m.end()) for m in WORDS.finditer(text)]
    total = sum(weights.values()) or 1.0
    centre = (keep[0] + keep[1]) / 2

    def share(span: tuple[int, int], start: int, end: int) -> float:
        return max(0, min(end, span[1]) - max(start, span[0])) / max(1, span[1] - span[0])

    covered: Counter[str] = Counter()
    best_score, best_span = -1.0, (0, min(len(text), room))
    last = 0  # one past the last word in the run
    for first, (start, _) in enumerate(words):
        while last < len(words) and (words[last][1] - start <= room or last == first):
            covered.update(matched[last])
            last += 1
        end = words[last - 1][1]
        score = (
            sum(weights[t] for t, n in covered.items() if n > 0) / total
            + KEEP_BEST * share(keep, start, end)
            + NEIGHBOUR_TIE * share(prefer, start, end)
            + WHOLE_START_TIE * (start in starts)
            - CENTRE_TIE * abs((start + end) / 2 - centre) / max(1, room)
        )
        if score > best_score:
            best_score, best_span = score, (start, end)
        covered.subtract(matched[first])
    return best_span


def sources_for(
    snapshot: Snapshot,
    ranked: list[Candidate],
    top_k: int,
    margin: float = 1.0,
    coverage: ArticleCoverage | None = None,
    follow_up: bool = False,
    by_the_answer: bool = False,
    answers_content: ArticleCoverage | None = None,
    another_language: bool = False,
) -> list[Source]:
    """One source per article, best first, with its best sentence as snippet.

    Near-identical sentences of several outlets were collapsed by the retriever already. After the
    first, an unrelated article is no evidence, so sources are left out that score more than `margin`
    below the first, or whose article holds less than half the share of the question's weighted terms
    (`coverage`, the retrieval's) that the first one's does. A `follow_up`'s terms are those of the
    conversation too, its topic: there a further source must hold no less of them than the first. Its query
    vector is the mean of two, which brings every cosine nearer the best: a date sentence of any article is
    as close to "Und wann?" as the summit's, and holds "stattfinden" as well.

    The share of words judges only sources the embedder rates below the first. One it rates at least as high
    is no unrelated article: the first came first by its words, and those can mislead, above all for a
    question in another language than the articles, whose words the articles share by accident ("were" is
    German "wer") or not at all ("Vienna"). Without that exception the rule lost 12 of the English dev
    questions' own articles, and 3 of the German ones. A follow-up has no such exception: its first source came
    first by the conversation's topic, and its averaged vector rated the oil crisis above the heat in Vienna for
    "And when was that?".

    Half the share is not enough where the first holds few of the question's terms: a further source must also
    hold one of those it holds. "Wer nimmt an dem Gipfel teil?" is answered from the summit's article, which holds
    "Gipfel" alone (a third of the weight); "nimmt" and "teil" held more than half that, so the Apollo program,
    EU law, Victoria and Tesla were listed with it. Evidence for the answer shares the words it was found by.

    `by_the_answer`: `coverage` holds the words of the first source's sentence, not the question's
    (`in_the_articles_words`). Where that sentence is the wrong one, so is every article that shares its words, and the
    right article comes mostly second: the runner-up (of a question asked alone) is kept whatever its words. Without
    that, the rule took the asked article out of the sources of 19 of the English dev questions, all answered wrongly.

    `answers_content`: for an answered question, what its answer says beyond the question (`what_the_answer_adds`).
    A further source must hold at least half of it, as the first does all: sharing the question's words says an
    article is on its topic, not that it says what the answer says. On the haystack „Wo soll der Gipfel
    stattfinden?“, answered with Budapest, listed a meeting in Zurich and a monthly campaign, both holding „Gipfel“
    or „stattfinden“ (`benchmarks/HISTORY.md`, sources16). The answer may be the wrong one, though, and then the
    asked article is the one that does not say it: two exceptions keep it for a question asked alone. The runner-up
    of a question in `another_language` that the exceptions above keep: its first came by words that may mislead.
    And where the first's article lacks some of the question's terms, an article that holds at least as much of them
    as it does: the question's words point to it no less than to the answer's. Apple's music service's price or Lady
    Gaga's song at Super Bowl 50 stood there under a wrong answer from another article. Where the first holds every
    term, nothing in the question points elsewhere (the summit's Budapest, whose rivals hold „Gipfel“ and
    „stattfinden“ as well), and the answer's content decides.
    """
    first_share = 0.0  # of the question's weighted terms, in the first source's article
    least_share = 0.0  # of the question's weighted terms, in a further source's article
    first_terms: frozenset[str] = frozenset()  # the question's terms the first source's article holds
    first_cosine = 0.0
    least_content = 0.0  # of what the answer says beyond the question, in a further source's article
    sources: list[Source] = []
    seen_articles: set[str] = set()
    for c in ranked:
        sentence = snapshot.sentences[c.row]
        if sentence.article_id in seen_articles:
            continue
        if sources and (c.dense or 0.0) < sources[0].score - margin:
            continue
        if (
            sources
            and coverage
            and not (by_the_answer and not follow_up and len(sources) == 1)
            and (
                coverage.share(sentence.article_id) < least_share
                or (first_terms and not coverage.held(sentence.article_id) & first_terms)
            )
            and (follow_up or (c.dense or 0.0) < first_cosine)
        ):
            continue
        if (
            sources
            and answers_content
            and answers_content.share(sentence.article_id) < least_content
            and not (
                another_language
                and not follow_up
                and len(sources) == 1
                and (by_the_answer or (c.dense or 0.0) >= first_cosine)
            )
            and not (
                coverage and not follow_up and first_share < 1.0 and coverage.share(sentence.article_id) >= first_share
            )
        ):
            continue
        if not sources:
            first_cosine = c.dense or 0.0
            if coverage:
                first_share = coverage.share(sentence.article_id)
                least_share = first_share * (1.0 if follow_up else 0.5)
                first_terms = coverage.held(sentence.article_id)
            if answers_content:
                least_content = answers_content.share(sentence.article_id) * 0.5
        seen_articles.add(sentence.article_id)
        article = snapshot.articles[sentence.article_id]
        snippet = sentence.text if len(sentence.text) <= SNIPPET_CHARS else sentence.text[: SNIPPET_CHARS - 1] + "…"
        sources.append(
            Source(
                title=article.title,
                source=article.url or article.source,
                snippet=snippet,
                score=round(c.dense or 0.0, 4),
                article_id=article.article_id,
                url=article.url,
                published=article.published,
            )
        )
        if len(sources) >= top_k:
            break
    return sources


def in_the_articles_words(snapshot: Snapshot, ranked: list[Candidate]) -> ArticleCoverage | None:
    """What `sources_for` judges further sources by, for a question in another language than the articles whose
    words its best article holds none of (it names nothing they name): the terms of the sentence it is answered
    from, by rarity. Half of no share is none, so no further source was ever left out, and "Where will the summit
    take place?" listed the Apollo program and the Huguenots. The best sentence says what was asked in the
    articles' words."""
    if not ranked:
        return None
    terms = snapshot.lexical.query_terms(snapshot.sentences[ranked[0].row].text)
    return ArticleCoverage(snapshot, snapshot.lexical.term_weights(terms)) if terms else None


def what_the_answer_adds(
    snapshot: Snapshot, answer: str, asked: Iterable[str], language: str
) -> ArticleCoverage | None:
    """What `sources_for` judges an answered question's further sources by: the terms of the `answer` shown that the
    question's terms (`asked`) lack, by rarity, and of those its proper names and numbers where it has any: who,
    where and how many, what the answer says beyond the question. The rest of its words („Donnerstag“, „teilte“,
    „weiter“) most news articles hold: the summit's answer shared half its weight with a report from the Austrian
    border. None where the answer only repeats the question's words: nothing to judge by. `language`: the
    articles'."""
    repeated = set(asked)
    terms = [t for t in snapshot.lexical.query_terms(answer) if t not in repeated]
    named = set(snapshot.lexical.query_terms(" ".join([*proper_names(answer, language), *NUMBERS.findall(answer)])))
    terms = [t for t in terms if t in named] or terms
    return ArticleCoverage(snapshot, snapshot.lexical.term_weights(terms)) if terms else None


def best_candidate(retrieval: Retrieval) -> Candidate | None:
    return retrieval.candidates[0] if retrieval.candidates else None
