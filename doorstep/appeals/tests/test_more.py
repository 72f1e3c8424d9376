"""Month-end classification, wishes, suggestions, disputes, duplicates and photos."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from doorstep.accounts.roles import Role
from doorstep.appeals.choices import Action, CaseKind, CaseState, ClaimantKind, Color, Level
from doorstep.appeals.models import Case, CaseEvent, CasePhoto, MonthlyClassification
from doorstep.appeals.photos import clean_photo
from doorstep.appeals.selectors import (
    disputes_resolved,
    duplicates_near,
    month_cases,
    published_sheet,
    suggestion_figures,
    wish_wall,
)
from doorstep.appeals.services import (
    mediation_assign,
    mediation_conclude,
    mediation_session_log,
    month_classify,
    month_publish,
    suggestion_mark,
    wish_claim,
    wish_fulfil,
    wishes_to_cases,
)
from doorstep.conftest import World, make_user
from doorstep.core import timeutils
from doorstep.core.errors import Conflict, PermissionDenied, ValidationError
from doorstep.grids.models import Wish, WishStatus
from doorstep.grids.services import visit_log

from .factories import category, submit

pytestmark = pytest.mark.django_db


def _this_month() -> tuple[int, int]:
    today = timeutils.local_today()
    return today.year, today.month


def test_month_end_classification_confirms_changes_and_publishes(world: World) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    green, other = submit(world), submit(world, code="property")
    year, month = _this_month()
    assert {c.pk for c in month_cases(community=world.a.community, year=year, month=month)} == {
        green.pk,
        other.pk,
    }
    with pytest.raises(PermissionDenied):
        month_classify(
            actor=world.user(Role.GRID_MEMBER), community=world.a.community, year=year, month=month
        )
    with pytest.raises(ValidationError, match="未知的颜色") as exc:
        month_classify(
            actor=staff,
            community=world.a.community,
            year=year,
            month=month,
            colors={green.pk: "blue"},
        )
    assert exc.value.field == "colors"
    record = month_classify(
        actor=staff,
        community=world.a.community,
        year=year,
        month=month,
        colors={green.pk: Color.RED},
    )
    assert (record.classified_by_id, record.month) == (staff.pk, dt.date(year, month, 1))
    assert record.counts == {"green": 0, "yellow": 1, "red": 1} and record.changed == 1
    green.refresh_from_db()
    assert (green.color, green.level, green.is_joint) == (Color.RED, Level.PARTY_ORG, True)
    assert CaseEvent.objects.filter(case=green, action=Action.CLASSIFY).exists()
    with pytest.raises(Conflict, match="已完成分类"):
        month_classify(actor=staff, community=world.a.community, year=year, month=month)
    assert published_sheet(community=world.a.community, year=year, month=month) == (None, [])
    month_publish(actor=staff, classification=record)
    published, rows = published_sheet(community=world.a.community, year=year, month=month)
    assert published is not None and len(rows) == 2
    assert "reporter_person" not in rows[0] and "text" not in rows[0]


def test_month_end_refuses_a_future_month(world: World) -> None:
    nxt = timeutils.local_today().replace(day=28) + dt.timedelta(days=10)
    with pytest.raises(ValidationError, match="未来"):
        month_classify(
            actor=world.user(Role.COMMUNITY_STAFF),
            community=world.a.community,
            year=nxt.year,
            month=nxt.month,
        )
    assert not MonthlyClassification.objects.exists()


def test_wishes_from_a_visit_become_cases_once(world: World) -> None:
    member = world.user(Role.GRID_MEMBER)
    visit = visit_log(
        actor=member,
        household=world.a.household,
        visited_on=timeutils.local_today(),
        wishes=["想要一副老花镜", "希望有人帮忙修自行车"],
    )
    cases = wishes_to_cases(actor=member, visit=visit)
    assert len(cases) == 2 and all(c.kind == CaseKind.WISH and c.wish_id for c in cases)
    assert set(Wish.objects.filter(visit=visit).values_list("status", flat=True)) == {
        WishStatus.TAKEN_UP
    }
    assert wishes_to_cases(actor=member, visit=visit) == []
    assert Case.objects.filter(kind=CaseKind.WISH).count() == 2
    assert set(wish_wall().values_list("pk", flat=True)) == {c.pk for c in cases}


def test_a_withdrawn_wish_does_not_become_a_case(world: World) -> None:
    member = world.user(Role.GRID_MEMBER)
    visit = visit_log(
        actor=member,
        household=world.a.household,
        visited_on=timeutils.local_today(),
        wishes=["想要一副老花镜"],
    )
    Wish.objects.filter(visit=visit).update(status=WishStatus.WITHDRAWN)
    with pytest.raises(ValidationError, match="撤回"):
        wishes_to_cases(actor=member, visit=visit)
    assert not Case.objects.exists()


def test_claim_and_fulfil_a_wish(world: World) -> None:
    member = world.user(Role.GRID_MEMBER)
    visit = visit_log(
        actor=member,
        household=world.a.household,
        visited_on=timeutils.local_today(),
        wishes=["想要一副老花镜"],
    )
    (case,) = wishes_to_cases(actor=member, visit=visit)
    volunteer = make_user("vol", Role.RESIDENT)
    with pytest.raises(PermissionDenied):
        wish_claim(actor=volunteer, case=case, claimant_kind=ClaimantKind.PARTY_MEMBER)
    claim = wish_claim(
        actor=volunteer, case=case, claimant_kind=ClaimantKind.VOLUNTEER, label="志愿者小李"
    )
    with pytest.raises(Conflict):
        wish_claim(
            actor=make_user("vol2", Role.RESIDENT), case=case, claimant_kind=ClaimantKind.VOLUNTEER
        )
    wish_fulfil(actor=volunteer, claim_id=claim.pk, note="已送到")
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED and "志愿者小李" in case.result


def test_suggestions_collected_adopted_and_solved(world: World) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    made = [
        submit(world, code="suggestion", kind=CaseKind.SUGGESTION, text=f"建议{i}")
        for i in range(3)
    ]
    suggestion_mark(
        actor=staff, case=made[0], version=made[0].version, adopted=True, problem_solved=True
    )
    suggestion_mark(actor=staff, case=made[1], version=made[1].version, adopted=True)
    with pytest.raises(ValidationError, match="未采纳"):
        suggestion_mark(
            actor=staff, case=made[2], version=made[2].version, adopted=False, problem_solved=True
        )
    with pytest.raises(PermissionDenied):
        suggestion_mark(
            actor=world.user(Role.GRID_MEMBER), case=made[2], version=made[2].version, adopted=True
        )
    assert suggestion_figures(unit=world.a.city) == {"collected": 3, "adopted": 2, "solved": 1}
    assert suggestion_figures(unit=world.b.city)["collected"] == 0


def test_dispute_mediation(world: World) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    case = submit(world, code="neighbour", kind=CaseKind.DISPUTE, text="两户因渔排边界争执")
    mediator = make_user("heshilao", Role.RESIDENT)
    mediation = mediation_assign(actor=staff, case=case, mediator=mediator, parties="张家、李家")
    with pytest.raises(ValidationError, match="至少一次调解会"):
        mediation_conclude(
            actor=mediator, mediation=mediation, outcome="agreement", agreement="协议"
        )
    mediation_session_log(
        actor=mediator,
        mediation=mediation,
        held_at=timeutils.now(),
        place="村委会",
        notes="双方陈述",
    )
    with pytest.raises(ValidationError, match="不能为空"):
        mediation_conclude(actor=mediator, mediation=mediation, outcome="agreement", agreement="")
    mediation_conclude(
        actor=mediator, mediation=mediation, outcome="agreement", agreement="以界桩为准"
    )
    start = timeutils.now() - dt.timedelta(days=1)
    figures = disputes_resolved(
        unit=world.a.city, start=start, end=timeutils.now() + dt.timedelta(days=1)
    )
    assert figures == {"concluded": 1, "agreements": 1}
    with pytest.raises(ValidationError, match="只有矛盾纠纷"):
        mediation_assign(actor=staff, case=submit(world), mediator=mediator, parties="甲、乙")


def test_duplicates_within_200_m_of_the_same_category(world: World) -> None:
    resident = world.user(Role.RESIDENT)
    near = submit(world, lat=30.0, lng=110.0, household=None, unit=world.a.compound)
    submit(world, code="repair", lat=30.0, lng=110.0, household=None, unit=world.a.compound)
    far = submit(world, lat=30.01, lng=110.0, household=None, unit=world.a.compound)
    found = duplicates_near(category=category("sanitation"), lat=30.001, lng=110.0)
    assert [row["id"] for row in found] == [near.pk]
    assert far.pk not in [row["id"] for row in found]
    assert resident  # the resident submitted all three


def _image(fmt: str = "JPEG", size: tuple[int, int] = (40, 20), exif: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x0112] = 6  # orientation: rotate 90°
        data[0x8825] = {2: (30, 0, 0)}  # GPS
        image.save(out, fmt, exif=data.tobytes())
    else:
        image.save(out, fmt)
    return out.getvalue()


def test_photo_is_reencoded_oriented_and_stripped(world: World) -> None:
    upload = SimpleUploadedFile("x.jpg", _image(exif=True), content_type="image/jpeg")
    case = submit(world, photos=[upload])
    photo = CasePhoto.objects.get(case=case)
    assert (photo.width, photo.height) == (20, 40)  # orientation applied
    with photo.image.open("rb") as fh, Image.open(fh) as stored:
        assert not stored.getexif()


@pytest.mark.parametrize(
    "payload,message",
    [
        (b"<html>not an image</html>", "不是有效的图片"),
        (b"GIF89a" + b"\x00" * 30, "不是有效的图片"),
        (_image("PNG")[:30], "不是有效的图片"),
    ],
)
def test_forged_photo_is_refused_and_nothing_is_made(
    world: World, payload: bytes, message: str
) -> None:
    upload = SimpleUploadedFile("photo.jpg", payload, content_type="image/jpeg")
    with pytest.raises(ValidationError, match=message) as exc:
        submit(world, photos=[upload])
    assert exc.value.field == "photo"
    assert not Case.objects.exists()


def test_photo_limits(settings: object) -> None:
    settings.DOORSTEP_APPEALS = {"PHOTO_MAX_PIXELS": 100, "PHOTO_MAX_BYTES": 10 * 1024 * 1024}  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="像素"):
        clean_photo(io.BytesIO(_image(size=(20, 20))))
    settings.DOORSTEP_APPEALS = {"PHOTO_MAX_BYTES": 50}  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="MB"):
        clean_photo(io.BytesIO(_image()))
    settings.DOORSTEP_APPEALS = {}  # type: ignore[attr-defined]
    for fmt, ext in (("PNG", "png"), ("WEBP", "webp")):
        data, found, width, height = clean_photo(io.BytesIO(_image(fmt)))
        assert (found, width, height) == (ext, 40, 20)
        assert Image.open(io.BytesIO(data)).format == fmt
