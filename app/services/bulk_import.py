"""Bulk entry: many items pasted from notes, or rows from a spreadsheet or a Forms export.

Nothing here becomes feedback until the person confirms. Pasted items and uploaded rows wait in a
CaptureUpload, private to the person who made it; saving goes through capture.record_feedback, in
one transaction, with one idempotency key per row so that a confirm sent twice saves once.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import CaptureUpload, Event, Feedback, Partnership, User
from app.models.base import utcnow
from app.models.vocab import AgePhase, Respondent, Sentiment
from app.services import audit
from app.services import capture as svc
from app.services.capture import CaptureError, ItemDetails
from app.services.text import clean_text

MAX_ROWS = 5_000
MAX_COLUMNS = 200
MAX_PASTE_ITEMS = 200
MAX_PASTE_LENGTH = 100_000
# Stashes nobody came back to are thrown away: they may hold what families said, and e-mail
# addresses from a Forms export that was never mapped.
STALE_AFTER = timedelta(days=7)

SOURCE_PASTE = "paste"
SOURCE_CSV = "csv"
SOURCE_XLSX = "xlsx"

# Our fields, in the order the column-mapping page asks about them, with the words a row's
# problem is described in ("Row 7: what they said is empty").
FIELDS: dict[str, str] = {
    "text": "what they said",
    "respondent": "who said it",
    "sentiment": "kind of feedback",
    "age_phase": "age phase",
    "setting": "setting",
    "may_quote": "may be quoted",
}
REQUIRED_FIELD = "text"

FILE_TYPES = "The selected file must be a CSV or an Excel (.xlsx) file"
FILE_EMPTY = "The selected file is empty"
FILE_TOO_BIG = "The selected file must be smaller than 5MB"
FILE_UNREADABLE = (
    "The selected file could not be read. In your spreadsheet, save it as 'CSV UTF-8' "
    "or as an Excel (.xlsx) file, then upload it again"
)
FILE_NOT_XLSX = (
    "The selected file is not a working Excel (.xlsx) file. Open it in your spreadsheet "
    "program, save it as .xlsx or as CSV, then upload it again"
)
FILE_OLD_EXCEL = (
    "The selected file is an older Excel (.xls) file or has a password. Save it as an Excel "
    "(.xlsx) file without a password, or as CSV, then upload it again"
)
FILE_HEADER_EMPTY = (
    "The first row of the file is empty. The first row must name the columns, "
    "like 'What they said' and 'Who said it'"
)
FILE_HEADER_ONLY = "The selected file has a header row but no rows of feedback under it"
FILE_TOO_MANY_ROWS = (
    f"The selected file has more than {MAX_ROWS:,} rows of feedback. "
    f"Split it into files of up to {MAX_ROWS:,} rows"
)
FILE_TOO_MANY_COLUMNS = f"The selected file has more than {MAX_COLUMNS} columns"


class ImportFileError(ValueError):
    """A file that cannot be read as a table; the message says what to do about it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# Pasting notes

_BULLET = re.compile(
    r"^\s*(?:[-*+\u2013\u2014](?=\s|$)|[\u2022\u2023\u25e6\u2043\u2219\u25aa\u25cf\u00b7]"
    r"|\(?\d{1,3}[.)](?=\s|$)|\[\s?[xX]?\s?\])\s*"
)


def strip_bullet(line: str) -> str:
    """Remove a list marker ("-", "*", "•", "1.", "2)") from the start of a line."""
    return _BULLET.sub("", line, count=1).strip()


def _is_bulleted(line: str) -> bool:
    return bool(_BULLET.match(line))


def split_pasted(text: str, mode: str = "auto") -> list[str]:
    """Split pasted notes into items: one per line, or one per block between blank lines.

    "auto" uses blank lines when there are any between items, otherwise one item per line.
    In a block where every line is a bullet point, each bullet is its own item: a list of
    bullets under a blank line is still a list of separate things people said.
    """
    if mode not in ("auto", "lines", "blocks"):
        raise ValueError(f"Unknown split mode {mode!r}")
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line.strip())
        elif blocks[-1]:
            blocks.append([])
    blocks = [block for block in blocks if block]
    if mode == "auto":
        mode = "blocks" if len(blocks) > 1 else "lines"
    items: list[str] = []
    if mode == "lines":
        items = [strip_bullet(line) for block in blocks for line in block]
    else:
        for block in blocks:
            if len(block) > 1 and all(_is_bulleted(line) for line in block):
                items.extend(strip_bullet(line) for line in block)
            else:
                items.append("\n".join([strip_bullet(block[0]), *block[1:]]))
    return [item for item in items if item]


# Reading files


def file_source(filename: str | None) -> str:
    """ "csv" or "xlsx" from the file's name; ImportFileError for anything else."""
    name = (filename or "").strip().lower()
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    if extension == "csv":
        return SOURCE_CSV
    if extension in ("xlsx", "xlsm"):
        return SOURCE_XLSX
    if extension == "xls":
        raise ImportFileError(FILE_OLD_EXCEL)
    raise ImportFileError(FILE_TYPES)


def read_table(filename: str, data: bytes) -> tuple[list[str], list[list[str]]]:
    """The header's column names and the data rows, each a list of cell texts.

    Row i of the result is row i + 2 of the spreadsheet (the header is row 1): blank rows
    inside the data are kept as empty lists so that row numbers stay as the person sees them;
    blank rows at the end are dropped.
    """
    source = file_source(filename)
    if not data or not data.strip():
        raise ImportFileError(FILE_EMPTY)
    if source == SOURCE_CSV:
        if data.startswith(b"PK\x03\x04"):
            raise ImportFileError(
                "The selected file is an Excel file with a .csv name. Save it again as CSV, "
                "or upload it with its .xlsx name"
            )
        return _tabulate(_csv_rows(data))
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(FILE_OLD_EXCEL)
    if not data.startswith(b"PK"):
        raise ImportFileError(FILE_NOT_XLSX)
    return _read_xlsx(data)


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" is UTF-16 with a byte order mark.
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise ImportFileError(FILE_UNREADABLE) from error
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    else:
        raise ImportFileError(FILE_UNREADABLE)
    # A binary file with a .csv name decodes as cp1252 into control characters.
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text[:65_536]):
        raise ImportFileError(FILE_UNREADABLE)
    return text


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    text = _decode(data)
    sample = text[:16_384]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    row_number = 0
    while True:
        row_number += 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportFileError(
                f"Row {row_number} of the file could not be read ({error}). "
                "Check it in your spreadsheet, save it as CSV and upload it again"
            ) from error
        yield row


def _read_xlsx(data: bytes) -> tuple[list[str], list[list[str]]]:
    import openpyxl

    # openpyxl warns about styles and extensions it ignores; they do not change the cells.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as error:
            raise ImportFileError(FILE_NOT_XLSX) from error
        try:
            if not workbook.worksheets:
                raise ImportFileError(FILE_EMPTY)
            sheet = workbook.worksheets[0]
            rows = ([_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True))
            return _tabulate(rows)
        except ImportFileError:
            raise
        except Exception as error:
            raise ImportFileError(FILE_NOT_XLSX) from error
        finally:
            workbook.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != time(0) else f"{value:%Y-%m-%d}"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    return str(value)


def _trim(row: Iterable[Any]) -> list[str]:
    cells = [str(cell).strip() if cell is not None else "" for cell in row]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def column_letter(index: int) -> str:
    """Spreadsheet letters for a 0-based column: 0 is A, 26 is AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _tabulate(raw_rows: Iterable[list[str]]) -> tuple[list[str], list[list[str]]]:
    iterator = iter(raw_rows)
    try:
        header = _trim(next(iterator))
    except StopIteration:
        raise ImportFileError(FILE_EMPTY) from None
    if not header:
        raise ImportFileError(FILE_HEADER_EMPTY)
    rows: list[list[str]] = []
    pending_blank = 0
    for raw in iterator:
        cells = _trim(raw)
        if not cells:
            # Kept only if data follows, so a sheet formatted down to row 1,048,576 still reads.
            pending_blank += 1
            continue
        if len(rows) + pending_blank >= MAX_ROWS:
            raise ImportFileError(FILE_TOO_MANY_ROWS)
        rows.extend([] for _ in range(pending_blank))
        pending_blank = 0
        rows.append(cells)
    if not rows:
        raise ImportFileError(FILE_HEADER_ONLY)
    width = max(len(header), *(len(row) for row in rows))
    if width > MAX_COLUMNS:
        raise ImportFileError(FILE_TOO_MANY_COLUMNS)
    columns = _column_names(header, width)
    if not any(_usable_column(name) for name in columns):
        raise ImportFileError(
            "The selected file has no column that could hold what people said: its columns "
            f"are {', '.join(columns[:10])}. The first row must name the columns, "
            "like 'What they said'"
        )
    return columns, rows


def _column_names(header: list[str], width: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for index in range(width):
        name = " ".join(header[index].split()) if index < len(header) else ""
        name = name[:200] or f"Column {column_letter(index)}"
        if name.lower() in seen:
            name = f"{name} (column {column_letter(index)})"
        seen.add(name.lower())
        names.append(name)
    return names


# Guessing which column is which

# Columns Microsoft Forms and Google Forms add to every export.
_FORMS_COLUMNS = {
    "id",
    "start time",
    "completion time",
    "last modified time",
    "timestamp",
    "total points",
    "quiz feedback",
    "points",
    "score",
}
# Personal details: never imported as feedback.
_PERSONAL = [
    re.compile(p)
    for p in (
        r"\be ?mail\b",
        r"^(your |full |first |last |their )?names?$",
        r"^(what is )?your (full )?name\b",
        r"\bsurname\b",
        r"\b(phone|telephone|mobile)\b",
        r"\bpost ?code\b",
        r"\baddress\b",
        r"\bdate of birth\b",
        r"^dob$",
    )
]

_PATTERNS: dict[str, list[re.Pattern[str]]] = {
    field: [re.compile(p) for p in patterns]
    for field, patterns in {
        "may_quote": [r"\bquot", r"\bconsent\b", r"\bpermission\b"],
        "sentiment": [
            r"^(kind|type|sort|category) of (feedback|comment)",
            r"\bsentiment\b",
            r"^(kind|type|category|feedback type|feedback kind)$",
            r"\bworking well\b",
            r"\bneeds? to change\b",
            r"\b(positive|negative)\b",
        ],
        "respondent": [
            r"^who said",
            r"^who (are you|is (this|it) from|gave|told)",
            r"\brespondents?\b",
            r"^who$",
            r"\bare you an?\b",
            r"\bi am an?\b",
            r"\b(relationship|role)\b",
        ],
        "age_phase": [
            r"\bage phase\b",
            r"\b(school|education) (phase|stage)\b",
            r"^(phase|stage)$",
            r"\bkey stage\b",
            r"\b(year|age) (group|range)\b",
            r"^(child s |childs |their )?age\b",
            r"^how old\b",
        ],
        "setting": [
            r"^setting\b",
            r"\bschool or setting\b",
            r"\b(which|what) (school|nursery|college|setting)\b",
            r"\bname of (the |your |their )?(child s )?(school|setting|nursery|college)\b",
            r"^(school|nursery|college|provider)( name)?$",
            r"\bsetting\b",
        ],
        "text": [
            r"^what (they|you|he|she|people) (said|say|told)\b",
            r"^what did (they|you|he|she) (say|tell)\b",
            r"\bwhat was said\b",
            r"\b(tell|say to|share with) us\b",
            r"\b(feedback|comments?|views?|said|notes?|remarks?|quotes?)\b",
            r"^(text|response|answer|what)$",
        ],
    }.items()
}
# More specific fields choose first: "Kind of feedback" is not what they said.
_GUESS_ORDER = ("may_quote", "sentiment", "respondent", "age_phase", "setting", "text")


def _normal(value: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9+]+", " ", (value or "").lower()).split())


def is_personal_column(name: str) -> bool:
    """A column of personal details (names, e-mails, phones) or a Forms export's own columns."""
    normal = _normal(name)
    return normal in _FORMS_COLUMNS or any(p.search(normal) for p in _PERSONAL)


def _usable_column(name: str) -> bool:
    return not is_personal_column(name)


def guess_mapping(columns: Sequence[str]) -> dict[str, int]:
    """Our field -> the column index that probably holds it, from the header names.

    A Forms export's own columns and personal details are never guessed. If no column is
    named like what people said and the file is a Forms export, its first question is.
    """
    normal = [_normal(c) for c in columns]
    usable = [i for i, name in enumerate(columns) if _usable_column(name)]
    mapping: dict[str, int] = {}
    for field in _GUESS_ORDER:
        taken = set(mapping.values())
        for pattern in _PATTERNS[field]:
            match = next((i for i in usable if i not in taken and pattern.search(normal[i])), None)
            if match is not None:
                mapping[field] = match
                break
    if REQUIRED_FIELD not in mapping and any(n in _FORMS_COLUMNS for n in normal):
        taken = set(mapping.values())
        first_question = next((i for i in usable if i not in taken), None)
        if first_question is not None:
            mapping[REQUIRED_FIELD] = first_question
    return mapping


# Reading values leniently

_RESPONDENT_WORDS = {
    "parent": "parent_carer",
    "parents": "parent_carer",
    "carer": "parent_carer",
    "carers": "parent_carer",
    "parent carer": "parent_carer",
    "parent or carer": "parent_carer",
    "parent and carer": "parent_carer",
    "parent carers": "parent_carer",
    "mum": "parent_carer",
    "dad": "parent_carer",
    "mother": "parent_carer",
    "father": "parent_carer",
    "guardian": "parent_carer",
    "foster carer": "parent_carer",
    "grandparent": "parent_carer",
    "family": "parent_carer",
    "young person": "young_person",
    "young people": "young_person",
    "yp": "young_person",
    "young carer": "young_person",
    "young adult": "young_person",
    "teenager": "young_person",
    "student": "young_person",
    "child": "child",
    "children": "child",
    "pupil": "child",
    "kid": "child",
    "professional": "professional",
    "practitioner": "professional",
    "teacher": "professional",
    "senco": "professional",
    "staff": "professional",
    "social worker": "professional",
    "other": "other",
    "someone else": "other",
    "prefer not to say": "other",
}
_RESPONDENT_KEYWORDS = (
    (("parent", "carer", "mum", "dad", "mother", "father", "guardian"), "parent_carer"),
    (("young",), "young_person"),
    (("child", "pupil"), "child"),
    (("professional", "teacher", "senco", "staff", "worker", "practitioner"), "professional"),
)

_SENTIMENT_WORDS = {
    "positive": "working_well",
    "good": "working_well",
    "working well": "working_well",
    "works well": "working_well",
    "going well": "working_well",
    "well": "working_well",
    "praise": "working_well",
    "compliment": "working_well",
    "+": "working_well",
    "negative": "needs_change",
    "not working well": "needs_change",
    "not working": "needs_change",
    "not good": "needs_change",
    "not ok": "needs_change",
    "not okay": "needs_change",
    "bad": "needs_change",
    "needs to change": "needs_change",
    "needs change": "needs_change",
    "need to change": "needs_change",
    "needs changing": "needs_change",
    "concern": "needs_change",
    "complaint": "needs_change",
    "problem": "needs_change",
    "idea": "idea",
    "ideas": "idea",
    "an idea": "idea",
    "suggestion": "idea",
    "suggestions": "idea",
}
_SENTIMENT_KEYWORDS = (
    (("idea", "suggest"), "idea"),
    (
        ("change", "negative", "bad", "concern", "complain", "improv", "problem", "poor"),
        "needs_change",
    ),
    (("well", "good", "positive", "great", "praise", "happy", "compliment"), "working_well"),
)

_AGE_KEYWORDS = (
    (("19 25", "19 to 25", "adult"), "19_25"),
    (
        ("post 16", "post16", "16 19", "16 to 19", "sixth form", "6th form", "college", "ks5"),
        "post_16",
    ),
    (("secondary", "high school", "ks3", "ks4", "key stage 3", "key stage 4"), "secondary"),
    (
        ("primary", "reception", "infant", "junior", "ks1", "ks2", "key stage 1", "key stage 2"),
        "primary",
    ),
    (("early", "eyfs", "nursery", "pre school", "preschool", "under 5", "0 5"), "early_years"),
)

_YES = {"yes", "y", "true", "1", "agree", "i agree", "ok", "okay", "x", "+"}
_NO = {"no", "n", "false", "0", "disagree", "i do not agree", "do not quote", "don t quote"}


def _vocab_lookup(vocabulary: Any, normal: str) -> str | None:
    for value, label in vocabulary.choices():
        if normal in (_normal(value), _normal(label)):
            return value
    return None


# Words that turn a guess around ("not a parent", "nothing to change"): better to ask.
_HEDGES = ("not", "no", "nothing", "none", "don t", "dont", "never", "unsure", "maybe")
# Answers that say nothing; treated as a blank cell, so the default or a row problem applies.
_NO_ANSWER = {
    "not sure",
    "n a",
    "na",
    "don t know",
    "dont know",
    "unknown",
    "prefer not to say",
    "not applicable",
    "none",
    "not known",
}


def _by_keywords(normal: str, rules: Sequence[tuple[tuple[str, ...], str]]) -> str | None:
    padded = f" {normal} "
    if any(f" {hedge} " in padded for hedge in _HEDGES):
        return None
    for words, value in rules:
        if any(f" {w}" in padded for w in words):
            return value
    return None


def parse_respondent(value: str) -> str | None:
    """A Respondent value from words like "Parent", "parent/carer", "Mum", "YP"; or None."""
    normal = _normal(value)
    if not normal:
        return None
    return (
        _vocab_lookup(Respondent, normal)
        or _RESPONDENT_WORDS.get(normal)
        or _by_keywords(normal, _RESPONDENT_KEYWORDS)
    )


def parse_sentiment(value: str) -> str | None:
    """A Sentiment value from words like "positive", "good", "bad", "suggestion"; or None."""
    normal = _normal(value)
    if not normal:
        return None
    return (
        _vocab_lookup(Sentiment, normal)
        or _SENTIMENT_WORDS.get(normal)
        or _by_keywords(normal, _SENTIMENT_KEYWORDS)
    )


def parse_age_phase(value: str) -> str | None:
    normal = _normal(value)
    if not normal:
        return None
    return _vocab_lookup(AgePhase, normal) or _by_keywords(normal, _AGE_KEYWORDS)


def parse_yes_no(value: str) -> bool | None:
    """True for yes, False for no (and for a blank cell: no answer is no consent), else None."""
    normal = _normal(value)
    if not normal or normal in _NO or normal.startswith("no "):
        return False
    if normal in _YES or normal.startswith("yes"):
        return True
    return None


# Applying a mapping


def _shown(value: str, limit: int = 40) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _cell(row: Sequence[str], mapping: dict[str, int], field: str) -> str:
    index = mapping.get(field)
    if index is None or index >= len(row):
        return ""
    value = (row[index] or "").strip()
    # "Not sure" says nothing about who or what: as good as blank, except as what they said.
    if field != "text" and _normal(value) in _NO_ANSWER:
        return ""
    return value


def read_row(
    row: Sequence[str], mapping: dict[str, int], defaults: dict[str, str] | None = None
) -> ItemDetails | list[str]:
    """One row read through the mapping: an ItemDetails ready to save, or its problems."""
    defaults = defaults or {}
    problems: list[str] = []
    text = clean_text(_cell(row, mapping, "text"))
    if not text:
        problems.append("what they said is empty")
    elif len(text) > svc.MAX_TEXT_LENGTH:
        problems.append(f"what they said is longer than {svc.MAX_TEXT_LENGTH:,} characters")

    raw = _cell(row, mapping, "respondent") or defaults.get("respondent", "")
    respondent = parse_respondent(raw)
    if not raw:
        problems.append("who said it is empty")
    elif respondent is None:
        problems.append(f"who said it ('{_shown(raw)}') is not one we know")

    raw = _cell(row, mapping, "sentiment") or defaults.get("sentiment", "")
    sentiment = parse_sentiment(raw)
    if not raw:
        problems.append("kind of feedback is empty")
    elif sentiment is None:
        problems.append(f"kind of feedback ('{_shown(raw)}') is not one we know")

    raw = _cell(row, mapping, "age_phase")
    age_phase = parse_age_phase(raw)
    if raw and age_phase is None:
        problems.append(f"age phase ('{_shown(raw)}') is not one we know")

    setting = clean_text(_cell(row, mapping, "setting")) or None
    if setting and len(setting) > svc.MAX_SETTING_LENGTH:
        problems.append(f"setting is longer than {svc.MAX_SETTING_LENGTH} characters")

    raw = _cell(row, mapping, "may_quote")
    may_quote = parse_yes_no(raw)
    if may_quote is None:
        problems.append(f"may be quoted ('{_shown(raw)}') must be yes or no")

    if problems:
        return problems
    details = ItemDetails(
        text=text,
        respondent=respondent,
        sentiment=sentiment,
        age_phase=age_phase,
        setting=setting,
        may_quote=bool(may_quote),
    )
    # The capture service has the last word on what may be saved.
    try:
        svc.validate_details(details)
    except CaptureError as error:
        return [f"{FIELDS.get(error.field, error.field)}: {error.message}"]
    return details


def apply_mapping(
    rows: Sequence[Sequence[str]],
    mapping: dict[str, int],
    defaults: dict[str, str] | None = None,
) -> list[tuple[int, ItemDetails | list[str]]]:
    """(spreadsheet row number, ItemDetails or a list of problems) for each row with content.

    Row numbers are as the spreadsheet shows them: the header is row 1. Rows with nothing in
    any mapped column are left out: they are blank lines, not feedback.
    """
    outcomes: list[tuple[int, ItemDetails | list[str]]] = []
    for index, row in enumerate(rows):
        if not any(_cell(row, mapping, field) for field in mapping):
            continue
        outcomes.append((index + 2, read_row(row, mapping, defaults)))
    return outcomes


def item_problems(details: ItemDetails) -> dict[str, str]:
    """Every problem with one pasted item, by field, so that all of them show at once.

    The messages are the capture service's own ("Enter what they said", "Select who said it").
    """
    problems: dict[str, str] = {}
    if details.respondent not in Respondent._value2member_map_:
        problems["respondent"] = svc.SELECT_RESPONDENT
    if details.sentiment not in Sentiment._value2member_map_:
        problems["sentiment"] = svc.SELECT_SENTIMENT
    # Stand-ins for the choices already reported, so the service reports what else is wrong.
    check = ItemDetails(
        text=details.text,
        respondent=details.respondent if "respondent" not in problems else Respondent.OTHER,
        sentiment=details.sentiment if "sentiment" not in problems else Sentiment.IDEA,
        priorities=details.priorities,
        age_phase=details.age_phase,
        need_types=details.need_types,
        setting=details.setting,
    )
    try:
        svc.validate_details(check)
    except CaptureError as error:
        problems[error.field] = error.message
    return problems


def describe_problems(row_number: int, problems: Sequence[str]) -> str:
    """'Row 7: what they said is empty; who said it is empty'."""
    return f"Row {row_number}: {'; '.join(problems)}"


# The stash


def purge_stale_uploads(partnership: Partnership) -> int:
    result = db.session.execute(
        sa.delete(CaptureUpload).where(
            CaptureUpload.partnership_id == partnership.id,
            CaptureUpload.created_at < utcnow() - STALE_AFTER,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _new_upload(event: Event, user: User, **values: Any) -> CaptureUpload:
    if user.partnership_id != event.partnership_id:
        raise PermissionError("A user can only add feedback in their own partnership")
    partnership = db.session.get(Partnership, event.partnership_id)
    assert partnership is not None
    purge_stale_uploads(partnership)
    upload = CaptureUpload(
        partnership_id=event.partnership_id, event_id=event.id, created_by_id=user.id, **values
    )
    db.session.add(upload)
    db.session.flush()
    return upload


PASTE_COLUMNS = ["What they said", "Who said it", "Kind of feedback"]
PASTE_MAPPING = {"text": 0, "respondent": 1, "sentiment": 2}


def stash_pasted(
    event: Event,
    user: User,
    items: Sequence[str],
    respondent: str | None = None,
    sentiment: str | None = None,
) -> CaptureUpload:
    """Keep pasted items for the preview, each with the defaults chosen for all."""
    if not items:
        raise CaptureError("notes", svc.ENTER_TEXT)
    if len(items) > MAX_PASTE_ITEMS:
        raise CaptureError(
            "notes",
            f"You can add up to {MAX_PASTE_ITEMS} items at a time, and your notes have "
            f"{len(items)}. Paste them in smaller parts",
        )
    return _new_upload(
        event,
        user,
        source=SOURCE_PASTE,
        filename=None,
        columns=list(PASTE_COLUMNS),
        rows=[[item, respondent or "", sentiment or ""] for item in items],
        mapping=dict(PASTE_MAPPING),
    )


def update_pasted(upload: CaptureUpload, items: Sequence[tuple[str, str, str]]) -> None:
    """Replace the pasted items with the edited ones (text, respondent, sentiment)."""
    upload.rows = [[text, respondent, sentiment] for text, respondent, sentiment in items]


def stash_file(
    event: Event, user: User, filename: str, columns: list[str], rows: list[list[str]]
) -> CaptureUpload:
    """Keep an uploaded file's rows until the person has chosen its columns."""
    # Some browsers send the whole path on the person's computer: keep only the file's name.
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return _new_upload(
        event,
        user,
        source=file_source(name),
        filename=name[-255:],
        columns=columns,
        rows=rows,
        mapping={},
    )


def is_mapped(upload: CaptureUpload) -> bool:
    return bool(upload.mapping)


def confirm_mapping(
    upload: CaptureUpload, mapping: dict[str, int], defaults: dict[str, str]
) -> None:
    """Keep only the chosen columns, with the defaults written into rows that lack them.

    What is not mapped (a Forms export's e-mails and names, anything else in the sheet) is
    dropped here and never stored again.
    """
    if REQUIRED_FIELD not in mapping:
        raise ValueError("The mapping must say which column holds what they said")
    fields = [f for f in FIELDS if f in mapping or defaults.get(f)]
    columns = [
        upload.columns[mapping[f]] if f in mapping else f"{FIELDS[f].capitalize()} (chosen for all)"
        for f in fields
    ]
    new_rows: list[list[str]] = []
    for row in upload.rows:
        cells = [_cell(row, mapping, f) for f in fields]
        if any(cells):
            cells = [cell or defaults.get(f, "") for f, cell in zip(fields, cells, strict=True)]
        new_rows.append(cells if any(cells) else [])
    upload.columns = columns
    upload.rows = new_rows
    upload.mapping = {f: i for i, f in enumerate(fields)}


def discard_upload(upload_id: int) -> None:
    """Delete a stash by id; no error if a request that got there first already did."""
    db.session.execute(sa.delete(CaptureUpload).where(CaptureUpload.id == upload_id))


# Saving


def key_prefix(upload: CaptureUpload) -> str:
    """The start of every idempotency key saved from this stash.

    The stash's creation time is in it as well as its id: SQLite hands a deleted row's id to
    the next new row, and a later batch must never be mistaken for a repeat of an earlier one.
    """
    return f"up{upload.id}-{upload.created_at:%y%m%d%H%M%S%f}-"


def row_key(prefix: str, row_number: int) -> str:
    return f"{prefix}r{row_number}"


def save_items(
    event: Event,
    user: User,
    items: Sequence[tuple[int, ItemDetails]],
    *,
    key_prefix: str,
    source: str,
    skipped: int = 0,
) -> int:
    """Save every item in the caller's transaction; returns how many were new.

    Each item's key is the stash's prefix and its row number, so a confirm that arrives twice
    finds the first one's items and saves nothing more.
    """
    created_count = 0
    for row_number, details in items:
        _item, created = svc.record_feedback(
            event,
            user,
            details,
            idempotency_key=row_key(key_prefix, row_number),
            # A file's "may quote" answers were given under that form's notice, not ours.
            consent_channel=None if source == SOURCE_PASTE else svc.CONSENT_FROM_IMPORT,
        )
        created_count += int(created)
    if created_count:
        # Counts only: the audit log must not become a second copy of what people said.
        audit.record(
            "feedback.imported",
            event,
            user=user,
            count=created_count,
            skipped=skipped,
            source=source,
        )
    return created_count


def save_upload(
    upload: CaptureUpload,
    event: Event,
    user: User,
    items: Sequence[tuple[int, ItemDetails]],
    skipped: int = 0,
) -> int:
    """Save the confirmed items and throw the stash away, in the caller's transaction."""
    upload_id, prefix, source = upload.id, key_prefix(upload), upload.source
    created = save_items(event, user, items, key_prefix=prefix, source=source, skipped=skipped)
    discard_upload(upload_id)
    return created


def already_saved(event: Event, user: User, upload_id: int) -> int:
    """How many items this person saved at the event from the (now gone) stash `upload_id`."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(Feedback.id)).where(
                Feedback.partnership_id == event.partnership_id,
                Feedback.event_id == event.id,
                Feedback.entered_by_id == user.id,
                Feedback.idempotency_key.like(f"up{int(upload_id)}-%"),
            )
        )
        or 0
    )
