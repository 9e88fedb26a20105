"""Indexes into a data folder whose files may not grow (RLIMIT_FSIZE), as on a full disk, in its own process.

Used by test_disk_full.py: `python -m tests.disk_full_driver DATA_DIR BASE MORE`. Indexes BASE, then caps
the size of every file this process writes just above the largest file of the data folder, indexes MORE,
asks a question, opens the index again and asks again (the cap still on), lifts the cap and indexes MORE
once more. Prints one JSON object with what each step gave.
"""

from __future__ import annotations

import faulthandler
import json
import resource
import signal
import sys
from pathlib import Path

from bot.service import NewsService
from index.errors import NewsbotError
from index.settings import Settings
from tests.fakes import HashedBagOfWords

QUESTION = "Wo soll der Gipfel stattfinden?"


STEP_DEADLINE_SECONDS = 150  # a hanging Chroma call ends the run, not the test; a busy machine is no hang


def attempt(step: dict, run) -> None:  # type: ignore[no-untyped-def]
    faulthandler.dump_traceback_later(STEP_DEADLINE_SECONDS, exit=True)  # each step its own (CI: 2 min for all)
    try:
        step["result"] = run()
    except NewsbotError as error:
        step["newsbot_error"] = error.message
    except Exception as error:
        step["other_error"] = f"{type(error).__name__}: {error}"


def main() -> None:
    faulthandler.dump_traceback_later(STEP_DEADLINE_SECONDS, exit=True)
    data_dir, base, more = (Path(a) for a in sys.argv[1:4])
    settings = Settings(_env_file=None, data_dir=data_dir, refusal_threshold=0.0)  # type: ignore[call-arg]
    service = NewsService.open(settings, HashedBagOfWords())
    service.index_paths([base])
    # the language model copy is written once, before; the index files grow with every article
    largest = max(p.stat().st_size for p in data_dir.rglob("*") if p.is_file() and not p.name.startswith("langid"))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the cap fails (EFBIG) instead of killing us
    resource.setrlimit(resource.RLIMIT_FSIZE, (largest + 4096, resource.RLIM_INFINITY))
    steps: dict[str, dict] = {name: {} for name in ("add", "upload", "ask", "reopened_ask", "add_again")}
    attempt(steps["add"], lambda: service.index_paths([more]).summary())
    upload = "Hochgeladen\n\n" + "Ein Satz über den Gipfel. " * (largest // 20)  # larger than the cap allows
    attempt(steps["upload"], lambda: service.index_upload("hochgeladen.txt", upload.encode()).summary())
    steps["upload"]["files_left"] = sorted(p.name for p in (data_dir / "uploads").glob("*"))
    attempt(steps["ask"], lambda: service.ask(QUESTION).text)
    attempt(steps["reopened_ask"], lambda: NewsService.open(settings, HashedBagOfWords()).ask(QUESTION).text)
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    attempt(steps["add_again"], lambda: service.index_paths([more]).summary())
    articles, _, sentences = service.index.catalog.counts()
    steps["index"] = {"articles": articles, "sentences": sentences, "vectors": service.index.store.count()[1]}
    print(json.dumps(steps, ensure_ascii=False))


if __name__ == "__main__":
    main()
