"""The BM25 cache on disk is shared by every process on one data directory (CLI runs, the Discord bot).

These tests start real processes that build and load it at the same moment.
"""

from __future__ import annotations

import json
import multiprocessing
import time
import traceback
from pathlib import Path

import numpy as np

from bot.lexical import Decompounder, LexicalIndex

PROCESSES = 8
ROUNDS = 3
# Compounds for the processes to split, a different one each, so that every process saves the compound cache.
COMPOUNDS = [
    "Straßenbahnhaltestelle",
    "Bundesverfassungsgericht",
    "Gemeinderatssitzung",
    "Landeshauptmannstellvertreter",
    "Wohnungsbaugenossenschaft",
    "Klimaschutzministerium",
    "Fußballweltmeisterschaft",
    "Bildungsreformgesetz",
]


def _texts(generation: int, compound: str) -> list[str]:
    filler = [f"Meldung {n}: Der Stadtrat von Ort {n} tagte am Montag über die {compound}." for n in range(2000)]
    return [*filler, f"Der Gipfel in Budapest ist das Thema der Ausgabe {generation}."]


def _slow_disk() -> None:
    """Make each array BM25 saves take 0.1 s, as for a large index on a busy disk, instead of a few ms."""
    save = np.save

    def slow_save(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.1)
        return save(*args, **kwargs)

    np.save = slow_save


def _build_or_load(root: Path, generation: int, compound: str, barrier, results) -> None:  # type: ignore[no-untyped-def]
    """One process: wait for the others, then open the cache of `generation` and search it."""
    _slow_disk()
    try:
        texts = _texts(generation, compound)
        barrier.wait()
        cache = root / "lexical" / f"generation-{generation}"
        index = LexicalIndex(texts, "de", Decompounder(root / "compounds.json"), cache)
        hits = index.search(index.query_terms("Budapest Ausgabe"), 1)
        results.put((hits[0][0] if hits else None, None))
    except Exception:
        results.put((None, traceback.format_exc()))


def test_concurrent_processes_building_and_loading_the_cache_never_break_each_other(tmp_path: Path):
    """Half the processes build a generation while the other half build the next one, which makes
    the first one stale: nobody may delete what another process is still writing."""
    # Spawned, not forked: a fork copies whatever locks other tests' threads (Chroma, the embedder) held at
    # that moment, and a child that needs one of them waits forever.
    context = multiprocessing.get_context("spawn")
    for round_number in range(ROUNDS):
        generation = 2 * round_number
        barrier = context.Barrier(PROCESSES)
        results = context.Queue()
        processes = [
            context.Process(target=_build_or_load, args=(tmp_path, generation + n % 2, COMPOUNDS[n], barrier, results))
            for n in range(PROCESSES)
        ]
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=300) for _ in processes]
        for process in processes:
            process.join(timeout=60)
        failures = [error for _, error in outcomes if error]
        assert not failures, f"round {round_number}: {failures[0]}"
        # every process found the sentence of its own generation: the last text
        assert all(found == 2000 for found, _ in outcomes)
        assert all(process.exitcode == 0 for process in processes)
    # what is left: the newest generation, whole, and nothing half-written
    names = sorted(p.name for p in (tmp_path / "lexical").iterdir())
    assert names == [f"generation-{2 * ROUNDS - 1}"]
    reloaded = LexicalIndex(_texts(2 * ROUNDS - 1, COMPOUNDS[0]), "de", None, tmp_path / "lexical" / names[0])
    assert reloaded.search(reloaded.query_terms("Budapest"), 1)[0][0] == 2000
    assert json.loads((tmp_path / "compounds.json").read_text(encoding="utf-8"))  # whole, not interleaved
