"""The password policy, with two profiles chosen by ``settings.PASSWORD_PROFILE``.

``mlps`` follows China's MLPS level 3 practice: at least 8 characters drawn from at least
three of the four classes (lower case, upper case, digits, symbols), changed every 90
days. ``asvs`` follows OWASP ASVS: at least 12 characters, no composition rules and no
forced expiry. Both also reject common, numeric-only and user-similar passwords through
Django's own validators.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Profile:
    min_length: int
    min_classes: int
    max_age: dt.timedelta | None


PROFILES = {
    "mlps": Profile(min_length=8, min_classes=3, max_age=dt.timedelta(days=90)),
    "asvs": Profile(min_length=12, min_classes=0, max_age=None),
}


def active_profile() -> Profile:
    name = getattr(settings, "PASSWORD_PROFILE", "mlps")
    if name not in PROFILES:
        raise ValueError(
            f"DOORSTEP_PASSWORD_PROFILE must be one of {sorted(PROFILES)}, not {name!r}"
        )
    return PROFILES[name]


def character_classes(password: str) -> int:
    return sum(
        [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
    )


def password_expired(user: object, *, now: dt.datetime | None = None) -> bool:
    profile = active_profile()
    changed = getattr(user, "password_changed_at", None)
    if profile.max_age is None or changed is None:
        return False
    return (now or timezone.now()) - changed > profile.max_age


class ProfileValidator:
    """Django password validator applying the active profile's length and classes."""

    def validate(self, password: str, user: object = None) -> None:
        profile = active_profile()
        errors = []
        if len(password) < profile.min_length:
            errors.append(
                ValidationError(
                    _("密码至少需要 %(n)d 个字符。") % {"n": profile.min_length},
                    code="password_too_short",
                )
            )
        if profile.min_classes and character_classes(password) < profile.min_classes:
            errors.append(
                ValidationError(
                    _("密码需包含小写字母、大写字母、数字、符号中的至少 %(n)d 类。")
                    % {"n": profile.min_classes},
                    code="password_too_simple",
                )
            )
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        profile = active_profile()
        text = _("至少 %(n)d 个字符。") % {"n": profile.min_length}
        if profile.min_classes:
            text += _("需包含小写字母、大写字母、数字、符号中的至少 %(n)d 类。") % {
                "n": profile.min_classes
            }
        if profile.max_age:
            text += _("每 %(d)d 天需更换一次。") % {"d": profile.max_age.days}
        return text
