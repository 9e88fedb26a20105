"""The per-user cooldown and the conversation memory, with an injected clock instead of waiting."""

from __future__ import annotations

from bot.discord.conversations import Conversations
from bot.discord.guards import UserCooldown


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_cooldown_lets_a_user_ask_again_only_after_the_configured_seconds():
    clock = Clock()
    cooldown = UserCooldown(5.0, clock)
    assert cooldown.retry_after(1) == 0.0
    clock.now += 2
    assert cooldown.retry_after(1) == 3.0
    assert cooldown.retry_after(2) == 0.0  # per user
    clock.now += 3
    assert cooldown.retry_after(1) == 0.0


def test_a_refused_attempt_does_not_extend_the_wait():
    clock = Clock()
    cooldown = UserCooldown(5.0, clock)
    cooldown.retry_after(1)
    clock.now += 4
    cooldown.retry_after(1)
    clock.now += 1
    assert cooldown.retry_after(1) == 0.0


def test_a_cooldown_of_zero_never_refuses():
    cooldown = UserCooldown(0.0, Clock())
    assert [cooldown.retry_after(1) for _ in range(3)] == [0.0, 0.0, 0.0]


def test_whole_seconds_rounds_up_so_the_user_never_comes_back_too_early():
    assert UserCooldown.whole_seconds(0.2) == 1
    assert UserCooldown.whole_seconds(4.01) == 5


def test_conversations_keep_the_last_questions_oldest_first():
    memory = Conversations(max_questions=2, clock=Clock())
    for question in ("a?", "b?", "c?"):
        memory.remember(7, question)
    assert memory.history(7) == ["b?", "c?"]
    assert memory.history(8) == []


def test_an_idle_conversation_starts_afresh():
    clock = Clock()
    memory = Conversations(idle_seconds=60, clock=clock)
    memory.remember(7, "Wo?")
    clock.now += 61
    assert memory.history(7) == []


def test_the_least_recently_used_conversation_is_forgotten_first():
    memory = Conversations(max_conversations=2, clock=Clock())
    memory.remember(1, "eins?")
    memory.remember(2, "zwei?")
    memory.remember(1, "noch eins?")
    memory.remember(3, "drei?")
    assert memory.history(2) == []
    assert memory.history(1) == ["eins?", "noch eins?"]


def test_the_remaining_wait_can_be_read_without_taking_a_turn():
    clock = Clock()
    cooldown = UserCooldown(5.0, clock)
    assert cooldown.remaining(1) == 0.0
    assert cooldown.remaining(1) == 0.0  # reading took no turn
    assert cooldown.retry_after(1) == 0.0
    clock.now += 2
    assert cooldown.remaining(1) == 3.0
    clock.now += 4
    assert cooldown.remaining(1) == 0.0
