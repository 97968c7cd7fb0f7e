"""The wizard's draft apart from its screen: which steps a product asks, answers kept per
product, each step's check in words, and the order it makes."""

from __future__ import annotations

import pytest

from seattui.domain.errors import ValidationFailed
from seattui.domain.licensing import LicenseOrder, SubscriptionOrder, Term
from seattui.domain.roles import Role, permissions_for, OrgKind
from seattui.portal.catalog import load_catalog
from seattui.tui.assignment import Draft, Step, steps_for, terms_for

CATALOG = load_catalog()
OWNER = permissions_for(Role.OWNER, OrgKind.RESELLER)
OPERATOR = permissions_for(Role.OPERATOR, OrgKind.RESELLER)


def product(product_id: str):  # type: ignore[no-untyped-def]
    return CATALOG.product(product_id)


def test_each_kind_of_product_asks_only_its_steps() -> None:
    assert Step.EDITION in steps_for(product("mailguard")) and Step.QUANTITY in steps_for(product("mailguard"))
    assert Step.EDITION not in steps_for(product("workspace"))
    assert steps_for(product("connect")) == [Step.KEY, Step.PRODUCT, Step.TERM, Step.CUSTOMER, Step.REVIEW]
    assert terms_for(product("workspace")) == [Term.TRIAL, Term.FLEXIBLE, Term.ANNUAL]


def test_trying_another_product_and_coming_back_keeps_its_answers() -> None:
    draft = Draft(key="ABCD-EFGH-JKLM-NPQR")
    draft.choose_product(product("mailguard"), OWNER)
    draft.edition_id, draft.addons, draft.term = "advanced", ("archiving",), Term.PERMANENT
    draft.choose_product(product("remotedesk"), OWNER)
    assert (draft.edition_id, draft.addons, draft.term) == ("standard", (), Term.TRIAL)
    draft.choose_product(product("mailguard"), OWNER)
    assert (draft.edition_id, draft.addons, draft.term) == ("advanced", ("archiving",), Term.PERMANENT)


def test_an_operator_is_offered_the_trial_and_no_subscription() -> None:
    draft = Draft()
    draft.choose_product(product("remotedesk"), OPERATOR)
    assert draft.term is Term.TRIAL
    draft.term = Term.PERMANENT
    with pytest.raises(ValidationFailed, match="buying needs an owner or an admin"):
        draft.check(Step.TERM, product("remotedesk"), OPERATOR)
    draft.choose_product(product("connect"), OPERATOR)
    with pytest.raises(ValidationFailed, match="has no trial"):
        draft.check(Step.PRODUCT, product("connect"), OPERATOR)


@pytest.mark.parametrize(
    ("step", "changes", "message"),
    [
        (Step.KEY, {"key": ""}, r"press ctrl\+n to create one"),
        (Step.TERM, {"trial_days": "31"}, "trial days from 1 to 30"),
        (Step.QUANTITY, {"quantity": "ten"}, "whole number of users"),
        (Step.QUANTITY, {"quantity": "0"}, "from 1 to 100,000"),
        (Step.CUSTOMER, {"customer_email": "not-an-email"}, "Customer email: Not a valid email address .*name@example.com"),
    ],
)
def test_a_step_is_left_only_with_an_answer_that_will_do(step: Step, changes: dict[str, str], message: str) -> None:
    draft = Draft(key="ABCD-EFGH-JKLM-NPQR")
    draft.choose_product(product("remotedesk"), OWNER)
    for name, value in changes.items():
        setattr(draft, name, value)
    with pytest.raises(ValidationFailed, match=message):
        draft.check(step, product("remotedesk"), OWNER)


def test_a_seat_plan_is_checked_against_its_most_seats() -> None:
    draft = Draft(key="ABCD-EFGH-JKLM-NPQR", quantity="501")
    draft.choose_product(product("workspace"), OWNER)
    draft.term = Term.FLEXIBLE
    with pytest.raises(ValidationFailed, match="at most 500 seats"):
        draft.check(Step.QUANTITY, product("workspace"), OWNER)


def test_the_draft_makes_the_order_the_portal_is_sent() -> None:
    draft = Draft(key="abcd-efgh-jklm-npqr", quantity="1,000", customer_email=" IT@Contoso.example ")
    draft.choose_product(product("remotedesk"), OWNER)
    draft.term = Term.PERMANENT
    order = draft.order(product("remotedesk"))
    assert isinstance(order, LicenseOrder)
    assert (order.key, order.quantity, order.trial_days, order.customer_email) == (
        "ABCD-EFGH-JKLM-NPQR", 1000, None, "IT@contoso.example")
    draft.choose_product(product("connect"), OWNER)
    draft.channels = "3"
    assert draft.order(product("connect")) == SubscriptionOrder(
        key="ABCD-EFGH-JKLM-NPQR", product_id="connect", channels=3, customer_email="IT@contoso.example")
