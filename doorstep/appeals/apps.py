from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    name = "doorstep.appeals"
    label = "appeals"
    verbose_name = _("诉求")

    def ready(self) -> None:
        from doorstep.core import todo

        from . import todo as todos
        from .scope_rules import register

        register()
        todo.register(todos.todos)
        todo.register_mine(todos.mine)
