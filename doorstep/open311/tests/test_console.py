"""The key page: only the system administrator reaches it; a key is shown once; revoking
works; both are audited with who did it."""

from __future__ import annotations

import pytest
from django.test import Client

from doorstep.accounts.models import AuditAction, AuditEvent
from doorstep.accounts.roles import Role
from doorstep.conftest import World
from doorstep.open311.models import ApiKey
from doorstep.open311.services import api_key_check

pytestmark = pytest.mark.django_db
URL = "/console/open311/keys/"


@pytest.mark.parametrize("role", [Role.COMMUNITY_STAFF, Role.SECURITY_ADMIN, Role.RESIDENT])
def test_only_the_system_administrator_reaches_the_page(world: World, role: str) -> None:
    client = Client()
    client.force_login(world.user(role))
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"name": "x"}).status_code == 404
    assert not ApiKey.objects.exists()


def test_issue_show_once_and_revoke(world: World) -> None:
    admin = world.user(Role.SYSTEM_ADMIN)
    client = Client()
    client.force_login(admin)
    page = client.get(URL)
    assert page.status_code == 200 and "/open311/v2/" in page.content.decode()
    issued = client.post(URL, {"action": "create", "name": "市民热线平台"})
    assert issued.status_code == 200
    html = issued.content.decode()
    start = html.index('id="new-key">') + len('id="new-key">')
    key = html[start : html.index("<", start)]
    assert api_key_check(key) is not None
    assert key not in client.get(URL).content.decode()  # shown once only
    duplicate = client.post(URL, {"action": "create", "name": "市民热线平台"})
    assert duplicate.status_code == 400 and "同名" in duplicate.content.decode()
    assert ApiKey.objects.count() == 1
    revoked = client.post(URL, {"action": "revoke", "name": "市民热线平台"})
    assert revoked.status_code == 302
    assert api_key_check(key) is None
    events = AuditEvent.objects.filter(actor=admin).values_list("action", flat=True)
    assert {AuditAction.TOKEN_ISSUED, AuditAction.TOKEN_REVOKED} <= set(events)
    empty = client.post(URL, {"action": "create", "name": "  "})
    assert empty.status_code == 400
