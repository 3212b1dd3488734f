"""The personal-details checker: what in a text could identify a child or a family.

It finds e-mail addresses, UK phone numbers, postcodes, NHS numbers, dates of birth and dates
written as numbers, web links, people's names (a list of first names shipped in app/data, and
titles such as "Mrs Khan"), schools and nurseries named in the usual way ("Oakfield Primary"),
a child's age next to their name, and the words the partnership itself listed (PrivateTerm:
its schools, settings, staff and places).

It is tuned for precision as much as recall: a coordinator who sees a finding on every
sentence stops reading them. So a first name that is also an everyday word ("Will", "May",
"Grace") counts only with more evidence: a surname after it, a title before it, a word such as
"my son" before it, or an age after it. A phone number, an NHS number or a postcode must have
the right shape (and an NHS number the right check digit).

Triage shows the findings in the raw text and can fill the rewritten wording with the
suggested replacements ("[name]", "[school]"); publishing refuses any public text with a
finding until it is changed or a coordinator overrides the check with a reason.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa

from app.extensions import db
from app.models import Feedback, Partnership, PrivateTerm, User
from app.models.vocab import PrivateTermKind
from app.services import audit
from app.services.text import clean_text

# --- kinds of finding ------------------------------------------------------------------------

EMAIL = "email"
PHONE = "phone"
POSTCODE = "postcode"
NHS_NUMBER = "nhs_number"
DATE_OF_BIRTH = "date_of_birth"
DATE = "date"
URL = "url"
NAME = "name"
SCHOOL = "school"
SETTING = "setting"
PLACE = "place"
PRIVATE = "private"
AGE = "age"


@dataclass(frozen=True)
class Kind:
    replacement: str
    # What it is, in words: "a phone number" reads in a list, "phone numbers" counts several.
    singular: str
    plural: str


KINDS: dict[str, Kind] = {
    NAME: Kind("[name]", "name", "names"),
    SCHOOL: Kind("[school]", "school", "schools"),
    SETTING: Kind("[setting]", "setting or service", "settings or services"),
    PLACE: Kind("[place]", "place", "places"),
    PRIVATE: Kind(
        "[removed]", "word on the partnership's private list", "words on the private list"
    ),
    AGE: Kind("[age]", "child's age", "children's ages"),
    DATE_OF_BIRTH: Kind("[date of birth]", "date of birth", "dates of birth"),
    DATE: Kind("[date]", "date", "dates"),
    EMAIL: Kind("[email]", "e-mail address", "e-mail addresses"),
    PHONE: Kind("[phone]", "phone number", "phone numbers"),
    POSTCODE: Kind("[postcode]", "postcode", "postcodes"),
    NHS_NUMBER: Kind("[NHS number]", "NHS number", "NHS numbers"),
    URL: Kind("[link]", "web link", "web links"),
}

# The partnership's own words: the kind it gave a term decides what replaces it.
TERM_KINDS = {
    PrivateTermKind.SCHOOL.value: SCHOOL,
    PrivateTermKind.PERSON.value: NAME,
    PrivateTermKind.SETTING.value: SETTING,
    PrivateTermKind.PLACE.value: PLACE,
    PrivateTermKind.OTHER.value: PRIVATE,
}

# When two findings overlap, the longer wins; at the same length, the earlier kind here.
_PRECEDENCE = (
    PRIVATE,
    SCHOOL,
    SETTING,
    PLACE,
    EMAIL,
    URL,
    NHS_NUMBER,
    PHONE,
    POSTCODE,
    DATE_OF_BIRTH,
    DATE,
    NAME,
    AGE,
)


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    text: str

    @property
    def replacement(self) -> str:
        return KINDS[self.kind].replacement

    @property
    def label(self) -> str:
        return KINDS[self.kind].singular


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- data --------------------------------------------------------------------------------------

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def _load_first_names() -> frozenset[str]:
    path = DATA_DIR / "first_names.txt"
    return frozenset(
        line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    )


# Read once when the app starts; never at request time.
FIRST_NAMES: frozenset[str] = _load_first_names()

# First names that are everyday words or months: a name only with a surname, a title, a word
# such as "my son" before it, or an age after it. ("Will the council fix transport?", "We went
# to May half-term club", "Hope this helps", "Mark the date".)
STRICT_NAMES = _words(
    """
    Amber Angel April August Autumn Bill Blessing Carol Charity Comfort Crystal Dale Dawn Dean
    Destiny Don Drew Earl Ed Eve Faith Frank Glen Grace Grant Guy Harmony Heath Hope Hunter Jay
    June Ken Kit Lance Liberty Mark May Mercy Miles Nick Noel Pat Patience Penny Precious
    Ray River Rob Robin Rose Sandy Sky Sue Summer Wade Warren Will
    """
)

# First names that are also words, but rarely start a sentence as the word ("Poppy", "Holly",
# "Hazel"): mid-sentence and capitalised they are names; at the start of a sentence they need
# something name-like after them ("Poppy was excluded", "Holly Smith").
WORDLIKE_NAMES = _words(
    """
    Abbey Adelaide Ally Amir Archer Aria Austin Barney Basil Beau Belle Beryl Billy Bob Bobby
    Bonnie Brad Brent Brogan Cal Cam Chad Chelsea Clayton Clement Colleen Cooper Dahlia Daisy
    Derrick Dolly Dudley Ebony Eddy Emery Ester Felicity Fern Flora Florence Gene Georgia
    Griffin Hank Harry Hazel Heather Hector Holly India Iris Ivy Jack Jade Jarred Jasmine Jasper
    Jimmy John Jordan Josh Joy Kitty Laurel Lea Lee Leigh Lily Maria Marina Martin Mason Matt Max
    Meg Melody Mickey Mike Myrtle Nelson Nova Olive Opal Patsy Patty Pearl Peter Phoebe Phoenix
    Piper Poppy Prudence Rhea Rick Roger Rosemary Ruby Sally Savannah Scarlet Serenity Sibyl
    Sierra Sonny Sydney Terry Tom Tony Troy Victor Victoria Viola Violet Willow Wren Yaw
    """
)

TITLES = _words(
    """
    Mr Mrs Ms Miss Mx Dr Doctor Prof Professor Cllr Councillor Sir Dame Nurse Rev Revd
    """
)

# Capitalised words that are not surnames: after a first name they end the name, and a first
# name before a place word is a place ("Victoria Road", "Hazel Grove", "Rose Hill Primary").
PLACE_WORDS = _words(
    """
    Road Rd Street St Lane Avenue Ave Close Drive Way Grove Hill Park Green Court Gardens Place
    Square Crescent Terrace Walk Row Mews Common Heath Fields Field Meadow Meadows Wood Woods
    Bridge Farm Estate Village Town City Valley Moor Vale Mill Mount House Hall Hospital Centre
    Center Clinic Surgery Practice Library Church Chapel Mosque Temple Gurdwara Synagogue
    Station Ward Unit Wing Trust Foundation Council Partnership Forum Board Panel Group Team
    Service Services Hub Club Academy School Primary Infants Infant Junior Juniors High College
    University Nursery Preschool Catholic Day Eve Bank Holiday Term Half Half-term Stadium Arena
    Theatre Museum Gallery Market Shopping Retail Leisure Sports Pool Baths Medical Health
    Children's Centre's Family
    """
)

# Capitalised words that never start a name or a school's own name.
NOT_NAMES = _words(
    """
    I I'm I've I'd I'll A An The This That These Those My Our Your His Her Their Its We You He She
    They It And But Or So If When Then There Here What Why How Who Which Where Not No Yes All Any
    Some Every Each Both Most Many More Much Very Just Also Only Even Still Now Today Yesterday
    Tomorrow Please Thank Thanks Dear Hi Hello Mum Dad Nan Nana Grandma Grandad Granny
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June
    July August September October November December Christmas Easter SEND SEN SENCO SENCo EHCP
    EHC NHS CAMHS GP OT SALT ASD ADHD LA
    """
)

# Words before a name that say a person is named ("my son Jack", "a girl called Grace").
_CUE_BEFORE = re.compile(
    r"(?:\b(?:sons?|daughters?|child|children|boys?|girls?|kids?|baby|brothers?|sisters?|twins?|"
    r"grandsons?|granddaughters?|grandchild|grandchildren|nephews?|nieces?|stepsons?|"
    r"stepdaughters?|cousins?|friends?|"
    r"husband|wife|partner|called|named|name\s+is|name's|nicknamed)\s*,?\s*"
    r"(?:[A-Z][\w'\u2019-]*\s+(?:and|&)\s+)?$)",
)
# Words after a capitalised word that say it is a person ("Mark said", "Poppy was excluded").
_PERSON_AFTER = _words(
    """
    is was has had said says told tells asked asks helped helps rang phoned called emailed
    explained promised loves loved hates hated needs needed gets got goes went can can't cannot
    couldn't won't will would doesn't didn't isn't wasn't struggles struggled attends attended
    started starts finds found feels felt likes liked wants wanted from
    """
)
# Before a month name, these make it a date, never a person ("in May", "last June").
_TIME_BEFORE = re.compile(
    r"\b(?:in|on|by|since|until|till|from|to|during|before|after|last|next|this|early|late|mid|"
    r"of|end|start|beginning|throughout|around|about|\d{1,2}(?:st|nd|rd|th)?)\s*$",
    re.IGNORECASE,
)

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*")
_POSSESSIVE = re.compile(r"['\u2019]s$")

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|twenty-one|twenty-two|twenty-three|"
    "twenty-four|twenty-five"
)
_AGE_NUMBER = rf"(?:\d{{1,2}}|{_NUMBER_WORDS})"
_YEARS = r"(?:\s*(?:-\s*)?(?:years?|yrs?)(?:\s*(?:-\s*)?old)?)"
_AGE_VERB = (
    r"(?:who\s+is|who's|who\s+has\s+just\s+turned|who\s+turned|is|is\s+now|has\s+just\s+turned|"
    r"just\s+turned|turned|aged?)"
)
# Units after a number that make it something other than an age: "Sam is 10 minutes late".
_NOT_YEARS = (
    r"weeks?|months?|days?|hours?|hrs?|minutes?|mins?|seconds?|times?|per\s*cent|percent|of|"
    r"pounds?|miles?|metres?|meters?|km|cm|kg|am|pm|o'clock|points?|out"
)
# After a name: "Lily, 7," "Jack (aged 9)" "Amelia who is 6" "Sam is nearly 10" "Ben aged 4".
_AGE_AFTER = (
    re.compile(
        rf"^\s*,\s*(?P<age>(?:aged?\s+)?{_AGE_NUMBER}{_YEARS}?)(?=\s*(?:[,);.!?]|and\b|&|$))",
        re.IGNORECASE,
    ),
    re.compile(
        rf"^\s*\(\s*(?P<age>(?:aged?\s+)?{_AGE_NUMBER}{_YEARS}?)\s*\)",
        re.IGNORECASE,
    ),
    re.compile(
        rf"^\s*,?\s*{_AGE_VERB}\s+(?:nearly\s+|almost\s+|only\s+)?"
        rf"(?P<age>\d{{1,2}}{_YEARS}?)\b(?!\s*(?:{_NOT_YEARS})\b|[.:/]\d|\s*%)",
        re.IGNORECASE,
    ),
    # A number in words must end the phrase: "Jack is one of" is not an age.
    re.compile(
        rf"^\s*,?\s*{_AGE_VERB}\s+(?:nearly\s+|almost\s+|only\s+)?"
        rf"(?P<age>(?:{_NUMBER_WORDS}){_YEARS}?)(?=\s*(?:[,);.!?]|and\b|&|$|now\b|but\b))",
        re.IGNORECASE,
    ),
)
# Before a name: "my 7-year-old son Jack", "our six year old, Mia".
_AGE_BEFORE = re.compile(
    rf"(?P<age>\b{_AGE_NUMBER}\s*-?\s*(?:years?|yrs?)\s*-?\s*old)\s*,?\s*"
    r"(?:(?:son|daughter|boy|girl|child|brother|sister|twins?|grandson|granddaughter)\s*,?\s*)?$",
    re.IGNORECASE,
)

# --- patterns for the fixed-shape details ------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+'-])[\w.+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# Bare addresses ("facebook.com/jane") only in lower case, as people type them: "school.Me and"
# is a missing space, not a link.
_URL = re.compile(
    r"(?:\b(?i:https?://)|\b(?i:www)\.)[^\s<>\"']+"
    # Possessive (++): a long run of dots is read once, not retried from every position.
    r"|(?<![\w.-])(?:[a-z0-9-]++\.)++"
    r"(?:com|org|net|uk|co|io|me|info|biz|ly|gl|tv|app|page|link|social)\b"
    r"(?:/[^\s<>\"']*)?(?![\w.-]*@)"
)
# Public bodies' own addresses never identify a family: council, NHS and police sites.
_PUBLIC_HOSTS = ("gov.uk", "nhs.uk", "police.uk", "nhs.net")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\s?44\s?(?:\(\s?0\s?\)\s?)?|\(?0)[1237](?:\)?[\s.-]?\d){8,9}(?!\d)"
)
_NHS = re.compile(r"(?<![\d+])[1-9]\d{2}[\s-]?\d{3}[\s-]?\d{4}(?![\d])")
_POSTCODE = re.compile(
    r"\b(?P<area>[A-Z]{1,2})(?P<district>\d[A-Z\d]?)\s?(?P<inward>\d[ABD-HJLNP-UW-Z]{2})\b",
    re.IGNORECASE,
)
# The postcode areas of the UK (Royal Mail), so that "Y6 1st" is never a postcode.
_POSTCODE_AREAS = _words(
    """
    AB AL B BA BB BD BF BH BL BN BR BS BT BX CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN
    DT DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA
    LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE
    SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO
    ZE
    """
)

_MONTHS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)
_ORDINAL = r"\d{1,2}(?:st|nd|rd|th)?"
_NUMERIC_DATE = re.compile(
    r"(?<![\w/.-])(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})(?![\w/-]|\.\d)"
)
_TEXT_DATE = re.compile(
    rf"\b(?:{_ORDINAL}\s+(?:of\s+)?{_MONTHS},?\s+\d{{4}}|{_MONTHS}\s+{_ORDINAL},?\s+\d{{4}})\b"
)
# Only next to "born" and the like: "born 3rd May", "born in March 2015", "born in 2015".
_PARTIAL_DATE = re.compile(
    rf"(?:{_ORDINAL}\s+(?:of\s+)?{_MONTHS}|{_MONTHS}\s+{_ORDINAL}\b|{_MONTHS}\s+\d{{4}}|"
    r"(?:19|20)\d{2}\b)"
)
_BIRTH_CUE = re.compile(
    r"\b(?:born|DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s+date|birthday)\b", re.IGNORECASE
)
# What may stand between the cue and the date: "born on", "DOB:", "birthday is on the".
_CUE_GAP = re.compile(r"[\s:,-]*(?:(?:(?:is|was|on|in|of|the|at)\b|:)\s*)*", re.IGNORECASE)

# Words that name a school or nursery when they follow its own name.
_SCHOOL_WORDS = _words(
    """
    Primary Infants Infant Junior Juniors School Academy High College Nursery Preschool
    Pre-school Pre-School Grammar
    """
)
# Words that say what kind of school, not which one: "Special School" is not a school's name.
_GENERIC_SCHOOL = _words(
    """
    A An The This That Our My His Her Their Your Its Special Specialist Mainstream Independent
    Local Primary Secondary High Infant Infants Junior Juniors Nursery Grammar Free New Old
    Community Resource Alternative Provision Pupil Referral Sixth Form Further Education SEN
    SEND Catholic Church Faith State Private Village Day Boarding Residential Autism Autistic
    Hospital Virtual Council County Academy College School Schools Trust Any Every Another
    Which What Each Some Many Most Both All No
    """
)
# Connecting words inside a school's name: "St Mary's C of E Primary", "Holy Trinity RC".
_SCHOOL_JOINERS = frozenset({"of", "&", "C", "E", "CE", "RC", "VA", "St", "St.", "Saint"})
# A public body's name ends a school's name: "Stockport Council School Transport" is no school.
_NOT_IN_SCHOOL_NAMES = frozenset({"Council", "Borough", "County", "Authority", "Trust"})


# --- the checker -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    term: str
    kind: str


class Checker:
    """Finds personal details in texts, with one partnership's own list of private words.

    Build one per request (or per batch of texts) and reuse it: it reads the partnership's
    terms once.
    """

    def __init__(self, terms: Iterable[Term] = (), public_hosts: Iterable[str] = ()):
        self.terms = list(terms)
        self.public_hosts = tuple(h.lower() for h in public_hosts if h) + _PUBLIC_HOSTS
        self._term_pattern = _compile_terms(self.terms)
        self._term_kind = {
            " ".join(t.term.split()).casefold(): TERM_KINDS.get(t.kind, PRIVATE) for t in self.terms
        }

    def find(self, text: str | None) -> list[Finding]:
        if not text:
            return []
        found: list[Finding] = []
        found += self._private_terms(text)
        found += _emails(text)
        found += self._urls(text)
        found += _nhs_numbers(text)
        found += _phones(text)
        found += _postcodes(text)
        found += _dates(text)
        found += _schools(text)
        names = _names(text)
        found += names
        found += _ages(text, names)
        return _resolve(found)

    def _private_terms(self, text: str) -> list[Finding]:
        if self._term_pattern is None:
            return []
        found = []
        for match in self._term_pattern.finditer(text):
            key = " ".join(match.group(0).split()).casefold()
            kind = self._term_kind.get(key, PRIVATE)
            found.append(Finding(kind, match.start(), match.end(), match.group(0)))
        return found

    def _urls(self, text: str) -> list[Finding]:
        found = []
        for match in _URL.finditer(text):
            value = match.group(0).rstrip(".,;:!?)]}'\"")
            if "@" in value:
                continue
            host = urlsplit(value if "://" in value else f"//{value}").hostname or ""
            host = host.lower().removeprefix("www.")
            if any(host == h or host.endswith("." + h) for h in self.public_hosts):
                continue
            found.append(Finding(URL, match.start(), match.start() + len(value), value))
        return found


def _compile_terms(terms: Sequence[Term]) -> re.Pattern[str] | None:
    words = sorted(
        {" ".join(t.term.split()) for t in terms if t.term.strip()}, key=len, reverse=True
    )
    if not words:
        return None
    # Any run of spaces or a line break between the words of a term still matches it.
    alternatives = "|".join(r"\s+".join(re.escape(part) for part in w.split(" ")) for w in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def checker_for(partnership: Partnership | None) -> Checker:
    """A checker with the partnership's private terms, read in one query."""
    if partnership is None:
        return Checker()
    rows = db.session.execute(
        sa.select(PrivateTerm.term, PrivateTerm.kind).where(
            PrivateTerm.partnership_id == partnership.id
        )
    ).all()
    hosts = []
    if partnership.local_offer_url:
        hosts.append((urlsplit(partnership.local_offer_url).hostname or "").removeprefix("www."))
    return Checker([Term(term, kind) for term, kind in rows], public_hosts=hosts)


def find(text: str | None, partnership: Partnership | None = None) -> list[Finding]:
    """Every personal detail found in the text, in order, none overlapping."""
    return checker_for(partnership).find(text)


def redact(text: str, findings: Iterable[Finding]) -> str:
    """The text with each finding replaced by its suggestion ("[name]", "[phone]")."""
    out: list[str] = []
    position = 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.start < position:
            continue
        out.append(text[position : finding.start])
        out.append(finding.replacement)
        position = finding.end
    out.append(text[position:])
    return "".join(out)


# --- the detectors -----------------------------------------------------------------------------


def _emails(text: str) -> list[Finding]:
    return [Finding(EMAIL, m.start(), m.end(), m.group(0)) for m in _EMAIL.finditer(text)]


def _phones(text: str) -> list[Finding]:
    found = []
    for match in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if match.group(0).lstrip().startswith("+"):
            digits = digits[2:]
            digits = digits if digits.startswith("0") else "0" + digits
        mobile_or_national = len(digits) == 11 and digits[1] in "1237"
        # A few areas (01xxx xxxxx) have ten digits in all.
        short_geographic = len(digits) == 10 and digits.startswith("01")
        if mobile_or_national or short_geographic:
            found.append(Finding(PHONE, match.start(), match.end(), match.group(0)))
    return found


def nhs_number_is_valid(digits: str) -> bool:
    """The NHS number's modulus 11 check digit (NHS Data Dictionary)."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _nhs_numbers(text: str) -> list[Finding]:
    found = []
    for match in _NHS.finditer(text):
        value = match.group(0)
        separators = re.findall(r"[\s-]", value)
        # Spaced 3-3-4 (as printed on letters) or written together; nothing in between.
        if separators and (len(separators) != 2 or separators[0] != separators[1]):
            continue
        if nhs_number_is_valid(re.sub(r"\D", "", value)):
            found.append(Finding(NHS_NUMBER, match.start(), match.end(), value))
    return found


def _postcodes(text: str) -> list[Finding]:
    found = []
    for match in _POSTCODE.finditer(text):
        value = match.group(0)
        # Mixed case ("Go 2nd") is a sentence, not a postcode someone typed.
        if not (value.isupper() or value.islower()):
            continue
        if match.group("area").upper() in _POSTCODE_AREAS:
            found.append(Finding(POSTCODE, match.start(), match.end(), value))
    return found


def _real_numeric_date(match: re.Match[str]) -> bool:
    a, b = int(match.group("a")), int(match.group("b"))
    # Day first (UK) or month first: either reading must be a real day of a real month.
    return (1 <= a <= 31 and 1 <= b <= 12) or (1 <= b <= 31 and 1 <= a <= 12)


def _dates(text: str) -> list[Finding]:
    found: list[Finding] = []
    births: list[tuple[int, int]] = []
    for cue in _BIRTH_CUE.finditer(text):
        gap = _CUE_GAP.match(text, cue.end())
        start = gap.end() if gap else cue.end()
        window = text[start : start + 40]
        for pattern in (_NUMERIC_DATE, _TEXT_DATE, _PARTIAL_DATE):
            match = pattern.match(window)
            if match and (pattern is not _NUMERIC_DATE or _real_numeric_date(match)):
                births.append((start, start + match.end()))
                break
    for start, end in births:
        found.append(Finding(DATE_OF_BIRTH, start, end, text[start:end]))
    for match in _NUMERIC_DATE.finditer(text):
        if _real_numeric_date(match):
            found.append(Finding(DATE, match.start(), match.end(), match.group(0)))
    return found


def _schools(text: str) -> list[Finding]:
    """A school's own name: capitalised words ending in Primary, School, Academy..."""
    found = []
    words = list(_WORD.finditer(text))
    i = 0
    while i < len(words):
        if words[i].group(0) not in _SCHOOL_WORDS:
            i += 1
            continue
        # Run of school words ("Primary School", "High School").
        last = i
        while last + 1 < len(words) and words[last + 1].group(0) in _SCHOOL_WORDS:
            if not _only_space_between(text, words[last], words[last + 1]):
                break
            last += 1
        # Walk back over the school's own name: capitalised words and joiners like "of", "St".
        first = i
        distinctive = False
        while first > 0:
            previous = words[first - 1]
            word = previous.group(0)
            if not _only_space_between(text, previous, words[first], allow="'\u2019.&"):
                break
            if word in _SCHOOL_JOINERS:
                # "Type of School": a joiner must join a name to the school words, not end it.
                if first == i and word in {"of", "&"}:
                    break
                first -= 1
                continue
            if not word[:1].isupper() or word in _NOT_IN_SCHOOL_NAMES:
                break
            if word in NOT_NAMES and word not in _GENERIC_SCHOOL:
                break
            first -= 1
            if word not in _GENERIC_SCHOOL:
                distinctive = True
        # Leading joiners ("of Oakfield") are not part of the name.
        while first < i and words[first].group(0) in _SCHOOL_JOINERS - {"St", "St.", "Saint"}:
            first += 1
        while first < i and words[first].group(0) in _GENERIC_SCHOOL:
            first += 1
        # "Stockport High Street" is a street.
        after = words[last + 1] if last + 1 < len(words) else None
        street = (
            after is not None
            and after.group(0) in PLACE_WORDS
            and after.group(0) not in _SCHOOL_WORDS
            and _only_space_between(text, words[last], after)
        )
        if distinctive and first < i and not street:
            start, end = words[first].start(), words[last].end()
            found.append(Finding(SCHOOL, start, end, text[start:end]))
        i = last + 1
    return found


def _only_space_between(
    text: str, left: re.Match[str], right: re.Match[str], allow: str = ""
) -> bool:
    gap = text[left.end() : right.start()]
    return all(c.isspace() or c in allow for c in gap) and "\n\n" not in gap and len(gap) <= 3


def _sentence_start(text: str, position: int) -> bool:
    before = text[:position].rstrip(" \t")
    if not before or before.endswith("\n"):
        return True
    return before[-1] in '.!?:;"“\u2018(-•*'


def _capitalised(word: str) -> bool:
    return len(word) > 1 and word[0].isupper() and not word.isupper()


def _names(text: str) -> list[Finding]:
    found: list[Finding] = []
    words = list(_WORD.finditer(text))
    skip_until = -1
    for index, match in enumerate(words):
        if match.start() < skip_until:
            continue
        word = match.group(0)
        base = _POSSESSIVE.sub("", word)
        nxt = words[index + 1] if index + 1 < len(words) else None
        previous = words[index - 1] if index > 0 else None

        if base in TITLES and nxt is not None and _title_applies(text, match, nxt):
            end = _surname_end(text, words, index + 1)
            found.append(Finding(NAME, match.start(), end, text[match.start() : end]))
            skip_until = end
            continue

        first_part = base.split("-")[0]
        if base not in FIRST_NAMES and first_part not in FIRST_NAMES:
            continue
        if not _capitalised(base):
            continue
        # "St Mary's", "Saint John's": a church or a school, not a person.
        if previous is not None and previous.group(0) in {"St", "Saint"}:
            continue
        surname = nxt is not None and _is_surname(text, match, nxt)
        place = nxt is not None and nxt.group(0) in PLACE_WORDS and _adjacent(text, match, nxt)
        if place and not surname:
            continue
        name_end = match.start() + len(base)
        if not _name_evidence(text, match, name_end, base, surname, nxt):
            continue
        end = _surname_end(text, words, index) if surname else name_end
        found.append(Finding(NAME, match.start(), end, text[match.start() : end]))
        skip_until = end
    return found


def _adjacent(text: str, left: re.Match[str], right: re.Match[str]) -> bool:
    gap = text[left.end() : right.start()]
    return gap.isspace() and "\n" not in gap and len(gap) <= 2 if gap else False


def _is_surname(text: str, name: re.Match[str], nxt: re.Match[str]) -> bool:
    """A capitalised word straight after a first name that can be a surname."""
    word = _POSSESSIVE.sub("", nxt.group(0))
    # After "Lily's" comes what belongs to her, not her surname.
    if not _adjacent(text, name, nxt) or _POSSESSIVE.search(name.group(0)):
        return False
    if word in PLACE_WORDS or word in NOT_NAMES or word in _SCHOOL_WORDS or word in TITLES:
        return False
    return _capitalised(word)


def _surname_end(text: str, words: list[re.Match[str]], index: int) -> int:
    """The end of a name that starts at words[index], taking up to two surname-like words."""
    end_match = words[index]
    end = end_match.start() + len(_POSSESSIVE.sub("", end_match.group(0)))
    for step in (1, 2):
        if index + step >= len(words):
            break
        nxt = words[index + step]
        if not _is_surname(text, words[index + step - 1], nxt):
            break
        end = nxt.start() + len(_POSSESSIVE.sub("", nxt.group(0)))
        if _POSSESSIVE.search(nxt.group(0)):
            break
    return end


def _title_applies(text: str, title: re.Match[str], nxt: re.Match[str]) -> bool:
    gap = text[title.end() : nxt.start()]
    if gap not in (" ", ". ", ".  ", "  ", "\u00a0", ".\u00a0"):
        return False
    word = _POSSESSIVE.sub("", nxt.group(0))
    return (
        _capitalised(word)
        and word not in NOT_NAMES
        and word not in PLACE_WORDS
        and word not in TITLES
    )


def _name_evidence(
    text: str,
    match: re.Match[str],
    name_end: int,
    base: str,
    surname: bool,
    nxt: re.Match[str] | None,
) -> bool:
    """Whether a capitalised first name here is a person, by how sure its spelling makes us."""
    if surname:
        return True
    before = text[max(0, match.start() - 40) : match.start()]
    after = text[name_end : name_end + 40]
    if _CUE_BEFORE.search(before) or _age_after(after) or _AGE_BEFORE.search(before):
        return True
    next_word = nxt.group(0) if nxt is not None and _adjacent(text, match, nxt) else ""
    at_start = _sentence_start(text, match.start())
    if base in STRICT_NAMES:
        if at_start or _TIME_BEFORE.search(before):
            return False
        # Mid-sentence, "Mark said" or "Dawn from the council" is a person.
        return next_word in _PERSON_AFTER
    if base in WORDLIKE_NAMES and at_start:
        return next_word in _PERSON_AFTER or after.startswith((",", " and ", " &"))
    return True


def _age_after(after: str) -> re.Match[str] | None:
    for pattern in _AGE_AFTER:
        match = pattern.match(after)
        if match:
            return match
    return None


def _ages(text: str, names: list[Finding]) -> list[Finding]:
    """A child's age right after (or before) a name found in the text."""
    found = []
    for name in names:
        match = _age_after(text[name.end : name.end + 40])
        if match:
            start = name.end + match.start("age")
            end = name.end + match.end("age")
            found.append(Finding(AGE, start, end, text[start:end]))
        before_start = max(0, name.start - 40)
        before = _AGE_BEFORE.search(text[before_start : name.start])
        if before:
            start = before_start + before.start("age")
            end = before_start + before.end("age")
            found.append(Finding(AGE, start, end, text[start:end]))
    return found


def _resolve(found: list[Finding]) -> list[Finding]:
    """Keep the longest of overlapping findings (by kind on a tie), in text order."""
    rank = {kind: i for i, kind in enumerate(_PRECEDENCE)}
    ordered = sorted(found, key=lambda f: (-(f.end - f.start), rank[f.kind], f.start))
    kept: list[Finding] = []
    for finding in ordered:
        if any(finding.start < k.end and k.start < finding.end for k in kept):
            continue
        kept.append(finding)
    return sorted(kept, key=lambda f: f.start)


# --- for people to read ------------------------------------------------------------------------


def summary(findings: Iterable[Finding]) -> list[str]:
    """What was found, by kind, never the words: ["2 names", "a phone number"]."""
    counts = Counter(f.kind for f in findings)
    parts = []
    for kind in KINDS:
        n = counts.get(kind, 0)
        if n == 1:
            parts.append(f"{_article(KINDS[kind].singular)} {KINDS[kind].singular}")
        elif n > 1:
            parts.append(f"{n} {KINDS[kind].plural}")
    return parts


def summary_text(findings: Iterable[Finding]) -> str:
    parts = summary(findings)
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" or word.startswith(("NHS", "e-mail")) else "a"


@dataclass(frozen=True)
class Segment:
    text: str
    finding: Finding | None = None


def highlight(text: str | None, findings: Sequence[Finding]) -> list[list[list[Segment]]]:
    """The text as paragraphs of lines of segments, each finding a segment of its own.

    Paragraphs and lines split as the triage pages show what people wrote: a blank line starts
    a paragraph, a single line break is kept.
    """
    text = text or ""
    paragraphs: list[list[list[Segment]]] = []
    position = 0
    for block in text.split("\n\n"):
        block_start = position
        position += len(block) + 2
        if not block.strip():
            continue
        lines = []
        line_start = block_start
        for line in block.split("\n"):
            lines.append(_segments(text, line_start, line_start + len(line), findings))
            line_start += len(line) + 1
        paragraphs.append(lines)
    return paragraphs


def _segments(text: str, start: int, end: int, findings: Sequence[Finding]) -> list[Segment]:
    out: list[Segment] = []
    position = start
    for finding in findings:
        if finding.end <= start or finding.start >= end:
            continue
        f_start, f_end = max(finding.start, start), min(finding.end, end)
        if f_start > position:
            out.append(Segment(text[position:f_start]))
        out.append(Segment(text[f_start:f_end], finding))
        position = f_end
    if position < end:
        out.append(Segment(text[position:end]))
    return out


# --- triage: filling in the suggested redactions ------------------------------------------------


class PersonalDetailsError(Exception):
    """A rule was broken. The message is written for the person who tried."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


REDACTED_MAX_LENGTH = 5000


def apply_suggested_redactions(item: Feedback, user: User) -> list[Finding]:
    """Fill the item's rewritten wording with its raw text, every finding replaced.

    The coordinator then reads and edits it. Returns what was replaced (empty: nothing changed).
    The audit entry says how many of each kind were replaced, never the words.
    """
    if item.safeguarding_flag:
        raise PersonalDetailsError(
            "This item was flagged as a safeguarding concern. Only the safeguarding lead can "
            "deal with it."
        )
    partnership = db.session.get(Partnership, item.partnership_id)
    findings = checker_for(partnership).find(item.raw_text)
    if not findings:
        return []
    wording = clean_text(redact(item.raw_text, findings))
    if len(wording) > REDACTED_MAX_LENGTH:
        raise PersonalDetailsError(
            f"The rewritten wording would be longer than {REDACTED_MAX_LENGTH} characters. "
            "Write it yourself in the box below."
        )
    old = item.redacted_text
    item.redacted_text = wording
    item.contains_personal_details = True
    audit.record(
        "feedback.redacted",
        item,
        user=user,
        change="added" if old is None else "changed",
        method="suggested",
        found=summary_text(findings),
    )
    return findings


# --- the partnership's private terms ------------------------------------------------------------

TERM_MAX_LENGTH = 200
TERMS_PER_SUBMISSION = 200


def list_terms(partnership: Partnership) -> list[PrivateTerm]:
    return list(
        db.session.scalars(
            sa.select(PrivateTerm)
            .where(PrivateTerm.partnership_id == partnership.id)
            .order_by(PrivateTerm.kind, sa.func.lower(PrivateTerm.term), PrivateTerm.id)
        )
    )


def add_terms(
    partnership: Partnership, user: User, kind: str | None, lines: str | None
) -> list[PrivateTerm]:
    """Add one or more words (one a line) of one kind. All are added, or none."""
    if kind not in {k.value for k in PrivateTermKind}:
        raise PersonalDetailsError("Select what kind of word it is", field="kind")
    wanted: list[str] = []
    for line in (lines or "").splitlines():
        term = " ".join(clean_text(line).split())
        if term and term.casefold() not in {w.casefold() for w in wanted}:
            wanted.append(term)
    if not wanted:
        raise PersonalDetailsError("Enter a name, school, setting or place", field="terms")
    if len(wanted) > TERMS_PER_SUBMISSION:
        raise PersonalDetailsError(
            f"Enter {TERMS_PER_SUBMISSION} words or fewer at a time", field="terms"
        )
    for term in wanted:
        if len(term) > TERM_MAX_LENGTH:
            raise PersonalDetailsError(
                f"Each word must be {TERM_MAX_LENGTH} characters or fewer", field="terms"
            )
        if len(term) < 2 or not any(c.isalnum() for c in term):
            raise PersonalDetailsError(
                f"“{term}” is too short to look for: enter at least 2 letters or numbers",
                field="terms",
            )
    existing = {
        t.casefold(): t
        for t in db.session.scalars(
            sa.select(PrivateTerm.term).where(PrivateTerm.partnership_id == partnership.id)
        )
    }
    already = [existing[t.casefold()] for t in wanted if t.casefold() in existing]
    if already:
        listed = ", ".join(f"“{t}”" for t in already)
        verb = "is" if len(already) == 1 else "are"
        raise PersonalDetailsError(f"{listed} {verb} already on the list", field="terms")
    added = []
    for term in wanted:
        row = PrivateTerm(partnership_id=partnership.id, kind=kind, term=term)
        db.session.add(row)
        added.append(row)
    db.session.flush()
    for row in added:
        audit.record("private_term.added", row, user=user, term=row.term, kind=row.kind)
    return added


def delete_term(term: PrivateTerm, user: User) -> None:
    audit.record("private_term.deleted", term, user=user, term=term.term, kind=term.kind)
    db.session.delete(term)
    db.session.flush()
