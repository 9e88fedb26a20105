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
