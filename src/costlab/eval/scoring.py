"""Scoring functions the local lm-eval tasks call (``process_results: !function costlab.eval.scoring.X``).

Each takes (doc, results) where results[0] is the generated text, and returns {metric: value}. Pure Python,
deterministic, no extra packages.
"""

from __future__ import annotations

import json
import re
import string

_PUNCT = re.compile(f"[{re.escape(string.punctuation)}]")


def _first_line(text: str) -> str:
    text = text.strip()
    return text.split("\n", 1)[0].strip() if text else ""


def normalize_words(text: str) -> list[str]:
    return _PUNCT.sub(" ", text.lower()).split()


def unigram_f1(prediction: str, reference: str) -> float:
    """ROUGE-1 F1 on lowercase, punctuation-stripped words (clipped counts)."""
    pred, ref = normalize_words(prediction), normalize_words(reference)
    if not pred or not ref:
        return 0.0
    counts: dict[str, int] = {}
    for w in ref:
        counts[w] = counts.get(w, 0) + 1
    overlap = 0
    for w in pred:
        if counts.get(w, 0) > 0:
            overlap += 1
            counts[w] -= 1
    if overlap == 0:
        return 0.0
    p, r = overlap / len(pred), overlap / len(ref)
    return 2 * p * r / (p + r)


def contains_answer(prediction: str, answers: list[str]) -> bool:
    pred = " " + " ".join(normalize_words(prediction)) + " "
    return any(f" {' '.join(normalize_words(a))} " in pred for a in answers if normalize_words(a))


def check_format(prediction: str, check: str, answer: str) -> bool:
    """exact: the first line equals the answer (surrounding quotes/period ignored); json: the output contains
    a JSON object equal to the answer's; csv: the first line, split on commas, equals the answer's items."""
    line = _first_line(prediction)
    if check == "exact":
        return line.strip(" .\"'`") == answer
    if check == "json":
        m = re.search(r"\{.*?\}", prediction, flags=re.S)
        if not m:
            return False
        try:
            return json.loads(m.group(0)) == json.loads(answer)
        except json.JSONDecodeError:
            return False
    if check == "csv":
        items = [x.strip(" .\"'`").lower() for x in line.split(",")]
        return items == [x.strip().lower() for x in answer.split(",")]
    raise ValueError(f"unknown formatting check '{check}' (use exact | json | csv)")


def qa_process_results(doc: dict, results: list[str]) -> dict:
    return {"acc": float(contains_answer(results[0], doc["answers"]))}


def formatting_process_results(doc: dict, results: list[str]) -> dict:
    return {"acc": float(check_format(results[0], doc["check"], doc["answer"]))}


def summarization_process_results(doc: dict, results: list[str]) -> dict:
    return {"rouge1": unigram_f1(_first_line(results[0]) or results[0], doc["summary"])}


# ---------------------------------------------------------------------------------------------- HumanEval (pass@1)
# A candidate program runs in a child Python process: fresh temp dir as cwd, empty environment, isolated mode
# (-I), CPU / memory / file-size / open-file limits, a wall-clock timeout that kills its whole process group,
# and no network: a new network namespace via `unshare -rn` where the kernel allows it (checked once), and in
# every case socket creation replaced by a function that raises. Nothing of the candidate runs in this process.
SANDBOX_TIMEOUT_S = 10.0
SANDBOX_MEMORY_BYTES = 1 << 30
_SOCKET_GUARD = (
    "import socket as _s\n"
    "def _no_net(*a, **k):\n    raise OSError('network disabled in the costlab sandbox')\n"
    "_s.socket = _s.create_connection = _s.socket_pair = _no_net\n"
    "del _s, _no_net\n"
)
_UNSHARE: list[str] | None = None


def _unshare_prefix() -> list[str]:
    global _UNSHARE
    if _UNSHARE is None:
        import shutil
        import subprocess

        exe = shutil.which("unshare")
        ok = False
        if exe:
            try:
                ok = subprocess.run([exe, "-rn", "true"], capture_output=True, timeout=5).returncode == 0
            except (OSError, subprocess.SubprocessError):
                ok = False
        _UNSHARE = [exe, "-rn"] if ok else []
    return _UNSHARE


def _limits(timeout_s: float, memory_bytes: int):
    def apply():
        import resource

        cpu = int(timeout_s) + 1
        for lim, val in (
            (resource.RLIMIT_CPU, (cpu, cpu)),
            (resource.RLIMIT_AS, (memory_bytes, memory_bytes)),
            (resource.RLIMIT_FSIZE, (1 << 20, 1 << 20)),
            (resource.RLIMIT_NOFILE, (64, 64)),
            (resource.RLIMIT_CORE, (0, 0)),
        ):
            resource.setrlimit(lim, val)

    return apply


def run_sandboxed(
    program: str, timeout_s: float = SANDBOX_TIMEOUT_S, memory_bytes: int = SANDBOX_MEMORY_BYTES
) -> tuple[bool, str]:
    """Run ``program`` in the sandbox. Returns (exit code 0, reason: passed | failed: <last stderr line> |
    timeout)."""
    import os
    import signal
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="costlab-sandbox-") as tmp:
        path = os.path.join(tmp, "candidate.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(_SOCKET_GUARD + program)
        cmd = _unshare_prefix() + [sys.executable, "-I", path]
        proc = subprocess.Popen(
            cmd,
            cwd=tmp,
            env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_limits(timeout_s, memory_bytes),
        )
        try:
            _, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return False, "timeout"
    if proc.returncode == 0:
        return True, "passed"
    lines = err.decode("utf-8", "replace").strip().splitlines()
    return False, "failed: " + (lines[-1] if lines else f"exit {proc.returncode}")


def extract_code(response: str, prompt: str, entry_point: str) -> str:
    """The program a response stands for: a fenced code block if there is one; a response that defines the
    entry point is a whole solution (the prompt's imports are kept); anything else continues the prompt."""
    m = re.search(r"```(?:python|py)?\s*\n(.*?)(?:```|$)", response, flags=re.S)
    code = m.group(1) if m else response
    if re.search(rf"^\s*def\s+{re.escape(entry_point)}\s*\(", code, flags=re.M):
        imports = "\n".join(line for line in prompt.splitlines() if line.startswith(("import ", "from ")))
        return imports + "\n" + code
    return prompt + code


def humaneval_program(doc: dict, response: str) -> str:
    return (
        extract_code(response, doc["prompt"], doc["entry_point"])
        + "\n\n"
        + doc["test"]
        + f"\n\ncheck({doc['entry_point']})\n"
    )


def humaneval_process_results(doc: dict, results: list[str]) -> dict:
    passed, _ = run_sandboxed(humaneval_program(doc, results[0]))
    return {"pass_at_1": float(passed)}


# ---------------------------------------------------------------------------------------------- IFEval verifiers
def ifeval_scores(doc: dict, response: str) -> dict:
    """Score one response with the IFEval instruction verifiers of the ``if-verifiable`` package.
    Unknown instruction ids are an error here (the package would skip them silently)."""
    from if_verifiable.common import evaluate_instructions
    from if_verifiable.ifeval.instructions_registry import INSTRUCTION_DICT

    unknown = [i for i in doc["instruction_id_list"] if i not in INSTRUCTION_DICT]
    if unknown:
        raise ValueError(f"{doc.get('id')}: unknown IFEval instruction ids {unknown}")
    _, s = evaluate_instructions(
        response=response,
        instruction_id_list=doc["instruction_id_list"],
        kwargs_list=doc["kwargs"],
        prompt=doc["prompt"],
        instruction_registry=INSTRUCTION_DICT,
    )
    return {
        "prompt_strict": float(s.binary_strict),
        "inst_strict": float(s.partial_strict),
        "prompt_loose": float(s.binary_loose),
        "inst_loose": float(s.partial_loose),
    }


def ifeval_process_results(doc: dict, results: list[str]) -> dict:
    return ifeval_scores(doc, results[0])
