"""The healing report: what KD recovered, measured three ways, each with n and a bootstrap interval.

1. ``heldout_teacher_responses``: the teacher's own responses to held-out prompts (the distribution KD trained on:
   same templates, different prompts). Perplexity, ``kl_dense`` = full-vocabulary KL(teacher‖model) per token, and
   top-1 agreement with the teacher.
2. ``general_text``: the same three figures on a held-out plain-text file (``distill.healing.general_text``, never
   trained or calibrated on), i.e. off the template distribution.
3. ``task_quality``: log-likelihood accuracy on the first ``mc_limit`` items of multiple-choice eval sets (the same
   lm-eval tasks and prompts as the evaluate stage, costlab.eval.quality), chance-normalized:
   (acc − c) / (1 − c), 0 = a uniform guesser, 1 = perfect; the before→after change is tested per item (paired).

An unpruned *control* (the teacher itself, trained with the same recipe and number of steps, ``distill.control``)
separates the gain from KD-healing the pruned student from the gain any model gets by fitting the teacher's
templates: if the control's task quality moves as much as the student's, the student's move is not healing.

Intervals come from costlab.stats (bootstrap over sequences, token-weighted, for the fidelity figures; over items for
task quality). The KL here is always dense (the teacher runs in-process); the evaluate stage's KL is a top-k + tail
lower bound and is named ``kl_topk_lower_bound`` there.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

import torch

from costlab.errors import CostlabError
from costlab.fidelity import FidelityAccumulator, batch_logits
from costlab.stats import above_chance, mean_ci, paired_test

KL_NAME = "kl_dense"
KL_DESCRIPTION = "kl_dense: full-vocabulary KL(teacher‖model) per token (not the top-k lower bound of the eval stage)"


def text_sequences(path: str | Path, tokenizer, seq_len: int, max_tokens: int) -> list[dict]:
    """Consecutive ``seq_len``-token windows of a plain-text file; every token after the first of a window is
    scored, until ``max_tokens`` scored tokens."""
    p = Path(path)
    if not p.is_file():
        raise CostlabError(
            f"distill.healing.general_text: {p} not found",
            "point it at a held-out plain-text file (data/text/heldout_general.txt ships with the repo)",
        )
    ids = tokenizer(p.read_text(encoding="utf-8"), add_special_tokens=False)["input_ids"]
    if seq_len < 2:
        raise CostlabError(f"distill.healing.general_seq_len={seq_len}", "use at least 2 tokens per window")
    seqs, scored = [], 0
    for i in range(0, len(ids) - 1, seq_len):
        w = ids[i : i + seq_len]
        if len(w) < 2 or scored >= max_tokens:
            break
        w = w[: max_tokens - scored + 1]
        seqs.append({"input_ids": w, "start": 1, "id": f"general-{i}"})
        scored += len(w) - 1
    if not seqs:
        raise CostlabError(f"{p}: fewer than 2 tokens of text", "use a file with some held-out prose in it")
    return seqs


@torch.no_grad()
def fidelity_ci(
    model, seqs: list[dict], teacher=None, *, n_boot: int, confidence: float, seed: int, batch_size: int = 4
) -> dict[str, Any]:
    """Perplexity (+ kl_dense and top-1 agreement when a teacher is given) with token-weighted bootstrap intervals
    over sequences."""
    acc = FidelityAccumulator()
    model.eval()
    for i in range(0, len(seqs), batch_size):
        batch = seqs[i : i + batch_size]
        logits = batch_logits(model, batch)
        t_logits = batch_logits(teacher, batch) if teacher is not None else None
        for j, s in enumerate(batch):
            st, L = int(s["start"]), len(s["input_ids"])
            if st < 1 or st >= L:
                continue
            tgt = torch.tensor(s["input_ids"][st:L])
            acc.add(
                logits[j, st - 1 : L - 1], tgt, teacher_logits=None if t_logits is None else t_logits[j, st - 1 : L - 1]
            )
    if not acc.per_seq:
        raise CostlabError(
            "healing report: no scorable sequence (each needs a target token after its context)",
            "raise distill.max_seq_len or use longer held-out text",
        )
    w = [r["n"] for r in acc.per_seq]
    kw = dict(weights=w, n_boot=n_boot, confidence=confidence, seed=seed)
    nll = mean_ci([r["nll"] for r in acc.per_seq], **kw)
    out: dict[str, Any] = {
        "n_sequences": len(w),
        "n_tokens": int(sum(w)),
        "ppl": math.exp(nll.mean),
        "ppl_lo": math.exp(nll.lo),
        "ppl_hi": math.exp(nll.hi),
        "nll": nll.mean,
    }
    if teacher is not None:
        kl = mean_ci([r["kl"] for r in acc.per_seq], **kw)
        top1 = mean_ci([r["top1"] for r in acc.per_seq], **kw)
        out.update(
            {
                KL_NAME: kl.mean,
                f"{KL_NAME}_lo": kl.lo,
                f"{KL_NAME}_hi": kl.hi,
                "top1_agreement": top1.mean,
                "top1_agreement_lo": top1.lo,
                "top1_agreement_hi": top1.hi,
            }
        )
    out["ci"] = f"{confidence:.0%} {nll.method}, {n_boot} resamples"
    return out


def quality_config(h: Mapping[str, Any]) -> dict[str, Any]:
    """The costlab.eval.quality plan for the healing report's multiple-choice subset."""
    return {
        "tasks_dir": str(h["tasks_dir"]),
        "tasks": dict(h["mc_tasks"]),
        "limit": int(h["mc_limit"]),
        "class_limits": None,
        "apply_chat_template": bool(h["apply_chat_template"]),
    }


def task_items(model, tokenizer, h: Mapping[str, Any], seed: int, batch_size: int = 8) -> dict[str, dict]:
    """Per-item log-likelihood accuracy of an HF model on the healing subset (lm-eval, same tasks as evaluate)."""
    if not h["mc_tasks"]:
        return {}
    from lm_eval.models.huggingface import HFLM

    from costlab.eval.quality import run_quality

    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size)
    summary, _ = run_quality(lm, quality_config(h), seed)
    for cls, s in summary.items():
        if s["output_type"] != "multiple_choice":
            raise CostlabError(
                f"distill.healing.mc_tasks.{cls}: task {s['task']} is {s['output_type']}",
                "the healing report scores multiple-choice tasks only (cheap log-likelihood items)",
            )
    return {
        cls: {k: s[k] for k in ("task", "metric", "n", "item_ids", "item_scores", "item_chance")}
        for cls, s in summary.items()
    }


def _normalized(items: dict) -> list[float]:
    return [(x - c) / (1.0 - c) for x, c in zip(items["item_scores"], items["item_chance"])]


def task_quality_table(models: dict[str, dict], *, n_boot: int, confidence: float, seed: int) -> dict[str, dict]:
    """Per class: each model's chance-normalized score with its interval; after − before (and the control's change)
    with a paired interval and a paired test. ``models``: name → task_items() result (teacher, before, after, ...)."""
    out: dict[str, dict] = {}
    classes = next(iter(models.values())).keys() if models else []
    for cls in classes:
        ref = models["before"][cls]
        row: dict[str, Any] = {
            "task": ref["task"],
            "metric": ref["metric"],
            "n": ref["n"],
            "chance": sum(ref["item_chance"]) / ref["n"],
            "score": "chance-normalized (acc - c) / (1 - c); 0 = uniform guess, 1 = all right",
        }
        for name, items in models.items():
            it = items[cls]
            if it["item_ids"] != ref["item_ids"]:
                raise CostlabError(f"healing task quality: {name} was scored on other items than 'before' ({cls})")
            m = mean_ci(_normalized(it), n_boot=n_boot, confidence=confidence, seed=seed)
            row[name] = {"acc": sum(it["item_scores"]) / it["n"], "score": m.mean, "score_lo": m.lo, "score_hi": m.hi}
        if "teacher" in models:  # is the class measurable with this reference at all?
            ac = above_chance(
                models["teacher"][cls]["item_scores"],
                models["teacher"][cls]["item_chance"],
                confidence=confidence,
                seed=seed,
            )
            row["teacher_above_chance"] = {
                "measurable": ac.measurable,
                "p_value": ac.p_value,
                "test": ac.test,
                "reason": ac.reason,
            }
        for base, new in (("before", "after"), ("teacher", "control_after")):
            if base in models and new in models:
                a, b = _normalized(models[new][cls]), _normalized(models[base][cls])
                d = mean_ci([x - y for x, y in zip(a, b)], n_boot=n_boot, confidence=confidence, seed=seed)
                t = paired_test(models[new][cls]["item_scores"], models[base][cls]["item_scores"], seed=seed)
                row[f"{new}_minus_{base}"] = {
                    "delta": d.mean,
                    "delta_lo": d.lo,
                    "delta_hi": d.hi,
                    "p_value": t.p_value,
                    "test": t.test,
                }
        out[cls] = row
    return out


def _fmt(m: Mapping[str, Any], key: str, digits: int) -> str:
    if key not in m:
        return "-"
    return f"{m[key]:.{digits}f} [{m[f'{key}_lo']:.{digits}f}, {m[f'{key}_hi']:.{digits}f}]"


def healing_text(h: Mapping[str, Any]) -> str:
    """healing.txt: one table per measurement, every figure with its interval."""
    from rich.console import Console
    from rich.table import Table

    console = Console(record=True, width=130)
    order = ("teacher", "before", "after", "control_after")
    label = {
        "teacher": "teacher",
        "before": "student before KD",
        "after": "student after KD",
        "control_after": "control: teacher after the same KD",
    }
    for block, title in (
        ("heldout_teacher_responses", "held-out teacher responses (the KD distribution)"),
        ("general_text", "held-out general text (off the template distribution)"),
    ):
        if block not in h:
            continue
        b = h[block]
        n = b["before"]
        t = Table(
            title=f"{title}: {n['n_tokens']} tokens in {n['n_sequences']} sequences, {h['confidence']:.0%} "
            f"bootstrap intervals over sequences"
        )
        for c in ("model", "ppl", f"{KL_NAME}(teacher‖model)", "top-1 agreement"):
            t.add_column(c, justify="left" if c == "model" else "right")
        for k in order:
            if k in b:
                m = b[k]
                t.add_row(
                    label[k],
                    _fmt(m, "ppl", 2),
                    "0 (reference)" if k == "teacher" else _fmt(m, KL_NAME, 3),
                    "1 (reference)" if k == "teacher" else _fmt(m, "top1_agreement", 3),
                )
        console.print(t)
    for cls, row in (h.get("task_quality") or {}).items():
        t = Table(
            title=f"task quality, {cls} ({row['task']}, {row['metric']}, n={row['n']}, chance {row['chance']:.2f}): "
            "chance-normalized score (acc-c)/(1-c)"
        )
        for c in ("model", row["metric"], "score [interval]"):
            t.add_column(c, justify="left" if c == "model" else "right")
        for k in order:
            if k in row:
                t.add_row(label[k], f"{row[k]['acc']:.3f}", _fmt(row[k], "score", 3))
        for k, name in (
            ("after_minus_before", "KD change (after - before)"),
            ("control_after_minus_teacher", "control change (same training, unpruned)"),
        ):
            if k in row:
                d = row[k]
                t.add_row(name, "", f"{_fmt(d, 'delta', 3)}  p={d['p_value']:.3g} ({d['test']})")
        console.print(t)
        ac = row.get("teacher_above_chance")
        if ac and not ac["measurable"]:
            console.print(
                f"  {cls}: not measurable with this reference (teacher not above chance, "
                f"p={ac['p_value']:.3g}, {ac['test']}): read its rows as noise"
            )
    if "control" in h:
        c = h["control"]
        console.print(
            f"control: {c['global_step']} steps in {c['train_seconds']:.0f} s training + "
            f"{c['measure_seconds']:.0f} s measuring (student: {h['train_seconds']:.0f} s training)"
        )
    console.print(
        f"student {h['student_params'] / 1e6:.1f}M vs teacher {h['teacher_params'] / 1e6:.1f}M params; {KL_DESCRIPTION}"
    )
    return console.export_text()
