"""Text features the semantic-cache verifier compares (costlab.serving.verifier): numbers, units, polarity,
languages, formats, entities, antonyms, in English and Chinese. The word tables are in verifier_rules."""

from __future__ import annotations

import functools
import re

from costlab.serving.guard import _NEG, _NUMWORDS, _STOP
from costlab.serving.verifier_rules import (
    ANTONYM_GROUPS,
    ANTONYMS,
    CJK,
    FORMATS,
    GAZ,
    LANGS,
    NEG_ZH,
    NEG_ZH_EXCEPT,
    UNITS,
    ZH_DIGIT,
    ZH_MEASURE,
    ZH_NUM,
    ZH_NUM_EXCEPT,
    ZH_UNIT,
)


@functools.cache
def _rx(pattern: str) -> re.Pattern:
    """Compiled once: the word tables give more patterns than re's own cache (512) holds."""
    return re.compile(pattern)


_NEG_EN = _NEG - {"stop", "skip", "un", "non"}  # "the train's stops", "non-stop" are not negations


def _norm(text: str) -> str:
    t = text.lower().replace("n't", " not").replace("’", "'")
    t = _rx(r"(\d),(\d{3})").sub(r"\1\2", t)  # 5,000 → 5000
    t = _rx(r"\bdegrees?\s+(?=celsius|fahrenheit)").sub("", t)  # "37 degrees Celsius" = "37 °C"
    return t


def _zh_number(s: str) -> float | None:
    if not s:
        return None
    total, section, cur = 0, 0, 0
    for ch in s:
        if ch in ZH_DIGIT:
            cur = ZH_DIGIT[ch]
        elif ch in ("万", "亿"):
            section = (section + cur) * ZH_UNIT[ch]
            total += section
            section, cur = 0, 0
        else:
            section += (cur or 1) * ZH_UNIT[ch]
            cur = 0
    return float(total + section + cur)


def numbers(text: str) -> list[float]:
    t = _norm(text)
    out = [float(x) for x in _rx(r"\d+(?:\.\d+)?").findall(t)]
    for w in _rx(r"[a-z]+").findall(t):
        if w in _NUMWORDS and w not in ("second", "first", "third"):  # "a second thought", "first" as order
            out.append(float(_NUMWORDS[w]))
    z = t
    for e in ZH_NUM_EXCEPT:
        z = z.replace(e, " ")
    z = _rx("千(?=[克米瓦])").sub(" ", z)  # 千克 / 千米 / 千瓦 are units (kg, km, kW), not "thousand"
    z = _rx(f"(?<![零〇一二两三四五六七八九十百千万亿])一(?=[{ZH_MEASURE}])").sub(" ", z)  # 写一首诗: "a", not 1
    for m in ZH_NUM.finditer(z):
        s = m.group(0)
        if s in ("万", "千", "百", "十", "亿"):  # a bare unit character ("千万" handled above) is not a number
            continue
        v = _zh_number(s)
        if v is not None:
            out.append(v)
    return sorted(out)


def _hits(text: str, table: dict[str, tuple[str, ...]]) -> set[str]:
    """Canonical ids whose surface forms occur: whole words for Latin forms, substrings for CJK/symbols."""
    t = _norm(text)
    return {k for k, forms in table.items() if any(f in t and _form_rx(f).search(t) for f in forms)}


@functools.cache
def _form_rx(f: str) -> re.Pattern:
    """A table form as a pattern: a substring for CJK and symbols, a whole word for Latin forms."""
    if re.search(f"[{CJK}]", f) or not re.search(r"[a-z]", f):
        return re.compile(re.escape(f))
    return re.compile(r"(?<![a-z])" + re.escape(f) + r"(?![a-z])")


# Unit words that are also ordinary words ("how many hours", 天气, 年轻, 一块蛋糕): they count only right after a
# number. Every other form counts wherever it occurs.
_NEEDS_NUMBER = {"min", "hour", "day", "week", "month", "year", "sec", "cup"}
_NUMERAL = (
    r"(?:\d|\b(?:"
    + "|".join(w for w in _NUMWORDS if not w.startswith("_"))
    + r")\b|[零一二两三四五六七八九十百千万几多])"
)


@functools.lru_cache(maxsize=1)
def _unit_patterns() -> list[tuple[str, re.Pattern, int, str]]:
    out = []
    for k, forms in UNITS.items():
        for f in forms:
            cjk = bool(re.search(f"[{CJK}]", f))
            latin = bool(re.search("[a-z]", f)) and not cjk
            body = re.escape(f) if not latin else r"(?<![a-z])" + re.escape(f) + r"(?![a-z])"
            ambiguous = k in _NEEDS_NUMBER or (cjk and len(f) == 1) or f in ("块钱", "个月", "星期", "小时", "分钟")
            out.append((f, re.compile((_NUMERAL + r"\s*-?\s*" + body) if ambiguous else body), len(f), k))
    return out


def _unit_positions(text: str) -> list[tuple[int, str]]:
    t = _norm(text)
    out = []
    for f, rx, n, k in _unit_patterns():
        if f not in t:  # cheap test first: most forms are absent
            continue
        for m in rx.finditer(t):
            out.append((m.end() - n, m.end(), k))
    # Longest match wins: 升 inside 毫升, 克 inside 千克 / 毫克, 米 inside 厘米 are not units of their own.
    spans = set(out)
    kept = {(s, k) for s, e, k in spans if not any(s2 <= s and e <= e2 and (e2 - s2) > (e - s) for s2, e2, _ in spans)}
    return sorted(kept)


def units(text: str) -> set[str]:
    return {k for _, k in _unit_positions(text)}


def numbered_units(text: str) -> set[str]:
    """Units written right after a number: the quantity's own unit ("50 miles" in "50 miles to km")."""
    t = _norm(text)
    return {
        k
        for p, k in _unit_positions(text)
        if _rx(_NUMERAL + r"\s*-?\s*$").search(t[:p]) or _rx(r"[$€£¥]\s*\d").match(t[p:])
    }  # $50


def polarity(text: str) -> int:
    t = _norm(text)
    n = sum(1 for w in _rx(r"[a-z]+").findall(t) if w in _NEG_EN)
    z = "".join(_rx(f"[{CJK}]+").findall(t))
    for e in NEG_ZH_EXCEPT:
        z = z.replace(e, "")
    n += sum(z.count(c) for c in NEG_ZH)
    return n % 2


def languages(text: str) -> set[str]:
    return _hits(text, LANGS)


def formats(text: str) -> set[str]:
    t = _norm(text)
    out = _hits(t.replace("列表", "  "), FORMATS)  # 列表 contains 表 but is not 表格
    if _rx("(成|为|用|以)列表").search(t):  # 整理成列表 (a list as output format, not 把列表排序)
        out.add("list")
    return out


def antonym(query: str, cached: str) -> str | None:
    ta, tb = _norm(query), _norm(cached)

    def has(t: str, w: str) -> bool:
        return w in t and _form_rx(w).search(t) is not None

    for x, y in ANTONYMS:
        if (has(ta, x) and has(tb, y) and not has(ta, y) and not has(tb, x)) or (
            has(ta, y) and has(tb, x) and not has(ta, x) and not has(tb, y)
        ):
            return f"{x} / {y}"
    for pa, pb in ANTONYM_GROUPS:  # a pole is any of its words, used without any word of the other pole
        sa = (any(has(ta, w) for w in pa), any(has(ta, w) for w in pb))
        sb = (any(has(tb, w) for w in pa), any(has(tb, w) for w in pb))
        if sum(sa) == 1 and sum(sb) == 1 and sa != sb:
            return f"{'/'.join(pa[:2])} / {'/'.join(pb[:2])}"
    wa, wb = set(_rx(r"[a-z]+").findall(ta)), set(_rx(r"[a-z]+").findall(tb))
    for w in wa ^ wb:  # "legal" vs "illegal", "healthy" vs "unhealthy"
        for pre in ("un", "in", "il", "im", "ir", "dis", "non"):
            if w.startswith(pre) and len(w) - len(pre) >= 4 and w[len(pre) :] in (wa | wb) - {w}:
                return f"{w[len(pre) :]} / {w}"
    return None


def _wordset(text: str) -> set[str]:
    return {w.rstrip("s") for w in _rx(r"[a-z][a-z\-]*").findall(text.lower().replace("'s", ""))}


def entities(text: str) -> set[str]:
    """Gazetteer ids ("g:beijing") and capitalised English words that are not at a sentence start ("c:sunday")."""
    out = {f"g:{k}" for k in _hits(text, GAZ)}
    skip = (
        {w for fs in GAZ.values() for f in fs for w in f.split()}
        | {f for fs in LANGS.values() for f in fs}
        | {f for fs in FORMATS.values() for f in fs}
        | {f for fs in UNITS.values() for f in fs}
    )
    for sent in _rx(r"[.!?。！？:：\n]\s*").split(text.replace("'s", "").replace("’s", "")):
        words = _rx(r"[A-Za-z][A-Za-z'\-]*").findall(sent)
        lead = _rx(r"\s*[\"'“(]?([A-Za-z][A-Za-z'\-]*)").match(sent)
        first = lead.group(1) if lead else None
        for i, w in enumerate(words):
            lw = w.lower()
            if (
                w[0].isupper()
                and not (i == 0 and w == first)
                and lw not in _STOP
                and lw not in skip
                and lw != "i"
                and not lw.startswith("i'")
                and not w.isupper()
            ):
                out.add("c:" + lw.rstrip("s"))
    return out


def _entity_mismatch(query: str, cached: str) -> set[str]:
    """Gazetteer ids present in one text only, plus capitalised words of one text absent (in any case, any
    position) from the other: a sentence-initial "Sunday" still matches "on Sunday"."""
    ea, eb = entities(query), entities(cached)
    ga, gb = {e for e in ea if e[0] == "g"}, {e for e in eb if e[0] == "g"}
    out = ga ^ gb
    wa, wb = _wordset(query), _wordset(cached)
    out |= {e for e in ea if e[0] == "c" and e[2:] not in wb}
    out |= {e for e in eb if e[0] == "c" and e[2:] not in wa}
    return out
