"""The model-family matrix: every stage costlab runs, on a tiny random model of each family (tests/families).

Per family: pruned student (depth + width) whose quirks survive a save/reload → one KD step each with the teacher
online and from stored top-k log-probs (full FT), one LoRA KD step → merge → llama.cpp's converter (F16) → its
quantizer (Q8_0, Q4_K_M) → llama.cpp loads each file, and its F16 logits match the HF model on the same tokens.
Families the installed converter/runtime cannot handle are listed in docs/families.md with the exact error.
Each test prints one ``FAMILY-RESULT {json}`` line (pytest -s) — the numbers in docs/families.md.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch

from costlab.student.prune import PrunedStudent, decoder_layers

from .tiny_families import FAMILIES, SEQ, build_family, save_family, spm_model

pytestmark = pytest.mark.families

KEEP = (
    "layer_types",
    "sliding_window",
    "attn_logit_softcapping",
    "final_logit_softcapping",
    "tie_word_embeddings",
    "num_key_value_heads",
    "num_attention_heads",
    "head_dim",
    "query_pre_attn_scalar",
    "hidden_size",
    "vocab_size",
)


def _result(family, stage, **kw):
    print("FAMILY-RESULT " + json.dumps({"family": family, "stage": stage, **kw}))


def _ids(vocab: int, n: int, seed: int) -> list[int]:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(4, vocab, (n,), generator=g).tolist()  # skip pad/eos/bos/unk of the SentencePiece vocab


@pytest.fixture(scope="module")
def spm_file(tmp_path_factory):
    return spm_model(tmp_path_factory.mktemp("spm") / "tokenizer.model")


@pytest.fixture(scope="module", params=list(FAMILIES))
def fam(request, tmp_path_factory, tokenizer_dir, tokenizer, spm_file):
    """Teacher → pruned student → KD (online, top-k, LoRA) → merged HF dir, for one family."""
    family = request.param
    d = tmp_path_factory.mktemp(family)
    t0 = time.time()
    teacher, vocab = build_family(family, d / "teacher", tokenizer_dir, spm_file)
    calib = [_ids(vocab, 64, s) for s in range(4)]
    builder = PrunedStudent(
        drop_layers=1, importance="drop_ppl", shortlist=0, mlp_width=256, calib_tokens=256, calib_seq_len=32
    )
    student = builder.build(teacher, tokenizer, calib)
    save_family(student, d / "student", family, tokenizer_dir, spm_file)
    out = {
        "family": family,
        "dir": d,
        "teacher": teacher,
        "student": student,
        "vocab": vocab,
        "build": builder.report,
        "spm": spm_file,
        "tokenizer_dir": tokenizer_dir,
    }
    out["kd"] = _kd_steps(out, d)
    out["hf_seconds"] = round(time.time() - t0, 1)
    return out


def _examples(vocab: int, n: int = 4) -> list[dict]:
    out = []
    for s in range(n):
        ids = _ids(vocab, 32, 100 + s)
        out.append({"input_ids": ids, "labels": [-100] * 8 + ids[8:], "id": f"x{s}"})
    return out


def _topk(teacher, examples, k: int, temperature: float) -> None:
    """Stored-signal format of costlab.distill.data: teacher top-k log-probs at T per input position."""
    with torch.no_grad():
        for ex in examples:
            logits = teacher(torch.tensor([ex["input_ids"]])).logits[0].float() / temperature
            lp, ids = torch.log_softmax(logits, -1).topk(k, dim=-1)
            ex["topk_ids"], ex["topk_logprobs"] = ids.numpy().astype(np.int64), lp.numpy().astype(np.float32)


def _train_one_step(model, teacher, examples, out_dir, signal: str):
    from transformers import TrainingArguments

    from costlab.distill.data import Collator
    from costlab.distill.losses import KDLoss
    from costlab.distill.train import KDTrainer

    args = TrainingArguments(
        output_dir=str(out_dir),
        max_steps=1,
        per_device_train_batch_size=2,
        learning_rate=1e-3,
        report_to="none",
        save_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
        logging_steps=1,
        remove_unused_columns=False,
        seed=0,
    )
    tr = KDTrainer(
        model=model,
        args=args,
        train_dataset=examples,
        data_collator=Collator(0),
        kd_loss=KDLoss(kind="forward_kl", temperature=2.0, alpha=0.5),
        teacher=teacher if signal == "online" else None,
    )
    res = tr.train()
    parts = {k: v for e in tr.state.log_history for k, v in e.items() if k.startswith("loss_")}
    return float(res.training_loss), parts


def _kd_steps(f, d):
    import copy

    from peft import LoraConfig, get_peft_model

    teacher, student, vocab = f["teacher"], f["student"], f["vocab"]
    res = {}
    for signal in ("online", "topk"):
        ex = _examples(vocab)
        if signal == "topk":
            _topk(teacher, ex, k=8, temperature=2.0)
        full = copy.deepcopy(student).train()
        w0 = decoder_layers(full)[0].mlp.down_proj.weight.detach().clone()
        loss, parts = _train_one_step(full, teacher, ex, d / f"ft_{signal}", signal)
        moved = float((decoder_layers(full)[0].mlp.down_proj.weight - w0).abs().max())
        res[f"full_{signal}"] = {"loss": round(loss, 4), **parts, "max_weight_change": moved}
    lora = get_peft_model(
        copy.deepcopy(student),
        LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", init_lora_weights=False, task_type="CAUSAL_LM"),
    )
    loss, parts = _train_one_step(lora, teacher, _examples(vocab), d / "lora", "online")
    res["lora_online"] = {
        "loss": round(loss, 4),
        **parts,
        "trainable": sum(p.numel() for p in lora.parameters() if p.requires_grad),
    }
    merged = lora.merge_and_unload().eval()
    save_family(merged, d / "merged", f["family"], f["tokenizer_dir"], f["spm"])
    f["merged"] = merged
    return res


def test_pruned_student_keeps_quirks_reloads_and_generates(fam):
    from transformers import AutoModelForCausalLM

    family, teacher, student, rep = fam["family"], fam["teacher"], fam["student"], fam["build"]
    tc, sc = teacher.config, student.config
    assert sc.num_hidden_layers == 3 and sc.intermediate_size == 256 and rep["family"] == tc.model_type
    assert len(rep["depth"]["rounds"]) == 1 and len(rep["depth"]["rounds"][0]["drop_ppl"]) == 4
    dropped = rep["dropped_layers"][0]
    for k in KEEP:
        want = getattr(tc, k, None)
        if k == "layer_types" and want is not None:
            want = [t for i, t in enumerate(want) if i != dropped]
        assert getattr(sc, k, None) == want, k
    again = AutoModelForCausalLM.from_pretrained(fam["dir"] / "student", dtype=torch.float32).eval()
    for k in KEEP:
        assert getattr(again.config, k, None) == getattr(sc, k, None), k
    if tc.tie_word_embeddings:
        assert again.lm_head.weight.data_ptr() == again.model.embed_tokens.weight.data_ptr()
    if family in ("qwen3", "gemma3_text"):
        assert hasattr(decoder_layers(again)[0].self_attn, "q_norm")
    ids = torch.tensor([_ids(fam["vocab"], SEQ, 7)])
    with torch.no_grad():  # the saved config describes the same function (masks per layer type, window, caps)
        diff = float((again(ids).logits - student(ids).logits).abs().max())
    assert diff < 1e-4
    # KV-cache generation crosses the sliding window and matches cacheless greedy decoding step by step
    prompt = ids[:, :20]
    with torch.no_grad():
        gen = again.generate(
            prompt,
            attention_mask=torch.ones_like(prompt),
            max_new_tokens=8,
            do_sample=False,
            eos_token_id=None,
            pad_token_id=0,
        )[0, 20:].tolist()
        seq = prompt
        ref = []
        for _ in range(8):
            nxt = int(again(seq).logits[0, -1].argmax())
            ref.append(nxt)
            seq = torch.cat([seq, torch.tensor([[nxt]])], 1)
    assert gen == ref
    _result(
        family,
        "prune",
        dropped=rep["dropped_layers"],
        params=[rep["teacher_params"], rep["student_params"]],
        layer_types=getattr(sc, "layer_types", None),
        reload_max_abs_diff=diff,
        hf_seconds=fam["hf_seconds"],
    )


def test_kd_steps_train_and_lora_merges(fam):
    kd = fam["kd"]
    for k in ("full_online", "full_topk", "lora_online"):
        assert np.isfinite(kd[k]["loss"]) and kd[k]["loss"] > 0, k
    assert kd["full_online"]["loss_kd"] >= 0 and kd["full_topk"]["loss_kd"] >= 0  # a KD term was computed
    assert kd["full_online"]["max_weight_change"] > 0 and kd["full_topk"]["max_weight_change"] > 0
    merged = fam["merged"]
    assert not any("lora" in n for n, _ in merged.named_parameters())
    assert not torch.equal(
        decoder_layers(merged)[0].mlp.down_proj.weight, decoder_layers(fam["student"])[0].mlp.down_proj.weight
    )  # the adapter delta is in
    _result(fam["family"], "kd", **kd)


# ------------------------------------------------------------------ llama.cpp: convert, quantize, load, compare


@pytest.fixture(scope="module")
def converter():
    from tests.quant.quant_helpers import CONVERTER

    if not CONVERTER.is_file():
        pytest.skip(f"llama.cpp converter missing at {CONVERTER} (make install extracts it)")
    return CONVERTER


def _llama_logits(path, ids):
    from costlab.quant.sanity import load_llama

    llm = load_llama(str(path), n_ctx=128, threads=1, logits_all=True)
    try:
        llm.eval(ids)
        return np.asarray(llm.scores[: len(ids)]).copy()
    finally:
        llm.close()


def _compare(ref: np.ndarray, got: np.ndarray) -> dict:
    top_ref, top_got = ref.argmax(-1), got.argmax(-1)
    srt = np.sort(ref, -1)
    return {
        "corr": round(float(np.corrcoef(ref.ravel(), got.ravel())[0, 1]), 6),
        "max_abs_diff": round(float(np.abs(got - ref).max()), 5),
        "mean_abs_diff": round(float(np.abs(got - ref).mean()), 6),
        "logit_std": round(float(ref.std()), 4),
        "top1_agreement": float((top_ref == top_got).mean()),
        "min_top2_margin": round(float((srt[:, -1] - srt[:, -2]).min()), 5),
        "n_tokens": int(len(ref)),
    }


@pytest.mark.llama_cpp
def test_gguf_convert_quantize_load_and_match_hf(fam, converter, monkeypatch):
    pytest.importorskip("llama_cpp")
    from costlab.quant import gguf as G
    from costlab.quant.gguf import convert_hf_to_gguf, gguf_stats, quantize_gguf, sliding_window_pattern

    family, d, merged = fam["family"], fam["dir"], fam["merged"]
    t0 = time.time()
    f16 = convert_hf_to_gguf(d / "merged", d / "gguf" / "F16.gguf", converter)
    st = gguf_stats(f16)
    assert st["n_params"] > 0
    ids = _ids(fam["vocab"], SEQ, 11)
    with torch.no_grad():
        ref = merged(torch.tensor([ids])).logits[0].float().numpy()
    res = {"arch": st["arch"], "F16": _compare(ref, _llama_logits(f16, ids))}
    for qt in ("Q8_0", "Q4_K_M"):
        q = quantize_gguf(f16, d / "gguf" / f"{qt}.gguf", qt, threads=1)
        qs = gguf_stats(q)
        res[qt] = {
            **_compare(ref, _llama_logits(q, ids)),
            "bits_per_weight": round(qs["bits_per_weight"], 2),
            "types": qs["tensor_types"],
        }
    pattern = sliding_window_pattern(d / "merged")
    period = {"gemma2": 2, "gemma3": 6}.get(st["arch"])
    if pattern is not None and period and pattern != [i % period < period - 1 for i in range(len(pattern))]:
        # the pruned layer pattern differs from llama.cpp's default period: without the per-layer flags costlab
        # writes, the GGUF attends with the wrong window in some layers
        with monkeypatch.context() as m:
            m.setattr(G, "_write_sliding_window_pattern", lambda *a: False)
            bare = G.convert_hf_to_gguf(d / "merged", d / "gguf" / "F16-no-pattern.gguf", converter)
        res["F16_without_layer_pattern"] = _compare(ref, _llama_logits(bare, ids))
        assert res["F16_without_layer_pattern"]["max_abs_diff"] > 10 * res["F16"]["max_abs_diff"], res
    res["seconds"] = round(time.time() - t0, 1)
    _result(family, "gguf", **res)
    f = res["F16"]
    assert f["top1_agreement"] == 1.0, res
    assert f["max_abs_diff"] < 0.05 * max(f["logit_std"], 1e-3) + 5e-3, res
    assert "Q4_K" in res["Q4_K_M"]["types"]  # rows of 256 after pruning: real K-quants
    # Quantized files: the same function up to quantization noise (random models have flat logits with near-ties,
    # so their top-1 agreement is reported, not asserted). A wrong tensor layout gives corr ~0.
    for qt, tol, corr in (("Q8_0", 0.05, 0.99), ("Q4_K_M", 0.4, 0.9)):
        q = res[qt]
        assert q["mean_abs_diff"] < tol * q["logit_std"] and q["corr"] > corr, (qt, q)
