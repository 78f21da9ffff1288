"""Blind verifier evaluation set v2 (issue 12): 480 hand-written (a, b) pairs, English + Chinese.

Provenance (stated honestly): every pair below was written one by one by an LLM agent session
("W3", costlab team session 3) on 2026-11-30, from the team brief alone. The author had NO access
to the verifier's rules or code (src/costlab/serving/verifier*.py, guard.py), its training/dev
pairs or the older blind set (data/paraphrase/ outside blind2/), tests/serving/test_verifier.py,
docs/semantic-cache.md, or the git history of those. No templates, no slot filling: each row is a
literal string pair. Nothing here may be trained, tuned or calibrated on; the lead scores the
frozen verifier on it once.

Label semantics: 1 = "paraphrase" (same question; the cached answer to `a` is a correct answer to
`b`), 0 = hard negative (looks nearly the same but the correct answer differs). The label is
derived from `kind` ("paraphrase" -> 1, anything else -> 0), so label and kind cannot disagree.

Counts: 240 en + 240 zh. Per language: 100 paraphrase + 20 each of negation, number, unit,
entity, role, language_format, content (140 hard negatives).

Output: pairs.jsonl next to this file, one JSON object per line with keys
id, a, b, label, kind, lang (ids b2-0001..b2-0480, assigned after a fixed-seed shuffle so that
position does not reveal kind). Deterministic: re-running rewrites the file byte for byte.
Run:  .venv/bin/python data/paraphrase/blind2/make_pairs.py
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

KINDS = ("paraphrase", "negation", "number", "unit", "entity", "role", "language_format", "content")
SEED = 20261130
OUT = Path(__file__).with_name("pairs.jsonl")

# ----------------------------------------------------------------------------------------------
# English
# ----------------------------------------------------------------------------------------------
EN_PARAPHRASE = [
    (
        "How long should I boil an egg for a soft yolk?",
        "soft-boiled egg with a runny yolk, how many minutes in the water?",
    ),
    ("What's the capital of Australia?", "whats the captial city of australia"),
    ("Convert 5 km to miles", "How many miles is five kilometres?"),
    ("How do I reverse a list in Python?", "python: what's the way to get a list in reverse order"),
    ("Is it safe to take ibuprofen with paracetamol?", "can i safely take paracetamol and ibuprofen together?"),
    ("What is 15% of 80?", "Calculate fifteen percent of 80 for me please"),
    (
        "How do I undo the last git commit but keep my changes?",
        "git: revert my most recent commit while keeping the changes in my working tree",
    ),
    ("What time zone is Tokyo in?", "tokyo timezone?"),
    ("Translate 'good morning' into Spanish", "How do you say good morning in Spanish?"),
    ("Give me a recipe for banana bread", "Hi! Could you please share a banana bread recipe? Thanks so much"),
    ("How many days are there in a leap year?", "a leap year has how many days"),
    ("What's the boiling point of water in Fahrenheit?", "At what temperature in °F does water boil?"),
    ("How do I check disk usage on Linux?", "linux command to see how much disk space is used"),
    ("Explain what a Roth IRA is", "can u explain roth ira to me like im new to investing"),
    ("What are the symptoms of dehydration?", "signs that someone is dehydrated?"),
    ("Summarize the plot of Hamlet in three sentences", "In 3 sentences, give me a summary of what happens in Hamlet"),
    ("How many ounces are in a pound?", "1 lb = how many oz"),
    ("Write a SQL query to count rows in the users table", "sql to get the number of rows in users table"),
    ("What's the best time of year to visit Iceland?", "When should I go to Iceland, which season is best?"),
    (
        "How do I kill the process that is using port 8080?",
        "port 8080 is already in use, how do i kill whatever is running on it",
    ),
    (
        "Do I need a visa to visit Japan with a US passport?",
        "As an American passport holder, is a visa required for a trip to Japan?",
    ),
    ("What's the difference between TCP and UDP?", "UDP vs TCP: how do they differ?"),
    ("How much water should an adult drink per day?", "recommended daily water intake for a grown-up?"),
    ("Convert 2 cups to milliliters", "two cups in ml?"),
    (
        "Recommend a good beginner road bike under $1000",
        "I'm new to cycling. Which road bike would you suggest for less than 1,000 dollars?",
    ),
    ("How do I center a div in CSS?", "css centering a div horizontally and vertically, how?"),
    ("What's the square root of 144?", "sqrt(144) = ?"),
    ("Who wrote Pride and Prejudice?", "Pride and Prejudice was written by whom?"),
    ("How do I list all running Docker containers?", "docker command that shows the containers currently running"),
    ("Is coffee bad for your kidneys?", "does drinking coffee harm the kidneys"),
    ("How many calories are in a medium banana?", "calorie count for one medium-sized banana"),
    ("What does HTTP status 404 mean?", "meaning of a 404 http code"),
    ("How long is the flight from London to New York?", "flight time London -> NYC?"),
    ("What is the formula for the area of a circle?", "how do you calculate a circle's area"),
    ("Set a cron job to run every 15 minutes", "crontab expression for every fifteen minutes"),
    ("How do I make cold brew coffee at home?", "home-made cold brew: how do I make it?"),
    (
        "What's the interest on $10,000 at 5% for one year?",
        "If I put 10k dollars in at 5 percent a year, how much interest do I get after 1 year?",
    ),
    ("Explain photosynthesis to a 10-year-old", "how would you explain photosynthesis to a ten year old kid"),
    ("What's the tallest mountain in Africa?", "Africa's highest mountain is which one?"),
    ("How do I get a red wine stain out of a carpet?", "spilled red wine on my carpet, how do i remove it"),
    ("Is 97 a prime number?", "is the number ninety-seven prime"),
    ("What is the speed of light in km/s?", "speed of light in kilometres per second"),
    ("How do I rename a branch in git?", "git rename branch"),
    ("What are good stretches for lower back pain?", "Which stretches help a sore lower back?"),
    ("How many grams of protein are in 100 g of chicken breast?", "protein content per 100 grams of chicken breast"),
    ("How do I install Node.js on Ubuntu 22.04?", "ubuntu 22.04 node js install steps pls"),
    ("When did World War II end?", "In what year did WW2 end?"),
    ("Write a haiku about autumn", "could you compose an autumn haiku for me"),
    ("How do I freeze the top row in Excel?", "excel: keep the first row visible when I scroll down"),
    ("What's the population of Canada?", "how many people live in canada"),
    ("How many hours of sleep does a teenager need?", "recommended sleep for teens, in hours?"),
    ("Can dogs eat grapes?", "are grapes ok for dogs to eat?"),
    ("Convert 100°F to Celsius", "what is 100 degrees fahrenheit in celsius"),
    ("Suggest a name for my new bakery", "I'm opening a bakery, what should I call it?"),
    ("How do I split a string by comma in JavaScript?", "js split string on commas"),
    ("What is the GDP of Germany?", "Germany's gross domestic product?"),
    ("How do I get rid of hiccups?", "any way to make hiccups stop?"),
    ("List the planets in order from the sun", "what's the order of the planets starting from the sun"),
    (
        "Is it cheaper to take the train or the bus from Boston to New York?",
        "Boston to New York: bus or train, which one costs less?",
    ),
    ("How do I increase the memory limit of a Kubernetes pod?", "k8s: raise a pod's memory limit"),
    ("What's the difference between baking soda and baking powder?", "baking powder vs baking soda, what's different"),
    ("How many teaspoons are in a tablespoon?", "1 tbsp equals how many tsp"),
    (
        "Write a cover letter for a junior data analyst position",
        "I need a cover letter, I'm applying for a junior data analyst role",
    ),
    ("What causes a rainbow?", "why do rainbows form"),
    ("How do I reset my Gmail password if I forgot it?", "forgot my gmail password, how to reset it"),
    ("What's the half-life of caffeine?", "how long does it take for half of the caffeine to leave your body"),
    ("Find the derivative of x^2 + 3x", "d/dx (x² + 3x)"),
    ("Are there any direct flights from Seattle to Reykjavik?", "Does any airline fly nonstop Seattle to Reykjavik?"),
    ("How do I print the current date in bash?", "bash: show today's date"),
    ("What's the carry-on weight limit for Ryanair?", "Ryanair cabin bag max weight?"),
    ("How long can cooked rice stay in the fridge?", "cooked rice: how many days is it good for refrigerated"),
    ("What's the origin of the word 'salary'?", "etymology of salary"),
    ("Explain Big O notation simply", "simple explanation of big-O notation please"),
    ("How much should I tip at a restaurant in the US?", "usual restaurant tip percentage in america?"),
    (
        "Calculate the monthly payment on a $300,000 mortgage at 6% over 30 years",
        "30-year mortgage, 300k, six percent interest: what's the monthly payment?",
    ),
    ("How do I make my sourdough more sour?", "tips for getting a tangier sourdough loaf"),
    ("What's the chemical symbol for gold?", "gold's symbol on the periodic table"),
    (
        "How many players does a soccer team have on the field?",
        "number of players per side in a football (soccer) match",
    ),
    ("Help me write a polite email declining a meeting", "need a courteous email to say no to a meeting invite"),
    ("What is the weather usually like in Lisbon in March?", "typical March weather in Lisbon?"),
    ("How do I compress a folder into a tar.gz file?", "make a .tar.gz out of a directory"),
    ("What's 7 times 8?", "seven multiplied by eight"),
    ("Which vitamins are fat-soluble?", "what are the fat soluble vitamins"),
    ("How do I stop my laptop from overheating?", "laptop keeps getting way too hot, how to prevent that"),
    ("Recommend a sci-fi novel similar to Dune", "any sci fi books like Dune you'd recommend?"),
    ("What's the difference between a virus and a bacterium?", "bacteria vs viruses: differences"),
    ("How do I pip install a specific version of a package?", "pip: install a package at an exact version"),
    ("Is the Louvre open on Tuesdays?", "does the louvre open on tuesday"),
    ("What's 3/4 as a percentage?", "three quarters expressed as a percent"),
    ("How do I make a pivot table in Google Sheets?", "google sheets pivot table how to"),
    ("How far is the Moon from Earth?", "distance from earth to the moon?"),
    ("What should I pack for a week of hiking in Patagonia?", "Packing list for 7 days trekking in Patagonia"),
    ("Explain the difference between stocks and bonds", "bonds vs stocks explained"),
    ("How do I write a for loop in Go?", "golang for loop syntax"),
    ("What's the legal drinking age in Germany?", "In Germany, at what age can you legally drink alcohol?"),
    ("Give me a training plan to run 10 km in under 50 minutes", "need a plan to break 50 min in a 10k"),
    (
        "How do I delete all node_modules folders recursively?",
        "recursively remove every node_modules directory under here",
    ),
    ("What's the maximum weight for a checked bag on Delta, in kg?", "Delta checked baggage weight limit in kilograms"),
    ("thx, can u tell me how to convert a string to int in java", "How do I convert a String to an integer in Java?"),
    ("What's the fastest way to learn touch typing?", "quickest method to learn to touch type?"),
]

EN_NEGATION = [
    ("Which foods should I eat when I have gout?", "Which foods should I not eat when I have gout?"),
    ("How do I make pancakes with eggs?", "How do I make pancakes without eggs?"),
    ("List the EU countries that use the euro", "List the EU countries that don't use the euro"),
    (
        "Why does my Python script run when I double-click it?",
        "Why doesn't my Python script run when I double-click it?",
    ),
    ("Find flights from Chicago to Denver with a layover", "Find flights from Chicago to Denver without a layover"),
    ("How do I list the files that are tracked by git?", "How do I list the files that are not tracked by git?"),
    (
        "Write a SQL query for customers who have placed an order",
        "Write a SQL query for customers who have never placed an order",
    ),
    ("Vegetarian lasagna recipe with cheese", "Vegetarian lasagna recipe without cheese"),
    ("Why is my laptop fan always on?", "Why is my laptop fan never on?"),
    ("Which painkillers can be taken during pregnancy?", "Which painkillers can't be taken during pregnancy?"),
    ("Museums in Rome that require booking in advance", "Museums in Rome that don't require booking in advance"),
    ("What happens if I stretch before running?", "What happens if I don't stretch before running?"),
    ("Python regex to match lines that contain 'error'", "Python regex to match lines that do not contain 'error'"),
    ("Which fruits can I eat on a low-FODMAP diet?", "Which fruits can't I eat on a low-FODMAP diet?"),
    ("Items I can bring in carry-on luggage", "Items I cannot bring in carry-on luggage"),
    ("How do I make grep case-insensitive?", "How do I make grep case-sensitive?"),
    (
        "Which countries require a visa for Indian citizens?",
        "Which countries do not require a visa for Indian citizens?",
    ),
    (
        "How do I run a Docker container with root privileges?",
        "How do I run a Docker container without root privileges?",
    ),
    ("Is it a cold if I have a sore throat and a fever?", "Is it a cold if I have a sore throat but no fever?"),
    ("Stocks in the S&P 500 that pay dividends", "Stocks in the S&P 500 that pay no dividends"),
]

EN_NUMBER = [
    ("Convert 5 km to miles", "Convert 15 km to miles"),
    ("What is 15% of 80?", "What is 15% of 90?"),
    (
        "Monthly payment on a $300,000 mortgage at 6% over 30 years",
        "Monthly payment on a $300,000 mortgage at 6% over 15 years",
    ),
    ("What happened in Berlin in 1989?", "What happened in Berlin in 1961?"),
    ("Cheap flights from London to Rome on 12 March", "Cheap flights from London to Rome on 21 March"),
    ("How many calories are in 2 boiled eggs?", "How many calories are in 3 boiled eggs?"),
    ("Is 91 a prime number?", "Is 93 a prime number?"),
    ("How long do I bake chicken thighs at 200°C?", "How long do I bake chicken thighs at 160°C?"),
    ("When does Ubuntu 20.04 reach end of standard support?", "When does Ubuntu 22.04 reach end of standard support?"),
    ("Does Python 3.7 support the walrus operator?", "Does Python 3.9 support the walrus operator?"),
    (
        "Interest on $10,000 at 5% for 3 years compounded annually",
        "Interest on $10,000 at 4% for 3 years compounded annually",
    ),
    ("What's the paracetamol dose for a 20 kg child?", "What's the paracetamol dose for a 30 kg child?"),
    ("Set a cron job to run every 15 minutes", "Set a cron job to run every 5 minutes"),
    ("Split a bill of $84 between 4 people", "Split a bill of $84 between 3 people"),
    ("What does HTTP status 403 mean?", "What does HTTP status 413 mean?"),
    (
        "How many days are left until Christmas if today is December 1?",
        "How many days are left until Christmas if today is December 10?",
    ),
    ("Scale this recipe from 4 servings to 6", "Scale this recipe from 4 servings to 10"),
    ("Top 5 most popular programming languages in 2023", "Top 10 most popular programming languages in 2023"),
    ("How much is a 20% tip on $45?", "How much is an 18% tip on $45?"),
    ("What was the population of Ireland in 1841?", "What was the population of Ireland in 1851?"),
]

EN_UNIT = [
    ("How long does it take to walk 5 km?", "How long does it take to walk 5 miles?"),
    ("Bake cookies at 180 degrees Celsius for how long?", "Bake cookies at 180 degrees Fahrenheit for how long?"),
    ("I weigh 70 kg, how much protein should I eat per day?", "I weigh 70 lb, how much protein should I eat per day?"),
    ("Convert 100 yuan to euros", "Convert 100 dollars to euros"),
    ("How many cups are in 2 liters?", "How many cups are in 2 quarts?"),
    ("Is 120 km/h over the speed limit on a UK motorway?", "Is 120 mph over the speed limit on a UK motorway?"),
    ("How many 4 MB photos fit on a 64 GB SD card?", "How many 4 MB photos fit on a 64 MB SD card?"),
    ("Is bath water at 40°C safe for a baby?", "Is bath water at 40°F safe for a baby?"),
    (
        "Rent is 3000 yuan a month, is that cheap for Chengdu?",
        "Rent is 3000 dollars a month, is that cheap for Chengdu?",
    ),
    ("I ran 5 miles in 40 minutes, what pace is that?", "I ran 5 km in 40 minutes, what pace is that?"),
    ("Is taking 500 mg of vitamin C a day too much?", "Is taking 500 mcg of vitamin C a day too much?"),
    ("How long to download a 10 GB file at 100 Mbps?", "How long to download a 10 GB file at 100 MB/s?"),
    ("Convert 32 psi to kPa", "Convert 32 bar to kPa"),
    (
        "How many calories do I need to burn to lose 1 kg of fat?",
        "How many calories do I need to burn to lose 1 lb of fat?",
    ),
    (
        "Is a 27-inch monitor too big for a desk that is 60 cm deep?",
        "Is a 27-inch monitor too big for a desk that is 60 inches deep?",
    ),
    ("Is 2 tablespoons of salt too much for a pot of soup?", "Is 2 teaspoons of salt too much for a pot of soup?"),
    ("Is 8 hours a week of training enough for a marathon?", "Is 8 hours a day of training enough for a marathon?"),
    (
        "Is a fuel consumption of 8 litres per 100 km good for an SUV?",
        "Is a fuel consumption of 8 litres per 100 miles good for an SUV?",
    ),
    ("Is a salary of 50k per year good in Berlin?", "Is a salary of 50k per month good in Berlin?"),
    ("How much is 500 euros in Polish zloty?", "How much is 500 pounds in Polish zloty?"),
]

EN_ENTITY = [
    ("Do I need a visa to visit Japan with a US passport?", "Do I need a visa to visit Vietnam with a US passport?"),
    ("Who founded Airbnb?", "Who founded Etsy?"),
    ("Best time to visit Tromsø for the northern lights", "Best time to visit Abisko for the northern lights"),
    ("Can I take ibuprofen with lisinopril?", "Can I take ibuprofen with levothyroxine?"),
    ("What's the population of Tallinn?", "What's the population of Tartu?"),
    ("How do I install PostgreSQL on macOS?", "How do I install MariaDB on macOS?"),
    ("What are the opening hours of the Prado Museum?", "What are the opening hours of the Reina Sofía Museum?"),
    ("Who won the 2018 World Cup?", "Who won the 2018 Tour de France?"),
    ("What's the battery life of the Pixel 8?", "What's the battery life of the Pixel 8a?"),
    ("How long is the train from Zurich to Lucerne?", "How long is the train from Zurich to Lugano?"),
    ("What are the common side effects of sertraline?", "What are the common side effects of bupropion?"),
    ("What's AMD's P/E ratio?", "What's Nvidia's P/E ratio?"),
    ("What is the capital of Slovakia?", "What is the capital of Slovenia?"),
    ("How do I deploy to AWS Lambda with Terraform?", "How do I deploy to Google Cloud Functions with Terraform?"),
    ("Who is the CEO of Spotify?", "Who is the CEO of Shopify?"),
    ("What time is it in Perth when it's noon in Sydney?", "What time is it in Brisbane when it's noon in Sydney?"),
    ("Is the Kindle Paperwhite waterproof?", "Is the basic Kindle waterproof?"),
    ("How do I convert a pandas DataFrame to a dict?", "How do I convert a polars DataFrame to a dict?"),
    ("What's the tallest building in Dubai?", "What's the tallest building in Doha?"),
    ("Who directed the film Parasite?", "Who directed the film Burning?"),
]

EN_ROLE = [
    ("What time is it in London when it's 9 am in New York?", "What time is it in New York when it's 9 am in London?"),
    ("What's the formula to convert Celsius to Fahrenheit?", "What's the formula to convert Fahrenheit to Celsius?"),
    (
        "Did Argentina beat France in the 2022 World Cup final?",
        "Did France beat Argentina in the 2022 World Cup final?",
    ),
    ("How do I convert a list to a tuple in Python?", "How do I convert a tuple to a list in Python?"),
    (
        "Translate 'Where is the station?' from English to Japanese",
        "Translate 'Where is the station?' from Japanese to English",
    ),
    ("How much is 100 USD in EUR?", "How much is 100 EUR in USD?"),
    ("How long is the flight from Los Angeles to Tokyo?", "How long is the flight from Tokyo to Los Angeles?"),
    ("Copy a file from my server to my laptop with scp", "Copy a file from my laptop to my server with scp"),
    ("Is a square a rectangle?", "Is a rectangle a square?"),
    ("How do I merge the feature branch into main?", "How do I merge main into the feature branch?"),
    ("Convert 3 miles to km", "Convert 3 km to miles"),
    ("How many years older is Biden than Obama?", "How many years older is Obama than Biden?"),
    (
        "Write an email from a manager to an employee about arriving late",
        "Write an email from an employee to a manager about arriving late",
    ),
    ("Python: how do I convert bytes to str?", "Python: how do I convert str to bytes?"),
    ("Compute 2 to the power of 10", "Compute 10 to the power of 2"),
    ("Divide 12 by 4", "Divide 4 by 12"),
    (
        "Can someone with blood type O donate to someone with type A?",
        "Can someone with blood type A donate to someone with type O?",
    ),
    ("How do I redirect stderr to stdout in bash?", "How do I redirect stdout to stderr in bash?"),
    ("When did Liverpool beat Barcelona 4-0?", "When did Barcelona beat Liverpool 4-0?"),
    (
        "SSH tunnel: forward local port 8080 to remote port 5432",
        "SSH tunnel: forward remote port 8080 to local port 5432",
    ),
]

EN_LANGUAGE_FORMAT = [
    ("Translate 'where is the bathroom' into French", "Translate 'where is the bathroom' into German"),
    ("Output the list of users as JSON", "Output the list of users as YAML"),
    ("Compare the three phone plans in a table", "Compare the three phone plans in a bulleted list"),
    (
        "Write a function that checks if a string is a palindrome in Python",
        "Write a function that checks if a string is a palindrome in Rust",
    ),
    ("Summarize this article in English", "Summarize this article in Spanish"),
    ("Give me today's date in ISO 8601 format", "Give me today's date in RFC 2822 format"),
    ("How do I export a pandas DataFrame to CSV?", "How do I export a pandas DataFrame to Parquet?"),
    ("Translate 'happy birthday' into Portuguese", "Translate 'happy birthday' into Polish"),
    ("Describe the ocean in a haiku", "Describe the ocean in a limerick"),
    ("Explain recursion in 3 bullet points", "Explain recursion in 3 paragraphs"),
    ("Convert this Markdown table to HTML", "Convert this Markdown table to LaTeX"),
    ("Write a Makefile to build a small C project", "Write a CMakeLists.txt to build a small C project"),
    ("Give me the pancake recipe as a numbered list", "Give me the pancake recipe as a single paragraph"),
    ("Query the top 10 rows of orders in SQL Server syntax", "Query the top 10 rows of orders in PostgreSQL syntax"),
    ("Translate the menu into Simplified Chinese", "Translate the menu into Traditional Chinese"),
    ("Format this citation in APA style", "Format this citation in MLA style"),
    ("Return the parsed result as a Python dict", "Return the parsed result as a pandas DataFrame"),
    ("Write the API docs in reStructuredText", "Write the API docs in Markdown"),
    ("What is the capital of Peru? Answer in one word.", "What is the capital of Peru? Answer in one paragraph."),
    ("Draw the system architecture as a Mermaid diagram", "Draw the system architecture as a PlantUML diagram"),
]

EN_CONTENT = [
    (
        "Fastest way to get from Oslo airport to the city centre",
        "Cheapest way to get from Oslo airport to the city centre",
    ),
    ("What should I eat before a long run?", "What should I eat after a long run?"),
    ("How long do I boil potatoes?", "How long do I bake potatoes?"),
    ("Which US state has the highest income tax?", "Which US state has the lowest income tax?"),
    ("How many times has Brazil beaten Argentina?", "How many times has Brazil lost to Argentina?"),
    ("How do I encrypt a file with GPG?", "How do I decrypt a file with GPG?"),
    ("How do I add a column to a table in SQL?", "How do I drop a column from a table in SQL?"),
    ("List foods that are high in potassium", "List foods that are low in potassium"),
    ("What's the largest lake in Africa?", "What's the deepest lake in Africa?"),
    ("What are the signs of a heart attack in women?", "What are the signs of a panic attack in women?"),
    ("How do I grow tomatoes indoors?", "How do I grow tomatoes outdoors?"),
    ("How do I upload a file to S3 with the AWS CLI?", "How do I download a file from S3 with the AWS CLI?"),
    ("How much is a first-class stamp in the UK?", "How much is a second-class stamp in the UK?"),
    ("How do I sort a list in ascending order in Python?", "How do I sort a list in descending order in Python?"),
    ("What time is the earliest train from Paris to Lyon?", "What time is the latest train from Paris to Lyon?"),
    ("Why is my cake dry?", "Why is my cake soggy?"),
    ("What are the advantages of remote work?", "What are the disadvantages of remote work?"),
    ("How do I install a package globally with npm?", "How do I uninstall a package globally with npm?"),
    ("What is the melting point of iron?", "What is the boiling point of iron?"),
    ("Best beaches in Portugal for surfing", "Best beaches in Portugal for swimming"),
]

# ----------------------------------------------------------------------------------------------
# Chinese (simplified; written directly in Chinese, not translated from the English rows)
# ----------------------------------------------------------------------------------------------
ZH_PARAPHRASE = [
    ("从北京南站到天津站坐高铁要多久？", "北京南去天津的高铁大概要坐多长时间"),
    ("红烧肉怎么做才不腻？", "做红烧肉有什么办法能让它吃起来不油腻"),
    ("个人所得税的起征点是多少？", "个税起征点现在是多少钱"),
    ("Python里怎么把字符串转成整数？", "python 字符串转int怎么写"),
    ("感冒了可以喝牛奶吗？", "感冒期间能不能喝牛奶"),
    ("5公里跑步大概消耗多少卡路里？", "跑五公里能消耗多少热量"),
    ("怎么查看Linux服务器的内存使用情况？", "linux 看内存占用用什么命令"),
    ("高考一共考几天？", "高考要考多少天"),
    ("公积金可以用来付房租吗？", "租房能不能提取住房公积金"),
    ("西湖门票多少钱？", "去杭州西湖玩要买门票吗，多少钱"),
    ("孕妇能吃螃蟹吗？", "怀孕了可以吃螃蟹不"),
    ("git怎么撤销上一次提交？", "上一个commit想撤回，git命令是啥"),
    ("一斤等于多少克？", "1斤是几克"),
    ("怎么给猫剪指甲它才不反抗？", "猫咪剪指甲总是挣扎，有什么好办法"),
    ("淘宝买的东西七天无理由退货怎么操作？", "淘宝7天无理由退货流程是怎样的"),
    ("请问去成都旅游几月份最合适？", "成都什么季节去玩最好"),
    ("血压多少算高血压？", "高血压的诊断标准是多少"),
    ("怎么用Excel算平均值？", "excel求平均数的公式"),
    ("信用卡逾期一天会影响征信吗？", "信用卡晚还了1天，会不会上征信"),
    ("空腹可以喝咖啡吗？", "没吃早饭直接喝咖啡行不行"),
    ("西红柿炒鸡蛋先放鸡蛋还是先放西红柿？", "番茄炒蛋应该先炒蛋还是先炒番茄"),
    ("考研英语一和英语二有什么区别？", "考研的英语二和英语一不同在哪里"),
    ("Docker容器怎么查看日志？", "怎样看docker容器的log"),
    ("100美元等于多少人民币？", "一百美金能换多少人民币"),
    ("小孩发烧38度要吃退烧药吗？", "孩子烧到三十八度需要吃退烧药吗"),
    ("怎么把PDF转成Word？", "pdf转word有什么方法"),
    ("坐飞机充电宝能带多大容量的？", "充电宝多大容量可以带上飞机"),
    ("手机掉水里了怎么办？", "手机进水了该怎么处理"),
    ("青岛有哪些值得去的景点？", "去青岛玩有什么推荐的地方"),
    ("1平方米等于多少平方厘米？", "一平米是多少平方厘米"),
    ("怎么用Python读取CSV文件？", "python读csv文件的方法"),
    ("长期熬夜对身体有什么危害？", "经常熬夜会对身体造成哪些伤害"),
    ("蒸米饭水和米的比例是多少？", "蒸饭时米和水应该按什么比例放"),
    ("社保断缴一个月有什么影响？", "社保停交1个月会有什么后果"),
    ("如何在MySQL里给表添加索引？", "mysql 怎么加索引"),
    ("拔完智齿多久可以吃东西？", "智齿拔了以后要过多长时间才能吃饭"),
    ("内地居民去香港需要办什么证件？", "大陆的人去香港要带什么证"),
    ("基金定投怎么止盈？", "定投基金什么时候该卖出止盈"),
    ("怎样快速背单词？", "有没有记英语单词的快速方法"),
    ("北京到上海的距离有多少公里？", "京沪两地相距多少千米"),
    ("鸡蛋煮几分钟是溏心的？", "溏心蛋要煮多久"),
    ("怎么清理C盘空间？", "C盘满了怎么清理"),
    ("吃完头孢隔多久可以喝酒？", "吃了头孢多长时间以后才能喝酒"),
    ("深圳的房贷利率现在是多少？", "目前在深圳买房贷款利率多少"),
    ("一年级数学10以内加减法怎么教？", "怎么教一年级孩子做十以内的加减法"),
    ("Nginx怎么配置反向代理？", "nginx 反向代理配置方法"),
    ("黄山爬上去要几个小时？", "登黄山大概需要多长时间"),
    ("每天走一万步能减肥吗？", "一天走10000步可以瘦吗"),
    ("电饭煲可以做蛋糕吗？", "用电饭锅能做蛋糕吗"),
    ("微信转账转错了能撤回吗？", "微信钱转错人了，还能撤回来吗"),
    ("怎么查询自己的社保缴费记录？", "社保交了多少在哪里查"),
    ("糖尿病人可以吃水果吗？", "有糖尿病的人能吃水果吗"),
    ("如何写一份实习简历？", "实习生的简历该怎么写"),
    ("在Kubernetes里怎么查看Pod的状态？", "k8s 查看pod状态的命令"),
    ("猫咪多大可以打疫苗？", "小猫几个月能打疫苗"),
    ("300克面粉大概是几杯？", "三百克的面粉等于多少杯"),
    ("乘坐高铁可以带酒吗？", "高铁上能带酒吗"),
    ("怎么把照片的背景换成白色？", "照片背景怎么改成白底"),
    ("感冒和流感有什么区别？", "流感跟普通感冒怎么区分"),
    ("苹果手机怎么截长图？", "iPhone如何截取长截图"),
    ("北京的地铁最晚几点停运？", "北京地铁末班车一般几点"),
    ("跑步膝盖疼是什么原因？", "为什么跑完步膝盖会疼"),
    ("房租可以抵扣个税吗？", "交房租能不能用来减个人所得税"),
    ("大学英语四六级多少分算通过？", "英语四级六级考多少分才算过"),
    ("怎样用JavaScript获取当前时间？", "js 怎么拿到现在的时间"),
    ("吃完饭马上运动好不好？", "饭后马上运动对身体好吗"),
    ("中国最长的河流是哪条？", "我国第一长河是什么"),
    ("狗狗能吃巧克力吗？", "巧克力可以给狗吃吗"),
    ("冰箱冷藏室温度调到几度合适？", "冰箱保鲜层设置多少度比较好"),
    ("重庆有什么特色美食？", "去重庆必吃的东西有哪些"),
    ("1英寸等于多少厘米？", "一英寸是几公分"),
    ("怎么在Word里插入目录？", "word文档怎么自动生成目录"),
    ("胃疼吃什么药好？", "胃痛的话该吃什么药"),
    ("买二手车要注意什么？", "购买二手汽车有哪些注意事项"),
    ("怎么把本地Git仓库推送到GitHub？", "本地git仓库怎样push到github上"),
    ("一个人去云南旅游七天要花多少钱？", "独自去云南玩7天大概需要多少预算"),
    ("每天吃多少克盐合适？", "一天的食盐摄入量应该控制在多少g"),
    ("宝宝几个月可以添加辅食？", "婴儿多大开始吃辅食"),
    ("房子装修先装地板还是先刷墙？", "装修时刷墙和铺地板哪个在前"),
    ("SSH免密登录怎么配置？", "怎样设置ssh不用输密码登录"),
    ("鱼香肉丝里为什么没有鱼？", "鱼香肉丝明明没有鱼，为啥叫这个名字"),
    ("信用卡年费怎么免？", "有什么办法可以不交信用卡年费"),
    ("怎么判断西瓜熟没熟？", "挑西瓜时怎么看是不是熟的"),
    ("广州到桂林坐高铁多长时间？", "从广州坐高铁去桂林需要几个钟头"),
    ("牙龈出血是什么原因？", "刷牙时牙龈老是出血，怎么回事"),
    ("怎么用pandas删除重复行？", "pandas去重怎么写"),
    ("初中物理浮力公式是什么？", "浮力的计算公式（初中物理）"),
    ("五险一金指的是什么？", "什么叫五险一金"),
    ("2.5升等于多少毫升？", "两升半是几毫升"),
    ("怎样提高孩子的阅读兴趣？", "如何让小孩更喜欢读书"),
    ("中国护照去日本旅游要办签证吗？", "拿中国护照去日本玩需不需要签证"),
    ("老人失眠怎么办？", "老年人晚上睡不着觉有什么办法"),
    ("Redis和Memcached有什么区别？", "memcached跟redis比有哪些不同"),
    ("京东买的手机可以保价吗？", "在京东买了手机，降价了能申请价保吗"),
    ("怎么做一个简单的番茄意面？", "简单的番茄意大利面做法"),
    ("1千克等于多少磅？", "一公斤是几磅"),
    ("手机流量用得特别快怎么办？", "手机流量怎么消耗得这么快，有什么办法"),
    ("请问怎么在Linux里查找大文件？", "linux下如何找出占空间大的文件"),
    ("年终奖怎么计税？", "年终奖要交多少税，怎么算"),
    ("乘飞机液体能带多少毫升？", "坐飞机随身携带的液体限制是多少ml"),
]

ZH_NEGATION = [
    ("哪些水果适合糖尿病人吃？", "哪些水果不适合糖尿病人吃？"),
    ("放泡打粉的蛋糕怎么做？", "不放泡打粉的蛋糕怎么做？"),
    ("孕妇可以做的运动有哪些？", "孕妇不能做的运动有哪些？"),
    ("Docker容器启动后为什么会自动退出？", "Docker容器启动后为什么不会自动退出？"),
    ("有网的时候手机怎么投屏到电视？", "没网的时候手机怎么投屏到电视？"),
    ("国内哪些城市买房限购？", "国内哪些城市买房不限购？"),
    ("Linux怎么查看哪些端口被占用了？", "Linux怎么查看哪些端口没有被占用？"),
    ("北京哪些景点需要提前预约？", "北京哪些景点不用提前预约？"),
    ("坐高铁可以带的东西有哪些？", "坐高铁不能带的东西有哪些？"),
    ("别人加我微信时怎么设置需要验证？", "别人加我微信时怎么设置不需要验证？"),
    ("无糖饮料会让人发胖吗？", "有糖饮料会让人发胖吗？"),
    ("已满16周岁能自己办护照吗？", "未满16周岁能自己办护照吗？"),
    ("哪些食物含有麸质？", "哪些食物不含麸质？"),
    ("怎么设置微信别人看不到我的朋友圈？", "怎么设置微信别人能看到我的朋友圈？"),
    ("Python里怎么判断列表为空？", "Python里怎么判断列表不为空？"),
    ("医保能报销哪些药？", "医保不能报销哪些药？"),
    ("辣的川菜有哪些推荐？", "不辣的川菜有哪些推荐？"),
    ("哪些信用卡免年费？", "哪些信用卡不免年费？"),
    ("签了劳动合同被辞退怎么赔偿？", "没签劳动合同被辞退怎么赔偿？"),
    ("Excel怎么筛选包含某个字的行？", "Excel怎么筛选不包含某个字的行？"),
]

ZH_NUMBER = [
    ("2024年春节是几月几号？", "2025年春节是几月几号？"),
    ("月薪1万要交多少个税？", "月薪1.5万要交多少个税？"),
    ("30岁女性每天需要摄入多少热量？", "50岁女性每天需要摄入多少热量？"),
    ("孩子3个月大能喝水吗？", "孩子8个月大能喝水吗？"),
    ("房贷100万30年每月还多少？", "房贷100万20年每月还多少？"),
    ("Python 3.6 支持 f-string 吗？", "Python 3.5 支持 f-string 吗？"),
    ("原价260元打八折是多少钱？", "原价260元打七折是多少钱？"),
    ("体温36.8度算发烧吗？", "体温37.8度算发烧吗？"),
    ("高考600分能上什么大学？", "高考500分能上什么大学？"),
    ("怎么让nginx监听80端口？", "怎么让nginx监听443端口？"),
    ("1998年出生今年多大？", "1989年出生今年多大？"),
    ("存款5万，年利率2%，一年利息多少？", "存款5万，年利率3%，一年利息多少？"),
    ("坐飞机能带20000毫安的充电宝吗？", "坐飞机能带30000毫安的充电宝吗？"),
    ("北京时间早上8点是纽约几点？", "北京时间晚上8点是纽约几点？"),
    ("4人份的红烧肉要买多少五花肉？", "8人份的红烧肉要买多少五花肉？"),
    ("每月30G流量够用吗？", "每月10G流量够用吗？"),
    ("从1加到100等于多少？", "从1加到1000等于多少？"),
    ("孩子7岁能坐副驾驶吗？", "孩子12岁能坐副驾驶吗？"),
    ("乙肝疫苗打了2针还需要打第三针吗？", "乙肝疫苗打了3针还需要打第四针吗？"),
    ("Linux里chmod 755是什么意思？", "Linux里chmod 775是什么意思？"),
]

ZH_UNIT = [
    ("5公里跑30分钟算什么水平？", "5英里跑30分钟算什么水平？"),
    ("100元人民币能换多少日元？", "100美元能换多少日元？"),
    ("一天喝2升水够吗？", "一天喝2杯水够吗？"),
    ("体重60公斤每天应该吃多少蛋白质？", "体重60斤每天应该吃多少蛋白质？"),
    ("室外零下10摄氏度要穿什么？", "室外零下10华氏度要穿什么？"),
    ("一套100平方米的房子算大吗？", "一套100平方英尺的房子算大吗？"),
    ("一亩地有多少平方米？", "一公顷地有多少平方米？"),
    ("每天补充500毫克钙够吗？", "每天补充500微克钙够吗？"),
    ("网速50兆下载一个4G的游戏要多久？", "网速50兆下载一个4M的游戏要多久？"),
    ("3000港币相当于多少人民币？", "3000新台币相当于多少人民币？"),
    ("每小时走6公里算快走吗？", "每小时走6英里算快走吗？"),
    ("北京的自来水一吨多少钱？", "北京的自来水一升多少钱？"),
    ("空腹血糖7.0 mmol/L高吗？", "空腹血糖7.0 mg/dL高吗？"),
    ("小孩感冒药每次吃10毫升会不会太多？", "小孩感冒药每次吃10毫克会不会太多？"),
    ("1TB的硬盘能存多少部电影？", "1GB的硬盘能存多少部电影？"),
    ("年化收益率4%算高吗？", "月化收益率4%算高吗？"),
    ("配速每公里5分钟算快吗？", "配速每英里5分钟算快吗？"),
    ("汽车百公里油耗8升正常吗？", "汽车百公里油耗8加仑正常吗？"),
    ("一次喝半斤白酒会醉吗？", "一次喝半两白酒会醉吗？"),
    ("家里电费一度0.6元贵吗？", "家里电费一度0.6美元贵吗？"),
]

ZH_ENTITY = [
    ("从成都到九寨沟怎么走？", "从成都到稻城亚丁怎么走？"),
    ("布洛芬孕妇能吃吗？", "对乙酰氨基酚孕妇能吃吗？"),
    ("华为Mate 60支持卫星通话吗？", "华为P60支持卫星通话吗？"),
    ("婺源什么时候去看油菜花最好？", "罗平什么时候去看油菜花最好？"),
    ("阿里巴巴的创始人是谁？", "拼多多的创始人是谁？"),
    ("淄博烧烤有什么特色？", "锦州烧烤有什么特色？"),
    ("鲁迅的原名是什么？", "巴金的原名是什么？"),
    ("招商银行信用卡客服电话是多少？", "浦发银行信用卡客服电话是多少？"),
    ("Vue怎么实现组件之间的通信？", "React怎么实现组件之间的通信？"),
    ("大理古城里有哪些好吃的？", "丽江古城里有哪些好吃的？"),
    ("小米SU7的续航是多少公里？", "小米YU7的续航是多少公里？"),
    ("去阿勒泰旅游要注意什么？", "去喀什旅游要注意什么？"),
    ("清华大学的校训是什么？", "复旦大学的校训是什么？"),
    ("MySQL怎么查看所有数据库？", "PostgreSQL怎么查看所有数据库？"),
    ("比亚迪海豹多少钱？", "比亚迪海豚多少钱？"),
    ("泉州有什么好玩的地方？", "漳州有什么好玩的地方？"),
    ("《春晓》的作者是谁？", "《登鹳雀楼》的作者是谁？"),
    ("二甲双胍有什么副作用？", "格列美脲有什么副作用？"),
    ("宁德时代的总部在哪里？", "比亚迪的总部在哪里？"),
    ("上海虹桥站到外滩怎么走？", "上海南站到外滩怎么走？"),
]

ZH_ROLE = [
    ("北京到上海的高铁最早一班几点？", "上海到北京的高铁最早一班几点？"),
    ("帮我把这句话从中文翻译成英文", "帮我把这句话从英文翻译成中文"),
    ("中国队3比1战胜日本队是哪一年？", "日本队3比1战胜中国队是哪一年？"),
    ("今天美元兑人民币汇率是多少？", "今天人民币兑美元汇率是多少？"),
    ("怎么把Word转成PDF？", "怎么把PDF转成Word？"),
    ("华氏度转摄氏度的公式是什么？", "摄氏度转华氏度的公式是什么？"),
    ("老婆的哥哥怎么称呼？", "哥哥的老婆怎么称呼？"),
    ("支付宝怎么给微信转账？", "微信怎么给支付宝转账？"),
    ("深圳的房价比广州高多少？", "广州的房价比深圳高多少？"),
    ("从广州南站到深圳北站最晚一班高铁几点？", "从深圳北站到广州南站最晚一班高铁几点？"),
    ("人民币换港币在哪里换最划算？", "港币换人民币在哪里换最划算？"),
    ("Linux怎么把本地文件复制到服务器？", "Linux怎么把服务器上的文件复制到本地？"),
    ("Python怎么把列表转成字典？", "Python怎么把字典转成列表？"),
    ("git怎么把dev分支合并到master？", "git怎么把master分支合并到dev？"),
    ("合同里甲方违约了乙方怎么办？", "合同里乙方违约了甲方怎么办？"),
    ("10除以3等于多少？", "3除以10等于多少？"),
    ("孙子能继承爷爷的房产吗？", "爷爷能继承孙子的房产吗？"),
    ("湖人队上一次输给勇士队是什么时候？", "勇士队上一次输给湖人队是什么时候？"),
    ("东京比北京快几个小时？", "北京比东京快几个小时？"),
    ("怎么把毫升换算成盎司？", "怎么把盎司换算成毫升？"),
]

ZH_LANGUAGE_FORMAT = [
    ("把“欢迎光临”翻译成日语", "把“欢迎光临”翻译成韩语"),
    ("把这个配置文件改写成JSON格式", "把这个配置文件改写成TOML格式"),
    ("用表格对比一下这两款手机的优缺点", "用列表对比一下这两款手机的优缺点"),
    ("用Java写一个冒泡排序", "用Go写一个冒泡排序"),
    ("把这篇文章翻译成繁体中文", "把这篇文章翻译成粤语"),
    ("用文言文写一段生日祝福", "用白话文写一段生日祝福"),
    ("请用英文回答：长城有多长？", "请用法文回答：长城有多长？"),
    ("写一首五言绝句描写春天", "写一首七言绝句描写春天"),
    ("Python怎么把DataFrame保存成Excel文件？", "Python怎么把DataFrame保存成JSON文件？"),
    ("用Markdown格式写一份周报", "用邮件格式写一份周报"),
    ("请用拼音给这首诗注音", "请用注音符号给这首诗注音"),
    ("用Shell脚本实现批量重命名文件", "用Python脚本实现批量重命名文件"),
    ("用一句话概括《三体》", "用一首诗概括《三体》"),
    ("把时间格式化成YYYY-MM-DD", "把时间格式化成Unix时间戳"),
    ("“你吃饭了吗”用上海话怎么说？", "“你吃饭了吗”用四川话怎么说？"),
    ("用LaTeX写出一元二次方程的求根公式", "用MathML写出一元二次方程的求根公式"),
    ("帮我写一份英文自我介绍", "帮我写一份日文自我介绍"),
    ("用CSV格式列出中国各省的省会", "用JSON格式列出中国各省的省会"),
    ("用SQL按部门统计平均工资", "用pandas按部门统计平均工资"),
    ("把这份放假通知改写成正式公文格式", "把这份放假通知改写成微信群消息格式"),
]

ZH_CONTENT = [
    ("今年哪个省份的GDP最高？", "今年哪个省份的GDP最低？"),
    ("饭前吃什么水果好？", "饭后吃什么水果好？"),
    ("红薯怎么蒸才好吃？", "红薯怎么烤才好吃？"),
    ("国足赢过越南几次？", "国足输给越南几次？"),
    ("吃什么可以降血压？", "吃什么可以升血压？"),
    ("跟老板提加薪怎么开口？", "跟老板提辞职怎么开口？"),
    ("怎么给U盘加密？", "怎么给U盘解密？"),
    ("上海到杭州最便宜的交通方式是什么？", "上海到杭州最快的交通方式是什么？"),
    ("牛排五分熟要煎多久？", "牛排全熟要煎多久？"),
    ("猫为什么喜欢舔人？", "猫为什么喜欢咬人？"),
    ("Python怎么读取文本文件？", "Python怎么写入文本文件？"),
    ("考研报名时间是什么时候？", "考研成绩公布时间是什么时候？"),
    ("早上空腹喝蜂蜜水有什么好处？", "早上空腹喝蜂蜜水有什么坏处？"),
    ("MySQL怎么按时间倒序排列？", "MySQL怎么按时间正序排列？"),
    ("股票涨停了还能买吗？", "股票跌停了还能买吗？"),
    ("怎么开启Windows防火墙？", "怎么关闭Windows防火墙？"),
    ("哪种茶适合夏天喝？", "哪种茶适合冬天喝？"),
    ("宝宝发烧怎么物理降温？", "宝宝发烧怎么药物降温？"),
    ("高铁靠窗的座位是哪个字母？", "高铁靠过道的座位是哪个字母？"),
    ("面试时怎么回答自己的优点？", "面试时怎么回答自己的缺点？"),
]

TABLES = {
    "en": {
        "paraphrase": EN_PARAPHRASE,
        "negation": EN_NEGATION,
        "number": EN_NUMBER,
        "unit": EN_UNIT,
        "entity": EN_ENTITY,
        "role": EN_ROLE,
        "language_format": EN_LANGUAGE_FORMAT,
        "content": EN_CONTENT,
    },
    "zh": {
        "paraphrase": ZH_PARAPHRASE,
        "negation": ZH_NEGATION,
        "number": ZH_NUMBER,
        "unit": ZH_UNIT,
        "entity": ZH_ENTITY,
        "role": ZH_ROLE,
        "language_format": ZH_LANGUAGE_FORMAT,
        "content": ZH_CONTENT,
    },
}
EXPECTED = {"paraphrase": 100, **{k: 20 for k in KINDS if k != "paraphrase"}}


def build_rows() -> list[dict]:
    rows = []
    for lang, table in TABLES.items():
        assert set(table) == set(KINDS), (lang, sorted(table))
        for kind in KINDS:
            pairs = table[kind]
            assert len(pairs) == EXPECTED[kind], (lang, kind, len(pairs))
            for a, b in pairs:
                rows.append({"a": a, "b": b, "label": 1 if kind == "paraphrase" else 0, "kind": kind, "lang": lang})
    check(rows)
    random.Random(SEED).shuffle(rows)
    return [{"id": f"b2-{i:04d}", **r} for i, r in enumerate(rows, start=1)]


def check(rows: list[dict]) -> None:
    assert len(rows) == 480, len(rows)
    seen = set()
    for r in rows:
        a, b = r["a"], r["b"]
        assert a.strip() == a and b.strip() == b and a and b, r
        assert a != b, r
        key = (a, b)
        assert key not in seen and (b, a) not in seen, f"duplicate pair {key}"
        seen.add(key)
    a_counts = Counter(r["a"] for r in rows)
    over = {a: n for a, n in a_counts.items() if n > 2}
    assert not over, f"`a` used more than twice: {over}"
    per = Counter((r["lang"], r["kind"]) for r in rows)
    for lang in TABLES:
        for kind in KINDS:
            assert per[(lang, kind)] == EXPECTED[kind], (lang, kind, per[(lang, kind)])


def main() -> None:
    rows = build_rows()
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    OUT.write_text(text, encoding="utf-8")
    # re-read and re-validate what was written
    back = [json.loads(line) for line in OUT.read_text(encoding="utf-8").splitlines()]
    assert back == rows
    assert all((r["label"] == 1) == (r["kind"] == "paraphrase") for r in back)
    per = Counter((r["lang"], r["kind"]) for r in back)
    print(f"wrote {len(back)} pairs to {OUT}")
    for lang in TABLES:
        print(lang, " ".join(f"{k}={per[(lang, k)]}" for k in KINDS))


if __name__ == "__main__":
    main()
