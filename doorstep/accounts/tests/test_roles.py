import pytest
from django.db import IntegrityError, transaction

from doorstep.accounts.models import AuditAction, AuditEvent, RoleAssignment
from doorstep.accounts.roles import Role
from doorstep.accounts.services import role_grant, role_revoke
from doorstep.conftest import World, make_user
from doorstep.core.errors import Conflict, PermissionDenied, ValidationError

pytestmark = pytest.mark.django_db


def test_security_admin_grants_and_revokes_with_audit(world: World) -> None:
    security = world.user(Role.SECURITY_ADMIN)
    target = make_user("newbie")
    assignment = role_grant(
        actor=security, user=target, role=Role.COMMUNITY_STAFF, scope=world.a.community
    )
    assert assignment.scope_kind == "unit" and assignment.scope_id == world.a.community.pk
    # A person revoking says why; without a reason nothing changes.
    for blank in ("", "   "):
        with pytest.raises(ValidationError) as refused:
            role_revoke(actor=security, assignment_id=assignment.pk, reason=blank)
        assert "reason" in refused.value.errors
    with pytest.raises(ValidationError):
        role_revoke(actor=security, assignment_id=assignment.pk, reason="长" * 201)
    assignment.refresh_from_db()
    assert assignment.revoked_at is None
    role_revoke(actor=security, assignment_id=assignment.pk, reason="调离本社区")
    assignment.refresh_from_db()
    assert assignment.revoked_at is not None and assignment.revoked_by == security
    assert assignment.revoke_reason == "调离本社区"
    events = list(AuditEvent.objects.filter(actor=security).order_by("id"))
    assert [e.action for e in events] == [AuditAction.ROLE_GRANTED, AuditAction.ROLE_REVOKED]
    assert events[1].detail["reason"] == "调离本社区"


def test_the_roles_page_revokes_with_a_reason_and_refuses_without(world: World) -> None:
    from django.test import Client

    security = world.user(Role.SECURITY_ADMIN)
    target = make_user("leaver")
    assignment = role_grant(
        actor=security, user=target, role=Role.COMMUNITY_STAFF, scope=world.a.community
    )
    client = Client()
    client.force_login(security)
    page = client.get("/console/roles/").content.decode()
    url = f"/console/roles/{assignment.pk}/revoke/"
    assert f'action="{url}"' in page and f'id="reason-{assignment.pk}"' in page
    refused = client.post(url, {"reason": ""}, follow=True).content.decode()
    assert "撤销角色须说明原因" in refused and 'role="alert"' in refused
    assignment.refresh_from_db()
    assert assignment.revoked_at is None
    done = client.post(url, {"reason": "退休"}, follow=True).content.decode()
    assert "已撤销角色" in done
    assignment.refresh_from_db()
    assert (assignment.revoked_by, assignment.revoke_reason) == (security, "退休")


@pytest.mark.parametrize(
    "role", [Role.SYSTEM_ADMIN, Role.AUDITOR, Role.COMMUNITY_STAFF, Role.CITY_ADMIN]
)
def test_only_the_security_admin_may_grant(world: World, role: str) -> None:
    target = make_user("target")
    with pytest.raises(PermissionDenied):
        role_grant(actor=world.user(role), user=target, role=Role.RESIDENT)
    assert not target.role_assignments.exists()
    assert AuditEvent.objects.filter(
        action=AuditAction.ROLE_GRANT_REFUSED, actor=world.user(role)
    ).exists()


def test_security_admin_cannot_grant_to_themselves(world: World) -> None:
    security = world.user(Role.SECURITY_ADMIN)
    with pytest.raises(PermissionDenied):
        role_grant(
            actor=security, user=security, role=Role.COMMUNITY_STAFF, scope=world.a.community
        )


@pytest.mark.parametrize(
    "first,second",
    [
        (Role.SYSTEM_ADMIN, Role.AUDITOR),
        (Role.AUDITOR, Role.SECURITY_ADMIN),
        (Role.SECURITY_ADMIN, Role.SYSTEM_ADMIN),
    ],
)
def test_no_account_holds_two_separated_admin_roles(world: World, first: str, second: str) -> None:
    target = make_user("admin2", first)
    with pytest.raises(ValidationError, match="不能由同一账号兼任"):
        role_grant(actor=world.user(Role.SECURITY_ADMIN), user=target, role=second)
    assert target.role_assignments.count() == 1


def test_the_database_also_refuses_two_separated_admin_roles(world: World) -> None:
    target = make_user("admin3", Role.SYSTEM_ADMIN)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=target, role=Role.AUDITOR, scope_kind="system")


def test_role_at_the_wrong_level_is_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="这一级") as info:
        role_grant(
            actor=None, user=make_user("x"), role=Role.COMMUNITY_STAFF, scope=world.a.district
        )
    assert info.value.field == "scope"


def test_scoped_role_needs_a_scope_and_unscoped_role_refuses_one(world: World) -> None:
    with pytest.raises(ValidationError, match="必须指定范围"):
        role_grant(actor=None, user=make_user("y"), role=Role.COMMUNITY_STAFF)
    with pytest.raises(ValidationError, match="不需要指定范围"):
        role_grant(actor=None, user=make_user("z"), role=Role.AUDITOR, scope=world.a.city)


def test_duplicate_grant_is_a_conflict(world: World) -> None:
    user = make_user("dup", Role.COMMUNITY_STAFF, world.a.community)
    with pytest.raises(Conflict):
        role_grant(actor=None, user=user, role=Role.COMMUNITY_STAFF, scope=world.a.community)


def test_role_whose_module_is_missing_cannot_be_granted(world: World) -> None:
    from doorstep.accounts.roles import role_available

    if role_available(Role.PARTNER):
        pytest.skip("partners are installed")
    with pytest.raises(ValidationError, match="尚未启用"):
        role_grant(actor=None, user=make_user("p"), role=Role.PARTNER, scope=1)


def test_revoking_twice_is_a_conflict(world: World) -> None:
    assignment = world.user(Role.RESIDENT).role_assignments.get()
    role_revoke(actor=None, assignment_id=assignment.pk)
    with pytest.raises(Conflict):
        role_revoke(actor=None, assignment_id=assignment.pk)


def test_a_refused_grant_on_the_roles_page_says_why_in_an_alert(world: World) -> None:
    """Every field of the grant form announces its refusal, the note's too (it once came
    back unsaved with no word)."""
    from django.test import Client

    from doorstep.core.testing import alerts

    make_user("newbie")
    client = Client()
    client.force_login(world.user(Role.SECURITY_ADMIN))
    before = RoleAssignment.objects.count()
    response = client.post(
        "/console/roles/grant/",
        {"username": "newbie", "role": Role.COMMUNITY_STAFF, "scope": world.a.community.pk,
         "note": "长" * 201},
    )  # fmt: skip
    assert response.status_code == 400
    assert alerts(response) == ["确保该变量包含不超过 200 字符 (目前字符数 201)。"]
    assert RoleAssignment.objects.count() == before
