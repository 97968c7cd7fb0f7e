"""Words for people, not machines: what is wrong with a field and what to type instead, each
field named as a person would name it, and nothing said twice."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, EmailStr, Field

from seattui.domain.accounts import Credentials
from seattui.domain.errors import ValidationFailed
from seattui.domain.licensing import LicenseEdit
from seattui.domain.people import EmployeeFields
from seattui.domain.validation import build
from seattui.tui.problems import describe
from seattui.tui.screens.keys import KeysScreen

from harness import PortalHarness
from license_setup import a_license
from tui_support import make_app, until, until_screen, until_text


class Form(BaseModel):
    name: str = Field(min_length=1, max_length=5)
    code: str = Field(min_length=3)
    count: int = Field(ge=1, le=30)


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"name": ""}, "name", "Empty: type something here."),
        ({"name": "toolong"}, "name", "Too long: at most 5 characters."),
        ({"code": "ab"}, "code", "Too short: type at least 3 characters."),
        ({"count": "ten"}, "count", "Not a whole number: type digits only, like 10."),
        ({"count": 0}, "count", "Too small: at least 1."),
        ({"count": 31}, "count", "Too large: at most 30."),
        ({"count": ...}, "count", "Missing: it is required."),
    ],
)
def test_each_problem_says_what_is_wrong_and_what_to_type(data: dict[str, object], field: str, words: str) -> None:
    values = {"name": "ok", "code": "abc", "count": 1} | data
    with pytest.raises(ValidationFailed) as refused:
        build(Form, **{name: value for name, value in values.items() if value is not ...})
    assert refused.value.fields[field] == words
    assert "should" not in refused.value.message and "String" not in refused.value.message


def test_an_email_that_is_not_one_says_how_an_email_looks_and_names_the_field_in_words() -> None:
    with pytest.raises(ValidationFailed) as refused:
        build(LicenseEdit, customer_email="it.contoso.example")
    assert refused.value.fields["customer_email"] == (
        "Not a valid email address (an email address must have an @-sign): type one like name@example.com.")
    assert refused.value.message.startswith("Customer email: Not a valid email address")
    assert "customer_email" not in refused.value.message


def test_an_empty_name_is_said_as_the_name_and_only_the_name() -> None:
    with pytest.raises(ValidationFailed) as refused:
        build(EmployeeFields, name="  ", email="ada@example.com")
    assert list(refused.value.fields) == ["name"]
    assert refused.value.message == "Name: Empty: type something here."


def test_the_screen_says_each_field_once() -> None:
    with pytest.raises(ValidationFailed) as refused:
        build(LicenseEdit, customer_email="nope")
    message, hint = describe(refused.value)
    assert message.count("Not a valid email address") == 1 and hint == ""
    rule = ValidationFailed("A license is never downgraded.", {"quantity": "at least 10"})
    assert describe(rule) == ("A license is never downgraded.", "Quantity: at least 10.")


class Contact(BaseModel):
    email: EmailStr


def test_plain_words_hold_for_any_model() -> None:
    with pytest.raises(ValidationFailed) as refused:
        build(Contact, email="x")
    assert refused.value.message.startswith("Email: Not a valid email address")


def test_an_empty_password_is_named_while_the_login_is_filled() -> None:
    with pytest.raises(ValidationFailed) as refused:
        build(Credentials, login="admin", password="")
    message, hint = describe(refused.value)
    assert (message, hint) == ("Password: Empty: type something here.", "")


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


async def test_a_key_that_holds_a_license_says_so_in_a_sentence(harness: PortalHarness) -> None:
    await a_license(harness, comment="Contoso HQ")
    owner = await harness.login("acme-owner")
    app = make_app(harness, token=owner.token)
    async with app.run_test(size=(100, 32)) as pilot:
        await until(pilot, lambda: app.who is not None, what="the session")
        app.action_open_screen("keys")
        keys = await until_screen(pilot, KeysScreen)
        await until(pilot, lambda: bool(keys.key_list.table.rows), what="the key")
        await pilot.press("delete")
        await until_text(pilot, "1 key holds licenses or subscriptions and cannot be deleted: delete or move what "
                                "is on a key first, then delete the key.")
