"""The demo: a Stockport partnership that looks and behaves like a real one.

`flask --app wsgi demo load` calls load_demo(). It imports the project's own example strategy
file, then adds one account per role, the autumn 2026 events, about sixty things people said,
and themes in every state with their answers and progress. The content lives in YAML files in
app/demo_data/, not here.

Loading is idempotent: every row is matched on a natural key (e-mail, event name and date,
feedback idempotency key, theme slug) and left alone if it exists, so loading twice changes
nothing and never undoes what someone did while trying the demo. Nothing is committed here: the
CLI commits, so a failed load leaves no half-loaded demo behind.

Where the real services would set "now" (published_at, triaged_at, audit times), the demo sets
realistic autumn 2026 dates instead, writing the same fields and audit entries they write.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from flask import current_app

from app.config import BASE_DIR
from app.extensions import db
from app.models import (
    Action,
    Event,
    Feedback,
    FeedbackContact,
    Outcome,
    Partnership,
    Priority,
    ProgressUpdate,
    Strategy,
    SubGroup,
    Theme,
    User,
)
from app.models.base import utcnow
from app.models.vocab import (
    ActionKind,
    ActionStatus,
    AgePhase,
    Channel,
    EventKind,
    FeedbackStatus,
    NeedType,
    Publication,
    Respondent,
    Role,
    Sentiment,
    ThemeStatus,
)
from app.services import audit
from app.services.strategy_io import (
    ImportResult,
    StrategyFileError,
    import_strategy_file,
    parse_strategy_text,
)
from app.services.users import UserError, create_user

DATA_DIR = Path(__file__).resolve().parent.parent / "demo_data"


class DemoError(Exception):
    """The demo cannot be loaded: its files are wrong, or the database is for real use."""


# ---------------------------------------------------------------------------------------------
# The result


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    name: str


@dataclass
class DemoResult:
    partnership: Partnership
    strategy: Strategy
    strategy_import: ImportResult
    password: str
    accounts: list[DemoAccount]
    created: Counter[str] = field(default_factory=Counter)
    families_links: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(self.created.values()) or self.strategy_import.changed

    def summary(self) -> str:
        """What the CLI prints: what was added, and the table of demo sign-ins."""
        lines = [f"Demo partnership: {self.partnership.name} ({self.partnership.slug})"]
        if self.strategy_import.created or self.strategy_import.changed:
            lines.append(self.strategy_import.summary())
        else:
            lines.append(f"Strategy: {self.strategy.title}, already up to date.")
        if any(self.created.values()):
            parts = [
                _plural(self.created[key], one, many)
                for key, one, many in _COUNTED
                if self.created[key]
            ]
            lines.append("Added: " + ", ".join(parts) + ".")
        else:
            lines.append("Nothing added: the demo was already loaded.")
        lines += [
            "",
            "Demo sign-ins (at /sign-in). Every account has the password: " + self.password,
            "",
        ]
        role_width = max(len("Role"), *(len(a.role) for a in self.accounts))
        email_width = max(len("Email"), *(len(a.email) for a in self.accounts))
        lines.append(f"  {'Role':<{role_width}}  {'Email':<{email_width}}  Name")
        lines.append(f"  {'-' * role_width}  {'-' * email_width}  {'-' * 20}")
        for a in self.accounts:
            lines.append(f"  {a.role:<{role_width}}  {a.email:<{email_width}}  {a.name}")
        for token in self.families_links:
            lines += [
                "",
                f"Families' own form (no sign-in): /say/{token}",
                f"The young people's version: /say/{token}/young",
            ]
        return "\n".join(lines)


_COUNTED = (
    ("users", "user", "users"),
    ("events", "event", "events"),
    ("feedback", "feedback item", "feedback items"),
    ("themes", "theme", "themes"),
    ("actions", "action", "actions"),
    ("updates", "progress update", "progress updates"),
)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


# ---------------------------------------------------------------------------------------------
# Reading and checking the files: every problem is found before anything touches the database.


def _read_yaml(data_dir: Path, name: str) -> dict[str, Any]:
    path = data_dir / name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DemoError(f"Cannot read the demo file {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise DemoError(f"The demo file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise DemoError(f"The demo file {path} should hold a mapping of keys to values")
    return data


class _Checker:
    """Collects every problem in the demo files, each named by file and item."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def keys(self, where: str, row: Any, required: set[str], optional: set[str]) -> bool:
        if not isinstance(row, dict):
            self.add(where, "should be a mapping")
            return False
        for key in sorted(required - row.keys()):
            self.add(where, f"'{key}' is missing")
        for key in sorted(row.keys() - required - optional):
            self.add(where, f"unknown key '{key}'")
        return required <= row.keys()

    def vocab(self, where: str, value: Any, allowed: type[Any], key: str) -> None:
        if value is not None and value not in allowed._value2member_map_:
            known = sorted(allowed._value2member_map_)
            self.add(where, f"'{key}' is {value!r}, not one of {known}")

    def one_of(self, where: str, value: Any, allowed: Any, key: str) -> None:
        if value is not None and value not in allowed:
            self.add(where, f"'{key}' is {value!r}, which is not defined")

    def when(self, where: str, value: Any, key: str, kind: type) -> None:
        if value is None:
            return
        if kind is datetime and not isinstance(value, datetime):
            self.add(where, f"'{key}' should be a date and time like 2026-10-28 10:05:00")
        elif kind is date and (not isinstance(value, date) or isinstance(value, datetime)):
            self.add(where, f"'{key}' should be a date like 2026-10-28")


@dataclass
class _Data:
    password: str
    strategy_file: Path
    settings: dict[str, Any]
    users: list[dict[str, Any]]
    events: list[dict[str, Any]]
    themes: list[dict[str, Any]]
    feedback: list[dict[str, Any]]


_USER_KEYS = ({"key", "email", "name", "roles"}, {"subgroups"})
_EVENT_KEYS = (
    {"key", "name", "kind", "held_on", "adults", "young_people", "children", "created_by"},
    {"place", "partner", "facilitators", "families_link"},
)
_THEME_KEYS = (
    {"slug", "title", "statement", "subgroup", "status", "created_by", "created_at"},
    {
        "priorities",
        "outcomes",
        "approved_by",
        "published_at",
        "withdrawn_by",
        "withdrawn_at",
        "withdrawn_reason",
        "actions",
    },
)
_ACTION_KEYS = (
    {"kind", "text", "status", "created_by", "created_at"},
    {
        "initial_status",
        "reason",
        "target_date",
        "done_date",
        "evidence_url",
        "approved_by",
        "published_at",
        "updates",
    },
)
_UPDATE_KEYS = (
    {"happened_on", "text", "created_by", "created_at"},
    {"new_status", "approved_by", "published_at"},
)
_FEEDBACK_KEYS = (
    {"key", "event", "respondent", "sentiment", "text"},
    {
        "age_phase",
        "needs",
        "setting",
        "redacted",
        "personal_details",
        "may_quote",
        "contact",
        "theme",
        "triaged",
        "priorities",
        "outcomes",
        "subgroup",
        "safeguarding",
    },
)


def read_demo_data(data_dir: Path = DATA_DIR) -> _Data:
    """Read and check every demo file; raise DemoError listing all the problems found."""
    users_file = _read_yaml(data_dir, "users.yaml")
    settings = _read_yaml(data_dir, "partnership.yaml")
    data = _Data(
        password=str(users_file.get("password") or ""),
        strategy_file=BASE_DIR / str(settings.pop("strategy_file", "")),
        settings=settings,
        users=list(users_file.get("users") or []),
        events=list(_read_yaml(data_dir, "events.yaml").get("events") or []),
        themes=list(_read_yaml(data_dir, "themes.yaml").get("themes") or []),
        feedback=list(_read_yaml(data_dir, "feedback.yaml").get("feedback") or []),
    )
    c = _Checker()
    if not data.password:
        c.add("users.yaml", "'password' is missing")
    for key in data.settings:
        if key not in ("safeguarding_contact_email",):
            c.add("partnership.yaml", f"unknown key '{key}'")

    user_keys = set()
    for i, row in enumerate(data.users):
        where = f"users.yaml users[{i}]"
        if c.keys(where, row, *_USER_KEYS):
            user_keys.add(row["key"])
            for role in row["roles"]:
                c.vocab(where, role, Role, "roles")

    # Redactions and the safeguarding flag are a coordinator's work at triage.
    if "coordinator" not in user_keys:
        c.add("users.yaml", "a user with the key 'coordinator' is needed")

    event_keys = set()
    for i, row in enumerate(data.events):
        where = f"events.yaml {row.get('key', f'events[{i}]')}"
        if c.keys(where, row, *_EVENT_KEYS):
            event_keys.add(row["key"])
            c.vocab(where, row["kind"], EventKind, "kind")
            c.when(where, row["held_on"], "held_on", date)
            c.one_of(where, row["created_by"], user_keys, "created_by")
            link = row.get("families_link")
            if link is not None and not (
                isinstance(link, str) and re.fullmatch(r"[A-Za-z0-9_-]{8,64}", link)
            ):
                c.add(where, "families_link must be 8 to 64 letters, digits, - or _")

    theme_slugs = set()
    for row in data.themes:
        where = f"themes.yaml {row.get('slug', '?') if isinstance(row, dict) else '?'}"
        if c.keys(where, row, *_THEME_KEYS):
            theme_slugs.add(row["slug"])
            _check_theme(c, where, row, user_keys)

    for i, row in enumerate(data.feedback):
        where = f"feedback.yaml {row.get('key', f'feedback[{i}]') if isinstance(row, dict) else i}"
        if c.keys(where, row, *_FEEDBACK_KEYS):
            _check_feedback(c, where, row, event_keys, theme_slugs)
    # Natural keys are what make a second load find, not duplicate, each row.
    for name, rows, field_name in (
        ("users.yaml", data.users, "key"),
        ("users.yaml", data.users, "email"),
        ("events.yaml", data.events, "key"),
        ("themes.yaml", data.themes, "slug"),
        ("feedback.yaml", data.feedback, "key"),
    ):
        values = [row.get(field_name) for row in rows if isinstance(row, dict)]
        for value, n in Counter(values).items():
            if n > 1:
                c.add(name, f"the {field_name} {value!r} is used {n} times")

    named = Counter(
        (row.get("name"), row.get("held_on")) for row in data.events if isinstance(row, dict)
    )
    for (event_name, held_on), n in named.items():
        if n > 1:
            c.add("events.yaml", f"{n} events are called {event_name!r} on {held_on}")

    if c.problems:
        raise DemoError("The demo files have problems:\n  " + "\n  ".join(c.problems))
    return data


def _check_four_eyes(c: _Checker, where: str, row: dict[str, Any], users: set[str]) -> None:
    c.one_of(where, row.get("created_by"), users, "created_by")
    c.one_of(where, row.get("approved_by"), users, "approved_by")
    c.when(where, row.get("created_at"), "created_at", datetime)
    c.when(where, row.get("published_at"), "published_at", datetime)
    if (row.get("approved_by") is None) != (row.get("published_at") is None):
        c.add(where, "a published row needs both 'approved_by' and 'published_at'")
    if row.get("approved_by") is not None and row["approved_by"] == row.get("created_by"):
        c.add(where, "four eyes: the approver must not be the author")
    if (
        isinstance(row.get("published_at"), datetime)
        and isinstance(row.get("created_at"), datetime)
        and row["published_at"] < row["created_at"]
    ):
        c.add(where, "published before it was written")


def _check_theme(c: _Checker, where: str, row: dict[str, Any], users: set[str]) -> None:
    c.vocab(where, row["status"], ThemeStatus, "status")
    _check_four_eyes(c, where, row, users)
    withdrawn = [row.get(k) for k in ("withdrawn_by", "withdrawn_at", "withdrawn_reason")]
    if any(v is not None for v in withdrawn):
        if not all(v is not None for v in withdrawn):
            c.add(where, "withdrawing needs 'withdrawn_by', 'withdrawn_at' and 'withdrawn_reason'")
        if row.get("published_at") is None:
            c.add(where, "only a published theme can be withdrawn")
        c.one_of(where, row.get("withdrawn_by"), users, "withdrawn_by")
        c.when(where, row.get("withdrawn_at"), "withdrawn_at", datetime)
    actions = row.get("actions") or []
    # A theme is "responded" once it has an action (the respond service's rule).
    if actions and row["status"] == ThemeStatus.OPEN.value:
        c.add(where, "a theme with actions has the status 'responded' or 'closed'")
    if not actions and row["status"] != ThemeStatus.OPEN.value:
        c.add(where, "a theme with no actions has the status 'open'")
    for j, action in enumerate(actions):
        here = f"{where} actions[{j}]"
        if not c.keys(here, action, *_ACTION_KEYS):
            continue
        c.vocab(here, action["kind"], ActionKind, "kind")
        c.vocab(here, action["status"], ActionStatus, "status")
        c.vocab(here, action.get("initial_status"), ActionStatus, "initial_status")
        c.when(here, action.get("target_date"), "target_date", date)
        c.when(here, action.get("done_date"), "done_date", date)
        _check_four_eyes(c, here, action, users)
        if action.get("published_at") is not None and row.get("published_at") is None:
            c.add(here, "an action can only be published under a published theme")
        if action["kind"] == ActionKind.WE_WILL.value and not action.get("target_date"):
            c.add(here, "'We will' needs a 'target_date'")
        if action["kind"] == ActionKind.WE_CANT.value and not action.get("reason"):
            c.add(here, "'We can't' needs a 'reason'")
        if action["status"] == ActionStatus.DONE.value and not action.get("done_date"):
            c.add(here, "a done action needs a 'done_date'")
        status = action.get("initial_status", action["status"])
        for k, update in enumerate(action.get("updates") or []):
            there = f"{here} updates[{k}]"
            if not c.keys(there, update, *_UPDATE_KEYS):
                continue
            c.vocab(there, update.get("new_status"), ActionStatus, "new_status")
            c.when(there, update["happened_on"], "happened_on", date)
            _check_four_eyes(c, there, update, users)
            if update.get("published_at") is not None:
                if action.get("published_at") is None:
                    c.add(there, "an update can only be published on a published action")
                status = update.get("new_status") or status
        # A status change takes effect when its update is published: they must agree.
        if status != action["status"]:
            c.add(
                here,
                f"'status' is {action['status']!r} but its published updates lead to {status!r}",
            )


def _check_feedback(
    c: _Checker, where: str, row: dict[str, Any], events: set[str], themes: set[str]
) -> None:
    c.one_of(where, row["event"], events, "event")
    c.one_of(where, row.get("theme"), themes, "theme")
    c.vocab(where, row["respondent"], Respondent, "respondent")
    c.vocab(where, row["sentiment"], Sentiment, "sentiment")
    c.vocab(where, row.get("age_phase"), AgePhase, "age_phase")
    for need in row.get("needs") or []:
        c.vocab(where, need, NeedType, "needs")
    if row.get("personal_details") and not row.get("redacted"):
        c.add(where, "an item with personal details needs a 'redacted' wording")
    if row.get("redacted") and not (row.get("theme") or row.get("triaged")):
        c.add(where, "a coordinator writes the 'redacted' wording at triage: add 'triaged'")
    if row.get("may_quote") and not row.get("redacted"):
        c.add(where, "a quote is only ever the redacted wording: add 'redacted'")
    if row.get("safeguarding") and (row.get("theme") or row.get("triaged")):
        c.add(where, "a safeguarding item leaves the normal flow: no 'theme' or 'triaged'")
    if row.get("triaged") and row.get("theme"):
        c.add(where, "use 'theme' (which includes triage) or 'triaged', not both")
    if row.get("triaged") and not row.get("subgroup"):
        c.add(where, "a triaged item is routed to a 'subgroup'")
    contact = row.get("contact")
    if contact is not None and (
        not isinstance(contact, dict) or not set(contact) or set(contact) - {"email", "phone"}
    ):
        c.add(where, "'contact' should have 'email' and/or 'phone'")


# ---------------------------------------------------------------------------------------------
# Loading


def load_demo(data_dir: Path = DATA_DIR) -> DemoResult:
    """Load (or top up) the demo. Adds to the session; the caller commits."""
    if current_app.config.get("ENV_NAME") == "production":
        raise DemoError(
            "The demo has accounts with a published password, so it is never loaded into a "
            "production database. Run it with APP_ENV=development."
        )
    data = read_demo_data(data_dir)
    _refuse_real_partnerships(data)
    try:
        imported = import_strategy_file(data.strategy_file)
    except StrategyFileError as exc:
        raise DemoError(f"The demo's strategy file was refused: {exc}") from exc
    loader = _Loader(imported.partnership, imported.strategy, data)
    loader.load()
    return DemoResult(
        partnership=imported.partnership,
        strategy=imported.strategy,
        strategy_import=imported,
        password=data.password,
        accounts=loader.accounts,
        created=loader.created,
        families_links=loader.families_links,
    )


REAL_PARTNERSHIPS_MESSAGE = (
    "The database already holds real partnerships: load the demo into an empty database."
)


def _demo_partnership_slug(strategy_file: Path) -> str | None:
    """The slug of the partnership the demo's strategy file describes.

    None when the file cannot be read: importing it then refuses it, saying why.
    """
    try:
        text = strategy_file.read_bytes().decode("utf-8-sig")
        return str(parse_strategy_text(text, strategy_file.name).partnership["slug"])
    except (OSError, UnicodeDecodeError, StrategyFileError):
        return None


def _refuse_real_partnerships(data: _Data) -> None:
    """Never mix the demo into real data: its accounts all share a published password.

    Checked before anything is imported, so a refusal leaves the session untouched.
    """
    slug = _demo_partnership_slug(data.strategy_file)
    if slug is None:
        return
    if db.session.scalar(sa.select(sa.func.count(Partnership.id)).where(Partnership.slug != slug)):
        raise DemoError(REAL_PARTNERSHIPS_MESSAGE)
    partnership = db.session.scalars(sa.select(Partnership).where(Partnership.slug == slug)).first()
    if partnership is None:
        return
    demo_emails = {row["email"].lower() for row in data.users}
    emails = db.session.scalars(sa.select(User.email).where(User.partnership_id == partnership.id))
    others = sum(1 for email in emails if email.lower() not in demo_emails)
    if others:
        accounts = "an account" if others == 1 else f"{others} accounts"
        raise DemoError(
            f"The partnership {partnership.name} ({slug}) already has {accounts} that the demo "
            "did not make, so it looks like real data. The demo's accounts share a published "
            "password and are never added to it: load the demo into an empty database."
        )


def _at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute))


class _Loader:
    def __init__(self, partnership: Partnership, strategy: Strategy, data: _Data):
        self.p = partnership
        self.strategy = strategy
        self.data = data
        self.created: Counter[str] = Counter()
        self.accounts: list[DemoAccount] = []
        self.users: dict[str, User] = {}
        self.events: dict[str, Event] = {}
        self.families_links: list[str] = []
        self.themes: dict[str, Theme] = {}
        self.theme_rows = {row["slug"]: row for row in data.themes}
        self.priorities: dict[str, Priority] = {pr.code: pr for pr in strategy.priorities}
        self.subgroups: dict[str, SubGroup] = {sg.code: sg for sg in strategy.subgroups}
        self.outcomes: dict[str, Outcome] = {o.text: o for o in strategy.outcomes}

    def load(self) -> None:
        self._check_strategy_codes()
        self._settings()
        self._users()
        self._events()
        self._themes()
        self._feedback()
        db.session.flush()

    # The demo files name priorities, sub-groups and outcomes of the strategy file.
    def _check_strategy_codes(self) -> None:
        missing: list[str] = []

        def need(codes: Any, known: dict[str, Any], what: str, where: str) -> None:
            missing.extend(f"{where}: no {what} {c!r}" for c in codes or [] if c not in known)

        for row in self.data.users:
            need(row.get("subgroups"), self.subgroups, "sub-group", f"users.yaml {row['key']}")
        for row in self.data.themes:
            where = f"themes.yaml {row['slug']}"
            need([row["subgroup"]], self.subgroups, "sub-group", where)
            need(row.get("priorities"), self.priorities, "priority", where)
            need(row.get("outcomes"), self.outcomes, "outcome", where)
        for row in self.data.feedback:
            where = f"feedback.yaml {row['key']}"
            need(row.get("priorities"), self.priorities, "priority", where)
            need(row.get("outcomes"), self.outcomes, "outcome", where)
            need(
                [row["subgroup"]] if row.get("subgroup") else [], self.subgroups, "sub-group", where
            )
        if missing:
            raise DemoError(
                f"The demo files name things the strategy {self.strategy.slug} does not have:\n  "
                + "\n  ".join(missing)
            )

    def _settings(self) -> None:
        for key, value in self.data.settings.items():
            if not getattr(self.p, key):
                setattr(self.p, key, value)

    def _users(self) -> None:
        for row in self.data.users:
            user = db.session.scalars(
                sa.select(User).where(sa.func.lower(User.email) == row["email"].lower())
            ).first()
            if user is None:
                try:
                    user = create_user(
                        self.p,
                        email=row["email"],
                        name=row["name"],
                        password=self.data.password,
                        roles=row["roles"],
                        subgroup_codes=row.get("subgroups") or [],
                    )
                except UserError as exc:
                    raise DemoError(f"users.yaml {row['key']}: {exc}") from exc
                self.created["users"] += 1
            elif user.partnership_id != self.p.id:
                raise DemoError(
                    f"users.yaml {row['key']}: {row['email']} already belongs to another "
                    "partnership"
                )
            self.users[row["key"]] = user
            role = " and ".join(Role(r).label for r in row["roles"])
            if row.get("subgroups"):
                role += f" ({', '.join(row['subgroups'])})"
            self.accounts.append(DemoAccount(role, user.email, user.name))

    def _user_id(self, key: str | None) -> int | None:
        return self.users[key].id if key else None

    def _record(self, verb: str, obj: Any, who: str | None, when: datetime, **details: Any) -> None:
        entry = audit.record(verb, obj, user=self.users[who] if who else None, **details)
        # Still pending (not flushed), so setting the time is not a change to the log.
        entry.at = when

    def _events(self) -> None:
        for row in self.data.events:
            event = db.session.scalars(
                sa.select(Event).where(
                    Event.partnership_id == self.p.id,
                    Event.name == row["name"],
                    Event.held_on == row["held_on"],
                )
            ).first()
            if event is None:
                when = _at(row["held_on"], 9, 0)
                event = Event(
                    partnership_id=self.p.id,
                    name=row["name"],
                    kind=row["kind"],
                    held_on=row["held_on"],
                    place=row.get("place"),
                    partner=row.get("partner"),
                    facilitators=row.get("facilitators"),
                    adults_count=row["adults"],
                    young_people_count=row["young_people"],
                    children_count=row["children"],
                    created_by_id=self._user_id(row["created_by"]),
                    created_at=when,
                    updated_at=when,
                )
                if row.get("families_link"):
                    # A fixed demo token, so the README can point at the families' form.
                    event.self_submission_token = row["families_link"]
                    event.self_submission_open = True
                db.session.add(event)
                db.session.flush()
                self._record("event.created", event, row["created_by"], when)
                self.created["events"] += 1
            self.events[row["key"]] = event
            if event.self_submission_open and event.self_submission_token:
                self.families_links.append(event.self_submission_token)

    def _themes(self) -> None:
        item_counts = Counter(row.get("theme") for row in self.data.feedback)
        for row in self.data.themes:
            theme = db.session.scalars(
                sa.select(Theme).where(Theme.partnership_id == self.p.id, Theme.slug == row["slug"])
            ).first()
            if theme is None:
                theme = self._new_theme(row, item_counts[row["slug"]])
                self.created["themes"] += 1
            self.themes[row["slug"]] = theme

    def _new_theme(self, row: dict[str, Any], items: int) -> Theme:
        published_at: datetime | None = row.get("published_at")
        withdrawn_at: datetime | None = row.get("withdrawn_at")
        publication = Publication.DRAFT.value
        if withdrawn_at:
            publication = Publication.WITHDRAWN.value
        elif published_at:
            publication = Publication.PUBLISHED.value
        theme = Theme(
            partnership_id=self.p.id,
            slug=row["slug"],
            title=row["title"].strip(),
            statement=row["statement"].strip(),
            subgroup_id=self.subgroups[row["subgroup"]].id,
            status=row["status"],
            publication=publication,
            published_at=published_at,
            withdrawn_at=withdrawn_at,
            withdrawn_reason=(row.get("withdrawn_reason") or "").strip() or None,
            created_by_id=self._user_id(row["created_by"]),
            approved_by_id=self._user_id(row.get("approved_by")),
            created_at=row["created_at"],
        )
        theme.priorities = [self.priorities[c] for c in row.get("priorities") or []]
        db.session.add(theme)
        db.session.flush()
        self._record(
            "theme.created",
            theme,
            row["created_by"],
            row["created_at"],
            slug=theme.slug,
            items=items,
        )
        if published_at:
            self._record(
                "theme.published",
                theme,
                row["approved_by"],
                published_at,
                republished=False,
                slug=theme.slug,
                title=theme.title,
                statement=theme.statement,
                subgroup_id=theme.subgroup_id,
            )
        if withdrawn_at:
            self._record(
                "theme.withdrawn",
                theme,
                row["withdrawn_by"],
                withdrawn_at,
                reason=theme.withdrawn_reason,
                slug=theme.slug,
                title=theme.title,
            )

        # What the public last saw change: publication, an answer or progress, a withdrawal.
        public_times = [t for t in (published_at, withdrawn_at) if t]
        for action_row in row.get("actions") or []:
            public_times += self._new_action(theme, action_row)
        theme.public_updated_at = max(public_times) if public_times else None
        theme.updated_at = max([row["created_at"], *public_times])
        return theme

    def _new_action(self, theme: Theme, row: dict[str, Any]) -> list[datetime]:
        published_at: datetime | None = row.get("published_at")
        action = Action(
            partnership_id=self.p.id,
            theme=theme,
            kind=row["kind"],
            text=row["text"].strip(),
            reason=(row.get("reason") or "").strip() or None,
            subgroup_id=theme.subgroup_id,
            owner_id=self._user_id(row["created_by"]),
            target_date=row.get("target_date"),
            done_date=row.get("done_date"),
            status=row["status"],
            evidence_url=row.get("evidence_url"),
            publication=Publication.PUBLISHED.value if published_at else Publication.DRAFT.value,
            published_at=published_at,
            created_by_id=self._user_id(row["created_by"]),
            approved_by_id=self._user_id(row.get("approved_by")),
            created_at=row["created_at"],
            updated_at=published_at or row["created_at"],
        )
        db.session.add(action)
        db.session.flush()
        self.created["actions"] += 1
        # The status it had when written and published, before any progress update.
        first_status = row.get("initial_status", row["status"])
        self._record(
            "action.created",
            action,
            row["created_by"],
            row["created_at"],
            theme_id=theme.id,
            kind=action.kind,
            status=first_status,
            text=action.text,
        )
        times: list[datetime] = []
        if published_at:
            times.append(published_at)
            self._record(
                "action.published",
                action,
                row["approved_by"],
                published_at,
                theme_id=theme.id,
                kind=action.kind,
                text=action.text,
                reason=action.reason,
                status=first_status,
                target_date=action.target_date.isoformat() if action.target_date else None,
                done_date=(
                    action.done_date.isoformat()
                    if action.done_date and first_status == ActionStatus.DONE.value
                    else None
                ),
                evidence_url=action.evidence_url,
            )
        status = row.get("initial_status", row["status"])
        for update_row in row.get("updates") or []:
            times += self._new_update(action, update_row, status)
            if update_row.get("published_at"):
                status = update_row.get("new_status") or status
        return times

    def _new_update(
        self, action: Action, row: dict[str, Any], status_before: str
    ) -> list[datetime]:
        published_at: datetime | None = row.get("published_at")
        update = ProgressUpdate(
            partnership_id=self.p.id,
            action=action,
            happened_on=row["happened_on"],
            text=row["text"].strip(),
            new_status=row.get("new_status"),
            publication=Publication.PUBLISHED.value if published_at else Publication.DRAFT.value,
            published_at=published_at,
            created_by_id=self._user_id(row["created_by"]),
            approved_by_id=self._user_id(row.get("approved_by")),
            created_at=row["created_at"],
            updated_at=published_at or row["created_at"],
        )
        db.session.add(update)
        db.session.flush()
        self.created["updates"] += 1
        self._record(
            "progress_update.created",
            update,
            row["created_by"],
            row["created_at"],
            action_id=action.id,
            happened_on=update.happened_on.isoformat(),
            new_status=update.new_status,
            text=update.text,
        )
        if not published_at:
            return []
        self._record(
            "progress_update.published",
            update,
            row["approved_by"],
            published_at,
            theme_id=action.theme_id,
            action_id=action.id,
            happened_on=update.happened_on.isoformat(),
            text=update.text,
            new_status=update.new_status,
            action_status_before=status_before,
            action_status_after=update.new_status or status_before,
        )
        return [published_at]

    def _feedback(self) -> None:
        for n, row in enumerate(self.data.feedback):
            exists = db.session.scalar(
                sa.select(Feedback.id).where(
                    Feedback.partnership_id == self.p.id, Feedback.idempotency_key == row["key"]
                )
            )
            if exists is None:
                self._new_feedback(row, n)
                self.created["feedback"] += 1

    def _new_feedback(self, row: dict[str, Any], n: int) -> None:
        event = self.events[row["event"]]
        event_row = next(e for e in self.data.events if e["key"] == row["event"])
        theme = self.themes.get(row.get("theme") or "")
        theme_row = self.theme_rows.get(row.get("theme") or "", {})
        # Items were typed in during or just after the event, a minute or two apart.
        entered_at = _at(event.held_on, 11, 0) + timedelta(minutes=2 * n % 240)
        triaged = theme is not None or bool(row.get("triaged"))
        triaged_at = min(_at(event.held_on + timedelta(days=2), 10, 30), utcnow())

        status = FeedbackStatus.NEW.value
        if theme is not None:
            answered = theme.is_published and any(a.is_published for a in theme.actions)
            status = FeedbackStatus.ANSWERED.value if answered else FeedbackStatus.THEMED.value
        elif triaged:
            status = FeedbackStatus.TRIAGED.value
        routed = None
        if row.get("subgroup"):
            routed = self.subgroups[row["subgroup"]]
        elif theme is not None:
            routed = theme.subgroup

        item = Feedback(
            partnership_id=self.p.id,
            event_id=event.id,
            channel=(
                Channel.SURVEY.value
                if event.kind == EventKind.SURVEY.value
                else Channel.EVENT.value
            ),
            raw_text=row["text"].strip(),
            redacted_text=(row.get("redacted") or "").strip() or None,
            respondent=row["respondent"],
            sentiment=row["sentiment"],
            age_phase=row.get("age_phase"),
            need_types=list(row.get("needs") or []),
            setting=row.get("setting"),
            received_on=event.held_on,
            may_quote=bool(row.get("may_quote")),
            wants_reply=row.get("contact") is not None,
            contains_personal_details=bool(row.get("personal_details")),
            safeguarding_flag=bool(row.get("safeguarding")),
            safeguarding_note=(row.get("safeguarding") or "").strip() or None,
            status=status,
            routed_subgroup_id=routed.id if routed else None,
            theme_id=theme.id if theme else None,
            entered_by_id=self._user_id(event_row["created_by"]),
            triaged_at=triaged_at if triaged else None,
            idempotency_key=row["key"],
            created_at=entered_at,
            updated_at=triaged_at if triaged else entered_at,
        )
        item.priorities = [
            self.priorities[c] for c in row.get("priorities", theme_row.get("priorities")) or []
        ]
        item.outcomes = [
            self.outcomes[t] for t in row.get("outcomes", theme_row.get("outcomes")) or []
        ]
        contact = row.get("contact")
        if contact:
            item.contact = FeedbackContact(
                partnership_id=self.p.id,
                email=contact.get("email"),
                phone=contact.get("phone"),
                delete_after=event.held_on + timedelta(days=self.p.contact_retention_days),
            )
        db.session.add(item)
        db.session.flush()
        if item.redacted_text:
            self._record("feedback.redacted", item, "coordinator", triaged_at, change="added")
        if item.safeguarding_flag:
            # Flagged by the coordinator the day it was heard, and read by the safeguarding
            # lead the next morning: the demo has no alert left to escalate.
            item.safeguarding_flagged_at = _at(event.held_on, 16, 30)
            item.safeguarding_flagged_by_id = self._user_id("coordinator")
            item.safeguarding_opened_at = _at(event.held_on + timedelta(days=1), 9, 15)
            # The entry never holds the words.
            self._record(
                "feedback.safeguarding_flagged",
                item,
                "coordinator",
                _at(event.held_on, 16, 30),
                removed_from_theme_id=None,
            )
