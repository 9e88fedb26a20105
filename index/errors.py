"""One exception type for everything a user can cause; it carries a ready-to-show message."""

from __future__ import annotations


class NewsbotError(Exception):
    """An error with a short, user-facing message (German by default); faces show it, logs keep detail."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
