"""Strategy files (DESIGN.md section 9): import a partnership's strategy from YAML, export it back.

A file has a `partnership` block and a `strategy` block. Import reads the whole file into plain
values first, naming the line and field of every problem, and only then touches the database, so
a file with any error is refused whole. Re-importing updates rows in place (partnership by slug,
strategy by partnership and slug, priorities and sub-groups by code, outcomes and principles by
text), so importing the same file twice changes nothing. The file is the whole truth for what it
describes: a key left out clears that value, and a row no longer listed is removed, unless
feedback, themes, actions or people use it, in which case the import is refused.

One extension to the shared format: a sub-group may list `priorities: [CODE, ...]`, the
priorities whose feedback it answers (each priority routes to one or more sub-groups).

Import never commits: the caller commits, or rolls back on StrategyFileError.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from app.extensions import db
from app.models import (
    Action,
    Feedback,
    Outcome,
    Partnership,
    Principle,
    Priority,
    Strategy,
    SubGroup,
    Theme,
    User,
    feedback_outcome,
    feedback_priority,
    subgroup_member,
    theme_priority,
)
from app.models.vocab import StrategyStatus
from app.services import audit

# The keys each block may have, in the order export writes them (the reference files' order).
PARTNERSHIP_KEYS = (
    "name",
    "slug",
    "members",
    "parent_carer_forum",
    "young_people_groups",
    "local_offer_url",
)
STRATEGY_KEYS = (
    "title",
    "slug",
    "starts",
    "ends",
    "vision",
    "priorities",
    "subgroups",
    "outcomes",
    "principles",
)
PRIORITY_KEYS = ("code", "title", "kind", "summary")
SUBGROUP_KEYS = ("code", "title", "purpose", "priorities", "heard", "focus")

# Column sizes in app/models; checked here so PostgreSQL never refuses a value half-way through.
PARTNERSHIP_NAME_MAX = 200
PARTNERSHIP_SLUG_MAX = 80
URL_MAX = 500
STRATEGY_SLUG_MAX = 120
TITLE_MAX = 300
CODE_MAX = 40
KIND_MAX = 40
STATEMENT_MAX = 500
LIST_ITEM_MAX = 1000

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Priority codes become URL parts (Priority.slug), so letters, digits and single separators only.
_CODE = re.compile(r"^[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NULL_TAG = "tag:yaml.org,2002:null"

# Long free text is written folded (`>-`) so exported files stay readable at this width.
EXPORT_WIDTH = 88
_FOLD_OVER = 80


# --------------------------------------------------------------------------------------------
# Errors and results


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (line, field) and what."""

    source: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f" line {self.line}"
        if self.field:
            where += f", {self.field}"
        return f"{where}: {self.message}"


class StrategyFileError(Exception):
    """The file was refused whole; str() names the file, line and field of each problem."""

    def __init__(self, problems: list[Problem]):
        if not problems:
            raise ValueError("a StrategyFileError needs at least one problem")
        self.problems = problems
        super().__init__(str(self))

    @classmethod
    def single(
        cls, source: str, line: int | None, field: str | None, message: str
    ) -> StrategyFileError:
        return cls([Problem(source, line, field, message)])

    @property
    def line(self) -> int | None:
        return self.problems[0].line

    @property
    def field(self) -> str | None:
        return self.problems[0].field

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


class StrategyNotFound(Exception):
    """No strategy (or more than one) answers to the slug given for export."""


@dataclass
class ImportResult:
    partnership: Partnership
    strategy: Strategy
    created: bool
    counts: dict[str, int]
    partnership_created: bool = False
    # Rows added, changed and removed by this import (all zero when the file matched already).
    changes: dict[str, int] = field(default_factory=dict)
    archived: list[Strategy] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(self.changes.values())

    def summary(self) -> str:
        c = self.counts
        contents = ", ".join(
            [
                _plural(c["priorities"], "priority", "priorities"),
                _plural(c["subgroups"], "sub-group", "sub-groups"),
                _plural(c["outcomes"], "outcome", "outcomes"),
                _plural(c["principles"], "principle", "principles"),
            ]
        )
        verb = "Imported" if self.created else "Updated" if self.changed else "Re-imported"
        partnership = self.partnership.name + (
            " (new partnership)" if self.partnership_created else ""
        )
        first = (
            f"{verb} {self.strategy.title} ({self.strategy.slug}) for {partnership}: {contents}."
        )
        if self.created:
            second = "It is now the active strategy."
        elif not self.changed:
            second = "Nothing changed: the database already matched the file."
        else:
            ch = self.changes
            second = (
                f"Changes: {ch.get('added', 0)} added, {ch.get('changed', 0)} changed, "
                f"{ch.get('removed', 0)} removed."
            )
        if self.archived:
            names = ", ".join(s.slug for s in self.archived)
            second += f" Archived: {names}."
        return f"{first}\n{second}"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


# --------------------------------------------------------------------------------------------
# Reading a file into plain values (no database access)


@dataclass
class _PrioritySpec:
    code: str
    title: str
    kind: str | None
    summary: str | None
    line: int


@dataclass
class _SubGroupSpec:
    code: str
    title: str
    purpose: str | None
    heard: list[str]
    focus: list[str]
    # (code as written, line, field) so an unknown code can be reported where it stands.
    priority_refs: list[tuple[str, int, str]]
    line: int


@dataclass
class _Spec:
    partnership: dict[str, Any]
    strategy: dict[str, Any]
    priorities: list[_PrioritySpec]
    subgroups: list[_SubGroupSpec]
    outcomes: list[str]
    principles: list[str]
    # Where each list starts, for problems about rows that are no longer in the file.
    lines: dict[str, int]


@dataclass
class _Map:
    """A YAML mapping checked for unknown and duplicate keys."""

    path: str
    line: int
    entries: dict[str, tuple[Node, Node]]

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a block of keys"
    if isinstance(node, SequenceNode):
        return "a list"
    if _is_null(node):
        return "nothing"
    return f"the text {node.value!r}"


def one_line(value: str) -> str:
    """Titles, names, codes and list items: single spaces, no line breaks."""
    return " ".join(value.split())


def paragraphs(value: str) -> str:
    """Summaries and visions: tidy spaces on each line, keep paragraph breaks."""
    lines = [" ".join(line.split()) for line in value.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _Reader:
    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []

    def problem(self, line: int | None, path: str | None, message: str) -> None:
        self.problems.append(Problem(self.source, line, path, message))

    # -- structure

    def mapping(
        self, node: Node, path: str, allowed: tuple[str, ...], line: int | None = None
    ) -> _Map | None:
        if not isinstance(node, MappingNode):
            self.problem(
                _line(node), path or None, f"expected a block of keys, found {_describe(node)}"
            )
            return None
        entries: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or _is_null(key_node):
                self.problem(_line(key_node), path or None, "every key must be a plain word")
                continue
            key = key_node.value
            key_path = f"{path}.{key}" if path else key
            if key in entries:
                first = _line(entries[key][0])
                self.problem(
                    _line(key_node), key_path, f"duplicate key {key!r} (first at line {first})"
                )
                continue
            if key not in allowed:
                self.problem(_line(key_node), key_path, _unknown_key(key, allowed))
                continue
            entries[key] = (key_node, value_node)
        return _Map(path, line if line is not None else _line(node), entries)

    def sequence(self, m: _Map, key: str, *, required: bool = False) -> list[Node] | None:
        """The items of a list; None when absent (or wrong, which is reported)."""
        if key not in m.entries or _is_null(m.entries[key][1]):
            if required:
                self._missing(m, key)
            return None
        node = m.entries[key][1]
        if not isinstance(node, SequenceNode):
            self.problem(_line(node), m.at(key), f"expected a list, found {_describe(node)}")
            return None
        return list(node.value)

    def _missing(self, m: _Map, key: str) -> None:
        if key in m.entries:
            self.problem(self._key_line(m, key), m.at(key), "is empty")
        else:
            self.problem(m.line, m.at(key), "required but missing")

    def _key_line(self, m: _Map, key: str) -> int:
        return _line(m.entries[key][0]) if key in m.entries else m.line

    # -- values

    def text(
        self,
        m: _Map,
        key: str,
        *,
        required: bool = False,
        max_length: int | None = None,
        multiline: bool = False,
    ) -> str | None:
        if key not in m.entries or _is_null(m.entries[key][1]):
            if required:
                self._missing(m, key)
            return None
        return self.scalar_text(
            m.entries[key][1],
            m.at(key),
            required=required,
            max_length=max_length,
            multiline=multiline,
        )

    def scalar_text(
        self,
        node: Node,
        path: str,
        *,
        required: bool = True,
        max_length: int | None = None,
        multiline: bool = False,
    ) -> str | None:
        if not isinstance(node, ScalarNode) or _is_null(node):
            self.problem(_line(node), path, f"expected text, found {_describe(node)}")
            return None
        # The characters as written: `title: yes` is the word "yes", not true.
        value = paragraphs(node.value) if multiline else one_line(node.value)
        if not value:
            if required:
                self.problem(_line(node), path, "is empty")
            return None
        if max_length is not None and len(value) > max_length:
            self.problem(
                _line(node),
                path,
                f"too long: {len(value)} characters, the most is {max_length}",
            )
            return None
        return value

    def text_list(
        self, m: _Map, key: str, *, max_length: int = LIST_ITEM_MAX, unique_label: str | None = None
    ) -> list[str]:
        nodes = self.sequence(m, key)
        if nodes is None:
            return []
        values: list[str] = []
        seen: dict[str, int] = {}
        for i, node in enumerate(nodes):
            path = f"{m.at(key)}[{i}]"
            value = self.scalar_text(node, path, max_length=max_length)
            if value is None:
                continue
            if unique_label is not None:
                if value in seen:
                    self.problem(
                        _line(node),
                        path,
                        f"duplicate {unique_label} {value!r} (first at line {seen[value]})",
                    )
                    continue
                seen[value] = _line(node)
            values.append(value)
        return values

    def date_value(self, m: _Map, key: str) -> date | None:
        if key not in m.entries or _is_null(m.entries[key][1]):
            return None
        node = m.entries[key][1]
        if not isinstance(node, ScalarNode):
            self.problem(_line(node), m.at(key), f"expected a date, found {_describe(node)}")
            return None
        raw = node.value.strip()
        parsed: date | None = None
        if _DATE.match(raw):
            try:
                parsed = date.fromisoformat(raw)
            except ValueError:
                parsed = None
        if parsed is None:
            self.problem(
                _line(node),
                m.at(key),
                f"{raw!r} is not a date: write it as YYYY-MM-DD, like 2024-09-01",
            )
        return parsed

    def slug(self, m: _Map, key: str, max_length: int) -> str | None:
        value = self.text(m, key, required=True, max_length=max_length)
        if value is not None and not _SLUG.match(value):
            self.problem(
                self._value_line(m, key),
                m.at(key),
                f"{value!r} is not a slug: use lower-case letters, digits and single hyphens, "
                "like 'stockport-send-2024-2027'",
            )
            return None
        return value

    def code(self, m: _Map, key: str) -> str | None:
        value = self.text(m, key, required=True, max_length=CODE_MAX)
        if value is not None and not _CODE.match(value):
            self.problem(
                self._value_line(m, key),
                m.at(key),
                f"{value!r} is not a code: use letters, digits and single hyphens, "
                "like 'SEN-SUPPORT'",
            )
            return None
        return value

    def url(self, m: _Map, key: str) -> str | None:
        value = self.text(m, key, max_length=URL_MAX)
        if value is None:
            return None
        parts = urlsplit(value)
        # The address becomes a link on public pages: only web addresses, never javascript: etc.
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
            self.problem(
                self._value_line(m, key),
                m.at(key),
                f"{value!r} is not a web address: it must start with https:// (or http://)",
            )
            return None
        return value

    def _value_line(self, m: _Map, key: str) -> int:
        return _line(m.entries[key][1]) if key in m.entries else m.line


def _unknown_key(key: str, allowed: tuple[str, ...]) -> str:
    message = f"unknown key {key!r}"
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        message += f" (did you mean {close[0]!r}?)"
    return f"{message}; the keys here are: {', '.join(allowed)}"


def parse_strategy_text(text: str, source: str = "<text>") -> _Spec:
    """Read and check a whole file; raise StrategyFileError listing every problem found."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = exc.problem or exc.context or "cannot be read"
        if exc.context and exc.context_mark and exc.problem:
            reason += f" ({exc.context} on line {exc.context_mark.line + 1})"
        raise StrategyFileError.single(
            source, mark.line + 1 if mark else None, None, f"not valid YAML: {reason}"
        ) from exc
    except yaml.YAMLError as exc:
        raise StrategyFileError.single(source, None, None, f"not valid YAML: {exc}") from exc
    if root is None:
        raise StrategyFileError.single(
            source, None, None, "the file is empty: it needs a partnership and a strategy block"
        )

    r = _Reader(source)
    top = r.mapping(root, "", ("partnership", "strategy"))
    if top is None:
        raise StrategyFileError(r.problems)
    missing = [
        b
        for b in ("partnership", "strategy")
        if b not in top.entries or _is_null(top.entries[b][1])
    ]
    for block in missing:
        r._missing(top, block)
    if missing:
        raise StrategyFileError(r.problems)

    p_key, p_node = top.entries["partnership"]
    s_key, s_node = top.entries["strategy"]
    pm = r.mapping(p_node, "partnership", PARTNERSHIP_KEYS, line=_line(p_key))
    sm = r.mapping(s_node, "strategy", STRATEGY_KEYS, line=_line(s_key))
    if pm is None or sm is None:
        raise StrategyFileError(r.problems)

    partnership = {
        "name": r.text(pm, "name", required=True, max_length=PARTNERSHIP_NAME_MAX),
        "slug": r.slug(pm, "slug", PARTNERSHIP_SLUG_MAX),
        "members": r.text_list(pm, "members", max_length=PARTNERSHIP_NAME_MAX),
        "parent_carer_forum": r.text(pm, "parent_carer_forum", max_length=PARTNERSHIP_NAME_MAX),
        "young_people_groups": r.text_list(
            pm, "young_people_groups", max_length=PARTNERSHIP_NAME_MAX
        ),
        "local_offer_url": r.url(pm, "local_offer_url"),
    }

    starts = r.date_value(sm, "starts")
    ends = r.date_value(sm, "ends")
    if starts and ends and ends < starts:
        r.problem(
            r._value_line(sm, "ends"),
            "strategy.ends",
            f"the strategy ends ({ends.isoformat()}) before it starts ({starts.isoformat()})",
        )
    strategy = {
        "title": r.text(sm, "title", required=True, max_length=TITLE_MAX),
        "slug": r.slug(sm, "slug", STRATEGY_SLUG_MAX),
        "starts": starts,
        "ends": ends,
        "vision": r.text(sm, "vision", multiline=True),
    }

    before = len(r.problems)
    priorities = _read_priorities(r, sm)
    priorities_ok = len(r.problems) == before
    subgroups = _read_subgroups(r, sm)
    known = {p.code.upper(): p.code for p in priorities}
    # With a broken priority list, every reference would look unknown: report the cause only.
    if priorities_ok:
        for sg in subgroups:
            for code, line, path in sg.priority_refs:
                if code.upper() not in known:
                    r.problem(
                        line,
                        path,
                        f"unknown priority {code!r}: the strategy's priorities are "
                        f"{', '.join(known.values())}",
                    )
    outcomes = r.text_list(sm, "outcomes", max_length=STATEMENT_MAX, unique_label="outcome")
    principles = r.text_list(sm, "principles", max_length=STATEMENT_MAX, unique_label="principle")

    if r.problems:
        raise StrategyFileError(r.problems)
    lines = {
        key: r._key_line(sm, key) for key in ("priorities", "subgroups", "outcomes", "principles")
    }
    return _Spec(partnership, strategy, priorities, subgroups, outcomes, principles, lines)


def _read_priorities(r: _Reader, sm: _Map) -> list[_PrioritySpec]:
    nodes = r.sequence(sm, "priorities", required=True)
    if nodes is None:
        return []
    if not nodes:
        r.problem(
            r._key_line(sm, "priorities"),
            "strategy.priorities",
            "the strategy needs at least one priority, so feedback can be tagged",
        )
    result: list[_PrioritySpec] = []
    seen: dict[str, int] = {}
    for i, node in enumerate(nodes):
        path = f"strategy.priorities[{i}]"
        m = r.mapping(node, path, PRIORITY_KEYS)
        if m is None:
            continue
        code = r.code(m, "code")
        title = r.text(m, "title", required=True, max_length=TITLE_MAX)
        kind = r.text(m, "kind", max_length=KIND_MAX)
        summary = r.text(m, "summary", multiline=True)
        if code is not None:
            code_line = r._value_line(m, "code")
            if code.upper() in seen:
                r.problem(
                    code_line,
                    m.at("code"),
                    f"duplicate priority code {code!r} (first at line {seen[code.upper()]})",
                )
                continue
            seen[code.upper()] = code_line
        if code is not None and title is not None:
            result.append(_PrioritySpec(code, title, kind, summary, _line(node)))
    return result


def _read_subgroups(r: _Reader, sm: _Map) -> list[_SubGroupSpec]:
    nodes = r.sequence(sm, "subgroups") or []
    result: list[_SubGroupSpec] = []
    seen: dict[str, int] = {}
    for i, node in enumerate(nodes):
        path = f"strategy.subgroups[{i}]"
        m = r.mapping(node, path, SUBGROUP_KEYS)
        if m is None:
            continue
        code = r.code(m, "code")
        title = r.text(m, "title", required=True, max_length=TITLE_MAX)
        purpose = r.text(m, "purpose", multiline=True)
        heard = r.text_list(m, "heard")
        focus = r.text_list(m, "focus")
        refs: list[tuple[str, int, str]] = []
        ref_seen: dict[str, int] = {}
        for j, ref_node in enumerate(r.sequence(m, "priorities") or []):
            ref_path = f"{m.at('priorities')}[{j}]"
            ref = r.scalar_text(ref_node, ref_path, max_length=CODE_MAX)
            if ref is None:
                continue
            if ref.upper() in ref_seen:
                r.problem(
                    _line(ref_node),
                    ref_path,
                    f"priority {ref!r} is listed twice (first at line {ref_seen[ref.upper()]})",
                )
                continue
            ref_seen[ref.upper()] = _line(ref_node)
            refs.append((ref, _line(ref_node), ref_path))
        if code is not None:
            code_line = r._value_line(m, "code")
            if code.upper() in seen:
                r.problem(
                    code_line,
                    m.at("code"),
                    f"duplicate sub-group code {code!r} (first at line {seen[code.upper()]})",
                )
                continue
            seen[code.upper()] = code_line
        if code is not None and title is not None:
            result.append(_SubGroupSpec(code, title, purpose, heard, focus, refs, _line(node)))
    return result


# --------------------------------------------------------------------------------------------
# Import


def import_strategy_file(path: Path | str, *, user: User | None = None) -> ImportResult:
    """Import a strategy file; a missing, unreadable or non-UTF-8 file is a StrategyFileError."""
    path = Path(path)
    source = path.name or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise StrategyFileError.single(source, None, None, f"no such file: {path}") from exc
    except IsADirectoryError as exc:
        raise StrategyFileError.single(
            source, None, None, f"{path} is a folder, not a file"
        ) from exc
    except OSError as exc:
        raise StrategyFileError.single(
            source, None, None, f"cannot read {path}: {exc.strerror or exc}"
        ) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise StrategyFileError.single(
            source,
            line,
            None,
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be read): save the file as UTF-8",
        ) from exc
    return import_strategy_text(text, source=source, user=user)


def import_strategy_text(
    text: str, source: str = "<text>", *, user: User | None = None
) -> ImportResult:
    """Create or update a partnership's strategy from the text of a strategy file.

    Everything is checked before anything is added to the session; the caller commits.
    """
    spec = parse_strategy_text(text, source)

    partnership = db.session.scalars(
        sa.select(Partnership).where(Partnership.slug == spec.partnership["slug"])
    ).first()
    strategy: Strategy | None = None
    if partnership is not None:
        strategy = db.session.scalars(
            sa.select(Strategy).where(
                Strategy.partnership_id == partnership.id,
                Strategy.slug == spec.strategy["slug"],
            )
        ).first()
    if strategy is not None:
        _refuse_removing_used_rows(spec, strategy, source)

    return _write(spec, partnership, strategy, source, user)


def _refuse_removing_used_rows(spec: _Spec, strategy: Strategy, source: str) -> None:
    """Rows that feedback, themes, actions or people depend on cannot silently disappear."""
    problems: list[Problem] = []
    kept_priorities = {p.code.upper() for p in spec.priorities}
    kept_subgroups = {s.code.upper() for s in spec.subgroups}
    kept_outcomes = set(spec.outcomes)

    for priority in strategy.priorities:
        if priority.code.upper() in kept_priorities:
            continue
        uses = _uses(
            [
                (
                    _count(feedback_priority.c.priority_id == priority.id),
                    "feedback item",
                    "feedback items",
                ),
                (_count(theme_priority.c.priority_id == priority.id), "theme", "themes"),
            ]
        )
        if uses:
            problems.append(
                Problem(
                    source,
                    spec.lines["priorities"],
                    "strategy.priorities",
                    f"priority {priority.code!r} is no longer in the file, but it is still linked "
                    f"to {uses}: keep it in the file (its title may change), or re-tag them "
                    "first",
                )
            )

    for subgroup in strategy.subgroups:
        if subgroup.code.upper() in kept_subgroups:
            continue
        uses = _uses(
            [
                (
                    _count(Feedback.routed_subgroup_id == subgroup.id),
                    "feedback item",
                    "feedback items",
                ),
                (_count(Theme.subgroup_id == subgroup.id), "theme", "themes"),
                (_count(Action.subgroup_id == subgroup.id), "action", "actions"),
                (_count(subgroup_member.c.subgroup_id == subgroup.id), "member", "members"),
            ]
        )
        if uses:
            problems.append(
                Problem(
                    source,
                    spec.lines["subgroups"],
                    "strategy.subgroups",
                    f"sub-group {subgroup.code!r} is no longer in the file, but it is still linked "
                    f"to {uses}: keep it in the file, or move them to another sub-group first",
                )
            )

    for outcome in strategy.outcomes:
        if outcome.text in kept_outcomes:
            continue
        uses = _uses(
            [
                (
                    _count(feedback_outcome.c.outcome_id == outcome.id),
                    "feedback item",
                    "feedback items",
                )
            ]
        )
        if uses:
            problems.append(
                Problem(
                    source,
                    spec.lines["outcomes"],
                    "strategy.outcomes",
                    f"outcome {outcome.text!r} is no longer in the file, but it is still linked "
                    f"to {uses}: keep its wording exactly as it was, or re-tag them first",
                )
            )

    if problems:
        raise StrategyFileError(problems)


def _count(criterion: sa.ColumnElement[bool]) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(criterion)) or 0


def _uses(counts: list[tuple[int, str, str]]) -> str:
    """'3 feedback items and 1 theme', or '' when nothing uses the row."""
    parts = [_plural(n, one, many) for n, one, many in counts if n]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


class _Changes:
    def __init__(self) -> None:
        self.added = 0
        self.removed = 0
        self._changed: set[int] = set()

    def touch(self, obj: Any) -> None:
        self._changed.add(id(obj))

    def apply(self, obj: Any, values: dict[str, Any]) -> None:
        """Set only what differs, so an unchanged row is never written (nor its updated_at)."""
        for key, value in values.items():
            if getattr(obj, key) != value:
                setattr(obj, key, value)
                self.touch(obj)

    def as_dict(self) -> dict[str, int]:
        return {"added": self.added, "changed": len(self._changed), "removed": self.removed}


def _write(
    spec: _Spec,
    partnership: Partnership | None,
    strategy: Strategy | None,
    source: str,
    user: User | None,
) -> ImportResult:
    changes = _Changes()
    partnership_created = partnership is None
    if partnership is None:
        partnership = Partnership(**spec.partnership)
        db.session.add(partnership)
        # Child rows carry partnership_id as a plain column, so the id is needed now.
        db.session.flush()
        changes.added += 1
    else:
        changes.apply(partnership, spec.partnership)

    created = strategy is None
    if strategy is None:
        strategy = Strategy(
            partnership=partnership, status=StrategyStatus.ACTIVE.value, **spec.strategy
        )
        db.session.add(strategy)
        changes.added += 1
    else:
        changes.apply(strategy, {**spec.strategy, "status": StrategyStatus.ACTIVE.value})

    # One active strategy at a time; older ones stay readable. A draft being prepared stays a
    # draft: it was never the active one.
    archived: list[Strategy] = []
    for other in db.session.scalars(
        sa.select(Strategy).where(
            Strategy.partnership_id == partnership.id,
            Strategy.status == StrategyStatus.ACTIVE.value,
        )
    ):
        if other is not strategy:
            other.status = StrategyStatus.ARCHIVED.value
            archived.append(other)
            changes.touch(other)

    pid = partnership.id
    priorities = _merge_by_key(
        strategy.priorities,
        [
            (
                p.code.upper(),
                {
                    "code": p.code,
                    "title": p.title,
                    "kind": p.kind,
                    "summary": p.summary,
                    "position": i,
                },
            )
            for i, p in enumerate(spec.priorities)
        ],
        key=lambda row: row.code.upper(),
        make=lambda values: Priority(partnership_id=pid, **values),
        changes=changes,
    )
    if strategy.priorities != priorities:
        strategy.priorities = priorities

    subgroups = _merge_by_key(
        strategy.subgroups,
        [
            (
                s.code.upper(),
                {
                    "code": s.code,
                    "title": s.title,
                    "purpose": s.purpose,
                    "heard": s.heard,
                    "focus": s.focus,
                    "position": i,
                },
            )
            for i, s in enumerate(spec.subgroups)
        ],
        key=lambda row: row.code.upper(),
        make=lambda values: SubGroup(partnership_id=pid, **values),
        changes=changes,
    )
    if strategy.subgroups != subgroups:
        strategy.subgroups = subgroups

    by_code = {p.code.upper(): p for p in priorities}
    for sg_spec, subgroup in zip(spec.subgroups, subgroups, strict=True):
        routed = [by_code[code.upper()] for code, _, _ in sg_spec.priority_refs]
        if {id(p) for p in subgroup.priorities} != {id(p) for p in routed}:
            if subgroup.id is not None:
                changes.touch(subgroup)
            subgroup.priorities = routed

    outcomes = _merge_by_key(
        strategy.outcomes,
        [(text, {"text": text, "position": i}) for i, text in enumerate(spec.outcomes)],
        key=lambda row: row.text,
        make=lambda values: Outcome(partnership_id=pid, **values),
        changes=changes,
    )
    if strategy.outcomes != outcomes:
        strategy.outcomes = outcomes

    principles = _merge_by_key(
        strategy.principles,
        [(text, {"text": text, "position": i}) for i, text in enumerate(spec.principles)],
        key=lambda row: row.text,
        make=lambda values: Principle(partnership_id=pid, **values),
        changes=changes,
    )
    if strategy.principles != principles:
        strategy.principles = principles

    db.session.flush()
    result = ImportResult(
        partnership=partnership,
        strategy=strategy,
        created=created,
        counts={
            "priorities": len(priorities),
            "subgroups": len(subgroups),
            "outcomes": len(outcomes),
            "principles": len(principles),
        },
        partnership_created=partnership_created,
        changes=changes.as_dict(),
        archived=archived,
    )
    if result.changed:
        # No user when run from the command line: the entry then names "system".
        audit.record(
            "strategy.imported",
            strategy,
            user=user,
            partnership=partnership,
            source=source,
            created=created,
            partnership_created=partnership_created,
            changes=result.changes,
            counts=result.counts,
            archived=[s.slug for s in archived],
        )
    return result


def _merge_by_key(
    existing: list[Any],
    wanted: list[tuple[str, dict[str, Any]]],
    *,
    key: Any,
    make: Any,
    changes: _Changes,
) -> list[Any]:
    """Rows in file order: existing rows updated in place, new ones made, the rest left out."""
    current = {key(row): row for row in existing}
    rows = []
    for k, values in wanted:
        row = current.pop(k, None)
        if row is None:
            rows.append(make(values))
            changes.added += 1
        else:
            changes.apply(row, values)
            rows.append(row)
    # Left-over rows drop out of the collection and are deleted (delete-orphan).
    changes.removed += len(current)
    return rows


# --------------------------------------------------------------------------------------------
# Export


class _Folded(str):
    """Long text, written as a folded block (`>-`)."""


class _Flow(list[str]):
    """A short list written on one line: `[SEMH, AUTISM]`."""


class _Dumper(yaml.SafeDumper):
    # Lists indented under their key, as the reference files write them.
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)

    # Only folded blocks wrap; one-line values stay on one line however long.
    def write_plain(self, text: str, split: bool = True) -> None:
        super().write_plain(text, split=False)

    def write_single_quoted(self, text: str, split: bool = True) -> None:
        super().write_single_quoted(text, split=False)

    def write_double_quoted(self, text: str, split: bool = True) -> None:
        super().write_double_quoted(text, split=False)


_Dumper.add_representer(
    _Folded,
    lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style=">"),
)
_Dumper.add_representer(
    _Flow,
    lambda dumper, value: dumper.represent_sequence(
        "tag:yaml.org,2002:seq", list(value), flow_style=True
    ),
)


def _long_text(value: str) -> str:
    return _Folded(value) if len(value) > _FOLD_OVER or "\n" in value else value


def find_strategy(slug: str) -> Strategy:
    """A strategy by its slug, or by 'partnership-slug/strategy-slug' where slugs repeat."""
    stmt = sa.select(Strategy).join(Strategy.partnership)
    if "/" in slug:
        partnership_slug, _, strategy_slug = slug.partition("/")
        stmt = stmt.where(Partnership.slug == partnership_slug, Strategy.slug == strategy_slug)
    else:
        stmt = stmt.where(Strategy.slug == slug)
    found = db.session.scalars(stmt.order_by(Strategy.id)).all()
    if not found:
        known = db.session.execute(
            sa.select(Partnership.slug, Strategy.slug)
            .join(Strategy.partnership)
            .order_by(Partnership.slug, Strategy.slug)
        ).all()
        hint = (
            " Known strategies: " + ", ".join(f"{s} (in {p})" for p, s in known)
            if known
            else " There are no strategies yet: import one with flask strategy import."
        )
        raise StrategyNotFound(f"No strategy with the slug {slug!r}.{hint}")
    if len(found) > 1:
        choices = ", ".join(f"{s.partnership.slug}/{s.slug}" for s in found)
        raise StrategyNotFound(
            f"Several partnerships have a strategy with the slug {slug!r}: name one as {choices}"
        )
    return found[0]


def export_strategy(slug: str) -> str:
    """The strategy as a strategy file; importing it gives the same rows back."""
    strategy = find_strategy(slug)
    p = strategy.partnership

    partnership: dict[str, Any] = {"name": p.name, "slug": p.slug}
    if p.members:
        partnership["members"] = list(p.members)
    if p.parent_carer_forum:
        partnership["parent_carer_forum"] = p.parent_carer_forum
    if p.young_people_groups:
        partnership["young_people_groups"] = _Flow(p.young_people_groups)
    if p.local_offer_url:
        partnership["local_offer_url"] = p.local_offer_url

    block: dict[str, Any] = {"title": strategy.title, "slug": strategy.slug}
    if strategy.starts:
        block["starts"] = strategy.starts
    if strategy.ends:
        block["ends"] = strategy.ends
    if strategy.vision:
        block["vision"] = _long_text(strategy.vision)

    priorities = []
    for priority in sorted(strategy.priorities, key=lambda row: (row.position, row.id)):
        item: dict[str, Any] = {"code": priority.code, "title": priority.title}
        if priority.kind:
            item["kind"] = priority.kind
        if priority.summary:
            item["summary"] = _long_text(priority.summary)
        priorities.append(item)
    block["priorities"] = priorities

    subgroups = []
    for subgroup in sorted(strategy.subgroups, key=lambda row: (row.position, row.id)):
        item = {"code": subgroup.code, "title": subgroup.title}
        if subgroup.purpose:
            item["purpose"] = _long_text(subgroup.purpose)
        routed = sorted(subgroup.priorities, key=lambda row: (row.position, row.id))
        if routed:
            item["priorities"] = _Flow(pr.code for pr in routed)
        if subgroup.heard:
            item["heard"] = list(subgroup.heard)
        if subgroup.focus:
            item["focus"] = list(subgroup.focus)
        subgroups.append(item)
    block["subgroups"] = subgroups
    block["outcomes"] = [
        o.text for o in sorted(strategy.outcomes, key=lambda row: (row.position, row.id))
    ]
    block["principles"] = [
        o.text for o in sorted(strategy.principles, key=lambda row: (row.position, row.id))
    ]

    body = yaml.dump(
        {"partnership": partnership, "strategy": block},
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=EXPORT_WIDTH,
        default_flow_style=False,
    )
    # A blank line between the two blocks, as in the reference files.
    body = body.replace("\nstrategy:\n", "\n\nstrategy:\n", 1)
    header = (
        f"# {strategy.title}\n"
        "# A strategy file: load it with `flask --app wsgi strategy import PATH`.\n"
    )
    return header + body
