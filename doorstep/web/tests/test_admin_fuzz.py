"""Garbage into every add and change form of the admin site (the system administrator's
tool for the org tree, categories and the other reference rows): never a 500.

The console's forms are fuzzed by ``test_form_fuzz``, which leaves the admin out; this
sends each admin form the same poison, with the same helpers. Django's admin shows its
own error lists (not ``role="alert"``), so only crashes count here."""

from __future__ import annotations

import pytest
from django.test import Client

from doorstep.accounts.admin import site
from doorstep.accounts.roles import Role
from doorstep.conftest import World
from doorstep.web.tests.test_api_fuzz import rows_everywhere
from doorstep.web.tests.test_form_fuzz import PageParser, fuzz

pytestmark = pytest.mark.django_db


def _admin_pages() -> list[str]:
    pages = []
    for model in sorted(site._registry, key=lambda m: m._meta.label):
        meta = model._meta
        base = f"/admin/{meta.app_label}/{meta.model_name}/"
        pages.append(base + "add/")
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(f"{base}{first.pk}/change/")
    return pages


def test_garbage_in_every_admin_form_is_never_a_500(world: World) -> None:
    rows_everywhere(world)
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(world.user(Role.SYSTEM_ADMIN))
    crashes: list[str] = []
    sent = 0
    for page in _admin_pages():
        response = client.get(page)
        assert response.status_code < 500, f"GET {page}: {response.status_code}"
        if response.status_code != 200:
            continue  # an admin without an add page (rows made elsewhere) answers 403
        parser = PageParser(page)
        parser.feed(response.content.decode())
        for form in parser.forms:
            if form.method != "post" or "logout" in form.action:
                continue
            form.action = form.action or page
            sent += 1
            crashes += [f.text for f in fuzz(client, form, "system_admin") if f.kind == "crash"]
    assert sent >= len(site._registry), sent
    assert not crashes, "\n".join(crashes)
