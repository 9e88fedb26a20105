"""What one new article and one removal cost the next question, without the embedding (issue #15).

    python benchmarks/first_ask.py DATA_DIR [--profile PREFIX]

On DATA_DIR (a copy: it adds and removes `scale.PROBE`), embedded Chroma: the first snapshot's memory
(tracemalloc, VmRSS), then twice: add the probe article, ask its question (query vector computed before),
remove it, ask again; each ask's wall and CPU time and stages, optionally under cProfile (PREFIX-add0.prof …).
Prints one JSON line. Run it alternately for the code before and after a change (PYTHONPATH=CODE_DIR).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale import PROBE, PROBE_QUESTION, peak_rss_mb, settings_for, status_mb

from bot.service import NewsService


def timed(service: NewsService, question: str, profile: str | None) -> dict[str, object]:
    profiler = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    answer = service.ask(question)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    return {
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "stages_ms": answer.timings_ms,
        "source": answer.sources[0].article_id if answer.sources else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--profile", help="write each ask's cProfile stats to PREFIX-add0.prof …")
    args = parser.parse_args()
    service = NewsService.open(settings_for(args.data_dir))
    before = status_mb("VmRSS")
    tracemalloc.start()
    snapshot = service.retriever.snapshot()
    traced = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    result: dict[str, object] = {
        "sentences": len(snapshot.sentences),
        "snapshot_bytes_per_sentence": traced / max(1, len(snapshot.sentences)),
        "snapshot_rss_mb": status_mb("VmRSS") - before,
    }
    service.ask("Wer eröffnet das Hallenbad?")  # Chroma loads its index on the first query
    service.retriever._query_vector(PROBE_QUESTION)
    for n in range(2):
        started = time.perf_counter()
        service.index.add_articles([PROBE])
        result[f"add{n}_s"] = time.perf_counter() - started
        result[f"after_add{n}"] = timed(service, PROBE_QUESTION, args.profile and f"{args.profile}-add{n}.prof")
        service.index.remove([PROBE.article_id])
        result[f"after_removal{n}"] = timed(
            service, "Wer eröffnet das Hallenbad?", args.profile and f"{args.profile}-rm{n}.prof"
        )
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
