#!/usr/bin/env python3
"""Generate costlab's demo data: prompts (train / held-out) and labelled paraphrase pairs.

Everything here was written for this repository (Apache-2.0): hand-written content lists plus templates,
no copied third-party dataset. Standard library only; a fixed seed makes the output byte-identical on every
run, so the JSONL files under data/ are checked in and this script reproduces them:

    python data/make_demo_data.py            # (re)write data/prompts/*.jsonl and data/paraphrase/pairs.jsonl
    python data/make_demo_data.py --check    # exit 1 if the checked-in files differ from a fresh generation
    python data/make_demo_data.py --out DIR  # write DIR/prompts/... and DIR/paraphrase/... instead

Leakage control (see data/README.md): every prompt row comes from one *group* (a content item, or for
reasoning a problem schema whose instances differ only in their numbers). Groups, not rows, are assigned to
train or held-out, so no near-duplicate crosses the split. Some phrasings are additionally reserved for the
held-out split, so the task classifier is scored on wording it never trained on.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from random import Random

SEED = 20251128
# Share of groups (per stratum) that go to the held-out split. Reasoning groups are whole schemas of
# REASONING_INSTANCES rows and formatting groups whole operations of 2-5 rows, so those two take a larger
# share to reach ~10 held-out rows that include both easy and hard items.
HELDOUT_FRAC = {"default": 0.2, "reasoning": 0.25, "formatting": 0.25}
MIN_HELDOUT_PER_CLASS = 8  # the healing report and the classifier score are per class
TEST_FRAC = 0.3  # share of paraphrase families (per kind) that go to the "test" split
CLASSES = ["qa", "translation", "formatting", "summarization", "reasoning", "code"]

PROMPT_FILES = {"train": "prompts/train.jsonl", "heldout": "prompts/heldout.jsonl"}
PAIRS_FILE = "paraphrase/pairs.jsonl"

# ----------------------------------------------------------------------------------------------------------
# System messages: added to a minority of rows. Mostly generic (no class signal), a few class-specific.
GENERIC_SYSTEM = [
    "You are a helpful assistant.",
    "You are a concise assistant. Keep answers short.",
    "Answer as briefly as possible.",
    "You are a friendly assistant. Be clear and accurate.",
]
CLASS_SYSTEM = {
    "qa": "You answer general-knowledge questions.",
    "translation": "You are a professional translator.",
    "formatting": "You convert text and data between formats exactly.",
    "summarization": "You summarize text for busy readers.",
    "reasoning": "You are good at math word problems.",
    "code": "You are an expert Python programmer.",
}

# A phrasing is (template, flags). Flag "H": used only in the held-out split. Other flags restrict which
# items a phrasing applies to (translation: direction / word vs sentence; code: single-line snippets).

# ----------------------------------------------------------------------------------------------------------
# qa: (question variants, answer, difficulty[, group]). Items that share a template with different slot values
# (capitals, chemical symbols, ...) share a group so they land in the same split.
QA_ITEMS = [
    (["What is the capital of France?", "Which city is the capital of France?"], "Paris", "easy", "capitals"),
    (["How many minutes are there in an hour?"], "60", "easy"),
    (["What color is the sky on a clear day?"], "Blue", "easy"),
    (["How many days are there in a week?"], "Seven", "easy"),
    (
        ["What is the largest planet in our solar system?", "Which planet is the biggest in the solar system?"],
        "Jupiter",
        "easy",
    ),
    (["Which animal is called the king of the jungle?"], "The lion", "easy"),
    (["What do bees make?"], "Honey", "easy"),
    (["At what temperature in degrees Celsius does water freeze?"], "0 °C", "easy", "water_temp"),
    (["How many legs does a spider have?"], "Eight", "easy"),
    (
        ["Who wrote Romeo and Juliet?", "Which playwright wrote Romeo and Juliet?"],
        "William Shakespeare",
        "easy",
        "authors",
    ),
    (["What is the opposite of hot?"], "Cold", "easy"),
    (["Which planet is known as the Red Planet?"], "Mars", "easy"),
    (["What gas do plants take in from the air to make food?"], "Carbon dioxide", "easy"),
    (["What language do most people in Brazil speak?"], "Portuguese", "easy"),
    (["How many continents are there on Earth?"], "Seven", "easy"),
    (
        ["What is the tallest mountain in the world?", "Which mountain is the highest on Earth?"],
        "Mount Everest",
        "easy",
    ),
    (["Which is the largest ocean on Earth?"], "The Pacific Ocean", "easy"),
    (["What is the chemical formula for water?"], "H2O", "easy", "chem_symbols"),
    (["How many hours are there in a day?"], "24", "easy"),
    (["At what temperature in Celsius does water boil at sea level?"], "100 °C", "easy", "water_temp"),
    (["What is the closest planet to the Sun?"], "Mercury", "hard"),
    (["What is the star at the center of our solar system called?"], "The Sun", "easy"),
    (["What do you call a baby cat?"], "A kitten", "easy"),
    (["What is the main ingredient of guacamole?"], "Avocado", "easy"),
    (["In which country are the pyramids of Giza?"], "Egypt", "easy"),
    (["What is the chemical symbol for gold?"], "Au", "hard", "chem_symbols"),
    (["Who painted the Mona Lisa?", "Which artist painted the Mona Lisa?"], "Leonardo da Vinci", "hard"),
    (["What is the capital of Australia?"], "Canberra", "hard", "capitals"),
    (["What is the smallest prime number?"], "2", "hard"),
    (["Which element has atomic number 1?"], "Hydrogen", "hard"),
    (["Who developed the theory of general relativity?"], "Albert Einstein", "hard"),
    (["What is the currency of Japan?"], "The yen", "hard"),
    (["What is the hardest natural material?"], "Diamond", "hard"),
    (["How many bones are in an adult human body?"], "206", "hard"),
    (
        [
            "Which river carries the most water in South America?",
            "What is the largest river in South America by volume?",
        ],
        "The Amazon",
        "hard",
    ),
    (["What is the capital of Canada?"], "Ottawa", "hard", "capitals"),
    (["Which organ pumps blood around the body?"], "The heart", "easy"),
    (["What is the square root of 81?"], "9", "hard"),
    (["Who was the first person to walk on the Moon?"], "Neil Armstrong", "hard"),
    (["What is the largest hot desert in the world?"], "The Sahara", "hard"),
    (["In what year did World War II end?"], "1945", "hard"),
    (["What is the chemical symbol for sodium?"], "Na", "hard", "chem_symbols"),
    (["Which planet is famous for its large, bright rings?"], "Saturn", "hard"),
    (["Which musical instrument usually has 88 keys?"], "The piano", "hard"),
    (["How many sides does a hexagon have?"], "Six", "easy"),
    (["Who wrote Pride and Prejudice?"], "Jane Austen", "hard", "authors"),
    (["Roughly how fast does light travel in a vacuum, in kilometers per second?"], "About 300,000 km/s", "hard"),
    (["What is the longest bone in the human body?"], "The femur", "hard"),
    (["Which blood cells carry oxygen around the body?"], "Red blood cells", "hard"),
    (["Which part of a cell is known as its powerhouse?"], "The mitochondria", "hard"),
    (["What is the largest animal that has ever lived?"], "The blue whale", "hard"),
    (["Which language has the most native speakers?"], "Mandarin Chinese", "hard"),
]
QA_PHRASINGS = [
    ("{q}", ""),
    ("{q}", ""),
    ("Quick question: {q}", ""),
    ("{q} Answer in one word or a short phrase.", ""),
    ("Answer briefly: {q}", ""),
    ("Trivia: {q}", ""),
    ("{q} Just the answer, please.", ""),
    ("Help me settle a bet. {q}", "H"),
    ("Do you happen to know this? {q}", "H"),
]

# ----------------------------------------------------------------------------------------------------------
# translation: (source language, target language, source text, reference, "word"|"sent", difficulty[, group])
TRANSLATION_ITEMS = [
    ("English", "French", "Good morning.", "Bonjour.", "sent", "easy", "greetings"),
    ("English", "French", "Thank you very much.", "Merci beaucoup.", "sent", "easy", "thanks"),
    ("English", "French", "Where is the train station?", "Où est la gare ?", "sent", "hard", "where_is"),
    ("English", "French", "I like to read books.", "J'aime lire des livres.", "sent", "hard"),
    ("English", "French", "The cat is sleeping on the chair.", "Le chat dort sur la chaise.", "sent", "hard"),
    ("English", "French", "What time is it?", "Quelle heure est-il ?", "sent", "hard"),
    ("English", "French", "My brother lives in Paris.", "Mon frère habite à Paris.", "sent", "hard"),
    ("English", "French", "cheese", "fromage", "word", "easy"),
    ("English", "French", "We are going to the beach tomorrow.", "Nous allons à la plage demain.", "sent", "hard"),
    ("English", "French", "The water is cold.", "L'eau est froide.", "sent", "hard"),
    ("English", "French", "I do not understand.", "Je ne comprends pas.", "sent", "hard"),
    ("English", "French", "Happy birthday!", "Joyeux anniversaire !", "sent", "easy"),
    ("English", "French", "The children are playing outside.", "Les enfants jouent dehors.", "sent", "hard"),
    ("English", "Spanish", "Hello, how are you?", "Hola, ¿cómo estás?", "sent", "easy"),
    ("English", "Spanish", "Good night.", "Buenas noches.", "sent", "easy", "greetings"),
    ("English", "Spanish", "I am hungry.", "Tengo hambre.", "sent", "hard"),
    ("English", "Spanish", "The house is big.", "La casa es grande.", "sent", "hard"),
    ("English", "Spanish", "Where is the bathroom?", "¿Dónde está el baño?", "sent", "hard", "where_is"),
    ("English", "Spanish", "I have two dogs.", "Tengo dos perros.", "sent", "hard"),
    ("English", "Spanish", "The book is on the table.", "El libro está en la mesa.", "sent", "hard"),
    ("English", "Spanish", "apple", "manzana", "word", "easy"),
    ("English", "Spanish", "We live in a small town.", "Vivimos en un pueblo pequeño.", "sent", "hard"),
    ("English", "Spanish", "How much does it cost?", "¿Cuánto cuesta?", "sent", "hard"),
    ("English", "Spanish", "It is raining today.", "Hoy está lloviendo.", "sent", "hard"),
    ("English", "Spanish", "My favorite color is green.", "Mi color favorito es el verde.", "sent", "hard"),
    ("English", "Spanish", "Please close the door.", "Por favor, cierra la puerta.", "sent", "hard"),
    ("English", "German", "Thank you.", "Danke.", "sent", "easy", "thanks"),
    ("English", "German", "Good evening.", "Guten Abend.", "sent", "easy", "greetings"),
    ("English", "German", "I am tired.", "Ich bin müde.", "sent", "hard"),
    ("English", "German", "The dog is playing in the garden.", "Der Hund spielt im Garten.", "sent", "hard"),
    ("English", "German", "Where do you live?", "Wo wohnst du?", "sent", "hard"),
    ("English", "German", "water", "Wasser", "word", "easy"),
    ("English", "German", "The weather is nice today.", "Das Wetter ist heute schön.", "sent", "hard"),
    ("English", "German", "I drink coffee every morning.", "Ich trinke jeden Morgen Kaffee.", "sent", "hard"),
    ("English", "German", "My name is Anna.", "Ich heiße Anna.", "sent", "hard"),
    ("English", "German", "How old are you?", "Wie alt bist du?", "sent", "hard"),
    ("English", "Italian", "See you tomorrow.", "A domani.", "sent", "hard"),
    ("English", "Italian", "Where is the museum?", "Dov'è il museo?", "sent", "hard", "where_is"),
    ("English", "Italian", "bread", "pane", "word", "easy"),
    ("French", "English", "Le livre est rouge.", "The book is red.", "sent", "easy"),
    ("French", "English", "Nous avons deux enfants.", "We have two children.", "sent", "hard"),
    ("French", "English", "La porte est ouverte.", "The door is open.", "sent", "hard"),
    ("French", "English", "merci", "thank you", "word", "easy", "thanks"),
    ("Spanish", "English", "El perro es negro.", "The dog is black.", "sent", "easy"),
    ("Spanish", "English", "Me gusta la música.", "I like music.", "sent", "easy"),
    ("Spanish", "English", "Mañana voy al mercado.", "Tomorrow I am going to the market.", "sent", "hard"),
    ("Spanish", "English", "Mi hermana es médica.", "My sister is a doctor.", "sent", "hard"),
    ("German", "English", "Ich spreche ein bisschen Deutsch.", "I speak a little German.", "sent", "hard"),
    ("German", "English", "Das Auto ist schnell.", "The car is fast.", "sent", "easy"),
    ("German", "English", "Wir essen um sieben Uhr.", "We eat at seven o'clock.", "sent", "hard"),
    ("Italian", "English", "La finestra è chiusa.", "The window is closed.", "sent", "hard"),
    ("Italian", "English", "gatto", "cat", "word", "easy"),
]
# flags: "from_en" / "to_en" restrict direction, "word" / "sent" restrict item kind, "H" held-out only
TRANSLATION_PHRASINGS = [
    ("Translate to {tgt}: {text}", ""),
    ("Translate the following {src} sentence into {tgt}: {text}", "sent"),
    ('How do you say "{text}" in {tgt}?', "from_en"),
    ('What is "{text}" in {tgt}?', ""),
    ("{src} to {tgt}: {text}", ""),
    ("Please put this into {tgt}: {text}", ""),
    ('What does "{text}" mean in English?', "to_en"),
    ('Give me the {tgt} word for "{text}".', "from_en word"),
    ("I need this in {tgt}, please: {text}", "H"),
    ('My friend wrote "{text}". What does it say in English?', "to_en H"),
    ("Render this {src} text in {tgt}: {text}", "sent H"),
]


# ----------------------------------------------------------------------------------------------------------
# formatting: operations with data items; references are computed, never typed by hand.
def _md_table(csv_text: str) -> str:
    rows = [r.split(",") for r in csv_text.split("\n")]
    lines = ["| " + " | ".join(rows[0]) + " |", "| " + " | ".join("---" for _ in rows[0]) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines)


def _yaml(obj: dict) -> str:
    def scalar(v):
        return ("true" if v else "false") if isinstance(v, bool) else str(v)

    return "\n".join(f"{k}: {scalar(v)}" for k, v in obj.items())


def _camel(s: str) -> str:
    head, *rest = s.split("_")
    return head + "".join(w.capitalize() for w in rest)


MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _date_ref(iso: str, style: str) -> str:
    y, m, d = (int(x) for x in iso.split("-"))
    if style == "dmy":
        return f"{d:02d}/{m:02d}/{y}"
    if style == "mdy":
        return f"{m:02d}/{d:02d}/{y}"
    return f"{MONTHS[m - 1]} {d}, {y}"


# op name -> (difficulty, items, phrasings); a phrasing is (template, flags, reference function of the item)
FORMATTING_OPS = {
    "json_record": (
        "hard",
        [
            ("Alice", 30, "Lyon"),
            ("Bob", 25, "Leeds"),
            ("Carmen", 41, "Seville"),
            ("Dmitri", 19, "Kazan"),
            ("Hana", 28, "Osaka"),
        ],
        [
            ("Convert to JSON: name {0}, age {1}", "", lambda r: json.dumps({"name": r[0], "age": r[1]})),
            (
                "Turn this into a JSON object with keys name, age and city: {0}, {1}, {2}",
                "",
                lambda r: json.dumps({"name": r[0], "age": r[1], "city": r[2]}),
            ),
            (
                "Write a JSON object for a person named {0} who is {1} years old and lives in {2}.",
                "H",
                lambda r: json.dumps({"name": r[0], "age": r[1], "city": r[2]}),
            ),
        ],
    ),
    "uppercase": (
        "easy",
        [
            "the quick brown fox",
            "meeting moved to friday",
            "please call me back",
            "welcome to the team",
            "keep calm and carry on",
        ],
        [
            ("Uppercase this: {0}", "", str.upper),
            ("Rewrite in all capital letters: {0}", "", str.upper),
            ('Convert the following text to upper case: "{0}"', "", str.upper),
            ("Make this shout, in capitals: {0}", "H", str.upper),
        ],
    ),
    "lowercase": (
        "easy",
        ["HELLO THERE", "THIS IS A TEST", "STOP AND LISTEN", "GOOD MORNING EVERYONE"],
        [
            ("Make this lowercase: {0}", "", str.lower),
            ("Convert to lower case: {0}", "", str.lower),
            ("Rewrite this without any capital letters: {0}", "H", str.lower),
        ],
    ),
    "csv_to_markdown": (
        "hard",
        [
            "name,score\nAna,91\nLeo,78",
            "city,country\nOslo,Norway\nLima,Peru",
            "item,price\ntea,3\ncake,5\njuice,4",
            "day,temp\nMon,18\nTue,21",
        ],
        [
            ("Convert this CSV to a markdown table:\n{0}", "", _md_table),
            ("Render the following comma-separated data as a Markdown table.\n{0}", "", _md_table),
            ("Make a markdown table from this CSV:\n{0}", "H", _md_table),
        ],
    ),
    "bullets": (
        "easy",
        ["milk, eggs, bread", "red, green, blue", "Monday, Wednesday, Friday", "pen, paper, stapler, tape"],
        [
            ("Turn this into a bulleted list: {0}", "", lambda s: "\n".join("- " + w for w in s.split(", "))),
            ("Format these as bullet points: {0}", "", lambda s: "\n".join("- " + w for w in s.split(", "))),
            ("Make a markdown list out of: {0}", "H", lambda s: "\n".join("- " + w for w in s.split(", "))),
        ],
    ),
    "date": (
        "hard",
        ["2024-03-05", "2023-12-25", "1999-07-14", "2021-01-30", "2025-10-02"],
        [
            ("Rewrite the date {0} in DD/MM/YYYY format.", "", lambda s: _date_ref(s, "dmy")),
            ("Convert {0} to the format MM/DD/YYYY.", "", lambda s: _date_ref(s, "mdy")),
            ('Write the date {0} out in words, like "March 5, 2024".', "", lambda s: _date_ref(s, "long")),
        ],
    ),
    "camel_case": (
        "hard",
        ["user_first_name", "max_retry_count", "total_price", "is_logged_in", "created_at_date"],
        [
            ("Convert {0} to camelCase.", "", _camel),
            ("What is {0} in camelCase?", "", _camel),
            ("Rename the variable {0} using camelCase.", "H", _camel),
        ],
    ),
    "sort_words": (
        "hard",
        ["pear, apple, mango", "zebra, lion, cat, dog", "violet, amber, coral", "Tokyo, Berlin, Cairo, Austin"],
        [
            ("Sort these words alphabetically: {0}", "", lambda s: ", ".join(sorted(s.split(", ")))),
            ("Put these in alphabetical order: {0}", "", lambda s: ", ".join(sorted(s.split(", ")))),
            ("Alphabetize: {0}", "H", lambda s: ", ".join(sorted(s.split(", ")))),
        ],
    ),
    "json_to_yaml": (
        "hard",
        [
            {"host": "localhost", "port": 8080},
            {"name": "demo", "debug": True},
            {"user": "kim", "retries": 3},
            {"lang": "en", "theme": "dark"},
        ],
        [
            ("Convert this JSON to YAML: {j}", "", _yaml),
            ("Rewrite as YAML: {j}", "", _yaml),
            ("Express this JSON object as YAML key-value lines: {j}", "H", _yaml),
        ],
    ),
    "thousands": (
        "hard",
        [1234567, 98765, 4500000, 30000],
        [
            ("Write {0} with comma thousands separators.", "", lambda n: f"{n:,}"),
            ("Format the number {0} with commas.", "", lambda n: f"{n:,}"),
            ("Add thousands separators to {0}.", "H", lambda n: f"{n:,}"),
        ],
    ),
    "spaces": (
        "easy",
        ["hello    world  again", "too   many    spaces here", "one  two   three"],
        [
            ('Remove the extra spaces from this text: "{0}"', "", lambda s: " ".join(s.split())),
            ('Clean up the spacing: "{0}"', "", lambda s: " ".join(s.split())),
            ('Collapse the repeated spaces in "{0}" to single spaces.', "H", lambda s: " ".join(s.split())),
        ],
    ),
    "capitalize_words": (
        "easy",
        ["good morning to you", "the big red barn", "summer sale starts now", "city walking guide"],
        [
            (
                "Capitalize the first letter of each word: {0}",
                "",
                lambda s: " ".join(w[0].upper() + w[1:] for w in s.split()),
            ),
            (
                "Rewrite with every word starting with a capital letter: {0}",
                "",
                lambda s: " ".join(w[0].upper() + w[1:] for w in s.split()),
            ),
        ],
    ),
}

# ----------------------------------------------------------------------------------------------------------
# summarization: short passages written for this repo (fictional places, people and events) + a one-line gist
SUMMARIZATION_ITEMS = [
    (
        "The town council of Millbrook voted on Tuesday to add protected bike lanes along Main Street. Construction will start in April and last about three months. Shop owners asked that deliveries still be allowed early in the morning.",
        "Millbrook will build protected bike lanes on Main Street starting in April.",
    ),
    (
        "A new bakery called Rise and Crumb opened last weekend near the central station. It sells sourdough, croissants and vegan pastries, and it stays open until 8 pm. The owners say they bake everything on site each morning.",
        "A new bakery near the central station sells bread and pastries baked fresh daily.",
    ),
    (
        "Starting next month, the school day at Lakeside Primary will begin at 8:45 instead of 8:15. The principal said the change gives buses more time and lets younger children sleep longer. After-school clubs will end thirty minutes later.",
        "Lakeside Primary will start its school day 30 minutes later from next month.",
    ),
    (
        "Heavy rain is expected across the region on Friday, with up to 60 millimeters in some valleys. Officials warned drivers to avoid flooded roads and advised people living near the river to move valuables upstairs.",
        "Heavy rain on Friday may cause flooding, so people should avoid flooded roads.",
    ),
    (
        "The city library will close its west branch for renovation from June to September. During that time, members can borrow and return books at the main library, and a mobile book van will visit the west side twice a week.",
        "The library's west branch closes for the summer; the main library and a book van cover it.",
    ),
    (
        "Researchers at a small college tested two study methods on 200 students. Students who quizzed themselves remembered about 20 percent more a week later than those who simply reread their notes.",
        "Self-quizzing helped students remember more than rereading their notes.",
    ),
    (
        "The Riverside Rovers won the regional final 3-1 on Saturday after trailing at half-time. Two late goals from their youngest player, who is only seventeen, sealed the win in front of a record crowd.",
        "The Riverside Rovers came from behind to win the regional final 3-1.",
    ),
    (
        "A kitchen appliance maker is recalling 12,000 electric kettles because the switch can overheat. Customers should stop using the kettle and return it to any store for a full refund. No injuries have been reported.",
        "12,000 kettles are being recalled for overheating switches, with full refunds.",
    ),
    (
        "The art museum's new exhibition shows 40 paintings of the sea by local artists from the last hundred years. It runs until the end of March, and entry is free on the first Sunday of each month.",
        "A museum show of local sea paintings runs until March, free on first Sundays.",
    ),
    (
        "Trains between Harton and Welby will not run this weekend because of track repairs. Replacement buses will leave every 30 minutes from outside each station, and journeys will take about 40 minutes longer than usual.",
        "Weekend track repairs replace Harton-Welby trains with slower buses.",
    ),
    (
        "Our team meeting has moved from Monday at 10 am to Tuesday at 2 pm because several people are travelling. The agenda is unchanged. Please update your calendars and send me any slides by Monday evening.",
        "The team meeting moves to Tuesday at 2 pm; slides are due Monday evening.",
    ),
    (
        "Volunteers collected more than 300 kilograms of rubbish from Greenway Park on Sunday. Organizers said plastic bottles were the most common item. They plan another clean-up in the autumn and hope to double the number of helpers.",
        "Volunteers removed over 300 kg of rubbish from Greenway Park and plan another clean-up.",
    ),
    (
        "The latest version of the NoteKeeper app adds an offline mode, so notes can be edited without an internet connection and synced later. The update also fixes a bug that made the app crash when attaching large photos.",
        "A NoteKeeper update adds offline editing and fixes a photo crash.",
    ),
    (
        "A power cut left about 5,000 homes in the north of the city without electricity for four hours on Wednesday night. The energy company blamed a damaged underground cable, which has now been replaced.",
        "A damaged cable cut power to 5,000 homes for four hours; it has been replaced.",
    ),
    (
        "From Monday, bus route 7 will be extended to the new hospital. Buses will run every 15 minutes on weekdays and every 30 minutes at weekends. Tickets and fares stay the same.",
        "Bus route 7 will be extended to the new hospital from Monday.",
    ),
    (
        "Tonight's concert at the Grand Hall has been cancelled because the lead singer is ill. Ticket holders will get an automatic refund within ten days. The band hopes to announce a new date soon.",
        "Tonight's concert is cancelled due to illness, and tickets will be refunded.",
    ),
    (
        "The annual food festival returns to the harbor this weekend with more than 60 stalls. Visitors can try dishes from over 20 countries, and there will be cooking demonstrations every afternoon. Entry is free for children.",
        "The harbor food festival returns this weekend with 60 stalls and free entry for children.",
    ),
    (
        "Customer review: The blender is powerful and easy to clean, but it is very loud and the lid feels cheap. For the price I expected better build quality. Three stars.",
        "The blender works well but is loud and feels cheaply made.",
    ),
    (
        "Maple Street will be closed to traffic for two days next week while workers repair a broken water main. Residents will still be able to reach their driveways, but parking on the street will not be allowed.",
        "Maple Street closes for two days next week for water main repairs.",
    ),
    (
        "The zoo welcomed a baby giraffe on Thursday. The calf is healthy, about 1.8 meters tall and already walking. Keepers will let visitors see her from next week, once she has settled in with her mother.",
        "A healthy baby giraffe was born at the zoo and can be seen from next week.",
    ),
    (
        "Dear customer, your subscription will renew automatically on the 1st of next month at the current price. If you want to cancel, you can do so in your account settings at any time before that date.",
        "The subscription renews automatically next month unless cancelled in the settings.",
    ),
    (
        "A survey of 1,000 office workers found that people who took a short walk after lunch felt less tired in the afternoon. The effect was strongest for walks of at least ten minutes.",
        "A short walk after lunch made office workers feel less tired.",
    ),
    (
        "The old bridge over the Tell river will be rebuilt over the next two years. A temporary footbridge will open next to it so pedestrians and cyclists can still cross. Cars will have to use the ring road.",
        "The Tell river bridge will be rebuilt over two years, with a temporary footbridge.",
    ),
    (
        "Please remember that the office will be closed on Friday for the public holiday. The IT help desk will be available by email only. Normal hours resume on Monday at 9 am.",
        "The office is closed Friday for the holiday; IT help is by email only.",
    ),
    (
        "The farmers market is moving from the church car park to the town square starting in May. It will keep the same Saturday morning hours and will add ten new stalls selling local cheese, honey and flowers.",
        "From May, the Saturday farmers market moves to the town square and adds stalls.",
    ),
    (
        "Our flight to Lisbon was delayed by three hours because of a technical problem. The airline gave everyone a meal voucher, and we finally landed just after midnight. The crew were friendly and apologetic throughout.",
        "The Lisbon flight was three hours late, but the crew handled it well.",
    ),
    (
        "The city has planted 2,000 new trees this year, mostly in neighborhoods with little shade. Officials say the trees will keep streets cooler in summer, and they plan to plant the same number next year.",
        "The city planted 2,000 trees to shade its hottest neighborhoods and will plant more.",
    ),
    (
        "A local student won first prize in a national science competition for building a cheap water filter from sand, charcoal and gravel. Her design removed most dirt and bacteria in tests and costs less than five dollars.",
        "A local student won a national prize for a cheap, effective water filter.",
    ),
    (
        "The swimming pool will reopen on 3 June after a six-month refit. It now has new changing rooms, a separate children's pool and longer opening hours in the evening.",
        "The refitted pool reopens on 3 June with new facilities and longer hours.",
    ),
    (
        "Sales of electric bicycles in the region rose by 35 percent last year, according to a trade group. Shops say commuters are the biggest buyers, and many name rising fuel prices as the reason for switching.",
        "Electric bike sales rose 35% last year, driven by commuters.",
    ),
    (
        "Hi all, the printer on the second floor is broken again. A technician is coming on Thursday. Until then, please use the printer in the kitchen area on the first floor.",
        "The second-floor printer is broken until Thursday; use the first-floor one.",
    ),
    (
        "The hiking trail to Eagle Peak is closed after a landslide damaged part of the path. Rangers expect repairs to take several weeks and ask walkers to use the lower lake trail instead.",
        "The Eagle Peak trail is closed for weeks after a landslide; use the lake trail.",
    ),
    (
        "A new recycling scheme lets residents drop off old phones and laptops at any library. The devices are wiped of data and either repaired for reuse or taken apart so that their metals can be recovered.",
        "Libraries now take old phones and laptops for safe reuse or recycling.",
    ),
    (
        "The chess club meets every Wednesday evening in the community hall. Players of all levels are welcome, and beginners can join a free lesson at 6 pm before the main games start at 7.",
        "The chess club meets on Wednesdays and offers free lessons for beginners.",
    ),
    (
        "Customer review: The hotel room was clean and quiet, and the staff were helpful. However, breakfast was expensive and the Wi-Fi kept dropping. I would stay again but eat elsewhere.",
        "The hotel was clean and friendly, but breakfast was pricey and the Wi-Fi unreliable.",
    ),
    (
        "Scientists tracking a group of sea turtles found that they travelled more than 2,000 kilometers between feeding and nesting beaches. The data came from small satellite tags attached to their shells.",
        "Satellite tags showed sea turtles travelling over 2,000 km between beaches.",
    ),
    (
        "The town will switch all of its street lights to LED bulbs by the end of the year. The council expects this to cut the lighting electricity bill in half and to reduce the number of repairs.",
        "The town is switching street lights to LEDs to halve the electricity bill.",
    ),
    (
        "Due to high demand, the pottery class has added a second session on Saturday afternoons. The new session costs the same and includes all materials. Places are limited to twelve people.",
        "A second Saturday pottery session has been added, limited to twelve people.",
    ),
    (
        "Our quarterly report shows that revenue grew by 8 percent while costs stayed flat. Most of the growth came from the online store. The board will discuss hiring two new developers next month.",
        "Revenue grew 8% thanks to online sales while costs stayed flat.",
    ),
    (
        "A dog that went missing during a storm was found safe three days later, ten kilometers from home. A farmer spotted the dog in his barn and called the number on its collar.",
        "A dog lost in a storm was found safe three days later thanks to its collar tag.",
    ),
    (
        "The university will offer free evening courses in basic computer skills for adults over sixty. Topics include email, video calls and staying safe online. Classes start in October and run for eight weeks.",
        "Free eight-week computer courses for over-sixties start in October.",
    ),
    (
        "Road works on the A12 will continue for another month because of a shortage of materials. Drivers should expect delays of up to 20 minutes at rush hour and may want to use public transport.",
        "A12 road works are extended by a month, causing rush-hour delays.",
    ),
    (
        "The neighborhood garden has twenty plots available for the new season. Each plot costs thirty dollars a year, and tools and water are provided. Applications close at the end of the month.",
        "Twenty garden plots are available for $30 a year; apply by the end of the month.",
    ),
    (
        "Engineers have finished testing a new water pump for the village. It runs on solar power and can supply enough clean water for 500 people a day. It will be installed next month.",
        "A solar water pump for 500 people a day will be installed next month.",
    ),
    (
        "After a long debate, the school board decided to ban mobile phones during lessons. Students may still use them at break times. Parents who need to reach their children can call the school office.",
        "The school board banned phones during lessons but allows them at break.",
    ),
    (
        "The weather was perfect for the charity run on Sunday. More than 800 people took part and raised over 40,000 dollars for the children's hospital. Next year's event will add a shorter route for families.",
        "800 runners raised $40,000 for the children's hospital at Sunday's charity run.",
    ),
    (
        "The software team found that most crashes came from one outdated library. After updating it, crash reports dropped by 70 percent in a week. The team will now check library versions every month.",
        "Updating one old library cut crashes by 70%, so versions will be checked monthly.",
    ),
    (
        "The local cinema is introducing relaxed screenings once a month for people who prefer quieter sound and softer lighting. Audience members can move around and talk during the film.",
        "The cinema will hold monthly relaxed screenings with quieter sound and softer light.",
    ),
    (
        "Residents have complained about noise from a new nightclub on Dock Road. The council will measure sound levels over the next two weekends before deciding whether to limit its opening hours.",
        "The council will measure noise from a Dock Road nightclub before deciding on limits.",
    ),
    (
        "A bakery chain will stop using plastic bags in all of its shops from July. Customers can bring their own bags or buy paper ones for ten cents, with the money going to a local environmental charity.",
        "From July the bakery chain drops plastic bags; paper bags cost ten cents for charity.",
    ),
]
SUMMARIZATION_PHRASINGS = [
    ("Summarize in one sentence: {p}", ""),
    ("TL;DR: {p}", ""),
    ("Give a short summary of the following text.\n\n{p}", ""),
    ("{p}\n\nSummarize the text above in one line.", ""),
    ("What is the main point of this paragraph? {p}", ""),
    ("Boil this down to a single sentence: {p}", ""),
    ("Condense the following into one sentence: {p}", ""),
    ("Write a one-line headline for this: {p}", "H"),
    ("Read this and give me the gist: {p}", "H"),
]

# ----------------------------------------------------------------------------------------------------------
# reasoning: one-step (or two-step) word problems. A schema is a group: all its instances share a split.
NAMES = ["Maya", "Leo", "Sara", "Omar", "Priya", "Tom", "Lina", "Jonas", "Aiko", "Ben", "Nadia", "Felix"]


def _r_add(g):
    n, a, b = g.choice(NAMES), g.randint(3, 15), g.randint(2, 12)
    return f"{n} has {a} apples and buys {b} more. How many apples does {n} have now?", a + b


def _r_sub(g):
    n, a, b = g.choice(NAMES), g.randint(10, 30), g.randint(2, 9)
    return f"There are {a} cookies in a jar. {n} eats {b} of them. How many cookies are left?", a - b


def _r_price(g):
    p, k = g.randint(2, 9), g.randint(3, 9)
    return f"One notebook costs {p} dollars. How much do {k} notebooks cost, in dollars?", p * k


def _r_change(g):
    n, pay = g.choice(NAMES), g.choice([20, 50, 100])
    c = g.randint(5, pay - 1)
    return f"{n} pays for a {c}-dollar book with a {pay}-dollar bill. How much change should {n} get back?", pay - c


def _r_distance(g):
    v, t = g.choice([40, 50, 60, 80, 90]), g.randint(2, 5)
    return f"A train travels at {v} kilometers per hour for {t} hours. How far does it go, in kilometers?", v * t


def _r_split(g):
    k, d = g.randint(2, 6), g.randint(8, 25)
    return f"{k} friends share a restaurant bill of {k * d} dollars equally. How much does each friend pay?", d


def _r_reading(g):
    n, k, d = g.choice(NAMES), g.choice([10, 15, 20, 25, 30]), g.randint(3, 9)
    return (
        f"A book has {k * d} pages. If {n} reads {k} pages every day, how many days will it take to finish the book?"
    ), d


def _r_legs(g):
    c, w = g.randint(2, 9), g.randint(2, 6)
    return f"A farm has {c} chickens and {w} cows. How many legs do these animals have in total?", 2 * c + 4 * w


def _r_ages(g):
    n, a, d, y = g.choice(NAMES), g.randint(6, 14), g.randint(2, 8), g.randint(2, 10)
    return (
        f"{n} is {a} years old. {n}'s cousin is {d} years older. How old will the cousin be in {y} years?"
    ), a + d + y


def _r_discount(g):
    while True:
        p, pct = g.choice([20, 40, 60, 80, 120, 200]), g.choice([10, 25, 50])
        if p * pct % 100 == 0:
            break
    return f"A jacket costs {p} dollars and is on sale for {pct}% off. What is the sale price in dollars?", p * (
        100 - pct
    ) // 100


def _r_boxes(g):
    k = g.choice([6, 8, 10, 12])
    n = g.randint(2, 6) * k + g.randint(1, k - 1)
    return f"Each box holds {k} eggs. What is the smallest number of boxes needed to pack {n} eggs?", math.ceil(n / k)


def _r_minutes(g):
    h, m = g.randint(1, 8), g.choice([0, 15, 30, 45])
    dur = g.choice(range(35, 115, 5))
    end = h * 60 + m + dur
    return (
        f"A meeting starts at {h}:{m:02d} pm and ends at {end // 60}:{end % 60:02d} pm. How many minutes "
        f"long is the meeting?"
    ), dur


def _r_savings(g):
    n, s, w = g.choice(NAMES), g.randint(5, 20), g.randint(3, 10)
    return f"{n} saves {s} dollars every week. How many weeks does it take to save {s * w} dollars?", w


def _r_area(g):
    a, b = g.randint(3, 12), g.randint(2, 9)
    return f"A rectangle is {a} cm long and {b} cm wide. What is its area in square centimeters?", a * b


def _r_fence(g):
    s = g.randint(4, 25)
    return (
        f"A square garden has sides of {s} meters. How many meters of fence are needed to go all the way around it?"
    ), 4 * s


def _r_temperature(g):
    t, r, f = g.randint(5, 15), g.randint(3, 10), g.randint(2, 9)
    return (
        f"In the morning it was {t} degrees. By noon the temperature rose by {r} degrees, and by night it "
        f"fell by {f} degrees. What was the temperature at night?"
    ), t + r - f


def _r_average(g):
    n = g.choice(NAMES)
    while True:
        a, b, c = g.randint(60, 100), g.randint(60, 100), g.randint(60, 100)
        if (a + b + c) % 3 == 0:
            break
    return f"{n} scored {a}, {b} and {c} on three quizzes. What is the average score?", (a + b + c) // 3


def _r_doubling(g):
    h, w = g.randint(2, 6), g.randint(2, 4)
    return (
        f"A plant is {h} cm tall and doubles its height every week. How tall is it after {w} weeks, in cm?"
    ), h * 2**w


# schema name -> (generator, difficulty)
REASONING_SCHEMAS = {
    "add": (_r_add, "easy"),
    "subtract": (_r_sub, "easy"),
    "unit_price": (_r_price, "easy"),
    "change": (_r_change, "easy"),
    "distance": (_r_distance, "hard"),
    "split_bill": (_r_split, "hard"),
    "reading_days": (_r_reading, "hard"),
    "legs": (_r_legs, "hard"),
    "ages": (_r_ages, "hard"),
    "discount": (_r_discount, "hard"),
    "boxes": (_r_boxes, "hard"),
    "minutes": (_r_minutes, "hard"),
    "savings": (_r_savings, "easy"),
    "area": (_r_area, "easy"),
    "fence": (_r_fence, "easy"),
    "temperature": (_r_temperature, "hard"),
    "average": (_r_average, "hard"),
    "doubling": (_r_doubling, "hard"),
}
REASONING_INSTANCES = 3  # instances (different numbers) per schema
REASONING_PHRASINGS = [
    ("{p}", ""),
    ("{p}", ""),
    ("{p} Answer with a number.", ""),
    ("Solve: {p}", ""),
    ("{p} Give only the final number.", ""),
    ("Word problem: {p}", ""),
    ("Can you work this out? {p}", "H"),
    ("{p} Show your steps briefly, then give the answer.", "H"),
]

# ----------------------------------------------------------------------------------------------------------
# code: four kinds of tiny Python tasks
CODE_WRITE = [  # (task description, reference, difficulty)
    ("returns the square of a number", "def square(x):\n    return x * x", "easy"),
    ("returns the absolute difference of two numbers", "def abs_diff(a, b):\n    return abs(a - b)", "easy"),
    ("checks whether a number is even", "def is_even(n):\n    return n % 2 == 0", "easy"),
    ("reverses a string", "def reverse_string(s):\n    return s[::-1]", "easy"),
    ("returns the largest number in a list", "def largest(nums):\n    return max(nums)", "easy"),
    (
        "counts the vowels in a string",
        'def count_vowels(s):\n    return sum(1 for c in s.lower() if c in "aeiou")',
        "hard",
    ),
    (
        "computes the factorial of n",
        "def factorial(n):\n    result = 1\n    for i in range(2, n + 1):\n        result *= i\n    return result",
        "hard",
    ),
    ("converts a temperature from Celsius to Fahrenheit", "def c_to_f(c):\n    return c * 9 / 5 + 32", "easy"),
    ("checks whether a string is a palindrome", "def is_palindrome(s):\n    return s == s[::-1]", "easy"),
    (
        "returns the n-th Fibonacci number",
        "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a",
        "hard",
    ),
    (
        "removes duplicates from a list while keeping the order",
        "def dedupe(items):\n    return list(dict.fromkeys(items))",
        "hard",
    ),
    ("counts the words in a sentence", "def word_count(s):\n    return len(s.split())", "easy"),
    ("returns the average of a list of numbers", "def mean(nums):\n    return sum(nums) / len(nums)", "easy"),
    (
        "checks whether a number is prime",
        "def is_prime(n):\n    if n < 2:\n        return False\n    for d in range(2, int(n ** 0.5) + 1):\n"
        "        if n % d == 0:\n            return False\n    return True",
        "hard",
    ),
    ("keeps only the even numbers from a list", "def evens(nums):\n    return [x for x in nums if x % 2 == 0]", "easy"),
    (
        "returns the length of the longest word in a sentence",
        "def longest_word_length(s):\n    return max(len(w) for w in s.split())",
        "hard",
    ),
    ("merges two dictionaries into a new one", "def merge(a, b):\n    return {**a, **b}", "hard"),
    ("flattens a list of lists", "def flatten(lists):\n    return [x for sub in lists for x in sub]", "hard"),
    (
        "returns the smallest and the largest number of a list as a tuple",
        "def min_max(nums):\n    return min(nums), max(nums)",
        "easy",
    ),
    (
        "splits a number of minutes into hours and minutes",
        "def to_hours(minutes):\n    return divmod(minutes, 60)",
        "hard",
    ),
    (
        "checks whether a year is a leap year",
        "def is_leap(year):\n    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)",
        "hard",
    ),
    (
        "counts how often each character appears in a string",
        "def char_counts(s):\n    counts = {}\n    for c in s:\n        counts[c] = counts.get(c, 0) + 1\n    return counts",
        "hard",
    ),
    ("returns the last element of a list", "def last(items):\n    return items[-1]", "easy"),
    ("joins a list of strings with commas", 'def join_commas(items):\n    return ", ".join(items)', "easy"),
    (
        "returns True if every number in a list is positive",
        "def all_positive(nums):\n    return all(n > 0 for n in nums)",
        "easy",
    ),
]
CODE_WRITE_PHRASINGS = [
    ("Write a Python function that {d}.", ""),
    ("In Python, implement a function that {d}.", ""),
    ("Give me a short Python function which {d}.", ""),
    ("I need a small helper in Python that {d}. Keep it short.", ""),
    ("Python: write a function that {d}.", ""),
    ("Can you code up a function that {d}? Use Python.", "H"),
]
CODE_PRINT = [  # (snippet, difficulty[, group]); the reference output comes from running the snippet here
    ("print(2 ** 3)", "easy"),
    ('print(len("hello"))', "easy"),
    ('print("abc".upper())', "easy"),
    ("print([1, 2, 3][1])", "hard"),
    ("print(10 // 3)", "hard", "intdiv"),
    ("print(10 % 3)", "hard", "intdiv"),
    ('print("ab" * 3)', "hard"),
    ("print(sorted([3, 1, 2]))", "easy"),
    ("x = [1, 2]\nx.append(3)\nprint(len(x))", "easy"),
    ('print("hello world".split())', "hard"),
    ("print(bool(0))", "hard"),
    ("print(list(range(3)))", "hard"),
    ('print("Python"[0])', "easy"),
]
CODE_PRINT_PHRASINGS = [
    ("What does this Python code print?\n{c}", ""),
    ("What is the output of this Python snippet?\n{c}", ""),
    ("What does `{c}` output in Python?", "oneline"),
    ("Predict the output:\n{c}", ""),
    ("Run this in your head and tell me what it prints:\n{c}", "H"),
]
CODE_FIX = [  # (buggy code, what it should do, fixed code)
    ("def add(a, b):\n    return a - b", "add two numbers", "def add(a, b):\n    return a + b"),
    ("def is_odd(n):\n    return n % 2 == 0", "return True for odd numbers", "def is_odd(n):\n    return n % 2 == 1"),
    ("def area(w, h):\n    return w + h", "return the area of a rectangle", "def area(w, h):\n    return w * h"),
    (
        "def first(items):\n    return items[1]",
        "return the first element of a list",
        "def first(items):\n    return items[0]",
    ),
    (
        'def shout(s):\n    return s.lower() + "!"',
        "return the text in capitals with an exclamation mark",
        'def shout(s):\n    return s.upper() + "!"',
    ),
    ("for i in range(1, 10):\n    print(i)", "print the numbers 1 to 10", "for i in range(1, 11):\n    print(i)"),
    ("def double(x):\n    x * 2", "return twice its argument", "def double(x):\n    return x * 2"),
]
CODE_FIX_PHRASINGS = [
    ("Fix the bug in this Python code. It should {goal}.\n{c}", ""),
    ("This code should {goal}, but it doesn't. What is the fix?\n{c}", ""),
    ("Find and fix the mistake (it should {goal}):\n{c}", "H"),
]
CODE_MISC = [  # complete prompts, (prompt, reference, difficulty)
    (
        "Rewrite this loop as a list comprehension:\nsquares = []\nfor x in range(5):\n    squares.append(x * x)",
        "squares = [x * x for x in range(5)]",
        "hard",
    ),
    ("How do you get the number of keys in a Python dictionary d?", "len(d)", "easy"),
    ('Write a Python expression that checks whether "cat" is in the list pets.', '"cat" in pets', "easy"),
    ("Write a Python lambda that triples its argument.", "lambda x: x * 3", "easy"),
    ("How do you sort a list of strings called words by their length in Python?", "sorted(words, key=len)", "hard"),
    (
        "In Python, how do I read all lines of notes.txt into a list?",
        'with open("notes.txt") as f:\n    lines = f.read().splitlines()',
        "hard",
    ),
    ("Which Python keyword starts a function definition?", "def", "easy"),
    (
        "Write a Python list comprehension that gives the squares of the numbers 1 to 10.",
        "[x * x for x in range(1, 11)]",
        "hard",
    ),
    ('How do I convert the string "42" to an integer in Python?', 'int("42")', "easy"),
    ("Write one line of Python that swaps the values of a and b.", "a, b = b, a", "easy"),
]


def phrasing_templates() -> list[str]:
    """Every phrasing a prompt's content is wrapped in. costlab.data.decontam treats their wording as
    scaffolding, not content, when it checks held-out prompts against training prompts."""
    lists = (
        QA_PHRASINGS,
        TRANSLATION_PHRASINGS,
        SUMMARIZATION_PHRASINGS,
        REASONING_PHRASINGS,
        CODE_WRITE_PHRASINGS,
        CODE_PRINT_PHRASINGS,
        CODE_FIX_PHRASINGS,
    )
    return [t for phrasings in lists for t, _ in phrasings]


# ----------------------------------------------------------------------------------------------------------
def _flags(f: str) -> list[str]:
    return f.split()


def _usable(phrasings, split: str, ok=lambda flags: True) -> list[str]:
    """Templates allowed for this split: held-out-only ones ("H") are never used in train."""
    out = [t for t, f in phrasings if ok(_flags(f)) and (split == "heldout" or "H" not in _flags(f))]
    if not out:
        raise RuntimeError(f"no usable phrasing for split {split}")
    return out


def _run_snippet(code: str) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(code, "<snippet>", "exec"), {})
    return buf.getvalue().rstrip("\n")


def build_groups() -> dict[str, list[dict]]:
    """Every class's groups: {"group", "stratum", "items": [...]}; an item renders to one prompt row.

    An item carries a ``render(rng, split) -> (user_text, reference)`` closure plus its difficulty.
    """
    groups: dict[str, list[dict]] = {c: [] for c in CLASSES}

    def add(cls, name, stratum, render, diff):
        """Append an item to group ``name`` (created on first use; its stratum is its first item's)."""
        for gr in groups[cls]:
            if gr["group"] == name:
                gr["items"].append((render, diff))
                return
        groups[cls].append({"group": name, "stratum": stratum, "items": [(render, diff)]})

    for i, (qs, ans, diff, *grp) in enumerate(QA_ITEMS):

        def render(g, split, qs=qs, ans=ans):
            return g.choice(_usable(QA_PHRASINGS, split)).format(q=g.choice(qs)), ans

        add("qa", f"qa/{grp[0] if grp else f'{i:03d}'}", diff, render, diff)

    for i, (src, tgt, text, ref, kind, diff, *grp) in enumerate(TRANSLATION_ITEMS):
        direction = "to_en" if tgt == "English" else "from_en"
        other_dir = "from_en" if direction == "to_en" else "to_en"
        other_kind = "sent" if kind == "word" else "word"

        def ok(flags, other_dir=other_dir, other_kind=other_kind):
            return other_dir not in flags and other_kind not in flags

        def render(g, split, src=src, tgt=tgt, text=text, ref=ref, ok=ok):
            return g.choice(_usable(TRANSLATION_PHRASINGS, split, ok)).format(src=src, tgt=tgt, text=text), ref

        add("translation", f"translation/{grp[0] if grp else f'{i:03d}'}", direction, render, diff)

    # One group per operation: its items differ only in slot values, so they must not straddle the split.
    for op, (diff, data, phrasings) in FORMATTING_OPS.items():
        for item in data:

            def render(g, split, item=item, phrasings=phrasings):
                allowed = _usable([(t, f) for t, f, _ in phrasings], split)
                t = g.choice(allowed)
                ref_fn = next(fn for tt, _, fn in phrasings if tt == t)
                if isinstance(item, tuple):
                    text = t.format(*item)
                elif isinstance(item, dict):
                    text = t.format(j=json.dumps(item))
                else:
                    text = t.format(item)
                return text, ref_fn(item)

            add("formatting", f"formatting/{op}", diff, render, diff)

    for i, (passage, ref) in enumerate(SUMMARIZATION_ITEMS):

        def render(g, split, passage=passage, ref=ref):
            return g.choice(_usable(SUMMARIZATION_PHRASINGS, split)).format(p=passage), ref

        diff = "easy" if len(passage.split()) <= 32 else "hard"
        groups["summarization"].append({"group": f"summarization/{i:03d}", "stratum": "all", "items": [(render, diff)]})

    inst_rng = Random(SEED + 7)
    for name, (gen, diff) in REASONING_SCHEMAS.items():
        seen, items = [], []
        while len(items) < REASONING_INSTANCES:
            text, ans = gen(inst_rng)
            if text in seen:
                continue
            seen.append(text)

            def render(g, split, text=text, ans=ans):
                return g.choice(_usable(REASONING_PHRASINGS, split)).format(p=text), str(ans)

            items.append((render, diff))
        groups["reasoning"].append({"group": f"reasoning/{name}", "stratum": diff, "items": items})

    for i, (d, ref, diff) in enumerate(CODE_WRITE):
        compile(ref, f"<code-write-{i}>", "exec")  # every reference must at least be valid Python

        def render(g, split, d=d, ref=ref):
            return g.choice(_usable(CODE_WRITE_PHRASINGS, split)).format(d=d), ref

        groups["code"].append({"group": f"code/write/{i:02d}", "stratum": "write", "items": [(render, diff)]})
    for i, (snippet, diff, *grp) in enumerate(CODE_PRINT):
        out = _run_snippet(snippet)
        oneline = "\n" not in snippet

        def render(g, split, snippet=snippet, out=out, oneline=oneline):
            allowed = _usable(CODE_PRINT_PHRASINGS, split, lambda f: oneline or "oneline" not in f)
            return g.choice(allowed).format(c=snippet), out

        add("code", f"code/print/{grp[0] if grp else f'{i:02d}'}", "print", render, diff)
    for i, (buggy, goal, fixed) in enumerate(CODE_FIX):
        compile(fixed, f"<code-fix-{i}>", "exec")

        def render(g, split, buggy=buggy, goal=goal, fixed=fixed):
            return g.choice(_usable(CODE_FIX_PHRASINGS, split)).format(goal=goal, c=buggy), fixed

        groups["code"].append({"group": f"code/fix/{i:02d}", "stratum": "fix", "items": [(render, "hard")]})
    for i, (prompt, ref, diff) in enumerate(CODE_MISC):

        def render(g, split, prompt=prompt, ref=ref):
            return prompt, ref

        groups["code"].append({"group": f"code/misc/{i:02d}", "stratum": "misc", "items": [(render, diff)]})
    return groups


def split_groups(groups: list[dict], rng: Random, frac: float) -> list[str]:
    """Names of the groups that go to held-out: round(frac * n) groups from each stratum, at random."""
    strata: list[str] = []
    for gr in groups:
        if gr["stratum"] not in strata:
            strata.append(gr["stratum"])
    held: list[str] = []
    for s in strata:
        names = [gr["group"] for gr in groups if gr["stratum"] == s]
        rng.shuffle(names)
        held += names[: max(1, round(frac * len(names)))]
    return held


def build_prompts() -> dict[str, list[dict]]:
    rng = Random(SEED)
    per_class: dict[str, dict[str, list[dict]]] = {}
    for cls, groups in build_groups().items():
        held = split_groups(groups, rng, HELDOUT_FRAC.get(cls, HELDOUT_FRAC["default"]))
        rows = []
        for gr in groups:
            split = "heldout" if gr["group"] in held else "train"
            for render, diff in gr["items"]:
                text, ref = render(rng, split)
                messages = [{"role": "user", "content": text}]
                r = rng.random()
                if r < 0.20:
                    messages.insert(0, {"role": "system", "content": rng.choice(GENERIC_SYSTEM)})
                elif r < 0.28:
                    messages.insert(0, {"role": "system", "content": CLASS_SYSTEM[cls]})
                rows.append(
                    {
                        "split": split,
                        "task_class": cls,
                        "messages": messages,
                        "reference": ref,
                        "group": gr["group"],
                        "difficulty": diff,
                    }
                )
        rng.shuffle(rows)  # ids do not reveal the split or the source order
        per_class[cls] = {"train": [], "heldout": []}
        for n, row in enumerate(rows, 1):
            split = row.pop("split")
            per_class[cls][split].append({"id": f"{cls}-{n:04d}", **row})

    # Interleave the classes round-robin so that any prefix of a file (data.max_train) stays balanced.
    out = {}
    for split in ("train", "heldout"):
        queues = [list(per_class[c][split]) for c in CLASSES]
        merged = []
        while any(queues):
            for q in queues:
                if q:
                    merged.append(q.pop(0))
        out[split] = merged
    _check_prompts(out)
    return out


def _check_prompts(out: dict[str, list[dict]]) -> None:
    train, held = out["train"], out["heldout"]
    ids = [r["id"] for r in train + held]
    if len(ids) != len(set(ids)):
        raise RuntimeError("duplicate prompt ids")
    tg, hg = {r["group"] for r in train}, {r["group"] for r in held}
    if tg & hg:
        raise RuntimeError(f"groups in both splits: {sorted(tg & hg)}")
    for cls in CLASSES:
        n = sum(r["task_class"] == cls for r in held)
        if n < MIN_HELDOUT_PER_CLASS:
            raise RuntimeError(f"only {n} held-out rows for {cls}; raise HELDOUT_FRAC")
    tp = {r["messages"][-1]["content"] for r in train}
    if any(r["messages"][-1]["content"] in tp for r in held):
        raise RuntimeError("a held-out prompt also appears in train")


# ----------------------------------------------------------------------------------------------------------
# Paraphrase pairs for the semantic-cache threshold sweep. A family is (a, paraphrase of a, hard negative);
# each family gives one positive pair and one negative pair, and the whole family sits in one split.
NEGATION = [
    ("Is it safe to eat raw eggs?", "Can you safely eat eggs that are raw?", "Is it not safe to eat raw eggs?"),
    (
        "Is ibuprofen safe to take with coffee?",
        "Can I safely take ibuprofen with coffee?",
        "Is ibuprofen unsafe to take with coffee?",
    ),
    (
        "Show me vegetarian restaurants nearby.",
        "Find vegetarian places to eat near me.",
        "Show me restaurants nearby that are not vegetarian.",
    ),
    ("Recipes with peanuts", "Recipes that use peanuts", "Recipes without peanuts"),
    ("Which fruits are high in sugar?", "What fruits contain a lot of sugar?", "Which fruits are low in sugar?"),
    (
        "Can I bring liquids in my carry-on bag?",
        "Am I allowed to pack liquids in my hand luggage?",
        "Which liquids can I not bring in my carry-on bag?",
    ),
    (
        "Hotels in Lisbon with free parking",
        "Lisbon hotels that offer free parking",
        "Hotels in Lisbon without free parking",
    ),
    ("Is the museum open on Mondays?", "Does the museum open on Monday?", "Is the museum closed on Mondays?"),
    (
        "List the countries that use the euro.",
        "Which countries have the euro as their currency?",
        "List the countries that do not use the euro.",
    ),
    (
        "How do I enable dark mode on my phone?",
        "How can I turn on dark mode on my phone?",
        "How do I disable dark mode on my phone?",
    ),
    ("Foods that are gluten-free", "Which foods contain no gluten?", "Foods that contain gluten"),
    ("Is coffee good for your health?", "Is drinking coffee healthy?", "Is coffee bad for your health?"),
    ("Flights to Tokyo with a layover", "Tokyo flights that have a stopover", "Flights to Tokyo without a layover"),
    (
        "Is the tap water in Berlin drinkable?",
        "Can you drink the tap water in Berlin?",
        "Is the tap water in Berlin not drinkable?",
    ),
    ("Movies suitable for children", "Films that are appropriate for kids", "Movies not suitable for children"),
    (
        "How do I subscribe to the newsletter?",
        "How can I sign up for the newsletter?",
        "How do I unsubscribe from the newsletter?",
    ),
    (
        "Should I include a cover letter with my application?",
        "Is it a good idea to send a cover letter with my job application?",
        "Should I leave the cover letter out of my application?",
    ),
    (
        "Which plants need direct sunlight?",
        "What plants require full sun?",
        "Which plants do not need direct sunlight?",
    ),
    (
        "Is it legal to drive while wearing headphones?",
        "Can I legally wear headphones when driving?",
        "Is it illegal to drive while wearing headphones?",
    ),
    (
        "How do I lock my screen on Windows?",
        "What's the way to lock the screen in Windows?",
        "How do I unlock my screen on Windows?",
    ),
    ("Songs with lyrics for studying", "Music with vocals to study to", "Songs without lyrics for studying"),
    (
        "Does the pharmacy deliver on weekends?",
        "Can I get pharmacy deliveries on Saturday or Sunday?",
        "Does the pharmacy not deliver on weekends?",
    ),
    ("Jobs that require a degree", "Careers where you need a university degree", "Jobs that do not require a degree"),
    ("Is now a good time to buy a house?", "Should I buy a house right now?", "Is now a bad time to buy a house?"),
    (
        "How do I increase the font size in Word?",
        "How do I make the text bigger in Microsoft Word?",
        "How do I decrease the font size in Word?",
    ),
    (
        "Is this function thread-safe?",
        "Can this function be called safely from several threads?",
        "Why is this function not thread-safe?",
    ),
    ("Apartments that allow pets", "Pet-friendly apartments", "Apartments that do not allow pets"),
    (
        "Does the hotel include breakfast?",
        "Is breakfast included at the hotel?",
        "Does the hotel charge extra for breakfast?",
    ),
    ("Is the exam open book?", "Can we use our notes in the exam?", "Is the exam closed book?"),
    (
        "How do I turn on two-factor authentication?",
        "How can I enable 2FA on my account?",
        "How do I turn off two-factor authentication?",
    ),
    ("Which vitamins are water-soluble?", "What vitamins dissolve in water?", "Which vitamins are not water-soluble?"),
    ("Sunscreen that is waterproof", "Water-resistant sunscreen", "Sunscreen that is not waterproof"),
    ("Is the bridge open to cyclists?", "Can cyclists use the bridge?", "Is the bridge closed to cyclists?"),
    (
        "Languages that are easy for English speakers to learn",
        "Which languages are simplest for native English speakers to pick up?",
        "Languages that are hard for English speakers to learn",
    ),
    ("Does the train stop at Oxford?", "Is Oxford one of the train's stops?", "Does the train skip Oxford?"),
    ("Credit cards with an annual fee", "Credit cards that charge a yearly fee", "Credit cards with no annual fee"),
    (
        "Is the restaurant wheelchair accessible?",
        "Can wheelchair users get into the restaurant?",
        "Is the restaurant not wheelchair accessible?",
    ),
    (
        "Which medicines require a prescription?",
        "What drugs can only be bought with a prescription?",
        "Which medicines do not require a prescription?",
    ),
    ("Which snakes are venomous?", "What kinds of snakes have venom?", "Which snakes are not venomous?"),
    ("Show emails that have attachments", "List my emails with attached files", "Show emails that have no attachments"),
    (
        "Does the warranty cover water damage?",
        "Is water damage included in the warranty?",
        "Does the warranty exclude water damage?",
    ),
]
SWAPPED = [
    ("Flights from Paris to Rome", "Plane tickets from Paris to Rome", "Flights from Rome to Paris"),
    ("Convert dollars to euros", "How do I change US dollars into euros?", "Convert euros to dollars"),
    (
        "Did Germany beat Brazil in the 2014 World Cup?",
        "Did Brazil lose to Germany at the 2014 World Cup?",
        "Did Brazil beat Germany in the 2014 World Cup?",
    ),
    ("Translate English to Spanish", "Translation from English into Spanish", "Translate Spanish to English"),
    (
        "Is Canada bigger than the United States?",
        "Does Canada have a larger area than the US?",
        "Is the United States bigger than Canada?",
    ),
    (
        "Train times from Boston to New York",
        "When do trains leave Boston for New York?",
        "Train times from New York to Boston",
    ),
    ("Is Maria the mother of Ana?", "Is Ana Maria's daughter?", "Is Ana the mother of Maria?"),
    (
        "Transfer 50 dollars from my checking account to my savings account",
        "Move $50 from checking into savings",
        "Transfer 50 dollars from my savings account to my checking account",
    ),
    (
        "Import contacts from Gmail to Outlook",
        "Move my contacts from Gmail into Outlook",
        "Import contacts from Outlook to Gmail",
    ),
    (
        "Copy the file from the server to my laptop",
        "Download the file from the server onto my laptop",
        "Copy the file from my laptop to the server",
    ),
    (
        "Did the Lakers beat the Celtics last night?",
        "Did the Celtics lose to the Lakers last night?",
        "Did the Celtics beat the Lakers last night?",
    ),
    ("Is Python faster than Java?", "Does Python run quicker than Java?", "Is Java faster than Python?"),
    (
        "Convert Celsius to Fahrenheit",
        "How do I turn a Celsius temperature into Fahrenheit?",
        "Convert Fahrenheit to Celsius",
    ),
    (
        "Bus from the airport to the city center",
        "How do I get by bus from the airport into the city centre?",
        "Bus from the city center to the airport",
    ),
    ("Does Tom owe money to Sarah?", "Is Tom in debt to Sarah?", "Does Sarah owe money to Tom?"),
    (
        "Migrate the database from MySQL to PostgreSQL",
        "Move our data from MySQL over to Postgres",
        "Migrate the database from PostgreSQL to MySQL",
    ),
    ("Is London north of Paris?", "Does London lie further north than Paris?", "Is Paris north of London?"),
    (
        "Ship a package from Chicago to Denver",
        "Send a parcel from Chicago to Denver",
        "Ship a package from Denver to Chicago",
    ),
    (
        "Replace the commas with semicolons in this text",
        "Swap every comma in this text for a semicolon",
        "Replace the semicolons with commas in this text",
    ),
    ("Is the dog chasing the cat?", "Is the cat being chased by the dog?", "Is the cat chasing the dog?"),
    (
        "Rename the folder drafts to final",
        "Change the folder name from drafts to final",
        "Rename the folder final to drafts",
    ),
    (
        "How many hours ahead of London is Tokyo?",
        "What is Tokyo's time difference ahead of London, in hours?",
        "How many hours ahead of Tokyo is London?",
    ),
    (
        "Forward calls from my office phone to my mobile",
        "Redirect calls from the office line to my cell phone",
        "Forward calls from my mobile to my office phone",
    ),
    (
        "Is iron denser than aluminum?",
        "Does iron have a higher density than aluminium?",
        "Is aluminum denser than iron?",
    ),
    ("Convert this PDF to a Word document", "Turn this PDF into a Word file", "Convert this Word document to a PDF"),
    ("Does Anna report to Ben?", "Is Ben Anna's manager?", "Does Ben report to Anna?"),
    ("Exchange rate from pounds to yen", "How many yen do I get for one pound?", "Exchange rate from yen to pounds"),
    ("Subtract 3 from 10", "What is 10 minus 3?", "Subtract 10 from 3"),
    (
        "Move the meeting from Tuesday to Thursday",
        "Reschedule the meeting from Tuesday to Thursday",
        "Move the meeting from Thursday to Tuesday",
    ),
    (
        "Is Mount Kilimanjaro taller than Mont Blanc?",
        "Does Kilimanjaro rise higher than Mont Blanc?",
        "Is Mont Blanc taller than Mount Kilimanjaro?",
    ),
]
# different_numbers: templates (a, paraphrase) with a number slot; instances (n, m): m replaces n in the negative
NUMBERS = [
    ("km", "Convert {n} km to miles", "How many miles is {n} km?", [(5, 50), (12, 21), (42, 24)]),
    ("timer", "Set a timer for {n} minutes", "Start a {n}-minute timer", [(5, 15), (10, 11), (25, 52)]),
    ("percent", "What is {n}% of 200?", "Calculate {n} percent of 200", [(15, 50), (20, 25), (8, 80)]),
    (
        "table",
        "Book a table for {n} people at 7 pm",
        "Reserve a table for {n} at seven in the evening",
        [(2, 3), (4, 6), (8, 10)],
    ),
    ("prime", "Is {n} a prime number?", "Is the number {n} prime?", [(91, 97), (51, 53), (221, 223)]),
    ("ram", "Show me laptops with {n} GB of RAM", "Laptops that have {n}GB of memory", [(16, 8), (32, 64), (12, 24)]),
    (
        "flight_date",
        "Flights to Madrid on May {n}",
        "Plane tickets to Madrid departing {n} May",
        [(3, 13), (21, 12), (7, 17)],
    ),
    (
        "phones",
        "Best phones under ${n}",
        "Top smartphones for less than {n} dollars",
        [(300, 800), (500, 200), (1000, 100)],
    ),
    (
        "rent",
        "Apartments for rent under ${n} a month",
        "Flats renting for less than {n} dollars monthly",
        [(1500, 2500), (900, 1900), (1200, 1250)],
    ),
    (
        "year",
        "What happened in {n}?",
        "Major historical events of the year {n}",
        [(1969, 1996), (1989, 1889), (1945, 1954)],
    ),
    ("pages", "Print pages 1 to {n}", "Print only the first {n} pages", [(5, 50), (10, 100), (3, 30)]),
    ("volume", "Turn the volume up to {n}", "Set the volume level to {n}", [(40, 80), (10, 70), (25, 35)]),
    ("times", "What is {n} times 8?", "Multiply {n} by 8", [(12, 13), (7, 70), (9, 6)]),
    (
        "fever",
        "Is {n} degrees Celsius a fever?",
        "Does a body temperature of {n} °C count as a fever?",
        [("37.5", "39.5"), ("38", "36"), ("37.2", "38.2")],
    ),
]
NEAR_TOPIC = [
    ("How do I reset my password?", "I forgot my password, how can I set a new one?", "How do I change my username?"),
    ("What is the capital of Spain?", "Which city is Spain's capital?", "What is the population of Spain?"),
    (
        "How long should I boil an egg?",
        "How many minutes does it take to boil an egg?",
        "How long should I fry an egg?",
    ),
    ("What are the symptoms of the flu?", "How do I know if I have the flu?", "How is the flu treated?"),
    (
        "How do I install Python on Windows?",
        "What's the way to set up Python on a Windows PC?",
        "How do I install Python on a Mac?",
    ),
    ("When does the library open?", "What time does the library open?", "When does the library close?"),
    (
        "How much does a passport renewal cost?",
        "What is the fee to renew a passport?",
        "How long does a passport renewal take?",
    ),
    (
        "What is the best way to learn Spanish?",
        "How can I learn Spanish effectively?",
        "What is the best way to learn Italian?",
    ),
    (
        "Can I return shoes I have worn?",
        "Is it possible to return worn shoes?",
        "Can I exchange shoes for a different size?",
    ),
    (
        "How many calories are in a banana?",
        "What is the calorie count of a banana?",
        "How much potassium is in a banana?",
    ),
    ("Who wrote the novel 1984?", "Who is the author of 1984?", "When was the novel 1984 published?"),
    ("How do I make cold brew coffee?", "What's the method for making cold brew?", "How do I make iced tea?"),
    (
        "What is the return policy for electronics?",
        "Can I return electronics, and under what conditions?",
        "What is the warranty on electronics?",
    ),
    (
        "Does the update fix the battery drain?",
        "Will installing the update solve the battery drain problem?",
        "Does the update cause the battery drain?",
    ),
    (
        "Can I cancel my order after it ships?",
        "Is it possible to cancel an order once it has shipped?",
        "Can I change the delivery address after my order ships?",
    ),
    ("How tall is the Eiffel Tower?", "What is the height of the Eiffel Tower?", "How old is the Eiffel Tower?"),
    ("How do I cook quinoa?", "What's the best way to prepare quinoa?", "How do I store cooked quinoa?"),
    ("What does HTTP 404 mean?", "What is a 404 error?", "What does HTTP 500 mean?"),
    ("How do I sort a list in Python?", "What's the way to order a Python list?", "How do I reverse a list in Python?"),
    (
        "Which vaccines do I need for Thailand?",
        "What shots are recommended before travelling to Thailand?",
        "Do I need a visa for Thailand?",
    ),
    (
        "How do I clean a cast iron pan?",
        "What is the right way to wash a cast-iron skillet?",
        "How do I season a cast iron pan?",
    ),
    ("What time is sunrise tomorrow?", "When does the sun rise tomorrow?", "What time is sunset tomorrow?"),
    (
        "How do I get a refund for my ticket?",
        "Can I get my money back for this ticket?",
        "How do I transfer my ticket to someone else?",
    ),
    (
        "What is the difference between a virus and a bacterium?",
        "How do viruses differ from bacteria?",
        "How do antibiotics work against bacteria?",
    ),
    (
        "How much water should I drink per day?",
        "What is the recommended daily water intake?",
        "How much protein should I eat per day?",
    ),
    (
        "How do I apply for a student loan?",
        "What is the process to get a student loan?",
        "How do I pay back a student loan?",
    ),
    ("What are the opening hours of the gym?", "When is the gym open?", "How much is a gym membership?"),
    (
        "How do I merge two branches in git?",
        "What's the command to merge one git branch into another?",
        "How do I delete a branch in git?",
    ),
    (
        "How do I take a screenshot on a Mac?",
        "What keys capture the screen on macOS?",
        "How do I record my screen on a Mac?",
    ),
    (
        "What is the speed limit on German highways?",
        "How fast can you drive on German motorways?",
        "Do German highways have tolls?",
    ),
]
DIFFERENT_TOPIC = [
    ("How do I reset my router?", "What's the way to restart my Wi-Fi router?", "Who painted The Starry Night?"),
    (
        "Best way to store fresh basil",
        "How should I keep fresh basil so it lasts?",
        "How do I renew my driver's license?",
    ),
    ("Why is the sky blue?", "What makes the sky look blue?", "How do I bake sourdough bread?"),
    ("How do I tie a tie?", "What are the steps to knot a necktie?", "What is the capital of Peru?"),
    ("Symptoms of dehydration", "How can I tell if I'm dehydrated?", "Cheap flights to Iceland"),
    ("How does compound interest work?", "Can you explain compound interest?", "How do I remove a wine stain?"),
    (
        "What should I pack for a beach holiday?",
        "Packing list for a trip to the beach",
        "How do I write a for loop in JavaScript?",
    ),
    ("How to fall asleep faster", "Tips for getting to sleep more quickly", "What is the population of Brazil?"),
    ("How do I change a flat tire?", "Steps to replace a punctured car tyre", "What is photosynthesis?"),
    (
        "Good houseplants for low light",
        "Which indoor plants grow well without much sun?",
        "How do I file my taxes online?",
    ),
    ("How do I make pancakes from scratch?", "Homemade pancake recipe", "What causes earthquakes?"),
    (
        "How do I improve my credit score?",
        "Ways to raise my credit rating",
        "Where can I watch the football match tonight?",
    ),
    ("What does the word ephemeral mean?", "Define ephemeral", "How many players are on a soccer team?"),
    (
        "How do I unclog a kitchen sink?",
        "My kitchen drain is blocked, how do I fix it?",
        "What year did the Berlin Wall fall?",
    ),
    ("Tips for a job interview", "How should I prepare for a job interview?", "How far is Mars from the Sun?"),
]
NEGATIVE_KINDS = ["negation", "swapped_entities", "different_numbers", "different_topic", "near_topic"]


def build_pairs() -> list[dict]:
    rng = Random(SEED + 1)
    families: list[dict] = []  # {"group", "kind", "triples": [(a, p, n), ...]}
    for kind, prefix, table in (
        ("negation", "neg", NEGATION),
        ("swapped_entities", "swap", SWAPPED),
        ("near_topic", "near", NEAR_TOPIC),
        ("different_topic", "topic", DIFFERENT_TOPIC),
    ):
        for i, t in enumerate(table):
            families.append({"group": f"{prefix}/{i:02d}", "kind": kind, "triples": [t]})
    for name, ta, tb, inst in NUMBERS:
        triples = []
        for n, m in inst:
            a, p = ta.format(n=n), tb.format(n=n)
            neg = rng.choice([ta, tb]).format(n=m)  # same wording or the paraphrase's wording, other number
            triples.append((a, p, neg))
        families.append({"group": f"num/{name}", "kind": "different_numbers", "triples": triples})

    test: list[str] = []
    for kind in NEGATIVE_KINDS:
        names = [f["group"] for f in families if f["kind"] == kind]
        rng.shuffle(names)
        test += names[: max(1, round(TEST_FRAC * len(names)))]

    pairs = []
    for fam in families:
        split = "test" if fam["group"] in test else "dev"
        for a, p, neg in fam["triples"]:
            pos = [a, p] if rng.random() < 0.5 else [p, a]
            anchor = a if rng.random() < 0.5 else p
            negp = [anchor, neg] if rng.random() < 0.5 else [neg, anchor]
            pairs.append(
                {"a": pos[0], "b": pos[1], "label": 1, "kind": "paraphrase", "split": split, "group": fam["group"]}
            )
            pairs.append(
                {"a": negp[0], "b": negp[1], "label": 0, "kind": fam["kind"], "split": split, "group": fam["group"]}
            )
    rng.shuffle(pairs)
    return [{"id": f"pp-{i:04d}", **p} for i, p in enumerate(pairs, 1)]


# ----------------------------------------------------------------------------------------------------------
def render_files() -> dict[str, str]:
    """Relative path -> exact file text."""

    def jsonl(rows):
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)

    prompts = build_prompts()
    files = {PROMPT_FILES[s]: jsonl(prompts[s]) for s in ("train", "heldout")}
    files[PAIRS_FILE] = jsonl(build_pairs())
    return files


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="directory to write prompts/ and paraphrase/ into (default: data/ next to this script)",
    )
    ap.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if the files under --out differ from a fresh generation",
    )
    args = ap.parse_args(argv)
    files = render_files()
    if args.check:
        stale = [
            rel
            for rel, text in files.items()
            if not (args.out / rel).exists() or (args.out / rel).read_text(encoding="utf-8") != text
        ]
        for rel in stale:
            print(
                f"{args.out / rel}: differs from the generator's output; run python data/make_demo_data.py",
                file=sys.stderr,
            )
        return 1 if stale else 0
    for rel, text in files.items():
        _atomic_write(args.out / rel, text)
        print(f"wrote {args.out / rel} ({text.count(chr(10))} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
