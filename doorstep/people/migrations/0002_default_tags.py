"""The tags every deployment starts with (more are added in the admin)."""

from django.db import migrations

TAGS = [
    ("disability", "残疾人"),
    ("veteran", "退役军人"),
    ("courier", "快递员"),
    ("rider", "外卖骑手"),
    ("ride_hailing", "网约车司机"),
    ("low_income", "低收入"),
    ("living_alone", "独居"),
]


def add_tags(apps, schema_editor):
    Tag = apps.get_model("people", "Tag")
    for code, name in TAGS:
        Tag.objects.get_or_create(code=code, defaults={"name": name})


def remove_tags(apps, schema_editor):
    apps.get_model("people", "Tag").objects.filter(code__in=[code for code, _ in TAGS]).delete()


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]
    operations = [migrations.RunPython(add_tags, remove_tags)]
