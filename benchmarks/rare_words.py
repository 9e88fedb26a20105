"""How often the first source shares none of the question's rare words (issue #18, deliver 3).

A question's *rare words* are its index terms (stemmed, compounds split, question words left out:
`LexicalIndex.query_terms`) whose BM25 idf in the index (`LexicalIndex.term_weights`) is at least the
median idf of the question's terms: "Japan" and "Inflation" in "Wie hoch ist die Inflation in
Japan?", not "hoch". The first source *shares none* of them when its context (the sentence, its
neighbours in the paragraph and its headline: what the answer is cut from, `Snapshot.context_terms`)
holds none of them: it matched the question's phrasing ("soll … stattfinden") or meaning alone.
Reported beside it: how often that first source is the question's own article (evidence hit@1).

    python benchmarks/rare_words.py --data-dir DIR [QUESTIONS.jsonl ...]

Without files, the XQuAD dev questions of ../shared/data. Asks through the retriever directly (no
answer, no refusal), so the figure is about ranking only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.evaluate import load_questions  # noqa: E402
from bot.retrieve import Retriever  # noqa: E402
from index.embedders import make_embedder  # noqa: E402
from index.indexer import NewsIndex  # noqa: E402
from index.settings import load_settings  # noqa: E402


def rare_terms(weights: dict[str, float]) -> set[str]:
    """The question's terms whose idf is at least the median of its terms' idf."""
    if not weights:
        return set()
    median = statistics.median(weights.values())
    return {term for term, weight in weights.items() if weight >= median}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("questions", type=Path, nargs="*")
    args = parser.parse_args()
    files = args.questions or [REPO.parent / "shared" / "data" / "xquad_de_dev" / "questions.jsonl"]
    settings = load_settings(data_dir=args.data_dir)
    retriever = Retriever(NewsIndex(settings, make_embedder(settings)))
    asked = shares_none = own_article = 0
    for file in files:
        for question in load_questions(file):
            if question.unanswerable:
                continue
            snapshot, retrieval = retriever.retrieve(question.question)
            if not retrieval.candidates:
                continue
            asked += 1
            row = retrieval.candidates[0].row
            rare = {term: 1.0 for term in rare_terms(retrieval.weights)}
            if rare and snapshot.lexical.coverage(rare, snapshot.context_terms(row)) == 0:
                shares_none += 1
            source = snapshot.articles[snapshot.sentences[row].article_id].source
            own_article += bool(question.article) and Path(source).name == question.article
    print(
        json.dumps(
            {
                "questions": asked,
                "top_source_shares_no_rare_word": shares_none,
                "share": round(shares_none / max(asked, 1), 4),
                "top_source_is_own_article": round(own_article / max(asked, 1), 4),
            }
        )
    )


if __name__ == "__main__":
    main()
