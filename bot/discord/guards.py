"""Who may do what, and how often: the manager check and the per-user question cooldown.

Both are checked when a command runs; hiding commands from non-managers in Discord's menu is only
a convenience, since server admins can change that visibility.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import discord
from discord import app_commands

# Forget users whose cooldown ran out once this many are remembered, so the table cannot grow forever.
_PRUNE_AT = 10_000


class NotManager(app_commands.CheckFailure):
    """A management command from someone who may not manage; carries the German refusal to show."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.message = text


def is_manager(interaction: discord.Interaction, manager_role: str | None) -> bool:
    """Manage Server permission, or the configured role (by name or id); never in DMs, where no server is."""
    if interaction.guild is None or not isinstance(interaction.user, discord.Member):
        return False
    if interaction.permissions.manage_guild:
        return True
    if not manager_role:
        return False
    return any(role.name == manager_role or str(role.id) == manager_role for role in interaction.user.roles)


class UserCooldown:
    """At most one question per user every `seconds`, for slash commands and mentions alike."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._last: dict[int, float] = {}

    def remaining(self, user_id: int) -> float:
        """The seconds until the user may ask again, 0 when now; takes no turn."""
        last = self._last.get(user_id)
        return 0.0 if last is None else max(0.0, self.seconds - (self._clock() - last))

    def retry_after(self, user_id: int) -> float:
        """0 when the user may ask now (and the turn is taken), else the seconds until they may."""
        now = self._clock()
        last = self._last.get(user_id)
        if last is not None and now - last < self.seconds:
            return self.seconds - (now - last)
        if len(self._last) >= _PRUNE_AT:
            self._last = {user: t for user, t in self._last.items() if now - t < self.seconds}
        self._last[user_id] = now
        return 0.0

    @staticmethod
    def whole_seconds(wait: float) -> int:
        return max(1, math.ceil(wait))
