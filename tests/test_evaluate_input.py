"""A question file is checked whole before any question is asked: a bad line is one German line, exit 2."""

from __future__ import annotations

import json
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
        # a misspelt "answers" made the question unanswerable: its right answer scored as a missed refusal
        ('{"question": "Wo?", "answer": ["Budapest"]}', "„answers“ fehlt"),
        ('{"question": "Wo?", "article": "a.txt"}', "„answers“ fehlt"),
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


def test_details_into_the_question_file_itself_fails_before_anything_runs(tmp_path: Path, monkeypatch):
    """`eval fragen.jsonl --details fragen.jsonl` (or by another path to it) replaced the questions with the rows."""
    questions = write(tmp_path, GOOD + "\n")
    monkeypatch.chdir(tmp_path)
    for details in (str(questions), "./fragen.jsonl", f"../{tmp_path.name}/fragen.jsonl"):
        result = CliRunner().invoke(
            cli, ["--data-dir", str(tmp_path / "data"), "eval", str(questions), "--details", details]
        )
        assert result.exit_code == 2
        assert "Die Detaildatei ist die Fragendatei selbst" in result.output
        assert questions.read_text(encoding="utf-8") == GOOD + "\n"
        assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("question", "reason"),
    [("Wo " * 1700, "Die Frage ist zu lang (5099 Zeichen"), ("\u200b\u00ad", "der Text ist leer")],
)
def test_a_question_ask_would_refuse_names_its_line_before_any_question_is_asked(
    tmp_path: Path, settings, question: str, reason: str
):
    """An over-long question (or one of invisible characters only) was found when its turn came: after
    every question before it had been asked, and without its line number, the whole run lost."""
    bad = json.dumps({"question": question, "answers": ["Budapest"]})
    questions = write(tmp_path, f"{GOOD}\n{bad}\n")
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), "eval", str(questions)])
    assert result.exit_code == 2
    assert "Zeile 2" in result.output
    assert reason in result.output
    assert not (tmp_path / "data").exists()  # nothing was opened, no question asked


def test_a_metric_the_file_gives_nothing_to_measure_is_null_not_zero(tmp_path: Path):
    """Questions without an "article" and no unanswerable ones: evidence recall and refusal accuracy
    have nothing to count. They read 0.0 before, as if every source was wrong and every refusal missed."""
    from bot.evaluate import evaluate
    from bot.result import Answer, Source

    lines = [
        '{"question": "Wo soll der Gipfel stattfinden?", "answers": ["Budapest"]}',
        '{"question": "Und wann?", "history": ["Wo soll der Gipfel stattfinden?"], "answers": ["Herbst"]}',
        '{"question": "Wie heiß war es?", "answers": ["37"], "article": "wetter.md"}',
    ]
    questions = load_questions(write(tmp_path, "\n".join(lines)))
    source = Source("Gipfel", "/a/gipfel.txt", "Budapest im Herbst", 0.9)

    def ask(question: str, history: tuple[str, ...] = ()) -> Answer:
        return Answer(question, "Der Gipfel ist in Budapest im Herbst.", True, [source], 0.9)

    metrics, rows, _ = evaluate(questions, ask)
    assert metrics["refusal_accuracy"] is None
    assert metrics["evidence_recall_at_5"] == 0.0  # only the one question that names its article counts
    assert metrics["answer_hit_at_1"] == round(2 / 3, 4)
    assert rows[1]["used_history"] is False

    only_unanswerable = load_questions(write(tmp_path, '{"question": "Wer?", "answers": [], "unanswerable": true}'))
    metrics, _, _ = evaluate(only_unanswerable, ask)
    assert metrics["answer_hit_at_1"] is None
    assert metrics["evidence_recall_at_5"] is None
    assert metrics["false_refusal_rate"] is None
    assert metrics["refusal_accuracy"] == 0.0


def test_eval_prints_a_dash_for_a_metric_without_questions(settings, articles_dir: Path, tmp_path: Path, monkeypatch):
    from tests.fakes import HashedBagOfWords

    monkeypatch.setattr("bot.service.make_embedder", lambda settings: HashedBagOfWords())
    env = {"NEWSBOT_DATA_DIR": str(settings.data_dir)}
    assert CliRunner().invoke(cli, ["index", "add", str(articles_dir)], env=env).exit_code == 0
    path = write(tmp_path, '{"question": "Wo soll der Gipfel stattfinden?", "answers": ["Budapest"]}')
    shown = CliRunner().invoke(cli, ["eval", str(path)], env=env)
    assert shown.exit_code == 0, shown.output
    assert "refusal_accuracy         –" in shown.output
    assert "None" not in shown.output


def test_eval_warns_in_one_line_about_questions_whose_article_is_not_indexed(
    settings, articles_dir: Path, tmp_path: Path, monkeypatch
):
    """A typo in "article" (or an index without that article) counted silently as a missed source: evidence recall
    fell with nothing to say why. The run still goes on, and its JSON on stdout stays clean."""
    from tests.fakes import HashedBagOfWords

    monkeypatch.setattr("bot.service.make_embedder", lambda settings: HashedBagOfWords())
    env = {"NEWSBOT_DATA_DIR": str(settings.data_dir)}
    assert CliRunner().invoke(cli, ["index", "add", str(articles_dir)], env=env).exit_code == 0
    lines = [
        '{"question": "Wo soll der Gipfel stattfinden?", "answers": ["Budapest"], "article": "gipfel.txt"}',
        '{"question": "Wo soll der Gipfel stattfinden?", "answers": ["Budapest"], "article": "gipfl.txt"}',
        '{"question": "Wie heiß war es in Wien?", "answers": ["38"], "article": "articles/wetter.md"}',
        '{"question": "Wie heiß war es in Wien?", "answers": ["38"]}',
    ]
    path = write(tmp_path, "\n".join(lines))
    shown = CliRunner().invoke(cli, ["eval", str(path), "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    assert shown.stderr.count("\n") == 1
    assert "1 Frage(n) nennen einen Artikel, der nicht im Index ist (Zeile 2: „gipfl.txt“)" in shown.stderr
    assert json.loads(shown.stdout)["n"] == 4

    fine = write(tmp_path, "\n".join(lines[:1] + lines[2:]))
    shown = CliRunner().invoke(cli, ["eval", str(fine), "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    assert shown.stderr == ""
