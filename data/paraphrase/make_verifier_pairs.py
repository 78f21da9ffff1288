"""Writes verifier_pairs.jsonl: (cached query a, new query b, label) pairs in English and Chinese for the
semantic-cache verifier (costlab.serving.verifier) and the threshold that goes with it.

Each FAMILY is one hand-written question frame with paraphrases (label 1: the cached answer is right) and hard
negatives (label 0) of a named kind: negation, number, unit, entity, order (swapped roles), language, format,
near_topic. Slots are filled with seeded values; {x2} is another value of slot x. Families are split by id
into "dev" (choose the similarity threshold) and "test" (report): no family, hence no template, is in both
(tests/serving/test_verifier.py checks). The verifier's rules are not fitted to either split, but they were
written by the same author who wrote these families: the test numbers are a check, not an independent audit
(data/paraphrase/pairs.jsonl, written earlier by someone else for the old guard, is scored beside them).
Run: python data/paraphrase/make_verifier_pairs.py  (deterministic)
"""

import json
import random
from pathlib import Path

CITY_EN = ["Paris", "London", "Tokyo", "Berlin", "Madrid", "Rome", "Seoul", "Sydney", "Moscow", "Singapore"]
CITY_ZH = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "东京"]
LANG_EN = ["French", "German", "Spanish", "Japanese", "Italian", "Korean", "Russian", "Chinese"]
LANG_ZH = ["法语", "德语", "西班牙语", "日语", "英语", "韩语", "俄语", "意大利语"]
FMT_EN = ["JSON", "YAML", "CSV", "a Markdown table", "XML", "bullet points"]
FMT_ZH = ["JSON", "YAML", "CSV", "表格", "XML", "列表"]
N = ["3", "5", "7", "12", "20", "45", "100", "250"]
N_ZH = ["三", "五", "七", "十二", "二十", "四十五", "一百", "两百"]
NAME_EN = ["Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry"]
NAME_ZH = ["小明", "小红", "老王", "李华", "张伟", "小丽", "王强", "陈静"]
CO_EN = ["Apple", "Google", "Microsoft", "Tesla", "Amazon"]
CO_ZH = ["华为", "腾讯", "阿里巴巴", "苹果公司", "微软"]
PL = ["Python", "JavaScript", "Java", "Rust", "SQL"]

SLOTS = {
    "city": CITY_EN,
    "cityz": CITY_ZH,
    "lang": LANG_EN,
    "langz": LANG_ZH,
    "fmt": FMT_EN,
    "fmtz": FMT_ZH,
    "n": N,
    "nz": N_ZH,
    "name": NAME_EN,
    "namez": NAME_ZH,
    "co": CO_EN,
    "coz": CO_ZH,
    "pl": PL,
}

FAMILIES = [
    # ---------------------------------------------------------------- English
    (
        "en",
        "How long does the train from {city} to {city2} take?",
        [
            "What's the travel time by train between {city} and {city2}, going from {city}?",
            "Train journey {city} to {city2}: how many hours?",
        ],
        [
            ("order", "How long does the train from {city2} to {city} take?"),
            ("entity", "How long does the train from {city} to {city3} take?"),
        ],
    ),
    (
        "en",
        "Translate 'good morning' into {lang}.",
        ["How do you say good morning in {lang}?", "What is 'good morning' in {lang}?"],
        [("language", "Translate 'good morning' into {lang2}."), ("near_topic", "Translate 'good night' into {lang}.")],
    ),
    (
        "en",
        "Convert 50 miles to kilometers.",
        ["How many kilometers is 50 miles?", "50 miles in km?"],
        [("unit", "Convert 50 kilometers to miles."), ("number", "Convert 80 miles to kilometers.")],
    ),
    (
        "en",
        "Is it safe to take ibuprofen with coffee?",
        ["Can I drink coffee while taking ibuprofen?", "Is ibuprofen OK to combine with coffee?"],
        [
            ("negation", "Why is it not safe to take ibuprofen with coffee?"),
            ("near_topic", "Is it safe to take ibuprofen with alcohol?"),
        ],
    ),
    (
        "en",
        "Give me {n} ideas for a rainy weekend.",
        ["Suggest {n} things to do on a rainy weekend.", "List {n} rainy-weekend activities."],
        [
            ("number", "Give me {n2} ideas for a rainy weekend."),
            ("negation", "Give me {n} ideas for a weekend that are not about staying inside."),
        ],
    ),
    (
        "en",
        "Did {name} pay {name2} back the money?",
        ["Has {name} returned the money to {name2}?", "Did {name} repay {name2}?"],
        [("order", "Did {name2} pay {name} back the money?"), ("entity", "Did {name} pay {name3} back the money?")],
    ),
    (
        "en",
        "Format this address list as {fmt}.",
        ["Turn this list of addresses into {fmt}.", "Can you put these addresses in {fmt}?"],
        [("format", "Format this address list as {fmt2}.")],
    ),
    (
        "en",
        "What is the population of {city}?",
        ["How many people live in {city}?", "{city} population?"],
        [("entity", "What is the population of {city2}?"), ("near_topic", "What is the area of {city}?")],
    ),
    (
        "en",
        "Write a {pl} function that sorts a list in descending order.",
        [
            "In {pl}, how do I write a function to sort a list from largest to smallest?",
            "{pl} code to sort a list descending, please.",
        ],
        [
            ("language", "Write a {pl2} function that sorts a list in descending order."),
            ("negation", "Write a {pl} function that sorts a list without using the built-in sort."),
        ],
    ),
    (
        "en",
        "Which is older, {co} or {co2}?",
        ["Was {co} founded before {co2}, or after?", "Between {co} and {co2}, which company is older?"],
        [("entity", "Which is older, {co} or {co3}?")],
    ),
    (
        "en",
        "How much is a 20% tip on a $45 bill?",
        ["What's 20 percent of a 45 dollar bill as a tip?", "Tip of 20% on $45: how much?"],
        [("number", "How much is a 15% tip on a $45 bill?"), ("unit", "How much is a 20% tip on a 45 euro bill?")],
    ),
    (
        "en",
        "Can I bring a power bank on a plane?",
        ["Are power banks allowed on flights?", "Is it OK to take a portable charger on an airplane?"],
        [
            ("negation", "Why can't I bring a power bank on a plane?"),
            ("near_topic", "Can I bring a power bank in checked luggage?"),
        ],
    ),
    (
        "en",
        "Set the oven to 180 degrees Celsius.",
        ["Preheat the oven to 180°C.", "Oven at 180 Celsius, please."],
        [("unit", "Set the oven to 180 degrees Fahrenheit."), ("number", "Set the oven to 220 degrees Celsius.")],
    ),
    (
        "en",
        "Summarize the article in {n} sentences.",
        ["Give me a {n}-sentence summary of the article.", "Condense the article into {n} sentences."],
        [("number", "Summarize the article in {n2} sentences."), ("format", "Summarize the article as a table.")],
    ),
    (
        "en",
        "Does {name} report to {name2}?",
        ["Is {name2} the manager of {name}?", "Is {name} managed by {name2}?"],
        [("order", "Does {name2} report to {name}?")],
    ),
    (
        "en",
        "Reply in {lang}: thank you for the invitation.",
        ["Answer in {lang}: thanks for inviting me.", "Write back in {lang}: thank you for the invite."],
        [
            ("language", "Reply in {lang2}: thank you for the invitation."),
            ("negation", "Reply in {lang}: thank you, but I cannot accept the invitation."),
        ],
    ),
    (
        "en",
        "What time does the {city} museum open on Sunday?",
        ["When does the museum in {city} open on Sundays?", "Sunday opening time of the {city} museum?"],
        [
            ("entity", "What time does the {city2} museum open on Sunday?"),
            ("near_topic", "What time does the {city} museum close on Sunday?"),
        ],
    ),
    (
        "en",
        "Export the sales report to {fmt}.",
        ["Save the sales report as {fmt}.", "I need the sales report in {fmt}."],
        [("format", "Export the sales report to {fmt2}."), ("negation", "Don't export the sales report to {fmt}.")],
    ),
    (
        "en",
        "Is {n} a prime number?",
        ["Is the number {n} prime?", "Check whether {n} is prime."],
        [("number", "Is {n2} a prime number?")],
    ),
    (
        "en",
        "How many calories are in 100 grams of rice?",
        ["Calories per 100 g of rice?", "What's the calorie count of 100 grams of rice?"],
        [
            ("unit", "How many calories are in 100 pounds of rice?"),
            ("number", "How many calories are in 300 grams of rice?"),
        ],
    ),
    # ---------------------------------------------------------------- Chinese
    (
        "zh",
        "从{cityz}到{cityz2}坐高铁要多久？",
        ["{cityz}到{cityz2}的高铁需要多长时间？", "坐高铁从{cityz}去{cityz2}大概几个小时？"],
        [("order", "从{cityz2}到{cityz}坐高铁要多久？"), ("entity", "从{cityz}到{cityz3}坐高铁要多久？")],
    ),
    (
        "zh",
        "把“早上好”翻译成{langz}。",
        ["“早上好”用{langz}怎么说？", "请问早上好的{langz}是什么？"],
        [("language", "把“早上好”翻译成{langz2}。")],
    ),
    (
        "zh",
        "五十英里等于多少公里？",
        ["50英里换算成公里是多少？", "五十英里是几公里？"],
        [("unit", "五十公里等于多少英里？"), ("number", "八十英里等于多少公里？")],
    ),
    (
        "zh",
        "孕妇可以喝咖啡吗？",
        ["怀孕期间能喝咖啡吗？", "孕期喝咖啡可以吗？"],
        [("negation", "孕妇为什么不能喝咖啡？"), ("near_topic", "孕妇可以喝绿茶吗？")],
    ),
    (
        "zh",
        "给我推荐{nz}本科幻小说。",
        ["推荐{nz}本科幻书给我。", "有哪{nz}本科幻小说值得读？"],
        [("number", "给我推荐{nz2}本科幻小说。"), ("negation", "给我推荐{nz}本不是科幻的小说。")],
    ),
    (
        "zh",
        "{namez}欠{namez2}多少钱？",
        ["{namez}还差{namez2}多少钱没还？", "{namez}需要还给{namez2}多少钱？"],
        [("order", "{namez2}欠{namez}多少钱？")],
    ),
    (
        "zh",
        "把这份名单整理成{fmtz}格式。",
        ["请把名单转成{fmtz}。", "这个名单帮我改成{fmtz}格式。"],
        [("format", "把这份名单整理成{fmtz2}格式。")],
    ),
    (
        "zh",
        "{cityz}的人口有多少？",
        ["{cityz}有多少人口？", "请问{cityz}一共住着多少人？"],
        [("entity", "{cityz2}的人口有多少？"), ("near_topic", "{cityz}的面积有多大？")],
    ),
    (
        "zh",
        "用{pl}写一个函数，把列表按降序排序。",
        ["怎么用{pl}写个函数让列表从大到小排序？", "请给我一个{pl}的降序排序函数。"],
        [
            ("language", "用{pl2}写一个函数，把列表按降序排序。"),
            ("negation", "用{pl}写一个函数，不用内置排序把列表按降序排序。"),
        ],
    ),
    (
        "zh",
        "{coz}和{coz2}哪个公司成立得更早？",
        ["{coz}比{coz2}成立得早吗，还是晚？", "{coz}与{coz2}，哪家公司历史更久？"],
        [("entity", "{coz}和{coz3}哪个公司成立得更早？")],
    ),
    (
        "zh",
        "四十五元的账单，给百分之二十的小费是多少？",
        ["45元消费付20%小费要多少钱？", "账单四十五块，小费按百分之二十算是多少？"],
        [
            ("number", "四十五元的账单，给百分之十五的小费是多少？"),
            ("unit", "四十五美元的账单，给百分之二十的小费是多少？"),
        ],
    ),
    (
        "zh",
        "充电宝可以带上飞机吗？",
        ["坐飞机能带充电宝吗？", "充电宝允许带上飞机吗？"],
        [("negation", "为什么充电宝不能带上飞机？"), ("near_topic", "充电宝可以托运吗？")],
    ),
    (
        "zh",
        "烤箱预热到一百八十摄氏度。",
        ["把烤箱预热到180℃。", "烤箱温度设为一百八十摄氏度并预热。"],
        [("unit", "烤箱预热到一百八十华氏度。"), ("number", "烤箱预热到两百二十摄氏度。")],
    ),
    (
        "zh",
        "用{nz}句话总结这篇文章。",
        ["请把这篇文章概括成{nz}句话。", "这篇文章用{nz}句话概括一下。"],
        [("number", "用{nz2}句话总结这篇文章。"), ("format", "用表格总结这篇文章。")],
    ),
    (
        "zh",
        "用{langz}回复：谢谢你的邀请。",
        ["请用{langz}回复：感谢你的邀请。", "回一句{langz}：谢谢邀请。"],
        [("language", "用{langz2}回复：谢谢你的邀请。"), ("negation", "用{langz}回复：谢谢你的邀请，但我不能参加。")],
    ),
    (
        "zh",
        "{cityz}博物馆周日几点开门？",
        ["{cityz}的博物馆星期天什么时候开门？", "周日{cityz}博物馆的开门时间是几点？"],
        [("entity", "{cityz2}博物馆周日几点开门？"), ("near_topic", "{cityz}博物馆周日几点关门？")],
    ),
    (
        "zh",
        "{namez}比{namez2}高吗？",
        ["{namez}的个子比{namez2}高吗？", "{namez}是不是比{namez2}高？"],
        [("order", "{namez2}比{namez}高吗？")],
    ),
    (
        "zh",
        "一百克米饭有多少卡路里？",
        ["100克米饭的热量是多少卡？", "每一百克米饭含多少卡路里？"],
        [("unit", "一百磅米饭有多少卡路里？"), ("number", "三百克米饭有多少卡路里？")],
    ),
]


def fill(t: str, vals: dict) -> str:
    for k, v in vals.items():
        t = t.replace("{" + k + "}", v)
    return t


def main(fills: int = 6, seed: int = 0) -> None:
    rng = random.Random(seed)
    ids = {"en": [], "zh": []}
    for i, (lang, *_rest) in enumerate(FAMILIES):
        ids[lang].append(i)
    split = {}
    for _lang, lst in ids.items():
        lst = lst[:]
        rng.shuffle(lst)
        for j, i in enumerate(lst):
            split[i] = "dev" if j % 2 == 0 else "test"
    rows, seen = [], set()
    for i, (lang, a, paras, negs) in enumerate(FAMILIES):
        fam = f"{lang}/{i:02d}"
        for _ in range(fills):
            vals = {}
            for s, vs in SLOTS.items():
                x, y, z = rng.sample(vs, 3)
                vals.update({s: x, s + "2": y, s + "3": z})
            aa = fill(a, vals)
            for kind, b, label in [("paraphrase", p, 1) for p in paras] + [(k, n, 0) for k, n in negs]:
                bb = fill(b, vals)
                if (aa, bb) in seen:
                    continue
                seen.add((aa, bb))
                rows.append(
                    {"a": aa, "b": bb, "label": label, "kind": kind, "lang": lang, "family": fam, "split": split[i]}
                )
    out = Path(__file__).with_name("verifier_pairs.jsonl")
    with out.open("w", encoding="utf-8") as f:
        for k, r in enumerate(rows):
            f.write(json.dumps({"id": f"vp-{k:04d}", **r}, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} pairs to {out}")


if __name__ == "__main__":
    main()
