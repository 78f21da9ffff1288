"""Scoring functions the local lm-eval tasks call (``process_results: !function costlab.eval.scoring.X``).

Each takes (doc, results) where results[0] is the generated text, and returns {metric: value}. Pure Python,
deterministic, no extra packages.
"""

from __future__ import annotations

import json
import re
import string

_PUNCT = re.compile(f"[{re.escape(string.punctuation)}]")


def _first_line(text: str) -> str:
    text = text.strip()
    return text.split("\n", 1)[0].strip() if text else ""


def normalize_words(text: str) -> list[str]:
    return _PUNCT.sub(" ", text.lower()).split()


def unigram_f1(prediction: str, reference: str) -> float:
    """ROUGE-1 F1 on lowercase, punctuation-stripped words (clipped counts)."""
    pred, ref = normalize_words(prediction), normalize_words(reference)
    if not pred or not ref:
        return 0.0
    counts: dict[str, int] = {}
    for w in ref:
        counts[w] = counts.get(w, 0) + 1
    overlap = 0
    for w in pred:
        if counts.get(w, 0) > 0:
            overlap += 1
            counts[w] -= 1
    if overlap == 0:
        return 0.0
    p, r = overlap / len(pred), overlap / len(ref)
    return 2 * p * r / (p + r)


def contains_answer(prediction: str, answers: list[str]) -> bool:
    pred = " " + " ".join(normalize_words(prediction)) + " "
    return any(f" {' '.join(normalize_words(a))} " in pred for a in answers if normalize_words(a))


def check_format(prediction: str, check: str, answer: str) -> bool:
    """exact: the first line equals the answer (surrounding quotes/period ignored); json: the output contains
    a JSON object equal to the answer's; csv: the first line, split on commas, equals the answer's items."""
    line = _first_line(prediction)
    if check == "exact":
        return line.strip(" .\"'`") == answer
    if check == "json":
        m = re.search(r"\{.*?\}", prediction, flags=re.S)
        if not m:
            return False
        try:
            return json.loads(m.group(0)) == json.loads(answer)
        except json.JSONDecodeError:
            return False
    if check == "csv":
        items = [x.strip(" .\"'`").lower() for x in line.split(",")]
        return items == [x.strip().lower() for x in answer.split(",")]
    raise ValueError(f"unknown formatting check '{check}' (use exact | json | csv)")


def qa_process_results(doc: dict, results: list[str]) -> dict:
    return {"acc": float(contains_answer(results[0], doc["answers"]))}


def formatting_process_results(doc: dict, results: list[str]) -> dict:
    return {"acc": float(check_format(results[0], doc["check"], doc["answer"]))}


def summarization_process_results(doc: dict, results: list[str]) -> dict:
    return {"rouge1": unigram_f1(_first_line(results[0]) or results[0], doc["summary"])}
