"""`status`, `index list` and `doctor` on a data folder whose catalog SQLite cannot open (a read-only folder,
where WAL mode cannot create its files): the line `newsbot ask` gives, not a traceback or 'Unerwarteter Fehler'."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.catalog import Catalog
from index.texts import message
from tests.test_operations import run_newsbot


@pytest.fixture
def unopenable(tmp_path: Path) -> Path:
    """A data folder with a catalog SQLite cannot open for writing. chmod would do it for a user, but not for
    root (who runs CI here): a folder where SQLite's write-ahead log should be has the same effect."""
    data = tmp_path / "data"
    Catalog(data / "catalog.sqlite3").close()
    for leftover in data.glob("catalog.sqlite3-*"):
        leftover.unlink()
    (data / "catalog.sqlite3-wal").mkdir()
    return data


@pytest.mark.parametrize("command", [["status"], ["index", "list"]])
def test_reading_an_unopenable_catalog_is_one_line_and_exit_2(unopenable: Path, command: list[str]):
    result = run_newsbot("--data-dir", str(unopenable), *command)
    expected = message("data_dir_unusable", path=str(unopenable), reason="unable to open database file")
    assert (result.returncode, result.stderr.decode().strip()) == (2, expected)


def test_doctor_names_an_unopenable_catalog_among_its_checks(unopenable: Path):
    result = run_newsbot("--data-dir", str(unopenable), "doctor")
    expected = message("data_dir_unusable", path=str(unopenable), reason="unable to open database file")
    assert result.returncode == 2
    assert f"✗ {expected}" in result.stderr.decode().splitlines()
    assert "Traceback" not in result.stderr.decode()
    assert "✓ " + message("doctor_settings_ok") in result.stdout.decode()  # the other checks still ran
