"""Every user-facing text renders, strictly: a template that needs a value nobody passes fails here."""

from __future__ import annotations

import pytest
from jinja2 import Environment, meta
from jinja2.exceptions import UndefinedError

from index.texts import message, message_keys


@pytest.mark.parametrize("key", message_keys("de"))
def test_every_message_renders_with_its_placeholders(key):
    from index.texts import _messages

    source = _messages("de")[key]
    names = meta.find_undeclared_variables(Environment().parse(source))
    rendered = message(key, **{name: f"<{name}>" for name in names})
    assert rendered.strip()
    assert all(f"<{name}>" in rendered for name in names)


def test_a_missing_placeholder_fails_instead_of_printing_blanks():
    with pytest.raises(UndefinedError):
        message("path_missing")


def test_refusal_text_is_the_documented_one():
    assert message("refusal") == "Dazu habe ich in den Artikeln nichts gefunden."
