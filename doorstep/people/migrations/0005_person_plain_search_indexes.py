"""Drop the PostgreSQL ``varchar_pattern_ops`` copies (``…_like``) of five search indexes.

``db_index=True`` on a CharField makes Django create two indexes on PostgreSQL: a plain
B-tree and a ``varchar_pattern_ops`` one for ``LIKE 'prefix%'``. None of these five
columns is ever searched with LIKE: ``phone_hash``, ``id_last4`` and ``phone_last4`` only
by equality, ``name_pinyin`` and ``name_initials`` by ranges (``>= q AND < q⁺``, see
``prefix_range`` in ``doorstep/people/selectors.py``), which the plain index answers.
The copies cost every insert a second random write per column; ``phone_hash``'s alone is
as large as the hash index itself (90 MB for 1,000,000 persons). See
docs/adr/0011-registry-bulk-load-and-wide-search.md.

The fields become plain columns with named ``Meta.indexes``; the existing plain indexes
are kept (renamed on PostgreSQL, re-created under the new name on SQLite, where a
``RemoveIndex``/``AlterField`` would rebuild ``people_person`` and drop the name-gram
triggers of migration 0004).
"""

# ruff: noqa: S608 - every statement is built from this module's constants, never from input

from django.db import migrations, models

# (field, Django's name for the db_index index, the new name)
INDEXES = [
    ("name_pinyin", "people_person_name_pinyin_4d35398e", "people_person_pinyin_idx"),
    ("name_initials", "people_person_name_initials_a0be91d8", "people_person_initials_idx"),
    ("id_last4", "people_person_id_last4_4d85b62c", "people_person_id_last4_idx"),
    ("phone_hash", "people_person_phone_hash_0f1e8fe3", "people_person_phone_hash_idx"),
    ("phone_last4", "people_person_phone_last4_c9a60bce", "people_person_phone_last4_idx"),
]


def forward(apps, schema_editor):
    for column, old, new in INDEXES:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f'DROP INDEX IF EXISTS "{old}_like"')
            schema_editor.execute(f'ALTER INDEX IF EXISTS "{old}" RENAME TO "{new}"')
        else:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{old}"')
            schema_editor.execute(f'CREATE INDEX "{new}" ON "people_person" ("{column}")')


def backward(apps, schema_editor):
    for column, old, new in INDEXES:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f'ALTER INDEX IF EXISTS "{new}" RENAME TO "{old}"')
            schema_editor.execute(
                f'CREATE INDEX "{old}_like" ON "people_person" ("{column}" varchar_pattern_ops)'
            )
        else:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{new}"')
            schema_editor.execute(f'CREATE INDEX "{old}" ON "people_person" ("{column}")')


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0004_person_name_grams"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forward, backward, elidable=False)],
            state_operations=[
                migrations.AlterField(
                    model_name="person",
                    name="name_pinyin",
                    field=models.CharField(editable=False, max_length=200, verbose_name="姓名拼音"),
                ),
                migrations.AlterField(
                    model_name="person",
                    name="name_initials",
                    field=models.CharField(
                        editable=False, max_length=50, verbose_name="拼音首字母"
                    ),
                ),
                migrations.AlterField(
                    model_name="person",
                    name="id_last4",
                    field=models.CharField(
                        blank=True, editable=False, max_length=4, verbose_name="身份证号后四位"
                    ),
                ),
                migrations.AlterField(
                    model_name="person",
                    name="phone_hash",
                    field=models.CharField(
                        blank=True, editable=False, max_length=64, verbose_name="电话（检索哈希）"
                    ),
                ),
                migrations.AlterField(
                    model_name="person",
                    name="phone_last4",
                    field=models.CharField(
                        blank=True, editable=False, max_length=4, verbose_name="电话后四位"
                    ),
                ),
                *[
                    migrations.AddIndex(
                        model_name="person",
                        index=models.Index(fields=[column], name=new),
                    )
                    for column, _old, new in INDEXES
                ],
            ],
        ),
    ]
