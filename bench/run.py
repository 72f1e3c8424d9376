"""Run the benchmarks in bench/ and record their figures in docs/benchmarks.md.

    .venv/bin/python bench/run.py                        # every bench, on SQLite
    .venv/bin/python bench/run.py org_subtree --postgres # one bench, SQLite and PostgreSQL
    .venv/bin/python bench/run.py --quick                # small sizes: a smoke test, no docs

``make bench`` calls this (``BENCH_ARGS`` passes arguments). Each ``bench/bench_<name>.py``
(interface: see ``bench/harness.py``) runs once per database, in a child process of its own
that sets Django up on a throwaway database, so that the parent can run the same bench on
SQLite and on PostgreSQL. PostgreSQL is used when ``--postgres`` is given or
``DATABASE_URL`` points at PostgreSQL (its server hosts the ``doorstep_bench_<name>`` databases).
After a full run, the section of docs/benchmarks.md between
``<!-- bench:<name>:start -->`` and ``<!-- bench:<name>:end -->`` is regenerated.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import harness  # noqa: E402

DOCS = harness.REPO / "docs" / "benchmarks.md"
# One bench on one database; a hung worker is killed. The 1,000,000-row benches need
# more than a quarter of an hour on a loaded 2-core machine.
WORKER_TIMEOUT_S = int(os.environ.get("DOORSTEP_BENCH_TIMEOUT_S", "2400"))


# --- Discovery ----------------------------------------------------------------------------


def discover() -> dict[str, Path]:
    return {path.stem.removeprefix("bench_"): path for path in sorted(BENCH_DIR.glob("bench_*.py"))}


def load(name: str) -> ModuleType:
    """Import ``bench_<name>``; its top level must not import models (Django isn't set up)."""
    module = importlib.import_module(f"bench_{name}")
    for attribute in ("TITLE", "OURS", "BASELINE", "ABOUT", "run"):
        if not hasattr(module, attribute):
            raise SystemExit(f"bench/bench_{name}.py does not define {attribute}")
    return module


# --- The child process: one bench on one database -----------------------------------------


def worker(name: str, vendor: str, out: Path, *, quick: bool, seed: int) -> None:
    cleanup = harness.open_database(vendor, name)
    try:
        module = load(name)
        ctx = harness.Context(
            vendor=vendor, db_version=harness.database_version(), quick=quick, seed=seed
        )
        ctx.log(f"{name} on {ctx.db_version}")
        started = time.perf_counter()
        results = module.run(ctx)
        payload = {
            "vendor": vendor,
            "db_version": ctx.db_version,
            "seconds": time.perf_counter() - started,
            "results": [result.to_dict() for result in results],
            "notes": ctx.notes,
            "evidence": ctx.evidence,
        }
        out.write_text(json.dumps(payload))
    finally:
        cleanup()


def run_in_child(name: str, vendor: str, *, quick: bool, seed: int) -> dict[str, Any]:
    harness.VAR_BENCH.mkdir(parents=True, exist_ok=True)
    fd, out_name = tempfile.mkstemp(
        prefix=f"{name}-{vendor}-", suffix=".json", dir=harness.VAR_BENCH
    )
    os.close(fd)
    out = Path(out_name)
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--db", vendor]
    command += ["--out", str(out), "--seed", str(seed)] + (["--quick"] if quick else [])
    try:
        subprocess.run(command, check=True, timeout=WORKER_TIMEOUT_S, cwd=harness.REPO)  # noqa: S603
        payload = json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)
    payload["results"] = [harness.Result.from_dict(r) for r in payload["results"]]
    return payload


# --- Machine and command ------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    memory = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    except OSError:
        pass
    import django

    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "python": platform.python_version(),
        "django": django.get_version(),
    }


def command_line() -> str:
    def relative(path: str) -> str:
        absolute = Path(path).absolute()
        try:
            return str(absolute.relative_to(harness.REPO))
        except ValueError:
            return path

    words = [relative(sys.executable), relative(sys.argv[0]), *sys.argv[1:]]
    prefix = "DATABASE_URL=… " if os.environ.get("DATABASE_URL") else ""
    return prefix + shlex.join(words)


# --- Reporting ----------------------------------------------------------------------------


def fmt_ms(value: float) -> str:
    if value < 1:
        return f"{value:.3f}"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def fmt_ratio(value: float) -> str:
    return f"{value:.2f}×" if value < 10 else f"{value:.1f}×" if value < 100 else f"{value:.0f}×"


def table(module: ModuleType, results: list[harness.Result]) -> list[list[str]]:
    header = [
        getattr(module, "CASE_LABEL", "case"),
        getattr(module, "METRIC_LABEL", "metric"),
        getattr(module, "ROWS_LABEL", "rows"),
        "samples (distinct)",
        "ours p50 ms",
        "ours p95 ms",
        "baseline p50 ms",
        "baseline p95 ms",
        "ratio p50",
        "ratio p95",
    ]
    rows = [header]
    for r in results:
        rows.append(
            [
                r.case,
                r.metric,
                f"{r.rows:,.0f}",
                f"{r.ours.n} ({r.nodes})",
                fmt_ms(r.ours.p50_ms),
                fmt_ms(r.ours.p95_ms),
                fmt_ms(r.baseline.p50_ms),
                fmt_ms(r.baseline.p95_ms),
                fmt_ratio(r.ratio_p50),
                fmt_ratio(r.ratio_p95),
            ]
        )
    return rows


def print_table(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        cells = [
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  " + "  ".join(cells))
        if index == 0:
            print("  " + "  ".join("-" * w for w in widths))


def markdown_table(rows: list[list[str]]) -> str:
    align = ["---", "---"] + ["---:"] * (len(rows[0]) - 2)
    lines = ["| " + " | ".join(rows[0]) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def section(
    name: str,
    module: ModuleType,
    runs: list[dict[str, Any]],
    info: dict[str, str],
    skipped_postgres: bool,
) -> str:
    versions = " · ".join(run["db_version"] for run in runs)
    out = [
        f"_Generated by `bench/run.py` ({name}); edit `bench/bench_{name}.py` or rerun "
        "`make bench`, not this section._",
        "",
        "| | |",
        "|---|---|",
        f"| Date | {datetime.now(UTC):%Y-%m-%d %H:%M} UTC |",
        f"| Machine | {info['cpu']} · {info['cores']} cores · {info['memory']} RAM · {info['os']} |",
        f"| Software | Python {info['python']} · Django {info['django']} · {versions} |",
        f"| Command | `{command_line()}` |",
        f"| Ours | {module.OURS} |",
        f"| Baseline | {module.BASELINE} (measured in the same run, same loop) |",
        "| Ratio | baseline ÷ ours: above 1× means ours is faster |",
        "",
        module.ABOUT.strip(),
    ]
    if skipped_postgres:
        out += ["", "PostgreSQL was not run (pass `--postgres` or set `DATABASE_URL`)."]
    for run in runs:
        out += ["", f"### {run['db_version']}", ""]
        out += [f"- {note}" for note in run["notes"]]
        out += ["", markdown_table(table(module, run["results"]))]
        for title, lines in run["evidence"]:
            out += ["", f"{title}:", "", "```text", *lines, "```"]
    return "\n".join(out)


def write_docs(name: str, module: ModuleType, body: str) -> None:
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{body}\n{end}"
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip("\n") + f"\n\n## {module.TITLE}\n\n{block}\n"
    DOCS.write_text(text)


# --- Command line -------------------------------------------------------------------------


def main() -> int:
    available = discover()
    parser = argparse.ArgumentParser(
        description="Run the benchmarks in bench/ and record them in docs/benchmarks.md."
    )
    parser.add_argument(
        "names", nargs="*", help=f"benches to run (default: all of {', '.join(available)})"
    )
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL")
    parser.add_argument("--quick", action="store_true", help="small sizes; leaves the docs alone")
    parser.add_argument("--no-docs", action="store_true", help="print only; leave the docs alone")
    parser.add_argument("--seed", type=int, default=20260501, help="random seed (tree, samples)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        worker(args.worker, args.db, args.out, quick=args.quick, seed=args.seed)
        return 0

    unknown = [n for n in args.names if n not in available]
    if unknown:
        parser.error(f"unknown bench {', '.join(unknown)}; available: {', '.join(available)}")
    names = args.names or list(available)
    vendors = ["sqlite"]
    use_postgres = args.postgres or harness.wants_postgres_from_env()
    if use_postgres:
        vendors.append("postgresql")
        print(f"PostgreSQL server: {harness.describe_postgres_server()}")
    info = machine()
    print(f"{info['cpu']}, {info['cores']} cores, {info['memory']}; Python {info['python']}")

    failed = []
    for name in names:
        module = load(name)
        print(f"\n== {name}: {module.TITLE}")
        runs = []
        for vendor in vendors:
            try:
                runs.append(run_in_child(name, vendor, quick=args.quick, seed=args.seed))
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
                print(f"  [{vendor}] FAILED: {error}")
                failed.append(f"{name} on {vendor}")
        for run in runs:
            print(f"\n  {run['db_version']} ({run['seconds']:.0f} s)  ours: {module.OURS}")
            print(f"  baseline: {module.BASELINE}")
            print_table(table(module, run["results"]))
        if runs and len(runs) == len(vendors) and not (args.quick or args.no_docs):
            write_docs(name, module, section(name, module, runs, info, not use_postgres))
            print(f"\n  recorded in {DOCS.relative_to(harness.REPO)}")
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
