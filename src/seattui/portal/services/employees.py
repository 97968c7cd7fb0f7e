"""Employees of the organization: unique by email, active or departed; listed by keyset pages
with a filter and a department facet, added one by one or from a CSV file (all rows or none)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.sql.elements import ColumnElement

from seattui.domain.csvfile import RowProblem
from seattui.domain.errors import Conflict, ImportRefused, NotFound
from seattui.domain.paging import Page
from seattui.domain.people import (
    DepartmentCount,
    Employee,
    EmployeeFields,
    EmployeeFilter,
    EmployeeIds,
    EmployeeSort,
    EmployeeStatus,
    ImportResult,
    parse_employees,
)
from seattui.domain.roles import Permission
from seattui.portal.context import Tx
from seattui.portal.paging import containing, keyset_page
from seattui.portal.queries.employees import lock_seats, rows_by_id
from seattui.portal.services import audit
from seattui.portal.store.sets import among
from seattui.portal.store.tables import employees, seats

SORT_COLUMNS = {
    EmployeeSort.NAME: employees.c.name,
    EmployeeSort.EMAIL: employees.c.email,
    EmployeeSort.DEPARTMENT: employees.c.department,
    EmployeeSort.STATUS: employees.c.status,
}


def from_row(row: Any, held: Sequence[str] = ()) -> Employee:
    return Employee(
        id=row.id,
        name=row.name,
        email=row.email,
        department=row.department,
        status=EmployeeStatus(row.status),
        created_at=row.created_at,
        seats=tuple(sorted(held)),
    )


async def seats_held(tx: Tx, employee_ids: Sequence[int]) -> dict[int, list[str]]:
    held: dict[int, list[str]] = {}
    rows = await tx.conn.execute(
        select(seats.c.employee_id, seats.c.product_id).where(
            seats.c.org_id == tx.org_id, among(tx.conn, seats.c.employee_id, employee_ids))
    )
    for employee_id, product_id in rows:
        held.setdefault(employee_id, []).append(product_id)
    return held


async def _with_seats(tx: Tx, rows: Sequence[Any]) -> list[Employee]:
    held = await seats_held(tx, [row.id for row in rows])
    return [from_row(row, held.get(row.id, ())) for row in rows]


async def get(tx: Tx, employee_id: int) -> Employee:
    row = (
        await tx.conn.execute(
            select(employees).where(employees.c.id == employee_id, employees.c.org_id == tx.org_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"There is no employee {employee_id} in your organization.", {"employee_id": employee_id})
    return (await _with_seats(tx, [row]))[0]


def _conditions(tx: Tx, chosen: EmployeeFilter, *, facet: bool = False) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [employees.c.org_id == tx.org_id]
    searched = (employees.c.name, employees.c.email, employees.c.department)
    conditions += [containing(tx.conn, searched, word) for word in chosen.text.split()]
    if chosen.department is not None and not facet:
        conditions.append(employees.c.department == chosen.department)
    if chosen.status is not None:
        conditions.append(employees.c.status == chosen.status.value)
    if chosen.without_seat:
        conditions.append(
            ~exists().where(seats.c.org_id == tx.org_id, seats.c.employee_id == employees.c.id,
                            seats.c.product_id == chosen.without_seat)
        )
    return conditions


async def list_page(
    tx: Tx, chosen: EmployeeFilter, *, sort: EmployeeSort, descending: bool, cursor: str | None, limit: int
) -> Page[Employee]:
    conditions = _conditions(tx, chosen)
    page = await keyset_page(
        tx.conn,
        select(employees).where(*conditions),
        sort=SORT_COLUMNS[sort],
        id_column=employees.c.id,
        descending=descending,
        cursor=cursor,
        limit=limit,
        convert=lambda row: row,
        count=select(func.count()).select_from(employees).where(*conditions),
    )
    return Page[Employee](items=await _with_seats(tx, page.items), next_cursor=page.next_cursor, total=page.total)


async def departments(tx: Tx, chosen: EmployeeFilter) -> list[DepartmentCount]:
    """The department facet: how many employees match in each department (the chosen
    department itself aside, so the facet keeps offering the others)."""
    rows = await tx.conn.execute(
        select(employees.c.department, func.count())
        .where(*_conditions(tx, chosen, facet=True))
        .group_by(employees.c.department)
        .order_by(employees.c.department)
    )
    return [DepartmentCount(department=department, employees=count) for department, count in rows]


async def matching_ids(tx: Tx, chosen: EmployeeFilter, *, sort: EmployeeSort, descending: bool) -> list[int]:
    """Every matching employee's id, in the list's order: what "mark all" marks."""
    column = SORT_COLUMNS[sort]
    order = (column.desc(), employees.c.id.desc()) if descending else (column.asc(), employees.c.id.asc())
    rows = await tx.conn.execute(select(employees.c.id).where(*_conditions(tx, chosen)).order_by(*order))
    return list(rows.scalars())


async def lookup(tx: Tx, employee_ids: Sequence[int]) -> list[Employee]:
    """These employees, in the order asked; an id not in the organization is not found."""
    found = await rows_by_id(tx, employee_ids)
    missing = [employee_id for employee_id in employee_ids if employee_id not in found]
    if missing:
        raise NotFound(f"There is no employee {missing[0]} in your organization.", {"employee_ids": missing[:100]})
    return await _with_seats(tx, [found[employee_id] for employee_id in employee_ids])


async def _emails_on_file(tx: Tx, emails: Sequence[str]) -> dict[str, int]:
    rows = await tx.conn.execute(
        select(employees.c.email, employees.c.id).where(
            employees.c.org_id == tx.org_id, among(tx.conn, employees.c.email, set(emails)))
    )
    return {email: employee_id for email, employee_id in rows}


async def _insert(tx: Tx, people: Sequence[EmployeeFields]) -> list[int]:
    rows = [
        {"org_id": tx.org_id, "name": p.name, "email": p.email, "department": p.department,
         "status": EmployeeStatus.ACTIVE.value, "created_at": tx.now}
        for p in people
    ]
    return list((await tx.conn.execute(insert(employees).returning(employees.c.id), rows)).scalars())


async def add_many(tx: Tx, people: list[EmployeeFields]) -> list[int]:
    """Add employees in one statement; an email already on file refuses the whole list."""
    tx.actor.require(Permission.MANAGE_EMPLOYEES)
    emails = [person.email for person in people]
    taken = set(await _emails_on_file(tx, emails))
    repeated = {email for email, count in Counter(emails).items() if count > 1}
    if taken or repeated:
        clash = sorted(taken | repeated)
        raise Conflict(
            f"{len(clash)} email address(es) are already on file: {', '.join(clash[:5])}"
            + ("..." if len(clash) > 5 else "") + ". Emails are unique in the organization.",
            {"emails": clash[:100]},
        )
    ids = await _insert(tx, people)
    await audit.record(tx, "employee.import", "employee", None, f"Added {len(ids)} employees", {"count": len(ids)})
    return ids


async def add(tx: Tx, person: EmployeeFields) -> Employee:
    tx.actor.require(Permission.MANAGE_EMPLOYEES)
    await _refuse_taken_email(tx, person.email, None)
    (employee_id,) = await _insert(tx, [person])
    await audit.record(tx, "employee.add", "employee", employee_id, f"Added {person.name} <{person.email}>",
                       person.model_dump())
    return await get(tx, employee_id)


async def _refuse_taken_email(tx: Tx, email: str, employee_id: int | None) -> None:
    holder = (await _emails_on_file(tx, [email])).get(email)
    if holder is not None and holder != employee_id:
        raise Conflict(
            f"{email} is already the email of employee {holder}; emails are unique in the organization.",
            {"email": email, "employee_id": holder},
        )


async def edit(tx: Tx, employee_id: int, person: EmployeeFields) -> Employee:
    tx.actor.require(Permission.MANAGE_EMPLOYEES)
    before = await get(tx, employee_id)
    await _refuse_taken_email(tx, person.email, employee_id)
    await tx.conn.execute(
        update(employees)
        .where(employees.c.id == employee_id, employees.c.org_id == tx.org_id)
        .values(name=person.name, email=person.email, department=person.department)
    )
    changed = {field: [getattr(before, field), value] for field, value in person.model_dump().items()
               if getattr(before, field) != value}
    await audit.record(tx, "employee.edit", "employee", employee_id,
                       f"Edited {person.name}: {', '.join(changed) or 'nothing changed'}", changed)
    return await get(tx, employee_id)


async def depart(tx: Tx, employee_ids: Sequence[int]) -> EmployeeIds:
    """Mark employees departed. They keep their seats until someone reassigns them."""
    tx.actor.require(Permission.MANAGE_EMPLOYEES)
    await lock_seats(tx)  # a batch being checked sees them active or departed, not both
    people = await lookup(tx, employee_ids)
    leaving = [person for person in people if person.status is EmployeeStatus.ACTIVE]
    await tx.conn.execute(
        update(employees).where(employees.c.org_id == tx.org_id,
                                among(tx.conn, employees.c.id, [person.id for person in leaving]))
        .values(status=EmployeeStatus.DEPARTED.value)
    )
    await audit.record_many(tx, [
        {"action": "employee.depart", "object_type": "employee", "object_id": person.id,
         "summary": f"{person.name} <{person.email}> departed", "details": {"seats": list(person.seats)}}
        for person in leaving
    ])
    return EmployeeIds(ids=[person.id for person in leaving])


async def import_csv(tx: Tx, text: str) -> ImportResult:
    """Every row of the file or none: each bad row is reported with its line and reason."""
    tx.actor.require(Permission.MANAGE_EMPLOYEES)
    people, problems = parse_employees(text)
    taken = await _emails_on_file(tx, [person.email for _, person in people])
    problems += [
        RowProblem(line=line, reason=f"{person.email} is already on file (employee {taken[person.email]})")
        for line, person in people if person.email in taken
    ]
    if problems:
        problems.sort(key=lambda problem: problem.line)
        raise ImportRefused(
            f"{len(problems)} row(s) of the file are wrong, so nothing was imported; "
            f"fix them and import the file again. First: line {problems[0].line}: {problems[0].reason}.",
            [problem.model_dump() for problem in problems],
        )
    if not people:
        return ImportResult(added=0)
    ids = await _insert(tx, [person for _, person in people])
    await audit.record(tx, "employee.import", "employee", None, f"Imported {len(ids)} employees from a file",
                       {"count": len(ids)})
    return ImportResult(added=len(ids))
