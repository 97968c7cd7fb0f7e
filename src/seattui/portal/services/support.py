"""Support (maintenance) of permanent licenses: extended by whole years, many licenses at once,
with one quote, one credit check and one transaction for the whole batch: all or none.

An expired support extends from today, a running one from its end date (DESIGN.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Date

from seattui.domain.catalog import Product
from seattui.domain.billing import OrderKind
from seattui.domain.credits import LedgerReason
from seattui.domain.dates import add_years
from seattui.domain.licensing import BatchResult, License, SupportExtension, Term
from seattui.domain.money import format_credits, to_hundredths
from seattui.domain.pricing import Configuration, Quote, support_batch_lines, support_lines, total
from seattui.domain.roles import Permission
from seattui.portal.context import Tx
from seattui.portal.services import audit, billing, credits
from seattui.portal.services.billing import Charge
from seattui.portal.queries.licenses import batch_licenses, configuration_of
from seattui.portal.refusals import refuse
from seattui.portal.store.sets import update_rows
from seattui.portal.store.tables import Id, licenses


def new_support_end(license: License, today: date, years: int) -> date:
    start = max(today, license.support_ends_on or today)
    return add_years(start, years)


async def _extendable(tx: Tx, extension: SupportExtension, *, lock: bool) -> list[tuple[License, Product, Configuration]]:
    found = await batch_licenses(tx, extension, lock=lock)
    refusals = []
    priced = []
    for license in found:
        product = tx.catalog.find(license.product_id)
        if license.term is not Term.PERMANENT or product is None:
            reason = (f"License {license.id} on {license.key} is a {license.term.value} license; "
                      "support is extended on permanent licenses only.")
            refusals.append({"license_id": license.id, "reason": reason})
            continue
        priced.append((license, product, configuration_of(license)))
    refuse(refusals)
    return priced


async def quote(tx: Tx, extension: SupportExtension) -> Quote:
    """One quote for the whole batch; changes nothing."""
    priced = await _extendable(tx, extension, lock=False)
    lines = support_batch_lines([(product, config) for _, product, config in priced], extension.years)
    return await billing.quote(tx, lines, extension)


async def extend(tx: Tx, extension: SupportExtension) -> BatchResult:
    """Extend every license of the batch and pay for it in one transaction, or change nothing."""
    tx.actor.require(Permission.PURCHASE)
    balance = await credits.lock_balance(tx)
    priced = await _extendable(tx, extension, lock=True)
    years = extension.years
    plural = "year" if years == 1 else "years"
    priced_lines = [support_lines(product, config, years) for _, product, config in priced]
    costs = [total(lines) for lines in priced_lines]
    settlement = await billing.settle(tx, balance, [line for lines in priced_lines for line in lines], extension)
    costs = billing.net_of_discounts(costs, settlement)  # each license's paid, refunded with it
    charged = settlement.cost
    changes: list[dict[str, Any]] = []
    ledger: list[tuple[Decimal, LedgerReason, str, int, str]] = []
    audits: list[dict[str, Any]] = []
    charges: list[Charge] = []
    for (license, product, _), cost, lines in zip(priced, costs, priced_lines, strict=True):
        ends = new_support_end(license, tx.today, years)
        starts = max(tx.today, license.support_ends_on or tx.today)
        charges.extend(Charge(line, "license", license.id, starts, ends) for line in lines)
        changes.append({"license_id": license.id, "ends": ends, "new_paid": to_hundredths(license.paid + cost)})
        what = f"Support of license {license.id} ({product.name}) on {license.key} +{years} {plural}, to {ends}"
        if cost:
            ledger.append((-cost, LedgerReason.SUPPORT, "license", license.id, what))
        audits.append({
            "action": "license.support", "object_type": "license", "object_id": license.id,
            "summary": f"{what} for {format_credits(cost)} credits",
            "details": {"from": str(license.support_ends_on), "to": str(ends), "years": years, "cost": f"{cost:.2f}"},
        })
    await update_rows(tx.conn, licenses, {"license_id": Id, "ends": Date(), "new_paid": BigInteger()}, changes,
                      where=lambda source: licenses.c.id == source.license_id,
                      changes=lambda source: {"support_ends_on": source.ends, "paid": source.new_paid,
                                              "updated_at": tx.now})
    await billing.place(tx, settlement, OrderKind.SUPPORT, charges, ledger, extension)
    after = await credits.paying_balance(tx)
    await audit.record_many(tx, audits)
    return BatchResult(batch_id=tx.batch_id or "", count=len(priced), amount=charged, balance_after=after)
