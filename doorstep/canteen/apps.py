from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CanteenConfig(AppConfig):
    name = "doorstep.canteen"
    label = "canteen"
    verbose_name = _("幸福食堂")

    def ready(self) -> None:
        from .scope_rules import register

        register()
