"""The default category tree: what the case studies' residents report, with the color
and responsible level a new case of each gets (staff can change them later)."""

from django.db import migrations

# (code, name, parent code, color, level, lead department kind)
DEFAULTS = [
    ("living", "人居环境", "", "green", "grid", ""),
    ("sanitation", "环境卫生", "living", "green", "grid", ""),
    ("property", "物业管理", "living", "yellow", "community", "housing"),
    ("repair", "设施维修", "living", "green", "grid", ""),
    ("safety", "平安法治", "", "yellow", "community", ""),
    ("security", "治安安全", "safety", "yellow", "community", "police"),
    ("neighbour", "邻里纠纷", "safety", "green", "grid", "justice"),
    ("development", "发展保障", "", "red", "party_org", ""),
    ("land", "征地拆迁安置", "development", "red", "party_org", "natural_resources"),
    ("sea_use", "渔船与海域使用", "development", "red", "party_org", "fisheries"),
    ("employment", "就业创业", "development", "yellow", "community", "human_resources"),
    ("livelihood", "民生服务", "", "green", "grid", ""),
    ("elderly", "养老服务", "livelihood", "yellow", "community", "civil_affairs"),
    ("gov_service", "政务服务咨询", "livelihood", "green", "grid", ""),
    ("wish", "微心愿", "livelihood", "green", "grid", ""),
    ("suggestion", "金点子", "livelihood", "yellow", "community", ""),
    ("other", "其他", "", "green", "grid", ""),
]


def create(apps, schema_editor):
    Category = apps.get_model("appeals", "Category")
    made = {}
    for order, (code, name, parent, color, level, lead) in enumerate(DEFAULTS):
        made[code], _created = Category.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "parent": made.get(parent),
                "default_color": color,
                "default_level": level,
                "lead_department_kind": lead,
                "order": order,
            },
        )


def remove(apps, schema_editor):
    Category = apps.get_model("appeals", "Category")
    codes = [row[0] for row in DEFAULTS]
    Category.objects.filter(code__in=codes, parent__isnull=False, cases__isnull=True).delete()
    Category.objects.filter(code__in=codes, children__isnull=True, cases__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("appeals", "0001_cases_events_tasks")]

    operations = [migrations.RunPython(create, remove)]
