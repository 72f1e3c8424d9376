"""Materialized paths: a subtree in one indexed range query, never recursion in Python.

A node's ``path`` is the concatenation of the zero-padded primary keys of its ancestors
and itself, ten digits each (``0000000003`` + ``0000000017`` …). Because a path holds
digits only, byte order and every database collation agree on its ordering, so the
descendants of ``P`` are exactly the rows with ``P <= path < successor(P)``: one range
scan on the unique index, on SQLite and PostgreSQL alike. See docs/adr/0003-org-tree.md.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.db.models.functions import Concat, Substr

SEGMENT = 10
MAX_DEPTH = 25


def segment(pk: int) -> str:
    return f"{pk:0{SEGMENT}d}"


def path_successor(path: str) -> str | None:
    """The smallest digit string of the same length that is greater than ``path``, or
    None when ``path`` is all nines (then nothing sorts after its subtree)."""
    successor = f"{int(path) + 1:0{len(path)}d}"
    return successor if len(successor) == len(path) else None


def subtree_q(path: str, *, field: str = "path", include_self: bool = True) -> Q:
    q = Q(**{f"{field}__gte": path})
    upper = path_successor(path)
    if upper is not None:
        q &= Q(**{f"{field}__lt": upper})
    if not include_self:
        q &= ~Q(**{field: path})
    return q


def provisional_path() -> str:
    """A unique stand-in for a node's path between its INSERT and :func:`attach_path`."""
    return "~" + uuid.uuid4().hex


def ancestor_paths(path: str) -> list[str]:
    """Paths of the node's ancestors, root first, the node itself last."""
    return [path[:end] for end in range(SEGMENT, len(path) + 1, SEGMENT)]


class TreeNode(models.Model):
    """Abstract base for a tree stored with a materialized path. ``parent`` is defined by
    the subclass so that it can name its own related_name."""

    path = models.CharField(max_length=SEGMENT * MAX_DEPTH, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)

    parent: Any

    class Meta:
        abstract = True

    def subtree_q(self, *, field: str = "path", include_self: bool = True) -> Q:
        return subtree_q(self.path, field=field, include_self=include_self)

    def is_descendant_of(self, other: TreeNode) -> bool:
        return self.path.startswith(other.path)


def attach_path(node: TreeNode) -> None:
    """Give a freshly inserted node its path (its primary key is needed, so this is the
    second half of creating a node, inside the creating transaction)."""
    prefix = node.parent.path if node.parent_id else ""  # type: ignore[attr-defined]
    node.path = prefix + segment(node.pk)
    node.depth = len(node.path) // SEGMENT - 1
    type(node).objects.filter(pk=node.pk).update(path=node.path, depth=node.depth)  # type: ignore[attr-defined]


def move_subtree(node: TreeNode, new_parent: TreeNode | None) -> int:
    """Re-root ``node``'s subtree under ``new_parent`` with one UPDATE. Returns rows moved."""
    old_prefix = node.path
    new_prefix = (new_parent.path if new_parent else "") + segment(node.pk)
    shift = (len(new_prefix) - len(old_prefix)) // SEGMENT
    model = type(node)
    moved = model.objects.filter(subtree_q(old_prefix)).update(  # type: ignore[attr-defined]
        path=Concat(
            models.Value(new_prefix),
            Substr("path", len(old_prefix) + 1),
            output_field=models.CharField(),
        ),
        depth=models.F("depth") + shift,
    )
    node.path, node.depth = new_prefix, node.depth + shift
    return moved
