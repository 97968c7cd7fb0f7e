"""PortalClient: one method per portal operation, typed errors, timeouts and safe retries."""

from __future__ import annotations

import asyncio
import ssl
import uuid
from urllib.parse import quote
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from seattui.domain import errors
from seattui.domain.accounts import Credentials, Me, NewOrganization, Session, SetupStatus
from seattui.domain.audit import AuditEntry, AuditFilter
from seattui.domain.billing import (
    BillingContact, BillingContactChange, Invoice, InvoiceEmail, InvoiceMailed, InvoiceSort, Order, OrderFilter,
)
from seattui.domain.catalog import Catalog
from seattui.domain.children import Child, LicenseMove, LicenseMoved, NewChild
from seattui.domain.credits import CreditBalance, CreditGrant, LedgerEntry, LedgerFilter
from seattui.domain.customers import (
    Customer,
    CustomerDetail,
    CustomerDetails,
    CustomerFilter,
    CustomerLogin,
    CustomerMail,
    CustomerMailChange,
    CustomerSort,
    NewCustomer,
)
from seattui.domain.dashboard import Dashboard
from seattui.domain.licensing import (
    ActivationKey,
    ActivationRequest,
    ActivationStatus,
    BatchResult,
    DeviceRequest,
    KeyDetail,
    KeyHolds,
    KeyName,
    KeySort,
    License,
    LicenseBatch,
    LicenseEdit,
    LicenseFacets,
    LicenseFilter,
    LicenseOrder,
    LicensePage,
    LicenseSort,
    LicenseUpgrade,
    MatchingIds,
    NewActivationKey,
    Subscription,
    SubscriptionChange,
    SubscriptionOrder,
    SupportExtension,
)
from seattui.domain.offline_licensing import DeviceFileText, FileCheck, LicenseFileText, OfflineAnswer, SigningKeys
from seattui.domain.paging import Page
from seattui.domain.people import (
    DepartmentCount,
    Employee,
    EmployeeFields,
    EmployeeFilter,
    EmployeeIds,
    EmployeeImport,
    EmployeeSort,
    ImportResult,
)
from seattui.domain.pricing import Quote
from seattui.domain.seating import (
    BatchMove, BatchOutcome, MoveRequest, ReassignRequest, SeatBatch, SeatChange, SeatPool, SeatRequest,
)
from seattui.domain.seat_plans import Cancellation, CapChange, PlanConversion, RenewalChange, SeatAddition, SubscriptionSummary
from seattui.domain.team import (
    ApiToken,
    Invitation,
    InvitationAcceptance,
    Member,
    NewApiToken,
    NewInvitation,
    RoleChange,
)
from seattui.domain.validation import build

M = TypeVar("M", bound=BaseModel)
API = "/api/v1"
DEFAULT_TIMEOUT = 10.0
_RETRY_STATUS = {502, 503, 504}


class PortalClient:
    """Talks to one portal, remote (a URL) or in-process (an httpx transport given by the caller)."""

    def __init__(
        self,
        base_url: str = "http://embedded-portal",
        *,
        token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 2,
        retry_delay: float = 0.25,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.retry_delay = retry_delay
        self.embedded = transport is not None and base_url == "http://embedded-portal"
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            # A plain-HTTP portal never uses TLS (redirects are not followed), so skip loading
            # the CA bundle: 60 ms of every `seattui credits`. HTTPS portals verify as usual.
            verify=not self.base_url.startswith("http://"),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers={"User-Agent": "seattui"},
        )

    @property
    def where(self) -> str:
        return "the embedded portal" if self.embedded else f"the portal at {self.base_url}"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> PortalClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    # -- transport ---------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        timeout: float | None = None,
        omit_none: bool = False,
    ) -> httpx.Response:
        """Send one request; raise the portal's error as its typed class.

        Mutating requests carry an Idempotency-Key (a new one unless given), which makes them
        safe to retry: the portal answers a repeat with the first result and charges once.
        `omit_none` leaves out a model's null fields, for bodies whose nulls are all defaults.
        """
        headers: dict[str, str] = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        mutating = method != "GET"
        if mutating and not path.startswith(f"{API}/auth/login"):
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        content: bytes | None = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = (
                body.model_dump_json(exclude_none=omit_none).encode()
                if isinstance(body, BaseModel)
                else TypeAdapter(dict[str, Any]).dump_json(body)
            )
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        safe_to_repeat = not mutating or "Idempotency-Key" in headers
        attempt = 0
        # Retries after a timeout share one budget: "did not answer within 10 s" is said
        # after 10 s, not after three tries of 10 s each.
        waited = self.timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + waited
        budget: float | None = timeout
        while True:
            try:
                response = await self._http.request(
                    method,
                    path,
                    content=content,
                    params=clean_params,
                    headers=headers,
                    timeout=httpx.USE_CLIENT_DEFAULT if budget is None else budget,
                )
            except httpx.ConnectError as error:
                untrusted = _untrusted_certificate(error)
                if untrusted is not None:  # trying again would not make it trusted
                    raise errors.PortalUnavailable(
                        f"The certificate of {self.where} is not trusted here ({untrusted}). If your "
                        "company's CA signed it, set SSL_CERT_FILE to a CA bundle that holds that CA "
                        "(for example /etc/ssl/certs/ca-certificates.crt), then retry."
                    ) from None
                # Never reached the portal: always safe to try again.
                if attempt < self.retries:
                    attempt += 1
                    await asyncio.sleep(self.retry_delay * attempt)
                    continue
                raise errors.PortalUnavailable(
                    f"Cannot reach {self.where}: {_reason(error)}. Check that it is running "
                    "(seattui serve) and the address in your profile, then retry."
                ) from None
            except httpx.TimeoutException:
                left = deadline - loop.time()
                if safe_to_repeat and attempt < self.retries and left > min(1.0, waited / 10):
                    attempt += 1
                    budget = left
                    continue
                raise errors.PortalUnavailable(
                    f"{self.where.capitalize()} did not answer within {waited:g} s. It may be "
                    "overloaded or stuck; retry in a moment."
                ) from None
            except httpx.ProtocolError as error:
                # Something answers at that address, but not in HTTP (an SSH or mail server).
                raise errors.PortalUnavailable(
                    f"{self.where.capitalize()} did not answer as a web server ({_reason(error)}): "
                    "check the portal's address and port in your profile."
                ) from None
            except httpx.TransportError as error:
                raise errors.PortalUnavailable(
                    f"The connection to {self.where} failed: {_reason(error)}. Retry in a moment."
                ) from None
            if response.status_code in _RETRY_STATUS and safe_to_repeat and attempt < self.retries:
                attempt += 1
                await asyncio.sleep(self.retry_delay * attempt)
                continue
            if response.status_code >= 400:
                raise self._error(response)
            return response

    def _error(self, response: httpx.Response) -> errors.SeattuiError:
        try:
            payload = response.json()
            return errors.SeattuiError.from_wire(
                str(payload["code"]), str(payload["message"]), dict(payload.get("details") or {})
            )
        except (ValueError, KeyError, TypeError):
            pass
        if response.status_code >= 500:
            return errors.PortalFault(
                f"{self.where.capitalize()} failed ({response.status_code} {response.reason_phrase}). "
                "Retry in a moment; if it repeats, tell the portal's operator."
            )
        return errors.SeattuiError(
            f"{self.where.capitalize()} answered {response.status_code} {response.reason_phrase}, "
            "which this version of seattui does not understand."
        )

    async def _get(self, path: str, model: type[M], **params: Any) -> M:
        return _parse(model, await self.request("GET", f"{API}{path}", params=params))

    async def _send(
        self,
        method: str,
        path: str,
        model: type[M] | None,
        body: BaseModel | dict[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        timeout: float | None = None,
        omit_none: bool = False,
    ) -> Any:
        response = await self.request(
            method, f"{API}{path}", body=body, idempotency_key=idempotency_key, timeout=timeout, omit_none=omit_none
        )
        return None if model is None else _parse(model, response)

    # -- health, setup and session -----------------------------------------------------------

    async def health(self) -> dict[str, Any]:
        return dict((await self.request("GET", f"{API}/health")).json())

    async def setup_status(self) -> SetupStatus:
        return await self._get("/setup", SetupStatus)

    async def setup(self, new: NewOrganization) -> Session:
        session: Session = await self._send("POST", "/setup", Session, new)
        self.token = session.token
        return session

    async def login(self, login: str, password: str) -> Session:
        session: Session = await self._send(
            "POST", "/auth/login", Session, build(Credentials, login=login, password=password)
        )
        self.token = session.token
        return session

    async def logout(self) -> None:
        try:
            await self._send("POST", "/auth/logout", None)
        finally:
            self.token = None

    async def me(self) -> Me:
        return await self._get("/auth/me", Me)

    # -- catalog and credits -----------------------------------------------------------------

    async def catalog(self) -> Catalog:
        return await self._get("/catalog", Catalog)

    async def balance(self) -> CreditBalance:
        return await self._get("/credits/balance", CreditBalance)

    async def ledger(self, wanted: LedgerFilter | None = None, *, cursor: str | None = None,
                     limit: int = 50) -> Page[LedgerEntry]:
        """Ledger entries, newest first, filtered by the portal."""
        params = (wanted or LedgerFilter()).query_params()
        return await self._get("/credits/ledger", Page[LedgerEntry], **params, cursor=cursor, limit=limit)

    async def grant_credits(self, org_id: int, amount: Decimal, memo: str = "") -> LedgerEntry:
        entry: LedgerEntry = await self._send(
            "POST", f"/organizations/{org_id}/credit-grants", LedgerEntry, build(CreditGrant, amount=amount, memo=memo)
        )
        return entry

    # -- orders and invoices -----------------------------------------------------------------

    async def orders(self, wanted: OrderFilter | None = None, *, cursor: str | None = None,
                     limit: int = 50) -> Page[Order]:
        """Every paid change, newest first, with its lines, filtered by the portal."""
        params = (wanted or OrderFilter()).query_params()
        return await self._get("/orders", Page[Order], **params, cursor=cursor, limit=limit)

    async def order(self, order_id: int) -> Order:
        return await self._get(f"/orders/{order_id}", Order)

    async def invoices(self, *, unpaid: bool = False, cursor: str | None = None, limit: int = 100,
                       text: str | None = None, sort: InvoiceSort = InvoiceSort.NEWEST,
                       descending: bool = False) -> Page[Invoice]:
        """The first page: every unpaid invoice (drafts included), then the paid ones, newest
        first or by `sort`; pass next_cursor for more paid ones. `text` keeps the invoices
        whose number holds it. Without their lines."""
        params: dict[str, Any] = {"unpaid": unpaid, "limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        if text:
            params["q"] = text
        if sort is not InvoiceSort.NEWEST or descending:
            params.update(sort=sort.value, descending=descending)
        return await self._get("/invoices", Page[Invoice], **params)

    async def invoice(self, reference: str) -> Invoice:
        """One invoice with its lines, by number (INV-2026-000123) or a draft's id."""
        return await self._get(f"/invoices/{_path_part(reference)}", Invoice)

    async def pay_invoice(self, reference: str, *, idempotency_key: str | None = None) -> Invoice:
        """Pay a finalized invoice from credits. Pass the same idempotency_key to retry safely."""
        paid: Invoice = await self._send("POST", f"/invoices/{_path_part(reference)}/payment", Invoice,
                                         idempotency_key=idempotency_key)
        return paid

    async def invoice_pdf(self, reference: str) -> bytes:
        """The finalized invoice as a PDF document."""
        response = await self.request("GET", f"{API}/invoices/{_path_part(reference)}/pdf", timeout=max(self.timeout, 60.0))
        if not response.content.startswith(b"%PDF-"):
            raise _unreadable()
        return response.content

    async def email_invoice(self, reference: str, to: str | None = None, *,
                            idempotency_key: str | None = None) -> InvoiceMailed:
        """Have the portal email the invoice's PDF to `to`, or to the billing address. Pass the
        same idempotency_key to retry safely: one mail however often it is sent."""
        mailed: InvoiceMailed = await self._send(
            "POST", f"/invoices/{_path_part(reference)}/email", InvoiceMailed, InvoiceEmail(to=to),
            idempotency_key=idempotency_key, timeout=max(self.timeout, 60.0))
        return mailed

    async def billing_contact(self) -> BillingContact:
        """Where the organization's invoices are emailed."""
        return await self._get("/organization/billing", BillingContact)

    async def set_billing_contact(self, billing_email: str | None) -> BillingContact:
        """Set (None: clear) the organization's billing address; owners and admins."""
        contact: BillingContact = await self._send(
            "PUT", "/organization/billing", BillingContact, BillingContactChange(billing_email=billing_email))
        return contact

    async def dashboard(self) -> Dashboard:
        return await self._get("/dashboard", Dashboard)

    # -- activation keys ---------------------------------------------------------------------

    async def keys(
        self,
        *,
        query: str = "",
        holds: KeyHolds | None = None,
        sort: KeySort = KeySort.CREATED,
        descending: bool = True,
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page[ActivationKey]:
        """A page of keys matching `query` (part of a name or a key), with their counts."""
        return await self._get(
            "/keys", Page[ActivationKey], q=query or None, holds=holds.value if holds else None,
            sort=sort.value, descending=str(descending).lower(), cursor=cursor, limit=limit,
        )

    async def key(self, key_id: int) -> KeyDetail:
        return await self._get(f"/keys/{key_id}", KeyDetail)

    async def create_key(
        self, name: str = "", key: str | None = None, *, idempotency_key: str | None = None
    ) -> ActivationKey:
        """A custom key when `key` is given (any case, with or without dashes), else a random one."""
        created: ActivationKey = await self._send(
            "POST", "/keys", ActivationKey, build(NewActivationKey, name=name, key=key),
            idempotency_key=idempotency_key,
        )
        return created

    async def rename_key(self, key_id: int, name: str) -> ActivationKey:
        renamed: ActivationKey = await self._send("PATCH", f"/keys/{key_id}", ActivationKey, build(KeyName, name=name))
        return renamed

    async def delete_key(self, key_id: int) -> None:
        """Refused with KeyInUse while a license or subscription is attached."""
        await self._send("DELETE", f"/keys/{key_id}", None)

    # -- licenses ----------------------------------------------------------------------------

    async def quote_license(self, order: LicenseOrder) -> Quote:
        """What an order costs against the balance now; the portal changes nothing."""
        return _parse(Quote, await self.request("POST", f"{API}/licenses/quote", body=order))

    async def create_license(self, order: LicenseOrder, *, idempotency_key: str | None = None) -> License:
        """Buy (or start a trial of) a license. Pass the same idempotency_key to retry safely."""
        license: License = await self._send("POST", "/licenses", License, order, idempotency_key=idempotency_key)
        return license

    async def license(self, license_id: int) -> License:
        return await self._get(f"/licenses/{license_id}", License)

    async def licenses(
        self,
        wanted: LicenseFilter | None = None,
        *,
        sort: LicenseSort = LicenseSort.KEY,
        descending: bool = False,
        cursor: str | None = None,
        limit: int = 100,
    ) -> LicensePage:
        """A page of licenses, filtered and sorted by the portal; `total` on the first page."""
        params = (wanted or LicenseFilter()).query_params()
        return await self._get("/licenses", LicensePage, **params, sort=sort.value,
                               descending=str(descending).lower(), cursor=cursor, limit=limit)

    async def license_facets(self, wanted: LicenseFilter | None = None) -> LicenseFacets:
        return await self._get("/licenses/facets", LicenseFacets, **(wanted or LicenseFilter()).query_params())

    async def license_ids(self, wanted: LicenseFilter | None = None) -> MatchingIds:
        """Every id the filter matches, to mark them all (none when more than a batch match)."""
        return await self._get("/licenses/ids", MatchingIds, **(wanted or LicenseFilter()).query_params())

    async def edit_license(self, license_id: int, changes: LicenseEdit) -> License:
        edited: License = await self._send("PATCH", f"/licenses/{license_id}", License, changes)
        return edited

    async def quote_upgrade(self, license_id: int, wanted: LicenseUpgrade) -> Quote:
        return _parse(Quote, await self.request("POST", f"{API}/licenses/{license_id}/upgrade/quote", body=wanted))

    async def upgrade_license(
        self, license_id: int, wanted: LicenseUpgrade, *, idempotency_key: str | None = None
    ) -> License:
        """Upgrade and pay the difference. Pass the same idempotency_key to retry safely."""
        upgraded: License = await self._send("POST", f"/licenses/{license_id}/upgrade", License, wanted,
                                             idempotency_key=idempotency_key)
        return upgraded

    async def quote_deletion(self, license_ids: list[int]) -> Quote:
        """What deleting the licenses refunds (a negative cost); refused if one is activated."""
        batch = build(LicenseBatch, license_ids=license_ids)
        return _parse(Quote, await self.request("POST", f"{API}/licenses/deletion/quote", body=batch))

    async def delete_licenses(self, license_ids: list[int], *, idempotency_key: str | None = None) -> BatchResult:
        """Delete licenses and refund them, all or none."""
        result: BatchResult = await self._send("POST", "/licenses/deletion", BatchResult,
                                               build(LicenseBatch, license_ids=license_ids),
                                               idempotency_key=idempotency_key)
        return result

    async def release_device(self, license_id: int) -> License:
        """Force the license off its device (admins)."""
        released: License = await self._send("POST", f"/licenses/{license_id}/deactivation", License)
        return released

    # -- support -----------------------------------------------------------------------------

    async def quote_support(self, license_ids: list[int], years: int, **purchase: Any) -> Quote:
        """`purchase`: pay_from_credits, po_number, reference_name (domain.billing.Purchase)."""
        extension = build(SupportExtension, license_ids=license_ids, years=years, **purchase)
        return _parse(Quote, await self.request("POST", f"{API}/support/quote", body=extension))

    async def extend_support(
        self, license_ids: list[int], years: int, *, idempotency_key: str | None = None, **purchase: Any
    ) -> BatchResult:
        """Extend the licenses' support by whole years in one transaction, all or none.
        `purchase`: pay_from_credits, po_number, reference_name (domain.billing.Purchase)."""
        result: BatchResult = await self._send(
            "POST", "/support/extensions", BatchResult,
            build(SupportExtension, license_ids=license_ids, years=years, **purchase),
            idempotency_key=idempotency_key,
        )
        return result

    # -- device activation (what the licensed software calls; no session needed) ---------------

    async def activate(self, request: ActivationRequest) -> ActivationStatus:
        return _parse(ActivationStatus, await self.request("POST", f"{API}/activation/activate", body=request))

    async def deactivate(self, request: DeviceRequest) -> ActivationStatus:
        return _parse(ActivationStatus, await self.request("POST", f"{API}/activation/deactivate", body=request))

    async def check_activation(self, request: DeviceRequest) -> ActivationStatus:
        return _parse(ActivationStatus, await self.request("POST", f"{API}/activation/check", body=request))

    # -- license files (signed; verified offline by domain.license_file) -----------------------

    async def signing_keys(self) -> SigningKeys:
        """The portal's public signing keys; no session needed."""
        return await self._get("/license-files/keys", SigningKeys)

    async def license_file(self, license_id: int, *, machine: str | None = None) -> str:
        """The license's signed file; with `machine`, a machine file for the device that holds it."""
        return (await self.request("GET", f"{API}/licenses/{license_id}/file", params={"machine": machine})).text

    async def subscription_file(self, subscription_id: int) -> str:
        return (await self.request("GET", f"{API}/subscriptions/{subscription_id}/file")).text

    async def offline_activate(self, request_text: str) -> OfflineAnswer:
        """Activate the machine of a request file; the answer carries its machine file."""
        return await self._send("POST", "/license-files/offline-activation", OfflineAnswer,
                                build(DeviceFileText, request=request_text))

    async def offline_deactivate(self, request_text: str) -> OfflineAnswer:
        """Release the machine of a request file; the answer carries the signed release receipt."""
        return await self._send("POST", "/license-files/offline-deactivation", OfflineAnswer,
                                build(DeviceFileText, request=request_text))

    async def check_license_file(self, file_text: str) -> FileCheck:
        """Whether a file is still current (stale after a change, deleted, released)."""
        return _parse(FileCheck, await self.request("POST", f"{API}/license-files/check",
                                                    body=build(LicenseFileText, file=file_text)))

    # -- subscriptions -----------------------------------------------------------------------

    async def quote_subscription(self, order: SubscriptionOrder) -> Quote:
        return _parse(Quote, await self.request("POST", f"{API}/subscriptions/quote", body=order))

    async def create_subscription(
        self, order: SubscriptionOrder, *, idempotency_key: str | None = None
    ) -> Subscription:
        subscription: Subscription = await self._send(
            "POST", "/subscriptions", Subscription, order, idempotency_key=idempotency_key
        )
        return subscription

    async def subscription(self, subscription_id: int) -> Subscription:
        return await self._get(f"/subscriptions/{subscription_id}", Subscription)

    async def quote_channels(self, subscription_id: int, channels: int, **purchase: Any) -> Quote:
        """What resizing to `channels` costs now; the portal changes nothing.
        `purchase`: pay_from_credits, po_number, reference_name (domain.billing.Purchase)."""
        return _parse(Quote, await self.request(
            "POST", f"{API}/subscriptions/{subscription_id}/channels/quote",
            body=build(SubscriptionChange, channels=channels, **purchase)))

    async def change_channels(
        self, subscription_id: int, channels: int, *, idempotency_key: str | None = None, **purchase: Any
    ) -> Subscription:
        """More channels are charged their share of the paid month; fewer refund nothing."""
        changed: Subscription = await self._send(
            "POST", f"/subscriptions/{subscription_id}/channels", Subscription,
            build(SubscriptionChange, channels=channels, **purchase), idempotency_key=idempotency_key,
        )
        return changed

    async def subscriptions(self) -> list[SubscriptionSummary]:
        """Every seat plan and channel subscription of the organization; for a customer's own
        login, theirs (their `monthly_cost` reads 0.00)."""
        return _parse_list(SubscriptionSummary, await self.request("GET", f"{API}/subscriptions"))

    async def quote_cancel(self, subscription_id: int, *, at_once: bool = False) -> Quote:
        return _parse(Quote, await self.request("POST", f"{API}/subscriptions/{subscription_id}/cancel/quote",
                                                body=build(Cancellation, at_once=at_once)))

    async def cancel_subscription(self, subscription_id: int, *, at_once: bool = False,
                                  idempotency_key: str | None = None) -> Subscription:
        """At the end of the paid month, or at once; nothing is refunded."""
        cancelled: Subscription = await self._send(
            "POST", f"/subscriptions/{subscription_id}/cancel", Subscription, build(Cancellation, at_once=at_once),
            idempotency_key=idempotency_key)
        return cancelled

    async def quote_seat_plan(self, license_id: int, change: CapChange | SeatAddition | RenewalChange | PlanConversion
                              ) -> Quote:
        """What a seat plan's change costs now, and how it is paid; the portal changes nothing."""
        return _parse(Quote, await self.request("POST", f"{API}/seat-plans/{license_id}/{_SEAT_PLAN_PATHS[type(change)]}/quote",
                                                body=change))

    async def change_seat_plan(self, license_id: int, change: CapChange | SeatAddition | RenewalChange | PlanConversion,
                               *, idempotency_key: str | None = None) -> License:
        """A flexible cap, annual seats added, a renewal setting or a trial's conversion."""
        changed: License = await self._send("POST", f"/seat-plans/{license_id}/{_SEAT_PLAN_PATHS[type(change)]}",
                                            License, change, idempotency_key=idempotency_key)
        return changed

    # -- employees and seats -----------------------------------------------------------------

    # -- customers ---------------------------------------------------------------------------

    async def customers(
        self,
        chosen: CustomerFilter | None = None,
        *,
        sort: CustomerSort = CustomerSort.EMAIL,
        descending: bool = False,
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page[Customer]:
        """A page of customers; the first page's `total` counts every match."""
        return await self._get("/customers", Page[Customer], q=(chosen.text if chosen else "") or None,
                               sort=sort.value, descending=str(descending).lower(), cursor=cursor, limit=limit)

    async def customer(self, customer_id: int) -> CustomerDetail:
        return await self._get(f"/customers/{customer_id}", CustomerDetail)

    async def add_customer(self, new: NewCustomer, *, idempotency_key: str | None = None) -> Customer:
        added: Customer = await self._send("POST", "/customers", Customer, new, idempotency_key=idempotency_key)
        return added

    async def edit_customer(self, customer_id: int, details: CustomerDetails, *,
                            idempotency_key: str | None = None) -> Customer:
        edited: Customer = await self._send("PUT", f"/customers/{customer_id}", Customer, details,
                                            idempotency_key=idempotency_key)
        return edited

    async def invite_customer(self, customer_id: int, *, idempotency_key: str | None = None) -> Invitation:
        """Mail the customer a new code into their own account; the answer holds the code once."""
        return await self._send("POST", f"/customers/{customer_id}/invitation", Invitation,
                                idempotency_key=idempotency_key)

    async def send_customer_password_code(self, customer_id: int, *, idempotency_key: str | None = None
                                          ) -> Invitation:
        """Mail a customer who has their login a code that sets a new password (their password
        works until then); the answer holds the code once."""
        return await self._send("POST", f"/customers/{customer_id}/password-code", Invitation,
                                idempotency_key=idempotency_key)

    async def set_customer_login_enabled(self, customer_id: int, enabled: bool, *,
                                         idempotency_key: str | None = None) -> CustomerLogin:
        """Disable a customer's login (it logs in no more and its sessions end at once) or enable it again."""
        return await self._send("POST", f"/customers/{customer_id}/login/{'enable' if enabled else 'disable'}",
                                CustomerLogin, idempotency_key=idempotency_key)

    async def customer_mail(self) -> CustomerMail:
        """Whether customers are mailed their key on assignment, and with the license file."""
        return await self._get("/organization/customer-mail", CustomerMail)

    async def set_customer_mail(self, change: CustomerMailChange) -> CustomerMail:
        """Turn customer mails, or the license file in them, on or off; owners and admins."""
        chosen: CustomerMail = await self._send("PUT", "/organization/customer-mail", CustomerMail, change)
        return chosen

    @staticmethod
    def _filter_params(chosen: EmployeeFilter | None) -> dict[str, Any]:
        chosen = chosen or EmployeeFilter()
        return {"q": chosen.text or None, "department": chosen.department,
                "status": chosen.status.value if chosen.status else None, "without_seat": chosen.without_seat}

    async def employees(
        self,
        chosen: EmployeeFilter | None = None,
        *,
        sort: EmployeeSort = EmployeeSort.NAME,
        descending: bool = False,
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page[Employee]:
        """A page of employees; the first page's `total` counts every match."""
        return await self._get("/employees", Page[Employee], **self._filter_params(chosen), sort=sort.value,
                               descending=str(descending).lower(), cursor=cursor, limit=limit)

    async def departments(self, chosen: EmployeeFilter | None = None) -> list[DepartmentCount]:
        """How many employees match in each department (the filter's own department aside)."""
        params = self._filter_params(chosen)
        response = await self.request("GET", f"{API}/employees/departments", params=params)
        return _parse_list(DepartmentCount, response)

    async def employee_ids(
        self, chosen: EmployeeFilter | None = None, *, sort: EmployeeSort = EmployeeSort.NAME, descending: bool = False
    ) -> list[int]:
        """Every matching employee's id in the list's order (for "mark all")."""
        found = await self._get("/employees/ids", EmployeeIds, **self._filter_params(chosen), sort=sort.value,
                                descending=str(descending).lower())
        return found.ids

    async def lookup_employees(self, employee_ids: list[int]) -> list[Employee]:
        response = await self.request("POST", f"{API}/employees/lookup", body=EmployeeIds(ids=employee_ids))
        return _parse_list(Employee, response)

    async def employee(self, employee_id: int) -> Employee:
        return await self._get(f"/employees/{employee_id}", Employee)

    async def add_employee(self, person: EmployeeFields, *, idempotency_key: str | None = None) -> Employee:
        added: Employee = await self._send("POST", "/employees", Employee, person, idempotency_key=idempotency_key)
        return added

    async def edit_employee(
        self, employee_id: int, person: EmployeeFields, *, idempotency_key: str | None = None
    ) -> Employee:
        edited: Employee = await self._send("PUT", f"/employees/{employee_id}", Employee, person,
                                            idempotency_key=idempotency_key)
        return edited

    async def depart_employees(self, employee_ids: list[int]) -> list[int]:
        """Mark employees departed; returns those who were active until now."""
        departed: EmployeeIds = await self._send("POST", "/employees/departures", EmployeeIds,
                                                 EmployeeIds(ids=employee_ids))
        return departed.ids

    async def import_employees(self, csv_text: str, *, idempotency_key: str | None = None) -> ImportResult:
        """Import a CSV file (name, email, department): every row or, with ImportRefused, none."""
        result: ImportResult = await self._send("POST", "/employees/import", ImportResult,
                                                EmployeeImport(csv=csv_text), idempotency_key=idempotency_key,
                                                timeout=max(self.timeout, 60.0))
        return result

    async def seat_pools(self) -> list[SeatPool]:
        return _parse_list(SeatPool, await self.request("GET", f"{API}/seats/pools"))

    async def assign_seats(self, employee_ids: list[int], product_id: str, license_id: int | None = None) -> SeatChange:
        change: SeatChange = await self._send(
            "POST", "/seats", SeatChange, SeatRequest(employee_ids=employee_ids, product_id=product_id,
                                                      license_id=license_id))
        return change

    async def unassign_seats(self, employee_ids: list[int], product_id: str) -> SeatChange:
        change: SeatChange = await self._send(
            "POST", "/seats/unassign", SeatChange, SeatRequest(employee_ids=employee_ids, product_id=product_id))
        return change

    async def reassign(
        self, moves: list[MoveRequest], *, dry_run: bool = False, idempotency_key: str | None = None
    ) -> BatchOutcome:
        """Check (dry_run) or apply a batch of seat moves whole. Applying raises BatchRefused,
        with each refused move in `details["moves"]`, and changes nothing if any move is refused.

        A move's null fields are left out of the request (the portal reads a missing field as
        null): 100,000 moves by id take 5.9 MB instead of 9.3 MB, by email 10.9 instead of 13.7."""
        outcome: BatchOutcome = await self._send(
            "POST", "/seat-batches", BatchOutcome, ReassignRequest(moves=moves, dry_run=dry_run),
            idempotency_key=idempotency_key, timeout=max(self.timeout, 120.0), omit_none=True)
        return outcome

    async def undo_batch(self, batch_id: str, *, idempotency_key: str | None = None) -> BatchOutcome:
        """Apply the inverse batch; UndoRefused if any of its seats changed since."""
        outcome: BatchOutcome = await self._send("POST", f"/seat-batches/{batch_id}/undo", BatchOutcome,
                                                 idempotency_key=idempotency_key, timeout=max(self.timeout, 120.0))
        return outcome

    async def batch_moves(self, batch_id: str, *, cursor: str | None = None, limit: int = 200) -> Page[BatchMove]:
        return await self._get(f"/seat-batches/{quote(batch_id, safe='')}/moves", Page[BatchMove],
                               cursor=cursor, limit=limit)

    async def seat_batches(self, *, cursor: str | None = None, limit: int = 50) -> Page[SeatBatch]:
        return await self._get("/seat-batches", Page[SeatBatch], cursor=cursor, limit=limit)

    # -- the team: members, invitations, API tokens ------------------------------------------

    async def members(self) -> list[Member]:
        return _parse_list(Member, await self.request("GET", f"{API}/members"))

    async def change_role(self, member_id: int, role: str) -> Member:
        member: Member = await self._send("PUT", f"/members/{member_id}/role", Member, build(RoleChange, role=role))
        return member

    async def remove_member(self, member_id: int) -> Member:
        """Remove a member; their sessions and API tokens stop working at once."""
        member: Member = await self._send("DELETE", f"/members/{member_id}", Member)
        return member

    async def invitations(self) -> list[Invitation]:
        return _parse_list(Invitation, await self.request("GET", f"{API}/invitations"))

    async def invite(self, email: str, role: str, *, idempotency_key: str | None = None) -> Invitation:
        """Mail an invitation; the answer holds its token (only this once)."""
        invitation: Invitation = await self._send(
            "POST", "/invitations", Invitation, build(NewInvitation, email=email, role=role),
            idempotency_key=idempotency_key)
        return invitation

    async def resend_invitation(self, invitation_id: int, *, idempotency_key: str | None = None) -> Invitation:
        """A new token, mailed again; the one sent before stops working."""
        invitation: Invitation = await self._send("POST", f"/invitations/{invitation_id}/resend", Invitation,
                                                  idempotency_key=idempotency_key)
        return invitation

    async def revoke_invitation(self, invitation_id: int) -> Invitation:
        invitation: Invitation = await self._send("DELETE", f"/invitations/{invitation_id}", Invitation)
        return invitation

    async def accept_invitation(self, token: str, login: str, password: str, display_name: str = "") -> Session:
        """Become a member with an invitation's token; logs this client in."""
        session: Session = await self._send(
            "POST", "/invitations/accept", Session,
            build(InvitationAcceptance, token=token.strip(), login=login, password=password, display_name=display_name))
        self.token = session.token
        return session

    async def api_tokens(self, *, member_id: int | None = None) -> list[ApiToken]:
        return _parse_list(ApiToken, await self.request("GET", f"{API}/tokens", params={"member": member_id}))

    async def create_api_token(self, name: str, *, role: str | None = None, expires_in_days: int | None = 90,
                               idempotency_key: str | None = None) -> ApiToken:
        """A named token for scripts; `.token` holds the secret, shown this once."""
        created: ApiToken = await self._send(
            "POST", "/tokens", ApiToken,
            build(NewApiToken, name=name, role=role, expires_in_days=expires_in_days),
            idempotency_key=idempotency_key)
        return created

    async def revoke_api_token(self, token_id: int) -> None:
        await self._send("DELETE", f"/tokens/{token_id}", None)

    # -- child accounts ----------------------------------------------------------------------

    async def children(self) -> list[Child]:
        """The organization's child accounts by name, with their usage."""
        return _parse_list(Child, await self.request("GET", f"{API}/children"))

    async def child(self, child_id: int) -> Child:
        return await self._get(f"/children/{child_id}", Child)

    async def create_child(self, name: str, *, idempotency_key: str | None = None) -> Child:
        created: Child = await self._send("POST", "/children", Child, build(NewChild, name=name),
                                          idempotency_key=idempotency_key)
        return created

    async def invite_to_child(self, child_id: int, email: str, role: str, *,
                              idempotency_key: str | None = None) -> Invitation:
        """Mail an invitation into the child; the answer holds its token (only this once)."""
        invitation: Invitation = await self._send(
            "POST", f"/children/{child_id}/invitations", Invitation, build(NewInvitation, email=email, role=role),
            idempotency_key=idempotency_key)
        return invitation

    async def move_license_to_child(self, child_id: int, license_id: int, *,
                                    idempotency_key: str | None = None) -> LicenseMoved:
        """Move a license or seat plan, with its activation key, into the child."""
        moved: LicenseMoved = await self._send(
            "POST", f"/children/{child_id}/licenses", LicenseMoved, build(LicenseMove, license_id=license_id),
            idempotency_key=idempotency_key)
        return moved

    # -- audit -------------------------------------------------------------------------------

    async def audit(
        self, wanted: AuditFilter | None = None, *, cursor: str | None = None, limit: int = 50,
        batch_id: str | None = None, since: date | None = None,
    ) -> Page[AuditEntry]:
        """The audit log, newest first, filtered by `wanted` (or only by batch and first day)."""
        filters = (wanted or AuditFilter(batch_id=batch_id, since=since)).model_dump(mode="json", exclude_none=True)
        return await self._get("/audit", Page[AuditEntry], cursor=cursor, limit=limit, **filters)


def _unreadable() -> errors.PortalFault:
    return errors.PortalFault(
        "The portal answered with data this version of seattui cannot read; "
        "check that the app and the portal are the same version."
    )


def _path_part(text: str) -> str:
    return quote(text.strip(), safe="")


_SEAT_PLAN_PATHS: dict[type, str] = {CapChange: "cap", SeatAddition: "seats", RenewalChange: "renewal",
                                     PlanConversion: "conversion"}


def _parse(model: type[M], response: httpx.Response) -> M:
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        raise _unreadable() from None


def _parse_list(model: type[M], response: httpx.Response) -> list[M]:
    try:
        return TypeAdapter(list[model]).validate_json(response.content)  # type: ignore[valid-type]
    except ValidationError:
        raise _unreadable() from None


def _untrusted_certificate(error: BaseException) -> str | None:
    """The verifier's words when TLS refused the portal's certificate (httpx wraps ssl's error)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return str(seen.verify_message or seen.reason or "certificate verify failed")
        seen = seen.__cause__ or seen.__context__
    return None


def _reason(error: Exception) -> str:
    text = str(error).strip()
    if "refused" in text.lower():
        return "connection refused"
    if "name or service not known" in text.lower() or "nodename nor servname" in text.lower():
        return "unknown host name"
    return text or type(error).__name__
