"""How the LLM grounding check (`bot.generate.judge`) treats replies whose truth is known, without a model.

For every XQuAD question it judges three replies citing the gold paragraph as passage [1]: the gold answer
as a sentence ("<answer> [1]."), the same in a sentence that restates the question, and another question's
gold answer (from another article) cited to the same paragraph. The first two should be kept, the third
replaced. Run: python benchmarks/grounding_support.py [../shared/data/xquad_de_dev/questions.jsonl]
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from bot.generate import Passage, judge

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad_de_dev" / "questions.jsonl"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    contexts = {r["id"].removesuffix("-en"): r["context"] for r in rows if r.get("context")}
    shuffled = random.Random(0).sample(rows, len(rows))
    kept = {"answer": 0, "sentence": 0, "foreign": 0}
    for row, other in zip(rows, shuffled[1:] + shuffled[:1], strict=True):
        context = row.get("context") or contexts.get(row["id"].removesuffix("-en"), "")
        passages = [Passage(1, "", None, context)]
        answer = row["answers"][0]
        strangers = (o["answers"][0] for o in (other, *shuffled) if o["article"] != row["article"])
        stranger = next(a for a in strangers if a not in context)
        replies = {
            "answer": f"{answer} [1].",
            "sentence": f"{row['question'].rstrip('?')}: {answer} [1].",
            "foreign": f"{row['question'].rstrip('?')}: {stranger} [1].",
        }
        for kind, reply in replies.items():
            kept[kind] += judge(reply, passages, 0.9, 2.0, [], row["question"]).keep
    n = len(rows)
    print(json.dumps({"n": n, **{f"kept_{kind}": round(count / n, 3) for kind, count in kept.items()}}))


if __name__ == "__main__":
    main()
