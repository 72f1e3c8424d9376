"""Materialized paths: a subtree in one indexed range query, never recursion in Python.

A node's ``path`` is the concatenation of the zero-padded primary keys of its ancestors
and itself, ten digits each (``0000000003`` + ``0000000017`` …). Because a path holds
digits only, byte order and every database collation agree on its ordering, so the
descendants of ``P`` are exactly the rows with ``P <= path < successor(P)``: one range
scan on the unique index, on SQLite and PostgreSQL alike. See docs/adr/0003-org-tree.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models import Q
from django.db.models.functions import Concat, Substr

from .inputs import is_key

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


def branch_of(field: str, path: str) -> Substr:
    """For rows whose ``field`` is a unit path within ``path``'s subtree: the path of
    the unit directly below ``path`` that each lies under, or ``path`` itself for rows
    placed at it. Group by it to count a place's figures per unit below, in one query."""
    return Substr(field, 1, len(path) + SEGMENT)


def per_branch(
    qs: models.QuerySet[Any], *, field: str, path: str, **aggregates: Any
) -> dict[str, dict[str, Any]]:
    """The rows of ``qs`` within ``path``'s subtree (``field`` holds each row's unit
    path), aggregated per unit directly below ``path`` (see :func:`branch_of`), in one
    query: ``{branch path: {aggregate name: value}}``; a branch without rows is absent."""
    rows = (
        qs.filter(subtree_q(path, field=field))
        .annotate(branch=branch_of(field, path))
        .order_by()
        .values("branch")
        .annotate(**aggregates)
    )
    return {row.pop("branch"): row for row in rows}


def provisional_path() -> str:
    """A unique stand-in for a node's path between its INSERT and :func:`attach_path`."""
    return "~" + uuid.uuid4().hex


def ancestor_paths(path: str) -> list[str]:
    """Paths of the node's ancestors, root first, the node itself last."""
    return [path[:end] for end in range(SEGMENT, len(path) + 1, SEGMENT)]


Node = TypeVar("Node", bound="TreeNode")


def lineage(model: type[Node], pk: int, *, fields: Sequence[str]) -> list[Node]:
    """The node with primary key ``pk`` and its ancestors, root first, the node last; empty
    when there is none. One statement (a recursive walk up ``parent``: one primary-key
    lookup per level), for callers that know a node only by its key and need its
    ancestors too, which :func:`ancestor_paths` would cost a second query for. Only
    ``fields`` (plus the key, ``parent`` and ``depth``) are loaded; the rest are deferred."""
    if not is_key(pk):  # no such key (and SQLite cannot even bind a larger one)
        return []
    meta = model._meta
    wanted = {"id", "parent", "depth", *fields}
    # In the model's own field order: that is the order ``from_db`` takes values in.
    concrete = [f for f in meta.concrete_fields if f.name in wanted]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(f.column) for f in concrete)
    walked = ", ".join(f"t.{quote(f.column)}" for f in concrete)
    parent = quote(next(f.column for f in concrete if f.name == "parent"))
    sql = (
        f"WITH RECURSIVE up ({columns}) AS ("  # noqa: S608 - names from the model's meta
        f"SELECT {columns} FROM {table} WHERE {quote('id')} = %s "
        f"UNION ALL SELECT {walked} FROM {table} t JOIN up ON t.{quote('id')} = up.{parent}"
        f") SELECT {columns} FROM up ORDER BY {quote('depth')}"
    )
    attnames = [f.attname for f in concrete]
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        rows = cursor.fetchall()
    return [model.from_db(connection.alias, attnames, row) for row in rows]


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
    moved = rebase_paths(
        model.objects.all(),  # type: ignore[attr-defined]
        "path",
        old_prefix,
        new_prefix,
        depth=models.F("depth") + shift,
    )
    node.path, node.depth = new_prefix, node.depth + shift
    return moved


def rebase_paths(
    queryset: models.QuerySet[Any], field: str, old_prefix: str, new_prefix: str, **also: Any
) -> int:
    """In one UPDATE, give every row of ``queryset`` whose ``field`` lies within
    ``old_prefix``'s subtree the same path below ``new_prefix``. Apps that keep a copy of
    a unit's path on their rows call it when a subtree moves; ``also`` sets more columns
    in the same statement. Returns the rows changed."""
    return queryset.filter(subtree_q(old_prefix, field=field)).update(
        **{
            field: Concat(
                models.Value(new_prefix),
                Substr(field, len(old_prefix) + 1),
                output_field=models.CharField(),
            )
        },
        **also,
    )
