"""Runs inside the peers venv (TRL installed, costlab not): TRL's side of benchmarks/peers/bench_trl.py.

python trl_worker.py loss  TEACHER_DIR STUDENT_DIR BATCH.pt T [T ...]  -> TRL's forward-KL loss on the batch at each T
python trl_worker.py train TEACHER_DIR STUDENT_DIR BATCH.pt STEPS THREADS [--reuse-freed-memory] -> GKDTrainer steps,
    timed in lock step with costlab's trainer (lockstep.py: the parent runs one step of one trainer at a time);
    --reuse-freed-memory applies the heap setting costlab's KDTrainer applies (costlab/distill/heap.py, loaded by
    path: it is stdlib-only), to show how much of costlab's lead is that setting
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tempfile
from pathlib import Path

import torch


def load(teacher_dir: str, student_dir: str):
    from transformers import AutoModelForCausalLM

    t = AutoModelForCausalLM.from_pretrained(teacher_dir, dtype=torch.float32).eval()
    s = AutoModelForCausalLM.from_pretrained(student_dir, dtype=torch.float32)
    return t, s


def main() -> None:
    mode, tdir, sdir, bpath = sys.argv[1:5]
    from trl.experimental.gkd import GKDConfig, GKDTrainer

    batch = torch.load(bpath)
    teacher, student = load(tdir, sdir)
    if mode == "loss":
        with torch.no_grad():
            s = student(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1]
            t = teacher(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1]
        loss = {
            T: float(
                GKDTrainer.generalized_jsd_loss(s, t, labels=batch["labels"][:, 1:], beta=0.0, temperature=float(T))
            )
            for T in sys.argv[5:]
        }
        print(json.dumps({"loss": loss}))
        return
    steps, threads = int(sys.argv[5]), int(sys.argv[6])
    torch.set_num_threads(threads)
    reuse = "--reuse-freed-memory" in sys.argv[7:]
    if reuse:
        heap_py = Path(__file__).resolve().parents[2] / "src" / "costlab" / "distill" / "heap.py"
        spec = importlib.util.spec_from_file_location("costlab_heap", heap_py)
        heap = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(heap)
        if not heap.reuse_freed_memory():
            raise SystemExit("--reuse-freed-memory: not applied (not glibc?)")
    from datasets import Dataset
    from lockstep import TRAIN_ARGS, Lockstep, done
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(sdir)
    B = batch["input_ids"].shape[0]
    ds = Dataset.from_list([{"messages": [{"role": "user", "content": "x"}]}] * (B * (steps + 1)))
    args = GKDConfig(
        output_dir=tempfile.mkdtemp(),
        per_device_train_batch_size=B,
        max_steps=steps + 1,
        lmbda=0.0,  # no on-policy generation
        beta=0.0,  # forward KL
        seq_kd=False,
        **TRAIN_ARGS,  # the same as costlab's side: fp32 (GKDConfig defaults to bf16=True), see lockstep.py
    )
    trainer = GKDTrainer(
        model=student,
        teacher_model=teacher,
        args=args,
        train_dataset=ds,
        processing_class=tok,
        data_collator=lambda rows: {k: v.clone() for k, v in batch.items()},
        callbacks=[Lockstep()],
    )
    trainer.train()
    import trl

    mp = str(trainer.accelerator.mixed_precision)  # "no": fp32 like costlab's side (checked by bench_trl.py)
    done(
        {"trl": trl.__version__, "threads": torch.get_num_threads(), "mixed_precision": mp, "reuse_freed_memory": reuse}
    )


if __name__ == "__main__":
    main()
