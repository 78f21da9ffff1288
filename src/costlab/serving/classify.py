"""Task classifiers for the router: keyword rules (baseline) and embeddings + logistic regression (learned).

Both map the text of a request (its last user message) to a task class that names a row of the routing
table (translation, summarization, qa, formatting, reasoning, code, ... as in docs/design.md).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from costlab.errors import CostlabError
from costlab.io import atomic_write_json, read_json

# Ordered: the first class whose pattern matches wins. Kept small on purpose: it is the baseline.
# Every pattern is linear-time in the text (no unbounded run that can restart at each position): the gateway runs
# them on the event loop (issue 12 #3: `\d+\s*[-+*/x]\s*\d+` and `\bif .* then\b` were quadratic).
KEYWORD_RULES: list[tuple[str, str]] = [
    (
        "translation",
        r"\btranslat\w*|\bin (french|german|spanish|italian|chinese|japanese|english|portuguese)\b|\binto (french|german|spanish|italian|english)\b",
    ),
    (
        "summarization",
        r"\bsummar\w*|\btl;?dr\b|\bin (one|two|three|a few) sentences?\b|\bcondense\b|\bkey points\b|\bgist\b",
    ),
    (
        "code",
        r"\bcode\b|\bpython\b|\bfunction\b|\bjavascript\b|\bsql\b|\bregex\b|\bbug\b|\bcompile\w*|\bdef \w+\(|\bclass \w+|```|\bscript\b|\bbash\b",
    ),
    (
        "formatting",
        r"\bjson\b|\byaml\b|\bcsv\b|\bformat\w*|\bbullet\w*|\btable\b|\bmarkdown\b|\buppercase\b|\blowercase\b|\bsort\b|\blist the\b",
    ),
    (
        "reasoning",
        r"\bhow many\b|\bcalculat\w*|\bsolve\b|\bif\b[^\n]{0,200}?\bthen\b|\bwhy\b|\bprove\b|\bstep by step\b|(?<!\d)\d+\s*[-+*/x×]\s*\d|\bpuzzle\b|\blogic\w*",
    ),
    ("qa", r"\bwhat\b|\bwho\b|\bwhen\b|\bwhere\b|\bwhich\b|\bexplain\b|\bdefine\b|\?\s*$"),
]


class Classifier(Protocol):
    name: str

    def predict(self, texts: list[str]) -> list[str]: ...


class KeywordClassifier:
    name = "keyword"

    def __init__(
        self, rules: list[tuple[str, str]] | None = None, default: str = "general", classes: list[str] | None = None
    ):
        self.rules = [(c, re.compile(p, re.I)) for c, p in (rules or KEYWORD_RULES) if classes is None or c in classes]
        self.default = default

    def predict(self, texts: list[str]) -> list[str]:
        out = []
        for t in texts:
            for c, rx in self.rules:
                if rx.search(t):
                    out.append(c)
                    break
            else:
                out.append(self.default)
        return out


class LearnedClassifier:
    """MiniLM sentence embedding → sklearn LogisticRegression."""

    name = "learned"

    def __init__(self, clf: Any, embedder: Any, meta: dict | None = None):
        self.clf = clf
        self.embedder = embedder
        self.meta = meta or {}

    def predict(self, texts: list[str], vectors: np.ndarray | None = None) -> list[str]:
        x = vectors if vectors is not None else self.embedder.encode(texts)
        return [str(c) for c in self.clf.predict(x)]

    @classmethod
    def load(cls, artifact_dir: str | Path, embedder: Any) -> LearnedClassifier:
        import joblib

        d = Path(artifact_dir)
        if (d / "text_classifier.joblib").exists():  # `costlab serve train-classifier` (issue 12 #10)
            from costlab.serving.task_classifier import TextTaskClassifier

            return TextTaskClassifier.load(d, embedder)
        f = d / "classifier.joblib"
        if not f.exists():
            raise CostlabError(
                f"{f}: classifier artifact not found",
                "train it: costlab serve train-classifier --out DIR (or set router.classifier=keyword)",
            )
        meta = read_json(d / "metrics.json") if (d / "metrics.json").exists() else {}
        if meta.get("embedder") and meta["embedder"] != getattr(embedder, "name", None):
            raise CostlabError(
                f"{d}: trained on embedder {meta['embedder']!r}, gateway uses {getattr(embedder, 'name', '?')!r}",
                "retrain the classifier with the gateway's embedder",
            )
        return cls(joblib.load(f), embedder, meta)


def texts_and_labels(rows: list[dict]) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for r in rows:
        users = [m["content"] for m in r["messages"] if m["role"] == "user"]
        texts.append(users[-1] if users else r["messages"][-1]["content"])
        labels.append(r["task_class"])
    return texts, labels


def train_classifier(
    train_path: str | Path,
    heldout_path: str | Path,
    out_dir: str | Path,
    embedder: Any,
    C: float = 4.0,
    seed: int = 0,
    config: dict | None = None,
) -> dict:
    """Fit the learned classifier on ``train_path``, score it and the keyword baseline on ``heldout_path``,
    and save ``out_dir/{classifier.joblib, metrics.json, provenance.json}``. Returns the metrics."""
    import joblib
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, classification_report

    from costlab.data.prompts import load_prompts
    from costlab.provenance import make_provenance, write_provenance

    tr_x, tr_y = texts_and_labels(load_prompts(train_path))
    he_x, he_y = texts_and_labels(load_prompts(heldout_path))
    if len(set(tr_y)) < 2:
        raise CostlabError(
            f"{train_path}: needs at least 2 task classes, found {sorted(set(tr_y))}",
            "label the prompts with task_class",
        )
    t0 = time.time()
    xtr = embedder.encode(tr_x)
    xhe = embedder.encode(he_x)
    clf = LogisticRegression(C=C, max_iter=2000, random_state=seed).fit(xtr, tr_y)
    pred = [str(p) for p in clf.predict(xhe)]
    kw = KeywordClassifier(classes=sorted(set(tr_y)), default=max(set(tr_y), key=tr_y.count)).predict(he_x)
    metrics = {
        "embedder": getattr(embedder, "name", "?"),
        "classes": sorted(set(tr_y)),
        "n_train": len(tr_x),
        "n_heldout": len(he_x),
        "learned_accuracy": float(accuracy_score(he_y, pred)),
        "keyword_accuracy": float(accuracy_score(he_y, kw)),
        "majority_accuracy": float(np.mean([y == max(set(tr_y), key=tr_y.count) for y in he_y])),
        "learned_report": classification_report(he_y, pred, output_dict=True, zero_division=0),
        "train_seconds": round(time.time() - t0, 2),
        "C": C,
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(clf, out / "classifier.joblib")
    atomic_write_json(out / "metrics.json", metrics)
    write_provenance(
        out,
        make_provenance(
            config or {"C": C, "seed": seed}, seed=seed, inputs={"train": train_path, "heldout": heldout_path}
        ),
    )
    return metrics
