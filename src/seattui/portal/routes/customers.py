"""Customers: the list (filter as you type, keyset pages), one customer with what they hold,
adding and editing. Licenses and subscriptions make their customer as they are assigned."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from seattui.domain.base import PlainText
from seattui.domain.customers import (
    MAX_CUSTOMER_FILTER,
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
from seattui.domain.paging import Page
from seattui.domain.roles import Permission
from seattui.portal.api import CurrentActor, PathId, allowed, mutate, portal_address, read, without_secret
from seattui.domain.team import Invitation
from seattui.portal.services import customer_logins, customer_mail, customers

router = APIRouter(tags=["customers"])
MAY_ASSIGN = allowed(Permission.ASSIGN)


@router.get("/customers")
async def list_customers(
    request: Request,
    actor: CurrentActor,
    q: Annotated[PlainText, Query(max_length=MAX_CUSTOMER_FILTER,
                                  description="words, each found in the email, name or company")] = "",
    sort: CustomerSort = CustomerSort.EMAIL,
    descending: bool = False,
    cursor: str | None = None,
    limit: int = Query(100, ge=1, le=500),
) -> Page[Customer]:
    """One page with each customer's license and subscription counts and this year's spend;
    the first page also tells how many customers match in all."""
    return await read(request, actor, lambda tx: customers.list_page(
        tx, CustomerFilter(text=q), sort=sort, descending=descending, cursor=cursor, limit=limit))


@router.post("/customers", status_code=201, response_model=Customer, dependencies=[MAY_ASSIGN])
async def add(new: NewCustomer, request: Request, actor: CurrentActor) -> Response:
    return await mutate(request, actor, lambda tx: customers.add(tx, new), status_code=201)


@router.get("/customers/{customer_id}")
async def get(customer_id: PathId, request: Request, actor: CurrentActor) -> CustomerDetail:
    """The customer with their licenses and subscriptions and the order lines charged for them."""
    return await read(request, actor, lambda tx: customers.detail(tx, customer_id))


@router.put("/customers/{customer_id}", response_model=Customer, dependencies=[MAY_ASSIGN])
async def edit(customer_id: PathId, details: CustomerDetails, request: Request, actor: CurrentActor) -> Response:
    """Name, company, address and notes; the email is the customer and stays."""
    return await mutate(request, actor, lambda tx: customers.edit(tx, customer_id, details))


@router.post("/customers/{customer_id}/invitation", status_code=201, response_model=Invitation,
             dependencies=[MAY_ASSIGN])
async def invite(customer_id: PathId, request: Request, actor: CurrentActor) -> Response:
    """Mail the customer a new code into their own account (a code mailed before stops
    working); refused once they have their login. The answer holds the code, once."""
    address = portal_address(request)
    return await mutate(request, actor, lambda tx: customer_mail.invite_to_account(tx, customer_id, address),
                        status_code=201, replayed=without_secret)


@router.post("/customers/{customer_id}/password-code", status_code=201, response_model=Invitation,
             dependencies=[MAY_ASSIGN])
async def password_code(customer_id: PathId, request: Request, actor: CurrentActor) -> Response:
    """Mail a customer who has their login a one-time code that sets a new password, with
    their login (a code mailed before stops working). Their password works until the new one
    is set. The answer holds the code, once."""
    address = portal_address(request)
    return await mutate(request, actor, lambda tx: customer_mail.send_password_code(tx, customer_id, address),
                        status_code=201, replayed=without_secret)


@router.post("/customers/{customer_id}/login/disable", response_model=CustomerLogin, dependencies=[MAY_ASSIGN])
async def disable_login(customer_id: PathId, request: Request, actor: CurrentActor) -> Response:
    """The customer can no longer log in, and every session of theirs stops at once; codes
    mailed to them stop working."""
    return await mutate(request, actor, lambda tx: customer_logins.set_enabled(tx, customer_id, False))


@router.post("/customers/{customer_id}/login/enable", response_model=CustomerLogin, dependencies=[MAY_ASSIGN])
async def enable_login(customer_id: PathId, request: Request, actor: CurrentActor) -> Response:
    """The customer may log in again (their sessions of before stay ended)."""
    return await mutate(request, actor, lambda tx: customer_logins.set_enabled(tx, customer_id, True))


@router.get("/organization/customer-mail")
async def customer_mail_settings(request: Request, actor: CurrentActor) -> CustomerMail:
    """Whether customers are mailed their key when a license or subscription is assigned to
    them, and whether the signed license file is attached."""
    return await read(request, actor, customer_mail.settings)


@router.put("/organization/customer-mail", response_model=CustomerMail,
            dependencies=[allowed(Permission.MANAGE_BILLING)])
async def set_customer_mail(change: CustomerMailChange, request: Request, actor: CurrentActor) -> Response:
    """Turn customer mails, or the license file in them, on or off (owners and admins); a
    field left out stays as it is."""
    return await mutate(request, actor, lambda tx: customer_mail.set_settings(tx, change))
