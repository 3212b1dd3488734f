"""Full-text search (app/services/search.py) and its index (migration 0004), on SQLite FTS5 and
PostgreSQL (run with --db postgresql): the same realistic questions find the same theme."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade

from app.extensions import db
from app.models import Partnership, Theme
from app.services import search
from app.services import themes as svc
from tests import factories

# A partnership's themes, worded as coordinators write them.
THEMES = {
    "speech": (
        "Waiting for speech and language therapy",
        "Families told us children wait more than a year for speech and language therapy, and "
        "get little help while they wait.",
    ),
    "autism": (
        "Waiting times for autism assessments",
        "Parents said the wait for an autism assessment is too long and nobody tells them where "
        "they are on the list.",
    ),
    "transport": (
        "School transport",
        "Families told us taxis to school are often late, drivers change without warning, and "
        "children arrive upset.",
    ),
    "reviews": (
        "EHCP annual reviews",
        "Parents said annual reviews of education, health and care plans are late, and changes "
        "agreed at the review are not made to the plan.",
    ),
    "breaks": (
        "Short breaks and respite",
        "Carers told us there are not enough short breaks, and holiday clubs cannot meet their "
        "children's needs.",
    ),
    "camhs": (
        "Mental health support for young people",
        "Young people said CAMHS waiting lists are long and there is little support for anxiety "
        "while they wait.",
    ),
    "contact": (
        "Communication from the SEND team",
        "Families told us e-mails and calls to the SEND team go unanswered and they have to chase "
        "for information.",
    ),
    "mainstream": (
        "Support in mainstream schools",
        "Parents said teaching assistants are not trained to support autistic pupils, and some "
        "children are sent home early.",
    ),
}

CASES = [
    ("speech therapy waiting list", "speech"),
    ("My son has been on the CAMHS list for 18 months and his anxiety is getting worse", "camhs"),
    ("The taxi driver keeps changing and she gets to school in a state", "transport"),
    ("Nobody answers the phone at the SEND team, I always have to chase them", "contact"),
    ("Her EHCP review was in March and the plan still hasn't been updated", "reviews"),
    ("There's no holiday club that can cope with him, we get no respite at all", "breaks"),
    ("We have waited two years for an autism assessment", "autism"),
    ("The TA isn't trained and they keep sending him home at lunchtime", "mainstream"),
]


@pytest.fixture
def themes(world):
    made = {}
    for key, (title, statement) in THEMES.items():
        made[key] = factories.make_theme(
            world.partnership, title=title, slug=key, statement=statement
        )
    return made


def found(world, text, *criteria, limit=3):
    return [
        hit.row
        for hit in search.search(search.THEMES, world.partnership, text, *criteria, limit=limit)
    ]


# --- Choosing the words to search for ------------------------------------------------------------


def test_significant_words_drop_stop_words_and_talk_and_keep_order():
    assert search.significant_words(
        "We've been waiting for speech therapy, and they told us nothing!"
    ) == ["waiting", "speech", "therapy", "nothing"]


def test_significant_words_fold_case_accents_apostrophes_and_repeats():
    text = "Café CAFE café\u2019s Nan\u2019s nan don\u2019t"
    assert search.significant_words(text) == ["cafe", "nan"]


def test_significant_words_drop_numbers_and_short_words_and_stop_at_the_limit():
    assert search.significant_words("We waited 18 months, 2 years, on an IEP") == [
        "waited",
        "months",
        "years",
        "iep",
    ]
    many = " ".join(f"word{n}x" for n in range(100))
    assert len(search.significant_words(many)) == search.MAX_TERMS
    assert search.significant_words("") == []
    assert search.significant_words(None) == []


def test_query_syntax_in_the_text_is_only_words(world, themes):
    # FTS5 and tsquery operators, quotes and brackets: none reaches either engine as syntax.
    text = 'speech" OR NEAR(therapy) * AND -x ^ | & ! :* \\ (( "" \''
    assert search.significant_words(text) == ["speech", "near", "therapy"]
    assert found(world, text)[0] == themes["speech"]
    assert found(world, "the and of ... ! ?") == []


# --- Ranking: the same top theme on SQLite and PostgreSQL ----------------------------------------


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[1] for c in CASES])
def test_realistic_feedback_finds_the_theme_it_belongs_to(world, themes, text, expected):
    assert found(world, text)[0] == themes[expected]


def test_hits_are_best_first_with_a_rank(world, themes):
    hits = search.search(search.THEMES, world.partnership, "waiting list", limit=10)
    assert len(hits) >= 3
    ranks = [hit.rank for hit in hits]
    assert ranks == sorted(ranks, reverse=True)
    assert {h.row for h in hits} >= {themes["speech"], themes["autism"], themes["camhs"]}
    assert themes["transport"] not in {h.row for h in hits}


def test_words_match_as_prefixes_and_stems(world, themes):
    # "assess" finds "assessments"; "therapies" finds "therapy"; "waited" finds "wait".
    assert found(world, "assess")[0] == themes["autism"]
    assert found(world, "therapies")[0] == themes["speech"]
    assert themes["speech"] in found(world, "waited", limit=10)


def test_nothing_in_common_finds_nothing(world, themes):
    assert found(world, "Lovely staff at the swimming pool") == []


def test_only_the_partnerships_own_themes(world, themes):
    theirs = factories.make_world()
    twin = factories.make_theme(
        theirs.partnership,
        title="Speech therapy speech therapy",
        slug="speech-twin",
        statement="Speech therapy waiting list speech therapy.",
    )
    mine = found(world, "speech therapy waiting list", limit=20)
    assert twin not in mine
    assert found(theirs, "speech therapy waiting list") == [twin]


def test_criteria_narrow_the_rows(world, themes):
    rows = found(world, "speech therapy", Theme.id != themes["speech"].id, limit=10)
    assert themes["speech"] not in rows


# --- The index follows every change, through the triggers ----------------------------------------


def test_a_themes_new_wording_is_found_and_its_old_wording_is_not(world):
    theme = factories.make_theme(world.partnership, title="Respite", statement="Short breaks.")
    assert found(world, "respite") == [theme]
    theme.title = "Holiday clubs"
    theme.statement = "Not enough places in holiday clubs."
    db.session.commit()
    assert found(world, "respite") == []
    assert found(world, "holiday") == [theme]


def test_an_items_redacted_wording_counts_its_raw_text_never(world):
    theme = factories.make_theme(world.partnership, title="Health", statement="Health services.")
    item = factories.make_feedback(
        world.partnership,
        raw_text="Dr Zebedee Quillfeather at the continence clinic never calls back.",
        redacted_text="The continence clinic never calls back.",
    )
    assert found(world, "continence") == []
    svc.add_items(theme, [item])
    db.session.commit()
    assert found(world, "continence clinic") == [theme]
    assert found(world, "Quillfeather Zebedee") == []

    item.redacted_text = "The bladder and bowel nurse never calls back."
    db.session.commit()
    assert found(world, "continence") == []
    assert found(world, "bladder") == [theme]

    svc.remove_items(theme, [item])
    db.session.commit()
    assert found(world, "bladder") == []


def test_a_flagged_items_words_leave_the_index_at_once(world):
    theme = factories.make_theme(world.partnership, title="Health", statement="Health services.")
    item = factories.make_feedback(
        world.partnership, raw_text="x", redacted_text="Worried about bruises on the child."
    )
    svc.add_items(theme, [item])
    db.session.commit()
    assert found(world, "bruises") == [theme]
    # Even if the item stayed in the theme, a flag takes its words out of the index.
    db.session.execute(
        sa.update(type(item)).where(type(item).id == item.id).values(safeguarding_flag=True)
    )
    db.session.commit()
    assert found(world, "bruises") == []


def test_items_moving_between_themes_move_their_words(world):
    first = factories.make_theme(world.partnership, title="First", statement="First theme.")
    second = factories.make_theme(world.partnership, title="Second", statement="Second theme.")
    item = factories.make_feedback(world.partnership, redacted_text="Sensory room was closed.")
    svc.add_items(first, [item])
    db.session.commit()
    assert found(world, "sensory") == [first]
    svc.add_items(second, [item])
    db.session.commit()
    assert found(world, "sensory") == [second]


def test_deleting_a_theme_or_an_item_leaves_nothing_behind(world):
    theme = factories.make_theme(world.partnership, title="Dyslexia", statement="Reading help.")
    item = factories.make_feedback(world.partnership, redacted_text="Phonics group stopped.")
    svc.add_items(theme, [item])
    db.session.commit()
    db.session.delete(item)
    db.session.commit()
    assert found(world, "phonics") == []
    db.session.delete(theme)
    db.session.commit()
    assert found(world, "dyslexia") == []
    assert _index_rows() == 0


def _index_rows() -> int:
    return db.session.scalar(sa.text("SELECT count(*) FROM theme_search"))


# --- The migration --------------------------------------------------------------------------------


def test_the_migration_downgrades_and_upgrades_and_fills_the_index(world):
    config = current_app.extensions["migrate"].migrate.get_config()
    script = ScriptDirectory.from_config(config).get_revision("0004_search_index")
    before = script.down_revision
    assert before == "0003_safeguarding_append_only"

    partnership_id = world.partnership.id
    existing = factories.make_theme(world.partnership, title="Hearing", statement="Audiology.")
    existing_id = existing.id
    db.session.remove()
    try:
        downgrade(revision=before)
        tables = set(sa.inspect(db.engine).get_table_names())
        assert not {t for t in tables if search.is_search_table(t)}
        # Written while there is no index, so only the upgrade's backfill can index it.
        partnership = db.session.get(Partnership, partnership_id)
        later = factories.make_theme(partnership, title="Wheelchairs", statement="Seating.")
        item = factories.make_feedback(partnership, redacted_text="Ramp at the hub.")
        later.feedback = [item]
        db.session.commit()
        later_id = later.id
        db.session.remove()
    finally:
        upgrade()
    partnership = db.session.get(Partnership, partnership_id)

    def ids(text):
        return [hit.row.id for hit in search.search(search.THEMES, partnership, text)]

    assert ids("audiology") == [existing_id]
    assert ids("wheelchairs") == [later_id]
    assert ids("ramp") == [later_id]
    assert _index_rows() == 2


def test_search_tables_are_left_out_of_autogenerate():
    assert search.is_search_table("theme_search")
    assert search.is_search_table("theme_search_data")
    assert not search.is_search_table("theme")
    assert not search.is_search_table("theme_priority")
    assert not search.include_name("theme_search_idx", "table", {})
    assert search.include_name("theme", "table", {})
