"""The benchmark harness pieces that decide goals: lock-step timing of trainers in separate processes."""

import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "peers"))
from lockstep import Workers  # noqa: E402

FAKE = textwrap.dedent(
    """
    import json, sys, time
    sys.modules["transformers"] = None  # the fake trainer needs no transformers: lockstep falls back to object
    sys.path.insert(0, {peers!r})
    from lockstep import Lockstep, done
    name, steps, log, die_at = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    cb = Lockstep()
    for i in range(steps):
        cb.on_step_begin(None, None, None)
        if i == die_at:
            sys.exit(3)
        with open(log, "a") as f:
            f.write(json.dumps([name, "start", time.monotonic()]) + "\\n")
        time.sleep(0.02)
        with open(log, "a") as f:
            f.write(json.dumps([name, "end", time.monotonic()]) + "\\n")
        print("a line of the trainer's own", flush=True)
        cb.on_step_end(None, None, None)
    done({{"name": name}})
    """
).format(peers=str(ROOT / "benchmarks" / "peers"))


def _workers(tmp_path, names, steps, die=None):
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE)
    log = tmp_path / "steps.log"
    return Workers(
        {n: [sys.executable, str(script), n, str(steps), str(log), str(1 if n == die else -1)] for n in names}
    ), log


def test_workers_run_one_step_at_a_time_in_the_order_given(tmp_path):
    import json

    w, log = _workers(tmp_path, ["a", "b", "c"], steps=3)
    try:
        w.ready()
        order = []
        for r in range(3):
            for k in (["a", "b", "c"], ["c", "a", "b"], ["b", "c", "a"])[r]:
                dt = w.step(k, last=r == 2)
                assert 0.015 < dt < 5
                order.append(k)
    finally:
        w.kill()
    assert w.done == {"a": {"name": "a"}, "b": {"name": "b"}, "c": {"name": "c"}}
    events = [json.loads(x) for x in log.read_text().splitlines()]
    assert [e[0] for e in events if e[1] == "start"] == order  # steps ran in the order the parent asked
    for prev, nxt in zip(events, events[1:]):  # never two steps at once: start, end, start, end, ...
        assert (prev[1], nxt[1]) in {("start", "end"), ("end", "start")} and prev[2] <= nxt[2]


def test_a_worker_that_dies_mid_run_is_an_error_not_a_missing_row(tmp_path):
    w, _ = _workers(tmp_path, ["a", "b"], steps=3, die="b")
    try:
        w.ready()
        w.step("a", last=False)
        w.step("b", last=False)
        with pytest.raises(SystemExit, match="worker 'b' exited .*rc 3"):
            w.step("b", last=False)
    finally:
        w.kill()
