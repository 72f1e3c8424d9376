"""An org unit's subtree: the materialized-path range query against a recursive CTE.

Builds a 100,000-unit administrative tree with bulk INSERTs (paths computed here, in the
format of :func:`doorstep.core.tree.segment`), then times, for a few hundred random units
at each level, counting the subtree and fetching its ids, both ways, and checks that both
ways return the same ids.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from typing import Any

from harness import Context, Result, Timing

TITLE = "Org subtree: materialized path vs recursive CTE"
OURS = "`Unit.objects.filter(subtree_q(unit.path))`: one range scan on the unique `path` index"
BASELINE = "`WITH RECURSIVE` over `parent_id` (its foreign-key index), from the unit down"
CASE_LABEL = "level"
METRIC_LABEL = "query"
ROWS_LABEL = "subtree size"
ABOUT = """
A tree of 100,000 units in a realistic shape (1 city → 10 districts → 10 streets each →
10 communities each → 10 compounds each → 3–15 buildings per compound, 88,889 in all),
inserted in bulk, level by level, followed by `ANALYZE` (`VACUUM ANALYZE` on PostgreSQL).
For a few hundred random units per level (the 10 districts and 100 streets are sampled
with repetition), each sample runs four statements: `count` (`SELECT COUNT(*)`) and
`ids` (`SELECT id`, all rows fetched, no `ORDER BY` on either side) for ours and for
the baseline, alternating which goes first. Both sides are timed at the SQL level, through the same Django cursor: ours
is the exact SQL and parameters Django generates for the project's query (captured
once, then replayed), so Django's constant per-query overhead is left out of both.
Every sample asserts that both return the same set of ids. Figures are latencies per
statement in milliseconds.
""".strip()

FANOUT = 10  # districts per city, streets per district, communities …, compounds …
TOTAL = 100_000
SAMPLES = 300
QUICK_FANOUT, QUICK_TOTAL, QUICK_SAMPLES = 6, 15_000, 40
MEASURED = ("district", "street", "community", "compound")
BATCH = 1_000  # rows per INSERT (13 parameters each; well under both databases' limits)
WARMUP = 20


@dataclass
class Node:
    id: int
    parent_id: int | None
    path: str
    depth: int
    kind: str
    name: str
    code: str


def plan_tree(ctx: Context, fanout: int, total: int) -> dict[str, list[Node]]:
    """The tree in memory, level by level, ids in insertion (breadth-first) order."""
    from doorstep.core.tree import segment

    levels: dict[str, list[Node]] = {"city": [Node(1, None, segment(1), 0, "city", "市", "330200")]}
    next_id = 2
    names = {"district": "区", "street": "街道", "community": "社区", "compound": "小区"}
    parents = levels["city"]
    for depth, kind in enumerate(names, start=1):
        level = []
        for parent in parents:
            for i in range(1, fanout + 1):
                if kind == "district":
                    code = f"{parent.code[:4]}{i:02d}"
                elif kind == "street":
                    code = f"{parent.code}{i:03d}000"
                elif kind == "community":
                    code = f"{parent.code[:9]}{i:03d}"
                else:
                    code = ""
                path = parent.path + segment(next_id)
                level.append(Node(next_id, parent.id, path, depth, kind, f"{i}{names[kind]}", code))
                next_id += 1
        levels[kind] = level
        parents = level

    # Buildings: 3–15 per compound, nudged so that the whole tree has exactly ``total``.
    compounds = levels["compound"]
    target = total - sum(len(level) for level in levels.values())
    assert target > len(compounds), "the tree is too small for its fan-out"
    counts = [ctx.rng.randint(3, 15) for _ in compounds]
    for _ in range(10 * len(compounds) + abs(sum(counts) - target)):  # bounded
        excess = sum(counts) - target
        if excess == 0:
            break
        j = ctx.rng.randrange(len(counts))
        if excess > 0 and counts[j] > 1:
            counts[j] -= 1
        elif excess < 0:
            counts[j] += 1
    assert sum(counts) == target
    buildings = []
    for compound, count in zip(compounds, counts, strict=True):
        for i in range(1, count + 1):
            path = compound.path + segment(next_id)
            buildings.append(Node(next_id, compound.id, path, 5, "building", f"{i}号楼", ""))
            next_id += 1
    levels["building"] = buildings
    return levels


def insert_tree(ctx: Context, levels: dict[str, list[Node]]) -> None:
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from doorstep.orgs.models import Unit

    fields = [
        "id", "created_at", "updated_at", "path", "depth", "kind", "name", "code",
        "parent", "lat", "lng", "boundary", "is_active",
    ]  # fmt: skip
    columns = ", ".join(connection.ops.quote_name(Unit._meta.get_field(f).column) for f in fields)
    table = connection.ops.quote_name(Unit._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    rng = ctx.rng
    rows = [
        (n.id, now, now, n.path, n.depth, n.kind, n.name, n.code, n.parent_id,
         round(29.80 + rng.random() * 0.2, 6), round(121.45 + rng.random() * 0.2, 6), None, True)
        for level in levels.values()
        for n in level
    ]  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            params = [value for row in batch for value in row]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_sql] * len(batch))}",
                params,
            )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"VACUUM ANALYZE {table}")  # index-only scans need the visibility map
            for statement in connection.ops.sequence_reset_sql(no_style(), [Unit]):
                cursor.execute(statement)  # ids were given explicitly
        else:
            cursor.execute("ANALYZE")


def captured_sql(run_query: Any) -> tuple[str, list[Any]]:
    """The (sql, params) Django sends for ``run_query()``: the project's query, exactly."""
    from django.db import connection

    seen: list[tuple[str, list[Any]]] = []

    def capture(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append((sql, list(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        run_query()
    assert len(seen) == 1, seen
    return seen[0]


def plan_lines(sql: str, params: list[Any]) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return [f"{row[0]:>3} {row[1]:>3}  {row[3]}" for row in cursor.fetchall()]
        cursor.execute("EXPLAIN (COSTS OFF) " + sql, params)
        return [row[0] for row in cursor.fetchall()]


def path_indexes() -> set[str]:
    """Names of the indexes whose leading column is ``path`` (SQLite's own automatic index
    for a UNIQUE column included, which Django's introspection leaves out)."""
    from django.db import connection

    from doorstep.orgs.models import Unit

    table = Unit._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA index_list({connection.ops.quote_name(table)})")
            names = [row[1] for row in cursor.fetchall()]
            leading = {}
            for name in names:
                cursor.execute(f"PRAGMA index_info({connection.ops.quote_name(name)})")
                columns = sorted(cursor.fetchall())
                leading[name] = columns[0][2] if columns else None
            return {name for name, column in leading.items() if column == "path"}
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        name
        for name, info in constraints.items()
        if (info.get("index") or info.get("unique")) and info["columns"][:1] == ["path"]
    }


def run(ctx: Context) -> list[Result]:
    from django.db import connection

    from doorstep.core.tree import path_successor, subtree_q
    from doorstep.orgs.models import Unit

    fanout, total, samples = (
        (QUICK_FANOUT, QUICK_TOTAL, QUICK_SAMPLES) if ctx.quick else (FANOUT, TOTAL, SAMPLES)
    )
    started = time.perf_counter()
    levels = plan_tree(ctx, fanout, total)
    insert_tree(ctx, levels)
    assert Unit.objects.count() == total
    shape = ", ".join(f"{len(nodes):,} {kind}" for kind, nodes in levels.items())
    ctx.note(
        f"{total:,} units ({shape}) built and analysed in {time.perf_counter() - started:.1f} s"
    )

    # Ours: what Django sends for the project's query, captured once and replayed.
    probe = levels["district"][0]
    ours_count_sql, probe_params = captured_sql(
        lambda: Unit.objects.filter(subtree_q(probe.path)).count()
    )
    ours_ids_sql, probe_ids_params = captured_sql(
        lambda: list(
            Unit.objects.filter(subtree_q(probe.path)).order_by().values_list("id", flat=True)
        )
    )
    assert probe_params == probe_ids_params == [probe.path, path_successor(probe.path)]

    # Baseline: walk down parent_id from the unit, the unit itself included like ours.
    table = connection.ops.quote_name(Unit._meta.db_table)
    cte = (
        "WITH RECURSIVE subtree(id) AS ("
        f"SELECT id FROM {table} WHERE id = %s "
        f"UNION ALL SELECT child.id FROM {table} AS child "
        "JOIN subtree ON child.parent_id = subtree.id) "
    )
    cte_count_sql, cte_ids_sql = (
        cte + "SELECT COUNT(*) FROM subtree",
        cte + "SELECT id FROM subtree",
    )
    ctx.note(f"ours, count: `{ours_count_sql}`")
    ctx.note(f"ours, ids: `{ours_ids_sql}`")
    ctx.note(f"baseline, ids: `{cte_ids_sql}`")

    # Evidence that ours is a range scan on the path index (reported, never enforced).
    indexes = path_indexes()
    for kind in ("district", "compound"):
        node = levels[kind][0]
        params = [node.path, path_successor(node.path)]
        for label, sql in (("count", ours_count_sql), ("ids", ours_ids_sql)):
            lines = plan_lines(sql, params)
            used = sorted(name for name in indexes if any(name in line for line in lines))
            verdict = f"uses {', '.join(used)}" if used else "does NOT use the path index"
            ctx.show(f"Plan, ours, {kind} {label} ({verdict})", lines)
    ctx.show("Plan, baseline, ids (any level)", plan_lines(cte_ids_sql, [levels["district"][0].id]))

    ctx.note(
        f"{samples} timed samples per level; the {len(levels['district'])} districts and "
        f"{len(levels['street'])} streets are sampled with repetition"
    )
    results = []
    with connection.cursor() as cursor:

        def timed(sql: str, params: list[Any]) -> tuple[int, list[tuple[Any, ...]]]:
            begin = time.perf_counter_ns()
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            return time.perf_counter_ns() - begin, rows

        # Warm both query shapes and the caches before anything is timed.
        for node in levels["street"][:WARMUP]:
            timed(ours_ids_sql, [node.path, path_successor(node.path)])
            timed(cte_ids_sql, [node.id])

        for kind in MEASURED:
            nodes = levels[kind]
            if len(nodes) >= samples:
                chosen = ctx.rng.sample(nodes, samples)
            else:
                order = ctx.rng.sample(nodes, len(nodes))
                chosen = [order[i % len(order)] for i in range(samples)]
            times: dict[tuple[str, str], list[int]] = {
                (side, metric): [] for side in ("ours", "cte") for metric in ("count", "ids")
            }
            sizes = []
            gc.collect()
            gc.disable()
            try:
                for i, node in enumerate(chosen):
                    ours_params = [node.path, path_successor(node.path)]
                    sides = [
                        ("ours", ours_count_sql, ours_ids_sql, ours_params),
                        ("cte", cte_count_sql, cte_ids_sql, [node.id]),
                    ]
                    if i % 2:
                        sides.reverse()
                    got: dict[str, tuple[int, set[int], int]] = {}
                    for side, count_sql, ids_sql, params in sides:
                        count_ns, count_rows = timed(count_sql, params)
                        ids_ns, id_rows = timed(ids_sql, params)
                        times[(side, "count")].append(count_ns)
                        times[(side, "ids")].append(ids_ns)
                        got[side] = (count_rows[0][0], {r[0] for r in id_rows}, len(id_rows))
                    ours_count, ours_ids, ours_n = got["ours"]
                    cte_count, cte_ids, cte_n = got["cte"]
                    assert ours_ids == cte_ids, f"subtree of unit {node.id} differs"
                    assert ours_count == cte_count == ours_n == cte_n == len(ours_ids)
                    sizes.append(ours_count)
            finally:
                gc.enable()
            distinct = len({node.id for node in chosen})
            for metric in ("count", "ids"):
                results.append(
                    Result(
                        case=kind,
                        metric=metric,
                        ours=Timing.of(times[("ours", metric)]),
                        baseline=Timing.of(times[("cte", metric)]),
                        rows=sum(sizes) / len(sizes),
                        nodes=distinct,
                    )
                )
            ctx.log(f"{kind}: {samples} samples, mean subtree {sum(sizes) / len(sizes):,.0f}")
    ctx.note("Every sample: identical id sets from ours and the baseline (asserted).")
    return results
