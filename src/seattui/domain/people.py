"""Employees and the seats they hold."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict, EmailStr, Field, ValidationError, field_validator

from seattui.domain.base import DomainModel, PlainText, RecordId
from seattui.domain.csvfile import RowProblem, read_rows
from seattui.domain.validation import field_messages

MAX_NAME = 120
MAX_DEPARTMENT = 80
MAX_EMAIL = 254
MAX_IMPORT_BYTES = 3 * 1024 * 1024
CSV_COLUMNS = ("name", "email", "department")


class EmployeeStatus(StrEnum):
    ACTIVE = "active"
    DEPARTED = "departed"


class EmployeeFields(DomainModel):
    name: PlainText = Field(min_length=1, max_length=MAX_NAME)
    email: EmailStr
    department: PlainText = Field(default="", max_length=MAX_DEPARTMENT)

    @field_validator("name", "department", mode="before")
    @classmethod
    def _stripped(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("email", mode="after")
    @classmethod
    def _lower(cls, value: str) -> str:
        lowered = value.lower()
        if len(lowered) > MAX_EMAIL:  # lower-casing can lengthen: "İ" becomes "i̇"
            raise ValueError(f"an email address has at most {MAX_EMAIL} characters")
        return lowered


class Employee(DomainModel):
    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    email: str
    department: str
    status: EmployeeStatus
    created_at: datetime
    seats: tuple[str, ...] = ()  # the seat products whose seat this employee holds


class EmployeeSort(StrEnum):
    NAME = "name"
    EMAIL = "email"
    DEPARTMENT = "department"
    STATUS = "status"


class EmployeeFilter(DomainModel):
    """Which employees a list shows: words typed in the filter (each in the name, email or
    department), a department, a status, and those without a seat of a product."""

    text: PlainText = Field(default="", max_length=200)
    department: PlainText | None = Field(default=None, max_length=MAX_DEPARTMENT)
    status: EmployeeStatus | None = None
    without_seat: PlainText | None = Field(default=None, max_length=64)


class DepartmentCount(DomainModel):
    department: str
    employees: int


class EmployeeIds(DomainModel):
    """Employees by id, in the order asked for or listed (mark all, departures, lookups)."""

    ids: list[RecordId] = Field(max_length=200_000)


class EmployeeImport(DomainModel):
    """A CSV file with the columns name, email, department, as text."""

    csv: str = Field(max_length=MAX_IMPORT_BYTES)


class ImportResult(DomainModel):
    added: int


def parse_employees(text: str) -> tuple[list[tuple[int, EmployeeFields]], list[RowProblem]]:
    """The people of an import file by line, and every bad row: fields that break a rule and
    an email that repeats an earlier line's."""
    rows, problems = read_rows(text, CSV_COLUMNS)
    people: list[tuple[int, EmployeeFields]] = []
    first_line: dict[str, int] = {}
    for row in rows:
        try:
            person = EmployeeFields.model_validate(row.values)
        except ValidationError as error:
            reason = "; ".join(f"{field}: {message}" for field, message in field_messages(error.errors()).items())
            problems.append(RowProblem(line=row.line, reason=reason))
            continue
        if person.email in first_line:
            problems.append(RowProblem(line=row.line, reason=f"{person.email} is already on line {first_line[person.email]}"))
            continue
        first_line[person.email] = row.line
        people.append((row.line, person))
    problems.sort(key=lambda problem: problem.line)
    return people, problems

