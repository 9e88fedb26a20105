"""The running bot writes to the catalog from several threads at once (a feed poll, an upload, retention)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from index.catalog import Catalog


def test_transactions_of_two_threads_on_one_catalog_neither_fail_nor_mix(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    errors: list[BaseException] = []
    rounds = 2000

    def write(key: str) -> None:
        for n in range(rounds):
            try:
                with catalog.transaction() as db:
                    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(n)))
                    # a second statement: another thread's ROLLBACK or COMMIT in between would split them
                    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"{key}-again", str(n)))
            except BaseException as error:  # whatever a thread met, the test reports
                errors.append(error)
                return

    threads = [threading.Thread(target=write, args=(key,)) for key in ("poll", "upload")]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns between any two statements, as under load
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)

    assert errors == []
    for key in ("poll", "upload"):
        assert catalog.get_meta(key) == catalog.get_meta(f"{key}-again") == str(rounds - 1)
