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
