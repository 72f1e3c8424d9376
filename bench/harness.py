"""What a benchmark module implements, and the throwaway database it runs against.

A benchmark is a module ``bench/bench_<name>.py`` that defines:

``TITLE``     one line, used as the heading in docs/benchmarks.md;
``OURS``      what the project does (the figure under test);
``BASELINE``  what it is compared with, measured in the same run;
``ABOUT``     a short Markdown paragraph: what is measured and how;
``run(ctx)``  does the work and returns a list of :class:`Result`.

``run`` is called once per database, in a fresh process (see ``bench/run.py``) whose
Django is already set up on a database of its own: a temporary SQLite file in
``var/bench/``, or the PostgreSQL database ``doorstep_bench_<name>``, created, migrated and
dropped again by :func:`open_database`. The developer's database is never touched.
"""

from __future__ import annotations

import math
import os
import random
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VAR_BENCH = REPO / "var" / "bench"
PG_BENCH_DB = "doorstep_bench"
PG_DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"


# --- What a benchmark reports -------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted, non-empty list."""
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Timing:
    """Latency of one operation over ``n`` samples, in milliseconds."""

    n: int
    p50_ms: float
    p95_ms: float

    @classmethod
    def of(cls, samples_ns: list[int]) -> Timing:
        ms = sorted(s / 1e6 for s in samples_ns)
        return cls(n=len(ms), p50_ms=percentile(ms, 0.50), p95_ms=percentile(ms, 0.95))


@dataclass
class Result:
    """One measured case: ours against the baseline, timed in the same loop."""

    case: str  # e.g. "district"
    metric: str  # e.g. "count"
    ours: Timing
    baseline: Timing
    rows: float = 0.0  # mean rows the operation touched (e.g. subtree size)
    nodes: int = 0  # distinct inputs behind the samples

    @property
    def ratio_p50(self) -> float:
        """baseline / ours at the median: above 1 means ours is faster."""
        return self.baseline.p50_ms / self.ours.p50_ms

    @property
    def ratio_p95(self) -> float:
        return self.baseline.p95_ms / self.ours.p95_ms

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        data = dict(data)
        data["ours"] = Timing(**data["ours"])
        data["baseline"] = Timing(**data["baseline"])
        return cls(**data)


@dataclass
class Context:
    """What ``run(ctx)`` gets: the database it runs on and where to put side remarks."""

    vendor: str  # "sqlite" or "postgresql"
    db_version: str
    quick: bool = False  # a smaller run to check the bench works; never written to the docs
    seed: int = 20260501
    notes: list[str] = field(default_factory=list)
    evidence: list[tuple[str, list[str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def log(self, message: str) -> None:
        print(f"  [{self.vendor}] {message}", flush=True)

    def note(self, text: str) -> None:
        """A one-line remark that goes into the report (e.g. how the data was built)."""
        self.notes.append(text)
        self.log(text)

    def show(self, title: str, lines: list[str]) -> None:
        """A block of verbatim evidence for the report, e.g. a query plan."""
        self.evidence.append((title, lines))
        self.log(title)
        for line in lines:
            print(f"      {line}", flush=True)


# --- The throwaway database ---------------------------------------------------------------


def postgres_server() -> dict[str, Any]:
    """Host, port and role of the PostgreSQL server: DATABASE_URL's, else the local one."""
    import dj_database_url

    url = os.environ.get("DATABASE_URL") or PG_DEFAULT_URL
    parsed = dj_database_url.parse(url)
    if parsed["ENGINE"] != "django.db.backends.postgresql":
        parsed = dj_database_url.parse(PG_DEFAULT_URL)
    return {
        "HOST": parsed.get("HOST") or "127.0.0.1",
        "PORT": int(parsed.get("PORT") or 5432),
        "USER": parsed.get("USER") or "postgres",
        "PASSWORD": parsed.get("PASSWORD") or "",
    }


def describe_postgres_server() -> str:
    """``host:port`` only: never a password in the report."""
    server = postgres_server()
    return f"{server['HOST']}:{server['PORT']}"


def wants_postgres_from_env() -> bool:
    url = os.environ.get("DATABASE_URL", "")
    return url.startswith(("postgres://", "postgresql://", "pgsql://"))


def _pg_admin(server: dict[str, Any], statement: str) -> None:
    import psycopg

    assert PG_BENCH_DB in statement  # never anything but the bench database
    with psycopg.connect(
        host=server["HOST"],
        port=server["PORT"],
        user=server["USER"],
        password=server["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
        connect_timeout=10,
    ) as conn:
        conn.execute(statement)


def open_database(vendor: str, bench: str) -> Callable[[], None]:
    """Set Django up on a fresh, migrated database of its own; return the clean-up."""
    sys.path.insert(0, str(REPO))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.django.base"
    # Keeps the settings from creating or reading var/secret-key: nothing here is signed.
    os.environ["DJANGO_SECRET_KEY"] = "bench-only-not-a-secret"  # noqa: S105

    import django
    from django.conf import settings

    cleanups: list[Callable[[], None]] = []
    if vendor == "sqlite":
        from config.django.base import SQLITE_OPTIONS

        VAR_BENCH.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f"{bench}-", suffix=".sqlite3", dir=VAR_BENCH)
        os.close(fd)

        def remove_files() -> None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(name + suffix).unlink(missing_ok=True)

        cleanups.append(remove_files)
        database = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    elif vendor == "postgresql":
        server = postgres_server()
        # One database per bench, so that two benches running at once never drop each
        # other's data.
        dbname = f"{PG_BENCH_DB}_{bench}"
        _pg_admin(server, f'DROP DATABASE IF EXISTS "{dbname}"')
        _pg_admin(server, f'CREATE DATABASE "{dbname}"')
        cleanups.append(lambda: _pg_admin(server, f'DROP DATABASE IF EXISTS "{dbname}"'))
        database = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": dbname,
            "CONN_MAX_AGE": 0,
            **server,
        }
    else:
        raise ValueError(f"unknown database vendor {vendor!r}")

    settings.DATABASES = {"default": database}
    django.setup()

    from django.core.management import call_command
    from django.db import connections

    def cleanup() -> None:
        connections.close_all()
        for step in reversed(cleanups):
            step()

    try:
        call_command("migrate", interactive=False, verbosity=0)
    except BaseException:
        cleanup()
        raise
    return cleanup


def database_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]}"
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
