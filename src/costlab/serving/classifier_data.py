"""Training / evaluation prompts for the routing task classifier: hand-written templates, slot-filled.

Why: a classifier trained on data/prompts (one or two wordings per class, English only) learned the wording,
not the task: on prompts phrased like a new user would phrase them it scored 0.72 (issue 12 finding 10).
Here every class has many templates written in English, Chinese and mixed Chinese/English, each filled from
seeded slot vocabularies. The split is by TEMPLATE (``template_split``): a test template's wording never
appears in training, and the slot values are split too (even index → train, odd → test), so the test set is
unseen wording with unseen content. ``tests/serving/test_classifier.py`` asserts no template id is shared.

Every row: {"text", "label", "lang" (en | zh | mixed), "template" (id "<class>/<lang>/<nn>")}.
The 135M teacher was not used to paraphrase (it cannot translate or follow rewrite instructions reliably;
docs/facts.md): the templates are hand-written, and the free-form training rows (``freeform_rows``,
data/classifier/train_freeform.jsonl) were written by an LLM agent session acting as the paraphraser (see the
provenance note in data/classifier/make_freeform.py). They are training-only.
The templates and slot values are data: data/classifier/templates.json (loaded here).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Iterator

from costlab.errors import CostlabError
from costlab.paths import PROJECT_ROOT

# The data (slot vocabularies, templates per class and language) lives in data/classifier/templates.json:
#   classes: the six task classes;  slots: name -> values (index parity = split: even -> train, odd -> test);
#   templates: class -> lang -> list of templates ({slot} placeholders); en = English, zh = Chinese,
#   mixed = Chinese sentence with English words (or the reverse), as users write;
#   content_slots: lang -> the free-text slots (what a prompt is about, see ``CONTENT``).
TEMPLATES_PATH = PROJECT_ROOT / "data" / "classifier" / "templates.json"


def _load(path: Path = TEMPLATES_PATH) -> dict:
    if not path.exists():
        raise CostlabError(f"{path}: classifier templates not found", "run from a costlab checkout (data/classifier/)")
    return json.loads(path.read_text(encoding="utf-8"))


# Training-only templates (ids "<class>/<lang>/tNN"): written later, in the same slot vocabularies, to widen the
# training wording (more Chinese and mixed phrasings). They never enter ``template_split``, so the test templates
# (and the test rows) are the same with or without them.
TRAIN_TEMPLATES_PATH = PROJECT_ROOT / "data" / "classifier" / "train_templates.json"

# Free-form training prompts (data/classifier/train_freeform.jsonl, written by make_freeform.py): no template, no
# slot vocabulary; hand-written asks over pasted material and stand-alone prompts, English / Chinese / mixed. Their
# rows get template id "freeform/<group>" (a group = one ask with its fillings, or a batch of stand-alone prompts),
# so grouped cross-validation holds out whole groups. Training only, appended after every template row.
FREEFORM_PATH = PROJECT_ROOT / "data" / "classifier" / "train_freeform.jsonl"
FREEFORM_PREFIX = "freeform/"

# Evaluation sets besides the test templates: wild.jsonl (free-form, same author as the templates) and the blind set
# (free-form, written by someone who saw only CLASSES.md; scored once on the frozen model). Training rows are
# decontaminated against both (``make_rows``): a training prompt whose normalized text equals an evaluation prompt
# is dropped, and only the count is reported.
WILD_PATH = PROJECT_ROOT / "data" / "classifier" / "wild.jsonl"
BLIND_PATH = PROJECT_ROOT / "data" / "classifier" / "blind" / "test.jsonl"


def normalize_text(text: str) -> str:
    """The text compared for decontamination: NFKC, lowercase, punctuation and whitespace runs -> one space."""
    from costlab.data.decontam import normalize

    return " ".join(normalize(text, mask_numbers=False))


def eval_texts(paths: tuple[Path, ...] = (WILD_PATH, BLIND_PATH)) -> set[str]:
    """Normalized texts of the evaluation files in ``paths`` that exist (JSONL rows with "text")."""
    out: set[str] = set()
    for p in paths:
        if Path(p).exists():
            for line in Path(p).read_text(encoding="utf-8").splitlines():
                if line.strip():
                    out.add(normalize_text(json.loads(line)["text"]))
    return out


def freeform_rows(path: Path = FREEFORM_PATH) -> list[dict]:
    """The free-form training rows as classifier rows ({"text", "label", "lang", "template": "freeform/<group>"})."""
    if not path.exists():
        raise CostlabError(
            f"{path}: free-form training prompts not found", "run python data/classifier/make_freeform.py"
        )
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        r = json.loads(line)
        missing = [k for k in ("text", "label", "lang", "group") if k not in r]
        if missing:
            raise CostlabError(f"{path}:{i}: missing field(s) {missing}", "every row needs text, label, lang, group")
        out.append(
            {"text": r["text"], "label": r["label"], "lang": r["lang"], "template": FREEFORM_PREFIX + r["group"]}
        )
    return out


_DATA = _load()
CLASSES: tuple[str, ...] = tuple(_DATA["classes"])
SLOTS: dict[str, list[str]] = _DATA["slots"]
TEMPLATES: dict[str, dict[str, list[str]]] = _DATA["templates"]
TRAIN_TEMPLATES: dict[str, dict[str, list[str]]] = _load(TRAIN_TEMPLATES_PATH)["templates"]

_SLOT = re.compile(r"\{(\w+)\}")


def template_id(cls: str, lang: str, i: int) -> str:
    return f"{cls}/{lang}/{i:02d}"


def iter_templates() -> Iterator[tuple[str, str, str, str]]:
    """(template_id, class, lang, template) for every template of the split (train or test)."""
    for cls in CLASSES:
        for lang, ts in TEMPLATES[cls].items():
            for i, t in enumerate(ts):
                yield template_id(cls, lang, i), cls, lang, t


def iter_train_templates() -> Iterator[tuple[str, str, str, str]]:
    """(template_id, class, lang, template) for every training-only template (id "<class>/<lang>/tNN")."""
    for cls in CLASSES:
        for lang, ts in TRAIN_TEMPLATES.get(cls, {}).items():
            for i, t in enumerate(ts):
                yield f"{cls}/{lang}/t{i:02d}", cls, lang, t


def template_split(test_frac: float = 0.3, seed: int = 0) -> dict[str, str]:
    """template id -> "train" | "test": per (class, language), a seeded ``test_frac`` of templates (>= 1) is test."""
    rng = random.Random(seed)
    out: dict[str, str] = {}
    groups: dict[tuple[str, str], list[str]] = {}
    for tid, cls, lang, _ in iter_templates():
        groups.setdefault((cls, lang), []).append(tid)
    for key in sorted(groups):
        ids = groups[key][:]
        rng.shuffle(ids)
        k = max(1, round(test_frac * len(ids)))
        for j, tid in enumerate(ids):
            out[tid] = "test" if j < k else "train"
    return out


# Free-text slots: what a prompt is about, not what it asks for. Filling them across classes (a passage in a
# translation template, a data row in a reasoning one) keeps the classifier from learning the content as the task.
CONTENT: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _DATA["content_slots"].items()}


def fill(template: str, rng: random.Random, part: str, mix: bool = False) -> str:
    """Fill each slot with a value from that slot's ``part`` half (train: even indices, test: odd). ``mix``: a
    content slot takes a value of any content slot of its language (train-time augmentation)."""

    def pick(m: re.Match) -> str:
        name = m.group(1)
        if mix:
            for group in CONTENT.values():
                if name in group:
                    name = rng.choice(group)
        vals = SLOTS[name]
        half = vals[0::2] if part == "train" else vals[1::2]
        return rng.choice(half or vals)

    return _SLOT.sub(pick, template)


def make_rows(
    per_template: int = 12,
    test_frac: float = 0.3,
    seed: int = 0,
    mix_content: float = 0.5,
    train_only: bool = True,
    freeform: bool = True,
    decontaminate: tuple[Path, ...] = (WILD_PATH, BLIND_PATH),
) -> dict:
    """{"train": rows, "test": rows}; duplicates within a template are dropped. A ``mix_content`` share of the
    train rows has its content slots filled across classes (see ``CONTENT``); test rows never. ``train_only``:
    add the rows of the training-only templates (generated after all others: the split rows do not change).
    ``freeform``: append the free-form training rows (``freeform_rows``) to train, after everything else.
    Training rows whose normalized text equals a test row or a row of a ``decontaminate`` file (those that exist)
    are dropped; "dropped" counts them (no text is kept)."""
    split = template_split(test_frac, seed)
    rng = random.Random(seed + 1)
    out: dict = {"train": [], "test": []}
    extra = [(tid, "train", cls, lang, t) for tid, cls, lang, t in iter_train_templates()] if train_only else []
    for tid, part, cls, lang, t in [(tid, split[tid], c, lg, t) for tid, c, lg, t in iter_templates()] + extra:
        seen: set[str] = set()
        for _ in range(per_template * 3):
            if len(seen) >= per_template:
                break
            text = fill(t, rng, part, mix=part == "train" and rng.random() < mix_content)
            if text in seen:
                continue
            seen.add(text)
            out[part].append({"text": text, "label": cls, "lang": lang, "template": tid})
    if freeform:
        out["train"] += freeform_rows()
    evals = eval_texts(decontaminate) | {normalize_text(r["text"]) for r in out["test"]}
    kept = [r for r in out["train"] if normalize_text(r["text"]) not in evals]
    out["dropped"] = len(out["train"]) - len(kept)
    out["train"] = kept
    return out
