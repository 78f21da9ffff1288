"""Compare two pruned students of the same size on calibration text and held-out teacher text.

    python -m costlab.student.compare RUN_DIR --baseline-drop 3 4 [--out FILE]

RUN_DIR is a run whose generate_teacher stage is done (its config.yaml names the teacher and the student).
Candidate: the configured pruned student (``PrunedStudent.build``: iterative drop, Minitron channel importance).
Baseline: the given layers dropped and MLP channels chosen by mean activation alone (the method before issue 10).
Per sequence: perplexity, KL(teacher‖student) and top-1 agreement against the teacher; means with bootstrap
intervals over sequences (token-weighted) and the paired difference candidate − baseline with its interval and a
paired permutation test (costlab.stats). Calibration = the train split the pruner ranks on; held-out = the
heldout split (never seen by the pruner).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from costlab.errors import CostlabError


def _sequences(rows, tok, max_len: int) -> list[dict]:
    from costlab.distill.data import row_tokens

    out = []
    for r in rows:
        p, resp = row_tokens(r, tok)
        ids = (p + resp)[:max_len]
        if len(ids) > len(p):
            out.append({"input_ids": ids, "start": len(p)})
    return out


def _per_seq(model, teacher, seqs: list[dict]) -> list[dict]:
    from costlab.fidelity import FidelityAccumulator, batch_logits

    acc = FidelityAccumulator()
    with torch.no_grad():
        for i in range(0, len(seqs), 4):
            b = seqs[i : i + 4]
            sl, tl = batch_logits(model, b), batch_logits(teacher, b)
            for j, s in enumerate(b):
                L, st = len(s["input_ids"]), int(s["start"])
                acc.add(sl[j, st - 1 : L - 1], torch.tensor(s["input_ids"][st:L]), teacher_logits=tl[j, st - 1 : L - 1])
    return acc.per_seq


def _summary(per: list[dict]) -> dict:
    from costlab.stats import mean_ci

    w = [p["n"] for p in per]
    out = {"n_sequences": len(per), "n_tokens": int(sum(w))}
    for k in ("nll", "kl", "top1"):
        ci = mean_ci([p[k] for p in per], weights=w)
        out[k] = [round(ci.mean, 4), round(ci.lo, 4), round(ci.hi, 4)]
    out["ppl"] = [round(math.exp(x), 3) for x in out["nll"]]
    return out


def _paired(cand: list[dict], base: list[dict]) -> dict:
    from costlab.stats import mean_ci, paired_test

    w = [p["n"] for p in cand]
    out = {}
    for k in ("nll", "kl", "top1"):
        d = [c[k] - b[k] for c, b in zip(cand, base)]
        ci = mean_ci(d, weights=w)
        t = paired_test([c[k] for c in cand], [b[k] for b in base])
        out[k] = {
            "diff": round(ci.mean, 4),
            "lo": round(ci.lo, 4),
            "hi": round(ci.hi, 4),
            "p_value": round(t.p_value, 4),
            "test": t.test,
        }
    return out


def compare(run_dir: Path, baseline_drop: list[int]) -> dict:
    from omegaconf import OmegaConf

    from costlab.io import read_jsonl
    from costlab.models import load_model_and_tokenizer
    from costlab.student.prune import (
        PrunedStudent,
        calib_nll,
        make_calib_batches,
        mlp_activation_means,
        n_params,
        prune_mlp,
        set_layers,
    )

    cfg = OmegaConf.load(run_dir / "config.yaml")
    td = run_dir / "teacher_data"
    if not (td / "train.jsonl").is_file():
        raise CostlabError(f"{td / 'train.jsonl'} not found", "run the generate_teacher stage for this run first")
    s = cfg.student
    teacher, tok, _ = load_model_and_tokenizer(cfg.teacher, cfg.paths.cache_dir)
    train_rows, held_rows = read_jsonl(td / "train.jsonl"), read_jsonl(td / "heldout.jsonl")
    from costlab.distill.data import row_tokens

    calib = [sum(row_tokens(r, tok), []) for r in train_rows]
    t0 = time.time()
    builder = PrunedStudent(
        drop_layers=int(s.drop_layers),
        importance=str(s.importance),
        shortlist=int(s.shortlist),
        mlp_width=s.mlp_width,
        calib_tokens=int(s.calib_tokens),
        calib_seq_len=int(s.calib_seq_len),
    )
    cand = builder.build(teacher, tok, calib)
    build_s = time.time() - t0
    rep = builder.report
    first = rep["depth"]["rounds"][0]["drop_ppl"]
    old_rule = sorted(int(k) for k in sorted(first, key=first.get)[: int(s.drop_layers)])

    base = copy.deepcopy(teacher).float().eval()
    n = base.config.num_hidden_layers
    set_layers(base, [i for i in range(n) if i not in baseline_drop])
    batches = make_calib_batches(calib, int(s.calib_tokens), int(s.calib_seq_len))
    if s.mlp_width:
        prune_mlp(base, mlp_activation_means(base, batches), int(s.mlp_width))
    if n_params(base) != n_params(cand):
        raise CostlabError(
            f"baseline has {n_params(base)} params, candidate {n_params(cand)}",
            "compare students of the same size (same number of dropped layers and width)",
        )
    calib_seqs = [{"input_ids": row.tolist(), "start": 1} for b in batches for row in b]
    held = _sequences(held_rows, tok, int(cfg.distill.max_seq_len))
    out = {
        "run_dir": str(run_dir),
        "params": n_params(cand),
        "teacher_params": n_params(teacher),
        "candidate": {
            "dropped_layers": rep["dropped_layers"],
            "method": [rep["depth"]["method"], rep["width"]["method"]],
            "calib_ppl_pruner": rep["student_ppl_calib"],
            "build_seconds": round(build_s, 1),
        },
        "baseline": {
            "dropped_layers": sorted(baseline_drop),
            "method": ["given layers", "mean |act(gate)·up| (activation only)"],
            "calib_ppl_pruner": round(math.exp(min(calib_nll(base, batches), 700.0)), 4),
        },
        "old_rule_on_round1": old_rule,
        "pruner_rounds": rep["depth"]["rounds"],
        "width_kept_same_as_activation_only": [l["kept_by_activation_alone"] for l in rep["width"]["layers"]],
    }
    for name, seqs in (("calibration", calib_seqs), ("heldout", held)):
        pc, pb, pt = _per_seq(cand, teacher, seqs), _per_seq(base, teacher, seqs), _per_seq(teacher, teacher, seqs)
        out[name] = {
            "candidate": _summary(pc),
            "baseline": _summary(pb),
            "teacher": _summary(pt),
            "candidate_minus_baseline": _paired(pc, pb),
        }
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--baseline-drop", type=int, nargs="+", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    res = compare(a.run_dir, a.baseline_drop)
    res["threads"] = a.threads
    from costlab.provenance import make_provenance

    td = a.run_dir / "teacher_data"
    res["provenance"] = make_provenance(
        {"run_dir": str(a.run_dir), "baseline_drop": a.baseline_drop, "threads": a.threads},
        seed=None,
        inputs={"train": td / "train.jsonl", "heldout": td / "heldout.jsonl"},
    )
    text = json.dumps(res, indent=1, default=lambda o: o.tolist() if isinstance(o, np.ndarray) else str(o))
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
