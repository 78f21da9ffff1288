"""The ``quantize`` stage: every configured base model → a set of variants under ``<run_dir>/variants/<name>/``.

Bases: ``teacher`` (``costlab.models.resolve_hf_dir(cfg.teacher)``) and ``student`` (``<run_dir>/student/merged``;
skipped with a message when the train stage has not written it). For each base the stage writes the unquantized
reference variant (``teacher-fp32`` / ``student-hf``), then the variants of every method under ``quant.methods``
(gguf, bnb, gptq, awq). A variant that cannot be built or fails its sanity check is written with
``status: failed`` and the reason + fix; the others are still built. ``quant.strict: true`` makes the stage
itself fail at the end when any variant failed.

A resumed stage (same config, killed half-way) skips variants whose variant.json already says ``ok``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from omegaconf import DictConfig, OmegaConf

from costlab.config import to_container
from costlab.errors import CostlabError
from costlab.io import atomic_write_json, read_json
from costlab.provenance import hash_inputs, make_provenance, write_provenance
from costlab.quant.variant import Variant, finite, rel_to_run, weight_bytes, write_variant

QUANT_FIX = ("add `- /quant: gguf` (or bnb, gptq, awq, all) to the experiment's defaults, "
             "or pass +quant=gguf on the command line")
REFERENCE_NAMES = {"teacher": "teacher-hf", "student": "student-hf"}


def quant_config(cfg: DictConfig) -> dict[str, Any]:
    q = OmegaConf.select(cfg, "quant", default=None)
    if q is None:
        raise CostlabError("the quantize stage needs a `quant` config group and none is selected", QUANT_FIX)
    qc = to_container(q)
    for key in ("bases", "methods", "sanity", "calibration"):
        if key not in qc:
            raise CostlabError(f"quant.{key} is not set", "select a file from configs/quant/ (they all include common.yaml)")
    return qc


def find_bases(cfg: DictConfig, run_dir: Path, names: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """{base name: HF dir} for the bases that exist, and {base name: why skipped} for those that do not."""
    from costlab.models import resolve_hf_dir

    found, skipped = {}, {}
    for name in names:
        if name == "teacher":
            found[name] = resolve_hf_dir(to_container(cfg.teacher), cfg.paths.cache_dir)
        elif name == "student":
            d = run_dir / "student" / "merged"
            if (d / "config.json").is_file():
                found[name] = str(d)
            else:
                skipped[name] = f"no student at {d} (run the train_student stage first); quantizing the other bases only"
        else:
            raise CostlabError(f"unknown base '{name}' in quant.bases", "use teacher and/or student")
    return found, skipped


class QuantRun:
    """Builds the variants of one stage run; holds what bases share (tokenizer ids, calibration text)."""

    def __init__(self, cfg: DictConfig, qc: dict[str, Any], run_dir: Path, out_dir: Path):
        self.cfg, self.qc, self.run_dir, self.out_dir = cfg, qc, run_dir, out_dir
        self.sanity_cfg = qc["sanity"]
        self.results: list[Variant] = []
        self.seed = int(cfg.seed)

    # ------------------------------------------------------------ helpers
    def _prov(self, var_dir: Path, variant: Variant, base_inputs: dict, extra: dict | None = None) -> None:
        rec = make_provenance({"quant": self.qc, "variant": variant.name}, seed=self.seed,
                              extra={"stage": "quantize", "variant": variant.to_dict(), **(extra or {})})
        rec["inputs"] = base_inputs
        write_provenance(var_dir, rec)

    def _existing_ok(self, name: str) -> Variant | None:
        f = self.out_dir / name / "variant.json"
        if f.is_file():
            d = read_json(f)
            if d.get("status") == "ok":
                print(f"[costlab] quantize: {name} already built (ok), kept")
                return Variant(**{k: d.get(k) for k in Variant.__dataclass_fields__})
        return None

    def build(self, name: str, base: str, fmt: str, quant: str | None, backend: str, base_inputs: dict,
              fn: Callable[[Variant, Path], dict | None]) -> Variant:
        """Run ``fn(variant, var_dir)`` (fills the variant, returns provenance extras); failures become records."""
        done = self._existing_ok(name)
        if done is not None:
            self.results.append(done)
            return done
        var_dir = self.out_dir / name
        if var_dir.exists():
            shutil.rmtree(var_dir)
        var_dir.mkdir(parents=True)
        v = Variant(name=name, base=base, format=fmt, quant=quant, path=None, backend=backend)
        print(f"[costlab] quantize: building {name} ...", flush=True)
        t0 = time.time()
        extra: dict | None = None
        try:
            extra = fn(v, var_dir)
            if v.build_seconds is None:
                v.build_seconds = time.time() - t0
            ppl = v.sanity.get("ppl")
            if not finite(ppl):
                raise CostlabError(f"sanity perplexity is not finite ({ppl})",
                                   "the weights are broken: try a higher-bit type, or check the base model")
        except CostlabError as e:
            v.fail(f"{name}: {e.what}" + (f" — fix: {e.fix}" if e.fix else ""))
        except Exception as e:  # a library bug must not take the other variants down
            v.fail(f"{name}: {type(e).__name__}: {e}"[:800] + " — fix: see provenance.json / the log above")
        write_variant(var_dir, v)
        self._prov(var_dir, v, base_inputs, extra)
        status = "ok" if v.status == "ok" else f"FAILED: {v.error}"
        print(f"[costlab] quantize: {name} {status} ({time.time() - t0:.1f}s, ppl {v.sanity.get('ppl')})", flush=True)
        self.results.append(v)
        return v

    # ------------------------------------------------------------ inputs shared by variants
    def heldout(self, tokenizer) -> list[int]:
        from costlab.quant.texts import heldout_ids

        ids, _src = heldout_ids(tokenizer, self.sanity_cfg["heldout_paths"], int(self.sanity_cfg["max_tokens"]))
        return ids

    def calibration(self, tokenizer) -> tuple[list[str], str | None]:
        from costlab.quant.texts import calibration_texts

        c = self.qc["calibration"]
        texts, src = calibration_texts(c["paths"], int(c["n_samples"]), tokenizer, int(c["min_tokens"]))
        return texts, src

    def require_calibration(self, tokenizer) -> tuple[list[str], str]:
        texts, src = self.calibration(tokenizer)
        c = self.qc["calibration"]
        if not texts:
            where = src or ", ".join(str(p) for p in c["paths"])
            raise CostlabError(f"the calibration set is empty (no rows of ≥ {c['min_tokens']} tokens in {where})",
                               "run generate_teacher first, or point quant.calibration.paths at a JSONL with text")
        if len(texts) < int(c["min_samples"]):
            raise CostlabError(f"the calibration set is too small: {len(texts)} rows < quant.calibration.min_samples="
                               f"{c['min_samples']} (from {src})", "add teacher data or lower quant.calibration.min_samples")
        return texts, str(src)

    # ------------------------------------------------------------ one base
    def run_base(self, base: str, hf_dir: str) -> None:
        import torch

        from costlab.models import load_causal_lm, load_tokenizer
        from costlab.quant.sanity import hf_sanity

        s = self.sanity_cfg
        base_inputs = hash_inputs({"base_model": hf_dir})
        tok = load_tokenizer(hf_dir)
        ids = self.heldout(tok)
        dtype = self.cfg.teacher.get("dtype", "float32") if base == "teacher" else "float32"
        state: dict[str, Any] = {}

        def model():
            if "model" not in state:
                state["model"] = load_causal_lm(hf_dir, dtype)
            return state["model"]

        n_params = sum(p.numel() for p in model().parameters())
        methods = self.qc["methods"] or {}

        if self.qc.get("reference", True):
            def ref(v: Variant, _d: Path) -> dict:
                v.path = rel_to_run(hf_dir, self.run_dir) if Path(hf_dir).exists() else hf_dir
                wb = weight_bytes(hf_dir) if Path(hf_dir).exists() else 0
                v.size_mb, v.n_params = wb / 1e6, n_params
                v.bits_per_weight = wb * 8 / n_params if wb else None
                v.build_seconds = 0.0
                v.sanity = hf_sanity(model(), tok, ids, s["prompt"], int(s["gen_tokens"]), int(s["window"]))
                return {"dtype": dtype}
            self.build(REFERENCE_NAMES[base], base, "hf", None, "hf", base_inputs, ref)

        if "gguf" in methods:
            self.run_gguf(base, hf_dir, methods["gguf"], tok, ids, model, base_inputs)
        if "bnb" in methods:
            self.run_bnb(base, hf_dir, methods["bnb"], tok, ids, n_params, base_inputs)
        for m in ("gptq", "awq"):
            if m in methods:
                self.run_gptqmodel(m, base, hf_dir, methods[m], tok, ids, n_params, base_inputs)
        state.clear()
        torch.set_num_threads(int(self.cfg.get("threads", 1) or 1))

    # ------------------------------------------------------------ GGUF
    def run_gguf(self, base: str, hf_dir: str, g: dict, tok, ids: list[int], model, base_inputs: dict) -> None:
        from costlab.quant import gguf as G
        from costlab.quant.sanity import gguf_sanity

        s = self.sanity_cfg
        suffix = "-imat" if g.get("imatrix") else ""
        work = self.out_dir / ".work"
        f16 = work / f"{base}-{g['outtype'].upper()}.gguf"
        prep: dict[str, Any] = {}

        def prepare() -> None:
            """Convert once per base (and compute the imatrix once); an error fails every type of this base."""
            if "error" in prep or "f16" in prep:
                if "error" in prep:
                    raise prep["error"]
                return
            try:
                t0 = time.time()
                G.convert_hf_to_gguf(hf_dir, f16, g["converter"], g["outtype"])
                prep["convert_seconds"] = time.time() - t0
                prep["f16"] = f16
                if g.get("imatrix"):
                    texts, src = self.require_calibration(tok)
                    t0 = time.time()
                    prep["imatrix"] = G.compute_imatrix(model(), texts, tok, f16, int(self.qc["calibration"]["max_tokens"]))
                    prep["imatrix_seconds"] = time.time() - t0
                    prep["imatrix_source"] = src
            except CostlabError as e:
                prep["error"] = e
                raise

        for qtype in g["types"]:
            name = f"{base}-{qtype}{suffix}"

            def one(v: Variant, var_dir: Path, qtype=qtype) -> dict:
                G.ftype_of(qtype)  # unknown type → this variant fails before any work
                prepare()
                dst = var_dir / f"{v.name}.gguf"
                t0 = time.time()
                if qtype.upper() == g["outtype"].upper():
                    shutil.copyfile(prep["f16"], dst)
                else:
                    G.quantize_gguf(prep["f16"], dst, qtype, threads=int(g["threads"]), imatrix=prep.get("imatrix"))
                quantize_seconds = time.time() - t0
                # build time = what it costs to make this file from the HF dir: convert (+ imatrix) + quantize
                v.build_seconds = prep["convert_seconds"] + prep.get("imatrix_seconds", 0.0) + quantize_seconds
                st = G.gguf_stats(dst)
                v.path = rel_to_run(dst, self.run_dir)
                v.size_mb, v.n_params, v.bits_per_weight = st["file_bytes"] / 1e6, st["n_params"], st["bits_per_weight"]
                v.sanity = gguf_sanity(str(dst), ids, s["prompt"], int(s["gen_tokens"]), int(s["window"]),
                                       int(s["llama_threads"]))
                return {"tensor_types": st["tensor_types"], "converter": str(g["converter"]),
                        "imatrix": bool(prep.get("imatrix")), "imatrix_source": prep.get("imatrix_source"),
                        "convert_seconds": prep["convert_seconds"], "imatrix_seconds": prep.get("imatrix_seconds"),
                        "quantize_seconds": quantize_seconds}

            self.build(name, base, "gguf", qtype, "llama.cpp", base_inputs, one)
        if not g.get("keep_f16") and work.exists():
            shutil.rmtree(work, ignore_errors=True)

    # ------------------------------------------------------------ bitsandbytes
    def run_bnb(self, base: str, hf_dir: str, b: dict, tok, ids: list[int], n_params: int, base_inputs: dict) -> None:
        from costlab.quant import bnb as B
        from costlab.quant.sanity import hf_sanity

        s = self.sanity_cfg
        for mode in b["modes"]:
            dq = bool(b["double_quant"])
            name = f"{base}-{B.variant_suffix(mode, dq)}"

            def one(v: Variant, var_dir: Path, mode=mode, dq=dq) -> dict:
                t0 = time.time()
                B.quantize_bnb(hf_dir, var_dir, mode, dq, b["compute_dtype"])
                v.build_seconds = time.time() - t0
                model = B.load_bnb(var_dir)  # sanity on the reloaded copy: proves it round-trips
                v.path = rel_to_run(var_dir, self.run_dir)
                wb = weight_bytes(var_dir)
                v.size_mb, v.n_params, v.bits_per_weight = wb / 1e6, n_params, wb * 8 / n_params
                v.sanity = hf_sanity(model, tok, ids, s["prompt"], int(s["gen_tokens"]), int(s["window"]))
                return {"double_quant": dq, "compute_dtype": b["compute_dtype"]}

            quant = mode + ("-dq" if dq and mode != "int8" else "")
            self.build(name, base, "bnb", quant, "hf", base_inputs, one)

    # ------------------------------------------------------------ GPTQ / AWQ (GPTQModel, own venv)
    def run_gptqmodel(self, method: str, base: str, hf_dir: str, m: dict, tok, ids: list[int], n_params: int,
                      base_inputs: dict) -> None:
        s = self.sanity_cfg
        quant = f"w{m['bits']}g{m['group_size']}"
        name = f"{base}-{method}-{quant}"

        def one(v: Variant, var_dir: Path) -> dict:
            python = m.get("python") or sys.executable
            if not Path(python).is_file():
                raise CostlabError(f"gptqmodel is not installed (no interpreter at {python})",
                                   "make venv-gptq  (a separate venv: gptqmodel pins numpy 2.2.6), or set "
                                   f"quant.methods.{method}.python to a python that has `pip install gptqmodel==7.6.0`")
            texts, src = self.require_calibration(tok)
            spec = {"method": method, "hf_dir": str(hf_dir), "out_dir": str(var_dir), "bits": m["bits"],
                    "group_size": m["group_size"], "sym": m["sym"], "desc_act": m.get("desc_act", False),
                    "damp_percent": m.get("damp_percent", 0.05), "dtype": m["dtype"], "calibration": texts,
                    "max_tokens": self.qc["calibration"]["max_tokens"], "min_tokens": self.qc["calibration"]["min_tokens"],
                    "heldout_ids": ids, "prompt": s["prompt"], "gen_tokens": s["gen_tokens"], "window": s["window"],
                    "threads": self.cfg.get("threads", 1), "cpu_workers": m["cpu_workers"], "seed": self.seed}
            work = self.out_dir / ".work"
            work.mkdir(parents=True, exist_ok=True)
            spec_f, res_f, log_f = work / f"{name}.spec.json", work / f"{name}.result.json", var_dir / "build.log"
            atomic_write_json(spec_f, spec)
            res_f.unlink(missing_ok=True)
            worker = Path(__file__).with_name("gptq_worker.py")
            env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
            env.pop("PYTHONPATH", None)  # the worker must see its own venv's numpy, not ours
            print(f"[costlab] quantize: {name}: GPTQModel {method} in {python} (log: {log_f})", flush=True)
            with open(log_f, "w") as logf:
                try:
                    proc = subprocess.run([python, str(worker), str(spec_f), str(res_f)], stdout=logf,
                                          stderr=subprocess.STDOUT, env=env, timeout=float(m["timeout_s"]))
                    rc = proc.returncode
                except subprocess.TimeoutExpired:
                    raise CostlabError(f"GPTQModel {method} did not finish in {m['timeout_s']} s",
                                       f"raise quant.methods.{method}.timeout_s, lower quant.calibration.n_samples, "
                                       "or run it on a GPU") from None
            if res_f.is_file():
                res = json.loads(res_f.read_text())
            else:
                tail = [l for l in log_f.read_text(errors="replace").replace("\r", "\n").splitlines() if l.strip()]
                res = {"error": f"worker exited {rc}: {tail[-1].strip() if tail else 'no output'}"[:600]}
            if rc == 3:
                raise CostlabError(f"gptqmodel is not installed in {python}: {res.get('error')}",
                                   f"make venv-gptq, or {python} -m pip install -c constraints.txt gptqmodel==7.6.0")
            if rc != 0 or res.get("status") != "ok":
                fix = f"see {log_f}"
                if "CUDA" in str(res.get("error")):
                    fix = f"this {method} kernel needs CUDA here; run the stage on a GPU machine ({log_f})"
                raise CostlabError(f"GPTQModel {method} failed: {res.get('error')}", fix)
            v.build_seconds = float(res["build_seconds"])
            v.path = rel_to_run(var_dir, self.run_dir)
            wb = weight_bytes(var_dir)
            v.size_mb, v.n_params, v.bits_per_weight = wb / 1e6, n_params, wb * 8 / n_params
            v.sanity = res["sanity"]
            return {"calibration_source": src, "calibration_samples": len(texts), "worker_versions": res.get("versions"),
                    "quantize_config": res.get("quantize_config"), "python": python}

        backend = "gptqmodel"
        self.build(name, base, method, quant, backend, base_inputs, one)


def summary_table(variants: list[Variant]) -> str:
    head = f"{'variant':28} {'format':6} {'status':7} {'size MB':>9} {'bits/w':>7} {'build s':>8} {'ppl':>9}"
    rows = [head, "-" * len(head)]
    for v in variants:
        def f(x, spec):
            return format(x, spec) if isinstance(x, (int, float)) and x is not None else "-"
        rows.append(f"{v.name:28} {v.format:6} {v.status:7} {f(v.size_mb, '9.1f')} {f(v.bits_per_weight, '7.2f')} "
                    f"{f(v.build_seconds, '8.1f')} {f(v.sanity.get('ppl'), '9.2f')}")
    for v in variants:
        if v.status != "ok":
            rows.append(f"  {v.error}")
    return "\n".join(rows)


def run_stage(cfg: DictConfig, run_dir: Path, out_dir: Path) -> dict[str, Any]:
    import torch

    qc = quant_config(cfg)
    torch.set_num_threads(int(cfg.get("threads", 1) or 1))
    bases, skipped = find_bases(cfg, run_dir, list(qc["bases"]))
    for name, why in skipped.items():
        print(f"[costlab] quantize: skipping base '{name}': {why}")
    if not bases:
        raise CostlabError("no base model to quantize", f"quant.bases={qc['bases']}: {skipped}")
    q = QuantRun(cfg, qc, run_dir, out_dir)
    for base, hf_dir in bases.items():
        print(f"[costlab] quantize: base {base} = {hf_dir}")
        q.run_base(base, hf_dir)
    table = summary_table(q.results)
    print(table)
    atomic_write_json(out_dir / "index.json", [v.to_dict() for v in q.results])
    (out_dir / "summary.txt").write_text(table + "\n")
    failed = {v.name: v.error for v in q.results if v.status != "ok"}
    metrics = {"n_ok": sum(v.status == "ok" for v in q.results), "n_failed": len(failed), "failed": failed,
               "skipped_bases": skipped,
               "variants": {v.name: {"status": v.status, "size_mb": v.to_dict()["size_mb"],
                                     "bits_per_weight": v.to_dict()["bits_per_weight"],
                                     "build_seconds": v.to_dict()["build_seconds"], "ppl": v.sanity.get("ppl")}
                            for v in q.results}}
    if failed and qc.get("strict"):
        raise CostlabError(f"{len(failed)} variant(s) failed: {sorted(failed)}",
                           "see the reasons above / in variants/<name>/variant.json, or set quant.strict=false")
    return metrics
