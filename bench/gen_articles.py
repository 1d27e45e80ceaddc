"""Generate news-like articles for benchmarks: ``python bench/gen_articles.py N OUT_DIR``.

Articles are composed from sentence templates (one family per kind of event), a
small pool of invented officials and the countries and organisations the analysts
read about. Output is deterministic for a given N and seed.
"""

from __future__ import annotations

import argparse
import random
from datetime import date, timedelta
from pathlib import Path

COUNTRIES = [
    ("Türkiye", "Turkish", "Ankara"), ("Iran", "Iranian", "Tehran"), ("Iraq", "Iraqi", "Baghdad"),
    ("Syria", "Syrian", "Damascus"), ("Israel", "Israeli", "Jerusalem"),
    ("Egypt", "Egyptian", "Cairo"), ("Russia", "Russian", "Moscow"),
    ("Ukraine", "Ukrainian", "Kyiv"), ("France", "French", "Paris"),
    ("Germany", "German", "Berlin"), ("China", "Chinese", "Beijing"),
    ("India", "Indian", "New Delhi"), ("Pakistan", "Pakistani", "Islamabad"),
    ("Qatar", "Qatari", "Doha"), ("Jordan", "Jordanian", "Amman"),
    ("Lebanon", "Lebanese", "Beirut"), ("Saudi Arabia", "Saudi", "Riyadh"),
    ("Azerbaijan", "Azerbaijani", "Baku"), ("Greece", "Greek", "Athens"),
    ("Japan", "Japanese", "Tokyo"),
]
FIRST = ["Ahmet", "Mehmet", "Ali", "Hassan", "Fatima", "Olena", "Sergei", "Marie", "Jean",
         "Li", "Wei", "Priya", "Rahul", "Omar", "Layla", "Yusuf", "Elif", "Hans", "Anna",
         "Carlos", "Sofia", "Kenji", "Aiko", "Nikos", "Leila", "Tariq", "Dmitri", "Helga"]
LAST = ["Yilmaz", "Demir", "Rahimi", "Haddad", "al-Amiri", "Kovalenko", "Petrov", "Dubois",
        "Lefevre", "Zhang", "Chen", "Sharma", "Khan", "Nasser", "Mansour", "Aydin", "Schmidt",
        "Weber", "Garcia", "Tanaka", "Papadopoulos", "Karimi", "bin Salman", "Volkov"]
ROLES = ["Foreign Minister", "Defence Minister", "President", "Prime Minister",
         "intelligence chief", "Interior Minister", "Trade Minister", "Energy Minister"]
ORGS = ["NATO", "the United Nations", "the European Union", "the Arab League", "Hamas",
        "the PKK", "Daesh", "the World Health Organization", "the African Union"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

EVENT_SENTENCES = [
    "{a} met with {b} in {city} on {day} to discuss {topic}.",
    "{a} held talks with {b} in {city}, focusing on {topic}.",
    "{a} spoke by phone with {b} on {day}, discussing {topic}.",
    "{a} accused {b} of undermining {topic}.",
    "{a} reiterated its full support for {c} at all levels.",
    "{a} expressed concern about {topic} during a visit to {country}.",
    "{a} warned {b} that further escalation would have consequences.",
    "{a} signed an agreement with {b} on {topic} in {city}.",
    "{a} rejected the proposal put forward by {b} on {topic}.",
    "{a} called on {b} to release the detained journalists.",
    "{a} announced new sanctions against {c} over {topic}.",
    "Forces loyal to {c} launched a missile attack on positions near {city} on {day}.",
    "{a} pledged humanitarian aid to {c} after the floods.",
    "Thousands protested in {city} against {topic} on {day}.",
    "{a} agreed with {b} to extend the ceasefire by another month.",
    "{a} deployed additional troops to the border with {c}.",
]
TOPICS = ["border security", "counter-terrorism cooperation", "energy supplies",
          "the nuclear programme", "the ceasefire process", "trade and tariffs",
          "the upcoming elections", "humanitarian access", "bilateral relations",
          "regional stability", "the refugee situation", "water rights"]
FILLER = [
    "The meeting came amid rising tensions in the region, analysts said.",
    "Officials did not give further details about the content of the talks.",
    "Observers noted that the two sides have held several rounds of negotiations this year.",
    "The statement was published on the ministry's website late in the evening.",
    "Diplomatic sources described the atmosphere of the discussions as constructive.",
    "Local media reported that security measures were tightened across the capital.",
]


def _officials(n: int = 300, seed: int = 1) -> list[str]:
    """The pool of invented officials: each has one name, nationality and office, as a
    real official has (a name that changed country from article to article would make
    every article a new say on who that person is)."""
    rng = random.Random(seed)
    names = rng.sample([f"{f} {la}" for f in FIRST for la in LAST], n)
    return [f"{rng.choice(COUNTRIES)[1]} {rng.choice(ROLES)} {name}" for name in names]


OFFICIALS = _officials()


def person(rng: random.Random) -> str:
    return rng.choice(OFFICIALS)


def article(i: int, rng: random.Random, words: int = 600) -> tuple[str, str]:
    """One article: returns (file name, text) of about ``words`` words."""
    published = date(2024, 1, 1) + timedelta(days=rng.randrange(700))
    home = rng.choice(COUNTRIES)
    title_a = rng.choice(COUNTRIES)[0]
    title = f"{home[0]}, {title_a} discuss {rng.choice(TOPICS)}"
    lines = [title, "2 min read", published.strftime("%B %-d, %Y"), ""]
    body: list[str] = []
    n = 0
    while n < words:
        if rng.random() < 0.6:
            other = rng.choice(COUNTRIES)
            s = rng.choice(EVENT_SENTENCES).format(
                a=person(rng), b=person(rng) if rng.random() < 0.7 else rng.choice(ORGS),
                c=other[0], city=other[2], country=other[0], day=rng.choice(WEEKDAYS),
                topic=rng.choice(TOPICS),
            )
        else:
            s = rng.choice(FILLER)
        body.append(s)
        n += len(s.split())
    paras = [" ".join(body[k : k + 4]) for k in range(0, len(body), 4)]
    lines += [p + "\n" for p in paras]
    lines += ["Explore", "Unrelated headline about markets", "Contact us"]
    return f"article_{i:06d}.txt", "\n".join(lines)


def generate(n: int, out: Path, seed: int = 7, words: int = 600) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for i in range(n):
        name, text = article(i, rng, words)
        path = out / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("n", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--words", type=int, default=600)
    args = parser.parse_args()
    paths = generate(args.n, args.out, args.seed, args.words)
    print(f"wrote {len(paths)} articles to {args.out}")


if __name__ == "__main__":
    main()
