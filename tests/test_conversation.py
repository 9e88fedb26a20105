"""Conversation context helps a follow-up and never drags a question that stands on its own off topic."""

from __future__ import annotations

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
    assert message("refusal") in after_reset[1]


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
