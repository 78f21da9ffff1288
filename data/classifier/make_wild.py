"""Writes wild.jsonl: free-form prompts NOT made from costlab.serving.classifier_data templates or slots.

Hand-written one by one, as a new user would type them (typos, no cue words, context first). The same
author wrote the templates, so this is a sanity check on wording, not an independent evaluation.
Run: python data/classifier/make_wild.py   (deterministic; the JSONL is its output)
"""

import json
from pathlib import Path

ROWS = {
    "translation": [
        ("en", "my grandma only speaks portuguese, how do i tell her happy birthday and that i miss her"),
        ("en", "Quelle heure est-il? <- what's that in english"),
        ("en", "need the german word for 'screwdriver'"),
        ("en", "Could you localize our app's button label 'Save changes' for the Japanese market?"),
        ("en", "Is 'je suis plein' the right way to say I'm full in French? If not give me the correct phrase"),
        ("zh", "“早上好，今天天气不错”日语怎么讲"),
        ("zh", "这封邮件我看不懂，能帮我转成中文吗：We regret to inform you that your application was unsuccessful."),
        ("zh", "菜单上的“麻婆豆腐”英文应该写成什么"),
        ("mixed", "老板让我把这句改成英文版发给客户：我们会在周五前发货"),
    ],
    "summarization": [
        (
            "en",
            "here's the email thread from today, what do I actually need to know? Hi all, the release is pushed to Thursday because QA found two blockers; design review is cancelled; please update your tickets by EOD.",
        ),
        (
            "en",
            "Cut this review down to a sentence for our website: The staff were lovely and the pasta was fresh, though we waited 40 minutes for a table and the dessert menu was limited.",
        ),
        (
            "en",
            "Meeting notes: budget approved, hiring freeze until March, new office opens in May, Jane leads onboarding. Give me a short recap.",
        ),
        (
            "en",
            "Read this and tell me the bottom line: The patch fixes a memory leak in the parser, adds two config flags, and drops support for Python 3.8.",
        ),
        (
            "zh",
            "下面是今天的会议记录，帮我提炼三条结论：预算通过了，三月前冻结招聘，新办公室五月启用，由小王负责新人培训。",
        ),
        (
            "zh",
            "这篇文章太长了，说说大意就行：研究发现，每天睡眠不足六小时的人，患心脏病的风险比睡够七小时的人高百分之二十。",
        ),
        ("zh", "把这条通知缩成一句话发群里：因施工，本周六上午九点到十二点大楼停水，请提前储水。"),
        (
            "mixed",
            "这段 release notes 讲了啥，简短点：fixes a memory leak in the parser, adds two config flags, drops Python 3.8.",
        ),
    ],
    "qa": [
        ("en", "who painted the mona lisa"),
        ("en", "how far away is the sun roughly"),
        ("en", "Do penguins live at the north pole?"),
        ("en", "what's the capital of canada, I always forget"),
        ("en", "Which planet has the most moons?"),
        ("zh", "世界上最长的河流是哪条"),
        ("zh", "熊猫主要吃什么"),
        ("zh", "第一次世界大战是哪一年结束的"),
        ("mixed", "Wi-Fi 这个词是什么的缩写？"),
    ],
    "formatting": [
        ("en", "make a table out of these: bob 25 london, alice 30 paris, chen 28 beijing"),
        ("en", "put these names in alphabetical order: zoe, adam, maria, li"),
        (
            "en",
            "I pasted this from a PDF and the line breaks are a mess, fix it so each sentence is on its own line: The cat sat. It was warm. Then it slept.",
        ),
        ("en", "turn my shopping list into checkboxes for markdown: milk, eggs, bread"),
        ("en", "Give me that same data but as comma separated values: name=Ann age=31; name=Bo age=22"),
        ("zh", "把这几个名字按拼音排序：张三、李四、王五、赵六"),
        ("zh", "帮我把下面的地址整理成一行一个：北京市海淀区 上海市浦东新区 广州市天河区"),
        ("zh", "把 1234567 写成带千位分隔符的形式"),
        ("mixed", "这些数据帮我弄成 markdown 的表格：苹果 3 元，香蕉 2 元，西瓜 10 元"),
    ],
    "reasoning": [
        ("en", "my bill is 84 dollars and we are 3 people, plus a 15% tip, how much does each pay"),
        ("en", "If all bloops are razzies and all razzies are lazzies, are all bloops definitely lazzies?"),
        (
            "en",
            "A bat and a ball cost 1.10 in total and the bat costs 1.00 more than the ball. What does the ball cost?",
        ),
        ("en", "I start work at 9:15 and need 8 hours plus a 45 minute lunch, when can I leave"),
        ("en", "Which is bigger, 2^10 or 10^3?"),
        ("zh", "三个人三天喝三桶水，九个人九天喝几桶水？"),
        ("zh", "小王比小李高，小李比小张高，谁最矮？"),
        ("zh", "一个数的三倍减去五等于十六，这个数是多少"),
        ("mixed", "我每个月存 1500，多少个月能存够 20000？explain briefly"),
    ],
    "code": [
        ("en", "my python script says IndexError: list index out of range on line 12, what usually causes that"),
        ("en", "how do i undo the last git commit but keep the changes"),
        ("en", "regex that matches a US zip code?"),
        ("en", "Make this loop faster: for x in data: if x in big_list: out.append(x)"),
        ("en", "What's the difference between let and var in JS?"),
        ("zh", "pandas 里怎么按两列分组求平均"),
        ("zh", "我的网页按钮点了没反应，onclick 写在 div 上，可能是什么原因"),
        ("zh", "写个 SQL 查出每个部门工资最高的员工"),
        ("mixed", "docker container 一启动就退出，怎么查 log？"),
    ],
}

if __name__ == "__main__":
    out = Path(__file__).with_name("wild.jsonl")
    with out.open("w", encoding="utf-8") as f:
        i = 0
        for label, rows in ROWS.items():
            for lang, text in rows:
                i += 1
                f.write(
                    json.dumps({"id": f"wild-{i:03d}", "text": text, "label": label, "lang": lang}, ensure_ascii=False)
                    + "\n"
                )
    print(f"wrote {i} rows to {out}")
