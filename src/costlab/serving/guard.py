"""A lexical check on semantic-cache candidates: embeddings alone score hard negatives as near-duplicates.

Measured on data/paraphrase/pairs.jsonl with all-MiniLM-L6-v2: mean cosine of negations 0.88, swapped
entities 0.94, different numbers 0.81 — paraphrases 0.85. No threshold separates them (see docs/serving.md),
so a candidate above the threshold is also rejected when
  * the numbers differ (digits and number words, "seven" == "7"),
  * the polarity differs (not / no / never / without / n't ... present in one but not the other),
  * an order word is present (from, than, beat, north of, ...) and the content words both texts share appear in a
    different order (swapped entities: "from A to B" vs "from B to A").
These rules were written after reading the whole pairs file (dev and test): their test-split numbers are
optimistic; judge them on your own traffic.
"""

from __future__ import annotations

import re

_NUMWORDS = {
    w: i
    for i, w in enumerate(
        "zero _one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
}
_NUMWORDS.update(
    {
        "thirty": 30,
        "forty": 40,
        "fifty": 50,
        "sixty": 60,
        "seventy": 70,
        "eighty": 80,
        "ninety": 90,
        "hundred": 100,
        "thousand": 1000,
        "million": 10**6,
        "first": 1,
        "second": 2,
        "third": 3,
        "half": 0.5,
        "dozen": 12,
        "noon": 12,
        "midnight": 0,
    }
)
_NEG = {
    "not",
    "no",
    "never",
    "without",
    "none",
    "nobody",
    "nothing",
    "neither",
    "nor",
    "cannot",
    "exclude",
    "excluding",
    "except",
    "non",
    "un",
    "avoid",
    "skip",
    "stop",
    "dont",
    "doesnt",
    "isnt",
    "arent",
    "wasnt",
    "cant",
    "wont",
    "shouldnt",
    "didnt",
}
# Words that make the order of the surrounding entities matter ("from A to B", "A beats B", "A older than B").
_ORDER = {
    "from",
    "than",
    "into",
    "vs",
    "versus",
    "north",
    "south",
    "east",
    "west",
    "ahead",
    "behind",
    "before",
    "after",
    "older",
    "younger",
    "bigger",
    "smaller",
    "beat",
    "beats",
    "owe",
    "owes",
}
_STOP = set(
    "a an the of to for in on at by with from and or is are was be it its this that these those my your "
    "me i you we do does did can could should would will how what which who when where why please".split()
)
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("n't", " not").replace("'s", ""))


def numbers(text: str) -> set[float]:
    out: set[float] = set()
    for t in _tokens(text):
        if re.fullmatch(r"\d+(?:\.\d+)?", t):
            out.add(float(t))
        elif re.fullmatch(r"\d+[a-z]+", t):  # 12gb, 2fa, 7pm, 21st
            out.add(float(re.match(r"\d+", t).group(0)))
        elif t in _NUMWORDS:
            out.add(float(_NUMWORDS[t]))
    return out


def polarity(text: str) -> int:
    return sum(1 for t in _tokens(text) if t in _NEG) % 2


def content(text: str) -> list[str]:
    return [t for t in _tokens(text) if t not in _STOP and t not in _NEG]


def compatible(query: str, cached: str) -> bool:
    """False when ``cached`` answers a different question than ``query`` by one of the rules above."""
    if numbers(query) != numbers(cached):
        return False
    if polarity(query) != polarity(cached):
        return False
    a, b = content(query), content(cached)
    order_matters = bool(_ORDER & (set(_tokens(query)) | set(_tokens(cached))))
    if order_matters:
        shared = set(a) & set(b)
        sa = [t for t in dict.fromkeys(a) if t in shared]
        sb = [t for t in dict.fromkeys(b) if t in shared]
        if len(shared) >= 2 and sa != sb:  # the same entities around an order word, in another order
            return False
    return True
