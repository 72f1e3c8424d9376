"""Build the demo jurisdiction: the org tree of the three case studies and one account
per role. Deterministic (fixed seed) apart from the passwords; runs once and then
reports that the demo is already there."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from doorstep.accounts import demo as accounts_demo
from doorstep.accounts.models import User
from doorstep.accounts.roles import Role
from doorstep.accounts.services import role_grant
from doorstep.appeals import demo as appeals_demo
from doorstep.canteen import demo as canteen_demo
from doorstep.grids import demo as grids_demo
from doorstep.open311 import demo as open311_demo
from doorstep.orgs import demo as orgs_demo
from doorstep.orgs.models import Unit
from doorstep.people import demo as people_demo
from doorstep.people.services import person_link_account
from doorstep.points import demo as points_demo
from doorstep.sites import demo as sites_demo
from doorstep.volunteers import demo as volunteers_demo

SEED = 20261126
MARKER_CODE = "510500"  # 泸州市: present once the demo has been loaded


class Command(BaseCommand):
    help = "Load the demo jurisdiction (泸州市江阳区, 东山县, 白银区) and demo accounts."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--credentials", default=str(Path(settings.VAR_DIR) / "demo-credentials.txt")
        )
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Shrink the number of households (tests use 0.05).",
        )
        parser.add_argument(
            "--reset-passwords", action="store_true", help="Give every demo account a new password."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        credentials = Path(options["credentials"])
        if options["reset_passwords"]:
            accounts_demo.reset_passwords(credentials)
            self.stdout.write(f"New demo passwords written to {credentials}")
            return
        if Unit.objects.filter(code=MARKER_CODE).exists():
            self.stdout.write("The demo jurisdiction is already loaded.")
            return
        rng = random.Random(SEED)
        with transaction.atomic():
            tree = orgs_demo.build(rng)
            people = people_demo.build(rng, tree, scale=options["scale"])
            grids = grids_demo.build(tree)
            scopes = self._scopes(tree, grids)
            # Roles scoped to an app's own rows (a partner, an outlet's clerk) need those
            # rows before the accounts are made.
            partners = sites_demo.build_partners(tree)
            scopes[Role.PARTNER] = partners["state_enterprise"]
            outlets = points_demo.build_outlets(tree)
            scopes[Role.OUTLET_CLERK] = outlets["yihe_charity"]
            accounts = accounts_demo.create_accounts(
                rng, scopes, names={Role.RESIDENT: people.persons[0].name}
            )
            # The demo clerk also works the canteen's till (a clerk may serve several
            # outlets): the charity shop's counter and the canteen's counter both open.
            role_grant(
                actor=None,
                user=User.objects.get(username=f"demo_{Role.OUTLET_CLERK}"),
                role=Role.OUTLET_CLERK,
                scope=outlets["yihe_canteen"],
                note="demo",
            )
            grids_demo.link_members(tree)
            grids_demo.visits(rng, grids["yihe_1"], today=timezone.localdate())
            resident = next(a for a in accounts if a.role == Role.RESIDENT)
            person_link_account(
                person=people.persons[0], user=User.objects.get(username=resident.username)
            )
            # Each app's year of activity follows, in dependency order.
            appeals = appeals_demo.build(rng, tree, people.households, scale=options["scale"])
            if appeals.clerk is not None and people.persons[0].household is not None:
                appeals_demo.resident_cases(
                    User.objects.get(username=resident.username),
                    people.persons[0].household,
                    appeals.clerk,
                )
            appeals_demo.grid_day(
                grids["yihe_1"], User.objects.get(username=f"demo_{Role.GRID_MEMBER}")
            )
            open311_demo.build()
            sites_demo.build(
                rng,
                tree,
                partners,
                [
                    User.objects.get(username="demo_resident"),
                    User.objects.get(username="demo_community_staff"),
                ],
                scale=options["scale"],
            )
            volunteers_demo.build(rng, tree, scale=options["scale"], resident=people.persons[0])
            points_demo.build(rng, tree, outlets, scale=options["scale"])
            canteen_demo.build(rng, tree, outlets, scale=options["scale"])
            # Last, a week of registry upkeep by the community worker: a move, a closed
            # and reopened flat, a newborn, a correction, a death and a move out of the
            # area (each in its record's history).
            people_demo.upkeep(rng, tree, people, User.objects.get(username="demo_community_staff"))
        accounts_demo.write_credentials(credentials, accounts)
        self.stdout.write(
            f"Demo jurisdiction loaded: {len(tree.units)} units, {len(tree.party_orgs)} party organizations, "
            f"{len(tree.departments)} departments, {len(people.households)} households, "
            f"{len(people.persons)} people, {len(accounts)} accounts.\n"
            f"Demo account passwords: {credentials}"
        )

    @staticmethod
    def _scopes(tree: orgs_demo.DemoTree, grids: dict[str, Any]) -> dict[str, Any]:
        units = tree.units
        return {
            Role.GRID_MEMBER: grids["yihe_1"],
            Role.GRID_LEADER: grids["yihe_1"],
            Role.BUILDING_LEADER: units["mianfang_b1"],
            Role.COMMUNITY_STAFF: units["yihe"],
            Role.PARTY_SECRETARY: tree.party_orgs["yihe"],
            Role.STREET_ADMIN: units["town_5"],
            Role.DISTRICT_ADMIN: units["jiangyang"],
            Role.COUNTY_ADMIN: units["dongshan"],
            Role.CITY_ADMIN: units["luzhou"],
            Role.DEPARTMENT_STAFF: tree.departments["ds_fisheries"],
        }
