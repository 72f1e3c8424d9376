from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SitesConfig(AppConfig):
    name = "doorstep.sites"
    label = "sites"
    verbose_name = _("服务阵地")

    def ready(self) -> None:
        from doorstep.core import todo
        from doorstep.people.signals import person_left

        from . import todo as todos
        from .scope_rules import register
        from .services import leave_programs

        register()
        person_left.connect(leave_programs, dispatch_uid="doorstep.sites.enrolments")
        todo.register(todos.todos)
        todo.register_mine(todos.mine)
