"""Licenses: quoted, then created against the credits in one transaction; listed, filtered
and sorted by the portal for lists of any length; edited, upgraded (never down), deleted with
a refund, and released from their device by an admin."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar

from pydantic_core import to_json
from sqlalchemy import (
    Integer,
    Text,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal_column,
    not_,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from seattui.domain.roles import Permission, Role
from seattui.domain.catalog import Product, ProductKind, SeatPlan
from seattui.domain.billing import OrderKind
from seattui.domain.credits import LedgerReason
from seattui.domain.dashboard import SUPPORT_ENDING_DAYS, TRIALS_ENDING_DAYS
from seattui.domain.customers import customer_email
from seattui.domain.dates import add_months
from seattui.domain.errors import Conflict, LicenseActivated, TrialExists, ValidationFailed
from seattui.domain.licensing import (
    MAX_BATCH,
    BatchResult,
    License,
    LicenseBatch,
    LicenseEdit,
    LicenseFacets,
    LicenseFilter,
    LicenseOrder,
    LicensePage,
    LicenseSort,
    LicenseStatus,
    LicenseUpgrade,
    MatchingIds,
    SupportWindow,
    Renewal,
    Term,
)
from seattui.domain.money import format_credits, to_hundredths
from seattui.domain.pricing import (
    SUPPORT_MONTHS_INCLUDED,
    ZERO,
    Configuration,
    PriceLine,
    Quote,
    configuration_lines,
    upgrade_lines,
)
from seattui.portal.context import Actor, Tx
from seattui.portal.paging import along_the_sort, encode_cursor, kept_pages, keyset_page, keyset_query, keyset_values
from seattui.portal.queries.customers import customer_for
from seattui.portal.queries.keys import find as find_key
from seattui.portal.queries.licenses import (
    batch_licenses,
    configuration_of,
    count_licenses,
    from_row,
    get,
    license_json_query,
    license_json_sql,
    license_query,
    licenses_held_query,
    search_text,
    visible,
)
from seattui.domain.paging import Page
from seattui.portal.refusals import refuse
from seattui.portal.trigrams import few_candidates
from seattui.portal.queries.license_files import Signer
from seattui.portal.services import audit, billing, credits, customer_mail
from seattui.portal.services.billing import Charge
from seattui.portal.store.point import PointQuery
from seattui.portal.store.tables import (
    LICENSE_CUSTOMER,
    LICENSE_DEVICE,
    LICENSE_EDITION,
    LICENSE_SUPPORT_END,
    activation_keys,
    license_search,
    license_versions,
    licenses,
    seats,
)

def _order_configuration(order: LicenseOrder) -> Configuration:
    # A flexible plan is bought by its purchase cap: the seats it may assign, billed by the day.
    quantity = order.seat_cap or order.quantity if order.term is Term.FLEXIBLE else order.quantity
    return Configuration(
        term=order.term, edition_id=order.edition_id, addons=tuple(sorted(order.addons)), quantity=quantity
    )

T = TypeVar("T")


async def _check_trial_rule(tx: Tx, key_id: int, product: Product, key: str) -> None:
    live = (
        await tx.conn.execute(
            select(licenses.c.id).where(
                licenses.c.key_id == key_id,
                licenses.c.product_id == product.id,
                licenses.c.term == Term.TRIAL.value,
                licenses.c.trial_ends_on >= tx.today,
            )
        )
    ).first()
    if live is not None:
        raise TrialExists(
            f"The key {key} already holds a live trial of {product.name} (license {live.id}); "
            "a key holds one live trial per product. Use another key, or make that trial permanent.",
            {"license_id": live.id, "key": key, "product_id": product.id},
        )


async def _priced(tx: Tx, order: LicenseOrder) -> tuple[Product, Any, list[PriceLine]]:
    """Validate an order whole, as quote and create both must, and price it."""
    product = tx.catalog.product(order.product_id)
    lines = configuration_lines(product, _order_configuration(order))
    key_row = await find_key(tx, order.key)
    if order.term is Term.TRIAL:
        await _check_trial_rule(tx, key_row.id, product, key_row.key)
    return product, key_row, lines


async def quote(tx: Tx, order: LicenseOrder) -> Quote:
    """What the order costs against the balance now; changes nothing."""
    _, _, lines = await _priced(tx, order)
    return await billing.quote(tx, lines, order)


def _term_dates(order: LicenseOrder, product: Product, today: date) -> dict[str, Any]:
    if order.term is Term.TRIAL:
        assert order.trial_days is not None
        return {"trial_ends_on": today + timedelta(days=order.trial_days)}
    if order.term is Term.PERMANENT:
        return {"support_ends_on": add_months(today, SUPPORT_MONTHS_INCLUDED)}
    offer = product.seat_plan(SeatPlan(order.term.value))
    if offer.plan is SeatPlan.FLEXIBLE:
        # No term: it runs until ended, billed in arrears month by month; quantity is the cap.
        cap = order.seat_cap or order.quantity
        return {"seat_cap": cap, "quantity": cap}
    # An annual contract: its seats for 12 months, growing up to its contract maximum.
    return {"term_ends_on": add_months(today, 12), "seat_cap": order.seat_cap or offer.max_seats,
            "renewal": Renewal.SAME.value}


async def create(tx: Tx, order: LicenseOrder, signing: Signer | None = None) -> License:
    """Create the license and pay for it in the caller's transaction: both or neither; the
    customer's mail (customer_mail.py, signed with `signing` when it carries the file) too."""
    tx.actor.require(Permission.ASSIGN if order.term is Term.TRIAL else Permission.PURCHASE)
    balance = await credits.lock_balance(tx)  # first: serializes purchases and the one-live-trial rule
    product, key_row, lines = await _priced(tx, order)
    settlement = await billing.settle(tx, balance, lines, order)
    cost = settlement.cost
    term_dates = _term_dates(order, product, tx.today)
    customer_id = await customer_for(tx, order.customer_email)
    license_id = (
        await tx.conn.execute(
            insert(licenses)
            .values(
                org_id=tx.org_id,
                key_id=key_row.id,
                key=key_row.key,
                product_id=product.id,
                edition_id=order.edition_id,
                addons=",".join(sorted(order.addons)),
                term=order.term.value,
                customer_email=order.customer_email,
                customer_id=customer_id,
                comment=order.comment,
                paid=to_hundredths(cost),
                created_at=tx.now,
                updated_at=tx.now,
                **({"quantity": order.quantity} | term_dates),
            )
            .returning(licenses.c.id)
        )
    ).scalar_one()
    await tx.conn.execute(insert(license_search).values(
        org_id=tx.org_id, license_id=license_id, text=search_text(key_row.key, order.customer_email, order.comment)))
    await count_licenses(tx.conn, tx.org_id, 1)
    quantity = term_dates.get("quantity", order.quantity)
    what = f"{product.name} {order.term.value} license, {quantity} {product.unit.label(quantity)}"
    service_end = term_dates.get("support_ends_on") or term_dates.get("term_ends_on")
    await billing.place(
        tx, settlement, OrderKind.PURCHASE,
        [Charge(line, "license", license_id, tx.today, service_end) for line in lines],
        [(-cost, LedgerReason.LICENSE, "license", license_id, f"{what} on {key_row.key}")], order,
    )
    await audit.record(
        tx,
        "license.create",
        "license",
        license_id,
        f"{what} on {key_row.key}" + (f" for {format_credits(cost)} credits" if cost else ""),
        {"key": key_row.key, "product_id": product.id, "term": order.term.value, "quantity": quantity,
         "cost": f"{cost:.2f}"},
    )
    created = await get(tx, license_id)
    await customer_mail.mail_license(tx, created, customer_id, signing)
    return created


async def bind_device(tx: Tx, license_id: int, fingerprint: str, hostname: str) -> None:
    """Record that a license runs on a device (the activation endpoint decides whether it may)."""
    await tx.conn.execute(
        licenses.update()
        .where(licenses.c.id == license_id, licenses.c.org_id == tx.org_id)
        .values(device_fingerprint=fingerprint, device_hostname=hostname, activated_at=tx.now, updated_at=tx.now,
                first_activated_at=func.coalesce(licenses.c.first_activated_at, tx.now))
    )


# -- lists: filters, facets and sorting, all answered by indexes (tables.py) -----------------

SORT_KEYS: dict[LicenseSort, ColumnElement[Any]] = {
    LicenseSort.KEY: licenses.c.key,
    LicenseSort.PRODUCT: licenses.c.product_id,
    LicenseSort.EDITION: LICENSE_EDITION,
    LicenseSort.QUANTITY: licenses.c.quantity,
    LicenseSort.TERM: licenses.c.term,
    LicenseSort.CUSTOMER: LICENSE_CUSTOMER,
    LicenseSort.STATUS: LICENSE_DEVICE,
    LicenseSort.SUPPORT: LICENSE_SUPPORT_END,
    LicenseSort.CREATED: licenses.c.id,
}


def _status_conditions(today: date) -> dict[LicenseStatus, ColumnElement[bool]]:
    """The SQL of status_of(): what each status means in the store, today."""
    trial_ended = and_(licenses.c.term == Term.TRIAL.value, licenses.c.trial_ends_on < today)
    term_ended = and_(licenses.c.term == Term.ANNUAL.value, licenses.c.term_ends_on < today)
    live = not_(or_(trial_ended, term_ended))
    return {
        LicenseStatus.TRIAL_ENDED: trial_ended,
        LicenseStatus.TERM_ENDED: term_ended,
        LicenseStatus.ACTIVATED: and_(licenses.c.device_fingerprint.is_not(None), live),
        LicenseStatus.ASSIGNED: and_(licenses.c.device_fingerprint.is_(None), live),
    }


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


FACETS = ("product", "edition", "term", "status")


def _conditions(tx: Tx, wanted: LicenseFilter, *, facets: bool = True) -> dict[str, ColumnElement[bool]]:
    """The WHERE of a filter by what each part narrows, always inside the caller's
    organization; without the four facets when `facets` is false (their counts apply them)."""
    today = tx.today
    conditions: dict[str, ColumnElement[bool]] = {"org": licenses.c.org_id == tx.org_id}
    if tx.actor.role is Role.CUSTOMER:
        conditions["customer"] = and_(*visible(tx))
    if wanted.q:
        # A substring is found by scanning license_search (tables.py); every other filter has an index.
        conditions["q"] = licenses.c.id.in_(select(license_search.c.license_id).where(*_text_matches(tx, wanted.q)))
    if facets:
        if wanted.product_id:
            conditions["product"] = licenses.c.product_id == wanted.product_id
        if wanted.edition_id:
            conditions["edition"] = LICENSE_EDITION == wanted.edition_id
        if wanted.term:
            conditions["term"] = licenses.c.term == wanted.term.value
        if wanted.status:
            conditions["status"] = _status_conditions(today)[wanted.status]
    if wanted.expired:
        ended = _status_conditions(today)
        conditions["expired"] = or_(ended[LicenseStatus.TRIAL_ENDED], ended[LicenseStatus.TERM_ENDED])
    # Through the sort's expression, so one index answers the window and the order by support end.
    support = LICENSE_SUPPORT_END
    windows = []
    if wanted.support is SupportWindow.EXPIRED:
        windows.append(support < today)
    elif wanted.support is SupportWindow.ENDING:
        windows.append(support.between(today, today + timedelta(days=SUPPORT_ENDING_DAYS)))
    if wanted.support_ending_days is not None:
        windows.append(support.between(today, today + timedelta(days=wanted.support_ending_days)))
    if wanted.support_from or wanted.support_to:
        windows.append(support.between(wanted.support_from or date.min, wanted.support_to or date.max - timedelta(days=1)))
    if windows:
        conditions["support"] = and_(*windows)
    if wanted.trial_ending:
        conditions["trial"] = and_(licenses.c.term == Term.TRIAL.value,
                                   licenses.c.trial_ends_on.between(today, today + timedelta(days=TRIALS_ENDING_DAYS)))
    return conditions


def _text_matches(tx: Tx, text: str, candidates: Any = None) -> list[ColumnElement[bool]]:
    """The license_search rows holding the text (lower-cased there), among the trigram index's
    candidates when given (portal/trigrams.py)."""
    matches = [license_search.c.org_id == tx.org_id, license_search.c.text.like(_like(text.lower()), escape="\\")]
    if candidates is not None:
        matches.append(license_search.c.license_id.in_(candidates))
    return matches


# The filter's sort index answers by itself.
_SORTED_FILTER = {LicenseSort.PRODUCT: "product", LicenseSort.EDITION: "edition", LicenseSort.TERM: "term",
                  LicenseSort.SUPPORT: "support"}
# A text filter counts its matches up to this many (the list says "1,000+"): counting every
# match of one letter among 1,000,000 licenses took 460 ms. Up to it, the matching ids are
# gathered first; past it, matches are dense enough that a page walks the sort's index and
# checks each row it passes (and stops at the page's end).
TEXT_TOTAL_CAP = 1_000


async def _page(
    tx: Tx, wanted: LicenseFilter, *, sort: LicenseSort, descending: bool, cursor: str | None, limit: int,
    convert: Callable[[Any, date], T], query: Any = None,
) -> tuple[Page[T], bool]:
    """A page and whether its total is a lower bound (the text filter's capped count);
    `query` (license_query() when None) gives the rows' columns."""
    conditions = _conditions(tx, wanted)
    count: Any = None  # the first page's alone
    if not cursor and conditions.keys() == {"org"}:
        count = licenses_held_query(tx.org_id)  # kept, not counted (license_counts); read with the page
    elif not cursor:
        count = select(func.count()).select_from(licenses).where(*conditions.values())
    at_least = False
    sparse_text = False
    if "q" in conditions:
        text_matches = _text_matches(tx, wanted.q, await few_candidates(tx.conn, "license_trigrams", wanted.q.lower()))
        matching = select(license_search.c.license_id).where(*text_matches).limit(TEXT_TOTAL_CAP + 1)
        matches = await tx.conn.scalar(select(func.count()).select_from(matching.subquery())) or 0
        if matches > TEXT_TOTAL_CAP:
            conditions["q"] = exists().where(license_search.c.license_id == licenses.c.id, *text_matches)
        else:
            conditions["q"] = licenses.c.id.in_(select(license_search.c.license_id).where(*text_matches))
            sparse_text = True
        if not cursor:
            if conditions.keys() == {"org", "q"}:
                count = min(matches, TEXT_TOTAL_CAP)
                at_least = matches > TEXT_TOTAL_CAP
            else:
                capped = await tx.conn.scalar(select(func.count()).select_from(
                    select(licenses.c.id).where(*conditions.values()).limit(TEXT_TOTAL_CAP + 1).subquery())) or 0
                count, at_least = min(capped, TEXT_TOTAL_CAP), capped > TEXT_TOTAL_CAP
    walked = [condition if name in ("org", _SORTED_FILTER.get(sort)) else along_the_sort(condition)
              for name, condition in conditions.items()]
    if sparse_text:
        # At most TEXT_TOTAL_CAP rows match: they are looked up by id and sorted, not found by
        # walking the sort's index past every row. SQLite without statistics would walk the
        # (org_id, sort) index all the same; `org_id + 0` keeps it off that index.
        walked = [conditions["q"]] + [condition for name, condition in conditions.items() if name not in ("org", "q")]
        walked.append((licenses.c.org_id + 0 if tx.conn.dialect.name == "sqlite" else licenses.c.org_id) == tx.org_id)
    if _SORTED_FILTER.get(sort) in ("product", "edition", "term") and _SORTED_FILTER[sort] in conditions:
        # One value of the sort column is chosen: its rows in id order are the same order, and
        # SQLite sees that an index gives it only when told so.
        sort = LicenseSort.CREATED
    today = tx.today
    page = await keyset_page(
        tx.conn,
        (license_query() if query is None else query).where(*walked),
        sort=SORT_KEYS[sort],
        id_column=licenses.c.id,
        descending=descending,
        cursor=cursor,
        limit=limit,
        convert=lambda row: convert(row, today),
        count=count,
    )
    return page, at_least


async def list_licenses(
    tx: Tx, wanted: LicenseFilter, *, sort: LicenseSort, descending: bool, cursor: str | None, limit: int
) -> LicensePage:
    """One page of the filtered list; the first page also says how many match in all."""
    page, at_least = await _page(tx, wanted, sort=sort, descending=descending, cursor=cursor, limit=limit,
                                 convert=from_row)
    return LicensePage(items=page.items, next_cursor=page.next_cursor, total=page.total, today=tx.today,
                       total_at_least=at_least)


# The most rows of a page that is read as a point read (Store.point_read): with no filter its
# rows are the first of an index past the cursor and its total a kept tally, so the read is
# bounded by the page, not the data: 0.4 ms of SQLite for 100 rows of 100,000 licenses, less
# than the trips to a connection's thread it saves; 500 rows took 2 ms, too long to hold the loop.
POINT_PAGE = 100


def page_is_point_read(actor: Actor, wanted: LicenseFilter, limit: int) -> bool:
    """Whether license_page_json's read is short enough for the event loop's thread: not a
    customer's, which is filtered to their own licenses (a walk past the others)."""
    return limit <= POINT_PAGE and wanted == _NO_FILTER and actor.role is not Role.CUSTOMER


def page_point_rule(wanted: LicenseFilter, limit: int) -> bool | Callable[[Actor], bool]:
    """read_as's `point` for a page: no for a filtered or long one, known before the token is
    read (a rule of the actor would read it twice for every keystroke of a filter); else
    page_is_point_read's, once the actor is known. Its rows and total are one statement, so one
    snapshot on a point read's connection too; on PostgreSQL the read holds one of the point
    reads' connections for the 0.5 ms the store takes to write the page, and saves a
    transaction's BEGIN and COMMIT."""
    if limit > POINT_PAGE or wanted != _NO_FILTER:
        return False
    return lambda actor: page_is_point_read(actor, wanted, limit)


_NO_FILTER = LicenseFilter()
# The page with no filter, the one every list opens with (and an organization's terminal pages
# through), by the organization's id as a parameter: building its statement, and SQLAlchemy
# keying it for its cache, cost more than the SQLite read on each request.
_ORG = bindparam("org_id")
_HELD = licenses_held_query(_ORG)


# -- the unfiltered pages, kept as written -----------------------------------------------------
# The page every list opens with, and an organization's terminals page through, is asked for
# again and again unchanged, and writing its hundred rows as JSON is most of its time (SQLite
# formats two hundred timestamps: 270 of 340 us). A page written is kept with the state it was
# written from, read by the statement that wrote it (paging.KeptPages); a request reads the
# state again and answers the kept bytes while it is the same, so a change by any writer is
# seen by the next request, on every instance. The state: on SQLite the organization's version
# of its licenses (tables.license_versions, one row); on PostgreSQL a digest of the page's rows'
# versions, the xmin of each license's and of its key's row, which every change of a row renews,
# with their ids, and the total (_row_versions). (Reading SQLite's rows' stored values instead
# cost as much as writing their JSON: 340 us for the hundred rows' 25 columns.)
_VERSION = select(license_versions.c.version).where(license_versions.c.org_id == _ORG)


@dataclass(frozen=True)
class _KeptPage:
    state: PointQuery  # the state of the page as it is now: one row
    written: PointQuery  # the page: each row's JSON, then the columns of its state
    sqlite: bool
    first: bool  # a first page, whose total is part of its state

    def state_now(self, rows: list[tuple[Any, ...]]) -> Any:
        return (rows[0][0] if rows else None) if self.sqlite else tuple(rows[0])

    def state_written(self, rows: list[tuple[Any, ...]]) -> Any:
        if self.sqlite:
            return rows[0][1]
        # (item, licenses' xmin, id, sort value[, total]): the digest _row_versions writes, of
        # the same rows in the same order.
        digest = hashlib.md5(";".join(f"{row[1]},{row[2]}" for row in rows).encode(),
                             usedforsecurity=False).hexdigest()
        return (digest, rows[0][-1] if self.first else None)


def _row_versions(page: Any, first: bool) -> Any:
    """PostgreSQL's state of a page, in one row: a digest of its rows' versions in the page's
    order (each row's xmin and its id: a change of a row, its sort value included, or of its
    key's name renews its xmin (migration 0029), and a row that comes or goes changes the ids),
    with the total on a first page. (Rows in another order would only have the page written
    again.) As the page's 101 rows it was a fifth of the portal's time for the page, taking and
    comparing them; joining each row's key for the key's xmin was 40% of PostgreSQL's."""
    rows = page.subquery()
    text = func.concat_ws(literal_column("','"), cast(rows.c.state_licenses, Text), cast(rows.c.id, Text))
    return select(func.md5(func.string_agg(text, literal_column("';'"))),
                  func.max(rows.c._total) if first else null())


@functools.lru_cache(maxsize=64)
def _unfiltered_page(today: date, dialect: str, sort: LicenseSort, descending: bool, after: bool,
                     rows: int) -> _KeptPage:
    """An unfiltered page's statements, prepared: its rows are each one's JSON, its state's
    columns, the id, the sort's value and, on a first page, the total. The JSON's expression
    holds the day, so a day keeps its own."""
    def page(*columns: Any, keys: bool = True) -> Any:
        chosen = select(*columns, licenses.c.id)
        if keys:  # for the key's name
            chosen = chosen.join(activation_keys, activation_keys.c.id == licenses.c.key_id)
        return keyset_query(
            chosen.where(licenses.c.org_id == _ORG),
            sort=SORT_KEYS[sort], id_column=licenses.c.id, descending=descending, after=after,
            count=None if after else _HELD, rows=rows)

    written = literal_column(license_json_sql(today, dialect)).label("item")
    if dialect == "postgresql":
        state = literal_column("licenses.xmin", Integer).label("state_licenses")
        return _KeptPage(PointQuery(_row_versions(page(state, keys=False), not after)), PointQuery(page(written, state)),
                         sqlite=False, first=not after)
    return _KeptPage(PointQuery(_VERSION), PointQuery(page(written, _VERSION.scalar_subquery().label("state"))),
                     sqlite=True, first=not after)


async def _unfiltered_page_json(tx: Tx, *, sort: LicenseSort, descending: bool, cursor: str | None,
                                limit: int) -> bytes:
    values = keyset_values(SORT_KEYS[sort], cursor, limit, {"org_id": tx.org_id})
    statements = _unfiltered_page(tx.today, tx.conn.dialect.name, sort, descending, bool(cursor), limit + 1)
    kept = kept_pages(tx.conn)
    asked = (tx.org_id, tx.today, sort, descending, cursor, limit)
    page = kept.get(asked, statements.state_now(await statements.state.tuples(tx.conn, values)))
    if page is not None:
        return page
    rows = await statements.written.tuples(tx.conn, values)
    # (item, *state, id, sort value[, total])
    at_id = len(rows[0]) - (2 if cursor else 3) if rows else 0
    next_cursor = encode_cursor([rows[limit - 1][at_id + 1], rows[limit - 1][at_id]]) if len(rows) > limit else None
    total = None if cursor else (int(rows[0][-1] or 0) if rows else 0)
    page = _page_json([row[0] for row in rows[:limit]], next_cursor, total, tx.today, at_least=False)
    if rows:  # (no rows, no state read with them)
        kept.keep(asked, statements.state_written(rows), page)
    return page


def _page_json(items: list[str], next_cursor: str | None, total: int | None, today: date, *,
               at_least: bool) -> bytes:
    rest = to_json({"next_cursor": next_cursor, "total": total, "today": today.isoformat(),
                    "total_at_least": at_least})
    return b'{"items":[' + ",".join(items).encode() + b"]," + rest[1:]


async def license_page_json(
    tx: Tx, wanted: LicenseFilter, *, sort: LicenseSort, descending: bool, cursor: str | None, limit: int
) -> bytes:
    """list_licenses' page as the JSON of its LicensePage, written from the rows (no models):
    each row's JSON comes written by the query (license_json_sql)."""
    customer = tx.actor.role is Role.CUSTOMER
    if wanted == _NO_FILTER and not customer:
        return await _unfiltered_page_json(tx, sort=sort, descending=descending, cursor=cursor, limit=limit)
    written, at_least = await _page(tx, wanted, sort=sort, descending=descending, cursor=cursor, limit=limit,
                                    convert=lambda row, _today: row.item,
                                    query=license_json_query(tx.today, tx.conn.dialect.name, for_customer=customer))
    return _page_json(written.items, written.next_cursor, written.total, tx.today, at_least=at_least)


async def facets(tx: Tx, wanted: LicenseFilter) -> LicenseFacets:
    """Counts per product, edition, term and status, from one grouped read."""
    status = case(
        *((condition, literal.value) for literal, condition in _status_conditions(tx.today).items()
          if literal is not LicenseStatus.ASSIGNED),
        else_=LicenseStatus.ASSIGNED.value,
    )
    rows = (
        await tx.conn.execute(
            select(licenses.c.product_id, LICENSE_EDITION, licenses.c.term, status, func.count())
            .where(*_conditions(tx, wanted, facets=False).values())
            .group_by(licenses.c.product_id, LICENSE_EDITION, licenses.c.term, status)
        )
    ).all()
    chosen = {"product": wanted.product_id, "edition": wanted.edition_id,
              "term": wanted.term.value if wanted.term else None,
              "status": wanted.status.value if wanted.status else None}
    counts: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
    total = 0
    for product_id, edition_id, term, status_value, count in rows:
        values = {"product": product_id, "edition": edition_id, "term": term, "status": status_value}
        misses = [facet for facet in FACETS if chosen[facet] is not None and values[facet] != chosen[facet]]
        if not misses:
            total += count
        for facet in FACETS:
            # A facet's counts ignore its own choice, so they show what picking another value gives.
            if not misses or misses == [facet]:
                if values[facet]:
                    counts[facet][values[facet]] = counts[facet].get(values[facet], 0) + count
    return LicenseFacets(total=total, products=counts["product"], editions=counts["edition"],
                         terms=counts["term"], statuses=counts["status"])


async def matching_ids(tx: Tx, wanted: LicenseFilter) -> MatchingIds:
    """Every id the filter matches, to mark them all; none past a batch's size."""
    conditions = list(_conditions(tx, wanted).values())
    ids = list((await tx.conn.execute(
        select(licenses.c.id).where(*conditions).order_by(licenses.c.id).limit(MAX_BATCH + 1))).scalars())
    if len(ids) <= MAX_BATCH:
        return MatchingIds(total=len(ids), ids=ids)
    total = await tx.conn.scalar(select(func.count()).select_from(licenses).where(*conditions))
    return MatchingIds(total=total or 0, ids=[])


# -- changes to one license ---------------------------------------------------------------------

def _what(license: License, product: Product | None) -> str:
    """"RemoteDesk Standard permanent, 10 users": a license in words (its product may have left the catalog)."""
    if product is None:
        return f"{license.product_id} {license.term.value}, {license.quantity} units"
    edition = next((f" {edition.name}" for edition in product.editions if edition.id == license.edition_id), "")
    return f"{product.name}{edition} {license.term.value}, {license.quantity} {product.unit.label(license.quantity)}"


async def edit(tx: Tx, license_id: int, changes: LicenseEdit, signing: Signer | None = None) -> License:
    """The customer's email and the comment: free, and audited with what they were; a new
    customer is mailed the key (customer_mail.py)."""
    tx.actor.require(Permission.ASSIGN)
    before = await get(tx, license_id, lock=True)
    if before.device is not None and _customer_changes(before.customer_email, changes.customer_email):
        # The customer on the device's license stays its customer: moving a license in use
        # would leave the old customer running it under the new one's name.
        raise LicenseActivated(
            f"License {license_id} is activated on {before.device.hostname or 'a device'}: it stays with "
            f"{before.customer_email or 'no customer'}. Deactivate it first, then assign it to another customer.",
            {"license_id": license_id, "customer_email": "the license is activated"})
    customer_id = await customer_for(tx, changes.customer_email)
    await tx.conn.execute(
        update(licenses).where(licenses.c.id == license_id, licenses.c.org_id == tx.org_id)
        .values(customer_email=changes.customer_email, customer_id=customer_id, comment=changes.comment,
                updated_at=tx.now)
    )
    await tx.conn.execute(
        update(license_search).where(license_search.c.license_id == license_id, license_search.c.org_id == tx.org_id)
        .values(text=search_text(before.key, changes.customer_email, changes.comment))
    )
    await audit.record(
        tx, "license.edit", "license", license_id, f"Edited license {license_id} on {before.key}",
        {"before": {"customer_email": before.customer_email, "comment": before.comment},
         "after": {"customer_email": changes.customer_email, "comment": changes.comment}},
    )
    edited = await get(tx, license_id)
    await customer_mail.mail_license(tx, edited, customer_id, signing)
    return edited


def _customer_changes(before: str | None, after: str | None) -> bool:
    return customer_email(before or "") != customer_email(after or "")


def _upgrade_target(tx: Tx, license: License, wanted: LicenseUpgrade) -> tuple[Product, Configuration, Configuration]:
    product = tx.catalog.product(license.product_id)
    if product.kind is not ProductKind.PERPETUAL:
        raise ValidationFailed(
            f"{product.name} is sold on seat plans: raise a flexible plan's cap with `seattui subscription cap "
            f"{license.id} N`, add an annual contract's seats with `seattui subscription seats {license.id} +N`.",
            {"license_id": "not a perpetual product's license"},
        )
    current = configuration_of(license)
    if wanted.to_permanent and current.term is not Term.TRIAL:
        raise ValidationFailed(f"License {license.id} is permanent already.", {"to_permanent": "already permanent"})
    target = Configuration(
        term=Term.PERMANENT if wanted.to_permanent else current.term,
        edition_id=wanted.edition_id or current.edition_id,
        addons=tuple(sorted(wanted.addons)) if wanted.addons is not None else current.addons,
        quantity=wanted.quantity or current.quantity,
    )
    return product, current, target


async def quote_upgrade(tx: Tx, license_id: int, wanted: LicenseUpgrade) -> Quote:
    """What the upgrade costs against the balance now; changes nothing."""
    product, current, target = _upgrade_target(tx, await get(tx, license_id), wanted)
    return await billing.quote(tx, upgrade_lines(product, current, target), wanted)


async def upgrade(tx: Tx, license_id: int, wanted: LicenseUpgrade) -> License:
    """Edition up, quantity up, add-ons added, or a trial made permanent; paid in the same
    transaction (the difference at today's prices)."""
    tx.actor.require(Permission.ASSIGN)  # and PURCHASE below when it becomes or stays paid
    balance = await credits.lock_balance(tx)
    license = await get(tx, license_id, lock=True)
    product, current, target = _upgrade_target(tx, license, wanted)
    tx.actor.require(Permission.PURCHASE if target.term is Term.PERMANENT else Permission.ASSIGN)
    lines = upgrade_lines(product, current, target)
    settlement = await billing.settle(tx, balance, lines, wanted)
    cost = settlement.cost
    values: dict[str, Any] = {
        "edition_id": target.edition_id, "addons": ",".join(target.addons), "quantity": target.quantity,
        "term": target.term.value, "paid": to_hundredths(license.paid + cost), "updated_at": tx.now,
    }
    if current.term is Term.TRIAL and target.term is Term.PERMANENT:
        values |= {"trial_ends_on": None, "support_ends_on": add_months(tx.today, SUPPORT_MONTHS_INCLUDED)}
    await tx.conn.execute(update(licenses).where(licenses.c.id == license_id).values(**values))
    after = await get(tx, license_id)
    summary = f"Upgraded license {license_id} on {license.key}: {_what(license, product)} to {_what(after, product)}"
    kind = OrderKind.ADDON if target.addons != current.addons and (target.edition_id, target.quantity, target.term) == (
        current.edition_id, current.quantity, current.term) else OrderKind.UPGRADE
    await billing.place(
        tx, settlement, kind, [Charge(line, "license", license_id, tx.today, after.support_ends_on) for line in lines],
        [(-cost, LedgerReason.UPGRADE, "license", license_id, summary)], wanted,
    )
    await audit.record(
        tx, "license.upgrade", "license", license_id,
        summary + (f" for {format_credits(cost)} credits" if cost else ""),
        {"before": _configuration_details(current), "after": _configuration_details(target), "cost": f"{cost:.2f}"},
    )
    return after


def _configuration_details(config: Configuration) -> dict[str, Any]:
    return {"term": config.term.value, "edition_id": config.edition_id, "addons": list(config.addons),
            "quantity": config.quantity}


async def release_device(tx: Tx, license_id: int) -> License:
    """An admin forces the deactivation, for a device that is gone or cannot release it itself."""
    tx.actor.require(Permission.RELEASE_DEVICES)
    license = await get(tx, license_id, lock=True)
    if license.device is None:
        raise Conflict(f"License {license_id} is not activated on any device.", {"license_id": license_id})
    await tx.conn.execute(
        update(licenses).where(licenses.c.id == license_id)
        .values(device_fingerprint=None, device_hostname=None, activated_at=None, updated_at=tx.now)
    )
    device = license.device
    # A customer releasing their own device is no forced release by the organization.
    by_customer = tx.actor.role is Role.CUSTOMER
    what = "Deactivated (by its customer)" if by_customer else "Forced the deactivation of"
    await audit.record(
        tx, "license.deactivate", "license", license_id,
        f"{what} license {license_id} on {license.key} from {device.hostname or device.fingerprint}",
        {"fingerprint": device.fingerprint, "hostname": device.hostname, "forced": not by_customer},
    )
    return await get(tx, license_id)


# -- batches: all of them or none --------------------------------------------------------------

async def _deletable(tx: Tx, batch: LicenseBatch, *, lock: bool) -> list[License]:
    found = await batch_licenses(tx, batch, lock=lock)
    refusals: list[dict[str, Any]] = []
    single: Conflict | None = None
    for license in found:
        if license.device is not None:
            device = license.device.hostname or license.device.fingerprint
            reason = (f"License {license.id} on {license.key} is activated on {device}; deactivate it there "
                      "(or force the deactivation) before deleting it.")
            refusals.append({"license_id": license.id, "reason": reason, "device": device})
            single = LicenseActivated(reason, {"license_id": license.id, "hostname": license.device.hostname,
                                               "fingerprint": license.device.fingerprint})
    held = (await tx.conn.execute(
        select(seats.c.license_id, func.count()).where(seats.c.org_id == tx.org_id,
                                                       seats.c.license_id.in_(batch.license_ids))
        .group_by(seats.c.license_id))).all()
    for license_id, count in held:
        reason = f"License {license_id} has {count} seats assigned; free them on the employees screen first."
        refusals.append({"license_id": license_id, "reason": reason})
        single = Conflict(reason, {"license_id": license_id})
    refuse(refusals, single=single if len(found) == 1 else None)
    return found


async def _refunds(tx: Tx, found: list[License]) -> list[billing.Refund]:
    """What deleting each paid license refunds, as its product's refund policy says."""
    return await billing.refunds_for(
        tx, found, {license.id: f"{_what(license, tx.catalog.find(license.product_id))} on {license.key}"
                    for license in found})


async def quote_deletion(tx: Tx, batch: LicenseBatch) -> Quote:
    """What deleting gives back (a negative cost); refused whole if one cannot be deleted."""
    found = await _deletable(tx, batch, lock=False)
    refunds = await _refunds(tx, found)
    balance = await credits.paying_balance(tx)
    # A credit note lowers the month's invoice, not the balance.
    after = balance + sum((refund.credits_back for refund in refunds), ZERO)
    return Quote.build([refund.line for refund in refunds], balance).model_copy(update={"balance_after": after})


async def delete_licenses(tx: Tx, batch: LicenseBatch) -> BatchResult:
    """Delete licenses not activated on a device, refunding what each cost: all or none."""
    tx.actor.require(Permission.ASSIGN)  # and PURCHASE below when something is refunded
    await credits.lock_balance(tx)
    found = await _deletable(tx, batch, lock=True)
    refunds = await _refunds(tx, found)
    refunded = {refund.license_id: refund.credits_back + refund.credit_note for refund in refunds}
    tx.actor.require(Permission.PURCHASE if any(refunded.values()) else Permission.ASSIGN)
    await tx.conn.execute(delete(license_search).where(license_search.c.org_id == tx.org_id,
                                                       license_search.c.license_id.in_(batch.license_ids)))
    deleted = await tx.conn.execute(
        delete(licenses).where(licenses.c.org_id == tx.org_id, licenses.c.id.in_(batch.license_ids)))
    await count_licenses(tx.conn, tx.org_id, -deleted.rowcount)
    await customer_mail.forget(tx, "license", batch.license_ids)
    balance = await billing.refund(tx, refunds)
    await audit.record_many(tx, [
        {"action": "license.delete", "object_type": "license", "object_id": license.id,
         "summary": f"Deleted license {license.id}: {_what(license, tx.catalog.find(license.product_id))} on {license.key}"
                    + (f", refunded {format_credits(refunded[license.id])} credits" if refunded.get(license.id) else ""),
         "details": {"key": license.key, "product_id": license.product_id,
                     "refund": f"{refunded.get(license.id, ZERO):.2f}"}}
        for license in found
    ])
    refund = sum(refunded.values(), ZERO)
    return BatchResult(batch_id=tx.batch_id or "", count=len(found), amount=-refund, balance_after=balance)
