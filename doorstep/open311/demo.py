"""The demo's Open311 service definitions: the questions a client is asked for some
categories, and how they are offered. Categories come from the appeals defaults."""

from __future__ import annotations

from doorstep.appeals.models import Category

from .models import ServiceAttribute, ServiceOption

ATTRIBUTES = {
    "repair": [
        {
            "code": "facility",
            "datatype": "singlevaluelist",
            "required": True,
            "description": "哪类设施坏了",
            "values": [
                {"key": "lamp", "name": "路灯"},
                {"key": "stair_light", "name": "楼道灯"},
                {"key": "fitness", "name": "健身器材"},
                {"key": "bench", "name": "座椅"},
                {"key": "other", "name": "其他"},
            ],
        },
    ],
    "sea_use": [
        {
            "code": "boat_number",
            "datatype": "string",
            "required": False,
            "description": "涉及的渔船编号",
            "datatype_description": "如 闽东渔 01234",
        },
        {
            "code": "matter",
            "datatype": "multivaluelist",
            "required": True,
            "description": "涉及哪些事项",
            "values": [
                {"key": "berth", "name": "泊位"},
                {"key": "aquaculture", "name": "养殖海域"},
                {"key": "boundary", "name": "海域界线"},
                {"key": "subsidy", "name": "燃油补贴"},
            ],
        },
    ],
}
# Suggestions are read at the monthly meeting before they are numbered: a batch service.
OPTIONS = {"suggestion": {"type": "batch", "keywords": "金点子, 建议, 意见"}}


def build() -> int:
    """Create the demo's service definitions; return how many attributes were made."""
    made = 0
    for code, attributes in ATTRIBUTES.items():
        category = Category.objects.filter(code=code).first()
        if category is None:
            continue
        for order, spec in enumerate(attributes, start=1):
            ServiceAttribute.objects.create(category=category, order=order, **spec)
            made += 1
    for code, option in OPTIONS.items():
        category = Category.objects.filter(code=code).first()
        if category is not None:
            ServiceOption.objects.create(category=category, **option)
    return made
