"""Employees through the client: the list (filter, facet, pages, sort), add, edit, departures,
CSV import (all rows or none, every bad row with its line), organizations apart, roles."""

from __future__ import annotations

import pytest

from seattui.domain.errors import Conflict, ImportRefused, NotFound, PermissionDenied, ValidationFailed
from seattui.domain.people import EmployeeFields, EmployeeFilter, EmployeeSort, EmployeeStatus

from harness import PortalHarness
from seat_support import everyone, staff


def person(name: str, email: str, department: str = "Engineering") -> EmployeeFields:
    return EmployeeFields(name=name, email=email, department=department)


async def test_add_then_list_with_a_filter_a_department_and_the_facet(harness: PortalHarness) -> None:
    operator = await harness.login("acme-op")
    ada = await operator.add_employee(person("Ada Lovelace", "Ada@Acme.Example"))
    assert (ada.email, ada.status, ada.seats) == ("ada@acme.example", EmployeeStatus.ACTIVE, ())
    await operator.add_employee(person("Alan Turing", "alan@acme.example", "Research"))
    await operator.add_employee(person("Grace Hopper", "grace@acme.example", "Research"))
    page = await operator.employees(EmployeeFilter(text="a"))
    assert page.total == 3 and [e.name for e in page.items] == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    assert [e.name for e in await everyone(operator, EmployeeFilter(text="research hop"))] == ["Grace Hopper"]
    assert [e.name for e in await everyone(operator, EmployeeFilter(department="Research"))] == [
        "Alan Turing", "Grace Hopper"]
    facet = await operator.departments(EmployeeFilter(text="a", department="Research"))
    assert [(d.department, d.employees) for d in facet] == [("Engineering", 1), ("Research", 2)]
    assert await everyone(operator, EmployeeFilter(text="100%_")) == []  # wildcards are plain text


async def test_pages_follow_the_sort_and_cover_every_employee_once(harness: PortalHarness) -> None:
    ids = await staff(harness, 23, 0)
    viewer = await harness.login("acme-viewer")
    seen, cursor = [], None
    while True:
        page = await viewer.employees(sort=EmployeeSort.DEPARTMENT, descending=True, cursor=cursor, limit=5)
        seen += page.items
        assert page.total == (23 if cursor is None else None)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(e.id for e in seen) == sorted(ids)
    assert [(e.department, e.id) for e in seen] == sorted(((e.department, e.id) for e in seen), reverse=True)
    assert await viewer.employee_ids(sort=EmployeeSort.DEPARTMENT, descending=True) == [e.id for e in seen]


async def test_emails_are_unique_in_the_organization_not_across_organizations(harness: PortalHarness) -> None:
    acme = await harness.login("acme-admin")
    first = await acme.add_employee(person("Ada", "ada@example.org"))
    other = await acme.add_employee(person("Bob", "bob@example.org"))
    with pytest.raises(Conflict, match="already the email of employee"):
        await acme.add_employee(person("Ada again", "ADA@example.org"))
    with pytest.raises(Conflict):
        await acme.edit_employee(other.id, person("Bob", "ada@example.org"))
    globex = await harness.login("globex-owner")
    assert (await globex.add_employee(person("Ada", "ada@example.org"))).id != first.id


async def test_an_edit_changes_the_fields_and_writes_what_changed_to_the_audit(harness: PortalHarness) -> None:
    acme = await harness.login("acme-admin")
    ada = await acme.add_employee(person("Ada", "ada@acme.example"))
    edited = await acme.edit_employee(ada.id, person("Ada King", "ada@acme.example", "Research"))
    assert (edited.name, edited.department) == ("Ada King", "Research")
    entry = (await acme.audit(limit=1)).items[0]
    assert entry.action == "employee.edit" and entry.object_id == ada.id
    assert entry.details == {"name": ["Ada", "Ada King"], "department": ["Engineering", "Research"]}
    with pytest.raises(ValidationFailed) as refused:
        await acme.request("PUT", f"/api/v1/employees/{ada.id}", body={"name": "", "email": "nope"})
    assert set(refused.value.fields) == {"name", "email"}
    assert (await acme.employee(ada.id)).name == "Ada King"  # nothing stored is lost


async def test_departed_employees_keep_their_seats_and_show_as_departed(harness: PortalHarness) -> None:
    ids = await staff(harness, 4, 2)
    operator = await harness.login("acme-op")
    assert await operator.depart_employees([ids[0], ids[2]]) == [ids[0], ids[2]]
    assert await operator.depart_employees([ids[0]]) == []  # already departed: nothing changes
    gone = await everyone(operator, EmployeeFilter(status=EmployeeStatus.DEPARTED))
    assert [(e.id, e.seats) for e in gone] == [(ids[0], ("workspace",)), (ids[2], ())]
    assert [e.action for e in (await operator.audit(limit=2)).items] == ["employee.depart"] * 2


async def test_another_organizations_employee_is_not_found(harness: PortalHarness) -> None:
    (theirs,) = await staff(harness, 1, 0, org="Globex")
    acme = await harness.login("acme-owner")
    with pytest.raises(NotFound):
        await acme.employee(theirs)
    with pytest.raises(NotFound):
        await acme.edit_employee(theirs, person("X", "x@acme.example"))
    with pytest.raises(NotFound):
        await acme.depart_employees([theirs])
    with pytest.raises(NotFound):
        await acme.lookup_employees([theirs])
    assert theirs not in await acme.employee_ids()


async def test_viewers_read_and_operators_manage_employees(harness: PortalHarness) -> None:
    viewer = await harness.login("acme-viewer")
    with pytest.raises(PermissionDenied):
        await viewer.add_employee(person("Ada", "ada@acme.example"))
    with pytest.raises(PermissionDenied):
        await viewer.import_employees("name,email,department\nAda,ada@acme.example,\n")
    operator = await harness.login("acme-op")
    assert (await operator.import_employees("name,email,department\nAda,ada@acme.example,\n")).added == 1


GOOD_FILE = """Name,Email,Department
Ada Lovelace,ada@acme.example,Engineering
"Hopper, Grace",grace@acme.example,Research

Alan Turing,alan@acme.example,
"""


async def test_a_clean_file_imports_every_row(harness: PortalHarness) -> None:
    acme = await harness.login("acme-admin")
    assert (await acme.import_employees(GOOD_FILE)).added == 3
    people = {e.email: e for e in await everyone(acme)}
    assert people["grace@acme.example"].name == "Hopper, Grace" and people["alan@acme.example"].department == ""
    entry = (await acme.audit(limit=1)).items[0]
    assert entry.action == "employee.import" and entry.details == {"count": 3}


async def test_a_file_with_any_bad_row_imports_nothing_and_names_every_bad_line(harness: PortalHarness) -> None:
    acme = await harness.login("acme-admin")
    await acme.add_employee(person("Old Timer", "old@acme.example"))
    bad = (
        "name,email,department\n"
        "Ada,ada@acme.example,Engineering\n"          # 2: fine
        "Bob,not-an-email,Sales\n"                 # 3
        ",carol@acme.example,Sales\n"                 # 4
        "Dan,ADA@acme.example,Sales\n"                # 5: the same email as line 2
        "Eve,eve@acme.example\n"                      # 6: a value short
        "Old,old@acme.example,Sales\n"                # 7: already on file
        f"Fay,fay@acme.example,{'x' * 200}\n"         # 8: department too long
    )
    with pytest.raises(ImportRefused, match="nothing was imported") as refused:
        await acme.import_employees(bad)
    reasons = {row["line"]: row["reason"] for row in refused.value.rows}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8]
    assert "email" in reasons[3] and "name" in reasons[4] and "line 2" in reasons[5]
    assert "2 values where the header has 3" in reasons[6] and "already on file" in reasons[7]
    assert "department" in reasons[8]
    assert [e.email for e in await everyone(acme)] == ["old@acme.example"]


async def test_a_file_without_the_header_is_refused_whole(harness: PortalHarness) -> None:
    acme = await harness.login("acme-admin")
    with pytest.raises(ValidationFailed, match="name the columns name, email, department"):
        await acme.import_employees("Ada,ada@acme.example,Engineering\n")
    with pytest.raises(ValidationFailed, match="empty"):
        await acme.import_employees("\n\n")
