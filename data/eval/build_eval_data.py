"""Write the local eval sets (data/eval/*.jsonl) from the hand-written items below.

Deterministic: the same script always writes byte-identical files (fixed item order, fixed seed for the
order of multiple-choice options). Every item and gold answer here was written for costlab (Apache-2.0);
nothing is copied from a public dataset. Run: python data/eval/build_eval_data.py

Sized for a 135M model on CPU: multiple-choice (scored by log-likelihood) for the classes where free
generation is hopeless at that size (translation, reasoning, code); short generation with a lenient check
for qa / formatting; a unigram-F1 (ROUGE-1-like) for summarization.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261128

# --- translation: (english, language, correct, [3 wrong options in the same language]) -------------------
TRANSLATION = [
    ("Good morning", "French", "Bonjour", ["Bonsoir", "Merci", "Au revoir"]),
    ("Thank you", "French", "Merci", ["Bonjour", "Pardon", "Salut"]),
    ("The cat is black", "French", "Le chat est noir", ["Le chien est blanc", "La maison est grande", "Le chat est petit"]),
    ("I like apples", "French", "J'aime les pommes", ["Je mange du pain", "J'aime les chats", "Il boit de l'eau"]),
    ("Where is the station?", "French", "Où est la gare ?", ["Quelle heure est-il ?", "Où est la plage ?", "Comment allez-vous ?"]),
    ("Good night", "Spanish", "Buenas noches", ["Buenos días", "Gracias", "Hasta luego"]),
    ("Thank you very much", "Spanish", "Muchas gracias", ["De nada", "Buenas tardes", "Lo siento"]),
    ("The house is big", "Spanish", "La casa es grande", ["El perro es pequeño", "La casa es roja", "El coche es nuevo"]),
    ("I drink water", "Spanish", "Bebo agua", ["Como pan", "Bebo leche", "Tengo sed"]),
    ("Where is the bathroom?", "Spanish", "¿Dónde está el baño?", ["¿Qué hora es?", "¿Cómo te llamas?", "¿Dónde está la playa?"]),
    ("Good morning", "German", "Guten Morgen", ["Gute Nacht", "Danke schön", "Auf Wiedersehen"]),
    ("The dog is small", "German", "Der Hund ist klein", ["Die Katze ist groß", "Der Hund ist alt", "Das Haus ist klein"]),
    ("I am hungry", "German", "Ich habe Hunger", ["Ich bin müde", "Ich habe Durst", "Ich bin glücklich"]),
    ("Thank you", "German", "Danke", ["Bitte", "Hallo", "Tschüss"]),
    ("The book is red", "Italian", "Il libro è rosso", ["La penna è blu", "Il libro è nuovo", "La casa è rossa"]),
    ("Good evening", "Italian", "Buonasera", ["Buongiorno", "Grazie", "Arrivederci"]),
    ("I love music", "Italian", "Amo la musica", ["Amo il cibo", "Odio la pioggia", "Leggo un libro"]),
    ("Goodbye", "French", "Au revoir", ["Bonjour", "Merci beaucoup", "Bienvenue"]),
    ("The sun is hot", "Spanish", "El sol está caliente", ["La luna es blanca", "El agua está fría", "El sol es amarillo"]),
    ("Open the door", "German", "Öffne die Tür", ["Schließ das Fenster", "Öffne das Buch", "Mach das Licht an"]),
]

# --- qa: (question, [accepted answers]) — short factual answers, scored by "an accepted answer appears" ---
QA = [
    ("What is the capital of France?", ["Paris"]),
    ("What is the capital of Japan?", ["Tokyo"]),
    ("What is the capital of Italy?", ["Rome"]),
    ("What is the capital of Germany?", ["Berlin"]),
    ("What is the capital of Spain?", ["Madrid"]),
    ("How many days are there in a week?", ["7", "seven"]),
    ("How many legs does a spider have?", ["8", "eight"]),
    ("What color is the sky on a clear day?", ["blue"]),
    ("What planet do we live on?", ["Earth"]),
    ("What is the largest ocean on Earth?", ["Pacific"]),
    ("Which animal is known as the king of the jungle?", ["lion"]),
    ("What do bees make?", ["honey"]),
    ("What is frozen water called?", ["ice"]),
    ("Who wrote the play Romeo and Juliet?", ["Shakespeare"]),
    ("What gas do plants take in from the air?", ["carbon dioxide", "CO2"]),
    ("How many hours are there in a day?", ["24", "twenty-four", "twenty four"]),
    ("What is the opposite of hot?", ["cold"]),
    ("What is the closest star to Earth?", ["Sun"]),
    ("In which continent is Egypt?", ["Africa"]),
    ("What is the main language spoken in Brazil?", ["Portuguese"]),
]

# --- summarization: (passage, reference one-sentence summary) --------------------------------------------
SUMMARIZATION = [
    ("The town library will close for two weeks in March while workers replace the old roof. Books can still be "
     "returned through the drop box, and the children's reading club will meet at the community center instead.",
     "The library closes for two weeks in March to replace its roof."),
    ("Maria started running every morning in January. By June she could run ten kilometers without stopping, and "
     "she signed up for her first race in the autumn.",
     "Maria trained since January and can now run ten kilometers."),
    ("Heavy rain flooded several streets in the city center on Tuesday. Buses were rerouted, and the mayor asked "
     "people to avoid driving until the water went down.",
     "Heavy rain flooded city streets and people were asked not to drive."),
    ("The bakery on Main Street has added gluten-free bread to its menu. The owner said many customers had asked "
     "for it, and the first batch sold out before noon.",
     "The bakery now sells gluten-free bread, and it sold out quickly."),
    ("Scientists found that the lake's water is warmer than it was twenty years ago. Warmer water lets more algae "
     "grow, which can harm the fish that live there.",
     "The lake has warmed, which helps algae grow and can harm fish."),
    ("The school will start thirty minutes later next year so that students can sleep more. Parents voted for the "
     "change at a meeting last month.",
     "School will start thirty minutes later so students sleep more."),
    ("A new bridge over the river opened on Friday. It cuts the drive between the two villages from forty minutes "
     "to ten minutes.",
     "A new bridge cuts the drive between the villages to ten minutes."),
    ("The museum received a collection of old maps from a local family. The maps show how the coastline has "
     "changed over three hundred years and will be shown to the public in May.",
     "The museum got old maps that will be shown in May."),
    ("Our team finished the project two days early. Everyone worked extra hours last week, and the client was "
     "very happy with the result.",
     "The team finished the project early and the client was happy."),
    ("The price of coffee beans rose sharply this year because of a poor harvest in several growing countries. "
     "Many cafes have raised the price of a cup by a few cents.",
     "A poor harvest raised coffee bean prices, so cafes charge more."),
    ("The park will plant two hundred new trees this spring. Volunteers are invited to help on Saturday mornings, "
     "and tools will be provided.",
     "The park will plant two hundred trees with help from volunteers."),
    ("Tom lost his keys on the way to work. A neighbor found them in the grass and brought them back that evening.",
     "A neighbor found Tom's lost keys and returned them."),
]

# --- formatting: instructions with a mechanically checkable answer ---------------------------------------
WORDS = ["apple", "river", "garden", "window", "planet", "yellow", "summer", "pencil", "orange", "market"]
PEOPLE = [("Alice", 30), ("Bob", 25), ("Chen", 41), ("Dana", 19), ("Emil", 52)]


def formatting_items() -> list[dict]:
    items = []
    for w in WORDS[:5]:
        items.append({"instruction": f"Write the word '{w}' in capital letters. Reply with the word only.",
                      "check": "exact", "answer": w.upper()})
    for w in WORDS[5:]:
        items.append({"instruction": f"Write the word '{w.upper()}' in lowercase letters. Reply with the word only.",
                      "check": "exact", "answer": w})
    for name, age in PEOPLE:
        items.append({"instruction": f"Write a JSON object with the key \"name\" set to \"{name}\" and the key "
                                     f"\"age\" set to {age}. Reply with the JSON only.",
                      "check": "json", "answer": json.dumps({"name": name, "age": age})})
    for a, b, c in [("red", "green", "blue"), ("cat", "dog", "bird"), ("one", "two", "three"),
                    ("north", "south", "east"), ("salt", "pepper", "sugar")]:
        items.append({"instruction": f"Write the words {a}, {b} and {c} as a comma-separated list. Reply with the list only.",
                      "check": "csv", "answer": f"{a}, {b}, {c}"})
    # interleave the four kinds (upper, lower, json, csv) so the first N items (eval.quality.limit) mix them
    groups = [items[0:5], items[5:10], items[10:15], items[15:20]]
    return [g[i] for i in range(5) for g in groups]


# --- reasoning: small word problems, multiple choice ------------------------------------------------------
def reasoning_items() -> list[dict]:
    rows = [
        ("Tom has 3 apples and buys 2 more. How many apples does he have now?", 5),
        ("A box holds 4 pens. How many pens are in 3 boxes?", 12),
        ("Sara had 10 sweets and gave 4 to her brother. How many sweets does she have left?", 6),
        ("A bus has 20 seats and 7 are empty. How many seats are taken?", 13),
        ("There are 5 birds on a tree and 3 fly away. How many birds are left?", 2),
        ("A pizza is cut into 8 slices and 2 people eat 3 slices each. How many slices are left?", 2),
        ("Ben is 9 years old. His sister is 3 years older. How old is his sister?", 12),
        ("A train leaves at 2 pm and the trip takes 3 hours. At what hour in the afternoon does it arrive?", 5),
        ("If one ticket costs 6 dollars, how many dollars do 2 tickets cost?", 12),
        ("A farmer has 3 cows and each cow has 4 legs. How many legs do the cows have in total?", 12),
        ("Anna reads 5 pages a day. How many pages does she read in 4 days?", 20),
        ("There are 15 students and 5 go home. How many students stay?", 10),
        ("A shop sells 7 cakes in the morning and 8 in the afternoon. How many cakes does it sell that day?", 15),
        ("If you split 18 marbles equally between 3 children, how many marbles does each child get?", 6),
        ("Lily has twice as many books as Sam. Sam has 4 books. How many books does Lily have?", 8),
        ("A week has 7 days. How many days are in 2 weeks?", 14),
        ("Max had 9 coins, found 6 more and then lost 5. How many coins does he have?", 10),
        ("A car travels 30 kilometers each hour. How far does it go in 2 hours, in kilometers?", 60),
        ("Which number is larger: 47 or 74?", 74),
        ("What is half of 16?", 8),
    ]
    rng = random.Random(SEED + 1)
    items = []
    for q, ans in rows:
        wrong = sorted({ans + 1, ans - 1 if ans > 1 else ans + 2, ans + 3, ans * 2 if ans * 2 != ans else ans + 4} - {ans})[:3]
        choices = [str(ans)] + [str(w) for w in wrong]
        rng.shuffle(choices)
        items.append({"question": q, "choices": choices, "gold": choices.index(str(ans))})
    return items


# --- code: what a short Python snippet evaluates to, multiple choice -------------------------------------
CODE = [
    ("len('hello')", ["4", "6", "'hello'"]),
    ("3 + 4 * 2", ["14", "10", "9"]),
    ("'abc'.upper()", ["'abc'", "'Abc'", "'ABC '"]),
    ("[1, 2, 3][0]", ["2", "3", "[1]"]),
    ("10 // 3", ["3.33", "4", "1"]),
    ("10 % 3", ["3", "0", "10"]),
    ("sum([1, 2, 3, 4])", ["4", "24", "[10]"]),
    ("max(5, 9, 2)", ["5", "2", "16"]),
    ("'a' * 3", ["'a3'", "3", "'a a a'"]),
    ("len([0, 0, 0, 0, 0])", ["0", "4", "6"]),
    ("2 ** 3", ["6", "9", "5"]),
    ("'hello'[1]", ["'h'", "'l'", "'o'"]),
    ("bool(0)", ["True", "0", "None"]),
    ("sorted([3, 1, 2])", ["[3, 1, 2]", "[3, 2, 1]", "[2, 1, 3]"]),
    ("'a,b,c'.split(',')", ["'abc'", "['a,b,c']", "('a', 'b', 'c')"]),
    ("abs(-7)", ["-7", "0", "49"]),
    ("min([4, 8, 1])", ["4", "8", "13"]),
    ("'py' + 'thon'", ["'py thon'", "'thonpy'", "'py+thon'"]),
    ("list(range(3))", ["[1, 2, 3]", "[0, 1, 2, 3]", "[3]"]),
    ("int('42') + 1", ["'421'", "42", "41"]),
]


def code_items() -> list[dict]:
    rng = random.Random(SEED + 2)
    items = []
    for expr, wrong in CODE:
        ans = repr(eval(expr))  # noqa: S307 - fixed, hand-written expressions; the gold is computed, not typed
        assert ans not in wrong, expr
        choices = [ans] + wrong
        rng.shuffle(choices)
        items.append({"question": f"What does this Python expression evaluate to?\n{expr}",
                      "choices": choices, "gold": choices.index(ans)})
    return items


def translation_items() -> list[dict]:
    rng = random.Random(SEED + 3)
    items = []
    for en, lang, right, wrong in TRANSLATION:
        choices = [right] + wrong
        rng.shuffle(choices)
        items.append({"source": en, "language": lang, "choices": choices, "gold": choices.index(right)})
    return items


def write(name: str, items: list[dict]) -> None:
    path = HERE / f"{name}.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for i, it in enumerate(items):
            f.write(json.dumps({"id": f"{name}-{i:03d}", **it}, ensure_ascii=False) + "\n")
    print(f"{path.relative_to(HERE.parent.parent)}: {len(items)} items")


def main() -> None:
    write("translation", translation_items())
    write("qa", [{"question": q, "answers": a} for q, a in QA])
    write("summarization", [{"passage": p, "summary": s} for p, s in SUMMARIZATION])
    write("formatting", formatting_items())
    write("reasoning", reasoning_items())
    write("code", code_items())


if __name__ == "__main__":
    main()
