"""Adding many items at once, through the pages: pasted notes, and CSV or Excel files.

Every outcome is checked for "nothing half-saved": the feedback and stash rows are counted.
"""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.extensions import db
from app.models import AuditEntry, CaptureUpload, Feedback
from app.services import bulk_import as bulk
from tests import factories
from tests.conftest import csrf_token_from
from tests.html import soup, text_of


def counts() -> tuple[int, int]:
    """(feedback items, stashes waiting)."""
    return (
        db.session.scalar(sa.select(sa.func.count(Feedback.id))) or 0,
        db.session.scalar(sa.select(sa.func.count(CaptureUpload.id))) or 0,
    )


def saved_texts() -> list[str]:
    return list(db.session.scalars(sa.select(Feedback.raw_text).order_by(Feedback.id)).all())


def error_summary(response) -> list[tuple[str, str]]:
    box = soup(response).select_one(".govuk-error-summary")
    if box is None:
        return []
    return [(a.get_text(" ", strip=True), a["href"]) for a in box.select("li a")]


def field_error(response, field_id: str) -> str:
    page = soup(response)
    target = page.find(id=field_id)
    assert target is not None, f"no field {field_id}"
    group = target.find_parent(class_="govuk-form-group")
    message = group.select_one(".govuk-error-message")
    return message.get_text(" ", strip=True).replace("Error:", "").strip() if message else ""


def csv_file(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_file(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def post_multipart(client, url: str, fields: dict):
    """Encoded here, in memory: the test client spools big bodies to a file it never closes."""
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def upload(client, event, data: bytes, filename: str = "feedback.csv", **fields):
    return post_multipart(
        client,
        f"/capture/events/{event.id}/import",
        {"file": FileStorage(io.BytesIO(data), filename), **fields},
    )


def the_stash() -> CaptureUpload:
    return db.session.scalars(sa.select(CaptureUpload)).one()


def selected(page, name: str) -> str:
    option = page.select_one(f"select[name={name}] option[selected]")
    return option["value"] if option else ""


@pytest.fixture
def event(world):
    return factories.make_event(world.partnership, created_by=world.volunteer)


GOOD_ROWS = [
    ["What they said", "Who said it", "Kind of feedback", "Age phase", "May be quoted"],
    ["The wait for an assessment is too long", "Parent", "bad", "Primary", "yes"],
    ["The family hub drop-in really helped", "parent/carer", "working well", "", "no"],
    ["A single person who knows our story", "YP", "suggestion", "Post-16", ""],
]


def columns_form(page) -> dict[str, str]:
    """What the columns page would send as it stands."""
    return {
        name: selected(page, name)
        for name in ("text", "respondent", "sentiment", "age_phase", "setting", "may_quote")
    }


def import_all(client, event, data: bytes, filename: str = "feedback.csv", **choices):
    """Upload, accept the guessed columns (with changes), and return the check page."""
    response = upload(client, event, data, filename)
    assert response.status_code == 302, text_of(response)[:500]
    page = soup(client.get(response.headers["Location"]))
    form = columns_form(page)
    form.update(choices)
    response = client.post(response.headers["Location"], data=form)
    assert response.status_code == 302, text_of(response)[:800]
    return client.get(response.headers["Location"])


# The links and the template


def test_the_links_partial_leads_to_both_ways_in(app, client, auth, world, event):
    auth.login(world.volunteer)
    client.get("/capture/")
    with app.test_request_context():
        html = app.jinja_env.get_template("capture/_bulk_links.html").render(event=event)
    links = {a.get_text(strip=True): a["href"] for a in soup_html(html).select("a")}
    assert links == {
        "Paste from notes": f"/capture/events/{event.id}/paste",
        "Import a spreadsheet": f"/capture/events/{event.id}/import",
    }


def soup_html(html: str):
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser")


def test_the_template_spreadsheet_downloads_and_imports_cleanly(client, auth, world, event):
    auth.login(world.volunteer)
    page = client.get(f"/capture/events/{event.id}/import")
    link = soup(page).find("a", string=lambda s: s and "spreadsheet template" in s)
    response = client.get(link["href"])
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.get_data()
    assert data.startswith(b"What they said,Who said it,Kind of feedback")
    check = import_all(client, event, data, "feedback-template.csv")
    assert "6 rows ready to save" in text_of(check)
    assert soup(check).select_one("#problem-rows") is None


# Pasting notes


def test_the_paste_page_has_one_box_and_the_defaults(client, auth, world, event):
    auth.login(world.volunteer)
    page = soup(client.get(f"/capture/events/{event.id}/paste"))
    assert page.h1.get_text(strip=True) == "Paste from notes"
    assert page.find("textarea", attrs={"name": "notes"}) is not None
    legends = [legend.get_text(" ", strip=True) for legend in page.select("legend")]
    assert legends == [
        "How are the items separated?",
        "Who said most of them? (optional)",
        "What kind of feedback are most of them? (optional)",
    ]
    assert page.select_one("input[name=split][value=auto]").has_attr("checked")
    assert page.select_one("form[novalidate]")


def test_empty_notes_are_an_error_and_nothing_is_kept(client, auth, world, event):
    auth.login(world.volunteer)
    for notes in ("", "   ", "-\n*\n"):
        response = client.post(f"/capture/events/{event.id}/paste", data={"notes": notes})
        assert response.status_code == 200
        assert error_summary(response) == [("Enter or paste your notes", "#notes")]
        assert soup(response).title.get_text().startswith("Error: ")
    assert counts() == (0, 0)


def paste(client, event, notes: str, **extra):
    data = {"notes": notes, "split": "auto", **extra}
    response = client.post(f"/capture/events/{event.id}/paste", data=data)
    assert response.status_code == 302, text_of(response)[:500]
    return response.headers["Location"]


def preview_data(page) -> dict[str, str]:
    """Everything the preview form would send as it stands (without a button)."""
    data = {"csrf_token": ""}
    for textarea in page.select("form textarea"):
        data[textarea["name"]] = textarea.get_text()
    for select in page.select("form select"):
        data[select["name"]] = selected(page, select["name"])
    for box in page.select("form input[type=checkbox][checked]"):
        data[box["name"]] = box["value"]
    return data


NOTES = """Coffee morning, Marple

- The wait for an assessment is far too long
- Nobody tells us what is happening

• The new drop-in at the hub is brilliant
"""


def test_pasted_notes_are_split_and_shown_for_checking_with_the_defaults(
    client, auth, world, event
):
    auth.login(world.volunteer)
    location = paste(client, event, NOTES, respondent="parent_carer")
    assert counts() == (0, 1)
    page = soup(client.get(location))
    assert page.h1.get_text(strip=True) == "Check the items before you save them"
    texts = [t.get_text().strip() for t in page.select("textarea")]
    assert texts == [
        "Coffee morning, Marple",
        "The wait for an assessment is far too long",
        "Nobody tells us what is happening",
        "The new drop-in at the hub is brilliant",
    ]
    legends = [legend.get_text(strip=True) for legend in page.select("legend")]
    assert legends == ["Item 1", "Item 2", "Item 3", "Item 4"]
    assert [selected(page, f"items-{i}-respondent") for i in range(4)] == ["parent_carer"] * 4
    assert [selected(page, f"items-{i}-sentiment") for i in range(4)] == [""] * 4
    assert page.find("label", attrs={"for": "items-2-text"}).get_text(strip=True) == (
        "What they said"
    )
    assert page.select_one("button[name=save]").get_text(strip=True) == "Save all 4 items"
    assert page.select_one("input[name='items-0-remove'][type=checkbox]") is not None


def test_each_item_with_a_problem_gets_its_own_error_and_nothing_is_saved(
    client, auth, world, event
):
    auth.login(world.volunteer)
    location = paste(client, event, "One\nTwo\nThree", sentiment="needs_change")
    data = preview_data(soup(client.get(location)))
    data.update(
        {
            "items-0-respondent": "parent_carer",
            "items-1-text": "   ",
            "items-1-respondent": "child",
            "items-2-sentiment": "",
            "save": "Save all 3 items",
        }
    )
    response = client.post(location, data=data)
    assert response.status_code == 200
    assert error_summary(response) == [
        ("Enter what they said in item 2, or remove it", "#items-1-text"),
        ("Select who said item 3", "#items-2-respondent"),
        (
            "Select whether item 3 is working well, needs to change or an idea",
            "#items-2-sentiment",
        ),
    ]
    assert field_error(response, "items-1-text") == "Enter what they said in item 2, or remove it"
    assert field_error(response, "items-2-respondent") == "Select who said item 3"
    # What was typed is kept.
    page = soup(response)
    assert selected(page, "items-0-respondent") == "parent_carer"
    assert page.find(id="items-0-text").get_text().strip() == "One"
    assert counts() == (0, 1)


def test_removing_and_editing_then_saving_saves_exactly_the_kept_items(client, auth, world, event):
    auth.login(world.volunteer)
    location = paste(
        client, event, "Notes from today\nToo long a wait\nGreat hub", respondent="parent_carer"
    )
    data = preview_data(soup(client.get(location)))
    data.update(
        {
            "items-0-remove": "y",
            "items-0-text": "",
            "items-1-text": "The wait is far too long",
            "items-1-sentiment": "needs_change",
            "items-2-respondent": "young_person",
            "items-2-sentiment": "working_well",
            "save": "Save all 3 items",
        }
    )
    response = client.post(location, data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/capture/events/{event.id}"
    items = db.session.scalars(sa.select(Feedback).order_by(Feedback.id)).all()
    assert [(f.raw_text, f.respondent, f.sentiment) for f in items] == [
        ("The wait is far too long", "parent_carer", "needs_change"),
        ("Great hub", "young_person", "working_well"),
    ]
    assert all(f.event_id == event.id and f.entered_by_id == world.volunteer.id for f in items)
    assert counts() == (2, 0)
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "feedback.imported")
    ).one()
    assert entry.details == {"count": 2, "skipped": 0, "source": "paste"}
    assert "wait" not in repr(entry.details)
    page = client.get(response.headers["Location"])
    assert "Saved 2 items. 1 removed item not saved. This event has 2 items." in text_of(page)


def test_update_the_list_keeps_edits_and_drops_removed_items_without_saving(
    client, auth, world, event
):
    auth.login(world.volunteer)
    location = paste(client, event, "One\nTwo\nThree")
    data = preview_data(soup(client.get(location)))
    data.update({"items-1-remove": "y", "items-2-text": "Three, edited", "update": "Update"})
    response = client.post(location, data=data)
    assert response.status_code == 302
    assert response.headers["Location"] == location
    assert counts() == (0, 1)
    assert the_stash().rows == [["One", "", ""], ["Three, edited", "", ""]]
    page = client.get(location)
    assert "Removed 1 item." in text_of(page)
    assert soup(page).select_one("button[name=save]").get_text(strip=True) == "Save all 2 items"


def test_removing_every_item_throws_the_stash_away(client, auth, world, event):
    auth.login(world.volunteer)
    location = paste(client, event, "One\nTwo")
    data = preview_data(soup(client.get(location)))
    data.update({"items-0-remove": "y", "items-1-remove": "y", "update": "Update"})
    response = client.post(location, data=data)
    assert response.headers["Location"] == f"/capture/events/{event.id}"
    assert counts() == (0, 0)
    data["save"] = "Save"
    del data["update"]
    # The page posted again after that: the stash is gone and nothing was ever saved.
    assert client.post(location, data=data).status_code == 404


def test_saving_with_every_item_removed_is_an_error(client, auth, world, event):
    auth.login(world.volunteer)
    location = paste(client, event, "One")
    data = preview_data(soup(client.get(location)))
    data.update({"items-0-remove": "y", "save": "Save"})
    response = client.post(location, data=data)
    assert response.status_code == 200
    assert error_summary(response) == [
        ("Keep at least one item to save, or cancel", "#items-0-remove")
    ]
    assert counts() == (0, 1)


def test_a_pasted_save_posted_twice_saves_once(client, auth, world, event):
    auth.login(world.volunteer)
    location = paste(client, event, "One\nTwo", respondent="child", sentiment="idea")
    data = preview_data(soup(client.get(location)))
    data["save"] = "Save all 2 items"
    first = client.post(location, data=data)
    second = client.post(location, data=data)
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == f"/capture/events/{event.id}"
    assert saved_texts() == ["One", "Two"]
    assert counts() == (2, 0)
    assert "Saved 2 items." in text_of(client.get(second.headers["Location"]))


def test_a_changed_list_in_another_tab_is_not_saved_from_the_old_page(client, auth, world, event):
    auth.login(world.volunteer)
    location = paste(client, event, "One\nTwo\nThree")
    old_page = preview_data(soup(client.get(location)))
    newer = dict(old_page, **{"items-0-remove": "y", "update": "Update"})
    client.post(location, data=newer)
    response = client.post(location, data=dict(old_page, save="Save"))
    assert response.headers["Location"] == location
    assert counts() == (0, 1)


def test_cancelling_a_paste_throws_it_away(client, auth, world, event):
    auth.login(world.volunteer)
    location = paste(client, event, "One\nTwo")
    page = soup(client.get(location))
    cancel = page.find("button", string=lambda s: s and "Cancel" in s).find_parent("form")
    response = client.post(cancel["action"])
    assert response.headers["Location"] == f"/capture/events/{event.id}"
    assert counts() == (0, 0)
    assert client.post(cancel["action"]).status_code == 302


def test_too_many_pasted_items_are_refused(client, auth, world, event):
    auth.login(world.volunteer)
    notes = "\n".join(f"Item {n}" for n in range(bulk.MAX_PASTE_ITEMS + 1))
    response = client.post(f"/capture/events/{event.id}/paste", data={"notes": notes})
    assert response.status_code == 200
    assert field_error(response, "notes").startswith("You can add up to 200 items at a time")
    assert soup(response).find(id="notes").get_text().strip().startswith("Item 0")
    assert counts() == (0, 0)


# Importing a file


def test_the_upload_page_uses_the_file_upload_component(client, auth, world, event):
    auth.login(world.volunteer)
    page = soup(client.get(f"/capture/events/{event.id}/import"))
    form = page.select_one("form[enctype='multipart/form-data'][novalidate]")
    file_input = form.select_one("input[type=file].govuk-file-upload")
    assert file_input["name"] == "file"
    assert page.find("label", attrs={"for": file_input["id"]}).get_text(strip=True) == (
        "Upload a file"
    )


def test_no_file_chosen_is_an_error(client, auth, world, event):
    auth.login(world.volunteer)
    response = client.post(
        f"/capture/events/{event.id}/import", data={}, content_type="multipart/form-data"
    )
    assert error_summary(response) == [("Select a CSV or Excel file", "#file")]
    assert counts() == (0, 0)


def test_a_good_csv_is_mapped_checked_and_saved(client, auth, world, event):
    auth.login(world.volunteer)
    response = upload(client, event, csv_file(GOOD_ROWS))
    assert counts() == (0, 1)
    columns_url = response.headers["Location"]
    page = soup(client.get(columns_url))
    assert page.h1.get_text(strip=True) == "Choose which column is which"
    assert columns_form(page) == {
        "text": "0",
        "respondent": "1",
        "sentiment": "2",
        "age_phase": "3",
        "setting": "",
        "may_quote": "4",
    }
    options = [o.get_text(strip=True) for o in page.select("select[name=setting] option")]
    assert options[:2] == ["Not in this file", "What they said (column A)"]
    table = page.select_one("table.govuk-table")
    assert table.caption is not None
    first_values = [td.get_text(" ", strip=True) for td in table.select("tbody td")][1::2]
    assert first_values[0] == "The wait for an assessment is too long"

    check = client.post(columns_url, data=columns_form(page))
    assert check.status_code == 302
    check = client.get(check.headers["Location"])
    assert "3 rows ready to save" in text_of(check)
    assert "Nothing has been saved yet." in text_of(check)
    assert counts() == (0, 1)
    ready = soup(check).select_one("#ready-rows")
    assert ready.caption.get_text(strip=True) == "All 3 rows that will be saved"
    button = soup(check).find("button", string=lambda s: s and "Save all 3 rows" in s)
    response = client.post(button.find_parent("form")["action"])
    assert response.headers["Location"] == f"/capture/events/{event.id}"
    items = db.session.scalars(sa.select(Feedback).order_by(Feedback.id)).all()
    assert [(f.raw_text, f.respondent, f.sentiment, f.age_phase, f.may_quote) for f in items] == [
        ("The wait for an assessment is too long", "parent_carer", "needs_change", "primary", True),
        ("The family hub drop-in really helped", "parent_carer", "working_well", None, False),
        ("A single person who knows our story", "young_person", "idea", "post_16", False),
    ]
    # The file's "may quote" answers were given under its own notice, not ours.
    assert {(f.consent_channel, f.consent_notice_version) for f in items} == {("import", None)}
    assert counts() == (3, 0)
    assert "Saved 3 items. This event has 3 items." in text_of(
        client.get(response.headers["Location"])
    )
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "feedback.imported")
    ).one()
    assert entry.details == {"count": 3, "skipped": 0, "source": "csv"}


def test_a_good_xlsx_is_imported(client, auth, world, event):
    auth.login(world.volunteer)
    rows: list[list[object]] = [
        ["Comments", "Respondent", "Sentiment", "Quote?"],
        ["Transport to school keeps changing", "Parent", "Negative", True],
        [None, None, None, None],
        ["The speech therapist listened", "Young person", "Positive", False],
    ]
    check = import_all(client, event, xlsx_file(rows), "forum.xlsx")
    text = text_of(check)
    assert "2 rows ready to save" in text
    assert "1 empty row, which will be left out" in text
    button = soup(check).find("button", string=lambda s: s and "Save all 2 rows" in s)
    client.post(button.find_parent("form")["action"])
    items = db.session.scalars(sa.select(Feedback).order_by(Feedback.id)).all()
    assert [(f.raw_text, f.respondent, f.sentiment, f.may_quote) for f in items] == [
        ("Transport to school keeps changing", "parent_carer", "needs_change", True),
        ("The speech therapist listened", "young_person", "working_well", False),
    ]
    assert counts() == (2, 0)
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "feedback.imported")
    ).one()
    assert entry.details["source"] == "xlsx"


MS_FORMS_ROWS = [
    [
        "ID",
        "Start time",
        "Completion time",
        "Email",
        "Name",
        "Are you a parent, carer or young person?",
        "What would you like to tell us?",
        "Is this about something working well, something that needs to change, or an idea?",
        "May we quote you anonymously?",
    ],
    [
        "1",
        "11/2/26 10:01:02",
        "11/2/26 10:04:40",
        "ann.parent@example.com",
        "Ann Parent",
        "Parent or carer",
        "We waited two years for an EHCP",
        "Something that needs to change",
        "Yes",
    ],
    [
        "2",
        "11/2/26 10:05:00",
        "11/2/26 10:09:12",
        "anonymous",
        "",
        "Young person",
        "My college mentor is great",
        "Something working well",
        "No",
    ],
]


def test_a_microsoft_forms_export_is_guessed_and_its_personal_columns_dropped(
    client, auth, world, event
):
    auth.login(world.volunteer)
    response = upload(client, event, csv_file(MS_FORMS_ROWS), "Feedback(1-2).csv")
    page = soup(client.get(response.headers["Location"]))
    assert columns_form(page) == {
        "text": "6",
        "respondent": "5",
        "sentiment": "7",
        "age_phase": "",
        "setting": "",
        "may_quote": "8",
    }
    # The e-mail column's first value is not shown back.
    assert "ann.parent@example.com" not in page.get_text()
    response = client.post(response.headers["Location"], data=columns_form(page))
    stash = the_stash()
    assert "ann.parent@example.com" not in repr(stash.rows) + repr(stash.columns)
    assert "Ann Parent" not in repr(stash.rows)
    check = client.get(response.headers["Location"])
    button = soup(check).find("button", string=lambda s: s and "Save all 2 rows" in s)
    client.post(button.find_parent("form")["action"])
    items = db.session.scalars(sa.select(Feedback).order_by(Feedback.id)).all()
    assert [(f.raw_text, f.respondent, f.sentiment, f.may_quote) for f in items] == [
        ("We waited two years for an EHCP", "parent_carer", "needs_change", True),
        ("My college mentor is great", "young_person", "working_well", False),
    ]
    assert all(f.contact is None for f in items)


def test_a_google_forms_export_is_guessed_with_a_default_for_who_said_it(
    client, auth, world, event
):
    auth.login(world.volunteer)
    rows = [
        ["Timestamp", "Email address", "Tell us about your experience", "Type of feedback"],
        ["2026/11/02 10:01:02 am GMT", "a@example.com", "Nobody replies to e-mails", "Negative"],
        ["2026/11/02 10:03:02 am GMT", "b@example.com", "Can we have an evening session?", "Idea"],
    ]
    response = upload(client, event, csv_file(rows), "Responses - Form responses 1.csv")
    page = soup(client.get(response.headers["Location"]))
    assert columns_form(page)["text"] == "2"
    assert columns_form(page)["sentiment"] == "3"
    assert columns_form(page)["respondent"] == ""
    # No column says who said it: a default is needed.
    data = columns_form(page)
    answer = client.post(response.headers["Location"], data=data)
    assert answer.status_code == 200
    assert error_summary(answer) == [
        ("Select who said them, as no column in the file says", "#default_respondent")
    ]
    data["default_respondent"] = "parent_carer"
    answer = client.post(response.headers["Location"], data=data)
    check = client.get(answer.headers["Location"])
    assert "2 rows ready to save" in text_of(check)
    button = soup(check).find("button", string=lambda s: s and "Save all 2 rows" in s)
    client.post(button.find_parent("form")["action"])
    items = db.session.scalars(sa.select(Feedback).order_by(Feedback.id)).all()
    assert [(f.respondent, f.sentiment) for f in items] == [
        ("parent_carer", "needs_change"),
        ("parent_carer", "idea"),
    ]


BAD_ROWS = [
    ["What they said", "Who said it", "Kind of feedback"],
    ["Good row one", "Parent", "good"],
    ["Good row two", "Child", "idea"],
    ["", "Parent", "bad"],
    [],
    ["Who is this?", "Governor", "bad"],
    ["Good row three", "Young person", "bad"],
    ["No kind given", "Parent", ""],
]


def test_rows_with_problems_are_listed_by_row_number_and_can_be_skipped(client, auth, world, event):
    auth.login(world.volunteer)
    check = import_all(client, event, csv_file(BAD_ROWS))
    text = text_of(check)
    assert "3 rows ready to save" in text
    assert "3 rows with problems" in text
    table = soup(check).select_one("#problem-rows")
    assert "numbered as in your spreadsheet" in table.caption.get_text()
    listed = [
        (tr.th.get_text(strip=True), tr.td.get_text(" ", strip=True))
        for tr in table.select("tbody tr")
    ]
    assert listed == [
        ("Row 4", "What they said is empty"),
        ("Row 6", "Who said it ('Governor') is not one we know"),
        ("Row 8", "Kind of feedback is empty"),
    ]
    assert counts() == (0, 1)
    button = soup(check).find("button", string=lambda s: s and "Save 3 rows and skip 3" in s)
    response = client.post(button.find_parent("form")["action"])
    assert saved_texts() == ["Good row one", "Good row two", "Good row three"]
    assert counts() == (3, 0)
    page = client.get(response.headers["Location"])
    assert "Saved 3 items. 3 rows with problems skipped." in text_of(page)
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "feedback.imported")
    ).one()
    assert entry.details == {"count": 3, "skipped": 3, "source": "csv"}


def test_going_back_to_fix_the_file_saves_nothing(client, auth, world, event):
    auth.login(world.volunteer)
    check = import_all(client, event, csv_file(BAD_ROWS))
    button = soup(check).find("button", string=lambda s: s and "Upload a fixed file" in s)
    form = button.find_parent("form")
    data = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    response = client.post(form["action"], data=data)
    assert response.headers["Location"] == f"/capture/events/{event.id}/import"
    assert counts() == (0, 0)


def test_a_file_where_nothing_can_be_saved_offers_no_save(client, auth, world, event):
    auth.login(world.volunteer)
    rows = [["What they said", "Who said it", "Kind of feedback"], ["", "Parent", "bad"]]
    check = import_all(client, event, csv_file(rows))
    assert "None of the rows can be saved" in text_of(check)
    assert soup(check).find("button", string=lambda s: s and "Save" in s) is None
    stash = the_stash()
    response = client.post(f"/capture/events/{event.id}/import/{stash.id}/save")
    assert response.status_code == 302
    assert counts() == (0, 1)


def test_a_wrong_header_maps_nothing_to_the_text_and_says_so(client, auth, world, event):
    auth.login(world.volunteer)
    rows = [["Column 1", "Column 2"], ["The wait is too long", "Parent"]]
    response = upload(client, event, csv_file(rows))
    columns_url = response.headers["Location"]
    page = soup(client.get(columns_url))
    assert columns_form(page)["text"] == ""
    answer = client.post(columns_url, data=columns_form(page))
    assert answer.status_code == 200
    assert ("Select the column that has what they said", "#text") in error_summary(answer)
    assert field_error(answer, "text") == "Select the column that has what they said"
    assert counts() == (0, 1)
    assert the_stash().mapping == {}


def test_choosing_one_column_twice_is_an_error(client, auth, world, event):
    auth.login(world.volunteer)
    response = upload(client, event, csv_file(GOOD_ROWS))
    page = soup(client.get(response.headers["Location"]))
    data = dict(columns_form(page), setting="0")
    answer = client.post(response.headers["Location"], data=data)
    assert error_summary(answer) == [
        (
            "Select a different column for setting: that one is already chosen for what they said",
            "#setting",
        )
    ]
    assert selected(soup(answer), "setting") == "0"


def test_a_header_with_no_usable_column_is_refused_at_upload(client, auth, world, event):
    auth.login(world.volunteer)
    response = upload(client, event, csv_file([["ID", "Email", "Name"], ["1", "a@b.c", "A"]]))
    assert response.status_code == 200
    message = field_error(response, "file")
    assert "no column that could hold what people said" in message
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "feedback.csv", "The selected file is empty"),
        (b"What they said,Who said it\r\n", "feedback.csv", bulk.FILE_HEADER_ONLY),
        (b"%PDF-1.7 ...", "feedback.pdf", bulk.FILE_TYPES),
        (b"not a spreadsheet", "feedback.xlsx", bulk.FILE_NOT_XLSX),
    ],
)
def test_files_that_cannot_be_imported_give_a_clear_error(
    client, auth, world, event, data, filename, message
):
    auth.login(world.volunteer)
    response = upload(client, event, data, filename)
    assert response.status_code == 200
    assert error_summary(response) == [(message, "#file")]
    assert field_error(response, "file") == message
    assert soup(response).title.get_text().startswith("Error: ")
    assert counts() == (0, 0)


def test_a_non_utf8_csv_is_read_as_windows_text(client, auth, world, event):
    auth.login(world.volunteer)
    said = "A £40 taxi \u2013 we couldn\u2019t"
    data = f"What they said,Who said it,Kind of feedback\n{said},Parent,bad\n"
    check = import_all(client, event, data.encode("cp1252"))
    button = soup(check).find("button", string=lambda s: s and "Save all 1 row" in s)
    client.post(button.find_parent("form")["action"])
    assert saved_texts() == [said]


def test_a_garbled_file_is_refused(client, auth, world, event):
    auth.login(world.volunteer)
    response = upload(client, event, b"What they said\n\x00\x01\x02\x81\x8d\n")
    assert field_error(response, "file") == bulk.FILE_UNREADABLE
    assert counts() == (0, 0)


def big_file() -> bytes:
    row = "The wait for an assessment is far too long and nobody tells us anything,Parent,bad\n"
    data = ("What they said,Who said it,Kind of feedback\n" + row * 70_000).encode()
    assert len(data) > 5 * 1024 * 1024
    return data


def test_a_file_over_5mb_gets_a_clear_error_not_a_413_page(client, auth, world, event):
    auth.login(world.volunteer)
    response = upload(client, event, big_file())
    assert response.status_code == 413
    assert error_summary(response) == [("The selected file must be smaller than 5MB", "#file")]
    assert soup(response).h1.get_text(strip=True) == "Import a spreadsheet"
    assert counts() == (0, 0)


def test_a_file_over_5mb_with_csrf_on_still_gets_the_page(csrf_app, world):
    """With CSRF on, the size is refused while the token is read, before the view runs."""
    client = csrf_app.test_client()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    page = client.get("/sign-in")
    client.post(
        "/sign-in",
        data={
            "email": world.volunteer.email,
            "password": factories.PASSWORD,
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
    )
    page = client.get(f"/capture/events/{event.id}/import")
    token = csrf_token_from(page.get_data(as_text=True))
    response = upload(client, event, big_file(), "big.csv", csrf_token=token)
    assert response.status_code == 413
    assert error_summary(response) == [("The selected file must be smaller than 5MB", "#file")]
    assert counts() == (0, 0)
    # The page's own form still works.
    token = csrf_token_from(response.get_data(as_text=True))
    small = upload(client, event, csv_file(GOOD_ROWS), "small.csv", csrf_token=token)
    assert small.status_code == 302
    assert counts() == (0, 1)


def test_too_big_a_request_elsewhere_is_still_refused(client, auth, world, event):
    auth.login(world.volunteer)
    response = post_multipart(
        client, f"/capture/events/{event.id}/feedback", {"text": "x" * (6 * 1024 * 1024)}
    )
    assert response.status_code == 413
    assert counts() == (0, 0)


def test_a_confirm_posted_twice_saves_each_row_once(client, auth, world, event):
    auth.login(world.volunteer)
    check = import_all(client, event, csv_file(GOOD_ROWS))
    action = (
        soup(check)
        .find("button", string=lambda s: s and "Save all" in s)
        .find_parent("form")["action"]
    )
    first = client.post(action)
    second = client.post(action)
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == f"/capture/events/{event.id}"
    assert len(saved_texts()) == 3
    assert counts() == (3, 0)
    verbs = db.session.scalars(sa.select(AuditEntry.verb)).all()
    assert verbs.count("feedback.imported") == 1


def test_a_confirm_raced_with_itself_saves_each_row_once(client, auth, world, event):
    """Both requests read the stash before either saved: the keys keep the rows single."""
    auth.login(world.volunteer)
    import_all(client, event, csv_file(GOOD_ROWS))
    stash = the_stash()
    ready = [
        (n, d) for n, d in bulk.apply_mapping(stash.rows, stash.mapping) if not isinstance(d, list)
    ]
    prefix = bulk.key_prefix(stash)
    bulk.save_items(event, world.volunteer, ready, key_prefix=prefix, source="csv")
    db.session.commit()
    # The second request, still holding the stash, confirms.
    response = client.post(f"/capture/events/{event.id}/import/{stash.id}/save")
    assert response.status_code == 302
    assert len(saved_texts()) == 3
    assert counts() == (3, 0)


def test_the_columns_and_check_pages_keep_to_their_order(client, auth, world, event):
    auth.login(world.volunteer)
    response = upload(client, event, csv_file(GOOD_ROWS))
    stash = the_stash()
    base = f"/capture/events/{event.id}/import/{stash.id}"
    # Checking before the columns are chosen goes to the columns page.
    assert client.get(f"{base}/check").headers["Location"] == f"{base}/columns"
    assert client.post(f"{base}/save").headers["Location"] == f"{base}/columns"
    page = soup(client.get(response.headers["Location"]))
    client.post(f"{base}/columns", data=columns_form(page))
    # Once chosen, the columns page goes on to the check.
    assert client.get(f"{base}/columns").headers["Location"] == f"{base}/check"
    # A pasted stash's page does not open a file's stash.
    assert client.get(f"/capture/events/{event.id}/paste/{stash.id}").status_code == 404
    assert counts() == (0, 1)


# Who may do this


def test_a_volunteer_is_refused_someone_elses_event(client, auth, world):
    other_event = factories.make_event(world.partnership, created_by=world.coordinator)
    auth.login(world.volunteer)
    for path in ("paste", "import"):
        assert client.get(f"/capture/events/{other_event.id}/{path}").status_code == 403
    assert (
        client.post(f"/capture/events/{other_event.id}/paste", data={"notes": "x"}).status_code
        == 403
    )
    response = upload(client, other_event, csv_file(GOOD_ROWS))
    assert response.status_code == 403
    assert counts() == (0, 0)


def test_a_too_big_file_on_someone_elses_event_is_refused_not_explained(client, auth, world):
    other_event = factories.make_event(world.partnership, created_by=world.coordinator)
    auth.login(world.volunteer)
    response = upload(client, other_event, big_file())
    assert response.status_code == 403
    assert counts() == (0, 0)


def test_someone_elses_upload_is_not_found(client, auth, world, event):
    """A coordinator may manage the volunteer's event, but not open the volunteer's stash."""
    auth.login(world.volunteer)
    upload(client, event, csv_file(GOOD_ROWS))
    pasted = paste(client, event, "One\nTwo")
    file_stash, _ = db.session.scalars(sa.select(CaptureUpload).order_by(CaptureUpload.id)).all()
    auth.logout()
    auth.login(world.coordinator)
    base = f"/capture/events/{event.id}"
    assert client.get(f"{base}/import").status_code == 200
    assert client.get(f"{base}/import/{file_stash.id}/columns").status_code == 404
    assert client.post(f"{base}/import/{file_stash.id}/columns", data={}).status_code == 404
    assert client.get(f"{base}/import/{file_stash.id}/check").status_code == 404
    assert client.post(f"{base}/import/{file_stash.id}/save").status_code == 404
    assert client.post(f"{base}/uploads/{file_stash.id}/cancel").status_code == 404
    assert client.get(pasted).status_code == 404
    assert client.post(pasted, data={"save": "Save"}).status_code == 404
    assert counts() == (0, 2)


def test_an_upload_from_another_event_or_partnership_is_not_found(client, auth, world, event):
    auth.login(world.volunteer)
    upload(client, event, csv_file(GOOD_ROWS))
    stash = the_stash()
    second = factories.make_event(world.partnership, created_by=world.volunteer)
    assert client.get(f"/capture/events/{second.id}/import/{stash.id}/columns").status_code == 404
    other = factories.make_world()
    other_event = factories.make_event(other.partnership, created_by=other.volunteer)
    auth.logout()
    auth.login(other.volunteer)
    assert (
        client.get(f"/capture/events/{other_event.id}/import/{stash.id}/columns").status_code == 404
    )
    assert client.get(f"/capture/events/{event.id}/import").status_code == 404


@pytest.mark.parametrize("role", ["board_viewer", "safeguarding_lead"])
def test_people_who_do_not_log_feedback_are_refused(client, auth, world, event, role):
    auth.login(world.volunteer)
    upload(client, event, csv_file(GOOD_ROWS))
    stash = the_stash()
    auth.logout()
    auth.login(getattr(world, role))
    base = f"/capture/events/{event.id}"
    for path in ("paste", "import", f"import/{stash.id}/columns", f"import/{stash.id}/check"):
        assert client.get(f"{base}/{path}").status_code == 403, path
    assert client.post(f"{base}/import/{stash.id}/save").status_code == 403
    assert client.post(f"{base}/uploads/{stash.id}/cancel").status_code == 403
    assert client.get("/capture/import-template.csv").status_code == 403
    response = upload(client, event, big_file())
    assert response.status_code == 403
    assert counts() == (0, 1)


def test_signed_out_people_are_sent_to_sign_in(client, world, event):
    response = client.get(f"/capture/events/{event.id}/import")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]
    response = upload(client, event, big_file())
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_notes_too_big_to_send_get_a_clear_error(client, auth, world, event):
    auth.login(world.volunteer)
    response = client.post(
        f"/capture/events/{event.id}/paste", data={"notes": "x" * (6 * 1024 * 1024)}
    )
    assert response.status_code == 413
    assert error_summary(response) == [
        ("Your notes are too long to add at once. Paste them in smaller parts", "#notes")
    ]
    assert counts() == (0, 0)


def test_notes_longer_than_the_limit_are_refused_and_kept(client, auth, world, event):
    auth.login(world.volunteer)
    notes = "y" * (bulk.MAX_PASTE_LENGTH + 1)
    response = client.post(f"/capture/events/{event.id}/paste", data={"notes": notes})
    assert response.status_code == 200
    assert field_error(response, "notes") == (
        "Your notes must be 100,000 characters or fewer. Paste them in smaller parts"
    )
    assert soup(response).find(id="notes").get_text().strip() == notes
    assert counts() == (0, 0)


def test_personal_columns_cannot_be_chosen(client, auth, world, event):
    auth.login(world.volunteer)
    response = upload(client, event, csv_file(MS_FORMS_ROWS))
    columns_url = response.headers["Location"]
    page = soup(client.get(columns_url))
    offered = [o.get_text(strip=True) for o in page.select("select[name=text] option")]
    assert offered == [
        "Not in this file",
        "Are you a parent, carer or young person? (column F)",
        "What would you like to tell us? (column G)",
        "Is this about something working well, something that needs to change, or an idea? "
        "(column H)",
        "May we quote you anonymously? (column I)",
    ]
    # Sent anyway (an old page, or by hand): refused, and nothing is kept.
    data = dict(columns_form(page), text="3")
    answer = client.post(columns_url, data=data)
    assert answer.status_code == 200
    assert error_summary(answer) == [("Select a column in the list for what they said", "#text")]
    assert the_stash().mapping == {}
    assert counts() == (0, 1)
