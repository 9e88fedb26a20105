"""The markup a question may carry as Discord renders it (mentions, emphasis, code, quotes, links, custom emoji), and
the question as a reader sees it without it. Every face asks through it (`bot.service.normalised_text`): a question
copied from Discord, a chat or a Markdown note into `newsbot chat` or `ask` carries the same markup.
"""

from __future__ import annotations

import re

# Discord's mention markup: users (<@1>, <@!1>), roles (<@&1>), channels (<#1>), and @everyone or @here.
MENTION = re.compile(r"<(?:@[!&]?|#)\d+>|(?<!\S)@(?:everyone|here)\b")


def strip_mentions(text: str) -> str:
    """The question without its mentions: they say whom it addresses, not what it asks, and as words of
    the question they would be searched for ("@everyone Wo ist der Gipfel?" was refused)."""
    return " ".join(MENTION.sub(" ", text).split())


# Markup Discord shows as something else than its characters: custom emoji (<:name:id>, animated <a:name:id>),
# timestamps (<t:1700000000:R>) and command mentions (</frage:id>) show as a picture, a date, a command.
CUSTOM_MARKUP = re.compile(r"<a?:\w+:\d+>|<t:-?\d+(?::[tTdDfFR])?>|</[\w -]+:\d+>")
# [label](target): the reader sees the label. Links, masked or bare (or in <…>), are where, not what, it asks.
MASKED_LINK = re.compile(r"\[([^\[\]]*)\]\(\s*<?[^()\s]*>?\s*\)")
LINK = re.compile(r"<?\b[a-z][a-z0-9+.-]*://[^\s>]+>?", re.IGNORECASE)
# Emphasis, strike-through, spoilers and code marked on both sides; single _ only around whole words
# (snake_case stays), single * not between digits (5*3 stays).
MARKERS = re.compile(
    r"(\*\*\*|\*\*|___|__|~~|\|\||`{1,3})(.+?)\1|(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])|(?<!\w)_(.+?)_(?!\w)",
    re.DOTALL,
)
# A code block, with the language its first line may name.
FENCE = re.compile(r"```(?:[\w+-]*\n)?(.*?)```", re.DOTALL)
# A quote, heading or small print at the start of a line (a quote pasted into a quote: "> > ").
LINE_MARK = re.compile(r"^[ \t]*(?:(?:>>> |> |#{1,3} |-# )[ \t]*)+", re.MULTILINE)


def plain_question(text: str) -> str:
    """The question as Discord shows it, without the markup it renders: `**Wo**` is searched as "Wo".

    As words, the markup moved the search: a custom emoji took "Wo soll der Gipfel stattfinden?" from
    0.98 to 0.63, a link to 0.57, and "[Gipfel](https://…)" was refused. Markup that appears once other markup
    is gone ("**#** x", "> > x") goes too, so that the plain question read again stays as it is; every pass that
    changes it makes it shorter.
    """
    plain = _unmarked(text)
    while (again := _unmarked(plain)) != plain:
        plain = again
    return plain


def _unmarked(text: str) -> str:
    text = CUSTOM_MARKUP.sub(" ", MENTION.sub(" ", text))  # line ends stay for LINE_MARK
    text = LINK.sub(" ", MASKED_LINK.sub(lambda m: m.group(1), text))
    text = FENCE.sub(lambda m: m.group(1), LINE_MARK.sub("", text))
    for _ in range(3):  # markers inside markers: ***, ||**x**||
        unmarked = MARKERS.sub(lambda m: m.group(2) or m.group(3) or m.group(4) or "", text)
        if unmarked == text:
            break
        text = unmarked
    return " ".join(text.split())
