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
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from costlab.serving.guard import _NEG, _NUMWORDS, _STOP
from costlab.serving.guard import content as _content

_NEG_EN = _NEG - {"stop", "skip", "un", "non"}  # "the train's stops", "non-stop" are not negations

KINDS = ("number", "unit", "negation", "language", "format", "entity", "order", "substitution")

_CJK = r"\u4e00-\u9fff"
_ZH_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_UNIT = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}
_ZH_NUM = re.compile("[零〇一二两三四五六七八九十百千万亿]+")
# Words that contain a numeral character without being a number.
_ZH_NUM_EXCEPT = (
    "一下",
    "一些",
    "一点",
    "一起",
    "一样",
    "一般",
    "一直",
    "一定",
    "统一",
    "万一",
    "唯一",
    "一切",
    "一旦",
    "一边",
    "第一",
    "千万",
    "万能",
    "百科",
    "三明治",
    "一致",
    "同一",
    "一一",
    "一次性",
    "一个",
    "一共",
    "一种",
    "一位",
    "一家",
    "一会",
)

_NEG_ZH = ("不", "没", "无", "非", "未", "别", "勿", "莫", "甭")
_NEG_ZH_EXCEPT = (
    "非常",
    "不错",
    "无线",
    "无论",
    "没关系",
    "不同",
    "不久",
    "不断",
    "并非",
    "不但",
    "不仅",
    "不管",
    "无人机",
    "未来",
    "差不多",
    "不少",
    "无聊",
    "不好意思",
    "是不是",
    "能不能",
    "会不会",
    "有没有",
    "可不可以",
    "要不要",
    "对不对",
    "好不好",
    "行不行",
    "是否",
    "不如",
)

_UNITS = {
    "km": ("km", "kms", "kilometer", "kilometers", "kilometre", "kilometres", "公里", "千米"),
    "mile": ("mile", "miles", "mi", "英里"),
    "m": ("meter", "meters", "metre", "metres", "米"),
    "ft": ("foot", "feet", "ft", "英尺"),
    "cm": ("cm", "centimeter", "centimeters", "厘米"),
    "inch": ("inch", "inches", "英寸"),
    "kg": ("kg", "kgs", "kilogram", "kilograms", "公斤", "千克"),
    "lb": ("lb", "lbs", "pound", "pounds", "磅"),
    "g": ("g", "gram", "grams", "克"),
    "c": ("celsius", "°c", "℃", "摄氏", "摄氏度"),
    "f": ("fahrenheit", "°f", "℉", "华氏", "华氏度"),
    "l": ("liter", "liters", "litre", "litres", "升"),
    "gal": ("gallon", "gallons", "加仑"),
    "usd": ("$", "usd", "dollar", "dollars", "美元", "美金"),
    "eur": ("€", "eur", "euro", "euros", "欧元"),
    "gbp": ("£", "gbp", "英镑"),
    "cny": ("rmb", "cny", "yuan", "人民币", "元", "块钱", "块"),
    "jpy": ("¥", "jpy", "yen", "日元"),
    "min": ("minute", "minutes", "mins", "分钟"),
    "hour": ("hour", "hours", "hrs", "小时"),
    "day": ("day", "days", "天"),
    "week": ("week", "weeks", "周", "星期"),
    "month": ("month", "months", "个月"),
    "year": ("year", "years", "年"),
    "pct": ("%", "percent", "percentage", "百分之"),
    "gb": ("gb", "gigabyte", "gigabytes"),
    "mb": ("mb", "megabyte", "megabytes"),
}
_LANGS = {
    "en": ("english", "英语", "英文"),
    "fr": ("french", "法语", "法文"),
    "de": ("german", "德语", "德文"),
    "es": ("spanish", "西班牙语", "西语", "西班牙文"),
    "it": ("italian", "意大利语", "意大利文"),
    "ja": ("japanese", "日语", "日文"),
    "zh": ("chinese", "mandarin", "中文", "汉语", "普通话"),
    "ko": ("korean", "韩语", "韩文"),
    "ru": ("russian", "俄语", "俄文"),
    "pt": ("portuguese", "葡萄牙语"),
    "ar": ("arabic", "阿拉伯语"),
    "nl": ("dutch", "荷兰语"),
    "yue": ("cantonese", "粤语"),
    "py": ("python",),
    "js": ("javascript", "js"),
    "java": ("java",),
    "go": ("golang",),
    "rust": ("rust",),
    "cpp": ("c++", "cpp"),
    "sql": ("sql",),
    "ts": ("typescript",),
    "bash": ("bash", "shell"),
}
_FORMATS = {
    "json": ("json",),
    "yaml": ("yaml", "yml"),
    "csv": ("csv",),
    "xml": ("xml",),
    "html": ("html",),
    "markdown": ("markdown",),
    "table": ("table", "tables", "表格"),
    "bullets": ("bullet", "bullets", "bullet points", "要点", "项目符号"),
    "numbered": ("numbered", "编号"),
    "upper": ("uppercase", "upper case", "all caps", "大写"),
    "lower": ("lowercase", "lower case", "小写"),
    "paragraph": ("paragraph", "段落"),
    "sentence": ("one sentence", "一句话"),
    "pdf": ("pdf",),
    "haiku": ("haiku", "俳句"),
    "poem": ("poem", "诗"),
    "email": ("email", "邮件"),
    "essay": ("essay", "文章"),
}
# Common entities in both languages → one id (cities, countries, people, companies, planets).
_GAZ = {
    "beijing": ("beijing", "北京"),
    "shanghai": ("shanghai", "上海"),
    "guangzhou": ("guangzhou", "广州"),
    "shenzhen": ("shenzhen", "深圳"),
    "hangzhou": ("hangzhou", "杭州"),
    "chengdu": ("chengdu", "成都"),
    "wuhan": ("wuhan", "武汉"),
    "nanjing": ("nanjing", "南京"),
    "xian": ("xi'an", "xian", "西安"),
    "hongkong": ("hong kong", "香港"),
    "taipei": ("taipei", "台北"),
    "tokyo": ("tokyo", "东京"),
    "osaka": ("osaka", "大阪"),
    "seoul": ("seoul", "首尔"),
    "paris": ("paris", "巴黎"),
    "london": ("london", "伦敦"),
    "berlin": ("berlin", "柏林"),
    "rome": ("rome", "罗马"),
    "madrid": ("madrid", "马德里"),
    "newyork": ("new york", "纽约"),
    "sydney": ("sydney", "悉尼"),
    "moscow": ("moscow", "莫斯科"),
    "singapore": ("singapore", "新加坡"),
    "china": ("china", "中国"),
    "japan": ("japan", "日本"),
    "usa": ("usa", "the us", "u.s.", "united states", "america", "美国"),
    "uk": ("uk", "britain", "england", "英国"),
    "france": ("france", "法国"),
    "germany": ("germany", "德国"),
    "italy": ("italy", "意大利"),
    "spain": ("spain", "西班牙"),
    "russia": ("russia", "俄罗斯"),
    "india": ("india", "印度"),
    "canada": ("canada", "加拿大"),
    "australia": ("australia", "澳大利亚"),
    "korea": ("korea", "韩国"),
    "brazil": ("brazil", "巴西"),
    "egypt": ("egypt", "埃及"),
    "mars": ("mars", "火星"),
    "venus": ("venus", "金星"),
    "jupiter": ("jupiter", "木星"),
    "moon": ("the moon", "月球", "月亮"),
    "apple": ("apple", "苹果公司"),
    "google": ("google", "谷歌"),
    "microsoft": ("microsoft", "微软"),
    "tesla": ("tesla", "特斯拉"),
    "amazon": ("amazon", "亚马逊"),
    "huawei": ("huawei", "华为"),
    "tencent": ("tencent", "腾讯"),
    "alibaba": ("alibaba", "阿里巴巴"),
    "einstein": ("einstein", "爱因斯坦"),
    "newton": ("newton", "牛顿"),
    "libai": ("li bai", "李白"),
    "dufu": ("du fu", "杜甫"),
    "confucius": ("confucius", "孔子"),
    "shakespeare": ("shakespeare", "莎士比亚"),
    "yangtze": ("yangtze", "长江"),
    "yellowriver": ("yellow river", "黄河"),
    "everest": ("everest", "珠穆朗玛峰", "珠峰"),
    "nile": ("nile", "尼罗河"),
    "iphone": ("iphone",),
    "android": ("android", "安卓"),
    "windows": ("windows",),
    "linux": ("linux",),
    "mac": ("macos", "mac"),
}
_ORDER_EN = {
    "from",
    "than",
    "into",
    "vs",
    "versus",
    "beat",
    "beats",
    "owe",
    "owes",
    "before",
    "after",
    "sent",
    "gave",
    "paid",
    "hired",
    "taller",
    "shorter",
    "older",
    "younger",
    "bigger",
    "smaller",
    "larger",
    "faster",
    "slower",
    "cheaper",
    "defeated",
    "married",
    "follows",
    "replaced",
    "replace",
    "pay",
    "pays",
    "report",
    "reports",
    "manager",
    "manages",
    "lend",
    "lent",
    "sue",
    "sued",
}
_ORDER_ZH = (
    "从",
    "到",
    "比",
    "给",
    "向",
    "把",
    "被",
    "打败",
    "战胜",
    "赢了",
    "欠",
    "之前",
    "之后",
    "换成",
    "转成",
    "大于",
    "小于",
    "高于",
    "低于",
    "雇",
    "嫁给",
    "转账",
    "寄",
)

_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*|[$€£¥%℃℉°]|[" + _CJK + "]+")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    kind: str | None = None
    detail: str = ""


def _norm(text: str) -> str:
    t = text.lower().replace("n't", " not").replace("’", "'")
    t = re.sub(r"(\d),(\d{3})", r"\1\2", t)  # 5,000 → 5000
    t = re.sub(r"\bdegrees?\s+(?=celsius|fahrenheit)", "", t)  # "37 degrees Celsius" = "37 °C"
    return t


def _zh_number(s: str) -> float | None:
    if not s:
        return None
    total, section, cur = 0, 0, 0
    for ch in s:
        if ch in _ZH_DIGIT:
            cur = _ZH_DIGIT[ch]
        elif ch in ("万", "亿"):
            section = (section + cur) * _ZH_UNIT[ch]
            total += section
            section, cur = 0, 0
        else:
            section += (cur or 1) * _ZH_UNIT[ch]
            cur = 0
    return float(total + section + cur)


def numbers(text: str) -> list[float]:
    t = _norm(text)
    out = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", t)]
    for w in re.findall(r"[a-z]+", t):
        if w in _NUMWORDS and w not in ("second", "first", "third"):  # "a second thought", "first" as order
            out.append(float(_NUMWORDS[w]))
    z = t
    for e in _ZH_NUM_EXCEPT:
        z = z.replace(e, " ")
    for m in _ZH_NUM.finditer(z):
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
    out = set()
    for k, forms in table.items():
        for f in forms:
            if re.search(f"[{_CJK}]", f) or not re.search(r"[a-z]", f):
                if f in t:
                    out.add(k)
                    break
            elif re.search(r"(?<![a-z])" + re.escape(f) + r"(?![a-z])", t):
                out.add(k)
                break
    return out


# Unit words that are also ordinary words ("how many hours", 天气, 年轻, 一块蛋糕): they count only right after a
# number. Every other form counts wherever it occurs.
_NEEDS_NUMBER = {"min", "hour", "day", "week", "month", "year"}
_NUMERAL = (
    r"(?:\d|\b(?:"
    + "|".join(w for w in _NUMWORDS if not w.startswith("_"))
    + r")\b|[零一二两三四五六七八九十百千万几多])"
)


def _unit_positions(text: str) -> list[tuple[int, str]]:
    t = _norm(text)
    out = []
    for k, forms in _UNITS.items():
        for f in forms:
            cjk = bool(re.search(f"[{_CJK}]", f))
            latin = bool(re.search("[a-z]", f)) and not cjk
            body = re.escape(f) if not latin else r"(?<![a-z])" + re.escape(f) + r"(?![a-z])"
            ambiguous = k in _NEEDS_NUMBER or (cjk and len(f) == 1) or f in ("块钱", "个月", "星期", "小时", "分钟")
            rx = (_NUMERAL + r"\s*-?\s*" + body) if ambiguous else body
            for m in re.finditer(rx, t):
                out.append((m.end() - len(f), k))
    return sorted(set(out))


def units(text: str) -> set[str]:
    return {k for _, k in _unit_positions(text)}


def numbered_units(text: str) -> set[str]:
    """Units written right after a number: the quantity's own unit ("50 miles" in "50 miles to km")."""
    t = _norm(text)
    return {
        k
        for p, k in _unit_positions(text)
        if re.search(_NUMERAL + r"\s*-?\s*$", t[:p]) or re.match(r"[$€£¥]\s*\d", t[p:])
    }  # $50


def polarity(text: str) -> int:
    t = _norm(text)
    n = sum(1 for w in re.findall(r"[a-z]+", t) if w in _NEG_EN)
    z = "".join(re.findall(f"[{_CJK}]+", t))
    for e in _NEG_ZH_EXCEPT:
        z = z.replace(e, "")
    n += sum(z.count(c) for c in _NEG_ZH)
    return n % 2


def languages(text: str) -> set[str]:
    return _hits(text, _LANGS)


def formats(text: str) -> set[str]:
    t = _norm(text)
    out = _hits(t.replace("列表", "  "), _FORMATS)  # 列表 contains 表 but is not 表格
    if re.search("(成|为|用|以)列表", t):  # 整理成列表 (a list as output format, not 把列表排序)
        out.add("list")
    return out


# Antonyms that flip the question while keeping its words: on/off, open/close, 开/关 ... (either direction).
_ANTONYMS = [
    ("on", "off"),
    ("enable", "disable"),
    ("open", "close"),
    ("open", "closed"),
    ("opens", "closes"),
    ("include", "exclude"),
    ("included", "excluded"),
    ("high", "low"),
    ("good", "bad"),
    ("easy", "hard"),
    ("easiest", "hardest"),
    ("increase", "decrease"),
    ("buy", "sell"),
    ("import", "export"),
    ("add", "remove"),
    ("allow", "forbid"),
    ("allowed", "forbidden"),
    ("win", "lose"),
    ("max", "min"),
    ("maximum", "minimum"),
    ("more", "less"),
    ("most", "least"),
    ("cheap", "expensive"),
    ("cheapest", "most expensive"),
    ("hot", "cold"),
    ("sunrise", "sunset"),
    ("arrive", "depart"),
    ("arrival", "departure"),
    ("start", "end"),
    ("first", "last"),
    ("upload", "download"),
    ("encrypt", "decrypt"),
    ("legal", "illegal"),
    ("safe", "dangerous"),
    ("healthy", "unhealthy"),
    ("true", "false"),
    ("pros", "cons"),
    ("advantages", "disadvantages"),
    ("ascending", "descending"),
    ("lowest", "highest"),
    ("开门", "关门"),
    ("打开", "关闭"),
    ("开启", "关闭"),
    ("买", "卖"),
    ("增加", "减少"),
    ("最高", "最低"),
    ("最多", "最少"),
    ("最贵", "最便宜"),
    ("上涨", "下跌"),
    ("升序", "降序"),
    ("上传", "下载"),
    ("赢", "输"),
    ("出发", "到达"),
    ("优点", "缺点"),
    ("加密", "解密"),
    ("合法", "违法"),
    ("安全", "危险"),
    ("冷", "热"),
    ("早", "晚"),
    ("进口", "出口"),
    ("第一", "最后"),
]


def antonym(query: str, cached: str) -> str | None:
    ta, tb = _norm(query), _norm(cached)

    def has(t: str, w: str) -> bool:
        if re.search(f"[{_CJK}]", w):
            return w in t
        return re.search(r"(?<![a-z])" + re.escape(w) + r"(?![a-z])", t) is not None

    for x, y in _ANTONYMS:
        if (has(ta, x) and has(tb, y) and not has(ta, y) and not has(tb, x)) or (
            has(ta, y) and has(tb, x) and not has(ta, x) and not has(tb, y)
        ):
            return f"{x} / {y}"
    wa, wb = set(re.findall(r"[a-z]+", ta)), set(re.findall(r"[a-z]+", tb))
    for w in wa ^ wb:  # "legal" vs "illegal", "healthy" vs "unhealthy"
        for pre in ("un", "in", "il", "im", "ir", "dis", "non"):
            if w.startswith(pre) and len(w) - len(pre) >= 4 and w[len(pre) :] in (wa | wb) - {w}:
                return f"{w[len(pre) :]} / {w}"
    return None


def _wordset(text: str) -> set[str]:
    return {w.rstrip("s") for w in re.findall(r"[a-z][a-z\-]*", text.lower().replace("'s", ""))}


def entities(text: str) -> set[str]:
    """Gazetteer ids ("g:beijing") and capitalised English words that are not at a sentence start ("c:sunday")."""
    out = {f"g:{k}" for k in _hits(text, _GAZ)}
    skip = (
        {w for fs in _GAZ.values() for f in fs for w in f.split()}
        | {f for fs in _LANGS.values() for f in fs}
        | {f for fs in _FORMATS.values() for f in fs}
        | {f for fs in _UNITS.values() for f in fs}
    )
    for sent in re.split(r"[.!?。！？:：\n]\s*", text.replace("'s", "").replace("’s", "")):
        words = re.findall(r"[A-Za-z][A-Za-z'\-]*", sent)
        lead = re.match(r"\s*[\"'“(]?([A-Za-z][A-Za-z'\-]*)", sent)
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
    for k, forms in _GAZ.items():
        for f in forms:
            for m in re.finditer(re.escape(f), t):
                found.append((m.start(), "g:" + k))
    for m in re.finditer(r"\d+(?:\.\d+)?", t):
        found.append((m.start(), "n:" + m.group(0)))
    names = {e[2:] for e in entities(text) if e[0] == "c"}
    for m in re.finditer(r"(?<![A-Za-z'])[A-Z][a-z\-]+", text):
        if m.group(0).lower().rstrip("s") in names:
            found.append((m.start(), "c:" + m.group(0).lower().rstrip("s")))
    found.sort()
    return list(dict.fromkeys(tok for _, tok in found))


def _has_order_word(text: str) -> bool:
    t = _norm(text)
    return bool(_ORDER_EN & set(re.findall(r"[a-z]+", t))) or any(w in t for w in _ORDER_ZH)


def _zh_swapped(a: str, b: str) -> bool:
    """Chinese roles around the same order word swapped: 王强欠小红 vs 小红欠王强 (names are not segmented, so
    the two characters on each side stand for the roles)."""
    for w in _ORDER_ZH:
        ia, ib = a.find(w), b.find(w)
        if ia < 0 or ib < 0:
            continue
        la, ra = a[max(0, ia - 2) : ia], a[ia + len(w) : ia + len(w) + 2]
        lb, rb = b[:ib], b[ib + len(w) :]
        if len(la) == 2 and len(ra) == 2 and la != ra and re.fullmatch(f"[{_CJK}]+", la + ra):
            if la in rb[:4] and ra in lb[-4:] and la not in lb[-4:]:
                return True
    return False


_ZH_FUNC = set("的了吗呢吧啊呀是在有和与及请问一下这那个些么什怎样把将被给对从到也都就还很更最")
_TOK = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*|[" + _CJK + "]")


def _is_content(tok: str) -> bool:
    if re.fullmatch(f"[{_CJK}]", tok):
        return tok not in _ZH_FUNC
    return tok not in _STOP and len(tok) > 1


def substitution(query: str, cached: str) -> str | None:
    """A minimal edit: the two texts are the same except one or two short spans where a content word was
    replaced by another ("open" → "close", "coffee" → "alcohol", 开 → 关). A paraphrase rewrites more than
    that; a one-word swap is how hard negatives look. Returns "old → new" or None."""
    import difflib

    ta, tb = _TOK.findall(_norm(query)), _TOK.findall(_norm(cached))
    ops = [op for op in difflib.SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes() if op[0] != "equal"]
    if not ops or len(ops) > 2 or any(max(i2 - i1, j2 - j1) > 3 for _, i1, i2, j1, j2 in ops):
        return None
    for tag, i1, i2, j1, j2 in ops:
        if tag == "replace" and any(map(_is_content, ta[i1:i2])) and any(map(_is_content, tb[j1:j2])):
            return f"{' '.join(ta[i1:i2])} → {' '.join(tb[j1:j2])}"
    return None


def _first_order(text: str, table: dict[str, tuple[str, ...]]) -> list[str]:
    t = _norm(text)
    pos = []
    for k, forms in table.items():
        idx = [
            m.start()
            for f in forms
            for m in re.finditer(
                re.escape(f)
                if re.search(f"[{_CJK}]", f) or not re.search("[a-z]", f)
                else r"(?<![a-z])" + re.escape(f) + r"(?![a-z])",
                t,
            )
        ]
        if idx:
            pos.append((min(idx), k))
    return [k for _, k in sorted(pos)]


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
    ant = antonym(query, cached)
    if ant:
        return Verdict(False, "negation", f"antonyms {ant}")
    la, lb = languages(query), languages(cached)
    if la != lb:
        return Verdict(False, "language", f"{sorted(la)} vs {sorted(lb)}")
    if len(la) >= 2 and _first_order(query, _LANGS) != _first_order(
        cached, _LANGS
    ):  # Spanish→English vs English→Spanish
        return Verdict(False, "language", "same languages, other direction")
    if len(ua) >= 2 and not na and _first_order(query, _UNITS) != _first_order(cached, _UNITS):  # dollars→euros
        return Verdict(False, "unit", "same units, other direction")
    fa, fb = formats(query), formats(cached)
    if fa != fb:
        return Verdict(False, "format", f"{sorted(fa)} vs {sorted(fb)}")
    diff = _entity_mismatch(query, cached)
    if diff:
        return Verdict(False, "entity", f"{sorted(diff)}")
    if _has_order_word(query) or _has_order_word(cached):
        ta, tb = _order_tokens(query), _order_tokens(cached)
        shared = set(ta) & set(tb)
        sa = [x for x in ta if x in shared]
        sb = [x for x in tb if x in shared]
        if len(shared) >= 2 and sa != sb:
            return Verdict(False, "order", f"{sa} vs {sb}")
        if not re.search(f"[{_CJK}]", query + cached):  # English content words around the order word (old guard)
            ca, cb = _content(query), _content(cached)
            shared_w = set(ca) & set(cb)
            sa = [x for x in dict.fromkeys(ca) if x in shared_w]
            sb = [x for x in dict.fromkeys(cb) if x in shared_w]
            if len(shared_w) >= 2 and sa != sb:
                return Verdict(False, "order", f"{sa} vs {sb}")
        if _zh_swapped(query, cached) or _zh_swapped(cached, query):
            return Verdict(False, "order", "roles around a Chinese order word swapped")
    sub = substitution(query, cached)
    if sub:
        return Verdict(False, "substitution", sub)
    return Verdict(True)


def compatible(query: str, cached: str) -> bool:
    """Same signature as costlab.serving.guard.compatible (what SemanticCache calls)."""
    return verify(query, cached).ok
