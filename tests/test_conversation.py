"""Conversation context helps a follow-up and never drags a question that stands on its own off topic."""

from __future__ import annotations

import dataclasses

import discord
import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.evaluate import evaluate, load_questions
from bot.service import NewsService
from index.texts import message

SUMMIT = "Wo soll der Gipfel stattfinden?"
ELLIPTIC = "Und wann?"
HEAT = "Wie viele Grad wurden in Wien gemessen?"


@pytest.fixture
def service(settings, fake_embedder, articles_dir) -> NewsService:
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([articles_dir])
    return service


def test_a_question_that_stands_alone_is_answered_as_after_an_unrelated_one(service):
    alone = service.ask(HEAT)
    after_summit = service.ask(HEAT, [SUMMIT])
    assert "38 Grad" in alone.text
    assert after_summit.text == alone.text
    assert after_summit.sources == alone.sources
    assert not after_summit.used_history


def test_an_elliptic_follow_up_is_resolved_against_the_conversation(service):
    assert not service.ask(ELLIPTIC).answered  # on its own it names nothing to search for
    follow_up = service.ask(ELLIPTIC, [SUMMIT])
    assert "die nächsten zwei Wochen" in follow_up.text
    assert follow_up.used_history


@pytest.mark.parametrize(
    ("question", "language"), [(ELLIPTIC, "de"), ("Wer hat es vorgeschlagen?", "de"), ("And when?", "en")]
)
def test_a_question_without_a_topic_or_a_conversation_is_asked_what_it_is_about(service, question, language):
    """Asked first, or after `:neu`, "Und wann?" was told that the articles hold nothing about it: users then
    rephrased what they asked, not what it was about."""
    answer = service.ask(question)

    assert not answer.answered
    assert answer.text == message("refusal_no_topic", language)


@pytest.mark.parametrize(
    ("question", "history", "reply"),
    [
        ("Wie hoch ist der Eiffelturm?", [], "refusal"),  # it names its topic: the articles lack it
        ("Danke!", [], "remark_reply"),
        (ELLIPTIC, ["Wer gewann den Nobelpreis für Physik?"], "refusal"),  # a conversation whose topic is not held
    ],
)
def test_a_refusal_of_a_question_with_a_topic_or_a_conversation_says_the_articles_lack_it(
    service, question, history, reply
):
    answer = service.ask(question, history)

    assert not answer.answered
    assert answer.text == message(reply)


def test_eval_reads_a_history_per_question(service, tmp_path):
    questions = tmp_path / "conversation.jsonl"
    questions.write_text(
        f'{{"id": "f", "question": "{ELLIPTIC}", "answers": ["zwei Wochen"], "history": ["{SUMMIT}"]}}\n'
        f'{{"id": "s", "question": "{HEAT}", "answers": ["38 Grad"], "history": ["{SUMMIT}"]}}\n',
        encoding="utf-8",
    )
    metrics, rows, _ = evaluate(load_questions(questions), service.ask)
    assert metrics["answer_hit_at_1"] == 1.0
    assert [row["used_history"] for row in rows] == [True, False]


def test_a_history_that_is_not_a_list_is_a_clear_error(tmp_path):
    from index.errors import NewsbotError

    questions = tmp_path / "bad.jsonl"
    questions.write_text('{"question": "Und wann?", "answers": ["1"], "history": "Wo?"}\n', encoding="utf-8")
    with pytest.raises(NewsbotError, match="Zeile 1"):
        load_questions(questions)


def test_chat_shows_when_earlier_questions_were_used_and_neu_starts_afresh(
    service, fake_embedder, settings, monkeypatch
):
    opened = NewsService.open.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(NewsService, "open", classmethod(lambda cls, s: opened(cls, s, fake_embedder)))
    monkeypatch.setenv("NEWSBOT_REFUSAL_THRESHOLD", str(settings.refusal_threshold))
    session = f"{SUMMIT}\n{ELLIPTIC}\n:neu\n{ELLIPTIC}\n\n"
    result = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "chat"], input=session)
    assert result.exit_code == 0, result.output
    after_reset = result.output.split(message("cli_chat_new"))
    assert len(after_reset) == 2
    assert "die nächsten zwei Wochen" in after_reset[0]
    assert message("history_used") in after_reset[0]
    assert message("history_used") not in after_reset[1]
    assert message("refusal_no_topic") in after_reset[1]  # afresh, "Und wann?" names nothing to look for


async def test_discord_dms_answer_follow_ups_in_context_and_other_questions_as_if_alone(service):
    import discord

    from bot.discord.ask import AskCog
    from tests.test_discord_mocks import make_bot, make_channel, make_message, sent_kwargs

    service.settings.discord_cooldown_seconds = 0.0
    cog = AskCog(make_bot(), service)
    dm = make_channel(discord.DMChannel, channel_id=42)
    asked = [make_message(text, channel=dm, in_guild=False) for text in (SUMMIT, ELLIPTIC, HEAT)]
    for msg in asked:
        await cog.on_message(msg)
    follow_up, unrelated = (sent_kwargs(msg.reply)[0]["embed"].description for msg in asked[1:])

    assert "die nächsten zwei Wochen" in follow_up
    assert message("history_used") in follow_up
    assert "38 Grad" in unrelated
    assert message("history_used") not in unrelated


TOYOTA = "Wann schließt Toyota sein Werk in Victoria?"


@pytest.fixture
def car_service(settings, fake_embedder, tmp_path) -> NewsService:
    """Two articles that both name Ford: the plant closures asked about, and one about another Ford."""
    folder = tmp_path / "cars"
    folder.mkdir()
    (folder / "werke.txt").write_text(
        "Autowerke in Victoria schließen\n\n"
        "Toyota schließt sein Werk in Victoria im Jahr 2017. Die Gewerkschaft protestiert.\n\n"
        "Ford schließt sein Werk in Victoria im Oktober 2016. Der Standort bleibt leer.\n\n"
        "Tausende Beschäftigte verlieren ihre Arbeit.",
        encoding="utf-8",
    )
    (folder / "mustang.txt").write_text(
        "Ein Klassiker wird sechzig\n\nFord baut den Mustang in Michigan. Der Wagen ist bei Sammlern beliebt.",
        encoding="utf-8",
    )
    service = NewsService.open(settings, fake_embedder)
    service.index_paths([folder])
    return service


@pytest.mark.parametrize("question", ["Und Ford?", "Und Ford"])
def test_a_follow_up_whose_word_another_article_also_holds_stays_in_the_conversation(car_service, question):
    """Alone, "Und Ford?" is answered surely from the Mustang article; the conversation means the plant. Typed
    without a question mark it is no remark ("Danke!"): it names what it asks about."""
    alone = car_service.ask(question)
    assert alone.answered
    assert "Mustang" in alone.text
    follow_up = car_service.ask(question, [TOYOTA])
    assert "Oktober 2016" in follow_up.text
    assert follow_up.used_history


def test_a_question_that_names_another_topic_leaves_the_conversation(car_service):
    question = "Wo baut Ford den Mustang?"
    after_toyota = car_service.ask(question, [TOYOTA])
    assert "Michigan" in after_toyota.text
    assert after_toyota.text == car_service.ask(question).text
    assert not after_toyota.used_history


@pytest.mark.parametrize("question", ["Und 2019?", "And in Michigan?"])
def test_the_conversation_never_answers_for_a_number_or_name_its_article_lacks(car_service, question):
    """The conversation may supply what a question leaves out, never replace what it names: "How many people live
    in Paris?" after a question on Warsaw got Warsaw's census with the conversation. (Names only where capitals
    mark names: in German, every noun has one.)"""
    alone = car_service.ask(question)
    after_toyota = car_service.ask(question, [TOYOTA])
    assert "Victoria" not in after_toyota.text
    assert (after_toyota.text, after_toyota.answered) == (alone.text, alone.answered)
    assert not after_toyota.used_history


def test_with_a_conversation_only_the_follow_ups_own_words_score_lexically(car_service):
    snapshot, retrieval = car_service.retriever.retrieve("Und Ford?", context=TOYOTA)
    lexical = {snapshot.sentences[c.row].text: c.lexical for c in retrieval.candidates}
    # the earlier question's words still find the sentence that answered it, but do not score it
    assert lexical["Toyota schließt sein Werk in Victoria im Jahr 2017."] == 0.0
    assert lexical["Ford schließt sein Werk in Victoria im Oktober 2016."] > 0.5


def test_a_follow_up_without_a_question_word_expects_the_earlier_questions_kind_of_answer():
    from bot.retrieve import expected_answer_pattern

    assert expected_answer_pattern("Und Ford?", TOYOTA) is expected_answer_pattern(TOYOTA)
    assert expected_answer_pattern("Und Ford?", TOYOTA) is not None
    # one with a question word of its own asks its own kind: "Wer?" names none of the kinds
    assert expected_answer_pattern("Wer war darunter?", "Wie viele Nominierungen gab es?") is None
    assert expected_answer_pattern("Und Ford?") is None


@pytest.mark.parametrize(
    ("sentence", "holds_a_number"),
    [
        ("Wir haben so viel gelacht, sagt sie über eine Szene am Beginn der vierten Staffel.", False),
        ("Die vierte Staffel hat dreizehn Episoden.", True),
        ("Das Spiel dauerte neunzig Minuten.", True),
        ("Eine Million Menschen sahen zu.", True),
        ("Es waren 56 Minuten gespielt.", True),
    ],
)
def test_a_how_many_question_expects_a_number_and_the_article_ein_is_none(sentence, holds_a_number):
    """ "ein", "eine" are mostly the article: counted as numbers, nearly every sentence held one, so the answer type
    favoured any sentence for "Wie viele …?" (the news check's House of Cards question got a sentence about a
    scene) and a near miss's context never lacked a number."""
    from bot.retrieve import expected_answer_pattern

    pattern = expected_answer_pattern("Wie viele Folgen hat die vierte Staffel?")
    assert pattern is not None
    assert bool(pattern.search(sentence)) is holds_a_number


NOBEL = "Wer hat den Nobelpreis für Chemie gewonnen?"


def test_a_refused_question_is_no_context_for_the_next_in_chat(service, fake_embedder, settings, monkeypatch):
    """The articles hold nothing on it, so a follow-up cannot be about what they say on it: "Und wo?" after a
    refused question about the Nobel prize was answered from a film article at 83 %, marked as answered
    in the context of the earlier questions."""
    assert not service.ask(NOBEL).answered
    assert chat_asks([NOBEL, "Und wo?"], fake_embedder, settings, monkeypatch) == [(NOBEL, []), ("Und wo?", [])]


def chat_asks(questions: list[str], fake_embedder, settings, monkeypatch) -> list[tuple[str, list[str]]]:
    """The questions and histories `newsbot chat` asks the service with, for a session of `questions`."""
    opened = NewsService.open.__func__  # type: ignore[attr-defined]
    monkeypatch.setattr(NewsService, "open", classmethod(lambda cls, s: opened(cls, s, fake_embedder)))
    monkeypatch.setenv("NEWSBOT_REFUSAL_THRESHOLD", str(settings.refusal_threshold))
    asked: list[tuple[str, list[str]]] = []
    real_ask = NewsService.ask

    def ask(self, question, history=()):
        asked.append((question, list(history)))
        return real_ask(self, question, history)

    monkeypatch.setattr(NewsService, "ask", ask)
    session = "".join(f"{q}\n" for q in questions) + "\n"
    result = CliRunner().invoke(cli, ["--data-dir", str(settings.data_dir), "chat"], input=session)
    assert result.exit_code == 0, result.output
    return asked


async def test_a_refused_question_is_no_context_for_the_next_in_discord(service):
    import discord

    from bot.discord.ask import AskCog
    from tests.test_discord_ask import spy_on_ask
    from tests.test_discord_mocks import make_bot, make_channel, make_message

    service.settings.discord_cooldown_seconds = 0.0
    assert not service.ask(NOBEL).answered
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    dm = make_channel(discord.DMChannel, channel_id=42)
    for text in (NOBEL, "Und wo?"):
        await cog.on_message(make_message(text, channel=dm, in_guild=False))
    assert calls == [(NOBEL, []), ("Und wo?", [])]


NOBEL_2019 = "Wer hat den Nobelpreis für Chemie 2019 gewonnen?"


def test_a_refused_question_that_names_something_ends_the_conversation(service, fake_embedder, settings, monkeypatch):
    """A follow-up after it is about what it named, which the articles lack, not about the topic before: "Und
    wann?" after the summit, then the Nobel prize (refused), was asked with the summit's question. (The year
    keeps the fake embedder from answering the prize from the summit's article: `_loses_what_it_names`.)"""
    assert service.ask(SUMMIT).answered
    assert not service.ask(NOBEL_2019, [SUMMIT]).answered
    asked = chat_asks([SUMMIT, NOBEL_2019, ELLIPTIC], fake_embedder, settings, monkeypatch)
    assert asked == [(SUMMIT, []), (NOBEL_2019, [SUMMIT]), (ELLIPTIC, [])]


@pytest.mark.parametrize(
    ("question", "answered", "ends"),
    [
        (NOBEL, False, True),
        ("Und wer noch?", False, False),
        ("And when?", False, False),
        (NOBEL, True, False),
        # asking for more names nothing beyond the topic: "nothing more" on it is no new topic ("else" is no stop word)
        ("Who else?", False, False),
        ("Und wer außerdem?", False, False),
    ],
)
def test_only_a_refused_question_that_names_something_ends_the_conversation(question, answered, ends):
    """A refused "Who else?" (`nothing_more`) ended the English conversation: "And when?" after it named no topic."""
    from bot.result import Answer
    from bot.service import ends_the_conversation

    answer = Answer(question, "", answered, [], 0.2, language="en" if question.startswith(("And", "Who")) else "de")
    assert ends_the_conversation(answer, "de") is ends


async def test_a_refused_question_that_names_something_ends_the_conversation_in_discord(service):
    import discord

    from bot.discord.ask import AskCog
    from tests.test_discord_ask import spy_on_ask
    from tests.test_discord_mocks import make_bot, make_channel, make_message

    service.settings.discord_cooldown_seconds = 0.0
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    dm = make_channel(discord.DMChannel, channel_id=42)
    for text in (SUMMIT, NOBEL_2019, ELLIPTIC):
        await cog.on_message(make_message(text, channel=dm, in_guild=False))
    assert calls == [(SUMMIT, []), (NOBEL_2019, [SUMMIT]), (ELLIPTIC, [])]


@pytest.mark.parametrize(
    ("text", "remark"),
    [
        ("Danke!", True),
        ("Super, vielen Dank", True),
        ("Thanks a lot!", True),
        ("OK", True),
        ("und in Wien", False),
        ("And Ford", False),
        ("Danke, und wann?", False),
        ("Wer noch", False),
        ("", False),
    ],
)
def test_a_remark_says_only_thanks_or_assent_and_asks_nothing(text, remark):
    from bot.lexical import is_remark

    assert is_remark(text) is remark


@pytest.mark.parametrize("remark", ["Danke!", "Thanks!", "ok", "super, danke"])
def test_a_remark_that_asks_nothing_is_no_follow_up(service, settings, remark):
    """ "Thanks!" after two questions about the summit was answered with the summit's negotiators at 90 %, "Danke!"
    with the summit's place again: a remark without a question mark or question word is asked alone. Refused,
    it ends nothing."""
    from bot.service import ends_the_conversation

    after = service.ask(remark, [SUMMIT])
    alone = service.ask(remark)
    assert not after.used_history
    assert (after.answered, after.text, after.confidence) == (alone.answered, alone.text, alone.confidence)
    assert not ends_the_conversation(dataclasses.replace(after, answered=False), settings.language)


@pytest.mark.parametrize(("remark", "language"), [("Danke!", "de"), ("Thanks!", "en")])
async def test_a_thank_you_is_acknowledged_not_told_that_the_articles_say_nothing(service, remark, language):
    """ "Danke!" in `chat` or a direct message got "Dazu habe ich in den Artikeln nichts gefunden.", as if it had
    asked something."""
    from bot.discord.ask import AskCog
    from tests.test_discord_mocks import make_bot, make_channel, make_message, sent_kwargs

    answer = service.ask(remark)
    assert not answer.answered
    assert answer.text == message("remark_reply", language)
    dm = make_channel(discord.DMChannel, channel_id=42)
    thanks = make_message(remark, channel=dm, in_guild=False)
    await AskCog(make_bot(), service).on_message(thanks)
    assert sent_kwargs(thanks.reply)[0]["embed"].description == message("remark_reply", language)


def test_a_follow_up_after_a_thank_you_is_still_about_the_conversations_topic(
    service, fake_embedder, settings, monkeypatch
):
    assert not service.ask("Danke!").answered
    asked = chat_asks([SUMMIT, "Danke!", ELLIPTIC], fake_embedder, settings, monkeypatch)
    assert asked == [(SUMMIT, []), ("Danke!", [SUMMIT]), (ELLIPTIC, [SUMMIT])]
