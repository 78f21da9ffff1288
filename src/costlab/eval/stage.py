"""The ``evaluate`` stage: every variant of a run → ``eval/<variant>.json`` (quality, fidelity, latency, memory).

Order: the reference variant (``eval.reference``, the teacher in fp32) first — it also writes the teacher's
top-k log-probs once (``eval/reference/``) — then every other variant. Each variant is measured in its own
process (``eval.isolate``) so its peak RSS is its own and a crashing backend is reported for that variant
only. Failed variants (quantize stage) are written as failed and never measured; a variant whose backend is
not installed is written as ``status: error`` with the fix. Retention (score / reference score per class) is
added to every file at the end. A finished eval file with the same fingerprint is reused on a re-run.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Mapping

from omegaconf import DictConfig, OmegaConf

from costlab.config import to_container
from costlab.errors import CostlabError
from costlab.eval.variants import backend_kind, list_variants, missing_backend, variant_file
from costlab.io import atomic_write_json, atomic_write_text, read_json

EVAL_KEYS = ("reference", "quality", "fidelity", "latency", "llama_cpp", "threads", "device", "dtype")


def require_eval(cfg: DictConfig) -> DictConfig:
    ecfg = OmegaConf.select(cfg, "eval", default=None)
    if ecfg is None:
        raise CostlabError("config group 'eval' is not set (the evaluate / build_tables / report stages read cfg.eval)",
                           "add `- /eval: default` to the experiment's defaults list (configs/exp/<name>.yaml), "
                           "or pass +eval=default on the command line")
    return ecfg


def variant_fingerprint(variant: Mapping[str, Any], ecfg: Mapping[str, Any], hardware: Mapping[str, Any],
                        ref_digest: str | None) -> str:
    sub = {k: ecfg.get(k) for k in EVAL_KEYS}
    blob = json.dumps({"variant": dict(variant), "eval": sub, "hardware": dict(hardware), "ref": ref_digest},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------- one variant
def measure_variant(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Measure one variant (runs inside the worker process, or in-process when eval.isolate is false)."""
    import torch

    from costlab.eval import fidelity as fid
    from costlab.eval import latency as lat
    from costlab.eval.quality import run_quality
    from costlab.quant.variant import weight_bytes

    v, ecfg, hw = spec["variant"], spec["eval"], spec["hardware"]
    run_dir, ref_dir = Path(spec["run_dir"]), Path(spec["reference_dir"])
    threads = int(ecfg.get("threads") or 1)
    torch.set_num_threads(threads)
    torch.manual_seed(int(spec.get("seed", 0)))
    kind = backend_kind(v)
    path = variant_file(run_dir, v)
    base_rss = lat.rss_mb()
    seconds: dict[str, float] = {}
    rec: dict[str, Any] = {"variant": v["name"], "status": "ok", "error": None, "base": v.get("base"),
                           "format": v.get("format"), "quant": v.get("quant"), "backend": kind,
                           "path": v.get("path"), "variant_meta": dict(v)}
    t0 = time.perf_counter()
    if kind == "hf":
        from lm_eval.models.huggingface import HFLM

        from costlab.models import load_causal_lm, load_tokenizer

        device = str(ecfg.get("device") or "cpu")
        model = load_causal_lm(str(path), dtype=str(ecfg.get("dtype", "float32")),
                               device=None if v.get("format") in ("bnb",) else device)
        tok = load_tokenizer(str(path))
        seconds["load"] = time.perf_counter() - t0
        fcfg = ecfg["fidelity"]
        if spec.get("build_reference"):
            t = time.perf_counter()
            seqs, desc = fid.load_sequences(fcfg, run_dir, tok)
            fid.build_reference(model, seqs, int(fcfg["top_k"]), ref_dir, desc, int(fcfg.get("batch_size", 4)),
                                model_name=v["name"])
            seconds["reference"] = time.perf_counter() - t
        ref_seqs, meta = fid.load_reference(ref_dir)
        t = time.perf_counter()
        qcfg = ecfg["quality"]
        lm = HFLM(pretrained=model, tokenizer=tok, batch_size=int(qcfg.get("batch_size", 8)),
                  max_length=int(qcfg.get("max_length", 2048)))
        quality, samples = run_quality(lm, qcfg, seed=int(spec.get("seed", 0)))
        seconds["quality"] = time.perf_counter() - t
        t = time.perf_counter()
        fidelity = fid.hf_variant_fidelity(model, ref_seqs, meta, v["name"], int(fcfg.get("batch_size", 4)))
        seconds["fidelity"] = time.perf_counter() - t
        t = time.perf_counter()
        lcfg = ecfg["latency"]
        conc = max(1, int(lcfg.get("concurrency", 1)))
        prompts = lat.make_prompts(tok(lat.prompt_text(), add_special_tokens=False)["input_ids"], max(conc, 4),
                                   int(lcfg["prompt_tokens"]))
        latency = lat.measure(lat.hf_runner(model), prompts, lcfg, batched=True)
        seconds["latency"] = time.perf_counter() - t
        gpu_peak = torch.cuda.max_memory_allocated() / 1e6 if torch.cuda.is_available() else None
    elif kind == "llama.cpp":
        import llama_cpp

        from costlab.eval.llamacpp_lm import LlamaCppLM

        lc = ecfg.get("llama_cpp") or {}
        n_gpu = int(lc.get("n_gpu_layers", 0))
        llm = llama_cpp.Llama(model_path=str(path), n_ctx=int(lc.get("n_ctx", 1024)), n_threads=threads,
                              n_threads_batch=threads, logits_all=True, verbose=False,
                              seed=int(spec.get("seed", 0)), n_gpu_layers=n_gpu)
        seconds["load"] = time.perf_counter() - t0
        ref_seqs, meta = fid.load_reference(ref_dir)
        t = time.perf_counter()
        quality, samples = run_quality(LlamaCppLM(llm=llm, model_path=str(path)), ecfg["quality"],
                                       seed=int(spec.get("seed", 0)))
        seconds["quality"] = time.perf_counter() - t
        t = time.perf_counter()
        fidelity = fid.llamacpp_fidelity(llm, ref_seqs, meta, v["name"])
        seconds["fidelity"] = time.perf_counter() - t
        del llm
        t = time.perf_counter()
        lcfg = ecfg["latency"]
        P, N = int(lcfg["prompt_tokens"]), int(lcfg["new_tokens"])
        llm = llama_cpp.Llama(model_path=str(path), n_ctx=P + N + 16, n_threads=threads, n_threads_batch=threads,
                              logits_all=False, verbose=False, seed=int(spec.get("seed", 0)), n_gpu_layers=n_gpu)
        prompts = lat.make_prompts(llm.tokenize(lat.prompt_text().encode(), add_bos=False, special=False),
                                   max(int(lcfg.get("concurrency", 1)), 4), P)
        latency = lat.measure(lat.llamacpp_runner(llm), prompts, lcfg, batched=False)
        seconds["latency"] = time.perf_counter() - t
        gpu_peak = None
    else:
        raise CostlabError(f"variant {v['name']}: backend '{kind}' has no measurement path")
    latency.update({"backend": kind, "threads": threads, "hardware": hw.get("name"),
                    "prompt_tokens": int(ecfg["latency"]["prompt_tokens"]),
                    "new_tokens": int(ecfg["latency"]["new_tokens"]), "reps": int(ecfg["latency"]["reps"]),
                    "warmup": int(ecfg["latency"].get("warmup", 1)), "load_seconds": seconds.get("load"),
                    "summary": lat.summarize(latency)})
    rec.update(quality=quality, fidelity=fidelity, latency=latency,
               memory={"file_mb": weight_bytes(path) / 1e6, "size_mb": v.get("size_mb"),
                       "peak_rss_mb": lat.peak_rss_mb(), "baseline_rss_mb": base_rss,
                       "model_rss_mb": max(0.0, lat.peak_rss_mb() - base_rss), "gpu_peak_mb": gpu_peak,
                       "peak_rss_scope": "whole evaluation process (isolated per variant)"
                       if spec.get("isolated") else "shared process: includes earlier variants"},
               hardware=dict(hw), seconds={k: round(x, 3) for k, x in seconds.items()}, n_samples=len(samples))
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
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    with log.open("w") as f:
        try:
            p = subprocess.run([sys.executable, "-m", "costlab.eval.worker", str(spec_path)], stdout=f,
                               stderr=subprocess.STDOUT, env=env, timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    if rc != 0 or not out.exists():
        tail = log.read_text(errors="replace")[-1500:]
        err = f"measurement process exited with {rc} after eval.variant_timeout_s={timeout}" if rc == "timeout" \
            else f"measurement process exited with {rc}"
        _write_result(out, _error_record(spec["variant"], f"{err}; log {log}:\n{tail}", spec["fingerprint"]))


def _error_record(v: Mapping[str, Any], error: str, fp: str | None, status: str = "error") -> dict[str, Any]:
    return {"variant": v["name"], "status": status, "error": error, "base": v.get("base"), "format": v.get("format"),
            "quant": v.get("quant"), "backend": backend_kind(v), "path": v.get("path"), "variant_meta": dict(v),
            "quality": None, "fidelity": None, "latency": None, "memory": None, "fingerprint": fp}


def add_retention(eval_dir: Path, reference: str) -> None:
    ref = read_json(eval_dir / f"{reference}.json")
    ref_q = ref.get("quality") or {}
    for f in sorted(eval_dir.glob("*.json")):
        if f.name in ("summary.json", "stage.json", "provenance.json"):
            continue
        rec = read_json(f)
        for cls, q in (rec.get("quality") or {}).items():
            r = (ref_q.get(cls) or {}).get("score")
            q["reference_score"] = r
            q["retention"] = (q["score"] / r) if (r and q.get("score") is not None) else None
            if not r:
                q["retention_note"] = "not measured: the reference scored 0 on this class"
        atomic_write_json(f, rec)


def run_stage(cfg: DictConfig, run_dir: Path, out_dir: Path) -> dict[str, Any]:
    ecfg_c = require_eval(cfg)
    ecfg = to_container(ecfg_c)
    hw = to_container(cfg.hardware)
    reference = str(ecfg["reference"])
    include = ecfg.get("variants")
    # the reference is always measured: every retention and fidelity number is relative to it
    variants = list_variants(run_dir, (list(include) + [reference]) if include and reference not in include else include)
    by_name = {v["name"]: v for v in variants}
    ref = by_name.get(reference)
    if ref is None or ref.get("status") != "ok" or backend_kind(ref) != "hf":
        raise CostlabError(f"eval.reference '{reference}' is not an ok HF-format variant of {run_dir}/variants",
                           "the quantize stage writes teacher-fp32; set eval.reference to an HF variant name")
    ref_dir = out_dir / "reference"
    isolate = bool(ecfg.get("isolate", True))
    timeout = ecfg.get("variant_timeout_s")
    order = [ref] + [v for v in variants if v["name"] != reference]
    counts = {"ok": 0, "failed": 0, "error": 0, "reused": 0}
    t0 = time.time()
    ref_digest = None
    for v in order:
        out = out_dir / f"{v['name']}.json"
        if v["name"] != reference:
            ref_digest = read_json(ref_dir / "teacher_topk.json")["digest"]
        fp = variant_fingerprint(v, ecfg, hw, ref_digest)
        ref_ok = v["name"] != reference or ((ref_dir / "teacher_topk.npz").exists()
                                            and (ref_dir / "teacher_topk.json").exists())
        if out.exists() and ref_ok:
            old = read_json(out)
            if old.get("fingerprint") == fp and old.get("status") in ("ok", "failed"):
                print(f"[costlab] eval {v['name']}: reusing {out} (same variant and eval config)")
                counts["reused"] += 1
                counts[old["status"]] += 1
                continue
        if v.get("status") != "ok":
            _write_result(out, _error_record(v, v.get("error") or "quantize stage marked it failed", fp, "failed"))
            print(f"[costlab] eval {v['name']}: failed in the quantize stage, not measured")
            counts["failed"] += 1
            continue
        miss = missing_backend(v)
        if miss:
            _write_result(out, _error_record(v, miss, fp))
            print(f"[costlab] eval {v['name']}: {miss}")
            counts["error"] += 1
            continue
        print(f"[costlab] eval {v['name']} ({backend_kind(v)}) ...")
        t = time.time()
        spec = {"variant": v, "run_dir": str(run_dir), "out": str(out), "eval": ecfg, "hardware": hw,
                "seed": int(cfg.seed), "reference_dir": str(ref_dir), "fingerprint": fp,
                "build_reference": v["name"] == reference}
        if v["name"] == reference:
            from costlab.eval.fidelity import REF_META

            (ref_dir / REF_META).unlink(missing_ok=True)  # rebuilt with this config by the reference's run
        _run_variant(spec, isolate, float(timeout) if timeout else None)
        rec = read_json(out)
        counts[rec["status"]] = counts.get(rec["status"], 0) + 1
        print(f"[costlab] eval {v['name']}: {rec['status']} in {time.time() - t:.1f}s"
              + (f" — {rec['error'].splitlines()[0]}" if rec.get("error") else ""))
        if v["name"] == reference and rec["status"] != "ok":
            raise CostlabError(f"the reference variant {reference} could not be measured: {rec['error']}",
                               "fix the reference first: every retention is relative to it")
    add_retention(out_dir, reference)
    index = {v["name"]: read_json(out_dir / f"{v['name']}.json")["status"] for v in order}
    atomic_write_json(out_dir / "summary.json", {"reference": reference, "variants": index,
                                                  "hardware": hw.get("name")})
    return {**{f"variants_{k}": n for k, n in counts.items()}, "eval_seconds": round(time.time() - t0, 1)}
