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
) -> TextTaskClassifier:
    """``vectors``: the MiniLM vectors of ``rows`` if already computed (cross-validation reuses them)."""
    texts, labels = [r["text"] for r in rows], [r["label"] for r in rows]
    w = minilm_weight if embedder is not None else 0.0
    vec = _vectorizer(edge_chars=edge_chars).fit(texts)
    out = TextTaskClassifier(vec, None, embedder, w)
    out.clf = _linear_model(model, C, seed).fit(out.features(texts, vectors), labels)
    return out


def cross_validate(
    rows: list[dict],
    settings: list[dict],
    embedder: Any = None,
    folds: int = 5,
    seeds: tuple[int, ...] = (0, 1, 2),
) -> list[dict]:
    """Template-grouped k-fold cross-validation on TRAINING rows only, to choose ``fit`` settings before the test
    templates are scored once. Rows of the split's training templates and of data/prompts ("prompts/...") are
    dealt into folds by template; rows of training-only templates (id ".../tNN") are in every fold's training
    part. Accuracy is counted on held-out template rows (not data/prompts), averaged over ``seeds`` (fold
    assignments). Returns one {"settings", "accuracy": {all, en, zh, mixed}} per entry of ``settings``."""
    import random

    def train_only(r: dict) -> bool:
        return r["template"].rsplit("/", 1)[-1].startswith("t")

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
    out = []
    for s in settings:
        acc: dict[str, list[float]] = {k: [] for k in ("all", "en", "zh", "mixed")}
        for seed in seeds:
            groups = sorted({r["template"] for r in base})
            random.Random(seed).shuffle(groups)
            fold = {g: i % folds for i, g in enumerate(groups)}
            correct = np.zeros(len(base), bool)
            for f in range(folds):
                tr = [r for r in base if fold[r["template"]] != f] + always
                idx = [i for i, r in enumerate(base) if fold[r["template"]] == f]
                held = [base[i] for i in idx]
                m = fit(tr, embedder, vectors=vecs(tr), **s)
                correct[idx] = np.array(m.predict([r["text"] for r in held], vecs(held))) == [r["label"] for r in held]
            acc["all"].append(float(correct[scored].mean()))
            for lang in ("en", "zh", "mixed"):
                keep = scored & (langs == lang)
                if keep.any():
                    acc[lang].append(float(correct[keep].mean()))
        out.append({"settings": s, "accuracy": {k: float(np.mean(v)) for k, v in acc.items() if v}})
    return out


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


def evaluate(
    model: TextTaskClassifier,
    test_rows: list[dict],
    wild_rows: list[dict] | None = None,
    vectors: dict[str, np.ndarray] | None = None,
) -> dict:
    kw = KeywordClassifier(default="qa")  # the baseline; "qa" = its most common right answer for a question
    res: dict[str, Any] = {}
    for name, rows, by_t in (("unseen_templates", test_rows, True), ("wild", wild_rows or [], False)):
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
    C: float = 1.0,
    per_template: int = 12,
    test_frac: float = 0.3,
    seed: int = 0,
    wild_path: str | Path | None = None,
    extra_train_path: str | Path | None = None,
    model: str = "svm",
    edge_chars: int = 24,
) -> dict:
    """Generate the data, split by template, fit on train templates (+ ``extra_train_path``: prompt rows in the
    data/prompts format, e.g. the distillation train split, whose wording is not from any template here),
    evaluate on the test templates (+ wild set), save ``out_dir/{text_classifier.joblib, metrics.json,
    provenance.json}``. Returns the metrics."""
    from costlab.io import atomic_write_json, read_jsonl
    from costlab.provenance import make_provenance, write_provenance
    from costlab.serving.classifier_data import TEMPLATES_PATH, TRAIN_TEMPLATES_PATH, iter_templates, make_rows

    t0 = time.time()
    data = make_rows(per_template=per_template, test_frac=test_frac, seed=seed)
    split_ids = [tid for tid, *_ in iter_templates()]
    extra = prompt_rows(extra_train_path) if extra_train_path else []
    clf = fit(data["train"] + extra, embedder, minilm_weight, C, seed, model=model, edge_chars=edge_chars)
    fit_s = time.time() - t0
    wild = read_jsonl(wild_path, required=("text", "label", "lang")) if wild_path else None
    # the fit settings: in metrics.json and as the provenance's config
    settings = {
        "C": C,
        "model": model,
        "edge_chars": edge_chars,
        "minilm_weight": clf.minilm_weight,
        "per_template": per_template,
        "test_frac": test_frac,
    }
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
        "n_train_only_templates": len({r["template"] for r in data["train"]} - set(split_ids)),
        **evaluate(clf, data["test"], wild),
        "fit_seconds": round(fit_s, 1),
        **settings,
    }
    out = Path(out_dir)
    clf.save(out)
    atomic_write_json(out / "metrics.json", metrics)
    write_provenance(
        out,
        make_provenance(
            settings,
            seed=seed,
            inputs={
                "templates": TEMPLATES_PATH,
                "train_templates": TRAIN_TEMPLATES_PATH,
                "wild": wild_path,
                "extra_train": extra_train_path,
            },
        ),
    )
    return metrics


def format_metrics(m: dict) -> str:
    lines = [
        f"task classifier ({m['kind']}): trained on {m['n_train']} prompts ({m.get('n_train_extra', 0)} of them "
        f"from data/prompts) from {len(m['train_templates'])} templates; tested on {m['n_test']} prompts from "
        f"{len(m['test_templates'])} other templates"
    ]
    for name in ("unseen_templates", "wild"):
        if name not in m:
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
    lines.append("intervals: unseen_templates = bootstrap over templates; wild = exact binomial over items")
    return "\n".join(lines)
