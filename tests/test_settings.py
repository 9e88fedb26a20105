"""`.env.example` documents every setting, and reading it gives the defaults."""

from __future__ import annotations

import re

from index.settings import Settings
from tests.conftest import REPO


def env_name(name: str) -> str:
    field = Settings.model_fields[name]
    return str(field.validation_alias) if field.validation_alias else f"NEWSBOT_{name.upper()}"


def test_env_example_lists_every_setting():
    documented = set(re.findall(r"^([A-Z_]+)=", (REPO / ".env.example").read_text(encoding="utf-8"), re.M))
    assert documented == {env_name(name) for name in Settings.model_fields}


def test_env_example_reads_as_the_defaults(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    from_example = Settings(_env_file=REPO / ".env.example")  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert from_example.model_dump() == defaults.model_dump()


def test_a_env_file_that_is_not_utf8_is_one_line(monkeypatch, tmp_path):
    """A .env saved by an editor in Latin-1 ("Räte") stopped every command with "Unerwarteter Fehler
    (UnicodeDecodeError)" and exit code 1."""
    import pytest

    from index.errors import NewsbotError
    from index.settings import load_settings
    from index.texts import message

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_bytes("NEWSBOT_DISCORD_MANAGER_ROLE=Räte\n".encode("latin-1"))
    with pytest.raises(NewsbotError) as raised:
        load_settings()
    assert raised.value.message == message("env_not_utf8", path=".env")


def test_a_refusal_threshold_outside_0_to_1_is_a_bad_setting():
    """It is a probability: 1.5 refused every question, -1 answered every one, and nothing said why."""
    import pytest

    from index.errors import NewsbotError
    from index.settings import load_settings

    for value, expected in ((1.5, "höchstens 1"), (-0.1, "mindestens 0")):
        with pytest.raises(NewsbotError, match=re.escape(f"NEWSBOT_REFUSAL_THRESHOLD={value} (erwartet {expected}")):
            load_settings(_env_file=None, refusal_threshold=value)
    assert load_settings(_env_file=None, refusal_threshold=1).refusal_threshold == 1


BAD_VALUES = [
    ("embed_batch_size", 0, "mindestens 1"),
    ("chunk_size", 0, "mindestens"),
    ("chunk_size", -5, "mindestens"),
    ("chunk_overlap", -1, "mindestens 0"),
    ("chunk_overlap", 5000, "weniger als 1000"),
    ("top_k", 0, "mindestens 1"),
    ("candidates", 0, "mindestens 1"),
    ("source_margin", -1, "mindestens 0"),
    ("max_question_chars", 0, "mindestens 1"),
    ("max_answer_chars", 0, "mindestens 1"),
    ("llm_timeout_seconds", 0, "mehr als 0"),
    ("llm_temperature", -3, "mindestens 0"),
    ("discord_cooldown_seconds", -1, "mindestens 0"),
    ("discord_cooldown_seconds", "nan", "mindestens 0"),
    ("feed_interval_minutes", 0, "mehr als 0"),
    ("feed_interval_minutes", -1, "mehr als 0"),
    ("chroma_url", "notaurl", "http"),
    ("chroma_url", "ftp://x", "http"),
    ("feeds", "notaurl", "http"),
    ("collection", "a b", "Buchstaben"),
]


def test_every_bad_value_is_one_line_naming_the_setting_before_anything_runs():
    """These were taken as they came: a chunk size of 0 or an overlap above it stopped `index add` with
    "Unerwarteter Fehler (ValueError)", a collection name with a space with InvalidArgumentError, 0 candidates
    refused every question, a feed interval of 0 polled without pause, a cooldown of nan or a Chroma URL
    without http:// were found out (or not) only when used."""
    import pytest

    from index.errors import NewsbotError
    from index.settings import load_settings

    for name, value, expected in BAD_VALUES:
        with pytest.raises(NewsbotError) as raised:
            load_settings(_env_file=None, **{name: value})
        text = raised.value.message
        assert f"{env_name(name)}={value} (" in text, (name, value, text)
        assert expected in text.split(f"{env_name(name)}=", 1)[1], (name, value, text)
        assert "\n" not in text


def test_the_bounds_leave_the_values_people_use():
    from index.settings import load_settings

    settings = load_settings(
        _env_file=None,
        chunk_size=400,
        chunk_overlap=0,
        discord_cooldown_seconds=0,
        feed_interval_minutes=0.05,
        chroma_url="https://chroma.example:8443",
        feeds="https://a.example/rss, http://b.example/feed.xml",
        collection="news_2026.v2",
        source_margin=0,
        llm_temperature=0,
    )
    assert settings.feeds == ["https://a.example/rss", "http://b.example/feed.xml"]


def test_a_bad_value_is_named_in_the_configured_language(monkeypatch, tmp_path):
    """With NEWSBOT_LANGUAGE=en in .env, a bad NEWSBOT_TOP_K beside it was still reported in German."""
    import pytest

    from index.errors import NewsbotError
    from index.settings import load_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSBOT_LANGUAGE", raising=False)
    (tmp_path / ".env").write_text("NEWSBOT_LANGUAGE=en\nNEWSBOT_TOP_K=abc\n", encoding="utf-8")
    with pytest.raises(NewsbotError) as raised:
        load_settings()
    assert raised.value.message == "Invalid setting: NEWSBOT_TOP_K=abc (expected a whole number)"

    (tmp_path / ".env").write_text("NEWSBOT_LANGUAGE=fr\nNEWSBOT_TOP_K=abc\n", encoding="utf-8")
    with pytest.raises(NewsbotError) as raised:  # a language without texts: both named, in German
        load_settings()
    assert raised.value.message.startswith("Ungültige Einstellung: NEWSBOT_TOP_K=abc (erwartet eine ganze Zahl)")
    assert "NEWSBOT_LANGUAGE=fr (erlaubt: de, en)" in raised.value.message
