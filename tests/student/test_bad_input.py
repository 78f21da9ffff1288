"""Bad input stops with one CostlabError naming the model and the fix, before anything is written (issue 10)."""

from __future__ import annotations

import json

import pytest
import torch

from costlab.errors import CostlabError
from costlab.student.families import check_init_dir, check_resume_checkpoint, family_of
from costlab.student.prune import PretrainedStudent, PrunedStudent


def _gpt2(vocab=2000):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(vocab_size=vocab, n_embd=32, n_layer=2, n_head=2, n_positions=64)).eval()


def _qwen2(vocab=2000, **kw):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    return Qwen2ForCausalLM(
        Qwen2Config(
            vocab_size=vocab,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            **kw,
        )
    ).eval()


def _other_tokenizer_dir(path):
    """A dir with a different BPE tokenizer (trained here on a few words): another token→id map."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel()
    bpe.train_from_iterator(
        ["the capital of france is paris"] * 10,
        trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<|im_end|>"]),
    )
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, unk_token="<unk>", eos_token="<|im_end|>")
    _qwen2(len(tok)).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def test_unsupported_architecture_is_named_with_the_fix(tokenizer):
    teacher = _gpt2()
    teacher.name_or_path = "/models/gpt2-tiny"
    with pytest.raises(CostlabError) as e:
        PrunedStudent(drop_layers=1, calib_seq_len=16).build(teacher, tokenizer, [list(range(100, 200))])
    msg = str(e.value)
    assert "/models/gpt2-tiny" in msg and "GPT2LMHeadModel" in msg and "model_type 'gpt2'" in msg
    assert "student=pretrained" in e.value.fix and "docs/families.md" in e.value.fix
    assert msg.count("\n") == 1  # one message + one fix line


def test_every_listed_family_is_accepted():
    import transformers

    for cls in (
        "LlamaConfig",
        "MistralConfig",
        "Qwen2Config",
        "Qwen3Config",
        "Gemma2Config",
        "Gemma3TextConfig",
        "Phi3Config",
    ):
        assert family_of(getattr(transformers, cls)()).model_type == getattr(transformers, cls).model_type


def test_student_with_another_tokenizer_is_refused_before_loading(tmp_path, tokenizer, monkeypatch):
    import costlab.models

    other = _other_tokenizer_dir(tmp_path / "other")

    def no_load(*a, **k):
        raise AssertionError("the student's weights were loaded before the tokenizer check")

    monkeypatch.setattr(costlab.models, "load_causal_lm", no_load)
    teacher = _qwen2(len(tokenizer))
    teacher.name_or_path = "tiny-teacher"
    with pytest.raises(CostlabError, match="tokenizer mismatch") as e:
        PretrainedStudent(source="hf", path=str(other)).build(teacher, tokenizer, [])
    assert str(other) in str(e.value) and "tiny-teacher" in str(e.value)
    assert "same tokenizer" in e.value.fix


def test_init_dir_from_another_family_is_refused(tmp_path, tiny_llama_dir):
    from transformers import AutoConfig

    init = tmp_path / "init"
    _qwen2(49152).save_pretrained(init)
    teacher_cfg = AutoConfig.from_pretrained(tiny_llama_dir)
    pruned = {"_target_": "costlab.student.prune.PrunedStudent"}
    with pytest.raises(CostlabError, match="model_type='qwen2' \\(expected 'llama'\\)") as e:
        check_init_dir(init, teacher_cfg, pruned)
    assert str(init) in str(e.value) and "LlamaForCausalLM" in str(e.value) and "delete" in e.value.fix
    # a pretrained student: init/ must be that model
    pretrained = {"_target_": "costlab.student.prune.PretrainedStudent", "path": str(tiny_llama_dir)}
    with pytest.raises(CostlabError, match="model_type='qwen2'"):
        check_init_dir(init, teacher_cfg, pretrained)
    check_init_dir(tiny_llama_dir, teacher_cfg, pruned)  # the same family and shapes pass


def test_resume_checkpoint_from_another_model_is_refused(tmp_path, tiny_llama_dir):
    ckpt = tmp_path / "checkpoints" / "checkpoint-2"
    _qwen2(49152).save_pretrained(ckpt)
    with pytest.raises(CostlabError, match="checkpoint .*checkpoint-2 holds another model") as e:
        check_resume_checkpoint(ckpt, tiny_llama_dir)
    assert "model_type='qwen2'" in str(e.value) and str(tmp_path / "checkpoints") in e.value.fix
    cfg = json.loads((tiny_llama_dir / "config.json").read_text())
    same = tmp_path / "same"
    same.mkdir()
    (same / "config.json").write_text(json.dumps(cfg))
    check_resume_checkpoint(same, tiny_llama_dir)  # same model passes
    check_resume_checkpoint(None, tiny_llama_dir)  # nothing to resume from


def test_train_stage_refuses_init_of_another_family(compose, tiny_run_overrides):
    """The real path: a student/init/ holding a Qwen2 while the config prunes a Llama teacher."""
    from costlab.io import atomic_write_json
    from costlab.pipeline import open_run, run_stage

    cfg = compose(tiny_run_overrides)
    run_dir = open_run(cfg)
    run_stage(cfg, run_dir, "generate_teacher")
    init = run_dir / "student" / "init"
    _qwen2(49152).save_pretrained(init)
    (init / ".complete").touch()
    atomic_write_json(run_dir / "student" / "student_build.json", {"same_tokenizer": True})
    with pytest.raises(CostlabError, match="student init .* holds another model .*model_type='qwen2'"):
        run_stage(cfg, run_dir, "train_student")
    left = sorted(p.name for p in (run_dir / "student").iterdir())
    assert left == ["init", "stage.json", "student_build.json"]  # nothing else written
