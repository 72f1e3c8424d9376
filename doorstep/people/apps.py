from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "doorstep.people"
    label = "people"
    verbose_name = _("人口与住户")

    def ready(self) -> None:
        from doorstep.core import todo

        from . import todo as todos
        from .scope_rules import register

        register()
        todo.register(todos.todos)
