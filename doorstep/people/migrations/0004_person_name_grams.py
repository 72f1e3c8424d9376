"""An index of the characters and character pairs of every person's name, so that a
Chinese name fragment (``秀英``, ``建国``, even ``英``) is found without reading the
whole registry. See docs/adr/0007-name-search.md.

PostgreSQL: a GIN index over ``people_person_name_grams(name)``, an immutable SQL
function returning the name's distinct characters and character pairs. The database
keeps it up to date on every write, COPY included.

SQLite: the table ``people_person_name_gram (gram, person_id)``, holding the same grams
of ``lower(name)`` (SQLite's LIKE folds ASCII case), kept up to date by triggers on
``people_person``, so the importers' ``executemany`` is covered too.

Caution for later migrations: on SQLite, a migration that makes Django rebuild
``people_person`` (most AlterField / RemoveField operations) drops these triggers with
the old table; it must run :data:`SQLITE_TRIGGERS` again.
``doorstep/people/tests/test_selectors.py`` fails when the triggers are missing.
"""

# ruff: noqa: S608 - every statement is built from this module's constants, never from input

from django.db import migrations

GRAM_TABLE = "people_person_name_gram"
GRAMS_FUNCTION = "people_person_name_grams"
GRAMS_INDEX = "people_person_name_grams_gin"

POSTGRESQL_FORWARD = [
    f"""
    CREATE OR REPLACE FUNCTION {GRAMS_FUNCTION}(value text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT coalesce(array_agg(DISTINCT substr(value, i, n)), '{{}}')
        FROM generate_series(1, char_length(value)) AS i, generate_series(1, 2) AS n
        WHERE i + n - 1 <= char_length(value)
    $$
    """,
    f"CREATE INDEX {GRAMS_INDEX} ON people_person USING gin ({GRAMS_FUNCTION}(name))",
]
POSTGRESQL_BACKWARD = [
    f"DROP INDEX IF EXISTS {GRAMS_INDEX}",
    f"DROP FUNCTION IF EXISTS {GRAMS_FUNCTION}(text)",
]


def _sqlite_grams(name: str) -> str:
    """A SELECT of the distinct characters and character pairs of ``lower(name)``."""
    return f"""
        WITH RECURSIVE position(i) AS (
            SELECT 1 UNION ALL SELECT i + 1 FROM position WHERE i < length({name})
        )
        SELECT DISTINCT substr(lower({name}), i, n) AS gram
        FROM position, (SELECT 1 AS n UNION ALL SELECT 2)
        WHERE i + n - 1 <= length({name})
    """


SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER {GRAM_TABLE}_insert AFTER INSERT ON people_person BEGIN
        INSERT OR IGNORE INTO {GRAM_TABLE} (gram, person_id)
        SELECT gram, NEW.id FROM ({_sqlite_grams("NEW.name")}) AS grams;
    END
    """,
    f"""
    CREATE TRIGGER {GRAM_TABLE}_update AFTER UPDATE OF id, name ON people_person BEGIN
        DELETE FROM {GRAM_TABLE}
        WHERE person_id = OLD.id AND gram IN ({_sqlite_grams("OLD.name")});
        INSERT OR IGNORE INTO {GRAM_TABLE} (gram, person_id)
        SELECT gram, NEW.id FROM ({_sqlite_grams("NEW.name")}) AS grams;
    END
    """,
    f"""
    CREATE TRIGGER {GRAM_TABLE}_delete AFTER DELETE ON people_person BEGIN
        DELETE FROM {GRAM_TABLE}
        WHERE person_id = OLD.id AND gram IN ({_sqlite_grams("OLD.name")});
    END
    """,
]
SQLITE_FORWARD = [
    f"""
    CREATE TABLE {GRAM_TABLE} (
        gram text NOT NULL,
        person_id integer NOT NULL,
        PRIMARY KEY (gram, person_id)
    ) WITHOUT ROWID
    """,
    *SQLITE_TRIGGERS,
    f"""
    INSERT OR IGNORE INTO {GRAM_TABLE} (gram, person_id)
    WITH RECURSIVE position(i) AS (
        SELECT 1 UNION ALL
        SELECT i + 1 FROM position WHERE i < (SELECT max(length(name)) FROM people_person)
    )
    SELECT substr(lower(p.name), i, n), p.id
    FROM people_person AS p, position, (SELECT 1 AS n UNION ALL SELECT 2)
    WHERE i + n - 1 <= length(p.name)
    """,
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {GRAM_TABLE}_insert",
    f"DROP TRIGGER IF EXISTS {GRAM_TABLE}_update",
    f"DROP TRIGGER IF EXISTS {GRAM_TABLE}_delete",
    f"DROP TABLE IF EXISTS {GRAM_TABLE}",
]


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0003_person_id_last4"),
    ]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRESQL_BACKWARD, "sqlite": SQLITE_BACKWARD}),
            elidable=False,
        ),
    ]
