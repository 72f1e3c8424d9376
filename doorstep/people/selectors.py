"""Reads of the registry. Every query starts from :func:`scoped`, so a list, a detail, an
API answer and a count all show the actor the same rows and nothing more."""

from __future__ import annotations

import datetime as dt
import string
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.db.models.lookups import GreaterThanOrEqual, LessThan
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from doorstep.accounts.models import AuditAction, AuditEvent
from doorstep.accounts.scope_rules import anchor_unit
from doorstep.accounts.scoping import get_scoped_or_404, grants, scoped
from doorstep.core.errors import ValidationError
from doorstep.core.inputs import key_from_text
from doorstep.orgs.models import PartyOrg, Unit

from .choices import CHILD_AGE, ELDERLY_AGE, LeftReason, MobileStatus
from .models import ON_REGISTER, Household, MobileRegistration, PartyMember, Person, Tag
from .services import ADDRESS_KINDS, id_hash_of, phone_hash_of

AGE_GROUPS = ("elderly", "child")
# Whom a registry search lists: those on the register (the default), those who moved
# away or died, or both.
STATUSES = ("current", "left", "all")
ID_SUFFIX_CHARS = frozenset("0123456789X")


# --- Age groups: computed from the birth date on every read ------------------------------


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier; 29 February falls back to the 28th."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_group_q(age_group: str, *, today: dt.date) -> Q:
    """Persons aged 60 or over (``elderly``) or under 14 (``child``) on ``today``."""
    if age_group == "elderly":
        return Q(birth_date__lte=years_before(today, ELDERLY_AGE))
    if age_group == "child":
        return Q(birth_date__gt=years_before(today, CHILD_AGE))
    raise ValidationError(_("未知的年龄段。"), field="age_group")


# --- Search -------------------------------------------------------------------------------


class _Selective(Func):
    """A condition that SQLite's planner should take as selective: ``likelihood(X, p)``.

    SQLite (built without STAT4) guesses every two-sided range to keep 1/64 of a table's
    rows, so for a city-wide actor it drives the search from the unit-path range (all of
    the city) and reads every person, instead of from the name index. The hint changes
    only the plan, never the result; other databases get the bare condition (PostgreSQL
    plans from real statistics)."""

    output_field = BooleanField()
    template = "likelihood(%(expressions)s, 0.01)"

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        return compiler.compile(self.get_source_expressions()[0])

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, **extra)


def prefix_range(field_name: str, prefix: str, *, selective: bool = False) -> Q:
    """``field`` starts with ``prefix`` as a range (``>= prefix AND < successor``), which
    both SQLite and PostgreSQL answer from a plain B-tree index whatever the collation,
    unlike ``LIKE 'prefix%'``. Only for ASCII prefixes."""
    successor = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    if selective:
        column = F(field_name)
        return Q(
            _Selective(GreaterThanOrEqual(column, prefix)),
            _Selective(LessThan(column, successor)),
        )
    return Q(**{f"{field_name}__gte": prefix, f"{field_name}__lt": successor})


# Names of the structures made by migration people/0004_person_name_grams.
NAME_GRAM_TABLE = "people_person_name_gram"  # SQLite
NAME_GRAMS_FUNCTION = "people_person_name_grams"  # PostgreSQL, under a GIN index
NAME_GRAMS_INDEX = "people_person_name_grams_gin"
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def name_grams(fragment: str, *, fold_ascii: bool = False) -> list[str]:
    """What the name index must hold for a name containing ``fragment``: the fragment
    itself when it is one character, otherwise each distinct pair of adjacent characters.
    ``fold_ascii`` lowers ASCII letters only, as SQLite's ``lower()`` and ``LIKE`` do."""
    if fold_ascii:
        fragment = fragment.translate(_ASCII_LOWER)
    if len(fragment) <= 1:
        return [fragment] if fragment else []
    return list(dict.fromkeys(fragment[i : i + 2] for i in range(len(fragment) - 1)))


class NameHasGrams(Func):
    """``name`` holds every gram of a fragment, read from the name index (ADR 0007).

    A candidate filter: every person whose name contains the fragment passes it, and a
    few others may (``英秀英`` holds both pairs of ``秀英秀``). It always goes with the
    ``name LIKE`` that decides; it only lets the database start from the index instead
    of reading every person in the actor's scope."""

    output_field = BooleanField()

    def __init__(self, fragment: str, *, single_char_index: bool = False) -> None:
        super().__init__(F("name"), F("pk"))
        self.fragment = fragment
        self.single_char_index = single_char_index

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        return "1 = 1", ()  # no name index on this database: the LIKE alone decides

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        if len(self.fragment) == 1 and not self.single_char_index:
            # One character matches a few percent of the registry. PostgreSQL finds the
            # first page sooner by walking the registry's order and stopping at 50, and
            # the count costs the same either way (bench/bench_registry_search.py).
            return "1 = 1", ()
        name_sql, name_params = compiler.compile(self.get_source_expressions()[0])
        grams = name_grams(self.fragment)
        return f"{NAME_GRAMS_FUNCTION}({name_sql}) @> %s::text[]", (*name_params, grams)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        pk_sql, pk_params = compiler.compile(self.get_source_expressions()[1])
        grams = name_grams(self.fragment, fold_ascii=True)
        one = f"SELECT person_id FROM {NAME_GRAM_TABLE} WHERE gram = %s"  # noqa: S608
        return f"{pk_sql} IN ({' INTERSECT '.join([one] * len(grams))})", (*pk_params, *grams)


# Scopes this wide hold too many persons to read them all for one search.
WIDE_SCOPE_KINDS = frozenset({"city", "district", "county", "street", "town"})

# A single character matching at least this many persons, and this share of the
# registry, is "frequent": its first page is found sooner by walking the registry's order
# (about 50 / share rows) than by reading and sorting every match (ADR 0011).
FREQUENT_CHAR_MIN = 5_000
FREQUENT_CHAR_SHARE = 0.01
STATS_TTL_S = 600.0  # PostgreSQL's element statistics change only on ANALYZE

# For a wide scope a count stops here: beyond it the list says "more than …" (ADR 0011).
COUNT_LIMIT = 1_000


def _wide_scope(actor: Any) -> bool:
    """Does any of the actor's grants cover more than one community? (No query: the
    grants are cached on the user.)"""
    return any(
        unit is not None and unit.kind in WIDE_SCOPE_KINDS
        for unit in (anchor_unit(grant) for grant in grants(actor))
    )


_pg_stats_cache: dict[str, tuple[float, dict[str, float], float]] = {}


def _pg_char_share(char: str) -> tuple[float, float]:
    """(share of persons whose name holds ``char``, persons in the registry), from the
    element statistics ``ANALYZE`` keeps on the name-grams index's expression (0 when the
    character is not among its most common elements, or nothing is analysed yet)."""
    alias = connection.alias
    cached = _pg_stats_cache.get(alias)
    if cached is None or time.monotonic() - cached[0] > STATS_TTL_S:
        shares: dict[str, float] = {}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs "
                "FROM pg_stats AS s WHERE s.schemaname = current_schema() "
                "AND s.tablename = %s",
                [NAME_GRAMS_INDEX],
            )
            row = cursor.fetchone()
            if row and row[0] and row[1]:
                shares = dict(zip(row[0], row[1], strict=False))
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
                [Person._meta.db_table],
            )
            found = cursor.fetchone()
        total = float(found[0]) if found and found[0] and found[0] > 0 else 0.0
        cached = (time.monotonic(), shares, total)
        _pg_stats_cache[alias] = cached
    return cached[1].get(char, 0.0), cached[2]


def char_is_frequent(char: str) -> bool:
    """Does one character match so many persons (FREQUENT_CHAR_MIN and
    FREQUENT_CHAR_SHARE of the registry) that walking the registry's order finds a page
    of them sooner than the name index? SQLite counts the character's index entries (at
    most the threshold); PostgreSQL reads the index's element statistics (cached)."""
    if connection.vendor == "postgresql":
        share, total = _pg_char_share(char)
        return share >= FREQUENT_CHAR_SHARE and share * total >= FREQUENT_CHAR_MIN
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(id) FROM {Person._meta.db_table}")  # noqa: S608
        top = cursor.fetchone()[0] or 0
        limit = max(FREQUENT_CHAR_MIN, int(top * FREQUENT_CHAR_SHARE))
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {NAME_GRAM_TABLE} WHERE gram = %s LIMIT %s)",  # noqa: S608
            [name_grams(char, fold_ascii=True)[0], limit],
        )
        return bool(cursor.fetchone()[0] >= limit)


class _RegistryOrderHint(Func):
    """``likelihood(name_pinyin >= '', 0.001)`` on SQLite: always true, but taken by the
    planner as a selective range on the ``name_pinyin`` index, so that it walks the
    registry's order (``name_pinyin, id``) and stops at the page's last row instead of
    starting from the actor's units and sorting everyone. Nothing elsewhere."""

    output_field = BooleanField()

    def __init__(self) -> None:
        super().__init__(F("name_pinyin"))

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:
        return "1 = 1", ()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, params = compiler.compile(self.get_source_expressions()[0])
        return f"likelihood({column} >= '', 0.001)", params


def id_number_match(q: str) -> Q | None:
    """The filter for a whole 18-character ID number typed in ``q`` (found by its keyed
    hash); None when ``q`` is not shaped like one. A bad check digit or date is refused,
    naming the field ``q``."""
    upper = (q or "").strip().replace(" ", "").upper()
    if not (len(upper) == 18 and upper[:17].isdigit() and upper[17] in ID_SUFFIX_CHARS):
        return None
    try:
        return Q(id_number_hash=id_hash_of(upper))
    except ValidationError as exc:
        raise ValidationError(exc.message, field="q") from None


def _query_q(q: str, *, wide: bool = False, for_count: bool = False) -> Q | None:
    """The filter for the search box's text, or None when it can match no one."""
    text = q.strip().replace(" ", "")
    if not text:
        return Q()
    upper = text.upper()
    if (by_id := id_number_match(upper)) is not None:
        return by_id
    if text.isdigit() and len(text) == 11:
        try:
            return Q(phone_hash=phone_hash_of(text))
        except ValidationError as exc:
            raise ValidationError(exc.message, field="q") from None
    if len(upper) == 4 and set(upper) <= ID_SUFFIX_CHARS:
        # The last four of an ID number (masked copy keeps them) or of a phone number.
        id_suffix = Q(id_last4=upper)
        return id_suffix | Q(phone_last4=upper) if upper.isdigit() else id_suffix
    if text.isdigit():
        if text.startswith("0") and 7 <= len(text) <= 12:  # a landline with its area code
            return Q(phone_hash=phone_hash_of(text))
        return None  # part of a number: sealed numbers cannot be searched by fragment
    if text.isascii() and text.isalpha():
        key = text.lower()
        # From a wide scope the prefix is read from the name indexes; a narrow scope is
        # faster read from its units.
        if len(key) == 1:
            # The initials start with the full pinyin's first letter: one range, which
            # the name_pinyin index also reads in the registry's order (ADR 0011).
            return prefix_range("name_pinyin", key, selective=wide)
        either = prefix_range("name_pinyin", key, selective=wide) | prefix_range(
            "name_initials", key, selective=wide
        )
        if not wide or connection.vendor != "postgresql":
            return either
        # Both kinds of match have a full pinyin starting with the prefix's first letter.
        # Saying so gives PostgreSQL an index condition when it walks the registry's order
        # for the first page, which it otherwise starts at "a" (1 s for "jy"; ADR 0011).
        return prefix_range("name_pinyin", key[0]) & either
    # A name fragment: the grams index finds the candidates, LIKE keeps its exact
    # meaning. From a narrow scope a single character is faster read from the scope's
    # units (it matches a few percent of the whole registry).
    if len(text) >= 2:
        return Q(NameHasGrams(text), name__contains=text)
    if not wide:
        return Q(name__contains=text)
    # One character from a wide scope (ADR 0011). A rare character: from the index, its
    # matches then sorted. A frequent one: by walking the registry's order to the page's
    # last row (PostgreSQL's planner does so by itself, from the name column's
    # statistics, migration 0006; SQLite is told). Counting a frequent one: from the
    # index on SQLite (the walk would read 1 / share rows per row counted); PostgreSQL
    # reads the table until the count's limit.
    if not char_is_frequent(text) or (for_count and connection.vendor == "sqlite"):
        return Q(NameHasGrams(text, single_char_index=True), name__contains=text)
    return Q(_RegistryOrderHint(), name__contains=text)


def person_search(
    *,
    actor: Any,
    q: str = "",
    tags: tuple[str, ...] | list[str] = (),
    age_group: str = "",
    within: int | None = None,
    party: bool | None = None,
    status: str = "current",
    today: dt.date | None = None,
    for_count: bool = False,
) -> QuerySet[Person]:
    """The persons the actor may see that match the search box and the filters.

    ``q``: a Chinese name fragment, a pinyin prefix (``zhang``) or initials (``zs``), the
    last four characters of an ID number or a phone number, or a whole ID or phone number
    (found through its keyed hash). ``tags``: tag codes, all of which must apply.
    ``within``: a unit id the actor may see. ``party``: party members only (True) or
    non-members only (False). ``status``: ``current`` (on the register: the default),
    ``left`` (moved away or deceased) or ``all``.

    ``for_count``: the same persons, in a form the database counts faster (a single
    character from a wide scope is then read from the name index even when a page of it
    is not); see :func:`registry_count` and :class:`RegistryPaginator`.
    """
    if status not in STATUSES:
        raise ValidationError(_("未知的人员状态。"), field="status")
    qs = scoped(actor, Person)
    if status != "all":
        qs = qs.filter(left_on__isnull=status == "current")
    unit = get_scoped_or_404(actor, Unit, pk=within) if within is not None else None
    # What the search reads from: the actor's scope, or the unit chosen within it.
    wide = _wide_scope(actor) and (unit is None or unit.kind in WIDE_SCOPE_KINDS)
    text_q = _query_q(q, wide=wide, for_count=for_count)
    if text_q is None:
        return qs.none()
    if text_q:
        qs = qs.filter(text_q)
    for code in dict.fromkeys(tags):
        if code:
            qs = qs.filter(
                Exists(Tag.objects.filter(persons=OuterRef("pk"), code=code, is_active=True))
            )
    if age_group:
        qs = qs.filter(age_group_q(age_group, today=today or timezone.localdate()))
    if unit is not None:
        qs = qs.filter(unit.subtree_q(field="unit__path"))
    if party is not None:
        member = Exists(PartyMember.objects.filter(person=OuterRef("pk")))
        qs = qs.filter(member if party else ~member)
    return qs


def count_limit(actor: Any, within: int | None = None) -> int | None:
    """Where a count of search results stops for this actor (searching within a unit):
    :data:`COUNT_LIMIT` for a scope wider than a community (a city holds hundreds of
    thousands of persons), none for a community, whose whole registry counts in a few
    milliseconds."""
    if not _wide_scope(actor):
        return None
    if within is not None:
        kind = scoped(actor, Unit).filter(pk=within).values_list("kind", flat=True).first()
        if kind is not None and kind not in WIDE_SCOPE_KINDS:
            return None
    return COUNT_LIMIT


def registry_count(qs: QuerySet[Any], limit: int | None = COUNT_LIMIT) -> tuple[int, bool]:
    """(count, whether there are more): counts at most ``limit`` rows (all when None),
    so that a search matching tens of thousands of persons costs no more to count than
    one matching ``limit``. The list then says "more than ``limit``" and offers pages
    up to ``limit`` rows."""
    if limit is None:
        return qs.count(), False
    found = qs.order_by()[: limit + 1].count()
    return min(found, limit), found > limit


class RegistryPaginator(Paginator):
    """A paginator whose count may stop at ``limit`` (see :func:`registry_count`).

    ``count_queryset``: the same rows in the form the database counts faster (from
    ``person_search(..., for_count=True)``); the page itself is read from ``object_list``.
    ``more`` tells, once the count is known, that there are more rows than it says."""

    def __init__(
        self,
        object_list: Any,
        per_page: int,
        *,
        count_queryset: QuerySet[Any] | None = None,
        limit: int | None = COUNT_LIMIT,
    ) -> None:
        super().__init__(object_list, per_page)
        self.count_queryset = count_queryset
        self.limit = limit
        self.more = False

    @cached_property
    def count(self) -> int:
        source: Any = self.count_queryset
        if source is None:
            source = self.object_list
        found, self.more = registry_count(source, self.limit)
        return found


def with_list_relations(qs: QuerySet[Person]) -> QuerySet[Person]:
    """What a result row shows (address, tags), loaded in a fixed number of queries."""
    return qs.select_related("unit", "household__unit").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.filter(is_active=True).order_by("code"))
    )


def person_detail(*, actor: Any, person_id: int) -> Person:
    return get_scoped_or_404(
        actor,
        Person,
        queryset=with_list_relations(
            Person.objects.select_related("guardian", "party_member__party_org")
        ),
        pk=person_id,
    )


def own_person(*, actor: Any) -> Person | None:
    """The resident's own registry record, if their account is linked to one."""
    if not getattr(actor, "is_authenticated", False):
        return None
    return (
        with_list_relations(scoped(actor, Person))
        .filter(user_id=actor.pk, pseudonymized_at__isnull=True)
        .first()
    )


# --- Households ---------------------------------------------------------------------------


@dataclass
class HouseholdDetail:
    household: Household
    members: list[Person]  # on the register
    head: Person | None
    grid: Any = None  # grids.Grid, read through household.grid_link
    grid_member: Any = None  # the grid member (a user) who links the household
    former: list[Person] = field(default_factory=list)  # moved away or deceased, last first


def household_detail(*, actor: Any, household_id: int) -> HouseholdDetail:
    """A household the actor may see, its members the actor may see (head first), and
    its grid. The grid is a related read through ``household.grid_link``: grids sits
    above people, so people never imports it."""
    household = get_scoped_or_404(
        actor,
        Household,
        queryset=Household.objects.select_related(
            "unit", "grid_link__grid__unit", "grid_link__member"
        ),
        pk=household_id,
    )
    visible = with_list_relations(scoped(actor, Person)).filter(household=household)
    everyone = list(visible)
    members = sorted(
        (p for p in everyone if p.left_on is None),
        key=lambda p: (p.pk != household.head_id, p.name_pinyin, p.pk),
    )
    former = sorted(
        (p for p in everyone if p.left_on is not None),
        key=lambda p: (p.left_on, p.pk),
        reverse=True,
    )
    try:
        link = household.grid_link
    except ObjectDoesNotExist:
        link = None
    return HouseholdDetail(
        household=household,
        members=members,
        head=next((m for m in members if m.pk == household.head_id), None),
        grid=link.grid if link else None,
        grid_member=link.member if link else None,
        former=former,
    )


EMPTY_SHOWN = 200


def empty_households(*, actor: Any) -> QuerySet[Household]:
    """The open households the actor sees where nobody is on the register any more
    (everyone moved away, died, moved elsewhere or was erased): each waits for a worker
    to close it, so that its grid member stops visiting it and grid counts leave it out."""
    here = Person.objects.filter(ON_REGISTER, household=OuterRef("pk"))
    return scoped(actor, Household).filter(~Exists(here), is_active=True)


@dataclass(frozen=True)
class EmptyHousehold:
    household: Household
    last_left: Person | None  # the last member taken off the register, if any


def empty_household_list(*, actor: Any, limit: int = EMPTY_SHOWN) -> list[EmptyHousehold]:
    """:func:`empty_households` in address order, at most ``limit``, each with the member
    who left last (in a fixed number of queries)."""
    households = list(
        empty_households(actor=actor)
        .select_related("unit__parent", "grid_link__grid")
        .order_by("unit__path", "entrance", "room", "id")[:limit]
    )
    last: dict[int, Person] = {}
    for person in (
        scoped(actor, Person)
        .filter(household__in=[h.pk for h in households], left_on__isnull=False)
        .order_by("household_id", "-left_on", "-id")
    ):
        last.setdefault(person.household_id or 0, person)
    return [EmptyHousehold(household=h, last_left=last.get(h.pk)) for h in households]


# --- Summaries ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistrySummary:
    total: int  # on the register
    elderly: int
    children: int
    tags: list[tuple[Tag, int]]
    left: int = 0  # moved away or deceased: counted apart, in none of the above


def registry_summary(
    *, actor: Any, within: int | None = None, today: dt.date | None = None
) -> RegistrySummary:
    """How many persons the actor sees (within a unit) on the register, by age group
    and by tag, and how many moved away or died."""
    today = today or timezone.localdate()
    people = person_search(actor=actor, within=within, status="all").order_by()
    ids = people.values("pk")
    here = Q(left_on__isnull=True)
    counts = Person.objects.filter(pk__in=ids).aggregate(
        total=Count("pk", filter=here),
        elderly=Count("pk", filter=here & age_group_q("elderly", today=today)),
        children=Count("pk", filter=here & age_group_q("child", today=today)),
        left=Count("pk", filter=~here),
    )
    tag_rows = (
        Tag.objects.filter(is_active=True)
        .annotate(n=Count("persons", filter=Q(persons__in=ids, persons__left_on__isnull=True)))
        .order_by("code")
    )
    return RegistrySummary(
        total=counts["total"],
        elderly=counts["elderly"],
        children=counts["children"],
        tags=[(tag, tag.n) for tag in tag_rows],
        left=counts["left"],
    )


def period_changes(*, actor: Any, unit: Unit, start: dt.date, end: dt.date) -> dict[str, int]:
    """Persons of a unit's subtree taken off the register from ``start`` to ``end``
    (local dates, both included), by reason, over what the actor may see: for the
    leaders' figures. One query, read through the partial index on ``left_on``."""
    rows = (
        scoped(actor, Person)
        .filter(unit.subtree_q(field="unit__path"), left_on__gte=start, left_on__lte=end)
        .order_by()
        .values("left_reason")
        .annotate(n=Count("pk"))
    )
    found = {row["left_reason"]: row["n"] for row in rows}
    return {reason: found.get(reason, 0) for reason in LeftReason.values}


# --- Party members and mobile party members -------------------------------------------------


def party_member_list(*, actor: Any, party_org: int | None = None) -> QuerySet[PartyMember]:
    qs = scoped(actor, PartyMember).select_related("person", "person__unit", "party_org")
    if party_org is not None:
        qs = qs.filter(party_org_id=party_org)
    return qs.order_by("party_org__path", "person__name_pinyin", "pk")


def party_member_counts(*, actor: Any) -> list[dict[str, Any]]:
    """Party members the actor sees, per party organization."""
    rows = (
        scoped(actor, PartyMember)
        .order_by()
        .values("party_org_id", "party_org__name", "party_org__path")
        .annotate(n=Count("pk"))
        .order_by("party_org__path")
    )
    return [
        {"party_org_id": r["party_org_id"], "name": r["party_org__name"], "count": r["n"]}
        for r in rows
    ]


def mobile_registration_list(
    *, actor: Any, party_org: int | None = None, active_only: bool = True
) -> QuerySet[MobileRegistration]:
    qs = scoped(actor, MobileRegistration).select_related("person", "party_org__unit")
    if active_only:
        qs = qs.filter(status=MobileStatus.ACTIVE)
    if party_org is not None:
        qs = qs.filter(party_org_id=party_org)
    return qs.order_by("-registered_on", "pk")


def mobile_registration_counts(*, actor: Any) -> list[dict[str, Any]]:
    """Mobile party members per functional party organization (and its unit): active
    registrations and all registrations ever made there."""
    rows = (
        scoped(actor, MobileRegistration)
        .order_by()
        .values("party_org_id", "party_org__name", "party_org__unit__name", "party_org__path")
        .annotate(
            active=Count("pk", filter=Q(status=MobileStatus.ACTIVE)),
            total=Count("pk"),
        )
        .order_by("party_org__path")
    )
    return [
        {
            "party_org_id": r["party_org_id"],
            "name": r["party_org__name"],
            "unit": r["party_org__unit__name"],
            "active": r["active"],
            "total": r["total"],
        }
        for r in rows
    ]


def visible_party_orgs(*, actor: Any) -> QuerySet[PartyOrg]:
    return scoped(actor, PartyOrg).order_by("path")


# --- An outlet's counter: find one resident, never browse ------------------------------------

COUNTER_CANDIDATES = 8


@dataclass(frozen=True)
class CounterCandidate:
    """What a counter learns of a resident it found: enough to tell neighbours apart at
    the till, nothing to look them up elsewhere (no full name, no number, no room)."""

    person_id: int
    masked_name: str
    place: str  # the compound or building, never the room
    phone_masked: str
    age: int | None


def mask_name(name: str) -> str:
    """``张秀英`` → ``张*英``, ``李明`` → ``李*``: enough to tell neighbours apart."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def counter_query(q: str) -> Q:
    """What a clerk typed, which must point at a few people (see :func:`counter_match`)."""
    return counter_match(q)[1]


def counter_match(q: str) -> tuple[str, Q]:
    """What a clerk typed, which must point at a few people, and what kind of lookup it
    is: a whole (``phone``) or last-four (``last4``) phone number, a name of two
    characters or more (``name``), a pinyin or initials prefix of two letters or more
    (``pinyin``). Anything vaguer is refused, naming the field ``q``: a clerk finds a
    resident, they do not browse the registry."""
    text = (q or "").strip().replace(" ", "")
    if text.isdigit() and len(text) == 11:
        try:
            return "phone", Q(phone_hash=phone_hash_of(text))
        except ValidationError:
            raise ValidationError(_("电话号码格式不正确。"), field="q") from None
    if text.isdigit() and len(text) == 4:
        return "last4", Q(phone_last4=text)
    if text.isascii() and text.isalpha() and len(text) >= 2:
        key = text.lower()
        return "pinyin", prefix_range("name_pinyin", key) | prefix_range("name_initials", key)
    if not text.isascii() and len(text) >= 2 and not any(c.isdigit() for c in text):
        return "name", Q(NameHasGrams(text), name__contains=text)
    raise ValidationError(
        _("请输入至少两个字的姓名、拼音、电话后四位或完整电话，或扫描积分码。"), field="q"
    )


def counter_candidates(
    *,
    q: str = "",
    unit: Unit,
    among: QuerySet[Any] | None = None,
    person_ids: list[int] | None = None,
    limit: int = COUNTER_CANDIDATES,
    today: dt.date | None = None,
) -> list[CounterCandidate]:
    """The one place an outlet's counter reads persons: residents living in ``unit``'s
    subtree who match ``q`` (see :func:`counter_query`), at most ``limit`` of them,
    masked. ``among`` narrows them to a subquery of person ids (the residents who hold a
    points account there); ``person_ids`` instead of ``q`` names the persons outright
    (the holder of a scanned QR code). Pseudonymized persons are never found, nor those
    who moved away or died.

    A clerk may not see the registry (they hold no scope over persons), so this does not
    go through :func:`scoped`: the caller has already decided that the actor serves a
    counter of ``unit``, and what comes back is only what a till may show. Nothing is
    opened or written by a search."""
    if limit <= 0:
        return []
    match = Q(pk__in=person_ids) if person_ids is not None else counter_query(q)
    persons = Person.objects.filter(match, ON_REGISTER, unit.subtree_q(field="unit__path"))
    if among is not None:
        persons = persons.filter(pk__in=among)
    rows = persons.order_by("name_pinyin", "pk").values_list(
        "pk", "name", "unit__name", "phone_masked", "birth_date"
    )[:limit]
    day = today or timezone.localdate()
    return [
        CounterCandidate(
            person_id=pk,
            masked_name=mask_name(name),
            place=place,
            phone_masked=phone,
            age=_age(born, day),
        )
        for pk, name, place, phone, born in rows
    ]


def _age(born: dt.date | None, day: dt.date) -> int | None:
    if born is None:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def active_tag_codes(person_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    """The codes of the active tags stored on each person (disability, living alone,
    low income …; age groups are computed from the birth date, not stored), in one
    query: for pricing and the like, which read a person's tags by id."""
    found: dict[int, set[str]] = {}
    for person_id, code in Person.tags.through.objects.filter(
        person_id__in=list(person_ids), tag__is_active=True
    ).values_list("person_id", "tag__code"):
        found.setdefault(person_id, set()).add(code)
    return {person_id: frozenset(codes) for person_id, codes in found.items()}


# --- Registry upkeep ----------------------------------------------------------------------

# Address choices offered on one page: a community's buildings, compounds and natural
# villages fit many times over; an administrator of a whole district registers people
# from a household's page, which names its own address.
ADDRESS_CHOICE_LIMIT = 2000


def address_choices(*, actor: Any, include: Unit | None = None) -> list[tuple[int, str]]:
    """The addresses the actor may register people at, in tree order, each with the
    place it lies in ("甲小区 · 1号楼"); ``include`` is offered even beyond the limit."""
    units = list(
        scoped(actor, Unit)
        .filter(kind__in=ADDRESS_KINDS, is_active=True)
        .select_related("parent")
        .only("id", "name", "path", "kind", "parent__name")
        .order_by("path")[:ADDRESS_CHOICE_LIMIT]
    )
    if include is not None and all(u.pk != include.pk for u in units):
        units.append(include)

    def label(unit: Unit) -> str:
        if unit.kind == "building" and unit.parent is not None:
            return f"{unit.parent.name} · {unit.name}"
        return unit.name

    return [(u.pk, label(u)) for u in units]


def household_at_address(*, actor: Any, unit_id: Any, entrance: str, room: str) -> Household | None:
    """The household the actor sees at an address, if one is registered there."""
    unit_pk = key_from_text(str(unit_id or ""))
    if unit_pk is None:
        return None
    return (
        scoped(actor, Household)
        .filter(unit_id=unit_pk, entrance=(entrance or "").strip(), room=(room or "").strip())
        .first()
    )


def guardian_choices(
    *, actor: Any, household: Household | None, person: Person | None = None
) -> list[tuple[int, str]]:
    """Whom a record may name as guardian: the household's other members the actor
    sees, and the guardian already named wherever they live."""
    found: list[tuple[int, str]] = []
    if household is not None:
        members = (
            scoped(actor, Person)
            .filter(ON_REGISTER, household=household)
            .only("id", "name")
            .order_by("name_pinyin", "id")
        )
        found = [(p.pk, p.name) for p in members if person is None or p.pk != person.pk]
    if (
        person is not None
        and person.guardian_id
        and all(pk != person.guardian_id for pk, _name in found)
    ):
        found.append((person.guardian_id, person.guardian.name))  # type: ignore[union-attr]
    return found


def tag_label_map() -> dict[str, str]:
    """Every tag's label by its code, retired ones too (a history names them)."""
    return {tag.code: tag.label for tag in Tag.objects.only("code", "name")}


# What the record's history shows: its changes, not who looked at it (the audit log has
# that, for the auditor).
HISTORY_ACTIONS = (
    AuditAction.PERSON_REGISTERED,
    AuditAction.PERSON_CHANGED,
    AuditAction.PERSON_MOVED,
    AuditAction.PERSON_LEFT,
    AuditAction.PERSON_REINSTATED,
    AuditAction.PSEUDONYMIZED,
)
HISTORY_LIMIT = 50


def person_history(*, person: Person) -> list[Any]:
    """The changes to a record, newest first: who registered, corrected or moved it,
    when and what. The caller read ``person`` through the scoping checkpoint (staff) or
    as the resident's own record. The rows are the audit log's, which nothing rewrites."""
    return list(
        AuditEvent.objects.filter(
            object_type="people.person", object_id=str(person.pk), action__in=HISTORY_ACTIONS
        )
        .select_related("actor")
        .order_by("-at", "-id")[:HISTORY_LIMIT]
    )
