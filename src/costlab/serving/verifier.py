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
words, antonyms) are in costlab.serving.verifier_rules; the per-text features (numbers, units, polarity,
languages, formats, entities, antonyms) in costlab.serving.verifier_text; the role/order checks, the
substitution diff and ``verify`` itself here.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from costlab.serving.guard import _STOP
from costlab.serving.guard import content as _content
from costlab.serving.verifier_rules import (
    CJK,
    CONVERSES_EN,
    CONVERSES_ZH,
    GAZ,
    LANGS,
    ORDER_EN,
    ORDER_ZH,
    QUESTION_KINDS,
    UNITS,
    ZH_COMPARATIVE,
    ZH_FUNC,
    ZH_NAME_STOP,
    ZH_NUM,
    ZH_NUM_EXCEPT,
    ZH_ORG_SUFFIX,
    ZH_PLACE_SUFFIX,
)
from costlab.serving.verifier_text import (  # the text features compared below
    _entity_mismatch,
    _form_rx,
    _norm,
    _rx,
    antonym,
    entities,
    formats,
    languages,
    numbered_units,
    numbers,
    polarity,
    units,
)

KINDS = ("number", "unit", "negation", "language", "format", "entity", "order", "question", "substitution")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    kind: str | None = None
    detail: str = ""


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
    for m in _rx(r"\d+(?:\.\d+)?").finditer(t):
        found.append((m.start(), "n:" + m.group(0)))
    names = {e[2:] for e in entities(text) if e[0] == "c"}
    for m in _rx(r"(?<![A-Za-z'])[A-Z][a-z\-]+").finditer(text):
        if m.group(0).lower().rstrip("s") in names:
            found.append((m.start(), "c:" + m.group(0).lower().rstrip("s")))
    found.sort()
    return list(dict.fromkeys(tok for _, tok in found))


def _has_order_word(text: str) -> bool:
    t = _norm(text)
    return bool(ORDER_EN & set(_rx(r"[a-z]+").findall(t))) or any(w in t for w in ORDER_ZH)


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
        if len(la) == 2 and len(ra) == 2 and la != ra and _rx(f"[{CJK}]+").fullmatch(la + ra):
            if la in rb[:4] and ra in lb[-4:] and la not in lb[-4:]:
                return True
    return False


_TOK = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*|[" + CJK + "]")


def _is_content(tok: str) -> bool:
    if _rx(f"[{CJK}]").fullmatch(tok):
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
        return sum(1 if not _rx(f"[{CJK}]").fullmatch(x) else 0.75 for x in toks)

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
    t = _rx(r"\d+(?:\.\d+)?").sub(" 0 ", t)
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
        if len(s) < k or not _rx(f"[{CJK}]+").fullmatch(s) or s not in other:
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
    if not _rx(f"[{CJK}]").search(query + cached):
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
                cjk = bool(_rx(f"[{CJK}]").search(ua))
                return f"{ua} / {ub}", _relation(query, cached, ua if cjk else None, ub if cjk else None)
    ca, cb = _zh_comparative(ta, tb), _zh_comparative(tb, ta)
    if ca and cb and ca[0] == cb[0] and ca[1] != cb[1]:
        return f"比 {ca[0]}", _relation(query, cached, "比", "比")
    return None


def _zh_names(t: str) -> set[str]:
    """Chinese names outside the gazetteer: 《titles》, a character + a place suffix (扬州, 黄山), a 2-character stem
    + an institution word (清华大学)."""
    out = set(_rx(r"《([^》]+)》").findall(t))
    for i, ch in enumerate(t):
        if ch in ZH_PLACE_SUFFIX and i > 0 and _rx(f"[{CJK}]").fullmatch(t[i - 1]) and t[i - 1] not in ZH_NAME_STOP:
            out.add(t[i - 1 : i + 1])
    for suf in ZH_ORG_SUFFIX:
        for m in _rx(f"([{CJK}]{{2}}){suf}").finditer(t):
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
    return {k for k, pats in QUESTION_KINDS.items() if any(_rx(p).search(t) for p in pats)}


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
        if not _rx(f"[{CJK}]").search(query + cached):  # English content words around the order word (old guard)
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
