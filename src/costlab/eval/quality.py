"""Quality per task class with lm-evaluation-harness on the local tasks in configs/eval/tasks/ (offline).

HF-format variants run through lm-eval's ``hf`` model (HFLM, given the already loaded model); GGUF variants
through ``LlamaCppLM`` — the same task objects, prompts and scoring for every format.
"""

from __future__ import annotations

import logging
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
        raise CostlabError(
            f"{path}: the task YAML does not parse ({e.__class__.__name__}: {e})",
            "fix the YAML syntax (see the other files in configs/eval/tasks/)",
        ) from e
    except (ImportError, AttributeError, ValueError) as e:
        raise CostlabError(
            f"{path}: a !function in the task YAML does not resolve ({e})",
            "point it at an importable function, e.g. costlab.eval.scoring.qa_process_results",
        ) from e
    if not isinstance(cfg, dict):
        raise CostlabError(f"{path}: expected a YAML mapping, got {type(cfg).__name__}")
    for k in ("task", "dataset_path", "output_type", "doc_to_text", "metric_list"):
        if k not in cfg:
            raise CostlabError(
                f"{path}: missing key '{k}'", "see configs/eval/tasks/costlab_qa.yaml for a complete task"
            )
    files = (cfg.get("dataset_kwargs") or {}).get("data_files")
    if isinstance(files, dict):
        fixed = {}
        for split, f in files.items():
            p = Path(f) if Path(f).is_absolute() else PROJECT_ROOT / f
            if not p.is_file():
                raise CostlabError(
                    f"{path}: data file {p} (split '{split}') not found",
                    "run `python data/eval/build_eval_data.py` or fix dataset_kwargs.data_files",
                )
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
            raise CostlabError(
                f"{tasks_dir / (name + '.yaml')}: 'task: {tcfg['task']}' != file name '{name}'",
                "name the file after its task",
            )
        metric = tcfg["metric_list"][0]["metric"]
        plan[str(cls)] = {"task": name, "metric": metric, "config": tcfg}
    if not plan:
        raise CostlabError(
            "eval.quality.tasks is empty", "map at least one task class to a task in configs/eval/tasks/"
        )
    return plan


def _doc_text(task, doc: dict) -> str:
    try:
        t = task.doc_to_text(doc)
        return t if isinstance(t, str) else str(t)
    except Exception:  # noqa: BLE001 - the prompt text is informational (routing curve), never a score
        return str(doc)


def class_limit(qcfg: Mapping[str, Any], cls: str) -> int | None:
    """Items evaluated for a class: ``eval.quality.class_limits[cls]`` if set, else ``eval.quality.limit``
    (null = every item). The first N items of the task's data file are used."""
    lim = (qcfg["class_limits"] or {}).get(cls, qcfg["limit"])
    if lim is not None and lim < 1:
        raise CostlabError(
            f"eval.quality limit for class '{cls}' is {lim}: a class with 0 items measures nothing",
            "set it >= 1 (or null for every item), or drop the class from eval.quality.tasks",
        )
    return lim


def item_chance(task, doc: dict, tcfg: Mapping[str, Any]) -> float:
    """Chance score of one item: the task YAML's ``metadata.chance`` when set; else 1/k for a k-way multiple-choice
    item (a uniform guesser's accuracy) and 0 for generation."""
    meta = tcfg.get("metadata") or {}
    if meta.get("chance") is not None:
        return float(meta["chance"])
    if tcfg.get("output_type") == "multiple_choice":
        k = len(task.doc_to_choice(doc))
        if k < 1:
            raise CostlabError(f"task {tcfg.get('task')}: an item has no choices", "fix the task's data file")
        return 1.0 / k
    return 0.0


def run_quality(lm, qcfg: Mapping[str, Any], seed: int) -> tuple[dict[str, dict], list[dict]]:
    """Evaluate an lm-eval LM on every planned task. Returns (per-class summary, per-item samples).

    Per class: task, metric, output_type, score, stderr, n, chance, item_ids, item_scores, item_chance
    (costlab.eval.schema); intervals vs the reference are added by the stage once every variant is measured.
    """
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    from costlab.stats import stderr as _stderr

    logging.getLogger("lm_eval").setLevel(logging.WARNING)
    plan = task_plan(qcfg)
    tm = TaskManager(include_defaults=False, include_path=str(qcfg["tasks_dir"]))
    loaded = tm.load([p["config"] for p in plan.values()])["tasks"]
    by_name = {(t.config.task if hasattr(t, "config") else str(k)): t for k, t in loaded.items()}
    indices: dict[str, list[int]] = {}
    for cls, p in plan.items():
        n_docs = len(by_name[p["task"]].eval_docs)
        lim = class_limit(qcfg, cls)
        indices[p["task"]] = list(range(n_docs if lim is None else min(lim, n_docs)))
    res = simple_evaluate(
        model=lm,
        tasks=list(by_name.values()),
        task_manager=tm,
        samples=indices,
        apply_chat_template=qcfg["apply_chat_template"],
        bootstrap_iters=0,
        log_samples=True,
        random_seed=seed,
        numpy_random_seed=seed,
        torch_random_seed=seed,
        fewshot_random_seed=seed,
        num_fewshot=0,
    )
    summary: dict[str, dict] = {}
    samples: list[dict] = []
    for cls, p in plan.items():
        rows = sorted(res["samples"].get(p["task"], []), key=lambda r: r["doc_id"])
        task = by_name.get(p["task"])
        vals = [float(r[p["metric"]]) for r in rows]
        ids = [str(r["doc"].get("id", r["doc_id"])) for r in rows]
        chance = [item_chance(task, r["doc"], p["config"]) for r in rows]
        n = len(vals)
        summary[cls] = {
            "task": p["task"],
            "metric": p["metric"],
            "output_type": p["config"]["output_type"],
            "score": sum(vals) / n if n else None,
            "stderr": _stderr(vals) if n else None,
            "n": n,
            "chance": sum(chance) / n if n else None,
            "item_ids": ids,
            "item_scores": vals,
            "item_chance": chance,
        }
        for r, v, i in zip(rows, vals, ids):
            resp = r.get("filtered_resps")
            samples.append(
                {
                    "task_class": cls,
                    "task": p["task"],
                    "doc_id": r["doc_id"],
                    "id": i,
                    "prompt": _doc_text(task, r["doc"]),
                    "score": v,
                    "response": resp[0] if isinstance(resp, list) and resp and isinstance(resp[0], str) else None,
                }
            )
    return summary, samples
