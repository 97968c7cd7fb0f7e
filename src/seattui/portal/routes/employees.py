"""Employees: the list (filter, department facet, keyset pages), add, edit, departures, CSV import."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from seattui.domain.paging import Page
from seattui.domain.people import (
    DepartmentCount,
    Employee,
    EmployeeFields,
    EmployeeFilter,
    EmployeeIds,
    EmployeeImport,
    EmployeeSort,
    EmployeeStatus,
    ImportResult,
)
from seattui.domain.base import PlainText
from seattui.domain.roles import Permission
from seattui.portal.api import CurrentActor, PathId, allowed, mutate, read
from seattui.portal.services import employees

router = APIRouter(tags=["employees"])
MAY_MANAGE = allowed(Permission.MANAGE_EMPLOYEES)


async def _chosen(
    q: Annotated[PlainText, Query(max_length=200, description="words, each found in the name, email or department")] = "",
    department: Annotated[PlainText | None, Query(max_length=80)] = None,
    status: EmployeeStatus | None = None,
    without_seat: Annotated[PlainText | None, Query(max_length=64, description="only those without a seat of this product")] = None,
) -> EmployeeFilter:
    return EmployeeFilter(text=q, department=department, status=status, without_seat=without_seat)


Chosen = Annotated[EmployeeFilter, Depends(_chosen)]


@router.get("/employees")
async def list_employees(
    request: Request,
    actor: CurrentActor,
    chosen: Chosen,
    sort: EmployeeSort = EmployeeSort.NAME,
    descending: bool = False,
    cursor: str | None = None,
    limit: int = Query(100, ge=1, le=500),
) -> Page[Employee]:
    """One page; the first page also tells how many employees match in all."""
    return await read(request, actor, lambda tx: employees.list_page(
        tx, chosen, sort=sort, descending=descending, cursor=cursor, limit=limit))


@router.get("/employees/departments")
async def departments(request: Request, actor: CurrentActor, chosen: Chosen) -> list[DepartmentCount]:
    """How many employees match in each department (a department asked for is not applied)."""
    return await read(request, actor, lambda tx: employees.departments(tx, chosen))


@router.get("/employees/ids")
async def matching_ids(
    request: Request, actor: CurrentActor, chosen: Chosen, sort: EmployeeSort = EmployeeSort.NAME,
    descending: bool = False,
) -> EmployeeIds:
    """Every matching employee's id, in the list's order (what "mark all" marks)."""
    return EmployeeIds(ids=await read(request, actor, lambda tx: employees.matching_ids(
        tx, chosen, sort=sort, descending=descending)))


@router.post("/employees/lookup")
async def lookup(wanted: EmployeeIds, request: Request, actor: CurrentActor) -> list[Employee]:
    """These employees with their seats, in the order asked. Changes nothing."""
    return await read(request, actor, lambda tx: employees.lookup(tx, wanted.ids))


@router.post("/employees", status_code=201, response_model=Employee, dependencies=[MAY_MANAGE])
async def add(person: EmployeeFields, request: Request, actor: CurrentActor) -> Response:
    return await mutate(request, actor, lambda tx: employees.add(tx, person), status_code=201)


@router.post("/employees/import", status_code=201, response_model=ImportResult, dependencies=[MAY_MANAGE])
async def import_csv(upload: EmployeeImport, request: Request, actor: CurrentActor) -> Response:
    """Every row of the CSV file or none; each bad row is reported with its line and reason."""
    return await mutate(request, actor, lambda tx: employees.import_csv(tx, upload.csv), status_code=201)


@router.post("/employees/departures", response_model=EmployeeIds, dependencies=[MAY_MANAGE])
async def depart(leaving: EmployeeIds, request: Request, actor: CurrentActor) -> Response:
    """Mark employees departed (the answer names those who were active); they keep their
    seats until someone reassigns them."""
    return await mutate(request, actor, lambda tx: employees.depart(tx, leaving.ids))


@router.get("/employees/{employee_id}")
async def get(employee_id: PathId, request: Request, actor: CurrentActor) -> Employee:
    return await read(request, actor, lambda tx: employees.get(tx, employee_id))


@router.put("/employees/{employee_id}", response_model=Employee, dependencies=[MAY_MANAGE])
async def edit(employee_id: PathId, person: EmployeeFields, request: Request, actor: CurrentActor) -> Response:
    return await mutate(request, actor, lambda tx: employees.edit(tx, employee_id, person))
