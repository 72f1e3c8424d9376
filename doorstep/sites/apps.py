from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SitesConfig(AppConfig):
    name = "doorstep.sites"
    label = "sites"
    verbose_name = _("服务阵地")

    def ready(self) -> None:
        from doorstep.core import todo

        from . import todo as todos
        from .scope_rules import register

        register()
        todo.register(todos.todos)
        todo.register_mine(todos.mine)
