"""What the org tree tells the apps above it.

Apps that keep a copy of a unit's path on their own rows (so that a scope rule or a
figure reads it without a join) must follow the tree when a subtree moves. ``orgs``
cannot import them, so it sends this signal inside the moving transaction; a receiver
that fails rolls the move back.
"""

from __future__ import annotations

from django.dispatch import Signal

#: Sent by ``orgs.services.unit_move`` with ``unit`` (the moved unit, its parent and
#: path saved), ``old_path`` and ``new_path``: every path that started with
#: ``old_path`` now starts with ``new_path`` instead.
subtree_moved = Signal()
