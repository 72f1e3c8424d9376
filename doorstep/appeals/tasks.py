"""Background work: the SLA sweep and the staff digest, on the Django tasks framework."""

from __future__ import annotations

from django_tasks import task

from .sla import sla_sweep


@task()
def sla_sweep_task() -> dict[str, int]:
    result = sla_sweep()
    return {"escalated": result.escalated, "reminded": result.reminded, "expired": result.expired}
