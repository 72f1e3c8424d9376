"""PostgreSQL: a finer histogram of ``people_person.name`` (1,000 buckets instead of 100).

A search for one common character (``英``, a few percent of the registry) from a wide
scope is fastest by walking the registry's order (``name_pinyin, id``) to the 50th match.
The planner does so only if it knows the ``LIKE '%英%'`` keeps a few percent of the rows;
it estimates that from the name's histogram, and with 100 buckets over 100,000 distinct
names a character of a few percent hits none, so it guessed a few hundred rows and read
the whole table in parallel (250 ms). With 1,000 buckets its estimate is close and the
walk takes a few milliseconds. ``ANALYZE`` samples more rows for this column in return.
See docs/adr/0011-registry-bulk-load-and-wide-search.md. Nothing on SQLite.
"""

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE people_person ALTER COLUMN name SET STATISTICS 1000")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE people_person ALTER COLUMN name SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0005_person_plain_search_indexes"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
