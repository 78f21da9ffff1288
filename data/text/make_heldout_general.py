"""Write data/text/heldout_general.txt: general English prose for fidelity (perplexity / KL / top-1) that is
not the teacher's own responses and not training or calibration text.

Source: the Python Language Reference as shipped inside CPython's standard library (``pydoc_data.topics``),
so it is available offline on every machine with Python. Licence: PSF License Agreement (the Python
documentation is distributed under it; see https://docs.python.org/3/license.html). The checked-in file was
made with CPython 3.11.7; other Python versions ship slightly different text, so ``--check`` compares only
when run under the same version.

Only prose is kept: indented blocks (code, grammar), doctest lines and short headings are dropped, wrapped
lines are joined into one paragraph per line pair. tests/data/test_decontam.py checks the file against every
training/calibration text.

    python data/text/make_heldout_general.py [--check]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

TOPICS = [
    "execmodel",
    "objects",
    "exceptions",
    "truth",
    "import",
    "dynamic-features",
    "context-managers",
    "floating",
    "integers",
]
MADE_WITH = (3, 11)
OUT = Path(__file__).resolve().parent / "heldout_general.txt"


def prose(text: str) -> list[str]:
    paras, cur = [], []
    for line in text.splitlines():
        if not line.strip():
            if cur:
                paras.append(" ".join(cur))
                cur = []
            continue
        if line.startswith((" ", "\t")) or line.lstrip().startswith((">>>", "...")) or "::=" in line:
            if cur:
                paras.append(" ".join(cur))
                cur = []
            continue
        cur.append(line.strip())
    if cur:
        paras.append(" ".join(cur))
    keep = []
    for p in paras:
        p = re.sub(r"\s+", " ", p).strip()
        if len(p.split()) < 12 or set(p) <= set("*=-~^ "):
            continue  # headings, rules, fragments
        keep.append(p)
    return keep


def build() -> str:
    from pydoc_data.topics import topics

    paras = [p for t in TOPICS for p in prose(topics[t])]
    return "\n\n".join(paras) + "\n"


def main(argv: list[str]) -> int:
    text = build()
    if "--check" in argv:
        if sys.version_info[:2] != MADE_WITH:
            print(f"skipped: the file was made with Python {MADE_WITH}, this is {sys.version_info[:2]}")
            return 0
        return 0 if OUT.read_text(encoding="utf-8") == text else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"{OUT}: {len(text.split())} words, {text.count(chr(10) * 2) + 1} paragraphs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
