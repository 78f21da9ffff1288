"""GPTQ and AWQ through GPTQModel (configs/quant/gptq.yaml, awq.yaml), run in their own venv.

gptqmodel pins numpy 2.2.6, so it cannot live in the project venv: the method starts
``costlab/quant/gptq_worker.py`` with ``python`` (default ``.cache/venv-gptq/bin/python``, `make venv-gptq`),
passing a spec JSON; the worker quantizes, saves, reloads and runs the same sanity check as every variant.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

from costlab.errors import CostlabError
from costlab.io import atomic_write_json
from costlab.paths import offline_env
from costlab.quant.method import Base, QuantMethod, VariantSpec
from costlab.quant.variant import rel_to_run, weight_bytes
from costlab.schemas.base import Schema


class _GPTQModelMethod(QuantMethod):
    method: ClassVar[str]

    def variants(self, base: Base) -> list[VariantSpec]:
        quant = f"w{self.p.bits}g{self.p.group_size}"
        return [VariantSpec(f"{base.name}-{self.method}-{quant}", self.method, quant, "gptqmodel")]

    def worker_args(self) -> dict[str, Any]:
        return {"sym": self.p.sym}

    def build(self, base: Base, spec: VariantSpec, variant, var_dir: Path) -> dict[str, Any]:
        python = self.p.python or sys.executable
        if not Path(python).is_file():
            raise CostlabError(
                f"gptqmodel is not installed (no interpreter at {python})",
                "make venv-gptq  (a separate venv: gptqmodel pins numpy 2.2.6), or set "
                f"quant.methods.{self.method}.python to a python that has `pip install gptqmodel==7.6.0`",
            )
        texts, src = base.require_calibration()
        sanity, calib = base.sanity, base.calibration_cfg
        job = {
            "method": self.method,
            "hf_dir": str(base.hf_dir),
            "out_dir": str(var_dir),
            "bits": self.p.bits,
            "group_size": self.p.group_size,
            **self.worker_args(),
            "dtype": self.p.dtype,
            "calibration": texts,
            "max_tokens": calib.max_tokens,
            "min_tokens": calib.min_tokens,
            "heldout_ids": base.heldout_ids,
            "prompt": sanity.prompt,
            "gen_tokens": sanity.gen_tokens,
            "window": sanity.window,
            "threads": base.threads,
            "cpu_workers": self.p.cpu_workers,
            "seed": base.seed,
        }
        base.work_dir.mkdir(parents=True, exist_ok=True)
        name = spec.name
        spec_f, res_f, log_f = (
            base.work_dir / f"{name}.spec.json",
            base.work_dir / f"{name}.result.json",
            var_dir / "build.log",
        )
        atomic_write_json(spec_f, job)
        res_f.unlink(missing_ok=True)
        worker = Path(__file__).with_name("gptq_worker.py")
        env = offline_env()
        env.pop("PYTHONPATH", None)  # the worker must see its own venv's numpy, not ours
        print(f"[costlab] quantize: {name}: GPTQModel {self.method} in {python} (log: {log_f})", flush=True)
        with open(log_f, "w") as logf:
            try:
                rc = subprocess.run(
                    [python, str(worker), str(spec_f), str(res_f)],
                    stdout=logf,
                    stderr=subprocess.STDOUT,
                    env=env,
                    timeout=self.p.timeout_s,
                ).returncode
            except subprocess.TimeoutExpired:
                raise CostlabError(
                    f"GPTQModel {self.method} did not finish in {self.p.timeout_s} s",
                    f"raise quant.methods.{self.method}.timeout_s, lower quant.calibration.n_samples, "
                    "or run it on a GPU",
                ) from None
        if res_f.is_file():
            res = json.loads(res_f.read_text())
        else:
            tail = [ln for ln in log_f.read_text(errors="replace").replace("\r", "\n").splitlines() if ln.strip()]
            res = {"error": f"worker exited {rc}: {tail[-1].strip() if tail else 'no output'}"[:600]}
        if rc == 3:
            raise CostlabError(
                f"gptqmodel is not installed in {python}: {res.get('error')}",
                f"make venv-gptq, or {python} -m pip install -c constraints.txt gptqmodel==7.6.0",
            )
        if rc != 0 or res.get("status") != "ok":
            fix = f"see {log_f}"
            if "CUDA" in str(res.get("error")):
                fix = f"this {self.method} kernel needs CUDA here; run the stage on a GPU machine ({log_f})"
            raise CostlabError(f"GPTQModel {self.method} failed: {res.get('error')}", fix)
        variant.build_seconds = float(res["build_seconds"])
        variant.path = rel_to_run(var_dir, base.run_dir)
        wb = weight_bytes(var_dir)
        variant.size_mb, variant.n_params, variant.bits_per_weight = wb / 1e6, base.n_params, wb * 8 / base.n_params
        variant.sanity = res["sanity"]
        return {
            "calibration_source": src,
            "calibration_samples": len(texts),
            "worker_versions": res.get("versions"),
            "quantize_config": res.get("quantize_config"),
            "python": python,
        }


class GPTQMethod(_GPTQModelMethod):
    """configs/quant/gptq.yaml: GPTQ (bits, group size, act-order, damping) with calibration text."""

    method = "gptq"

    class Params(Schema):
        bits: int
        group_size: int
        sym: bool
        desc_act: bool
        damp_percent: float
        dtype: str
        python: str
        cpu_workers: int
        timeout_s: float

    def worker_args(self) -> dict[str, Any]:
        return {"sym": self.p.sym, "desc_act": self.p.desc_act, "damp_percent": self.p.damp_percent}


class AWQMethod(_GPTQModelMethod):
    """configs/quant/awq.yaml: AWQ (activation-aware scaling) with calibration text."""

    method = "awq"

    class Params(Schema):
        bits: int
        group_size: int
        sym: bool
        dtype: str
        python: str
        cpu_workers: int
        timeout_s: float
