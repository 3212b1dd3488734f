"""Adding many items at once: notes pasted in, or a spreadsheet or Forms export uploaded.

Every step is a plain form post, so it works without JavaScript. Nothing becomes feedback until
the person confirms; until then the items wait in a CaptureUpload only they can open.
"""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from app.capture import bp
from app.capture.bulk_forms import ENTER_NOTES, ColumnsForm, PasteForm, PreviewForm, UploadForm
from app.capture.routes import managed_event_or_abort
from app.config import BASE_DIR
from app.extensions import db, login_manager
from app.models import CaptureUpload, Event
from app.services import bulk_import as bulk
from app.services import capture as svc
from app.services.permissions import can, can_manage_event, can_use_upload, requires
from app.services.scoping import get_scoped

TEMPLATE_FOLDER = BASE_DIR / "examples" / "capture"
TEMPLATE_NAME = "feedback-template.csv"
# Enough to show someone what is wrong; the count says how many more there are.
PROBLEMS_SHOWN = 200
READY_SHOWN = 5
# A browser still sending a too-big file may not read our answer until its upload is done.
_DRAIN_LIMIT = 20 * 1024 * 1024


def _upload_or_404(event: Event, upload_id: int, *, pasted: bool | None) -> CaptureUpload:
    """The person's own stash for this event; anyone else's, or a gone one, is not found.

    `pasted` says which kind of page is asking (None: either), so a file's stash is never
    opened as pasted notes or the other way round.
    """
    upload = get_scoped(CaptureUpload, upload_id)
    if (
        upload is None
        or upload.event_id != event.id
        or not can_use_upload(current_user, upload)
        or (pasted is not None and pasted != (upload.source == bulk.SOURCE_PASTE))
    ):
        abort(404)
    return upload


def _saved_message(created: int, event: Event, skipped: int = 0, removed: int = 0) -> str:
    count = svc.item_count(event)
    parts = [f"Saved {created} item{'' if created == 1 else 's'}."]
    if skipped:
        parts.append(f"{skipped} row{'' if skipped == 1 else 's'} with problems skipped.")
    if removed:
        parts.append(f"{removed} removed item{'' if removed == 1 else 's'} not saved.")
    parts.append(f"This event has {count} item{'' if count == 1 else 's'}.")
    return " ".join(parts)


def _repeat_or_404(event: Event, upload_id: int) -> Response:
    """A confirm that arrives after the first one saved and cleared the stash."""
    saved = bulk.already_saved(event, current_user, upload_id)
    if not saved:
        abort(404)
    flash(_saved_message(saved, event), "success")
    return redirect(url_for("capture.event", event_id=event.id))


# Pasting notes


@bp.route("/events/<int:event_id>/paste", methods=["GET", "POST"])
@requires("capture")
def bulk_paste(event_id: int) -> str | Response:
    event = managed_event_or_abort(event_id)
    form = PasteForm()
    if form.validate_on_submit():
        items = bulk.split_pasted(form.notes.data or "", form.split.data or "auto")
        try:
            if not items:
                # Only bullet marks, for example: nothing anyone said.
                raise svc.CaptureError("notes", ENTER_NOTES)
            upload = bulk.stash_pasted(
                event, current_user, items, form.respondent.data, form.sentiment.data
            )
        except svc.CaptureError as error:
            db.session.rollback()
            form.notes.errors = [error.message]
        else:
            db.session.commit()
            return redirect(url_for("capture.bulk_preview", event_id=event.id, upload_id=upload.id))
    return render_template("capture/bulk_paste.html", event=event, form=form)


def _preview_form(upload: CaptureUpload) -> PreviewForm:
    if request.method == "POST":
        form = PreviewForm()
    else:
        form = PreviewForm(
            data={
                "items": [
                    {"text": text, "respondent": respondent, "sentiment": sentiment}
                    for text, respondent, sentiment in upload.rows
                ]
            }
        )
    count = len(upload.rows)
    form.save.label.text = f"Save all {count} item{'' if count == 1 else 's'}"
    return form


@bp.route("/events/<int:event_id>/paste/<int:upload_id>", methods=["GET", "POST"])
@requires("capture")
def bulk_preview(event_id: int, upload_id: int) -> str | Response:
    event = managed_event_or_abort(event_id)
    if request.method == "POST" and get_scoped(CaptureUpload, upload_id) is None:
        return _repeat_or_404(event, upload_id)
    upload = _upload_or_404(event, upload_id, pasted=True)
    form = _preview_form(upload)
    if request.method == "POST" and form.validate():
        if len(form.items.entries) != len(upload.rows):
            # The list was changed in another tab since this page was loaded.
            flash("The list of items changed since you opened this page. Check it again.")
            return redirect(url_for("capture.bulk_preview", event_id=event.id, upload_id=upload.id))
        if form.update.data:
            removed = len(upload.rows) - len(form.kept())
            bulk.update_pasted(upload, form.item_values())
            if not upload.rows:
                bulk.discard_upload(upload.id)
                db.session.commit()
                flash("You removed every item. Nothing was saved.")
                return redirect(url_for("capture.event", event_id=event.id))
            db.session.commit()
            if removed:
                flash(f"Removed {removed} item{'' if removed == 1 else 's'}.", "success")
            return redirect(url_for("capture.bulk_preview", event_id=event.id, upload_id=upload.id))
        ready = form.check_items()
        if not form.errors:
            removed = len(upload.rows) - len(ready)
            created = bulk.save_upload(upload, event, current_user, ready)
            db.session.commit()
            flash(_saved_message(created, event, removed=removed), "success")
            return redirect(url_for("capture.event", event_id=event.id))
    return render_template("capture/bulk_preview.html", event=event, upload=upload, form=form)


# Importing a file


@bp.route("/events/<int:event_id>/import", methods=["GET", "POST"])
@requires("capture")
def bulk_import(event_id: int) -> str | Response:
    event = managed_event_or_abort(event_id)
    form = UploadForm()
    if form.validate_on_submit():
        upload_file = form.file.data
        filename = upload_file.filename or ""
        try:
            # One byte more than the limit is enough to know the file is too big.
            data = upload_file.read(_max_bytes() + 1)
            if len(data) > _max_bytes():
                raise bulk.ImportFileError(bulk.FILE_TOO_BIG)
            columns, rows = bulk.read_table(filename, data)
        except bulk.ImportFileError as error:
            form.file.errors = [error.message]
        else:
            upload = bulk.stash_file(event, current_user, filename, columns, rows)
            db.session.commit()
            return redirect(url_for("capture.bulk_columns", event_id=event.id, upload_id=upload.id))
    return render_template("capture/bulk_import.html", event=event, form=form)


def _max_bytes() -> int:
    return int(current_app.config.get("MAX_CONTENT_LENGTH") or 5 * 1024 * 1024)


@bp.route("/events/<int:event_id>/import/<int:upload_id>/columns", methods=["GET", "POST"])
@requires("capture")
def bulk_columns(event_id: int, upload_id: int) -> str | Response:
    event = managed_event_or_abort(event_id)
    upload = _upload_or_404(event, upload_id, pasted=False)
    if bulk.is_mapped(upload):
        return redirect(url_for("capture.bulk_check", event_id=event.id, upload_id=upload.id))
    if request.method == "POST":
        form = ColumnsForm()
    else:
        guessed = bulk.guess_mapping(upload.columns)
        form = ColumnsForm(data={name: str(i) for name, i in guessed.items()})
    form.set_columns(upload.columns)
    if form.validate_on_submit():
        bulk.confirm_mapping(upload, form.mapping(), form.defaults())
        db.session.commit()
        return redirect(url_for("capture.bulk_check", event_id=event.id, upload_id=upload.id))
    return render_template(
        "capture/bulk_columns.html",
        event=event,
        upload=upload,
        form=form,
        examples=_examples(upload),
    )


def _examples(upload: CaptureUpload) -> list[dict[str, Any]]:
    """Each column with its first value, so the person can tell the columns apart."""
    examples = []
    for index, name in enumerate(upload.columns):
        personal = bulk.is_personal_column(name)
        value = ""
        if not personal:
            value = next((row[index] for row in upload.rows if index < len(row) and row[index]), "")
        examples.append(
            {
                "letter": bulk.column_letter(index),
                "name": name,
                "example": value[:80] + ("…" if len(value) > 80 else ""),
                "personal": personal,
            }
        )
    return examples


def _checked(upload: CaptureUpload) -> tuple[list[Any], list[Any]]:
    outcomes = bulk.apply_mapping(upload.rows, upload.mapping)
    ready = [(n, d) for n, d in outcomes if isinstance(d, svc.ItemDetails)]
    problems = [(n, d) for n, d in outcomes if not isinstance(d, svc.ItemDetails)]
    return ready, problems


@bp.route("/events/<int:event_id>/import/<int:upload_id>/check")
@requires("capture")
def bulk_check(event_id: int, upload_id: int) -> str | Response:
    event = managed_event_or_abort(event_id)
    upload = _upload_or_404(event, upload_id, pasted=False)
    if not bulk.is_mapped(upload):
        return redirect(url_for("capture.bulk_columns", event_id=event.id, upload_id=upload.id))
    ready, problems = _checked(upload)
    return render_template(
        "capture/bulk_check.html",
        event=event,
        upload=upload,
        ready=ready,
        ready_shown=ready[:READY_SHOWN],
        problems=problems,
        problems_shown=problems[:PROBLEMS_SHOWN],
        blank=len(upload.rows) - len(ready) - len(problems),
        fields=bulk.FIELDS,
    )


@bp.route("/events/<int:event_id>/import/<int:upload_id>/save", methods=["POST"])
@requires("capture")
def bulk_save(event_id: int, upload_id: int) -> Response:
    event = managed_event_or_abort(event_id)
    if get_scoped(CaptureUpload, upload_id) is None:
        return _repeat_or_404(event, upload_id)
    upload = _upload_or_404(event, upload_id, pasted=False)
    if not bulk.is_mapped(upload):
        return redirect(url_for("capture.bulk_columns", event_id=event.id, upload_id=upload.id))
    ready, problems = _checked(upload)
    if not ready:
        flash("None of the rows can be saved. Fix the file and upload it again.")
        return redirect(url_for("capture.bulk_check", event_id=event.id, upload_id=upload.id))
    created = bulk.save_upload(upload, event, current_user, ready, skipped=len(problems))
    db.session.commit()
    flash(_saved_message(created, event, skipped=len(problems)), "success")
    return redirect(url_for("capture.event", event_id=event.id))


@bp.route("/events/<int:event_id>/uploads/<int:upload_id>/cancel", methods=["POST"])
@requires("capture")
def bulk_cancel(event_id: int, upload_id: int) -> Response:
    event = managed_event_or_abort(event_id)
    upload = get_scoped(CaptureUpload, upload_id)
    if upload is None:
        # Cancelled or saved already (a second click): nothing left to throw away.
        return redirect(url_for("capture.event", event_id=event.id))
    upload = _upload_or_404(event, upload_id, pasted=None)
    bulk.discard_upload(upload.id)
    db.session.commit()
    if request.form.get("then") == "upload":
        return redirect(url_for("capture.bulk_import", event_id=event.id))
    flash("Nothing was saved.")
    return redirect(url_for("capture.event", event_id=event.id))


@bp.route("/import-template.csv")
@requires("capture")
def bulk_template() -> Response:
    # A few hundred bytes, read whole: no file handle is left for the server to close.
    data = (TEMPLATE_FOLDER / TEMPLATE_NAME).read_bytes()
    return Response(
        data,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={TEMPLATE_NAME}"},
    )


# A file or notes bigger than the request limit


_TOO_BIG_PAGES = {"capture.bulk_import", "capture.bulk_paste", "capture.bulk_preview"}


def _drain_request_body() -> None:
    """Read what the browser is still sending, so it sees our page rather than a reset.

    Only when the request was refused on its declared length, before anything was read:
    reading past the end of a partly read body would wait for bytes that never come.
    """
    length = request.content_length or 0
    if not _max_bytes() < length <= _DRAIN_LIMIT:
        return
    stream = request.environ.get("wsgi.input")
    if stream is None:
        return
    remaining = length
    try:
        while remaining > 0:
            chunk = stream.read(min(65_536, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
    except OSError:
        return


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> Any:
    """The request limit is checked before any view runs (even before the CSRF check), so the
    permission checks a view would make are made here before the page is shown."""
    if request.endpoint not in _TOO_BIG_PAGES:
        return error
    _drain_request_body()
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not can(current_user, "capture"):
        return render_template("errors/403.html"), 403
    view_args = request.view_args or {}
    event = get_scoped(Event, int(view_args.get("event_id", 0)))
    if event is None:
        return render_template("errors/404.html"), 404
    if not can_manage_event(current_user, event):
        return render_template("errors/403.html"), 403
    if request.endpoint == "capture.bulk_import":
        form: Any = UploadForm(formdata=None)
        form.file.errors = [bulk.FILE_TOO_BIG]
        return render_template("capture/bulk_import.html", event=event, form=form), 413
    if request.endpoint == "capture.bulk_paste":
        form = PasteForm(formdata=None)
        form.notes.errors = ["Your notes are too long to add at once. Paste them in smaller parts"]
        return render_template("capture/bulk_paste.html", event=event, form=form), 413
    flash("Your changes were too long to send at once. Nothing was saved.")
    return redirect(request.path)
