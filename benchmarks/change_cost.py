"""What one catalog change costs the next question (issue #15), for one version of the code on one index.

    python benchmarks/change_cost.py CODE_DIR DATA_DIR

Runs the service of the code in CODE_DIR (a checkout, e.g. `git archive` of a commit) on DATA_DIR (a copy:
it adds and removes one article): the first question, 20 warm questions whose query vectors are cached,
one new article and its question, one removal and the next question, and the process's peak RSS. Prints
one JSON line. Run it alternately for the code before and after a change, each on its own copy of the index.
"""

import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

code, data = sys.argv[1], Path(sys.argv[2])
sys.path.insert(0, code)
sys.path.insert(0, str(Path(code) / "benchmarks"))
from scale import PROBE, PROBE_QUESTION, status_mb  # noqa: E402

from bot.service import NewsService  # noqa: E402
from index.settings import Settings  # noqa: E402

QUESTIONS = [
    "Wo soll der Gipfel stattfinden?",
    "Wer gewann die Wahl?",
    "Wie viele Menschen starben?",
    "Wann wurde die Universität gegründet?",
    "Was kostet das Projekt?",
    "Wer ist der Präsident?",
    "Welche Partei gewann?",
    "Wie hoch ist die Inflation?",
    "Wo liegt Warschau?",
    "Was fordert die Gewerkschaft?",
]


started = time.perf_counter()
service = NewsService.open(Settings(_env_file=None, data_dir=data))  # type: ignore[call-arg]
open_s = time.perf_counter() - started


def ask(question: str) -> tuple[float, object]:
    started = time.perf_counter()
    answer = service.ask(question)
    return (time.perf_counter() - started) * 1000, answer


first, _ = ask(QUESTIONS[0])
for question in [*QUESTIONS, PROBE_QUESTION]:
    ask(question)  # query vectors cached: what follows measures retrieval, not the embedder
warm = [ask(question)[0] for question in QUESTIONS for _ in range(2)]
probe = dataclasses.replace(PROBE, article_id=f"probe-{time.time_ns()}", source=f"probe-{time.time_ns()}")
started = time.perf_counter()
service.index.add_articles([probe])
add_s = time.perf_counter() - started
new_ms, answer = ask(PROBE_QUESTION)
found = bool(answer.sources) and answer.sources[0].article_id == probe.article_id
started = time.perf_counter()
service.index.remove([probe.article_id])
remove_s = time.perf_counter() - started
after_remove_ms, _ = ask(QUESTIONS[1])
print(
    json.dumps(
        {
            "code": code,
            "open_s": open_s,
            "first_ask_ms": first,
            "warm_p50_ms": statistics.median(warm),
            "add_s": add_s,
            "new_article_ask_ms": new_ms,
            "found": found,
            "remove_s": remove_s,
            "after_remove_ask_ms": after_remove_ms,
            "peak_rss_mb": status_mb("VmHWM"),
        }
    )
)
