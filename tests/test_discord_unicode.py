"""What managers type in Discord, in the other Unicode form: macOS sends "ü" as "u" and a combining mark (NFD)."""

from __future__ import annotations

import unicodedata
from unittest.mock import MagicMock

from bot.discord.manage import article_choices, find_article
from bot.service import NewsService
from index.catalog import ArticleRecord

TITLE = "Zürcher Seebad schließt wegen Blaualgen"


def records() -> list[ArticleRecord]:
    return [
        ArticleRecord("/a/seebad.txt", "/a/seebad.txt", TITLE, None, None, "2025-11-20", "v", 1, 1),
        ArticleRecord("/a/wien.txt", "/a/wien.txt", "Hitzewelle in Wien", None, None, "2025-11-20", "v", 1, 1),
    ]


def test_a_title_typed_in_decomposed_form_finds_its_article(settings):
    stub = MagicMock(spec=NewsService)
    stub.settings = settings
    stub.articles.return_value = records()
    typed = unicodedata.normalize("NFD", "zürcher seebad")
    assert find_article(stub, unicodedata.normalize("NFD", TITLE)).article_id == "/a/seebad.txt"
    assert find_article(stub, typed).article_id == "/a/seebad.txt"  # the start of a title, as a cut one
    assert [c.value for c in article_choices(records(), typed)] == ["/a/seebad.txt"]
