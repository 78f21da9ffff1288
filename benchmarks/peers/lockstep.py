"""Lock-step timing of Trainer steps across processes, so two trainers can be timed step by step, taken in turn.

A worker process adds ``Lockstep()`` to its Trainer's callbacks. Before each step it prints ``@@lockstep ready``
and waits for a line on stdin; it times the step from that line to the step's end and prints
``@@lockstep {"step_s": ..., "sys_s": ..., "minflt": ...}`` (also the step's system CPU seconds and minor page
faults: where a step's time goes besides compute). The parent (``Workers`` below) tells one worker at a time to
run a step, so the trainers never compete for the cores and a change in the box's load hits the steps of one
round alike: the per-round ratio is paired. Only the standard library and transformers are imported (the TRL
worker runs in the peers venv, which has no costlab).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

PREFIX = "@@lockstep "

# The Trainer settings both sides train with (kd_worker.py's TrainingArguments, trl_worker.py's GKDConfig), so
# "the same arguments" holds by construction. fp32 on CPU: TRL's configs default to bf16=True (mixed precision,
# CPU autocast too), costlab's step is fp32; no clipping, a constant rate, no logging or saving inside the timing.
TRAIN_ARGS = dict(
    learning_rate=1e-5,
    logging_steps=10**6,
    save_strategy="no",
    report_to=[],
    use_cpu=True,
    bf16=False,
    fp16=False,
    dataloader_num_workers=0,
    gradient_checkpointing=False,
    optim="adamw_torch",
    lr_scheduler_type="constant",
    warmup_steps=0,
    max_grad_norm=0.0,
    disable_tqdm=True,
    remove_unused_columns=False,
)

try:
    from transformers import TrainerCallback
except ImportError:  # the parent side needs no transformers
    TrainerCallback = object


class Lockstep(TrainerCallback):
    """Worker side: wait for the parent before each step, report the step's wall time after it."""

    def on_step_begin(self, args, state, control, **kw):
        print(PREFIX + "ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            raise SystemExit("lockstep: the parent closed stdin")
        self.r0 = resource.getrusage(resource.RUSAGE_SELF)
        self.t0 = time.perf_counter()

    def on_step_end(self, args, state, control, **kw):
        dt = time.perf_counter() - self.t0
        r = resource.getrusage(resource.RUSAGE_SELF)
        d = {"step_s": dt, "sys_s": r.ru_stime - self.r0.ru_stime, "minflt": r.ru_minflt - self.r0.ru_minflt}
        print(PREFIX + json.dumps(d), flush=True)


def done(payload: dict) -> None:
    """Worker side: the last message, after training (versions, settings the parent checks)."""
    print(PREFIX + json.dumps({"done": payload}), flush=True)


class Workers:
    """Parent side: start worker processes, run one step of one of them at a time, collect the results."""

    def __init__(self, cmds: dict[str, list[str]]):
        self.procs = {
            k: subprocess.Popen(c, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
            for k, c in cmds.items()
        }
        self.done: dict[str, dict] = {}
        self.stats: dict[str, list[dict]] = {k: [] for k in cmds}  # every step's report, in order

    def _next(self, name: str) -> str | dict:
        p = self.procs[name]
        for line in p.stdout:  # a Trainer prints its own lines too: only ours carry the prefix
            if line.startswith(PREFIX):
                msg = line[len(PREFIX) :].strip()
                return msg if msg == "ready" else json.loads(msg)
        raise SystemExit(f"worker '{name}' exited (rc {p.wait()}) before it was done: see its stderr above")

    def ready(self) -> None:
        """Wait until every worker has loaded and stands before its first step."""
        for k in self.procs:
            if self._next(k) != "ready":
                raise SystemExit(f"worker '{k}': expected 'ready'")

    def step(self, name: str, last: bool) -> float:
        """Run one step of worker ``name``; returns its wall time (s). ``last``: it then finishes and reports."""
        p = self.procs[name]
        p.stdin.write("go\n")
        p.stdin.flush()
        msg = self._next(name)
        if not isinstance(msg, dict) or "step_s" not in msg:
            raise SystemExit(f"worker '{name}': expected a step time, got {msg!r}")
        self.stats[name].append(msg)
        nxt = self._next(name)
        if last:
            if not isinstance(nxt, dict) or "done" not in nxt:
                raise SystemExit(f"worker '{name}': expected its final report, got {nxt!r}")
            self.done[name] = nxt["done"]
            p.stdin.close()
            if p.wait(60):
                raise SystemExit(f"worker '{name}' exited with rc {p.returncode}")
        elif nxt != "ready":
            raise SystemExit(f"worker '{name}': expected 'ready', got {nxt!r}")
        return float(msg["step_s"])

    def kill(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
