"""Decontamination: does an eval item (or held-out text) overlap anything the pipeline trains or calibrates on?

Everything the pipeline trains or calibrates on comes from ``TRAINING_SOURCES``: the distillation prompts
(``data/prompts/train.jsonl``) feed teacher-data generation, KD training, the pruning calibration
(student ``calib_tokens``) and the quantization calibration (``quant.calibration.paths`` =
``<run>/teacher_data/train.jsonl``, the teacher's responses to those same prompts), and the task classifier.
``tests/data/test_decontam.py`` parses ``configs/`` and fails when a new train/calibration path appears that is
not covered here.

Text is normalized first: Unicode NFKC, lowercase, every run of digits masked to one token (``<n>``: an item
that differs from a training prompt only in its numbers is the same item), punctuation stripped, whitespace
collapsed. Then an eval *probe* (the item's content: question, passage, source sentence, instruction — not the
task's fixed prompt scaffold) is contaminated by a training text when one of three rules fires:

``ngram``  (GPT-3 / lm-eval style) the probe has >= ``NGRAM_N`` tokens and shares any ``NGRAM_N``-gram with a
           training text. GPT-3 used 13-grams on long documents; our prompts are short (median 12 words), so
           ``NGRAM_N = 8``: long enough that a shared prompt template ("translate the following english sentence
           into") is not a hit, short enough that a question with one word changed still shares a window.
``whole``  short probes (< ``NGRAM_N`` tokens) cannot share an ``NGRAM_N``-gram, so they are compared whole: a hit
           when the normalized probe equals a whole training text or one of its *segments* (the text split at
           sentence punctuation, colons, quotes, newlines). "Good morning" is contaminated by the training
           prompt "Translate to French: Good morning." (segment "good morning") but "Thank you" is not by
           "Thank you very much." (segment "thank you very much").
``answer`` same question reworded, same answer: the probe's content words (stopwords dropped) overlap one
           training row's content words by >= ``ANSWER_OVERLAP`` (a share of the probe's content words) AND one
           of the item's gold answers occurs, as whole words and with numbers *not* masked, in that row's text
           (prompt or reference). Applies only to answers containing a letter: a bare number in a row is no
           evidence (numeric items are covered by ``ngram`` with masked numbers). This catches "Who wrote the
           play Romeo and Juliet?" vs the training row "Who wrote Romeo and Juliet?" → "William Shakespeare",
           which neither window rule sees, while "What is the capital of Japan?" is not contaminated by
           "What is the capital of France?" (shared template, different answer).

Phrasing templates are not content. Training rows carry a ``group`` (data/prompts: one content item and all
its rewordings; the instances of one reasoning schema with other numbers are one group). A ``TEMPLATE_N``-gram
(4) that occurs in rows of >= ``TEMPLATE_MIN_GROUPS`` (2) different groups is wording shared by different content
("give a short summary of", "summarize the text above"; for a grouped held-out prompts file, also 4-grams in
>= 2 of that file's own groups, and the literal parts of the prompt generator's phrasing templates), so an ``ngram`` hit counts only if its window has
>= ``MIN_NOVEL`` (3) positions not covered by such template 4-grams, and a segment found in >= 2 groups
("translate to french") is not used by ``whole``. Content repeated under several phrasings stays one group and
stays evidence.

Measured on the eval data as it stood before this module existed (issue 9): qa 11/20 items (10 near-verbatim
questions + one same-answer paraphrase), translation 12/20 (7 with the same sentence and target language, incl.
the 5 the issue lists, and 5 whose source sentence is in training with another language), code 2/20,
reasoning 1/20. See docs/eval-data.md.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

NGRAM_N = 8
ANSWER_OVERLAP = 0.5
TEMPLATE_N = 4
TEMPLATE_MIN_GROUPS = 2
MIN_NOVEL = 3
NUM_TOKEN = "<n>"

# Files whose text is trained or calibrated on, relative to the repo root. Run-time files derived from them
# (<run>/teacher_data/train.jsonl: responses to these prompts) are covered through their prompts; a response
# can only repeat an eval answer if the teacher produced it, which no static check can see.
TRAINING_SOURCES = ("data/prompts/train.jsonl",)
# Texts that must not be trained on either (fidelity / healing report / classifier scoring) — checked against
# TRAINING_SOURCES like eval sets.
HELDOUT_SOURCES = ("data/prompts/heldout.jsonl", "data/text/heldout_general.txt")

# eval JSONL fields that carry an item's content (probes) and its gold answers
PROBE_FIELDS = ("question", "passage", "source", "instruction", "prompt", "text", "expression")
STOPWORDS = frozenset(
    """
a an the of to in on at by for from with and or but is are was were be been being am do does did done have has
had what which who whom whose when where why how many much this that these those it its it's i you he she we
they me him her us them my your his our their there here as so if not no yes than then into onto about please
answer just only one word short phrase quick question briefly give tell can could would should will shall
""".split()
)

_NUM = re.compile(r"\d+")
_NONWORD = re.compile(r"[^\w<>]+", flags=re.UNICODE)
_SEGMENT_SPLIT = re.compile(r"[.?!;:\n\"“”«»()\[\]{}¿¡]+")


def normalize(text: str, mask_numbers: bool = True) -> list[str]:
    """NFKC, lowercase, digits → ``<n>`` (if ``mask_numbers``), punctuation → space, whitespace collapsed."""
    t = unicodedata.normalize("NFKC", text).lower()
    if mask_numbers:
        t = _NUM.sub(f" {NUM_TOKEN} ", t)
    t = t.replace("_", " ")
    toks = _NONWORD.sub(" ", t).split()
    if not mask_numbers:
        return toks
    return [x for x in toks if x]


def segments(text: str) -> list[tuple[str, ...]]:
    """Normalized pieces of ``text`` between sentence punctuation, colons, quotes and newlines."""
    out = []
    for piece in _SEGMENT_SPLIT.split(text):
        toks = tuple(normalize(piece))
        if toks:
            out.append(toks)
    return out


def content_words(tokens: Iterable[str]) -> set[str]:
    return {t for t in tokens if t not in STOPWORDS and t != NUM_TOKEN}


def ngrams(tokens: Sequence[str], n: int) -> Iterator[tuple[str, ...]]:
    for i in range(len(tokens) - n + 1):
        yield tuple(tokens[i : i + n])


@dataclass(frozen=True)
class Probe:
    """One piece of eval (or held-out) text to check. ``answers``: the item's gold answers (may be empty)."""

    item_id: str
    text: str
    answers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Overlap:
    item_id: str
    source: str  # "<file>:<row id>" of the training text
    rule: str  # ngram | whole | answer
    detail: str

    def __str__(self) -> str:
        return f"{self.item_id} ~ {self.source} [{self.rule}] {self.detail}"


@dataclass
class _Doc:
    source: str
    tokens: list[str]
    content: set[str]
    unmasked: str  # " w1 w2 ... " (numbers kept) for whole-word answer search


@dataclass
class TrainingIndex:
    """Index of training/calibration texts for the three rules (see the module docstring)."""

    docs: list[_Doc] = field(default_factory=list)
    grams: dict[tuple[str, ...], int] = field(default_factory=dict)
    whole: dict[tuple[str, ...], int] = field(default_factory=dict)
    templates: set[tuple[str, ...]] = field(default_factory=set)

    @classmethod
    def build(cls, texts: Iterable[tuple[str, ...]]) -> TrainingIndex:
        """``texts``: (source, text) or (source, text, group); group defaults to the source (one row)."""
        idx = cls()
        tmpl_groups: dict[tuple[str, ...], set[str]] = {}
        seg_groups: dict[tuple[str, ...], set[str]] = {}
        for source, text, *rest in texts:
            group = rest[0] if rest and rest[0] else source
            toks = normalize(text)
            d = len(idx.docs)
            idx.docs.append(
                _Doc(source, toks, content_words(toks), " " + " ".join(normalize(text, mask_numbers=False)) + " ")
            )
            for g in ngrams(toks, NGRAM_N):
                idx.grams.setdefault(g, d)
            for g in ngrams(toks, TEMPLATE_N):
                tmpl_groups.setdefault(g, set()).add(group)
            for seg in [tuple(toks)] + segments(text):
                idx.whole.setdefault(seg, d)
                seg_groups.setdefault(seg, set()).add(group)
        idx.templates = {g for g, gs in tmpl_groups.items() if len(gs) >= TEMPLATE_MIN_GROUPS}
        for seg, gs in seg_groups.items():
            if len(gs) >= TEMPLATE_MIN_GROUPS:
                del idx.whole[seg]
        return idx

    def template_mask(self, toks: Sequence[str], extra: frozenset | set = frozenset()) -> list[bool]:
        """True at every probe position covered by a template ``TEMPLATE_N``-gram (of training, or ``extra``)."""
        mask = [False] * len(toks)
        for i, g in enumerate(ngrams(toks, TEMPLATE_N)):
            if g in self.templates or g in extra:
                for j in range(i, i + TEMPLATE_N):
                    mask[j] = True
        return mask

    def check(self, probe: Probe, extra_templates: frozenset | set = frozenset()) -> list[Overlap]:
        """Overlaps of one probe. ``extra_templates``: template 4-grams of the probe's own file (see
        ``file_templates``)."""
        toks = normalize(probe.text)
        if not toks:
            return []
        hits: list[Overlap] = []
        if len(toks) >= NGRAM_N:
            mask = self.template_mask(toks, extra_templates)
            for i, g in enumerate(ngrams(toks, NGRAM_N)):
                d = self.grams.get(g)
                if d is not None and NGRAM_N - sum(mask[i : i + NGRAM_N]) >= MIN_NOVEL:
                    hits.append(Overlap(probe.item_id, self.docs[d].source, "ngram", f"shares {' '.join(g)!r}"))
                    break
        else:
            d = self.whole.get(tuple(toks))
            if d is not None:
                hits.append(Overlap(probe.item_id, self.docs[d].source, "whole", f"{' '.join(toks)!r}"))
        answers = [a for a in probe.answers if re.search(r"[^\W\d_]", a)]
        cw = content_words(toks)
        if answers and cw:
            keys = [" " + " ".join(normalize(a, mask_numbers=False)) + " " for a in answers]
            keys = [k for k in keys if k.strip()]
            for doc in self.docs:
                share = len(cw & doc.content) / len(cw)
                if share >= ANSWER_OVERLAP and any(k in doc.unmasked for k in keys):
                    hits.append(
                        Overlap(
                            probe.item_id,
                            doc.source,
                            "answer",
                            f"{share:.0%} of content words {sorted(cw & doc.content)} + same answer",
                        )
                    )
                    break
        return hits


# ---------------------------------------------------------------------------------------------- reading files
def _jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def row_texts(row: dict) -> list[str]:
    """All text of a prompt / teacher-data row: every message content, prompt/text/response/reference."""
    parts = [m["content"] for m in row.get("messages", []) if isinstance(m, dict) and isinstance(m.get("content"), str)]
    parts += [row[k] for k in ("prompt", "text", "response", "reference") if isinstance(row.get(k), str)]
    return parts


def training_texts(root: Path, sources: Sequence[str] = TRAINING_SOURCES) -> list[tuple[str, str, str | None]]:
    """(source id, text) for every training/calibration row (its messages and reference joined by newlines; a
    plain-text source gives one text per paragraph)."""
    out = []
    for rel in sources:
        path = root / rel
        if path.suffix == ".jsonl":
            for row in _jsonl(path):
                out.append((f"{rel}:{row.get('id', '?')}", "\n".join(row_texts(row)), row.get("group")))
        else:
            for i, para in enumerate(paragraphs(path.read_text(encoding="utf-8"))):
                out.append((f"{rel}:para{i}", para, None))
    return out


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def item_probes(row: dict, item_id: str | None = None) -> list[Probe]:
    """Probes of one eval row: its content fields, with the gold answers it carries."""
    iid = str(item_id or row.get("id", "?"))
    answers: list[str] = []
    if isinstance(row.get("answers"), list):
        answers += [str(a) for a in row["answers"]]
    if isinstance(row.get("choices"), list) and isinstance(row.get("gold"), int):
        answers.append(str(row["choices"][row["gold"]]))
    for k in ("answer", "summary", "reference", "target"):
        if isinstance(row.get(k), str):
            answers.append(row[k])
    texts = [row[k] for k in PROBE_FIELDS if isinstance(row.get(k), str) and row[k].strip()]
    if not texts and "messages" in row:  # a prompt row: its user turn
        texts = [m["content"] for m in row["messages"] if m.get("role") == "user"]
    return [Probe(iid, t, tuple(answers)) for t in texts]


def file_probes(path: Path, root: Path | None = None) -> list[Probe]:
    rel = str(path.relative_to(root)) if root else str(path)
    if path.suffix == ".jsonl":
        return [p for row in _jsonl(path) for p in item_probes(row, f"{rel}:{row.get('id', '?')}")]
    return [Probe(f"{rel}:para{i}", para) for i, para in enumerate(paragraphs(path.read_text(encoding="utf-8")))]


def file_templates(path: Path) -> set[tuple[str, ...]]:
    """Template 4-grams of a grouped prompts file (rows with ``group``): those in >= TEMPLATE_MIN_GROUPS of its
    own groups. Counted within one file, so an item shared by a held-out and a training row (one group in each
    file) never becomes a template; files without groups (eval sets) have none."""
    if path.suffix != ".jsonl":
        return set()
    groups: dict[tuple[str, ...], set[str]] = {}
    for row in _jsonl(path):
        if not row.get("group"):
            return set()
        for t in row_texts(row):
            for g in ngrams(normalize(t), TEMPLATE_N):
                groups.setdefault(g, set()).add(row["group"])
    return {g for g, gs in groups.items() if len(gs) >= TEMPLATE_MIN_GROUPS}


def scaffold_templates(templates: Iterable[str]) -> set[tuple[str, ...]]:
    """Template 4-grams of prompt phrasings written with ``{placeholders}`` (e.g. make_demo_data.py's
    ``phrasing_templates()``): the 4-grams of their literal parts."""
    out: set[tuple[str, ...]] = set()
    for t in templates:
        for part in re.split(r"\{[^{}]*\}", t):
            out.update(ngrams(normalize(part), TEMPLATE_N))
    return out


def demo_scaffolds(root: Path) -> set[tuple[str, ...]]:
    """Phrasing templates of the prompt generator (data/make_demo_data.py), if it is there."""
    import importlib.util

    path = root / "data" / "make_demo_data.py"
    if not path.is_file():
        return set()
    spec = importlib.util.spec_from_file_location("_costlab_make_demo_data", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return scaffold_templates(mod.phrasing_templates())


def check_probes(
    probes: Iterable[Probe], index: TrainingIndex, extra_templates: frozenset | set = frozenset()
) -> list[Overlap]:
    return [o for p in probes for o in index.check(p, extra_templates)]


def eval_files(root: Path) -> list[Path]:
    """Every eval set: data/eval/*.jsonl (the files configs/eval/tasks/*.yaml point at)."""
    return sorted((root / "data" / "eval").glob("*.jsonl"))


def check_repo(root: Path) -> dict[str, list[Overlap]]:
    """Overlaps of every eval set and held-out text with the training/calibration sources, per file."""
    index = TrainingIndex.build(training_texts(root))
    scaffolds = demo_scaffolds(root)
    out: dict[str, list[Overlap]] = {}
    for path in eval_files(root) + [root / p for p in HELDOUT_SOURCES if (root / p).is_file()]:
        out[str(path.relative_to(root))] = check_probes(
            file_probes(path, root), index, file_templates(path) | scaffolds
        )
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Check every eval set and held-out text against training data.")
    from costlab.paths import PROJECT_ROOT

    ap.add_argument("--root", default=str(PROJECT_ROOT))
    ap.add_argument("-v", "--verbose", action="store_true", help="print every overlap")
    args = ap.parse_args(argv)
    root = Path(args.root)
    res = check_repo(root)
    bad = 0
    for rel, hits in res.items():
        items = sorted({h.item_id for h in hits})
        bad += len(items)
        print(f"{rel}: {len(items)} contaminated item(s)")
        if args.verbose:
            for h in hits:
                print("   ", h)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
