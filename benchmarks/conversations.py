"""Conversation benchmark: follow-ups must use the conversation, other questions must not suffer from it.

`python benchmarks/conversations.py --data-dir DIR` over an index that holds the XQuAD dev articles and
the seed article (`newsbot --data-dir DIR index add ../shared/data/xquad_de_dev/articles
../shared/data/articles`). Prints one JSON line per set:

- `follow_ups`: `benchmarks/conversations.jsonl`, written for this project: a first question, then an
  elliptic follow-up ("Und wann?", "Und Ford?", "Wer hat sie ins Englische übersetzt?") with its gold
  answer. Also asked without their history, to show how much they need it.
- `follow_ups_en`: the same conversations asked in English (`benchmarks/conversations_en.jsonl`, German gold
  answers), and `follow_ups_mixed`: the first question in German, the follow-up in English, as users who
  switch language mid-conversation do.
- `alone` and `after_unrelated`: the dev and seed questions asked on their own, and each asked after an
  unrelated question (one about another article, drawn with a fixed seed): the conversation must not
  drag them off topic. `--switches FILE` writes that set as JSON Lines for `newsbot eval`. The same for the
  dev questions in English (`alone_en`, `after_unrelated_en`).
- `near_misses_alone` and `near_misses_after_topic`: the questions of `benchmarks/near_miss.jsonl` whose
  article the index holds (on its topic, a fact it lacks), asked alone and after a question the article
  answers: the conversation must not make the bot answer what it refused alone ("Wie viele Einwohner hat
  Paris?" after Warsaw). Reported as the share refused.

With `--news`, over an index that holds the `news_de` articles (a copy of the haystack), the held-out news
conversations instead, in the same format: `benchmarks/conversations_news.jsonl` (German) and
`conversations_news_en.jsonl` (the same in English), written after the conversation rules and not used to
choose them. `follow_ups_news*` as above; `news_firsts_alone` and `news_firsts_after_follow_up`: each first
question alone and after another article's whole pair (its first question and follow-up), as a user who
changes the subject after a follow-up; `near_misses_news_*`: follow-ups on an article's topic about a fact
it lacks, alone and after their first question.

With `--news-dev`, the news **dev** conversations (`benchmarks/conversations_news_dev.jsonl`, German, on the
32 articles of `benchmarks/news_dev.jsonl`, none of the held-out ones): the same sets, named `..._news_dev`,
and `switches_news_dev` (`_alone`): a question about another article asked after a whole conversation
(`"switch": true`), which must be answered as if asked alone. Written before the rules were measured on it,
to shape them on news without the held-out conversations.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.evaluate import Question, evaluate, load_questions  # noqa: E402
from bot.service import NewsService  # noqa: E402
from index.settings import Settings  # noqa: E402

SHARED = REPO.parent / "shared" / "data"


def after_unrelated(questions: list[Question], seed: int = 14) -> list[Question]:
    """Each question with one earlier question about another article (of the same list)."""
    rng = random.Random(seed)
    switched = []
    for question in questions:
        earlier = rng.choice([q for q in questions if q.article != question.article])
        switched.append(dataclasses.replace(question, history=(earlier.question,)))
    return switched


def after_their_topic(near_misses: list[Question], answerable: list[Question]) -> list[Question]:
    """Each near miss whose article has an answerable question, with the first such question before it."""
    first = {}
    for question in answerable:
        first.setdefault(question.article, question.question)
    return [dataclasses.replace(q, history=(first[q.article],)) for q in near_misses if q.article in first]


NEWS_HELD_OUT = (("", "conversations_news.jsonl"), ("_en", "conversations_news_en.jsonl"))
NEWS_DEV = (("_dev", "conversations_news_dev.jsonl"),)


def news_sets(service: NewsService, files: tuple[tuple[str, str], ...] = NEWS_HELD_OUT) -> None:
    """The conversations over news articles (see the module's docstring): held out, or with `NEWS_DEV` the dev ones."""
    for suffix, path in files:
        questions = load_questions(REPO / "benchmarks" / path)
        if suffix == "_en":
            german_history = {q.id: q.history for q in load_questions(REPO / "benchmarks" / "conversations_news.jsonl")}
        raw = {line["id"]: line for line in map(json.loads, (REPO / "benchmarks" / path).open(encoding="utf-8"))}
        switches = [q for q in questions if raw[q.id].get("switch")]
        questions = [q for q in questions if not raw[q.id].get("switch")]
        pairs = [q for q in questions if not q.unanswerable]
        near_misses = [q for q in questions if q.unanswerable]
        report(f"follow_ups_news{suffix}", pairs, service)
        report(f"follow_ups_news{suffix}_without_history", [dataclasses.replace(q, history=()) for q in pairs], service)
        if suffix == "_en":
            mixed = [dataclasses.replace(q, history=german_history[q.id.removesuffix("-en")]) for q in pairs]
            report("follow_ups_news_mixed", mixed, service)
        firsts = [
            dataclasses.replace(
                q, id=f"{q.id}-first", question=q.history[0], answers=raw[q.id]["history_answers"], history=()
            )
            for q in pairs
        ]
        rng = random.Random(14)
        after = []
        for first, pair in zip(firsts, pairs, strict=True):
            earlier = rng.choice([p for p in pairs if p.article != pair.article])
            after.append(dataclasses.replace(first, history=(*earlier.history, earlier.question)))
        alone = report(f"news_firsts{suffix}_alone", firsts, service)
        switched = report(f"news_firsts{suffix}_after_follow_up", after, service)
        gap = round(switched["answer_hit_at_1"] - alone["answer_hit_at_1"], 4)
        print(json.dumps({f"news_firsts{suffix}_after_follow_up_minus_alone": gap}))
        report(f"near_misses_news{suffix}_alone", [dataclasses.replace(q, history=()) for q in near_misses], service)
        report(f"near_misses_news{suffix}_after_topic", near_misses, service)
        if switches:
            report(f"switches_news{suffix}_alone", [dataclasses.replace(q, history=()) for q in switches], service)
            report(f"switches_news{suffix}", switches, service)


DETAILS: Path | None = None  # --details: a folder for each set's rows


def report(name: str, questions: list[Question], service: NewsService) -> dict[str, object]:
    metrics, rows, _ = evaluate(questions, service.ask)
    if DETAILS:
        with (DETAILS / f"{name}.jsonl").open("w", encoding="utf-8") as out:
            for question, row in zip(questions, rows, strict=True):
                gold = {"question": question.question, "history": question.history, "gold": question.answers}
                out.write(json.dumps({**row, **gold}, ensure_ascii=False) + "\n")
    used = [row["used_history"] for row in rows if "used_history" in row]
    line = {
        "set": name,
        "n": metrics["n"],
        "answer_hit_at_1": metrics["answer_hit_at_1"],
        "false_refusal_rate": metrics["false_refusal_rate"],
        "latency_ms_p50": metrics["latency_ms_p50"],
    }
    if metrics.get("refusal_accuracy") is not None:
        line["refused"] = metrics["refusal_accuracy"]
    if used:
        line["used_history_rate"] = round(sum(used) / len(used), 4)
    print(json.dumps(line), flush=True)
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--switches", type=Path, help="write the topic-switch set here (JSON Lines)")
    parser.add_argument("--every", type=int, default=1, help="only every n-th dev and seed question (a quicker run)")
    parser.add_argument("--news", action="store_true", help="the held-out news conversations instead (a haystack copy)")
    parser.add_argument("--news-dev", action="store_true", help="the news dev conversations instead (a haystack copy)")
    parser.add_argument("--details", type=Path, help="write each set's rows (answer, sources, gold) into this folder")
    args = parser.parse_args()
    global DETAILS
    DETAILS = args.details
    if DETAILS:
        DETAILS.mkdir(parents=True, exist_ok=True)

    service = NewsService.open(Settings(data_dir=args.data_dir))  # type: ignore[call-arg]
    service.retriever.warm_up()
    if args.news or args.news_dev:
        news_sets(service, NEWS_DEV if args.news_dev else NEWS_HELD_OUT)
        return
    follow_ups = load_questions(REPO / "benchmarks" / "conversations.jsonl")
    follow_ups_en = load_questions(REPO / "benchmarks" / "conversations_en.jsonl")
    german_history = {q.id: q.history for q in follow_ups}
    mixed = [dataclasses.replace(q, history=german_history[q.id.removesuffix("-en")]) for q in follow_ups_en]
    dev = load_questions(SHARED / "xquad_de_dev" / "questions.jsonl")
    seed = [q for q in load_questions(SHARED / "seed_questions.jsonl") if not q.unanswerable]
    single = (dev + seed)[:: args.every]
    switched = after_unrelated(single)
    if args.switches:
        with args.switches.open("w", encoding="utf-8") as out:
            for q in switched:
                out.write(json.dumps(dataclasses.asdict(q), ensure_ascii=False) + "\n")

    report("follow_ups", follow_ups, service)
    report("follow_ups_without_history", [dataclasses.replace(q, history=()) for q in follow_ups], service)
    report("follow_ups_en", follow_ups_en, service)
    report("follow_ups_mixed", mixed, service)
    alone = report("alone", single, service)
    after = report("after_unrelated", switched, service)
    print(json.dumps({"after_unrelated_minus_alone": round(after["answer_hit_at_1"] - alone["answer_hit_at_1"], 4)}))
    english = load_questions(SHARED / "xquad_en_dev" / "questions.jsonl")[:: args.every]
    alone = report("alone_en", english, service)
    after = report("after_unrelated_en", after_unrelated(english), service)
    print(json.dumps({"after_unrelated_en_minus_alone": round(after["answer_hit_at_1"] - alone["answer_hit_at_1"], 4)}))
    after_topic = after_their_topic(load_questions(REPO / "benchmarks" / "near_miss.jsonl"), dev + seed)
    report("near_misses_alone", [dataclasses.replace(q, history=()) for q in after_topic], service)
    report("near_misses_after_topic", after_topic, service)


if __name__ == "__main__":
    main()
