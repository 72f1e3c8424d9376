"""The demo jurisdiction's org tree, modelled on the three case studies.

District and county codes are the real GB/T 2260 codes. Street, town, community and
village codes below them are invented but well-formed 12-digit statistical codes (the
real ones are not at hand offline), as are most village and compound names; coordinates
are placed near the real centres. See docs/demo.md.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .choices import DepartmentKind, PartyOrgKind, UnitKind
from .models import Department, PartyOrg, Unit
from .services import department_create, party_org_create, unit_create

# 61 village names for Dongshan's seven towns (synthetic where not in the case study).
DONGSHAN_TOWNS = {
    "西埔镇": 9,
    "铜陵镇": 10,
    "康美镇": 9,
    "杏陈镇": 8,
    "陈城镇": 10,
    "前楼镇": 8,
    "樟塘镇": 7,
}
VILLAGE_STEMS = [
    "山口",
    "澳角",
    "岐下",
    "湖尾",
    "后港",
    "东沈",
    "南埔",
    "西港",
    "冬古",
    "磁窑",
    "港西",
    "大产",
    "亲营",
    "古港",
    "马銮",
    "梧龙",
    "埔头",
    "白埕",
    "歧山",
    "顶西",
    "宫前",
    "沃角",
    "径口",
    "坑北",
    "湖塘",
    "山只",
    "探石",
    "赤山",
    "前何",
    "岱南",
    "城垵",
    "梧岱",
    "康美",
    "铜钵",
    "樟塘",
    "南屿",
    "下湖",
    "寮仔",
    "园林",
    "西山",
    "浦边",
    "东坑",
    "石斋",
    "下坑",
    "新厝",
    "塘东",
    "海尾",
    "田中央",
    "庵前",
    "埕边",
    "大澳",
    "后林",
    "下许",
    "南门",
    "北门",
    "西埕",
    "东埕",
    "苏峰",
    "龙潭",
    "沙坡",
    "屿头",
]


@dataclass
class DemoTree:
    units: dict[str, Unit] = field(default_factory=dict)
    party_orgs: dict[str, PartyOrg] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)


def _unit(tree: DemoTree, key: str, **kwargs: object) -> Unit:
    unit = unit_create(**kwargs)  # type: ignore[arg-type]
    tree.units[key] = unit
    return unit


def _jitter(
    rng: random.Random, lat: float, lng: float, spread: float = 0.01
) -> tuple[float, float]:
    return round(lat + rng.uniform(-spread, spread), 6), round(
        lng + rng.uniform(-spread, spread), 6
    )


def build(rng: random.Random) -> DemoTree:
    tree = DemoTree()
    _build_luzhou(tree, rng)
    _build_dongshan(tree, rng)
    _build_baiyin(tree, rng)
    return tree


def _build_luzhou(tree: DemoTree, rng: random.Random) -> None:
    city = _unit(
        tree, "luzhou", kind=UnitKind.CITY, name="泸州市", code="510500", lat=28.87, lng=105.44
    )
    district = _unit(
        tree,
        "jiangyang",
        kind=UnitKind.DISTRICT,
        name="江阳区",
        code="510502",
        parent=city,
        lat=28.88,
        lng=105.44,
    )
    street = _unit(
        tree,
        "jiangyang_street",
        kind=UnitKind.STREET,
        name="大山坪街道",
        code="510502001000",
        parent=district,
        lat=28.885,
        lng=105.445,
    )
    area = _unit(
        tree,
        "jiangyang_area",
        kind=UnitKind.AREA,
        name="大山坪片区",
        parent=street,
        lat=28.886,
        lng=105.446,
    )
    for index, (key, name) in enumerate(
        [("shangping", "上平社区"), ("jiangyue", "江悦社区"), ("lianhua", "莲花池社区")], start=1
    ):
        lat, lng = _jitter(rng, 28.885, 105.445, 0.012)
        community = _unit(
            tree,
            key,
            kind=UnitKind.COMMUNITY,
            name=name,
            code=f"510502001{index:03d}",
            parent=street,
            lat=lat,
            lng=lng,
        )
        area.spans.add(community)
        for c in range(1, 4):
            clat, clng = _jitter(rng, lat, lng, 0.004)
            compound = _unit(
                tree,
                f"{key}_compound_{c}",
                kind=UnitKind.COMPOUND,
                name=f"{name[:2]}{['花园', '小区', '苑'][c - 1]}",
                parent=community,
                lat=clat,
                lng=clng,
            )
            for b in range(1, 7):
                _unit(
                    tree,
                    f"{key}_compound_{c}_b{b}",
                    kind=UnitKind.BUILDING,
                    name=f"{b}栋",
                    parent=compound,
                )
        secretary = party_org_create(
            kind=PartyOrgKind.COMMITTEE, name=f"{name}党委", unit=community
        )
        tree.party_orgs[key] = secretary
    tree.party_orgs["red_cube"] = party_org_create(
        kind=PartyOrgKind.FUNCTIONAL, name="佳乐广场“红立方”功能型党支部", unit=area
    )
    for dkey, kind, name in [
        ("jy_urban", DepartmentKind.URBAN_MANAGEMENT, "江阳区综合行政执法局"),
        ("jy_civil", DepartmentKind.CIVIL_AFFAIRS, "江阳区民政局"),
        ("jy_hr", DepartmentKind.HUMAN_RESOURCES, "江阳区人力资源和社会保障局"),
    ]:
        tree.departments[dkey] = department_create(kind=kind, name=name, unit=district)
    tree.departments["dsp_police"] = department_create(
        kind=DepartmentKind.POLICE, name="大山坪派出所", unit=street
    )


def _build_dongshan(tree: DemoTree, rng: random.Random) -> None:
    city = _unit(
        tree, "zhangzhou", kind=UnitKind.CITY, name="漳州市", code="350600", lat=24.51, lng=117.65
    )
    county = _unit(
        tree,
        "dongshan",
        kind=UnitKind.COUNTY,
        name="东山县",
        code="350626",
        parent=city,
        lat=23.70,
        lng=117.43,
    )
    county_committee = party_org_create(
        kind=PartyOrgKind.COMMITTEE, name="中共东山县委组织部（基层党建）", unit=county
    )
    stems = iter(VILLAGE_STEMS)
    for t_index, (town_name, village_count) in enumerate(DONGSHAN_TOWNS.items(), start=1):
        tlat, tlng = _jitter(rng, 23.70, 117.43, 0.06)
        town = _unit(
            tree,
            f"town_{t_index}",
            kind=UnitKind.TOWN,
            name=town_name,
            code=f"350626{t_index:03d}000",
            parent=county,
            lat=tlat,
            lng=tlng,
        )
        town_committee = party_org_create(
            kind=PartyOrgKind.COMMITTEE, name=f"{town_name}党委", unit=town, parent=county_committee
        )
        tree.party_orgs[f"town_{t_index}"] = town_committee
        tree.departments[f"town_{t_index}_police"] = department_create(
            kind=DepartmentKind.POLICE, name=f"{town_name[:-1]}派出所", unit=town
        )
        for v_index in range(1, village_count + 1):
            stem = next(stems)
            vlat, vlng = _jitter(rng, tlat, tlng, 0.02)
            village = _unit(
                tree,
                f"village_{t_index}_{v_index}",
                kind=UnitKind.VILLAGE,
                name=f"{stem}村",
                code=f"350626{t_index:03d}{200 + v_index:03d}",
                parent=town,
                lat=vlat,
                lng=vlng,
            )
            tree.party_orgs[f"village_{t_index}_{v_index}"] = party_org_create(
                kind=PartyOrgKind.BRANCH,
                name=f"{stem}村党支部",
                unit=village,
                parent=town_committee,
            )
            for n in range(1, rng.randint(2, 4) + 1):
                nlat, nlng = _jitter(rng, vlat, vlng, 0.006)
                _unit(
                    tree,
                    f"village_{t_index}_{v_index}_n{n}",
                    kind=UnitKind.NATURAL_VILLAGE,
                    name=f"{stem}{['东', '西', '南', '北'][n - 1]}社",
                    parent=village,
                    lat=nlat,
                    lng=nlng,
                )
    # Cross-village joint building (跨村联建): joint party committees over neighbouring villages.
    for t_index in (5, 6):
        town = tree.units[f"town_{t_index}"]
        tree.party_orgs[f"joint_{t_index}"] = party_org_create(
            kind=PartyOrgKind.JOINT_COMMITTEE,
            name=f"{town.name}沿海片区联合党委",
            unit=town,
            parent=tree.party_orgs[f"town_{t_index}"],
        )
    for dkey, kind, name in [
        ("ds_fisheries", DepartmentKind.FISHERIES, "东山县海洋与渔业局"),
        ("ds_emergency", DepartmentKind.EMERGENCY, "东山县应急管理局"),
        ("ds_resources", DepartmentKind.NATURAL_RESOURCES, "东山县自然资源局"),
        ("ds_justice", DepartmentKind.JUSTICE, "东山县司法局"),
        ("ds_ecology", DepartmentKind.ECOLOGY, "漳州市东山生态环境局"),
    ]:
        tree.departments[dkey] = department_create(kind=kind, name=name, unit=county)


def _build_baiyin(tree: DemoTree, rng: random.Random) -> None:
    city = _unit(
        tree, "baiyin_city", kind=UnitKind.CITY, name="白银市", code="620400", lat=36.54, lng=104.14
    )
    district = _unit(
        tree,
        "baiyin",
        kind=UnitKind.DISTRICT,
        name="白银区",
        code="620402",
        parent=city,
        lat=36.55,
        lng=104.17,
    )
    street = _unit(
        tree,
        "baiyin_street",
        kind=UnitKind.STREET,
        name="人民路街道",
        code="620402001000",
        parent=district,
        lat=36.548,
        lng=104.172,
    )
    community = _unit(
        tree,
        "yihe",
        kind=UnitKind.COMMUNITY,
        name="颐和社区",
        code="620402001001",
        parent=street,
        lat=36.552,
        lng=104.175,
    )
    compound = _unit(
        tree,
        "mianfang",
        kind=UnitKind.COMPOUND,
        name="棉纺厂小区",
        parent=community,
        lat=36.5535,
        lng=104.1762,
    )
    for b in range(1, 17):
        _unit(
            tree,
            f"mianfang_b{b}",
            kind=UnitKind.BUILDING,
            name=f"{b}号楼",
            parent=compound,
            lat=round(36.5535 + (b - 8) * 0.0002, 6),
            lng=round(104.1762 + ((b % 4) - 2) * 0.0003, 6),
        )
    committee = party_org_create(kind=PartyOrgKind.COMMITTEE, name="颐和社区党委", unit=community)
    tree.party_orgs["yihe"] = committee
    tree.party_orgs["mianfang"] = party_org_create(
        kind=PartyOrgKind.BRANCH,
        name="棉纺厂小区物业管理委员会党支部",
        unit=compound,
        parent=committee,
    )
    tree.departments["by_civil"] = department_create(
        kind=DepartmentKind.CIVIL_AFFAIRS, name="白银区民政局", unit=district
    )
    tree.departments["by_housing"] = department_create(
        kind=DepartmentKind.HOUSING, name="白银区住房和城乡建设局", unit=district
    )
