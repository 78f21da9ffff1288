"""Quality per task class with lm-evaluation-harness on the local tasks in configs/eval/tasks/ (offline).

HF-format variants run through lm-eval's ``hf`` model (HFLM, given the already loaded model); GGUF variants
through ``LlamaCppLM`` — the same task objects, prompts and scoring for every format.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Mapping

import yaml

from costlab.config import PROJECT_ROOT
from costlab.errors import CostlabError


def load_task_config(path: Path) -> dict[str, Any]:
    """Parse one task YAML (lm-eval's loader, so ``!function`` works) and make its data_files absolute."""
    from lm_eval.tasks._yaml_loader import load_yaml

    if not path.is_file():
        raise CostlabError(f"eval task file not found: {path}", "check eval.quality.tasks / eval.quality.tasks_dir")
    try:
        cfg = load_yaml(path, resolve_func=True)
    except yaml.YAMLError as e:
        raise CostlabError(f"{path}: the task YAML does not parse ({e.__class__.__name__}: {e})",
                           "fix the YAML syntax (see the other files in configs/eval/tasks/)") from e
    except (ImportError, AttributeError, ValueError) as e:
        raise CostlabError(f"{path}: a !function in the task YAML does not resolve ({e})",
                           "point it at an importable function, e.g. costlab.eval.scoring.qa_process_results") from e
    if not isinstance(cfg, dict):
        raise CostlabError(f"{path}: expected a YAML mapping, got {type(cfg).__name__}")
    for k in ("task", "dataset_path", "output_type", "doc_to_text", "metric_list"):
        if k not in cfg:
            raise CostlabError(f"{path}: missing key '{k}'", "see configs/eval/tasks/costlab_qa.yaml for a complete task")
    files = (cfg.get("dataset_kwargs") or {}).get("data_files")
    if isinstance(files, dict):
        fixed = {}
        for split, f in files.items():
            p = Path(f) if Path(f).is_absolute() else PROJECT_ROOT / f
            if not p.is_file():
                raise CostlabError(f"{path}: data file {p} (split '{split}') not found",
                                   "run `python data/eval/build_eval_data.py` or fix dataset_kwargs.data_files")
            fixed[split] = str(p)
        cfg["dataset_kwargs"] = {**cfg["dataset_kwargs"], "data_files": fixed}
    return cfg


def task_plan(qcfg: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """task class → {task, metric, config} from eval.quality.tasks (class → task name)."""
    tasks_dir = Path(str(qcfg["tasks_dir"]))
    plan = {}
    for cls, name in dict(qcfg["tasks"]).items():
        tcfg = load_task_config(tasks_dir / f"{name}.yaml")
        if tcfg["task"] != name:
            raise CostlabError(f"{tasks_dir / (name + '.yaml')}: 'task: {tcfg['task']}' != file name '{name}'",
                               "name the file after its task")
        metric = tcfg["metric_list"][0]["metric"]
        plan[str(cls)] = {"task": name, "metric": metric, "config": tcfg}
    if not plan:
        raise CostlabError("eval.quality.tasks is empty", "map at least one task class to a task in configs/eval/tasks/")
    return plan


def _doc_text(task, doc: dict) -> str:
    try:
        t = task.doc_to_text(doc)
        return t if isinstance(t, str) else str(t)
    except Exception:  # noqa: BLE001 - the prompt text is informational (routing curve), never a score
        return str(doc)


def run_quality(lm, qcfg: Mapping[str, Any], seed: int = 1234) -> tuple[dict[str, dict], list[dict]]:
    """Evaluate an lm-eval LM on every planned task. Returns (per-class summary, per-item samples)."""
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    logging.getLogger("lm_eval").setLevel(logging.WARNING)
    plan = task_plan(qcfg)
    tm = TaskManager(include_defaults=False, include_path=str(qcfg["tasks_dir"]))
    loaded = tm.load([p["config"] for p in plan.values()])["tasks"]
    by_name = {(t.config.task if hasattr(t, "config") else str(k)): t for k, t in loaded.items()}
    limit = qcfg.get("limit")
    res = simple_evaluate(model=lm, tasks=list(by_name.values()), task_manager=tm,
                          limit=int(limit) if limit is not None else None,
                          apply_chat_template=bool(qcfg.get("apply_chat_template", True)),
                          bootstrap_iters=0, log_samples=True, random_seed=seed, numpy_random_seed=seed,
                          torch_random_seed=seed, fewshot_random_seed=seed, num_fewshot=0)
    summary: dict[str, dict] = {}
    samples: list[dict] = []
    for cls, p in plan.items():
        rows = res["samples"].get(p["task"], [])
        vals = [float(r[p["metric"]]) for r in rows]
        n = len(vals)
        mean = sum(vals) / n if n else None
        stderr = (math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1)) / math.sqrt(n)) if n > 1 else None
        summary[cls] = {"task": p["task"], "metric": p["metric"], "score": mean, "stderr": stderr, "n": n}
        task = by_name.get(p["task"])
        for r, v in zip(rows, vals):
            resp = r.get("filtered_resps")
            samples.append({"task_class": cls, "task": p["task"], "doc_id": r["doc_id"],
                            "id": r["doc"].get("id", r["doc_id"]), "prompt": _doc_text(task, r["doc"]),
                            "score": v, "response": resp[0] if isinstance(resp, list) and resp
                            and isinstance(resp[0], str) else None})
    return summary, samples
