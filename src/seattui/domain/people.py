"""Employees and the seats they hold."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict, EmailStr, Field, field_validator
from seattui.domain.base import DomainModel

MAX_NAME = 120
MAX_DEPARTMENT = 80


class EmployeeStatus(StrEnum):
    ACTIVE = "active"
    DEPARTED = "departed"


class EmployeeFields(DomainModel):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    email: EmailStr
    department: str = Field(default="", max_length=MAX_DEPARTMENT)

    @field_validator("name", "department", mode="before")
    @classmethod
    def _stripped(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("email", mode="after")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class Employee(DomainModel):
    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    email: str
    department: str
    status: EmployeeStatus
    created_at: datetime


class Seat(DomainModel):
    """One seat of a seat product's license, held by an employee."""

    model_config = ConfigDict(frozen=True)

    id: int
    license_id: int
    product_id: str
    employee_id: int
    assigned_at: datetime
