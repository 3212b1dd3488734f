#!/usr/bin/env python3
"""Build app/data/first_names.txt, the first names the personal-details checker looks for.

The names come from two MIT-licensed packages on PyPI, pinned releases fetched with pip: the
person providers of Faker and the person data sets of Mimesis. From them come the first names
used in the UK and Ireland, and in the communities that make up a large share of families in
English local areas (South Asian, West and East African, Polish, Romanian, Lithuanian,
Portuguese, Italian, Spanish and French). A short list written for this project (SUPPLEMENT
below) adds common names that neither package has. Neither package is a dependency of the
app: this script reads the names out of their wheels and writes a plain list the app ships.

Faker's lists hold some entries that are ordinary English words ("Council", "Doctor", "Early")
or places ("London", "Preston"); a name-checker that knows them would flag half of every text.
They are dropped here, by the hand-made lists below. Names that are also words but are too
common as names to leave out ("Will", "May", "Grace", "Lily") are kept; the checker asks for
more evidence before it treats them as a name (see app/services/personal_details.py).

    .venv/bin/python scripts/build_first_names.py         # fetches both wheels with pip
    .venv/bin/python scripts/build_first_names.py --wheels /tmp/wheels   # already downloaded

Writes one name per line, sorted, deduplicated. Rerun it after changing the lists below, and
update app/data/README.md if the sources change.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from pathlib import Path


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FAKER_VERSION = "40.54.0"
MIMESIS_VERSION = "22.2.0"
OUTPUT = Path(__file__).resolve().parent.parent / "app" / "data" / "first_names.txt"

# Faker's person providers read. "en" is the largest (given names from US birth records, which
# include most names used in England too); the others add names common in the UK's families.
LOCALES = (
    "en",
    "en_GB",
    "en_IE",
    "en_US",
    "en_NZ",
    "en_IN",
    "en_PK",
    "en_KE",
    "en_NG",
    "yo_NG",
    "ig_NG",
    "ha_NG",
    "tw_GH",
    "pl_PL",
    "ro_RO",
    "lt_LT",
    "pt_PT",
    "it_IT",
    "es_ES",
    "fr_FR",
)
NAME_ATTRIBUTES = ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary")
# Mimesis's data sets read: British English (which holds many names used across the UK) and
# Polish. Its other locales add more of other languages' words than names.
MIMESIS_LOCALES = ("en-gb", "pl")

# Names common in England that neither package has, written for this project.
SUPPLEMENT = _words(
    """
    Aanya Adebayo Albie Amandeep Asif Ayo Babatunde Balvinder Bukola Cai Carys Cerys Chidi Cian
    Dafydd Damilola Dapo Efua Elis Esmae Esme Esmee Faisal Farzana Femi Ffion Folasade Funmilayo
    Gethin Gintare Gurpreet Haris Harjinder Harjit Harpreet Hira Hussain Imran Ionut Iqra
    Jaspreet Jaswinder Jenson Kavita Kayode Kemi Kulvinder Lowri Maisy Manpreet Nasreen Navdeep
    Nkechi Nusrat Olumide Oluwadamilare Oluwaseun Osian Parminder Parveen Pawel Rahim Rajinder
    Ravi Raya Rayyan Remi Rubina Rugile Rukhsana Safa Sanjay Segun Seren Shabana Shahid Shazia
    Simran Sioned Sukhdeep Sumaiya Sunita Tadhg Tahmina Temitope Tilly Toluwani Tunde Vikram Wale
    Waqas Wren Zakariya
    """
)

# Names that are also English words but are given to enough children in England that the checker
# must know them. app/services/personal_details.py treats each as a name only with more evidence
# (STRICT_NAMES and WORDLIKE_NAMES there; a test checks the three lists agree).
KEEP = _words(
    """
    Abbey Adelaide Ally Amber Amir Angel April Archer Aria August Austin Autumn Barney Basil
    Beau Belle Beryl Bill Billy Blessing Bob Bobby Bonnie Brad Brent Brogan Cal Cam Carol Chad
    Charity Chelsea Clayton Clement Colleen Comfort Cooper Crystal Dahlia Daisy Dale Dawn Dean
    Derrick Destiny Dolly Don Drew Dudley Earl Ebony Ed Eddy Emery Ester Eve Faith Felicity Fern
    Flora Florence Frank Gene Georgia Glen Grace Grant Griffin Guy Hank Harmony Harry Hazel Heath
    Heather Hector Holly Hope Hunter India Iris Ivy Jack Jade Jarred Jasmine Jasper Jay Jimmy
    John Jordan Josh Joy June Ken Kit Kitty Lance Laurel Lea Lee Leigh Liberty Lily Maria Marina
    Mark Martin Mason Matt Max May Meg Melody Mercy Mickey Mike Miles Myrtle Nelson Nick Noel
    Nova Olive Opal Pat Patience Patsy Patty Pearl Penny Peter Phoebe Phoenix Piper Poppy
    Precious Prudence Ray Rhea Rick River Rob Robin Roger Rose Rosemary Ruby Sally Sandy
    Savannah Scarlet Serenity Sibyl Sierra Sky Sonny Sue Summer Sydney Terry Tom Tony Troy
    Victor Victoria Viola Violet Wade Warren Will Willow Wren Yaw
    """
)

# Entries in Faker's lists that are English words, titles, surnames or places far more often
# than anyone's first name in an English SEND partnership's feedback. Found by comparing the
# lists with an English dictionary and a list of UK places, then read through by hand.
DROP = _words(
    """
    Ace Add Admiral Ah Albino Ale Almond Alpha Alto Angelic Ani Arch Art Aspen Atlas Aura Author
    Babe Baby Baker Banks Barb Baron Bee Bell Berry Bird Birdie Bishop Blanch Blaze Bliss Blossom
    Bode Bonny Boss Bowman Brain Branch Brandy Brook Brooks Brown Buck Bud Buddy Bunk Burns Burr
    Bush Buster Butch Butler COmfort Caddie Cadence Candy Cannon Canyon Cap Caprice Captain
    Carmine Carry Case Cash Celesta Champ Chance Chancy Chandler Chase Chastity Cherish Cherry
    Chin China Chip Christen Chuck Cinnamon Clay Cleave Cliff Collie Collier Colon Colonel Colt
    Commodore Con Coral Corona Council Coy Creed Curt Deacon Deb Deforest Dell Delta Diamond
    Dickie Dimple Dink Dirk Doc Dock Doctor Doll Dot Dotty Dove Drake Duff Duke Dusty Early
    Earnest Ebb Echo Elder Ell Else Ember Emerald Emit Era Ermine Essence Eta Ether Ever Fairy
    Fancy Fanny Fate Fawn Fed Fielding Finis Fisher Fleet Flint Florin Ford Forest Forum Foster
    Fount Franc Freeman French Friend Fuller Gala Gale Garland Garner Garnet Garret Garrison
    Gauge Gay Gee General Genesis Genie Ginger Golden Gorge Governor Graves Green Grove Gunner
    Gurney Gust Hale Hall Ham Handy Harden Hardy Harm Harsh Hart Haven Hays Heaven Hence Herb
    Hill Homer Hung Hunt Hymen Icy Immaculate Infant Innocent Ion Ivory Jewel Job Journey Judge
    Junior Justice Kale Karma King Lacy Laddie Lady Lane Lark Lassie Lavender Lawyer Leafy Leaner
    Lemma Lemon Less Levy Linden Link Lisle Little Lone Long Loot Lope Love Loyal Lucky Lute
    Lyric Mace Mad Madden Magnolia Major Male Man Manly Manning Mar Margarita Marine Marlin
    Marquis Marquise Marry Marsh Marshal Mart Marvel Mat Maverick Maxim Mayo Meadow Media
    Merrily Merry Messiah Meta Metro Miller Mills Miner Minor Miracle Misty Moody Nacho Nadir
    Nail Narcissus Newt Newton Noble North Novella Octave Oral Orange Ova Page Paisley Pansy
    Park Parley Pastor Pate Peace Pearly Pepper Pier Pierce Pink Pinkie Pleas Pleasant Porter
    Press Price Prince Princess Prosper Purity Purl Queen Raid Randy Ransom Raven Reason Red
    Redden Reed Rice Rich Ridge Rock Rocky Rod Roe Rogers Roll Romaine Roman Rosy Royal Rube Rush
    Rusty Sable Sad Sage Said Saint Sanders Savanna Sawyer Sever Shad Shade Shepherd Sherry
    Silver Sim Sincere Sing Sister Skip Smith Sol Sole Son Sonata Spring Squire Star Starling
    Sterling Steward Stone Stonewall Stoney Storm Stormy Sunny Sunshine Sylvan Tab Tad Talon
    Tanner Tawny Tea Theta Tiara Tiny Toy Trace Treasure Trinity True Tucker Turner Unique
    Unknown Unnamed Urban Valentine Van Veer Velvet Vernal Victory Villa Viva Wadi Waldo Walker
    Ward Wash Watt Weaver Wellington Wells West Wheeler Whit Windy Wing Winter Wood Woody Worth
    Wright Young Zed Zeta

    America Ashton Asia Bedford Bradford Bristol Camden Carlisle Chester Dallas Denton Denver
    Devon Easter Ely Essex Hampton Holland Ireland January Kendal Kent Kingston Lincoln London
    Mansfield Merton Milton Paris Preston Ramsey Richmond Shelby Stafford Sunday Warwick York

    Christmas Monday Tuesday Wednesday Thursday Friday Saturday February March July September
    October November December England Scotland Wales Britain Europe Africa

    Aide An Angle Bong Bunny Camellia Chi Conception Desire Dick Dung Ha Hang Honey Hue Hyacinth
    Julienne Lean Lien Loan Lore Manual Many Maple Maxima Mica Min Miss Moon My Nu Numbers Omega
    Pa Pasty Peg Ping Rosette Sang Sari Season See Shin So Song Sparkle Sung Tam Temple Tequila
    Vi Wan Wen Yen Yon Yuk
    """
)

# Two-letter entries are dropped (Ab, Bo, Ty...), except these, which are names people use.
TWO_LETTER = frozenset({"Al", "Ed", "Jo", "Mo"})

_NAME = re.compile(r"[^\W\d_]+(?:['\-][^\W\d_]+)*")


def _latin(name: str) -> bool:
    """Letters of the Latin alphabet only, accents allowed (no other scripts)."""
    for char in name:
        if char in "'-":
            continue
        base = unicodedata.normalize("NFKD", char)[0]
        if not ("A" <= base <= "Z" or "a" <= base <= "z"):
            return False
    return True


def _looks_like_a_name(name: str) -> bool:
    if not _NAME.fullmatch(name) or not _latin(name):
        return False
    # Capitalised, the rest lower case (drops "COmfort" and initialisms).
    if not (name[0].isupper() and name[1:] == name[1:].lower()):
        return False
    return len(name) > 2 or name in TWO_LETTER


def _fetch_wheels(folder: Path) -> Path:
    for requirement in (f"faker=={FAKER_VERSION}", f"mimesis=={MIMESIS_VERSION}"):
        # A fixed command: this interpreter's pip, a pinned requirement.
        subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--dest",
                str(folder),
                requirement,
            ],
            check=True,
        )
    return folder


def _wheel(folder: Path, project: str, version: str) -> Path:
    wheels = sorted(folder.glob(f"{project}-{version}-*.whl"))
    if not wheels:
        raise SystemExit(f"No {project} {version} wheel in {folder}")
    return wheels[0]


def _provider_names(locale: str) -> set[str]:
    provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    found: set[str] = set()
    for attribute in NAME_ATTRIBUTES:
        # Read from the class itself or the nearest base that defines the list.
        for cls in provider.__mro__:
            if attribute in cls.__dict__:
                value = cls.__dict__[attribute]
                if isinstance(value, (dict, list, tuple)):
                    found.update(value)
                break
    return found


def _faker_names(wheel: Path) -> tuple[set[str], set[str]]:
    """First names from Faker's person providers, and its list of common English words."""
    # A wheel is a zip file, and Faker is pure Python: it imports straight from it.
    sys.path.insert(0, str(wheel))
    try:
        names: set[str] = set()
        for locale in LOCALES:
            names |= _provider_names(locale)
        words = importlib.import_module("faker.providers.lorem.en_US").Provider.word_list
    finally:
        sys.path.remove(str(wheel))
    return names, {word.lower() for word in words}


def _mimesis_names(wheel: Path) -> set[str]:
    names: set[str] = set()
    with zipfile.ZipFile(wheel) as archive:
        for locale in MIMESIS_LOCALES:
            data = json.loads(archive.read(f"mimesis/datasets/{locale}/person.json"))
            for group in data["names"].values():
                names.update(group)
    return names


def build(wheels: Path) -> list[str]:
    faker, common_words = _faker_names(_wheel(wheels, "faker", FAKER_VERSION))
    mimesis = _mimesis_names(_wheel(wheels, "mimesis", MIMESIS_VERSION))
    raw = {unicodedata.normalize("NFC", n.strip()) for n in faker | mimesis | SUPPLEMENT}
    names = {
        name
        for name in raw
        if _looks_like_a_name(name)
        and name not in DROP
        # Faker's list of common English words catches what the hand list missed.
        and (name.lower() not in common_words or name in KEEP)
    }
    return sorted(names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--wheels",
        type=Path,
        help=f"a folder holding faker {FAKER_VERSION} and mimesis {MIMESIS_VERSION} wheels",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="first-names-") as folder:
        wheels = args.wheels or _fetch_wheels(Path(folder))
        names = build(wheels)
    args.output.write_text("\n".join(names) + "\n", encoding="utf-8")
    print(f"Wrote {len(names)} first names to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
