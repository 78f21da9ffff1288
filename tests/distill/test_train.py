import json

import pytest
import torch

from costlab.distill.data import Collator, build_examples
from costlab.errors import CostlabError
from costlab.io import read_json, read_jsonl
from costlab.models import load_causal_lm
from costlab.pipeline import open_run, run_stage
from costlab.teacher import codec

# the healing report at toy size: 96 general-text tokens, 3 reasoning items per model
HEALING_SMALL = [
    "distill.healing.general_max_tokens=96",
    "distill.healing.general_seq_len=32",
    "distill.healing.mc_limit=3",
    "~distill.healing.mc_tasks.translation",
    "distill.healing.n_boot=200",
]


@pytest.fixture
def run(compose, tiny_run_overrides):
    def _run(extra=()):
        base = tiny_run_overrides
        if any(e.startswith("student=") for e in extra):  # another student type: drop the pruned-student knobs
            base = [o for o in base if not o.startswith("student.")]
        cfg = compose(base + HEALING_SMALL + list(extra))
        run_dir = open_run(cfg)
        run_stage(cfg, run_dir, "generate_teacher")
        return cfg, run_dir

    return _run


def test_topk_signal_sits_at_the_predicting_position(run, tokenizer):
    cfg, run_dir = run()
    row = read_jsonl(run_dir / "teacher_data" / "train.jsonl")[0]
    ex = build_examples([row], tokenizer, max_seq_len=48, with_topk=True, truncated_rows="keep")[0]
    P = len(codec.decode(row["prompt_ids"]))
    resp = codec.decode(row["response_ids"]).tolist()
    assert ex["labels"][:P] == [-100] * P and ex["labels"][P:] == resp[: len(ex["labels"]) - P]
    # the teacher's top-1 at input position P+j-1 is response token j (greedy data)
    assert ex["topk_ids"][P - 1 : P - 1 + len(resp), 0].tolist() == resp
    batch = Collator(tokenizer.pad_token_id)([ex, ex])
    assert batch["topk_ids"].shape[:2] == batch["input_ids"].shape


@pytest.mark.parametrize("signal", ["online", "topk", "none"])
def test_train_stage_end_to_end(run, signal, monkeypatch):
    import costlab.distill.train as train_mod

    calls = []
    monkeypatch.setattr(train_mod, "reuse_freed_memory", lambda: calls.append(1) or True)
    extra = [f"distill.teacher_signal={signal}"]
    if signal == "topk":
        extra.append("distill.loss.temperature=2.0")  # = teacher_data.logprob_temperature
    if signal == "none":
        extra.append("distill.loss.alpha=0.0")
    cfg, run_dir = run(extra)
    m = run_stage(cfg, run_dir, "train_student")
    out = run_dir / "student"
    assert m["global_step"] == 4
    h = read_json(out / "healing.json")
    for block in ("heldout_teacher_responses", "general_text"):
        for k in ("before", "after"):
            m = h[block][k]
            assert m["n_tokens"] > 0 and m["kl_dense"] >= 0 and 0 <= m["top1_agreement"] <= 1
            assert m["kl_dense_lo"] <= m["kl_dense"] <= m["kl_dense_hi"] and m["ppl_lo"] <= m["ppl"] <= m["ppl_hi"]
            assert "kl" not in m  # named by method: dense here, the eval stage's is a top-k lower bound
    assert h["general_text"]["before"]["n_tokens"] == 96 and h["general_text_source"].endswith("heldout_general.txt")
    assert h["student_params"] < h["teacher_params"]
    merged = load_causal_lm(str(out / "merged"))
    assert merged.config.num_hidden_layers == 3 and merged.config.intermediate_size == 64
    prov = read_json(out / "merged" / "provenance.json")
    assert prov["seed"] == cfg.seed and prov["global_step"] == 4 and prov["inputs"]["teacher_data_train"]["sha256"]
    assert not (out / "checkpoints").exists()  # freed after a successful export (keep_checkpoints=false)
    log = read_json(out / "train_log.json")
    assert any("loss_ce" in e for e in log)
    assert any("loss_kd" in e for e in log) == (signal != "none")
    assert calls  # distill.keep_freed_memory: true (the default) reached the trainer


def test_lora_merges_into_plain_weights(run, monkeypatch):
    import costlab.distill.train as train_mod

    calls = []
    monkeypatch.setattr(train_mod, "reuse_freed_memory", lambda: calls.append(1) or True)
    cfg, run_dir = run(["distill=lora", "distill.trainer.max_steps=2", "distill.keep_freed_memory=false"])
    run_stage(cfg, run_dir, "train_student")
    merged_dir = run_dir / "student" / "merged"
    assert not (merged_dir / "adapter_config.json").exists()
    merged = load_causal_lm(str(merged_dir))
    init = load_causal_lm(str(run_dir / "student" / "init"))
    w0 = init.model.layers[0].self_attn.q_proj.weight
    w1 = merged.model.layers[0].self_attn.q_proj.weight
    assert not torch.equal(w0, w1)  # the adapter delta was merged in
    assert not calls  # distill.keep_freed_memory=false: the heap setting is not touched


def test_training_resumes_after_ctrl_c(run, monkeypatch):
    from costlab.distill import train as train_mod

    cfg, run_dir = run(["distill.keep_checkpoints=true"])
    orig = train_mod.TimeBudget.on_step_end

    def interrupt(self, args, state, control, **kw):
        if state.global_step == 3:
            raise KeyboardInterrupt  # Ctrl-C after step 3; checkpoint-2 is on disk
        return orig(self, args, state, control, **kw)

    monkeypatch.setattr(train_mod.TimeBudget, "on_step_end", interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_stage(cfg, run_dir, "train_student")
    ckpts = sorted(p.name for p in (run_dir / "student" / "checkpoints").iterdir())
    assert ckpts == ["checkpoint-2"]
    assert read_json(run_dir / "student" / "stage.json")["status"] == "running"
    monkeypatch.setattr(train_mod.TimeBudget, "on_step_end", orig)
    m = run_stage(cfg, run_dir, "train_student")
    h = read_json(run_dir / "student" / "healing.json")
    assert h["resumed_from"].endswith("checkpoint-2") and h["global_step"] == 4 == m["global_step"]
    state = json.loads((run_dir / "student" / "checkpoints" / "checkpoint-4" / "trainer_state.json").read_text())
    steps = [e["step"] for e in state["log_history"] if "loss" in e]
    assert steps == [1, 2, 3, 4]  # steps 1-2 restored from the checkpoint, 3-4 trained after resume


def _other_tokenizer_llama(path, tokenizer_dir):
    """A tiny Llama whose tokenizer is a different BPE (trained here on a few words): another token→id map."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel()
    bpe.train_from_iterator(
        ["the capital of france is paris", "name a yellow fruit"] * 10,
        trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<|im_end|>"]),
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=bpe, unk_token="<unk>", eos_token="<|im_end|>", pad_token="<|im_end|>"
    )
    tok.chat_template = AutoTokenizer.from_pretrained(tokenizer_dir).chat_template
    LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(tok),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
        )
    ).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def test_tokenizer_mismatch_is_refused(run, tmp_path, tokenizer_dir):
    other = _other_tokenizer_llama(tmp_path / "other", tokenizer_dir)
    cfg, run_dir = run(["student=pretrained", f"student.path={other}"])
    with pytest.raises(CostlabError, match="tokenizer mismatch"):
        run_stage(cfg, run_dir, "train_student")
    assert not (run_dir / "student" / "init").exists()  # refused before anything was written


def test_same_tokenizer_with_padded_vocab_trains(run, tmp_path, tokenizer_dir):
    """Qwen2.5-7B (152064 rows) → 0.5B (151936 rows) share a tokenizer; KD must not refuse them."""
    from tests.conftest import make_tiny_llama

    padded = make_tiny_llama(tmp_path / "padded", tokenizer_dir, vocab_size=49152 + 64)
    cfg, run_dir = run(["student=pretrained", f"student.path={padded}", "distill.trainer.max_steps=2"])
    m = run_stage(cfg, run_dir, "train_student")
    h = read_json(run_dir / "student" / "healing.json")
    assert (
        m["global_step"] == 2
        and h["heldout_teacher_responses"]["after"]["kl_dense"] > 0
        and read_json(run_dir / "student" / "student_build.json")["same_tokenizer"] is True
    )


def test_topk_temperature_must_match_stored(run):
    cfg, run_dir = run(["distill.teacher_signal=topk", "distill.loss.temperature=1.0"])
    with pytest.raises(CostlabError, match="temperature"):
        run_stage(cfg, run_dir, "train_student")


def test_train_without_teacher_data_says_what_to_run(compose, tiny_run_overrides):
    cfg = compose(tiny_run_overrides)
    with pytest.raises(CostlabError, match="run the generate_teacher stage first"):
        run_stage(cfg, open_run(cfg), "train_student")


def test_torn_checkpoint_is_skipped(tmp_path):
    from costlab.distill.train import last_complete_checkpoint

    for step, whole in [(2, True), (4, True), (6, False)]:
        d = tmp_path / f"checkpoint-{step}"
        d.mkdir()
        if whole:
            (d / "trainer_state.json").write_text(f'{{"global_step": {step}}}')
    (tmp_path / "checkpoint-6" / "model.safetensors").write_bytes(b"partial")  # killed mid-save
    assert last_complete_checkpoint(tmp_path).endswith("checkpoint-4")
    assert not (tmp_path / "checkpoint-6").exists()
    assert last_complete_checkpoint(tmp_path / "missing") is None


def test_wandb_logger_offline(run, tmp_path):
    cfg, run_dir = run(["logger=wandb", "logger.mode=offline", "distill.trainer.max_steps=2"])
    run_stage(cfg, run_dir, "train_student")
    runs = list((run_dir / "wandb_runs" / "wandb").glob("offline-run-*"))  # logger.dir: inside the run
    assert len(runs) == 1 and any(runs[0].rglob("*.wandb"))
