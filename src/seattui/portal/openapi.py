"""The API's OpenAPI document, fit for a client generator: a readable operation id for every
route, the bearer scheme, the `Idempotency-Key` header where the portal honours it, the
portal's one error body for every status an operation really answers with, and an example of
every request body.

FastAPI writes the document from the routes; `describe()` then completes it from the table
below, which is the one place a route's name and its refusals are declared. A route missing
from it gets a name made of its method and path, and tests/test_openapi.py fails until it is
named here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from seattui.domain.accounts import Credentials, NewOrganization
from seattui.domain.billing import BillingContactChange, InvoiceEmail
from seattui.domain.children import LicenseMove, NewChild
from seattui.domain.credits import CreditGrant
from seattui.domain.customers import CustomerDetails, CustomerMailChange, NewCustomer
from seattui.domain.licensing import (
    ActivationRequest,
    DeviceRequest,
    KeyName,
    LicenseBatch,
    LicenseEdit,
    LicenseOrder,
    LicenseUpgrade,
    NewActivationKey,
    SubscriptionChange,
    SubscriptionOrder,
    SupportExtension,
)
from seattui.domain.offline_licensing import DeviceFileText, LicenseFileText
from seattui.domain.people import EmployeeFields, EmployeeIds, EmployeeImport
from seattui.domain.seat_plans import Cancellation, CapChange, PlanConversion, RenewalChange, SeatAddition
from seattui.domain.seating import ReassignRequest, SeatRequest
from seattui.domain.team import InvitationAcceptance, NewApiToken, NewInvitation, RoleChange
from seattui.portal.api import MAX_IDEMPOTENCY_KEY
from seattui.portal.observability import API_PREFIX


@dataclass(frozen=True)
class Operation:
    id: str
    refusals: tuple[int, ...] = ()  # beyond 422 (any input), 413 (a body), 500 and 503 (any request)
    change: bool = False  # runs through api.mutate(): an Idempotency-Key makes a retry safe


_READ = (401,)
_READ_ONE = (401, 404)
_QUOTE = (401, 404, 409)
_CHANGE = (401, 403, 404, 409)
_PAID = (401, 402, 403, 404, 409)
_DEVICE = (404, 409, 429)  # the licensed software's calls: no login, counted per key and address

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("get", "/health"): Operation("getHealth"),
    ("head", "/health"): Operation("headHealth"),
    ("get", "/ready"): Operation("getReadiness"),
    ("head", "/ready"): Operation("headReadiness"),
    ("post", "/auth/login"): Operation("login", (401, 423, 429)),
    ("post", "/auth/logout"): Operation("logout", (401, 409), change=True),
    ("get", "/auth/me"): Operation("getMe", _READ),
    ("get", "/setup"): Operation("getSetupStatus"),
    ("post", "/setup"): Operation("setUpPortal", (409,)),
    ("get", "/catalog"): Operation("getCatalog", _READ),
    ("get", "/catalog/products/{product_id}"): Operation("getProduct", _READ_ONE),
    ("get", "/credits/balance"): Operation("getBalance", _READ),
    ("get", "/credits/ledger"): Operation("listLedgerEntries", _READ),
    ("post", "/organizations/{org_id}/credit-grants"): Operation("grantCredits", _CHANGE, change=True),
    ("get", "/dashboard"): Operation("getDashboard", _READ),
    ("get", "/keys"): Operation("listKeys", _READ),
    ("post", "/keys"): Operation("createKey", (401, 403, 409), change=True),
    ("get", "/keys/{key_id}"): Operation("getKey", _READ_ONE),
    ("patch", "/keys/{key_id}"): Operation("renameKey", _CHANGE, change=True),
    ("delete", "/keys/{key_id}"): Operation("deleteKey", _CHANGE, change=True),
    ("post", "/licenses/quote"): Operation("quoteLicense", _QUOTE),
    ("post", "/licenses"): Operation("createLicense", _PAID, change=True),
    ("get", "/licenses"): Operation("listLicenses", _READ),
    ("get", "/licenses/facets"): Operation("getLicenseFacets", _READ),
    ("get", "/licenses/ids"): Operation("listLicenseIds", _READ),
    ("post", "/licenses/deletion/quote"): Operation("quoteLicenseDeletion", _QUOTE),
    ("post", "/licenses/deletion"): Operation("deleteLicenses", _CHANGE, change=True),
    ("get", "/licenses/{license_id}"): Operation("getLicense", _READ_ONE),
    ("patch", "/licenses/{license_id}"): Operation("editLicense", _CHANGE, change=True),
    ("delete", "/licenses/{license_id}"): Operation("deleteLicense", _CHANGE, change=True),
    ("post", "/licenses/{license_id}/upgrade/quote"): Operation("quoteLicenseUpgrade", _QUOTE),
    ("post", "/licenses/{license_id}/upgrade"): Operation("upgradeLicense", _PAID, change=True),
    ("post", "/licenses/{license_id}/deactivation"): Operation("releaseLicenseDevice", _CHANGE, change=True),
    ("post", "/subscriptions/quote"): Operation("quoteSubscription", _QUOTE),
    ("post", "/subscriptions"): Operation("createSubscription", _PAID, change=True),
    ("get", "/subscriptions/{subscription_id}"): Operation("getSubscription", _READ_ONE),
    ("post", "/subscriptions/{subscription_id}/channels/quote"): Operation("quoteChannelChange", _QUOTE),
    ("post", "/subscriptions/{subscription_id}/channels"): Operation("changeChannels", _PAID, change=True),
    ("get", "/subscriptions"): Operation("listSubscriptions", _READ),
    ("post", "/subscriptions/{subscription_id}/cancel/quote"): Operation("quoteSubscriptionCancellation", _QUOTE),
    ("post", "/subscriptions/{subscription_id}/cancel"): Operation("cancelSubscription", _CHANGE, change=True),
    ("post", "/seat-plans/{license_id}/cap/quote"): Operation("quoteSeatCap", _QUOTE),
    ("post", "/seat-plans/{license_id}/cap"): Operation("changeSeatCap", _PAID, change=True),
    ("post", "/seat-plans/{license_id}/seats/quote"): Operation("quoteSeatAddition", _QUOTE),
    ("post", "/seat-plans/{license_id}/seats"): Operation("addSeats", _PAID, change=True),
    ("post", "/seat-plans/{license_id}/renewal/quote"): Operation("quoteRenewalChange", _QUOTE),
    ("post", "/seat-plans/{license_id}/renewal"): Operation("changeRenewal", _CHANGE, change=True),
    ("post", "/seat-plans/{license_id}/conversion/quote"): Operation("quotePlanConversion", _QUOTE),
    ("post", "/seat-plans/{license_id}/conversion"): Operation("convertSeatPlan", _PAID, change=True),
    ("post", "/support/quote"): Operation("quoteSupportExtension", _QUOTE),
    ("post", "/support/extensions"): Operation("extendSupport", _PAID, change=True),
    ("post", "/activation/activate"): Operation("activate", _DEVICE),
    ("post", "/activation/deactivate"): Operation("deactivate", _DEVICE),
    ("post", "/activation/check"): Operation("checkActivation", _DEVICE),
    ("get", "/employees"): Operation("listEmployees", _READ),
    ("post", "/employees"): Operation("addEmployee", (401, 403, 409), change=True),
    ("get", "/employees/departments"): Operation("listDepartments", _READ),
    ("get", "/employees/ids"): Operation("listEmployeeIds", _READ),
    ("post", "/employees/lookup"): Operation("lookUpEmployees", _READ),
    ("post", "/employees/import"): Operation("importEmployees", (401, 403, 409), change=True),
    ("post", "/employees/departures"): Operation("recordDepartures", _CHANGE, change=True),
    ("get", "/employees/{employee_id}"): Operation("getEmployee", _READ_ONE),
    ("put", "/employees/{employee_id}"): Operation("editEmployee", _CHANGE, change=True),
    ("get", "/seats/pools"): Operation("listSeatPools", _READ),
    ("post", "/seats"): Operation("assignSeats", _CHANGE, change=True),
    ("post", "/seats/unassign"): Operation("unassignSeats", _CHANGE, change=True),
    ("post", "/seat-batches"): Operation("reassignSeats", _CHANGE, change=True),
    ("get", "/seat-batches"): Operation("listSeatBatches", _READ),
    ("get", "/seat-batches/{batch_id}"): Operation("getSeatBatch", _READ_ONE),
    ("get", "/seat-batches/{batch_id}/moves"): Operation("listSeatBatchMoves", _READ_ONE),
    ("post", "/seat-batches/{batch_id}/undo"): Operation("undoSeatBatch", _CHANGE, change=True),
    ("get", "/audit"): Operation("listAuditEntries", _READ),
    ("get", "/license-files/keys"): Operation("listSigningKeys"),
    ("get", "/licenses/{license_id}/file"): Operation("getLicenseFile", (401, 403, 404)),
    ("get", "/subscriptions/{subscription_id}/file"): Operation("getSubscriptionFile", (401, 403, 404)),
    ("post", "/license-files/offline-activation"): Operation("activateOffline", (401, 403, 404, 409)),
    ("post", "/license-files/offline-deactivation"): Operation("deactivateOffline", (401, 403, 404, 409)),
    ("post", "/license-files/check"): Operation("checkLicenseFile"),
    ("get", "/customers"): Operation("listCustomers", _READ),
    ("post", "/customers"): Operation("addCustomer", (401, 403, 409), change=True),
    ("get", "/customers/{customer_id}"): Operation("getCustomer", _READ_ONE),
    ("put", "/customers/{customer_id}"): Operation("editCustomer", _CHANGE, change=True),
    ("post", "/customers/{customer_id}/invitation"): Operation("inviteCustomer", _CHANGE, change=True),
    ("post", "/customers/{customer_id}/password-code"): Operation("sendCustomerPasswordCode", _CHANGE, change=True),
    ("post", "/customers/{customer_id}/login/disable"): Operation("disableCustomerLogin", _CHANGE, change=True),
    ("post", "/customers/{customer_id}/login/enable"): Operation("enableCustomerLogin", _CHANGE, change=True),
    ("get", "/organization/customer-mail"): Operation("getCustomerMail", _READ),
    ("put", "/organization/customer-mail"): Operation("setCustomerMail", (401, 403, 409), change=True),
    ("get", "/members"): Operation("listMembers", (401, 403)),
    ("put", "/members/{member_id}/role"): Operation("changeMemberRole", _CHANGE, change=True),
    ("delete", "/members/{member_id}"): Operation("removeMember", _CHANGE, change=True),
    ("get", "/invitations"): Operation("listInvitations", (401, 403)),
    ("post", "/invitations"): Operation("inviteMember", (401, 403, 409), change=True),
    ("post", "/invitations/{invitation_id}/resend"): Operation("resendInvitation", _CHANGE, change=True),
    ("delete", "/invitations/{invitation_id}"): Operation("revokeInvitation", _CHANGE, change=True),
    ("post", "/invitations/accept"): Operation("acceptInvitation", (404, 409)),
    ("get", "/tokens"): Operation("listApiTokens", (401, 403)),
    ("post", "/tokens"): Operation("createApiToken", (401, 403, 409), change=True),
    ("delete", "/tokens/{token_id}"): Operation("revokeApiToken", _CHANGE, change=True),
    ("get", "/orders"): Operation("listOrders", _READ),
    ("get", "/orders/{order_id}"): Operation("getOrder", _READ_ONE),
    ("get", "/invoices"): Operation("listInvoices", _READ),
    ("get", "/invoices/{reference}"): Operation("getInvoice", _READ_ONE),
    ("post", "/invoices/{reference}/payment"): Operation("payInvoice", _PAID, change=True),
    ("get", "/invoices/{reference}/pdf"): Operation("getInvoicePdf", _READ_ONE),
    ("post", "/invoices/{reference}/email"): Operation("emailInvoice", _CHANGE, change=True),
    ("get", "/children"): Operation("listChildren", _READ),
    ("post", "/children"): Operation("createChild", (401, 403, 409), change=True),
    ("get", "/children/{child_id}"): Operation("getChild", _READ_ONE),
    ("post", "/children/{child_id}/invitations"): Operation("inviteToChild", _CHANGE, change=True),
    ("post", "/children/{child_id}/licenses"): Operation("moveLicenseToChild", _CHANGE, change=True),
    ("get", "/organization/billing"): Operation("getBillingContact", _READ),
    ("put", "/organization/billing"): Operation("setBillingContact", (401, 403, 409), change=True),
}

_STATUS_WORDS = {
    401: "Not logged in, or the token expired or was revoked (`unauthenticated`, `session_expired`, "
         "`invalid_credentials`).",
    402: "Not enough credits, or past the organization's credit limit (`insufficient_credits`, "
         "`credit_limit_reached`); nothing was charged.",
    403: "The caller's role may not do this (`forbidden`; `details.needs` names the permission).",
    404: "No such object in the caller's organization (`not_found`, `unknown_key`, `not_licensed`); "
         "another organization's object is not found too.",
    409: "Refused by the state of things (`conflict`, `key_taken`, `key_in_use`, `trial_exists`, "
         "`license_activated`, `batch_refused`, `idempotency_key_reused`…); nothing was changed.",
    413: "The body is over the size limit (`payload_too_large`; `details.max_bytes`).",
    422: "The request is not valid (`validation_failed`; `details.fields` names each field and what is wrong).",
    423: "Too many failed logins: the login is locked for a while (`account_locked`; see Retry-After).",
    429: "Too many tries in a short time (`login_throttled`, `rate_limited`); wait as long as Retry-After says.",
    500: "The portal failed inside (`portal_error`; `details.incident` is in its log); nothing was changed.",
    503: "The portal cannot reach its database (`portal_unavailable`); try again in a moment.",
}

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "description": "Every refusal and failure of the portal, whatever the status.",
    "required": ["code", "message", "details"],
    "properties": {
        "code": {"type": "string", "description": "stable, for programs", "examples": ["validation_failed"]},
        "message": {"type": "string", "description": "plain words for a person: what happened and what to do"},
        "details": {"type": "object", "additionalProperties": True,
                    "description": "for programs: `fields`, `needs`, `retry_after`, `refusals`…"},
    },
}

# One example per request body; tests/test_openapi.py checks each is valid for its model.
EXAMPLES: dict[type[BaseModel], dict[str, Any]] = {
    Credentials: {"login": "alice", "password": "correct horse battery staple"},
    NewOrganization: {"organization_name": "Northwind IT", "owner_login": "alice", "owner_name": "Alice Ng",
                      "password": "correct horse battery staple"},
    CreditGrant: {"amount": "250.00", "memo": "Purchase order 4711"},
    NewActivationKey: {"name": "Contoso Ltd", "key": "AB12-CD34-EF56-GH78"},
    KeyName: {"name": "Contoso Ltd (head office)"},
    LicenseOrder: {"key": "AB12-CD34-EF56-GH78", "product_id": "remotedesk", "edition_id": "standard",
                   "term": "permanent", "quantity": 10, "customer_email": "it@contoso.example",
                   "comment": "Head office"},
    LicenseBatch: {"license_ids": [101, 102]},
    LicenseEdit: {"customer_email": "it@contoso.example", "comment": "Moved to the Leeds office"},
    LicenseUpgrade: {"edition_id": "professional", "quantity": 25},
    SubscriptionOrder: {"key": "AB12-CD34-EF56-GH78", "product_id": "connect", "channels": 5},
    SubscriptionChange: {"channels": 8},
    SupportExtension: {"license_ids": [101, 102], "years": 1},
    ActivationRequest: {"key": "AB12-CD34-EF56-GH78", "product_id": "remotedesk",
                        "fingerprint": "9f86d081884c7d659a2feaa0c55ad015", "hostname": "desk-14"},
    DeviceRequest: {"key": "AB12-CD34-EF56-GH78", "product_id": "remotedesk",
                    "fingerprint": "9f86d081884c7d659a2feaa0c55ad015"},
    EmployeeFields: {"name": "Dana Scully", "email": "dana@contoso.example", "department": "Support"},
    EmployeeIds: {"ids": [7, 8]},
    EmployeeImport: {"csv": "name,email,department\nDana Scully,dana@contoso.example,Support\n"},
    SeatRequest: {"employee_ids": [7, 8], "product_id": "workspace"},
    ReassignRequest: {"moves": [{"from_email": "dana@contoso.example", "to_email": "fox@contoso.example",
                                 "product_id": "workspace"}], "dry_run": True},
    NewCustomer: {"email": "it@contoso.example", "name": "Ada Lovelace", "company": "Contoso Ltd",
                  "address": "1 Main Street, Leeds", "notes": "Renews in March"},
    CustomerDetails: {"name": "Ada Lovelace", "company": "Contoso Ltd", "address": "1 Main Street, Leeds",
                      "notes": "Renews in March"},
    InvoiceEmail: {"to": "accounts@contoso.example"},
    BillingContactChange: {"billing_email": "billing@northwind.example"},
    CustomerMailChange: {"mail": True, "attach_file": True},
    Cancellation: {"at_once": False},
    CapChange: {"cap": 120},
    SeatAddition: {"seats": 10},
    RenewalChange: {"renewal": "assigned"},
    PlanConversion: {"plan": "annual", "seats": 50},
    RoleChange: {"role": "operator"},
    NewInvitation: {"email": "bob@northwind.example", "role": "operator"},
    InvitationAcceptance: {"token": "the token from the invitation mail", "login": "bob",
                           "password": "correct horse battery staple", "display_name": "Bob Ng"},
    NewChild: {"name": "Contoso Ltd"},
    LicenseMove: {"license_id": 42},
    NewApiToken: {"name": "ci-deploy", "role": "viewer", "expires_in_days": 90},
    DeviceFileText: {"request": "-----BEGIN SEATTUI ACTIVATION REQUEST-----\n…\n"},
    LicenseFileText: {"file": "-----BEGIN SEATTUI LICENSE FILE-----\n…\n"},
}

_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string (a UUID will do), the same for every retry of one request: a retry "
                   "answers what the first try answered (with `Idempotent-Replayed: true`) and charges "
                   "nothing twice. The same key with another body is refused (409 `idempotency_key_reused`).",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY},
}


def fallback_id(method: str, path: str) -> str:
    """A camelCase name for a route the table does not name yet: method and path words."""
    words = [method.lower()] + [word for word in re.split(r"[^A-Za-z0-9]+", path) if word]
    return words[0] + "".join(word[:1].upper() + word[1:] for word in words[1:])


def install(app: FastAPI) -> None:
    """Serve the completed document at the app's openapi_url."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description,
                                   routes=app.routes)
            app.openapi_schema = describe(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe(schema: dict[str, Any]) -> dict[str, Any]:
    """Complete FastAPI's document (in place) and return it."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's own 422 shape is not what we send
        schemas.pop(name, None)
    components["securitySchemes"] = {"bearer": {
        "type": "http", "scheme": "bearer",
        "description": "The token from POST /auth/login (`seattui login` keeps one in its profile).",
    }}
    examples = {model.__name__: example for model, example in EXAMPLES.items()}
    for path, operations in schema.get("paths", {}).items():
        route = path.removeprefix(API_PREFIX)
        for method, operation in operations.items():
            known = OPERATIONS.get((method, route))
            operation["operationId"] = known.id if known else fallback_id(method, route)
            _describe_operation(operation, known or Operation(""), examples)
    return schema


def _describe_operation(operation: dict[str, Any], known: Operation, examples: dict[str, Any]) -> None:
    parameters = operation.get("parameters", [])
    authenticated = any(p["in"] == "header" and p["name"].lower() == "authorization" for p in parameters)
    parameters = [p for p in parameters if not (p["in"] == "header" and p["name"].lower() == "authorization")]
    if known.change:
        parameters.append(_IDEMPOTENCY_KEY)
    if parameters:
        operation["parameters"] = parameters
    else:
        operation.pop("parameters", None)
    operation["security"] = [{"bearer": []}] if authenticated else []

    statuses = set(known.refusals)
    if authenticated:
        statuses.add(401)
    body = operation.get("requestBody")
    if body is not None:
        statuses.update((413, 422))
        for media in body.get("content", {}).values():
            shape = media.get("schema", {})
            refs = [shape.get("$ref", "")] + [choice.get("$ref", "") for choice in shape.get("anyOf", [])]
            name = next((ref.rsplit("/", 1)[-1] for ref in refs if ref), "")  # an optional body is anyOf
            if name in examples:
                media["example"] = examples[name]
    responses = operation.setdefault("responses", {})
    if parameters or "422" in responses:
        statuses.add(422)
    if known.id not in ("getHealth", "headHealth"):  # /health answers without the database
        statuses.update((500, 503))
    for status in sorted(statuses):
        if str(status) in responses and status != 422:  # a route's own words for it (/ready's 503)
            continue
        answer: dict[str, Any] = {
            "description": _STATUS_WORDS[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        if status in (423, 429):
            answer["headers"] = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
        if status == 401:
            answer["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}}
        responses[str(status)] = answer
    operation["responses"] = dict(sorted(responses.items()))

