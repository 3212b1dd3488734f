"""Bulk entry rules without HTTP: splitting notes, reading files, guessing columns, saving."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, CaptureUpload, Feedback
from app.models.base import utcnow
from app.services import bulk_import as bulk
from app.services import capture as svc
from app.services.capture import ItemDetails
from tests import factories


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


HEADER = ["What they said", "Who said it", "Kind of feedback"]


# Splitting pasted notes


def test_one_item_per_line_when_there_are_no_blank_lines():
    notes = "The wait is too long\n  Nobody calls us back  \nThe new hub is great\n"
    assert bulk.split_pasted(notes) == [
        "The wait is too long",
        "Nobody calls us back",
        "The new hub is great",
    ]


def test_blank_lines_separate_items_and_keep_their_lines_together():
    notes = "The wait is too long.\nWe waited two years.\n\n\nThe hub is great\r\n\r\nAn idea"
    assert bulk.split_pasted(notes) == [
        "The wait is too long.\nWe waited two years.",
        "The hub is great",
        "An idea",
    ]


@pytest.mark.parametrize(
    ("line", "item"),
    [
        ("- Dash bullet", "Dash bullet"),
        ("* Star bullet", "Star bullet"),
        ("• Round bullet", "Round bullet"),
        ("•No space after the bullet", "No space after the bullet"),
        ("1. Numbered", "Numbered"),
        ("12) Numbered with a bracket", "Numbered with a bracket"),
        ("  \u2013 En dash", "En dash"),
        ("1.5 hours on the bus each way", "1.5 hours on the bus each way"),
        ("-5 degrees in the portacabin", "-5 degrees in the portacabin"),
        ("2020 was the worst year", "2020 was the worst year"),
    ],
)
def test_bullets_and_numbers_are_stripped_but_not_the_words(line, item):
    assert bulk.split_pasted(line) == [item]


def test_bullets_under_a_blank_line_are_each_an_item():
    notes = "Coffee morning notes\n\n- One\n- Two\n\n- Three\ncontinued on the next line"
    assert bulk.split_pasted(notes) == [
        "Coffee morning notes",
        "One",
        "Two",
        "Three\ncontinued on the next line",
    ]


def test_the_person_can_choose_how_to_split():
    notes = "First line\nSecond line\n\nThird"
    assert bulk.split_pasted(notes, "lines") == ["First line", "Second line", "Third"]
    assert bulk.split_pasted(notes, "blocks") == ["First line\nSecond line", "Third"]
    assert bulk.split_pasted("One\nTwo", "blocks") == ["One\nTwo"]
    with pytest.raises(ValueError):
        bulk.split_pasted(notes, "sentences")


def test_nothing_but_whitespace_and_bullets_is_no_items():
    assert bulk.split_pasted("") == []
    assert bulk.split_pasted("  \n\n- \n* \n") == []


# Reading files


def test_a_csv_file_reads_into_columns_and_rows():
    data = csv_bytes([HEADER, ["Too long a wait", "Parent", "bad"], ["Great", "YP", "good"]])
    columns, rows = bulk.read_table("feedback.csv", data)
    assert columns == HEADER
    assert rows == [["Too long a wait", "Parent", "bad"], ["Great", "YP", "good"]]


def test_a_csv_with_a_byte_order_mark_semicolons_and_line_breaks_in_cells():
    text = '\ufeffWhat they said;Who said it\n"Line one\nline two; still one cell";Mum\n'
    columns, rows = bulk.read_table("notes.CSV", text.encode("utf-8"))
    assert columns == ["What they said", "Who said it"]
    assert rows == [["Line one\nline two; still one cell", "Mum"]]


def test_a_windows_1252_csv_is_read_when_it_is_not_utf8():
    data = "What they said,Who said it\nIt cost £40 \u2013 we couldn\u2019t pay,Parent\n".encode(
        "cp1252"
    )
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    _, rows = bulk.read_table("old-excel.csv", data)
    assert rows == [["It cost £40 \u2013 we couldn\u2019t pay", "Parent"]]


def test_excel_unicode_text_utf16_is_read():
    data = "What they said\tWho said it\nToo long\tCarer\n".encode("utf-16")
    columns, rows = bulk.read_table("export.csv", data)
    assert columns == ["What they said", "Who said it"]
    assert rows == [["Too long", "Carer"]]


@pytest.mark.parametrize(
    "data",
    [
        b"What they said\n\x00\x01\x02\x03 binary \x04\x05\n",
        b"What they said\nOK\n\x81\x8d\x8f\x90\x9d\n",
    ],
)
def test_a_garbled_csv_is_refused_with_a_clear_message(data):
    with pytest.raises(bulk.ImportFileError) as caught:
        bulk.read_table("garbled.csv", data)
    assert caught.value.message == bulk.FILE_UNREADABLE
    assert "CSV UTF-8" in caught.value.message


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("feedback.csv", b"", bulk.FILE_EMPTY),
        ("feedback.csv", b"  \r\n\n ", bulk.FILE_EMPTY),
        ("feedback.csv", b"What they said,Who said it\n", bulk.FILE_HEADER_ONLY),
        ("feedback.csv", b"What they said,Who said it\n,\n\n", bulk.FILE_HEADER_ONLY),
        ("feedback.csv", b",,\nToo long,Parent\n", bulk.FILE_HEADER_EMPTY),
        ("feedback.pdf", b"%PDF-1.4", bulk.FILE_TYPES),
        ("feedback", b"What they said\nx\n", bulk.FILE_TYPES),
        ("feedback.xls", b"\xd0\xcf\x11\xe0 old excel", bulk.FILE_OLD_EXCEL),
        ("feedback.xlsx", b"\xd0\xcf\x11\xe0 encrypted", bulk.FILE_OLD_EXCEL),
        ("feedback.xlsx", b"What they said\nnot really excel\n", bulk.FILE_NOT_XLSX),
        ("feedback.xlsx", b"PK\x03\x04 truncated zip", bulk.FILE_NOT_XLSX),
    ],
)
def test_files_that_cannot_be_read_say_why(filename, data, message):
    with pytest.raises(bulk.ImportFileError) as caught:
        bulk.read_table(filename, data)
    assert caught.value.message == message


def test_an_excel_file_named_csv_is_spotted():
    data = xlsx_bytes([HEADER, ["x", "Parent", "good"]])
    with pytest.raises(bulk.ImportFileError, match=r"Excel file with a \.csv name"):
        bulk.read_table("feedback.csv", data)


def test_a_header_with_no_usable_column_is_refused():
    data = csv_bytes([["ID", "Email", "Name"], ["1", "a@example.com", "Ann"]])
    with pytest.raises(bulk.ImportFileError) as caught:
        bulk.read_table("form.csv", data)
    assert "no column that could hold what people said" in caught.value.message
    assert "ID, Email, Name" in caught.value.message


def test_a_row_the_csv_reader_cannot_read_is_named_by_its_number():
    big = "x" * (csv.field_size_limit() + 10)
    data = f'What they said\nFine\n"{big}"\n'.encode()
    with pytest.raises(bulk.ImportFileError, match=r"^Row 3 of the file could not be read"):
        bulk.read_table("feedback.csv", data)


def test_too_many_rows_are_refused_but_the_limit_itself_is_fine():
    rows = [["What they said"]] + [[f"Item {n}"] for n in range(bulk.MAX_ROWS)]
    _, read = bulk.read_table("big.csv", csv_bytes(rows))
    assert len(read) == bulk.MAX_ROWS
    with pytest.raises(bulk.ImportFileError) as caught:
        bulk.read_table("big.csv", csv_bytes([*rows, ["One too many"]]))
    assert caught.value.message == bulk.FILE_TOO_MANY_ROWS
    assert "5,000" in caught.value.message


def test_blank_rows_inside_are_kept_for_row_numbers_and_blank_rows_at_the_end_dropped():
    data = b"What they said,Who\nOne,Parent\n,\n\nFour,Child\n,,\n\n\n"
    _, rows = bulk.read_table("feedback.csv", data)
    assert rows == [["One", "Parent"], [], [], ["Four", "Child"]]


def test_empty_and_repeated_header_names_are_given_names():
    data = b"What they said,,Comments,comments\nA,B,C,D,E\n"
    columns, _ = bulk.read_table("feedback.csv", data)
    assert columns == [
        "What they said",
        "Column B",
        "Comments",
        "comments (column D)",
        "Column E",
    ]


def test_an_xlsx_file_reads_numbers_dates_and_booleans_as_text():
    data = xlsx_bytes(
        [
            [*HEADER, "Age", "Quote?", "When"],
            ["Too long a wait", "Parent", "bad", 7, True, datetime(2026, 11, 2, 10, 30)],
            [None, None, None],
            ["  Good  ", "Child", "good", 7.5, False, date(2026, 11, 3)],
            [None, None],
        ]
    )
    columns, rows = bulk.read_table("forum.xlsx", data)
    assert columns == [*HEADER, "Age", "Quote?", "When"]
    assert rows == [
        ["Too long a wait", "Parent", "bad", "7", "yes", "2026-11-02 10:30"],
        [],
        ["Good", "Child", "good", "7.5", "no", "2026-11-03"],
    ]


def test_an_xlsx_file_with_only_a_header_or_nothing_is_refused():
    with pytest.raises(bulk.ImportFileError) as caught:
        bulk.read_table("forum.xlsx", xlsx_bytes([HEADER]))
    assert caught.value.message == bulk.FILE_HEADER_ONLY
    with pytest.raises(bulk.ImportFileError) as caught:
        bulk.read_table("forum.xlsx", xlsx_bytes([]))
    assert caught.value.message == bulk.FILE_EMPTY


# Guessing columns

MICROSOFT_FORMS = [
    "ID",
    "Start time",
    "Completion time",
    "Email",
    "Name",
    "Last modified time",
    "Are you a parent, carer or young person?",
    "What would you like to tell us?",
    "Is this about something working well, something that needs to change, or an idea?",
    "Which school or setting?",
    "May we quote you anonymously?",
]
GOOGLE_FORMS = [
    "Timestamp",
    "Email address",
    "Your name",
    "Who are you?",
    "Tell us about your experience of SEND support",
    "Type of feedback",
    "Child's age phase",
]


def test_our_own_template_is_guessed_completely():
    with open("examples/capture/feedback-template.csv", "rb") as handle:
        columns, rows = bulk.read_table("feedback-template.csv", handle.read())
    assert bulk.guess_mapping(columns) == {
        "text": 0,
        "respondent": 1,
        "sentiment": 2,
        "age_phase": 3,
        "setting": 4,
        "may_quote": 5,
    }
    outcomes = bulk.apply_mapping(rows, bulk.guess_mapping(columns))
    assert outcomes and all(isinstance(d, ItemDetails) for _, d in outcomes)


def test_microsoft_forms_headers_are_guessed_and_personal_columns_left_alone():
    mapping = bulk.guess_mapping(MICROSOFT_FORMS)
    assert mapping == {
        "respondent": 6,
        "text": 7,
        "sentiment": 8,
        "setting": 9,
        "may_quote": 10,
    }
    for personal in ("ID", "Start time", "Completion time", "Email", "Name"):
        assert bulk.is_personal_column(personal)


def test_google_forms_headers_are_guessed():
    assert bulk.guess_mapping(GOOGLE_FORMS) == {
        "respondent": 3,
        "text": 4,
        "sentiment": 5,
        "age_phase": 6,
    }


def test_a_forms_export_with_unusual_questions_takes_its_first_question_as_the_text():
    columns = ["ID", "Start time", "Completion time", "Email", "Name", "How was today?"]
    assert bulk.guess_mapping(columns) == {"text": 5}


def test_headers_that_mean_nothing_to_us_guess_nothing():
    assert bulk.guess_mapping(["Column A", "Stuff", "Things"]) == {}


# Reading values leniently


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Parent", "parent_carer"),
        ("parent/carer", "parent_carer"),
        ("Parent or carer", "parent_carer"),
        ("MUM", "parent_carer"),
        ("Foster carer", "parent_carer"),
        ("Parent of a young person", "parent_carer"),
        ("Young person", "young_person"),
        ("YP", "young_person"),
        ("young carer", "young_person"),
        ("Young person (16-25)", "young_person"),
        ("child", "child"),
        ("Pupil", "child"),
        ("Teacher", "professional"),
        ("SENCo", "professional"),
        ("Someone else", "other"),
        ("other", "other"),
        ("parent_carer", "parent_carer"),
        ("", None),
        ("Governor", None),
        ("Jane Smith", None),
    ],
)
def test_who_said_it_is_read_leniently(value, expected):
    assert bulk.parse_respondent(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("positive", "working_well"),
        ("Working well", "working_well"),
        ("good", "working_well"),
        ("What's working well", "working_well"),
        ("negative", "needs_change"),
        ("Needs to change", "needs_change"),
        ("bad", "needs_change"),
        ("Not working well", "needs_change"),
        ("Could be improved", "needs_change"),
        ("idea", "idea"),
        ("Suggestion", "idea"),
        ("An idea", "idea"),
        ("meh", None),
        ("", None),
    ],
)
def test_kind_of_feedback_is_read_leniently(value, expected):
    assert bulk.parse_sentiment(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Early years", "early_years"),
        ("EYFS", "early_years"),
        ("Primary", "primary"),
        ("KS2", "primary"),
        ("Secondary school", "secondary"),
        ("Post-16", "post_16"),
        ("Sixth form", "post_16"),
        ("19-25", "19_25"),
        ("19 to 25", "19_25"),
        ("", None),
        ("Year 12?", None),
    ],
)
def test_age_phase_is_read_leniently(value, expected):
    assert bulk.parse_age_phase(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Yes", True),
        ("y", True),
        ("TRUE", True),
        ("Yes, you may quote me anonymously", True),
        ("No", False),
        ("no thank you", False),
        ("", False),
        ("Maybe", None),
    ],
)
def test_may_be_quoted_is_yes_or_no(value, expected):
    assert bulk.parse_yes_no(value) == expected


# Applying a mapping


def test_rows_with_problems_are_named_by_spreadsheet_row_number():
    rows = [
        ["Too long a wait", "Parent", "bad", "Primary", "yes"],
        [],
        ["", "Parent", "bad", "", ""],
        ["Nobody calls back", "Governor", "meh", "Year 12?", "maybe"],
        ["x" * (svc.MAX_TEXT_LENGTH + 1), "", "", "", ""],
        ["Great hub", "", "good", "", ""],
    ]
    mapping = {"text": 0, "respondent": 1, "sentiment": 2, "age_phase": 3, "may_quote": 4}
    outcomes = dict(bulk.apply_mapping(rows, mapping, {"respondent": "child"}))
    assert list(outcomes) == [2, 4, 5, 6, 7]
    assert outcomes[2] == ItemDetails(
        text="Too long a wait",
        respondent="parent_carer",
        sentiment="needs_change",
        age_phase="primary",
        may_quote=True,
    )
    assert outcomes[4] == ["what they said is empty"]
    assert outcomes[5] == [
        "who said it ('Governor') is not one we know",
        "kind of feedback ('meh') is not one we know",
        "age phase ('Year 12?') is not one we know",
        "may be quoted ('maybe') must be yes or no",
    ]
    assert outcomes[6] == [
        "what they said is longer than 10,000 characters",
        "kind of feedback is empty",
    ]
    # The default fills in who said it where the row does not say.
    assert outcomes[7].respondent == "child"
    assert bulk.describe_problems(4, outcomes[4]) == "Row 4: what they said is empty"


def test_confirming_a_mapping_drops_every_column_not_chosen():
    upload = CaptureUpload(
        columns=["ID", "Email", "Name", "What would you like to tell us?", "Who are you?"],
        rows=[
            ["1", "ann@example.com", "Ann", "Too long a wait", "Parent"],
            ["2", "bob@example.com", "Bob", "", ""],
            ["3", "cat@example.com", "Cat", "Great hub", ""],
        ],
        mapping={},
    )
    bulk.confirm_mapping(upload, {"text": 3, "respondent": 4}, {"sentiment": "idea"})
    assert upload.columns == [
        "What would you like to tell us?",
        "Who are you?",
        "Kind of feedback (chosen for all)",
    ]
    assert upload.rows == [["Too long a wait", "Parent", "idea"], [], ["Great hub", "", "idea"]]
    assert upload.mapping == {"text": 0, "respondent": 1, "sentiment": 2}
    assert "example.com" not in repr(upload.rows) + repr(upload.columns)
    outcomes = bulk.apply_mapping(upload.rows, upload.mapping)
    assert [n for n, _ in outcomes] == [2, 4]
    assert outcomes[1][1] == ["who said it is empty"]


# Saving


def test_save_items_saves_all_in_the_callers_transaction_with_one_key_each(world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    upload = bulk.stash_pasted(event, world.volunteer, ["One", "Two"], "parent_carer", "idea")
    db.session.commit()
    prefix = bulk.key_prefix(upload)
    items = [
        (1, ItemDetails("One", "parent_carer", "idea")),
        (2, ItemDetails("Two", "child", "idea")),
    ]
    created = bulk.save_upload(upload, event, world.volunteer, items)
    assert created == 2
    db.session.rollback()
    # Nothing was committed by the service itself.
    assert db.session.scalar(sa.select(sa.func.count(Feedback.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(CaptureUpload.id))) == 1

    created = bulk.save_upload(upload, event, world.volunteer, items)
    db.session.commit()
    saved = db.session.scalars(sa.select(Feedback).order_by(Feedback.id)).all()
    assert [f.raw_text for f in saved] == ["One", "Two"]
    assert [f.idempotency_key for f in saved] == [f"{prefix}r1", f"{prefix}r2"]
    for item in saved:
        assert re.fullmatch(r"[A-Za-z0-9-]{8,64}", item.idempotency_key)
        assert item.entered_by_id == world.volunteer.id
        assert item.consent_notice_version
    assert db.session.scalar(sa.select(sa.func.count(CaptureUpload.id))) == 0
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "feedback.imported")
    ).one()
    assert entry.details == {"count": 2, "skipped": 0, "source": "paste"}
    assert entry.object_type == "Event"
    assert bulk.already_saved(event, world.volunteer, upload.id) == 2


def test_saving_the_same_rows_twice_makes_no_duplicates_and_no_second_audit(world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    items = [(2, ItemDetails("One", "parent_carer", "idea"))]
    assert bulk.save_items(event, world.volunteer, items, key_prefix="up9-1-", source="csv") == 1
    db.session.commit()
    assert bulk.save_items(event, world.volunteer, items, key_prefix="up9-1-", source="csv") == 0
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Feedback.id))) == 1
    verbs = db.session.scalars(sa.select(AuditEntry.verb)).all()
    assert verbs.count("feedback.imported") == 1


def test_a_reused_upload_id_never_looks_like_a_repeat(world):
    """SQLite gives a deleted row's id to the next row: the key's time part keeps them apart."""
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    first = bulk.stash_pasted(event, world.volunteer, ["One"], "child", "idea")
    db.session.commit()
    later = CaptureUpload(id=first.id, created_at=first.created_at + timedelta(microseconds=1))
    assert bulk.key_prefix(first) != bulk.key_prefix(later)


def test_stale_stashes_are_thrown_away_when_a_new_one_is_made(world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    old = bulk.stash_pasted(event, world.volunteer, ["Old"], "child", "idea")
    old.created_at = utcnow() - bulk.STALE_AFTER - timedelta(minutes=1)
    db.session.commit()
    bulk.stash_pasted(event, world.volunteer, ["New"], "child", "idea")
    db.session.commit()
    remaining = db.session.scalars(sa.select(CaptureUpload)).all()
    assert [upload.rows for upload in remaining] == [[["New", "child", "idea"]]]


def test_too_many_pasted_items_are_refused(world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    with pytest.raises(svc.CaptureError, match="up to 200 items"):
        bulk.stash_pasted(event, world.volunteer, ["x"] * (bulk.MAX_PASTE_ITEMS + 1))


def test_item_problems_lists_every_problem_at_once():
    assert bulk.item_problems(ItemDetails("", None, "")) == {
        "respondent": svc.SELECT_RESPONDENT,
        "sentiment": svc.SELECT_SENTIMENT,
        "text": svc.ENTER_TEXT,
    }
    assert bulk.item_problems(ItemDetails("Fine", "child", "idea")) == {}


@pytest.mark.parametrize(
    "value", ["Not sure", "Not applicable", "Not bad", "No problems", "Nothing to change"]
)
def test_hedged_answers_are_not_guessed_as_a_kind_of_feedback(value):
    assert bulk.parse_sentiment(value) is None


def test_a_negated_respondent_is_not_guessed():
    assert bulk.parse_respondent("Not a parent") is None
    assert bulk.parse_respondent("Parent") == "parent_carer"


def test_a_no_answer_cell_falls_back_to_the_default():
    mapping = {"text": 0, "respondent": 1, "sentiment": 2}
    details = bulk.read_row(
        ["The bus was late", "Not sure", "n/a"],
        mapping,
        {"respondent": "parent_carer", "sentiment": "needs_change"},
    )
    assert (details.respondent, details.sentiment) == ("parent_carer", "needs_change")
