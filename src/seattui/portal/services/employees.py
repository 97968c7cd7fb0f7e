"""Employees of the organization: unique by email, active or departed."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import insert, select

from seattui.domain.roles import Permission
from seattui.domain.errors import Conflict, NotFound
from seattui.domain.people import Employee, EmployeeFields, EmployeeStatus
from seattui.portal.context import Tx
from seattui.portal.services import audit
from seattui.portal.store.tables import employees


def from_row(row: Any) -> Employee:
    return Employee(
        id=row.id,
        name=row.name,
        email=row.email,
        department=row.department,
        status=EmployeeStatus(row.status),
        created_at=row.created_at,
    )


async def get(tx: Tx, employee_id: int) -> Employee:
    row = (
        await tx.conn.execute(
            select(employees).where(employees.c.id == employee_id, employees.c.org_id == tx.org_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"There is no employee {employee_id} in your organization.", {"employee_id": employee_id})
    return from_row(row)


async def add_many(tx: Tx, people: list[EmployeeFields]) -> list[int]:
    """Add employees in one statement; an email already on file refuses the whole list."""
    tx.actor.require(Permission.MANAGE_EMPLOYEES)
    emails = [person.email for person in people]
    taken: set[str] = set()
    for start in range(0, len(emails), 500):
        chunk = emails[start : start + 500]
        taken |= set(
            (
                await tx.conn.execute(
                    select(employees.c.email).where(employees.c.org_id == tx.org_id, employees.c.email.in_(chunk))
                )
            ).scalars()
        )
    repeated = {email for email, count in Counter(emails).items() if count > 1}
    if taken or repeated:
        clash = sorted(taken | repeated)
        raise Conflict(
            f"{len(clash)} email address(es) are already on file: {', '.join(clash[:5])}"
            + ("..." if len(clash) > 5 else "") + ". Emails are unique in the organization.",
            {"emails": clash[:100]},
        )
    rows = [
        {"org_id": tx.org_id, "name": p.name, "email": p.email, "department": p.department,
         "status": EmployeeStatus.ACTIVE.value, "created_at": tx.now}
        for p in people
    ]
    ids = list((await tx.conn.execute(insert(employees).returning(employees.c.id), rows)).scalars())
    await audit.record(tx, "employee.import", "employee", None, f"Added {len(rows)} employees", {"count": len(rows)})
    return ids
