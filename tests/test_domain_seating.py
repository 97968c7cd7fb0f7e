"""CSV files read by line (a quoted value over two lines, blank lines, a byte-order mark), and
givers paired with receivers as the app builds a batch."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from seattui.domain.csvfile import read_rows
from seattui.domain.errors import ValidationFailed
from seattui.domain.people import Employee, EmployeeStatus
from seattui.domain.seating import pair_by_product, pair_in_order, parse_plan


def test_rows_keep_their_line_in_the_file() -> None:
    text = '\ufeffName,EMAIL,department,extra\n\nAda,a@x.example,"Research\nand Development",1\nBob,b@x.example,,2\n'
    rows, problems = read_rows(text, ("name", "email", "department"))
    assert problems == []
    assert [(row.line, row.values["department"]) for row in rows] == [(4, "Research\nand Development"), (5, "")]
    assert set(rows[0].values) == {"name", "email", "department"}


def test_a_header_without_the_columns_refuses_the_file() -> None:
    with pytest.raises(ValidationFailed, match="lacks to_email, product"):
        read_rows("from_email\na@x.example\n", ("from_email", "to_email", "product"))


def test_a_plan_row_without_a_product_moves_every_seat() -> None:
    moves, problems = parse_plan("from_email,to_email,product\nA@X.example , b@x.example,\n")
    assert problems == []
    assert [(line, m.from_email, m.to_email, m.product_id) for line, m in moves] == [
        (2, "a@x.example", "b@x.example", None)]


def employee(n: int, *seats: str) -> Employee:
    return Employee(id=n, name=f"P{n}", email=f"p{n}@x.example", department="", status=EmployeeStatus.ACTIVE,
                    created_at=datetime(2026, 1, 1, tzinfo=UTC), seats=seats)


def test_in_order_the_nth_giver_hands_every_chosen_seat_to_the_nth_receiver() -> None:
    givers = [employee(1, "workspace", "crm"), employee(2, "crm"), employee(3, "workspace")]
    moves, unpaired = pair_in_order(givers, [employee(7), employee(8)], ["workspace", "crm"])
    assert [(m.from_id, m.to_id, m.product_id) for m in moves] == [(1, 7, "crm"), (1, 7, "workspace"), (2, 8, "crm")]
    assert [(m.from_id, m.product_id, m.problem) for m in unpaired] == [
        (3, "workspace", "no receiver marked for P3: mark 1 more, in order")]


def test_by_product_each_products_holders_take_that_products_receivers_in_turn() -> None:
    givers = [employee(1, "workspace", "crm"), employee(2, "crm"), employee(3, "workspace")]
    moves, unpaired = pair_by_product(givers, {"workspace": [employee(7)], "crm": [employee(8), employee(9)]},
                                      "in Sales")
    assert [(m.from_id, m.to_id, m.product_id) for m in moves] == [(1, 8, "crm"), (2, 9, "crm"), (1, 7, "workspace")]
    assert [m.problem for m in unpaired] == ["only 1 active employee(s) without a workspace seat in Sales"]
