"""Write data/classifier/blind/test.jsonl: the independent blind test set for the routing task classifier.

Provenance (stated honestly):
- Written 2026-11-30 (session 3, issue 12 finding 10) by an LLM agent session, engineer "W1" of the costlab
  team, from data/classifier/CLASSES.md ONLY. The writer did not open the training templates, the training
  rows, the classifier code, its keyword rules, its tests, data/prompts/ or docs/semantic-cache.md, nor the
  git history of any of them (it saw only the file names in `ls data/classifier/`).
- Every prompt below was written one by one, free-form, as different users would type a request: no
  templates and no slot filling. The rows are held in this script like a data file; running it rewrites
  test.jsonl byte for byte (no randomness, no clock, no network).
- Counts: 360 prompts = 6 classes (translation, summarization, qa, formatting, reasoning, code)
  x 3 languages (en, zh, mixed) x 20. Labels follow the boundary rules of CLASSES.md.
- Language rule checked below: `en` has no CJK character; `zh` has CJK and no Latin letter at all (so a pasted
  English sentence, a product name or a code keyword makes a prompt `mixed`); `mixed` has both.
- Nobody tunes on this set: the lead scores the frozen classifier on it once.

Run: .venv/bin/python data/classifier/blind/make_test.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path

LABELS = ("translation", "summarization", "qa", "formatting", "reasoning", "code")
LANGS = ("en", "zh", "mixed")
PER_CELL = 20

ROWS: dict[str, dict[str, list[str]]] = {label: {} for label in LABELS}

# ---------------------------------------------------------------------------------------------- translation
ROWS["translation"]["en"] = [
    "How do you say 'the check, please' in Italian?",
    "pls put this in spanish: We will be closed on Monday for the holiday. Sorry for the inconvenience!",
    "I'm writing to my host family in Japan before my exchange year. Could you render this into polite Japanese? "
    "'Thank you so much for welcoming me. I am looking forward to meeting you, and I will do my best to help "
    "around the house.'",
    "german for 'out of office until the 14th'",
    "is 'je suis plein' the right way to say I'm full in French? my friend laughed when I said it at dinner",
    "Localize these app strings into Brazilian Portuguese, keep the keys exactly as they are:\n"
    "login.button = Sign in\n"
    "login.forgot = Forgot your password?\n"
    "cart.empty = Your cart is empty\n"
    "checkout.pay = Pay now",
    "okay so I need this in korean please the meeting has been moved to three pm tomorrow and please bring "
    "your laptop period",
    "Got this from a supplier and my French is rusty. English version please:\n\n"
    "Bonjour,\nNous vous informons que votre commande n°4521 a été expédiée ce matin. Elle devrait arriver "
    "d'ici jeudi.\nCordialement,\nLe service client",
    "Translate to Vietnamese: Take one tablet twice a day after meals. Do not drink alcohol.",
    "hey can u make this sound natural in mexican spanish, it's for a flyer: Free tutoring every Tuesday at "
    "the public library, all ages welcome",
    "Arabic for 'emergency exit'? It's for a sign in our hostel.",
    "Need the following in formal Russian for a visa letter: I, the undersigned, confirm that I will cover all "
    "travel and accommodation expenses of my sister during her stay in Germany from 3 to 24 July.",
    "whats hello and thank you in swahili",
    "Is 'Ich bin warm' correct German for 'I feel warm', or does it mean something else?",
    "Could you carry this line into French while keeping a rhyme if possible: 'The river keeps the secrets "
    "that the mountains never tell.'",
    "english -> turkish\n\nYour package is at the front desk.\nPlease pick it up before 6 pm.",
    "You are a professional translator. Source language: English. Target language: Polish. Text: "
    '"Quarterly revenue grew by 8%, driven mainly by exports to Scandinavia."',
    "my grandma only reads Greek, how do I write 'happy 80th birthday, we love you' on her cake",
    "What's the Japanese word for 'spreadsheet'? Katakana is fine.",
    "Dutch colleague wrote 'ik kom eraan, even geduld' in the team chat. In English?",
]

ROWS["translation"]["zh"] = [
    "帮我翻译成英文：本周五下午三点在三楼会议室开会，请准时参加。",
    "“画蛇添足”用英语怎么说？",
    "这句日语什么意思：すみません、駅はどこですか",
    "下个月去西班牙玩，想学几句西班牙语：洗手间在哪里？这个多少钱？可以刷卡吗？麻烦帮我翻一下",
    "把下面这封邮件译成英文，语气正式一点：\n王经理您好，\n附件是我们修改后的报价单，价格已按您上次的要求下调了百分之五。"
    "如有问题请随时联系我。\n此致\n李明",
    "“充电宝”用法语怎么说",
    "老师让我们把《静夜思》翻成英文，想要一个读起来押韵一点的版本",
    "下面几个按钮上的文字要出日文版：确定、取消、返回首页、重新加载",
    "韩语里“我爱你”怎么写？",
    "请将以下内容翻译为法语：感谢您对本次活动的支持，我们期待明年再见。",
    "出国看病可能用得上，帮我把这几句翻成英语：我对青霉素过敏。我有高血压，每天吃一片降压药。",
    "给外国客户回个消息，帮我用英语说：货已经发出，单号明天发您，预计七到十天到。",
    "我们公司要出俄语版的产品说明，先翻这一段试试：本产品适用于十八岁以上成年人，孕妇及哺乳期妇女请在医生指导下使用。",
    "想在婚礼上用意大利语对新娘家人说一句“欢迎你们来到中国，祝大家玩得开心”，怎么说比较地道",
    "日语的「お疲れ様です」翻成中文怎么讲比较自然",
    "翻译一下：春眠不觉晓，处处闻啼鸟。（要英文的）",
    "简历里这句帮我改成英文：负责华东区域销售团队管理，年销售额增长百分之三十。",
    "“加油”在英语里有没有对应的说法？直译肯定不行吧",
    "德语的“谢谢”和“不客气”分别怎么说",
    "小区要贴个告示给外籍住户看，译成英文：因管道维修，本周六上午九点至下午五点停水，请提前储水。",
]

ROWS["translation"]["mixed"] = [
    "帮我把这句翻成英文：我们下周一之前会把 invoice 和合同一起寄给你",
    "请翻译成中文：The meeting has been postponed to next Wednesday due to the typhoon.",
    "“deadline” 用中文怎么说比较正式？截止日期还是最后期限？",
    "how do you say 土豆丝 in English? it's for our restaurant menu",
    "Is '我很好吃' the right way to say 'I'm full' in Chinese? my tutor looked confused lol",
    "app 的 i18n 文案需要中文版：\nSettings\nLog out\nAre you sure you want to delete this file?\nNo internet connection",
    "老板发的 email 看不懂，帮我翻成中文：Please loop in finance before we commit to the vendor, and make sure "
    "the PO reflects the revised scope.",
    "'it's not rocket science' 中文有没有类似的说法",
    "Chinese for 'out of stock'? 网店商品页要用",
    "翻成英文 pls：您的快递已放在门卫室，请尽快领取",
    "帮我把论文 abstract 的第一句译成中文：Large language models have shown a remarkable ability to learn "
    "new tasks from only a few examples.",
    "我想跟 Airbnb 房东说：我们大概晚上十一点到，能不能自助入住？用英文怎么说",
    "translate to English plz 我们已经收到你的简历，会在两周内联系你",
    "这句提示是给用户看的，要出中文版：Your session has expired. Please sign in again.",
    "'break a leg' 直译成中文会很奇怪吧，怎么翻比较好",
    "日本客户那边要日文版，英文原稿是：Thank you for your order. We will ship it within 3 business days. 帮忙翻一下",
    "what's 红包 in english? like the name for it, not an explanation",
    "Can you put this WeChat message into English for my coworker? 明天的演示推迟到下午，客户那边临时有事",
    "请把 README 里这段话翻成中文：This project is no longer maintained. Please use the v2 branch instead.",
    "我想在 LinkedIn 上写“在某公司担任数据分析师三年”，英文怎么写比较地道",
]

# -------------------------------------------------------------------------------------------- summarization
ROWS["summarization"]["en"] = [
    "tl;dr this pls\n\nSo my landlord texted me last night saying the building is getting new windows next "
    "month and that workers will need access to every unit between the 4th and the 9th. He said I don't have "
    "to be home but I need to move furniture away from the windows and that there might be dust. He also "
    "mentioned rent isn't changing and that if anything gets damaged the contractor's insurance covers it.",
    "Here's the email chain from this morning. What actually matters for me?\n\n"
    "From: Dana\nHi all, the client pushed the review to Thursday. Slides still due Wednesday EOD.\n\n"
    "From: Raj\nThanks Dana. I'll own the budget section. Can someone take the timeline?\n\n"
    "From: Dana\nMarco, can you take the timeline? Also please everyone use the new template, the old one has "
    "the wrong logo.\n\nFrom: Marco\nSure, on it.",
    "Write minutes for this call transcript, decisions and action items only:\n\n"
    "Ana: ok so we agreed the beta goes out on the 15th?\nLiam: yes, unless QA finds a blocker.\n"
    "Ana: fine. Liam, you'll send the release notes draft by Friday.\nLiam: yep.\n"
    "Chen: I'll set up the feedback form. Do we want it in-app or by email?\n"
    "Ana: in-app. Let's also drop the dark mode toggle from this release, it's not ready.\nChen: agreed.",
    "Give me this review in one sentence:\n\n\"I wanted to love this blender. It's gorgeous, it's quiet for a "
    "blender, and the smoothie setting works great. But after three weeks the lid started leaking and "
    'customer service took 10 days to reply. For the price I expected better build quality."',
    "Can you condense this article into two sentences for our newsletter?\n\n"
    "City officials announced on Tuesday that the riverside bike path will close for six months starting in "
    "March to allow for flood barrier construction. A temporary route through Elm Street and the old rail "
    "yard will be signposted. Cycling groups welcomed the flood protection but criticized the detour, which "
    "adds about 2 km and crosses two busy intersections. The council said it would review the detour after "
    "the first month.",
    "one-line version of this abstract for my slide:\n\nWe study how sleep duration affects working memory in "
    "adolescents. In a sample of 412 students aged 13-17, those sleeping under seven hours performed "
    "significantly worse on n-back tasks, an effect that persisted after controlling for screen time and "
    "socioeconomic status. The results suggest school start times should be reconsidered.",
    "Boil this down for me, what's he asking for?\n\n\"Hey, hope your weekend was good! So I was looking at the "
    "Q3 dashboard and noticed a few of the charts are still pulling from the old data source, and I know you "
    "were busy with the migration, totally understand, but the board meeting is next week and Sarah wants to "
    "present those numbers, so if there's any way you could switch them over before Thursday that'd be "
    'amazing. No worries if not, just let me know either way."',
    "Short summary for execs, three lines max:\n\nIncident 2291. At 14:02 UTC a config change raised the "
    "connection pool limit on the payments database from 200 to 2000. Within minutes the database ran out of "
    "memory and restarted, causing checkout failures for 23 minutes. The change was rolled back at 14:25. "
    "No payments were lost; 1,140 customers saw errors and retried. Follow-ups: add a review step for "
    "database config changes and an alert on connection count.",
    "what's the gist of this clause, two lines:\n\n\"The Subscriber may terminate this Agreement at any time by "
    "giving thirty (30) days' written notice. Fees paid in advance for any period following the effective date "
    "of termination shall be refunded on a pro-rata basis, except where termination results from the "
    "Subscriber's breach of Section 7, in which case no refund shall be due.\"",
    "My dad got this discharge note, can you pull out the key points?\n\nPatient admitted with chest pain, "
    "cardiac causes ruled out (normal ECG, troponin negative x2). Likely musculoskeletal. Discharged on "
    "ibuprofen 400 mg three times daily with food for 5 days. Return if pain worsens, shortness of breath or "
    "fainting. GP follow-up in 1 week. Blood pressure mildly elevated (148/92), recheck at GP.",
    "summarize the following paragraph in three bullet points please:\n\nRemote work has changed how companies "
    "hire. Firms can now recruit from anywhere, which widens the talent pool but also increases competition "
    "for candidates in smaller cities. Salaries have started to converge across regions, and some companies "
    "now pay location-adjusted rates to control costs. Meanwhile, managers report that onboarding new staff "
    "remotely takes longer and that junior employees miss informal learning from colleagues.",
    "Could you shorten these lecture notes into one paragraph I can revise from?\n\nMitosis: one cell divides "
    "into two identical cells. Phases: prophase (chromosomes condense, spindle forms), metaphase (chromosomes "
    "line up in the middle), anaphase (sister chromatids pulled apart), telophase (nuclear envelopes reform), "
    "then cytokinesis splits the cytoplasm. Purpose: growth and repair. Contrast with meiosis: four cells, "
    "half the chromosomes, for reproduction.",
    "one line for the ticket:\n\nCustomer: hi my order arrived but the charger is missing\nAgent: sorry about "
    "that! can you confirm the order number?\nCustomer: 88213\nAgent: thanks, I see it shipped from the "
    "Leeds warehouse. I've sent a replacement charger, it should arrive in 2-3 days\nCustomer: great, thanks\n"
    "Agent: anything else?\nCustomer: no that's all",
    "Summarize this earnings paragraph, no need to check the math:\n\nRevenue for the quarter was $4.2B, up 6% "
    "year over year, driven by cloud services (+18%). Hardware sales fell 9% as consumer demand weakened. "
    "Operating margin improved to 21% from 19% thanks to cost cuts. The company kept its full-year guidance "
    "and announced a $2B share buyback.",
    "Quick synopsis of this passage? It's for my book club notes.\n\nWhen Marguerite returned to the village "
    "after twenty years, the mill had burned down and her brother no longer spoke to anyone. She took a room "
    "above the bakery and spent her evenings writing letters she never sent. It was the baker's son, a boy "
    "of eleven, who finally carried one of them to her brother's door, and it was that letter, read aloud on "
    "the doorstep, that ended two decades of silence.",
    "can u cut this down to like 50 words, its my bio for the conference site\n\nI'm a data engineer with "
    "eight years of experience building pipelines for retail and logistics companies. I started as an "
    "analyst, moved into engineering when I realized I liked fixing the plumbing more than reading the "
    "charts, and I've since led teams of up to six people. Outside work I teach a free SQL evening class and "
    "I run half marathons, slowly.",
    "For the newsletter I need a short paragraph on what's in this release:\n\n- Added CSV export on the "
    "reports page\n- Fixed a crash when uploading files over 2 GB\n- Dark mode now follows the system setting\n"
    "- Login sessions last 30 days instead of 7\n- Removed the legacy v1 API (announced last year)\n"
    "- Small translation fixes in German and French",
    "These are the open answers from our staff survey. What are the main themes?\n\n- more flexibility on "
    "remote days please\n- the new coffee machine is great\n- meetings run over all the time\n"
    "- would love a clearer promotion process\n- too many meetings, not enough focus time\n- let us choose "
    "our remote days\n- nobody knows how promotions are decided",
    "Summarize: The museum will stay open until 10 pm every Friday in August. Entry after 6 pm is half price, "
    "and the rooftop café will serve drinks until closing.",
    "I don't have time to read all of this, what does it say in short?\n\nDear residents, following the "
    "inspection on 2 May, the lift in Block C has been declared unsafe and will be out of service until the "
    "replacement parts arrive, expected in four to six weeks. Residents with mobility needs can request "
    "assistance from the concierge, who will help with shopping deliveries. The management apologises for "
    "the inconvenience and will post updates in the lobby.",
]

ROWS["summarization"]["zh"] = [
    "帮我用一句话概括这段话：\n近年来，越来越多的年轻人选择回到家乡创业。一方面，大城市房价高、竞争激烈，生活压力大；"
    "另一方面，家乡的政策扶持力度不断加大，网络销售渠道也让小城市的产品能卖到全国。不过，也有人反映家乡人才短缺、"
    "配套设施不足，创业并不容易。",
    "下面是今天部门会议的记录，帮我提炼出要点：\n张总：下季度重点是华南市场，预算增加两成。\n李经理：招聘要提前，"
    "三月底前到岗五个人。\n王主管：新系统下月上线，各组周五前提交测试意见。\n张总：另外年会改到一月中旬，行政部负责。",
    "这篇新闻太长了，用三句话说说讲了什么：\n本市今年起将在全部中小学推行课后延时服务，服务时间一般到下午六点，"
    "家长可自愿选择。延时服务内容包括作业辅导、体育活动和兴趣小组，不得进行集体补课。教育局表示，服务费用由财政"
    "补贴和家长分担，困难家庭可申请减免。部分家长担心孩子在校时间过长，学校表示会保证休息时间。",
    "我妈发来一大段语音转的文字，帮我看看重点是啥：\n你那个快递到了啊我给你放在门口鞋柜上了，然后你爸说周末要去"
    "你大姨家吃饭，你要是回来的话提前说一声，他好订车票，还有你上次说的那个药我问了医生说可以吃但是别空腹吃，"
    "天冷了多穿点衣服啊。",
    "用一句话概括这篇论文摘要，放在汇报的幻灯片上：\n本研究以三百名城市老年人为对象，考察了社区活动参与度与"
    "孤独感之间的关系。结果显示，每周参加两次以上社区活动的老人孤独感评分显著较低，且这一关系在独居老人中更为明显。"
    "研究建议加大社区老年活动场所建设。",
    "家长群里这条通知太啰嗦了，帮我简单说下要干啥：\n各位家长好！为了丰富孩子们的课余生活，增强体质，本学期学校"
    "将于下周三下午举行秋季运动会。请家长为孩子准备好运动服和运动鞋，当天穿校服外套到校。运动会期间孩子不需要带"
    "书包，但请带好水杯。如遇下雨，运动会顺延至周四。感谢各位家长的配合！",
    "帮我把这条评价总结成一句话：\n东西收到了，包装挺好没有破损，外观和图片一样好看。就是用了两天发现充电特别慢，"
    "充满要四个多小时，续航也一般。客服态度倒是不错，说可以换货。总的来说颜值高但是性能一般吧。",
    "写个梗概，两三句话就行：\n老周在巷口修了三十年自行车。城里共享单车多了以后，来修车的人越来越少，儿子劝他关门"
    "回老家。就在他准备收摊的那天，一群大学生推着十几辆旧车找上门来，说要办一个免费修车的公益站，请他当师傅。"
    "老周想了一夜，第二天一早又把摊子摆了出来。",
    "这份通知的要点帮我列一下，别太长：\n自下月一日起，本市居民可通过手机办理医保异地备案，无需再到窗口提交纸质材料。"
    "备案成功后，在异地定点医院就医可直接结算。长期异地居住的人员需提供居住证明，临时外出就医的人员备案有效期为"
    "六个月。",
    "体检报告最后的总结太长了，帮我缩成两三句话：\n本次体检结果显示，您的血压、血糖均在正常范围。血脂中甘油三酯"
    "略高，建议减少油腻食物、加强运动，三个月后复查。肝脏超声提示轻度脂肪肝，与体重偏高有关。其余项目未见明显异常。",
    "周报写太多了，领导只看三行，帮我压缩一下：\n本周主要完成了用户注册流程的改版设计，和产品经理确认了三轮，目前"
    "方案已定稿。同时配合测试修复了上周遗留的七个问题，其中两个是严重问题，已全部验证通过。下周计划开始开发新版"
    "个人中心页面，预计两周完成。另外参加了公司组织的安全培训。",
    "给这段客服对话写一句话的工单摘要：\n客户：你好，我上周买的空调一直没人来装。\n客服：您好，请提供一下订单号。\n"
    "客户：二零二四零五一二零八八。\n客服：查到了，安装师傅那边排期满了，我帮您加急，明天下午两点前会联系您。\n"
    "客户：好的，谢谢。",
    "这是我明天的演讲稿，主持人要一段一百字以内的简介，帮我从稿子里提炼：\n大家好，今天我想和大家分享我在乡村"
    "小学支教的一年。那里的孩子没有见过海，也没有上过英语课，但他们每天走一个小时山路来上学。一年里，我和孩子们"
    "一起办了图书角，一起种了菜园，也一起完成了第一次全校合唱。我最大的收获，是明白了教育不只是传授知识，更是陪伴。",
    "租房合同这一条看着头大，说说要点：\n乙方应按月于每月五日前支付租金，逾期超过十日的，甲方有权解除合同并不予"
    "退还押金。租赁期间，因乙方使用不当造成的房屋及设施损坏，由乙方负责维修或赔偿；自然老化造成的损坏由甲方负责。"
    "未经甲方书面同意，乙方不得转租。",
    "太长不看，帮我说说这篇讲了啥：\n第一次去云南，我建议不要把行程排太满。昆明可以只待一天，主要是中转；大理住在"
    "古城外的洱海边更安静；丽江古城商业化比较严重，可以改去束河。香格里拉海拔高，最好在大理和丽江适应几天再上去。"
    "雨季是六到八月，路上经常塌方，尽量避开。",
    "把这篇读后感缩写到一百字左右：\n读完《平凡的世界》，我最大的感受是，普通人的坚持本身就是一种英雄主义。孙少平"
    "出身农村，没有背景，却始终没有放弃读书和思考。他在煤矿做工时，依然在昏暗的灯光下看书。他的经历告诉我，环境"
    "也许无法改变，但我们可以选择面对环境的态度。书中孙少安的奋斗同样让我感动，他带领村民办砖厂，几经起落，却从"
    "不认输。",
    "公司发的这个公告，重点是啥？\n各位同事：为进一步规范差旅管理，即日起出差须提前三个工作日在系统中提交申请，"
    "经部门负责人审批后方可预订机票酒店。住宿标准按城市等级执行，超标部分由个人承担。报销须在返回后十五日内提交，"
    "逾期不予受理。请各部门认真遵照执行。",
    "简述一下这份事故通报：\n某日上午十时许，城东一处在建工地发生脚手架局部坍塌，造成两名工人轻伤，已送医治疗，"
    "无生命危险。经初步调查，事故原因是连日降雨导致地基松动。目前该工地已全面停工整改，相关部门正在对全市在建"
    "工地开展安全检查。",
    "归纳一下这段课文的中心思想：\n父亲是个不善言辞的人。小时候我生病，他背着我走了十几里山路去镇上看病，一路上"
    "一句话也没说。后来我去外地上大学，他送我到车站，也只是说了一句“到了打电话”。直到我自己当了父亲，才明白那些"
    "沉默里藏着多少说不出口的爱。",
    "这一大段聊天记录，他们最后商量出什么结果了？\n小王：周六去爬山还是去看电影？\n小李：爬山吧，天气预报说晴天。"
    "\n小张：我膝盖不太好，爬不了太高的。\n小王：那去近一点的那座，一个小时能上去的。\n小张：可以。\n小李：那就"
    "早上八点地铁站见，我带吃的。\n小王：行，我带水。",
]

ROWS["summarization"]["mixed"] = [
    "帮我 summarize 一下这封 email：\n\nHi team, quick update: the vendor has confirmed delivery for the 20th, "
    "but installation can only start on the 27th because their technicians are booked. This means the office "
    "move slips by one week. Please keep your desks packed, and IT will send a new schedule for laptop setup.",
    "这篇 paper 的 abstract 太长了，一句话概括：\nWe propose a lightweight method for detecting anomalies in "
    "server logs that requires no labeled data. By clustering log templates and modeling their frequencies "
    "over time, our method flags unusual bursts with 92% precision on three public datasets, while running "
    "ten times faster than the strongest deep-learning baseline.",
    "TL;DR 一下：\n今年公司体检安排在下个月十号到二十号，各部门按排期表分批去，体检前一天晚上十点以后不要吃东西，"
    "当天带身份证。家属体检可以自费加项，价格享受团体折扣，需要的话找行政登记。",
    "Meeting transcript 如下，帮我出个 minutes，只要 decisions 和 action items：\n"
    "老陈：官网改版就按 B 方案来吧。\n小林：好，那首页的 banner 我这周出图。\n老陈：上线时间定在月底。\n"
    "阿杰：那我周三前把测试环境搭好。\n老陈：OK，预算不变。",
    "Can you give me the key points of this 公告?\n\n关于调整办公时间的通知：自下周一起，"
    "公司实行弹性工作制，员工可在早八点至十点之间到岗，每日工作满八小时即可。每周三为全员到岗日，"
    "当天上午十点召开部门例会。",
    '一句话总结这条 review：\n"Great location, five minutes from the station, and the staff were lovely. '
    "Room was tiny though and the walls were thin, we could hear everything next door. Fine for one night, "
    "wouldn't stay a week.\"",
    "这个 Slack thread 讨论的结论是啥，简单说：\n@mike: should we cache the pricing API?\n@yuki: yes, it's "
    "called on every page load\n@mike: but prices change hourly\n@yuki: then cache for 5 minutes, that's "
    "fine for us\n@lead: agreed, 5 min TTL, mike please implement, yuki reviews",
    "帮我把这段 news 压缩成两句话：\nThe central bank left interest rates unchanged on Thursday, citing "
    "uncertainty about inflation, which remained above its 2% target for the eighth month in a row. "
    "Officials signaled that a cut later this year is still possible if price growth slows. Markets had "
    "largely expected the decision, and the currency moved little.",
    "give me the gist of this, 三句话以内：\n近日，某品牌宣布召回二零二二年生产的部分电动自行车，原因是电池在"
    "高温环境下存在起火风险。涉及车辆约一万两千辆，用户可到门店免费更换电池。公司表示目前尚未收到起火事故报告。",
    "Postmortem 太长了，老板只想看个 summary：\nAt 03:10 the nightly backup job filled the disk on db-02. "
    "Writes started failing at 03:14 and the order service returned errors until 03:52, when on-call deleted "
    "old backups. Root cause: retention script had been disabled during a migration. Fix: re-enable "
    "retention, alert at 80% disk.",
    "帮我精简一下这个 product description，控制在三十个字以内：\n这款保温杯采用三百一十六不锈钢内胆，"
    "保温十二小时，保冷二十四小时，杯盖可单手开启，防漏设计出门放包里也放心，容量五百毫升，有五种颜色可选。",
    "这是 podcast 的文字稿片段，帮我写个 short summary 放 show notes：\n今天我们聊的是年轻人为什么开始存钱。"
    "嘉宾认为，一方面是就业形势让大家更有危机感，另一方面是消费观念变了，大家更愿意把钱花在体验上而不是买东西上。"
    "她还分享了自己每月固定存三成收入的方法。",
    "Summarize this customer feedback in 3 bullets, 给产品组看的：\n- app crashes when I upload more than 10 "
    "photos\n- love the new design\n- upload keeps failing on 4G\n- please add dark mode\n- photo upload "
    "is so slow\n- design is much cleaner now",
    "这段 interview 回答有点长，帮我缩成一句 quote：\n\"I think what people don't realize is that running a "
    "small bakery is mostly logistics. The baking is the fun part, maybe twenty percent of the day. The rest "
    'is ordering flour, fixing the oven, scheduling staff and answering emails."',
    "帮我把这个 README 的开头缩成一句话介绍，放简历项目经历里：\nThis project is a command-line tool that "
    "watches a folder of invoices, extracts the totals and due dates with OCR, and writes them into a "
    "spreadsheet. It was built for a small accounting office and now processes about 400 invoices a month.",
    "我导师发来的 feedback，太长了，核心意见是啥？\nOverall the thesis chapter is promising. The literature "
    "review is thorough, but the methods section needs a clearer justification for the sample size, and the "
    "discussion currently repeats the results instead of interpreting them. Please also cut the introduction "
    "by about a third.",
    "把这篇公众号文章浓缩成一段话，我转发到 group 里：\n很多人以为早餐不吃没关系，其实长期不吃早餐会影响"
    "血糖稳定，上午容易注意力不集中。早餐不需要很复杂，一个鸡蛋、一杯牛奶、一份主食就够了。如果实在没时间，"
    "前一天晚上准备好燕麦也是好办法。",
    "summarize 下面的 changelog，给非技术的同事看：\n- 修复了导出报表时中文乱码的问题\n- 登录页增加了验证码\n"
    "- 首页加载速度提升约三成\n- 移除了旧版的消息中心",
    "key takeaways please，这是我们季度会议的 notes：\n销售额同比增长百分之十二，主要来自线上渠道；线下门店"
    "客流下降，计划关闭两家亏损门店；下季度重点投入会员体系，目标新增会员五万。",
    "In short, what does this say? 朋友发我的，我看不太进去\n最近搬家才发现，东西真的太多了。很多衣服一年都没"
    "穿过一次，书也买了没看。于是我给自己定了个规矩：每买一件新东西，就要处理掉一件旧的。坚持了两个月，家里清爽了"
    "很多，花钱也少了。",
]

# ------------------------------------------------------------------------------------------------------- qa
ROWS["qa"]["en"] = [
    "why is the sky blue",
    "What's the difference between a Roth IRA and a traditional IRA?",
    "who painted the ceiling of the sistine chapel",
    "I'm going to Peru next month and we'll spend a few days in Cusco. Should I worry about altitude "
    "sickness, and what actually helps?",
    "How does a heat pump heat a house when it's below freezing outside? That seems backwards to me.",
    "what is a p-value? explain it like I'm a first-year student, no formulas",
    "When did the Berlin Wall come down?",
    "Is it safe to take ibuprofen and paracetamol together?",
    "What does Kubernetes actually do, in plain terms? My manager keeps bringing it up in meetings.",
    "difference between baking soda and baking powder?? recipe calls for one and i only have the other",
    "Why is jet lag worse when you fly east?",
    "how many bones does an adult human have",
    "Context: I'm a nurse and I'm switching to night shifts next month. What are evidence-based ways to "
    "sleep well during the day?",
    "How do index funds work, and why do people say they beat most actively managed funds?",
    "what causes inflation",
    "Can you explain the difference between TCP and UDP and when each one is used?",
    "capital of australia, is it sydney or canberra",
    "How do mRNA vaccines teach the immune system to recognize a virus?",
    "why does bread go stale faster in the fridge than on the counter",
    "Who was the first woman to win a Nobel Prize, and for what?",
]

ROWS["qa"]["zh"] = [
    "为什么打雷的时候先看到闪电后听到雷声？",
    "秦始皇统一六国是哪一年？",
    "高血压的人能不能喝咖啡？",
    "什么是通货膨胀，对普通老百姓有什么影响？",
    "从成都去西藏旅游需要办什么证件吗？",
    "鲁迅原名叫什么",
    "宝宝发烧三十八度五，需要马上去医院吗，还是先在家物理降温？",
    "区块链到底是什么原理，能不能通俗地讲讲",
    "为什么冬天手机电量掉得特别快",
    "社保里的医疗保险和商业医疗险有什么区别？两个都要买吗",
    "唐朝和宋朝，哪个朝代的商业更发达？",
    "黄河为什么叫黄河",
    "红茶和绿茶的区别是什么？哪种更适合胃不好的人喝",
    "我是文科生，考研和考公务员哪个更适合我，各自有什么优缺点？",
    "怎么判断西瓜熟没熟，拍一拍真的有用吗",
    "机器学习里说的“过拟合”是什么意思",
    "世界上最深的海沟是哪一个，在哪里？",
    "为什么坐飞机起飞降落的时候耳朵会疼",
    "第一次去日本旅游，有哪些礼仪需要注意的",
    "听说蜂蜜放多久都不会坏，这是真的吗？为什么",
]

ROWS["qa"]["mixed"] = [
    "Docker 和虚拟机有什么区别？",
    "什么是 GDP deflator？跟 CPI 有啥区别",
    "ETF 和普通的基金有啥不一样",
    "Who invented 活字印刷? 是毕昇吗",
    "为什么 coffee 喝多了会心慌",
    "H-1B 签证一般是几月份抽签？",
    "What's the difference between 普通话 and 粤语 besides pronunciation?",
    "MBTI 靠谱吗，有科学依据吗",
    "请问 REST API 是什么意思？我是做产品的，不写代码",
    "去 Iceland 看极光，一年中最好是几月去",
    "how does 微信支付 make money if transfers are free?",
    "ChatGPT 这类大模型是怎么训练出来的，简单讲讲",
    "缺乏 vitamin D 会有什么症状",
    "为什么 GPU 比 CPU 更适合做深度学习",
    "pH 值低于 7 说明什么",
    "What is 二十四节气 and why did it matter for farmers?",
    "Python 这个名字是怎么来的？跟蛇有关系吗",
    "信用卡账单上的 APR 是什么意思",
    "长城真的能从 space 用肉眼看到吗",
    "Marathon 的全程为什么是 42.195 公里？有什么历史由来",
]

# ----------------------------------------------------------------------------------------------- formatting
ROWS["formatting"]["en"] = [
    "turn this into JSON: name Bob Tan, age 41, city Porto, email bob@tan.pt",
    "alphabetize:\nzucchini\napple\nmango\nbroccoli\ncarrot",
    "Make this a markdown table:\nMonday - gym - 7am\nTuesday - swim - 6:30am\nThursday - yoga - 8pm",
    'convert to yaml\n{"server": {"port": 8080, "host": "0.0.0.0"}, "debug": false}',
    "Please put these book titles in title case:\nthe lord of the rings\na tale of two cities\nof mice and men",
    "Change all of these dates to YYYY-MM-DD: March 3, 2024; 12/25/2023; 1st of July 2022; 2021.09.30",
    "snake_case these please: firstName, lastLoginDate, isActiveUser, HTTPResponseCode",
    "Fix the spacing and capitalization, don't change any words:\n"
    "hello   world .  this  is   a test sentence ,with weird   spacing .and   no caps",
    "csv please\nProduct: Widget A | Price: 4.99 | Stock: 120\nProduct: Widget B | Price: 7.50 | Stock: 0\n"
    "Product: Gizmo | Price: 12.00 | Stock: 35",
    "Wrap each of these in single quotes and join them with commas on one line: 1041 1042 1050 1077 1103",
    "can you make this a numbered list\nbuy milk, call dentist, renew passport, email Sarah about the trip",
    "ALL CAPS for the warning sign: do not enter, high voltage, authorized personnel only",
    "Format these phone numbers as +1 (XXX) XXX-XXXX:\n4155550132\n212-555-0199\n(646)5550143",
    'XML version of this please: {"book": {"title": "Dune", "author": "Frank Herbert", "year": 1965}}',
    "sort these lines by price, cheapest first, keep the format:\nHeadphones $59\nKeyboard $35\nMonitor $189\n"
    "Mouse $19",
    "I typed my call notes in one blob. Turn them into bullet points, one per sentence, without cutting "
    "anything:\nClient wants the launch moved to May. They're fine with the budget. They need new logo files by "
    "Friday. Ask legal about clause 4.2 of the contract.",
    "HTML table from this:\nname,role,start\nJin,Engineer,2021\nMaria,Designer,2023\nTomas,Support,2019",
    "Show these with 2 decimals and thousands separators: 1234.5, 98765.4321, 0.5, 1000000",
    "one item per line pls: eggs; flour; sugar; butter; vanilla; baking powder",
    "Flatten this YAML into KEY=VALUE lines like a .env file (uppercase keys, underscores for nesting):\n"
    "database:\n  host: db.internal\n  port: 5432\nredis:\n  url: redis://cache:6379",
]

ROWS["formatting"]["zh"] = [
    "把下面的名字按拼音首字母排序，一行一个：王芳、陈刚、李娜、赵磊、刘洋、安琪",
    "帮我把这些日期统一成“年-月-日”的格式：二〇二三年五月一日、2023.6.8、23年12月3号",
    "做成表格：张三，男，三十二岁，销售部；李四，女，二十八岁，财务部；王五，男，四十岁，技术部",
    "这几条待办事项改成编号列表：交水电费、给妈妈打电话、预约体检、买生日礼物",
    "报销单上的金额要写成大写：1250元、38000元、906.50元",
    "标点全是半角的，帮我换成中文全角标点，内容别动：今天天气不错,我们去公园吧!你觉得呢?",
    "这段文字空格乱七八糟的，帮我去掉多余空格，别改内容：我 们 明 天 上午  十点  在  公司 门口 集合",
    "把以下成绩按分数从高到低排一下，一行一个人：小明 87，小红 92，小刚 75，小丽 88，小军 90",
    "每一行前面加上序号，后面补个句号：\n早睡早起\n多喝水\n少看手机\n每天散步半小时",
    "帮我把这几个联系方式整理成“姓名：电话”的格式，每人一行：张伟 13800001111 赵敏 13911112222 孙浩 13622223333",
    "用顿号把下面这些词连成一行，每个词加上引号：\n苹果\n香蕉\n橘子\n葡萄",
    "把时间都改成二十四小时制的写法：下午三点半、晚上十点、上午八点一刻、凌晨零点五分",
    "把这个菜谱的配料改成清单，一行一种，用量写在后面：鸡蛋两个，面粉两百克，牛奶一百五十毫升，白糖三十克",
    "把这段话拆开，每句一行：今天开会定了三件事。第一，下周上线。第二，周五前交测试报告。第三，周会改到周二。",
    "这些数字加上千分位的逗号：1234567、98000、4500000、700",
    "手机号格式不统一，都改成三-四-四分段、中间用短横线：13812345678、139 8765 4321、136-1234-5678",
    "把下面这些属性整理成两列的表格，左边属性右边值：颜色＝红，尺寸＝大号，材质＝纯棉，产地＝广东",
    "去掉重复的，保留原来的先后顺序，一行一个：苹果、梨、苹果、桃、梨、西瓜、桃",
    "书名都加上书名号，用逗号隔开：红楼梦 西游记 水浒传 三国演义",
    "把这份名单改成每行“序号. 姓名（部门）”的格式：人事部 周婷；市场部 吴昊；研发部 郑凯；财务部 冯雪",
]

ROWS["formatting"]["mixed"] = [
    '这个 config 帮我转成 TOML：{"title": "blog", "owner": {"name": "阿明"}, "port": 4000}',
    "把下面的数据整理成 Markdown 表格：\n北京 晴 3度\n上海 多云 9度\n广州 小雨 18度",
    "CSV 转 JSON array 谢谢\nid,name,score\n1,小王,88\n2,小李,95\n3,小赵,79",
    "变量名全部改成 camelCase：user_name, created_at, order_total_amount, is_deleted",
    "sort alphabetically，一行一个：banana, Apple, cherry, date, Elderberry",
    "日期格式改成 MM/DD/YYYY：2024年3月5日，2023-11-20，2022.1.9",
    "这几个标题改成 Title Case：\ngetting started with docker\nhow to write good commit messages\na guide to "
    "remote work",
    "帮我做成 bullet list，内容别删：周一交报告，周二见客户，周三出差上海，周五团建",
    "XML 转 JSON：<user><name>Lily</name><age>25</age><city>成都</city></user>",
    "Please put this into a table with columns 日期 / 项目 / 金额：3月1日 房租 3500；3月3日 水电 280；3月8日 聚餐 420",
    "这些 email 地址全部改成小写，一行一个：Zhang.Wei@Company.COM, LI.NA@company.com, Wang_Fang@Mail.CN",
    "format this as JSON：姓名 陈晨，城市 杭州，职业 设计师，年龄 29",
    "numbered list please：买菜、洗车、交房租、接孩子放学",
    "帮我把这几行 log 的时间都改成 ISO 8601 格式，其他不动：\n[2024/03/05 14:22:01] user login\n"
    "[2024/03/05 14:25:47] order created\n[2024/03/06 09:01:13] user logout",
    "把这几个 product code 统一成“两个大写字母-四位数字”的格式：ab1234, cd 5678, Ef-9012, GH_3456",
    "YAML 转成 JSON：\nname: 小明\nage: 12\nhobbies:\n  - 篮球\n  - 游泳",
    "帮我把这堆 keywords 用英文逗号隔开放在一行：\nmachine learning\n深度学习\nNLP\n计算机视觉",
    "Markdown 表格转成 CSV：\n| 城市 | 温度 |\n|---|---|\n| 北京 | 3 |\n| 上海 | 9 |",
    "format 成 currency：保留两位小数，前面加 ¥ 符号：12, 8.5, 103.456, 0.1",
    "reformat 一下这段地址，按 street / city / zip 分三行：88 Queen St Auckland 1010",
]

# ------------------------------------------------------------------------------------------------ reasoning
ROWS["reasoning"]["en"] = [
    "If a train leaves at 9:40 and the trip takes 2 h 35 min, when does it arrive?",
    "i paid $84 for a jacket after a 30% discount, what was the original price",
    "solve for x: 5x - 7 = 3x + 9",
    "What comes next: 2, 6, 12, 20, 30, ?",
    "Anna, Ben and Cara each own exactly one pet: a cat, a dog or a parrot. Ben is allergic to fur. Anna "
    "doesn't own the dog. Who owns which pet?",
    "Today is Thursday. What day of the week will it be 45 days from now?",
    "Two fair dice are rolled. What's the probability that the sum is 7?",
    "All managers attended the offsite. Priya attended the offsite. Does it follow that Priya is a manager?",
    "Pipe A fills a tank in 4 hours and pipe B fills it in 6 hours. How long if both are open?",
    "I put 5,000 in a savings account at 4% interest compounded yearly. What will it be worth after 3 years?",
    "recipe for 4 people needs 300 g flour and 2 eggs. im cooking for 10, how much of each do i need",
    "My flight leaves Tokyo at 11:00 on Monday (local time) and the flight is 10 hours. Los Angeles is 17 "
    "hours behind Tokyo. What day and local time do I land?",
    "Tom is older than Jess. Jess is older than Mark. Mark is older than Lily. Who is the second youngest?",
    "Our car uses 6.5 L per 100 km and the trip is 420 km each way. Fuel is 1.80 a litre. What does the round "
    "trip cost in fuel?",
    "my kid's homework: a rectangle has a perimeter of 36 cm and its length is twice its width. what's the area",
    "okay so if I walk at five kilometers an hour and my friend bikes the same route at fifteen and she leaves "
    "half an hour after me how long until she catches up",
    "A bat and a ball cost 1.10 in total. The bat costs 1.00 more than the ball. How much is the ball?",
    "Is this argument valid? All birds can fly. Penguins are birds. Therefore penguins can fly.",
    "Each API instance handles 1,200 requests per minute. Peak traffic is 50,000 requests per minute and we "
    "want 20% headroom. How many instances do we need?",
    "how many days are there between March 14, 2025 and June 2, 2025",
]

ROWS["reasoning"]["zh"] = [
    "鸡兔同笼，一共三十五个头，九十四只脚，鸡和兔各有几只？",
    "一件衣服打八折以后卖一百六十元，原价是多少？",
    "一个数乘以四再加上六等于三十四，求这个数",
    "今天星期三，一百天以后是星期几？",
    "小张、小王、小李分别来自北京、上海、广州。小张不是北京人，小王既不是上海人也不是北京人。三个人各来自哪里？",
    "一个水池，甲管单独注满要六小时，乙管单独把满池水放完要八小时，两管同时打开，空池多久能注满？",
    "从一副去掉大小王的扑克牌里随机抽两张，两张都是红桃的概率是多少？",
    "数列 1，1，2，3，5，8，13 下一个数是几",
    "所有的猫都怕水，咪咪怕水，所以咪咪是猫。这个推理成立吗？",
    "我每个月工资八千，存下其中的百分之二十五，多少个月能攒够六万块？",
    "纽约比北京晚十二个小时，我北京时间晚上八点给纽约的朋友打电话，他那边是几点？",
    "甲乙丙丁排成一列。乙排在最前面；丁不在最后；甲紧跟在丁的后面；丙不在第二。丙排在第几？",
    "一辆车前一半路程时速六十公里，后一半路程时速九十公里，全程的平均时速是多少？",
    "奶茶店周一卖了一百二十杯，之后每天都比前一天多卖十五杯，到周日一共卖了多少杯？",
    "三个人三天能修好三张桌子，照这个速度，九个人九天能修好多少张？",
    "孩子作业题：一个长方形，长比宽多四厘米，周长是四十厘米，面积是多少？",
    "如果今年元旦是星期一，今年又不是闰年，那今年的国庆节是星期几？",
    "进价八十元的东西，想赚百分之二十五，标价应该是多少？要是再打九折，每件还能赚多少？",
    "我妈说她现在的岁数是我的三倍，再过十二年就只是我的两倍了，那我现在几岁啊",
    "某次考试，全班四十人平均分是七十八，其中男生二十五人平均七十五，女生的平均分是多少？",
]

ROWS["reasoning"]["mixed"] = [
    "batch size 是 32，数据集有 50000 条，一个 epoch 要多少个 steps？最后不满一个 batch 也算一步",
    "我税前月薪 25k，只扣五险一金 22%，不算个税的话到手多少？",
    "Solve 这个方程：2x² - 8x + 6 = 0",
    "If 今天是周五，那 30 天后是周几？",
    "投资 10000 USD，annual return 7%，按复利算 10 年后大概是多少？",
    "logic puzzle：A 说 B 在说谎，B 说 C 在说谎，C 说 A 和 B 都在说谎。到底谁说的是真话？",
    "Sequence 3, 9, 27, 81, 下一个数是多少",
    "每个 pod 的 memory limit 是 512Mi，node 上可分配 16Gi，最多能放几个 pod？",
    "抛三次 coin，至少出现一次正面的 probability 是多少？",
    "我的 flight 早上 7:50 起飞，要提前 2 小时到机场，打车过去要 45 分钟，我最晚几点出门？",
    "一个 recipe 8 人份要 250g 黄油，我只做 3 servings 要多少 g？",
    "这个三段论 valid 吗：所有程序员都喝咖啡，小李喝咖啡，所以小李是程序员。",
    "GPU 每张每小时 2.5 dollars，训练要跑 36 小时，用 4 张卡，总成本是多少？",
    "Alice 比 Bob 高，Carol 比 Alice 高，Dave 比 Bob 矮。四个人里谁最矮？",
    "我跑步 pace 是 5 分 30 秒每 km，跑完一个 half marathon 21.1 km 要多久？",
    "月薪 8000 RMB，房租占 35%，伙食占 20%，剩下的全存起来，一年能存多少？",
    "meeting 下午 3 点开始，5 个 speaker 每人讲 12 分钟，两个人之间换场 3 分钟，最后一个讲完是几点？",
    "Find the next 项：1, 4, 9, 16, 25, ?",
    "credit card 欠了 12000，月利率 1.5%，按月复利，三个月不还一共欠多少？",
    "一个班 40 个学生，60% 是 girls，女生里有 25% 戴眼镜，戴眼镜的女生有几个？",
]

# ----------------------------------------------------------------------------------------------------- code
ROWS["code"]["en"] = [
    "python function that returns the n-th fibonacci number, iterative not recursive",
    'getting this, what\'s wrong?\n\nTraceback (most recent call last):\n  File "app.py", line 12, in <module>\n'
    "    total = sum(prices)\nTypeError: unsupported operand type(s) for +: 'int' and 'str'",
    "SQL for customers who haven't ordered anything in the last 90 days. Tables: customers(id, name), "
    "orders(id, customer_id, created_at). Postgres.",
    "regex for a US zip code: 5 digits, optionally followed by a dash and 4 more digits",
    "bash one-liner to find every file over 100MB under /var/log and delete it",
    "convert this JS to Python:\n\nconst evens = nums.filter(n => n % 2 === 0).map(n => n * n);",
    "what does this do?\n\nawk -F, '{s+=$3} END {print s}' sales.csv",
    "gcc says: error: expected ';' before 'return'\n\nint main() {\n    int x = 5\n    return x;\n}",
    "Can you review this? It feels slow on big lists.\n\ndef has_dup(xs):\n    for i in range(len(xs)):\n"
    "        for j in range(len(xs)):\n            if i != j and xs[i] == xs[j]:\n                return True\n"
    "    return False",
    "Please refactor this into smaller functions, it's doing too much:\n\ndef handle(req):\n"
    "    data = json.loads(req.body)\n    if 'email' not in data:\n        return 400\n"
    "    user = db.find(data['email'])\n    if user is None:\n        user = db.create(data['email'])\n"
    "    send_mail(user.email, 'welcome')\n    log.info('handled %s', user.id)\n    return 200",
    "Dockerfile for a Node 20 app: install with npm ci, run server.js, expose port 3000",
    "my react component re-renders forever, why?\n\nuseEffect(() => {\n  setCount(count + 1);\n});",
    "git: undo my last commit but keep the changes in my working tree",
    "write pytest tests for slugify(title), which lowercases and replaces spaces with dashes",
    'Why won\'t this compile?\n\nlet mut v = vec![1, 2, 3];\nlet first = &v[0];\nv.push(4);\nprintln!("{}", first);',
    "bash loop that pings 10.0.0.1 through 10.0.0.20 once each and prints the ones that answer",
    "kubectl command to get the logs of the previous crashed container in pod api-7d9f",
    "Go: a counter that is safe to use from many goroutines, with Inc() and Value() methods",
    "Walk me through this line by line:\n\nfor i in range(len(a) - 1, 0, -1):\n    j = random.randint(0, i)\n"
    "    a[i], a[j] = a[j], a[i]",
    "TypeScript type for an object whose keys are strings and whose values are arrays of numbers",
]

ROWS["code"]["zh"] = [
    "写一个函数，判断一个字符串是不是回文。",
    "帮我写个正则表达式，匹配中国大陆的十一位手机号。",
    "数据库里有订单表和用户表，怎么查出消费总额前十的用户？帮我写一下查询语句。",
    "程序一运行就报“段错误（核心已转储）”，一般是代码哪里写错了，怎么排查？",
    "怎么用一条命令把当前目录下所有的日志文件打包压缩？",
    "写一段定时脚本，每天凌晨两点自动备份数据库，只保留最近七天的备份",
    "帮我写个冒泡排序，注释用中文",
    "我写的递归求阶乘函数，输入一个很大的数就报栈溢出，怎么改成循环写法？",
    "写一个小爬虫，把某个网页上所有图片的链接抓下来存到文件里",
    "前端页面上的按钮点了没反应，浏览器控制台报“变量未定义”，代码该从哪查起？",
    "帮我写个快速排序，要能处理有大量重复元素的数组",
    "写一个函数，输入年月日，返回这一天是当年的第几天",
    "实现一个最近最少使用的缓存类，要求读和写都是常数时间",
    "给我写一个线程安全的单例模式的类",
    "反转一个单链表，写出代码，再讲一下指针是怎么移动的",
    "帮我写个小程序，读取表格文件里的销售记录，按月份汇总销售额",
    "安卓应用一打开就闪退，日志里是空指针异常，指向主界面的初始化方法，可能是哪里写错了",
    "用什么命令能查到哪个进程占用了八零八零端口？",
    "写一个二分查找，找不到目标值的时候返回负一",
    "编译的时候报“未定义的引用”，头文件我已经包含了，为什么还是报错？",
]

ROWS["code"]["mixed"] = [
    "帮我写个 Python 脚本，把一个文件夹里所有 .txt 文件按文件名顺序合并成一个",
    "这条 SQL 为什么这么慢？\nSELECT * FROM orders WHERE YEAR(created_at) = 2024;\n表里有两千万行，created_at 有索引",
    "这个 error 怎么解决：ModuleNotFoundError: No module named 'pandas'，我明明 pip install 过了",
    "把这段 Java 改写成 Go：\npublic int sum(int[] xs) {\n    int s = 0;\n    for (int x : xs) s += x;\n    return s;\n}",
    "写一个 regex 匹配常见的邮箱地址",
    "git merge 的时候冲突了，命令行里怎么解决？",
    "帮我 review 一下这段代码，有没有问题：\ndef avg(xs):\n    return sum(xs) / len(xs)",
    "用 pandas 怎么按 city 分组，求每组的平均 salary",
    "这行 shell 是干嘛的：find . -name '*.pyc' -delete",
    "docker build 到一半报错 'no space left on device'，要清理什么",
    "写个 bash 脚本监控磁盘使用率，超过 90% 就发邮件报警",
    "React 里 setState 之后马上 console.log 拿不到新值，代码如下，怎么改？\nconst [n, setN] = useState(0);\n"
    "function add() {\n  setN(n + 1);\n  console.log(n);\n}",
    "Explain 一下为什么这段 JavaScript 输出的是 3 3 3：\nfor (var i = 0; i < 3; i++) {\n"
    "  setTimeout(() => console.log(i), 0);\n}",
    "写一个 SQL，查出每个部门工资最高的员工，表是 employees(id, name, dept_id, salary)",
    "C++ 链接的时候报 undefined reference to `vtable for Foo'，是什么原因？",
    "用 TypeScript 写一个 debounce 函数，要带类型",
    "pod 一直 CrashLoopBackOff，kubectl logs 里是这个：\nError: listen EADDRINUSE: address already in use :::8080\n"
    "    at Server.setupListenHandle [as _listen2] (node:net:1817:16)\n代码哪里要改？",
    "crontab 怎么写才能每周一早上 9 点跑 backup.sh",
    "把这个 for loop 改成 list comprehension：\nresult = []\nfor x in data:\n    if x > 0:\n"
    "        result.append(x * 2)",
    "Python 读一个 20G 的大文件 memory 直接爆了，怎么改成一行一行 streaming 处理？",
]


def rows() -> list[dict[str, str]]:
    """All rows in a fixed order (class, then language, then position), ids b-<class>-<lang>-<nn>."""
    out = []
    for label in LABELS:
        for lang in LANGS:
            for i, text in enumerate(ROWS[label][lang], start=1):
                out.append({"id": f"b-{label}-{lang}-{i:02d}", "text": text, "label": label, "lang": lang})
    return out


CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LATIN = re.compile(r"[A-Za-z]")


def check(data: list[dict[str, str]]) -> None:
    """Fail loudly on a wrong count, a duplicate text, an unknown label or a language tag the text contradicts."""
    for label in LABELS:
        for lang in LANGS:
            n = len(ROWS[label][lang])
            if n != PER_CELL:
                raise SystemExit(f"{label}/{lang}: {n} rows, want {PER_CELL}")
    norm = [" ".join(r["text"].lower().split()) for r in data]
    dups = {t for t in norm if norm.count(t) > 1}
    if dups:
        raise SystemExit(f"duplicate texts: {sorted(dups)}")
    for r in data:
        t = r["text"]
        if r["label"] not in LABELS or r["lang"] not in LANGS:
            raise SystemExit(f"{r['id']}: bad label/lang")
        has_cjk, has_latin = bool(CJK.search(t)), bool(LATIN.search(t))
        ok = {"en": not has_cjk and has_latin, "zh": has_cjk and not has_latin, "mixed": has_cjk and has_latin}
        if not ok[r["lang"]]:
            raise SystemExit(f"{r['id']}: text does not match lang={r['lang']} (cjk={has_cjk}, latin={has_latin})")


def main() -> None:
    data = rows()
    check(data)
    path = Path(__file__).with_name("test.jsonl")
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data), encoding="utf-8")
    counts = {label: sum(r["label"] == label for r in data) for label in LABELS}
    print(f"wrote {path} ({len(data)} rows): {counts}")


if __name__ == "__main__":
    main()
