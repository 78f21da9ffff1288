"""The ``quantize`` stage: every configured base model → a set of variants under ``<run_dir>/variants/<name>/``.

Bases: ``teacher`` (``costlab.models.resolve_hf_dir(cfg.teacher)``) and ``student`` (``<run_dir>/student/merged``;
skipped with a message when the train stage has not written it). For each base the stage writes the unquantized
reference variant (``teacher-hf`` / ``student-hf``: the base model as it is, in HF format), then the variants of
every method under ``quant.methods``. A method is a plug-in chosen by ``_target_`` (costlab.quant.method: gguf,
bnb, gptq, awq ship with costlab). A variant that cannot be built or fails its sanity check is written with
``status: failed`` and the reason + fix; the others are still built. ``quant.strict: true`` makes the stage
itself fail at the end when any variant failed.

A resumed stage (same config, killed half-way) skips variants whose variant.json already says ``ok``.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any, Callable

from omegaconf import DictConfig, OmegaConf

from costlab.config import to_container, typed
from costlab.errors import CostlabError
from costlab.io import atomic_write_json, read_json
from costlab.provenance import hash_inputs, make_provenance, write_provenance
from costlab.quant.method import Base, QuantMethod, VariantSpec
from costlab.quant.variant import Variant, finite, rel_to_run, weight_bytes, write_variant
from costlab.schemas.quant import QuantConfig

QUANT_FIX = (
    "add `- /quant: gguf` (or bnb, gptq, awq, all) to the experiment's defaults, "
    "or pass +quant=gguf on the command line"
)
REFERENCE_NAMES = {"teacher": "teacher-hf", "student": "student-hf"}


def quant_config(cfg: DictConfig) -> QuantConfig:
    """The typed ``quant`` section (costlab.schemas.quant); a missing group says how to add one."""
    if OmegaConf.select(cfg, "quant", default=None) is None:
        raise CostlabError("the quantize stage needs a `quant` config group and none is selected", QUANT_FIX)
    return typed(cfg, "quant")


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
                skipped[name] = (
                    f"no student at {d} (run the train_student stage first); quantizing the other bases only"
                )
        else:
            raise CostlabError(f"unknown base '{name}' in quant.bases", "use teacher and/or student")
    return found, skipped


class QuantRun:
    """Builds the variants of one stage run: the reference of each base, then every method's variants."""

    def __init__(self, cfg: DictConfig, qc: QuantConfig, run_dir: Path, out_dir: Path):
        self.cfg, self.qc, self.run_dir, self.out_dir = cfg, qc, run_dir, out_dir
        self.results: list[Variant] = []
        self.seed = int(cfg.seed)
        self.threads = int(cfg.threads)
        self.methods: dict[str, QuantMethod] = {k: p.instantiate() for k, p in qc.methods.items()}

    def _prov(self, var_dir: Path, variant: Variant, base_inputs: dict, extra: dict | None = None) -> None:
        rec = make_provenance(
            {"quant": self.qc.model_dump(by_alias=True), "variant": variant.name},
            seed=self.seed,
            extra={"stage": "quantize", "variant": variant.to_dict(), **(extra or {})},
        )
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

    def build(
        self, spec: VariantSpec, base: str, base_inputs: dict, fn: Callable[[Variant, Path], dict | None]
    ) -> Variant:
        """Run ``fn(variant, var_dir)`` (fills the variant, returns provenance extras); failures become records."""
        done = self._existing_ok(spec.name)
        if done is not None:
            self.results.append(done)
            return done
        var_dir = self.out_dir / spec.name
        if var_dir.exists():
            shutil.rmtree(var_dir)
        var_dir.mkdir(parents=True)
        v = Variant(name=spec.name, base=base, format=spec.format, quant=spec.quant, path=None, backend=spec.backend)
        print(f"[costlab] quantize: building {spec.name} ...", flush=True)
        t0 = time.time()
        extra: dict | None = None
        try:
            extra = fn(v, var_dir)
            if v.build_seconds is None:
                v.build_seconds = time.time() - t0
            ppl = v.sanity.get("ppl")
            if not finite(ppl):
                raise CostlabError(
                    f"sanity perplexity is not finite ({ppl})",
                    "the weights are broken: try a higher-bit type, or check the base model",
                )
        except CostlabError as e:
            v.fail(f"{spec.name}: {e.what}" + (f" — fix: {e.fix}" if e.fix else ""))
        except Exception as e:  # a library bug must not take the other variants down
            v.fail(f"{spec.name}: {type(e).__name__}: {e}"[:800] + " — fix: see provenance.json / the log above")
        write_variant(var_dir, v)
        self._prov(var_dir, v, base_inputs, extra)
        status = "ok" if v.status == "ok" else f"FAILED: {v.error}"
        print(
            f"[costlab] quantize: {spec.name} {status} ({time.time() - t0:.1f}s, ppl {v.sanity.get('ppl')})", flush=True
        )
        self.results.append(v)
        return v

    def run_base(self, name: str, hf_dir: str) -> None:
        import torch

        from costlab.models import load_causal_lm, load_tokenizer
        from costlab.quant.sanity import hf_sanity
        from costlab.quant.texts import heldout_ids

        sanity = self.qc.sanity
        base_inputs = hash_inputs({"base_model": hf_dir})
        tok = load_tokenizer(hf_dir)
        ids, _src = heldout_ids(tok, sanity.heldout_paths, sanity.max_tokens)
        dtype = str(self.cfg.teacher.dtype) if name == "teacher" else "float32"
        state: dict[str, Any] = {}

        def model():
            if "model" not in state:
                state["model"] = load_causal_lm(hf_dir, dtype)
            return state["model"]

        base = Base(
            name=name,
            hf_dir=hf_dir,
            tokenizer=tok,
            heldout_ids=ids,
            n_params=sum(p.numel() for p in model().parameters()),
            sanity=sanity,
            calibration_cfg=self.qc.calibration,
            run_dir=self.run_dir,
            work_dir=self.out_dir / ".work",
            seed=self.seed,
            threads=self.threads,
            load_model=model,
        )

        if self.qc.reference:

            def ref(v: Variant, _d: Path) -> dict:
                v.path = rel_to_run(hf_dir, self.run_dir) if Path(hf_dir).exists() else hf_dir
                wb = weight_bytes(hf_dir) if Path(hf_dir).exists() else 0
                v.size_mb, v.n_params = wb / 1e6, base.n_params
                v.bits_per_weight = wb * 8 / base.n_params if wb else None
                v.build_seconds = 0.0
                v.sanity = hf_sanity(model(), tok, ids, sanity.prompt, sanity.gen_tokens, sanity.window)
                return {"dtype": dtype}

            self.build(VariantSpec(REFERENCE_NAMES[name], "hf", None, "hf"), name, base_inputs, ref)

        for method in self.methods.values():
            for spec in method.variants(base):
                self.build(spec, name, base_inputs, lambda v, d, spec=spec, m=method: m.build(base, spec, v, d))
            method.finish(base)
        state.clear()
        torch.set_num_threads(self.threads)


def summary_table(variants: list[Variant]) -> str:
    head = f"{'variant':28} {'format':6} {'status':7} {'size MB':>9} {'bits/w':>7} {'build s':>8} {'ppl':>9}"
    rows = [head, "-" * len(head)]
    for v in variants:

        def f(x, spec):
            return format(x, spec) if isinstance(x, (int, float)) and x is not None else "-"

        rows.append(
            f"{v.name:28} {v.format:6} {v.status:7} {f(v.size_mb, '9.1f')} {f(v.bits_per_weight, '7.2f')} "
            f"{f(v.build_seconds, '8.1f')} {f(v.sanity.get('ppl'), '9.2f')}"
        )
    for v in variants:
        if v.status != "ok":
            rows.append(f"  {v.error}")
    return "\n".join(rows)


def run_stage(cfg: DictConfig, run_dir: Path, out_dir: Path) -> dict[str, Any]:
    import torch

    qc = quant_config(cfg)
    torch.set_num_threads(int(cfg.threads))
    bases, skipped = find_bases(cfg, run_dir, list(qc.bases))
    for name, why in skipped.items():
        print(f"[costlab] quantize: skipping base '{name}': {why}")
    if not bases:
        raise CostlabError("no base model to quantize", f"quant.bases={qc.bases}: {skipped}")
    q = QuantRun(cfg, qc, run_dir, out_dir)
    for base, hf_dir in bases.items():
        print(f"[costlab] quantize: base {base} = {hf_dir}")
        q.run_base(base, hf_dir)
    work = out_dir / ".work"
    if work.is_dir() and not any(work.iterdir()):
        work.rmdir()
    table = summary_table(q.results)
    print(table)
    atomic_write_json(out_dir / "index.json", [v.to_dict() for v in q.results])
    (out_dir / "summary.txt").write_text(table + "\n")
    failed = {v.name: v.error for v in q.results if v.status != "ok"}
    metrics = {
        "n_ok": sum(v.status == "ok" for v in q.results),
        "n_failed": len(failed),
        "failed": failed,
        "skipped_bases": skipped,
        "variants": {
            v.name: {
                "status": v.status,
                "size_mb": v.to_dict()["size_mb"],
                "bits_per_weight": v.to_dict()["bits_per_weight"],
                "build_seconds": v.to_dict()["build_seconds"],
                "ppl": v.sanity.get("ppl"),
            }
            for v in q.results
        },
    }
    if failed and qc.strict:
        raise CostlabError(
            f"{len(failed)} variant(s) failed: {sorted(failed)}",
            "see the reasons above / in variants/<name>/variant.json, or set quant.strict=false",
        )
    return metrics
