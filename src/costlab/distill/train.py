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
from omegaconf import DictConfig
from transformers import Trainer, TrainerCallback, TrainingArguments

from costlab.config import to_container
from costlab.distill.data import Collator, build_examples, is_truncated, load_teacher_rows, row_tokens
from costlab.distill.heap import reuse_freed_memory
from costlab.errors import CostlabError
from costlab.io import atomic_write_json, read_json
from costlab.models import load_causal_lm, load_model_and_tokenizer
from costlab.provenance import make_provenance, write_provenance
from costlab.student.families import check_init_dir, check_resume_checkpoint

SIGNALS = ("online", "topk", "none")


class KDTrainer(Trainer):
    """Trainer whose loss is costlab's KDLoss; the teacher (online signal) is a frozen passenger."""

    def __init__(self, *args, kd_loss, teacher=None, keep_freed_memory: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.kept_freed_memory = reuse_freed_memory() if keep_freed_memory else False
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
        # every rank calls log() at the same steps (the Trainer gathers "loss" there): average the parts across
        # ranks too, so loss_ce / loss_kd describe the whole global batch like "loss" does
        multi = self.accelerator.num_processes > 1
        for k, v in sorted(self._parts.items()):
            if v and "loss" in logs:
                m = torch.tensor(sum(v) / len(v), device=self.args.device)
                if multi:
                    m = self.accelerator.reduce(m, reduction="mean")
                logs[f"loss_{k}"] = round(float(m), 4)
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
        if self.max_s is None:
            return control
        over = [time.time() - self.t0 > self.max_s]
        if args.world_size > 1:  # every rank must stop at the same step (else DDP hangs): the main process decides
            from accelerate.utils import broadcast_object_list

            broadcast_object_list(over, from_process=0)
        if over[0]:
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
        wandb.init(
            project=cfg.logger.project,
            mode=cfg.logger.mode,
            dir=str(cfg.logger.dir),
            name=f"{cfg.exp_name}/{cfg.run_id}/train_student",
            group=f"{cfg.exp_name}/{cfg.run_id}",
            config=to_container(cfg),
            tags=list(cfg.logger.tags),
        )


def _check_tokenizer(build: dict, signal: str, cfg: DictConfig) -> None:
    if signal != "none" and not build.get("same_tokenizer", True):
        raise CostlabError(
            f"tokenizer mismatch: the student ({cfg.student.get('path', 'pruned')}) does not share the teacher's "
            f"tokenizer ({cfg.teacher.name}) — logit KD compares distributions token by token",
            "pick a student that shares the teacher's tokenizer, or set distill.teacher_signal=none (sequence-level KD)",
        )


def _rank_state():
    """accelerate's process state (one process → a trivial one). Under ``accelerate launch`` every rank runs this
    stage; only the main process writes files, the others wait at barriers and read what it wrote."""
    from accelerate import PartialState

    return PartialState(cpu=not torch.cuda.is_available())


def _train(
    cfg: DictConfig,
    model,
    tok,
    examples: list[dict],
    loss,
    teacher,
    ckpt_dir: Path,
    max_steps: int | None,
    max_minutes: float | None,
    state,
    report_to: str,
) -> tuple[KDTrainer, Any, float, str | None, TimeBudget]:
    """One Trainer run (resumed from the newest whole checkpoint in ``ckpt_dir``); the same recipe for the student and
    for the unpruned control."""
    d = cfg.distill
    targs = to_container(d.trainer)
    if max_steps is not None:
        targs["max_steps"] = int(max_steps)
    args = TrainingArguments(
        output_dir=str(ckpt_dir),
        seed=int(cfg.seed),
        report_to=report_to,
        run_name=f"{cfg.exp_name}/{cfg.run_id}",
        remove_unused_columns=False,
        save_strategy="steps",
        use_cpu=not torch.cuda.is_available(),
        disable_tqdm=False,
        **targs,
    )
    budget = TimeBudget(max_minutes)
    trainer = KDTrainer(
        model=model,
        args=args,
        train_dataset=examples,
        data_collator=Collator(tok.pad_token_id),
        kd_loss=loss,
        teacher=teacher if str(d.teacher_signal) == "online" else None,
        keep_freed_memory=bool(d.keep_freed_memory),
        callbacks=[budget],
    )
    if state.is_main_process:  # removes torn checkpoints: one process only, then everyone picks the same one
        last_complete_checkpoint(ckpt_dir)
    state.wait_for_everyone()
    last = last_complete_checkpoint(ckpt_dir)
    check_resume_checkpoint(last, model.config)  # a checkpoint of another model: refused by name
    if last:
        print(f"[costlab] resuming training from {last}")
    t0 = time.time()
    result = trainer.train(resume_from_checkpoint=last)
    return trainer, result, time.time() - t0, last, budget


def _plain_model(trainer: KDTrainer, model, fresh, method: str):
    """The trained weights as one plain (unsharded, LoRA-merged) model, in eval mode.

    DDP / one process: every rank already holds the whole model. FSDP / DeepSpeed ZeRO-3 shard it: the full state
    dict is gathered (a collective: every rank calls this) and loaded into a fresh unsharded copy on the main process;
    other ranks get None. (That sharded branch needs GPUs: accelerate runs FSDP/DeepSpeed only there.)"""
    from accelerate.utils import DistributedType

    acc = trainer.accelerator
    if acc.distributed_type in (DistributedType.FSDP, DistributedType.DEEPSPEED):
        sd = acc.get_state_dict(trainer.model_wrapped)
        if not acc.is_main_process:
            return None
        model = fresh()
        model.load_state_dict(sd)
    merged = model.merge_and_unload() if method == "lora" else model
    return merged.eval()


def _measure(
    name: str, model, teacher, tok, sets: dict[str, list[dict]], h: DictConfig, seed: int, with_tasks: bool
) -> dict:
    """Every healing figure of one model (fidelity blocks + task items), with its wall time."""
    from costlab.distill import healing

    t0 = time.time()
    kw = dict(n_boot=int(h.n_boot), confidence=float(h.confidence), seed=seed)
    out = {block: healing.fidelity_ci(model, seqs, teacher=teacher, **kw) for block, seqs in sets.items()}
    if with_tasks:
        out["task_items"] = healing.task_items(model, tok, h, seed)
    out["seconds"] = round(time.time() - t0, 1)
    print(f"[costlab] healing figures for {name}: {out['seconds']} s")
    return out


def run_stage(cfg: DictConfig, run_dir: Path, out_dir: Path) -> dict[str, Any]:
    from costlab.distill import healing

    d = cfg.distill
    h = d.healing
    signal = str(d.teacher_signal)
    if signal not in SIGNALS:
        raise CostlabError(f"distill.teacher_signal={signal!r}", f"use one of {list(SIGNALS)}")
    if d.method not in ("full", "lora"):
        raise CostlabError(f"distill.method={d.method!r}", "use full or lora")
    td = run_dir / "teacher_data"
    if not (td / "train.jsonl").exists():
        raise CostlabError(
            f"{td / 'train.jsonl'} not found",
            "run the generate_teacher stage first "
            "(costlab run +exp=NAME stages=[generate_teacher], or list it before train_student in `stages`)",
        )
    from hydra.utils import instantiate

    state = _rank_state()
    main = state.is_main_process
    loss = instantiate(d.loss)
    teacher, tok, teacher_path = load_model_and_tokenizer(cfg.teacher, cfg.paths.cache_dir)
    train_rows = load_teacher_rows(td / "train.jsonl")
    held_rows = load_teacher_rows(td / "heldout.jsonl")
    seed = int(cfg.seed)

    # 1. the untrained student: built once (main process), saved, reused on resume and by the other ranks
    init_dir = out_dir / "init"
    student = None
    if main and not (init_dir / ".complete").exists():
        builder = instantiate(cfg.student)
        calib = [sum(row_tokens(r, tok), []) for r in train_rows]  # train split only: never the held-out text
        student = builder.build(teacher, tok, calib)
        build = builder.report
        _check_tokenizer(build, signal, cfg)  # refuses before anything is written
        _save_dir(student, tok, init_dir)
        atomic_write_json(out_dir / "student_build.json", build)
    state.wait_for_everyone()
    if not (init_dir / ".complete").exists():
        raise CostlabError(f"{init_dir} was not written by the main process", "see the main process's error above")
    build = read_json(out_dir / "student_build.json")
    if student is None:
        check_init_dir(init_dir, teacher.config, cfg.student)  # init/ of another family/shape: refused by name
        student = load_causal_lm(str(init_dir))
        _check_tokenizer(build, signal, cfg)
    for p in student.parameters():
        p.requires_grad_(True)

    # 2. healing figures before training (main process; cached, so a resumed run does not recompute them)
    sets = {"heldout_teacher_responses": heldout_sequences(held_rows, tok, int(d.max_seq_len))}
    if h.general_text is not None:
        sets["general_text"] = healing.text_sequences(
            h.general_text, tok, int(h.general_seq_len), int(h.general_max_tokens)
        )
    before_path = out_dir / "healing_before.json"
    if main and not before_path.exists():
        before = {
            "student": _measure("student before KD", student, teacher, tok, sets, h, seed, True),
            "teacher": _measure("teacher", teacher, None, tok, sets, h, seed, True),
        }
        atomic_write_json(before_path, before)
    state.wait_for_everyone()

    # 3. train
    if signal == "topk":
        temps = {r.get("topk", {}).get("temperature") for r in train_rows}
        if temps != {float(d.loss.temperature)}:
            raise CostlabError(
                f"teacher top-k log-probs were stored at temperature {sorted(map(str, temps))} but "
                f"distill.loss.temperature={d.loss.temperature}",
                "set distill.loss.temperature to teacher_data.logprob_temperature (or regenerate teacher data)",
            )
    examples = build_examples(
        train_rows,
        tok,
        int(d.max_seq_len),
        with_topk=(signal == "topk"),
        truncated_rows=str(cfg.teacher_data.truncated_rows),
    )
    model = student
    if d.method == "lora":
        from peft import get_peft_model

        model = get_peft_model(student, instantiate(d.lora, _convert_="all"))
    if main:
        _init_wandb(cfg, run_dir)
    ckpt_dir = out_dir / "checkpoints"
    trainer, result, train_s, last, budget = _train(
        cfg, model, tok, examples, loss, teacher, ckpt_dir, None, d.max_minutes, state, str(cfg.logger.report_to)
    )
    steps = trainer.state.global_step
    dist_type = str(trainer.accelerator.distributed_type).rsplit(".", 1)[-1]

    def fresh_student():
        m = load_causal_lm(str(init_dir))
        if d.method == "lora":
            from peft import get_peft_model

            m = get_peft_model(m, instantiate(d.lora, _convert_="all"))
        return m

    # 4. merged export + provenance (main process only)
    merged = _plain_model(trainer, model, fresh_student, d.method)
    if main:
        atomic_write_json(out_dir / "train_log.json", trainer.state.log_history)
        prov = make_provenance(
            to_container(cfg),
            seed=seed,
            inputs={
                "teacher": teacher_path,
                "teacher_data_train": td / "train.jsonl",
                **({"general_text": h.general_text} if h.general_text is not None else {}),
            },
            extra={
                "student_build": build,
                "global_step": steps,
                "num_processes": state.num_processes,
                "distributed_type": dist_type,
            },
        )
        _save_dir(merged, tok, out_dir / "merged", prov)
        print(f"[costlab] wrote {out_dir / 'merged'} (process {state.process_index} of {state.num_processes})")

    # 5. the unpruned control: the teacher itself, same recipe, same number of steps (every rank trains)
    control = None
    if d.control:
        import copy

        ctl = copy.deepcopy(teacher)
        for p in ctl.parameters():
            p.requires_grad_(True)
        if d.method == "lora":
            from peft import get_peft_model

            ctl = get_peft_model(ctl, instantiate(d.lora, _convert_="all"))
        # not logged to the experiment tracker (its steps would restart inside the student's run): the control's
        # log history goes to train_log_control.json instead
        ctl_trainer, _, ctl_s, _, _ = _train(
            cfg, ctl, tok, examples, loss, teacher, out_dir / "checkpoints_control", steps, None, state, "none"
        )
        if main:
            atomic_write_json(out_dir / "train_log_control.json", ctl_trainer.state.log_history)

        def fresh_control():
            m = copy.deepcopy(teacher)
            if d.method == "lora":
                from peft import get_peft_model

                m = get_peft_model(m, instantiate(d.lora, _convert_="all"))
            return m

        ctl = _plain_model(ctl_trainer, ctl, fresh_control, d.method)
        control = {"model": ctl, "train_seconds": ctl_s, "global_step": ctl_trainer.state.global_step}

    # 6. healing report (main process)
    metrics_path = out_dir / "train_metrics.json"
    if main:
        before = read_json(before_path)
        after = _measure("student after KD", merged, teacher, tok, sets, h, seed, True)
        figures = {"teacher": before["teacher"], "before": before["student"], "after": after}
        if control is not None:
            figures["control_after"] = _measure("control after KD", control["model"], teacher, tok, sets, h, seed, True)
        rep: dict[str, Any] = {
            "kl_method": healing.KL_DESCRIPTION,
            "confidence": float(h.confidence),
            "n_boot": int(h.n_boot),
            "student_params": build["student_params"],
            "teacher_params": build["teacher_params"],
            "param_ratio": build["param_ratio"],
            "global_step": steps,
            "num_processes": state.num_processes,
            "distributed_type": dist_type,
            "resumed_from": last,
            "stopped_by_time_budget": budget.stopped_at,
            "train_seconds": round(train_s, 1),
            "general_text_source": None if h.general_text is None else str(h.general_text),
        }
        for block in sets:
            rep[block] = {k: f[block] for k, f in figures.items()}
        rep["held_out_sequences"] = len(sets["heldout_teacher_responses"])
        items = {k: f["task_items"] for k, f in figures.items() if f.get("task_items")}
        if items:
            rep["task_quality"] = healing.task_quality_table(
                items, n_boot=int(h.n_boot), confidence=float(h.confidence), seed=seed
            )
        if control is not None:
            rep["control"] = {
                "what": "the unpruned teacher trained with the same KD recipe, data and steps",
                "global_step": control["global_step"],
                "train_seconds": round(control["train_seconds"], 1),
                "measure_seconds": figures["control_after"]["seconds"],
            }
        atomic_write_json(out_dir / "healing.json", rep)
        (out_dir / "healing.txt").write_text(healing.healing_text(rep))
        if not d.keep_checkpoints:  # merged/ is the product; checkpoints (weights + optimizer) only serve resume
            shutil.rmtree(ckpt_dir, ignore_errors=True)
            shutil.rmtree(out_dir / "checkpoints_control", ignore_errors=True)
        if cfg.logger.report_to == "wandb":
            import wandb

            ho = rep["heldout_teacher_responses"]
            wandb.log(
                {
                    f"healing/{k}_{m}": ho[k][m]
                    for k in ("before", "after")
                    for m in ("ppl", healing.KL_NAME, "top1_agreement")
                }
            )
            wandb.finish()
        toks = sum(len(e["input_ids"]) for e in examples)
        ho = rep["heldout_teacher_responses"]
        metrics = {
            "global_step": steps,
            "train_loss": round(result.training_loss, 4),
            "train_seconds": round(train_s, 1),
            "train_examples": len(examples),
            "train_tokens_per_epoch": toks,
            "num_processes": state.num_processes,
            "distributed_type": dist_type,
            "teacher_rows_truncated": sum(map(is_truncated, train_rows)),
            "truncated_examples_kept": sum(e["truncated"] for e in examples),
            "student_params": build["student_params"],
            "param_ratio": build["param_ratio"],
            **{k: {m: ho[k].get(m) for m in ("ppl", healing.KL_NAME, "top1_agreement")} for k in ("before", "after")},
        }
        if control is not None:
            metrics["control_train_seconds"] = rep["control"]["train_seconds"]
            metrics["control_measure_seconds"] = rep["control"]["measure_seconds"]
        atomic_write_json(metrics_path, metrics)
    state.wait_for_everyone()
    return read_json(metrics_path)  # every rank returns the main process's metrics (same stage.json content)
