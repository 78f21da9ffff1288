"""Semantic-cache candidate verifier, English and Chinese (issue 12 finding 11).

An embedding neighbour above the threshold is served only if ``verify(query, cached)`` finds no difference that
changes the answer. all-MiniLM-L6-v2 scores such pairs as near-duplicates (and is nearly blind to Chinese: 244
CJK characters in its vocabulary), so each check is explicit and names the kind it caught:

  number    digits, decimals, English number words, Chinese numerals (三, 十五, 两百, 3.5)
  unit      km / miles / 公里, °C / °F / 摄氏度, kg / lb / 公斤, $ / € / 元 / 美元 ...
  negation  not / no / never / without / n't ... and 不 / 没 / 无 / 非 / 未 / 别 / 勿 (minus fixed words such as
            非常, 不错, 无线, 无论, 没关系, 不同: these carry no negation); antonyms from a fixed list (on/off,
            open/close, 开门/关门, 最高/最低 ...) and negating prefixes (legal / illegal)
  language  the target/source language named (French / 法语 / 法文 → fr): a different set
  format    the output format named (JSON, YAML, CSV, table / 表格, list / 列表, uppercase / 大写 ...)
  entity    capitalised English words not at a sentence start, and a gazetteer of common entities in both
            languages (北京 = Beijing); a different set of entities
  order     an order word (from/to, than, beat, owe, 从/到, 比, 给, 打败, 欠 ...) and the entities, numbers or
            content words both texts share appear in another order (swapped roles)
  substitution  otherwise the same text with one or two short spans where a content word was replaced
            ("open" → "close", 开门 → 关门): the shape of a near-topic hard negative, rarely of a paraphrase

``verify`` is deterministic and has no parameters fitted to the evaluation set. Its limits are documented in
docs/semantic-cache.md: a Chinese entity outside the gazetteer and a change of content word that is neither an
entity nor a number ("cheapest" vs "most expensive") are not caught by any rule; the embedding threshold has to.
The old English-only guard (costlab.serving.guard) is kept for comparison in the sweep.
The word tables these checks read (numerals, negation words, units, languages, formats, the gazetteer, order
words, antonyms) are in costlab.serving.verifier_rules.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from costlab.serving.guard import _NEG, _NUMWORDS, _STOP
from costlab.serving.guard import content as _content
from costlab.serving.verifier_rules import (
    ANTONYM_GROUPS,
    ANTONYMS,
    CJK,
    CONVERSES_EN,
    CONVERSES_ZH,
    FORMATS,
    GAZ,
    LANGS,
    NEG_ZH,
    NEG_ZH_EXCEPT,
    ORDER_EN,
    ORDER_ZH,
    QUESTION_KINDS,
    UNITS,
    ZH_COMPARATIVE,
    ZH_DIGIT,
    ZH_FUNC,
    ZH_MEASURE,
    ZH_NAME_STOP,
    ZH_NUM,
    ZH_NUM_EXCEPT,
    ZH_ORG_SUFFIX,
    ZH_PLACE_SUFFIX,
    ZH_UNIT,
)


@functools.cache
def _rx(pattern: str) -> re.Pattern:
    """Compiled once: the word tables give more patterns than re's own cache (512) holds."""
    return re.compile(pattern)


def _re_search(p, t):
    return _rx(p).search(t)


def _re_finditer(p, t):
    return _rx(p).finditer(t)


def _re_match(p, t):
    return _rx(p).match(t)


def _re_fullmatch(p, t):
    return _rx(p).fullmatch(t)


def _re_findall(p, t):
    return _rx(p).findall(t)


def _re_split(p, t):
    return _rx(p).split(t)


def _re_sub(p, r, t):
    return _rx(p).sub(r, t)


_NEG_EN = _NEG - {"stop", "skip", "un", "non"}  # "the train's stops", "non-stop" are not negations

KINDS = ("number", "unit", "negation", "language", "format", "entity", "order", "question", "substitution")

_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*|[$€£¥%℃℉°]|[" + CJK + "]+")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    kind: str | None = None
    detail: str = ""


def _norm(text: str) -> str:
    t = text.lower().replace("n't", " not").replace("’", "'")
    t = _re_sub(r"(\d),(\d{3})", r"\1\2", t)  # 5,000 → 5000
    t = _re_sub(r"\bdegrees?\s+(?=celsius|fahrenheit)", "", t)  # "37 degrees Celsius" = "37 °C"
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
    out = [float(x) for x in _re_findall(r"\d+(?:\.\d+)?", t)]
    for w in _re_findall(r"[a-z]+", t):
        if w in _NUMWORDS and w not in ("second", "first", "third"):  # "a second thought", "first" as order
            out.append(float(_NUMWORDS[w]))
    z = t
    for e in ZH_NUM_EXCEPT:
        z = z.replace(e, " ")
    z = _re_sub("千(?=[克米瓦])", " ", z)  # 千克 / 千米 / 千瓦 are units (kg, km, kW), not "thousand"
    z = _re_sub(f"(?<![零〇一二两三四五六七八九十百千万亿])一(?=[{ZH_MEASURE}])", " ", z)  # 写一首诗: "a", not 1
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
        if _re_search(_NUMERAL + r"\s*-?\s*$", t[:p]) or _re_match(r"[$€£¥]\s*\d", t[p:])
    }  # $50


def polarity(text: str) -> int:
    t = _norm(text)
    n = sum(1 for w in _re_findall(r"[a-z]+", t) if w in _NEG_EN)
    z = "".join(_re_findall(f"[{CJK}]+", t))
    for e in NEG_ZH_EXCEPT:
        z = z.replace(e, "")
    n += sum(z.count(c) for c in NEG_ZH)
    return n % 2


def languages(text: str) -> set[str]:
    return _hits(text, LANGS)


def formats(text: str) -> set[str]:
    t = _norm(text)
    out = _hits(t.replace("列表", "  "), FORMATS)  # 列表 contains 表 but is not 表格
    if _re_search("(成|为|用|以)列表", t):  # 整理成列表 (a list as output format, not 把列表排序)
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
    wa, wb = set(_re_findall(r"[a-z]+", ta)), set(_re_findall(r"[a-z]+", tb))
    for w in wa ^ wb:  # "legal" vs "illegal", "healthy" vs "unhealthy"
        for pre in ("un", "in", "il", "im", "ir", "dis", "non"):
            if w.startswith(pre) and len(w) - len(pre) >= 4 and w[len(pre) :] in (wa | wb) - {w}:
                return f"{w[len(pre) :]} / {w}"
    return None


def _wordset(text: str) -> set[str]:
    return {w.rstrip("s") for w in _re_findall(r"[a-z][a-z\-]*", text.lower().replace("'s", ""))}


def entities(text: str) -> set[str]:
    """Gazetteer ids ("g:beijing") and capitalised English words that are not at a sentence start ("c:sunday")."""
    out = {f"g:{k}" for k in _hits(text, GAZ)}
    skip = (
        {w for fs in GAZ.values() for f in fs for w in f.split()}
        | {f for fs in LANGS.values() for f in fs}
        | {f for fs in FORMATS.values() for f in fs}
        | {f for fs in UNITS.values() for f in fs}
    )
    for sent in _re_split(r"[.!?。！？:：\n]\s*", text.replace("'s", "").replace("’s", "")):
        words = _re_findall(r"[A-Za-z][A-Za-z'\-]*", sent)
        lead = _re_match(r"\s*[\"'“(]?([A-Za-z][A-Za-z'\-]*)", sent)
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


def _order_tokens(text: str) -> list[str]:
    """Gazetteer entities, capitalised words and numbers in order of appearance (content words are not used:
    paraphrases reorder them freely)."""
    t = _norm(text)
    found: list[tuple[int, str]] = []
    for k, forms in GAZ.items():
        for f in forms:
            i = t.find(f)
            while i >= 0:
                found.append((i, "g:" + k))
                i = t.find(f, i + 1)
    for m in _re_finditer(r"\d+(?:\.\d+)?", t):
        found.append((m.start(), "n:" + m.group(0)))
    names = {e[2:] for e in entities(text) if e[0] == "c"}
    for m in _re_finditer(r"(?<![A-Za-z'])[A-Z][a-z\-]+", text):
        if m.group(0).lower().rstrip("s") in names:
            found.append((m.start(), "c:" + m.group(0).lower().rstrip("s")))
    found.sort()
    return list(dict.fromkeys(tok for _, tok in found))


def _has_order_word(text: str) -> bool:
    t = _norm(text)
    return bool(ORDER_EN & set(_re_findall(r"[a-z]+", t))) or any(w in t for w in ORDER_ZH)


def _stems(words: list[str]) -> list[str]:
    return [w[:-1] if w.endswith("s") and not w.endswith("ss") and len(w) > 3 else w for w in words]


def _zh_swapped(a: str, b: str) -> bool:
    """Chinese roles around the same order word swapped: 王强欠小红 vs 小红欠王强 (names are not segmented, so
    the two characters on each side stand for the roles)."""
    for w in ORDER_ZH:
        ia, ib = a.find(w), b.find(w)
        if ia < 0 or ib < 0:
            continue
        la, ra = a[max(0, ia - 2) : ia], a[ia + len(w) : ia + len(w) + 2]
        lb, rb = b[:ib], b[ib + len(w) :]
        if len(la) == 2 and len(ra) == 2 and la != ra and _re_fullmatch(f"[{CJK}]+", la + ra):
            if la in rb[:4] and ra in lb[-4:] and la not in lb[-4:]:
                return True
    return False


_TOK = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*|[" + CJK + "]")


def _is_content(tok: str) -> bool:
    if _re_fullmatch(f"[{CJK}]", tok):
        return tok not in ZH_FUNC
    return tok not in _STOP and len(tok) > 1


@functools.lru_cache(maxsize=1)
def _zh_unit_forms() -> list[tuple[str, str]]:
    return sorted(
        ((f, k) for k, fs in UNITS.items() for f in fs if len(f) >= 2 and re.search(f"[{CJK}]", f)),
        key=lambda x: -len(x[0]),
    )


def _canon_units(t: str) -> str:
    """Chinese unit words of 2+ characters → their unit id, so that 公斤 and 千克 read as the same word."""
    for f, k in _zh_unit_forms():
        if f in t:
            t = t.replace(f, f" {k} ")
    return t


def substitution(query: str, cached: str) -> str | None:
    """A minimal edit: the two texts are the same except one or two short spans where a content word was
    replaced by another ("open" → "close", "coffee" → "alcohol", 开 → 关). A paraphrase rewrites more than
    that; a one-word swap is how hard negatives look. Returns "old → new" or None."""
    import difflib

    ta, tb = _TOK.findall(_canon(query)), _TOK.findall(_canon(cached))
    ops = [op for op in difflib.SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes() if op[0] != "equal"]

    def size(toks: list[str]) -> float:  # a Chinese character counts as 3/4 of a word: up to 4 (历史记录)
        return sum(1 if not _re_fullmatch(f"[{CJK}]", x) else 0.75 for x in toks)

    if not ops or len(ops) > 2 or any(max(size(ta[i1:i2]), size(tb[j1:j2])) > 3 for _, i1, i2, j1, j2 in ops):
        return None
    for tag, i1, i2, j1, j2 in ops:
        if tag == "replace" and any(map(_is_content, ta[i1:i2])) and any(map(_is_content, tb[j1:j2])):
            return f"{' '.join(ta[i1:i2])} → {' '.join(tb[j1:j2])}"
    # a content word dropped in one place and another added elsewhere (猫抓沙发 → 猫在沙发上尿尿)
    gone = [x for _, i1, i2, _, _ in ops for x in ta[i1:i2] if _is_content(x) and x not in tb]
    new = [x for _, _, _, j1, j2 in ops for x in tb[j1:j2] if _is_content(x) and x not in ta]
    if len(ops) == 2 and gone and new:  # (a word that only moved is in both texts: not counted)
        return f"{' '.join(gone)} → {' '.join(new)}"
    return None


def _canon(text: str) -> str:
    """Text for the substitution diff: units to their id (公斤 = 千克), every number to "0" (一百 = 100: numbers
    were compared already), "what's" to "what"."""
    t = _canon_units(_norm(text)).replace("'s", "")
    t = _re_sub(r"\d+(?:\.\d+)?", " 0 ", t)
    z = t
    for e in ZH_NUM_EXCEPT:
        z = z.replace(e, "\x00" * len(e))
    spans = [m.span() for m in ZH_NUM.finditer(z)]
    for s0, s1 in reversed(spans):
        t = t[:s0] + " 0 " + t[s1:]
    return t


def _first_order(text: str, table: dict[str, tuple[str, ...]]) -> list[str]:
    t = _norm(text)
    pos = []
    for k, forms in table.items():
        idx = [m.start() for f in forms for m in _form_rx(f).finditer(t)]
        if idx:
            pos.append((min(idx), k))
    return [k for _, k in sorted(pos)]


def _has_form(t: str, f: str) -> bool:
    return f in t and _form_rx(f).search(t) is not None


def _span_in(t: str, start: int, other: str, step: int) -> str:
    """The longest run of CJK characters that starts (step 1) or ends (step -1) at ``start`` in ``t`` and also
    occurs in ``other``, at least 2 characters and not made of function characters only; "" if none."""
    best = ""
    for k in range(2, 9):
        s = t[start : start + k] if step > 0 else t[max(0, start - k) : start]
        if len(s) < k or not _re_fullmatch(f"[{CJK}]+", s) or s not in other:
            break
        if any(c not in ZH_FUNC for c in s):
            best = s
    return best


def _zh_neighbours(t: str, other: str, w: str) -> tuple[str, str] | None:
    """(left, right): the spans shared with ``other`` right before and right after the first ``w`` in ``t``."""
    i = t.find(w)
    if i < 0:
        return None
    j = i + len(w)
    if t[j : j + 1] == "了":
        j += 1
    return _span_in(t, i, other, -1), _span_in(t, j, other, 1)


def _zh_roles_swapped(a: str, b: str, w: str) -> bool:
    """The same Chinese order word with the shared spans on its sides exchanged: 从手机传到电脑 vs 从电脑传到手机,
    老虎比狮子重 vs 狮子比老虎重 (no segmentation or name list needed: any span both texts share counts)."""
    na, nb = _zh_neighbours(a, b, w), _zh_neighbours(b, a, w)
    if not na or not nb:
        return False
    for x, y in ((na[1], nb[1]), (na[0], nb[0])):
        if x and y and x != y and x not in y and y not in x and x in b and y in a:
            return True
    return False


def _relation(query: str, cached: str, wa: str | None = None, wb: str | None = None) -> str | None:
    """ "same" or "swapped": the order of the roles (entities, numbers, shared content spans) in the two texts;
    ``wa``/``wb`` are the Chinese anchor words (the converse verb or 比) whose neighbours are the roles."""
    ta, tb = _order_tokens(query), _order_tokens(cached)
    shared = set(ta) & set(tb)
    sa, sb = [x for x in ta if x in shared], [x for x in tb if x in shared]
    if len(shared) >= 2:
        return "same" if sa == sb else "swapped"
    if wa and wb:
        a, b = _norm(query), _norm(cached)
        na, nb = _zh_neighbours(a, b, wa), _zh_neighbours(b, a, wb)
        if na and nb:
            if (na[0] and na[0] == nb[0]) or (na[1] and na[1] == nb[1]):
                return "same"
            if (na[0] and na[0] == nb[1]) or (na[1] and na[1] == nb[0]):
                return "swapped"
        return None
    if not _re_search(f"[{CJK}]", query + cached):
        ca, cb = _content(query), _content(cached)
        shared_w = set(ca) & set(cb)
        sa = [x for x in dict.fromkeys(ca) if x in shared_w]
        sb = [x for x in dict.fromkeys(cb) if x in shared_w]
        if len(shared_w) >= 2:
            return "same" if sa == sb else ("swapped" if sa == sb[::-1] else None)
    return None


def _zh_comparative(t: str, other: str) -> tuple[str, int] | None:
    """(dimension, pole) of the adjective after "比 <shared span>": 小李比小王大 → ("size", 0)."""
    i = t.find("比")
    if i < 0:
        return None
    right = _span_in(t, i + 1, other, 1)
    rest = t[i + 1 + len(right) : i + 1 + len(right) + 4]
    for dim, poles in ZH_COMPARATIVE.items():
        for p, forms in enumerate(poles):
            for f in forms:
                if rest.startswith(f) or rest[1:].startswith(f) and rest[0] in "更还要":
                    return dim, p
    return None


def converse(query: str, cached: str) -> tuple[str, str | None] | None:
    """A converse pair, one form in each text ("beat" / "lose to", "older" / "younger", 赢了 / 输给, 比…大 / 比…小):
    returns (the pair, how the roles are arranged: "same", "swapped" or None when they cannot be told)."""
    ta, tb = _norm(query), _norm(cached)
    for x, y in CONVERSES_EN + CONVERSES_ZH:
        xa = next((f for f in x if _has_form(ta, f)), None)
        ya = next((f for f in y if _has_form(ta, f)), None)
        xb = next((f for f in x if _has_form(tb, f)), None)
        yb = next((f for f in y if _has_form(tb, f)), None)
        for ua, va, ub, vb in ((xa, ya, yb, xb), (ya, xa, xb, yb)):
            if ua and not va and ub and not vb:
                cjk = bool(_re_search(f"[{CJK}]", ua))
                return f"{ua} / {ub}", _relation(query, cached, ua if cjk else None, ub if cjk else None)
    ca, cb = _zh_comparative(ta, tb), _zh_comparative(tb, ta)
    if ca and cb and ca[0] == cb[0] and ca[1] != cb[1]:
        return f"比 {ca[0]}", _relation(query, cached, "比", "比")
    return None


def _zh_names(t: str) -> set[str]:
    """Chinese names outside the gazetteer: 《titles》, a character + a place suffix (扬州, 黄山), a 2-character stem
    + an institution word (清华大学)."""
    out = set(_re_findall(r"《([^》]+)》", t))
    for i, ch in enumerate(t):
        if ch in ZH_PLACE_SUFFIX and i > 0 and _re_fullmatch(f"[{CJK}]", t[i - 1]) and t[i - 1] not in ZH_NAME_STOP:
            out.add(t[i - 1 : i + 1])
    for suf in ZH_ORG_SUFFIX:
        for m in _re_finditer(f"([{CJK}]{{2}}){suf}", t):
            if not set(m.group(1)) & ZH_NAME_STOP:
                out.add(m.group(0))
    return out


def _zh_name_mismatch(query: str, cached: str) -> tuple[set[str], set[str]] | None:
    """Names of each text that the other does not contain, when both texts have one (a swapped name; a name
    dropped by a paraphrase is not enough)."""
    a, b = _norm(query), _norm(cached)
    ua = {n for n in _zh_names(a) if n not in b}
    ub = {n for n in _zh_names(b) if n not in a}
    return (ua, ub) if ua and ub else None


def question_kinds(text: str) -> set[str]:
    """What the text asks for: time, duration, price, person, place, reason (QUESTION_KINDS); empty if none."""
    t = _norm(text)
    return {k for k, pats in QUESTION_KINDS.items() if any(_re_search(p, t) for p in pats)}


def verify(query: str, cached: str) -> Verdict:
    """Verdict(ok=False, kind=...) when serving ``cached``'s answer to ``query`` would answer another question."""
    a, b = numbers(query), numbers(cached)
    if a != b:
        return Verdict(False, "number", f"{a} vs {b}")
    ua, ub = units(query), units(cached)
    if ua != ub:
        return Verdict(False, "unit", f"{sorted(ua)} vs {sorted(ub)}")
    na, nb = numbered_units(query), numbered_units(cached)
    if na != nb:  # "50 miles to km" vs "50 km to miles"
        return Verdict(False, "unit", f"quantity in {sorted(na)} vs {sorted(nb)}")
    if polarity(query) != polarity(cached):
        return Verdict(False, "negation", "one of the two is negated")
    conv = converse(query, cached)
    if conv and conv[1] != "swapped":  # "A beat B" vs "A lost to B": the opposite question (or roles unknown)
        return Verdict(False, "order", f"converse {conv[0]} with the roles {conv[1] or 'undetermined'}")
    ant = None if conv else antonym(query, cached)  # a converse with swapped roles: the words differ by design
    if ant:
        return Verdict(False, "negation", f"antonyms {ant}")
    la, lb = languages(query), languages(cached)
    if la != lb:
        return Verdict(False, "language", f"{sorted(la)} vs {sorted(lb)}")
    if (
        len(la) >= 2 and not conv and _first_order(query, LANGS) != _first_order(cached, LANGS)
    ):  # Spanish→English vs English→Spanish
        return Verdict(False, "language", "same languages, other direction")
    if (
        len(ua) >= 2 and not na and not conv and _first_order(query, UNITS) != _first_order(cached, UNITS)
    ):  # dollars→euros
        return Verdict(False, "unit", "same units, other direction")
    fa, fb = formats(query), formats(cached)
    if fa != fb:
        return Verdict(False, "format", f"{sorted(fa)} vs {sorted(fb)}")
    diff = _entity_mismatch(query, cached)
    if diff:
        return Verdict(False, "entity", f"{sorted(diff)}")
    zn = _zh_name_mismatch(query, cached)
    if zn:
        return Verdict(False, "entity", f"{sorted(zn[0])} vs {sorted(zn[1])}")
    if conv:  # "A beat B" = "B lost to A": roles swapped on purpose, and the verbs differ by design
        return Verdict(True)
    if _has_order_word(query) or _has_order_word(cached):
        ta, tb = _order_tokens(query), _order_tokens(cached)
        shared = set(ta) & set(tb)
        sa = [x for x in ta if x in shared]
        sb = [x for x in tb if x in shared]
        if len(shared) >= 2 and sa != sb:
            return Verdict(False, "order", f"{sa} vs {sb}")
        if not _re_search(f"[{CJK}]", query + cached):  # English content words around the order word (old guard)
            ca, cb = _stems(_content(query)), _stems(_content(cached))  # "semicolons" = "semicolon"
            shared_w = set(ca) & set(cb)
            sa = [x for x in dict.fromkeys(ca) if x in shared_w]
            sb = [x for x in dict.fromkeys(cb) if x in shared_w]
            if len(shared_w) >= 2 and sa != sb:
                return Verdict(False, "order", f"{sa} vs {sb}")
        if _zh_swapped(query, cached) or _zh_swapped(cached, query):
            return Verdict(False, "order", "roles around a Chinese order word swapped")
        qa, cb = _norm(query), _norm(cached)
        for w in ORDER_ZH:
            if w in qa and w in cb and _zh_roles_swapped(qa, cb, w):
                return Verdict(False, "order", f"the spans around {w} swapped")
    qa, qb = question_kinds(query), question_kinds(cached)
    if qa and qb and not qa & qb:  # "When is the gym open?" vs "How much is a gym membership?"
        return Verdict(False, "question", f"asks for {sorted(qa)} vs {sorted(qb)}")
    sub = substitution(query, cached)
    if sub:
        return Verdict(False, "substitution", sub)
    return Verdict(True)


def compatible(query: str, cached: str) -> bool:
    """Same signature as costlab.serving.guard.compatible (what SemanticCache calls)."""
    return verify(query, cached).ok
