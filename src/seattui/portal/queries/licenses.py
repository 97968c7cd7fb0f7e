"""Licenses as stored: the query every license read starts from, its row mapper and status,
and the reads by id that other areas share."""

from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Date, Integer, Text, case, cast, func, literal, literal_column, select, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from seattui.domain.errors import NotFound
from seattui.domain.licensing import Device, License, LicenseBatch, LicenseStatus, Renewal, Term
from seattui.domain.money import from_hundredths
from seattui.domain.pricing import Configuration
from seattui.domain.roles import Role
from seattui.portal.context import Tx
from seattui.portal.store.tables import activation_keys, license_counts, licenses

LICENSE_COLUMNS = [licenses, activation_keys.c.name.label("key_name")]


def license_query() -> Any:
    return select(*LICENSE_COLUMNS).join(activation_keys, activation_keys.c.id == licenses.c.key_id)


def status_of(term: Term, trial_ends_on: date | None, term_ends_on: date | None, activated: bool, today: date) -> LicenseStatus:
    if term is Term.TRIAL and trial_ends_on is not None and trial_ends_on < today:
        return LicenseStatus.TRIAL_ENDED
    if term is Term.ANNUAL and term_ends_on is not None and term_ends_on < today:
        return LicenseStatus.TERM_ENDED
    return LicenseStatus.ACTIVATED if activated else LicenseStatus.ASSIGNED


def addons_of(stored: str) -> tuple[str, ...]:
    """A license's add-ons as the store holds them: comma-separated."""
    return tuple(addon for addon in stored.split(",") if addon)


def from_row(row: Any, today: date) -> License:
    """A license as the store holds it. Built without validation (model_construct), as each of
    its values is already of the model's type (the columns', or converted here): validating
    them again was most of the cost of a device's check past its answer's framework."""
    term = Term(row.term)
    device = (
        Device.model_construct(fingerprint=row.device_fingerprint, hostname=row.device_hostname or "",
                               activated_at=row.activated_at)
        if row.device_fingerprint
        else None
    )
    return License.model_construct(
        id=row.id,
        key=row.key,
        key_name=row.key_name or "",
        product_id=row.product_id,
        edition_id=row.edition_id,
        addons=addons_of(row.addons),
        term=term,
        quantity=row.quantity,
        status=status_of(term, row.trial_ends_on, row.term_ends_on, device is not None, today),
        trial_ends_on=row.trial_ends_on,
        support_ends_on=row.support_ends_on,
        term_ends_on=row.term_ends_on,
        seat_cap=row.seat_cap,
        renewal=None if row.renewal is None else Renewal(row.renewal),
        customer_email=row.customer_email,
        comment=row.comment,
        device=device,
        paid=from_hundredths(row.paid),
        created_at=row.created_at,
    )


@functools.lru_cache(maxsize=8)
def license_json_query(today: date, dialect: str, *, for_customer: bool = False) -> Any:
    """license_query() with each row's JSON (license_json_sql) and its id alone.

    The expression is written out as SQL once a day: built and keyed for SQLAlchemy's cache on
    every request, its hundred parts cost as much as the page itself. It holds no value but
    today's date and the constants of the statuses."""
    return (select(literal_column(license_json_sql(today, dialect, for_customer=for_customer)).label("item"),
                   licenses.c.id)
            .join(activation_keys, activation_keys.c.id == licenses.c.key_id))


def license_json_sql(today: date, dialect: str, *, for_customer: bool = False) -> str:
    """The JSON text `from_row(row, today).model_dump_json()` gives, written by the store itself
    for the rows of license_query(): taking a hundred rows of twenty columns into Python
    objects, typing them and writing them out again cost three times the query on SQLite, and
    on PostgreSQL most of a page's time. SQLite's json_object and PostgreSQL's row_to_json
    escape text exactly as pydantic does and write no spaces (tests/test_license_store.py
    holds a page of odd values equal to the model's JSON on both stores). With
    `for_customer`, a license as its customer sees it (get()): without what the organization
    paid, its comment and its own name for the key."""
    # The drivers' own dialects: psycopg's would write % as %%, which asyncpg sends as it is.
    on = asyncpg_dialect() if dialect == "postgresql" else sqlite.dialect()
    sqlite_store = dialect != "postgresql"

    def text(value: str) -> Any:
        return literal_column("'" + value.replace("'", "''") + "'")

    def joined(*parts: Any) -> Any:  # SQL's ||: + would add numbers, the functions having no type
        return functools.reduce(lambda left, right: left.concat(right), parts)

    def sql(value: Any) -> str:
        return str(value.compile(dialect=on, compile_kwargs={"literal_binds": True}))

    def json_object(fields: list[tuple[str, Any]], name: str) -> str:
        if sqlite_store:
            return "json_object(" + ", ".join(f"'{field}', {sql(value)}" for field, value in fields) + ")"
        # row_to_json names a record's fields by its columns; json_build_object would space its output.
        columns = ", ".join(f'{sql(value)} AS "{field}"' for field, value in fields)
        return f"(SELECT row_to_json({name}) FROM (SELECT {columns}) AS {name})"

    def moment(column: Any) -> Any:
        # Always UTC (tables.UTCDateTime), written as isoformat() with Z, no fraction when it is zero.
        if sqlite_store:  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's SQLite DATETIME)
            day_and_time = joined(func.substr(column, 1, 10), text("T"), func.substr(column, 12, 8))
            fraction = func.substr(column, 21, 6)
        else:
            utc = column.op("AT TIME ZONE")(text("UTC"))
            day_and_time = func.to_char(utc, text('YYYY-MM-DD"T"HH24:MI:SS'))
            fraction = func.to_char(utc, text("US"))
        return joined(day_and_time,
                      case((fraction.in_([text(""), text("000000")]), text("")), else_=joined(text("."), fraction)),
                      text("Z"))

    day = literal(today, Date)
    fingerprint = licenses.c.device_fingerprint
    activated = func.coalesce(fingerprint, text("")) != text("")
    status = case(
        ((licenses.c.term == Term.TRIAL.value) & (licenses.c.trial_ends_on < day), text(LicenseStatus.TRIAL_ENDED.value)),
        ((licenses.c.term == Term.ANNUAL.value) & (licenses.c.term_ends_on < day), text(LicenseStatus.TERM_ENDED.value)),
        (activated, text(LicenseStatus.ACTIVATED.value)),
        else_=text(LicenseStatus.ASSIGNED.value),
    )
    # Add-on ids joined by commas (never an empty one, never a comma in one: catalog ids).
    if sqlite_store:  # json_quote escapes the text, whose commas are then the list's
        addons = func.json(case((licenses.c.addons == text(""), text("[]")),
                                else_=joined(text("["), func.replace(func.json_quote(licenses.c.addons), text(","),
                                                                     text('","')), text("]"))))
    else:  # '' gives no element
        addons = func.string_to_array(licenses.c.addons, text(","))
    paid = type_coerce(func.abs(licenses.c.paid), Integer)  # typed, so // is integer division
    sign = case((licenses.c.paid < 0, text("-")), else_=text(""))
    if sqlite_store:
        paid_text = func.printf(text("%s%d.%02d"), sign, paid // 100, paid % 100)
    else:
        paid_text = joined(sign, cast(paid // 100, Text), text("."), func.lpad(cast(paid % 100, Text), 2, text("0")))
    device = literal_column(json_object([
        ("fingerprint", fingerprint), ("hostname", func.coalesce(licenses.c.device_hostname, text(""))),
        ("activated_at", moment(licenses.c.activated_at))], "device"))
    fields: list[tuple[str, Any]] = [
        ("id", licenses.c.id), ("key", licenses.c.key),
        ("key_name", text("") if for_customer else activation_keys.c.name),
        ("product_id", licenses.c.product_id), ("edition_id", licenses.c.edition_id), ("addons", addons),
        ("term", licenses.c.term), ("quantity", licenses.c.quantity), ("status", status),
        ("trial_ends_on", licenses.c.trial_ends_on), ("support_ends_on", licenses.c.support_ends_on),
        ("term_ends_on", licenses.c.term_ends_on), ("seat_cap", licenses.c.seat_cap),
        ("renewal", licenses.c.renewal), ("customer_email", licenses.c.customer_email),
        ("comment", text("") if for_customer else licenses.c.comment),
        ("device", case((activated, device), else_=None)),
        ("paid", text("0.00") if for_customer else paid_text), ("created_at", moment(licenses.c.created_at)),
    ]
    written = json_object(fields, "license")
    # As text: SQLAlchemy's asyncpg dialect would decode json into Python objects.
    return written if sqlite_store else f"CAST({written} AS TEXT)"


async def count_licenses(conn: Any, org_id: int, change: int) -> None:
    """Add `change` to the organization's count of licenses, in the transaction that creates
    or deletes them (license_counts: the unfiltered list's total)."""
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(license_counts).values(org_id=org_id, licenses=change)
    await conn.execute(statement.on_conflict_do_update(
        index_elements=[license_counts.c.org_id], set_={"licenses": license_counts.c.licenses + change}))


def licenses_held_query(org_id: int) -> Any:
    """How many licenses the organization holds, from its kept count, as a scalar subquery
    (NULL when it never held one), for a page to read with its rows."""
    return select(license_counts.c.licenses).where(license_counts.c.org_id == org_id).scalar_subquery()


def configuration_of(license: License | Any) -> Configuration:
    addons = license.addons if isinstance(license, License) else addons_of(license.addons)
    return Configuration(
        term=Term(license.term), edition_id=license.edition_id, addons=tuple(sorted(addons)), quantity=license.quantity
    )


def search_text(key: str, customer_email: str | None, comment: str) -> str:
    """What the lists' text filter finds a license by (license_search)."""
    return f"{key} {customer_email or ''} {comment}".lower()


def visible(tx: Tx) -> list[ColumnElement[bool]]:
    """The licenses the caller may see: the organization's; for a customer's own login, only
    those assigned to that customer (another customer's license is not found)."""
    held = [licenses.c.org_id == tx.org_id]
    if tx.actor.role is Role.CUSTOMER:
        held.append(licenses.c.customer_id == (tx.actor.customer_id or -1))
    return held


async def get(tx: Tx, license_id: int, *, lock: bool = False) -> License:
    query = license_query().where(licenses.c.id == license_id, *visible(tx))
    row = (await tx.conn.execute(query.with_for_update(of=licenses) if lock else query)).first()
    if row is None:
        raise NotFound(f"There is no license {license_id} in your organization.", {"license_id": license_id})
    found = from_row(row, tx.today)
    if tx.actor.role is Role.CUSTOMER:  # what the customer's list leaves out (license_json_sql)
        return found.model_copy(update={"paid": Decimal("0.00"), "comment": "", "key_name": ""})
    return found



async def batch_licenses(tx: Tx, batch: LicenseBatch, *, lock: bool = False) -> list[License]:
    """The batch's licenses, every one of them in the caller's organization, or NotFound."""
    query = license_query().where(*visible(tx), licenses.c.id.in_(batch.license_ids))
    rows = (await tx.conn.execute(query.with_for_update(of=licenses) if lock else query)).all()
    found = [from_row(row, tx.today) for row in rows]
    missing = sorted(set(batch.license_ids) - {license.id for license in found})
    if missing:
        shown = ", ".join(str(license_id) for license_id in missing[:5]) + (" …" if len(missing) > 5 else "")
        raise NotFound(
            f"{len(missing)} of these licenses are not in your organization (ids {shown}); "
            "they may have been deleted meanwhile: refresh the list.",
            {"license_ids": missing[:100]},
        )
    return sorted(found, key=lambda license: license.id)


async def ever_activated(tx: Tx, license_ids: list[int]) -> set[int]:
    """The licenses among these that were ever activated on a device (deactivated since or not)."""
    if not license_ids:
        return set()
    return set((await tx.conn.execute(
        select(licenses.c.id).where(licenses.c.org_id == tx.org_id, licenses.c.id.in_(license_ids),
                                    licenses.c.first_activated_at.is_not(None)))).scalars())
