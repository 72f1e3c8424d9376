from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "doorstep.volunteers"
    label = "volunteers"
    verbose_name = _("志愿服务")

    def ready(self) -> None:
        from doorstep.core import todo
        from doorstep.people.signals import person_left

        from . import todo as todos
        from .scope_rules import register
        from .services import cancel_upcoming

        register()
        person_left.connect(cancel_upcoming, dispatch_uid="doorstep.volunteers.signups")
        todo.register(todos.todos)
        todo.register_mine(todos.mine)
