"""Generated answers streaming into Discord: one message, edited at most once a second, ending in the embed.

The cog runs the real service (real Chroma, the real ChatOpenAI client against the scripted OpenAI-compatible
server on loopback); discord.py objects are spec'd mocks that record what was sent and edited, and when.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from itertools import pairwise
from pathlib import Path
from unittest.mock import AsyncMock

import pytest

from bot.discord.ask import AskCog
from bot.discord.streaming import WRITING_MARK, iterate_in_thread, preview, stream_answer
from bot.result import Answer
from bot.service import NewsService
from index.errors import NewsbotError
from index.settings import Settings
from index.texts import message
from tests.openai_stub import OpenAIStub, reply
from tests.test_discord_mocks import (
    assert_no_mentions,
    make_bot,
    make_interaction,
    make_message,
    make_sent_message,
    sent_kwargs,
)

GIPFEL = "Wo soll der Gipfel stattfinden?"


@pytest.fixture
def llm_service(settings: Settings, fake_embedder, articles_dir: Path, stub: OpenAIStub) -> NewsService:
    configured = settings.model_copy(
        update={
            "answer_mode": "llm",
            "llm_model": "stub",
            "llm_base_url": stub.base_url,
            "llm_timeout_seconds": 10.0,
            "discord_cooldown_seconds": 0.0,
        }
    )
    service = NewsService.open(configured, fake_embedder)
    service.index_paths([articles_dir])
    return service


def timed_edits(sent: AsyncMock) -> list[float]:
    """Make `sent.edit` record the moment of every call."""
    moments: list[float] = []
    sent.edit.side_effect = lambda *_a, **_k: moments.append(time.monotonic())
    return moments


async def test_answer_streams_into_one_message_edited_at_most_once_a_second(llm_service, stub):
    words = ["Der ", "Gipfel ", "soll ", "in ", "Budapest ", "stattfinden ", "[1]."]
    stub.enqueue(reply(*words, gap_seconds=0.4))
    interaction = make_interaction()
    sent = interaction.followup.send.return_value
    edit_moments = timed_edits(sent)
    cog = AskCog(make_bot(), llm_service)

    started = time.monotonic()
    await cog.frage.callback(cog, interaction, frage=GIPFEL)

    interaction.response.defer.assert_awaited_once_with(thinking=True)
    (first,) = sent_kwargs(interaction.followup.send)
    assert first["content"].startswith("Der")
    assert first["content"].endswith(WRITING_MARK)
    assert_no_mentions(first)
    edits = sent_kwargs(sent.edit)
    progress, final = edits[:-1], edits[-1]
    assert progress, "the message grows while the answer is written"
    shown = [e["content"] for e in progress]
    assert all(len(a) < len(b) for a, b in pairwise(shown))
    gaps = [b - a for a, b in pairwise(edit_moments[:-1])]  # between the edits before the final one
    assert all(gap >= 0.95 for gap in gaps), gaps
    assert len(progress) <= (time.monotonic() - started) + 1
    assert final["content"] is None
    embed = final["embed"]
    assert "Budapest" in embed.description
    assert "[1]" in embed.description
    assert "gipfel.txt" in embed.fields[0].value.split("\n")[0], "source 1 is the one the answer cites"
    assert_no_mentions(final)


async def test_fallback_replaces_the_streamed_text_with_the_extractive_answer_and_its_note(llm_service, stub):
    stub.enqueue(reply("Irgendwo ", "in ", "Europa."))
    interaction = make_interaction()
    cog = AskCog(make_bot(), llm_service)

    await cog.frage.callback(cog, interaction, frage=GIPFEL)

    sent = interaction.followup.send.return_value
    final = sent_kwargs(sent.edit)[-1]
    assert "Europa" not in final["embed"].description
    assert "Budapest" in final["embed"].description
    assert message("llm_no_citation") in final["embed"].description


async def test_failure_before_the_first_word_sends_the_embed_at_once(llm_service, stub):
    # No behaviour queued: the stub answers 503, so nothing streams and only the embed goes out.
    interaction = make_interaction()
    cog = AskCog(make_bot(), llm_service)

    await cog.frage.callback(cog, interaction, frage=GIPFEL)

    (kwargs,) = sent_kwargs(interaction.followup.send)
    assert "content" not in kwargs
    assert message("llm_failed") in kwargs["embed"].description
    interaction.followup.send.return_value.edit.assert_not_awaited()


async def test_mention_streams_under_the_typing_indicator(llm_service, stub):
    stub.enqueue(reply("Budapest ", "[1]."))
    msg = make_message(f"<@999> {GIPFEL}", mentions_bot=True)
    events: list[str] = []
    typing = msg.channel.typing.return_value
    typing.__aenter__.side_effect = lambda *_: events.append("typing on")
    typing.__aexit__.side_effect = lambda *_: events.append("typing off")
    msg.reply.side_effect = lambda *_a, **_k: events.append("reply") or make_sent_message()
    cog = AskCog(make_bot(), llm_service)

    await cog.on_message(msg)

    assert events == ["typing on", "reply", "typing off"]
    assert msg.reply.await_args.kwargs["content"].endswith(WRITING_MARK)


async def test_edits_wait_for_the_interval_on_a_fake_clock():
    now = [0.0]
    sent = make_sent_message()
    send = AsyncMock(return_value=sent)
    answer = Answer(GIPFEL, "a b c d [1]", True, [], 0.9, mode="llm", cited=(1,))

    async def clocked() -> AsyncIterator[str | Answer]:
        for moment, item in [(0.0, "a "), (0.5, "b "), (1.2, "c "), (1.9, "d "), (2.3, "[1]"), (2.4, answer)]:
            now[0] = moment
            yield item

    message_sent, final = await stream_answer(send, clocked(), clock=lambda: now[0])

    assert (message_sent, final) == (sent, answer)
    assert send.await_args.kwargs["content"] == "a" + WRITING_MARK
    contents = [e["content"] for e in sent_kwargs(sent.edit)]
    assert contents == ["a b c" + WRITING_MARK, "a b c d [1]" + WRITING_MARK, None]


async def test_errors_of_the_blocking_stream_reach_the_event_loop():
    def failing() -> Iterator[str]:
        yield "a"
        raise NewsbotError("kaputt")

    received: list[str] = []

    async def consume() -> None:
        async for item in iterate_in_thread(failing()):
            received.append(item)

    with pytest.raises(NewsbotError, match="kaputt"):
        await consume()
    assert received == ["a"]


def test_a_link_the_model_writes_is_not_clickable_while_it_streams():
    shown = preview("Anmelden unter [hier](https://evil.example/login) oder https://evil.example [1]")
    assert "://" not in shown.replace("`https://evil.example/login`", "").replace("`https://evil.example`", "")


async def test_a_question_the_articles_do_not_answer_is_refused_without_asking_the_model(llm_service, stub):
    stub.enqueue(reply("Die WM gewann Argentinien [1]."))
    interaction = make_interaction()
    cog = AskCog(make_bot(), llm_service)
    await cog.frage.callback(cog, interaction, frage="Wer gewann die Fußball-WM?")
    (sent,) = sent_kwargs(interaction.followup.send)
    assert sent["embed"].description == message("refusal_friendly")
    assert stub.requests == []
    interaction.followup.send.return_value.create_thread.assert_not_awaited()
