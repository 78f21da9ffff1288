"""A quantization method that exists only in the tests: proves a method is one module (+ one config entry)."""

from __future__ import annotations

from pathlib import Path

from costlab.quant.method import Base, QuantMethod, VariantSpec
from costlab.schemas.base import Schema


class FakeMethod(QuantMethod):
    class Params(Schema):
        copies: int
        fail_second: bool

    def variants(self, base: Base) -> list[VariantSpec]:
        return [VariantSpec(f"{base.name}-fake{i}", "fake", f"c{i}", "hf", {"i": i}) for i in range(self.p.copies)]

    def build(self, base: Base, spec: VariantSpec, variant, var_dir: Path) -> dict:
        from costlab.errors import CostlabError
        from costlab.quant.variant import rel_to_run

        i = spec.options["i"]
        if self.p.fail_second and i == 1:
            raise CostlabError("fake failure", "nothing to fix: the test asked for it")
        (var_dir / "weights.bin").write_bytes(b"\0" * 1000 * (i + 1))
        variant.path = rel_to_run(var_dir, base.run_dir)
        variant.size_mb, variant.n_params, variant.bits_per_weight = 1000 * (i + 1) / 1e6, base.n_params, 1.0
        variant.sanity = {"ppl": 10.0 + i, "n_tokens": len(base.heldout_ids), "sample": "fake"}
        return {"fake_index": i}
