"""Run the SLA sweep once (cron or a scheduler calls this every few minutes), or queue
it as a background task with --enqueue."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from doorstep.appeals.sla import sla_sweep
from doorstep.appeals.tasks import sla_sweep_task


class Command(BaseCommand):
    help = "Remind before deadlines, escalate overdue cases, close unrated resolved cases."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--enqueue", action="store_true", help="Queue it as a task instead.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            result = sla_sweep_task.enqueue()
            self.stdout.write(f"queued {result.id}")
            return
        outcome = sla_sweep()
        self.stdout.write(
            f"escalated {outcome.escalated}, reminded {outcome.reminded}, expired {outcome.expired}"
        )
