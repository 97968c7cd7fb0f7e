"""The pure domain: activation keys, money, prices, the ledger's arithmetic, dates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seattui.domain.catalog import Catalog
from seattui.domain.credits import running_balances
from seattui.domain.dates import add_months
from seattui.domain.errors import ValidationFailed
from seattui.domain.keys import RANDOM_ALPHABET, InvalidActivationKey, generate_key, is_key, parse_key
from seattui.domain.licensing import LicenseOrder, Term
from seattui.domain.money import format_credits, from_hundredths, parse_credits, to_hundredths
from seattui.domain.pricing import Configuration, Quote, configuration_lines, support_lines, upgrade_lines
from seattui.portal.catalog import load_catalog

CATALOG: Catalog = load_catalog()
KEY_CHARS = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
credits_amounts = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=2)


# -- activation keys --------------------------------------------------------------------------


@given(st.lists(KEY_CHARS, min_size=16, max_size=16), st.booleans(), st.booleans())
def test_any_sixteen_key_characters_parse_whatever_the_case_and_dashes(chars, dashed, lower) -> None:
    compact = "".join(chars)
    typed = "-".join(compact[i : i + 4] for i in range(0, 16, 4)) if dashed else compact
    typed = typed.lower() if lower else typed
    key = parse_key(f"  {typed} ")
    assert is_key(key)
    assert key.replace("-", "") == compact


@given(st.text(max_size=40))
def test_parse_key_accepts_only_canonical_keys_or_says_why(text: str) -> None:
    try:
        key = parse_key(text)
    except InvalidActivationKey as error:
        assert "activation key" in str(error).lower()
    else:
        assert is_key(key)
        assert parse_key(key) == key


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("ABCD-EFGH-JKLM", "groups of 4"),
        ("ABCD-EFGH-JKLM-NPQ", "groups of 4"),
        ("ABCD-EFGH-JKLM-NPQ!", "remove '!'"),
        ("ABCDEFGHJKLMNPQ", "this one has 15"),
        ("ÄBCD-EFGH-JKLM-NPQR", "remove 'Ä'"),
    ],
)
def test_malformed_keys_are_refused_with_what_to_fix(typed: str, hint: str) -> None:
    with pytest.raises(InvalidActivationKey, match=hint):
        parse_key(typed)


def test_random_keys_avoid_look_alike_characters_and_differ() -> None:
    keys = {generate_key() for _ in range(2000)}
    assert len(keys) == 2000
    used = set("".join(keys).replace("-", ""))
    assert used <= set(RANDOM_ALPHABET)
    assert not used & set("0O1I")
    assert all(is_key(key) for key in keys)


def test_an_order_upper_cases_its_key() -> None:
    order = LicenseOrder(key="abcd-efgh-jkl2-npqr", product_id="remotedesk", edition_id="standard",
                         term=Term.PERMANENT, quantity=1)
    assert order.key == "ABCD-EFGH-JKL2-NPQR"


# -- money ------------------------------------------------------------------------------------


@given(credits_amounts)
def test_hundredths_round_trip_exactly(amount: Decimal) -> None:
    assert from_hundredths(to_hundredths(amount)) == amount


def test_amounts_finer_than_a_hundredth_are_refused() -> None:
    with pytest.raises(ValueError, match="two decimal places"):
        to_hundredths(Decimal("1.005"))
    with pytest.raises(ValueError, match="not an amount"):
        parse_credits("12,5O")
    assert parse_credits("1,250.5") == Decimal("1250.50")
    assert format_credits(Decimal("-1234.5")) == "-1,234.50"


@given(credits_amounts, st.lists(credits_amounts, max_size=30))
def test_the_running_balance_is_the_sum_of_the_entries(opening: Decimal, amounts: list[Decimal]) -> None:
    balances = running_balances(opening, amounts)
    assert len(balances) == len(amounts)
    for i, balance in enumerate(balances):
        assert balance == opening + sum(amounts[: i + 1], Decimal(0))


# -- prices -----------------------------------------------------------------------------------


@given(
    st.sampled_from([p for p in CATALOG.products if p.editions]),
    st.data(),
    st.integers(min_value=1, max_value=100_000),
)
def test_a_permanent_license_costs_unit_price_times_quantity_plus_add_ons(product, data, quantity) -> None:
    edition = data.draw(st.sampled_from(product.editions))
    addons = data.draw(st.lists(st.sampled_from(product.addons), unique=True) if product.addons else st.just([]))
    config = Configuration(Term.PERMANENT, edition.id, tuple(a.id for a in addons), quantity)
    cost = sum(line.amount for line in configuration_lines(product, config))
    assert cost == (edition.unit_price + sum((a.unit_price for a in addons), Decimal(0))) * quantity


@given(
    st.integers(min_value=0, max_value=2),
    st.integers(min_value=0, max_value=2),
    st.integers(min_value=1, max_value=500),
    st.integers(min_value=0, max_value=500),
)
def test_an_upgrade_costs_the_difference_and_never_goes_down(from_rank, up, quantity, more) -> None:
    product = CATALOG.product("remotedesk")
    to_rank = min(from_rank + up, 2)
    current = Configuration(Term.PERMANENT, product.editions[from_rank].id, (), quantity)
    target = Configuration(Term.PERMANENT, product.editions[to_rank].id, (), quantity + more)
    if target == current:
        with pytest.raises(ValidationFailed):
            upgrade_lines(product, current, target)
        return
    cost = sum(line.amount for line in upgrade_lines(product, current, target))
    expected = product.editions[to_rank].unit_price * (quantity + more) - product.editions[from_rank].unit_price * quantity
    assert cost == expected >= 0
    with pytest.raises(ValidationFailed, match="never downgraded"):
        upgrade_lines(product, target, current)


def test_a_trial_is_free_and_a_trial_made_permanent_costs_the_full_price() -> None:
    product = CATALOG.product("mailguard")
    trial = Configuration(Term.TRIAL, "advanced", (), 25)
    assert configuration_lines(product, trial) == []
    permanent = Configuration(Term.PERMANENT, "advanced", ("archiving",), 25)
    lines = upgrade_lines(product, trial, permanent)
    assert sum(line.amount for line in lines) == (Decimal("21.00") + Decimal("6.00")) * 25


def test_support_costs_its_yearly_price_per_unit_per_year() -> None:
    product = CATALOG.product("remotedesk")
    lines = support_lines(product, Configuration(Term.PERMANENT, "professional", (), 10), years=2)
    assert sum(line.amount for line in lines) == Decimal("22.25") * 10 * 2


def test_a_quote_shows_the_shortfall_when_the_balance_is_short() -> None:
    product = CATALOG.product("remotedesk")
    lines = configuration_lines(product, Configuration(Term.PERMANENT, "enterprise", (), 10))
    quote = Quote.build(lines, Decimal("1000.00"))
    assert (quote.cost, quote.balance_after, quote.affordable, quote.shortfall) == (
        Decimal("1490.00"), Decimal("-490.00"), False, Decimal("490.00"))
    assert Quote.build(lines, Decimal("1490.00")).affordable


def test_configurations_a_product_does_not_sell_are_refused_naming_the_field() -> None:
    remotedesk = CATALOG.product("remotedesk")
    with pytest.raises(ValidationFailed) as refused:
        configuration_lines(remotedesk, Configuration(Term.PERMANENT, "platinum", (), 1))
    assert "edition_id" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        configuration_lines(remotedesk, Configuration(Term.ANNUAL, None, (), 1))
    assert "term" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        CATALOG.product("nope")
    assert "product_id" in refused.value.fields


# -- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [(date(2026, 1, 31), 1, date(2026, 2, 28)), (date(2024, 1, 31), 1, date(2024, 2, 29)),
     (date(2026, 11, 15), 12, date(2027, 11, 15)), (date(2026, 12, 31), 2, date(2027, 2, 28))],
)
def test_add_months_keeps_the_day_or_takes_the_last_of_a_shorter_month(start, months, expected) -> None:
    assert add_months(start, months) == expected


def test_seats_added_to_an_annual_contract_stay_within_its_maximum() -> None:
    from seattui.domain.seat_plans import check_addition, seats_to_add

    assert (seats_to_add(10, 12), seats_to_add(12, 12), seats_to_add(13, 12)) == (2, 0, 0)
    check_addition(10, 12, 2)
    with pytest.raises(ValidationFailed, match="maximum of 12: add at most 2"):
        check_addition(10, 12, 3)
    with pytest.raises(ValidationFailed, match="no seats can be added until its renewal"):
        check_addition(12, 12, 1)
