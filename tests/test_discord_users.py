"""Several people asking in one thread: each one's follow-ups are read against their own earlier questions."""

from __future__ import annotations

from bot.discord.ask import AskCog
from bot.service import NewsService
from tests.test_discord_ask import GIPFEL, spy_on_ask
from tests.test_discord_mocks import make_bot, make_interaction, make_member, make_message, make_thread

HEAT = "Wie viele Grad wurden in Wien gemessen?"


def asking_cog(settings, fake_embedder, articles_dir) -> tuple[AskCog, list]:
    """The cog over the test articles without a cooldown, and the (question, history) of every ask."""
    service = NewsService.open(settings.model_copy(update={"discord_cooldown_seconds": 0.0}), fake_embedder)
    service.index_paths([articles_dir])
    return AskCog(make_bot(), service), spy_on_ask(service)


async def test_one_users_questions_in_a_thread_do_not_steer_anothers(settings, fake_embedder, articles_dir):
    cog, calls = asking_cog(settings, fake_embedder, articles_dir)
    anna, ben = make_member(1), make_member(2)
    await cog.frage.callback(cog, make_interaction(user=anna, thread_id=555), frage=GIPFEL)

    await cog.on_message(make_message(HEAT, author=ben, channel=make_thread(555)))
    await cog.on_message(make_message("Und wann?", author=anna, channel=make_thread(555)))
    await cog.on_message(make_message("Und wann?", author=ben, channel=make_thread(555)))

    assert calls[1] == (HEAT, [])  # Ben's first question in Anna's thread stands alone
    assert calls[2] == ("Und wann?", [GIPFEL])  # Anna's follow-up: her summit, not Ben's heat
    assert calls[3] == ("Und wann?", [HEAT])


async def test_neu_forgets_only_the_askers_own_questions(settings, fake_embedder, articles_dir):
    cog, calls = asking_cog(settings, fake_embedder, articles_dir)
    anna, ben = make_member(1), make_member(2)
    thread = make_thread(555)
    await cog.on_message(make_message(GIPFEL, author=anna, channel=thread))
    await cog.on_message(make_message(HEAT, author=ben, channel=thread))

    await cog.neu.callback(cog, make_interaction(user=ben, channel=thread))
    await cog.on_message(make_message("Und wann?", author=anna, channel=thread))
    await cog.on_message(make_message("Und wann?", author=ben, channel=thread))

    assert calls[-2] == ("Und wann?", [GIPFEL])
    assert calls[-1] == ("Und wann?", [])
