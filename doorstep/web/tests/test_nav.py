"""Every console entry a role is shown opens for that role: no entry leads to an error
page or to a page the role may not see."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from doorstep.accounts.roles import available_roles
from doorstep.conftest import World
from doorstep.web.nav import NAV

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", sorted(available_roles()))
def test_every_entry_shown_to_a_role_opens(world: World, role: str) -> None:
    client = Client()
    client.force_login(world.user(role))
    shown = [item for item in NAV if role in item.roles]
    for item in shown:
        url = reverse(item.url_name)
        response = client.get(url)
        assert response.status_code == 200, f"{role}: {url} answered {response.status_code}"


def test_the_resident_home_links_open(world: World) -> None:
    from doorstep.accounts.roles import Role
    from doorstep.web.nav import PUBLIC_LINKS, RESIDENT_LINKS

    anonymous = Client()
    home = anonymous.get("/").content.decode()
    for link in PUBLIC_LINKS:
        assert reverse(link.url_name) in home
        assert anonymous.get(reverse(link.url_name)).status_code == 200, link.url_name
    resident = Client()
    resident.force_login(world.user(Role.RESIDENT))
    home = resident.get("/").content.decode()
    for link in RESIDENT_LINKS:
        assert reverse(link.url_name) in home
        assert resident.get(reverse(link.url_name)).status_code == 200, link.url_name


def test_one_entry_is_current_the_longest_the_path_starts_with(world: World) -> None:
    import re

    from doorstep.accounts.roles import Role

    client = Client()
    client.force_login(world.user(Role.COMMUNITY_STAFF))
    for path in ("/console/appeals/overdue/", "/console/appeals/", "/console/registry/"):
        html = client.get(path).content.decode()
        current = re.findall(r'<a href="([^"]+)" aria-current="page">', html)
        assert current == [path], (path, current)
        # The folded phone menu names the page it is on.
        assert re.search(r'class="console-menu-label">.*菜单 · ', html), path


def test_messages_sit_in_the_console_main_column(world: World) -> None:
    from doorstep.accounts.roles import Role

    client = Client()
    client.force_login(world.user(Role.COMMUNITY_STAFF))
    from django.contrib.messages import constants
    from django.contrib.messages.storage.cookie import CookieStorage

    response = client.get("/console/registry/")
    storage = CookieStorage(response.wsgi_request)
    storage.add(constants.SUCCESS, "已保存测试消息。")
    storage.update(response)
    client.cookies.update(response.cookies)
    html = client.get("/console/registry/").content.decode()
    assert html.index('id="main"') < html.index("已保存测试消息。")
