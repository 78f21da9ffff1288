"""The eval-backend interface and its factory (see costlab.eval.backends)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Iterator, Mapping

from costlab.errors import CostlabError

# how each backend runs `eval.latency.concurrency` > 1 requests; "batch1" = it cannot (then every variant of the
# run is measured at batch 1, so throughput stays comparable — see costlab.eval.latency)
BATCH1 = "batch1"


class EvalBackend:
    """Base class. Subclasses set ``kind`` (the runtime name written to eval files) and implement the methods."""

    kind: str = "?"
    # concurrency methods this backend measures for real (e.g. "batched_forward"); empty = batch 1 only
    concurrency_methods: tuple[str, ...] = ()

    # ------------------------------------------------------------------ availability
    def requirements(self, variant: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(python module, how to install it) the variant needs here."""
        return []

    def missing(self, variant: Mapping[str, Any]) -> str | None:
        for mod, fix in self.requirements(variant):
            if importlib.util.find_spec(mod) is None:
                return f"variant {variant.get('name')} needs python module '{mod}', which is not installed ({fix})"
        return None

    # ------------------------------------------------------------------ measurement
    def load(self, path: Path, variant: Mapping[str, Any], threads: int, seed: int) -> None:
        raise NotImplementedError

    @property
    def tokenizer(self):
        """An HF tokenizer (``tok(text)["input_ids"]``) when the backend has one; the reference needs it to cut the
        held-out text into token sequences. None otherwise."""
        return None

    def quality_lm(self):
        """An lm-eval ``LM`` (loglikelihood + generate_until) over the loaded model."""
        raise NotImplementedError

    def vocab_size(self) -> int:
        raise NotImplementedError

    def sequence_logits(self, seqs: list[dict], batch_size: int) -> Iterator[Any]:
        """Yield, per sequence ``{input_ids, start}``, a float tensor [L - start, V]: the logits predicting
        targets start..L-1."""
        raise NotImplementedError

    def latency_runner(self, n_prompts: int, prompt_tokens: int, new_tokens: int, concurrency: int):
        """Return (runner, prompts, concurrency_method): a costlab.eval.latency Runner, ``n_prompts`` prompts of
        exactly ``prompt_tokens`` tokens, and how concurrency > 1 is run (BATCH1 when it is not)."""
        raise NotImplementedError

    def gpu_peak_mb(self) -> float | None:
        return None

    def close(self) -> None:
        pass


def backend_key(kind: str) -> str:
    return kind.replace(".", "_")


def make_backend(backends_cfg: Mapping[str, Any], kind: str) -> EvalBackend:
    """Instantiate ``eval.backends.<kind>``: the ``_target_`` class built from its keys, typed by the class's
    ``Params`` model (pydantic) when it declares one."""
    from hydra.utils import get_class
    from pydantic import ValidationError

    key = backend_key(kind)
    if key not in backends_cfg:
        raise CostlabError(
            f"no eval backend for runtime '{kind}' (eval.backends has {sorted(backends_cfg)})",
            f"add eval.backends.{key} with a _target_ (see configs/eval/default.yaml)",
        )
    entry = backends_cfg[key]
    if hasattr(entry, "target"):  # a typed costlab.schemas.base.Plugin
        target, spec = entry.target, dict(entry.params)
    else:
        spec = dict(entry)
        target = spec.pop("_target_", None)
    try:
        cls = get_class(str(target))
    except Exception as e:  # noqa: BLE001 - any import failure is a config error here
        raise CostlabError(
            f"eval.backends.{key}._target_={target!r} cannot be imported ({e})",
            "point _target_ at a subclass of costlab.eval.backends.base.EvalBackend",
        ) from e
    if not (isinstance(cls, type) and issubclass(cls, EvalBackend)):
        raise CostlabError(
            f"eval.backends.{key}._target_={target!r} is not an EvalBackend",
            "point _target_ at a subclass of costlab.eval.backends.base.EvalBackend",
        )
    params = getattr(cls, "Params", None)
    if params is not None:
        try:
            spec = params.model_validate(spec).model_dump()
        except ValidationError as e:
            raise CostlabError(f"eval.backends.{key}: {e}", "fix the key in configs/eval/default.yaml") from e
    obj = cls(**spec)
    obj.kind = kind if obj.kind == "?" else obj.kind
    return obj
