"""Full-text search: one interface over SQLite FTS5 and PostgreSQL full-text ranking.

An index is a side table that database triggers keep in step with the rows it describes
(migration 0004 for the private theme index), so no code path can change a theme and forget
the index. `search()` ranks one index's rows against free text and returns the described rows,
best first, limited to one partnership through app/services/scoping.py.

Another index (the public search of published wording, say) is another SearchIndex over its
own table, with the same shape: SQLite reads it as an FTS5 table whose rowid is the row's id,
PostgreSQL as a table with the id in `key` and a weighted tsvector in `document`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from app.extensions import db
from app.models import Partnership, Theme
from app.services.scoping import scoped

M = TypeVar("M")

# A query longer than this is a pasted essay: its first distinct words say enough, and a short
# OR of prefixes keeps both engines fast.
MAX_TERMS = 24
MIN_WORD_LENGTH = 3
# Shorter words match as themselves only: as prefixes they would match half the dictionary.
MIN_PREFIX_LENGTH = 4

# English stop words (a superset of PostgreSQL's english.stop, so both engines drop the same
# words), and the words of talk that every feedback item and theme is full of. "SEND" names the
# whole service (the SEND team, SEND transport): it tells themes apart no better than "the",
# and as the verb it shares a stem with, it says nothing either ("sent home" still counts).
STOP_WORDS = frozenset(
    """
    a about above after again against ain all also am an and any are aren arent as at be
    because been before being below between both but by can cannot cant could couldn couldnt d
    did didn didnt do does doesn doesnt doing don dont down during each even ever every few for
    from further get gets getting got had hadn hadnt has hasn hasnt have haven havent having he
    her here hers herself him himself his how i if in into is isn isnt it its itself just ll m
    ma me mightn more most much must mustn my myself needn no nor not now o of off on once only
    or other our ours ourselves out over own quite rather re really s same shan she should
    shouldn shouldnt so some still such t than that thats the their theirs them themselves then
    there these they this those through to too under until up us ve very was wasn wasnt we well
    were weren what when where which while who whom why will with won wont would wouldn
    wouldnt y you your yours yourself yourselves
    told tell telling tells said say says saying feel feels felt think thought know knew like
    lot lots thing things something anything everything one ones way ways want wanted go going
    gone went come came make made take took see seen bit
    send sends sending
    """.split()  # noqa: SIM905 (a long word list reads better as words than as quoted strings)
)

# we've, they're, I'll, she'd, I'm, don't: pronouns and auxiliaries, never what it is about.
_CONTRACTIONS = frozenset({"ve", "re", "ll", "d", "m", "t"})
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def significant_words(text: str | None, limit: int = MAX_TERMS) -> list[str]:
    """The words of `text` worth searching for: lower case, ASCII, no stop words, in order.

    Only [a-z0-9] survive, so no word can carry query syntax into either engine.
    """
    if not text:
        return []
    folded = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES).lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    words: list[str] = []
    for match in _WORD.finditer(folded):
        word = match.group()
        if word.endswith("'s"):
            word = word[:-2]
        if "'" in word:
            if word.rsplit("'", 1)[1] in _CONTRACTIONS:
                continue
            word = word.replace("'", "")
        if len(word) < MIN_WORD_LENGTH or word.isdigit() or word in STOP_WORDS:
            continue
        if word not in words:
            words.append(word)
            if len(words) == limit:
                break
    return words


@dataclass(frozen=True)
class SearchIndex(Generic[M]):
    """A full-text index of one model's rows (see the module docstring for its table shape)."""

    table: str
    model: type[M]
    # PostgreSQL: the column holding the row's id. SQLite keeps it in the FTS5 rowid.
    key: str
    # SQLite's bm25() weight for each indexed column, in table order. PostgreSQL's weights are
    # the setweight() letters the table's generated tsvector gives the same columns.
    weights: tuple[float, ...]


@dataclass(frozen=True)
class Hit(Generic[M]):
    row: M
    # Higher is better. Comparable within one search only, not across engines or searches.
    rank: float


# Private to the triage pages: a theme's title (A), statement (B) and the redacted wording of
# its items (C). Migration 0004.
THEMES: SearchIndex[Theme] = SearchIndex(
    table="theme_search", model=Theme, key="theme_id", weights=(10.0, 4.0, 1.0)
)

INDEXES: tuple[SearchIndex[Any], ...] = (THEMES,)


def is_search_table(name: str | None) -> bool:
    """A table that belongs to a search index, and its FTS5 shadow tables (theme_search_data...).

    They are made by hand-written migrations and are not in the models, so autogenerate and
    the models-match-migrations test leave them alone.
    """
    if not name:
        return False
    return any(name == index.table or name.startswith(f"{index.table}_") for index in INDEXES)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's include_name hook: everything but the search indexes' tables."""
    return not (type_ == "table" and is_search_table(name))


def _fts5_query(words: Sequence[str]) -> str:
    # Each word is [a-z0-9]+ (significant_words), so quoting it is all the escaping it needs.
    return " OR ".join(f'"{w}"*' if len(w) >= MIN_PREFIX_LENGTH else f'"{w}"' for w in words)


def _tsquery(words: Sequence[str]) -> str:
    return " | ".join(f"{w}:*" if len(w) >= MIN_PREFIX_LENGTH else w for w in words)


def search(
    index: SearchIndex[M],
    partnership: Partnership,
    text: str | None,
    *criteria: Any,
    limit: int = 10,
) -> list[Hit[M]]:
    """Rows of `index` in `partnership` that share significant words with `text`, best first.

    Any one word is enough to match (the words are OR-ed, each as a prefix when long enough);
    rows that share more of them, rarer ones, in heavier columns, rank higher. `criteria`
    narrow the rows further (not withdrawn, not this one...).
    """
    words = significant_words(text)
    if not words or limit <= 0:
        return []
    model: Any = index.model
    stmt = scoped(model, *criteria, partnership=partnership)
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        fts = sa.table(index.table, sa.column("rowid"))
        target: sa.ColumnElement[Any] = sa.literal_column(index.table)
        # bm25() is lower for better matches; negated so that higher is better everywhere.
        rank: sa.ColumnElement[Any] = -sa.func.bm25(target, *index.weights)
        stmt = stmt.join(fts, fts.c.rowid == model.id).where(target.op("MATCH")(_fts5_query(words)))
    elif dialect == "postgresql":
        table = sa.table(index.table, sa.column(index.key), sa.column("document"))
        query = pg.to_tsquery("english", _tsquery(words))
        rank = sa.func.ts_rank(table.c.document, query)
        stmt = stmt.join(table, table.c[index.key] == model.id).where(
            table.c.document.bool_op("@@")(query)
        )
    else:
        raise NotImplementedError(f"No full-text search for {dialect}")
    stmt = stmt.add_columns(rank.label("rank")).order_by(sa.desc("rank"), model.id.desc())
    return [Hit(row=row, rank=float(score)) for row, score in db.session.execute(stmt.limit(limit))]
