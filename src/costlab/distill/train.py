"""Train a student from teacher data with a KD loss: transformers Trainer + peft, checkpointed and resumable.

Stage outputs (``student/``): init/ (the untrained student, so a resume rebuilds the exact same start),
student_build.json (how it was built: dropped layers, widths, importance scores), checkpoints/ (Trainer
checkpoints; a re-run resumes from the last), merged/ (HF safetensors + tokenizer + provenance.json; LoRA
merged in), healing.json (held-out fidelity before/after).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from transformers import Trainer, TrainerCallback, TrainingArguments

from costlab.config import to_container
from costlab.distill.data import Collator, build_examples, is_truncated, load_teacher_rows, row_tokens
from costlab.errors import CostlabError
from costlab.fidelity import hf_fidelity
from costlab.io import atomic_write_json, read_json
from costlab.models import load_causal_lm, load_model_and_tokenizer
from costlab.provenance import make_provenance, write_provenance
from costlab.student.families import check_init_dir, check_resume_checkpoint

SIGNALS = ("online", "topk", "none")


class KDTrainer(Trainer):
    """Trainer whose loss is costlab's KDLoss; the teacher (online signal) is a frozen passenger."""

    def __init__(self, *args, kd_loss, teacher=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kd_loss = kd_loss
        self.teacher = teacher
        if teacher is not None:
            teacher.to(self.args.device).eval()
            for p in teacher.parameters():
                p.requires_grad_(False)
        self.loss_is_scaled_for_ga = False  # our loss is a per-batch mean
        self._parts: dict[str, list[float]] = {}

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        topk_ids = inputs.pop("topk_ids", None)
        topk_lp = inputs.pop("topk_logprobs", None)
        labels = inputs.pop("labels")
        out = model(**inputs)
        t_logits = None
        if self.teacher is not None and self.kd_loss.alpha > 0:
            with torch.no_grad():
                t_logits = self.teacher(**inputs).logits
        s_logits = out.logits
        if t_logits is not None and t_logits.shape[-1] != s_logits.shape[-1]:  # padded vocab rows, same tokenizer
            V = min(t_logits.shape[-1], s_logits.shape[-1])
            s_logits, t_logits = s_logits[..., :V], t_logits[..., :V]
        parts = self.kd_loss(s_logits, labels, teacher_logits=t_logits, topk_ids=topk_ids, topk_logprobs=topk_lp)
        for k in ("ce", "kd"):
            if k in parts:
                self._parts.setdefault(k, []).append(float(parts[k].detach()))
        return (parts["loss"], out) if return_outputs else parts["loss"]

    def log(self, logs: dict[str, float], *args, **kwargs) -> None:
        for k, v in self._parts.items():
            if v and "loss" in logs:
                logs[f"loss_{k}"] = round(sum(v) / len(v), 4)
        if "loss" in logs:
            self._parts = {}
        super().log(logs, *args, **kwargs)


class TimeBudget(TrainerCallback):
    """Stop (after saving a checkpoint) once ``max_minutes`` of training have passed in this process."""

    def __init__(self, max_minutes: float | None):
        self.max_s = None if max_minutes is None else float(max_minutes) * 60
        self.t0 = time.time()
        self.stopped_at: int | None = None

    def on_step_end(self, args, state, control, **kw):
        if self.max_s is not None and time.time() - self.t0 > self.max_s:
            control.should_training_stop = True
            control.should_save = True
            self.stopped_at = state.global_step
        return control


def _save_dir(model, tokenizer, dest: Path, provenance: dict | None = None) -> None:
    """Write an HF dir atomically (tmp dir + rename), so a crash never leaves a half-saved model."""
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    if provenance is not None:
        write_provenance(tmp, provenance)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    (dest / ".complete").touch()


def last_complete_checkpoint(ckpt_dir: Path) -> str | None:
    """Newest checkpoint whose trainer_state.json (the Trainer writes it last) is whole; a checkpoint torn by a
    kill mid-save is removed so it is neither resumed from nor counted by save_total_limit."""
    import json
    import re

    if not ckpt_dir.exists():
        return None
    best, best_step = None, -1
    for d in ckpt_dir.iterdir():
        m = re.fullmatch(r"checkpoint-(\d+)", d.name)
        if not m or not d.is_dir():
            continue
        try:
            json.loads((d / "trainer_state.json").read_text())
        except (OSError, ValueError):
            print(f"[costlab] removing incomplete checkpoint {d}")
            shutil.rmtree(d, ignore_errors=True)
            continue
        if int(m.group(1)) > best_step:
            best, best_step = str(d), int(m.group(1))
    return best


def heldout_sequences(rows: list[dict], tokenizer, max_len: int) -> list[dict]:
    seqs = []
    for r in rows:
        p, resp = row_tokens(r, tokenizer)
        ids = (p + resp)[:max_len]
        if len(ids) > len(p):
            seqs.append({"input_ids": ids, "start": len(p), "id": r["id"]})
    return seqs


def _init_wandb(cfg: DictConfig, run_dir: Path) -> None:
    if cfg.logger.report_to != "wandb":
        return
    import wandb

    if wandb.run is None:
        wandb.init(project=cfg.logger.project, mode=cfg.logger.mode, dir=str(cfg.logger.dir),
                   name=f"{cfg.exp_name}/{cfg.run_id}/train_student", group=f"{cfg.exp_name}/{cfg.run_id}",
                   config=to_container(cfg), tags=list(cfg.logger.tags))


def healing_table(h: dict) -> str:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"Healing on {h['after']['n_tokens']} held-out teacher tokens "
                    f"(student {h['student_params'] / 1e6:.1f}M vs teacher {h['teacher_params'] / 1e6:.1f}M params)")
    for c in ("model", "ppl", "KL(teacher‖model)", "top-1 agreement"):
        t.add_column(c, justify="right" if c != "model" else "left")
    t.add_row("teacher", f"{h['teacher']['ppl']:.2f}", "0", "1.000")
    for k in ("before", "after"):
        m = h[k]
        t.add_row(f"student {k} KD", f"{m['ppl']:.2f}", f"{m['kl']:.3f}", f"{m['top1_agreement']:.3f}")
    console = Console(record=True, width=100)
    console.print(t)
    return console.export_text()


def _check_tokenizer(build: dict, signal: str, cfg: DictConfig) -> None:
    if signal != "none" and not build.get("same_tokenizer", True):
        raise CostlabError(
            f"tokenizer mismatch: the student ({cfg.student.get('path', 'pruned')}) does not share the teacher's "
            f"tokenizer ({cfg.teacher.name}) — logit KD compares distributions token by token",
            "pick a student that shares the teacher's tokenizer, or set distill.teacher_signal=none (sequence-level KD)",
        )


def run_stage(cfg: DictConfig, run_dir: Path, out_dir: Path) -> dict[str, Any]:
    d = cfg.distill
    signal = str(d.teacher_signal)
    if signal not in SIGNALS:
        raise CostlabError(f"distill.teacher_signal={signal!r}", f"use one of {list(SIGNALS)}")
    if d.method not in ("full", "lora"):
        raise CostlabError(f"distill.method={d.method!r}", "use full or lora")
    td = run_dir / "teacher_data"
    if not (td / "train.jsonl").exists():
        raise CostlabError(f"{td / 'train.jsonl'} not found", "run the generate_teacher stage first "
                           "(costlab run +exp=NAME stages=[generate_teacher], or list it before train_student in `stages`)")
    from hydra.utils import instantiate

    loss = instantiate(d.loss)
    teacher, tok, teacher_path = load_model_and_tokenizer(cfg.teacher, cfg.paths.cache_dir)
    train_rows = load_teacher_rows(td / "train.jsonl")
    held_rows = load_teacher_rows(td / "heldout.jsonl")

    # 1. the untrained student: built once, saved, reused on resume
    init_dir = out_dir / "init"
    if (init_dir / ".complete").exists():
        check_init_dir(init_dir, teacher.config, cfg.student)  # init/ of another family/shape: refused by name
        student = load_causal_lm(str(init_dir))
        build = read_json(out_dir / "student_build.json")
        _check_tokenizer(build, signal, cfg)
    else:
        builder = instantiate(cfg.student)
        calib = [sum(row_tokens(r, tok), []) for r in train_rows]  # train split only: never the held-out text
        student = builder.build(teacher, tok, calib)
        build = builder.report
        _check_tokenizer(build, signal, cfg)
        _save_dir(student, tok, init_dir)
        atomic_write_json(out_dir / "student_build.json", build)
    for p in student.parameters():
        p.requires_grad_(True)

    # 2. held-out fidelity before training (cached: a resumed run does not recompute it)
    held = heldout_sequences(held_rows, tok, int(d.max_seq_len))
    before_path = out_dir / "healing_before.json"
    if before_path.exists():
        before = read_json(before_path)
    else:
        before = {"student": hf_fidelity(student, held, teacher=teacher, desc="held-out (before)"),
                  "teacher": hf_fidelity(teacher, held, desc="held-out (teacher)")}
        atomic_write_json(before_path, before)

    # 3. train
    if signal == "topk":
        temps = {r.get("topk", {}).get("temperature") for r in train_rows}
        if temps != {float(d.loss.temperature)}:
            raise CostlabError(
                f"teacher top-k log-probs were stored at temperature {sorted(map(str, temps))} but "
                f"distill.loss.temperature={d.loss.temperature}",
                "set distill.loss.temperature to teacher_data.logprob_temperature (or regenerate teacher data)",
            )
    examples = build_examples(train_rows, tok, int(d.max_seq_len), with_topk=(signal == "topk"),
                              truncated_rows=str(cfg.teacher_data.truncated_rows))
    model = student
    if d.method == "lora":
        from peft import get_peft_model

        model = get_peft_model(student, instantiate(d.lora, _convert_="all"))
    _init_wandb(cfg, run_dir)
    ckpt_dir = out_dir / "checkpoints"
    args = TrainingArguments(
        output_dir=str(ckpt_dir), seed=int(cfg.seed), report_to=cfg.logger.report_to,
        run_name=f"{cfg.exp_name}/{cfg.run_id}", remove_unused_columns=False, save_strategy="steps",
        use_cpu=not torch.cuda.is_available(), disable_tqdm=False, **to_container(d.trainer),
    )
    budget = TimeBudget(d.max_minutes)
    trainer = KDTrainer(model=model, args=args, train_dataset=examples, data_collator=Collator(tok.pad_token_id),
                        kd_loss=loss, teacher=teacher if signal == "online" else None, callbacks=[budget])
    last = last_complete_checkpoint(ckpt_dir)
    check_resume_checkpoint(last, model.config)  # a checkpoint of another model: refused by name
    if last:
        print(f"[costlab] resuming training from {last}")
    t0 = time.time()
    result = trainer.train(resume_from_checkpoint=last)
    train_s = time.time() - t0
    log_history = trainer.state.log_history
    atomic_write_json(out_dir / "train_log.json", log_history)

    # 4. merged export + provenance
    merged = model.merge_and_unload() if d.method == "lora" else model
    merged.eval()
    prov = make_provenance(to_container(cfg), seed=int(cfg.seed),
                           inputs={"teacher": teacher_path, "teacher_data_train": td / "train.jsonl"},
                           extra={"student_build": build, "global_step": trainer.state.global_step})
    _save_dir(merged, tok, out_dir / "merged", prov)

    # 5. healing report
    after = hf_fidelity(merged, held, teacher=teacher, desc="held-out (after)")
    healing = {"before": before["student"], "after": after, "teacher": before["teacher"],
               "student_params": build["student_params"], "teacher_params": build["teacher_params"],
               "param_ratio": build["param_ratio"], "global_step": trainer.state.global_step,
               "resumed_from": last, "stopped_by_time_budget": budget.stopped_at,
               "held_out_sequences": len(held)}
    atomic_write_json(out_dir / "healing.json", healing)
    if not d.keep_checkpoints:  # merged/ is the product; checkpoints (weights + optimizer) only serve resume
        shutil.rmtree(ckpt_dir, ignore_errors=True)
    table = healing_table(healing)
    (out_dir / "healing.txt").write_text(table)
    if cfg.logger.report_to == "wandb":
        import wandb

        wandb.log({f"healing/{k}_{m}": healing[k][m] for k in ("before", "after") for m in ("ppl", "kl", "top1_agreement")})
        wandb.finish()
    toks = sum(len(e["input_ids"]) for e in examples)
    return {"global_step": trainer.state.global_step, "train_loss": round(result.training_loss, 4),
            "train_seconds": round(train_s, 1), "train_examples": len(examples), "train_tokens_per_epoch": toks,
            "teacher_rows_truncated": sum(map(is_truncated, train_rows)),
            "truncated_examples_kept": sum(e["truncated"] for e in examples),
            "student_params": build["student_params"], "param_ratio": build["param_ratio"],
            "before": {k: before["student"].get(k) for k in ("ppl", "kl", "top1_agreement")},
            "after": {k: after.get(k) for k in ("ppl", "kl", "top1_agreement")}}
