"""A professional's price and payment policy: what is paid when booking, and what a late cancel
or an absence keeps. Amounts are Decimals with two places, never floats."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from payments.models import Collect, LateKeeps, PaymentPolicy, money
from reservations.models import Modality

V, P = Modality.VIRTUAL, Modality.IN_PERSON


def policy(professional, **fields):
    fields.setdefault("price", Decimal("10000.00"))
    return PaymentPolicy(professional=professional, **fields)


def test_money_refuses_floats_and_keeps_two_places():
    with pytest.raises(TypeError):
        money(0.1)
    assert money("1500.5") == Decimal("1500.50")
    assert str(money(3)) == "3.00"
    assert str(money(Decimal("0.125"))) == "0.13"  # half up, to the centavo
    with pytest.raises(ValueError):
        money("a lot")
    with pytest.raises(ValueError):
        money(Decimal("NaN"))


def test_nothing_online_asks_for_nothing(professional):
    p = policy(professional, collect=Collect.NONE)
    assert p.amount_due(V) == Decimal("0.00")
    assert p.amount_due(P) == Decimal("0.00")


def test_the_whole_session_is_its_price_per_modality(professional):
    p = policy(professional, collect=Collect.WHOLE, price_in_person=Decimal("12000"))
    assert p.amount_due(V) == Decimal("10000.00")
    assert p.amount_due(P) == Decimal("12000.00")
    p.price_virtual = Decimal("8000.50")
    assert p.amount_due(V) == Decimal("8000.50")
    assert all(isinstance(p.amount_due(m), Decimal) for m in (V, P))


def test_a_percentage_deposit_is_rounded_to_the_centavo(professional):
    p = policy(professional, collect=Collect.DEPOSIT, deposit_percent=30)
    assert p.amount_due(V) == Decimal("3000.00")
    p.price = Decimal("9999.99")
    assert p.amount_due(V) == Decimal("3000.00")  # 2999.997, half up
    p.price_in_person = Decimal("333.33")
    p.deposit_percent = 50
    assert p.amount_due(P) == Decimal("166.67")  # 166.665, half up
    p.deposit_percent = 100
    assert p.amount_due(P) == Decimal("333.33")


def test_a_fixed_deposit_is_never_more_than_the_price(professional):
    p = policy(
        professional,
        collect=Collect.DEPOSIT,
        deposit_amount=Decimal("2500"),
        price_virtual=Decimal("2000"),
    )
    assert p.amount_due(P) == Decimal("2500.00")
    assert p.amount_due(V) == Decimal("2000.00")


@pytest.mark.parametrize(
    ("keeps", "paid", "kept"),
    [
        (LateKeeps.NOTHING, "3000", "0.00"),
        (LateKeeps.DEPOSIT, "3000", "3000.00"),
        (LateKeeps.DEPOSIT, "10000", "3000.00"),  # paid it all: the deposit is kept
        (LateKeeps.DEPOSIT, "1000", "1000.00"),  # never more than was paid
        (LateKeeps.EVERYTHING, "10000", "10000.00"),
        (LateKeeps.EVERYTHING, "0", "0.00"),
    ],
)
def test_what_a_late_cancel_keeps(professional, keeps, paid, kept):
    p = policy(professional, collect=Collect.WHOLE, deposit_percent=30, late_keeps=keeps)
    assert p.kept_on_late(Decimal(paid)) == Decimal(kept)
    with pytest.raises(TypeError):
        p.kept_on_late(float(paid))


def test_the_deposit_kept_follows_the_modality(professional):
    p = policy(
        professional,
        collect=Collect.DEPOSIT,
        deposit_percent=50,
        price_in_person=Decimal("12000"),
        late_keeps=LateKeeps.DEPOSIT,
    )
    assert p.kept_on_late(Decimal("6000"), P) == Decimal("6000.00")
    assert p.kept_on_late(Decimal("6000"), V) == Decimal("5000.00")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"collect": Collect.DEPOSIT}, "deposit_percent"),
        ({"collect": Collect.DEPOSIT, "deposit_percent": 0}, "deposit_percent"),
        ({"collect": Collect.DEPOSIT, "deposit_percent": 101}, "deposit_percent"),
        (
            {"collect": Collect.DEPOSIT, "deposit_percent": 30, "deposit_amount": Decimal("1")},
            "deposit_amount",
        ),
        ({"collect": Collect.DEPOSIT, "deposit_amount": Decimal("0")}, "deposit_amount"),
        ({"collect": Collect.DEPOSIT, "deposit_amount": Decimal("10000.01")}, "deposit_amount"),
        ({"late_keeps": LateKeeps.DEPOSIT}, "late_keeps"),
        ({"price": Decimal("0")}, "price"),
        ({"price": Decimal("100.001")}, "price"),
        ({"price_virtual": Decimal("-1")}, "price_virtual"),
    ],
)
def test_a_policy_that_makes_no_sense_is_refused(professional, fields, field):
    p = policy(professional, **fields)
    with pytest.raises(ValidationError) as refused:
        p.full_clean()
    assert field in refused.value.message_dict


def test_the_database_refuses_what_validation_would(professional):
    with pytest.raises(IntegrityError), transaction.atomic():
        policy(professional, deposit_percent=101).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        policy(professional, deposit_percent=30, deposit_amount=Decimal("10")).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        policy(professional, price=Decimal("0")).save()
    assert not PaymentPolicy.objects.exists()


def test_a_valid_policy_saves_with_its_currency(professional):
    p = policy(professional, collect=Collect.DEPOSIT, deposit_amount=Decimal("2500.50"))
    p.full_clean()
    p.save()
    p.refresh_from_db()
    assert p.currency == "ARS"
    assert p.deposit_amount == Decimal("2500.50")
    assert p.amount_due(V) == Decimal("2500.50")
