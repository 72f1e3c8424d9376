"""Default service categories, station types and amenities (configurable afterwards in
the admin), and — on PostgreSQL — the exclusion constraint that keeps two confirmed
bookings of one room from overlapping.

The constraint needs the ``btree_gist`` extension (for ``room_id WITH =`` inside a GiST
index). Creating an extension needs a superuser or a trusted-extension grant; where the
migration user has neither, a DBA runs ``CREATE EXTENSION btree_gist;`` once and the
migration is re-run. SQLite has no exclusion constraints: there the booking service
checks for overlaps inside a serialized (IMMEDIATE) transaction (docs/adr/0010).
"""

from django.db import migrations

CATEGORIES = [
    ("general", "综合"),
    ("elderly", "养老"),
    ("education", "教育培训"),
    ("health", "医疗健康"),
    ("childcare", "托育"),
    ("employment", "就业"),
    ("culture_sports", "文体"),
    ("legal", "法律"),
]
STATION_TYPES = [
    ("party_guidance", "两新党建指导站"),
    ("government", "政务服务站"),
    ("police", "联动警务站"),
    ("employment", "就业服务站"),
    ("rider_energy", "小哥能量站"),
    ("veterans", "退役军人服务站"),
    ("volunteer", "志愿服务站"),
    ("legal_aid", "法律服务站"),
    ("health", "健康服务站"),
]
AMENITIES = [
    ("drinking_water", "饮用水"),
    ("phone_charging", "手机充电"),
    ("rest", "休息区"),
    ("meal_heating", "热饭"),
    ("first_aid", "急救药箱"),
    ("repair_tools", "维修和针线工具"),
    ("microwave", "微波炉"),
    ("wifi", "免费 Wi-Fi"),
    ("toilet", "卫生间"),
]


def add_defaults(apps, schema_editor):
    for model_name, rows in (
        ("ServiceCategory", CATEGORIES),
        ("StationType", STATION_TYPES),
        ("Amenity", AMENITIES),
    ):
        model = apps.get_model("sites", model_name)
        for sort, (code, name) in enumerate(rows, start=1):
            model.objects.get_or_create(code=code, defaults={"name": name, "sort": sort})


def remove_defaults(apps, schema_editor):
    for model_name, rows in (
        ("ServiceCategory", CATEGORIES),
        ("StationType", STATION_TYPES),
        ("Amenity", AMENITIES),
    ):
        apps.get_model("sites", model_name).objects.filter(
            code__in=[code for code, _name in rows]
        ).delete()


EXCLUSION_SQL = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE sites_booking ADD CONSTRAINT sites_booking_no_overlap
    EXCLUDE USING gist (room_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
    WHERE (status = 'confirmed');
"""


def add_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(EXCLUSION_SQL)


def drop_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE sites_booking DROP CONSTRAINT IF EXISTS sites_booking_no_overlap;"
        )


class Migration(migrations.Migration):
    dependencies = [("sites", "0001_sites_hours_rooms_requests_partners")]

    operations = [
        migrations.RunPython(add_defaults, remove_defaults),
        migrations.RunPython(add_exclusion, drop_exclusion),
    ]
