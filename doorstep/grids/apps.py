from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    name = "doorstep.grids"
    label = "grids"
    verbose_name = _("网格")

    def ready(self) -> None:
        from doorstep.core import todo
        from doorstep.orgs.signals import subtree_moved

        from . import todo as todos
        from .scope_rules import register
        from .services import follow_subtree_move

        register()
        todo.register(todos.todos)
        subtree_moved.connect(follow_subtree_move, dispatch_uid="doorstep.grids.links")
