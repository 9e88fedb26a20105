"""Generated answers stream into one Discord message: sent at the first words, edited as more arrive, and
finally replaced by the answer's embed (which may be the extractive fallback with its note).

Edits come at most once per `EDIT_INTERVAL_SECONDS`: Discord rate-limits message edits, and a reader
gains nothing from more frequent updates.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import discord

from bot.discord.errors import NO_MENTIONS
from bot.discord.formatting import MESSAGE_LIMIT, answer_embed, escape, truncate
from bot.result import Answer

log = logging.getLogger(__name__)

EDIT_INTERVAL_SECONDS = 1.0
# Marks a message that is still being written; the final embed replaces it.
WRITING_MARK = " …"

Send = Callable[..., Awaitable[Any]]
T = TypeVar("T")


async def iterate_in_thread(items: Iterator[T]) -> AsyncIterator[T]:
    """Run a blocking generator in a worker thread and hand its items to the event loop as they come.

    The service's stream blocks on retrieval and on the LLM; the gateway heartbeat must not. An error of
    the generator (e.g. an invalid question) is raised here, in the face's error handling.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue()

    def pump() -> None:
        try:
            for item in items:
                loop.call_soon_threadsafe(queue.put_nowait, (False, item))
        except BaseException as error:
            loop.call_soon_threadsafe(queue.put_nowait, (True, error))
        else:
            loop.call_soon_threadsafe(queue.put_nowait, (True, None))

    worker = loop.run_in_executor(None, pump)
    while True:
        finished, value = await queue.get()
        if finished:
            await worker
            if value is not None:
                raise value
            return
        yield value


def preview(text: str) -> str:
    """The text written so far, as message content within Discord's limit, marked as unfinished."""
    return truncate(escape(text.strip()), MESSAGE_LIMIT - len(WRITING_MARK)) + WRITING_MARK


async def stream_answer(
    send: Send,
    items: AsyncIterator[str | Answer],
    language: str = "de",
    *,
    interval: float = EDIT_INTERVAL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[discord.Message, Answer]:
    """Show text deltas in one message as they arrive, then replace it with the final Answer's embed.

    Without any delta (extractive mode, or a fallback before the first word) the embed is simply sent.
    """
    written = ""
    reply: discord.Message | None = None
    last_update = 0.0
    final: Answer | None = None
    async for item in items:
        if isinstance(item, Answer):
            final = item  # the last item: the loop ends with the stream, so its worker is awaited
            continue
        written += item
        if not written.strip():
            continue
        if reply is None:
            reply = await send(content=preview(written), allowed_mentions=NO_MENTIONS)
            last_update = clock()
        elif clock() - last_update >= interval:
            try:  # a preview: Discord refusing one edit (429 after discord.py's retries, 5xx) costs that edit only
                await reply.edit(content=preview(written), allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as error:
                log.warning("Discord refused an edit of the answer being written: %s", error)
            last_update = clock()
    if final is None:
        raise RuntimeError("the answer stream ended without an Answer")
    embed = answer_embed(final, language)
    if reply is None:
        return await send(embed=embed, allowed_mentions=NO_MENTIONS), final
    try:
        await reply.edit(content=None, embed=embed, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as error:  # the message was deleted meanwhile, or Discord failed: the answer anew
        log.warning("could not put the answer into its message, sending it anew: %s", error)
        reply = await send(embed=embed, allowed_mentions=NO_MENTIONS)
    return reply, final
