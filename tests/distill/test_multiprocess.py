"""Training under `accelerate launch --num_processes 2` on CPU (gloo), against one process at the same global batch.

Toy size: a tiny random Llama, 8 prompts, 6 optimizer steps; the healing report trimmed to a few tokens. The launches
use the repo's own configs/accelerate/*.yaml and the research entry point scripts/distill.py, as a user would.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys

import pytest
import yaml

from costlab.config import CONFIG_DIR, PROJECT_ROOT
from costlab.io import atomic_write_json, read_json
from costlab.paths import offline_env
from costlab.pipeline import open_run, run_stage
from tests.conftest import compose_config, tiny_pipeline_overrides

STEPS = 6
TOL = 2e-3  # per-step |loss(2 procs) - loss(1 proc)|; the curve itself moves by > 0.1 over the 6 steps


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(config: str, overrides: list[str], timeout: int = 600) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(CONFIG_DIR / "accelerate" / config),
        "--num_processes",
        "2",
        "--main_process_port",
        str(_port()),
        str(PROJECT_ROOT / "scripts" / "distill.py"),
        *overrides,
    ]
    return subprocess.run(cmd, cwd=PROJECT_ROOT, env=offline_env(), capture_output=True, text=True, timeout=timeout)


def _losses(student_dir) -> dict[int, float]:
    return {e["step"]: e["loss"] for e in read_json(student_dir / "train_log.json") if "loss" in e}


@pytest.fixture(scope="module")
def base(tmp_path_factory, tiny_llama_dir):
    d = tmp_path_factory.mktemp("mp")
    prompts = [
        "What is the capital of France?",
        "Name a yellow fruit.",
        "Translate 'hello' to Spanish.",
        "Write a Python function that returns 1.",
        "Uppercase this: abc",
        "What is 3 + 4?",
        "Name a colour.",
        "Say hello.",
    ]
    with (d / "train.jsonl").open("w") as f:
        for i, q in enumerate(prompts):
            f.write(
                json.dumps({"id": f"t{i}", "task_class": "qa", "messages": [{"role": "user", "content": q}]}) + "\n"
            )
    (d / "heldout.jsonl").write_text(json.dumps({"id": "h0", "task_class": "qa", "prompt": "Name a red fruit."}) + "\n")
    (d / "general.txt").write_text("Rivers carry water from the hills down to the sea. " * 20)
    extra = {
        "exp_name": "mp",
        "logger": "none",
        "teacher_data.backend.batch_size": 4,
        "distill.trainer.max_steps": STEPS,
        "distill.trainer.learning_rate": "1e-3",
        "distill.keep_checkpoints": "true",
        "distill.healing.general_text": d / "general.txt",
        "distill.healing.general_max_tokens": 32,
        "distill.healing.general_seq_len": 32,
        "distill.healing.n_boot": 50,
    }
    drop = ["~distill.healing.mc_tasks.reasoning", "~distill.healing.mc_tasks.translation"]
    return d, tiny_pipeline_overrides(d, tiny_llama_dir, d, **extra) + drop


@pytest.fixture(scope="module")
def single(base, compose_module):
    """One process, per-device batch 4 (global batch 4)."""
    d, ov = base
    cfg = compose_module(ov + ["run_id=single", "distill.trainer.per_device_train_batch_size=4"])
    run_dir = open_run(cfg)
    run_stage(cfg, run_dir, "generate_teacher")
    run_stage(cfg, run_dir, "train_student")
    return run_dir


@pytest.fixture(scope="module")
def compose_module():
    return compose_config


def _two_proc_dir(base, single, run_id: str):
    d, _ = base
    run_dir = d / "runs" / "mp" / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(single / "teacher_data", run_dir / "teacher_data", dirs_exist_ok=True)  # same teacher data
    return run_dir


def test_ddp_two_processes_match_one_process_then_resume(base, single):
    d, ov = base
    run_dir = _two_proc_dir(base, single, "ddp")
    args = ov + ["run_id=ddp", "stages=[train_student]", "distill.trainer.per_device_train_batch_size=2"]
    r = _launch("ddp.yaml", args)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = run_dir / "student"
    m = read_json(out / "train_metrics.json")
    assert m["num_processes"] == 2 and m["distributed_type"] == "MULTI_CPU"  # really two ranks over gloo

    one, two = _losses(single / "student"), _losses(out)
    assert sorted(one) == sorted(two) == list(range(1, STEPS + 1))
    assert max(one.values()) - min(one.values()) > 0.1  # the curve moves: matching it is not trivial
    diffs = {s: abs(one[s] - two[s]) for s in one}
    assert max(diffs.values()) < TOL, (one, two)

    # written once, by the main process: one merged export, one weights/optimizer file per checkpoint
    out_txt = r.stdout + r.stderr
    assert out_txt.count(f"wrote {out / 'merged'}") == 1 and "(process 0 of 2)" in out_txt
    assert not list(out.glob("*.partial"))
    ckpts = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert ckpts == [f"checkpoint-{STEPS - 2}", f"checkpoint-{STEPS}"]
    for c in ckpts:
        files = sorted(p.name for p in (out / "checkpoints" / c).iterdir())
        assert files.count("model.safetensors") == 1 and files.count("optimizer.pt") == 1
        assert {"rng_state_0.pth", "rng_state_1.pth"} <= set(files)  # the per-rank RNG state resume needs
    assert read_json(out / "stage.json")["status"] == "done"

    # resume: the state a kill right after checkpoint-4 leaves (later checkpoint and outputs gone, stage running)
    shutil.rmtree(out / "checkpoints" / f"checkpoint-{STEPS}")
    shutil.rmtree(out / "merged")
    for f in ("healing.json", "healing.txt", "train_log.json", "train_metrics.json"):
        (out / f).unlink()
    st = read_json(out / "stage.json")
    atomic_write_json(out / "stage.json", {**st, "status": "running"})
    r2 = _launch("ddp.yaml", args)
    assert r2.returncode == 0, r2.stdout[-3000:] + r2.stderr[-3000:]
    h = read_json(out / "healing.json")
    assert h["resumed_from"].endswith(f"checkpoint-{STEPS - 2}") and h["global_step"] == STEPS
    resumed = _losses(out)
    assert sorted(resumed) == list(range(1, STEPS + 1))
    assert all(abs(resumed[s] - two[s]) < TOL for s in (STEPS - 1, STEPS))  # steps after the resume: same curve
    assert (out / "merged" / ".complete").exists()


def test_fsdp_two_processes_or_why_not(base, single):
    """FSDP where accelerate can run it; on CPU the skip reason shows why not (measured, not assumed)."""
    probe = base[0] / "probe.py"
    probe.write_text(
        "import torch\nfrom accelerate import Accelerator\n"
        "a = Accelerator(cpu=not torch.cuda.is_available())\n"
        "print('DTYPE=' + str(a.distributed_type).rsplit('.', 1)[-1], flush=True)\n"
    )
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "accelerate.commands.launch",
            "--config_file",
            str(CONFIG_DIR / "accelerate" / "fsdp.yaml"),
            "--num_processes",
            "2",
            "--main_process_port",
            str(_port()),
            str(probe),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=offline_env(),
    )
    assert r.returncode == 0, r.stderr[-3000:]
    kinds = {line.split("=", 1)[1] for line in r.stdout.splitlines() if line.startswith("DTYPE=")}
    assert len(kinds) == 1, r.stdout
    kind = kinds.pop()
    if kind != "FSDP":
        pytest.skip(
            f"FSDP cannot run on CPU here: launched with configs/accelerate/fsdp.yaml on 2 CPU processes, "
            f"accelerate's state is {kind} (gloo) — AcceleratorState enables FSDP only for GPU/accelerator "
            f"distributed types and ignores ACCELERATE_USE_FSDP on CPU, so the run would silently be DDP. "
            f"DDP is covered by test_ddp_two_processes_match_one_process_then_resume; FSDP runs on a GPU box"
        )
    d, ov = base
    run_dir = _two_proc_dir(base, single, "fsdp")
    args = ov + ["run_id=fsdp", "stages=[train_student]", "distill.trainer.per_device_train_batch_size=2"]
    r = _launch("fsdp.yaml", args)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert read_json(run_dir / "student" / "train_metrics.json")["distributed_type"] == "FSDP"
    one, two = _losses(single / "student"), _losses(run_dir / "student")
    assert max(abs(one[s] - two[s]) for s in one) < TOL


@pytest.mark.parametrize("name", ["ddp.yaml", "fsdp.yaml", "deepspeed_zero3.yaml"])
def test_accelerate_configs_parse_and_agree_with_the_reference_experiment(name, compose_module):
    """Each multi-GPU config loads with accelerate's own config class, and the DeepSpeed values that must equal the
    Trainer's (grad accumulation, clipping, bf16) agree with configs/exp/qwen7b_to_05b.yaml."""
    from accelerate.commands.config.config_args import ClusterConfig

    path = CONFIG_DIR / "accelerate" / name
    cc = ClusterConfig.from_yaml_file(str(path))
    raw = yaml.safe_load(path.read_text())
    assert cc.num_machines == 1 and cc.distributed_type.value == raw["distributed_type"]
    cfg = compose_module(["+exp=qwen7b_to_05b"])
    tr = cfg.distill.trainer
    if name == "deepspeed_zero3.yaml":
        ds = cc.deepspeed_config
        assert ds["zero_stage"] == 3
        assert ds["gradient_accumulation_steps"] == tr.gradient_accumulation_steps
        assert ds["gradient_clipping"] == tr.max_grad_norm
        assert (cc.mixed_precision == "bf16") == bool(tr.bf16)
    if name == "fsdp.yaml":
        assert (
            cc.fsdp_config["fsdp_version"] == 2 and cc.fsdp_config["fsdp_auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
        )
