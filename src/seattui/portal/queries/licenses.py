"""Licenses as stored: the query every license read starts from, its row mapper and status,
and the reads by id that other areas share."""

from __future__ import annotations

import functools
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Date, Integer, case, func, literal, literal_column, select, type_coerce
from sqlalchemy.dialects import postgresql, sqlite

from seattui.domain.errors import NotFound
from seattui.domain.licensing import Device, License, LicenseBatch, LicenseStatus, Term
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


def from_row(row: Any, today: date) -> License:
    term = Term(row.term)
    device = (
        Device(fingerprint=row.device_fingerprint, hostname=row.device_hostname or "", activated_at=row.activated_at)
        if row.device_fingerprint
        else None
    )
    return License(
        id=row.id,
        key=row.key,
        key_name=row.key_name,
        product_id=row.product_id,
        edition_id=row.edition_id,
        addons=tuple(addon for addon in row.addons.split(",") if addon),
        term=term,
        quantity=row.quantity,
        status=status_of(term, row.trial_ends_on, row.term_ends_on, device is not None, today),
        trial_ends_on=row.trial_ends_on,
        support_ends_on=row.support_ends_on,
        term_ends_on=row.term_ends_on,
        seat_cap=row.seat_cap,
        renewal=row.renewal,
        customer_email=row.customer_email,
        comment=row.comment,
        device=device,
        paid=from_hundredths(row.paid),
        created_at=row.created_at,
    )


def license_json(row: Any, today: date) -> dict[str, Any]:
    """What `from_row(row, today).model_dump(mode="json")` gives, straight from the row: a page
    of a hundred licenses spent three times its query's time validating models built from
    columns already typed, then dumping them (tests/test_license_store.py holds the two equal)."""
    m = row._mapping
    term = Term(m["term"])
    fingerprint = m["device_fingerprint"]
    return {
        "id": m["id"],
        "key": m["key"],
        "key_name": m["key_name"],
        "product_id": m["product_id"],
        "edition_id": m["edition_id"],
        "addons": [addon for addon in m["addons"].split(",") if addon],
        "term": term.value,
        "quantity": m["quantity"],
        "status": status_of(term, m["trial_ends_on"], m["term_ends_on"], bool(fingerprint), today).value,
        "trial_ends_on": _day(m["trial_ends_on"]),
        "support_ends_on": _day(m["support_ends_on"]),
        "term_ends_on": _day(m["term_ends_on"]),
        "seat_cap": m["seat_cap"],
        "renewal": m["renewal"],
        "customer_email": m["customer_email"],
        "comment": m["comment"],
        "device": {"fingerprint": fingerprint, "hostname": m["device_hostname"] or "",
                   "activated_at": _moment(m["activated_at"])} if fingerprint else None,
        "paid": f"{from_hundredths(m['paid']):.2f}",
        "created_at": _moment(m["created_at"]),
    }


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _moment(value: datetime) -> str:
    # pydantic writes UTC as Z; the store's timestamps come back in UTC (tables.UTCDateTime).
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@functools.lru_cache(maxsize=8)
def license_json_query(today: date, *, for_customer: bool = False) -> Any:
    """license_query() with each row's JSON (license_json_sql, SQLite) and its id alone.

    The expression is written out as SQL once a day: built and keyed for SQLAlchemy's cache on
    every request, its hundred parts cost as much as the page itself. It holds no value but
    today's date and the constants of the statuses."""
    written = license_json_sql(today, for_customer=for_customer).compile(
        dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    return (select(literal_column(str(written)).label("item"), licenses.c.id)
            .join(activation_keys, activation_keys.c.id == licenses.c.key_id))


def license_json_sql(today: date, *, for_customer: bool = False) -> ColumnElement[str]:
    """license_json's JSON text written by SQLite itself, for the rows of license_query():
    taking a hundred rows of twenty columns into Python objects, typing them and writing them
    out again cost three times the query. SQLite's json_object escapes text exactly as
    pydantic does (tests/test_license_store.py holds a page of odd values equal to the model's
    JSON); PostgreSQL's JSON functions space their output, so it keeps license_json. With
    `for_customer`, what for_customer() blanks is blank."""
    def text(value: str) -> Any:
        return literal_column("'" + value.replace("'", "''") + "'")

    def joined(*parts: Any) -> Any:  # SQL's ||: + would add numbers, the functions having no type
        return functools.reduce(lambda left, right: left.concat(right), parts)

    def moment(column: Any) -> Any:
        # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's SQLite DATETIME), always UTC
        # (tables.UTCDateTime); written as isoformat() with Z, no fraction when it is zero.
        fraction = func.substr(column, 21, 6)
        return joined(func.substr(column, 1, 10), text("T"), func.substr(column, 12, 8),
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
    # Add-on ids joined by commas (never an empty one, never a comma in one: catalog ids):
    # json_quote escapes the text, whose commas are then the list's.
    addons = func.json(case((licenses.c.addons == text(""), text("[]")),
                            else_=joined(text("["), func.replace(func.json_quote(licenses.c.addons), text(","), text('","')),
                                         text("]"))))
    paid = type_coerce(func.abs(licenses.c.paid), Integer)  # typed, so // stays SQLite's integer /
    paid_text = func.printf(text("%s%d.%02d"), case((licenses.c.paid < 0, text("-")), else_=text("")),
                            paid // 100, paid % 100)
    device = case((activated, func.json_object(
        text("fingerprint"), fingerprint,
        text("hostname"), func.coalesce(licenses.c.device_hostname, text("")),
        text("activated_at"), moment(licenses.c.activated_at))), else_=None)
    fields: list[tuple[str, Any]] = [
        ("id", licenses.c.id), ("key", licenses.c.key),
        ("key_name", text("") if for_customer else activation_keys.c.name),
        ("product_id", licenses.c.product_id), ("edition_id", licenses.c.edition_id), ("addons", addons),
        ("term", licenses.c.term), ("quantity", licenses.c.quantity), ("status", status),
        ("trial_ends_on", licenses.c.trial_ends_on), ("support_ends_on", licenses.c.support_ends_on),
        ("term_ends_on", licenses.c.term_ends_on), ("seat_cap", licenses.c.seat_cap),
        ("renewal", licenses.c.renewal), ("customer_email", licenses.c.customer_email),
        ("comment", text("") if for_customer else licenses.c.comment), ("device", device),
        ("paid", text("0.00") if for_customer else paid_text), ("created_at", moment(licenses.c.created_at)),
    ]
    return func.json_object(*(part for name, value in fields for part in (text(name), value)))


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
    addons = license.addons if isinstance(license, License) else tuple(a for a in license.addons.split(",") if a)
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


def for_customer(item: dict[str, Any]) -> dict[str, Any]:
    """A license as its customer sees it: without what the organization paid, its comment and
    its own name for the key."""
    return {**item, "paid": "0.00", "comment": "", "key_name": ""}


async def get(tx: Tx, license_id: int, *, lock: bool = False) -> License:
    query = license_query().where(licenses.c.id == license_id, *visible(tx))
    row = (await tx.conn.execute(query.with_for_update(of=licenses) if lock else query)).first()
    if row is None:
        raise NotFound(f"There is no license {license_id} in your organization.", {"license_id": license_id})
    found = from_row(row, tx.today)
    if tx.actor.role is Role.CUSTOMER:  # as for_customer() answers the list
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
