"""Asking in Discord, driven in-process: the real service over a real Chroma, discord.py objects mocked."""

from __future__ import annotations

import asyncio
import functools
import threading
from pathlib import Path
from unittest.mock import MagicMock

import discord
import pytest

from bot.discord.ask import AskCog, conversation_id
from bot.discord.formatting import EMBED_DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT
from bot.discord.guards import UserCooldown
from bot.discord.manage import ManageCog
from bot.markup import strip_mentions
from bot.result import Answer, Source
from bot.service import NewsService
from index.errors import NewsbotError
from index.settings import Settings
from index.texts import message
from tests.test_discord_mocks import (
    BOT_USER_ID,
    assert_no_mentions,
    make_bot,
    make_channel,
    make_interaction,
    make_member,
    make_message,
    make_thread,
    sent_kwargs,
)

GIPFEL = "Wo soll der Gipfel stattfinden?"


def open_service(settings: Settings, fake_embedder, articles_dir: Path, **overrides) -> NewsService:
    service = NewsService.open(
        settings.model_copy(update={"discord_cooldown_seconds": 0.0, **overrides}), fake_embedder
    )
    service.index_paths([articles_dir])
    return service


@pytest.fixture
def service(settings, fake_embedder, articles_dir) -> NewsService:
    """Answers whatever it finds (no refusals), no cooldown: the tests below are about Discord."""
    return open_service(settings, fake_embedder, articles_dir, refusal_threshold=0.0)


def spy_on_ask(service: NewsService) -> list[tuple[str, list[str]]]:
    """Record every question with the history it was asked with, then ask for real."""
    calls: list[tuple[str, list[str]]] = []
    real_ask = service.ask

    @functools.wraps(real_ask)
    def ask(question: str, history=()) -> Answer:
        calls.append((question, list(history)))
        return real_ask(question, history)

    service.ask = ask  # type: ignore[method-assign]
    return calls


async def test_frage_defers_before_searching_and_answers_in_an_embed(service):
    events: list[str] = []
    real_ask = service.ask
    service.ask = lambda q, h=(): events.append("ask") or real_ask(q, h)  # type: ignore[method-assign]
    interaction = make_interaction(events=events)
    cog = AskCog(make_bot(), service)

    await cog.frage.callback(cog, interaction, frage=GIPFEL)

    assert events == ["defer", "ask", "followup"]
    interaction.response.defer.assert_awaited_once_with(thinking=True)
    (kwargs,) = sent_kwargs(interaction.followup.send)
    embed = kwargs["embed"]
    assert "Budapest" in embed.description
    assert "gipfel.txt" in embed.fields[0].value
    assert embed.footer.text.endswith("%")
    assert_no_mentions(kwargs)


async def test_the_answer_opens_a_thread_named_after_the_question(service):
    interaction = make_interaction()
    cog = AskCog(make_bot(), service)
    await cog.frage.callback(cog, interaction, frage=GIPFEL)
    sent = interaction.followup.send.return_value
    sent.create_thread.assert_awaited_once()
    assert sent.create_thread.await_args.kwargs["name"] == GIPFEL


async def test_a_follow_up_in_the_thread_is_asked_with_the_threads_earlier_question(
    settings, fake_embedder, articles_dir
):
    # The thread's earlier question lifts the confidence of "Und wann?": a threshold between the two
    # refuses the question on its own and answers it in the thread.
    probe = open_service(settings, fake_embedder, articles_dir, refusal_threshold=0.0)
    alone, with_thread = (probe.ask("Und wann?", history).confidence for history in ([], [GIPFEL]))
    assert alone < with_thread
    service = open_service(settings, fake_embedder, articles_dir, refusal_threshold=(alone + with_thread) / 2)
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    await cog.frage.callback(cog, make_interaction(thread_id=555), frage=GIPFEL)

    in_thread = make_interaction(channel=make_thread(555))
    await cog.frage.callback(cog, in_thread, frage="Und wann?")

    assert calls[-1] == ("Und wann?", [GIPFEL])
    (kwargs,) = sent_kwargs(in_thread.followup.send)
    assert "zwei Wochen" in kwargs["embed"].description
    in_thread.followup.send.return_value.create_thread.assert_not_awaited()  # already in a thread

    elsewhere = make_interaction(channel=make_thread(777))
    await cog.frage.callback(cog, elsewhere, frage="Und wann?")
    # there, it names no topic: asked what it is about, not told that the articles lack it
    assert sent_kwargs(elsewhere.followup.send)[0]["embed"].description == message("refusal_no_topic")


async def test_a_refusal_is_the_friendly_text_and_opens_no_thread(settings, fake_embedder, articles_dir):
    service = open_service(settings, fake_embedder, articles_dir, refusal_threshold=0.99)
    interaction = make_interaction()
    cog = AskCog(make_bot(), service)
    await cog.frage.callback(cog, interaction, frage="Wie hoch ist der Eiffelturm?")
    (kwargs,) = sent_kwargs(interaction.followup.send)
    assert kwargs["embed"].description == message("refusal_friendly")
    assert kwargs["embed"].fields == []
    interaction.followup.send.return_value.create_thread.assert_not_awaited()


async def test_an_empty_question_is_refused_before_deferring(service):
    interaction = make_interaction()
    cog = AskCog(make_bot(), service)
    with pytest.raises(NewsbotError, match="leer"):  # the tree's error handler shows it privately
        await cog.frage.callback(cog, interaction, frage="   ")
    interaction.response.defer.assert_not_awaited()


async def test_a_second_question_within_the_cooldown_gets_a_polite_private_notice(
    settings, fake_embedder, articles_dir
):
    service = open_service(settings, fake_embedder, articles_dir, refusal_threshold=0.0, discord_cooldown_seconds=30.0)
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    user = make_member(7)
    await cog.frage.callback(cog, make_interaction(user=user), frage=GIPFEL)

    second = make_interaction(user=user)
    await cog.frage.callback(cog, second, frage=GIPFEL)

    assert len(calls) == 1
    second.response.defer.assert_not_awaited()
    text = second.response.send_message.await_args.args[0]
    assert "Einen Moment bitte" in text
    assert "30 Sekunden" in text
    assert second.response.send_message.await_args.kwargs["ephemeral"] is True
    other = make_interaction(user=make_member(8))
    await cog.frage.callback(cog, other, frage=GIPFEL)
    assert len(calls) == 2  # the cooldown is per user


async def test_a_huge_answer_is_sent_within_discords_limits(service):
    huge = Answer(
        "F" * 1000,
        "Antwort " * 3000,
        True,
        [Source("T" * 500, f"https://x.example/{n}", "s", 0.9, url=f"https://x.example/{n}") for n in range(40)],
        0.9,
    )
    service.ask = lambda q, h=(): huge  # type: ignore[method-assign]
    interaction = make_interaction()
    cog = AskCog(make_bot(), service)
    await cog.frage.callback(cog, interaction, frage="Frage")
    embed = sent_kwargs(interaction.followup.send)[0]["embed"]
    assert len(embed) <= EMBED_TOTAL_LIMIT
    assert len(embed.description) <= EMBED_DESCRIPTION_LIMIT


async def test_ten_concurrent_questions_are_all_answered_without_blocking_the_event_loop(service):
    """No timing: each question blocks its thread until a callback it hands to the event loop has run,
    and until another question is being answered at the same time. Were questions answered on the
    loop, or one after the other, those waits would time out and the answers fail."""
    real_ask = service.ask
    loop = asyncio.get_running_loop()
    two_at_once = threading.Barrier(2, timeout=30)

    def blocking_ask(question: str, history=()) -> Answer:
        loop_ran = threading.Event()
        loop.call_soon_threadsafe(loop_ran.set)  # runs only while the loop is free
        if not loop_ran.wait(timeout=30):
            raise RuntimeError("the event loop did not run while a question was answered")
        two_at_once.wait()
        return real_ask(question, history)

    service.ask = blocking_ask  # type: ignore[method-assign]
    service.retriever.snapshot()  # loaded once, as the bot does in setup_hook
    cog = AskCog(make_bot(), service)
    interactions = [make_interaction(user=make_member(100 + n)) for n in range(10)]
    await asyncio.gather(*(cog.frage.callback(cog, i, frage=GIPFEL) for i in interactions))

    for interaction in interactions:
        assert "Budapest" in sent_kwargs(interaction.followup.send)[0]["embed"].description


# ---- mentions, direct messages, the bot's threads -------------------------------------------------


async def test_a_mention_is_answered_like_frage_and_opens_a_thread(service):
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    msg = make_message(f"<@{BOT_USER_ID}> {GIPFEL}", mentions_bot=True)

    await cog.on_message(msg)

    assert calls == [(GIPFEL, [])]
    (kwargs,) = sent_kwargs(msg.reply)
    assert "Budapest" in kwargs["embed"].description
    assert_no_mentions(kwargs)
    assert kwargs["mention_author"] is False
    msg.reply.return_value.create_thread.assert_awaited_once()


async def test_a_mention_and_frage_ask_the_text_validate_question_reads_as_ask_does(service):
    """The face read the markup itself first and its lines joined: a quote after a lone carriage return (a paste
    from an old editor) kept its "> " in the question that was searched, where `newsbot ask` dropped it."""
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    written = "Frage:\r> Wo soll der Gipfel stattfinden?"

    await cog.on_message(make_message(f"<@{BOT_USER_ID}> {written}", mentions_bot=True))
    await cog.frage.callback(cog, make_interaction(), frage=written)

    read = "Frage: Wo soll der Gipfel stattfinden?"
    assert calls == [(read, []), (read, [])]


async def test_a_follow_up_in_the_bots_thread_needs_no_mention(settings, fake_embedder, articles_dir):
    service = open_service(settings, fake_embedder, articles_dir, refusal_threshold=0.002)
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    await cog.on_message(make_message(f"<@{BOT_USER_ID}> {GIPFEL}", mentions_bot=True, thread_id=556))

    follow_up = make_message("Und wann?", channel=make_thread(556))
    await cog.on_message(follow_up)

    assert calls[-1] == ("Und wann?", [GIPFEL])
    assert "zwei Wochen" in sent_kwargs(follow_up.reply)[0]["embed"].description


async def test_a_direct_message_is_answered_and_remembered_for_the_next_one(service):
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    dm = make_channel(discord.DMChannel, channel_id=42)
    first = make_message(GIPFEL, channel=dm, in_guild=False)
    await cog.on_message(first)
    await cog.on_message(make_message("Und wann?", channel=dm, in_guild=False))

    assert calls == [(GIPFEL, []), ("Und wann?", [GIPFEL])]
    first.reply.return_value.create_thread.assert_not_awaited()  # no threads in DMs


async def test_a_message_edited_to_mention_the_bot_is_answered_once(service):
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    before = make_message(GIPFEL)
    after = make_message(f"<@{BOT_USER_ID}> {GIPFEL}", mentions_bot=True)

    await cog.on_message(before)
    await cog.on_message_edit(before, after)

    assert calls == [(GIPFEL, [])]
    before.reply.assert_not_awaited()
    assert "Budapest" in sent_kwargs(after.reply)[0]["embed"].description


async def test_an_edit_that_leaves_the_question_as_it_reads_asks_nothing_again(service):
    """Discord edits a message when it adds a link's preview: the question had been answered twice."""
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    dm = make_channel(discord.DMChannel, channel_id=42)
    before = make_message(f"{GIPFEL} https://example.org/gipfel", channel=dm, in_guild=False)
    after = make_message(f"{GIPFEL} https://example.org/gipfel", channel=dm, in_guild=False)

    await cog.on_message(before)
    await cog.on_message_edit(before, after)

    assert calls == [(GIPFEL, [])]
    after.reply.assert_not_awaited()


async def test_an_edited_question_is_answered_as_it_now_reads_without_its_earlier_wording(service):
    """A typo fixed by an edit was not answered at all; asked anew, its first wording would be its own context."""
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    dm = make_channel(discord.DMChannel, channel_id=42)
    typo = "Wo soll der Gipfl stattfinden?"
    before = make_message(typo, channel=dm, in_guild=False)
    await cog.on_message(before)
    after = make_message(GIPFEL, channel=dm, in_guild=False)
    await cog.on_message_edit(before, after)
    await cog.on_message(make_message("Und wann?", channel=dm, in_guild=False))

    assert calls == [(typo, []), (GIPFEL, []), ("Und wann?", [GIPFEL])]
    assert "Budapest" in sent_kwargs(after.reply)[0]["embed"].description


class StoppedClock:
    """A clock that moves only when told: the cooldown then runs out when the test says, not after however long
    the first answer took on a loaded machine (at 0.5 s of real cooldown, the edit came after it had run out)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def stopped_cooldown(cog: AskCog, seconds: float) -> StoppedClock:
    clock = StoppedClock()
    cog.cooldown = UserCooldown(seconds, clock=clock)
    return clock


async def answered(msg) -> None:
    """Wait (without a timed assertion) until the bot replied to `msg`."""
    for _ in range(200):
        if msg.reply.await_count:
            return
        await asyncio.sleep(0.05)


async def test_an_edit_within_the_cooldown_is_answered_once_it_allows_not_told_to_wait(
    settings, fake_embedder, articles_dir
):
    """A typo seen in the answer's title and fixed at once got "Einen Moment bitte", and the fixed question was
    never answered: an edit replaces the question, so it waits for the turn instead."""
    service = open_service(settings, fake_embedder, articles_dir, refusal_threshold=0.0)
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    clock = stopped_cooldown(cog, 0.5)
    dm = make_channel(discord.DMChannel, channel_id=43)
    typo = "Wo soll der Gipfl stattfinden?"
    before = make_message(typo, channel=dm, in_guild=False)
    await cog.on_message(before)
    after = make_message(GIPFEL, author=before.author, channel=dm, in_guild=False)
    after.id = before.id

    await cog.on_message_edit(before, after)
    await asyncio.sleep(0.6)  # the waiting edit looks at the clock again after the 0.5 s it was told
    assert calls == [(typo, [])]  # not yet: the cooldown still runs
    clock.now += 0.5
    await answered(after)

    assert calls == [(typo, []), (GIPFEL, [])]
    (reply,) = sent_kwargs(after.reply)
    assert "Budapest" in reply["embed"].description


async def test_of_two_edits_within_the_cooldown_only_the_last_wording_is_answered(
    settings, fake_embedder, articles_dir
):
    service = open_service(settings, fake_embedder, articles_dir, refusal_threshold=0.0)
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    clock = stopped_cooldown(cog, 0.5)
    dm = make_channel(discord.DMChannel, channel_id=44)
    first = make_message("Wo soll der Gipfl stattfinden?", channel=dm, in_guild=False)
    await cog.on_message(first)
    second = make_message("Wo soll der Gipfel stattfindn?", author=first.author, channel=dm, in_guild=False)
    third = make_message(GIPFEL, author=first.author, channel=dm, in_guild=False)
    second.id = third.id = first.id

    await cog.on_message_edit(first, second)
    await cog.on_message_edit(second, third)
    assert len(cog.edits_waiting) == 1  # both within the cooldown: the second replaced the first
    clock.now += 0.5
    await answered(third)
    await asyncio.sleep(0.6)  # a second answer, had the first edit not been replaced, would have come by now

    assert [question for question, _ in calls] == ["Wo soll der Gipfl stattfinden?", GIPFEL]
    second.reply.assert_not_awaited()
    assert not cog.edits_waiting


async def test_neu_forgets_the_threads_earlier_questions(service):
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    thread = make_thread(555)
    await cog.frage.callback(cog, make_interaction(channel=thread), frage=GIPFEL)

    fresh = make_interaction(channel=thread)
    await cog.neu.callback(cog, fresh)
    await cog.frage.callback(cog, make_interaction(channel=thread), frage="Und wann?")

    assert calls == [(GIPFEL, []), ("Und wann?", [])]
    kwargs = fresh.response.send_message.await_args
    assert kwargs.args[0] == message("discord_new_conversation")
    assert kwargs.kwargs["ephemeral"] is True  # it forgets only the asker's questions (tests/test_discord_users.py)
    assert_no_mentions(kwargs.kwargs)


async def test_neu_in_a_direct_message_forgets_it_and_elsewhere_explains_itself(service):
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    dm = make_channel(discord.DMChannel, channel_id=42)
    await cog.on_message(make_message(GIPFEL, channel=dm, in_guild=False))
    await cog.neu.callback(cog, make_interaction(channel=dm, in_guild=False))
    await cog.on_message(make_message("Und wann?", channel=dm, in_guild=False))
    assert calls[-1] == ("Und wann?", [])

    plain = make_interaction()  # a text channel: every question stands alone anyway
    await cog.neu.callback(cog, plain)
    call = plain.response.send_message.await_args
    assert call.args[0] == message("discord_new_no_conversation")
    assert call.kwargs["ephemeral"] is True


@pytest.mark.parametrize(
    ("locale", "cooldown"),
    [(discord.Locale.german, "5 Sekunden"), (discord.Locale.british_english, "5 seconds")],
)
async def test_hilfe_names_every_command_privately_as_discord_shows_it_to_the_asker(
    settings, fake_embedder, locale, cooldown
):
    """An English user of a German deployment sees `/ask` in Discord's menu: the help must not send them to `/frage`."""
    from bot.discord.client import NewsBot
    from bot.discord.command_texts import CommandTexts

    service = NewsService.open(settings, fake_embedder)
    bot = NewsBot(service)
    cog = AskCog(bot, service)
    await bot.add_cog(cog)
    await bot.add_cog(ManageCog(service))
    interaction = make_interaction(locale=locale)
    await cog.hilfe.callback(cog, interaction)
    call = interaction.response.send_message.await_args
    assert call.kwargs["ephemeral"] is True
    help_text = call.args[0]
    translator = CommandTexts(settings.language)

    async def shown(command: discord.app_commands.Command | discord.app_commands.Group) -> str:
        name = await translator.translate(command._locale_name, locale, None) or command.name
        return f"{await shown(command.parent)} {name}" if command.parent else name

    for command in bot.tree.walk_commands():
        if not isinstance(command, discord.app_commands.Group) and command.name != "hilfe":
            assert f"/{await shown(command)}" in help_text
    assert cooldown in help_text  # the configured cooldown, in the asker's language


@pytest.mark.parametrize(
    ("content", "mentions_bot", "channel_owner", "author_is_bot"),
    [
        ("Wo ist der Gipfel?", False, None, False),  # a plain channel without mention
        ("Danke dir!", False, BOT_USER_ID, False),  # chat in the bot's thread, no question
        ("Wo ist der Gipfel?", False, 12345, False),  # someone else's thread
        (f"<@{BOT_USER_ID}> Wo ist der Gipfel?", True, None, True),  # another bot
    ],
)
async def test_messages_not_addressed_to_the_bot_are_ignored(
    service, content, mentions_bot, channel_owner, author_is_bot
):
    channel = make_thread(321, owner_id=channel_owner) if channel_owner else make_channel()
    author = make_member(5)
    author.bot = author_is_bot
    msg = make_message(content, author=author, channel=channel, mentions_bot=mentions_bot)
    cog = AskCog(make_bot(), service)
    await cog.on_message(msg)
    msg.reply.assert_not_awaited()


async def test_an_error_while_answering_a_mention_becomes_a_german_reply_and_a_log_line(service, caplog):
    def broken(question: str, history=()) -> Answer:
        raise RuntimeError("chroma exploded at /secret/path")

    service.ask = broken  # type: ignore[method-assign]
    msg = make_message(f"<@{BOT_USER_ID}> {GIPFEL}", mentions_bot=True)
    cog = AskCog(make_bot(), service)
    await cog.on_message(msg)

    (text,) = [call.args[0] for call in msg.reply.await_args_list]
    assert text == message("discord_unexpected_error")
    assert "secret" not in text
    assert "chroma exploded" in caplog.text
    assert_no_mentions(msg.reply.await_args.kwargs)


async def test_a_mention_within_the_cooldown_gets_a_short_lived_notice(settings, fake_embedder, articles_dir):
    service = open_service(settings, fake_embedder, articles_dir, discord_cooldown_seconds=30.0)
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    user = make_member(11)
    await cog.on_message(make_message(f"<@{BOT_USER_ID}> {GIPFEL}", author=user, mentions_bot=True))
    again = make_message(f"<@{BOT_USER_ID}> {GIPFEL}", author=user, mentions_bot=True)
    await cog.on_message(again)

    assert len(calls) == 1
    assert "Einen Moment bitte" in again.reply.await_args.args[0]
    assert again.reply.await_args.kwargs["delete_after"] > 0
    assert_no_mentions(again.reply.await_args.kwargs)


async def test_an_empty_question_costs_no_cooldown_turn(settings, fake_embedder, articles_dir):
    service = open_service(settings, fake_embedder, articles_dir, discord_cooldown_seconds=30.0)
    cog = AskCog(make_bot(), service)
    user = make_member(12)
    with pytest.raises(NewsbotError):
        await cog.frage.callback(cog, make_interaction(user=user), frage=" ")
    retry = make_interaction(user=user)
    await cog.frage.callback(cog, retry, frage=GIPFEL)
    retry.response.defer.assert_awaited_once()


async def test_a_mention_with_only_the_bots_name_is_told_to_ask_and_costs_no_cooldown_turn(
    settings, fake_embedder, articles_dir
):
    """A mention "@newsbot" alone got "Bitte stelle eine Frage", and the question then typed got "Einen
    Moment bitte": the empty one had taken the turn (`/frage` checks before the cooldown)."""
    service = open_service(settings, fake_embedder, articles_dir, discord_cooldown_seconds=30.0)
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    user = make_member(13)
    bare = make_message(f"<@{BOT_USER_ID}>", author=user, mentions_bot=True)
    await cog.on_message(bare)
    assert bare.reply.await_args.args[0] == message("empty_question")
    assert calls == []
    question = make_message(f"<@{BOT_USER_ID}> {GIPFEL}", author=user, mentions_bot=True)
    await cog.on_message(question)
    assert calls == [(GIPFEL, [])]


async def test_a_mention_with_only_an_attachment_is_told_that_files_are_not_read(settings, fake_embedder, articles_dir):
    """A file sent with a mention got "Bitte stelle eine Frage – der Text ist leer.", as if nothing had been sent."""
    service = open_service(settings, fake_embedder, articles_dir, discord_cooldown_seconds=30.0)
    calls = spy_on_ask(service)
    cog = AskCog(make_bot(), service)
    user = make_member(14)
    upload = make_message(f"<@{BOT_USER_ID}>", author=user, mentions_bot=True)
    upload.attachments = [MagicMock(spec=discord.Attachment, filename="artikel.txt")]

    await cog.on_message(upload)

    assert upload.reply.await_args.args[0] == message("discord_attachment_only")
    assert_no_mentions(upload.reply.await_args.kwargs)
    question = make_message(f"<@{BOT_USER_ID}> {GIPFEL}", author=user, mentions_bot=True)
    question.attachments = upload.attachments  # with a question, the file is beside the point
    await cog.on_message(question)
    assert calls == [(GIPFEL, [])]  # the upload cost no cooldown turn


def test_strip_mentions_removes_both_mention_forms():
    assert strip_mentions(f"<@{BOT_USER_ID}> Wo? <@!{BOT_USER_ID}>") == "Wo?"


def test_strip_mentions_removes_other_people_roles_channels_and_everyone():
    text = f"<@{BOT_USER_ID}> @everyone <@42> <@&7> Wo soll der Gipfel <#9> stattfinden? @here"
    assert strip_mentions(text) == "Wo soll der Gipfel stattfinden?"
    assert strip_mentions("Wer schrieb an max@everyone.at?") == "Wer schrieb an max@everyone.at?"


def test_threads_and_dms_are_conversations_plain_channels_are_not():
    assert conversation_id(make_thread(5)) == 5
    assert conversation_id(make_channel(discord.DMChannel, 6)) == 6
    assert conversation_id(make_channel(discord.TextChannel, 7)) is None
