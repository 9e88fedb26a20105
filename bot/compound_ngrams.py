"""compound-split's German n-gram tables, read from an SQLite copy instead of its 39 MB Python module.

`compound_split.char_split` imports its tables as Python modules (German and Dutch): 2.8 s of CPU before
the first word is split, paid by every process that meets a word not yet in `compounds.json`, a one-shot
`newsbot ask` about a "Bundesverfassungsgericht" among them. A word's split needs a few hundred lookups,
so the tables are copied once into the data directory (SQLite, keyed by n-gram) and looked up there.
The splitting itself stays compound-split's: its module is imported with the tables it reads replaced
(`split_compound` reads `de_ngram_probs.prefix`, `.infix` and `.suffix`, and calls only their `get`).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sqlite3
import sys
import threading
import types
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

TABLES = ("prefix", "infix", "suffix")
_lock = threading.Lock()
_splitters: dict[Path | None, Callable[[str], list[tuple[float, str, str]]]] = {}


class NgramTable:
    """One table of the copy, with the one method `split_compound` calls on it."""

    def __init__(self, db: sqlite3.Connection, kind: int, lock: threading.Lock) -> None:
        self._db = db
        self._kind = kind
        self._lock = lock  # the bot asks from several threads; one connection serves them in turn

    def get(self, ngram: str, default: Any = None) -> Any:
        with self._lock:
            row = self._db.execute("SELECT p FROM ngrams WHERE kind = ? AND ngram = ?", (self._kind, ngram)).fetchone()
        return default if row is None else row[0]


def copy_path(cache_dir: Path) -> Path:
    return cache_dir / f"compound-split-{version('compound-split')}-de.sqlite3"


def _write_copy(path: Path) -> None:
    """The library's German tables as one SQLite file, written under another name and then renamed, so
    another process never opens half a copy."""
    from compound_split import de_ngram_probs  # the 2 s import, once per data directory

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".partial-{os.getpid()}-{path.name}")
    partial.unlink(missing_ok=True)
    db = sqlite3.connect(partial)
    try:
        db.execute("CREATE TABLE ngrams (kind INTEGER, ngram TEXT, p REAL, PRIMARY KEY (kind, ngram)) WITHOUT ROWID")
        for kind, name in enumerate(TABLES):
            db.executemany(
                "INSERT INTO ngrams VALUES (?, ?, ?)", ((kind, k, v) for k, v in getattr(de_ngram_probs, name).items())
            )
        db.commit()
    finally:
        db.close()
    partial.replace(path)


def _tables_module(path: Path) -> types.ModuleType:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    module = types.ModuleType("compound_split.de_ngram_probs")
    lock = threading.Lock()
    for kind, name in enumerate(TABLES):
        setattr(module, name, NgramTable(db, kind, lock))
    return module


def _split_with_copy(cache_dir: Path) -> Callable[[str], list[tuple[float, str, str]]]:
    path = copy_path(cache_dir)
    try:
        if not path.is_file():
            _write_copy(path)
        tables = _tables_module(path)
    except (OSError, sqlite3.Error) as error:  # a read-only data directory: split with the library's own tables
        log.warning("splitting compounds without a copy of the n-gram tables (%s): %s", path, error)
        return _split_with_library()
    # char_split imports the Dutch tables too, which newsbot never uses: an empty stand-in
    dutch = types.ModuleType("compound_split.nl_ngram_probs")
    dutch.prefix, dutch.infix, dutch.suffix = {}, {}, {}
    stand_ins = {"compound_split.de_ngram_probs": tables, "compound_split.nl_ngram_probs": dutch}
    # A private instance of char_split, so that other importers still get the library's own module.
    import compound_split  # the package alone: an empty __init__

    source = Path(compound_split.__file__).with_name("char_split.py")
    private = importlib.util.spec_from_file_location("newsbot_char_split", source)
    if private is None or private.loader is None:
        return _split_with_library()
    char_split = importlib.util.module_from_spec(private)
    saved = {name: sys.modules.get(name) for name in stand_ins}
    sys.modules.update(stand_ins)
    try:
        private.loader.exec_module(char_split)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    if not isinstance(char_split.de_ngram_probs.prefix, NgramTable):  # the library's tables were loaded before
        log.info("compound-split's own tables were loaded already; using them")
    return char_split.split_compound


def _split_with_library() -> Callable[[str], list[tuple[float, str, str]]]:
    from compound_split import char_split

    return char_split.split_compound


def splitter(cache_dir: Path | None) -> Callable[[str], list[tuple[float, str, str]]]:
    """compound-split's `split_compound` for German, reading its tables from a copy in `cache_dir`."""
    with _lock:
        if cache_dir not in _splitters:
            _splitters[cache_dir] = _split_with_copy(cache_dir) if cache_dir else _split_with_library()
        return _splitters[cache_dir]
