"""Billing through the client: every paid change is an order; prepaid orders are their own
paid invoice, monthly terms put them on the month's invoice up to the credit limit; the
billing run finalizes ended months once, numbering invoices without a gap."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from seattui.domain.billing import BillingTerms, InvoiceKind, InvoiceStatus, OrderKind, PaymentMethod, PaymentTerms
from seattui.domain.credits import LedgerReason
from seattui.domain.errors import Conflict, CreditLimitReached, InsufficientCredits, NotFound, ValidationFailed
from seattui.domain.licensing import (
    ActivationRequest,
    DeviceRequest,
    LicenseOrder,
    LicenseUpgrade,
    NewActivationKey,
    SubscriptionOrder,
    Term,
)
from seattui.portal import billing_run
from seattui.portal.app import create_app
from seattui.portal.billing_run import run_billing
from seattui.portal.context import Tx
from seattui.portal.services import accounts, billing, keys, licenses
from seattui.portal.store import Store
from seattui.portal.store.tables import invoices, orders

from harness import PortalHarness
from harness import test_settings as settings_for  # not collected as a test

PRICE = Decimal("490.00")  # RemoteDesk Standard, 10 users


async def a_key(harness: PortalHarness, org: str = "Acme") -> str:
    async with harness.as_org(org) as tx:
        return (await keys.create(tx, NewActivationKey(name="test"))).key


def permanent(key: str, quantity: int = 10, **purchase: object) -> LicenseOrder:
    return LicenseOrder(key=key, product_id="remotedesk", edition_id="standard", term=Term.PERMANENT,
                        quantity=quantity, **purchase)


async def set_terms(harness: PortalHarness, org: str, terms: BillingTerms) -> None:
    async with harness.portal.store.write() as conn:
        actor = await accounts.organization_by_name(conn, org)
        await billing.set_terms(Tx(conn=conn, actor=actor, catalog=harness.portal.catalog, now=harness.clock.now),
                                terms)


def monthly(limit: str, due_days: int = 30) -> BillingTerms:
    return BillingTerms(terms=PaymentTerms.MONTHLY, credit_limit=Decimal(limit), due_days=due_days)


async def bill(harness: PortalHarness, as_of: date) -> list[str]:
    return (await run_billing(harness.portal.store, as_of, harness.clock)).finalized


# -- prepaid -------------------------------------------------------------------------------

async def test_a_prepaid_purchase_is_an_order_paid_from_credits_on_its_own_numbered_invoice(
    harness: PortalHarness,
) -> None:
    key = await a_key(harness)
    owner = await harness.login("acme-owner")
    quote = await owner.quote_license(permanent(key))
    assert quote.payment is not None and quote.payment.method is PaymentMethod.CREDITS
    assert quote.payment.summary == "Paid now from credits: balance after 510.00"
    license = await owner.create_license(permanent(key, reference_name="Front desk", po_number="PO-77"))
    [order] = (await owner.orders()).items
    assert (order.kind, order.placed_by, order.reference_name, order.po_number, order.total, order.paid_with) == (
        OrderKind.PURCHASE, "acme-owner", "Front desk", "PO-77", PRICE, PaymentMethod.CREDITS)
    [line] = order.lines
    assert (line.quantity, line.unit_price, line.discount, line.amount, line.object_type, line.object_id) == (
        10, Decimal("49.00"), Decimal("0.00"), PRICE, "license", license.id)
    assert (line.service_start, line.service_end) == (harness.clock.now.date(), license.support_ends_on)
    assert order.invoice_number == "INV-2026-000001"
    invoice = await owner.invoice("INV-2026-000001")
    assert (invoice.kind, invoice.status, invoice.total, invoice.paid, invoice.due) == (
        InvoiceKind.ORDER, InvoiceStatus.PAID, PRICE, PRICE, Decimal("0.00"))
    assert [line.amount for line in invoice.lines] == [PRICE]
    assert (await owner.balance()).balance == Decimal("510.00")


async def test_a_retried_purchase_is_one_order_and_one_charge(harness: PortalHarness) -> None:
    key = await a_key(harness)
    owner = await harness.login("acme-owner")
    retry = str(uuid.uuid4())
    first = await owner.create_license(permanent(key), idempotency_key=retry)
    again = await owner.create_license(permanent(key), idempotency_key=retry)
    assert first == again
    assert len((await owner.orders()).items) == 1
    assert (await owner.balance()).balance == Decimal("510.00")


async def test_an_upgrade_and_a_subscription_are_orders_too_and_a_trial_is_none(harness: PortalHarness) -> None:
    key = await a_key(harness)
    owner = await harness.login("acme-owner")
    await owner.create_license(LicenseOrder(key=key, product_id="remotedesk", edition_id="standard",
                                            term=Term.TRIAL, trial_days=7, quantity=5))
    assert (await owner.orders()).items == []
    license = await owner.create_license(permanent(await a_key(harness), quantity=2))
    await owner.upgrade_license(license.id, LicenseUpgrade(quantity=4, po_number="PO-2"))
    await owner.create_subscription(SubscriptionOrder(key=key, product_id="connect", channels=2))
    kinds = [(order.kind, order.po_number) for order in (await owner.orders()).items]
    assert kinds == [(OrderKind.SUBSCRIPTION, None), (OrderKind.UPGRADE, "PO-2"), (OrderKind.PURCHASE, None)]
    upgrade = (await owner.orders()).items[1]
    assert sum(line.amount for line in upgrade.lines) == upgrade.total == Decimal("98.00")


# -- monthly invoice -----------------------------------------------------------------------

async def test_on_monthly_terms_an_order_goes_on_the_month_invoice_and_takes_effect_at_once(
    harness: PortalHarness,
) -> None:
    await set_terms(harness, "Acme", monthly("1000.00"))
    key = await a_key(harness)
    owner = await harness.login("acme-owner")
    quote = await owner.quote_license(permanent(key))
    assert quote.payment is not None and quote.payment.method is PaymentMethod.INVOICE
    assert quote.payment.summary == "On the March invoice: unpaid after 490.00, limit 1,000.00"
    assert quote.payment.may_pay_from_credits and quote.affordable
    license = await owner.create_license(permanent(key))
    assert license.paid == PRICE
    assert (await owner.balance()).balance == Decimal("1000.00")  # nothing debited
    [draft] = (await owner.invoices(unpaid=True)).items
    assert (draft.status, draft.number, draft.total, draft.period_start, draft.period_end) == (
        InvoiceStatus.DRAFT, None, PRICE, date(2026, 3, 1), date(2026, 3, 31))
    second = await owner.quote_license(permanent(await a_key(harness), quantity=11))
    assert second.payment is not None and second.payment.over_limit == Decimal("29.00") and not second.affordable


async def test_an_order_past_the_credit_limit_is_refused_with_the_amount_over_and_writes_nothing(
    harness: PortalHarness,
) -> None:
    await set_terms(harness, "Acme", monthly("500.00"))
    owner = await harness.login("acme-owner")
    await owner.create_license(permanent(await a_key(harness)))
    with pytest.raises(CreditLimitReached, match="480.00 over the credit limit of 500.00") as refused:
        await owner.create_license(permanent(await a_key(harness)))
    assert refused.value.details["over"] == "480.00"
    assert len((await owner.orders()).items) == 1
    [draft] = (await owner.invoices()).items
    assert draft.total == PRICE


async def test_on_monthly_terms_the_buyer_may_pay_from_credits_now(harness: PortalHarness) -> None:
    await set_terms(harness, "Acme", monthly("100.00"))
    owner = await harness.login("acme-owner")
    order = permanent(await a_key(harness), pay_from_credits=True)
    quote = await owner.quote_license(order)
    assert quote.payment is not None and quote.payment.summary == "Paid now from credits: balance after 510.00"
    await owner.create_license(order)
    assert (await owner.balance()).balance == Decimal("510.00")
    assert [invoice.kind for invoice in (await owner.invoices()).items] == [InvoiceKind.ORDER]
    with pytest.raises(InsufficientCredits, match="short"):
        await owner.create_license(permanent(await a_key(harness), quantity=20, pay_from_credits=True))


async def test_forty_concurrent_orders_near_the_limit_never_pass_it(harness: PortalHarness) -> None:
    await set_terms(harness, "Acme", monthly("1000.00"))
    token = (await harness.login("acme-owner")).token
    orders_placed = [permanent(await a_key(harness), quantity=1) for _ in range(40)]  # 49.00 each
    results = await asyncio.gather(*(harness.client(token).create_license(order) for order in orders_placed),
                                   return_exceptions=True)
    bought = [result for result in results if not isinstance(result, BaseException)]
    refused = [result for result in results if isinstance(result, CreditLimitReached)]
    assert (len(bought), len(refused)) == (20, 20), results  # 20 x 49.00 = 980.00; a 21st passes 1,000
    async with harness.portal.store.read() as conn:
        owed = await billing.unpaid_total(conn, harness.world.org_ids["Acme"])
        assert owed == Decimal("980.00")
        assert await conn.scalar(select(func.count()).select_from(orders)) == 20


# -- finalizing, paying, the billing run ---------------------------------------------------

async def test_the_billing_run_finalizes_last_month_once_and_the_invoice_is_paid_from_credits(
    harness: PortalHarness,
) -> None:
    await set_terms(harness, "Acme", monthly("5000.00", due_days=14))
    owner = await harness.login("acme-owner")
    await owner.create_license(permanent(await a_key(harness), po_number="PO-9"))
    await owner.create_license(permanent(await a_key(harness), quantity=2))
    assert await bill(harness, date(2026, 3, 31)) == []  # March has not ended
    harness.clock.advance(days=30)  # April 1st
    owner = await harness.login("acme-owner")  # the old session has expired
    with pytest.raises(Conflict, match="still a draft"):
        await owner.pay_invoice(str(((await owner.invoices()).items)[0].id))
    assert await bill(harness, date(2026, 4, 1)) == ["INV-2026-000001"]
    assert await bill(harness, date(2026, 4, 1)) == []  # run again: nothing billed twice
    invoice = await owner.invoice("INV-2026-000001")
    assert (invoice.status, invoice.issued_on, invoice.due_on, invoice.total) == (
        InvoiceStatus.OPEN, date(2026, 4, 1), date(2026, 4, 15), Decimal("588.00"))
    assert sum(line.amount for line in invoice.lines) == invoice.total
    retry = str(uuid.uuid4())
    paid = await owner.pay_invoice("INV-2026-000001", idempotency_key=retry)
    assert (paid.status, paid.due) == (InvoiceStatus.PAID, Decimal("0.00"))
    await owner.pay_invoice("INV-2026-000001", idempotency_key=retry)  # a retry pays nothing twice
    assert (await owner.balance()).balance == Decimal("412.00")
    entry = (await owner.ledger(limit=1)).items[0]
    assert (entry.amount, entry.reason, entry.object_type) == (Decimal("-588.00"), LedgerReason.INVOICE, "invoice")
    assert (await owner.invoices(unpaid=True)).items == []


async def test_two_instances_billing_at_once_give_one_invoice_per_organization_and_no_gap(
    harness: PortalHarness,
) -> None:
    for org in ("Acme", "Globex"):
        await set_terms(harness, org, monthly("5000.00"))
    for org, login in (("Acme", "acme-owner"), ("Globex", "globex-owner")):
        client = await harness.login(login)
        await client.create_license(permanent(await a_key(harness, org)))
    prepaid = await harness.login("acme-owner")
    await set_terms(harness, "Acme", BillingTerms())
    await prepaid.create_license(permanent(await a_key(harness)))  # takes INV-2026-000001 at once
    other = Store(harness.portal.settings.database_url)
    try:
        runs = await asyncio.gather(run_billing(harness.portal.store, date(2026, 4, 1), harness.clock),
                                    run_billing(other, date(2026, 4, 1), harness.clock))
    finally:
        await other.dispose()
    assert sorted(number for run in runs for number in run.finalized) == ["INV-2026-000002", "INV-2026-000003"]
    async with harness.portal.store.read() as conn:
        summaries = (await conn.execute(select(invoices.c.org_id).where(invoices.c.kind == "summary"))).all()
        assert len(summaries) == 2


async def test_a_run_stopped_between_batches_and_run_again_bills_each_month_once(
    harness: PortalHarness, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(billing_run, "BATCH", 1)
    for org in ("Acme", "Globex"):
        await set_terms(harness, org, monthly("5000.00"))
    for org, login in (("Acme", "acme-owner"), ("Globex", "globex-owner")):
        await (await harness.login(login)).create_license(permanent(await a_key(harness, org)))

    async def killed(batches: int) -> None:
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        await run_billing(harness.portal.store, date(2026, 4, 1), harness.clock, between_batches=killed)
    again = await run_billing(harness.portal.store, date(2026, 4, 1), harness.clock)
    assert again.finalized == ["INV-2026-000002"]
    async with harness.portal.store.read() as conn:
        numbers = sorted((await conn.execute(select(invoices.c.number))).scalars())
    assert numbers == ["INV-2026-000001", "INV-2026-000002"]
    assert (await run_billing(harness.portal.store, date(2026, 4, 2), harness.clock)).finalized == []


async def test_another_organization_invoice_is_not_found(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    await owner.create_license(permanent(await a_key(harness)))
    globex = await harness.login("globex-owner")
    with pytest.raises(NotFound):
        await globex.invoice("INV-2026-000001")
    with pytest.raises(NotFound):
        await globex.pay_invoice("INV-2026-000001")


# -- refunds follow the catalog's policy ---------------------------------------------------

async def test_a_permanent_license_is_refunded_within_14_days_and_not_after(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    early = await owner.create_license(permanent(await a_key(harness)))
    late = await owner.create_license(permanent(await a_key(harness)))
    quote = await owner.quote_deletion([early.id])
    assert (quote.cost, quote.balance_after) == (-PRICE, Decimal("510.00"))
    await owner.delete_licenses([early.id])
    assert (await owner.balance()).balance == Decimal("510.00")
    harness.clock.advance(days=15)
    owner = await harness.login("acme-owner")
    quote = await owner.quote_deletion([late.id])
    [line] = quote.lines
    assert line.amount == 0 and quote.balance_after == quote.balance
    assert "refundable for 14 days after purchase; bought on 2026-03-02" in line.description
    result = await owner.delete_licenses([late.id])
    assert result.amount == 0
    assert (await owner.balance()).balance == Decimal("510.00")


async def test_a_license_once_activated_an_annual_seat_plan_and_a_trial_refund_nothing_and_say_why(
        harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    used = await owner.create_license(permanent(await a_key(harness)))
    async with harness.as_org("Acme") as tx:
        await licenses.bind_device(tx, used.id, "fingerprint-1", "desk-1")
        await licenses.release_device(tx, used.id)
    annual = await owner.create_license(LicenseOrder(key=await a_key(harness), product_id="workspace",
                                                     term=Term.ANNUAL, quantity=2))
    trial = await owner.create_license(LicenseOrder(key=await a_key(harness), product_id="remotedesk",
                                                    edition_id="standard", term=Term.TRIAL, trial_days=7, quantity=5))
    quote = await owner.quote_deletion([used.id, annual.id, trial.id])
    assert [line.amount for line in quote.lines] == [0, 0, 0]  # every license deleted is named, and why
    assert "once activated" in quote.lines[0].description
    assert "an annual plan is billed in full and never refunded" in quote.lines[1].description
    assert quote.lines[2].description.startswith(f"Nothing to refund of license {trial.id}")
    assert quote.lines[2].description.endswith("a trial is free")
    before = (await owner.balance()).balance
    await owner.delete_licenses([used.id, annual.id, trial.id])
    assert (await owner.balance()).balance == before


async def test_the_refund_of_an_invoiced_order_is_a_credit_note_on_the_month_invoice(harness: PortalHarness) -> None:
    await set_terms(harness, "Acme", monthly("5000.00"))
    owner = await harness.login("acme-owner")
    kept = await owner.create_license(permanent(await a_key(harness), quantity=2))
    returned = await owner.create_license(permanent(await a_key(harness)))
    quote = await owner.quote_deletion([returned.id])
    assert "credit note on the March invoice" in quote.lines[0].description
    assert quote.balance_after == Decimal("1000.00")
    await owner.delete_licenses([returned.id])
    assert (await owner.balance()).balance == Decimal("1000.00")
    [draft] = (await owner.invoices()).items
    invoice = await owner.invoice(str(draft.id))
    assert invoice.total == kept.paid == Decimal("98.00")
    assert [line.amount for line in invoice.lines] == [Decimal("98.00"), PRICE, -PRICE]
    assert (await owner.orders()).items[0].kind is OrderKind.CREDIT_NOTE


async def test_an_invoice_gives_the_fields_of_its_document(harness: PortalHarness) -> None:
    await set_terms(harness, "Acme", monthly("5000.00"))
    owner = await harness.login("acme-owner")
    await owner.create_license(permanent(await a_key(harness), reference_name="Front desk", po_number="PO-9"))
    await bill(harness, date(2026, 4, 1))
    async with harness.as_org("Acme") as tx:
        fields = await billing.document_fields(tx, "INV-2026-000001")
    assert set(fields) == {"number", "issued_on", "due_on", "period_start", "period_end", "po_number", "seller_name",
                           "seller_address", "buyer_name", "buyer_address", "summary", "lines", "subtotal", "total",
                           "paid", "due"}
    assert (fields["buyer_name"], fields["summary"], fields["po_number"], fields["total"], fields["due"]) == (
        "Acme", True, "PO-9", PRICE, PRICE)
    [line] = fields["lines"]
    assert set(line) == {"description", "service_start", "service_end", "quantity", "unit_price", "discount", "amount"}
    assert line["description"].startswith("Front desk: RemoteDesk Standard") and line["amount"] == PRICE


async def test_a_support_extension_on_monthly_terms_goes_on_the_invoice_or_is_paid_now(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    license = await owner.create_license(permanent(await a_key(harness)))
    await set_terms(harness, "Acme", monthly("5000.00"))
    quote = await owner.quote_support([license.id], 1)
    assert quote.payment is not None and quote.payment.summary == (
        "On the March invoice: unpaid after 122.50, limit 5,000.00")
    await owner.extend_support([license.id], 1, po_number="PO-S")
    await owner.extend_support([license.id], 1, pay_from_credits=True)
    assert (await owner.balance()).balance == Decimal("387.50")  # 1,000 - 490 - 122.50
    [paid_now, invoiced, _] = (await owner.orders()).items
    assert (invoiced.kind, invoiced.paid_with, invoiced.po_number, invoiced.total) == (
        OrderKind.SUPPORT, PaymentMethod.INVOICE, "PO-S", Decimal("122.50"))
    assert paid_now.paid_with is PaymentMethod.CREDITS
    assert [line.service_end for line in invoiced.lines] == [date(2028, 3, 2)]


async def test_a_portal_starting_after_the_month_ended_runs_the_billing_run_in_the_background(
    harness: PortalHarness,
) -> None:
    await set_terms(harness, "Acme", monthly("5000.00"))
    await (await harness.login("acme-owner")).create_license(permanent(await a_key(harness)))
    harness.clock.advance(days=30)
    app = create_app(settings_for(harness.portal.settings.database_url, harness.clock,
                                  billing_check_every=timedelta(hours=1)))
    async with app.router.lifespan_context(app):
        for _ in range(600):  # the job runs beside the start, never inside a request: wait for it
            if not await billing_run.is_due(harness.portal.store, harness.clock.now.date()):
                break
            await asyncio.sleep(0.05)
        async with harness.portal.store.read() as conn:
            assert await conn.scalar(select(invoices.c.number).where(invoices.c.kind == "summary")) == "INV-2026-000001"


async def test_the_invoices_list_pages_the_paid_ones_after_every_unpaid_one(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    for _ in range(3):
        await owner.create_license(permanent(await a_key(harness), quantity=1))
    await set_terms(harness, "Acme", monthly("5000.00"))
    await owner.create_license(permanent(await a_key(harness), quantity=1))
    first = await owner.invoices(limit=2)
    assert [invoice.number for invoice in first.items] == [None, "INV-2026-000003", "INV-2026-000002"]
    rest = await owner.invoices(cursor=first.next_cursor, limit=2)
    assert [invoice.number for invoice in rest.items] == ["INV-2026-000001"] and rest.next_cursor is None


async def test_a_long_po_number_or_invoice_reference_is_refused_with_what_to_fix(harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    order = {"key": await a_key(harness), "product_id": "remotedesk", "edition_id": "standard",
             "term": "permanent", "quantity": 1, "po_number": "P" * 81}
    with pytest.raises(ValidationFailed) as refused:
        await owner.request("POST", "/api/v1/licenses", body=order)
    assert "po_number" in str(refused.value.fields)
    with pytest.raises(NotFound, match="no invoice"):
        await owner.invoice("INV-" + "9" * 30)
    with pytest.raises(ValidationFailed):
        await owner.invoice("X" * 41)
    assert (await owner.orders()).items == []


async def test_an_order_after_its_month_was_billed_goes_on_the_next_month_draft(harness: PortalHarness) -> None:
    await set_terms(harness, "Acme", monthly("5000.00"))
    owner = await harness.login("acme-owner")
    await owner.create_license(permanent(await a_key(harness)))
    assert await bill(harness, date(2026, 4, 1)) == ["INV-2026-000001"]  # March billed early
    quote = await owner.quote_license(permanent(await a_key(harness), quantity=1))
    assert quote.payment is not None and quote.payment.summary.startswith("On the April invoice")
    await owner.create_license(permanent(await a_key(harness), quantity=1))
    march = await owner.invoice("INV-2026-000001")
    assert march.total == PRICE
    [draft] = [invoice for invoice in (await owner.invoices(unpaid=True)).items if invoice.number is None]
    assert (draft.period_start, draft.total) == (date(2026, 4, 1), Decimal("49.00"))


async def test_a_license_activated_by_the_licensed_software_and_released_refunds_nothing(
        harness: PortalHarness) -> None:
    owner = await harness.login("acme-owner")
    used = await owner.create_license(permanent(await a_key(harness)))
    software = harness.client()
    machine = ActivationRequest(key=used.key, product_id=used.product_id, fingerprint="machine-desk-1", hostname="desk-1")
    await software.activate(machine)
    await software.deactivate(DeviceRequest(key=used.key, product_id=used.product_id, fingerprint="machine-desk-1"))
    quote = await owner.quote_deletion([used.id])
    assert [line.amount for line in quote.lines] == [0]
    assert "once activated" in quote.lines[0].description
