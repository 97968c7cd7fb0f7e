"""Employees and seats for tests: people of an organization, some of them holding seats."""

from __future__ import annotations

from seattui.client import PortalClient
from seattui.domain.people import Employee, EmployeeFilter
from seattui.domain.seating import MoveRequest
from seattui.portal.seed import add_workforce

from harness import PortalHarness


async def staff(harness: PortalHarness, people: int, seated: int, *, org: str = "Acme",
                spare_seats: int = 0) -> list[int]:
    """`people` employees of `org` (departments in turn: Engineering, Support, Sales, ...), of
    whom the first `seated` hold a workspace seat, and `spare_seats` seats bought but free."""
    async with harness.as_org(org) as tx:
        ids = await add_workforce(tx, people=people, seats_bought=seated + spare_seats, domain=f"{org.lower()}.example")
    if spare_seats:
        acme = await harness.login(f"{org.lower()}-owner")
        await acme.unassign_seats(ids[seated : seated + spare_seats], "workspace")
    return ids


def move(giver: int, receiver: int, product: str | None = "workspace") -> MoveRequest:
    return MoveRequest(from_id=giver, to_id=receiver, product_id=product)


async def holders(client: PortalClient, product: str = "workspace") -> set[int]:
    everyone = await client.employees(limit=500)
    return {person.id for person in everyone.items if product in person.seats}


async def everyone(client: PortalClient, chosen: EmployeeFilter | None = None) -> list[Employee]:
    return (await client.employees(chosen, limit=500)).items
