"""`flask safeguarding escalate`: for cron, every 15 minutes.

    */15 * * * *  cd /srv/ysyd && .venv/bin/flask --app wsgi safeguarding escalate

It prints what it did, so cron's mail to the operator is the record of each escalation; it
exits with status 1 when an alert had nobody at all to go to, so that is never missed.
"""

from __future__ import annotations

import sys
from datetime import datetime

import click
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.base import utcnow

safeguarding_cli = AppGroup("safeguarding", help="Safeguarding alerts.")


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


@safeguarding_cli.command("escalate")
def escalate() -> None:
    """Send again every safeguarding alert nobody opened in time, and escalate it to the
    partnership's safeguarding contact. Safe to run as often as you like."""
    from app.services.safeguarding import NoBaseUrl, escalate_unopened

    now = utcnow()
    try:
        done = escalate_unopened(now=now)
        db.session.commit()
    except NoBaseUrl as exc:
        db.session.rollback()
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except IntegrityError:
        # Two runs at once: the other wrote the same messages first (their references are
        # unique), so it escalated these items and this run changes nothing.
        db.session.rollback()
        click.echo("Another run is escalating the same alerts; nothing more to do.")
        return
    if not done:
        click.echo(f"{_when(now)}: no unopened safeguarding alerts are due for escalation.")
        return
    stranded = False
    for escalation in done:
        where = f"Item {escalation.item_id} ({escalation.partnership.name})"
        if not escalation.sent:
            stranded = True
            click.echo(
                f"{where}: NOT escalated: the partnership has no active safeguarding lead and "
                "no safeguarding contact, so there is nobody to send it to. Add a safeguarding "
                "lead, or set the safeguarding contact, now.",
                err=True,
            )
            continue
        leads = f"{escalation.leads} safeguarding lead{'' if escalation.leads == 1 else 's'}"
        unopened = f"unopened after {escalation.hours} hours"
        if escalation.contact:
            click.echo(
                f"{where}: {unopened}; sent again to {leads} and escalated to the "
                f"safeguarding contact {escalation.contact}."
            )
        else:
            click.echo(
                f"{where}: {unopened}; sent again to {leads}. The partnership has no "
                "safeguarding contact to escalate to: set one in its settings."
            )
    if stranded:
        sys.exit(1)
