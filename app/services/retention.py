"""Retention: contact details and people's own words are kept no longer than promised.

`flask retention purge` runs this once a day. What goes, and what stays:

Contact details (FeedbackContact rows) go once the contributor has been told what happened
(told_at is set) or once their delete_after date has passed, whichever comes first.

The words of a closed item go once the partnership's retention period has passed: the day after
received_on + raw_text_retention_months (default 24). An item is closed when its own status is
"closed", or when its theme's work is finished: the theme is closed, or it has answers and every
one of them is done or not possible. "Answered" alone is not closed: a "We will" is a promise
still being kept, and the sub-group may need the family's own words until it is.

With the raw words go:
- the reworded text (redacted_text). Redaction takes out what the checker finds, not everything
  that could pick out a family in a small area (a rare condition, a named club), so it is no
  safer to keep. It stays only where it was used publicly: the contributor agreed to be quoted
  and the item's theme is published, so the words are on the public pages already and taking
  them away would change what the public reads;
- the setting, which is free text and often names a school.

What stays: the item itself, with its dates, event, kind of respondent, sentiment, need types,
priorities, outcomes, sub-group, theme and consent record, so that every count on the dashboards
and the public pages is the same after a purge; and every published theme, action and update.

Safeguarding: an item flagged as a safeguarding concern is a safeguarding record. This command
never deletes its words, note or decisions: safeguarding records are kept for much longer, under
the partnership's safeguarding records policy, and deleting one is the safeguarding lead's
decision, not a timer's. Its contact details are kept while no decision has been recorded (the
lead may need to reach the family); once one is, they follow the usual rule.

Every deletion writes an audit entry with counts only, never what was deleted.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Action, Feedback, FeedbackContact, Partnership, SafeguardingDecision, Theme
from app.models.base import utcnow
from app.models.vocab import ActionStatus, FeedbackStatus, Publication, ThemeStatus
from app.services import audit, capture

# What raw_text holds once the words are gone: empty, so that nothing can mistake it for words.
DELETED_TEXT = ""

CONTACTS_DELETED = "retention.contacts_deleted"
RAW_TEXT_DELETED = "retention.raw_text_deleted"

# Enough ids per statement for any database's limit on bound parameters.
_CHUNK = 500


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day where it is shorter (31 Aug + 6 =
    28 or 29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def raw_text_expires_on(partnership: Partnership, received_on: date) -> date:
    """The last day a closed item's words are kept; they go the day after."""
    return add_months(received_on, partnership.raw_text_retention_months)


@dataclass
class PartnershipPurge:
    """What the purge did, or would do, in one partnership: counts and the rows behind them."""

    partnership: Partnership
    today: date
    told_contact_ids: list[int] = field(default_factory=list)
    expired_contact_ids: list[int] = field(default_factory=list)
    # Contacts due to go but kept: their item is flagged and waiting for a decision.
    contacts_kept_for_safeguarding: int = 0
    # Closed items past their period whose words go, and those of them whose reworded text
    # goes too (the others were quoted on a public page).
    text_item_ids: list[int] = field(default_factory=list)
    reworded_item_ids: list[int] = field(default_factory=list)
    # Closed items past their period kept whole as safeguarding records.
    items_kept_for_safeguarding: int = 0

    @property
    def contact_ids(self) -> list[int]:
        return self.told_contact_ids + self.expired_contact_ids

    @property
    def reworded_kept(self) -> int:
        return len(self.text_item_ids) - len(self.reworded_item_ids)

    @property
    def anything(self) -> bool:
        return bool(self.contact_ids or self.text_item_ids)

    def lines(self, dry_run: bool) -> list[str]:
        """What happened, in words, for the command's output."""
        did = "would delete" if dry_run else "deleted"
        p = self.partnership
        out = [f"{p.name} ({p.slug}):"]
        contacts = len(self.contact_ids)
        out.append(
            f"  Contact details: {did} {contacts} "
            f"({len(self.told_contact_ids)} told what happened, "
            f"{len(self.expired_contact_ids)} past their deletion date)"
            if contacts
            else "  Contact details: nothing due"
        )
        months = p.raw_text_retention_months
        items = len(self.text_item_ids)
        if items:
            kept = f"; reworded text kept for {self.reworded_kept} quoted on a public page"
            out.append(
                f"  Words of closed items older than {months} months: {did} from {items} "
                f"{_items(items)} (reworded text from {len(self.reworded_item_ids)}"
                f"{kept if self.reworded_kept else ''})"
            )
        else:
            out.append(f"  Words of closed items older than {months} months: nothing due")
        kept_contacts, kept_items = (
            self.contacts_kept_for_safeguarding,
            self.items_kept_for_safeguarding,
        )
        if kept_contacts or kept_items:
            out.append(
                f"  Kept as safeguarding records: {kept_items} {_items(kept_items)}, "
                f"{kept_contacts} contact {'record' if kept_contacts == 1 else 'records'}"
            )
        return out


def _items(n: int) -> str:
    return "item" if n == 1 else "items"


@dataclass
class PurgeResult:
    today: date
    dry_run: bool
    partnerships: list[PartnershipPurge]

    def lines(self) -> list[str]:
        when = f"{self.today.day} {self.today:%B %Y}"
        head = f"Retention purge for {when}"
        out = [head + (" (dry run: nothing was changed)" if self.dry_run else "")]
        for result in self.partnerships:
            out += result.lines(self.dry_run)
        if not self.partnerships:
            out.append("There are no partnerships.")
        return out


def _awaiting_safeguarding_decision() -> sa.ColumnElement[bool]:
    decided = sa.exists().where(SafeguardingDecision.feedback_id == Feedback.id)
    return sa.and_(Feedback.safeguarding_flag.is_(True), ~decided)


def _theme_work_finished() -> sa.ColumnElement[bool]:
    unfinished = (ActionStatus.PLANNED.value, ActionStatus.IN_PROGRESS.value)
    return sa.or_(
        Theme.status == ThemeStatus.CLOSED.value,
        sa.and_(Theme.actions.any(), ~Theme.actions.any(Action.status.in_(unfinished))),
    )


def _closed() -> sa.ColumnElement[bool]:
    return sa.or_(
        Feedback.status == FeedbackStatus.CLOSED.value,
        Feedback.theme.has(_theme_work_finished()),
    )


def plan(partnership: Partnership, today: date) -> PartnershipPurge:
    """Find what is due in one partnership; changes nothing."""
    result = PartnershipPurge(partnership, today)
    pid = partnership.id

    due = sa.or_(FeedbackContact.told_at.is_not(None), FeedbackContact.delete_after < today)
    contacts = db.session.execute(
        sa.select(
            FeedbackContact.id,
            FeedbackContact.told_at.is_not(None),
            _awaiting_safeguarding_decision(),
        )
        .join(Feedback, Feedback.id == FeedbackContact.feedback_id)
        .where(FeedbackContact.partnership_id == pid, Feedback.partnership_id == pid, due)
        .order_by(FeedbackContact.id)
    )
    for contact_id, told, waiting in contacts:
        if waiting:
            result.contacts_kept_for_safeguarding += 1
        elif told:
            result.told_contact_ids.append(contact_id)
        else:
            result.expired_contact_ids.append(contact_id)

    months = partnership.raw_text_retention_months
    # A bound a few days wide of the exact rule, which add_months then applies row by row:
    # the end of a month moves the expiry by up to three days either way.
    bound = add_months(today, -months) + timedelta(days=4)
    published_theme = Feedback.theme.has(Theme.publication == Publication.PUBLISHED.value)
    quoted = sa.and_(
        Feedback.may_quote.is_(True), Feedback.redacted_text.is_not(None), published_theme
    )
    items = db.session.execute(
        sa.select(
            Feedback.id,
            Feedback.received_on,
            Feedback.safeguarding_flag,
            Feedback.redacted_text.is_not(None),
            quoted,
        )
        .where(
            Feedback.partnership_id == pid,
            Feedback.raw_text_deleted_at.is_(None),
            Feedback.received_on < bound,
            _closed(),
        )
        .order_by(Feedback.id)
    )
    for item_id, received_on, flagged, has_reworded, is_quoted in items:
        if not raw_text_expires_on(partnership, received_on) < today:
            continue
        if flagged:
            result.items_kept_for_safeguarding += 1
            continue
        result.text_item_ids.append(item_id)
        if has_reworded and not is_quoted:
            result.reworded_item_ids.append(item_id)
    return result


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def apply(result: PartnershipPurge, now: datetime) -> None:
    """Delete what plan() found, and audit it with counts only. Adds to the session."""
    partnership = result.partnership
    for ids in _chunks(result.contact_ids):
        db.session.execute(
            sa.delete(FeedbackContact)
            .where(FeedbackContact.partnership_id == partnership.id, FeedbackContact.id.in_(ids))
            .execution_options(synchronize_session=False)
        )
    if result.contact_ids:
        audit.record(
            CONTACTS_DELETED,
            partnership,
            user=None,
            partnership=partnership,
            contacts=len(result.contact_ids),
            told=len(result.told_contact_ids),
            expired=len(result.expired_contact_ids),
        )

    reworded = set(result.reworded_item_ids)
    keep_reworded = [i for i in result.text_item_ids if i not in reworded]
    for ids, values in (
        (result.reworded_item_ids, {"redacted_text": None}),
        (keep_reworded, {}),
    ):
        for chunk in _chunks(ids):
            db.session.execute(
                sa.update(Feedback)
                .where(Feedback.partnership_id == partnership.id, Feedback.id.in_(chunk))
                .values(raw_text=DELETED_TEXT, raw_text_deleted_at=now, setting=None, **values)
                .execution_options(synchronize_session=False)
            )
    if result.text_item_ids:
        audit.record(
            RAW_TEXT_DELETED,
            partnership,
            user=None,
            partnership=partnership,
            items=len(result.text_item_ids),
            reworded_deleted=len(result.reworded_item_ids),
            reworded_kept=result.reworded_kept,
            months=partnership.raw_text_retention_months,
        )


def purge(
    *,
    today: date | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
    partnerships: Sequence[Partnership] | None = None,
) -> PurgeResult:
    """Run the retention rules over every partnership (or those given).

    Adds to the session and never commits: the command commits, or rolls back a dry run.
    """
    now = now or utcnow()
    # Dates in the service (received_on, delete_after) are days on a clock in England.
    today = today or capture.today()
    if partnerships is None:
        partnerships = db.session.scalars(sa.select(Partnership).order_by(Partnership.id)).all()
    results = [plan(p, today) for p in partnerships]
    if not dry_run:
        for result in results:
            apply(result, now)
        # Bulk statements skip the identity map: reload anything the caller still holds.
        db.session.expire_all()
    return PurgeResult(today=today, dry_run=dry_run, partnerships=results)
