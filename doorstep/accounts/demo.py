"""Demo accounts: one for every role that can be granted, each with a random password.

There are no default credentials: passwords are generated per installation and written
to ``var/demo-credentials.txt`` (mode 0600), never printed into logs.
"""

from __future__ import annotations

import random
import secrets
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from doorstep.core.synthetic import person_name

from .models import User
from .roles import ROLE_SCOPE_KIND, Role, available_roles
from .services import role_grant, user_create


@dataclass
class DemoAccount:
    username: str
    password: str
    role: str
    scope: str


def random_password() -> str:
    """16 characters with every class present, so it satisfies every password profile."""
    alphabet = string.ascii_letters + string.digits + "-_.!@#"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(16))
        if (
            any(c.islower() for c in candidate)
            and any(c.isupper() for c in candidate)
            and any(c.isdigit() for c in candidate)
            and any(c in "-_.!@#" for c in candidate)
        ):
            return candidate


def create_accounts(
    rng: random.Random, scopes: dict[str, Any], names: dict[str, str] | None = None
) -> list[DemoAccount]:
    """``scopes`` maps each role to the object it is granted over (None for self/system);
    ``names`` gives a role's account the name of the registry person it will be linked
    to, so that the greeting and the record agree."""
    accounts = []
    for role in available_roles():
        if ROLE_SCOPE_KIND[role] not in ("self", "system") and scopes.get(role) is None:
            continue
        username = f"demo_{role}"
        password = random_password()
        name = person_name(rng)  # drawn for every role, so the rest of the demo stays put
        user = user_create(
            username=username,
            password=password,
            display_name=(names or {}).get(role, name),
            validate=False,
        )
        scope = scopes.get(role)
        role_grant(actor=None, user=user, role=role, scope=scope, note="demo")
        accounts.append(
            DemoAccount(username, password, role, str(scope) if scope is not None else "")
        )
    return accounts


def write_credentials(path: Path, accounts: list[DemoAccount]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# username\tpassword\trole\tscope"] + [
        f"{a.username}\t{a.password}\t{a.role}\t{a.scope}" for a in accounts
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)


def reset_passwords(path: Path) -> list[DemoAccount]:
    accounts = []
    for user in User.objects.filter(username__startswith="demo_").order_by("username"):
        password = random_password()
        user.set_password(password)
        user.save(update_fields=["password", "password_changed_at"])
        grant = user.role_assignments.filter(revoked_at__isnull=True).first()
        role = grant.role if grant else ""
        accounts.append(DemoAccount(user.username, password, role, ""))
    write_credentials(path, accounts)
    return accounts


__all__ = ["Role", "create_accounts", "reset_passwords", "write_credentials"]
