"""Export a GGUF with scripts/export_gguf.py, serve it with the snippet it writes, and call it with the OpenAI SDK."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from costlab.errors import CostlabError
from costlab.paths import PROJECT_ROOT, offline_env

pytestmark = pytest.mark.llama_cpp
pytest.importorskip("llama_cpp")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    import httpx

    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}: {proc.stdout.read()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"server not ready after {timeout} s")


@pytest.mark.integration
def test_export_script_serve_snippet_and_openai_sdk(tmp_path, tiny256_dir, converter):
    from openai import OpenAI

    port = free_port()
    env = offline_env()
    cmd = [
        sys.executable,
        str(PROJECT_ROOT / "scripts" / "export_gguf.py"),
        f"paths.runs_dir={tmp_path / 'runs'}",
        f"paths.cache_dir={tmp_path / 'cache'}",
        "run_id=x",
        "teacher=hf",
        f"teacher.path={tiny256_dir}",
        "+quant=gguf",
        f"quant.methods.gguf.converter={converter}",
        "quant.export.base=teacher",
        "quant.export.type=Q8_0",
        "quant.export.n_ctx=256",
        "quant.export.threads=1",
        f"quant.export.port={port}",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    export_dir = tmp_path / "runs" / "default" / "x" / "export"
    info = json.loads((export_dir / "export.json").read_text())
    assert info["name"] == "teacher-Q8_0" and Path(info["gguf"]).is_file() and info["size_mb"] > 1
    assert (export_dir / "provenance.json").is_file()
    serve = (export_dir / "serve.sh").read_text()
    assert "llama-server -m" in serve and "-c 256 -t 1" in serve and "GGML_CUDA=on" in serve

    proc = subprocess.Popen(
        ["bash", str(export_dir / "serve.sh")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/v1/models", proc)
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none")
        r = client.chat.completions.create(
            model="teacher-Q8_0", max_tokens=8, temperature=0, messages=[{"role": "user", "content": "Hello"}]
        )
        assert r.choices[0].finish_reason in ("stop", "length")
        assert isinstance(r.choices[0].message.content, str) and r.usage.completion_tokens >= 1
        assert r.usage.prompt_tokens > 3  # the chat template from the GGUF was applied
        # the one-line client snippet works as written
        c = subprocess.run([sys.executable, str(export_dir / "client.py")], capture_output=True, text=True, timeout=120)
        assert c.returncode == 0, c.stderr[-2000:]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _variant(run_dir: Path, name: str, **kw) -> None:
    d = run_dir / "variants" / name
    d.mkdir(parents=True)
    rec = {
        "name": name,
        "base": "teacher",
        "format": "gguf",
        "quant": "Q8_0",
        "path": f"variants/{name}/{name}.gguf",
        "backend": "llama.cpp",
        "status": "ok",
        "error": None,
        **kw,
    }
    (d / "variant.json").write_text(json.dumps(rec))


def test_export_of_a_built_variant_and_bad_picks(tmp_path, tiny256_f16):
    import shutil

    from costlab.quant.export import export_gguf

    run_dir = tmp_path / "run"
    _variant(run_dir, "teacher-Q8_0")
    shutil.copyfile(tiny256_f16, run_dir / "variants" / "teacher-Q8_0" / "teacher-Q8_0.gguf")
    _variant(run_dir, "teacher-Q2_K", status="failed", error="boom")
    _variant(run_dir, "teacher-fp32", format="hf")
    exp = {
        "variant": "teacher-Q8_0",
        "out_dir": str(tmp_path / "export"),
        "n_ctx": 512,
        "threads": 2,
        "host": "127.0.0.1",
        "port": 8123,
    }
    info = export_gguf(run_dir, exp)
    assert Path(info["gguf"]).stat().st_size == tiny256_f16.stat().st_size and "copied" in info["how"]
    assert "--port 8123" in (tmp_path / "export" / "serve.sh").read_text()
    assert "127.0.0.1:8123/v1" in (tmp_path / "export" / "client.py").read_text()
    with pytest.raises(CostlabError, match="no variant 'nope'") as e:
        export_gguf(run_dir, {**exp, "variant": "nope"})
    assert "teacher-Q8_0" in e.value.fix
    with pytest.raises(CostlabError, match="failed when it was built: boom"):
        export_gguf(run_dir, {**exp, "variant": "teacher-Q2_K"})
    with pytest.raises(CostlabError, match="not gguf"):
        export_gguf(run_dir, {**exp, "variant": "teacher-fp32"})
