"""Bounded retention: how old an article is (its published date, else when it was indexed), and the
operator's `--older-than 365d` / `NEWSBOT_RETENTION_DAYS` limits that `NewsIndex.prune` applies."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

from index.errors import NewsbotError
from index.texts import message

log = logging.getLogger(__name__)

# Days or weeks, up to six digits: larger counts reach before the year 1 and mean "keep everything" anyway.
_AGE = re.compile(r"(\d{1,6})([dw])")


def parse_age(text: str, language: str = "de") -> timedelta:
    """`365d` or `52w` as a timedelta; no unit, another unit, zero or a sign is a user error."""
    match = _AGE.fullmatch(text.strip().lower())
    if not match or int(match[1]) == 0:
        raise NewsbotError(message("bad_older_than", language, value=text))
    return timedelta(days=int(match[1]) * (7 if match[2] == "w" else 1))


def as_time(text: str | None) -> datetime | None:
    """An ISO date or time from the catalog or a feed; one without a zone is taken as UTC, junk as None."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        log.debug("not an ISO date: %r", text)
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def article_time(published: str | None, indexed_at: str) -> datetime:
    """When the article appeared: its published date, or when it was indexed where it has none we can read."""
    return as_time(published) or as_time(indexed_at) or datetime.now(UTC)


def retention_cutoff(days: int | None, now: datetime | None = None) -> datetime | None:
    """The oldest time an article may have under a retention of `days`; None keeps everything."""
    return None if days is None else (now or datetime.now(UTC)) - timedelta(days=days)
