"""Who moved out of the area or died (people.services.person_leave): the day, the reason
and a note, and a small index over the few who did.

On SQLite, Django adds a column with a default by rebuilding ``people_person``, which
would drop the name-gram triggers of migration 0004 (and copy a whole registry). The
columns are added with ``ALTER TABLE … ADD COLUMN`` instead, which SQLite does in place;
PostgreSQL gets Django's own statements. The migration state is the same either way.
"""

from django.db import migrations, models

LEFT_FIELDS = [
    (
        "left_on",
        models.DateField(blank=True, editable=False, null=True, verbose_name="离开日期"),
        "date NULL",
    ),
    (
        "left_reason",
        models.CharField(
            blank=True,
            choices=[("moved_away", "迁出本辖区"), ("deceased", "去世")],
            db_default="",
            default="",
            editable=False,
            max_length=20,
            verbose_name="离开原因",
        ),
        "varchar(20) DEFAULT '' NOT NULL",
    ),
    (
        "left_note",
        models.CharField(
            blank=True,
            db_default="",
            default="",
            editable=False,
            max_length=100,
            verbose_name="离开说明",
        ),
        "varchar(100) DEFAULT '' NOT NULL",
    ),
]


def _bound(field, name, model):
    """The field as the model would hold it (the historical model here has no such field
    yet, or none any more)."""
    field = field.clone()
    field.set_attributes_from_name(name)
    field.model = model
    return field


def add_columns(apps, schema_editor):
    Person = apps.get_model("people", "Person")
    for name, field, sqlite_type in LEFT_FIELDS:
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(
                f'ALTER TABLE "people_person" ADD COLUMN "{name}" {sqlite_type}', params=None
            )
        else:
            schema_editor.add_field(Person, _bound(field, name, Person))


def drop_columns(apps, schema_editor):
    Person = apps.get_model("people", "Person")
    for name, field, _sqlite_type in reversed(LEFT_FIELDS):
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(f'ALTER TABLE "people_person" DROP COLUMN "{name}"', params=None)
        else:
            schema_editor.remove_field(Person, _bound(field, name, Person))


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0006_person_name_statistics"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunPython(add_columns, drop_columns, elidable=False),
            ],
            state_operations=[
                migrations.AddField(model_name="person", name=name, field=field)
                for name, field, _sqlite_type in LEFT_FIELDS
            ],
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(
                condition=models.Q(("left_on__isnull", False)),
                fields=["left_on"],
                name="people_person_left_idx",
            ),
        ),
    ]
