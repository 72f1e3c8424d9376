from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "doorstep.points"
    label = "points"
    verbose_name = _("积分")

    def ready(self) -> None:
        from doorstep.core import todo

        from . import todo as todos
        from .scope_rules import register

        register()
        todo.register(todos.todos)
