"""compound-split's n-gram tables from the machine's SQLite copy: the same splits as the library's own
tables, without their 2.8 s import in every process that meets a new compound."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.compound_ngrams import copy_path, splitter
from bot.lexical import Decompounder
from index.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def tables_dir() -> Path:
    """The machine's cache dir, as every newsbot process uses it (the copy is written once per machine)."""
    cache_dir = Settings(_env_file=None).cache_dir  # type: ignore[call-arg]
    splitter(cache_dir)("Gipfeltreffen")
    return cache_dir


def compound_candidates() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted((SHARED / "articles").glob("*.txt"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted((SHARED / "xquad_de_dev" / "articles").glob("*"))]
    words = {w for text in texts for w in re.findall(Decompounder._WORD, text)}
    return sorted(words)


def test_the_copy_splits_every_word_as_the_librarys_tables_do(tables_dir):
    from compound_split import char_split

    words = compound_candidates()
    assert len(words) > 500
    split = splitter(tables_dir)
    assert copy_path(tables_dir).is_file()
    assert [split(w) for w in words] == [char_split.split_compound(w) for w in words]
    # hyphens, short words and letters the tables never saw take the library's own paths
    for word in ("Nord-Stream-Pipeline", "Abc", "Ärztekammerpräsidentin", "Xyzzyquux"):
        assert split(word) == char_split.split_compound(word)


def test_a_process_splits_its_first_compound_without_the_librarys_tables(tables_dir, tmp_path):
    probe = (
        "import json, sys; from pathlib import Path; from bot.lexical import Decompounder\n"
        f"parts = Decompounder(None, Path({str(tables_dir)!r})).parts('Bundesverfassungsgericht')\n"
        "print(json.dumps([parts, sorted(m for m in sys.modules if m.startswith('compound_split.'))]))\n"
    )
    repo = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(repo), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    parts, modules = json.loads(done.stdout)
    assert parts == Decompounder().parts("Bundesverfassungsgericht")  # the library's own tables
    assert modules == []  # neither the German (39 MB) nor the Dutch tables were imported


def test_without_a_writable_cache_dir_the_librarys_own_tables_split(tmp_path):
    from compound_split import char_split

    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    split = splitter(blocked / "newsbot")
    assert split("Gipfeltreffen") == char_split.split_compound("Gipfeltreffen")


def test_saving_the_compound_cache_while_questions_split_new_words(tmp_path):
    """The index and every snapshot share one Decompounder: a feed's index run saves the cache while the
    bot's question threads add words to it."""
    import json
    import threading

    cache = tmp_path / "compounds.json"
    cache.write_text(json.dumps({f"Wortschatz{i:06d}": [] for i in range(200_000)}), encoding="utf-8")
    decompounder = Decompounder(cache)
    decompounder.parts("Gipfeltreffen")  # the splitter loaded before the race
    failures: list[BaseException] = []
    done = threading.Event()

    def ask() -> None:
        n = 0
        while not done.is_set():
            decompounder.parts(f"Bahnstrecke{n}zug")
            n += 1

    asker = threading.Thread(target=ask)
    asker.start()
    try:
        for _ in range(3):
            decompounder.parts(f"Sonderzug{_}fahrt")  # something to save
            try:
                decompounder.save()
            except RuntimeError as error:  # "dictionary changed size during iteration"
                failures.append(error)
    finally:
        done.set()
        asker.join()
    assert failures == []
    assert len(json.loads(cache.read_text(encoding="utf-8"))) >= 200_003
