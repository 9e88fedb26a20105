"""Earlier questions per user in each thread or direct-message channel, so a follow-up like "Und wann?" keeps
its topic.

Kept in memory: after a restart a thread starts afresh, which costs one rephrased question and
saves reading the thread's history from Discord for every follow-up.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable


class Conversations:
    """The last few questions of each conversation; idle or surplus conversations are forgotten."""

    def __init__(
        self,
        max_conversations: int = 1000,
        max_questions: int = 5,
        idle_seconds: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_conversations = max_conversations
        self.max_questions = max_questions
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._questions: OrderedDict[Hashable, tuple[float, deque[str]]] = OrderedDict()

    def history(self, conversation_id: Hashable) -> list[str]:
        """Earlier questions, oldest first; empty when the conversation is unknown or went idle."""
        entry = self._questions.get(conversation_id)
        if entry is None:
            return []
        last_seen, questions = entry
        if self._clock() - last_seen > self.idle_seconds:
            del self._questions[conversation_id]
            return []
        return list(questions)

    def remember(self, conversation_id: Hashable, question: str, afresh: bool = False) -> None:
        """Add `question`; `afresh` (it was answered as if asked alone) lets it start the conversation anew."""
        _, questions = self._questions.pop(conversation_id, (0.0, deque(maxlen=self.max_questions)))
        if afresh:
            questions.clear()
        questions.append(question)
        self._questions[conversation_id] = (self._clock(), questions)
        while len(self._questions) > self.max_conversations:
            self._questions.popitem(last=False)

    def withdraw(self, conversation_id: Hashable, question: str) -> None:
        """Take back `question`, the latest time it was asked: its asker edited it, and the edit is asked anew."""
        entry = self._questions.get(conversation_id)
        if entry is None or question not in entry[1]:
            return
        questions = list(entry[1])
        del questions[len(questions) - 1 - questions[::-1].index(question)]
        entry[1].clear()
        entry[1].extend(questions)

    def forget(self, conversation_id: Hashable) -> bool:
        """Start the conversation afresh (`/neu`); False when there was nothing to forget."""
        return self._questions.pop(conversation_id, None) is not None
