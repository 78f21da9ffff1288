"""Writes verifier_blind.jsonl: pairs written one by one AFTER costlab.serving.verifier's rules were frozen
(commit 3ecff8a), not from any template of make_verifier_pairs.py, and scored once. All rows are "test": the
threshold comes from verifier_pairs.jsonl's dev split. Same author as the rules: not an independent audit.
Run: python data/paraphrase/make_verifier_blind.py  (deterministic)
"""

import json
from pathlib import Path

P = "paraphrase"
ROWS = [
    # English paraphrases
    ("en", P, "How do I cancel my gym membership?", "What's the process for ending my gym subscription?"),
    ("en", P, "What's a good name for a golden retriever puppy?", "Suggest names for a golden retriever pup."),
    ("en", P, "Why is the sky blue?", "What makes the sky look blue?"),
    ("en", P, "How many teaspoons are in a tablespoon?", "A tablespoon equals how many teaspoons?"),
    ("en", P, "Recommend a laptop for video editing under $1200", "Best laptop for editing videos, budget $1200"),
    ("en", P, "How do I boil an egg so the yolk stays soft?", "Soft-boiled egg: how long should I cook it?"),
    ("en", P, "Can dogs eat grapes?", "Are grapes safe for dogs to eat?"),
    ("en", P, "What is the capital of Australia?", "Which city is Australia's capital?"),
    ("en", P, "Write a haiku about autumn leaves", "Compose a haiku on falling autumn leaves"),
    ("en", P, "How do I check my Python version?", "Command to see which Python version is installed?"),
    ("en", P, "Tips for sleeping better at night", "How can I improve my sleep at night?"),
    ("en", P, "Translate 'where is the station' into German", "How do you say 'where is the station' in German?"),
    ("en", P, "Is 91 a prime number?", "Is the number 91 prime?"),
    (
        "en",
        P,
        "What time is it in Tokyo when it is noon in London?",
        "When it's 12 pm in London, what time is it in Tokyo?",
    ),
    ("en", P, "Explain recursion to a beginner", "Can you explain recursion in simple terms for a newcomer?"),
    ("en", P, "How long should I steep green tea?", "What's the right steeping time for green tea?"),
    ("en", P, "Give me a vegetarian lasagna recipe", "Recipe for lasagna without meat, please"),
    ("en", P, "How do I remove a stripped screw?", "Best way to get out a screw with a stripped head?"),
    ("en", P, "Convert 3 cups to milliliters", "How many milliliters are in 3 cups?"),
    ("en", P, "What does HTTP 404 mean?", "Meaning of a 404 HTTP error?"),
    # Chinese paraphrases
    ("zh", P, "怎么取消健身房会员？", "健身房的会员要如何退掉？"),
    ("zh", P, "天空为什么是蓝色的？", "为什么天是蓝的？"),
    ("zh", P, "狗可以吃葡萄吗？", "葡萄能给狗吃吗？"),
    ("zh", P, "澳大利亚的首都是哪里？", "澳大利亚首都是哪个城市？"),
    ("zh", P, "怎么查看Python的版本？", "用什么命令看Python版本？"),
    ("zh", P, "晚上睡不好怎么办？", "如何改善晚上的睡眠？"),
    ("zh", P, "91是质数吗？", "九十一是不是质数？"),
    ("zh", P, "绿茶要泡多久？", "泡绿茶需要多长时间？"),
    ("zh", P, "给我一个素食千层面的做法", "不放肉的千层面怎么做？"),
    ("zh", P, "HTTP 404是什么意思？", "404错误代表什么？"),
    ("zh", P, "推荐一台一万元以内适合剪视频的笔记本", "预算一万元，剪辑视频买什么笔记本好？"),
    ("zh", P, "伦敦中午十二点时东京是几点？", "伦敦12点的时候，东京几点了？"),
    ("zh", P, "三杯水是多少毫升？", "3杯等于多少毫升？"),
    ("zh", P, "如何给新手解释递归？", "用简单的话给初学者讲讲递归"),
    ("mixed", P, "怎么用 git 撤销上一次 commit？", "git 如何 undo 最近一次提交？"),
    # English hard negatives
    ("en", "negation", "Can dogs eat grapes?", "Why can't dogs eat grapes?"),
    ("en", "negation", "Foods that raise blood pressure", "Foods that do not raise blood pressure"),
    ("en", "negation", "Is the pharmacy open on holidays?", "Is the pharmacy closed on holidays?"),
    (
        "en",
        "negation",
        "Which countries require a visa for US citizens?",
        "Which countries don't require a visa for US citizens?",
    ),
    ("en", "number", "Is 91 a prime number?", "Is 97 a prime number?"),
    (
        "en",
        "number",
        "Recommend a laptop for video editing under $1200",
        "Recommend a laptop for video editing under $800",
    ),
    ("en", "number", "How many teaspoons are in 2 tablespoons?", "How many teaspoons are in 3 tablespoons?"),
    ("en", "number", "Give me a 3-day itinerary for Rome", "Give me a 5-day itinerary for Rome"),
    ("en", "unit", "Convert 3 cups to milliliters", "Convert 3 cups to liters"),
    ("en", "unit", "How far is 10 km in minutes of walking?", "How far is 10 miles in minutes of walking?"),
    ("en", "unit", "Convert 70 kg to pounds", "Convert 70 pounds to kg"),
    ("en", "entity", "What is the capital of Australia?", "What is the capital of Austria?"),
    (
        "en",
        "entity",
        "What time is it in Tokyo when it is noon in London?",
        "What time is it in Seoul when it is noon in London?",
    ),
    ("en", "entity", "Who directed Jaws?", "Who directed Alien?"),
    ("en", "entity", "Best hiking trails near Denver", "Best hiking trails near Seattle"),
    ("en", "order", "Did Spain beat Italy in the final?", "Did Italy beat Spain in the final?"),
    ("en", "order", "Is Mercury closer to the Sun than Venus?", "Is Venus closer to the Sun than Mercury?"),
    (
        "en",
        "order",
        "How do I move files from my phone to my laptop?",
        "How do I move files from my laptop to my phone?",
    ),
    ("en", "language", "Translate 'where is the station' into German", "Translate 'where is the station' into Dutch"),
    ("en", "language", "Explain recursion with an example in Python", "Explain recursion with an example in Java"),
    ("en", "format", "List the planets as JSON", "List the planets as a Markdown table"),
    ("en", "format", "Write a haiku about autumn leaves", "Write a limerick about autumn leaves"),
    ("en", "format", "Give me the meeting notes as bullet points", "Give me the meeting notes as one paragraph"),
    ("en", "near_topic", "How long should I steep green tea?", "How long should I steep black tea?"),
    ("en", "near_topic", "How do I cancel my gym membership?", "How do I pause my gym membership?"),
    ("en", "near_topic", "What does HTTP 404 mean?", "What does HTTP 500 mean?"),
    # Chinese hard negatives
    ("zh", "negation", "狗可以吃葡萄吗？", "狗为什么不能吃葡萄？"),
    ("zh", "negation", "哪些食物会升高血压？", "哪些食物不会升高血压？"),
    ("zh", "negation", "药店节假日开门吗？", "药店节假日关门吗？"),
    ("zh", "negation", "哪些国家需要签证？", "哪些国家免签证？"),
    ("zh", "number", "91是质数吗？", "97是质数吗？"),
    ("zh", "number", "给我一个罗马三日游的行程", "给我一个罗马五日游的行程"),
    ("zh", "number", "推荐一台一万元以内适合剪视频的笔记本", "推荐一台五千元以内适合剪视频的笔记本"),
    ("zh", "number", "两个鸡蛋要煮几分钟？", "六个鸡蛋要煮几分钟？"),
    ("zh", "unit", "三杯水是多少毫升？", "三杯水是多少升？"),
    ("zh", "unit", "七十公斤是多少磅？", "七十磅是多少公斤？"),
    ("zh", "unit", "从家走到公司有三公里", "从家走到公司有三英里"),
    ("zh", "entity", "澳大利亚的首都是哪里？", "奥地利的首都是哪里？"),
    ("zh", "entity", "伦敦中午十二点时东京是几点？", "伦敦中午十二点时首尔是几点？"),
    ("zh", "entity", "杭州有什么好玩的地方？", "苏州有什么好玩的地方？"),
    ("zh", "entity", "《红楼梦》的作者是谁？", "《西游记》的作者是谁？"),
    ("zh", "order", "西班牙在决赛中赢了意大利吗？", "意大利在决赛中赢了西班牙吗？"),
    ("zh", "order", "怎么把文件从手机传到电脑？", "怎么把文件从电脑传到手机？"),
    ("zh", "order", "小李比小王大几岁？", "小王比小李大几岁？"),
    ("zh", "language", "把“车站在哪里”翻译成德语", "把“车站在哪里”翻译成荷兰语"),
    ("zh", "language", "用Python举例解释递归", "用Java举例解释递归"),
    ("zh", "format", "把行星列表输出成JSON", "把行星列表输出成表格"),
    ("zh", "format", "把会议记录整理成要点", "把会议记录整理成一段话"),
    ("zh", "near_topic", "绿茶要泡多久？", "红茶要泡多久？"),
    ("zh", "near_topic", "怎么取消健身房会员？", "怎么暂停健身房会员？"),
    ("zh", "near_topic", "HTTP 404是什么意思？", "HTTP 500是什么意思？"),
    ("mixed", "language", "用 Python 写个爬虫", "用 Go 写个爬虫"),
    ("mixed", "number", "git 怎么撤销最近 2 次 commit？", "git 怎么撤销最近 5 次 commit？"),
]

if __name__ == "__main__":
    out = Path(__file__).with_name("verifier_blind.jsonl")
    with out.open("w", encoding="utf-8") as f:
        for i, (lang, kind, a, b) in enumerate(ROWS):
            f.write(
                json.dumps(
                    {
                        "id": f"vb-{i:03d}",
                        "a": a,
                        "b": b,
                        "label": int(kind == P),
                        "kind": kind,
                        "lang": lang,
                        "family": f"blind/{i:03d}",
                        "split": "test",
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    print(f"wrote {len(ROWS)} pairs to {out}")
