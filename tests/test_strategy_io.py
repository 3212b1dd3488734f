"""Strategy files: `flask strategy import` and `flask strategy export` (DESIGN.md section 9)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from app.extensions import db
from app.models import (
    AuditEntry,
    Outcome,
    Partnership,
    Principle,
    Priority,
    Strategy,
    SubGroup,
)
from app.services.strategy_io import (
    StrategyFileError,
    StrategyNotFound,
    export_strategy,
    import_strategy_file,
    import_strategy_text,
)
from tests import factories

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "strategies" / "stockport-2024-2027.yaml"
SHARED_STRATEGIES = REPO.parent / "shared" / "strategies"


def _strategy_files() -> list[Any]:
    params = [pytest.param(EXAMPLE, id=f"examples/{EXAMPLE.name}")]
    if SHARED_STRATEGIES.is_dir():
        params += [
            pytest.param(path, id=f"shared/{path.name}")
            for path in sorted(SHARED_STRATEGIES.glob("*.yaml"))
        ]
    else:
        params.append(
            pytest.param(
                None,
                id="shared-strategies-absent",
                marks=pytest.mark.skip(
                    reason=f"the shared reference strategies are not beside the repo "
                    f"({SHARED_STRATEGIES})"
                ),
            )
        )
    return params


STRATEGY_FILES = _strategy_files()


def dump_rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order: the whole database as data."""
    rows = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        rows[table.name] = [tuple(r) for r in db.session.execute(sa.select(table).order_by(*order))]
    return rows


def count_rows() -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
        for table in db.metadata.sorted_tables
    }


def cli_import(runner, path: Path):
    return runner.invoke(args=["strategy", "import", str(path)])


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the nth line containing needle."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= occurrence, f"{needle!r} not in the text {occurrence} times"
    return hits[occurrence - 1]


# A small but complete strategy file; the broken variants below are edits of it.
VALID = """\
partnership:
  name: Testshire SEND Partnership
  slug: testshire
  members:
    - Testshire Council
    - NHS Testshire
  parent_carer_forum: Testshire Parent Carer Forum
  young_people_groups: [Youth Voice]
  local_offer_url: https://localoffer.testshire.example/

strategy:
  title: Testshire SEND Strategy 2025-2028
  slug: testshire-send-2025-2028
  starts: 2025-09-01
  ends: 2028-08-31
  vision: >-
    Every child and young person with SEND in Testshire has the best start in life,
    and every family feels heard.
  priorities:
    - code: SEMH
      title: Social, emotional and mental health
      kind: need
    - code: AUTISM
      title: Autism and neurodiversity
      kind: need
      summary: Waiting well for an assessment.
    - code: TIMELINESS
      title: Timeliness of assessment
  subgroups:
    - code: CCE
      title: Co-production, Communication and Engagement
      purpose: Clear and timely communication with families.
      priorities: [TIMELINESS, SEMH]
      heard:
        - Families feel they must chase information.
      focus:
        - A communication plan.
    - code: QPMI
      title: Quality, Performance and Measuring Impact
      priorities: [AUTISM]
  outcomes:
    - My voice is heard and acted upon
    - I feel safe
  principles:
    - Be open and honest
    - Actively listen
"""


def write(tmp_path: Path, text: str, name: str = "testshire.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def commit_import(text: str, source: str = "testshire.yaml"):
    result = import_strategy_text(text, source=source)
    db.session.commit()
    return result


# ---------------------------------------------------------------------------------------------
# Every reference file, and the project's own example, imports unchanged and idempotently


@pytest.mark.parametrize("path", STRATEGY_FILES)
def test_strategy_file_imports_and_a_second_import_changes_no_row(app, runner, path):
    first = cli_import(runner, path)
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("Imported ")
    assert "It is now the active strategy." in first.stdout

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    partnership = db.session.scalars(sa.select(Partnership)).one()
    strategy = db.session.scalars(sa.select(Strategy)).one()
    assert partnership.slug == data["partnership"]["slug"]
    assert partnership.name == data["partnership"]["name"]
    assert strategy.slug == data["strategy"]["slug"]
    assert strategy.title == data["strategy"]["title"]
    assert strategy.starts == data["strategy"]["starts"]
    assert strategy.ends == data["strategy"].get("ends")
    assert strategy.status == "active"
    assert [p.code for p in strategy.priorities] == [
        p["code"] for p in data["strategy"]["priorities"]
    ]
    assert [s.code for s in strategy.subgroups] == [
        s["code"] for s in data["strategy"]["subgroups"]
    ]
    assert [o.text for o in strategy.outcomes] == data["strategy"]["outcomes"]
    assert [p.text for p in strategy.principles] == data["strategy"]["principles"]
    assert all(p.partnership_id == partnership.id for p in strategy.priorities)
    audit = db.session.scalars(sa.select(AuditEntry)).one()
    assert (audit.verb, audit.actor, audit.object_id) == (
        "strategy.imported",
        "system",
        strategy.id,
    )
    assert audit.details["created"] is True

    before = dump_rows()
    second = cli_import(runner, path)
    assert second.exit_code == 0, second.output
    assert "Nothing changed" in second.stdout
    db.session.expire_all()
    assert dump_rows() == before


@pytest.mark.parametrize("path", STRATEGY_FILES)
def test_export_then_import_then_export_gives_the_same_text(app, runner, path):
    assert cli_import(runner, path).exit_code == 0
    slug = yaml.safe_load(path.read_text(encoding="utf-8"))["strategy"]["slug"]

    exported = runner.invoke(args=["strategy", "export", slug])
    assert exported.exit_code == 0, exported.output
    # Nothing is lost: the export reads as the same data as the file it came from.
    assert yaml.safe_load(exported.stdout) == yaml.safe_load(path.read_text(encoding="utf-8"))

    rows = dump_rows()
    result = import_strategy_text(exported.stdout, source="exported.yaml")
    assert not result.changed
    db.session.commit()
    db.session.expire_all()
    assert dump_rows() == rows
    assert export_strategy(slug) == exported.stdout


def test_export_keeps_the_reference_key_order_and_writes_routing_only_when_set(app, runner):
    commit_import(VALID)
    text = export_strategy("testshire-send-2025-2028")
    data = yaml.safe_load(text)
    assert list(data) == ["partnership", "strategy"]
    assert list(data["partnership"]) == [
        "name",
        "slug",
        "members",
        "parent_carer_forum",
        "young_people_groups",
        "local_offer_url",
    ]
    assert list(data["strategy"]) == [
        "title",
        "slug",
        "starts",
        "ends",
        "vision",
        "priorities",
        "subgroups",
        "outcomes",
        "principles",
    ]
    assert list(data["strategy"]["priorities"][1]) == ["code", "title", "kind", "summary"]
    cce, qpmi = data["strategy"]["subgroups"]
    assert list(qpmi) == ["code", "title", "priorities"]
    assert list(cce) == ["code", "title", "purpose", "priorities", "heard", "focus"]
    # Routing is written in the strategy's priority order.
    assert cce["priorities"] == ["SEMH", "TIMELINESS"]
    assert "  young_people_groups: [Youth Voice]\n" in text
    assert "\n\nstrategy:\n" in text

    no_routing = VALID.replace("      priorities: [TIMELINESS, SEMH]\n", "").replace(
        "      priorities: [AUTISM]\n", ""
    )
    commit_import(no_routing)
    data = yaml.safe_load(export_strategy("testshire-send-2025-2028"))
    assert all("priorities" not in sg for sg in data["strategy"]["subgroups"])


def test_export_writes_awkward_text_so_that_it_reads_back_the_same(app):
    awkward = {
        "name": "yes",
        "title": "2024",
        "summary": "- starts with a dash: and has a colon, a #hash and 'quotes' and “curly” ones",
        "vision": "First paragraph, long enough to be folded over more than one line when it "
        "is written out by the export.\n\nSecond paragraph: short.",
    }
    text = (
        VALID.replace("  name: Testshire SEND Partnership", f"  name: '{awkward['name']}'")
        .replace("      title: Timeliness of assessment", f"      title: '{awkward['title']}'")
        .replace(
            "      summary: Waiting well for an assessment.",
            "      summary: " + yaml.safe_dump(awkward["summary"], width=1000).split("\n")[0],
        )
    )
    commit_import(text)
    strategy = db.session.scalars(sa.select(Strategy)).one()
    strategy.vision = awkward["vision"]
    db.session.commit()

    exported = export_strategy("testshire-send-2025-2028")
    data = yaml.safe_load(exported)
    assert data["partnership"]["name"] == "yes"
    assert data["strategy"]["priorities"][2]["title"] == "2024"
    assert data["strategy"]["priorities"][1]["summary"] == awkward["summary"]
    assert data["strategy"]["vision"] == awkward["vision"]
    assert not import_strategy_text(exported).changed
    db.session.commit()
    assert export_strategy("testshire-send-2025-2028") == exported


def test_the_example_file_routes_every_priority_to_a_sub_group(app, runner):
    assert cli_import(runner, EXAMPLE).exit_code == 0
    strategy = db.session.scalars(sa.select(Strategy)).one()
    routing = {sg.code: [p.code for p in sg.priorities] for sg in strategy.subgroups}
    assert routing == {
        "CCE": ["TIMELINESS"],
        "QPMI": ["TIMELINESS", "SEN-SUPPORT"],
        "JCIW": ["SEMH", "AUTISM", "SLCN", "SEN-SUPPORT"],
        "WDSC": ["SEMH", "AUTISM", "SLCN"],
    }
    assert all(p.subgroups for p in strategy.priorities)
    assert (
        strategy.partnership.parent_carer_forum == "Parents and Carers Together Stockport (PACTS)"
    )
    assert strategy.partnership.young_people_groups == ["SAYS", "AUTISK", "PIE"]
    # The seed documents name no Local Offer address, so none is invented.
    assert strategy.partnership.local_offer_url is None


# ---------------------------------------------------------------------------------------------
# Re-import updates in place


def test_reimport_updates_rows_in_place_and_removes_what_left_the_file(app):
    commit_import(VALID)
    ids = {p.code: p.id for p in db.session.scalars(sa.select(Priority))}
    sg_ids = {s.code: s.id for s in db.session.scalars(sa.select(SubGroup))}
    outcome_ids = {o.text: o.id for o in db.session.scalars(sa.select(Outcome))}
    strategy_id = db.session.scalars(sa.select(Strategy.id)).one()

    edited = (
        VALID.replace("Autism and neurodiversity", "Autism and neurodiversity (all ages)")
        # TIMELINESS moves first; a new priority arrives; an outcome and a principle leave.
        .replace(
            "    - code: SEMH\n",
            "    - code: TIMELINESS\n      title: Timeliness of assessment\n    - code: SEMH\n",
            1,
        )
        .replace(
            "    - code: TIMELINESS\n      title: Timeliness of assessment\n  subgroups:",
            "    - code: SLCN\n      title: Speech, language and communication\n  subgroups:",
        )
        .replace("      priorities: [TIMELINESS, SEMH]\n", "      priorities: [SLCN]\n")
        .replace("    - I feel safe\n", "")
        .replace("    - Actively listen\n", "")
        .replace("  name: Testshire SEND Partnership", "  name: Testshire Local Area Partnership")
    )
    result = commit_import(edited)
    assert not result.created
    assert result.changes["added"] == 1  # SLCN
    assert result.changes["removed"] == 2  # the outcome and the principle
    assert "Changes: 1 added" in result.summary()

    db.session.expire_all()
    strategy = db.session.get(Strategy, strategy_id)
    assert [p.code for p in strategy.priorities] == ["TIMELINESS", "SEMH", "AUTISM", "SLCN"]
    assert [p.position for p in strategy.priorities] == [0, 1, 2, 3]
    assert {p.code: p.id for p in strategy.priorities if p.code != "SLCN"} == ids
    assert strategy.priorities[2].title == "Autism and neurodiversity (all ages)"
    assert {s.code: s.id for s in strategy.subgroups} == sg_ids
    assert [p.code for p in strategy.subgroups[0].priorities] == ["SLCN"]
    assert [o.text for o in strategy.outcomes] == ["My voice is heard and acted upon"]
    assert strategy.outcomes[0].id == outcome_ids["My voice is heard and acted upon"]
    assert [p.text for p in strategy.principles] == ["Be open and honest"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Principle)) == 1
    assert strategy.partnership.name == "Testshire Local Area Partnership"
    verbs = db.session.scalars(sa.select(AuditEntry.verb).order_by(AuditEntry.id)).all()
    assert verbs == ["strategy.imported", "strategy.imported"]


def test_a_key_left_out_clears_its_value(app):
    commit_import(VALID)
    trimmed = VALID.replace(
        "  local_offer_url: https://localoffer.testshire.example/\n", ""
    ).replace("      summary: Waiting well for an assessment.\n", "")
    commit_import(trimmed)
    partnership = db.session.scalars(sa.select(Partnership)).one()
    assert partnership.local_offer_url is None
    autism = db.session.scalars(sa.select(Priority).where(Priority.code == "AUTISM")).one()
    assert autism.summary is None


def test_a_new_strategy_becomes_active_and_the_older_one_is_archived(app, runner, tmp_path):
    commit_import(VALID)
    partnership = db.session.scalars(sa.select(Partnership)).one()
    db.session.add(Strategy(partnership=partnership, title="Next", slug="next", status="draft"))
    db.session.commit()
    newer = (
        VALID.replace("testshire-send-2025-2028", "testshire-send-2028-2031")
        .replace("starts: 2025-09-01", "starts: 2028-09-01")
        .replace("ends: 2028-08-31", "ends: 2031-08-31")
    )
    result = cli_import(runner, write(tmp_path, newer))
    assert result.exit_code == 0, result.output
    assert "Archived: testshire-send-2025-2028." in result.stdout
    statuses = dict(db.session.execute(sa.select(Strategy.slug, Strategy.status)).all())
    assert statuses == {
        "testshire-send-2025-2028": "archived",
        "testshire-send-2028-2031": "active",
        "next": "draft",
    }
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Partnership)) == 1

    # Importing the older file again makes it the active one once more.
    commit_import(VALID)
    statuses = dict(db.session.execute(sa.select(Strategy.slug, Strategy.status)).all())
    assert statuses == {
        "testshire-send-2025-2028": "active",
        "testshire-send-2028-2031": "archived",
        "next": "draft",
    }


def test_import_adds_nothing_to_the_session_until_the_file_is_known_good(app):
    with pytest.raises(StrategyFileError):
        import_strategy_text(VALID.replace("  title: Testshire SEND Strategy 2025-2028\n", ""))
    assert not db.session.new
    assert not db.session.dirty


def test_text_that_yaml_would_read_as_a_boolean_or_number_is_kept_as_written(app):
    text = (
        VALID.replace("      title: Timeliness of assessment", "      title: yes")
        .replace("    - code: TIMELINESS", "    - code: 2024")
        .replace("[TIMELINESS, SEMH]", "[2024, SEMH]")
    )
    commit_import(text)
    priority = db.session.scalars(sa.select(Priority).where(Priority.code == "2024")).one()
    assert priority.title == "yes"


def test_codes_are_stored_as_given_and_routing_matches_them_in_any_case(app):
    commit_import(VALID.replace("[TIMELINESS, SEMH]", "[timeliness, semh]"))
    cce = db.session.scalars(sa.select(SubGroup).where(SubGroup.code == "CCE")).one()
    assert [p.code for p in cce.priorities] == ["SEMH", "TIMELINESS"]


# ---------------------------------------------------------------------------------------------
# Broken files are refused whole, naming line and field, leaving the database untouched

BROKEN = [
    pytest.param(
        VALID.replace("  slug: testshire-send-2025-2028", "  slug: testshire: send"),
        ("slug: testshire: send", 1),
        None,
        "not valid YAML: mapping values are not allowed here",
        id="bad-yaml",
    ),
    pytest.param(
        VALID.replace("  title: Testshire SEND Strategy 2025-2028", "  title: [unclosed"),
        ("slug: testshire-send", 1),
        None,
        "not valid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence on line "
        "12)",
        id="bad-yaml-unclosed-list",
    ),
    pytest.param(
        VALID.replace("  title: Testshire SEND Strategy 2025-2028\n", ""),
        ("strategy:", 1),
        "strategy.title",
        "required but missing",
        id="missing-title",
    ),
    pytest.param(
        VALID.replace("  title: Testshire SEND Strategy 2025-2028", "  title: ''"),
        ("  title: ''", 1),
        "strategy.title",
        "is empty",
        id="empty-title",
    ),
    pytest.param(
        VALID.replace("    - code: AUTISM", "    - code: SEMH"),
        ("code: SEMH", 2),
        "strategy.priorities[1].code",
        "duplicate priority code 'SEMH'",
        id="duplicate-priority-code",
    ),
    pytest.param(
        VALID.replace("    - code: QPMI", "    - code: CCE"),
        ("code: CCE", 2),
        "strategy.subgroups[1].code",
        "duplicate sub-group code 'CCE'",
        id="duplicate-subgroup-code",
    ),
    pytest.param(
        VALID.replace("[TIMELINESS, SEMH]", "[TIMELINESS, SEN]"),
        ("[TIMELINESS, SEN]", 1),
        "strategy.subgroups[0].priorities[1]",
        "unknown priority 'SEN'",
        id="unknown-priority-in-routing",
    ),
    pytest.param(
        VALID.replace("      title: Social, emotional", "      titel: Social, emotional"),
        ("titel:", 1),
        "strategy.priorities[0].titel",
        "unknown key 'titel' (did you mean 'title'?)",
        id="unknown-key",
    ),
    pytest.param(
        VALID.replace("starts: 2025-09-01", "starts: 2025-13-01"),
        ("starts:", 1),
        "strategy.starts",
        "'2025-13-01' is not a date",
        id="bad-date",
    ),
    pytest.param(
        VALID.replace("starts: 2025-09-01", "starts: next September"),
        ("starts:", 1),
        "strategy.starts",
        "'next September' is not a date",
        id="date-in-words",
    ),
    pytest.param(
        VALID.replace("ends: 2028-08-31", "ends: 2024-08-31"),
        ("ends:", 1),
        "strategy.ends",
        "before it starts",
        id="ends-before-starts",
    ),
    pytest.param(
        VALID.replace(
            "  name: Testshire SEND Partnership", "  name:\n    - Testshire\n    - Partnership"
        ),
        ("- Testshire", 1),
        "partnership.name",
        "expected text, found a list",
        id="list-where-text-expected",
    ),
    pytest.param(
        VALID.replace(
            "  outcomes:\n    - My voice is heard and acted upon\n    - I feel safe\n",
            "  outcomes: My voice is heard and acted upon\n",
        ),
        ("outcomes: My voice", 1),
        "strategy.outcomes",
        "expected a list",
        id="text-where-list-expected",
    ),
    pytest.param(
        VALID.replace("slug: testshire-send-2025-2028", "slug: Testshire SEND"),
        ("slug: Testshire SEND", 1),
        "strategy.slug",
        "'Testshire SEND' is not a slug",
        id="bad-slug",
    ),
    pytest.param(
        VALID.replace("    - code: TIMELINESS\n", "    - code:\n"),
        ("    - code:", 3),
        "strategy.priorities[2].code",
        "is empty",
        id="empty-code",
    ),
    pytest.param(
        VALID.replace("    - code: TIMELINESS\n", "    - code: TIME LINESS\n"),
        ("TIME LINESS", 1),
        "strategy.priorities[2].code",
        "is not a code",
        id="bad-code",
    ),
    pytest.param(
        VALID.replace("https://localoffer.testshire.example/", "javascript:alert(1)"),
        ("local_offer_url:", 1),
        "partnership.local_offer_url",
        "is not a web address",
        id="unsafe-url",
    ),
    pytest.param(
        VALID.split("\nstrategy:")[0] + "\n",
        ("partnership:", 1),
        "strategy",
        "required but missing",
        id="missing-strategy-block",
    ),
    pytest.param(
        VALID.replace("    - I feel safe\n", "    - My voice is heard and acted upon\n"),
        ("My voice is heard", 2),
        "strategy.outcomes[1]",
        "duplicate outcome",
        id="duplicate-outcome",
    ),
    pytest.param(
        VALID.replace("  vision: >-", "  slug: again\n  vision: >-"),
        ("slug: again", 1),
        "strategy.slug",
        "duplicate key 'slug'",
        id="duplicate-key",
    ),
    pytest.param(
        VALID.split("  priorities:\n")[0]
        + "  priorities: []\n  subgroups:"
        + VALID.split("  subgroups:")[1],
        ("priorities: []", 1),
        "strategy.priorities",
        "at least one priority",
        id="no-priorities",
    ),
]


@pytest.mark.parametrize(("text", "where", "field", "message"), BROKEN)
def test_a_broken_file_is_refused_naming_line_and_field_and_changes_nothing(
    app, runner, tmp_path, text, where, field, message
):
    # An earlier good import, so a refused update would show if it were half-applied.
    commit_import(VALID)
    counts, rows = count_rows(), dump_rows()

    result = cli_import(runner, write(tmp_path, text))

    assert result.exit_code != 0
    line = line_of(text, *where)
    expected = f"testshire.yaml line {line}" + (f", {field}" if field else "")
    assert expected in result.stderr, result.stderr
    assert message in result.stderr
    assert result.stderr.startswith("Error: testshire.yaml line ")
    assert "Traceback" not in result.output
    db.session.expire_all()
    assert count_rows() == counts
    assert dump_rows() == rows


def test_a_broken_file_creates_nothing_on_an_empty_database(app, runner, tmp_path):
    counts = count_rows()
    text = VALID.replace("    - code: AUTISM", "    - code: SEMH")
    result = cli_import(runner, write(tmp_path, text))
    assert result.exit_code == 1
    assert "duplicate priority code 'SEMH'" in result.stderr
    assert count_rows() == counts


def test_every_problem_in_a_file_is_reported_at_once(app):
    text = (
        VALID.replace("  title: Testshire SEND Strategy 2025-2028\n", "")
        .replace("starts: 2025-09-01", "starts: 2025-02-30")
        .replace("      kind: need\n    - code: AUTISM", "      knd: need\n    - code: AUTISM")
    )
    with pytest.raises(StrategyFileError) as caught:
        import_strategy_text(text, source="testshire.yaml")
    fields = [p.field for p in caught.value.problems]
    assert fields == ["strategy.starts", "strategy.title", "strategy.priorities[0].knd"]
    assert str(caught.value).count("testshire.yaml line ") == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"", "the file is empty", id="empty"),
        pytest.param(b"- a list\n- not a mapping\n", "expected a block of keys", id="list"),
        pytest.param(
            VALID.replace("Testshire Council", "Testshire Caf\u00e9").encode("latin-1"),
            "not UTF-8 text",
            id="not-utf8",
        ),
        pytest.param(b"partnership: {}\nstrategy: {}\n---\nmore: 1\n", "not valid YAML", id="two"),
        pytest.param(b"partnership:\n\tname: tab\n", "not valid YAML", id="tab-indent"),
    ],
)
def test_unreadable_files_are_refused_with_the_file_named(app, runner, tmp_path, content, message):
    path = tmp_path / "odd.yaml"
    path.write_bytes(content)
    result = cli_import(runner, path)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: odd.yaml")
    assert message in result.stderr
    assert count_rows()["partnership"] == 0


def test_not_utf8_names_the_line(app, tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes(VALID.replace("Testshire Council", "Testshire Caf\u00e9").encode("latin-1"))
    with pytest.raises(StrategyFileError) as caught:
        import_strategy_file(path)
    assert caught.value.line == line_of(VALID, "Testshire Council")


def test_a_missing_file_is_refused(app, runner, tmp_path):
    result = cli_import(runner, tmp_path / "nowhere.yaml")
    assert result.exit_code == 1
    assert "nowhere.yaml: no such file" in result.stderr


def test_a_byte_order_mark_is_accepted(app, tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode("utf-8"))
    assert import_strategy_file(path).created


# ---------------------------------------------------------------------------------------------
# Rows that feedback, themes or people use cannot be removed by an import


def _without_autism(text: str = VALID) -> str:
    return text.replace(
        "    - code: AUTISM\n      title: Autism and neurodiversity\n      kind: need\n"
        "      summary: Waiting well for an assessment.\n",
        "",
    ).replace("      priorities: [AUTISM]\n", "")


def test_removing_a_priority_that_themes_use_is_refused(app, runner, tmp_path):
    commit_import(VALID)
    partnership = db.session.scalars(sa.select(Partnership)).one()
    autism = db.session.scalars(sa.select(Priority).where(Priority.code == "AUTISM")).one()
    factories.make_theme(partnership, priorities=[autism])
    counts, rows = count_rows(), dump_rows()

    text = _without_autism()
    result = cli_import(runner, write(tmp_path, text))

    assert result.exit_code == 1
    assert f"testshire.yaml line {line_of(text, '  priorities:')}, strategy.priorities" in (
        result.stderr
    )
    assert "priority 'AUTISM' is no longer in the file, but it is still linked to 1 theme" in (
        result.stderr
    )
    db.session.expire_all()
    assert count_rows() == counts
    assert dump_rows() == rows


def test_removing_a_priority_that_feedback_is_tagged_to_is_refused(app):
    commit_import(VALID)
    partnership = db.session.scalars(sa.select(Partnership)).one()
    autism = db.session.scalars(sa.select(Priority).where(Priority.code == "AUTISM")).one()
    factories.make_feedback(partnership, priorities=[autism])
    factories.make_feedback(partnership, priorities=[autism])
    with pytest.raises(StrategyFileError, match="linked to 2 feedback items"):
        import_strategy_text(_without_autism(), source="testshire.yaml")


def test_removing_an_unused_priority_is_allowed(app):
    commit_import(VALID)
    result = commit_import(_without_autism())
    assert result.changes["removed"] == 1
    assert db.session.scalars(sa.select(Priority.code).order_by(Priority.position)).all() == [
        "SEMH",
        "TIMELINESS",
    ]


def test_removing_a_sub_group_with_members_or_themes_is_refused(app):
    commit_import(VALID)
    partnership = db.session.scalars(sa.select(Partnership)).one()
    qpmi = db.session.scalars(sa.select(SubGroup).where(SubGroup.code == "QPMI")).one()
    factories.make_user(partnership, "subgroup_lead", subgroups=[qpmi])
    factories.make_theme(partnership, subgroup=qpmi)
    without_qpmi = VALID.replace(
        "    - code: QPMI\n      title: Quality, Performance and Measuring Impact\n"
        "      priorities: [AUTISM]\n",
        "",
    )
    with pytest.raises(StrategyFileError) as caught:
        import_strategy_text(without_qpmi, source="testshire.yaml")
    assert caught.value.field == "strategy.subgroups"
    assert "sub-group 'QPMI'" in str(caught.value)
    assert "1 theme and 1 member" in str(caught.value)


def test_rewording_an_outcome_that_feedback_uses_is_refused(app):
    commit_import(VALID)
    partnership = db.session.scalars(sa.select(Partnership)).one()
    item = factories.make_feedback(partnership)
    item.outcomes = [
        db.session.scalars(sa.select(Outcome).where(Outcome.text == "I feel safe")).one()
    ]
    db.session.commit()
    with pytest.raises(StrategyFileError, match="outcome 'I feel safe' is no longer in the file"):
        import_strategy_text(VALID.replace("I feel safe", "I feel safe at school"))


def test_reordering_used_rows_is_fine(app):
    commit_import(VALID)
    partnership = db.session.scalars(sa.select(Partnership)).one()
    autism = db.session.scalars(sa.select(Priority).where(Priority.code == "AUTISM")).one()
    theme = factories.make_theme(partnership, priorities=[autism])
    reordered = VALID.replace(
        "    - My voice is heard and acted upon\n    - I feel safe\n",
        "    - I feel safe\n    - My voice is heard and acted upon\n",
    )
    commit_import(reordered)
    db.session.expire_all()
    assert [p.code for p in db.session.get(type(theme), theme.id).priorities] == ["AUTISM"]
    assert db.session.scalars(sa.select(Outcome.text).order_by(Outcome.position)).all() == [
        "I feel safe",
        "My voice is heard and acted upon",
    ]


# ---------------------------------------------------------------------------------------------
# Export


def test_export_of_an_unknown_slug_fails_clearly(app, runner):
    commit_import(VALID)
    result = runner.invoke(args=["strategy", "export", "nope"])
    assert result.exit_code == 1
    assert "No strategy with the slug 'nope'" in result.stderr
    assert "testshire-send-2025-2028 (in testshire)" in result.stderr


def test_export_names_the_partnership_when_two_share_a_strategy_slug(app, runner):
    commit_import(VALID)
    commit_import(VALID.replace("slug: testshire\n", "slug: otherton\n"))
    with pytest.raises(StrategyNotFound, match="otherton/testshire-send-2025-2028"):
        export_strategy("testshire-send-2025-2028")
    result = runner.invoke(args=["strategy", "export", "otherton/testshire-send-2025-2028"])
    assert result.exit_code == 0, result.output
    assert "  slug: otherton\n" in result.stdout
