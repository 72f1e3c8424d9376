from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    name = "doorstep.appeals"
    label = "appeals"
    verbose_name = _("诉求")

    def ready(self) -> None:
        from doorstep.core import todo
        from doorstep.orgs.signals import subtree_moved

        from . import todo as todos
        from .scope_rules import register
        from .services import follow_subtree_move

        register()
        todo.register(todos.todos)
        todo.register_mine(todos.mine)
        subtree_moved.connect(follow_subtree_move, dispatch_uid="doorstep.appeals.paths")
