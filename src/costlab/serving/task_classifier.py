"""The routing task classifier that is trained on varied wording (issue 12 finding 10).

Features: character 1-3-gram TF-IDF (works for Chinese, which has no spaces and which all-MiniLM-L6-v2 barely
covers: 244 CJK characters in its vocabulary) + word 1-2-gram TF-IDF + optionally the MiniLM sentence vector
the gateway already computes (weight ``minilm_weight``). Logistic regression on top. Training data:
costlab.serving.classifier_data (hand-written templates, English / Chinese / mixed), split by template.

``TextTaskClassifier`` subclasses ``LearnedClassifier`` so the gateway and router treat it the same way (the
request's embedding is passed in as ``vectors``); ``LearnedClassifier.load`` returns it for an artifact dir
that holds ``text_classifier.joblib``.

Evaluation (``evaluate``): accuracy on the test templates, per language, with an exact binomial interval over
items and a bootstrap interval over templates (items of one template are correlated, so the template
bootstrap is the honest one), the keyword rules scored on the same rows beside it, and the same on the
hand-written data/classifier/wild.jsonl (no template, no slot vocabulary).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from costlab.provenance import file_sha256
from costlab.serving.classifier_data import BLIND_PATH, WILD_PATH
from costlab.serving.classify import KeywordClassifier, LearnedClassifier

ARTIFACT = "text_classifier.joblib"


def edges(texts: list[str], n: int = 24) -> list[str]:
    """The first and last ``n`` characters of each text: where the instruction usually is ("Translate this into
    French: ...", "... 简单概括一下。"), so its n-grams are not drowned by the content in between."""
    return [t[:n] + " \u2016 " + t[-n:] if len(t) > 2 * n else t for t in texts]


def _vectorizer(max_features: int = 30000, edge_chars: int = 24):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.preprocessing import FunctionTransformer

    parts = [
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2, max_features=max_features),
        TfidfVectorizer(
            analyzer="word",
            ngram_range=(1, 2),
            sublinear_tf=True,
            token_pattern=r"(?u)\b\w+\b",
            max_features=max_features,
        ),
    ]
    if edge_chars > 0:
        parts.append(
            make_pipeline(
                FunctionTransformer(edges, kw_args={"n": edge_chars}),
                TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2),
            )
        )
    return make_union(*parts)


def _linear_model(model: str, C: float, seed: int):
    """``svm``: LinearSVC (chosen by template-grouped CV, docs/semantic-cache.md); ``logreg``: the earlier model."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    if model == "svm":
        return LinearSVC(C=C, max_iter=10000, random_state=seed)
    if model == "logreg":
        return LogisticRegression(C=C, max_iter=3000, random_state=seed)
    from costlab.errors import CostlabError

    raise CostlabError(f"classifier model {model!r} is not known", "use model='svm' or model='logreg'")


class TextTaskClassifier(LearnedClassifier):
    name = "learned-text"

    def __init__(
        self, vectorizer: Any, clf: Any, embedder: Any = None, minilm_weight: float = 0.0, meta: dict | None = None
    ):
        super().__init__(clf, embedder, meta)
        self.vectorizer = vectorizer
        self.minilm_weight = float(minilm_weight)

    def features(self, texts: list[str], vectors: np.ndarray | None = None):
        from scipy.sparse import csr_matrix, hstack

        x = self.vectorizer.transform(texts)
        if self.minilm_weight <= 0:
            return x
        v = vectors if vectors is not None else self.embedder.encode(texts)
        return hstack([x, csr_matrix(self.minilm_weight * np.asarray(v, np.float32))]).tocsr()

    def predict(self, texts: list[str], vectors: np.ndarray | None = None) -> list[str]:
        return [str(c) for c in self.clf.predict(self.features(texts, vectors))]

    def save(self, out_dir: str | Path) -> Path:
        import joblib

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        joblib.dump(
            {"vectorizer": self.vectorizer, "clf": self.clf, "minilm_weight": self.minilm_weight},
            out / ARTIFACT,
            compress=3,
        )
        return out / ARTIFACT

    @classmethod
    def load(cls, artifact_dir: str | Path, embedder: Any = None) -> TextTaskClassifier:
        import joblib

        from costlab.errors import CostlabError
        from costlab.io import read_json

        d = Path(artifact_dir)
        if not (d / ARTIFACT).exists():
            raise CostlabError(
                f"{d / ARTIFACT}: classifier artifact not found",
                "train it: costlab serve train-classifier --out DIR (or set router.classifier=keyword)",
            )
        meta = read_json(d / "metrics.json") if (d / "metrics.json").exists() else {}
        obj = joblib.load(d / ARTIFACT)
        if obj["minilm_weight"] > 0 and meta.get("embedder") and meta["embedder"] != getattr(embedder, "name", None):
            raise CostlabError(
                f"{d}: trained on embedder {meta['embedder']!r}, gateway uses {getattr(embedder, 'name', '?')!r}",
                "retrain the classifier with the gateway's embedder",
            )
        return cls(obj["vectorizer"], obj["clf"], embedder, obj["minilm_weight"], meta)


def fit(
    rows: list[dict],
    embedder: Any = None,
    minilm_weight: float = 1.0,
    C: float = 1.0,
    seed: int = 0,
    model: str = "svm",
    edge_chars: int = 24,
    vectors: np.ndarray | None = None,
    freeform_weight: float = 1.0,
) -> TextTaskClassifier:
    """``vectors``: the MiniLM vectors of ``rows`` if already computed (cross-validation reuses them).
    ``freeform_weight``: sample weight of the free-form rows (template "freeform/..."), the others weigh 1."""
    from costlab.serving.classifier_data import FREEFORM_PREFIX

    texts, labels = [r["text"] for r in rows], [r["label"] for r in rows]
    w = minilm_weight if embedder is not None else 0.0
    vec = _vectorizer(edge_chars=edge_chars).fit(texts)
    out = TextTaskClassifier(vec, None, embedder, w)
    sw = None
    if freeform_weight != 1.0:
        sw = np.array([freeform_weight if r["template"].startswith(FREEFORM_PREFIX) else 1.0 for r in rows])
    out.clf = _linear_model(model, C, seed).fit(out.features(texts, vectors), labels, sample_weight=sw)
    return out


def cross_validate(
    rows: list[dict],
    settings: list[dict],
    embedder: Any = None,
    folds: int = 5,
    seeds: tuple[int, ...] = (0, 1, 2),
    progress: bool = False,
) -> list[dict]:
    """Template-grouped k-fold cross-validation on TRAINING rows only, to choose ``fit`` settings before the test
    templates are scored once. Rows of the split's training templates, of the free-form groups ("freeform/...")
    and of data/prompts ("prompts/...") are dealt into folds by template / group; rows of training-only templates
    (id ".../tNN") are in every fold's training part. Accuracy is counted on held-out rows (not data/prompts),
    averaged over ``seeds`` (fold assignments): overall, per language, and per source ("templates": held-out
    template rows, "freeform": held-out free-form rows). A setting may carry ``"freeform_train": False``: the
    free-form rows are then held out and scored but never trained on (what the free-form rows add).
    Returns one {"settings", "accuracy": {all, en, zh, mixed, templates, freeform}} per entry of ``settings``."""
    import random

    from costlab.serving.classifier_data import FREEFORM_PREFIX

    def train_only(r: dict) -> bool:
        return is_train_only_template(r["template"])

    base = [r for r in rows if not train_only(r)]
    always = [r for r in rows if train_only(r)]
    vec_of: dict[str, np.ndarray] = {}
    if embedder is not None:
        texts = list(dict.fromkeys(r["text"] for r in rows))
        vec_of = dict(zip(texts, np.asarray(embedder.encode(texts), np.float32)))

    def vecs(rs: list[dict]) -> np.ndarray | None:
        return np.stack([vec_of[r["text"]] for r in rs]) if vec_of else None

    langs = np.array([r["lang"] for r in base])
    scored = np.array([not r["template"].startswith("prompts/") for r in base])
    free = np.array([r["template"].startswith(FREEFORM_PREFIX) for r in base])
    parts = {"templates": scored & ~free, "freeform": free}
    out = []
    for s in settings:
        fit_kw = {k: v for k, v in s.items() if k != "freeform_train"}
        train_free = s.get("freeform_train", True)
        acc: dict[str, list[float]] = {k: [] for k in ("all", "en", "zh", "mixed", *parts)}
        for seed in seeds:
            groups = sorted({r["template"] for r in base})
            random.Random(seed).shuffle(groups)
            fold = {g: i % folds for i, g in enumerate(groups)}
            correct = np.zeros(len(base), bool)
            for f in range(folds):
                tr = [r for r in base if fold[r["template"]] != f] + always
                if not train_free:
                    tr = [r for r in tr if not r["template"].startswith(FREEFORM_PREFIX)]
                idx = [i for i, r in enumerate(base) if fold[r["template"]] == f]
                held = [base[i] for i in idx]
                m = fit(tr, embedder, vectors=vecs(tr), **fit_kw)
                correct[idx] = np.array(m.predict([r["text"] for r in held], vecs(held))) == [r["label"] for r in held]
            acc["all"].append(float(correct[scored].mean()))
            for lang in ("en", "zh", "mixed"):
                keep = scored & (langs == lang)
                if keep.any():
                    acc[lang].append(float(correct[keep].mean()))
            for name, keep in parts.items():
                if keep.any():
                    acc[name].append(float(correct[keep].mean()))
        out.append({"settings": s, "accuracy": {k: float(np.mean(v)) for k, v in acc.items() if v}})
        if progress:  # long work shows progress: one line per setting (about a minute each on one thread)
            a = out[-1]["accuracy"]
            print(f"[{len(out)}/{len(settings)}] {s}: " + " ".join(f"{k} {v:.3f}" for k, v in a.items()), flush=True)
    return out


def is_train_only_template(template: str) -> bool:
    """A training-only template id ("<class>/<lang>/tNN"): never held out in cross-validation."""
    import re

    return bool(re.fullmatch(r"[a-z]+/(en|zh|mixed)/t\d+", template))


def _acc_block(correct: np.ndarray, groups: list[str] | None) -> dict:
    from costlab.stats import mean_ci, proportion_ci

    n, k = int(correct.size), int(correct.sum())
    lo, hi = proportion_ci(k, n)
    out = {"n": n, "accuracy": k / n, "ci_items": [lo, hi], "ci_items_method": "exact binomial (Clopper-Pearson) 95%"}
    if groups is not None:
        g = sorted(set(groups))
        per = np.array([correct[[x == t for x in groups]].mean() for t in g])
        cnt = np.array([sum(x == t for x in groups) for t in g], float)
        if len(g) > 1:
            m = mean_ci(per, weights=cnt)
            out.update(
                {
                    "n_templates": len(g),
                    "ci_templates": [m.lo, m.hi],
                    "ci_templates_method": "bootstrap over templates (item-weighted), percentile 95%",
                }
            )
    return out


def score(rows: list[dict], pred: list[str], by_template: bool) -> dict:
    """Accuracy overall and per language (en / zh / mixed) with intervals."""
    y = np.array([r["label"] for r in rows])
    p = np.array(pred)
    langs = np.array([r["lang"] for r in rows])
    groups = [r["template"] for r in rows] if by_template else None
    out = {"all": _acc_block(p == y, groups)}
    for lang in ("en", "zh", "mixed"):
        m = langs == lang
        if m.any():
            out[lang] = _acc_block((p == y)[m], [g for g, keep in zip(groups, m) if keep] if groups else None)
    return out


# The blind set (BLIND_PATH, from classifier_data): free-form prompts written by someone who saw only
# data/classifier/CLASSES.md (never the templates, the free-form training rows or this code). Scored once, on the
# frozen model; nothing is tuned on it.


def evaluate(
    model: TextTaskClassifier,
    test_rows: list[dict],
    wild_rows: list[dict] | None = None,
    vectors: dict[str, np.ndarray] | None = None,
    blind_rows: list[dict] | None = None,
) -> dict:
    """Accuracy of ``model`` and of the keyword rules on each set: "unseen_templates" (intervals: exact binomial
    over items and bootstrap over templates), "wild" and "blind" (exact binomial over items), per language."""
    kw = KeywordClassifier(default="qa")  # the baseline; "qa" = its most common right answer for a question
    res: dict[str, Any] = {}
    sets = (("unseen_templates", test_rows, True), ("wild", wild_rows or [], False), ("blind", blind_rows or [], False))
    for name, rows, by_t in sets:
        if not rows:
            continue
        texts = [r["text"] for r in rows]
        res[name] = {
            "learned": score(rows, model.predict(texts, (vectors or {}).get(name)), by_t),
            "keyword": score(rows, kw.predict(texts), by_t),
        }
    return res


def prompt_rows(path: str | Path) -> list[dict]:
    """Prompt rows in the data/prompts format as classifier rows (template "prompts/<group>", lang "en")."""
    from costlab.data.prompts import load_prompts
    from costlab.serving.classify import texts_and_labels

    prompts = load_prompts(path)
    texts, labels = texts_and_labels(prompts)
    return [
        {"text": t, "label": y, "lang": "en", "template": f"prompts/{p.get('group', '?')}"}
        for t, y, p in zip(texts, labels, prompts)
    ]


def train_and_evaluate(
    out_dir: str | Path,
    embedder: Any = None,
    minilm_weight: float = 1.0,
    C: float = 3.0,  # chosen by grouped CV on training rows (data/classifier/select_settings.json)
    per_template: int = 12,
    test_frac: float = 0.3,
    seed: int = 0,
    wild_path: str | Path | None = None,
    extra_train_path: str | Path | None = None,
    model: str = "svm",
    edge_chars: int = 24,
    freeform: bool = True,
    freeform_weight: float = 1.0,
    blind_path: str | Path | None = None,
) -> dict:
    """Generate the data, split by template, fit on train templates + the free-form training rows (``freeform``)
    (+ ``extra_train_path``: prompt rows in the data/prompts format, e.g. the distillation train split, whose
    wording is not from any template here), evaluate on the test templates (+ wild set, + the blind set at
    ``blind_path`` if that file exists; None: not scored), save ``out_dir/{text_classifier.joblib, metrics.json,
    provenance.json}``. Returns the metrics."""
    from costlab.io import atomic_write_json
    from costlab.provenance import make_provenance, write_provenance
    from costlab.serving.classifier_data import (
        FREEFORM_PATH,
        FREEFORM_PREFIX,
        TEMPLATES_PATH,
        TRAIN_TEMPLATES_PATH,
        eval_texts,
        iter_templates,
        make_rows,
        normalize_text,
    )

    t0 = time.time()
    # decontamination: training rows equal (normalized) to a test row or to a wild / blind row are dropped, whether
    # or not the blind set is scored in this run (only the count is kept)
    decon = tuple(sorted({Path(p) for p in (WILD_PATH, BLIND_PATH, wild_path, blind_path) if p}))
    data = make_rows(per_template=per_template, test_frac=test_frac, seed=seed, freeform=freeform, decontaminate=decon)
    split_ids = [tid for tid, *_ in iter_templates()]
    extra = prompt_rows(extra_train_path) if extra_train_path else []
    evals = eval_texts(decon) | {normalize_text(r["text"]) for r in data["test"]}
    n_extra = len(extra)
    extra = [r for r in extra if normalize_text(r["text"]) not in evals]
    decontaminated = {
        "dropped_train_rows": data["dropped"] + n_extra - len(extra),
        "against": {"test_templates": "generated rows", **{str(p): file_sha256(p) for p in decon if p.exists()}},
        "rule": "normalized text equal (NFKC, lowercase, punctuation and whitespace collapsed)",
    }
    clf = fit(
        data["train"] + extra,
        embedder,
        minilm_weight,
        C,
        seed,
        model=model,
        edge_chars=edge_chars,
        freeform_weight=freeform_weight,
    )
    fit_s = time.time() - t0
    # the fit settings: in metrics.json and as the provenance's config
    settings = {
        "C": C,
        "model": model,
        "edge_chars": edge_chars,
        "minilm_weight": clf.minilm_weight,
        "per_template": per_template,
        "test_frac": test_frac,
        "freeform": freeform,
        "freeform_weight": freeform_weight,
    }
    n_free = sum(r["template"].startswith(FREEFORM_PREFIX) for r in data["train"])
    metrics = {
        "kind": f"tfidf-char+word+edges{edge_chars}" + ("+minilm" if clf.minilm_weight > 0 else "") + f"/{model}",
        "embedder": getattr(embedder, "name", None) if clf.minilm_weight > 0 else None,
        "classes": sorted({r["label"] for r in data["train"]}),
        "n_train": len(data["train"]) + len(extra),
        "n_train_extra": len(extra),
        "n_test": len(data["test"]),
        "train_templates": sorted({r["template"] for r in data["train"]}),
        "test_templates": sorted({r["template"] for r in data["test"]}),
        "split": "by template (no template id in both); slot values split by index parity",
        "n_train_only_templates": len(
            {r["template"] for r in data["train"] if not r["template"].startswith(FREEFORM_PREFIX)} - set(split_ids)
        ),
        "n_train_freeform": n_free,
        "decontaminated": decontaminated,
        "seed": seed,
        "fit_seconds": round(fit_s, 1),
        **settings,
    }
    metrics.update(_eval_sets(clf, data["test"], wild_path, blind_path))
    out = Path(out_dir)
    art = clf.save(out)
    metrics["artifact_sha256"] = file_sha256(art)
    atomic_write_json(out / "metrics.json", metrics)
    write_provenance(
        out,
        make_provenance(
            settings,
            seed=seed,
            inputs={
                "templates": TEMPLATES_PATH,
                "train_templates": TRAIN_TEMPLATES_PATH,
                "train_freeform": FREEFORM_PATH if freeform else None,
                "wild": wild_path,
                "extra_train": extra_train_path,
            },
        ),
    )
    return metrics


def _eval_sets(clf: TextTaskClassifier, test_rows: list[dict], wild_path, blind_path) -> dict:
    """``evaluate`` on the test rows, the wild set and (if its file exists) the blind set; a blind set that is not
    scored leaves {"blind": {"skipped": why}} so the metrics say so."""
    from costlab.io import read_jsonl

    wild = read_jsonl(wild_path, required=("text", "label", "lang")) if wild_path else None
    blind = None
    note = None
    if blind_path is None:
        note = "not scored (disabled: --no-blind)"
    elif not Path(blind_path).exists():
        note = f"not scored: {blind_path} does not exist"
    else:
        blind = read_jsonl(blind_path, required=("text", "label", "lang"))
    res = evaluate(clf, test_rows, wild, blind_rows=blind)
    if blind is not None:
        res["blind"]["path"] = str(blind_path)
        res["blind"]["sha256"] = file_sha256(Path(blind_path))
    else:
        res["blind"] = {"skipped": note}
    return res


def score_artifact(
    artifact_dir: str | Path, embedder: Any = None, wild_path: str | Path | None = None, blind_path=None
) -> dict:
    """Score an already trained artifact (no refit: the frozen model) on the sets of ``_eval_sets``; the test
    rows are regenerated with the artifact's own settings (from its metrics.json). Updates metrics.json with the
    new blocks and the time they were scored. Returns the metrics."""
    from costlab.errors import CostlabError
    from costlab.io import atomic_write_json, read_json
    from costlab.serving.classifier_data import make_rows

    d = Path(artifact_dir)
    if not (d / "metrics.json").exists():
        raise CostlabError(f"{d}/metrics.json not found", "train first: costlab serve train-classifier --out DIR")
    metrics = read_json(d / "metrics.json")
    sha = file_sha256(d / ARTIFACT) if (d / ARTIFACT).exists() else None
    if sha is None or metrics.get("artifact_sha256") not in (None, sha):
        raise CostlabError(f"{d / ARTIFACT}: not the artifact its metrics.json describes", "retrain it")
    clf = TextTaskClassifier.load(d, embedder)
    test = make_rows(
        per_template=metrics["per_template"],
        test_frac=metrics["test_frac"],
        seed=metrics.get("seed", 0),
        freeform=False,
    )["test"]
    metrics.update(_eval_sets(clf, test, wild_path, blind_path))
    metrics["scored_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    metrics["artifact_sha256"] = sha
    atomic_write_json(d / "metrics.json", metrics)
    return metrics


def format_metrics(m: dict) -> str:
    lines = [
        f"task classifier ({m['kind']}): trained on {m['n_train']} prompts ({m.get('n_train_extra', 0)} of them "
        f"from data/prompts, {m.get('n_train_freeform', 0)} free-form) from {len(m['train_templates'])} templates "
        f"and groups; tested on {m['n_test']} prompts from {len(m['test_templates'])} other templates"
    ]
    for name in ("unseen_templates", "wild", "blind"):
        if name not in m:
            continue
        if "skipped" in m[name]:
            lines.append(f"{name}: {m[name]['skipped']}")
            continue
        lines.append(f"{name}:  {'lang':<6} {'n':>4}  {'learned':>7} [95% CI]          {'keyword':>7} [95% CI]")
        for lang in ("all", "en", "zh", "mixed"):
            if lang not in m[name]["learned"]:
                continue
            a, b = m[name]["learned"][lang], m[name]["keyword"][lang]
            ci = a.get("ci_templates", a["ci_items"])
            cb = b.get("ci_templates", b["ci_items"])
            lines.append(
                f"{'':<{len(name) + 3}}{lang:<6} {a['n']:>4}  {a['accuracy']:>7.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"
                f"   {b['accuracy']:>7.3f} [{cb[0]:.3f}, {cb[1]:.3f}]"
            )
    lines.append("intervals: unseen_templates = bootstrap over templates; wild, blind = exact binomial over items")
    return "\n".join(lines)
