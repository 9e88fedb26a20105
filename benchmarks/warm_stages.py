"""Where a warm question's milliseconds go: the questions of `scale.py warm`, each stage timed (wall, and CPU
of the asking thread) by wrapping the function that does it; prints p50/p95 and the mean per stage.

    python benchmarks/warm_stages.py --data-dir DIR [--questions 40] [--json OUT]

A stage that calls itself again is timed once (the outer call). The stages overlap where one calls another
("passages (incl. vectors)" holds "vectors by id: passages"); "the whole ask" is the process's CPU time,
Chroma's own threads included.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scale

from bot import lexical, retrieve
from bot import service as service_module
from index import catalog as catalog_module
from index import store as store_module

# (owner, function name, stage) or a function of the call's arguments that names the stage
STAGES: list[tuple[Any, str, str | Callable[..., str]]] = [
    (store_module.VectorStore, "query", "Chroma: dense query"),
    (
        retrieve.StoredVectors,
        "fetch",
        lambda vectors, collection, *_: (
            "vectors by id, " + ("sentences" if collection.name == vectors.store.sentences.name else "passages")
        ),
    ),
    (store_module.VectorStore, "vectors", "of them: Chroma `get`s"),
    (catalog_module.Catalog, "stored_vectors", "of them: catalog reads (NEWSBOT_VECTORS_IN_CATALOG)"),
    (lexical.SnapshotLexicalIndex, "search", "BM25 search"),
    (retrieve.Snapshot, "articles_terms", "articles' terms (SQLite or kept)"),
    (retrieve.ArticleCoverage, "of", "articles' coverage (incl. their terms)"),
    (retrieve.SentenceTexts, "read", "texts (SQLite)"),
    (retrieve.Retriever, "_fill_missing_dense", "BM25-only cosines (incl. vectors)"),
    (retrieve.Retriever, "_score_passages", "passages (incl. vectors)"),
    (retrieve, "weigh_topic_and_recency", "topic and recency"),
    (retrieve, "collapse_near_duplicates", "near duplicates"),
    (retrieve, "prefer_the_covering_runner_up", "runner-up"),
    (retrieve.Retriever, "_signals", "refusal signals"),
    (retrieve.Retriever, "_retrieve", "retrieval (search + fuse)"),
    (service_module, "confidence", "refusal model"),
    (service_module, "sources_for", "sources"),
    (service_module.NewsService, "_stretch", "answer stretch"),
]


def instrument(spent: dict[str, list[float]]) -> None:
    """Wrap every function of STAGES so that its wall and thread CPU time add up in `spent` by stage."""
    running: dict[str, int] = defaultdict(int)

    def wrap(owner: Any, name: str, stage: str | Callable[..., str]) -> None:
        function = getattr(owner, name)

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            label = stage(*args, **kwargs) if callable(stage) else stage
            running[label] += 1
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                running[label] -= 1
                if not running[label]:  # the outer call only
                    spent[label][0] += (time.perf_counter() - wall) * 1000
                    spent[label][1] += (time.thread_time() - cpu) * 1000

        is_static = isinstance(getattr(owner, "__dict__", {}).get(name), staticmethod)
        setattr(owner, name, staticmethod(timed) if is_static else timed)

    for owner, name, stage in STAGES:
        wrap(owner, name, stage)


def measure(data_dir: Path, questions: int) -> dict[str, dict[str, float]]:
    spent: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    instrument(spent)
    service = service_module.NewsService.open(scale.settings_for(data_dir))
    texts = random.Random(7).sample(scale.question_texts(data_dir), questions)
    asked = [" ".join(text.split()[:10]).rstrip(".,;:") + "?" for text in texts]
    service.ask(asked[0])
    for question in asked:
        service.retriever._query_vector(question)  # the cache a question asked again uses
    per_question: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for question in asked:
        spent.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        service.ask(question)
        per_question["the whole ask"][0].append((time.perf_counter() - wall) * 1000)
        per_question["the whole ask"][1].append((time.process_time() - cpu) * 1000)
        for label, (stage_wall, stage_cpu) in spent.items():
            per_question[label][0].append(stage_wall)
            per_question[label][1].append(stage_cpu)
    figures = {}
    for label, (walls, cpus) in per_question.items():
        walls += [0.0] * (questions - len(walls))  # a stage some questions skip took them nothing
        cpus += [0.0] * (questions - len(cpus))
        figures[label] = {
            "wall_p50_ms": float(np.percentile(walls, 50)),
            "wall_p95_ms": float(np.percentile(walls, 95)),
            "cpu_p50_ms": float(np.percentile(cpus, 50)),
            "cpu_p95_ms": float(np.percentile(cpus, 95)),
            "cpu_mean_ms": float(np.mean(cpus)),
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    figures = measure(args.data_dir, args.questions)
    for label, row in figures.items():
        print(
            f"{label:42s} wall p50 {row['wall_p50_ms']:6.2f} p95 {row['wall_p95_ms']:6.2f} | "
            f"CPU p50 {row['cpu_p50_ms']:6.2f} p95 {row['cpu_p95_ms']:6.2f} mean {row['cpu_mean_ms']:6.2f}"
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
