"""Chooses the task classifier's settings by template-grouped cross-validation on the TRAINING rows only
(costlab.serving.task_classifier.cross_validate), before the test templates are scored once by
`costlab serve train-classifier`. Writes data/classifier/select_settings.json (the table in
docs/semantic-cache.md) and prints it.

Run: OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 python data/classifier/select_settings.py   (~8 min on 1 CPU thread)
"""

import json
import time
from pathlib import Path

from costlab.paths import PROJECT_ROOT
from costlab.provenance import make_provenance
from costlab.serving.classifier_data import TEMPLATES_PATH, TRAIN_TEMPLATES_PATH, make_rows
from costlab.serving.embed import MiniLMEmbedder
from costlab.serving.task_classifier import cross_validate, prompt_rows

PROMPTS = PROJECT_ROOT / "data/prompts/train.jsonl"
GRID = [
    {"model": "logreg", "C": 16.0, "edge_chars": 0},  # the previous session's setting
    {"model": "svm", "C": 0.3, "edge_chars": 0},
    {"model": "svm", "C": 1.0, "edge_chars": 0},
    {"model": "svm", "C": 1.0, "edge_chars": 16},
    {"model": "svm", "C": 1.0, "edge_chars": 24},
    {"model": "svm", "C": 1.0, "edge_chars": 40},
]


def main() -> None:
    t0 = time.time()
    rows = make_rows()["train"] + prompt_rows(PROMPTS)  # never the test templates
    res = cross_validate(rows, GRID, MiniLMEmbedder(threads=1))
    for r in res:
        a = r["accuracy"]
        print(json.dumps(r["settings"]), " ".join(f"{k} {v:.3f}" for k, v in a.items()), flush=True)
    best = max(res, key=lambda r: r["accuracy"]["all"])
    print("best:", json.dumps(best["settings"]))
    out = {
        "protocol": "5-fold template-grouped CV on training rows, 3 fold assignments (seeds 0-2); training-only "
        "templates in every fold's training part; accuracy on held-out template rows",
        "results": res,
        "best": best["settings"],
        "seconds": round(time.time() - t0),
        "provenance": make_provenance(
            {"grid": GRID}, seed=0, inputs={"templates": TEMPLATES_PATH, "train_templates": TRAIN_TEMPLATES_PATH}
        ),
    }
    Path(__file__).with_name("select_settings.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
