"""costlab's side of benchmarks/peers/bench_trl.py: the trainer `costlab distill` runs (KDTrainer, a transformers
Trainer whose loss is KDLoss), with the Trainer settings the TRL worker's GKDConfig gets too (lockstep.TRAIN_ARGS),
timed in lock step.

python kd_worker.py online TEACHER_DIR STUDENT_DIR BATCH.pt STEPS THREADS   # teacher forward in every step
python kd_worker.py topk   TEACHER_DIR STUDENT_DIR BATCH.pt STEPS THREADS   # stored teacher top-k: topk.pt beside BATCH.pt
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import torch


def main() -> None:
    mode, tdir, sdir, bpath = sys.argv[1:5]
    steps, threads = int(sys.argv[5]), int(sys.argv[6])
    torch.set_num_threads(threads)
    from lockstep import TRAIN_ARGS, Lockstep, done
    from transformers import AutoModelForCausalLM, TrainingArguments

    from costlab.distill.losses import KDLoss
    from costlab.distill.train import KDTrainer

    batch = torch.load(bpath)
    if mode == "topk":
        batch.update(torch.load(Path(bpath).with_name("topk.pt")))
    keys = ["input_ids", "attention_mask", "labels"] + (["topk_ids", "topk_logprobs"] if mode == "topk" else [])
    teacher = None
    if mode == "online":
        teacher = AutoModelForCausalLM.from_pretrained(tdir, dtype=torch.float32).eval()
    student = AutoModelForCausalLM.from_pretrained(sdir, dtype=torch.float32)
    B = batch["input_ids"].shape[0]
    args = TrainingArguments(
        output_dir=tempfile.mkdtemp(), per_device_train_batch_size=B, max_steps=steps + 1, **TRAIN_ARGS
    )
    trainer = KDTrainer(
        model=student,
        teacher=teacher,
        kd_loss=KDLoss(kind="forward_kl", temperature=1.0, alpha=1.0),
        args=args,
        train_dataset=[{"i": i} for i in range(B * (steps + 1))],
        data_collator=lambda rows: {k: batch[k].clone() for k in keys},
        callbacks=[Lockstep()],
    )
    trainer.train()
    done(
        {
            "threads": torch.get_num_threads(),
            "mixed_precision": str(trainer.accelerator.mixed_precision),
            "reuse_freed_memory": trainer.kept_freed_memory,  # KDTrainer's default (distill.keep_freed_memory)
        }
    )


if __name__ == "__main__":
    main()
