"""A question file is checked whole before any question is asked: a bad line is one German line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.evaluate import check_details_path, load_questions
from index.errors import NewsbotError

GOOD = '{"id": "q1", "question": "Wo soll der Gipfel stattfinden?", "answers": ["Budapest"], "article": "a.txt"}'


def write(tmp_path: Path, content: bytes | str) -> Path:
    path = tmp_path / "fragen.jsonl"
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ("[1, 2]", "kein JSON-Objekt"),
        ('"Wo ist der Gipfel?"', "kein JSON-Objekt"),
        ("42", "kein JSON-Objekt"),
        ("null", "kein JSON-Objekt"),
        ('{"question": "Wo?", "answers": ["Budapest"], "article": 5}', "„article“"),
        ('{"question": "Wo?", "answers": "Budapest"}', "„answers“ muss eine Liste"),
        ('{"question": "Wo?", "answers": [1, 2]}', "„answers“ muss eine Liste"),
        ('{"answers": ["Budapest"]}', "„question“"),
        ('{"question": 7, "answers": ["Budapest"]}', "„question“"),
        ('{"question": "   ", "answers": ["Budapest"]}', "„question“"),
        ('{"question": "Wo?", "answers": [], "unanswerable": "ja"}', "„unanswerable“"),
        ('{"question": "Wo?", "id": [1]}', "„id“"),
        ('{"question": "Wo?"', "kein gültiges JSON"),
    ],
)
def test_a_bad_line_names_its_number_and_what_is_wrong(tmp_path: Path, bad_line: str, reason: str):
    path = write(tmp_path, f"{GOOD}\n\n{bad_line}\n{GOOD}\n")
    with pytest.raises(NewsbotError) as caught:
        load_questions(path)
    assert "Zeile 3" in caught.value.message
    assert reason in caught.value.message
    assert "\n" not in caught.value.message


def test_invalid_utf8_names_its_line(tmp_path: Path):
    path = write(tmp_path, f"{GOOD}\n{GOOD}\n".encode() + b'{"question": "Wo \xff?", "answers": []}\n')
    with pytest.raises(NewsbotError) as caught:
        load_questions(path)
    assert "Zeile 3" in caught.value.message
    assert "UTF-8" in caught.value.message


def test_a_file_without_questions_is_a_user_error(tmp_path: Path):
    with pytest.raises(NewsbotError, match="keine Fragen"):
        load_questions(write(tmp_path, "\n  \n"))


def test_good_lines_load_with_their_fields(tmp_path: Path):
    path = write(
        tmp_path,
        f'\ufeff{GOOD}\n{{"question": "Inflation in Japan?", "answers": [], "article": null, "unanswerable": true,'
        ' "context": "egal"}\n{"id": 3, "question": "Wer?", "answers": null}\n',
    )
    first, second, third = load_questions(path)
    assert (first.id, first.answers, first.article, first.unanswerable) == ("q1", ["Budapest"], "a.txt", False)
    assert (second.unanswerable, second.article) == (True, None)
    assert (third.id, third.unanswerable) == ("3", True)


def test_details_into_a_missing_folder_fails_before_anything_runs(tmp_path: Path):
    with pytest.raises(NewsbotError, match="Ordner"):
        check_details_path(tmp_path / "fehlt" / "details.jsonl")
    with pytest.raises(NewsbotError, match="nicht schreibbar"):
        check_details_path(tmp_path)  # a folder, not a file
    check_details_path(tmp_path / "details.jsonl")


def test_cli_eval_checks_the_details_path_before_opening_the_index(tmp_path: Path, settings):
    questions = write(tmp_path, GOOD + "\n")
    details = tmp_path / "fehlt" / "d.jsonl"
    result = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path / "data"), "eval", str(questions), "--details", str(details)]
    )
    assert result.exit_code == 2
    assert "Ordner für die Detaildatei nicht gefunden" in result.output
    assert not (tmp_path / "data").exists()  # nothing was opened, no model loaded
