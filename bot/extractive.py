"""Extractive answers: the sentence (or two adjacent ones) from the retrieved passages that best answers.

No text is generated, so every word of an answer stands in an article; a weak best match is refused.
"""

from __future__ import annotations

from bot.answerability import AnswerabilityModel
from bot.result import Source
from bot.retrieve import Candidate, Retrieval, Snapshot, sentence_in_context

SNIPPET_CHARS = 240


def confidence(retrieval: Retrieval, model: AnswerabilityModel) -> float:
    """The probability that the best candidate answers the question (see bot/answerability.py)."""
    return round(model.probability(retrieval.signals), 4) if retrieval.signals else 0.0


def answer_span(snapshot: Snapshot, best: Candidate, scores: dict[int, float], limit: int) -> tuple[str, str]:
    """The answer text (at most `limit` characters) and the sentences around it for display.

    The best sentence takes its better-scoring neighbour along, cut at a word to fit the limit when
    both do not fit whole: the answer to "who?" or "when?" often stands in the sentence next to the
    one that matches the question best.
    """
    text = snapshot.sentences[best.row].text
    before, after = snapshot.neighbours(best.row)
    context = sentence_in_context(snapshot, best.row)
    options = [(scores.get(r, 0.0), r) for r in (before, after) if r is not None]
    if len(text) > limit:
        return text[: limit - 1].rsplit(" ", 1)[0] + "…", context
    if options:
        _, neighbour = max(options)
        room = limit - len(text) - 2  # a space and the ellipsis
        extra = snapshot.sentences[neighbour].text
        if len(extra) <= room + 1:
            text = f"{extra} {text}" if neighbour < best.row else f"{text} {extra}"
        elif room > 20 and neighbour > best.row:
            text = f"{text} {extra[:room].rsplit(' ', 1)[0]}…"
        elif room > 20:
            text = f"…{extra[-room:].split(' ', 1)[-1]} {text}"
    return text, context


def sources_for(snapshot: Snapshot, ranked: list[Candidate], top_k: int, margin: float = 1.0) -> list[Source]:
    """One source per article, best first, with its best sentence as snippet.

    Near-identical sentences of several outlets were collapsed by the retriever already. After the
    first, sources scoring more than `margin` below the first are left out: an unrelated article is
    no evidence.
    """
    sources: list[Source] = []
    seen_articles: set[str] = set()
    for c in ranked:
        sentence = snapshot.sentences[c.row]
        if sentence.article_id in seen_articles:
            continue
        if sources and (c.dense or 0.0) < sources[0].score - margin:
            continue
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


def best_candidate(retrieval: Retrieval) -> Candidate | None:
    return retrieval.candidates[0] if retrieval.candidates else None
