"""The ``evaluate`` stage: every variant of a run → ``eval/<variant>.json`` (schema: costlab.eval.schema).

One loop for every runtime: the variant's eval backend (``eval.backends.<runtime>``, instantiated by
``_target_``, see costlab.eval.backends) loads it, then quality (lm-eval tasks, per-item scores), fidelity
(logits vs the reference's stored top-k) and latency (batch 1 for every variant; concurrency only where every
backend of the run decodes concurrent requests for real) are measured the same way.

Order: the reference variant (``eval.reference``) first — it also writes its top-k log-probs once
(``eval/reference/``) — then every other variant. Each variant is measured in its own process
(``eval.isolate``) so its peak RSS is its own and a crashing backend is reported for that variant only. Failed
variants (quantize stage) are written as failed and never measured; a variant whose backend is not installed is
written as ``status: error`` with the fix. At the end every file gets its statistics vs the reference
(costlab.stats, seeded: a re-run gives identical files): chance-normalized retention with a paired bootstrap
interval, a paired test, and whether the reference is measurably above chance. A finished eval file with the
same fingerprint is reused on a re-run.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Mapping

from omegaconf import DictConfig, OmegaConf

from costlab.config import to_container, typed
from costlab.errors import CostlabError
from costlab.eval.backends import backend_key, make_backend
from costlab.eval.schema import SCHEMA_VERSION
from costlab.eval.variants import backend_kind, list_variants, missing_backend, variant_file, variant_label
from costlab.io import atomic_write_json, atomic_write_text, read_json
from costlab.paths import offline_env
from costlab.schemas.eval import EvalConfig, StatsConfig
from costlab.stats import REFERENCE_TEST

EVAL_KEYS = ("reference", "quality", "fidelity", "latency", "backends", "threads", "stats")


def require_eval(cfg: DictConfig) -> DictConfig:
    ecfg = OmegaConf.select(cfg, "eval", default=None)
    if ecfg is None:
        raise CostlabError(
            "config group 'eval' is not set (the evaluate / build_tables / report stages read cfg.eval)",
            "add `- /eval: default` to the experiment's defaults list (configs/exp/<name>.yaml), "
            "or pass +eval=default on the command line",
        )
    return ecfg


def variant_fingerprint(
    variant: Mapping[str, Any], ecfg: EvalConfig, hardware: Mapping[str, Any], ref_digest: str | None
) -> str:
    sub = ecfg.model_dump(mode="json", by_alias=True, include=set(EVAL_KEYS))
    blob = json.dumps(
        {
            "variant": dict(variant),
            "eval": sub,
            "hardware": dict(hardware),
            "ref": ref_digest,
            "schema": SCHEMA_VERSION,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------- one variant
def measure_variant(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Measure one variant (runs inside the worker process, or in-process when eval.isolate is false)."""
    import torch

    from costlab.eval import fidelity as fid
    from costlab.eval import latency as lat
    from costlab.eval.quality import run_quality
    from costlab.quant.variant import weight_bytes

    v, hw = spec["variant"], spec["hardware"]
    ecfg = EvalConfig.model_validate(spec["eval"])  # typed (validated at the stage's start; the worker re-reads it)
    run_dir, ref_dir = Path(spec["run_dir"]), Path(spec["reference_dir"])
    threads, seed = ecfg.threads, spec["seed"]
    fcfg, lcfg, scfg = ecfg.fidelity, ecfg.latency, ecfg.stats
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    kind = backend_kind(v)
    backend = make_backend(ecfg.backends, kind)
    path = variant_file(run_dir, v)
    base_rss = lat.rss_mb()
    seconds: dict[str, float] = {}
    rec: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "variant": v["name"],
        "label": spec["label"],
        "status": "ok",
        "error": None,
        "base": v.get("base"),
        "format": v.get("format"),
        "quant": v.get("quant"),
        "backend": kind,
        "path": v.get("path"),
        "reference": spec["reference"],
        "is_reference": bool(spec["build_reference"]),
        "variant_meta": dict(v),
    }
    t = time.perf_counter()
    backend.load(path, v, threads, seed)
    seconds["load"] = time.perf_counter() - t
    if spec["build_reference"]:
        if backend.tokenizer is None:
            raise CostlabError(
                f"eval.reference {v['name']} runs on backend '{kind}', which has no HF tokenizer to cut "
                "the held-out text into sequences",
                "use an HF-format variant as eval.reference",
            )
        t = time.perf_counter()
        seqs, desc = fid.load_sequences(fcfg.model_dump(), run_dir, backend.tokenizer)
        fid.build_reference(
            backend.sequence_logits(seqs, fcfg.batch_size), seqs, fcfg.top_k, ref_dir, desc, model_name=v["name"]
        )
        seconds["reference"] = time.perf_counter() - t
    ref_seqs, meta = fid.load_reference(ref_dir)
    t = time.perf_counter()
    quality, samples = run_quality(backend.quality_lm(), ecfg.quality.model_dump(), seed=seed)
    seconds["quality"] = time.perf_counter() - t
    t = time.perf_counter()
    fidelity = fid.variant_fidelity(
        backend.sequence_logits(ref_seqs, fcfg.batch_size),
        backend.vocab_size(),
        ref_seqs,
        meta,
        v["name"],
        confidence=scfg.confidence,
        n_boot=scfg.n_boot,
        seed=seed,
    )
    seconds["fidelity"] = time.perf_counter() - t
    t = time.perf_counter()
    conc = lcfg.concurrency
    runner, prompts, method = backend.latency_runner(max(conc, 4), lcfg.prompt_tokens, lcfg.new_tokens, conc)
    latency = lat.measure(runner, prompts, lcfg.model_dump(), method)
    seconds["latency"] = time.perf_counter() - t
    latency.update(
        {
            "backend": kind,
            "threads": threads,
            "hardware_threads": hw.get("threads"),
            "hardware": hw.get("name"),
            "throughput_basis": "batch1",
            "prompt_tokens": lcfg.prompt_tokens,
            "new_tokens": lcfg.new_tokens,
            "reps": lcfg.reps,
            "warmup": lcfg.warmup,
            "load_seconds": seconds["load"],
            "summary": lat.summarize(latency, threads),
        }
    )
    gpu_peak = backend.gpu_peak_mb()
    backend.close()
    rec.update(
        quality=quality,
        fidelity=fidelity,
        latency=latency,
        memory={
            "file_mb": weight_bytes(path) / 1e6,
            "size_mb": v.get("size_mb"),
            "peak_rss_mb": lat.peak_rss_mb(),
            "baseline_rss_mb": base_rss,
            "model_rss_mb": max(0.0, lat.peak_rss_mb() - base_rss),
            "gpu_peak_mb": gpu_peak,
            "peak_rss_scope": "whole evaluation process (isolated per variant)"
            if spec.get("isolated")
            else "shared process: includes earlier variants",
        },
        hardware=dict(hw),
        seconds={k: round(x, 3) for k, x in seconds.items()},
        n_samples=len(samples),
    )
    rec["_samples"] = samples
    return rec


def _write_result(out_path: Path, rec: dict[str, Any]) -> None:
    samples = rec.pop("_samples", None)
    if samples is not None:
        sp = out_path.parent / "samples" / f"{out_path.stem}.jsonl"
        atomic_write_text(sp, "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in samples))
        rec["samples_file"] = f"eval/samples/{sp.name}"
    atomic_write_json(out_path, rec)


def worker_main(spec_path: str) -> int:
    spec = read_json(spec_path)
    rec = measure_variant({**spec, "isolated": True})
    rec["fingerprint"] = spec["fingerprint"]
    _write_result(Path(spec["out"]), rec)
    return 0


# ---------------------------------------------------------------------------------------------- stage
def _run_variant(spec: dict[str, Any], isolate: bool, timeout: float | None) -> None:
    out = Path(spec["out"])
    if not isolate:
        rec = measure_variant(spec)
        rec["fingerprint"] = spec["fingerprint"]
        _write_result(out, rec)
        return
    spec_path = out.parent / "specs" / f"{out.stem}.json"
    atomic_write_json(spec_path, spec)
    log = out.parent / "logs" / f"{out.stem}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = offline_env()
    with log.open("w") as f:
        try:
            p = subprocess.run(
                [sys.executable, "-m", "costlab.eval.worker", str(spec_path)],
                stdout=f,
                stderr=subprocess.STDOUT,
                env=env,
                timeout=timeout,
            )
            rc = p.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    if rc != 0 or not out.exists():
        tail = log.read_text(errors="replace")[-1500:]
        err = (
            f"measurement process exited with {rc} after eval.variant_timeout_s={timeout}"
            if rc == "timeout"
            else f"measurement process exited with {rc}"
        )
        _write_result(out, _error_record(spec, f"{err}; log {log}:\n{tail}"))


def _error_record(spec: Mapping[str, Any], error: str, status: str = "error") -> dict[str, Any]:
    v = spec["variant"]
    return {
        "schema_version": SCHEMA_VERSION,
        "variant": v["name"],
        "label": spec["label"],
        "status": status,
        "error": error,
        "base": v.get("base"),
        "format": v.get("format"),
        "quant": v.get("quant"),
        "backend": backend_kind(v),
        "path": v.get("path"),
        "reference": spec["reference"],
        "is_reference": bool(spec["build_reference"]),
        "variant_meta": dict(v),
        "quality": None,
        "fidelity": None,
        "latency": None,
        "memory": None,
        "fingerprint": spec["fingerprint"],
    }


def _class_stats(q: dict[str, Any], rq: dict[str, Any] | None, scfg: StatsConfig, seed: int) -> dict[str, Any]:
    """Statistics of one class vs the reference (costlab.stats.compare_class), or why there are none."""
    from costlab.stats import compare_class

    none = {
        "reference_score": (rq or {}).get("score"),
        "retention": None,
        "retention_lo": None,
        "retention_hi": None,
        "confidence": scfg.confidence,
        "ci_method": None,
        "n_boot": scfg.n_boot,
        "p_value": None,
        "test": None,
        "measurable": False,
        "measurable_p_value": None,
        "measurable_test": None,
    }
    if rq is None:
        return {**none, "measurable_reason": "the reference has no result for this class: re-run evaluate"}
    if "item_scores" not in q or "item_scores" not in rq:
        return {
            **none,
            "measurable_reason": "missing per-item samples (item_scores) in this eval file or the "
            "reference's: re-run evaluate (per-item scores are required)",
        }
    if not rq["item_ids"]:
        return {
            **none,
            "measurable_reason": "0 items: the reference was evaluated on no items of this class "
            "(check eval.quality.limit / class_limits and the task's data file)",
        }
    ref = dict(zip(rq["item_ids"], rq["item_scores"]))
    mine = dict(zip(q["item_ids"], q["item_scores"]))
    lost = [i for i in rq["item_ids"] if i not in mine]
    if lost:
        return {
            **none,
            "measurable_reason": f"missing per-item samples: {len(lost)} of the reference's "
            f"{len(ref)} items have no score here (e.g. {lost[:3]}); re-run "
            "evaluate for this variant with the reference's eval.quality settings",
        }
    ids = rq["item_ids"]
    out = compare_class(
        [mine[i] for i in ids],
        [ref[i] for i in ids],
        rq["item_chance"],
        n_boot=scfg.n_boot,
        confidence=scfg.confidence,
        seed=seed,
    )
    for k in ("score", "stderr", "n", "chance"):
        out.pop(k)  # the variant's own figures are already in q (over the same items)
    return out


def add_statistics(eval_dir: Path, reference: str, scfg: StatsConfig, seed: int) -> list[str]:
    """Add the statistics vs the reference to every ok eval file (in place, from the stored per-item scores).
    Returns one warning line per class that cannot be routed on (also stored in the file)."""
    ref = read_json(eval_dir / f"{reference}.json")
    ref_q = ref.get("quality") or {}
    warnings = []
    for f in sorted(eval_dir.glob("*.json")):
        if f.name in ("summary.json", "stage.json", "provenance.json"):
            continue
        rec = read_json(f)
        for cls, q in (rec.get("quality") or {}).items():
            q.update(_class_stats(q, ref_q.get(cls), scfg, seed))
            if f.stem == reference:  # itself: no test; retention 1 [1, 1] by definition where it is defined
                q.update(p_value=None, test=REFERENCE_TEST)
                if q["retention"] is not None:
                    q.update(retention=1.0, retention_lo=1.0, retention_hi=1.0, ci_method=REFERENCE_TEST)
            if f.stem == reference and not q["measurable"]:
                warnings.append(f"{cls}: {q['measurable_reason']}")
        atomic_write_json(f, rec)
    return warnings


def check_concurrency(ecfg: EvalConfig, variants: list[dict[str, Any]]) -> None:
    """Concurrency > 1 only when every measured variant's backend decodes concurrent requests for real;
    otherwise the throughputs would not be comparable (fail before measuring anything)."""
    conc = ecfg.latency.concurrency
    if conc <= 1:
        return
    for v in variants:
        plugin = ecfg.backends.get(backend_key(backend_kind(v)))
        if plugin is None:
            continue  # reported per variant by missing_backend()
        if not plugin.target_class().concurrency_methods:
            raise CostlabError(
                f"eval.latency.concurrency={conc}, but variant {v['name']} runs on '{backend_kind(v)}', which decodes "
                "one sequence at a time: its throughput would not be comparable to the batched HF variants",
                "set eval.latency.concurrency: 1 (batch 1 for every variant), or limit eval.variants to "
                "backends with concurrent decoding",
            )


def run_stage(cfg: DictConfig, run_dir: Path, out_dir: Path) -> dict[str, Any]:
    require_eval(cfg)
    ecfg: EvalConfig = typed(cfg, "eval")
    hw = to_container(cfg.hardware)
    teacher = to_container(cfg.teacher) if OmegaConf.select(cfg, "teacher") is not None else {}
    reference, include = ecfg.reference, ecfg.variants
    # the reference is always measured: every retention and fidelity number is relative to it
    variants = list_variants(
        run_dir, (list(include) + [reference]) if include and reference not in include else include
    )
    by_name = {v["name"]: v for v in variants}
    ref = by_name.get(reference)
    if ref is None or ref.get("status") != "ok":
        raise CostlabError(
            f"eval.reference '{reference}' is not an ok variant of {run_dir}/variants (there: {sorted(by_name)})",
            "the quantize stage writes teacher-hf (quant.reference: true); set eval.reference to one "
            "of the HF variant names",
        )
    measured = [v for v in variants if v.get("status") == "ok"]
    check_concurrency(ecfg, measured)
    from costlab.eval.quality import class_limit

    for cls in ecfg.quality.tasks:  # a class configured with 0 items fails here, before anything is measured
        class_limit(ecfg.quality.model_dump(), cls)
    ref_dir = out_dir / "reference"
    isolate, timeout = ecfg.isolate, ecfg.variant_timeout_s
    order = [ref] + [v for v in variants if v["name"] != reference]
    hf_dtype = ecfg.backends["hf"].params.get("dtype") if "hf" in ecfg.backends else None
    labels = {v["name"]: variant_label(v, teacher, hf_dtype) for v in order}
    counts = {"ok": 0, "failed": 0, "error": 0, "reused": 0}
    t0 = time.time()
    ref_digest = None
    for v in order:
        out = out_dir / f"{v['name']}.json"
        if v["name"] != reference:
            ref_digest = read_json(ref_dir / "teacher_topk.json")["digest"]
        fp = variant_fingerprint(v, ecfg, hw, ref_digest)
        spec = {
            "variant": v,
            "label": labels[v["name"]],
            "run_dir": str(run_dir),
            "out": str(out),
            "eval": ecfg.model_dump(mode="json", by_alias=True),
            "hardware": hw,
            "seed": cfg.seed,
            "reference_dir": str(ref_dir),
            "reference": reference,
            "fingerprint": fp,
            "build_reference": v["name"] == reference,
        }
        ref_ok = v["name"] != reference or (
            (ref_dir / "teacher_topk.npz").exists() and (ref_dir / "teacher_topk.json").exists()
        )
        if out.exists() and ref_ok:
            old = read_json(out)
            if old.get("fingerprint") == fp and old.get("status") in ("ok", "failed"):
                print(f"[costlab] eval {v['name']}: reusing {out} (same variant and eval config)")
                counts["reused"] += 1
                counts[old["status"]] += 1
                continue
        if v.get("status") != "ok":
            _write_result(out, _error_record(spec, v.get("error") or "quantize stage marked it failed", "failed"))
            print(f"[costlab] eval {v['name']}: failed in the quantize stage, not measured")
            counts["failed"] += 1
            continue
        miss = missing_backend(v, ecfg.backends)
        if miss:
            _write_result(out, _error_record(spec, miss))
            print(f"[costlab] eval {v['name']}: {miss}")
            counts["error"] += 1
            continue
        print(f"[costlab] eval {v['name']} ({backend_kind(v)}) ...", flush=True)
        t = time.time()
        if v["name"] == reference:
            from costlab.eval.fidelity import REF_META

            (ref_dir / REF_META).unlink(missing_ok=True)  # rebuilt with this config by the reference's run
        _run_variant(spec, isolate, float(timeout) if timeout else None)
        rec = read_json(out)
        counts[rec["status"]] = counts.get(rec["status"], 0) + 1
        print(
            f"[costlab] eval {v['name']}: {rec['status']} in {time.time() - t:.1f}s"
            + (f" — {rec['error'].splitlines()[0]}" if rec.get("error") else ""),
            flush=True,
        )
        if v["name"] == reference and rec["status"] != "ok":
            raise CostlabError(
                f"the reference variant {reference} could not be measured: {rec['error']}",
                "fix the reference first: every retention is relative to it",
            )
    warnings = add_statistics(out_dir, reference, ecfg.stats, cfg.seed)
    for w in warnings:
        print(f"[costlab] eval: not routable — {w}")
    index = {v["name"]: read_json(out_dir / f"{v['name']}.json")["status"] for v in order}
    atomic_write_json(
        out_dir / "summary.json",
        {
            "schema_version": SCHEMA_VERSION,
            "reference": reference,
            "reference_label": labels[reference],
            "variants": index,
            "labels": labels,
            "hardware": hw.get("name"),
            "not_measurable": warnings,
        },
    )
    return {
        **{f"variants_{k}": n for k, n in counts.items()},
        "eval_seconds": round(time.time() - t0, 1),
        "classes_not_measurable": len(warnings),
    }
