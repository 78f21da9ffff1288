"""The evidence the routing rule acts on: per task class and variant, chance-normalized retention with its
paired bootstrap interval, n and the paired test (from eval/<variant>.json), plus the pooled ``general`` row
(every item of every class, resampled per item and paired) that the default route is built from.

The numbers are the eval stage's where its file carries them (``retention_lo/hi``, ``p_value``, ``test``,
``measurable``); a file that has the per-item scores but not the interval (an eval file written before
intervals existed) gets them from the same functions (costlab.stats) with the same confidence. The pooled row
is always computed here, from the per-item scores, because it spans classes. Bad input stops with a
CostlabError naming the file, the class and the fix, before any table is written (the eval files are only
read, never changed).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from costlab import stats
from costlab.errors import CostlabError
from costlab.io import read_jsonl
from costlab.stats import REFERENCE_TEST

GENERAL = "general"  # the pooled row; the router sends unknown and unrouted classes to it (default_route)


@dataclass
class Evidence:
    """One (task class, variant) retention vs the reference."""

    model: str
    retention: float | None
    retention_lo: float | None
    retention_hi: float | None
    n: int
    p_value: float | None  # paired test of variant vs reference (two-sided)
    test: str | None  # that test's name (exact McNemar, paired permutation)
    measurable: bool  # the reference is significantly above chance on these items
    reason: str  # why not measurable / why the interval is unbounded ("" when fine)
    score: float | None = None
    reference_score: float | None = None
    chance: float | None = None
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if not d["notes"]:
            d.pop("notes")
        return d


@dataclass
class StatsSettings:
    confidence: float
    n_boot: int
    seed: int


def stats_settings(ecfg: Mapping[str, Any], seed: int) -> StatsSettings:
    """Confidence and resamples of every interval: the eval group's ``stats`` section, the numbers the evaluate
    stage used (costlab.stats' defaults for an eval config without it); ``seed``: the run's seed, as in evaluate."""
    s = ecfg.get("stats") or {}
    return StatsSettings(
        float(s.get("confidence", stats.DEFAULT_CONFIDENCE)), int(s.get("n_boot", stats.DEFAULT_N_BOOT)), int(seed)
    )


# ---------------------------------------------------------------------------------------------- per-item scores
class ItemScores:
    """Per-item scores of each eval record, by class: {class: {item_id: score}} (read once per file)."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self._cache: dict[str, dict[str, dict[str, float]]] = {}

    def of(self, rec: Mapping[str, Any], cls: str) -> dict[str, float]:
        name = rec["variant"]
        if name not in self._cache:
            self._cache[name] = self._load(rec)
        by_cls = self._cache[name]
        q = (rec.get("quality") or {}).get(cls) or {}
        items = by_cls.get(cls)
        if not items:
            n = q.get("n")
            if n == 0 or (items is not None and not items):
                raise CostlabError(
                    f"{rec['_file']}: task class '{cls}' has 0 items — nothing was measured there",
                    f"check eval.quality.limit and the data file of task '{q.get('task', cls)}' "
                    "(configs/eval/tasks/), or remove the class from eval.quality.tasks; then re-run "
                    "evaluate (finished variants are reused)",
                )
            raise CostlabError(
                f"{rec['_file']}: task class '{cls}' has no per-item samples (n={n})",
                "re-run the evaluate stage with this costlab version: the routing rule needs the "
                "per-item scores (quality.<class>.item_scores + item_ids, or eval/samples/<variant>.jsonl)",
            )
        return items

    def _load(self, rec: Mapping[str, Any]) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for cls, q in (rec.get("quality") or {}).items():
            if isinstance(q, Mapping) and q.get("item_scores") is not None:
                s, ids = list(q["item_scores"]), q.get("item_ids")
                if ids is None or len(ids) != len(s):
                    raise CostlabError(
                        f"{rec['_file']}: quality.{cls}.item_scores has {len(s)} scores but item_ids "
                        f"{'is missing' if ids is None else f'has {len(ids)}'}",
                        "re-run evaluate: every per-item score needs its item id",
                    )
                out[cls] = {str(i): float(x) for i, x in zip(ids, s)}
        missing = [c for c in (rec.get("quality") or {}) if c not in out]
        if missing and rec.get("samples_file"):
            path = self.run_dir / rec["samples_file"]
            if not path.exists():
                raise CostlabError(
                    f"{rec['_file']}: its per-item samples file {path} is missing",
                    "restore it or re-run evaluate for this variant (delete its eval JSON first)",
                )
            for row in read_jsonl(path, required=("task_class", "score"), allow_empty=True):
                c = row["task_class"]
                if c in missing:
                    iid = row.get("id", row.get("doc_id"))
                    if iid is None:
                        raise CostlabError(f"{path}: a row of class '{c}' has no 'id'", "re-run evaluate")
                    out.setdefault(c, {})[str(iid)] = float(row["score"])
            for c in missing:
                out.setdefault(c, {})
        return out


def item_chance(rec: Mapping[str, Any], cls: str) -> dict[str, float]:
    """{item_id: chance score} of the reference's items of ``cls`` (``item_chance``; else the class's ``chance``;
    else 0 — an eval file from before chance scores existed, which the evidence then notes)."""
    q = (rec.get("quality") or {}).get(cls) or {}
    ids = q.get("item_ids")
    if ids is not None and q.get("item_chance") is not None:
        if len(q["item_chance"]) != len(ids):
            raise CostlabError(
                f"{rec['_file']}: quality.{cls}.item_chance has {len(q['item_chance'])} values for {len(ids)} items",
                "re-run evaluate",
            )
        return {str(i): float(c) for i, c in zip(ids, q["item_chance"])}
    return {}


def aligned(var: Mapping[str, float], ref: Mapping[str, float], where: str) -> tuple[list[float], list[float]]:
    """Scores of the same items in the reference's order; a variant missing reference items is an error."""
    lost = [i for i in ref if i not in var]
    if lost:
        raise CostlabError(
            f"{where}: {len(lost)} of the reference's {len(ref)} items have no score "
            f"(e.g. {lost[:3]}) — retention must compare the same items",
            "re-run evaluate for this variant with the same eval.quality settings as the reference",
        )
    keys = list(ref)
    return [var[i] for i in keys], [ref[i] for i in keys]


# ---------------------------------------------------------------------------------------------- evidence
def _from_file(q: Mapping[str, Any]) -> bool:
    return all(k in q for k in ("retention_lo", "retention_hi", "p_value", "test", "measurable"))


def _chances(ref: Mapping[str, Any], cls: str, ids: list[str]) -> tuple[list[float], list[str]]:
    """Per-item chance of the reference's items of ``cls`` (and a note when it had to be assumed)."""
    per_item = item_chance(ref, cls)
    if per_item:
        return [per_item.get(i, 0.0) for i in ids], []
    c = ((ref.get("quality") or {}).get(cls) or {}).get("chance")
    if c is None:
        return [0.0] * len(ids), ["no chance score in the eval file (written before schema v2): chance taken as 0"]
    return [float(c)] * len(ids), []


def class_evidence(
    evals: Mapping[str, Mapping[str, Any]], reference: str, classes: list[str], items: ItemScores, st: StatsSettings
) -> dict[str, dict[str, Evidence]]:
    """{class: {variant: Evidence}} for every ok variant (the reference included) and the pooled ``general``."""
    ref = evals.get(reference)
    if ref is None or ref.get("status") != "ok":
        raise CostlabError(
            f"eval/{reference}.json: the reference '{reference}' has no ok eval result",
            "run evaluate: every retention is relative to eval.reference",
        )
    if GENERAL in classes:
        raise CostlabError(
            f"eval.quality.tasks has a class named '{GENERAL}'",
            f"rename it: '{GENERAL}' is the pooled row the default route is built from",
        )
    ok = {n: r for n, r in sorted(evals.items()) if r.get("status") == "ok"}
    out: dict[str, dict[str, Evidence]] = {}
    ref_items: dict[str, dict[str, float]] = {}
    chance: dict[str, list[float]] = {}
    for c in classes:
        if (ref.get("quality") or {}).get(c) is None:
            raise CostlabError(
                f"{ref['_file']}: the reference has no result for task class '{c}'",
                "re-run evaluate with the same eval.quality.tasks",
            )
        ref_items[c] = items.of(ref, c)
        chance[c], notes = _chances(ref, c, list(ref_items[c]))
        meas = None
        out[c] = {}
        for name, rec in ok.items():
            q = (rec.get("quality") or {}).get(c)
            if q is None:
                raise CostlabError(
                    f"{rec['_file']}: no result for task class '{c}'",
                    "re-run evaluate for this variant with the same eval.quality.tasks",
                )
            v, r = aligned(items.of(rec, c), ref_items[c], f"{rec['_file']} class '{c}'")
            if _from_file(q):
                e = Evidence(
                    name,
                    q.get("retention"),
                    q.get("retention_lo"),
                    q.get("retention_hi"),
                    int(q["n"]),
                    q.get("p_value"),
                    q.get("test"),
                    bool(q["measurable"]),
                    str(q.get("measurable_reason") or ""),
                    q.get("score"),
                    q.get("reference_score"),
                    q.get("chance"),
                    rec["_file"],
                    list(notes),
                )
            else:
                if meas is None:
                    meas = stats.above_chance(r, chance[c], confidence=st.confidence, n_boot=st.n_boot, seed=st.seed)
                e = _computed(
                    name,
                    v,
                    r,
                    chance[c],
                    meas,
                    st,
                    rec["_file"],
                    notes + ["interval computed by build_tables from the per-item scores (the eval file has none)"],
                )
            if len(v) != e.n:
                raise CostlabError(
                    f"{rec['_file']}: class '{c}' says n={e.n} but has {len(v)} per-item scores",
                    "re-run evaluate for this variant",
                )
            out[c][name] = as_reference(e) if name == reference else e
    out[GENERAL] = pooled_evidence(ok, classes, items, ref_items, chance, st)
    if reference in out[GENERAL]:
        out[GENERAL][reference] = as_reference(out[GENERAL][reference])
    return out


def as_reference(e: Evidence) -> Evidence:
    """The reference against itself: retention 1 with no spread (``stats.REFERENCE_TEST``; the eval stage writes
    the same into the reference's file, this covers evidence computed here). n, score, measurability and notes
    are kept."""
    return replace(e, retention=1.0, retention_lo=1.0, retention_hi=1.0, p_value=None, test=REFERENCE_TEST)


def _computed(
    name: str,
    v: list[float],
    r: list[float],
    chance: list[float],
    meas: stats.Measurability,
    st: StatsSettings,
    source: str,
    notes: list[str],
) -> Evidence:
    ret = stats.paired_retention(v, r, chance, n_boot=st.n_boot, confidence=st.confidence, seed=st.seed)
    t = stats.paired_test(v, r, seed=st.seed)
    reason = meas.reason if not meas.measurable else ret.reason
    return Evidence(
        name,
        ret.retention,
        ret.lo,
        ret.hi,
        ret.n,
        t.p_value,
        t.test,
        meas.measurable,
        reason,
        sum(v) / len(v),
        sum(r) / len(r),
        sum(chance) / len(chance),
        source,
        notes,
    )


def pooled_evidence(
    ok: Mapping[str, Mapping[str, Any]],
    classes: list[str],
    items: ItemScores,
    ref_items: Mapping[str, Mapping[str, float]],
    chance: Mapping[str, list[float]],
    st: StatsSettings,
) -> dict[str, Evidence]:
    """The ``general`` row: every item of every class in one paired bootstrap (items resampled jointly for the
    variant and the reference; each item keeps its own chance score)."""
    r = [x for c in classes for x in ref_items[c].values()]
    ch = [x for c in classes for x in chance[c]]
    meas = stats.above_chance(r, ch, confidence=st.confidence, n_boot=st.n_boot, seed=st.seed)
    out = {}
    for name, rec in ok.items():
        v: list[float] = []
        for c in classes:
            v += aligned(items.of(rec, c), ref_items[c], f"{rec['_file']} class '{c}'")[0]
        out[name] = _computed(
            name,
            v,
            r,
            ch,
            meas,
            st,
            rec["_file"],
            [f"pooled: all {len(r)} items of the {len(classes)} classes, one paired bootstrap"],
        )
    return out
