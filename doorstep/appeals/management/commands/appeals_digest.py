"""The daily digest for staff: each staff member with unread notifications gets one
message summarising them through the configured channels."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import override

from doorstep.accounts.models import User
from doorstep.accounts.roles import STAFF_ROLES
from doorstep.appeals import notify
from doorstep.appeals.models import Notification


class Command(BaseCommand):
    help = "Send each staff member a digest of their unread appeal notifications."

    def handle(self, *args: Any, **options: Any) -> None:
        staff = User.objects.filter(
            is_active=True,
            role_assignments__role__in=sorted(STAFF_ROLES),
            role_assignments__revoked_at__isnull=True,
            pk__in=Notification.objects.filter(read_at__isnull=True).values("user_id"),
        ).distinct()
        sent = 0
        for user in staff:
            # Each digest in the language its reader chose, Chinese if none.
            with override(notify.language_of(user)):
                lines = notify.daily_digest_lines(user)
                if not lines:
                    continue
                # Translators: what separates the notifications in a digest.
                separator = _("；")
                text = _("今日诉求提醒 %(n)d 条：") % {"n": len(lines)} + separator.join(lines[:5])
            notify.deliver([user.pk], text)
            sent += 1
        self.stdout.write(f"digests sent: {sent}")
