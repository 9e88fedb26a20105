"""The markup a question may carry as Discord renders it (mentions, emphasis, code, quotes, links, custom emoji), and
the question as a reader sees it without it. Every face asks through it (`bot.service.normalised_text`): a question
copied from Discord, a chat or a Markdown note into `newsbot chat` or `ask` carries the same markup.
"""

from __future__ import annotations

import re

# Discord's mention markup: users (<@1>, <@!1>), roles (<@&1>), channels (<#1>), and @everyone or @here, also
# several run together ("@here@here": one at a time, the plain question's passes took 19 s for 21,000 characters)
# or right after markup ("*@here*"), but not within a word or an address ("max@everyone.at").
MENTION = re.compile(r"<(?:@[!&]?|#)\d+>|(?<![\w.+-])(?:@(?:everyone|here)\b)+")


def strip_mentions(text: str) -> str:
    """The question without its mentions: they say whom it addresses, not what it asks, and as words of
    the question they would be searched for ("@everyone Wo ist der Gipfel?" was refused)."""
    return " ".join(MENTION.sub(" ", text).split())


# Markup Discord shows as something else than its characters: custom emoji (<:name:id>, animated <a:name:id>),
# timestamps (<t:1700000000:R>) and command mentions (</frage:id>) show as a picture, a date, a command.
CUSTOM_MARKUP = re.compile(r"<a?:\w+:\d+>|<t:-?\d+(?::[tTdDfFR])?>|</[\w -]+:\d+>")
# [label](target): the reader sees the label. Links, masked or bare (or in <…>), are where, not what, it asks.
LINK_TARGET = re.compile(r"\(\s*<?[^()\s]*>?\s*\)")
LINK = re.compile(r"<?\b[a-z][a-z0-9+.-]*://[^\s>]+>?", re.IGNORECASE)
# Emphasis, strike-through, spoilers and code marked on both sides; single _ only around whole words
# (snake_case stays), single * not between digits (5*3 stays). A single * or _ closes at the next * or _ or not
# at all: a span that ran on past one that cannot close ("*a *b *c …") tried every later one from every opening
# one, 11 s for 21,000 characters.
MARKERS = re.compile(
    r"(\*\*\*|\*\*|___|__|~~|\|\||`{1,3})(.+?)\1|(?<![\w*])\*(?!\s)([^*]+?)(?<!\s)\*(?![\w*])|(?<!\w)_([^_]+?)_(?!\w)",
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


def without_masked_links(text: str) -> str:
    """`text` with each `[label](target)` as its label, links within labels too ("[[a](x)](y)" reads "a"), in one
    pass: a regular expression took the innermost one a pass, and 3,000 of them in each other 8 s."""
    kept: list[str] = []
    opened: list[int] = []  # where in `kept` each "[" not closed yet stands
    at = 0
    while at < len(text):
        char = text[at]
        if char == "[":
            opened.append(len(kept))
        elif char == "]" and opened:
            start = opened.pop()
            target = LINK_TARGET.match(text, at + 1)
            if target is not None:
                kept[start] = ""  # the label stays, without its brackets and target
                at = target.end()
                continue
        kept.append(char)
        at += 1
    return "".join(kept)


# What a mention or custom emoji leaves while the markers around it are read: content, as Discord shows it ("*@here*"
# is an italic mention), not a space (a single * does not close after one) and no word (a * does not open after
# one). A space stood there, so "*@here*@here…" lost one pair of stars a pass: quadratic, 1.2 s at 5,000 characters.
_SHOWN_AS_OTHER = "\ufffc"


def _unmarked(text: str) -> str:
    text = CUSTOM_MARKUP.sub(_SHOWN_AS_OTHER, MENTION.sub(_SHOWN_AS_OTHER, text))  # line ends stay for LINE_MARK
    text = LINK.sub(" ", without_masked_links(text))
    text = FENCE.sub(lambda m: m.group(1), LINE_MARK.sub("", text))
    for _ in range(3):  # markers inside markers: ***, ||**x**||
        unmarked = MARKERS.sub(lambda m: m.group(2) or m.group(3) or m.group(4) or "", text)
        if unmarked == text:
            break
        text = unmarked
    return " ".join(text.replace(_SHOWN_AS_OTHER, " ").split())
